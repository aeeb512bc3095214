// RUN: sparq-opt %s --convert-sparq-to-linalg | FileCheck %s

// CHECK-DAG: #[[CH:.+]] = affine_map<(d0, d1, d2, d3) -> (d1)>

// Static f32 softmax/log_softmax/layer_norm over the last axis call the
// runtime's row kernels (norm-kernel-calls.mlir); f16 keeps the linalg
// path, computed in f32. Static shapes: max and exp-sum are tensor.generate
// over the kept dims with the accumulator carried by an scf.for over the
// reduced dim (no reduction linalg.generic accumulating in memory); sums
// are `reassoc`.
// CHECK-LABEL: func.func @softmax
// CHECK-SAME: (%[[X:.+]]: tensor<2x5xf16>)
// CHECK-NOT: call
// CHECK: %[[NINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: %[[MAX:.+]] = tensor.generate
// CHECK-NEXT: ^bb0(%[[I:.+]]: index):
// CHECK: %[[C5:.+]] = arith.constant 5 : index
// CHECK: scf.for %[[J:.+]] = %{{.+}} to %[[C5]] step %{{.+}} iter_args(%[[A:.+]] = %[[NINF]]) -> (f32)
// CHECK: %[[E:.+]] = tensor.extract %[[X]][%[[I]], %[[J]]]
// CHECK: %[[EF:.+]] = arith.extf %[[E]] : f16 to f32
// CHECK: arith.maximumf %[[EF]], %[[A]]
// CHECK: } : tensor<2xf32>
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[SUM:.+]] = tensor.generate
// CHECK: %[[M:.+]] = tensor.extract %[[MAX]]
// CHECK: scf.for {{.+}} iter_args(%[[S:.+]] = %[[ZERO]]) -> (f32)
// CHECK: %[[SH:.+]] = arith.subf %{{.+}}, %[[M]]
// CHECK: %[[EX:.+]] = math.exp %[[SH]]
// CHECK: arith.addf %[[EX]], %[[S]] fastmath<reassoc> : f32
// CHECK: } : tensor<2xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[X]], %[[MAX]], %[[SUM]] :
// CHECK: %[[D:.+]] = arith.subf
// CHECK: %[[E2:.+]] = math.exp %[[D]]
// CHECK: %[[Q:.+]] = arith.divf %[[E2]]
// CHECK: arith.truncf %[[Q]] : f32 to f16
func.func @softmax(%x: tensor<2x5xf16>) -> tensor<2x5xf16> {
  %0 = sparq.softmax %x {axis = 1 : i64} : tensor<2x5xf16> -> tensor<2x5xf16>
  return %0 : tensor<2x5xf16>
}

// A leading axis keeps reduction generics: their inner loop runs over the
// contiguous kept dim.
// CHECK-LABEL: func.func @softmax_axis0
// CHECK-SAME: (%[[X:.+]]: tensor<2x5xf32>)
// CHECK-NOT: tensor.generate
// CHECK: %[[MAX:.+]] = linalg.generic {{.+}} iterator_types = ["reduction", "parallel"]
// CHECK: arith.maximumf
// CHECK: %[[SUM:.+]] = linalg.generic {{.+}} iterator_types = ["reduction", "parallel"]
// CHECK-SAME: ins(%[[X]], %[[MAX]] :
// CHECK: math.exp
// CHECK: arith.addf %{{.+}}, %{{.+}} fastmath<reassoc> : f32
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[X]], %[[MAX]], %[[SUM]] :
// CHECK: return
func.func @softmax_axis0(%x: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %0 = sparq.softmax %x {axis = 0 : i64} : tensor<2x5xf32> -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// CHECK-LABEL: func.func @log_softmax
// CHECK: %[[L:.+]] = math.log
// CHECK: arith.subf %{{.+}}, %[[L]]
func.func @log_softmax(%x: tensor<2x5xf16>) -> tensor<2x5xf16> {
  %0 = sparq.log_softmax %x : tensor<2x5xf16> -> tensor<2x5xf16>
  return %0 : tensor<2x5xf16>
}

// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x4xf16>, %[[S:.+]]: tensor<4xf16>, %[[B:.+]]: tensor<4xf16>)
// CHECK: %[[SUM:.+]] = tensor.generate
// CHECK: scf.for
// CHECK: arith.addf %{{.+}}, %{{.+}} fastmath<reassoc> : f32
// CHECK: } : tensor<2x3xf32>
// CHECK: %[[SQ:.+]] = tensor.generate
// CHECK: %[[T:.+]] = tensor.extract %[[SUM]]
// CHECK: scf.for
// CHECK: %[[MEAN:.+]] = arith.mulf %[[T]], %{{.+}}
// CHECK: %[[C:.+]] = arith.subf %{{.+}}, %[[MEAN]]
// CHECK: %[[C2:.+]] = arith.mulf %[[C]], %[[C]]
// CHECK: arith.addf %[[C2]], %{{.+}} fastmath<reassoc> : f32
// CHECK: } : tensor<2x3xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[X]], %[[SUM]], %[[SQ]], %[[S]], %[[B]] :
// CHECK: math.sqrt
func.func @layer_norm(%x: tensor<2x3x4xf16>, %s: tensor<4xf16>, %b: tensor<4xf16>) -> tensor<2x3x4xf16> {
  %0 = sparq.layer_norm %x, %s, %b {axis = -1 : i64} : (tensor<2x3x4xf16>, tensor<4xf16>, tensor<4xf16>) -> tensor<2x3x4xf16>
  return %0 : tensor<2x3x4xf16>
}

// Two normalized dims: a nest of two loops inside a generate over dim 0.
// CHECK-LABEL: func.func @layer_norm_two_axes
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x4xf32>
// CHECK: tensor.generate
// CHECK-NEXT: ^bb0(%[[I:.+]]: index):
// CHECK: %[[C3:.+]] = arith.constant 3 : index
// CHECK: scf.for %[[J:.+]] = %{{.+}} to %[[C3]]
// CHECK: %[[C4:.+]] = arith.constant 4 : index
// CHECK: scf.for %[[K:.+]] = %{{.+}} to %[[C4]]
// CHECK: tensor.extract %[[X]][%[[I]], %[[J]], %[[K]]]
// CHECK: } : tensor<2xf32>
func.func @layer_norm_two_axes(%x: tensor<2x3x4xf32>, %s: tensor<3x4xf32>, %b: tensor<3x4xf32>) -> tensor<2x3x4xf32> {
  %0 = sparq.layer_norm %x, %s, %b {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// CHECK-LABEL: func.func @batch_norm
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[CH]], #[[CH]], #[[CH]], #[[CH]], #{{.+}}]
// CHECK: math.sqrt
func.func @batch_norm(%x: tensor<1x2x3x3xf32>, %s: tensor<2xf32>, %b: tensor<2xf32>, %m: tensor<2xf32>, %v: tensor<2xf32>) -> tensor<1x2x3x3xf32> {
  %0 = sparq.batch_norm %x, %s, %b, %m, %v : (tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
  return %0 : tensor<1x2x3x3xf32>
}
