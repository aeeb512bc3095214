// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-fuse-epilogues))' | FileCheck %s

// CHECK-LABEL: func @conv_bias_residual_relu
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x4x4xf32>, %[[W:.+]]: tensor<8x8x3x3xf32>, %[[B:.+]]: tensor<8xf32>, %[[R:.+]]: tensor<1x8x4x4xf32>)
func.func @conv_bias_residual_relu(%x: tensor<1x8x4x4xf32>, %w: tensor<8x8x3x3xf32>, %b: tensor<8xf32>,
                                   %r: tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32> {
  // CHECK: %[[K:.+]] = sparq.fused_conv %[[X]], %[[W]] bias %[[B]] residual %[[R]] {activation = #sparq.activation<relu>
  // CHECK-NOT: sparq.add
  // CHECK-NOT: sparq.relu
  // CHECK: return %[[K]]
  %0 = sparq.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>}
      : (tensor<1x8x4x4xf32>, tensor<8x8x3x3xf32>, tensor<8xf32>) -> tensor<1x8x4x4xf32>
  %1 = sparq.add %0, %r : (tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
  %2 = sparq.relu %1 : tensor<1x8x4x4xf32> -> tensor<1x8x4x4xf32>
  return %2 : tensor<1x8x4x4xf32>
}

// CHECK-LABEL: func @matmul_bias_gelu
func.func @matmul_bias_gelu(%x: tensor<1x16x32xf32>, %w: tensor<32x64xf32>) -> tensor<1x16x64xf32> {
  // Torch writes Add(bias, MatMul(...)) with the bias first.
  // CHECK: %[[BIAS:.+]] = sparq.constant
  // CHECK: sparq.fused_matmul %{{.*}}, %{{.*}} bias %[[BIAS]] {activation = #sparq.activation<gelu>
  %bias = sparq.constant dense<0.5> : tensor<64xf32>
  %0 = sparq.matmul %x, %w : (tensor<1x16x32xf32>, tensor<32x64xf32>) -> tensor<1x16x64xf32>
  %1 = sparq.add %bias, %0 : (tensor<64xf32>, tensor<1x16x64xf32>) -> tensor<1x16x64xf32>
  %2 = sparq.gelu %1 : tensor<1x16x64xf32> -> tensor<1x16x64xf32>
  return %2 : tensor<1x16x64xf32>
}

// CHECK-LABEL: func @gemm_trans_b
func.func @gemm_trans_b(%a: tensor<4x8xf32>, %b: tensor<16x8xf32>, %c: tensor<16xf32>) -> tensor<4x16xf32> {
  // CHECK: sparq.fused_matmul %{{.*}}, %{{.*}} bias %{{.*}} {act_beta = 6.000000e+00 : f32, activation = #sparq.activation<clip>, trans_b = true}
  %0 = sparq.gemm %a, %b, %c {trans_b = true} : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %1 = sparq.clip %0 {min = 0.0 : f64, max = 6.0 : f64} : tensor<4x16xf32> -> tensor<4x16xf32>
  return %1 : tensor<4x16xf32>
}

// CHECK-LABEL: func @gemm_scaled
func.func @gemm_scaled(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // alpha != 1 keeps an explicit scale; the scaled C is a residual.
  // CHECK: %[[K:.+]] = sparq.fused_matmul
  // CHECK: sparq.mul %[[K]]
  %0 = sparq.gemm %a, %b, %c {alpha = 2.0 : f32, beta = 0.5 : f32} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// CHECK-LABEL: func @shared_result_not_fused
func.func @shared_result_not_fused(%x: tensor<2x8xf32>, %w: tensor<8x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  // The kernel result has two users: the relu must stay separate.
  // CHECK: %[[K:.+]] = sparq.fused_matmul
  // CHECK-NOT: activation
  // CHECK: sparq.relu %[[K]]
  %0 = sparq.matmul %x, %w : (tensor<2x8xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
  %1 = sparq.relu %0 : tensor<2x8xf32> -> tensor<2x8xf32>
  return %0, %1 : tensor<2x8xf32>, tensor<2x8xf32>
}

// CHECK-LABEL: func @int_matmul_untouched
func.func @int_matmul_untouched(%x: tensor<2x8xi32>, %w: tensor<8x8xi32>) -> tensor<2x8xi32> {
  // CHECK: sparq.matmul
  // CHECK-NOT: sparq.fused_matmul
  %0 = sparq.matmul %x, %w : (tensor<2x8xi32>, tensor<8x8xi32>) -> tensor<2x8xi32>
  return %0 : tensor<2x8xi32>
}
