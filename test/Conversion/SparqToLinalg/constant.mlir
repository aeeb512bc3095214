// RUN: sparq-opt %s --convert-sparq-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @dense
// CHECK: %[[C:.+]] = arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: return %[[C]]
func.func @dense() -> tensor<2xf32> {
  %0 = sparq.constant dense<[1.0, 2.0]> : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// Resource-backed weights stay resources, unsigned ones too.
// CHECK-LABEL: func.func @resource
// CHECK: arith.constant dense_resource<w> : tensor<2xf32>
// CHECK: arith.constant dense_resource<u> : tensor<2xi8>
func.func @resource() -> (tensor<2xf32>, tensor<2xui8>) {
  %0 = sparq.constant dense_resource<w> : tensor<2xf32>
  %1 = sparq.constant dense_resource<u> : tensor<2xui8>
  return %0, %1 : tensor<2xf32>, tensor<2xui8>
}

// CHECK-LABEL: func.func @shape
// CHECK: arith.constant dense<[3, 4]> : tensor<2xi64>
func.func @shape(%x: tensor<2x3x4xf32>) -> tensor<2xi64> {
  %0 = sparq.shape %x {start = 1} : tensor<2x3x4xf32> -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000000803F00000040",
      u: "0x0100000001FF"
    }
  }
#-}
