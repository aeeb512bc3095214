//===- QConvKernelsAvx512.cpp - Direct integer conv kernels (VNNI) --------===//
//
// The AVX-512 VNNI kernels of QConvKernels.h: R rows of weights (each
// row's 4 bytes broadcast) times P panels of 16 pixels read straight from
// the channels-interleaved image, R x P zmm accumulators (at most 24).
//
//===----------------------------------------------------------------------===//

#include "sparq/Runtime/sparq_runtime.h"

#include "QConvKernels.h"
#include "QGemm.h"

#include <array>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SPARQ_HAVE_QCD_BUILD 1
#include <immintrin.h>
#endif

using namespace sparq::rt;

#ifdef SPARQ_HAVE_QCD_BUILD

#define SPARQ_QCD                                                              \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define SPARQ_QCD_INLINE                                                       \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"),               \
                 always_inline)) inline

namespace {

template <int R, int P>
SPARQ_QCD void qcdKernel(int64_t kGroups, const uint8_t *a, const int8_t *img,
                         const int64_t *boff, int32_t *out) {
  __m512i acc[R][P];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 3
    for (int p = 0; p < P; ++p)
      acc[i][p] = _mm512_setzero_si512();
#pragma GCC unroll 2
  for (int64_t g = 0; g < kGroups; ++g) {
    const int8_t *b = img + boff[g];
    __m512i vb[P];
#pragma GCC unroll 3
    for (int p = 0; p < P; ++p)
      vb[p] = _mm512_loadu_si512(b + 64 * p);
    const uint8_t *ag = a + g * kQMR * 4;
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      int32_t quad;
      std::memcpy(&quad, ag + 4 * i, 4);
      const __m512i av = _mm512_set1_epi32(quad);
#pragma GCC unroll 3
      for (int p = 0; p < P; ++p)
        acc[i][p] = _mm512_dpbusd_epi32(acc[i][p], av, vb[p]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 3
    for (int p = 0; p < P; ++p)
      _mm512_storeu_si512(out + i * kQcdTileN + 16 * p, acc[i][p]);
}

/// The accumulation of the pixels-as-rows kernels.
template <int R, bool Two>
SPARQ_QCD_INLINE void qcrAccumulate(int64_t kGroups, const uint8_t *const *rows,
                                    const int64_t *boff, const int8_t *b0,
                                    const int8_t *b1, __m512i (&acc0)[R],
                                    __m512i (&acc1)[R]) {
  const uint8_t *rp[R];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
    rp[i] = rows[i];
    acc0[i] = _mm512_setzero_si512();
    acc1[i] = _mm512_setzero_si512();
  }
#pragma GCC unroll 2
  for (int64_t g = 0; g < kGroups; ++g) {
    const int64_t o = boff[g];
    const __m512i vb0 = _mm512_loadu_si512(b0 + g * 64);
    const __m512i vb1 =
        Two ? _mm512_loadu_si512(b1 + g * 64) : _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      int32_t quad;
      std::memcpy(&quad, rp[i] + o, 4);
      const __m512i av = _mm512_set1_epi32(quad);
      acc0[i] = _mm512_dpbusd_epi32(acc0[i], av, vb0);
      if (Two)
        acc1[i] = _mm512_dpbusd_epi32(acc1[i], av, vb1);
    }
  }
}

template <int R, bool Two>
SPARQ_QCD void qcrKernel(int64_t kGroups, const uint8_t *const *rows,
                         const int64_t *boff, const int8_t *b0,
                         const int8_t *b1, int32_t *out) {
  __m512i acc0[R], acc1[R];
  qcrAccumulate<R, Two>(kGroups, rows, boff, b0, b1, acc0, acc1);
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
    _mm512_storeu_si512(out + i * kQTileN, acc0[i]);
    if (Two)
      _mm512_storeu_si512(out + i * kQTileN + 16, acc1[i]);
  }
}

/// QConvRowsOut's output stage of 16 accumulators; clamped before
/// rounding, so the result's low byte is exact.
SPARQ_QCD_INLINE __m128i qcrRequantize(__m512i acc, __m512i ct, __m512i bz,
                                       __m512i rs, __m512 sc, __m512 lo,
                                       __m512 hi, __m512i oz) {
  acc = _mm512_sub_epi32(_mm512_sub_epi32(acc, ct), _mm512_mullo_epi32(bz, rs));
  __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), sc);
  f = _mm512_min_ps(_mm512_max_ps(f, lo), hi);
  return _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(f), oz));
}

template <int R, bool Two>
SPARQ_QCD void qcrKernelQ(int64_t kGroups, const uint8_t *const *rows,
                          const int64_t *boff, const int8_t *b0,
                          const int8_t *b1, const QConvRowsOut &o,
                          uint8_t *out) {
  __m512i acc0[R], acc1[R];
  qcrAccumulate<R, Two>(kGroups, rows, boff, b0, b1, acc0, acc1);
  const __m512 lo = _mm512_set1_ps(static_cast<float>(o.qmin - o.outZero));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(o.qmax - o.outZero));
  const __m512i oz = _mm512_set1_epi32(o.outZero);
  const __m512i ct0 = _mm512_loadu_si512(o.colTerm);
  const __m512i bz0 = _mm512_loadu_si512(o.bZero);
  const __m512 sc0 = _mm512_loadu_ps(o.scale);
  const __m512i ct1 = Two ? _mm512_loadu_si512(o.colTerm + 16) : ct0;
  const __m512i bz1 = Two ? _mm512_loadu_si512(o.bZero + 16) : bz0;
  const __m512 sc1 = Two ? _mm512_loadu_ps(o.scale + 16) : sc0;
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
    const __m512i rs = _mm512_set1_epi32(o.rowSums[i]);
    _mm_storeu_si128(reinterpret_cast<__m128i *>(out + i * kQTileN),
                     qcrRequantize(acc0[i], ct0, bz0, rs, sc0, lo, hi, oz));
    if (Two)
      _mm_storeu_si128(reinterpret_cast<__m128i *>(out + i * kQTileN + 16),
                       qcrRequantize(acc1[i], ct1, bz1, rs, sc1, lo, hi, oz));
  }
}

template <bool Two> std::array<QConvRowsQFn, kQMR + 1> qcrRowQ() {
  return {nullptr,
          qcrKernelQ<1, Two>,
          qcrKernelQ<2, Two>,
          qcrKernelQ<3, Two>,
          qcrKernelQ<4, Two>,
          qcrKernelQ<5, Two>,
          qcrKernelQ<6, Two>,
          qcrKernelQ<7, Two>,
          qcrKernelQ<8, Two>};
}

template <bool Two> std::array<QConvRowsFn, kQMR + 1> qcrRow() {
  return {nullptr,           qcrKernel<1, Two>, qcrKernel<2, Two>,
          qcrKernel<3, Two>, qcrKernel<4, Two>, qcrKernel<5, Two>,
          qcrKernel<6, Two>, qcrKernel<7, Two>, qcrKernel<8, Two>};
}

template <int P> std::array<QConvDirectFn, kQMR + 1> qcdRow() {
  return {nullptr,         qcdKernel<1, P>, qcdKernel<2, P>,
          qcdKernel<3, P>, qcdKernel<4, P>, qcdKernel<5, P>,
          qcdKernel<6, P>, qcdKernel<7, P>, qcdKernel<8, P>};
}

bool qcdCpuOk() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") &&
         __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512vnni");
}

} // namespace

QConvDirectFn sparq::rt::qconvDirectKernel(int rows, int panels) {
  static const bool ok = qcdCpuOk();
  static const std::array<std::array<QConvDirectFn, kQMR + 1>,
                          kQcdMaxPanels + 1>
      table = {std::array<QConvDirectFn, kQMR + 1>{}, qcdRow<1>(), qcdRow<2>(),
               qcdRow<3>()};
  if (!ok || rows < 1 || rows > kQMR || panels < 1 || panels > kQcdMaxPanels)
    return nullptr;
  return table[panels][rows];
}

QConvRowsFn sparq::rt::qconvRowsKernel(int rows, bool twoPanels) {
  static const std::array<std::array<QConvRowsFn, kQMR + 1>, 2> table = {
      qcrRow<false>(), qcrRow<true>()};
  if (!qconvDirectKernel(1, 1) || rows < 1 || rows > kQMR)
    return nullptr;
  return table[twoPanels ? 1 : 0][rows];
}

QConvRowsQFn sparq::rt::qconvRowsKernelQ(int rows, bool twoPanels) {
  static const std::array<std::array<QConvRowsQFn, kQMR + 1>, 2> table = {
      qcrRowQ<false>(), qcrRowQ<true>()};
  if (!qconvDirectKernel(1, 1) || rows < 1 || rows > kQMR)
    return nullptr;
  return table[twoPanels ? 1 : 0][rows];
}

#else

QConvDirectFn sparq::rt::qconvDirectKernel(int, int) { return nullptr; }
QConvRowsFn sparq::rt::qconvRowsKernel(int, bool) { return nullptr; }
QConvRowsQFn sparq::rt::qconvRowsKernelQ(int, bool) { return nullptr; }

#endif

namespace {
/// sums[j] (+)= the four bytes of pixel j (s8, or u8 when unsignedBytes),
/// for j in [from, pixels).
inline void qcdSumsScalar(const int8_t *img, int64_t from, int64_t pixels,
                          int32_t *sums, bool first, bool unsignedBytes) {
  const uint8_t *u = reinterpret_cast<const uint8_t *>(img);
  for (int64_t j = from; j < pixels; ++j) {
    int32_t v = first ? 0 : sums[j];
    for (int t = 0; t < 4; ++t)
      v += unsignedBytes ? int32_t(u[4 * j + t]) : int32_t(img[4 * j + t]);
    sums[j] = v;
  }
}
} // namespace

#ifdef SPARQ_HAVE_QCD_BUILD
namespace {
SPARQ_QCD void qcdSumsVnni(const int8_t *img, int64_t pixels, int32_t *sums,
                           bool first, bool unsignedBytes) {
  const __m512i ones = _mm512_set1_epi8(1);
  int64_t j = 0;
  for (; j + 16 <= pixels; j += 16) {
    __m512i acc = first ? _mm512_setzero_si512() : _mm512_loadu_si512(sums + j);
    const __m512i v = _mm512_loadu_si512(img + 4 * j);
    // vpdpbusd reads its first product operand as u8, its second as s8.
    acc = unsignedBytes ? _mm512_dpbusd_epi32(acc, v, ones)
                        : _mm512_dpbusd_epi32(acc, ones, v);
    _mm512_storeu_si512(sums + j, acc);
  }
  qcdSumsScalar(img, j, pixels, sums, first, unsignedBytes);
}
} // namespace
#endif

void sparq::rt::qconvQuadSums(const int8_t *img, int64_t pixels, int32_t *sums,
                              bool first, bool unsignedBytes) {
#ifdef SPARQ_HAVE_QCD_BUILD
  if (qconvDirectKernel(1, 1)) {
    qcdSumsVnni(img, pixels, sums, first, unsignedBytes);
    return;
  }
#endif
  qcdSumsScalar(img, 0, pixels, sums, first, unsignedBytes);
}

#ifdef SPARQ_HAVE_QCD_BUILD
namespace {
SPARQ_QCD void qcdColAdjVnni(const int32_t *sums, const int64_t *soff,
                             int64_t taps, int64_t n, int32_t base,
                             int32_t *out) {
  for (int64_t j = 0; j < n; j += 16) {
    __m512i acc = _mm512_set1_epi32(base);
    for (int64_t t = 0; t < taps; ++t)
      acc = _mm512_add_epi32(acc, _mm512_loadu_si512(sums + soff[t] + j));
    _mm512_storeu_si512(out + j, acc);
  }
}
} // namespace
#endif

void sparq::rt::qconvColAdj(const int32_t *sums, const int64_t *soff,
                            int64_t taps, int64_t n, int32_t base,
                            int32_t *out) {
#ifdef SPARQ_HAVE_QCD_BUILD
  if (qconvDirectKernel(1, 1)) {
    qcdColAdjVnni(sums, soff, taps, n, base, out);
    return;
  }
#endif
  for (int64_t j = 0; j < (n + 15) / 16 * 16; ++j) {
    uint32_t v = static_cast<uint32_t>(base);
    for (int64_t t = 0; t < taps; ++t)
      v += static_cast<uint32_t>(sums[soff[t] + j]);
    out[j] = static_cast<int32_t>(v);
  }
}

#ifdef SPARQ_HAVE_QCD_BUILD
namespace {
SPARQ_QCD void qcdOutputTileVnni(const int32_t *raw, int rows, int64_t n,
                                 const int32_t *colAdj, const int32_t *rowSums,
                                 const int32_t *aZero, int32_t bZero,
                                 const int32_t *bias, const float *scale,
                                 int outKind, int32_t outZero, int32_t qmin,
                                 int32_t qmax, uint8_t *out) {
  const int64_t es =
      outKind == SPARQ_QOUT_I32 || outKind == SPARQ_QOUT_F32 ? 4 : 1;
  const __m512 lo = _mm512_set1_ps(static_cast<float>(qmin - outZero));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(qmax - outZero));
  const __m512i oz = _mm512_set1_epi32(outZero);
  for (int r = 0; r < rows; ++r) {
    // acc = raw - za * colAdj - zb * rowSum + bias (wrapping int32).
    const __m512i za = _mm512_set1_epi32(aZero[r]);
    const __m512i rowTerm = _mm512_set1_epi32(static_cast<int32_t>(
        static_cast<uint32_t>(bias[r]) -
        static_cast<uint32_t>(bZero) * static_cast<uint32_t>(rowSums[r])));
    const __m512 sc = scale ? _mm512_set1_ps(scale[r]) : _mm512_setzero_ps();
    const int32_t *rr = raw + r * kQcdTileN;
    uint8_t *o = out + r * kQcdTileN * 4;
    for (int64_t j = 0; j < n; j += 16) {
      const __mmask16 live = n - j >= 16
                                 ? __mmask16(0xFFFF)
                                 : static_cast<__mmask16>((1u << (n - j)) - 1);
      __m512i acc = _mm512_loadu_si512(rr + j);
      acc = _mm512_sub_epi32(
          acc, _mm512_mullo_epi32(za, _mm512_loadu_si512(colAdj + j)));
      acc = _mm512_add_epi32(acc, rowTerm);
      if (outKind == SPARQ_QOUT_I32) {
        _mm512_mask_storeu_epi32(o + j * es, live, acc);
        continue;
      }
      __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), sc);
      if (outKind == SPARQ_QOUT_F32) {
        _mm512_mask_storeu_ps(o + j * es, live, f);
        continue;
      }
      f = _mm512_min_ps(_mm512_max_ps(f, lo), hi);
      __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(f), oz);
      _mm_mask_storeu_epi8(o + j, live, _mm512_cvtepi32_epi8(q));
    }
  }
}
} // namespace
#endif

bool sparq::rt::qconvOutputTile(const int32_t *raw, int rows, int64_t n,
                                const int32_t *colAdj, const int32_t *rowSums,
                                const int32_t *aZero, int32_t bZero,
                                const int32_t *bias, const float *scale,
                                int outKind, int32_t outZero, int32_t qmin,
                                int32_t qmax, uint8_t *out) {
#ifdef SPARQ_HAVE_QCD_BUILD
  if (qconvDirectKernel(1, 1)) {
    qcdOutputTileVnni(raw, rows, n, colAdj, rowSums, aZero, bZero, bias, scale,
                      outKind, outZero, qmin, qmax, out);
    return true;
  }
#endif
  (void)raw, (void)rows, (void)n, (void)colAdj, (void)rowSums, (void)aZero;
  (void)bZero, (void)bias, (void)scale, (void)outKind, (void)outZero;
  (void)qmin, (void)qmax, (void)out;
  return false;
}
