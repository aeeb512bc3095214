// RUN: sparq-opt %s --convert-sparq-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @pad_constant
// CHECK: linalg.generic
// CHECK: arith.andi
// CHECK: %[[V:.+]] = tensor.extract
// CHECK-DAG: %[[F:.+]] = arith.constant 1.500000e+00 : f32
// CHECK: arith.select %{{.+}}, %[[V]], %[[F]]
// CHECK: -> tensor<4x5xf32>
func.func @pad_constant(%x: tensor<2x3xf32>) -> tensor<4x5xf32> {
  %0 = sparq.pad %x {pads = array<i64: 1, 0, 1, 2>, value = 1.5 : f64} : tensor<2x3xf32> -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// CHECK-LABEL: func.func @pad_reflect
// CHECK: linalg.generic
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: tensor.extract
// CHECK-NOT: arith.select
// CHECK: linalg.yield
func.func @pad_reflect(%x: tensor<3xf32>) -> tensor<7xf32> {
  %0 = sparq.pad %x {pads = array<i64: 2, 2>, mode = "reflect"} : tensor<3xf32> -> tensor<7xf32>
  return %0 : tensor<7xf32>
}

// CHECK-LABEL: func.func @trilu_lower
// CHECK: %[[I:.+]] = linalg.index 1 : index
// CHECK: %[[J:.+]] = linalg.index 2 : index
// CHECK: %[[D:.+]] = arith.subi %[[J]], %[[I]]
// CHECK: arith.cmpi sle, %[[D]]
func.func @trilu_lower(%x: tensor<2x3x3xf32>) -> tensor<2x3x3xf32> {
  %0 = sparq.trilu %x {upper = false, k = 1 : i64} : tensor<2x3x3xf32> -> tensor<2x3x3xf32>
  return %0 : tensor<2x3x3xf32>
}
