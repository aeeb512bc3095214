// RUN: sparq-opt %s --convert-sparq-to-linalg | FileCheck %s

// CHECK-DAG: #[[ID3:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[KEPT:.+]] = affine_map<(d0, d1, d2) -> (d0)>
// CHECK-LABEL: func.func @sum_keepdims
// CHECK: %[[Z:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[E:.+]] = tensor.empty() : tensor<2xf32>
// CHECK: %[[F:.+]] = linalg.fill ins(%[[Z]] : f32) outs(%[[E]] : tensor<2xf32>)
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[ID3]], #[[KEPT]]], iterator_types = ["parallel", "reduction", "reduction"]}
// CHECK-SAME: outs(%[[F]] : tensor<2xf32>)
// CHECK: arith.addf %{{.+}}, %{{.+}} fastmath<reassoc> : f32
// CHECK: tensor.expand_shape %[[R]] {{\[}}[0, 1, 2]] output_shape [2, 1, 1]
func.func @sum_keepdims(%x: tensor<2x3x4xf32>) -> tensor<2x1x1xf32> {
  %0 = sparq.reduce_sum %x {axes = array<i64: 1, 2>} : tensor<2x3x4xf32> -> tensor<2x1x1xf32>
  return %0 : tensor<2x1x1xf32>
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
// CHECK: iterator_types = ["parallel", "parallel", "reduction", "reduction"]
// CHECK: arith.constant 1.600000e+01 : f32
func.func @global_average(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x1x1xf32> {
  %0 = sparq.global_average_pool %x : tensor<1x2x4x4xf32> -> tensor<1x2x1x1xf32>
  return %0 : tensor<1x2x1x1xf32>
}
