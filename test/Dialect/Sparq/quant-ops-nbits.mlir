// RUN: sparq-opt %s -split-input-file -verify-diagnostics | sparq-opt -split-input-file | FileCheck %s

// sparq.matmul_nbits (com.microsoft MatMulNBits layout) and blocked, 4-bit
// and float8 forms of quantize_linear / dequantize_linear: round trips and
// the verifier's rejections.

// CHECK-LABEL: func.func @nbits
// CHECK: sparq.matmul_nbits %{{.+}}, %{{.+}}, %{{.+}} zero_points %{{.+}} bias %{{.+}} {bits = 4 : i64, block_size = 32 : i64, k = 80 : i64, n = 6 : i64} : (tensor<2x3x80xf32>, tensor<6x3x16xui8>, tensor<6x3xf32>, tensor<6x2xui8>, tensor<6xf32>) -> tensor<2x3x6xf32>
// CHECK: sparq.matmul_nbits %{{.+}}, %{{.+}}, %{{.+}} {bits = 4 : i64, block_size = 32 : i64, k = 80 : i64, n = 6 : i64} : (tensor<?x80xf32>, tensor<6x3x16xui8>, tensor<18xf32>) -> tensor<?x6xf32>
// CHECK: sparq.matmul_nbits %{{.+}}, %{{.+}}, %{{.+}} zero_points %{{.+}} {bits = 8 : i64, block_size = 128 : i64, k = 80 : i64, n = 6 : i64} : (tensor<4x80xf32>, tensor<6x1x128xui8>, tensor<6x1xf32>, tensor<6xui8>) -> tensor<4x6xf32>
func.func @nbits(%a: tensor<2x3x80xf32>, %b: tensor<6x3x16xui8>,
                 %s: tensor<6x3xf32>, %z: tensor<6x2xui8>, %bias: tensor<6xf32>,
                 %a2: tensor<?x80xf32>, %sflat: tensor<18xf32>,
                 %a8: tensor<4x80xf32>, %b8: tensor<6x1x128xui8>,
                 %s8: tensor<6x1xf32>, %z8: tensor<6xui8>) {
  %0 = sparq.matmul_nbits %a, %b, %s zero_points %z bias %bias {bits = 4 : i64, block_size = 32 : i64, k = 80 : i64, n = 6 : i64} : (tensor<2x3x80xf32>, tensor<6x3x16xui8>, tensor<6x3xf32>, tensor<6x2xui8>, tensor<6xf32>) -> tensor<2x3x6xf32>
  %1 = sparq.matmul_nbits %a2, %b, %sflat {bits = 4 : i64, block_size = 32 : i64, k = 80 : i64, n = 6 : i64} : (tensor<?x80xf32>, tensor<6x3x16xui8>, tensor<18xf32>) -> tensor<?x6xf32>
  %2 = sparq.matmul_nbits %a8, %b8, %s8 zero_points %z8 {bits = 8 : i64, block_size = 128 : i64, k = 80 : i64, n = 6 : i64} : (tensor<4x80xf32>, tensor<6x1x128xui8>, tensor<6x1xf32>, tensor<6xui8>) -> tensor<4x6xf32>
  return
}

// CHECK-LABEL: func.func @blocked
// CHECK: sparq.quantize_linear %{{.+}}, %{{.+}}, %{{.+}} {block_size = 2 : i64} : (tensor<3x5xf32>, tensor<3x3xf32>, tensor<3x3xi4>) -> tensor<3x5xi4>
// CHECK: sparq.dequantize_linear %{{.+}}, %{{.+}}, %{{.+}} {axis = 0 : i64, block_size = 2 : i64} : (tensor<3x5xui4>, tensor<2x5xf32>, tensor<2x5xui4>) -> tensor<3x5xf32>
// CHECK: sparq.dequantize_linear %{{.+}}, %{{.+}}, %{{.+}} : (tensor<3x5xf8E4M3FN>, tensor<f32>, tensor<f8E4M3FN>) -> tensor<3x5xf32>
// CHECK: sparq.quantize_linear %{{.+}}, %{{.+}}, %{{.+}} {saturate = false} : (tensor<3x5xf32>, tensor<f32>, tensor<f8E5M2>) -> tensor<3x5xf8E5M2>
func.func @blocked(%x: tensor<3x5xf32>, %s: tensor<3x3xf32>, %z: tensor<3x3xi4>,
                   %q: tensor<3x5xui4>, %s0: tensor<2x5xf32>, %z0: tensor<2x5xui4>,
                   %f8: tensor<3x5xf8E4M3FN>, %st: tensor<f32>,
                   %zf8: tensor<f8E4M3FN>, %ze5: tensor<f8E5M2>) {
  %0 = sparq.quantize_linear %x, %s, %z {axis = 1 : i64, block_size = 2 : i64} : (tensor<3x5xf32>, tensor<3x3xf32>, tensor<3x3xi4>) -> tensor<3x5xi4>
  %1 = sparq.dequantize_linear %q, %s0, %z0 {axis = 0 : i64, block_size = 2 : i64} : (tensor<3x5xui4>, tensor<2x5xf32>, tensor<2x5xui4>) -> tensor<3x5xf32>
  %2 = sparq.dequantize_linear %f8, %st, %zf8 : (tensor<3x5xf8E4M3FN>, tensor<f32>, tensor<f8E4M3FN>) -> tensor<3x5xf32>
  %3 = sparq.quantize_linear %x, %st, %ze5 {saturate = false} : (tensor<3x5xf32>, tensor<f32>, tensor<f8E5M2>) -> tensor<3x5xf8E5M2>
  return
}

// -----

func.func @nbits_bits(%a: tensor<4x80xf32>, %b: tensor<6x3x16xui8>, %s: tensor<6x3xf32>) {
  // expected-error@+2 {{bits must be 4 or 8, got 3}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.matmul_nbits %a, %b, %s {bits = 3 : i64, block_size = 32 : i64, k = 80 : i64, n = 6 : i64} : (tensor<4x80xf32>, tensor<6x3x16xui8>, tensor<6x3xf32>) -> tensor<4x6xf32>
  return
}

// -----

func.func @nbits_odd_block(%a: tensor<4x80xf32>, %b: tensor<6x3x16xui8>, %s: tensor<6x3xf32>) {
  // expected-error@+2 {{block_size must be a positive even number, got 33}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.matmul_nbits %a, %b, %s {bits = 4 : i64, block_size = 33 : i64, k = 80 : i64, n = 6 : i64} : (tensor<4x80xf32>, tensor<6x3x16xui8>, tensor<6x3xf32>) -> tensor<4x6xf32>
  return
}

// -----

func.func @nbits_b_shape(%a: tensor<4x80xf32>, %b: tensor<6x2x16xui8>, %s: tensor<6x3xf32>) {
  // expected-error@+2 {{b must be a ui8 tensor of shape [6,3,16] ([n, ceil(k / block_size), block_size * bits / 8]), got 'tensor<6x2x16xui8>'}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.matmul_nbits %a, %b, %s {bits = 4 : i64, block_size = 32 : i64, k = 80 : i64, n = 6 : i64} : (tensor<4x80xf32>, tensor<6x2x16xui8>, tensor<6x3xf32>) -> tensor<4x6xf32>
  return
}

// -----

func.func @nbits_k(%a: tensor<4x64xf32>, %b: tensor<6x3x16xui8>, %s: tensor<6x3xf32>) {
  // expected-error@+2 {{a must have shape [..., 80] (k = 80), got [4,64]}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.matmul_nbits %a, %b, %s {bits = 4 : i64, block_size = 32 : i64, k = 80 : i64, n = 6 : i64} : (tensor<4x64xf32>, tensor<6x3x16xui8>, tensor<6x3xf32>) -> tensor<4x6xf32>
  return
}

// -----

func.func @nbits_scales(%a: tensor<4x80xf32>, %b: tensor<6x3x16xui8>, %s: tensor<6x2xf32>) {
  // expected-error@+2 {{scales must be a 'f32' tensor of shape [6,3] or [18], got 'tensor<6x2xf32>'}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.matmul_nbits %a, %b, %s {bits = 4 : i64, block_size = 32 : i64, k = 80 : i64, n = 6 : i64} : (tensor<4x80xf32>, tensor<6x3x16xui8>, tensor<6x2xf32>) -> tensor<4x6xf32>
  return
}

// -----

func.func @nbits_zero_points(%a: tensor<4x80xf32>, %b: tensor<6x3x16xui8>, %s: tensor<6x3xf32>, %z: tensor<6x3xui8>) {
  // expected-error@+2 {{zero_points must be a 'ui8' tensor of shape [6,2] or [12], got 'tensor<6x3xui8>'}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.matmul_nbits %a, %b, %s zero_points %z {bits = 4 : i64, block_size = 32 : i64, k = 80 : i64, n = 6 : i64} : (tensor<4x80xf32>, tensor<6x3x16xui8>, tensor<6x3xf32>, tensor<6x3xui8>) -> tensor<4x6xf32>
  return
}

// -----

func.func @nbits_bias(%a: tensor<4x80xf32>, %b: tensor<6x3x16xui8>, %s: tensor<6x3xf32>, %bias: tensor<5xf32>) {
  // expected-error@+2 {{bias must be an f32 tensor of shape [6], got 'tensor<5xf32>'}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.matmul_nbits %a, %b, %s bias %bias {bits = 4 : i64, block_size = 32 : i64, k = 80 : i64, n = 6 : i64} : (tensor<4x80xf32>, tensor<6x3x16xui8>, tensor<6x3xf32>, tensor<5xf32>) -> tensor<4x6xf32>
  return
}

// -----

func.func @blocked_scale_shape(%x: tensor<3x5xf32>, %s: tensor<3x2xf32>, %z: tensor<3x2xi8>) {
  // expected-error@+2 {{blocked scale must have shape [3,3] (the input's, with ceil(d / 2) along axis 1), got [3,2]}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.quantize_linear %x, %s, %z {axis = 1 : i64, block_size = 2 : i64} : (tensor<3x5xf32>, tensor<3x2xf32>, tensor<3x2xi8>) -> tensor<3x5xi8>
  return
}

// -----

func.func @blocked_zero_point_shape(%x: tensor<3x5xi8>, %s: tensor<3x3xf32>, %z: tensor<3xi8>) {
  // expected-error@+2 {{blocked zero_point must have the scale's shape [3,3], got [3]}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.dequantize_linear %x, %s, %z {axis = 1 : i64, block_size = 2 : i64} : (tensor<3x5xi8>, tensor<3x3xf32>, tensor<3xi8>) -> tensor<3x5xf32>
  return
}

// -----

func.func @negative_block(%x: tensor<3x5xf32>, %s: tensor<f32>, %z: tensor<i8>) {
  // expected-error@+2 {{block_size must be non-negative, got -1}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.quantize_linear %x, %s, %z {block_size = -1 : i64} : (tensor<3x5xf32>, tensor<f32>, tensor<i8>) -> tensor<3x5xi8>
  return
}

// -----

func.func @dequantize_f16_input(%x: tensor<3xf16>, %s: tensor<f32>, %z: tensor<f16>) {
  // expected-error@+2 {{input must be a 2-, 4-, 8-, 16- or 32-bit integer or a float8/float4 tensor, got 'f16'}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.dequantize_linear %x, %s, %z : (tensor<3xf16>, tensor<f32>, tensor<f16>) -> tensor<3xf32>
  return
}
