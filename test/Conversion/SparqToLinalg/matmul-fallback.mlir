// RUN: sparq-opt %s --convert-sparq-to-linalg | FileCheck %s

// CHECK-DAG: #[[LHS:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[RHS:.+]] = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[TA:.+]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-LABEL: func.func @matmul_f64_bcast
// CHECK: linalg.generic {indexing_maps = [#[[LHS]], #[[RHS]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @matmul_f64_bcast(%a: tensor<2x3x4xf64>, %b: tensor<4x5xf64>) -> tensor<2x3x5xf64> {
  %0 = sparq.matmul %a, %b : (tensor<2x3x4xf64>, tensor<4x5xf64>) -> tensor<2x3x5xf64>
  return %0 : tensor<2x3x5xf64>
}

// CHECK-LABEL: func.func @matmul_vector
// CHECK: tensor.expand_shape
// CHECK: linalg.generic
// CHECK: arith.muli
// CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0, 1]] : tensor<1x5xi32> into tensor<5xi32>
func.func @matmul_vector(%a: tensor<4xi32>, %b: tensor<4x5xi32>) -> tensor<5xi32> {
  %0 = sparq.matmul %a, %b : (tensor<4xi32>, tensor<4x5xi32>) -> tensor<5xi32>
  return %0 : tensor<5xi32>
}

// CHECK-LABEL: func.func @gemm_trans
// CHECK: %[[P:.+]] = linalg.generic {indexing_maps = [#[[TA]]
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[P]], %{{.+}} : tensor<3x5xf64>, tensor<5xf64>)
// CHECK: %[[AL:.+]] = arith.constant 2.000000e+00 : f64
// CHECK: arith.mulf %{{.+}}, %[[AL]]
func.func @gemm_trans(%a: tensor<4x3xf64>, %b: tensor<4x5xf64>, %c: tensor<5xf64>) -> tensor<3x5xf64> {
  %0 = sparq.gemm %a, %b, %c {alpha = 2.0 : f32, trans_a = true} : (tensor<4x3xf64>, tensor<4x5xf64>, tensor<5xf64>) -> tensor<3x5xf64>
  return %0 : tensor<3x5xf64>
}

// CHECK-LABEL: func.func @fused_matmul_f64
// CHECK: linalg.generic
// CHECK: arith.addf
// CHECK: arith.maximumf
func.func @fused_matmul_f64(%a: tensor<3x4xf64>, %b: tensor<4x5xf64>, %bias: tensor<5xf64>) -> tensor<3x5xf64> {
  %0 = sparq.fused_matmul %a, %b bias %bias {activation = #sparq.activation<relu>} : (tensor<3x4xf64>, tensor<4x5xf64>, tensor<5xf64>) -> tensor<3x5xf64>
  return %0 : tensor<3x5xf64>
}
