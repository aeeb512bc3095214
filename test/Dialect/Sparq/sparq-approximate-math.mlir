// RUN: sparq-opt %s --sparq-approximate-math | FileCheck %s
// f32 transcendentals become polynomials (no libm call left to block
// vectorization); f64 keeps the math op.

// CHECK-LABEL: func @f32_math
// CHECK-NOT: math.tanh
// CHECK-NOT: math.erf
// CHECK-NOT: math.exp
// CHECK: arith.mulf
// CHECK: return
func.func @f32_math(%x: f32) -> f32 {
  %0 = math.tanh %x : f32
  %1 = math.erf %0 : f32
  %2 = math.exp %1 : f32
  return %2 : f32
}

// CHECK-LABEL: func @f64_untouched
// CHECK: math.tanh %{{.*}} : f64
func.func @f64_untouched(%x: f64) -> f64 {
  %0 = math.tanh %x : f64
  return %0 : f64
}
