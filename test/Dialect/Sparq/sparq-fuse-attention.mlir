// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-fuse-attention))' -split-input-file | FileCheck %s

// The BERT form (torch export): head transposes, q x k^T, / sqrt(d), an
// additive [B,1,1,T] mask, softmax, x v, head merge -> one sparq.attention
// on the projections, scale 1/8.
// CHECK-LABEL: func @bert_attention
// CHECK-SAME: (%[[Q:.+]]: tensor<1x16x2x8xf32>, %[[K:.+]]: tensor<1x16x2x8xf32>, %[[V:.+]]: tensor<1x16x2x8xf32>, %[[M:.+]]: tensor<1x1x1x16xf32>)
// CHECK-NEXT: %[[A:.+]] = sparq.attention %[[Q]], %[[K]], %[[V]] add_mask %[[M]] {scale = 0.353553385 : f32}
// CHECK-NEXT: return %[[A]]
func.func @bert_attention(%q: tensor<1x16x2x8xf32>, %k: tensor<1x16x2x8xf32>, %v: tensor<1x16x2x8xf32>, %mask: tensor<1x1x1x16xf32>) -> tensor<1x16x2x8xf32> {
  %c = sparq.constant dense<2.828427> : tensor<f32>
  %qt = sparq.transpose %q {perm = array<i64: 0, 2, 1, 3>} : tensor<1x16x2x8xf32> -> tensor<1x2x16x8xf32>
  %kt = sparq.transpose %k {perm = array<i64: 0, 2, 3, 1>} : tensor<1x16x2x8xf32> -> tensor<1x2x8x16xf32>
  %vt = sparq.transpose %v {perm = array<i64: 0, 2, 1, 3>} : tensor<1x16x2x8xf32> -> tensor<1x2x16x8xf32>
  %s = sparq.fused_matmul %qt, %kt : (tensor<1x2x16x8xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x16x16xf32>
  %sd = sparq.div %s, %c : (tensor<1x2x16x16xf32>, tensor<f32>) -> tensor<1x2x16x16xf32>
  %sm = sparq.add %sd, %mask : (tensor<1x2x16x16xf32>, tensor<1x1x1x16xf32>) -> tensor<1x2x16x16xf32>
  %p = sparq.softmax %sm {axis = 3 : i64} : tensor<1x2x16x16xf32> -> tensor<1x2x16x16xf32>
  %o = sparq.fused_matmul %p, %vt : (tensor<1x2x16x16xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  %r = sparq.transpose %o {perm = array<i64: 0, 2, 1, 3>} : tensor<1x2x16x8xf32> -> tensor<1x16x2x8xf32>
  return %r : tensor<1x16x2x8xf32>
}

// -----

// The GPT-2 form: * scale, then where(causal, -1e4, scores); k through a
// trans_b matmul.
// CHECK-LABEL: func @gpt_attention
// CHECK: sparq.attention %{{.+}}, %{{.+}}, %{{.+}} fill_mask %{{.+}} {fill = -1.000000e+04 : f32, scale = 1.250000e-01 : f32}
// CHECK-NOT: sparq.softmax
func.func @gpt_attention(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x4x16xf32>, %v: tensor<2x8x4x16xf32>, %causal: tensor<1x1x8x8xi1>) -> tensor<2x8x4x16xf32> {
  %c = sparq.constant dense<0.125> : tensor<f32>
  %f = sparq.constant dense<-1.0e4> : tensor<f32>
  %qt = sparq.transpose %q {perm = array<i64: 0, 2, 1, 3>} : tensor<2x8x4x16xf32> -> tensor<2x4x8x16xf32>
  %kt = sparq.transpose %k {perm = array<i64: 0, 2, 1, 3>} : tensor<2x8x4x16xf32> -> tensor<2x4x8x16xf32>
  %vt = sparq.transpose %v {perm = array<i64: 0, 2, 1, 3>} : tensor<2x8x4x16xf32> -> tensor<2x4x8x16xf32>
  %s = sparq.fused_matmul %qt, %kt {trans_b = true} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x8xf32>
  %ss = sparq.mul %s, %c : (tensor<2x4x8x8xf32>, tensor<f32>) -> tensor<2x4x8x8xf32>
  %sw = sparq.where %causal, %f, %ss : (tensor<1x1x8x8xi1>, tensor<f32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %p = sparq.softmax %sw {axis = -1 : i64} : tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %o = sparq.fused_matmul %p, %vt : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  %r = sparq.transpose %o {perm = array<i64: 0, 2, 1, 3>} : tensor<2x4x8x16xf32> -> tensor<2x8x4x16xf32>
  return %r : tensor<2x8x4x16xf32>
}

// -----

// Negative: the scores are also returned, so the chain stays.
// CHECK-LABEL: func @scores_escape
// CHECK-NOT: sparq.attention
// CHECK: sparq.softmax
func.func @scores_escape(%q: tensor<1x4x2x8xf32>, %k: tensor<1x4x2x8xf32>, %v: tensor<1x4x2x8xf32>) -> (tensor<1x4x2x8xf32>, tensor<1x2x4x4xf32>) {
  %qt = sparq.transpose %q {perm = array<i64: 0, 2, 1, 3>} : tensor<1x4x2x8xf32> -> tensor<1x2x4x8xf32>
  %kt = sparq.transpose %k {perm = array<i64: 0, 2, 3, 1>} : tensor<1x4x2x8xf32> -> tensor<1x2x8x4xf32>
  %vt = sparq.transpose %v {perm = array<i64: 0, 2, 1, 3>} : tensor<1x4x2x8xf32> -> tensor<1x2x4x8xf32>
  %s = sparq.fused_matmul %qt, %kt : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %p = sparq.softmax %s {axis = 3 : i64} : tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  %o = sparq.fused_matmul %p, %vt : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %r = sparq.transpose %o {perm = array<i64: 0, 2, 1, 3>} : tensor<1x2x4x8xf32> -> tensor<1x4x2x8xf32>
  return %r, %p : tensor<1x4x2x8xf32>, tensor<1x2x4x4xf32>
}

// -----

// Negative: softmax over the queries (axis 2) is not attention.
// CHECK-LABEL: func @softmax_wrong_axis
// CHECK-NOT: sparq.attention
func.func @softmax_wrong_axis(%q: tensor<1x4x2x8xf32>, %k: tensor<1x4x2x8xf32>, %v: tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32> {
  %qt = sparq.transpose %q {perm = array<i64: 0, 2, 1, 3>} : tensor<1x4x2x8xf32> -> tensor<1x2x4x8xf32>
  %kt = sparq.transpose %k {perm = array<i64: 0, 2, 3, 1>} : tensor<1x4x2x8xf32> -> tensor<1x2x8x4xf32>
  %vt = sparq.transpose %v {perm = array<i64: 0, 2, 1, 3>} : tensor<1x4x2x8xf32> -> tensor<1x2x4x8xf32>
  %s = sparq.fused_matmul %qt, %kt : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %p = sparq.softmax %s {axis = 2 : i64} : tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  %o = sparq.fused_matmul %p, %vt : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %r = sparq.transpose %o {perm = array<i64: 0, 2, 1, 3>} : tensor<1x2x4x8xf32> -> tensor<1x4x2x8xf32>
  return %r : tensor<1x4x2x8xf32>
}

// -----

// Negative: a scale that is not a constant.
// CHECK-LABEL: func @runtime_scale
// CHECK-NOT: sparq.attention
func.func @runtime_scale(%q: tensor<1x4x2x8xf32>, %k: tensor<1x4x2x8xf32>, %v: tensor<1x4x2x8xf32>, %c: tensor<f32>) -> tensor<1x4x2x8xf32> {
  %qt = sparq.transpose %q {perm = array<i64: 0, 2, 1, 3>} : tensor<1x4x2x8xf32> -> tensor<1x2x4x8xf32>
  %kt = sparq.transpose %k {perm = array<i64: 0, 2, 3, 1>} : tensor<1x4x2x8xf32> -> tensor<1x2x8x4xf32>
  %vt = sparq.transpose %v {perm = array<i64: 0, 2, 1, 3>} : tensor<1x4x2x8xf32> -> tensor<1x2x4x8xf32>
  %s = sparq.fused_matmul %qt, %kt : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %sd = sparq.div %s, %c : (tensor<1x2x4x4xf32>, tensor<f32>) -> tensor<1x2x4x4xf32>
  %p = sparq.softmax %sd {axis = 3 : i64} : tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  %o = sparq.fused_matmul %p, %vt : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %r = sparq.transpose %o {perm = array<i64: 0, 2, 1, 3>} : tensor<1x2x4x8xf32> -> tensor<1x4x2x8xf32>
  return %r : tensor<1x4x2x8xf32>
}
