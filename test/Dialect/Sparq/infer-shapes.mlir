// RUN: sparq-opt %s | FileCheck %s
// Result types are inferred by the ops, dynamic (symbolic) dims included;
// the custom assembly prints the verified result types.

// CHECK-LABEL: func @dynamic_batch
func.func @dynamic_batch(%x: tensor<?x3x224x224xf32>, %w: tensor<64x3x7x7xf32>,
                         %m: tensor<?x128x256xf32>, %n: tensor<256x64xf32>,
                         %b: tensor<1x1x64xf32>) -> (tensor<?x64x112x112xf32>, tensor<?x128x64xf32>, tensor<?x64x56x56xf32>) {
  // CHECK: -> tensor<?x64x112x112xf32>
  %0 = sparq.conv %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 3, 3, 3, 3>, dilations = array<i64: 1, 1>}
      : (tensor<?x3x224x224xf32>, tensor<64x3x7x7xf32>) -> tensor<?x64x112x112xf32>
  // CHECK: -> tensor<?x128x64xf32>
  %1 = sparq.matmul %m, %n : (tensor<?x128x256xf32>, tensor<256x64xf32>) -> tensor<?x128x64xf32>
  // CHECK: -> tensor<?x128x64xf32>
  %2 = sparq.add %1, %b : (tensor<?x128x64xf32>, tensor<1x1x64xf32>) -> tensor<?x128x64xf32>
  // CHECK: sparq.max_pool {{.*}} -> tensor<?x64x56x56xf32>
  %3 = sparq.max_pool %0 {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>}
      : tensor<?x64x112x112xf32> -> tensor<?x64x56x56xf32>
  return %0, %2, %3 : tensor<?x64x112x112xf32>, tensor<?x128x64xf32>, tensor<?x64x56x56xf32>
}

// CHECK-LABEL: func @ceil_mode
func.func @ceil_mode(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
  // floor((4 - 3) / 2) + 1 = 1; with ceil_mode 2.
  // CHECK: -> tensor<1x1x2x2xf32>
  %0 = sparq.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = true}
      : tensor<1x1x4x4xf32> -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// CHECK-LABEL: func @reductions
func.func @reductions(%x: tensor<?x5x7xf32>) -> (tensor<?x1x7xf32>, tensor<?xf32>, tensor<?x1x7xi64>) {
  // CHECK: sparq.reduce_mean {{.*}} -> tensor<?x1x7xf32>
  %0 = sparq.reduce_mean %x {axes = array<i64: 1>} : tensor<?x5x7xf32> -> tensor<?x1x7xf32>
  // CHECK: sparq.reduce_sum {{.*}} -> tensor<?xf32>
  %1 = sparq.reduce_sum %x {axes = array<i64: 1, 2>, keepdims = false} : tensor<?x5x7xf32> -> tensor<?xf32>
  // CHECK: sparq.arg_max {{.*}} -> tensor<?x1x7xi64>
  %2 = sparq.arg_max %x {axis = 1 : i64} : tensor<?x5x7xf32> -> tensor<?x1x7xi64>
  return %0, %1, %2 : tensor<?x1x7xf32>, tensor<?xf32>, tensor<?x1x7xi64>
}

// CHECK-LABEL: func @gemm_and_concat
func.func @gemm_and_concat(%a: tensor<4x8xf32>, %b: tensor<16x8xf32>, %c: tensor<16xf32>,
                           %p: tensor<?x2xf32>, %q: tensor<3x2xf32>) -> (tensor<4x16xf32>, tensor<?x2xf32>) {
  // CHECK: sparq.gemm {{.*}} -> tensor<4x16xf32>
  %0 = sparq.gemm %a, %b, %c {trans_b = true} : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  // CHECK: sparq.concat {{.*}} -> tensor<?x2xf32>
  %1 = sparq.concat %p, %q {axis = 0 : i64} : (tensor<?x2xf32>, tensor<3x2xf32>) -> tensor<?x2xf32>
  return %0, %1 : tensor<4x16xf32>, tensor<?x2xf32>
}
