// RUN: sparq-opt %s --convert-sparq-to-linalg | FileCheck %s

// A 2-d max pool over f32, u8 or s8 with static shapes is one call of the
// runtime kernel; other ranks and element types keep the linalg lowering.

// CHECK: func.func private @sparq_uk_max_pool2d(!llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)

// The ResNet stem pool. Arguments: ctx, X, Y, elemType (SPARQ_DTYPE_F32 =
// 1), N, C, H, W, OH, OW, KH, KW, strides, pads (top, left), dilations.
// CHECK-LABEL: func.func @pool_f32
// CHECK-NOT: linalg.generic
// CHECK: %[[CTX:.+]] = call @sparq_rt_current_context()
// CHECK: %[[IN:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<1x64x112x112xf32> to memref<1x64x112x112xf32>
// CHECK: %[[ALLOC:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x64x56x56xf32>
// CHECK: %[[PY:.+]] = llvm.inttoptr
// CHECK-NEXT: %[[TYPE:.+]] = arith.constant 1 : i64
// CHECK-NEXT: %[[N:.+]] = arith.constant 1 : i64
// CHECK-NEXT: %[[C:.+]] = arith.constant 64 : i64
// CHECK-NEXT: %[[H:.+]] = arith.constant 112 : i64
// CHECK-NEXT: %[[W:.+]] = arith.constant 112 : i64
// CHECK-NEXT: %[[OH:.+]] = arith.constant 56 : i64
// CHECK-NEXT: %[[OW:.+]] = arith.constant 56 : i64
// CHECK-NEXT: %[[KH:.+]] = arith.constant 3 : i64
// CHECK-NEXT: %[[KW:.+]] = arith.constant 3 : i64
// CHECK-NEXT: %[[SH:.+]] = arith.constant 2 : i64
// CHECK-NEXT: %[[SW:.+]] = arith.constant 2 : i64
// CHECK-NEXT: %[[PT:.+]] = arith.constant 1 : i64
// CHECK-NEXT: %[[PL:.+]] = arith.constant 1 : i64
// CHECK-NEXT: %[[DH:.+]] = arith.constant 1 : i64
// CHECK-NEXT: %[[DW:.+]] = arith.constant 1 : i64
// CHECK-NEXT: call @sparq_uk_max_pool2d(%[[CTX]], %{{.+}}, %[[PY]], %[[TYPE]], %[[N]], %[[C]], %[[H]], %[[W]], %[[OH]], %[[OW]], %[[KH]], %[[KW]], %[[SH]], %[[SW]], %[[PT]], %[[PL]], %[[DH]], %[[DW]])
// CHECK: %[[R:.+]] = bufferization.to_tensor %[[ALLOC]] restrict writable
// CHECK: return %[[R]]
func.func @pool_f32(%x: tensor<1x64x112x112xf32>) -> tensor<1x64x56x56xf32> {
  %0 = sparq.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : tensor<1x64x112x112xf32> -> tensor<1x64x56x56xf32>
  return %0 : tensor<1x64x56x56xf32>
}

// u8 (SPARQ_DTYPE_U8 = 9) under ceil_mode: OH/OW carry the extra window,
// asymmetric pads pass top/left, dilations and rectangular kernels pass
// through.
// CHECK-LABEL: func.func @pool_u8_ceil
// CHECK-NOT: linalg.generic
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<2x3x4x5xi8>
// CHECK: llvm.inttoptr
// CHECK-NEXT: arith.constant 9 : i64
// CHECK-NEXT: arith.constant 2 : i64
// CHECK-NEXT: arith.constant 3 : i64
// CHECK-NEXT: arith.constant 10 : i64
// CHECK-NEXT: arith.constant 11 : i64
// CHECK-NEXT: arith.constant 4 : i64
// CHECK-NEXT: arith.constant 5 : i64
// CHECK-NEXT: arith.constant 2 : i64
// CHECK-NEXT: arith.constant 3 : i64
// CHECK-NEXT: arith.constant 3 : i64
// CHECK-NEXT: arith.constant 2 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: arith.constant 2 : i64
// CHECK-NEXT: call @sparq_uk_max_pool2d
func.func @pool_u8_ceil(%x: tensor<2x3x10x11xui8>) -> tensor<2x3x4x5xui8> {
  %0 = sparq.max_pool %x {kernel_shape = array<i64: 2, 3>, strides = array<i64: 3, 2>, pads = array<i64: 0, 1, 0, 0>, dilations = array<i64: 1, 2>, ceil_mode = true} : tensor<2x3x10x11xui8> -> tensor<2x3x4x5xui8>
  return %0 : tensor<2x3x4x5xui8>
}

// s8 (SPARQ_DTYPE_I8 = 5).
// CHECK-LABEL: func.func @pool_s8
// CHECK-NOT: linalg.generic
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<1x8x3x3xi8>
// CHECK: llvm.inttoptr
// CHECK-NEXT: arith.constant 5 : i64
// CHECK: call @sparq_uk_max_pool2d
func.func @pool_s8(%x: tensor<1x8x6x6xi8>) -> tensor<1x8x3x3xi8> {
  %0 = sparq.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x8x6x6xi8> -> tensor<1x8x3x3xi8>
  return %0 : tensor<1x8x3x3xi8>
}

// A 1-d pool (rank 3) stays linalg.
// CHECK-LABEL: func.func @pool_1d
// CHECK-NOT: call @sparq_uk_max_pool2d
// CHECK: linalg.generic
// CHECK: arith.maximumf
// CHECK-NOT: call @sparq_uk_max_pool2d
// CHECK: return
func.func @pool_1d(%x: tensor<1x4x9xf32>) -> tensor<1x4x4xf32> {
  %0 = sparq.max_pool %x {kernel_shape = array<i64: 3>, strides = array<i64: 2>, pads = array<i64: 0, 0>, dilations = array<i64: 1>} : tensor<1x4x9xf32> -> tensor<1x4x4xf32>
  return %0 : tensor<1x4x4xf32>
}

// A 3-d pool (rank 5) stays linalg.
// CHECK-LABEL: func.func @pool_3d
// CHECK-NOT: call @sparq_uk_max_pool2d
// CHECK: linalg.generic
// CHECK: arith.maxui
// CHECK-NOT: call @sparq_uk_max_pool2d
// CHECK: return
func.func @pool_3d(%x: tensor<1x2x4x4x4xui8>) -> tensor<1x2x2x2x2xui8> {
  %0 = sparq.max_pool %x {kernel_shape = array<i64: 2, 2, 2>, strides = array<i64: 2, 2, 2>, pads = array<i64: 0, 0, 0, 0, 0, 0>, dilations = array<i64: 1, 1, 1>} : tensor<1x2x4x4x4xui8> -> tensor<1x2x2x2x2xui8>
  return %0 : tensor<1x2x2x2x2xui8>
}

// A 2-d pool over i32 (no kernel) stays linalg.
// CHECK-LABEL: func.func @pool_i32
// CHECK-NOT: call @sparq_uk_max_pool2d
// CHECK: linalg.generic
// CHECK: arith.maxsi
// CHECK-NOT: call @sparq_uk_max_pool2d
// CHECK: return
func.func @pool_i32(%x: tensor<1x2x4x4xi32>) -> tensor<1x2x2x2xi32> {
  %0 = sparq.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x2x4x4xi32> -> tensor<1x2x2x2xi32>
  return %0 : tensor<1x2x2x2xi32>
}
