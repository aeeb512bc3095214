// RUN: sparq-opt %s --convert-sparq-to-linalg | FileCheck %s

// Blocked parameters are read through d floordiv block_size; 4-bit storage
// stays i4 (saturating to [-8, 7]); float8 and float4 tensors become their
// i8 / i4 bits, decoded and encoded with integer ops (LLVM has no such
// float types).

// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[BLK:.+]] = affine_map<(d0, d1) -> (d0, d1 floordiv 4)>
// CHECK-DAG: #[[SCALAR:.+]] = affine_map<(d0) -> ()>

// CHECK-LABEL: func.func @blocked_int4
// CHECK-SAME: (%{{.+}}: tensor<3x10xf32>, %{{.+}}: tensor<3x3xf32>, %{{.+}}: tensor<3x3xi4>) -> tensor<3x10xi4>
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[BLK]], #[[BLK]], #[[ID]]]
// CHECK: arith.constant -8.000000e+00 : f32
// CHECK: arith.constant 7.000000e+00 : f32
// CHECK: arith.fptosi %{{.+}} : f32 to i4
func.func @blocked_int4(%x: tensor<3x10xf32>, %s: tensor<3x3xf32>, %z: tensor<3x3xi4>) -> tensor<3x10xi4> {
  %0 = sparq.quantize_linear %x, %s, %z {block_size = 4 : i64} : (tensor<3x10xf32>, tensor<3x3xf32>, tensor<3x3xi4>) -> tensor<3x10xi4>
  return %0 : tensor<3x10xi4>
}

// CHECK-LABEL: func.func @dequantize_e4m3fn
// CHECK-SAME: (%{{.+}}: tensor<8xi8>, %{{.+}}: tensor<f32>) -> tensor<8xf32>
// CHECK: arith.constant dense<0> : tensor<i8>
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[SCALAR]], #[[SCALAR]], #{{.+}}]
// CHECK: ^bb0(%[[B:.+]]: i8, %{{.+}}: f32, %{{.+}}: i8, %{{.+}}: f32):
// CHECK: arith.extui %[[B]] : i8 to i32
// CHECK: arith.bitcast %{{.+}} : i32 to f32
// CHECK-NOT: f8E4M3FN
func.func @dequantize_e4m3fn(%x: tensor<8xf8E4M3FN>, %s: tensor<f32>) -> tensor<8xf32> {
  %z = sparq.constant dense<0.0> : tensor<f8E4M3FN>
  %0 = sparq.dequantize_linear %x, %s, %z : (tensor<8xf8E4M3FN>, tensor<f32>, tensor<f8E4M3FN>) -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// CHECK-LABEL: func.func @quantize_e5m2
// CHECK-SAME: -> tensor<8xi8>
// CHECK: arith.bitcast %{{.+}} : f32 to i32
// CHECK: math.roundeven
// CHECK: arith.trunci %{{.+}} : i32 to i8
func.func @quantize_e5m2(%x: tensor<8xf32>, %s: tensor<f32>) -> tensor<8xf8E5M2> {
  %z = sparq.constant dense<0.0> : tensor<f8E5M2>
  %0 = sparq.quantize_linear %x, %s, %z {saturate = false} : (tensor<8xf32>, tensor<f32>, tensor<f8E5M2>) -> tensor<8xf8E5M2>
  return %0 : tensor<8xf8E5M2>
}

// CHECK-LABEL: func.func @quantize_e2m1
// CHECK-SAME: -> tensor<8xi4>
// CHECK: arith.trunci %{{.+}} : i32 to i4
func.func @quantize_e2m1(%x: tensor<8xf32>, %s: tensor<f32>) -> tensor<8xf4E2M1FN> {
  %z = sparq.constant dense<0.0> : tensor<f4E2M1FN>
  %0 = sparq.quantize_linear %x, %s, %z : (tensor<8xf32>, tensor<f32>, tensor<f4E2M1FN>) -> tensor<8xf4E2M1FN>
  return %0 : tensor<8xf4E2M1FN>
}
