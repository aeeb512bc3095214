// RUN: sparq-opt %s --convert-sparq-to-linalg | FileCheck %s

// A 2-d pool over a type without a runtime kernel (f16; f32/u8/s8 call
// sparq_uk_max_pool2d, see max-pool-call.mlir) stays linalg: loops n, c,
// window taps, then output positions innermost.
// CHECK-DAG: #[[WIN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4 * 2 + d2, d5 * 2 + d3)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4, d5)>
// CHECK-LABEL: func.func @max_pool
// CHECK: %[[NINF:.+]] = arith.constant 0xFC00 : f16
// CHECK: %[[P:.+]] = linalg.generic
// CHECK: %[[V:.+]] = tensor.extract
// CHECK: arith.select %{{.+}}, %[[V]], %[[NINF]]
// CHECK: } -> tensor<1x1x7x7xf16>
// CHECK: %[[K:.+]] = tensor.empty() : tensor<3x3xf16>
// CHECK: linalg.generic {indexing_maps = [#[[WIN]], #{{.+}}, #[[OUT]]], iterator_types = ["parallel", "parallel", "reduction", "reduction", "parallel", "parallel"]}
// CHECK-SAME: ins(%[[P]], %[[K]] :
// CHECK: arith.maximumf
func.func @max_pool(%x: tensor<1x1x5x5xf16>) -> tensor<1x1x3x3xf16> {
  %0 = sparq.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : tensor<1x1x5x5xf16> -> tensor<1x1x3x3xf16>
  return %0 : tensor<1x1x3x3xf16>
}

// Divisors exclude the padding: corner windows see 4 taps, edges 6, centre 9.
// CHECK-LABEL: func.func @average_pool
// CHECK: arith.addf
// CHECK: %[[DIV:.+]] = arith.constant dense<{{\[}}[4.000000e+00, 6.000000e+00, 4.000000e+00], [6.000000e+00, 9.000000e+00, 6.000000e+00], [4.000000e+00, 6.000000e+00, 4.000000e+00]]> : tensor<3x3xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.+}}, %[[DIV]] :
// CHECK: arith.divf
func.func @average_pool(%x: tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32> {
  %0 = sparq.average_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : tensor<1x1x3x3xf32> -> tensor<1x1x3x3xf32>
  return %0 : tensor<1x1x3x3xf32>
}

// CHECK-LABEL: func.func @average_pool_include_pad
// CHECK: arith.constant dense<9.000000e+00> : tensor<3x3xf32>
func.func @average_pool_include_pad(%x: tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32> {
  %0 = sparq.average_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, count_include_pad = true} : tensor<1x1x3x3xf32> -> tensor<1x1x3x3xf32>
  return %0 : tensor<1x1x3x3xf32>
}
