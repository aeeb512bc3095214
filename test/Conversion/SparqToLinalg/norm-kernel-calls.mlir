// RUN: sparq-opt %s --convert-sparq-to-linalg | FileCheck %s

// Static f32 softmax, log_softmax and layer_norm over the last axis become
// calls of the runtime's row kernels: rows = elements / n, n = last dim.

// CHECK-DAG: func.func private @sparq_uk_softmax_f32(!llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64)
// CHECK-DAG: func.func private @sparq_uk_layer_norm_f32(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, f32)

// CHECK-LABEL: func.func @softmax
// CHECK: %[[CTX:.+]] = call @sparq_rt_current_context()
// CHECK: bufferization.to_buffer %{{.+}} read_only : tensor<1x4x128x128xf32>
// CHECK: %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x4x128x128xf32>
// CHECK-DAG: %[[ROWS:.+]] = arith.constant 512 : i64
// CHECK-DAG: %[[N:.+]] = arith.constant 128 : i64
// CHECK-DAG: %[[MODE:.+]] = arith.constant 0 : i64
// CHECK: call @sparq_uk_softmax_f32(%[[CTX]], %{{.+}}, %{{.+}}, %[[ROWS]], %[[N]], %[[MODE]])
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @softmax(%x: tensor<1x4x128x128xf32>) -> tensor<1x4x128x128xf32> {
  %0 = sparq.softmax %x {axis = 3 : i64} : tensor<1x4x128x128xf32> -> tensor<1x4x128x128xf32>
  return %0 : tensor<1x4x128x128xf32>
}

// Negative axis; log mode 1.
// CHECK-LABEL: func.func @log_softmax
// CHECK-DAG: %[[ROWS:.+]] = arith.constant 3 : i64
// CHECK-DAG: %[[N:.+]] = arith.constant 7 : i64
// CHECK-DAG: %[[MODE:.+]] = arith.constant 1 : i64
// CHECK: call @sparq_uk_softmax_f32(%{{.+}}, %{{.+}}, %{{.+}}, %[[ROWS]], %[[N]], %[[MODE]])
func.func @log_softmax(%x: tensor<3x7xf32>) -> tensor<3x7xf32> {
  %0 = sparq.log_softmax %x {axis = -1 : i64} : tensor<3x7xf32> -> tensor<3x7xf32>
  return %0 : tensor<3x7xf32>
}

// A non-last axis and f16 keep the linalg lowering (the CPU lowering has
// no dynamic dims).
// CHECK-LABEL: func.func @softmax_axis0
// CHECK-NOT: call @sparq_uk_softmax_f32
// CHECK: linalg.generic
// CHECK: return
func.func @softmax_axis0(%x: tensor<3x7xf32>) -> tensor<3x7xf32> {
  %0 = sparq.softmax %x {axis = 0 : i64} : tensor<3x7xf32> -> tensor<3x7xf32>
  return %0 : tensor<3x7xf32>
}

// CHECK-LABEL: func.func @softmax_f16
// CHECK-NOT: call @sparq_uk_softmax_f32
// CHECK: linalg.generic
// CHECK: return
func.func @softmax_f16(%x: tensor<3x7xf16>) -> tensor<3x7xf16> {
  %0 = sparq.softmax %x {axis = 1 : i64} : tensor<3x7xf16> -> tensor<3x7xf16>
  return %0 : tensor<3x7xf16>
}

// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: (%[[X:.+]]: tensor<1x128x256xf32>, %[[S:.+]]: tensor<256xf32>, %[[B:.+]]: tensor<256xf32>)
// CHECK: %[[CTX:.+]] = call @sparq_rt_current_context()
// CHECK: bufferization.to_buffer %[[X]] read_only
// CHECK: bufferization.to_buffer %[[S]] read_only
// CHECK: bufferization.to_buffer %[[B]] read_only
// CHECK: %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x128x256xf32>
// CHECK-DAG: %[[ROWS:.+]] = arith.constant 128 : i64
// CHECK-DAG: %[[N:.+]] = arith.constant 256 : i64
// CHECK-DAG: %[[EPS:.+]] = arith.constant 9.99999996E-13 : f32
// CHECK: call @sparq_uk_layer_norm_f32(%[[CTX]], %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[ROWS]], %[[N]], %[[EPS]])
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @layer_norm(%x: tensor<1x128x256xf32>, %s: tensor<256xf32>, %b: tensor<256xf32>) -> tensor<1x128x256xf32> {
  %0 = sparq.layer_norm %x, %s, %b {axis = -1 : i64, epsilon = 1.0e-12 : f32} : (tensor<1x128x256xf32>, tensor<256xf32>, tensor<256xf32>) -> tensor<1x128x256xf32>
  return %0 : tensor<1x128x256xf32>
}

// No bias: a null pointer.
// CHECK-LABEL: func.func @layer_norm_no_bias
// CHECK: %[[NULL:.+]] = llvm.mlir.zero : !llvm.ptr
// CHECK: call @sparq_uk_layer_norm_f32(%{{.+}}, %{{.+}}, %{{.+}}, %[[NULL]], %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}})
func.func @layer_norm_no_bias(%x: tensor<2x5xf32>, %s: tensor<5xf32>) -> tensor<2x5xf32> {
  %0 = sparq.layer_norm %x, %s {axis = 1 : i64} : (tensor<2x5xf32>, tensor<5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// Normalizing two trailing dims, or a broadcast scalar scale: linalg.
// CHECK-LABEL: func.func @layer_norm_two_axes
// CHECK-NOT: call @sparq_uk_layer_norm_f32
// CHECK: linalg.generic
// CHECK: return
func.func @layer_norm_two_axes(%x: tensor<2x3x4xf32>, %s: tensor<3x4xf32>) -> tensor<2x3x4xf32> {
  %0 = sparq.layer_norm %x, %s {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// CHECK-LABEL: func.func @layer_norm_scalar_scale
// CHECK-NOT: call @sparq_uk_layer_norm_f32
// CHECK: linalg.generic
// CHECK: return
func.func @layer_norm_scalar_scale(%x: tensor<2x5xf32>, %s: tensor<1xf32>) -> tensor<2x5xf32> {
  %0 = sparq.layer_norm %x, %s {axis = 1 : i64} : (tensor<2x5xf32>, tensor<1xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}
