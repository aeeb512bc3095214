// RUN: sparq-opt %s --convert-sparq-to-linalg | FileCheck %s

// CHECK-DAG: func.func private @sparq_rt_current_context() -> !llvm.ptr
// CHECK-DAG: func.func private @sparq_uk_matmul_f32(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, f32, f32)
// CHECK-DAG: func.func private @sparq_uk_conv2d_f32(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, f32, f32)

// CHECK-LABEL: func.func @matmul_bias_gelu
// CHECK-SAME: (%[[A:.+]]: tensor<2x3x4xf32>, %[[BIAS:.+]]: tensor<5xf32>)
// CHECK: %[[CTX:.+]] = call @sparq_rt_current_context() : () -> !llvm.ptr
// CHECK: %[[BA:.+]] = bufferization.to_buffer %[[A]] read_only : tensor<2x3x4xf32> to memref<2x3x4xf32>
// CHECK: %[[IA:.+]] = memref.extract_aligned_pointer_as_index %[[BA]]
// CHECK: %[[JA:.+]] = arith.index_cast %[[IA]] : index to i64
// CHECK: %[[PA:.+]] = llvm.inttoptr %[[JA]] : i64 to !llvm.ptr
// CHECK: %[[NULL:.+]] = llvm.mlir.zero : !llvm.ptr
// CHECK: %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x3x5xf32>
// CHECK: %[[PC:.+]] = llvm.inttoptr
// Scalars: batch, M, N, K, strideA, strideB (broadcast), strideC, transB,
// flags (constant weight), act (gelu).
// CHECK-NEXT: arith.constant 2 : i64
// CHECK-NEXT: arith.constant 3 : i64
// CHECK-NEXT: arith.constant 5 : i64
// CHECK-NEXT: arith.constant 4 : i64
// CHECK-NEXT: arith.constant 12 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 15 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: arith.constant 6 : i64
// CHECK: call @sparq_uk_matmul_f32(%[[CTX]], %[[PA]], %{{.+}}, %{{.+}}, %[[NULL]], %[[PC]],
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable : memref<2x3x5xf32> to tensor<2x3x5xf32>
func.func @matmul_bias_gelu(%a: tensor<2x3x4xf32>, %bias: tensor<5xf32>) -> tensor<2x3x5xf32> {
  %w = sparq.constant dense<1.0> : tensor<4x5xf32>
  %0 = sparq.fused_matmul %a, %w bias %bias {activation = #sparq.activation<gelu>} : (tensor<2x3x4xf32>, tensor<4x5xf32>, tensor<5xf32>) -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// CHECK-LABEL: func.func @conv_residual
// CHECK: call @sparq_uk_conv2d_f32(
// CHECK: bufferization.to_tensor %{{.+}} restrict writable : memref<1x4x8x8xf32> to tensor<1x4x8x8xf32>
func.func @conv_residual(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %r: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %0 = sparq.fused_conv %x, %w residual %r {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, activation = #sparq.activation<relu>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// sparq.attention: B, S, T, H, D, the scale, then each mask as a pointer
// and its strides over the scores' [B, H, S, T] (0 = broadcast; no add mask
// here: null and zeros), then the fill value.
// CHECK-LABEL: func.func @attention_fill_mask
// CHECK: %[[ALLOC:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x8x4x16xf32>
// CHECK: llvm.inttoptr
// CHECK-NEXT: arith.constant 2 : i64
// CHECK-NEXT: arith.constant 8 : i64
// CHECK-NEXT: arith.constant 8 : i64
// CHECK-NEXT: arith.constant 4 : i64
// CHECK-NEXT: arith.constant 16 : i64
// CHECK-NEXT: arith.constant 1.250000e-01 : f32
// CHECK-NEXT: llvm.mlir.zero
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: bufferization.to_buffer %arg3 read_only : tensor<1x1x8x8xi1>
// CHECK: llvm.inttoptr
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 8 : i64
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: arith.constant -1.000000e+04 : f32
// CHECK-NEXT: call @sparq_uk_attention_f32(
// CHECK-NEXT: bufferization.to_tensor %[[ALLOC]] restrict writable
func.func @attention_fill_mask(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x4x16xf32>, %v: tensor<2x8x4x16xf32>, %causal: tensor<1x1x8x8xi1>) -> tensor<2x8x4x16xf32> {
  %0 = sparq.attention %q, %k, %v fill_mask %causal {fill = -1.0e4 : f32, scale = 0.125 : f32} : (tensor<2x8x4x16xf32>, tensor<2x8x4x16xf32>, tensor<2x8x4x16xf32>, tensor<1x1x8x8xi1>) -> tensor<2x8x4x16xf32>
  return %0 : tensor<2x8x4x16xf32>
}

// An additive [B, 1, 1, T] mask: strides (T, 0, 0, 1).
// CHECK-LABEL: func.func @attention_add_mask
// CHECK: bufferization.to_buffer %arg3 read_only : tensor<2x1x1x8xf32>
// CHECK: llvm.inttoptr
// CHECK-NEXT: arith.constant 8 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 0 : i64
// CHECK-NEXT: arith.constant 1 : i64
// CHECK-NEXT: llvm.mlir.zero
// CHECK: call @sparq_uk_attention_f32(
func.func @attention_add_mask(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x4x16xf32>, %v: tensor<2x8x4x16xf32>, %mask: tensor<2x1x1x8xf32>) -> tensor<2x8x4x16xf32> {
  %0 = sparq.attention %q, %k, %v add_mask %mask {scale = 0.125 : f32} : (tensor<2x8x4x16xf32>, tensor<2x8x4x16xf32>, tensor<2x8x4x16xf32>, tensor<2x1x1x8xf32>) -> tensor<2x8x4x16xf32>
  return %0 : tensor<2x8x4x16xf32>
}
