// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-sparse-int8{mode=force}),convert-sparq-to-linalg)' | FileCheck %s

// sparq.sparse_qmatmul becomes one call of the runtime's sparse int8 kernel:
// ctx, blob, A, C, M (batch dims folded into rows), aType (s8 = 1), aZero,
// outKind (F32 = 1), biasI32, scale, scalePerCol, biasF32, outZero, qmin,
// qmax, act (relu = 1), actA, actB.
// CHECK-DAG: func.func private @sparq_uk_sparse_qmatmul_i8(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, !llvm.ptr, i64, !llvm.ptr, !llvm.ptr, i64, !llvm.ptr, i64, i64, i64, i64, f32, f32)
// CHECK-DAG: func.func private @sparq_uk_sparse_qconv2d_i8(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64, i64, i64, i64, i64, i64, i64, !llvm.ptr, i64, !llvm.ptr, !llvm.ptr, i64, !llvm.ptr, i64, i64, i64, i64, f32, f32)
// CHECK-LABEL: func.func @sparse_f32_out
// CHECK: %[[ALLOC:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x3x4xf32>
// CHECK: %[[M:.+]] = arith.constant 6 : i64
// CHECK-NEXT: %[[ATYPE:.+]] = arith.constant 1 : i64
// CHECK-NEXT: %[[KIND:.+]] = arith.constant 1 : i64
// CHECK-NEXT: %[[PERCOL:.+]] = arith.constant 1 : i64
// CHECK: call @sparq_uk_sparse_qmatmul_i8(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[M]], %[[ATYPE]], %{{.+}}, %[[KIND]], %{{.+}}, %{{.+}}, %[[PERCOL]], %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}})
// CHECK-NOT: sparq.sparse_qmatmul
func.func @sparse_f32_out(%x: tensor<2x3x8xi8>) -> tensor<2x3x4xf32> {
  %w = sparq.constant dense<[[1, -2, 3, 4, 0, 0, 0, 0],
                             [0, 0, 0, 0, 0, 0, 0, 0],
                             [0, 0, 0, 0, 0, 0, 5, 0],
                             [0, 0, 0, 0, 0, 0, 0, 0]]> : tensor<4x8xi8>
  %xz = sparq.constant dense<-3> : tensor<i8>
  %wz = sparq.constant dense<0> : tensor<i8>
  %s = sparq.constant dense<[0.5, 0.25, 0.125, 1.0]> : tensor<4xf32>
  %bf = sparq.constant dense<0.5> : tensor<1xf32>
  %0 = sparq.qmatmul %x, %w, %xz, %wz scale %s bias_f32 %bf {trans_b = true, activation = #sparq.activation<relu>} : (tensor<2x3x8xi8>, tensor<4x8xi8>, tensor<i8>, tensor<i8>, tensor<4xf32>, tensor<1xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// sparq.sparse_qconv (1x1): ctx, blob, X, Y, N, C, H, W, OH, OW, strideH,
// strideW, xType (u8 = 0), xZero, outKind (S8 = 3), biasI32, scale,
// scalePerChannel, biasF32, outZero, qmin, qmax, act, actA, actB.
// CHECK-LABEL: func.func @sparse_conv
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<2x4x2x3xi8>
// CHECK: %[[N:.+]] = arith.constant 2 : i64
// CHECK-NEXT: %[[C:.+]] = arith.constant 8 : i64
// CHECK-NEXT: %[[H:.+]] = arith.constant 3 : i64
// CHECK-NEXT: %[[W:.+]] = arith.constant 5 : i64
// CHECK-NEXT: %[[OH:.+]] = arith.constant 2 : i64
// CHECK-NEXT: %[[OW:.+]] = arith.constant 3 : i64
// CHECK-NEXT: %[[SH:.+]] = arith.constant 2 : i64
// CHECK-NEXT: %[[SW:.+]] = arith.constant 2 : i64
// CHECK-NEXT: %[[XT:.+]] = arith.constant 0 : i64
// CHECK-NEXT: %[[KIND:.+]] = arith.constant 3 : i64
// CHECK: call @sparq_uk_sparse_qconv2d_i8(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[N]], %[[C]], %[[H]], %[[W]], %[[OH]], %[[OW]], %[[SH]], %[[SW]], %[[XT]], %{{.+}}, %[[KIND]],
// CHECK-NOT: sparq.sparse_qconv
func.func @sparse_conv(%x: tensor<2x8x3x5xui8>) -> tensor<2x4x2x3xi8> {
  %w = sparq.constant dense<[[[[1]], [[2]], [[3]], [[4]], [[0]], [[0]], [[0]], [[0]]],
                             [[[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]]],
                             [[[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[9]]],
                             [[[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]]]]> : tensor<4x8x1x1xi8>
  %xz = sparq.constant dense<7> : tensor<ui8>
  %wz = sparq.constant dense<0> : tensor<i8>
  %s = sparq.constant dense<[0.5, 0.25, 0.125, 1.0]> : tensor<4xf32>
  %b = sparq.constant dense<[1, 2, 3, 4]> : tensor<4xi32>
  %0 = sparq.qconv %x, %w, %xz, %wz scale %s bias %b {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<2x8x3x5xui8>, tensor<4x8x1x1xi8>, tensor<ui8>, tensor<i8>, tensor<4xf32>, tensor<4xi32>) -> tensor<2x4x2x3xi8>
  return %0 : tensor<2x4x2x3xi8>
}
