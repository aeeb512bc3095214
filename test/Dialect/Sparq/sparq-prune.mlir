// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-prune{spec=nm:2:4 layers=keep.*=none,half=unstructured:0.5}))' | FileCheck %s
// RUN: not sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-prune{spec=nm:3:2}))' 2>&1 | FileCheck %s --check-prefix=BAD

// 2:4 keeps the two largest magnitudes of every 4 along K.
// CHECK-LABEL: func @nm
// CHECK: %[[W:.+]] = sparq.constant dense<{{\[}}[0.000000e+00, -4.000000e+00, 3.000000e+00, 0.000000e+00]]> : tensor<1x4xf32>
// CHECK: sparq.fused_matmul %{{.*}}, %[[W]] {sparq.pruned = "nm:2:4", trans_b = true}
func.func @nm(%x: tensor<2x4xf32>) -> tensor<2x1xf32> {
  %w = sparq.constant dense<[[1.0, -4.0, 3.0, 2.0]]> : tensor<1x4xf32>
  %0 = sparq.fused_matmul %x, %w {trans_b = true} : (tensor<2x4xf32>, tensor<1x4xf32>) -> tensor<2x1xf32> loc("fc")
  return %0 : tensor<2x1xf32>
}

// Per-layer overrides by ONNX node name: 'keep_me' stays dense, 'half'
// loses the smaller half of its weights.
// CHECK-LABEL: func @overrides
// CHECK: sparq.fused_matmul %{{.*}}, %{{.*}} {trans_b = true} :
// CHECK: %[[H:.+]] = sparq.constant dense<{{\[}}[0.000000e+00, 5.000000e+00, -6.000000e+00, 0.000000e+00]]>
// CHECK: sparq.fused_matmul %{{.*}}, %[[H]] {sparq.pruned = "unstructured:0.5", trans_b = true}
func.func @overrides(%x: tensor<2x4xf32>) -> (tensor<2x1xf32>, tensor<2x1xf32>) {
  %w = sparq.constant dense<[[1.0, -4.0, 3.0, 2.0]]> : tensor<1x4xf32>
  %0 = sparq.fused_matmul %x, %w {trans_b = true} : (tensor<2x4xf32>, tensor<1x4xf32>) -> tensor<2x1xf32> loc("keep_me")
  %v = sparq.constant dense<[[1.0, 5.0, -6.0, 2.0]]> : tensor<1x4xf32>
  %1 = sparq.fused_matmul %x, %v {trans_b = true} : (tensor<2x4xf32>, tensor<1x4xf32>) -> tensor<2x1xf32> loc("half")
  return %0, %1 : tensor<2x1xf32>, tensor<2x1xf32>
}

// BAD: sparq-prune: bad N:M in 'nm:3:2'
