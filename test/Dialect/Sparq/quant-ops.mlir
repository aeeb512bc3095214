// RUN: sparq-opt %s -split-input-file -verify-diagnostics | sparq-opt -split-input-file | FileCheck %s

// The quantization ops: round trips of the supported forms (per-tensor,
// per-axis, mixed signedness) and the verifier's rejections.

// CHECK-LABEL: func.func @quantize
// CHECK: sparq.quantize_linear %{{.+}}, %{{.+}}, %{{.+}} : (tensor<2x3xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x3xui8>
// CHECK: sparq.quantize_linear %{{.+}}, %{{.+}}, %{{.+}} {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x3xi8>
// CHECK: sparq.dequantize_linear %{{.+}}, %{{.+}}, %{{.+}} : (tensor<2x3xui8>, tensor<1xf32>, tensor<1xui8>) -> tensor<2x3xf32>
// CHECK: sparq.dequantize_linear %{{.+}}, %{{.+}}, %{{.+}} : (tensor<2x3xi32>, tensor<3xf32>, tensor<3xi32>) -> tensor<2x3xf32>
func.func @quantize(%x: tensor<2x3xf32>, %s: tensor<f32>, %z: tensor<ui8>,
                    %sa: tensor<2xf32>, %za: tensor<2xi8>, %s1: tensor<1xf32>,
                    %z1: tensor<1xui8>, %i: tensor<2x3xi32>, %s3: tensor<3xf32>,
                    %z3: tensor<3xi32>) {
  %0 = sparq.quantize_linear %x, %s, %z : (tensor<2x3xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x3xui8>
  %1 = sparq.quantize_linear %x, %sa, %za {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x3xi8>
  %2 = sparq.dequantize_linear %0, %s1, %z1 : (tensor<2x3xui8>, tensor<1xf32>, tensor<1xui8>) -> tensor<2x3xf32>
  %3 = sparq.dequantize_linear %i, %s3, %z3 : (tensor<2x3xi32>, tensor<3xf32>, tensor<3xi32>) -> tensor<2x3xf32>
  return
}

// CHECK-LABEL: func.func @dynamic
// CHECK: %{{.+}}, %{{.+}}, %{{.+}} = sparq.dynamic_quantize_linear %{{.+}} : (tensor<4x5xf32>) -> (tensor<4x5xui8>, tensor<f32>, tensor<ui8>)
func.func @dynamic(%x: tensor<4x5xf32>) {
  %0:3 = sparq.dynamic_quantize_linear %x : (tensor<4x5xf32>) -> (tensor<4x5xui8>, tensor<f32>, tensor<ui8>)
  return
}

// CHECK-LABEL: func.func @integer_contractions
// CHECK: sparq.matmul_integer {{.+}} -> tensor<2x4x5xi32>
// CHECK: sparq.conv_integer {{.+}} {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : {{.+}} -> tensor<1x2x3x3xi32>
func.func @integer_contractions(%a: tensor<2x4x3xui8>, %b: tensor<3x5xi8>,
                                %za: tensor<ui8>, %zb: tensor<5xi8>,
                                %x: tensor<1x1x3x3xui8>, %w: tensor<2x1x3x3xi8>,
                                %zw: tensor<2xi8>) {
  %0 = sparq.matmul_integer %a, %b, %za, %zb : (tensor<2x4x3xui8>, tensor<3x5xi8>, tensor<ui8>, tensor<5xi8>) -> tensor<2x4x5xi32>
  %1 = sparq.conv_integer %x, %w, %za, %zw {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x1x3x3xui8>, tensor<2x1x3x3xi8>, tensor<ui8>, tensor<2xi8>) -> tensor<1x2x3x3xi32>
  return
}

// CHECK-LABEL: func.func @qlinear
// CHECK: sparq.qlinear_matmul {{.+}} -> tensor<4x5xi8>
// CHECK: sparq.qlinear_conv {{.+}} bias %{{.+}} {dilations
// CHECK-SAME: -> tensor<1x2x1x1xui8>
func.func @qlinear(%a: tensor<4x3xui8>, %b: tensor<3x5xi8>, %s: tensor<f32>,
                   %za: tensor<ui8>, %sb: tensor<5xf32>, %zb: tensor<5xi8>,
                   %zy: tensor<i8>, %x: tensor<1x1x3x3xui8>,
                   %w: tensor<2x1x3x3xi8>, %zyu: tensor<ui8>,
                   %bias: tensor<2xi32>) {
  %0 = sparq.qlinear_matmul %a, %s, %za, %b, %sb, %zb, %s, %zy : (tensor<4x3xui8>, tensor<f32>, tensor<ui8>, tensor<3x5xi8>, tensor<5xf32>, tensor<5xi8>, tensor<f32>, tensor<i8>) -> tensor<4x5xi8>
  %1 = sparq.qlinear_conv %x, %s, %za, %w, %s, %zy, %s, %zyu bias %bias {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x3x3xui8>, tensor<f32>, tensor<ui8>, tensor<2x1x3x3xi8>, tensor<f32>, tensor<i8>, tensor<f32>, tensor<ui8>, tensor<2xi32>) -> tensor<1x2x1x1xui8>
  return
}

// -----

func.func @quantize_axis_size(%x: tensor<2x3xf32>, %s: tensor<4xf32>, %z: tensor<4xi8>) {
  // expected-error@+2 {{scale must hold one element or have shape [3] (one per element along the axis), got [4]}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.quantize_linear %x, %s, %z : (tensor<2x3xf32>, tensor<4xf32>, tensor<4xi8>) -> tensor<2x3xi8>
  return
}

// -----

func.func @quantize_axis_range(%x: tensor<2x3xf32>, %s: tensor<3xf32>, %z: tensor<3xi8>) {
  // expected-error@+2 {{axis 2 is out of range for a rank-2 input}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.quantize_linear %x, %s, %z {axis = 2 : i64} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xi8>) -> tensor<2x3xi8>
  return
}

// -----

func.func @quantize_int_input(%x: tensor<3xi32>, %s: tensor<f32>, %z: tensor<i8>) {
  // expected-error@+2 {{input must be a float tensor}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.quantize_linear %x, %s, %z : (tensor<3xi32>, tensor<f32>, tensor<i8>) -> tensor<3xi8>
  return
}

// -----

func.func @quantize_float_zero_point(%x: tensor<3xf32>, %s: tensor<f32>, %z: tensor<f32>) {
  // expected-error@+2 {{zero_point must be an integer tensor of 2, 4, 8 or 16 bits or a float8/float4 (f8E4M3FN, f8E5M2, f4E2M1FN) tensor, got 'f32'}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.quantize_linear %x, %s, %z : (tensor<3xf32>, tensor<f32>, tensor<f32>) -> tensor<3xf32>
  return
}

// -----

func.func @dequantize_zero_point_type(%x: tensor<3xi8>, %s: tensor<f32>, %z: tensor<ui8>) {
  // expected-error@+2 {{input_zero_point must have the element type 'i8' of input}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.dequantize_linear %x, %s, %z : (tensor<3xi8>, tensor<f32>, tensor<ui8>) -> tensor<3xf32>
  return
}

// -----

func.func @dynamic_f64(%x: tensor<3xf64>) {
  // expected-error@+2 {{input must be an f32 tensor}}
  // expected-error@+1 {{failed to infer returned types}}
  %0:3 = sparq.dynamic_quantize_linear %x : (tensor<3xf64>) -> (tensor<3xui8>, tensor<f64>, tensor<ui8>)
  return
}

// -----

func.func @matmul_integer_row_zero_point(%a: tensor<4x3xui8>, %b: tensor<3x5xi8>, %za: tensor<4xui8>, %zb: tensor<i8>) {
  // expected-error@+2 {{lhs_zero_point must hold one element, got shape [4]}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.matmul_integer %a, %b, %za, %zb : (tensor<4x3xui8>, tensor<3x5xi8>, tensor<4xui8>, tensor<i8>) -> tensor<4x5xi32>
  return
}

// -----

func.func @matmul_integer_wide(%a: tensor<4x3xi16>, %b: tensor<3x5xi8>, %za: tensor<i16>, %zb: tensor<i8>) {
  // expected-error@+2 {{lhs must be an 8-bit integer tensor, got 'i16'}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.matmul_integer %a, %b, %za, %zb : (tensor<4x3xi16>, tensor<3x5xi8>, tensor<i16>, tensor<i8>) -> tensor<4x5xi32>
  return
}

// -----

func.func @conv_integer_channels(%x: tensor<1x1x3x3xui8>, %w: tensor<2x1x3x3xi8>, %zx: tensor<ui8>, %zw: tensor<3xi8>) {
  // expected-error@+2 {{weight_zero_point must hold one element or have shape [2] (one per output channel), got [3]}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.conv_integer %x, %w, %zx, %zw {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x3x3xui8>, tensor<2x1x3x3xi8>, tensor<ui8>, tensor<3xi8>) -> tensor<1x2x1x1xi32>
  return
}

// -----

func.func @qlinear_matmul_result_axis(%a: tensor<4x3xui8>, %b: tensor<3x5xui8>, %s: tensor<f32>, %z: tensor<ui8>, %sy: tensor<5xf32>, %zy: tensor<5xui8>) {
  // expected-error@+2 {{result_scale must hold one element, got shape [5]}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.qlinear_matmul %a, %s, %z, %b, %s, %z, %sy, %zy : (tensor<4x3xui8>, tensor<f32>, tensor<ui8>, tensor<3x5xui8>, tensor<f32>, tensor<ui8>, tensor<5xf32>, tensor<5xui8>) -> tensor<4x5xui8>
  return
}

// -----

func.func @qlinear_conv_bias_type(%x: tensor<1x1x3x3xui8>, %w: tensor<2x1x3x3xui8>, %s: tensor<f32>, %z: tensor<ui8>, %bias: tensor<2xf32>) {
  // expected-error@+2 {{bias must be an i32 tensor}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = sparq.qlinear_conv %x, %s, %z, %w, %s, %z, %s, %z bias %bias {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x3x3xui8>, tensor<f32>, tensor<ui8>, tensor<2x1x3x3xui8>, tensor<f32>, tensor<ui8>, tensor<f32>, tensor<ui8>, tensor<2xf32>) -> tensor<1x2x1x1xui8>
  return
}

// -----

// CHECK-LABEL: func.func @qadd
// CHECK: sparq.qadd %{{.+}}, %{{.+}} {lhs_scale = 5.000000e-01 : f32, lhs_zero_point = 3 : i64, out_scale = 2.500000e-01 : f32, out_zero_point = 0 : i64, qmin = 0 : i64, rhs_scale = 1.000000e+00 : f32, rhs_zero_point = 7 : i64} : (tensor<2x3xui8>, tensor<2x3xui8>) -> tensor<2x3xui8>
func.func @qadd(%a: tensor<2x3xui8>, %b: tensor<2x3xui8>) -> tensor<2x3xui8> {
  %0 = sparq.qadd %a, %b {lhs_scale = 0.5 : f32, lhs_zero_point = 3 : i64, rhs_scale = 1.0 : f32, rhs_zero_point = 7 : i64, out_scale = 0.25 : f32, out_zero_point = 0 : i64, qmin = 0 : i64} : (tensor<2x3xui8>, tensor<2x3xui8>) -> tensor<2x3xui8>
  return %0 : tensor<2x3xui8>
}

// -----

func.func @qadd_shape(%a: tensor<2x3xui8>, %b: tensor<3xui8>) -> tensor<2x3xui8> {
  // expected-error@+1 {{lhs, rhs and result must have one static shape, got [2,3], [3] and [2,3]}}
  %0 = sparq.qadd %a, %b {lhs_scale = 0.5 : f32, lhs_zero_point = 3 : i64, rhs_scale = 1.0 : f32, rhs_zero_point = 7 : i64, out_scale = 0.25 : f32, out_zero_point = 0 : i64} : (tensor<2x3xui8>, tensor<3xui8>) -> tensor<2x3xui8>
  return %0 : tensor<2x3xui8>
}

// -----

func.func @qadd_types(%a: tensor<4xui8>, %b: tensor<4xi8>) -> tensor<4xui8> {
  // expected-error@+1 {{lhs, rhs and result must share one 8-bit element type}}
  %0 = sparq.qadd %a, %b {lhs_scale = 0.5 : f32, lhs_zero_point = 3 : i64, rhs_scale = 1.0 : f32, rhs_zero_point = 7 : i64, out_scale = 0.25 : f32, out_zero_point = 0 : i64} : (tensor<4xui8>, tensor<4xi8>) -> tensor<4xui8>
  return %0 : tensor<4xui8>
}

// -----

func.func @qadd_scale(%a: tensor<4xi8>, %b: tensor<4xi8>) -> tensor<4xi8> {
  // expected-error@+1 {{scales must be positive and finite}}
  %0 = sparq.qadd %a, %b {lhs_scale = 0.0 : f32, lhs_zero_point = 3 : i64, rhs_scale = 1.0 : f32, rhs_zero_point = 7 : i64, out_scale = 0.25 : f32, out_zero_point = 0 : i64} : (tensor<4xi8>, tensor<4xi8>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

func.func @qadd_zero_point(%a: tensor<4xi8>, %b: tensor<4xi8>) -> tensor<4xi8> {
  // expected-error@+1 {{zero points must lie in the element type's range}}
  %0 = sparq.qadd %a, %b {lhs_scale = 0.5 : f32, lhs_zero_point = 200 : i64, rhs_scale = 1.0 : f32, rhs_zero_point = 7 : i64, out_scale = 0.25 : f32, out_zero_point = 0 : i64} : (tensor<4xi8>, tensor<4xi8>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

func.func @qadd_clamp(%a: tensor<4xui8>, %b: tensor<4xui8>) -> tensor<4xui8> {
  // expected-error@+1 {{[qmin, qmax] = [10, 5] must be a non-empty part of [0, 255]}}
  %0 = sparq.qadd %a, %b {lhs_scale = 0.5 : f32, lhs_zero_point = 3 : i64, rhs_scale = 1.0 : f32, rhs_zero_point = 7 : i64, out_scale = 0.25 : f32, out_zero_point = 0 : i64, qmin = 10 : i64, qmax = 5 : i64} : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  return %0 : tensor<4xui8>
}
