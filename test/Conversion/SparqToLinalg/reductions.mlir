// RUN: sparq-opt %s --convert-sparq-to-linalg | FileCheck %s

// Trailing axes: a tensor.generate over the kept dims around a loop nest
// over the reduced dims that carries the accumulator.
// CHECK-LABEL: func.func @sum_keepdims
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x4xf32>)
// CHECK: %[[Z:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[R:.+]] = tensor.generate
// CHECK-NEXT: ^bb0(%[[I:.+]]: index):
// CHECK: scf.for %[[J:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[A:.+]] = %[[Z]]) -> (f32)
// CHECK: scf.for %[[K:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[B:.+]] = %[[A]]) -> (f32)
// CHECK: %[[E:.+]] = tensor.extract %[[X]][%[[I]], %[[J]], %[[K]]]
// CHECK: arith.addf %[[E]], %[[B]] fastmath<reassoc> : f32
// CHECK: } : tensor<2xf32>
// CHECK: tensor.expand_shape %[[R]] {{\[}}[0, 1, 2]] output_shape [2, 1, 1]
func.func @sum_keepdims(%x: tensor<2x3x4xf32>) -> tensor<2x1x1xf32> {
  %0 = sparq.reduce_sum %x {axes = array<i64: 1, 2>} : tensor<2x3x4xf32> -> tensor<2x1x1xf32>
  return %0 : tensor<2x1x1xf32>
}

// A leading axis: a reduction generic (inner loop over the kept dim).
// CHECK-LABEL: func.func @sum_axis0
// CHECK-NOT: tensor.generate
// CHECK: linalg.generic {{.+}} iterator_types = ["reduction", "parallel"]
// CHECK: arith.addf %{{.+}}, %{{.+}} fastmath<reassoc> : f32
// CHECK: return
func.func @sum_axis0(%x: tensor<2x3xf32>) -> tensor<3xf32> {
  %0 = sparq.reduce_sum %x {axes = array<i64: 0>, keepdims = false} : tensor<2x3xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// CHECK-LABEL: func.func @max_no_keepdims
// CHECK: %[[NINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: linalg.fill ins(%[[NINF]]
// CHECK: arith.maximumf
// CHECK-NOT: tensor.expand_shape
func.func @max_no_keepdims(%x: tensor<2x3xf32>) -> tensor<3xf32> {
  %0 = sparq.reduce_max %x {axes = array<i64: 0>, keepdims = false} : tensor<2x3xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// CHECK-LABEL: func.func @mean
// CHECK: arith.addf
// CHECK: %[[N:.+]] = arith.constant 3.000000e+00 : f32
// CHECK: arith.divf %{{.+}}, %[[N]]
func.func @mean(%x: tensor<2x3xf32>) -> tensor<2x1xf32> {
  %0 = sparq.reduce_mean %x {axes = array<i64: 1>} : tensor<2x3xf32> -> tensor<2x1xf32>
  return %0 : tensor<2x1xf32>
}

// CHECK-LABEL: func.func @log_sum_exp
// CHECK: arith.maximumf
// CHECK: math.absf
// CHECK: arith.cmpf ult
// CHECK: math.exp
// CHECK: arith.addf %{{.+}}, %{{.+}} fastmath<reassoc> : f32
// CHECK: math.log
func.func @log_sum_exp(%x: tensor<2x3xf32>) -> tensor<2x1xf32> {
  %0 = sparq.reduce_log_sum_exp %x {axes = array<i64: 1>} : tensor<2x3xf32> -> tensor<2x1xf32>
  return %0 : tensor<2x1xf32>
}

// CHECK-LABEL: func.func @prod_int
// CHECK: %[[ONE:.+]] = arith.constant 1 : i32
// CHECK: linalg.fill ins(%[[ONE]]
// CHECK: arith.muli
func.func @prod_int(%x: tensor<2x3xi32>) -> tensor<1x3xi32> {
  %0 = sparq.reduce_prod %x {axes = array<i64: 0>} : tensor<2x3xi32> -> tensor<1x3xi32>
  return %0 : tensor<1x3xi32>
}

// CHECK-LABEL: func.func @l2
// CHECK: arith.mulf
// CHECK: math.sqrt
func.func @l2(%x: tensor<2x3xf32>) -> tensor<2x1xf32> {
  %0 = sparq.reduce_l2 %x {axes = array<i64: 1>} : tensor<2x3xf32> -> tensor<2x1xf32>
  return %0 : tensor<2x1xf32>
}

// CHECK-LABEL: func.func @global_average
// CHECK: tensor.generate
// CHECK-NEXT: ^bb0(%{{.+}}: index, %{{.+}}: index):
// CHECK: scf.for
// CHECK: scf.for
// CHECK: arith.addf %{{.+}}, %{{.+}} fastmath<reassoc> : f32
// CHECK: } : tensor<1x2xf32>
// CHECK: arith.constant 1.600000e+01 : f32
func.func @global_average(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x1x1xf32> {
  %0 = sparq.global_average_pool %x : tensor<1x2x4x4xf32> -> tensor<1x2x1x1xf32>
  return %0 : tensor<1x2x1x1xf32>
}
