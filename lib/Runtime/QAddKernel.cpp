//===- QAddKernel.cpp - Requantizing add of two 8-bit tensors -------------===//
//
// sparq_uk_qadd_i8: the dequantize -> add -> quantize group of QDQ models
// (ResNet's skip connections) in one pass over the bytes. Every step is the
// generic lowering's f32 operation, in the same order, so the kernel and
// the three elementwise ops give the same bits:
//   a = (float)(qa - za) * sa;  b = (float)(qb - zb) * sb;
//   y = clamp(rne((a + b) / sy) + zy, qmin, qmax)
// The AVX2 path is compiled without FMA so that no multiply-add contracts.
//
//===----------------------------------------------------------------------===//

#include "sparq/Runtime/sparq_runtime.h"

#include "Context.h"
#include "Model.h"
#include "QGemm.h"
#include "ThreadPool.h"

#include <algorithm>
#include <cmath>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

using namespace sparq::rt;

namespace {

struct QAddParams {
  float aScale, bScale, yScale;
  int32_t aZero, bZero;
  float yZero, qmin, qmax;
};

template <bool Signed>
void qaddScalar(const uint8_t *a, const uint8_t *b, uint8_t *y, int64_t begin,
                int64_t end, const QAddParams &p) {
  for (int64_t i = begin; i < end; ++i) {
    int32_t qa = Signed ? int32_t(int8_t(a[i])) : int32_t(a[i]);
    int32_t qb = Signed ? int32_t(int8_t(b[i])) : int32_t(b[i]);
    float fa = static_cast<float>(qa - p.aZero) * p.aScale;
    float fb = static_cast<float>(qb - p.bZero) * p.bScale;
    float v = std::nearbyint((fa + fb) / p.yScale) + p.yZero;
    v = std::fmin(std::fmax(v, p.qmin), p.qmax);
    y[i] = static_cast<uint8_t>(static_cast<int32_t>(v));
  }
}

#if defined(__x86_64__)
#define SPARQ_QADD_AVX2 __attribute__((target("avx2")))

template <bool Signed>
SPARQ_QADD_AVX2 inline __m256 qaddDequant8(const uint8_t *p, __m256i zero,
                                           __m256 scale) {
  __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i *>(p));
  __m256i v = Signed ? _mm256_cvtepi8_epi32(bytes) : _mm256_cvtepu8_epi32(bytes);
  return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(v, zero)), scale);
}

template <bool Signed>
SPARQ_QADD_AVX2 inline __m256i qaddRequant8(const uint8_t *a, const uint8_t *b,
                                            __m256i az, __m256 as, __m256i bz,
                                            __m256 bs, __m256 ys, __m256 yz,
                                            __m256 lo, __m256 hi) {
  __m256 sum = _mm256_add_ps(qaddDequant8<Signed>(a, az, as),
                             qaddDequant8<Signed>(b, bz, bs));
  __m256 v = _mm256_round_ps(_mm256_div_ps(sum, ys),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  v = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(v, yz), lo), hi);
  return _mm256_cvttps_epi32(v);
}

template <bool Signed>
SPARQ_QADD_AVX2 void qaddAvx2(const uint8_t *a, const uint8_t *b, uint8_t *y,
                              int64_t begin, int64_t end, const QAddParams &p) {
  const __m256i az = _mm256_set1_epi32(p.aZero), bz = _mm256_set1_epi32(p.bZero);
  const __m256 as = _mm256_set1_ps(p.aScale), bs = _mm256_set1_ps(p.bScale);
  const __m256 ys = _mm256_set1_ps(p.yScale), yz = _mm256_set1_ps(p.yZero);
  const __m256 lo = _mm256_set1_ps(p.qmin), hi = _mm256_set1_ps(p.qmax);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  int64_t i = begin;
  for (; i + 32 <= end; i += 32) {
    __m256i v[4];
    for (int k = 0; k < 4; ++k)
      v[k] = qaddRequant8<Signed>(a + i + 8 * k, b + i + 8 * k, az, as, bz, bs,
                                  ys, yz, lo, hi);
    // The values are already in range, so the saturating packs are exact;
    // they work within 128-bit lanes and the permute restores the order.
    __m256i bytes =
        Signed ? _mm256_packs_epi16(_mm256_packs_epi32(v[0], v[1]),
                                    _mm256_packs_epi32(v[2], v[3]))
               : _mm256_packus_epi16(_mm256_packus_epi32(v[0], v[1]),
                                     _mm256_packus_epi32(v[2], v[3]));
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(y + i),
                        _mm256_permutevar8x32_epi32(bytes, order));
  }
  qaddScalar<Signed>(a, b, y, i, end, p);
}
#endif

} // namespace

extern "C" SPARQ_API void
sparq_uk_qadd_i8(void *ctx, const void *A, const void *B, void *Y, int64_t n,
                 int64_t type, float aScale, int64_t aZero, float bScale,
                 int64_t bZero, float yScale, int64_t yZero, int64_t qmin,
                 int64_t qmax) {
  if (!A || !B || !Y || n <= 0 ||
      (type != SPARQ_QTYPE_U8 && type != SPARQ_QTYPE_S8))
    return;
  const bool isSigned = type == SPARQ_QTYPE_S8;
  const QAddParams p{aScale,
                     bScale,
                     yScale,
                     static_cast<int32_t>(aZero),
                     static_cast<int32_t>(bZero),
                     static_cast<float>(yZero),
                     static_cast<float>(qmin),
                     static_cast<float>(qmax)};
  const auto *a = static_cast<const uint8_t *>(A);
  const auto *b = static_cast<const uint8_t *>(B);
  auto *y = static_cast<uint8_t *>(Y);
  using RangeFn = void (*)(const uint8_t *, const uint8_t *, uint8_t *, int64_t,
                           int64_t, const QAddParams &);
  RangeFn fn = isSigned ? qaddScalar<true> : qaddScalar<false>;
#if defined(__x86_64__)
  if (activeQIsa() != QIsa::Generic)
    fn = isSigned ? qaddAvx2<true> : qaddAvx2<false>;
#endif
  // Chunks of whole 32-byte vectors; small tensors stay on one thread.
  constexpr int64_t kChunk = 8192;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  if (chunks == 1 || !ctx) {
    fn(a, b, y, 0, n, p);
    return;
  }
  contextFromHandle(ctx).threads().parallelFor(
      chunks, 1, [&](int64_t c0, int64_t c1) {
        fn(a, b, y, c0 * kChunk, std::min(n, c1 * kChunk), p);
      });
}
