// RUN: sparq-opt %s --sparq-graph-pipeline --sparq-cpu-lowering-pipeline | FileCheck %s
// The registered pipelines reproduce sparq-compile: kernels become runtime
// calls, intermediates live in the arena argument, the entry takes bare
// pointers.

// CHECK: module attributes {{{.*}}sparq.arena_size = {{[1-9][0-9]*}} : i64
// CHECK: llvm.func @sparq_uk_matmul_f32(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr
// CHECK-LABEL: llvm.func @main(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK-NOT: llvm.call @malloc
// CHECK: llvm.call @sparq_rt_current_context()
// CHECK: llvm.call @sparq_uk_matmul_f32
// CHECK-NOT: llvm.call @malloc
// CHECK: llvm.return
func.func @main(%x: tensor<4x8xf32>) -> tensor<4x16xf32> {
  %w = sparq.constant dense<0.5> : tensor<8x16xf32>
  %b = sparq.constant dense<1.0> : tensor<16xf32>
  %0 = sparq.matmul %x, %w : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %1 = sparq.add %0, %b : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %2 = sparq.tanh %1 : tensor<4x16xf32> -> tensor<4x16xf32>
  %3 = sparq.mul %2, %1 : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %3 : tensor<4x16xf32>
}
