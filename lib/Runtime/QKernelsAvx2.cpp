//===- QKernelsAvx2.cpp - AVX2 integer GEMM kernels -----------------------===//
//
// The AVX2 kernel set of QGemm.h. The micro-kernel widens both canonical
// operands to int16 (vpmovzxbw for u8 A, vpmovsxbw for s8 B) and multiplies
// with vpmaddwd, whose pairwise int32 sums are exact: |u * s| <= 255 * 128,
// so no step can saturate (vpmaddubsw could, and is not used). One 16-byte
// load of a B panel row holds 4 columns x 4 k; each int32 lane accumulates
// half of one column's group of 4, and the halves are added once at the end.
//
// The output stage (also used by the AVX-512 VNNI set) does the zero-point
// compensation with vpmulld, converts to f32 and requantizes with
// vcvtps2dq, i.e. round half to even in the default MXCSR mode, exactly as
// the scalar reference does with nearbyint.
//
//===----------------------------------------------------------------------===//

#include "QGemm.h"

#include "sparq/Runtime/sparq_runtime.h"

#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SPARQ_HAVE_QAVX2_BUILD 1
#include <immintrin.h>
#endif

using namespace sparq::rt;

#ifdef SPARQ_HAVE_QAVX2_BUILD

#define SPARQ_QAVX2 __attribute__((target("avx2,fma")))
#define SPARQ_QAVX2_INLINE                                                     \
  __attribute__((target("avx2,fma"), always_inline)) inline

namespace {

/// Columns 0-7 of a panel row from two accumulators of (column, half) lanes.
SPARQ_QAVX2_INLINE __m256i qFoldHalvesAvx2(__m256i cols03, __m256i cols47) {
  __m256i h = _mm256_hadd_epi32(cols03, cols47); // c0 c1 c4 c5 | c2 c3 c6 c7
  return _mm256_permute4x64_epi64(h, _MM_SHUFFLE(3, 1, 2, 0));
}

/// Rows [0, R) of one A panel times one B panel (16 columns), into out.
template <int R>
SPARQ_QAVX2_INLINE void qPanelProductAvx2(int64_t kGroups, const uint8_t *a,
                                          const int8_t *b, int32_t *out) {
  __m256i acc[R][4];
#pragma GCC unroll 4
  for (int i = 0; i < R; ++i)
    for (int q = 0; q < 4; ++q)
      acc[i][q] = _mm256_setzero_si256();
  for (int64_t g = 0; g < kGroups; ++g) {
    const int8_t *bg = b + g * kQNR * 4;
    __m256i bw[4];
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q)
      bw[q] = _mm256_cvtepi8_epi16(
          _mm_loadu_si128(reinterpret_cast<const __m128i *>(bg + 16 * q)));
    const uint8_t *ag = a + g * kQMR * 4;
#pragma GCC unroll 4
    for (int i = 0; i < R; ++i) {
      int32_t quad;
      std::memcpy(&quad, ag + i * 4, 4);
      __m256i av =
          _mm256_broadcastq_epi64(_mm_cvtepu8_epi16(_mm_cvtsi32_si128(quad)));
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q)
        acc[i][q] = _mm256_add_epi32(acc[i][q], _mm256_madd_epi16(av, bw[q]));
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < R; ++i) {
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(out + i * kQTileN),
                        qFoldHalvesAvx2(acc[i][0], acc[i][1]));
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(out + i * kQTileN + 8),
                        qFoldHalvesAvx2(acc[i][2], acc[i][3]));
  }
}

/// Rows [0, R) in sub-tiles of at most 2 rows (8 accumulators each).
template <int R, bool Two>
SPARQ_QAVX2 void qMicroKernelAvx2(int64_t kGroups, const uint8_t *a,
                                  const int8_t *b0, const int8_t *b1,
                                  int32_t *out) {
  constexpr int pairs = R / 2;
  for (int p = 0; p < pairs; ++p) {
    qPanelProductAvx2<2>(kGroups, a + 8 * p, b0, out + 2 * p * kQTileN);
    if (Two)
      qPanelProductAvx2<2>(kGroups, a + 8 * p, b1,
                           out + 2 * p * kQTileN + kQNR);
  }
  if (R % 2) {
    qPanelProductAvx2<1>(kGroups, a + 8 * pairs, b0, out + 2 * pairs * kQTileN);
    if (Two)
      qPanelProductAvx2<1>(kGroups, a + 8 * pairs, b1,
                           out + 2 * pairs * kQTileN + kQNR);
  }
}

SPARQ_QAVX2 void qOutputRowAvx2(const int32_t *raw, int64_t n,
                                const QOutRow &row, void *dst) {
  const __m256i za = _mm256_set1_epi32(row.aZero);
  const __m256i rs = _mm256_set1_epi32(row.rowSum);
  const bool perCol = row.chanPerCol;
  const __m256i biasRow = _mm256_set1_epi32(row.biasI32[0]);
  const int kind = row.outKind;
  const __m256 scaleRow = kind == SPARQ_QOUT_I32 ? _mm256_setzero_ps()
                                                 : _mm256_set1_ps(row.scale[0]);
  const __m256 lo = _mm256_set1_ps(static_cast<float>(row.qmin - row.outZero));
  const __m256 hi = _mm256_set1_ps(static_cast<float>(row.qmax - row.outZero));
  const __m256i oz = _mm256_set1_epi32(row.outZero);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256i acc =
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(raw + j));
    __m256i ca =
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(row.colAdj + j));
    __m256i bz =
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(row.bZero + j));
    __m256i bias = perCol
                       ? _mm256_loadu_si256(
                             reinterpret_cast<const __m256i *>(row.biasI32 + j))
                       : biasRow;
    acc = _mm256_sub_epi32(acc, _mm256_mullo_epi32(za, ca));
    acc = _mm256_sub_epi32(acc, _mm256_mullo_epi32(bz, rs));
    acc = _mm256_add_epi32(acc, bias);
    if (kind == SPARQ_QOUT_I32) {
      _mm256_storeu_si256(
          reinterpret_cast<__m256i *>(static_cast<int32_t *>(dst) + j), acc);
      continue;
    }
    __m256 sc = perCol ? _mm256_loadu_ps(row.scale + j) : scaleRow;
    __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), sc);
    if (kind == SPARQ_QOUT_F32) {
      _mm256_storeu_ps(static_cast<float *>(dst) + j, f);
      continue;
    }
    f = _mm256_min_ps(_mm256_max_ps(f, lo), hi);
    __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(f), oz);
    __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(q),
                                _mm256_extracti128_si256(q, 1));
    __m128i bytes =
        kind == SPARQ_QOUT_U8 ? _mm_packus_epi16(w, w) : _mm_packs_epi16(w, w);
    _mm_storel_epi64(
        reinterpret_cast<__m128i *>(static_cast<uint8_t *>(dst) + j), bytes);
  }
  if (j < n) {
    // The tail through the scalar reference, on offset views of the row.
    QOutRow tail = row;
    tail.colAdj += j;
    tail.bZero += j;
    if (perCol) {
      tail.biasI32 += j;
      if (kind != SPARQ_QOUT_I32)
        tail.scale += j;
    }
    char *d = static_cast<char *>(dst) + j * qOutElementSize(kind);
    genericQKernelSet().outputRow(raw + j, n - j, tail, d);
  }
}

template <bool Two> QKernelSet::QMicroKernelRow avx2MicroRow() {
  return {nullptr,
          qMicroKernelAvx2<1, Two>,
          qMicroKernelAvx2<2, Two>,
          qMicroKernelAvx2<3, Two>,
          qMicroKernelAvx2<4, Two>,
          qMicroKernelAvx2<5, Two>,
          qMicroKernelAvx2<6, Two>,
          qMicroKernelAvx2<7, Two>,
          qMicroKernelAvx2<8, Two>};
}

bool cpuHasQAvx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

} // namespace

const QKernelSet *sparq::rt::avx2QKernelSet() {
  static const QKernelSet set = {
      {avx2MicroRow<false>(), avx2MicroRow<true>()}, qOutputRowAvx2, "avx2"};
  static const bool supported = cpuHasQAvx2();
  return supported ? &set : nullptr;
}

#else

const QKernelSet *sparq::rt::avx2QKernelSet() { return nullptr; }

#endif
