// RUN: sparq-opt %s --sparq-parallelize-loops | FileCheck %s
// RUN: sparq-opt %s --sparq-parallelize-loops=min-work=1000000000 | FileCheck %s --check-prefix=SERIAL
// RUN: sparq-opt %s --sparq-parallelize-loops=entry=model | FileCheck %s --check-prefix=LIN
// Large outermost scf.parallel loops of the entry become parallel_for calls
// over an outlined body; small loops and other functions stay serial.

// CHECK-DAG: func.func private @sparq_rt_parallel_for(!llvm.ptr, i64, (!llvm.ptr, i64, i64) -> (), !llvm.ptr)
// CHECK-DAG: func.func private @sparq_rt_current_context() -> !llvm.ptr

// SERIAL-NOT: sparq_rt_parallel_for
// SERIAL-NOT: _par_

memref.global "private" constant @bias : memref<256xf32> = dense<1.0>

// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[IN:[^:]+]]: memref<1x128x256xf32>, %[[OUT:[^:]+]]: memref<1x128x256xf32>, %[[ARENA:[^:]+]]: memref<4096xi8>, %[[S:[^:]+]]: f32)
// CHECK-DAG: %[[EW:.+]] = llvm.alloca %{{.+}} x !llvm.struct<(ptr, f32, ptr)>
// CHECK-DAG: %[[RED:.+]] = llvm.alloca %{{.+}} x !llvm.struct<(ptr, ptr)>

// The elementwise loop: 128 rows in parallel, the row stays serial.
// CHECK: %[[F0:.+]] = llvm.getelementptr %[[EW]][0, 0]
// CHECK: %[[P0:.+]] = memref.extract_aligned_pointer_as_index %[[IN]]
// CHECK: %[[I0:.+]] = arith.index_cast %[[P0]] : index to i64
// CHECK: %[[Q0:.+]] = llvm.inttoptr %[[I0]] : i64 to !llvm.ptr
// CHECK: llvm.store %[[Q0]], %[[F0]]
// CHECK: %[[F1:.+]] = llvm.getelementptr %[[EW]][0, 1]
// CHECK: llvm.store %[[S]], %[[F1]] : f32, !llvm.ptr
// CHECK: memref.extract_aligned_pointer_as_index %[[OUT]]
// CHECK: %[[CTX:.+]] = call @sparq_rt_current_context()
// CHECK: %[[N:.+]] = arith.constant 128 : i64
// CHECK: %[[FN:.+]] = constant @main_par_0 : (!llvm.ptr, i64, i64) -> ()
// CHECK: call @sparq_rt_parallel_for(%[[CTX]], %[[N]], %[[FN]], %[[EW]])

// The row reduction: its parallel rows are outlined with the inner scf.for.
// CHECK: %[[FN1:.+]] = constant @main_par_1
// CHECK: call @sparq_rt_parallel_for(%{{.+}}, %{{.+}}, %[[FN1]], %[[RED]])

// The small fill stays a serial scf.parallel.
// CHECK: scf.parallel
// CHECK-NOT: sparq_rt_parallel_for
// CHECK: return
func.func @main(%in: memref<1x128x256xf32>, %out: memref<1x128x256xf32>,
                %arena: memref<4096xi8>, %s: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c128 = arith.constant 128 : index
  %c256 = arith.constant 256 : index
  %cst = arith.constant 2.0 : f32
  %b = memref.get_global @bias : memref<256xf32>
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%c1, %c128, %c256)
      step (%c1, %c1, %c1) {
    %x = memref.load %in[%i, %j, %k] : memref<1x128x256xf32>
    %y = memref.load %b[%k] : memref<256xf32>
    %z = arith.addf %x, %y : f32
    %w = arith.mulf %z, %s : f32
    memref.store %w, %out[%i, %j, %k] : memref<1x128x256xf32>
    scf.reduce
  }
  %acc = memref.view %arena[%c0][] : memref<4096xi8> to memref<1x128xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c1, %c128) step (%c1, %c1) {
    scf.for %k = %c0 to %c256 step %c1 {
      %x = memref.load %in[%i, %j, %k] : memref<1x128x256xf32>
      %a = memref.load %acc[%i, %j] : memref<1x128xf32>
      %sum = arith.addf %x, %a : f32
      memref.store %sum, %acc[%i, %j] : memref<1x128xf32>
    }
    scf.reduce
  }
  %small = memref.view %arena[%c0][] : memref<4096xi8> to memref<8xf32>
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %cst, %small[%i] : memref<8xf32>
    scf.reduce
  }
  return
}

// The outlined elementwise body: buffers rebuilt from the closure, the
// global rematerialized, the chunk [begin, end) over rows.
// CHECK-LABEL: func.func private @main_par_0(
// CHECK-SAME: %[[CL:[^:]+]]: !llvm.ptr, %[[BEGIN:[^:]+]]: i64, %[[END:[^:]+]]: i64)
// CHECK-SAME: llvm.linkage = #llvm.linkage<internal>
// CHECK: %[[G0:.+]] = llvm.getelementptr %[[CL]][0, 0]
// CHECK: %[[PIN:.+]] = llvm.load %[[G0]] : !llvm.ptr -> !llvm.ptr
// CHECK: llvm.insertvalue %[[PIN]], %{{.+}}[1] : !llvm.struct<(ptr, ptr, i64, array<3 x i64>, array<3 x i64>)>
// CHECK: %[[MIN:.+]] = builtin.unrealized_conversion_cast %{{.+}} : !llvm.struct<(ptr, ptr, i64, array<3 x i64>, array<3 x i64>)> to memref<1x128x256xf32>
// CHECK: %[[SV:.+]] = llvm.load %{{.+}} : !llvm.ptr -> f32
// CHECK: %[[MOUT:.+]] = builtin.unrealized_conversion_cast %{{.+}} to memref<1x128x256xf32>
// CHECK: %[[BIAS:.+]] = memref.get_global @bias
// CHECK: %[[LO:.+]] = arith.index_cast %[[BEGIN]] : i64 to index
// CHECK: %[[HI:.+]] = arith.index_cast %[[END]] : i64 to index
// CHECK: scf.for %[[CHUNK:.+]] = %[[LO]] to %[[HI]]
// CHECK: %[[ROW:.+]] = arith.remui %[[CHUNK]], %{{.+}} : index
// CHECK: scf.for %[[COL:.+]] = %{{.+}} to %{{.+}} step
// CHECK: memref.load %[[MIN]][%{{.+}}, %[[ROW]], %[[COL]]]
// CHECK: memref.load %[[BIAS]][%[[COL]]]
// CHECK: arith.mulf %{{.+}}, %[[SV]]
// CHECK: memref.store %{{.+}}, %[[MOUT]][%{{.+}}, %[[ROW]], %[[COL]]]
// CHECK-NOT: scf.parallel
// CHECK: return

// The outlined reduction keeps its serial reduction loop per row; the view
// of the arena is rebuilt inside.
// CHECK-LABEL: func.func private @main_par_1(
// CHECK: %[[ARENA1:.+]] = builtin.unrealized_conversion_cast %{{.+}} to memref<4096xi8>
// CHECK: %[[ACC:.+]] = memref.view %[[ARENA1]]
// CHECK: scf.for %[[C1:.+]] = %{{.+}} to %{{.+}} step
// CHECK: %[[R:.+]] = arith.remui %[[C1]]
// CHECK: scf.for
// CHECK: memref.store %{{.+}}, %[[ACC]][%{{.+}}, %[[R]]]
// CHECK: return

// Loops outside the entry function stay serial.
// CHECK-LABEL: func.func @helper(
// CHECK: scf.parallel
// CHECK-NOT: sparq_rt_parallel_for
func.func @helper(%buf: memref<1024x1024xf32>, %v: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c1024 = arith.constant 1024 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c1024, %c1024) step (%c1, %c1) {
    memref.store %v, %buf[%i, %j] : memref<1024x1024xf32>
    scf.reduce
  }
  return
}

// With another entry, only that function's loops are outlined. Leading
// dimensions are linearized until they give 64 chunks (2 x 4 x 8 here), the
// innermost one stays a loop.
// LIN-LABEL: func.func @main(
// LIN-NOT: sparq_rt_parallel_for
// LIN-LABEL: func.func @model(
// LIN: %[[N:.+]] = arith.constant 64 : i64
// LIN: %[[FN:.+]] = constant @model_par_0
// LIN: call @sparq_rt_parallel_for(%{{.+}}, %[[N]], %[[FN]], %{{.+}})
// LIN-LABEL: func.func private @model_par_0(
// LIN: scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step
// LIN: %[[D2:.+]] = arith.remui %[[I]], %[[C8:.+]] : index
// LIN: %[[Q2:.+]] = arith.divui %[[I]], %[[C8]] : index
// LIN: %[[D1:.+]] = arith.remui %[[Q2]], %[[C4:.+]] : index
// LIN: %[[Q1:.+]] = arith.divui %[[Q2]], %[[C4]] : index
// LIN: %[[D0:.+]] = arith.remui %[[Q1]], %{{.+}} : index
// LIN: scf.for %[[D3:.+]] = %{{.+}} to %{{.+}} step
// LIN: memref.load %{{.+}}[%[[D0]], %[[D1]], %[[D2]], %[[D3]]]
func.func @model(%a: memref<2x4x8x512xf32>, %b: memref<2x4x8x512xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c512 = arith.constant 512 : index
  scf.parallel (%i, %j, %k, %l) = (%c0, %c0, %c0, %c0) to (%c2, %c4, %c8, %c512)
      step (%c1, %c1, %c1, %c1) {
    %x = memref.load %a[%i, %j, %k, %l] : memref<2x4x8x512xf32>
    %y = arith.mulf %x, %x : f32
    memref.store %y, %b[%i, %j, %k, %l] : memref<2x4x8x512xf32>
    scf.reduce
  }
  return
}
