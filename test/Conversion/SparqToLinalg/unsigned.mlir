// RUN: sparq-opt %s --convert-sparq-to-linalg | FileCheck %s

// Unsigned tensors become signless; the arith variants stay unsigned.

// CHECK-LABEL: func.func @div_unsigned
// CHECK-SAME: (%{{.+}}: tensor<4xi8>, %{{.+}}: tensor<4xi8>) -> tensor<4xi8>
// CHECK: arith.divui
// CHECK: return %{{.+}} : tensor<4xi8>
func.func @div_unsigned(%a: tensor<4xui8>, %b: tensor<4xui8>) -> tensor<4xui8> {
  %0 = sparq.div %a, %b : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  return %0 : tensor<4xui8>
}

// CHECK-LABEL: func.func @compare_unsigned
// CHECK: arith.cmpi ult
// CHECK: arith.maxui
func.func @compare_unsigned(%a: tensor<4xui32>, %b: tensor<4xui32>) -> (tensor<4xi1>, tensor<4xui32>) {
  %0 = sparq.less %a, %b : (tensor<4xui32>, tensor<4xui32>) -> tensor<4xi1>
  %1 = sparq.max %a, %b : (tensor<4xui32>, tensor<4xui32>) -> tensor<4xui32>
  return %0, %1 : tensor<4xi1>, tensor<4xui32>
}

// CHECK-LABEL: func.func @mod_unsigned
// CHECK: arith.remui
func.func @mod_unsigned(%a: tensor<4xui16>, %b: tensor<4xui16>) -> tensor<4xui16> {
  %0 = sparq.mod %a, %b : (tensor<4xui16>, tensor<4xui16>) -> tensor<4xui16>
  return %0 : tensor<4xui16>
}

// CHECK-LABEL: func.func @constant_unsigned
// CHECK: arith.constant dense<[1, -1]> : tensor<2xi8>
func.func @constant_unsigned() -> tensor<2xui8> {
  %0 = sparq.constant dense<[1, 255]> : tensor<2xui8>
  return %0 : tensor<2xui8>
}

// CHECK-LABEL: func.func @caller
// CHECK: call @div_unsigned(%{{.+}}, %{{.+}}) : (tensor<4xi8>, tensor<4xi8>) -> tensor<4xi8>
func.func @caller(%a: tensor<4xui8>) -> tensor<4xui8> {
  %0 = call @div_unsigned(%a, %a) : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  return %0 : tensor<4xui8>
}
