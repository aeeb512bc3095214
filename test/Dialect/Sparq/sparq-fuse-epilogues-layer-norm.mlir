// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-fuse-epilogues))' | FileCheck %s

// LayerNorm decomposed by exporters (torch opset < 17, Hugging Face) becomes
// sparq.layer_norm over the last axis.

// torch: Div form, Pow 2, gamma and beta constants.
// CHECK-LABEL: func @torch_gamma_beta
// CHECK-SAME: (%[[X:.+]]: tensor<1x4x8xf32>)
// CHECK-DAG: %[[G:.+]] = sparq.constant dense<1.500000e+00> : tensor<8xf32>
// CHECK-DAG: %[[B:.+]] = sparq.constant dense<2.500000e-01> : tensor<8xf32>
// CHECK: %[[LN:.+]] = sparq.layer_norm %[[X]], %[[G]], %[[B]] {epsilon = 9.99999996E-13 : f32} : (tensor<1x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
// CHECK-NOT: sparq.reduce_mean
// CHECK-NOT: sparq.sqrt
// CHECK-NOT: sparq.div
// CHECK: return %[[LN]]
func.func @torch_gamma_beta(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %two = sparq.constant dense<2.0> : tensor<f32>
  %eps = sparq.constant dense<1.0e-12> : tensor<f32>
  %g = sparq.constant dense<1.5> : tensor<8xf32>
  %b = sparq.constant dense<0.25> : tensor<8xf32>
  %0 = sparq.reduce_mean %x {axes = array<i64: 2>} : tensor<1x4x8xf32> -> tensor<1x4x1xf32>
  %1 = sparq.sub %x, %0 : (tensor<1x4x8xf32>, tensor<1x4x1xf32>) -> tensor<1x4x8xf32>
  %2 = sparq.pow %1, %two : (tensor<1x4x8xf32>, tensor<f32>) -> tensor<1x4x8xf32>
  %3 = sparq.reduce_mean %2 {axes = array<i64: 2>} : tensor<1x4x8xf32> -> tensor<1x4x1xf32>
  %4 = sparq.add %3, %eps : (tensor<1x4x1xf32>, tensor<f32>) -> tensor<1x4x1xf32>
  %5 = sparq.sqrt %4 : tensor<1x4x1xf32> -> tensor<1x4x1xf32>
  %6 = sparq.div %1, %5 : (tensor<1x4x8xf32>, tensor<1x4x1xf32>) -> tensor<1x4x8xf32>
  %7 = sparq.mul %6, %g : (tensor<1x4x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  %8 = sparq.add %7, %b : (tensor<1x4x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  return %8 : tensor<1x4x8xf32>
}

// Hugging Face style: d * d, eps on the left, Mul by Reciprocal, gamma on
// the left as [1, 1, 8], no beta.
// CHECK-LABEL: func @hf_reciprocal_gamma_only
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x8xf32>)
// (eps 1e-5 is the op's default, so it is not printed; the reshape of
// gamma to [8] folds.)
// CHECK: %[[G:.+]] = sparq.constant dense<[1.000000e+00, 2.000000e+00, {{.+}}, 8.000000e+00]> : tensor<8xf32>
// CHECK: %[[LN:.+]] = sparq.layer_norm %[[X]], %[[G]] : (tensor<2x3x8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
// CHECK-NOT: sparq.reciprocal
// CHECK: return %[[LN]]
func.func @hf_reciprocal_gamma_only(%x: tensor<2x3x8xf32>) -> tensor<2x3x8xf32> {
  %eps = sparq.constant dense<1.0e-5> : tensor<1xf32>
  %g = sparq.constant dense<[[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]]]> : tensor<1x1x8xf32>
  %0 = sparq.reduce_mean %x {axes = array<i64: 2>} : tensor<2x3x8xf32> -> tensor<2x3x1xf32>
  %1 = sparq.sub %x, %0 : (tensor<2x3x8xf32>, tensor<2x3x1xf32>) -> tensor<2x3x8xf32>
  %2 = sparq.mul %1, %1 : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %3 = sparq.reduce_mean %2 {axes = array<i64: 2>} : tensor<2x3x8xf32> -> tensor<2x3x1xf32>
  %4 = sparq.add %eps, %3 : (tensor<1xf32>, tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
  %5 = sparq.sqrt %4 : tensor<2x3x1xf32> -> tensor<2x3x1xf32>
  %6 = sparq.reciprocal %5 : tensor<2x3x1xf32> -> tensor<2x3x1xf32>
  %7 = sparq.mul %1, %6 : (tensor<2x3x8xf32>, tensor<2x3x1xf32>) -> tensor<2x3x8xf32>
  %8 = sparq.mul %g, %7 : (tensor<1x1x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  return %8 : tensor<2x3x8xf32>
}

// Neither gamma nor beta: a ones scale; the result feeds a non-constant add
// that stays.
// CHECK-LABEL: func @plain
// CHECK-SAME: (%[[X:.+]]: tensor<4x16xf32>, %[[Y:.+]]: tensor<16xf32>)
// CHECK: %[[ONES:.+]] = sparq.constant dense<1.000000e+00> : tensor<16xf32>
// CHECK: %[[LN:.+]] = sparq.layer_norm %[[X]], %[[ONES]] : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
// CHECK: sparq.add %[[LN]], %[[Y]]
func.func @plain(%x: tensor<4x16xf32>, %y: tensor<16xf32>) -> tensor<4x16xf32> {
  %two = sparq.constant dense<2.0> : tensor<f32>
  %eps = sparq.constant dense<1.0e-5> : tensor<f32>
  %0 = sparq.reduce_mean %x {axes = array<i64: 1>} : tensor<4x16xf32> -> tensor<4x1xf32>
  %1 = sparq.sub %x, %0 : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  %2 = sparq.pow %1, %two : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %3 = sparq.reduce_mean %2 {axes = array<i64: 1>} : tensor<4x16xf32> -> tensor<4x1xf32>
  %4 = sparq.add %3, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %5 = sparq.sqrt %4 : tensor<4x1xf32> -> tensor<4x1xf32>
  %6 = sparq.div %1, %5 : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  %7 = sparq.add %6, %y : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  return %7 : tensor<4x16xf32>
}

// Beta without gamma.
// CHECK-LABEL: func @beta_only
// CHECK-DAG: %[[B:.+]] = sparq.constant dense<5.000000e-01> : tensor<16xf32>
// CHECK-DAG: %[[ONES:.+]] = sparq.constant dense<1.000000e+00> : tensor<16xf32>
// CHECK: %[[LN:.+]] = sparq.layer_norm %{{.+}}, %[[ONES]], %[[B]]
// CHECK: return %[[LN]]
func.func @beta_only(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %two = sparq.constant dense<2.0> : tensor<f32>
  %eps = sparq.constant dense<1.0e-5> : tensor<f32>
  %b = sparq.constant dense<0.5> : tensor<16xf32>
  %0 = sparq.reduce_mean %x {axes = array<i64: 1>} : tensor<4x16xf32> -> tensor<4x1xf32>
  %1 = sparq.sub %x, %0 : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  %2 = sparq.pow %1, %two : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %3 = sparq.reduce_mean %2 {axes = array<i64: 1>} : tensor<4x16xf32> -> tensor<4x1xf32>
  %4 = sparq.add %3, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %5 = sparq.sqrt %4 : tensor<4x1xf32> -> tensor<4x1xf32>
  %6 = sparq.div %1, %5 : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  %7 = sparq.add %b, %6 : (tensor<16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %7 : tensor<4x16xf32>
}

// Negative: the mean runs over a non-last axis.
// CHECK-LABEL: func @not_last_axis
// CHECK-NOT: sparq.layer_norm
// CHECK: sparq.div
func.func @not_last_axis(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %two = sparq.constant dense<2.0> : tensor<f32>
  %eps = sparq.constant dense<1.0e-5> : tensor<f32>
  %0 = sparq.reduce_mean %x {axes = array<i64: 0>} : tensor<4x16xf32> -> tensor<1x16xf32>
  %1 = sparq.sub %x, %0 : (tensor<4x16xf32>, tensor<1x16xf32>) -> tensor<4x16xf32>
  %2 = sparq.pow %1, %two : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %3 = sparq.reduce_mean %2 {axes = array<i64: 0>} : tensor<4x16xf32> -> tensor<1x16xf32>
  %4 = sparq.add %3, %eps : (tensor<1x16xf32>, tensor<f32>) -> tensor<1x16xf32>
  %5 = sparq.sqrt %4 : tensor<1x16xf32> -> tensor<1x16xf32>
  %6 = sparq.div %1, %5 : (tensor<4x16xf32>, tensor<1x16xf32>) -> tensor<4x16xf32>
  return %6 : tensor<4x16xf32>
}

// Negative: eps is a function argument, not a constant.
// CHECK-LABEL: func @eps_not_constant
// CHECK-NOT: sparq.layer_norm
// CHECK: sparq.div
func.func @eps_not_constant(%x: tensor<4x16xf32>, %eps: tensor<f32>) -> tensor<4x16xf32> {
  %two = sparq.constant dense<2.0> : tensor<f32>
  %0 = sparq.reduce_mean %x {axes = array<i64: 1>} : tensor<4x16xf32> -> tensor<4x1xf32>
  %1 = sparq.sub %x, %0 : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  %2 = sparq.pow %1, %two : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %3 = sparq.reduce_mean %2 {axes = array<i64: 1>} : tensor<4x16xf32> -> tensor<4x1xf32>
  %4 = sparq.add %3, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %5 = sparq.sqrt %4 : tensor<4x1xf32> -> tensor<4x1xf32>
  %6 = sparq.div %1, %5 : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  return %6 : tensor<4x16xf32>
}

// Negative: the variance is also returned (an extra use).
// CHECK-LABEL: func @extra_use_of_variance
// CHECK-NOT: sparq.layer_norm
// CHECK: sparq.div
func.func @extra_use_of_variance(%x: tensor<4x16xf32>) -> (tensor<4x16xf32>, tensor<4x1xf32>) {
  %two = sparq.constant dense<2.0> : tensor<f32>
  %eps = sparq.constant dense<1.0e-5> : tensor<f32>
  %0 = sparq.reduce_mean %x {axes = array<i64: 1>} : tensor<4x16xf32> -> tensor<4x1xf32>
  %1 = sparq.sub %x, %0 : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  %2 = sparq.pow %1, %two : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %3 = sparq.reduce_mean %2 {axes = array<i64: 1>} : tensor<4x16xf32> -> tensor<4x1xf32>
  %4 = sparq.add %3, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %5 = sparq.sqrt %4 : tensor<4x1xf32> -> tensor<4x1xf32>
  %6 = sparq.div %1, %5 : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  return %6, %3 : tensor<4x16xf32>, tensor<4x1xf32>
}

// Negative: the centered value has a third user.
// CHECK-LABEL: func @extra_use_of_centered
// CHECK-NOT: sparq.layer_norm
// CHECK: sparq.div
func.func @extra_use_of_centered(%x: tensor<4x16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %two = sparq.constant dense<2.0> : tensor<f32>
  %eps = sparq.constant dense<1.0e-5> : tensor<f32>
  %0 = sparq.reduce_mean %x {axes = array<i64: 1>} : tensor<4x16xf32> -> tensor<4x1xf32>
  %1 = sparq.sub %x, %0 : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  %2 = sparq.pow %1, %two : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %3 = sparq.reduce_mean %2 {axes = array<i64: 1>} : tensor<4x16xf32> -> tensor<4x1xf32>
  %4 = sparq.add %3, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %5 = sparq.sqrt %4 : tensor<4x1xf32> -> tensor<4x1xf32>
  %6 = sparq.div %1, %5 : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  return %6, %1 : tensor<4x16xf32>, tensor<4x16xf32>
}

// Negative: Pow 3 is not a square.
// CHECK-LABEL: func @not_square
// CHECK-NOT: sparq.layer_norm
// CHECK: sparq.div
func.func @not_square(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %three = sparq.constant dense<3.0> : tensor<f32>
  %eps = sparq.constant dense<1.0e-5> : tensor<f32>
  %0 = sparq.reduce_mean %x {axes = array<i64: 1>} : tensor<4x16xf32> -> tensor<4x1xf32>
  %1 = sparq.sub %x, %0 : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  %2 = sparq.pow %1, %three : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %3 = sparq.reduce_mean %2 {axes = array<i64: 1>} : tensor<4x16xf32> -> tensor<4x1xf32>
  %4 = sparq.add %3, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %5 = sparq.sqrt %4 : tensor<4x1xf32> -> tensor<4x1xf32>
  %6 = sparq.div %1, %5 : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  return %6 : tensor<4x16xf32>
}

// A gamma that is not a constant stays a separate multiply after the
// recognized normalization.
// CHECK-LABEL: func @gamma_not_constant
// CHECK-SAME: (%[[X:.+]]: tensor<4x16xf32>, %[[G:.+]]: tensor<16xf32>)
// CHECK: %[[LN:.+]] = sparq.layer_norm %[[X]]
// CHECK: sparq.mul %[[LN]], %[[G]]
func.func @gamma_not_constant(%x: tensor<4x16xf32>, %g: tensor<16xf32>) -> tensor<4x16xf32> {
  %two = sparq.constant dense<2.0> : tensor<f32>
  %eps = sparq.constant dense<1.0e-5> : tensor<f32>
  %0 = sparq.reduce_mean %x {axes = array<i64: 1>} : tensor<4x16xf32> -> tensor<4x1xf32>
  %1 = sparq.sub %x, %0 : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  %2 = sparq.pow %1, %two : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %3 = sparq.reduce_mean %2 {axes = array<i64: 1>} : tensor<4x16xf32> -> tensor<4x1xf32>
  %4 = sparq.add %3, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %5 = sparq.sqrt %4 : tensor<4x1xf32> -> tensor<4x1xf32>
  %6 = sparq.div %1, %5 : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  %7 = sparq.mul %6, %g : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  return %7 : tensor<4x16xf32>
}

// A dynamic leading dim is fine: only the normalized (last) dim must be
// static.
// CHECK-LABEL: func @dynamic_batch
// CHECK-SAME: (%[[X:.+]]: tensor<?x4x8xf32>)
// CHECK: %[[LN:.+]] = sparq.layer_norm %[[X]], %{{.+}} : (tensor<?x4x8xf32>, tensor<8xf32>) -> tensor<?x4x8xf32>
// CHECK: return %[[LN]]
func.func @dynamic_batch(%x: tensor<?x4x8xf32>) -> tensor<?x4x8xf32> {
  %two = sparq.constant dense<2.0> : tensor<f32>
  %eps = sparq.constant dense<1.0e-5> : tensor<f32>
  %0 = sparq.reduce_mean %x {axes = array<i64: 2>} : tensor<?x4x8xf32> -> tensor<?x4x1xf32>
  %1 = sparq.sub %x, %0 : (tensor<?x4x8xf32>, tensor<?x4x1xf32>) -> tensor<?x4x8xf32>
  %2 = sparq.pow %1, %two : (tensor<?x4x8xf32>, tensor<f32>) -> tensor<?x4x8xf32>
  %3 = sparq.reduce_mean %2 {axes = array<i64: 2>} : tensor<?x4x8xf32> -> tensor<?x4x1xf32>
  %4 = sparq.add %eps, %3 : (tensor<f32>, tensor<?x4x1xf32>) -> tensor<?x4x1xf32>
  %5 = sparq.sqrt %4 : tensor<?x4x1xf32> -> tensor<?x4x1xf32>
  %6 = sparq.div %1, %5 : (tensor<?x4x8xf32>, tensor<?x4x1xf32>) -> tensor<?x4x8xf32>
  return %6 : tensor<?x4x8xf32>
}
