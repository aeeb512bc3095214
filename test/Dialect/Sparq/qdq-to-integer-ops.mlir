// RUN: sparq-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// The integer kernel ops formed by sparq-qdq-to-integer round-trip.
// CHECK-LABEL: func @roundtrip
// CHECK: sparq.qconv %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} scale %{{.+}} bias %{{.+}} {{{.*}}out_zero_point = 3 : i64{{.*}}qmin = 3 : i64
// CHECK: sparq.qmatmul %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} scale %{{.+}} bias_f32 %{{.+}} {activation = #sparq.activation<relu>, trans_b = true}
// CHECK: sparq.qmatmul %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} : {{.+}} -> tensor<2x3x5xi32>
func.func @roundtrip(%x: tensor<1x3x8x8xui8>, %w: tensor<4x3x3x3xi8>, %xz: tensor<ui8>, %wz: tensor<4xi8>,
                     %s: tensor<4xf32>, %b: tensor<4xi32>, %a: tensor<2x3x4xi8>, %bm: tensor<5x4xi8>,
                     %az: tensor<i8>, %bf: tensor<5xf32>, %s1: tensor<1xf32>, %bk: tensor<4x5xi8>) {
  %0 = sparq.qconv %x, %w, %xz, %wz scale %s bias %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, out_zero_point = 3 : i64, qmin = 3 : i64} : (tensor<1x3x8x8xui8>, tensor<4x3x3x3xi8>, tensor<ui8>, tensor<4xi8>, tensor<4xf32>, tensor<4xi32>) -> tensor<1x4x8x8xui8>
  %1 = sparq.qmatmul %a, %bm, %az, %az scale %s1 bias_f32 %bf {trans_b = true, activation = #sparq.activation<relu>} : (tensor<2x3x4xi8>, tensor<5x4xi8>, tensor<i8>, tensor<i8>, tensor<1xf32>, tensor<5xf32>) -> tensor<2x3x5xf32>
  %2 = sparq.qmatmul %a, %bk, %az, %az : (tensor<2x3x4xi8>, tensor<4x5xi8>, tensor<i8>, tensor<i8>) -> tensor<2x3x5xi32>
  return
}

// -----

func.func @wrong_shape(%x: tensor<1x3x8x8xui8>, %w: tensor<4x3x3x3xi8>, %xz: tensor<ui8>, %wz: tensor<i8>) {
  // expected-error @+1 {{result shape must be [1,4,8,8], got [1,4,6,6]}}
  %0 = sparq.qconv %x, %w, %xz, %wz {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xui8>, tensor<4x3x3x3xi8>, tensor<ui8>, tensor<i8>) -> tensor<1x4x6x6xi32>
  return
}

// -----

func.func @missing_scale(%a: tensor<3x4xi8>, %b: tensor<4x5xi8>, %z: tensor<i8>) {
  // expected-error @+1 {{a scale is required unless the result is i32}}
  %0 = sparq.qmatmul %a, %b, %z, %z : (tensor<3x4xi8>, tensor<4x5xi8>, tensor<i8>, tensor<i8>) -> tensor<3x5xi8>
  return
}

// -----

func.func @zero_point_type(%a: tensor<3x4xi8>, %b: tensor<4x5xi8>, %z: tensor<ui8>, %zb: tensor<i8>) {
  // expected-error @+1 {{input zero point must have the element type 'i8'}}
  %0 = sparq.qmatmul %a, %b, %z, %zb : (tensor<3x4xi8>, tensor<4x5xi8>, tensor<ui8>, tensor<i8>) -> tensor<3x5xi32>
  return
}

// -----

func.func @wide_operand(%a: tensor<3x4xi16>, %b: tensor<4x5xi8>, %z: tensor<i16>, %zb: tensor<i8>) {
  // expected-error @+1 {{input must be an 8-bit integer tensor, got 'i16'}}
  %0 = sparq.qmatmul %a, %b, %z, %zb : (tensor<3x4xi16>, tensor<4x5xi8>, tensor<i16>, tensor<i8>) -> tensor<3x5xi32>
  return
}

// -----

func.func @per_channel_size(%a: tensor<3x4xi8>, %b: tensor<4x5xi8>, %z: tensor<i8>, %zb: tensor<4xi8>) {
  // expected-error @+1 {{weight zero point must hold one or 5 elements}}
  %0 = sparq.qmatmul %a, %b, %z, %zb : (tensor<3x4xi8>, tensor<4x5xi8>, tensor<i8>, tensor<4xi8>) -> tensor<3x5xi32>
  return
}

// -----

func.func @clamp_range(%a: tensor<3x4xi8>, %b: tensor<4x5xi8>, %z: tensor<i8>, %s: tensor<1xf32>) {
  // expected-error @+1 {{[qmin, qmax] = [0, 200] must be a non-empty part of [-128, 127]}}
  %0 = sparq.qmatmul %a, %b, %z, %z scale %s {qmin = 0 : i64, qmax = 200 : i64} : (tensor<3x4xi8>, tensor<4x5xi8>, tensor<i8>, tensor<i8>, tensor<1xf32>) -> tensor<3x5xi8>
  return
}

// -----

func.func @activation_on_integer(%a: tensor<3x4xi8>, %b: tensor<4x5xi8>, %z: tensor<i8>, %s: tensor<1xf32>) {
  // expected-error @+1 {{an activation needs an f32 result}}
  %0 = sparq.qmatmul %a, %b, %z, %z scale %s {activation = #sparq.activation<relu>} : (tensor<3x4xi8>, tensor<4x5xi8>, tensor<i8>, tensor<i8>, tensor<1xf32>) -> tensor<3x5xi8>
  return
}
