// RUN: sparq-opt %s --sparq-graph-pipeline | FileCheck %s
// Constant folding, batch-norm folding and epilogue fusion together: a
// conv + batch_norm + relu block becomes one kernel op, and the reshape
// target computed from the shape folds away.

// CHECK-LABEL: func @block
// CHECK: %[[K:.+]] = sparq.fused_conv %{{.*}}, %{{.*}} bias %{{.*}} {activation = #sparq.activation<relu>
// CHECK-NOT: sparq.batch_norm
// CHECK-NOT: sparq.shape
// CHECK: sparq.reshape %[[K]] : tensor<1x2x4x4xf32> -> tensor<1x32xf32>
func.func @block(%x: tensor<1x2x4x4xf32>) -> tensor<1x32xf32> {
  %w = sparq.constant dense<0.25> : tensor<2x2x3x3xf32>
  %g = sparq.constant dense<2.0> : tensor<2xf32>
  %b = sparq.constant dense<0.5> : tensor<2xf32>
  %m = sparq.constant dense<0.1> : tensor<2xf32>
  %v = sparq.constant dense<4.0> : tensor<2xf32>
  %0 = sparq.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>}
      : (tensor<1x2x4x4xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x4x4xf32>
  %1 = sparq.batch_norm %0, %g, %b, %m, %v : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %2 = sparq.relu %1 : tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  %3 = sparq.reshape %2 : tensor<1x2x4x4xf32> -> tensor<1x32xf32>
  return %3 : tensor<1x32xf32>
}
