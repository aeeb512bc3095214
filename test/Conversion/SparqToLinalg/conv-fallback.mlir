// RUN: sparq-opt %s --convert-sparq-to-linalg | FileCheck %s

// A grouped, dilated 1-d convolution: the input is padded, split into
// groups and contracted directly.
// CHECK-DAG: #[[IN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4, d3 * 2 + d5 * 2)>
// CHECK-DAG: #[[W:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d1, d2, d4, d5)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @conv1d_grouped
// CHECK: %[[P:.+]] = linalg.generic
// CHECK: tensor.extract
// CHECK: } -> tensor<1x4x10xf32>
// CHECK: %[[GI:.+]] = tensor.expand_shape %[[P]] {{\[}}[0], [1, 2], [3]] output_shape [1, 2, 2, 10]
// CHECK: %[[GW:.+]] = tensor.expand_shape %{{.+}} {{\[}}[0, 1], [2], [3]] output_shape [2, 3, 2, 3]
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[IN]], #[[W]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
// CHECK-SAME: ins(%[[GI]], %[[GW]] :
// CHECK: %[[C:.+]] = tensor.collapse_shape %[[R]] {{\[}}[0], [1, 2], [3]] : tensor<1x2x3x3xf32> into tensor<1x6x3xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[C]], %{{.+}} : tensor<1x6x3xf32>, tensor<6xf32>)
func.func @conv1d_grouped(%x: tensor<1x4x8xf32>, %w: tensor<6x2x3xf32>, %b: tensor<6xf32>) -> tensor<1x6x3xf32> {
  %0 = sparq.conv %x, %w, %b {strides = array<i64: 2>, pads = array<i64: 1, 1>, dilations = array<i64: 2>, group = 2 : i64} : (tensor<1x4x8xf32>, tensor<6x2x3xf32>, tensor<6xf32>) -> tensor<1x6x3xf32>
  return %0 : tensor<1x6x3xf32>
}

// CHECK-LABEL: func.func @fused_conv_f64
// CHECK: linalg.generic
// CHECK: math.tanh
func.func @fused_conv_f64(%x: tensor<1x2x4x4xf64>, %w: tensor<3x2x3x3xf64>) -> tensor<1x3x2x2xf64> {
  %0 = sparq.fused_conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, activation = #sparq.activation<tanh>} : (tensor<1x2x4x4xf64>, tensor<3x2x3x3xf64>) -> tensor<1x3x2x2xf64>
  return %0 : tensor<1x3x2x2xf64>
}
