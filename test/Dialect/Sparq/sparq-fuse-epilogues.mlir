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

// GELU decomposed as exporters write it is recognized and fused.
// CHECK-LABEL: func @matmul_erf_gelu_torch
// CHECK: sparq.fused_matmul {{.*}}activation = #sparq.activation<gelu>
// CHECK-NOT: sparq.erf
func.func @matmul_erf_gelu_torch(%x: tensor<16x32xf32>, %w: tensor<32x64xf32>) -> tensor<16x64xf32> {
  %sqrt2 = sparq.constant dense<1.41421354> : tensor<f32>
  %one = sparq.constant dense<1.0> : tensor<f32>
  %half = sparq.constant dense<0.5> : tensor<f32>
  %0 = sparq.matmul %x, %w : (tensor<16x32xf32>, tensor<32x64xf32>) -> tensor<16x64xf32>
  %1 = sparq.div %0, %sqrt2 : (tensor<16x64xf32>, tensor<f32>) -> tensor<16x64xf32>
  %2 = sparq.erf %1 : tensor<16x64xf32> -> tensor<16x64xf32>
  %3 = sparq.add %2, %one : (tensor<16x64xf32>, tensor<f32>) -> tensor<16x64xf32>
  %4 = sparq.mul %0, %3 : (tensor<16x64xf32>, tensor<16x64xf32>) -> tensor<16x64xf32>
  %5 = sparq.mul %4, %half : (tensor<16x64xf32>, tensor<f32>) -> tensor<16x64xf32>
  return %5 : tensor<16x64xf32>
}

// Hugging Face order: (x * 0.5) * (1 + erf(x * (1 / sqrt 2))).
// CHECK-LABEL: func @matmul_erf_gelu_hf
// CHECK: sparq.fused_matmul {{.*}}activation = #sparq.activation<gelu>
// CHECK-NOT: sparq.erf
func.func @matmul_erf_gelu_hf(%x: tensor<16x32xf32>, %w: tensor<32x64xf32>) -> tensor<16x64xf32> {
  %rsqrt2 = sparq.constant dense<0.707106769> : tensor<f32>
  %one = sparq.constant dense<1.0> : tensor<f32>
  %half = sparq.constant dense<0.5> : tensor<f32>
  %0 = sparq.matmul %x, %w : (tensor<16x32xf32>, tensor<32x64xf32>) -> tensor<16x64xf32>
  %1 = sparq.mul %0, %half : (tensor<16x64xf32>, tensor<f32>) -> tensor<16x64xf32>
  %2 = sparq.mul %0, %rsqrt2 : (tensor<16x64xf32>, tensor<f32>) -> tensor<16x64xf32>
  %3 = sparq.erf %2 : tensor<16x64xf32> -> tensor<16x64xf32>
  %4 = sparq.add %one, %3 : (tensor<f32>, tensor<16x64xf32>) -> tensor<16x64xf32>
  %5 = sparq.mul %1, %4 : (tensor<16x64xf32>, tensor<16x64xf32>) -> tensor<16x64xf32>
  return %5 : tensor<16x64xf32>
}

// GPT-2's tanh approximation with x^3 = x * (x * x).
// CHECK-LABEL: func @matmul_tanh_gelu
// CHECK: sparq.fused_matmul {{.*}}activation = #sparq.activation<gelu_tanh>
// CHECK-NOT: sparq.tanh
func.func @matmul_tanh_gelu(%x: tensor<16x32xf32>, %w: tensor<32x64xf32>) -> tensor<16x64xf32> {
  %c = sparq.constant dense<0.797884583> : tensor<f32>
  %k = sparq.constant dense<0.044715> : tensor<f32>
  %one = sparq.constant dense<1.0> : tensor<f32>
  %half = sparq.constant dense<0.5> : tensor<f32>
  %0 = sparq.matmul %x, %w : (tensor<16x32xf32>, tensor<32x64xf32>) -> tensor<16x64xf32>
  %1 = sparq.mul %0, %0 : (tensor<16x64xf32>, tensor<16x64xf32>) -> tensor<16x64xf32>
  %2 = sparq.mul %0, %1 : (tensor<16x64xf32>, tensor<16x64xf32>) -> tensor<16x64xf32>
  %3 = sparq.mul %k, %2 : (tensor<f32>, tensor<16x64xf32>) -> tensor<16x64xf32>
  %4 = sparq.add %0, %3 : (tensor<16x64xf32>, tensor<16x64xf32>) -> tensor<16x64xf32>
  %5 = sparq.mul %c, %4 : (tensor<f32>, tensor<16x64xf32>) -> tensor<16x64xf32>
  %6 = sparq.tanh %5 : tensor<16x64xf32> -> tensor<16x64xf32>
  %7 = sparq.add %one, %6 : (tensor<f32>, tensor<16x64xf32>) -> tensor<16x64xf32>
  %8 = sparq.mul %0, %7 : (tensor<16x64xf32>, tensor<16x64xf32>) -> tensor<16x64xf32>
  %9 = sparq.mul %half, %8 : (tensor<f32>, tensor<16x64xf32>) -> tensor<16x64xf32>
  return %9 : tensor<16x64xf32>
}

// Not GELU (0.6 instead of 0.5; an intermediate with a second use): the
// graph is left as it is.
// CHECK-LABEL: func @not_gelu
// CHECK: sparq.erf
// CHECK: sparq.erf
// CHECK-NOT: activation = #sparq.activation<gelu>
func.func @not_gelu(%x: tensor<16x64xf32>) -> (tensor<16x64xf32>, tensor<16x64xf32>, tensor<16x64xf32>) {
  %sqrt2 = sparq.constant dense<1.41421354> : tensor<f32>
  %one = sparq.constant dense<1.0> : tensor<f32>
  %half = sparq.constant dense<0.5> : tensor<f32>
  %six = sparq.constant dense<0.6> : tensor<f32>
  %1 = sparq.div %x, %sqrt2 : (tensor<16x64xf32>, tensor<f32>) -> tensor<16x64xf32>
  %2 = sparq.erf %1 : tensor<16x64xf32> -> tensor<16x64xf32>
  %3 = sparq.add %2, %one : (tensor<16x64xf32>, tensor<f32>) -> tensor<16x64xf32>
  %4 = sparq.mul %x, %3 : (tensor<16x64xf32>, tensor<16x64xf32>) -> tensor<16x64xf32>
  %5 = sparq.mul %4, %six : (tensor<16x64xf32>, tensor<f32>) -> tensor<16x64xf32>
  %11 = sparq.div %x, %sqrt2 : (tensor<16x64xf32>, tensor<f32>) -> tensor<16x64xf32>
  %12 = sparq.erf %11 : tensor<16x64xf32> -> tensor<16x64xf32>
  %13 = sparq.add %12, %one : (tensor<16x64xf32>, tensor<f32>) -> tensor<16x64xf32>
  %14 = sparq.mul %x, %13 : (tensor<16x64xf32>, tensor<16x64xf32>) -> tensor<16x64xf32>
  %15 = sparq.mul %14, %half : (tensor<16x64xf32>, tensor<f32>) -> tensor<16x64xf32>
  return %5, %15, %13 : tensor<16x64xf32>, tensor<16x64xf32>, tensor<16x64xf32>
}
