// RUN: sparq-opt %s --convert-sparq-to-linalg | FileCheck %s

// CHECK-DAG: func.func private @sparq_rt_dynamic_quantize_u8(!llvm.ptr, !llvm.ptr, i64, !llvm.ptr, !llvm.ptr, !llvm.ptr)
// CHECK-DAG: func.func private @sparq_uk_qconv2d_i8(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, !llvm.ptr, !llvm.ptr, i64, i64, !llvm.ptr, !llvm.ptr, i64, !llvm.ptr, i64, i64, i64, i64, f32, f32, i64)
// CHECK-DAG: func.func private @sparq_uk_qmatmul_i8(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, !llvm.ptr, i64, !llvm.ptr, i64, i64, !llvm.ptr, !llvm.ptr, i64, !llvm.ptr, i64, i64, i64, i64, f32, f32, i64)
// CHECK-DAG: func.func private @sparq_uk_matmul_nbits_f32(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64, i64, i64, i64, f32, f32)

// A qconv with a u8 result, per-channel weight zero points and scales, an
// i32 bias and a Relu-narrowed qmin.
// CHECK-LABEL: func.func @qconv_u8
// CHECK: %[[ALLOC:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x4x4x4xi8>
// CHECK: llvm.inttoptr
// N, C, H, W, K, OH, OW, KH, KW, strides, pads (top, left), dilations,
// groups, xType (u8), wType (s8), wZeroPerChannel, outKind (U8),
// scalePerChannel, outZero, qmin, qmax, act, actA, actB, flags (constant).
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: arith.constant 3 : i64
// CHECK-NEXT: arith.constant 8 : i64
// CHECK-NEXT: arith.constant 8 : i64
// CHECK-NEXT: arith.constant 4 : i64
// CHECK-NEXT: arith.constant 4 : i64
// CHECK-NEXT: arith.constant 4 : i64
// CHECK-NEXT: arith.constant 3 : i64
// CHECK-NEXT: arith.constant 3 : i64
// CHECK-NEXT: arith.constant 2 : i64
// CHECK-NEXT: arith.constant 2 : i64
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: arith.constant 2 : i64
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: arith.constant 7 : i64
// CHECK-NEXT: arith.constant 7 : i64
// CHECK-NEXT: arith.constant 255 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 0.000000e+00 : f32
// CHECK-NEXT: arith.constant 0.000000e+00 : f32
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: call @sparq_uk_qconv2d_i8(
// CHECK-NEXT: bufferization.to_tensor %[[ALLOC]] restrict writable : memref<1x4x4x4xi8> to tensor<1x4x4x4xi8>
func.func @qconv_u8(%x: tensor<1x3x8x8xui8>, %xz: tensor<ui8>) -> tensor<1x4x4x4xui8> {
  %w = sparq.constant dense<2> : tensor<4x3x3x3xi8>
  %wz = sparq.constant dense<[0, 1, 2, 3]> : tensor<4xi8>
  %s = sparq.constant dense<[0.5, 0.25, 0.125, 0.0625]> : tensor<4xf32>
  %b = sparq.constant dense<[1, 2, 3, 4]> : tensor<4xi32>
  %0 = sparq.qconv %x, %w, %xz, %wz scale %s bias %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 0, 0>, dilations = array<i64: 1, 1>, out_zero_point = 7 : i64, qmin = 7 : i64} : (tensor<1x3x8x8xui8>, tensor<4x3x3x3xi8>, tensor<ui8>, tensor<4xi8>, tensor<4xf32>, tensor<4xi32>) -> tensor<1x4x4x4xui8>
  return %0 : tensor<1x4x4x4xui8>
}

// qlinear_matmul with constant scales: the multiplier a_scale * b_scale[n] /
// y_scale is folded in f32 (numpy.float32: (0.02 * 0.004) / 0.03 =
// 0.0026666669, (0.02 * 0.006) / 0.03 = 0.004).
// CHECK-LABEL: func.func @qlinear_matmul_const
// CHECK: %[[M:.+]] = arith.constant dense<[0.00266666687, 4.000000e-03]> : tensor<2xf32>
// CHECK: %[[MB:.+]] = bufferization.to_buffer %[[M]] read_only
// CHECK: %[[MI:.+]] = memref.extract_aligned_pointer_as_index %[[MB]]
// CHECK: %[[MJ:.+]] = arith.index_cast %[[MI]]
// CHECK: %[[PM:.+]] = llvm.inttoptr %[[MJ]]
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<3x2xi8>
// CHECK: llvm.inttoptr
// batch, M, N, K, strideA, strideB, strideC, transB, aType (u8), bType (s8).
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: arith.constant 3 : i64
// CHECK-NEXT: arith.constant 2 : i64
// CHECK-NEXT: arith.constant 4 : i64
// CHECK-NEXT: arith.constant 12 : i64
// CHECK-NEXT: arith.constant 8 : i64
// CHECK-NEXT: arith.constant 6 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 1 : i64
// aZeroPerRow, bZeroPerCol, outKind (U8), scalePerCol, outZero, qmin, qmax.
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: arith.constant 2 : i64
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: arith.constant 200 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 255 : i64
// CHECK: call @sparq_uk_qmatmul_i8({{.+}}, %[[PM]], %{{.+}}, %{{.+}}, %{{.+}}
func.func @qlinear_matmul_const(%a: tensor<3x4xui8>, %az: tensor<ui8>) -> tensor<3x2xui8> {
  %as = sparq.constant dense<0.02> : tensor<f32>
  %b = sparq.constant dense<5> : tensor<4x2xi8>
  %bs = sparq.constant dense<[0.004, 0.006]> : tensor<2xf32>
  %bz = sparq.constant dense<0> : tensor<2xi8>
  %ys = sparq.constant dense<0.03> : tensor<f32>
  %yz = sparq.constant dense<200> : tensor<ui8>
  %0 = sparq.qlinear_matmul %a, %as, %az, %b, %bs, %bz, %ys, %yz : (tensor<3x4xui8>, tensor<f32>, tensor<ui8>, tensor<4x2xi8>, tensor<2xf32>, tensor<2xi8>, tensor<f32>, tensor<ui8>) -> tensor<3x2xui8>
  return %0 : tensor<3x2xui8>
}

// Runtime scales: the multiplier is computed by a generic, product first.
// CHECK-LABEL: func.func @qlinear_matmul_runtime_scales
// CHECK: %[[G:.+]] = linalg.generic
// CHECK: %[[P:.+]] = arith.mulf %{{.+}}, %{{.+}} : f32
// CHECK-NEXT: %[[Q:.+]] = arith.divf %[[P]], %{{.+}} : f32
// CHECK-NEXT: linalg.yield %[[Q]]
// CHECK: bufferization.to_buffer %[[G]] read_only : tensor<1xf32>
// CHECK: call @sparq_uk_qmatmul_i8(
func.func @qlinear_matmul_runtime_scales(%a: tensor<3x4xi8>, %as: tensor<f32>, %b: tensor<4x2xi8>, %bs: tensor<1xf32>, %ys: tensor<f32>) -> tensor<3x2xi8> {
  %z = sparq.constant dense<0> : tensor<i8>
  %0 = sparq.qlinear_matmul %a, %as, %z, %b, %bs, %z, %ys, %z : (tensor<3x4xi8>, tensor<f32>, tensor<i8>, tensor<4x2xi8>, tensor<1xf32>, tensor<i8>, tensor<f32>, tensor<i8>) -> tensor<3x2xi8>
  return %0 : tensor<3x2xi8>
}

// A runtime output zero point is left to the generic lowering.
// CHECK-LABEL: func.func @qlinear_matmul_runtime_zero_point
// CHECK-NOT: call @sparq_uk_qmatmul_i8
// CHECK: linalg.generic
func.func @qlinear_matmul_runtime_zero_point(%a: tensor<3x4xi8>, %b: tensor<4x2xi8>, %yz: tensor<i8>) -> tensor<3x2xi8> {
  %s = sparq.constant dense<0.5> : tensor<f32>
  %z = sparq.constant dense<0> : tensor<i8>
  %0 = sparq.qlinear_matmul %a, %s, %z, %b, %s, %z, %s, %yz : (tensor<3x4xi8>, tensor<f32>, tensor<i8>, tensor<4x2xi8>, tensor<f32>, tensor<i8>, tensor<f32>, tensor<i8>) -> tensor<3x2xi8>
  return %0 : tensor<3x2xi8>
}

// matmul_integer: i32 result, no epilogue; a broadcast batch of B (stride 0)
// and a non-constant B (flags 0).
// CHECK-LABEL: func.func @matmul_integer_batched
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<2x3x5xi32>
// CHECK: llvm.inttoptr
// CHECK-NEXT: arith.constant 2 : i64
// CHECK-NEXT: arith.constant 3 : i64
// CHECK-NEXT: arith.constant 5 : i64
// CHECK-NEXT: arith.constant 4 : i64
// CHECK-NEXT: arith.constant 12 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 15 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK: arith.constant 0.000000e+00 : f32
// CHECK-NEXT: arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[FLAGS:.+]] = arith.constant 0 : i64
// CHECK-NEXT: call @sparq_uk_qmatmul_i8({{.+}}, %[[FLAGS]])
func.func @matmul_integer_batched(%a: tensor<2x3x4xui8>, %b: tensor<4x5xui8>, %z: tensor<ui8>) -> tensor<2x3x5xi32> {
  %0 = sparq.matmul_integer %a, %b, %z, %z : (tensor<2x3x4xui8>, tensor<4x5xui8>, tensor<ui8>, tensor<ui8>) -> tensor<2x3x5xi32>
  return %0 : tensor<2x3x5xi32>
}

// conv_integer (2-d) becomes the conv kernel with an i32 result; a 3-d one
// stays on the generic lowering.
// CHECK-LABEL: func.func @conv_integer_2d
// CHECK: call @sparq_uk_qconv2d_i8(
// CHECK: bufferization.to_tensor %{{.+}} : memref<1x2x4x4xi32> to tensor<1x2x4x4xi32>
// CHECK-LABEL: func.func @conv_integer_3d
// CHECK-NOT: call @sparq_uk_qconv2d_i8
// CHECK: linalg.generic
func.func @conv_integer_2d(%x: tensor<1x2x4x4xui8>, %w: tensor<2x2x1x1xui8>, %z: tensor<ui8>) -> tensor<1x2x4x4xi32> {
  %0 = sparq.conv_integer %x, %w, %z, %z {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xui8>, tensor<2x2x1x1xui8>, tensor<ui8>, tensor<ui8>) -> tensor<1x2x4x4xi32>
  return %0 : tensor<1x2x4x4xi32>
}
func.func @conv_integer_3d(%x: tensor<1x2x4x4x4xui8>, %w: tensor<2x2x1x1x1xui8>, %z: tensor<ui8>) -> tensor<1x2x4x4x4xi32> {
  %0 = sparq.conv_integer %x, %w, %z, %z {strides = array<i64: 1, 1, 1>, pads = array<i64: 0, 0, 0, 0, 0, 0>, dilations = array<i64: 1, 1, 1>} : (tensor<1x2x4x4x4xui8>, tensor<2x2x1x1x1xui8>, tensor<ui8>, tensor<ui8>) -> tensor<1x2x4x4x4xi32>
  return %0 : tensor<1x2x4x4x4xi32>
}

// qlinear_conv: the i32 bias pointer and the folded multiplier
// (float32(0.5) * 0.25 / 0.125 = 1.0).
// CHECK-LABEL: func.func @qlinear_conv
// CHECK-SAME: %[[BIAS:[^:]+]]: tensor<2xi32>
// CHECK: %[[M:.+]] = arith.constant dense<1.000000e+00> : tensor<1xf32>
// CHECK: bufferization.to_buffer %[[BIAS]] read_only
// CHECK: bufferization.to_buffer %[[M]] read_only
// CHECK: call @sparq_uk_qconv2d_i8(
func.func @qlinear_conv(%x: tensor<1x2x4x4xi8>, %w: tensor<2x2x1x1xi8>, %bias: tensor<2xi32>) -> tensor<1x2x4x4xi8> {
  %s = sparq.constant dense<0.5> : tensor<f32>
  %ws = sparq.constant dense<0.25> : tensor<f32>
  %ys = sparq.constant dense<0.125> : tensor<f32>
  %z = sparq.constant dense<0> : tensor<i8>
  %0 = sparq.qlinear_conv %x, %s, %z, %w, %ws, %z, %ys, %z bias %bias {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xi8>, tensor<f32>, tensor<i8>, tensor<2x2x1x1xi8>, tensor<f32>, tensor<i8>, tensor<f32>, tensor<i8>, tensor<2xi32>) -> tensor<1x2x4x4xi8>
  return %0 : tensor<1x2x4x4xi8>
}

// A qmatmul with an f32 result: outKind F32, scale and f32 bias pointers,
// the activation code (gelu = 6).
// CHECK-LABEL: func.func @qmatmul_f32
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<3x5xf32>
// CHECK: arith.constant 1 : i64
// CHECK: arith.constant 6 : i64
// CHECK-NEXT: arith.constant 0.000000e+00 : f32
// CHECK-NEXT: arith.constant 0.000000e+00 : f32
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: call @sparq_uk_qmatmul_i8(
func.func @qmatmul_f32(%a: tensor<3x4xui8>, %z: tensor<ui8>, %s: tensor<5xf32>, %bf: tensor<5xf32>) -> tensor<3x5xf32> {
  %b = sparq.constant dense<3> : tensor<5x4xi8>
  %bz = sparq.constant dense<0> : tensor<i8>
  %0 = sparq.qmatmul %a, %b, %z, %bz scale %s bias_f32 %bf {trans_b = true, activation = #sparq.activation<gelu>} : (tensor<3x4xui8>, tensor<5x4xi8>, tensor<ui8>, tensor<i8>, tensor<5xf32>, tensor<5xf32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// matmul_nbits: M folds the leading dims; N, K, bits, block size.
// CHECK-LABEL: func.func @matmul_nbits
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<2x3x8xf32>
// CHECK: llvm.inttoptr
// CHECK-NEXT: arith.constant 6 : i64
// CHECK-NEXT: arith.constant 8 : i64
// CHECK-NEXT: arith.constant 32 : i64
// CHECK-NEXT: arith.constant 4 : i64
// CHECK-NEXT: arith.constant 16 : i64
// CHECK: call @sparq_uk_matmul_nbits_f32(
func.func @matmul_nbits(%a: tensor<2x3x32xf32>) -> tensor<2x3x8xf32> {
  %b = sparq.constant dense<17> : tensor<8x2x8xui8>
  %s = sparq.constant dense<0.5> : tensor<8x2xf32>
  %0 = sparq.matmul_nbits %a, %b, %s {k = 32 : i64, n = 8 : i64, bits = 4 : i64, block_size = 16 : i64} : (tensor<2x3x32xf32>, tensor<8x2x8xui8>, tensor<8x2xf32>) -> tensor<2x3x8xf32>
  return %0 : tensor<2x3x8xf32>
}

// The runtime reads scale and bias_f32 with one per-channel flag: a
// one-element scale next to a per-column bias is broadcast to N entries.
// CHECK-LABEL: func.func @qmatmul_scale_broadcast
// CHECK-SAME: %[[S:[^:]+]]: tensor<1xf32>
// CHECK: %[[SV:.+]] = linalg.generic {{.+}} ins(%[[S]] : tensor<1xf32>) outs(%{{.+}} : tensor<5xf32>)
// CHECK: bufferization.to_buffer %[[SV]] read_only : tensor<5xf32>
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<3x5xf32>
// strideC, transB, aType (u8), bType (s8), aZeroPerRow, bZeroPerCol,
// outKind (F32), scalePerCol (1).
// CHECK: arith.constant 15 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: arith.constant 1 : i64
// CHECK: call @sparq_uk_qmatmul_i8(
func.func @qmatmul_scale_broadcast(%a: tensor<3x4xui8>, %z: tensor<ui8>, %s: tensor<1xf32>, %bf: tensor<5xf32>) -> tensor<3x5xf32> {
  %b = sparq.constant dense<3> : tensor<4x5xi8>
  %bz = sparq.constant dense<0> : tensor<i8>
  %0 = sparq.qmatmul %a, %b, %z, %bz scale %s bias_f32 %bf : (tensor<3x4xui8>, tensor<4x5xi8>, tensor<ui8>, tensor<i8>, tensor<1xf32>, tensor<5xf32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// A static f32 -> u8 dynamic_quantize_linear is one runtime call writing the
// values, the scale and the zero point.
// CHECK-LABEL: func.func @dynamic_quantize
// CHECK-NOT: linalg.generic
// CHECK: %[[N:.+]] = arith.constant 24 : i64
// CHECK: call @sparq_rt_dynamic_quantize_u8(%{{.+}}, %{{.+}}, %[[N]], %{{.+}}, %{{.+}}, %{{.+}})
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @dynamic_quantize(%x: tensor<4x6xf32>) -> (tensor<4x6xui8>, tensor<f32>, tensor<ui8>) {
  %y, %s, %z = sparq.dynamic_quantize_linear %x : (tensor<4x6xf32>) -> (tensor<4x6xui8>, tensor<f32>, tensor<ui8>)
  return %y, %s, %z : tensor<4x6xui8>, tensor<f32>, tensor<ui8>
}

// A qadd becomes one sparq_uk_qadd_i8 call on the two 8-bit buffers: n,
// type (s8), then each scale and zero point, qmin and qmax.
// CHECK-LABEL: func.func @qadd_s8
// CHECK: %[[A:.+]] = bufferization.to_buffer %arg0 read_only
// CHECK: %[[B:.+]] = bufferization.to_buffer %arg1 read_only
// CHECK: %[[ALLOC:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x3x5xi8>
// CHECK: llvm.inttoptr
// CHECK-NEXT: arith.constant 30 : i64
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: arith.constant 5.000000e-01 : f32
// CHECK-NEXT: arith.constant -3 : i64
// CHECK-NEXT: arith.constant 2.500000e-01 : f32
// CHECK-NEXT: arith.constant 4 : i64
// CHECK-NEXT: arith.constant 7.500000e-01 : f32
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: arith.constant 127 : i64
// CHECK-NEXT: call @sparq_uk_qadd_i8(
// CHECK-SAME: (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, f32, i64, f32, i64, f32, i64, i64, i64) -> ()
// CHECK-NEXT: bufferization.to_tensor %[[ALLOC]] restrict writable : memref<2x3x5xi8> to tensor<2x3x5xi8>
func.func @qadd_s8(%a: tensor<2x3x5xi8>, %b: tensor<2x3x5xi8>) -> tensor<2x3x5xi8> {
  %0 = sparq.qadd %a, %b {lhs_scale = 0.5 : f32, lhs_zero_point = -3 : i64, rhs_scale = 0.25 : f32, rhs_zero_point = 4 : i64, out_scale = 0.75 : f32, out_zero_point = 1 : i64, qmin = 1 : i64} : (tensor<2x3x5xi8>, tensor<2x3x5xi8>) -> tensor<2x3x5xi8>
  return %0 : tensor<2x3x5xi8>
}
