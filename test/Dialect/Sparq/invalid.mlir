// RUN: sparq-opt %s -split-input-file -verify-diagnostics

func.func @bad_broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) {
  // expected-error@+2 {{are not broadcast-compatible}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.add %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @mixed_types(%a: tensor<3xf32>, %b: tensor<3xi64>) {
  // expected-error@+2 {{operand element types differ}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.add %a, %b : (tensor<3xf32>, tensor<3xi64>) -> tensor<3xf32>
  return
}

// -----

func.func @wrong_result(%a: tensor<3xf32>) {
  // expected-error@+2 {{inferred type(s) 'tensor<3xf32>' are incompatible with return type(s) of operation 'tensor<4xf32>'}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.relu %a : tensor<3xf32> -> tensor<4xf32>
  return
}

// -----

func.func @matmul_mismatch(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error@+2 {{contraction dims differ}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.matmul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @conv_groups(%x: tensor<1x4x8x8xf32>, %w: tensor<6x3x3x3xf32>) {
  // expected-error@+2 {{input channels 4 do not match weight channels 3 x group 1}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>}
      : (tensor<1x4x8x8xf32>, tensor<6x3x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @conv_stride(%x: tensor<1x3x8x8xf32>, %w: tensor<6x3x3x3xf32>) {
  // expected-error@+2 {{strides must be positive}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.conv %x, %w {strides = array<i64: 0, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>}
      : (tensor<1x3x8x8xf32>, tensor<6x3x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @conv_pads(%x: tensor<1x3x8x8xf32>, %w: tensor<6x3x3x3xf32>) {
  // expected-error@+2 {{expected 4 pads, got 2}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1, 1>}
      : (tensor<1x3x8x8xf32>, tensor<6x3x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @bad_perm(%x: tensor<2x3xf32>) {
  // expected-error@+2 {{perm is not a permutation}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.transpose %x {perm = array<i64: 0, 0>} : tensor<2x3xf32> -> tensor<2x2xf32>
  return
}

// -----

func.func @bad_reshape(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{cannot reshape [2,3] (6 elements) to [4,2] (8 elements)}}
  %0 = sparq.reshape %x : tensor<2x3xf32> -> tensor<4x2xf32>
  return
}

// -----

func.func @bad_reduce(%x: tensor<2x3xf32>) {
  // expected-error@+2 {{reduction axis 2 out of range for rank 2}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.reduce_sum %x {axes = array<i64: 2>} : tensor<2x3xf32> -> tensor<2x3x1xf32>
  return
}

// -----

func.func @bad_softmax(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{axis 3 is out of range for a rank-2 input}}
  %0 = sparq.softmax %x {axis = 3 : i64} : tensor<2x3xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @bad_concat(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) {
  // expected-error@+2 {{concat inputs differ in dim 1}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<5x3xf32>
  return
}

// -----

func.func @bad_expand(%x: tensor<3x2xf32>) {
  // expected-error@+1 {{cannot broadcast [3,2] to [3,4]}}
  %0 = sparq.expand %x : tensor<3x2xf32> -> tensor<3x4xf32>
  return
}

// -----

func.func @bad_batchnorm(%x: tensor<1x4x2x2xf32>, %s: tensor<3xf32>) {
  // expected-error@+1 {{scale, bias, mean and variance must be vectors of 4 elements}}
  %0 = sparq.batch_norm %x, %s, %s, %s, %s : (tensor<1x4x2x2xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x4x2x2xf32>
  return
}

// -----

// expected-error@+1 {{N:M sparsity needs 0 < N <= M, got 5:4}}
func.func @bad_nm(%a: tensor<8x8xf32, #sparq.sparsity<nm 5:4>>) {
  return
}

// -----

// expected-error@+1 {{density must be in [0, 1]}}
func.func @bad_density(%a: tensor<8x8xf32, #sparq.sparsity<unstructured, density = 1.5>>) {
  return
}

// -----

// expected-error@+1 {{N:M sparsity needs dim 1 (6) to be a multiple of M = 4}}
func.func @nm_not_multiple(%a: tensor<8x6xf32, #sparq.sparsity<nm 2:4, axis = 1>>) {
  return
}

// -----

// expected-error@+1 {{unknown sparsity kind 'diagonal'}}
func.func @bad_kind(%a: tensor<8x8xf32, #sparq.sparsity<diagonal>>) {
  return
}

// -----

// expected-error@+1 {{per-tensor quantization needs exactly one scale, got 2}}
func.func @bad_quant() attributes {q = #sparq.quant<storage = f8E4M3FN, expressed = f32, axis = -1, block_size = 0, scales = dense<[0.5, 0.25]> : tensor<2xf32>>} {
  return
}

// -----

func.func @sparse_matmul_cols(%x: tensor<2x8xf32>, %blob: tensor<64xi8>) {
  // expected-error@+1 {{lhs reduction dim 8 differs from cols 6}}
  %0 = sparq.sparse_matmul %x, %blob {encoding = #sparq.sparsity<unstructured, density = 0.25>, rows = 4 : i64, cols = 6 : i64}
      : (tensor<2x8xf32>, tensor<64xi8>) -> tensor<2x4xf32>
  return
}

// -----

func.func @sparse_matmul_blob(%x: tensor<2x8xf32>, %blob: tensor<64xf32>) {
  // expected-error@+1 {{packed_weight must be a 1-d i8 tensor}}
  %0 = sparq.sparse_matmul %x, %blob {encoding = #sparq.sparsity<unstructured, density = 0.25>, rows = 4 : i64, cols = 8 : i64}
      : (tensor<2x8xf32>, tensor<64xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @attention_heads(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x4x16xf32>) -> tensor<1x8x2x16xf32> {
  // expected-error@+1 {{query [B, S, H, D] and key [B, T, H, D] disagree: [1,8,2,16] and [1,8,4,16]}}
  %0 = sparq.attention %q, %k, %k {scale = 1.0 : f32} : (tensor<1x8x2x16xf32>, tensor<1x8x4x16xf32>, tensor<1x8x4x16xf32>) -> tensor<1x8x2x16xf32>
  return %0 : tensor<1x8x2x16xf32>
}

// -----

func.func @attention_mask(%q: tensor<1x8x2x16xf32>, %m: tensor<1x2x8x4xf32>) -> tensor<1x8x2x16xf32> {
  // expected-error@+1 {{add_mask must be rank 4 and broadcast to [1,2,8,8], got [1,2,8,4]}}
  %0 = sparq.attention %q, %q, %q add_mask %m {scale = 1.0 : f32} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x2x8x4xf32>) -> tensor<1x8x2x16xf32>
  return %0 : tensor<1x8x2x16xf32>
}
