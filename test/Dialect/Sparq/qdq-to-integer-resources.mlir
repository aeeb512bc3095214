// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-qdq-to-integer))' | FileCheck %s

// Constants held as dense resources (as the importer keeps weights) fold
// too: rne(v / 0.5) + 3 for v = 1.0, 2.5 and (q - 3) * 0.5 for q = 1, 250.
// CHECK-LABEL: func @resource_constants
// CHECK-NOT: quantize_linear
// CHECK-DAG: sparq.constant dense<[5, 8]> : tensor<2xui8>
// CHECK-DAG: sparq.constant dense<[-1.000000e+00, 1.235000e+02]> : tensor<2xf32>
func.func @resource_constants() -> (tensor<2xui8>, tensor<2xf32>) {
  %v = sparq.constant dense_resource<floats> : tensor<2xf32>
  %b = sparq.constant dense_resource<bytes> : tensor<2xui8>
  %s = sparq.constant dense<0.5> : tensor<f32>
  %zp = sparq.constant dense<3> : tensor<ui8>
  %q = sparq.quantize_linear %v, %s, %zp : (tensor<2xf32>, tensor<f32>, tensor<ui8>) -> tensor<2xui8>
  %d = sparq.dequantize_linear %b, %s, %zp : (tensor<2xui8>, tensor<f32>, tensor<ui8>) -> tensor<2xf32>
  return %q, %d : tensor<2xui8>, tensor<2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      floats: "0x040000000000803F00002040",
      bytes: "0x0100000001FA"
    }
  }
#-}
