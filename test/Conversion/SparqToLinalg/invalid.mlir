// RUN: sparq-opt %s --convert-sparq-to-linalg -split-input-file -verify-diagnostics

func.func @dynamic(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{dynamic dims are not supported by the CPU lowering}}
  %0 = sparq.relu %x : tensor<?x4xf32> -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

func.func @sqrt_int(%x: tensor<4xi32>) -> tensor<4xi32> {
  // expected-error @+1 {{expected a float element type, got 'i32'}}
  %0 = sparq.sqrt %x : tensor<4xi32> -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

func.func @softmax_int(%x: tensor<4xi32>) -> tensor<4xi32> {
  // expected-error @+1 {{expected a float element type, got 'i32'}}
  %0 = sparq.softmax %x {axis = 0 : i64} : tensor<4xi32> -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

func.func @reduce_bool(%x: tensor<4xi1>) -> tensor<1xi1> {
  // expected-error @+1 {{reductions over bool are not supported}}
  %0 = sparq.reduce_sum %x {axes = array<i64: 0>} : tensor<4xi1> -> tensor<1xi1>
  return %0 : tensor<1xi1>
}

// -----

func.func @fused_int_gelu(%a: tensor<2x2xi32>, %b: tensor<2x2xi32>) -> tensor<2x2xi32> {
  // expected-error @+1 {{fused activation is not supported on 'i32'}}
  %0 = sparq.fused_matmul %a, %b {activation = #sparq.activation<gelu>} : (tensor<2x2xi32>, tensor<2x2xi32>) -> tensor<2x2xi32>
  return %0 : tensor<2x2xi32>
}
