// RUN: sparq-opt %s --convert-sparq-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @argmax_first
// CHECK: %[[R:.+]]:2 = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK: %[[B:.+]] = arith.cmpf ogt
// CHECK: %[[I:.+]] = linalg.index 1
// CHECK: arith.index_cast %[[I]] : index to i64
// CHECK: tensor.expand_shape %[[R]]#1
func.func @argmax_first(%x: tensor<2x3xf32>) -> tensor<2x1xi64> {
  %0 = sparq.arg_max %x {axis = 1 : i64} : tensor<2x3xf32> -> tensor<2x1xi64>
  return %0 : tensor<2x1xi64>
}

// CHECK-LABEL: func.func @argmin_last
// CHECK: arith.cmpi sle
func.func @argmin_last(%x: tensor<2x3xi32>) -> tensor<3xi64> {
  %0 = sparq.arg_min %x {axis = 0 : i64, keepdims = false, select_last_index = true} : tensor<2x3xi32> -> tensor<3xi64>
  return %0 : tensor<3xi64>
}
