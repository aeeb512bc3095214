// RUN: sparq-opt %s | sparq-opt | FileCheck %s

// CHECK-LABEL: func @elementwise
func.func @elementwise(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xi1> {
  // CHECK: %[[ADD:.+]] = sparq.add %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %0 = sparq.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: sparq.relu %[[ADD]] : tensor<2x3xf32> -> tensor<2x3xf32>
  %1 = sparq.relu %0 : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: sparq.leaky_relu %{{.*}} {alpha = 2.000000e-01 : f32}
  %2 = sparq.leaky_relu %1 {alpha = 0.2 : f32} : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: sparq.less {{.*}} -> tensor<2x3xi1>
  %3 = sparq.less %2, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  return %3 : tensor<2x3xi1>
}

// CHECK-LABEL: func @contractions
func.func @contractions(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>,
                        %m: tensor<2x5x16xf32>, %n: tensor<16x8xf32>) -> (tensor<1x4x8x8xf32>, tensor<2x5x8xf32>) {
  // CHECK: sparq.conv {{.*}} {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
  %0 = sparq.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>}
      : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  // CHECK: sparq.matmul {{.*}} -> tensor<2x5x8xf32>
  %1 = sparq.matmul %m, %n : (tensor<2x5x16xf32>, tensor<16x8xf32>) -> tensor<2x5x8xf32>
  return %0, %1 : tensor<1x4x8x8xf32>, tensor<2x5x8xf32>
}

// CHECK-LABEL: func @kernels
func.func @kernels(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x1x1xf32>, %b: tensor<4xf32>,
                   %r: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // CHECK: sparq.fused_conv %{{.*}}, %{{.*}} bias %{{.*}} residual %{{.*}} {activation = #sparq.activation<relu>
  %0 = sparq.fused_conv %x, %w bias %b residual %r {activation = #sparq.activation<relu>,
         strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>}
      : (tensor<1x3x8x8xf32>, tensor<4x3x1x1xf32>, tensor<4xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// CHECK-LABEL: func @data_movement
func.func @data_movement(%x: tensor<2x3x4xf32>, %i: tensor<5xi64>) -> (tensor<4x2x3xf32>, tensor<6x4xf32>, tensor<2x5x4xf32>, tensor<1x3x2xf32>) {
  // CHECK: sparq.transpose %{{.*}} {perm = array<i64: 2, 0, 1>}
  %0 = sparq.transpose %x {perm = array<i64: 2, 0, 1>} : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
  // CHECK: sparq.reshape %{{.*}} : tensor<2x3x4xf32> -> tensor<6x4xf32>
  %1 = sparq.reshape %x : tensor<2x3x4xf32> -> tensor<6x4xf32>
  // CHECK: sparq.gather {{.*}} {axis = 1 : i64}
  %2 = sparq.gather %x, %i {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<5xi64>) -> tensor<2x5x4xf32>
  // CHECK: sparq.slice
  %3 = sparq.slice %x {starts = array<i64: 1, 0, 3>, ends = array<i64: 2, 3, 0>, steps = array<i64: 1, 1, -2>} : tensor<2x3x4xf32> -> tensor<1x3x2xf32>
  return %0, %1, %2, %3 : tensor<4x2x3xf32>, tensor<6x4xf32>, tensor<2x5x4xf32>, tensor<1x3x2xf32>
}
