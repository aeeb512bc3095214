// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-qdq-to-integer))' | FileCheck %s

// quantize(add(dequantize(a), dequantize(b))) with per-tensor constant
// parameters (a QDQ ResNet's skip connection) becomes one sparq.qadd on the
// 8-bit values, its parameters copied from the three quantize ops.
// CHECK-LABEL: func @residual_add
// CHECK-SAME: (%[[A:.+]]: tensor<1x4x3x3xui8>, %[[B:.+]]: tensor<1x4x3x3xui8>)
// CHECK-NOT: sparq.dequantize_linear
// CHECK: %[[R:.+]] = sparq.qadd %[[A]], %[[B]] {
// CHECK-SAME: lhs_scale = 5.000000e-01 : f32, lhs_zero_point = 3 : i64
// CHECK-SAME: out_scale = 7.500000e-01 : f32, out_zero_point = 10 : i64
// CHECK-SAME: qmax = 255 : i64, qmin = 0 : i64
// CHECK-SAME: rhs_scale = 2.500000e-01 : f32, rhs_zero_point = 0 : i64
// CHECK-SAME: sparq.quantized = "u8 add"
// CHECK-NEXT: return %[[R]]
func.func @residual_add(%a: tensor<1x4x3x3xui8>, %b: tensor<1x4x3x3xui8>) -> tensor<1x4x3x3xui8> {
  %sa = sparq.constant dense<0.5> : tensor<f32>
  %za = sparq.constant dense<3> : tensor<ui8>
  %sb = sparq.constant dense<0.25> : tensor<f32>
  %zb = sparq.constant dense<0> : tensor<ui8>
  %sy = sparq.constant dense<0.75> : tensor<f32>
  %zy = sparq.constant dense<10> : tensor<ui8>
  %da = sparq.dequantize_linear %a, %sa, %za : (tensor<1x4x3x3xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x4x3x3xf32>
  %db = sparq.dequantize_linear %b, %sb, %zb : (tensor<1x4x3x3xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x4x3x3xf32>
  %s = sparq.add %da, %db : (tensor<1x4x3x3xf32>, tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xf32>
  %q = sparq.quantize_linear %s, %sy, %zy : (tensor<1x4x3x3xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x4x3x3xui8>
  return %q : tensor<1x4x3x3xui8>
}

// A Relu before the quantize narrows qmin to the zero point; a Clip to the
// quantized bounds (rne(-1 / 0.5) + 0 = -2, rne(3 / 0.5) = 6). s8 values.
// CHECK-LABEL: func @add_relu_s8
// CHECK: sparq.qadd
// CHECK-SAME: qmax = 127 : i64, qmin = 5 : i64
// CHECK-SAME: sparq.quantized = "s8 add +relu"
// CHECK-LABEL: func @add_clip_s8
// CHECK: sparq.qadd
// CHECK-SAME: qmax = 6 : i64, qmin = -2 : i64
// CHECK-SAME: sparq.quantized = "s8 add +clip"
func.func @add_relu_s8(%a: tensor<8xi8>, %b: tensor<8xi8>) -> tensor<8xi8> {
  %s = sparq.constant dense<0.5> : tensor<f32>
  %z = sparq.constant dense<5> : tensor<i8>
  %da = sparq.dequantize_linear %a, %s, %z : (tensor<8xi8>, tensor<f32>, tensor<i8>) -> tensor<8xf32>
  %db = sparq.dequantize_linear %b, %s, %z : (tensor<8xi8>, tensor<f32>, tensor<i8>) -> tensor<8xf32>
  %sum = sparq.add %da, %db : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %r = sparq.relu %sum : tensor<8xf32> -> tensor<8xf32>
  %q = sparq.quantize_linear %r, %s, %z : (tensor<8xf32>, tensor<f32>, tensor<i8>) -> tensor<8xi8>
  return %q : tensor<8xi8>
}
func.func @add_clip_s8(%a: tensor<8xi8>, %b: tensor<8xi8>) -> tensor<8xi8> {
  %s = sparq.constant dense<0.5> : tensor<f32>
  %z = sparq.constant dense<0> : tensor<i8>
  %da = sparq.dequantize_linear %a, %s, %z : (tensor<8xi8>, tensor<f32>, tensor<i8>) -> tensor<8xf32>
  %db = sparq.dequantize_linear %b, %s, %z : (tensor<8xi8>, tensor<f32>, tensor<i8>) -> tensor<8xf32>
  %sum = sparq.add %da, %db : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %r = sparq.clip %sum {min = -1.0 : f64, max = 3.0 : f64} : tensor<8xf32> -> tensor<8xf32>
  %q = sparq.quantize_linear %r, %s, %z : (tensor<8xf32>, tensor<f32>, tensor<i8>) -> tensor<8xi8>
  return %q : tensor<8xi8>
}

// Negative cases: broadcasting, per-axis parameters, mixed storage types,
// and a float add whose result is used elsewhere stay as they are.
// CHECK-LABEL: func @add_broadcast
// CHECK-NOT: sparq.qadd
// CHECK: sparq.add
func.func @add_broadcast(%a: tensor<2x8xui8>, %b: tensor<8xui8>) -> tensor<2x8xui8> {
  %s = sparq.constant dense<0.5> : tensor<f32>
  %z = sparq.constant dense<3> : tensor<ui8>
  %da = sparq.dequantize_linear %a, %s, %z : (tensor<2x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<2x8xf32>
  %db = sparq.dequantize_linear %b, %s, %z : (tensor<8xui8>, tensor<f32>, tensor<ui8>) -> tensor<8xf32>
  %sum = sparq.add %da, %db : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %q = sparq.quantize_linear %sum, %s, %z : (tensor<2x8xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x8xui8>
  return %q : tensor<2x8xui8>
}
// CHECK-LABEL: func @add_per_axis
// CHECK-NOT: sparq.qadd
// CHECK: sparq.add
func.func @add_per_axis(%a: tensor<2x8xui8>, %b: tensor<2x8xui8>) -> tensor<2x8xui8> {
  %s = sparq.constant dense<0.5> : tensor<f32>
  %sv = sparq.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %z = sparq.constant dense<3> : tensor<ui8>
  %zv = sparq.constant dense<[3, 4]> : tensor<2xui8>
  %da = sparq.dequantize_linear %a, %sv, %zv {axis = 0 : i64} : (tensor<2x8xui8>, tensor<2xf32>, tensor<2xui8>) -> tensor<2x8xf32>
  %db = sparq.dequantize_linear %b, %s, %z : (tensor<2x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<2x8xf32>
  %sum = sparq.add %da, %db : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %q = sparq.quantize_linear %sum, %s, %z : (tensor<2x8xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x8xui8>
  return %q : tensor<2x8xui8>
}
// CHECK-LABEL: func @add_mixed_types
// CHECK-NOT: sparq.qadd
// CHECK: sparq.add
func.func @add_mixed_types(%a: tensor<8xui8>, %b: tensor<8xi8>) -> tensor<8xui8> {
  %s = sparq.constant dense<0.5> : tensor<f32>
  %z = sparq.constant dense<3> : tensor<ui8>
  %zs = sparq.constant dense<0> : tensor<i8>
  %da = sparq.dequantize_linear %a, %s, %z : (tensor<8xui8>, tensor<f32>, tensor<ui8>) -> tensor<8xf32>
  %db = sparq.dequantize_linear %b, %s, %zs : (tensor<8xi8>, tensor<f32>, tensor<i8>) -> tensor<8xf32>
  %sum = sparq.add %da, %db : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %q = sparq.quantize_linear %sum, %s, %z : (tensor<8xf32>, tensor<f32>, tensor<ui8>) -> tensor<8xui8>
  return %q : tensor<8xui8>
}
// CHECK-LABEL: func @add_used_twice
// CHECK-NOT: sparq.qadd
// CHECK: sparq.add
func.func @add_used_twice(%a: tensor<8xui8>, %b: tensor<8xui8>) -> (tensor<8xui8>, tensor<8xf32>) {
  %s = sparq.constant dense<0.5> : tensor<f32>
  %z = sparq.constant dense<3> : tensor<ui8>
  %da = sparq.dequantize_linear %a, %s, %z : (tensor<8xui8>, tensor<f32>, tensor<ui8>) -> tensor<8xf32>
  %db = sparq.dequantize_linear %b, %s, %z : (tensor<8xui8>, tensor<f32>, tensor<ui8>) -> tensor<8xf32>
  %sum = sparq.add %da, %db : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %q = sparq.quantize_linear %sum, %s, %z : (tensor<8xf32>, tensor<f32>, tensor<ui8>) -> tensor<8xui8>
  return %q, %sum : tensor<8xui8>, tensor<8xf32>
}
