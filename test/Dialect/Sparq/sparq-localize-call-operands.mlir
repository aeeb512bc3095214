// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-localize-call-operands))' | FileCheck %s

// Two runtime calls read %x through one pointer chain (as CSE leaves it);
// the pass gives each call its own to_buffer chain right before it and
// erases the shared one, so bufferization sees the second read at the
// second call.
// CHECK-LABEL: func.func @shared_chain
// CHECK-NEXT: %[[B1:.+]] = bufferization.to_buffer %arg0 read_only
// CHECK-NEXT: %[[I1:.+]] = memref.extract_aligned_pointer_as_index %[[B1]]
// CHECK-NEXT: %[[C1:.+]] = arith.index_cast %[[I1]]
// CHECK-NEXT: %[[P1:.+]] = llvm.inttoptr %[[C1]]
// CHECK-NEXT: call @kernel(%[[P1]])
// CHECK: %[[G:.+]] = linalg.generic
// CHECK: %[[B2:.+]] = bufferization.to_buffer %arg0 read_only
// CHECK-NEXT: %[[I2:.+]] = memref.extract_aligned_pointer_as_index %[[B2]]
// CHECK-NEXT: %[[C2:.+]] = arith.index_cast %[[I2]]
// CHECK-NEXT: %[[P2:.+]] = llvm.inttoptr %[[C2]]
// CHECK-NEXT: call @kernel(%[[P2]])
// CHECK-NOT: bufferization.to_buffer
#map = affine_map<(d0) -> (d0)>
func.func private @kernel(!llvm.ptr)
func.func @shared_chain(%x: tensor<8xf32>) -> tensor<8xf32> {
  %b = bufferization.to_buffer %x read_only : tensor<8xf32> to memref<8xf32>
  %i = memref.extract_aligned_pointer_as_index %b : memref<8xf32> -> index
  %c = arith.index_cast %i : index to i64
  %p = llvm.inttoptr %c : i64 to !llvm.ptr
  call @kernel(%p) : (!llvm.ptr) -> ()
  %e = tensor.empty() : tensor<8xf32>
  %g = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]} ins(%x : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %in : f32
    linalg.yield %s : f32
  }  -> tensor<8xf32>
  call @kernel(%p) : (!llvm.ptr) -> ()
  return %g : tensor<8xf32>
}
