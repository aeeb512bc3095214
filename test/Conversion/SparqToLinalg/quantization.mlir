// RUN: sparq-opt %s --convert-sparq-to-linalg | FileCheck %s

// ONNX's quantized ops: true division, round half to even, saturation in
// float before the conversion; integer contractions widen to i32 minus the
// zero points; requantization multiplies by a_scale * b_scale / y_scale.

// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[COL:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[SCALAR:.+]] = affine_map<(d0, d1) -> ()>
// CHECK-DAG: #[[ONE:.+]] = affine_map<(d0, d1) -> (0)>
// CHECK-DAG: #[[ID4:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[SCALAR4:.+]] = affine_map<(d0, d1, d2, d3) -> ()>
// CHECK-DAG: #[[ID5:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
// CHECK-DAG: #[[SCALAR5:.+]] = affine_map<(d0, d1, d2, d3, d4) -> ()>
// CHECK-DAG: #[[CH5:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0)>

// CHECK-LABEL: func.func @quantize_per_axis
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[COL]], #[[COL]], #[[ID]]]
// CHECK: %[[Q:.+]] = arith.divf
// CHECK: %[[ZP:.+]] = arith.uitofp %{{.+}} : i8 to f32
// CHECK: %[[R:.+]] = math.roundeven %[[Q]] : f32
// CHECK: %[[S:.+]] = arith.addf %[[R]], %[[ZP]] : f32
// CHECK: arith.constant 0.000000e+00 : f32
// CHECK: arith.maximumf %[[S]]
// CHECK: arith.constant 2.550000e+02 : f32
// CHECK: arith.minimumf
// CHECK: arith.fptoui %{{.+}} : f32 to i8
func.func @quantize_per_axis(%x: tensor<2x3xf32>, %s: tensor<3xf32>, %z: tensor<3xui8>) -> tensor<2x3xui8> {
  %0 = sparq.quantize_linear %x, %s, %z : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xui8>) -> tensor<2x3xui8>
  return %0 : tensor<2x3xui8>
}

// CHECK-LABEL: func.func @dequantize
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[SCALAR]], #[[SCALAR]], #[[ID]]]
// CHECK: %[[D:.+]] = arith.subi
// CHECK: %[[F:.+]] = arith.sitofp %[[D]] : i32 to f32
// CHECK: arith.mulf %[[F]]
func.func @dequantize(%x: tensor<2x3xi8>, %s: tensor<f32>, %z: tensor<i8>) -> tensor<2x3xf32> {
  %0 = sparq.dequantize_linear %x, %s, %z : (tensor<2x3xi8>, tensor<f32>, tensor<i8>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// The constant zero rhs zero point is not subtracted.
// CHECK-LABEL: func.func @qlinear_matmul
// CHECK: %[[A:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[ONE]], #[[ID]]]
// CHECK: arith.extui
// CHECK: arith.subi
// CHECK: %[[B:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[ID]]]
// CHECK-NOT: arith.subi
// CHECK: %[[ACC:.+]] = linalg.generic {{.+}} ins(%[[A]], %[[B]] : tensor<4x3xi32>, tensor<3x5xi32>)
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ONE]], #[[COL]], #[[ONE]], #[[SCALAR]], #[[ID]]]
// CHECK-SAME: ins(%[[ACC]],
// CHECK: %[[AB:.+]] = arith.mulf
// CHECK: %[[M:.+]] = arith.divf %[[AB]]
// CHECK: %[[V:.+]] = arith.sitofp %{{.+}} : i32 to f32
// CHECK: arith.mulf %[[V]], %[[M]]
// CHECK: math.roundeven
// CHECK: arith.constant -1.280000e+02
// CHECK: arith.constant 1.270000e+02
// CHECK: arith.fptosi %{{.+}} : f32 to i8
func.func @qlinear_matmul(%a: tensor<4x3xui8>, %b: tensor<3x5xi8>, %s: tensor<1xf32>, %za: tensor<1xui8>, %sb: tensor<5xf32>, %zy: tensor<i8>) -> tensor<4x5xi8> {
  %zb = sparq.constant dense<0> : tensor<5xi8>
  %0 = sparq.qlinear_matmul %a, %s, %za, %b, %sb, %zb, %s, %zy : (tensor<4x3xui8>, tensor<1xf32>, tensor<1xui8>, tensor<3x5xi8>, tensor<5xf32>, tensor<5xi8>, tensor<1xf32>, tensor<i8>) -> tensor<4x5xi8>
  return %0 : tensor<4x5xi8>
}

// The weight zero point is read per output channel (dim 0 of the weight);
// the widened input is padded with zeros. (A 3-d conv: 2-d conv_integer
// goes to the runtime's int8 kernel, quant-kernel-calls.mlir.)
// CHECK-LABEL: func.func @conv_integer
// CHECK: linalg.generic {indexing_maps = [#[[ID5]], #[[SCALAR5]], #[[ID5]]]
// CHECK: arith.extui
// CHECK: arith.subi
// CHECK: linalg.generic {indexing_maps = [#[[ID5]], #[[CH5]], #[[ID5]]]
// CHECK: arith.extsi
// CHECK: arith.subi
// CHECK: arith.select
// CHECK: iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "reduction"]
// CHECK: arith.muli
// CHECK: tensor.collapse_shape {{.+}} into tensor<1x2x3x3x3xi32>
func.func @conv_integer(%x: tensor<1x1x3x3x3xui8>, %w: tensor<2x1x2x2x2xi8>, %zx: tensor<ui8>, %zw: tensor<2xi8>) -> tensor<1x2x3x3x3xi32> {
  %0 = sparq.conv_integer %x, %w, %zx, %zw {dilations = array<i64: 1, 1, 1>, pads = array<i64: 1, 1, 1, 0, 0, 0>, strides = array<i64: 1, 1, 1>} : (tensor<1x1x3x3x3xui8>, tensor<2x1x2x2x2xi8>, tensor<ui8>, tensor<2xi8>) -> tensor<1x2x3x3x3xi32>
  return %0 : tensor<1x2x3x3x3xi32>
}

// CHECK-LABEL: func.func @qlinear_conv_bias
// CHECK: arith.addi
// CHECK: linalg.generic
// CHECK: math.roundeven
// CHECK: arith.fptoui %{{.+}} : f32 to i8
func.func @qlinear_conv_bias(%x: tensor<1x1x3x3xui8>, %w: tensor<2x1x3x3xui8>, %s: tensor<f32>, %z: tensor<ui8>, %ws: tensor<2xf32>, %wz: tensor<2xui8>, %bias: tensor<2xi32>) -> tensor<1x2x1x1xui8> {
  %0 = sparq.qlinear_conv %x, %s, %z, %w, %ws, %wz, %s, %z bias %bias {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x3x3xui8>, tensor<f32>, tensor<ui8>, tensor<2x1x3x3xui8>, tensor<2xf32>, tensor<2xui8>, tensor<f32>, tensor<ui8>, tensor<2xi32>) -> tensor<1x2x1x1xui8>
  return %0 : tensor<1x2x1x1xui8>
}
