// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-pack-sparse-weights))' -verify-diagnostics

// A format decision without the analysis' measurement is reported, not
// packed blindly.
func.func @unanalyzed(%x: tensor<2x4xf32>) -> tensor<2x1xf32> {
  %w = sparq.constant dense<[[1.0, 0.0, 0.0, 2.0]]> : tensor<1x4xf32>
  // expected-error@+1 {{sparq.format is set but the weight was not analyzed}}
  %0 = sparq.fused_matmul %x, %w {trans_b = true, sparq.format = "csr"} : (tensor<2x4xf32>, tensor<1x4xf32>) -> tensor<2x1xf32>
  return %0 : tensor<2x1xf32>
}
