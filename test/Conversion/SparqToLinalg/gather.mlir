// RUN: sparq-opt %s --convert-sparq-to-linalg | FileCheck %s

// CHECK-DAG: #[[IDX:.+]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-LABEL: func.func @gather_axis1
// CHECK-SAME: (%[[D:.+]]: tensor<2x5x3xf32>, %[[I:.+]]: tensor<4xi64>)
// CHECK: linalg.generic {indexing_maps = [#[[IDX]], #{{.+}}]
// CHECK-SAME: ins(%[[I]] : tensor<4xi64>)
// CHECK: %[[RAW:.+]] = arith.index_cast %{{.+}} : i64 to index
// CHECK: %[[NEG:.+]] = arith.cmpi slt, %[[RAW]]
// CHECK: %[[WRAP:.+]] = arith.select %[[NEG]]
// CHECK: %[[LO:.+]] = arith.maxsi %[[WRAP]]
// CHECK: %[[CL:.+]] = arith.minsi %[[LO]]
// CHECK: %[[D0:.+]] = linalg.index 0
// CHECK: %[[D2:.+]] = linalg.index 2
// CHECK: tensor.extract %[[D]][%[[D0]], %[[CL]], %[[D2]]] : tensor<2x5x3xf32>
func.func @gather_axis1(%d: tensor<2x5x3xf32>, %i: tensor<4xi64>) -> tensor<2x4x3xf32> {
  %0 = sparq.gather %d, %i {axis = 1 : i64} : (tensor<2x5x3xf32>, tensor<4xi64>) -> tensor<2x4x3xf32>
  return %0 : tensor<2x4x3xf32>
}

// CHECK-LABEL: func.func @gather_scalar_index
// CHECK: arith.index_cast %{{.+}} : i32 to index
// CHECK: tensor.extract %{{.+}} : tensor<5x3xf32>
// CHECK: -> tensor<3xf32>
func.func @gather_scalar_index(%d: tensor<5x3xf32>, %i: tensor<i32>) -> tensor<3xf32> {
  %0 = sparq.gather %d, %i {axis = 0 : i64} : (tensor<5x3xf32>, tensor<i32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}
