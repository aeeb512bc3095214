// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-sparse-int8))' -split-input-file | FileCheck %s --check-prefix=AUTO
// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-sparse-int8{mode=force}))' -split-input-file | FileCheck %s --check-prefix=FORCE
// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-sparse-int8{mode=off}))' -split-input-file | FileCheck %s --check-prefix=OFF

// 2 of 8 1x4 blocks hold non-zeros (density 0.25) and 32 activation rows
// call it: the weight is packed and the kernel becomes sparse_qmatmul with
// the epilogue, the zero point and the result type kept.
// AUTO-LABEL: func @sparse
// AUTO: %[[BLOB:.+]] = sparq.constant dense_resource<sparse_int8_weight> : tensor<{{[0-9]+}}xi8>
// AUTO: sparq.sparse_qmatmul %arg0, %[[BLOB]], %{{.+}} scale %{{.+}} bias %{{.+}} {cols = 8 : i64, encoding = #sparq.sparsity<block 1x4, density = 2.500000e-01>, out_zero_point = 3 : i64, qmin = 3 : i64, rows = 4 : i64, sparq.format = "block 1x4 int8", sparq.format_reason = "sparse int8 kernel: 1x4 block density 0.250 <= break-even 0.45 at 32 rows", sparq.packed_bytes = {{[0-9]+}} : i64, sparq.sparsity = #sparq.sparsity<block 1x4, density = 2.500000e-01>} : (tensor<32x8xui8>, tensor<{{[0-9]+}}xi8>, tensor<ui8>, tensor<4xf32>, tensor<4xi32>) -> tensor<32x4xui8>
// AUTO-NOT: sparq.qmatmul
// FORCE-LABEL: func @sparse
// FORCE: sparq.sparse_qmatmul
// OFF-LABEL: func @sparse
// OFF: sparq.qmatmul
// OFF-NOT: sparq.sparse_qmatmul
// OFF-NOT: sparq.format
func.func @sparse(%x: tensor<32x8xui8>) -> tensor<32x4xui8> {
  %w = sparq.constant dense<[[1, -2, 3, 4, 0, 0, 0, 0],
                             [0, 0, 0, 0, 0, 0, 0, 0],
                             [0, 0, 0, 0, 0, 0, 5, 0],
                             [0, 0, 0, 0, 0, 0, 0, 0]]> : tensor<4x8xi8>
  %xz = sparq.constant dense<128> : tensor<ui8>
  %wz = sparq.constant dense<0> : tensor<i8>
  %s = sparq.constant dense<[0.5, 0.25, 0.125, 1.0]> : tensor<4xf32>
  %b = sparq.constant dense<[1, 2, 3, 4]> : tensor<4xi32>
  %0 = sparq.qmatmul %x, %w, %xz, %wz scale %s bias %b {trans_b = true, out_zero_point = 3 : i64, qmin = 3 : i64} : (tensor<32x8xui8>, tensor<4x8xi8>, tensor<ui8>, tensor<i8>, tensor<4xf32>, tensor<4xi32>) -> tensor<32x4xui8>
  return %0 : tensor<32x4xui8>
}

// -----

// A [K, N] weight (trans_b = false) is read as W[n][k]: the blocks run along
// K, the columns of W^T. 6 of 8 blocks are non-zero (0.75): dense in auto
// mode (with the measurement recorded), sparse when forced.
// AUTO-LABEL: func @dense_kn
// AUTO: sparq.qmatmul {{.*}}sparq.format = "dense", sparq.format_reason = "int8 kernel (dense): 1x4 block density 0.750 > break-even 0.45 at 16 rows", sparq.sparsity = #sparq.sparsity<block 1x4, density = 7.500000e-01>
// AUTO-NOT: sparq.sparse_qmatmul
// FORCE-LABEL: func @dense_kn
// FORCE: sparq.sparse_qmatmul %arg0, %{{.+}}, %{{.+}} {cols = 8 : i64, {{.*}}rows = 2 : i64, {{.*}}(forced)
// FORCE-SAME: -> tensor<16x2xi32>
func.func @dense_kn(%x: tensor<16x8xi8>) -> tensor<16x2xi32> {
  %w = sparq.constant dense<[[1, 0], [0, 0], [0, 0], [0, 0],
                             [0, 1], [0, 0], [0, 0], [1, 1]]> : tensor<8x2xi8>
  %z = sparq.constant dense<0> : tensor<i8>
  %0 = sparq.qmatmul %x, %w, %z, %z : (tensor<16x8xi8>, tensor<8x2xi8>, tensor<i8>, tensor<i8>) -> tensor<16x2xi32>
  return %0 : tensor<16x2xi32>
}

// -----

// One activation row: the dense GEMV wins unless the weight is very sparse
// (break-even 0.07), so a 0.25 density stays dense in auto mode.
// AUTO-LABEL: func @one_row
// AUTO: sparq.qmatmul {{.*}}break-even 0.07 at 1 rows
// AUTO-NOT: sparq.sparse_qmatmul
func.func @one_row(%x: tensor<1x8xi8>) -> tensor<1x4xi32> {
  %w = sparq.constant dense<[[1, -2, 3, 4, 0, 0, 0, 0],
                             [0, 0, 0, 0, 0, 0, 0, 0],
                             [0, 0, 0, 0, 0, 0, 5, 0],
                             [0, 0, 0, 0, 0, 0, 0, 0]]> : tensor<4x8xi8>
  %z = sparq.constant dense<0> : tensor<i8>
  %0 = sparq.qmatmul %x, %w, %z, %z {trans_b = true} : (tensor<1x8xi8>, tensor<4x8xi8>, tensor<i8>, tensor<i8>) -> tensor<1x4xi32>
  return %0 : tensor<1x4xi32>
}

// -----

// What the kernel does not take stays dense, with the reason: a weight zero
// point other than 0, a reduction dim that is not a multiple of 4, and a
// weight that is not a constant.
// AUTO-LABEL: func @not_eligible
// AUTO: sparq.qmatmul {{.*}}sparq.format_reason = "int8 kernel (dense): the weight is not symmetric int8 (zero point 0)"
// AUTO: sparq.qmatmul {{.*}}sparq.format_reason = "int8 kernel (dense): the reduction dim is not a multiple of 4"
// AUTO: sparq.qmatmul {{.*}}sparq.format_reason = "int8 kernel (dense): the weight is not a constant"
// AUTO-NOT: sparq.sparse_qmatmul
// FORCE-LABEL: func @not_eligible
// FORCE-NOT: sparq.sparse_qmatmul
func.func @not_eligible(%x: tensor<16x8xi8>, %x6: tensor<16x6xi8>, %wdyn: tensor<4x8xi8>) -> (tensor<16x4xi32>, tensor<16x4xi32>, tensor<16x4xi32>) {
  %w = sparq.constant dense<[[1, 0, 0, 0, 0, 0, 0, 0],
                             [0, 0, 0, 0, 0, 0, 0, 0],
                             [0, 0, 0, 0, 0, 0, 0, 0],
                             [0, 0, 0, 0, 0, 0, 0, 0]]> : tensor<4x8xi8>
  %w6 = sparq.constant dense<[[1, 0, 0, 0, 0, 0],
                              [0, 0, 0, 0, 0, 0],
                              [0, 0, 0, 0, 0, 0],
                              [0, 0, 0, 0, 0, 0]]> : tensor<4x6xi8>
  %z = sparq.constant dense<0> : tensor<i8>
  %one = sparq.constant dense<1> : tensor<i8>
  %0 = sparq.qmatmul %x, %w, %z, %one {trans_b = true} : (tensor<16x8xi8>, tensor<4x8xi8>, tensor<i8>, tensor<i8>) -> tensor<16x4xi32>
  %1 = sparq.qmatmul %x6, %w6, %z, %z {trans_b = true} : (tensor<16x6xi8>, tensor<4x6xi8>, tensor<i8>, tensor<i8>) -> tensor<16x4xi32>
  %2 = sparq.qmatmul %x, %wdyn, %z, %z {trans_b = true} : (tensor<16x8xi8>, tensor<4x8xi8>, tensor<i8>, tensor<i8>) -> tensor<16x4xi32>
  return %0, %1, %2 : tensor<16x4xi32>, tensor<16x4xi32>, tensor<16x4xi32>
}

// -----

// A 1x1 strided qconv with 256 input channels and 2 of 256 blocks set
// becomes sparse_qconv (break-even 0.40 with 256 input channels); with 8
// input channels it stays dense in auto mode (break-even 0: the output
// stage per channel dominates) and goes sparse when forced; a 3x3 conv
// stays dense with the reason.
// AUTO-LABEL: func @conv
// AUTO: %[[BLOB:.+]] = sparq.constant dense_resource<sparse_int8_weight> : tensor<{{[0-9]+}}xi8>
// AUTO: sparq.sparse_qconv %arg0, %[[BLOB]], %{{.+}} scale %{{.+}} {encoding = #sparq.sparsity<block 1x4, density = 7.812500e-03>, out_zero_point = 5 : i64, rows = 4 : i64, sparq.format = "block 1x4 int8", sparq.format_reason = "sparse int8 kernel: 1x4 block density 0.008 <= break-even 0.40 with 256 input channels"{{.*}}strides = array<i64: 2, 2>} : (tensor<1x256x3x3xui8>, tensor<{{[0-9]+}}xi8>, tensor<ui8>, tensor<1xf32>) -> tensor<1x4x2x2xui8>
// AUTO: sparq.qconv {{.*}}sparq.format_reason = "int8 kernel (dense): 1x4 block density 0.125 > break-even 0.00 with 8 input channels"
// AUTO: sparq.qconv {{.*}}sparq.format_reason = "int8 kernel (dense): only 1x1 convolutions without groups or padding go sparse"
// FORCE-LABEL: func @conv
// FORCE: sparq.sparse_qconv
// FORCE: sparq.sparse_qconv {{.*}}(forced)
// FORCE: sparq.qconv
// OFF-LABEL: func @conv
// OFF-NOT: sparq.sparse_qconv
func.func @conv(%x: tensor<1x256x3x3xui8>, %x8: tensor<1x8x3x3xui8>) -> (tensor<1x4x2x2xui8>, tensor<1x4x3x3xi32>, tensor<1x4x3x3xi32>) {
  %w = sparq.constant dense<[[[[1]], [[2]], [[3]], [[4]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]]],
                            [[[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]]],
                            [[[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[-5]], [[0]], [[7]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]]],
                            [[[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]]]]> : tensor<4x256x1x1xi8>
  %w8 = sparq.constant dense<[[[[1]], [[2]], [[3]], [[4]], [[0]], [[0]], [[0]], [[0]]],
                              [[[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]]],
                              [[[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]]],
                              [[[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]], [[0]]]]> : tensor<4x8x1x1xi8>
  %w3 = sparq.constant dense<0> : tensor<4x8x3x3xi8>
  %xz = sparq.constant dense<7> : tensor<ui8>
  %wz = sparq.constant dense<0> : tensor<4xi8>
  %s = sparq.constant dense<0.5> : tensor<1xf32>
  %0 = sparq.qconv %x, %w, %xz, %wz scale %s {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, out_zero_point = 5 : i64} : (tensor<1x256x3x3xui8>, tensor<4x256x1x1xi8>, tensor<ui8>, tensor<4xi8>, tensor<1xf32>) -> tensor<1x4x2x2xui8>
  %1 = sparq.qconv %x8, %w8, %xz, %wz {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x8x3x3xui8>, tensor<4x8x1x1xi8>, tensor<ui8>, tensor<4xi8>) -> tensor<1x4x3x3xi32>
  %2 = sparq.qconv %x8, %w3, %xz, %wz {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x8x3x3xui8>, tensor<4x8x3x3xi8>, tensor<ui8>, tensor<4xi8>) -> tensor<1x4x3x3xi32>
  return %0, %1, %2 : tensor<1x4x2x2xui8>, tensor<1x4x3x3xi32>, tensor<1x4x3x3xi32>
}
