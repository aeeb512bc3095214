// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-sparsity-analysis))' | FileCheck %s

// W (as [N=4, K=8], trans_b) keeps 2 of every 4 along K: 2:4, density 0.5.
// CHECK-LABEL: func @two_four
// CHECK: sparq.fused_matmul {{.*}}sparq.sparsity = #sparq.sparsity<nm 2:4, axis = 1, density = 5.000000e-01>
func.func @two_four(%x: tensor<2x8xf32>) -> tensor<2x4xf32> {
  %w = sparq.constant dense<[[1.0, 0.0, 2.0, 0.0, 0.0, 3.0, 4.0, 0.0],
                             [0.0, 1.0, 0.0, 2.0, 3.0, 0.0, 0.0, 4.0],
                             [1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 3.0, 4.0],
                             [0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 0.0, 0.0]]> : tensor<4x8xf32>
  %0 = sparq.fused_matmul %x, %w {trans_b = true} : (tensor<2x8xf32>, tensor<4x8xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// B rows 4-7 ([K=8, N=4], no trans_b) are zero, so W = B^T has its last four
// reduction columns empty: one all-zero 4x4 block (4 outputs x 4 inputs), the
// largest candidate block with no fill.
// CHECK-LABEL: func @blocks
// CHECK: sparq.sparsity = #sparq.sparsity<block 4x4, density = 5.000000e-01>
func.func @blocks(%x: tensor<2x8xf32>) -> tensor<2x4xf32> {
  %w = sparq.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0],
                             [1.0, 1.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0],
                             [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0],
                             [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]> : tensor<8x4xf32>
  %0 = sparq.fused_matmul %x, %w : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// Scattered zeros: unstructured, density 3/4 for the conv and 12/16 for the
// matmul.
// CHECK-LABEL: func @unstructured
// CHECK: sparq.fused_conv {{.*}}sparq.sparsity = #sparq.sparsity<unstructured, density = 7.500000e-01>
// CHECK: sparq.fused_matmul {{.*}}sparq.sparsity = #sparq.sparsity<unstructured, density = 7.500000e-01>
func.func @unstructured(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32> {
  %w = sparq.constant dense<[[[[1.0]], [[0.0]]], [[[2.0]], [[3.0]]]]> : tensor<2x2x1x1xf32>
  %y = sparq.constant dense<[[1.0, 0.0, 2.0, 3.0, 0.0, 4.0, 5.0, 6.0],
                             [7.0, 8.0, 9.0, 1.0, 0.0, 2.0, 0.0, 3.0]]> : tensor<2x8xf32>
  %0 = sparq.fused_conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>}
      : (tensor<1x2x3x3xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x3x3xf32>
  %z = sparq.constant dense<0.0> : tensor<2x8xf32>
  %1 = sparq.fused_matmul %z, %y {trans_b = true} : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x2xf32>
  return %0 : tensor<1x2x3x3xf32>
}

// Dense weights are marked dense; runtime weights are left alone.
// CHECK-LABEL: func @dense_and_runtime
// CHECK: sparq.fused_matmul {{.*}}sparq.sparsity = #sparq.sparsity<dense>
// CHECK: %[[R:.+]] = sparq.fused_matmul %arg0, %arg1 :
func.func @dense_and_runtime(%x: tensor<2x2xf32>, %r: tensor<2x2xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>) {
  %w = sparq.constant dense<1.0> : tensor<2x2xf32>
  %0 = sparq.fused_matmul %x, %w : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %1 = sparq.fused_matmul %x, %r : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %0, %1 : tensor<2x2xf32>, tensor<2x2xf32>
}
