// RUN: sparq-opt %s --convert-sparq-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @less_float
// CHECK: linalg.generic
// CHECK: arith.cmpf olt
// CHECK: -> tensor<2x3xi1>
func.func @less_float(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<2x3xi1> {
  %0 = sparq.less %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xi1>
  return %0 : tensor<2x3xi1>
}

// CHECK-LABEL: func.func @greater_equal_int
// CHECK: arith.cmpi sge
func.func @greater_equal_int(%a: tensor<4xi64>, %b: tensor<4xi64>) -> tensor<4xi1> {
  %0 = sparq.greater_or_equal %a, %b : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi1>
  return %0 : tensor<4xi1>
}

// CHECK-LABEL: func.func @equal_bool
// CHECK: arith.cmpi eq
func.func @equal_bool(%a: tensor<4xi1>, %b: tensor<4xi1>) -> tensor<4xi1> {
  %0 = sparq.equal %a, %b : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  return %0 : tensor<4xi1>
}

// CHECK-LABEL: func.func @logic
// CHECK: arith.andi
// CHECK: arith.ori
// CHECK: arith.xori
func.func @logic(%a: tensor<4xi1>, %b: tensor<4xi1>) -> tensor<4xi1> {
  %0 = sparq.and %a, %b : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %1 = sparq.or %0, %b : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %2 = sparq.xor %1, %a : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  return %2 : tensor<4xi1>
}

// CHECK-LABEL: func.func @where
// CHECK-SAME: (%[[C:.+]]: tensor<2x1xi1>, %[[X:.+]]: tensor<3xf32>, %[[Y:.+]]: tensor<f32>)
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[C]], %[[X]], %[[Y]] :
// CHECK: ^bb0(%[[CS:.+]]: i1, %[[XS:.+]]: f32, %[[YS:.+]]: f32, %{{.+}}: f32)
// CHECK: arith.select %[[CS]], %[[XS]], %[[YS]] : f32
func.func @where(%c: tensor<2x1xi1>, %x: tensor<3xf32>, %y: tensor<f32>) -> tensor<2x3xf32> {
  %0 = sparq.where %c, %x, %y : (tensor<2x1xi1>, tensor<3xf32>, tensor<f32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
