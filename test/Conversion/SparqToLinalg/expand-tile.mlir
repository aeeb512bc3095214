// RUN: sparq-opt %s --convert-sparq-to-linalg | FileCheck %s

// CHECK-DAG: #[[IN:.+]] = affine_map<(d0, d1, d2) -> (0, d2)>
// CHECK-DAG: #[[TILE_IN:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, d3)>
// CHECK-LABEL: func.func @expand
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #{{.+}}]
// CHECK-SAME: ins(%{{.+}} : tensor<1x4xf32>) outs(%{{.+}} : tensor<2x3x4xf32>)
func.func @expand(%x: tensor<1x4xf32>) -> tensor<2x3x4xf32> {
  %0 = sparq.expand %x : tensor<1x4xf32> -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// CHECK-LABEL: func.func @tile
// CHECK: %[[W:.+]] = linalg.generic {indexing_maps = [#[[TILE_IN]], #{{.+}}]
// CHECK-SAME: outs(%{{.+}} : tensor<2x3x3x4xf32>)
// CHECK: tensor.collapse_shape %[[W]] {{\[}}[0, 1], [2, 3]] : tensor<2x3x3x4xf32> into tensor<6x12xf32>
func.func @tile(%x: tensor<3x4xf32>) -> tensor<6x12xf32> {
  %0 = sparq.tile %x {repeats = array<i64: 2, 3>} : tensor<3x4xf32> -> tensor<6x12xf32>
  return %0 : tensor<6x12xf32>
}
