// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-fold-batch-norm))' | FileCheck %s

// scale = gamma / sqrt(var + eps) = 2 / sqrt(3 + 1) = 1, so W' = W and
// b' = (b - mean) * 1 + beta = (1 - 2) + 0.5 = -0.5.
// CHECK-LABEL: func @fold
func.func @fold(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  // CHECK-DAG: %[[W:.+]] = sparq.constant dense<3.000000e+00> : tensor<1x1x1x1xf32>
  // CHECK-DAG: %[[B:.+]] = sparq.constant dense<-5.000000e-01> : tensor<1xf32>
  // CHECK: sparq.conv %{{.*}}, %[[W]], %[[B]]
  // CHECK-NOT: sparq.batch_norm
  %w = sparq.constant dense<3.0> : tensor<1x1x1x1xf32>
  %b = sparq.constant dense<1.0> : tensor<1xf32>
  %gamma = sparq.constant dense<2.0> : tensor<1xf32>
  %beta = sparq.constant dense<0.5> : tensor<1xf32>
  %mean = sparq.constant dense<2.0> : tensor<1xf32>
  %var = sparq.constant dense<3.0> : tensor<1xf32>
  %0 = sparq.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>}
      : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>) -> tensor<1x1x4x4xf32>
  %1 = sparq.batch_norm %0, %gamma, %beta, %mean, %var {epsilon = 1.0 : f32}
      : (tensor<1x1x4x4xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x4x4xf32>
  return %1 : tensor<1x1x4x4xf32>
}

// CHECK-LABEL: func @runtime_params_untouched
func.func @runtime_params_untouched(%x: tensor<1x1x4x4xf32>, %gamma: tensor<1xf32>) -> tensor<1x1x4x4xf32> {
  // CHECK: sparq.batch_norm
  %w = sparq.constant dense<3.0> : tensor<1x1x1x1xf32>
  %c = sparq.constant dense<1.0> : tensor<1xf32>
  %0 = sparq.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>}
      : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32>
  %1 = sparq.batch_norm %0, %gamma, %c, %c, %c
      : (tensor<1x1x4x4xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x4x4xf32>
  return %1 : tensor<1x1x4x4xf32>
}
