// RUN: sparq-opt %s --convert-sparq-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @positive_steps
// CHECK-SAME: (%[[X:.+]]: tensor<4x6xf32>)
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.+}} : tensor<2x3xf32>)
// CHECK: %[[J:.+]] = linalg.index 1 : index
// CHECK: arith.muli %[[J]], %{{.+}} : index
// CHECK: tensor.extract %[[X]]
func.func @positive_steps(%x: tensor<4x6xf32>) -> tensor<2x3xf32> {
  %0 = sparq.slice %x {starts = array<i64: 1, 0>, ends = array<i64: 3, 6>, steps = array<i64: 1, 2>} : tensor<4x6xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @negative_step
// CHECK: linalg.generic
// CHECK: %[[I:.+]] = linalg.index 0 : index
// CHECK: %[[S:.+]] = arith.muli %[[I]], %{{.+}} : index
// CHECK: tensor.extract %{{.+}}[%{{.+}}] : tensor<5xf32>
func.func @negative_step(%x: tensor<5xf32>) -> tensor<5xf32> {
  %0 = sparq.slice %x {starts = array<i64: 4>, ends = array<i64: -1>, steps = array<i64: -1>} : tensor<5xf32> -> tensor<5xf32>
  return %0 : tensor<5xf32>
}
