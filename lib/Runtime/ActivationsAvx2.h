//===- ActivationsAvx2.h - AVX2+FMA activation functions --------*- C++ -*-===//
//
// The vectorized activations of the fused epilogues (act codes of
// sparq_runtime.h: relu, clip, leaky relu, sigmoid, tanh, GELU in its erf and
// tanh forms, hard sigmoid, hard swish), shared by the dense kernels
// (KernelsAvx2.cpp) and the sparse tile stores (SparseKernelsAvx2.cpp) so
// that both produce the same bits. exp and erf are polynomial approximations
// accurate to a few float ulps (erf to ~1.5e-7 absolute). Callers must be
// compiled for (or check the CPU for) AVX2 and FMA.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_RUNTIME_ACTIVATIONSAVX2_H
#define SPARQ_LIB_RUNTIME_ACTIVATIONSAVX2_H

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SPARQ_HAVE_ACTIVATIONS_AVX2 1
#include <immintrin.h>

#define SPARQ_ACT_AVX2_INLINE                                                  \
  __attribute__((target("avx2,fma"), always_inline)) inline

namespace sparq {
namespace rt {

SPARQ_ACT_AVX2_INLINE __m256 expAvx2(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.3f));
  x = _mm256_min_ps(x, _mm256_set1_ps(88.3f));
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187e-06f), r);
  // Taylor series of e^r on |r| <= ln2/2, degree 6.
  __m256 p = _mm256_set1_ps(1.f / 720.f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f / 120.f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f / 24.f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f / 6.f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f));
  __m256i e = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

SPARQ_ACT_AVX2_INLINE __m256 sigmoidAvx2(__m256 x) {
  __m256 one = _mm256_set1_ps(1.f);
  __m256 e = expAvx2(_mm256_sub_ps(_mm256_setzero_ps(), x));
  return _mm256_div_ps(one, _mm256_add_ps(one, e));
}

SPARQ_ACT_AVX2_INLINE __m256 tanhAvx2(__m256 x) {
  __m256 one = _mm256_set1_ps(1.f);
  // Large |x|: 1 - 2 / (e^{2x} + 1); saturates correctly through the clamp.
  __m256 e = expAvx2(_mm256_add_ps(x, x));
  __m256 big = _mm256_sub_ps(
      one, _mm256_div_ps(_mm256_set1_ps(2.f), _mm256_add_ps(e, one)));
  // Small |x|: odd Taylor polynomial, avoids the cancellation above.
  __m256 x2 = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(62.f / 2835.f);
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-17.f / 315.f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(2.f / 15.f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-1.f / 3.f));
  p = _mm256_mul_ps(p, x2);
  __m256 small = _mm256_fmadd_ps(p, x, x);
  __m256 absx = _mm256_andnot_ps(_mm256_set1_ps(-0.f), x);
  __m256 useSmall = _mm256_cmp_ps(absx, _mm256_set1_ps(0.3f), _CMP_LT_OQ);
  return _mm256_blendv_ps(big, small, useSmall);
}

SPARQ_ACT_AVX2_INLINE __m256 erfAvx2(__m256 x) {
  // Rational-exponential approximation with max absolute error ~1.5e-7.
  __m256 sign = _mm256_and_ps(_mm256_set1_ps(-0.f), x);
  __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.f), x);
  __m256 one = _mm256_set1_ps(1.f);
  __m256 t =
      _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), ax, one));
  __m256 p = _mm256_set1_ps(1.061405429f);
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.453152027f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.284496736f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
  p = _mm256_mul_ps(p, t);
  __m256 e = expAvx2(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(ax, ax)));
  __m256 y = _mm256_fnmadd_ps(p, e, one);
  return _mm256_or_ps(y, sign);
}

SPARQ_ACT_AVX2_INLINE __m256 activateAvx2(__m256 v, int act, float actA,
                                      float actB) {
  switch (act) {
  case 1:
    return _mm256_max_ps(v, _mm256_setzero_ps());
  case 2:
    return _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(actA)),
                         _mm256_set1_ps(actB));
  case 3: {
    __m256 neg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
    return _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(actA)), neg);
  }
  case 4:
    return sigmoidAvx2(v);
  case 5:
    return tanhAvx2(v);
  case 6: {
    __m256 e = erfAvx2(_mm256_mul_ps(v, _mm256_set1_ps(0.70710678118654752f)));
    __m256 half = _mm256_mul_ps(v, _mm256_set1_ps(0.5f));
    return _mm256_fmadd_ps(half, e, half);
  }
  case 7: {
    // 0.5 x (1 + tanh(u)) == x * sigmoid(2u)
    __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(v, v), v);
    __m256 u = _mm256_mul_ps(_mm256_set1_ps(0.79788456080286536f),
                             _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), x3, v));
    return _mm256_mul_ps(v, sigmoidAvx2(_mm256_add_ps(u, u)));
  }
  case 8: {
    __m256 y = _mm256_fmadd_ps(_mm256_set1_ps(actA), v, _mm256_set1_ps(actB));
    return _mm256_min_ps(_mm256_max_ps(y, _mm256_setzero_ps()),
                         _mm256_set1_ps(1.f));
  }
  case 9: {
    __m256 y =
        _mm256_fmadd_ps(v, _mm256_set1_ps(1.f / 6.f), _mm256_set1_ps(0.5f));
    y = _mm256_min_ps(_mm256_max_ps(y, _mm256_setzero_ps()),
                      _mm256_set1_ps(1.f));
    return _mm256_mul_ps(v, y);
  }
  default:
    return v;
  }
}

} // namespace rt
} // namespace sparq

#undef SPARQ_ACT_AVX2_INLINE

#endif // x86-64 with GCC or Clang

#endif // SPARQ_LIB_RUNTIME_ACTIVATIONSAVX2_H
