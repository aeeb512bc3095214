//===- NormKernels.cpp - Row kernels of layer_norm and softmax ------------===//
//
// sparq_uk_layer_norm_f32 and sparq_uk_softmax_f32 normalize the rows of a
// row-major [rows, n] matrix along its last axis, one row per task, rows
// split across the context's thread pool.
//  - layer_norm is two-pass: the mean m (rounded to f32), then the sums of
//    d = x - m and d^2, which give the biased variance around the exact
//    mean and the residual c = sum d / n of m; y = ((x - m) * rstd - c *
//    rstd) * gamma + beta with rstd = 1 / sqrt(var + eps) in double.
//  - softmax is max-shifted: e = exp(x - max) is stored and summed, then
//    scaled by 1 / sum; log-softmax writes x - max - log(sum).
// Sums are f32 in 32 (AVX2) or 64 (AVX-512) partial lanes. exp is a
// degree-7 polynomial on |r| <= ln2 / 2 after a two-constant Cody-Waite
// reduction, about 1 ulp; inputs below ln(FLT_MIN) give 0 on AVX2 (the
// AVX-512 path scales with vscalefps and underflows through the
// subnormals), inputs above 88.3 saturate at e^88.3. Row tails use masked
// loads and stores, so a row narrower than a vector stays on the vector
// path.
//
//===----------------------------------------------------------------------===//

#include "sparq/Runtime/sparq_runtime.h"

#include "Context.h"
#include "Kernels.h"
#include "Model.h"
#include "NormKernels.h"
#include "ThreadPool.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SPARQ_HAVE_NORM_SIMD 1
#include <immintrin.h>
#endif

using namespace sparq::rt;

namespace {

using LayerNormRowFn = void (*)(const float *x, float *y, int64_t n,
                                const float *gamma, const float *beta,
                                float eps);
using SoftmaxRowFn = void (*)(const float *x, float *y, int64_t n, bool log);
using ExpRowFn = void (*)(const float *x, float *y, int64_t n);

/// From the sums of d = x - mean and of d^2 over a row, where mean is the
/// f32-rounded mean and c = sum d / n its residual: rstd = 1 / sqrt(var +
/// eps) with var = sum d^2 / n - c^2, and shift = -c * rstd, so that
/// (x - mean) * rstd + shift normalizes around the exact mean. All in
/// double.
inline void normScaleAndShift(double deviations, double squares, int64_t n,
                              float eps, float &rstd, float &shift) {
  const double c = deviations / static_cast<double>(n);
  const double var =
      std::max(0.0, squares / static_cast<double>(n) - c * c);
  const double r = 1.0 / std::sqrt(var + static_cast<double>(eps));
  rstd = static_cast<float>(r);
  shift = static_cast<float>(-c * r);
}

//===----------------------------------------------------------------------===//
// Portable rows
//===----------------------------------------------------------------------===//

void layerNormRowGeneric(const float *x, float *y, int64_t n,
                         const float *gamma, const float *beta, float eps) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i)
    sum += x[i];
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  double deviations = 0, squares = 0;
  for (int64_t i = 0; i < n; ++i) {
    double d = static_cast<double>(x[i]) - mean;
    deviations += d;
    squares += d * d;
  }
  float rstd, shift;
  normScaleAndShift(deviations, squares, n, eps, rstd, shift);
  for (int64_t i = 0; i < n; ++i) {
    float v = (x[i] - mean) * rstd + shift;
    if (gamma)
      v *= gamma[i];
    if (beta)
      v += beta[i];
    y[i] = v;
  }
}

void softmaxRowGeneric(const float *x, float *y, int64_t n, bool log) {
  float max = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i)
    max = std::max(max, x[i]);
  double sum = 0;
  if (log) {
    for (int64_t i = 0; i < n; ++i)
      sum += std::exp(x[i] - max);
    const float shift = max + static_cast<float>(std::log(sum));
    for (int64_t i = 0; i < n; ++i)
      y[i] = x[i] - shift;
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    float e = std::exp(x[i] - max);
    y[i] = e;
    sum += e;
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i)
    y[i] *= inv;
}

void expRowGeneric(const float *x, float *y, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    y[i] = std::exp(x[i]);
}

#ifdef SPARQ_HAVE_NORM_SIMD

// Cody-Waite split of ln 2 (the high part has 16 significant bits, so
// n * hi is exact for |n| < 2^8) and the Taylor coefficients of e^r.
constexpr float kNormLog2e = 1.44269504088896341f;
constexpr float kNormLn2Hi = 0.693145751953125f;
constexpr float kNormLn2Lo = 1.42860682030941723e-6f;
constexpr float kNormExpC[8] = {1.f,         1.f,         1.f / 2,
                                1.f / 6,     1.f / 24,    1.f / 120,
                                1.f / 720,   1.f / 5040};
/// ln(FLT_MIN): below it the AVX2 exp returns 0.
constexpr float kNormExpMin = -87.3365447505531f;
/// Upper clamp (e^88.3 < FLT_MAX); softmax only feeds x - max <= 0.
constexpr float kNormExpMax = 88.3f;

//===----------------------------------------------------------------------===//
// AVX2 + FMA rows
//===----------------------------------------------------------------------===//

#define SPARQ_NORM_AVX2 __attribute__((target("avx2,fma")))
#define SPARQ_NORM_AVX2_INLINE                                                 \
  __attribute__((target("avx2,fma"), always_inline)) inline

/// Eight -1 then eight 0: loading 8 lanes at offset 8 - k gives a mask of
/// the first k lanes.
alignas(64) const int32_t kNormTailMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                               0,  0,  0,  0,  0,  0,  0,  0};

SPARQ_NORM_AVX2_INLINE __m256i normTail8(int64_t k) {
  return _mm256_loadu_si256(
      reinterpret_cast<const __m256i *>(kNormTailMask + 8 - k));
}

SPARQ_NORM_AVX2_INLINE __m256 normExp8(__m256 x) {
  const __m256 lo = _mm256_set1_ps(kNormExpMin);
  const __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
  // max/min return their second operand when one is NaN: NaN survives.
  __m256 xc = _mm256_min_ps(_mm256_set1_ps(kNormExpMax), _mm256_max_ps(lo, x));
  __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(kNormLog2e)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kNormLn2Hi), xc);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kNormLn2Lo), r);
  __m256 p = _mm256_set1_ps(kNormExpC[7]);
  for (int k = 6; k >= 0; --k)
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kNormExpC[k]));
  // -126 <= n <= 127: 2^n is a normal float built from its exponent bits.
  __m256i e = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  __m256 y = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
  return _mm256_andnot_ps(under, y);
}

SPARQ_NORM_AVX2_INLINE float normHsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

SPARQ_NORM_AVX2_INLINE float normHmax8(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/// Sum of x[0..n) (masked lanes contribute 0).
SPARQ_NORM_AVX2_INLINE float normSum8(const float *x, int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_loadu_ps(x + i + 24));
  }
  for (; i + 8 <= n; i += 8)
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
  if (i < n)
    a1 = _mm256_add_ps(a1, _mm256_maskload_ps(x + i, normTail8(n - i)));
  return normHsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
}

/// (v - mean) * rstd + shift, times gamma[at..], plus beta[at..], either
/// optional; Masked reads gamma/beta under m only.
template <bool Masked>
SPARQ_NORM_AVX2_INLINE __m256 normScaleShift8(__m256 v, __m256 mean,
                                              __m256 rstd, __m256 shift,
                                              const float *gamma,
                                              const float *beta, int64_t at,
                                              __m256i m) {
  v = _mm256_fmadd_ps(_mm256_sub_ps(v, mean), rstd, shift);
  if (gamma)
    v = _mm256_mul_ps(v, Masked ? _mm256_maskload_ps(gamma + at, m)
                                : _mm256_loadu_ps(gamma + at));
  if (beta)
    v = _mm256_add_ps(v, Masked ? _mm256_maskload_ps(beta + at, m)
                                : _mm256_loadu_ps(beta + at));
  return v;
}

SPARQ_NORM_AVX2 void layerNormRowAvx2(const float *x, float *y, int64_t n,
                                      const float *gamma, const float *beta,
                                      float eps) {
  const float meanS = normSum8(x, n) / static_cast<float>(n);
  const __m256 mean = _mm256_set1_ps(meanS);
  // Deviations (d0, d1) and squares (q0..q3) in independent chains.
  __m256 d0 = _mm256_setzero_ps(), d1 = d0;
  __m256 q0 = d0, q1 = d0, q2 = d0, q3 = d0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256 e0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), mean);
    __m256 e1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), mean);
    __m256 e2 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 16), mean);
    __m256 e3 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 24), mean);
    d0 = _mm256_add_ps(d0, _mm256_add_ps(e0, e1));
    d1 = _mm256_add_ps(d1, _mm256_add_ps(e2, e3));
    q0 = _mm256_fmadd_ps(e0, e0, q0);
    q1 = _mm256_fmadd_ps(e1, e1, q1);
    q2 = _mm256_fmadd_ps(e2, e2, q2);
    q3 = _mm256_fmadd_ps(e3, e3, q3);
  }
  for (; i + 8 <= n; i += 8) {
    __m256 e = _mm256_sub_ps(_mm256_loadu_ps(x + i), mean);
    d0 = _mm256_add_ps(d0, e);
    q0 = _mm256_fmadd_ps(e, e, q0);
  }
  if (i < n) {
    __m256i m = normTail8(n - i);
    __m256 e = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), mean),
                             _mm256_castsi256_ps(m));
    d1 = _mm256_add_ps(d1, e);
    q1 = _mm256_fmadd_ps(e, e, q1);
  }
  float rstdS, shiftS;
  normScaleAndShift(
      normHsum8(_mm256_add_ps(d0, d1)),
      normHsum8(_mm256_add_ps(_mm256_add_ps(q0, q1), _mm256_add_ps(q2, q3))),
      n, eps, rstdS, shiftS);
  const __m256 rstd = _mm256_set1_ps(rstdS), shift = _mm256_set1_ps(shiftS);
  const __m256i all = _mm256_set1_epi32(-1);
  for (i = 0; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i,
                     normScaleShift8<false>(_mm256_loadu_ps(x + i), mean, rstd,
                                            shift, gamma, beta, i, all));
  if (i < n) {
    __m256i m = normTail8(n - i);
    _mm256_maskstore_ps(
        y + i, m,
        normScaleShift8<true>(_mm256_maskload_ps(x + i, m), mean, rstd, shift,
                              gamma, beta, i, m));
  }
}

SPARQ_NORM_AVX2 void softmaxRowAvx2(const float *x, float *y, int64_t n,
                                    bool log) {
  const __m256 ninf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  __m256 m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    m0 = _mm256_max_ps(m0, _mm256_loadu_ps(x + i));
    m1 = _mm256_max_ps(m1, _mm256_loadu_ps(x + i + 8));
    m2 = _mm256_max_ps(m2, _mm256_loadu_ps(x + i + 16));
    m3 = _mm256_max_ps(m3, _mm256_loadu_ps(x + i + 24));
  }
  for (; i + 8 <= n; i += 8)
    m0 = _mm256_max_ps(m0, _mm256_loadu_ps(x + i));
  const int64_t tail = n - i;
  const __m256i tailMask = normTail8(tail);
  if (tail)
    m1 = _mm256_max_ps(m1, _mm256_blendv_ps(ninf,
                                            _mm256_maskload_ps(x + i, tailMask),
                                            _mm256_castsi256_ps(tailMask)));
  const float maxS =
      normHmax8(_mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3)));
  const __m256 max = _mm256_set1_ps(maxS);

  // e = exp(x - max), stored unless log, and summed.
  __m256 s0 = _mm256_setzero_ps(), s1 = s0;
  i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 e0 = normExp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), max));
    __m256 e1 = normExp8(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), max));
    if (!log) {
      _mm256_storeu_ps(y + i, e0);
      _mm256_storeu_ps(y + i + 8, e1);
    }
    s0 = _mm256_add_ps(s0, e0);
    s1 = _mm256_add_ps(s1, e1);
  }
  for (; i + 8 <= n; i += 8) {
    __m256 e = normExp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), max));
    if (!log)
      _mm256_storeu_ps(y + i, e);
    s0 = _mm256_add_ps(s0, e);
  }
  if (tail) {
    __m256 e = _mm256_and_ps(
        normExp8(_mm256_sub_ps(_mm256_maskload_ps(x + i, tailMask), max)),
        _mm256_castsi256_ps(tailMask));
    if (!log)
      _mm256_maskstore_ps(y + i, tailMask, e);
    s1 = _mm256_add_ps(s1, e);
  }
  const float sum = normHsum8(_mm256_add_ps(s0, s1));

  if (log) {
    const __m256 shift = _mm256_set1_ps(maxS + std::log(sum));
    for (i = 0; i + 8 <= n; i += 8)
      _mm256_storeu_ps(y + i, _mm256_sub_ps(_mm256_loadu_ps(x + i), shift));
    if (tail)
      _mm256_maskstore_ps(
          y + i, tailMask,
          _mm256_sub_ps(_mm256_maskload_ps(x + i, tailMask), shift));
    return;
  }
  const __m256 inv = _mm256_set1_ps(1.f / sum);
  for (i = 0; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), inv));
  if (tail)
    _mm256_maskstore_ps(
        y + i, tailMask,
        _mm256_mul_ps(_mm256_maskload_ps(y + i, tailMask), inv));
}

SPARQ_NORM_AVX2 void expRowAvx2(const float *x, float *y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, normExp8(_mm256_loadu_ps(x + i)));
  if (i < n) {
    __m256i m = normTail8(n - i);
    _mm256_maskstore_ps(y + i, m, normExp8(_mm256_maskload_ps(x + i, m)));
  }
}

//===----------------------------------------------------------------------===//
// AVX-512 rows
//===----------------------------------------------------------------------===//

#define SPARQ_NORM_AVX512 __attribute__((target("avx512f,avx2,fma")))
#define SPARQ_NORM_AVX512_INLINE                                               \
  __attribute__((target("avx512f,avx2,fma"), always_inline)) inline

SPARQ_NORM_AVX512_INLINE __mmask16 normTail16(int64_t k) {
  return static_cast<__mmask16>((1u << k) - 1);
}

SPARQ_NORM_AVX512_INLINE __m512 normExp16(__m512 x) {
  // Below -104 the result underflows to 0 anyway; the clamp keeps r finite
  // for -inf. vscalefps applies 2^n with correct overflow and underflow.
  __m512 xc = _mm512_min_ps(_mm512_set1_ps(kNormExpMax),
                            _mm512_max_ps(_mm512_set1_ps(-104.f), x));
  __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(kNormLog2e)),
                                  _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kNormLn2Hi), xc);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kNormLn2Lo), r);
  __m512 p = _mm512_set1_ps(kNormExpC[7]);
  for (int k = 6; k >= 0; --k)
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kNormExpC[k]));
  return _mm512_scalef_ps(p, n);
}

SPARQ_NORM_AVX512 float normSum16(const float *x, int64_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    a0 = _mm512_add_ps(a0, _mm512_loadu_ps(x + i));
    a1 = _mm512_add_ps(a1, _mm512_loadu_ps(x + i + 16));
    a2 = _mm512_add_ps(a2, _mm512_loadu_ps(x + i + 32));
    a3 = _mm512_add_ps(a3, _mm512_loadu_ps(x + i + 48));
  }
  for (; i + 16 <= n; i += 16)
    a0 = _mm512_add_ps(a0, _mm512_loadu_ps(x + i));
  if (i < n)
    a1 = _mm512_add_ps(a1, _mm512_maskz_loadu_ps(normTail16(n - i), x + i));
  return _mm512_reduce_add_ps(
      _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

SPARQ_NORM_AVX512 void layerNormRowAvx512(const float *x, float *y, int64_t n,
                                          const float *gamma,
                                          const float *beta, float eps) {
  const float meanS = normSum16(x, n) / static_cast<float>(n);
  const __m512 mean = _mm512_set1_ps(meanS);
  __m512 d0 = _mm512_setzero_ps(), d1 = d0;
  __m512 q0 = d0, q1 = d0, q2 = d0, q3 = d0;
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m512 e0 = _mm512_sub_ps(_mm512_loadu_ps(x + i), mean);
    __m512 e1 = _mm512_sub_ps(_mm512_loadu_ps(x + i + 16), mean);
    __m512 e2 = _mm512_sub_ps(_mm512_loadu_ps(x + i + 32), mean);
    __m512 e3 = _mm512_sub_ps(_mm512_loadu_ps(x + i + 48), mean);
    d0 = _mm512_add_ps(d0, _mm512_add_ps(e0, e1));
    d1 = _mm512_add_ps(d1, _mm512_add_ps(e2, e3));
    q0 = _mm512_fmadd_ps(e0, e0, q0);
    q1 = _mm512_fmadd_ps(e1, e1, q1);
    q2 = _mm512_fmadd_ps(e2, e2, q2);
    q3 = _mm512_fmadd_ps(e3, e3, q3);
  }
  for (; i + 16 <= n; i += 16) {
    __m512 e = _mm512_sub_ps(_mm512_loadu_ps(x + i), mean);
    d0 = _mm512_add_ps(d0, e);
    q0 = _mm512_fmadd_ps(e, e, q0);
  }
  if (i < n) {
    __mmask16 m = normTail16(n - i);
    __m512 e = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, x + i), mean);
    d1 = _mm512_add_ps(d1, e);
    q1 = _mm512_fmadd_ps(e, e, q1);
  }
  float rstdS, shiftS;
  normScaleAndShift(_mm512_reduce_add_ps(_mm512_add_ps(d0, d1)),
                    _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(q0, q1),
                                                       _mm512_add_ps(q2, q3))),
                    n, eps, rstdS, shiftS);
  const __m512 rstd = _mm512_set1_ps(rstdS), shift = _mm512_set1_ps(shiftS);
  for (i = 0; i < n; i += 16) {
    __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : normTail16(n - i);
    __m512 v = _mm512_fmadd_ps(
        _mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), mean), rstd, shift);
    if (gamma)
      v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, gamma + i));
    if (beta)
      v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, beta + i));
    _mm512_mask_storeu_ps(y + i, m, v);
  }
}

SPARQ_NORM_AVX512 void softmaxRowAvx512(const float *x, float *y, int64_t n,
                                        bool log) {
  const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __m512 m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    m0 = _mm512_max_ps(m0, _mm512_loadu_ps(x + i));
    m1 = _mm512_max_ps(m1, _mm512_loadu_ps(x + i + 16));
    m2 = _mm512_max_ps(m2, _mm512_loadu_ps(x + i + 32));
    m3 = _mm512_max_ps(m3, _mm512_loadu_ps(x + i + 48));
  }
  for (; i + 16 <= n; i += 16)
    m0 = _mm512_max_ps(m0, _mm512_loadu_ps(x + i));
  const int64_t tail = n - i;
  const __mmask16 tailMask = normTail16(tail);
  if (tail)
    m1 = _mm512_max_ps(m1, _mm512_mask_loadu_ps(ninf, tailMask, x + i));
  const float maxS = _mm512_reduce_max_ps(
      _mm512_max_ps(_mm512_max_ps(m0, m1), _mm512_max_ps(m2, m3)));
  const __m512 max = _mm512_set1_ps(maxS);

  __m512 s0 = _mm512_setzero_ps(), s1 = s0;
  i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512 e0 = normExp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), max));
    __m512 e1 = normExp16(_mm512_sub_ps(_mm512_loadu_ps(x + i + 16), max));
    if (!log) {
      _mm512_storeu_ps(y + i, e0);
      _mm512_storeu_ps(y + i + 16, e1);
    }
    s0 = _mm512_add_ps(s0, e0);
    s1 = _mm512_add_ps(s1, e1);
  }
  for (; i + 16 <= n; i += 16) {
    __m512 e = normExp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), max));
    if (!log)
      _mm512_storeu_ps(y + i, e);
    s0 = _mm512_add_ps(s0, e);
  }
  if (tail) {
    __m512 e = normExp16(
        _mm512_sub_ps(_mm512_mask_loadu_ps(ninf, tailMask, x + i), max));
    if (!log)
      _mm512_mask_storeu_ps(y + i, tailMask, e);
    s1 = _mm512_add_ps(s1, _mm512_maskz_mov_ps(tailMask, e));
  }
  const float sum = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));

  if (log) {
    const __m512 shift = _mm512_set1_ps(maxS + std::log(sum));
    for (i = 0; i < n; i += 16) {
      __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : tailMask;
      _mm512_mask_storeu_ps(
          y + i, m, _mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), shift));
    }
    return;
  }
  const __m512 inv = _mm512_set1_ps(1.f / sum);
  for (i = 0; i < n; i += 16) {
    __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : tailMask;
    _mm512_mask_storeu_ps(y + i, m,
                          _mm512_mul_ps(_mm512_maskz_loadu_ps(m, y + i), inv));
  }
}

SPARQ_NORM_AVX512 void expRowAvx512(const float *x, float *y, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : normTail16(n - i);
    _mm512_mask_storeu_ps(y + i, m,
                          normExp16(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

#undef SPARQ_NORM_AVX2
#undef SPARQ_NORM_AVX2_INLINE
#undef SPARQ_NORM_AVX512
#undef SPARQ_NORM_AVX512_INLINE

#endif // SPARQ_HAVE_NORM_SIMD

//===----------------------------------------------------------------------===//
// Selection and the parallel driver
//===----------------------------------------------------------------------===//

std::atomic<int> normIsaOverride{-1};

struct NormRowFns {
  LayerNormRowFn layerNorm;
  SoftmaxRowFn softmax;
  ExpRowFn exp;
};

NormRowFns normRowFns(NormIsa isa) {
#ifdef SPARQ_HAVE_NORM_SIMD
  if (isa == NormIsa::Avx512)
    return {layerNormRowAvx512, softmaxRowAvx512, expRowAvx512};
  if (isa == NormIsa::Avx2)
    return {layerNormRowAvx2, softmaxRowAvx2, expRowAvx2};
#endif
  return {layerNormRowGeneric, softmaxRowGeneric, expRowGeneric};
}

/// Elements per task: rows are grouped so that a task has about this many.
constexpr int64_t kNormChunkElements = 8192;

/// Calls rowFn(r) for every row r < rows, in row chunks on the pool.
template <typename RowFn>
void normForEachRow(void *ctx, int64_t rows, int64_t n, RowFn rowFn) {
  const int64_t grain = std::max<int64_t>(1, kNormChunkElements / n);
  if (!ctx || rows <= grain) {
    for (int64_t r = 0; r < rows; ++r)
      rowFn(r);
    return;
  }
  contextFromHandle(ctx).threads().parallelFor(
      rows, grain, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r)
          rowFn(r);
      });
}

} // namespace

bool sparq::rt::normIsaSupported(NormIsa isa) {
  if (isa == NormIsa::Generic)
    return true;
#ifdef SPARQ_HAVE_NORM_SIMD
  static const bool avx2 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  static const bool avx512 = avx2 && __builtin_cpu_supports("avx512f");
  return isa == NormIsa::Avx2 ? avx2 : avx512;
#else
  return false;
#endif
}

NormIsa sparq::rt::activeNormIsa() {
  int forced = normIsaOverride.load(std::memory_order_relaxed);
  if (forced >= 0 && normIsaSupported(static_cast<NormIsa>(forced)))
    return static_cast<NormIsa>(forced);
  static const NormIsa best = [] {
    if (genericKernelsForced())
      return NormIsa::Generic;
    if (normIsaSupported(NormIsa::Avx512))
      return NormIsa::Avx512;
    return normIsaSupported(NormIsa::Avx2) ? NormIsa::Avx2 : NormIsa::Generic;
  }();
  return best;
}

void sparq::rt::setNormIsaOverride(int isa) { normIsaOverride.store(isa); }

void sparq::rt::normExpForTest(const float *x, float *y, int64_t n) {
  normRowFns(activeNormIsa()).exp(x, y, n);
}

extern "C" SPARQ_API void sparq_uk_layer_norm_f32(void *ctx, const float *X,
                                                  const float *gamma,
                                                  const float *beta, float *Y,
                                                  int64_t rows, int64_t n,
                                                  float eps) {
  if (!X || !Y || rows <= 0 || n <= 0)
    return;
  LayerNormRowFn fn = normRowFns(activeNormIsa()).layerNorm;
  normForEachRow(ctx, rows, n, [&](int64_t r) {
    fn(X + r * n, Y + r * n, n, gamma, beta, eps);
  });
}

extern "C" SPARQ_API void sparq_uk_softmax_f32(void *ctx, const float *X,
                                               float *Y, int64_t rows,
                                               int64_t n, int64_t log) {
  if (!X || !Y || rows <= 0 || n <= 0)
    return;
  SoftmaxRowFn fn = normRowFns(activeNormIsa()).softmax;
  const bool isLog = log != 0;
  normForEachRow(ctx, rows, n, [&](int64_t r) {
    fn(X + r * n, Y + r * n, n, isLog);
  });
}
