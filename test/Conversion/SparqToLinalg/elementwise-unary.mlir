// RUN: sparq-opt %s --convert-sparq-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @math_ops
// CHECK: math.sqrt
// CHECK: math.exp
// CHECK: math.log
// CHECK: math.erf
// CHECK: math.tanh
// CHECK: math.roundeven
func.func @math_ops(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = sparq.sqrt %x : tensor<4xf32> -> tensor<4xf32>
  %1 = sparq.exp %0 : tensor<4xf32> -> tensor<4xf32>
  %2 = sparq.log %1 : tensor<4xf32> -> tensor<4xf32>
  %3 = sparq.erf %2 : tensor<4xf32> -> tensor<4xf32>
  %4 = sparq.tanh %3 : tensor<4xf32> -> tensor<4xf32>
  %5 = sparq.round %4 : tensor<4xf32> -> tensor<4xf32>
  return %5 : tensor<4xf32>
}

// CHECK-LABEL: func.func @relu
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: arith.maximumf %{{.+}}, %[[ZERO]]
func.func @relu(%x: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %0 = sparq.relu %x : tensor<2x2xf32> -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// CHECK-LABEL: func.func @sigmoid
// CHECK: %[[N:.+]] = arith.negf
// CHECK: %[[E:.+]] = math.exp %[[N]]
// CHECK: %[[D:.+]] = arith.addf %{{.+}}, %[[E]]
// CHECK: arith.divf %{{.+}}, %[[D]]
func.func @sigmoid(%x: tensor<4xf64>) -> tensor<4xf64> {
  %0 = sparq.sigmoid %x : tensor<4xf64> -> tensor<4xf64>
  return %0 : tensor<4xf64>
}

// CHECK-LABEL: func.func @half_promoted
// CHECK: %[[W:.+]] = arith.extf %{{.+}} : f16 to f32
// CHECK: %[[T:.+]] = math.tanh %[[W]] : f32
// CHECK: arith.truncf %[[T]] : f32 to f16
func.func @half_promoted(%x: tensor<4xf16>) -> tensor<4xf16> {
  %0 = sparq.tanh %x : tensor<4xf16> -> tensor<4xf16>
  return %0 : tensor<4xf16>
}

// CHECK-LABEL: func.func @gelu_forms
// CHECK: math.erf
// CHECK: math.tanh
func.func @gelu_forms(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = sparq.gelu %x : tensor<4xf32> -> tensor<4xf32>
  %1 = sparq.gelu %0 {tanh_approximation = true} : tensor<4xf32> -> tensor<4xf32>
  return %1 : tensor<4xf32>
}

// CHECK-LABEL: func.func @clip_int
// CHECK: %[[LO:.+]] = arith.constant -2 : i32
// CHECK: %[[M:.+]] = arith.maxsi %{{.+}}, %[[LO]]
// CHECK: %[[HI:.+]] = arith.constant 5 : i32
// CHECK: arith.minsi %[[M]], %[[HI]]
func.func @clip_int(%x: tensor<4xi32>) -> tensor<4xi32> {
  %0 = sparq.clip %x {min = -2.0 : f64, max = 5.0 : f64} : tensor<4xi32> -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// CHECK-LABEL: func.func @activations
// CHECK: arith.select
// CHECK: math.exp
// CHECK: math.log1p
// CHECK: arith.minimumf
func.func @activations(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = sparq.leaky_relu %x {alpha = 0.1 : f32} : tensor<4xf32> -> tensor<4xf32>
  %1 = sparq.elu %0 : tensor<4xf32> -> tensor<4xf32>
  %2 = sparq.softplus %1 : tensor<4xf32> -> tensor<4xf32>
  %3 = sparq.hard_sigmoid %2 : tensor<4xf32> -> tensor<4xf32>
  return %3 : tensor<4xf32>
}

// CHECK-LABEL: func.func @not
// CHECK: %[[TRUE:.+]] = arith.constant true
// CHECK: arith.xori %{{.+}}, %[[TRUE]] : i1
func.func @not(%x: tensor<4xi1>) -> tensor<4xi1> {
  %0 = sparq.not %x : tensor<4xi1> -> tensor<4xi1>
  return %0 : tensor<4xi1>
}
