// RUN: sparq-opt %s --convert-sparq-to-linalg | FileCheck %s
// Sparse kernel ops call the runtime's sparse micro-kernels with the packed
// blob's address; leading dims fold into M.

// CHECK-DAG: func.func private @sparq_uk_sparse_matmul_f32(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, f32, f32)
// CHECK-DAG: func.func private @sparq_uk_sparse_conv2d_f32(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, f32, f32)

// CHECK-LABEL: func.func @sparse_matmul
// CHECK: %[[CTX:.+]] = call @sparq_rt_current_context()
// CHECK: %[[BLOB:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<64xi8> to memref<64xi8>
// CHECK: %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x3x4xf32>
// M = 2 * 3 rows, activation relu (1).
// CHECK: %[[M:.+]] = arith.constant 6 : i64
// CHECK: %[[ACT:.+]] = arith.constant 1 : i64
// CHECK: call @sparq_uk_sparse_matmul_f32(%[[CTX]], %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[M]], %[[ACT]],
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
func.func @sparse_matmul(%x: tensor<2x3x8xf32>, %blob: tensor<64xi8>, %b: tensor<4xf32>) -> tensor<2x3x4xf32> {
  %0 = sparq.sparse_matmul %x, %blob bias %b {encoding = #sparq.sparsity<unstructured, density = 0.25>, rows = 4 : i64, cols = 8 : i64, activation = #sparq.activation<relu>}
      : (tensor<2x3x8xf32>, tensor<64xi8>, tensor<4xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// CHECK-LABEL: func.func @sparse_conv
// N, C, H, W, K, OH, OW, KH, KW, strides, pads, dilations.
// CHECK: call @sparq_uk_sparse_conv2d_f32(
func.func @sparse_conv(%x: tensor<1x4x8x8xf32>, %blob: tensor<128xi8>) -> tensor<1x2x8x8xf32> {
  %0 = sparq.sparse_conv %x, %blob {encoding = #sparq.sparsity<block 2x1, density = 0.5>, rows = 2 : i64, kernel_shape = array<i64: 3, 3>,
         strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>}
      : (tensor<1x4x8x8xf32>, tensor<128xi8>) -> tensor<1x2x8x8xf32>
  return %0 : tensor<1x2x8x8xf32>
}
