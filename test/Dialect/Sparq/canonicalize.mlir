// RUN: sparq-opt %s --canonicalize | FileCheck %s
// Folders evaluate the shape arithmetic exporters emit, so Reshape targets
// become static.

// CHECK-LABEL: func @shape_chain
func.func @shape_chain(%x: tensor<2x3x4xf32>) -> tensor<2xi64> {
  // CHECK: %[[C:.+]] = sparq.constant dense<[2, 12]> : tensor<2xi64>
  // CHECK: return %[[C]]
  %s = sparq.shape %x : tensor<2x3x4xf32> -> tensor<3xi64>
  %i0 = sparq.constant dense<0> : tensor<1xi64>
  %d0 = sparq.gather %s, %i0 {axis = 0 : i64} : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %tail = sparq.slice %s {starts = array<i64: 1>, ends = array<i64: 3>, steps = array<i64: 1>} : tensor<3xi64> -> tensor<2xi64>
  %one = sparq.constant dense<1> : tensor<1xi64>
  %p1 = sparq.gather %tail, %one {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>) -> tensor<1xi64>
  %p0 = sparq.gather %tail, %i0 {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>) -> tensor<1xi64>
  %prod = sparq.mul %p0, %p1 : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %r = sparq.concat %d0, %prod {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  return %r : tensor<2xi64>
}

// CHECK-LABEL: func @identity_folds
func.func @identity_folds(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // CHECK-NOT: sparq.identity
  // CHECK-NOT: sparq.transpose
  // CHECK: return %arg0
  %0 = sparq.identity %x : tensor<2x3xf32> -> tensor<2x3xf32>
  %1 = sparq.transpose %0 {perm = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<2x3xf32>
  %2 = sparq.reshape %1 : tensor<2x3xf32> -> tensor<2x3xf32>
  return %2 : tensor<2x3xf32>
}

// CHECK-LABEL: func @compare_where
func.func @compare_where() -> tensor<3xi64> {
  // CHECK: sparq.constant dense<[5, 2, 5]> : tensor<3xi64>
  %a = sparq.constant dense<[1, 2, 3]> : tensor<3xi64>
  %b = sparq.constant dense<2> : tensor<i64>
  %c = sparq.equal %a, %b : (tensor<3xi64>, tensor<i64>) -> tensor<3xi1>
  %five = sparq.constant dense<5> : tensor<i64>
  %r = sparq.where %c, %a, %five : (tensor<3xi1>, tensor<3xi64>, tensor<i64>) -> tensor<3xi64>
  return %r : tensor<3xi64>
}

// CHECK-LABEL: func @cast_fold
func.func @cast_fold() -> tensor<2xf32> {
  // CHECK: sparq.constant dense<[3.000000e+00, -2.000000e+00]> : tensor<2xf32>
  %a = sparq.constant dense<[3, -2]> : tensor<2xi64>
  %b = sparq.cast %a {to = f32} : tensor<2xi64> -> tensor<2xf32>
  return %b : tensor<2xf32>
}

// CHECK-LABEL: func @int_division
func.func @int_division() -> tensor<2xi64> {
  // Integer division truncates toward zero.
  // CHECK: sparq.constant dense<[3, -3]> : tensor<2xi64>
  %a = sparq.constant dense<[7, -7]> : tensor<2xi64>
  %b = sparq.constant dense<2> : tensor<i64>
  %c = sparq.div %a, %b : (tensor<2xi64>, tensor<i64>) -> tensor<2xi64>
  return %c : tensor<2xi64>
}

// CHECK-LABEL: func @expand_fold
func.func @expand_fold() -> tensor<2x3xi64> {
  // CHECK: sparq.constant dense<{{\[}}[1, 2, 3], [1, 2, 3]]> : tensor<2x3xi64>
  %a = sparq.constant dense<[1, 2, 3]> : tensor<3xi64>
  %b = sparq.expand %a : tensor<3xi64> -> tensor<2x3xi64>
  return %b : tensor<2x3xi64>
}
