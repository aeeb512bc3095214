// RUN: sparq-opt %s --sparq-plan-memory | FileCheck %s

// Three 1 KiB buffers: %a dies when %c is allocated, so %c reuses its bytes
// and the arena holds two buffers.
// CHECK: module attributes {sparq.arena_buffers = 3 : i64, sparq.arena_size = 2048 : i64}
// CHECK-LABEL: func @main
// CHECK-SAME: %[[ARENA:[a-z0-9]+]]: memref<2048xi8>)
// CHECK-NOT: memref.alloc
// CHECK: %[[C0:.+]] = arith.constant 0 : index
// CHECK: %[[A:.+]] = memref.view %[[ARENA]][%[[C0]]][] : memref<2048xi8> to memref<256xf32>
// CHECK: %[[C1024:.+]] = arith.constant 1024 : index
// CHECK: %[[B:.+]] = memref.view %[[ARENA]][%[[C1024]]][]
// CHECK: memref.copy %[[A]], %[[B]]
// CHECK: %[[C0B:.+]] = arith.constant 0 : index
// CHECK: %[[C:.+]] = memref.view %[[ARENA]][%[[C0B]]][]
// CHECK: memref.copy %[[B]], %[[C]]
func.func @main(%in: memref<256xf32>, %out: memref<256xf32>) {
  %a = memref.alloc() : memref<256xf32>
  memref.copy %in, %a : memref<256xf32> to memref<256xf32>
  %b = memref.alloc() : memref<256xf32>
  memref.copy %a, %b : memref<256xf32> to memref<256xf32>
  %c = memref.alloc() : memref<256xf32>
  memref.copy %b, %c : memref<256xf32> to memref<256xf32>
  memref.copy %c, %out : memref<256xf32> to memref<256xf32>
  return
}
