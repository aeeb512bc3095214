// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-fuse-epilogues,sparq-qdq-to-integer))' | FileCheck %s

// Expected multipliers are x_scale * w_scale[n] / y_scale evaluated in f32
// (numpy.float32), e.g. (0.5 * 0.25) / 0.0625 = 2.0.

// QDQ Conv -> Relu -> Q -> DQ -> Conv -> Q (onnxruntime quantize_static,
// per-channel s8 weights, u8 activations): two 8-bit kernels, the second
// reading the first's u8 result directly.
// CHECK-LABEL: func @conv_chain
// CHECK-SAME: (%[[X:.+]]: tensor<1x3x8x8xf32>)
// CHECK-DAG: %[[M1:.+]] = sparq.constant dense<[2.000000e+00, 1.000000e+00]> : tensor<2xf32>
// CHECK-DAG: %[[M2:.+]] = sparq.constant dense<4.000000e+00> : tensor<1xf32>
// CHECK-DAG: %[[B1:.+]] = sparq.constant dense<[7, -9]> : tensor<2xi32>
// CHECK: %[[Q0:.+]] = sparq.quantize_linear %[[X]]
// CHECK: %[[K1:.+]] = sparq.qconv %[[Q0]], %{{.+}}, %{{.+}}, %{{.+}} scale %[[M1]] bias %[[B1]]
// CHECK-SAME: out_zero_point = 3 : i64
// CHECK-SAME: qmin = 3 : i64
// CHECK-SAME: sparq.quantized = "u8s8->u8 per-channel +relu"
// CHECK-SAME: -> tensor<1x2x8x8xui8>
// CHECK-NEXT: %[[K2:.+]] = sparq.qconv %[[K1]], %{{.+}}, %{{.+}}, %{{.+}} scale %[[M2]] {
// CHECK-SAME: out_zero_point = 128 : i64
// CHECK-SAME: sparq.quantized = "u8s8->u8 per-tensor"
// CHECK-SAME: -> tensor<1x2x8x8xui8>
// CHECK-NEXT: %[[D:.+]] = sparq.dequantize_linear %[[K2]]
// CHECK-NEXT: return %[[D]]
func.func @conv_chain(%x: tensor<1x3x8x8xf32>) -> tensor<1x2x8x8xf32> {
  %xs = sparq.constant dense<0.5> : tensor<f32>
  %xzp = sparq.constant dense<128> : tensor<ui8>
  %w1 = sparq.constant dense<3> : tensor<2x3x3x3xi8>
  %w1s = sparq.constant dense<[0.25, 0.125]> : tensor<2xf32>
  %wzp = sparq.constant dense<0> : tensor<2xi8>
  %b1 = sparq.constant dense<[7, -9]> : tensor<2xi32>
  %b1s = sparq.constant dense<[0.125, 0.0625]> : tensor<2xf32>
  %bzp = sparq.constant dense<0> : tensor<2xi32>
  %ys = sparq.constant dense<0.0625> : tensor<f32>
  %yzp = sparq.constant dense<3> : tensor<ui8>
  %w2 = sparq.constant dense<-2> : tensor<2x2x3x3xi8>
  %w2s = sparq.constant dense<0.5> : tensor<f32>
  %w2zp = sparq.constant dense<0> : tensor<i8>
  %y2s = sparq.constant dense<0.0078125> : tensor<f32>
  %y2zp = sparq.constant dense<128> : tensor<ui8>
  %q0 = sparq.quantize_linear %x, %xs, %xzp : (tensor<1x3x8x8xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x3x8x8xui8>
  %d0 = sparq.dequantize_linear %q0, %xs, %xzp : (tensor<1x3x8x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x3x8x8xf32>
  %w1f = sparq.dequantize_linear %w1, %w1s, %wzp {axis = 0 : i64} : (tensor<2x3x3x3xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x3x3x3xf32>
  %b1f = sparq.dequantize_linear %b1, %b1s, %bzp {axis = 0 : i64} : (tensor<2xi32>, tensor<2xf32>, tensor<2xi32>) -> tensor<2xf32>
  %c1 = sparq.conv %d0, %w1f, %b1f {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<2x3x3x3xf32>, tensor<2xf32>) -> tensor<1x2x8x8xf32>
  %r1 = sparq.relu %c1 : tensor<1x2x8x8xf32> -> tensor<1x2x8x8xf32>
  %q1 = sparq.quantize_linear %r1, %ys, %yzp : (tensor<1x2x8x8xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x2x8x8xui8>
  %d1 = sparq.dequantize_linear %q1, %ys, %yzp : (tensor<1x2x8x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x2x8x8xf32>
  %w2f = sparq.dequantize_linear %w2, %w2s, %w2zp : (tensor<2x2x3x3xi8>, tensor<f32>, tensor<i8>) -> tensor<2x2x3x3xf32>
  %c2 = sparq.conv %d1, %w2f {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x2x8x8xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x8x8xf32>
  %q2 = sparq.quantize_linear %c2, %y2s, %y2zp : (tensor<1x2x8x8xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x2x8x8xui8>
  %d2 = sparq.dequantize_linear %q2, %y2s, %y2zp : (tensor<1x2x8x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x2x8x8xf32>
  return %d2 : tensor<1x2x8x8xf32>
}

// Gemm (trans_b) with s8 activations, an inexact multiplier
// float32(0.02) * float32(0.004) / float32(0.03) = 0.0026666669 and a Clip
// whose bounds quantize to [zp + 0, zp + 100] = [-10, 90].
// CHECK-LABEL: func @gemm_s8_clip
// CHECK: %[[M:.+]] = sparq.constant dense<0.00266666687> : tensor<1xf32>
// CHECK: %[[K:.+]] = sparq.qmatmul %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} scale %[[M]] {
// CHECK-SAME: out_zero_point = -10 : i64
// CHECK-SAME: qmax = 90 : i64
// CHECK-SAME: qmin = -10 : i64
// CHECK-SAME: sparq.quantized = "s8s8->s8 per-tensor +clip"
// CHECK-SAME: trans_b = true
// CHECK-SAME: -> tensor<4x16xi8>
// CHECK: return %[[K]]
func.func @gemm_s8_clip(%xq: tensor<4x8xi8>) -> tensor<4x16xi8> {
  %xs = sparq.constant dense<0.02> : tensor<f32>
  %zp = sparq.constant dense<0> : tensor<i8>
  %w = sparq.constant dense<5> : tensor<16x8xi8>
  %ws = sparq.constant dense<0.004> : tensor<f32>
  %ys = sparq.constant dense<0.03> : tensor<f32>
  %yzp = sparq.constant dense<-10> : tensor<i8>
  %x = sparq.dequantize_linear %xq, %xs, %zp : (tensor<4x8xi8>, tensor<f32>, tensor<i8>) -> tensor<4x8xf32>
  %wf = sparq.dequantize_linear %w, %ws, %zp : (tensor<16x8xi8>, tensor<f32>, tensor<i8>) -> tensor<16x8xf32>
  %g = sparq.gemm %x, %wf {trans_b = true} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %c = sparq.clip %g {min = 0.0 : f64, max = 3.0 : f64} : tensor<4x16xf32> -> tensor<4x16xf32>
  %q = sparq.quantize_linear %c, %ys, %yzp : (tensor<4x16xf32>, tensor<f32>, tensor<i8>) -> tensor<4x16xi8>
  return %q : tensor<4x16xi8>
}

// A float consumer: f32 result with scale x_scale * w_scale[n], the i32
// bias and the activation in the epilogue.
// CHECK-LABEL: func @matmul_f32_out
// CHECK-DAG: %[[S:.+]] = sparq.constant dense<[1.250000e-01, 6.250000e-02]> : tensor<2xf32>
// CHECK-DAG: %[[B:.+]] = sparq.constant dense<[1, 2]> : tensor<2xi32>
// CHECK: %[[K:.+]] = sparq.qmatmul %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} scale %[[S]] bias %[[B]] {
// CHECK-SAME: activation = #sparq.activation<gelu>
// CHECK-SAME: sparq.quantized = "u8u8->f32 per-channel"
// CHECK-SAME: -> tensor<1x3x2xf32>
// CHECK: return %[[K]]
func.func @matmul_f32_out(%xq: tensor<1x3x4xui8>) -> tensor<1x3x2xf32> {
  %xs = sparq.constant dense<0.5> : tensor<f32>
  %xzp = sparq.constant dense<7> : tensor<ui8>
  %w = sparq.constant dense<9> : tensor<4x2xui8>
  %ws = sparq.constant dense<[0.25, 0.125]> : tensor<2xf32>
  %wzp = sparq.constant dense<[128, 127]> : tensor<2xui8>
  %b = sparq.constant dense<[1, 2]> : tensor<2xi32>
  %bs = sparq.constant dense<[0.125, 0.0625]> : tensor<2xf32>
  %bzp = sparq.constant dense<0> : tensor<2xi32>
  %x = sparq.dequantize_linear %xq, %xs, %xzp : (tensor<1x3x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x3x4xf32>
  %wf = sparq.dequantize_linear %w, %ws, %wzp {axis = 1 : i64} : (tensor<4x2xui8>, tensor<2xf32>, tensor<2xui8>) -> tensor<4x2xf32>
  %bf = sparq.dequantize_linear %b, %bs, %bzp {axis = 0 : i64} : (tensor<2xi32>, tensor<2xf32>, tensor<2xi32>) -> tensor<2xf32>
  %m = sparq.matmul %x, %wf : (tensor<1x3x4xf32>, tensor<4x2xf32>) -> tensor<1x3x2xf32>
  %a = sparq.add %m, %bf : (tensor<1x3x2xf32>, tensor<2xf32>) -> tensor<1x3x2xf32>
  %g = sparq.gelu %a : tensor<1x3x2xf32> -> tensor<1x3x2xf32>
  return %g : tensor<1x3x2xf32>
}
// (The bias above has scale w_scale, not x_scale * w_scale: it must not be
// taken as i32.)
// CHECK-LABEL: func @bias_scale_mismatch
// CHECK: sparq.qmatmul %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} scale %{{.+}} bias_f32 %{{.+}} {
func.func @bias_scale_mismatch(%xq: tensor<3x4xui8>) -> tensor<3x2xf32> {
  %xs = sparq.constant dense<0.5> : tensor<f32>
  %xzp = sparq.constant dense<7> : tensor<ui8>
  %w = sparq.constant dense<9> : tensor<4x2xi8>
  %ws = sparq.constant dense<[0.25, 0.125]> : tensor<2xf32>
  %wzp = sparq.constant dense<0> : tensor<2xi8>
  %b = sparq.constant dense<[1, 2]> : tensor<2xi32>
  %bzp = sparq.constant dense<0> : tensor<2xi32>
  %x = sparq.dequantize_linear %xq, %xs, %xzp : (tensor<3x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<3x4xf32>
  %wf = sparq.dequantize_linear %w, %ws, %wzp {axis = 1 : i64} : (tensor<4x2xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<4x2xf32>
  %bf = sparq.dequantize_linear %b, %ws, %bzp {axis = 0 : i64} : (tensor<2xi32>, tensor<2xf32>, tensor<2xi32>) -> tensor<2xf32>
  %m = sparq.matmul %x, %wf : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  %a = sparq.add %m, %bf : (tensor<3x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  return %a : tensor<3x2xf32>
}

// An epilogue the 8-bit result cannot express (sigmoid) or a float bias:
// f32 result, the quantize_linear stays.
// CHECK-LABEL: func @sigmoid_then_quantize
// CHECK: %[[K:.+]] = sparq.qconv {{.+}}activation = #sparq.activation<sigmoid>{{.+}}sparq.quantized = "u8s8->f32 per-tensor"{{.+}} -> tensor<1x2x4x4xf32>
// CHECK: sparq.quantize_linear %[[K]]
// CHECK-LABEL: func @float_bias_then_quantize
// CHECK: %[[K:.+]] = sparq.qconv %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} scale %{{.+}} bias_f32 %{{.+}} -> tensor<1x2x4x4xf32>
// CHECK: sparq.quantize_linear %[[K]]
func.func @sigmoid_then_quantize(%xq: tensor<1x2x4x4xui8>) -> tensor<1x2x4x4xui8> {
  %s = sparq.constant dense<0.5> : tensor<f32>
  %zp = sparq.constant dense<0> : tensor<ui8>
  %wzp = sparq.constant dense<0> : tensor<i8>
  %w = sparq.constant dense<1> : tensor<2x2x1x1xi8>
  %x = sparq.dequantize_linear %xq, %s, %zp : (tensor<1x2x4x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x2x4x4xf32>
  %wf = sparq.dequantize_linear %w, %s, %wzp : (tensor<2x2x1x1xi8>, tensor<f32>, tensor<i8>) -> tensor<2x2x1x1xf32>
  %c = sparq.conv %x, %wf {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %g = sparq.sigmoid %c : tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  %q = sparq.quantize_linear %g, %s, %zp : (tensor<1x2x4x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x2x4x4xui8>
  return %q : tensor<1x2x4x4xui8>
}
func.func @float_bias_then_quantize(%xq: tensor<1x2x4x4xui8>) -> tensor<1x2x4x4xui8> {
  %s = sparq.constant dense<0.5> : tensor<f32>
  %zp = sparq.constant dense<0> : tensor<ui8>
  %wzp = sparq.constant dense<0> : tensor<i8>
  %w = sparq.constant dense<1> : tensor<2x2x1x1xi8>
  %b = sparq.constant dense<[0.1, 0.2]> : tensor<2xf32>
  %x = sparq.dequantize_linear %xq, %s, %zp : (tensor<1x2x4x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x2x4x4xf32>
  %wf = sparq.dequantize_linear %w, %s, %wzp : (tensor<2x2x1x1xi8>, tensor<f32>, tensor<i8>) -> tensor<2x2x1x1xf32>
  %c = sparq.conv %x, %wf, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %q = sparq.quantize_linear %c, %s, %zp : (tensor<1x2x4x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x2x4x4xui8>
  return %q : tensor<1x2x4x4xui8>
}

// onnxruntime quantize_dynamic: DynamicQuantizeLinear -> MatMulInteger ->
// Cast -> Mul(x_scale * w_scale) -> Add(bias).
// CHECK-LABEL: func @dynamic_matmul
// CHECK: %[[Q:.+]], %[[XS:.+]], %[[XZ:.+]] = sparq.dynamic_quantize_linear
// CHECK: %[[S:.+]] = sparq.mul %[[XS]]
// CHECK: %[[SV:.+]] = sparq.reshape %[[S]] : tensor<f32> -> tensor<1xf32>
// CHECK: %[[K:.+]] = sparq.qmatmul %[[Q]], %{{.+}}, %[[XZ]], %{{.+}} scale %[[SV]] bias_f32 %{{.+}} {sparq.quantized = "dynamic u8s8->f32 per-tensor"}
// CHECK-NOT: sparq.cast
// CHECK: return %[[K]]
func.func @dynamic_matmul(%x: tensor<2x8xf32>) -> tensor<2x4xf32> {
  %w = sparq.constant dense<3> : tensor<8x4xi8>
  %wzp = sparq.constant dense<0> : tensor<i8>
  %ws = sparq.constant dense<0.01> : tensor<f32>
  %bias = sparq.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %q, %s, %zp = sparq.dynamic_quantize_linear %x : (tensor<2x8xf32>) -> (tensor<2x8xui8>, tensor<f32>, tensor<ui8>)
  %acc = sparq.matmul_integer %q, %w, %zp, %wzp : (tensor<2x8xui8>, tensor<8x4xi8>, tensor<ui8>, tensor<i8>) -> tensor<2x4xi32>
  %f = sparq.cast %acc {to = f32} : tensor<2x4xi32> -> tensor<2x4xf32>
  %scale = sparq.mul %s, %ws : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %m = sparq.mul %f, %scale : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
  %y = sparq.add %m, %bias : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// MaxPool between a dequantize and a quantize with equal parameters runs on
// the u8 values.
// CHECK-LABEL: func @maxpool_u8
// CHECK-SAME: (%[[XQ:.+]]: tensor<1x2x4x4xui8>)
// CHECK: %[[P:.+]] = sparq.max_pool %[[XQ]] {{.+}} : tensor<1x2x4x4xui8> -> tensor<1x2x2x2xui8>
// CHECK-NEXT: return %[[P]]
func.func @maxpool_u8(%xq: tensor<1x2x4x4xui8>) -> tensor<1x2x2x2xui8> {
  %s = sparq.constant dense<0.5> : tensor<f32>
  %zp = sparq.constant dense<3> : tensor<ui8>
  %x = sparq.dequantize_linear %xq, %s, %zp : (tensor<1x2x4x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x2x4x4xf32>
  %p = sparq.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x2x4x4xf32> -> tensor<1x2x2x2xf32>
  %q = sparq.quantize_linear %p, %s, %zp : (tensor<1x2x2x2xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x2x2x2xui8>
  return %q : tensor<1x2x2x2xui8>
}

// Negative cases: nothing is rewritten.
// CHECK-LABEL: func @per_axis_activation
// CHECK-NOT: sparq.qconv
// CHECK: sparq.fused_conv
func.func @per_axis_activation(%xq: tensor<1x2x4x4xui8>) -> tensor<1x2x4x4xf32> {
  %xs = sparq.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %xzp = sparq.constant dense<0> : tensor<2xui8>
  %s = sparq.constant dense<0.5> : tensor<f32>
  %wzp = sparq.constant dense<0> : tensor<i8>
  %w = sparq.constant dense<1> : tensor<2x2x1x1xi8>
  %x = sparq.dequantize_linear %xq, %xs, %xzp {axis = 1 : i64} : (tensor<1x2x4x4xui8>, tensor<2xf32>, tensor<2xui8>) -> tensor<1x2x4x4xf32>
  %wf = sparq.dequantize_linear %w, %s, %wzp : (tensor<2x2x1x1xi8>, tensor<f32>, tensor<i8>) -> tensor<2x2x1x1xf32>
  %c = sparq.conv %x, %wf {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  return %c : tensor<1x2x4x4xf32>
}

// CHECK-LABEL: func @weights_16bit
// CHECK-NOT: sparq.qmatmul
// CHECK: sparq.fused_matmul
func.func @weights_16bit(%xq: tensor<3x4xui8>) -> tensor<3x2xf32> {
  %s = sparq.constant dense<0.5> : tensor<f32>
  %zp = sparq.constant dense<0> : tensor<ui8>
  %w = sparq.constant dense<300> : tensor<4x2xi16>
  %wzp = sparq.constant dense<0> : tensor<i16>
  %x = sparq.dequantize_linear %xq, %s, %zp : (tensor<3x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<3x4xf32>
  %wf = sparq.dequantize_linear %w, %s, %wzp : (tensor<4x2xi16>, tensor<f32>, tensor<i16>) -> tensor<4x2xf32>
  %m = sparq.matmul %x, %wf : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %m : tensor<3x2xf32>
}

// A per-channel weight that is not a constant (here also used twice).
// CHECK-LABEL: func @non_constant_weight
// CHECK-NOT: sparq.qmatmul
// CHECK: sparq.fused_matmul
// CHECK-NOT: sparq.qmatmul
func.func @non_constant_weight(%xq: tensor<3x4xui8>, %w: tensor<4x2xi8>) -> (tensor<3x2xf32>, tensor<4x2xf32>) {
  %s = sparq.constant dense<0.5> : tensor<f32>
  %zp = sparq.constant dense<0> : tensor<ui8>
  %ws = sparq.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %wzp = sparq.constant dense<0> : tensor<2xi8>
  %x = sparq.dequantize_linear %xq, %s, %zp : (tensor<3x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<3x4xf32>
  %wf = sparq.dequantize_linear %w, %ws, %wzp {axis = 1 : i64} : (tensor<4x2xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<4x2xf32>
  %m = sparq.matmul %x, %wf : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %m, %wf : tensor<3x2xf32>, tensor<4x2xf32>
}

// Weights quantized along the input channels (axis 1) of a conv.
// CHECK-LABEL: func @weight_wrong_axis
// CHECK-NOT: sparq.qconv
// CHECK: sparq.fused_conv
func.func @weight_wrong_axis(%xq: tensor<1x2x4x4xui8>) -> tensor<1x2x4x4xf32> {
  %s = sparq.constant dense<0.5> : tensor<f32>
  %zp = sparq.constant dense<0> : tensor<ui8>
  %ws = sparq.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %wzp = sparq.constant dense<0> : tensor<2xi8>
  %w = sparq.constant dense<1> : tensor<2x2x1x1xi8>
  %x = sparq.dequantize_linear %xq, %s, %zp : (tensor<1x2x4x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x2x4x4xf32>
  %wf = sparq.dequantize_linear %w, %ws, %wzp {axis = 1 : i64} : (tensor<2x2x1x1xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x2x1x1xf32>
  %c = sparq.conv %x, %wf {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  return %c : tensor<1x2x4x4xf32>
}

// A per-axis output quantization, and a kernel with a second float user:
// f32 results, the quantize_linear stays.
// CHECK-LABEL: func @per_axis_output
// CHECK: %[[K:.+]] = sparq.qconv {{.+}} -> tensor<1x2x4x4xf32>
// CHECK: sparq.quantize_linear %[[K]]
func.func @per_axis_output(%xq: tensor<1x2x4x4xui8>) -> tensor<1x2x4x4xui8> {
  %s = sparq.constant dense<0.5> : tensor<f32>
  %zp = sparq.constant dense<0> : tensor<ui8>
  %ys = sparq.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %yzp = sparq.constant dense<0> : tensor<2xui8>
  %wzp = sparq.constant dense<0> : tensor<i8>
  %w = sparq.constant dense<1> : tensor<2x2x1x1xi8>
  %x = sparq.dequantize_linear %xq, %s, %zp : (tensor<1x2x4x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x2x4x4xf32>
  %wf = sparq.dequantize_linear %w, %s, %wzp : (tensor<2x2x1x1xi8>, tensor<f32>, tensor<i8>) -> tensor<2x2x1x1xf32>
  %c = sparq.conv %x, %wf {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %q = sparq.quantize_linear %c, %ys, %yzp {axis = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xui8>) -> tensor<1x2x4x4xui8>
  return %q : tensor<1x2x4x4xui8>
}

// CHECK-LABEL: func @second_float_user
// CHECK: %[[K:.+]] = sparq.qmatmul {{.+}} -> tensor<3x2xf32>
// CHECK: %[[Q:.+]] = sparq.quantize_linear %[[K]]
// CHECK: return %[[Q]], %[[K]]
func.func @second_float_user(%xq: tensor<3x4xui8>) -> (tensor<3x2xui8>, tensor<3x2xf32>) {
  %s = sparq.constant dense<0.5> : tensor<f32>
  %zp = sparq.constant dense<0> : tensor<ui8>
  %wzp = sparq.constant dense<0> : tensor<i8>
  %w = sparq.constant dense<1> : tensor<4x2xi8>
  %x = sparq.dequantize_linear %xq, %s, %zp : (tensor<3x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<3x4xf32>
  %wf = sparq.dequantize_linear %w, %s, %wzp : (tensor<4x2xi8>, tensor<f32>, tensor<i8>) -> tensor<4x2xf32>
  %m = sparq.matmul %x, %wf : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  %q = sparq.quantize_linear %m, %s, %zp : (tensor<3x2xf32>, tensor<f32>, tensor<ui8>) -> tensor<3x2xui8>
  return %q, %m : tensor<3x2xui8>, tensor<3x2xf32>
}

// Data movement between parameters that differ stays in f32.
// CHECK-LABEL: func @maxpool_params_differ
// CHECK: sparq.max_pool %{{.+}} : tensor<1x2x4x4xf32>
func.func @maxpool_params_differ(%xq: tensor<1x2x4x4xui8>) -> tensor<1x2x2x2xui8> {
  %s = sparq.constant dense<0.5> : tensor<f32>
  %s2 = sparq.constant dense<0.25> : tensor<f32>
  %zp = sparq.constant dense<3> : tensor<ui8>
  %x = sparq.dequantize_linear %xq, %s, %zp : (tensor<1x2x4x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x2x4x4xf32>
  %p = sparq.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x2x4x4xf32> -> tensor<1x2x2x2xf32>
  %q = sparq.quantize_linear %p, %s2, %zp : (tensor<1x2x2x2xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x2x2x2xui8>
  return %q : tensor<1x2x2x2xui8>
}

// Symmetric activations (zero point 0): onnxruntime keeps the Relu as its
// own DQ -> Relu -> Q group; it narrows the kernel's qmin to the zero point.
// A Clip there narrows both bounds: quantize(0.25) = 0.25 / 0.0625 = 4 and
// quantize(0.5) = 8.
// CHECK-LABEL: func @symmetric_relu_group
// CHECK: %[[K:.+]] = sparq.qmatmul {{.+}}qmax = 127 : i64, qmin = 0 : i64, sparq.quantized = "s8s8->s8 per-tensor +relu"{{.+}} -> tensor<3x2xi8>
// CHECK-NOT: sparq.relu
// CHECK: %[[K2:.+]] = sparq.qmatmul %[[K]], {{.+}}qmax = 8 : i64, qmin = 4 : i64, sparq.quantized = "s8s8->s8 per-tensor +clip"{{.+}} -> tensor<3x2xi8>
// CHECK-NOT: sparq.clip
// CHECK: return %[[K2]]
func.func @symmetric_relu_group(%xq: tensor<3x4xi8>) -> tensor<3x2xi8> {
  %s = sparq.constant dense<0.0625> : tensor<f32>
  %zp = sparq.constant dense<0> : tensor<i8>
  %w = sparq.constant dense<1> : tensor<4x2xi8>
  %w2 = sparq.constant dense<1> : tensor<2x2xi8>
  %x = sparq.dequantize_linear %xq, %s, %zp : (tensor<3x4xi8>, tensor<f32>, tensor<i8>) -> tensor<3x4xf32>
  %wf = sparq.dequantize_linear %w, %s, %zp : (tensor<4x2xi8>, tensor<f32>, tensor<i8>) -> tensor<4x2xf32>
  %m = sparq.matmul %x, %wf : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  %q = sparq.quantize_linear %m, %s, %zp : (tensor<3x2xf32>, tensor<f32>, tensor<i8>) -> tensor<3x2xi8>
  %d = sparq.dequantize_linear %q, %s, %zp : (tensor<3x2xi8>, tensor<f32>, tensor<i8>) -> tensor<3x2xf32>
  %r = sparq.relu %d : tensor<3x2xf32> -> tensor<3x2xf32>
  %q2 = sparq.quantize_linear %r, %s, %zp : (tensor<3x2xf32>, tensor<f32>, tensor<i8>) -> tensor<3x2xi8>
  %d2 = sparq.dequantize_linear %q2, %s, %zp : (tensor<3x2xi8>, tensor<f32>, tensor<i8>) -> tensor<3x2xf32>
  %w2f = sparq.dequantize_linear %w2, %s, %zp : (tensor<2x2xi8>, tensor<f32>, tensor<i8>) -> tensor<2x2xf32>
  %m2 = sparq.matmul %d2, %w2f : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  %q3 = sparq.quantize_linear %m2, %s, %zp : (tensor<3x2xf32>, tensor<f32>, tensor<i8>) -> tensor<3x2xi8>
  %d3 = sparq.dequantize_linear %q3, %s, %zp : (tensor<3x2xi8>, tensor<f32>, tensor<i8>) -> tensor<3x2xf32>
  %c = sparq.clip %d3 {min = 0.25 : f64, max = 0.5 : f64} : tensor<3x2xf32> -> tensor<3x2xf32>
  %q4 = sparq.quantize_linear %c, %s, %zp : (tensor<3x2xf32>, tensor<f32>, tensor<i8>) -> tensor<3x2xi8>
  return %q4 : tensor<3x2xi8>
}

// Batch dims the integer kernel cannot stride over (neither all ones nor
// the result's) stay on the float kernel.
// CHECK-LABEL: func @partial_batch_broadcast
// CHECK-NOT: sparq.qmatmul
// CHECK: sparq.fused_matmul
func.func @partial_batch_broadcast(%aq: tensor<2x3x4x8xui8>, %bq: tensor<1x3x8x5xui8>) -> tensor<2x3x4x5xf32> {
  %s = sparq.constant dense<0.5> : tensor<f32>
  %zp = sparq.constant dense<0> : tensor<ui8>
  %a = sparq.dequantize_linear %aq, %s, %zp : (tensor<2x3x4x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<2x3x4x8xf32>
  %b = sparq.dequantize_linear %bq, %s, %zp : (tensor<1x3x8x5xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x3x8x5xf32>
  %m = sparq.matmul %a, %b : (tensor<2x3x4x8xf32>, tensor<1x3x8x5xf32>) -> tensor<2x3x4x5xf32>
  return %m : tensor<2x3x4x5xf32>
}

// Activation x activation (a non-constant per-tensor weight, as in
// attention) with equal batch dims forms the kernel.
// CHECK-LABEL: func @activation_times_activation
// CHECK: sparq.qmatmul {{.+}}sparq.quantized = "u8u8->f32 per-tensor"{{.+}} -> tensor<2x3x4x5xf32>
func.func @activation_times_activation(%aq: tensor<2x3x4x8xui8>, %bq: tensor<2x3x8x5xui8>) -> tensor<2x3x4x5xf32> {
  %s = sparq.constant dense<0.5> : tensor<f32>
  %zp = sparq.constant dense<0> : tensor<ui8>
  %a = sparq.dequantize_linear %aq, %s, %zp : (tensor<2x3x4x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<2x3x4x8xf32>
  %b = sparq.dequantize_linear %bq, %s, %zp : (tensor<2x3x8x5xui8>, tensor<f32>, tensor<ui8>) -> tensor<2x3x8x5xf32>
  %m = sparq.matmul %a, %b : (tensor<2x3x4x8xf32>, tensor<2x3x8x5xf32>) -> tensor<2x3x4x5xf32>
  return %m : tensor<2x3x4x5xf32>
}

// quantize_dynamic on a Conv: ConvInteger -> Cast -> Mul(x_scale * w_scale)
// -> Add(bias reshaped to [1, K, 1, 1]).
// (The reshape of the constant bias to a vector folds.)
// CHECK-LABEL: func @dynamic_conv
// CHECK: %[[BV:.+]] = sparq.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: %[[Q:.+]], %[[XS:.+]], %[[XZ:.+]] = sparq.dynamic_quantize_linear
// CHECK: %[[S:.+]] = sparq.mul %[[XS]]
// CHECK: %[[SV:.+]] = sparq.reshape %[[S]] : tensor<f32> -> tensor<1xf32>
// CHECK: %[[K:.+]] = sparq.qconv %[[Q]], %{{.+}}, %[[XZ]], %{{.+}} scale %[[SV]] bias_f32 %[[BV]] {{.+}}sparq.quantized = "dynamic u8s8->f32 per-tensor"
// CHECK-NOT: sparq.cast
// CHECK: return %[[K]]
func.func @dynamic_conv(%x: tensor<1x3x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = sparq.constant dense<3> : tensor<2x3x1x1xi8>
  %wzp = sparq.constant dense<0> : tensor<i8>
  %ws = sparq.constant dense<0.01> : tensor<f32>
  %bias = sparq.constant dense<[[[[1.0]], [[2.0]]]]> : tensor<1x2x1x1xf32>
  %q, %s, %zp = sparq.dynamic_quantize_linear %x : (tensor<1x3x4x4xf32>) -> (tensor<1x3x4x4xui8>, tensor<f32>, tensor<ui8>)
  %acc = sparq.conv_integer %q, %w, %zp, %wzp {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x4x4xui8>, tensor<2x3x1x1xi8>, tensor<ui8>, tensor<i8>) -> tensor<1x2x4x4xi32>
  %f = sparq.cast %acc {to = f32} : tensor<1x2x4x4xi32> -> tensor<1x2x4x4xf32>
  %scale = sparq.mul %s, %ws : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %m = sparq.mul %f, %scale : (tensor<1x2x4x4xf32>, tensor<f32>) -> tensor<1x2x4x4xf32>
  %y = sparq.add %m, %bias : (tensor<1x2x4x4xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// A bias along the wrong dim (W) is not a per-channel bias: the add stays.
// CHECK-LABEL: func @dynamic_conv_bias_wrong_dim
// CHECK: %[[K:.+]] = sparq.qconv %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} scale %{{[^ ]+}} {
// CHECK: sparq.add %[[K]]
func.func @dynamic_conv_bias_wrong_dim(%x: tensor<1x3x4x2xf32>) -> tensor<1x2x4x2xf32> {
  %w = sparq.constant dense<3> : tensor<2x3x1x1xi8>
  %wzp = sparq.constant dense<0> : tensor<i8>
  %ws = sparq.constant dense<0.01> : tensor<f32>
  %bias = sparq.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %q, %s, %zp = sparq.dynamic_quantize_linear %x : (tensor<1x3x4x2xf32>) -> (tensor<1x3x4x2xui8>, tensor<f32>, tensor<ui8>)
  %acc = sparq.conv_integer %q, %w, %zp, %wzp {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x4x2xui8>, tensor<2x3x1x1xi8>, tensor<ui8>, tensor<i8>) -> tensor<1x2x4x2xi32>
  %f = sparq.cast %acc {to = f32} : tensor<1x2x4x2xi32> -> tensor<1x2x4x2xf32>
  %scale = sparq.mul %s, %ws : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %m = sparq.mul %f, %scale : (tensor<1x2x4x2xf32>, tensor<f32>) -> tensor<1x2x4x2xf32>
  %y = sparq.add %m, %bias : (tensor<1x2x4x2xf32>, tensor<2xf32>) -> tensor<1x2x4x2xf32>
  return %y : tensor<1x2x4x2xf32>
}

// Quantize and dequantize of small constants fold to constants (expected
// values by hand: rne(v / 0.5) + 3 saturated to [0, 255], then (q - 3) * 0.5;
// rne(v / 0.25) - 1 saturated to [-128, 127]).
// CHECK-LABEL: func @constant_qdq
// CHECK-NOT: quantize_linear
// CHECK-DAG: sparq.constant dense<[1.000000e+00, 1.000000e+00, -1.500000e+00, 1.260000e+02]> : tensor<4xf32>
// CHECK-DAG: sparq.constant dense<[1, -128, 127, -1]> : tensor<4xi8>
// CHECK-NOT: quantize_linear
func.func @constant_qdq() -> (tensor<4xf32>, tensor<4xi8>) {
  %v = sparq.constant dense<[1.0, 1.25, -10.0, 300.0]> : tensor<4xf32>
  %s = sparq.constant dense<0.5> : tensor<f32>
  %zp = sparq.constant dense<3> : tensor<ui8>
  %q = sparq.quantize_linear %v, %s, %zp : (tensor<4xf32>, tensor<f32>, tensor<ui8>) -> tensor<4xui8>
  %d = sparq.dequantize_linear %q, %s, %zp : (tensor<4xui8>, tensor<f32>, tensor<ui8>) -> tensor<4xf32>
  %w = sparq.constant dense<[0.375, -40.0, 1000.0, -0.125]> : tensor<4xf32>
  %s2 = sparq.constant dense<0.25> : tensor<f32>
  %zp2 = sparq.constant dense<-1> : tensor<i8>
  %q2 = sparq.quantize_linear %w, %s2, %zp2 : (tensor<4xf32>, tensor<f32>, tensor<i8>) -> tensor<4xi8>
  return %d, %q2 : tensor<4xf32>, tensor<4xi8>
}

// A gather from a dequantized table, quantized again with the same
// parameters, gathers the u8 values.
// CHECK-LABEL: func @gather_u8
// CHECK-SAME: (%[[T:.+]]: tensor<8x4xui8>, %[[I:.+]]: tensor<1x3xi64>)
// CHECK: %[[G:.+]] = sparq.gather %[[T]], %[[I]] {axis = 0 : i64} : (tensor<8x4xui8>, tensor<1x3xi64>) -> tensor<1x3x4xui8>
// CHECK-NEXT: return %[[G]]
func.func @gather_u8(%t: tensor<8x4xui8>, %i: tensor<1x3xi64>) -> tensor<1x3x4xui8> {
  %s = sparq.constant dense<0.5> : tensor<f32>
  %zp = sparq.constant dense<3> : tensor<ui8>
  %x = sparq.dequantize_linear %t, %s, %zp : (tensor<8x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<8x4xf32>
  %g = sparq.gather %x, %i {axis = 0 : i64} : (tensor<8x4xf32>, tensor<1x3xi64>) -> tensor<1x3x4xf32>
  %q = sparq.quantize_linear %g, %s, %zp : (tensor<1x3x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x3x4xui8>
  return %q : tensor<1x3x4xui8>
}
