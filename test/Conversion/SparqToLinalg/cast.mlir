// RUN: sparq-opt %s --convert-sparq-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @float_to_int
// CHECK: arith.fptosi %{{.+}} : f32 to i32
func.func @float_to_int(%x: tensor<4xf32>) -> tensor<4xi32> {
  %0 = sparq.cast %x {to = i32} : tensor<4xf32> -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// CHECK-LABEL: func.func @float_to_unsigned
// CHECK: arith.fptoui %{{.+}} : f32 to i8
func.func @float_to_unsigned(%x: tensor<4xf32>) -> tensor<4xui8> {
  %0 = sparq.cast %x {to = ui8} : tensor<4xf32> -> tensor<4xui8>
  return %0 : tensor<4xui8>
}

// CHECK-LABEL: func.func @unsigned_widen
// CHECK: arith.extui %{{.+}} : i8 to i64
func.func @unsigned_widen(%x: tensor<4xui8>) -> tensor<4xi64> {
  %0 = sparq.cast %x {to = i64} : tensor<4xui8> -> tensor<4xi64>
  return %0 : tensor<4xi64>
}

// CHECK-LABEL: func.func @signed_widen
// CHECK: arith.extsi %{{.+}} : i16 to i32
func.func @signed_widen(%x: tensor<4xi16>) -> tensor<4xi32> {
  %0 = sparq.cast %x {to = i32} : tensor<4xi16> -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// CHECK-LABEL: func.func @to_bool
// CHECK: %[[Z:.+]] = arith.constant 0.000000e+00 : f64
// CHECK: arith.cmpf une, %{{.+}}, %[[Z]] : f64
func.func @to_bool(%x: tensor<4xf64>) -> tensor<4xi1> {
  %0 = sparq.cast %x {to = i1} : tensor<4xf64> -> tensor<4xi1>
  return %0 : tensor<4xi1>
}

// CHECK-LABEL: func.func @from_bool
// CHECK: arith.uitofp %{{.+}} : i1 to f32
func.func @from_bool(%x: tensor<4xi1>) -> tensor<4xf32> {
  %0 = sparq.cast %x {to = f32} : tensor<4xi1> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// CHECK-LABEL: func.func @half_to_bfloat
// CHECK: %[[W:.+]] = arith.extf %{{.+}} : f16 to f32
// CHECK: arith.truncf %[[W]] : f32 to bf16
func.func @half_to_bfloat(%x: tensor<4xf16>) -> tensor<4xbf16> {
  %0 = sparq.cast %x {to = bf16} : tensor<4xf16> -> tensor<4xbf16>
  return %0 : tensor<4xbf16>
}
