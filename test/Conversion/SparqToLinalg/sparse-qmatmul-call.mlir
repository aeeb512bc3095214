// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-sparse-int8{mode=force}),convert-sparq-to-linalg)' | FileCheck %s

// sparq.sparse_qmatmul becomes one call of the runtime's sparse int8 kernel:
// ctx, blob, A, C, M (batch dims folded into rows), aType (s8 = 1), aZero,
// outKind (F32 = 1), biasI32, scale, scalePerCol, biasF32, outZero, qmin,
// qmax, act (relu = 1), actA, actB.
// CHECK-DAG: func.func private @sparq_uk_sparse_qmatmul_i8(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, !llvm.ptr, i64, !llvm.ptr, !llvm.ptr, i64, !llvm.ptr, i64, i64, i64, i64, f32, f32)
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
