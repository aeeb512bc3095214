//===- QKernelsAvx512.cpp - AVX-512 VNNI integer GEMM kernels -------------===//
//
// The AVX-512 VNNI kernel set of QGemm.h. vpdpbusd multiplies four u8 by
// four s8 and adds the four products to an int32 lane without saturation,
// which is exactly the canonical form of the packed operands: one zmm load
// is one group of 4 k for a whole 16-column B panel, and each A row's
// 4 bytes are broadcast (an embedded {1to16} broadcast). The tile is
// kQMR = 8 rows by two panels (32 columns): 16 zmm accumulators.
// The output stage is the AVX2 one widened to 16 lanes, with masked tails
// instead of the scalar one: the same operations in the same order, so the
// same results; for u8/s8 outputs the micro-kernels also come with it fused
// (QMicroKernelQFn), straight from the accumulators.
//
//===----------------------------------------------------------------------===//

#include "QGemm.h"

#include "sparq/Runtime/sparq_runtime.h"

#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SPARQ_HAVE_QVNNI_BUILD 1
#include <immintrin.h>
#endif

using namespace sparq::rt;

#ifdef SPARQ_HAVE_QVNNI_BUILD

#define SPARQ_QVNNI                                                            \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define SPARQ_QVNNI_INLINE                                                     \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"),               \
                 always_inline)) inline

namespace {

/// The accumulation of the micro-kernels: rows [0, R) of one A panel
/// times one or two B panels.
template <int R, bool Two>
SPARQ_QVNNI_INLINE void
qAccumulateVnni(int64_t kGroups, const uint8_t *a, const int8_t *b0,
                const int8_t *b1, __m512i (&acc0)[R], __m512i (&acc1)[R]) {
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
    acc0[i] = _mm512_setzero_si512();
    acc1[i] = _mm512_setzero_si512();
  }
#pragma GCC unroll 2
  for (int64_t g = 0; g < kGroups; ++g) {
    __m512i vb0 = _mm512_loadu_si512(b0 + g * kQNR * 4);
    __m512i vb1 =
        Two ? _mm512_loadu_si512(b1 + g * kQNR * 4) : _mm512_setzero_si512();
    const uint8_t *ag = a + g * kQMR * 4;
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      int32_t quad;
      std::memcpy(&quad, ag + i * 4, 4);
      __m512i av = _mm512_set1_epi32(quad);
      acc0[i] = _mm512_dpbusd_epi32(acc0[i], av, vb0);
      if (Two)
        acc1[i] = _mm512_dpbusd_epi32(acc1[i], av, vb1);
    }
  }
}

template <int R, bool Two>
SPARQ_QVNNI void qMicroKernelVnni(int64_t kGroups, const uint8_t *a,
                                  const int8_t *b0, const int8_t *b1,
                                  int32_t *out) {
  __m512i acc0[R], acc1[R];
  qAccumulateVnni<R, Two>(kGroups, a, b0, b1, acc0, acc1);
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
    _mm512_storeu_si512(out + i * kQTileN, acc0[i]);
    if (Two)
      _mm512_storeu_si512(out + i * kQTileN + kQNR, acc1[i]);
  }
}

/// Lanes [0, n) of 16 (n may exceed 16 or be negative).
SPARQ_QVNNI_INLINE __mmask16 qLiveLanes(int64_t n) {
  return n >= 16  ? static_cast<__mmask16>(0xFFFF)
         : n <= 0 ? static_cast<__mmask16>(0)
                  : static_cast<__mmask16>((1u << n) - 1);
}

/// QTileOut's stage of 16 accumulators: the QOutRow arithmetic in its
/// order; clamped before rounding, so the low byte of the result is exact.
SPARQ_QVNNI_INLINE __m128i qTileStageVnni(__m512i acc, __m512i za, __m512i ca,
                                          __m512i bz, __m512i rs, __m512i bias,
                                          __m512 sc, __m512 lo, __m512 hi,
                                          __m512i oz) {
  acc = _mm512_sub_epi32(acc, _mm512_mullo_epi32(za, ca));
  acc = _mm512_sub_epi32(acc, _mm512_mullo_epi32(bz, rs));
  acc = _mm512_add_epi32(acc, bias);
  __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), sc);
  f = _mm512_min_ps(_mm512_max_ps(f, lo), hi);
  return _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(f), oz));
}

template <int R, bool Two>
SPARQ_QVNNI void qMicroKernelVnniQ(int64_t kGroups, const uint8_t *a,
                                   const int8_t *b0, const int8_t *b1,
                                   const QTileOut &o, uint8_t *out,
                                   int64_t ldo) {
  __m512i acc0[R], acc1[R];
  qAccumulateVnni<R, Two>(kGroups, a, b0, b1, acc0, acc1);
  const __mmask16 m0 = qLiveLanes(o.cols), m1 = qLiveLanes(o.cols - 16);
  const __m512 lo = _mm512_set1_ps(static_cast<float>(o.qmin - o.outZero));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(o.qmax - o.outZero));
  const __m512i oz = _mm512_set1_epi32(o.outZero);
  const __m512i ca0 = _mm512_maskz_loadu_epi32(m0, o.colAdj);
  const __m512i ca1 = _mm512_maskz_loadu_epi32(m1, o.colAdj + 16);
  const __m512i bz0 = _mm512_maskz_loadu_epi32(m0, o.bZero);
  const __m512i bz1 = _mm512_maskz_loadu_epi32(m1, o.bZero + 16);
  const bool perCol = o.chanPerCol;
  const __m512i cb0 =
      perCol ? _mm512_maskz_loadu_epi32(m0, o.bias) : _mm512_setzero_si512();
  const __m512i cb1 = perCol ? _mm512_maskz_loadu_epi32(m1, o.bias + 16)
                             : _mm512_setzero_si512();
  const __m512 cs0 =
      perCol ? _mm512_maskz_loadu_ps(m0, o.scale) : _mm512_setzero_ps();
  const __m512 cs1 =
      perCol ? _mm512_maskz_loadu_ps(m1, o.scale + 16) : _mm512_setzero_ps();
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
    const __m512i za = _mm512_set1_epi32(o.aZero[i]);
    const __m512i rs = _mm512_set1_epi32(o.rowSums[i]);
    const __m512i rb0 = perCol ? cb0 : _mm512_set1_epi32(o.bias[i]);
    const __m512i rb1 = perCol ? cb1 : rb0;
    const __m512 rsc0 = perCol ? cs0 : _mm512_set1_ps(o.scale[i]);
    const __m512 rsc1 = perCol ? cs1 : rsc0;
    _mm_mask_storeu_epi8(
        out + i * ldo, m0,
        qTileStageVnni(acc0[i], za, ca0, bz0, rs, rb0, rsc0, lo, hi, oz));
    if (Two)
      _mm_mask_storeu_epi8(
          out + i * ldo + 16, m1,
          qTileStageVnni(acc1[i], za, ca1, bz1, rs, rb1, rsc1, lo, hi, oz));
  }
}

template <bool Two> QKernelSet::QMicroKernelQRow vnniMicroQRow() {
  return {nullptr,
          qMicroKernelVnniQ<1, Two>,
          qMicroKernelVnniQ<2, Two>,
          qMicroKernelVnniQ<3, Two>,
          qMicroKernelVnniQ<4, Two>,
          qMicroKernelVnniQ<5, Two>,
          qMicroKernelVnniQ<6, Two>,
          qMicroKernelVnniQ<7, Two>,
          qMicroKernelVnniQ<8, Two>};
}

SPARQ_QVNNI void qOutputRowAvx512(const int32_t *raw, int64_t n,
                                  const QOutRow &row, void *dst) {
  const __m512i za = _mm512_set1_epi32(row.aZero);
  const __m512i rs = _mm512_set1_epi32(row.rowSum);
  const bool perCol = row.chanPerCol;
  const __m512i biasRow = _mm512_set1_epi32(row.biasI32[0]);
  const int kind = row.outKind;
  const __m512 scaleRow = kind == SPARQ_QOUT_I32 ? _mm512_setzero_ps()
                                                 : _mm512_set1_ps(row.scale[0]);
  const __m512 lo = _mm512_set1_ps(static_cast<float>(row.qmin - row.outZero));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(row.qmax - row.outZero));
  const __m512i oz = _mm512_set1_epi32(row.outZero);
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 live = n - j >= 16
                               ? static_cast<__mmask16>(0xFFFF)
                               : static_cast<__mmask16>((1u << (n - j)) - 1);
    __m512i acc = _mm512_maskz_loadu_epi32(live, raw + j);
    __m512i ca = _mm512_maskz_loadu_epi32(live, row.colAdj + j);
    __m512i bz = _mm512_maskz_loadu_epi32(live, row.bZero + j);
    __m512i bias =
        perCol ? _mm512_maskz_loadu_epi32(live, row.biasI32 + j) : biasRow;
    acc = _mm512_sub_epi32(acc, _mm512_mullo_epi32(za, ca));
    acc = _mm512_sub_epi32(acc, _mm512_mullo_epi32(bz, rs));
    acc = _mm512_add_epi32(acc, bias);
    if (kind == SPARQ_QOUT_I32) {
      _mm512_mask_storeu_epi32(static_cast<int32_t *>(dst) + j, live, acc);
      continue;
    }
    __m512 sc = perCol ? _mm512_maskz_loadu_ps(live, row.scale + j) : scaleRow;
    __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), sc);
    if (kind == SPARQ_QOUT_F32) {
      _mm512_mask_storeu_ps(static_cast<float *>(dst) + j, live, f);
      continue;
    }
    // Clamped first, so the rounded value plus the zero point is already in
    // [qmin, qmax] and its low byte is the result.
    f = _mm512_min_ps(_mm512_max_ps(f, lo), hi);
    __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(f), oz);
    _mm_mask_storeu_epi8(static_cast<uint8_t *>(dst) + j, live,
                         _mm512_cvtepi32_epi8(q));
  }
}

template <bool Two> QKernelSet::QMicroKernelRow vnniMicroRow() {
  return {nullptr,
          qMicroKernelVnni<1, Two>,
          qMicroKernelVnni<2, Two>,
          qMicroKernelVnni<3, Two>,
          qMicroKernelVnni<4, Two>,
          qMicroKernelVnni<5, Two>,
          qMicroKernelVnni<6, Two>,
          qMicroKernelVnni<7, Two>,
          qMicroKernelVnni<8, Two>};
}

bool cpuHasQVnni() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") &&
         __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512vnni") &&
         __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

} // namespace

const QKernelSet *sparq::rt::vnniQKernelSet() {
  static const bool supported = cpuHasQVnni() && avx2QKernelSet();
  if (!supported)
    return nullptr;
  static const QKernelSet set = {
      {vnniMicroRow<false>(), vnniMicroRow<true>()},
      qOutputRowAvx512,
      "avx512vnni",
      {vnniMicroQRow<false>(), vnniMicroQRow<true>()}};
  return &set;
}

#else

const QKernelSet *sparq::rt::vnniQKernelSet() { return nullptr; }

#endif
