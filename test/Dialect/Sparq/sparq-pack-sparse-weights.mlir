// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-sparsity-analysis,sparq-select-sparse-format{mode=force},sparq-pack-sparse-weights))' | FileCheck %s

// The weight becomes an i8 blob (header + row pointers + 16-bit columns +
// values) and the kernel a sparse_matmul with the epilogue kept.
// CHECK-LABEL: func @pack
// CHECK: %[[BLOB:.+]] = sparq.constant dense_resource<sparse_weight{{(_[0-9]+)?}}> : tensor<{{[0-9]+}}xi8>
// CHECK: sparq.sparse_matmul %arg0, %[[BLOB]] bias %{{.*}} {activation = #sparq.activation<relu>, cols = 8 : i64, encoding = #sparq.sparsity<{{.*}}density = 5.000000e-01>, rows = 4 : i64
// CHECK-NOT: sparq.fused_matmul
func.func @pack(%x: tensor<2x8xf32>) -> tensor<2x4xf32> {
  %w = sparq.constant dense<[[1.0, 0.0, 2.0, 0.0, 0.0, 3.0, 4.0, 0.0],
                             [0.0, 1.0, 0.0, 2.0, 3.0, 0.0, 0.0, 4.0],
                             [1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 3.0, 4.0],
                             [0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 0.0, 0.0]]> : tensor<4x8xf32>
  %b = sparq.constant dense<1.0> : tensor<4xf32>
  %0 = sparq.fused_matmul %x, %w bias %b {trans_b = true, activation = #sparq.activation<relu>} : (tensor<2x8xf32>, tensor<4x8xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// Convolutions keep their geometry on the sparse op.
// CHECK-LABEL: func @pack_conv
// CHECK: sparq.sparse_conv %arg0, %{{.*}} {{{.*}}kernel_shape = array<i64: 1, 1>{{.*}}rows = 2 : i64
func.func @pack_conv(%x: tensor<1x4x3x3xf32>) -> tensor<1x2x3x3xf32> {
  %w = sparq.constant dense<[[[[1.0]], [[0.0]], [[0.0]], [[2.0]]], [[[0.0]], [[3.0]], [[0.0]], [[0.0]]]]> : tensor<2x4x1x1xf32>
  %0 = sparq.fused_conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>}
      : (tensor<1x4x3x3xf32>, tensor<2x4x1x1xf32>) -> tensor<1x2x3x3xf32>
  return %0 : tensor<1x2x3x3xf32>
}
