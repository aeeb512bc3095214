// RUN: sparq-opt %s | sparq-opt | FileCheck %s
// Sparsity encodings and quantized element types round-trip on weights.

// CHECK-LABEL: func @encodings
// CHECK-SAME: tensor<64x64xf32, #sparq.sparsity<nm 2:4, axis = 1, density = 5.000000e-01>>
// CHECK-SAME: tensor<64x64xf32, #sparq.sparsity<block 4x1, density = 2.000000e-01>>
// CHECK-SAME: tensor<64x64xf32, #sparq.sparsity<unstructured, density = 1.000000e-01>>
// CHECK-SAME: tensor<8xf32, #sparq.sparsity<dense>>
func.func @encodings(%a: tensor<64x64xf32, #sparq.sparsity<nm 2:4, axis = 1, density = 0.5>>,
                     %b: tensor<64x64xf32, #sparq.sparsity<block 4x1, density = 0.2>>,
                     %c: tensor<64x64xf32, #sparq.sparsity<unstructured, density = 0.1>>,
                     %d: tensor<8xf32, #sparq.sparsity<dense>>) {
  return
}

// CHECK-LABEL: func @quantized
// CHECK-SAME: !quant.uniform<i8:f32, 1.000000e-01:3>
// CHECK-SAME: !quant.uniform<i8:f32:0, {1.000000e-01,2.000000e-01}>
func.func @quantized(%a: tensor<4x4x!quant.uniform<i8:f32, 0.1:3>>,
                     %b: tensor<2x4x!quant.uniform<i8:f32:0, {0.1, 0.2}>>) {
  return
}

// CHECK-LABEL: func @fp8_descriptor
// CHECK: quant = #sparq.quant<storage = f8E4M3FN, expressed = f32, axis = -1, block_size = 0, scales = dense<5.000000e-01> : tensor<1xf32>>
func.func @fp8_descriptor() attributes {quant = #sparq.quant<storage = f8E4M3FN, expressed = f32, axis = -1, block_size = 0, scales = dense<0.5> : tensor<1xf32>>} {
  return
}

// CHECK-LABEL: func @group_descriptor
// CHECK: #sparq.quant<storage = i4, expressed = f32, axis = 1, block_size = 32
func.func @group_descriptor() attributes {quant = #sparq.quant<storage = i4, expressed = f32, axis = 1, block_size = 32, scales = dense<0.5> : tensor<4x2xf32>, zero_points = dense<1> : tensor<4x2xi4>>} {
  return
}
