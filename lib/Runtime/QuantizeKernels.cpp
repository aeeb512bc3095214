//===- QuantizeKernels.cpp - DynamicQuantizeLinear as one runtime call ----===//
//
// sparq_rt_dynamic_quantize_u8: ONNX DynamicQuantizeLinear (u8) in two
// passes over x (min/max, then quantize), AVX2 where the CPU has it. The
// arithmetic is the generic lowering's, operation for operation, so both
// give the same bits:
//   lo = min(0, min x), hi = max(0, max x)        (NaN elements ignored)
//   scale = (hi == lo ? 1 : hi - lo) / 255          (f32)
//   zp = rne(min(max(0 - lo / scale, 0), 255))
//   y = min(max(rne(x / scale) + zp, 0), 255)
//
//===----------------------------------------------------------------------===//

#include "sparq/Runtime/sparq_runtime.h"

#include "Kernels.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

struct DqlRange {
  float lo, hi;
};

DqlRange dqlRangeScalar(const float *x, int64_t begin, int64_t end,
                        DqlRange r) {
  for (int64_t i = begin; i < end; ++i) {
    float v = x[i];
    // A NaN compares false and leaves the range as it is.
    r.lo = v < r.lo ? v : r.lo;
    r.hi = v > r.hi ? v : r.hi;
  }
  return r;
}

void dqlQuantizeScalar(const float *x, int64_t begin, int64_t end, uint8_t *y,
                       float scale, float zp) {
  for (int64_t i = begin; i < end; ++i) {
    float q = std::nearbyint(x[i] / scale) + zp;
    q = std::fmin(std::fmax(q, 0.0f), 255.0f);
    y[i] = (uint8_t)(int32_t)q;
  }
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) DqlRange dqlRangeAvx2(const float *x,
                                                      int64_t n) {
  __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
  __m256 lo2 = lo, hi2 = hi;
  int64_t i = 0;
  // min_ps(a, b) returns b when either is NaN: x first ignores NaN x.
  for (; i + 16 <= n; i += 16) {
    __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
    lo = _mm256_min_ps(a, lo);
    hi = _mm256_max_ps(a, hi);
    lo2 = _mm256_min_ps(b, lo2);
    hi2 = _mm256_max_ps(b, hi2);
  }
  lo = _mm256_min_ps(lo, lo2);
  hi = _mm256_max_ps(hi, hi2);
  alignas(32) float l[8], h[8];
  _mm256_store_ps(l, lo);
  _mm256_store_ps(h, hi);
  DqlRange r{0.0f, 0.0f};
  r = dqlRangeScalar(l, 0, 8, r);
  r = dqlRangeScalar(h, 0, 8, r);
  return dqlRangeScalar(x, i, n, r);
}

__attribute__((target("avx2"))) inline __m256i
dqlQuantize8(const float *p, __m256 vs, __m256 vz, __m256 zero, __m256 top) {
  __m256 q = _mm256_round_ps(_mm256_div_ps(_mm256_loadu_ps(p), vs),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  q = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(q, vz), zero), top);
  return _mm256_cvttps_epi32(q);
}

__attribute__((target("avx2"))) void
dqlQuantizeAvx2(const float *x, int64_t n, uint8_t *y, float scale, float zp) {
  const __m256 vs = _mm256_set1_ps(scale), vz = _mm256_set1_ps(zp);
  const __m256 zero = _mm256_setzero_ps(), top = _mm256_set1_ps(255.0f);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i a = dqlQuantize8(x + i, vs, vz, zero, top);
    __m256i b = dqlQuantize8(x + i + 8, vs, vz, zero, top);
    __m256i c = dqlQuantize8(x + i + 16, vs, vz, zero, top);
    __m256i d = dqlQuantize8(x + i + 24, vs, vz, zero, top);
    // packs work within 128-bit lanes; the permute restores the order.
    __m256i ab = _mm256_packus_epi32(a, b), cd = _mm256_packus_epi32(c, d);
    __m256i bytes = _mm256_packus_epi16(ab, cd);
    bytes = _mm256_permutevar8x32_epi32(bytes, order);
    _mm256_storeu_si256((__m256i *)(y + i), bytes);
  }
  dqlQuantizeScalar(x, i, n, y, scale, zp);
}

bool dqlUseAvx2() {
  static const bool use = [] {
    if (sparq::rt::genericKernelsForced())
      return false;
    __builtin_cpu_init();
    return (bool)__builtin_cpu_supports("avx2");
  }();
  return use;
}
#endif

} // namespace

extern "C" SPARQ_API void
sparq_rt_dynamic_quantize_u8(void *ctx, const float *x, int64_t n, uint8_t *y,
                             float *scaleOut, uint8_t *zeroOut) {
  (void)ctx;
  DqlRange r{0.0f, 0.0f};
#if defined(__x86_64__)
  bool avx2 = dqlUseAvx2();
  if (avx2)
    r = dqlRangeAvx2(x, n);
  else
#endif
    r = dqlRangeScalar(x, 0, n, r);
  float range = r.hi == r.lo ? 1.0f : r.hi - r.lo;
  float scale = range / 255.0f;
  float zp = 0.0f - r.lo / scale;
  zp = std::nearbyint(std::fmin(std::fmax(zp, 0.0f), 255.0f));
#if defined(__x86_64__)
  if (avx2)
    dqlQuantizeAvx2(x, n, y, scale, zp);
  else
#endif
    dqlQuantizeScalar(x, 0, n, y, scale, zp);
  *scaleOut = scale;
  *zeroOut = (uint8_t)(int32_t)zp;
}
