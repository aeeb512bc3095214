//===- QKernelsAvx512.cpp - AVX-512 VNNI integer GEMM kernels -------------===//
//
// The AVX-512 VNNI kernel set of QGemm.h. vpdpbusd multiplies four u8 by
// four s8 and adds the four products to an int32 lane without saturation,
// which is exactly the canonical form of the packed operands: one zmm load
// is one group of 4 k for a whole 16-column B panel, and each A row's
// 4 bytes are broadcast (an embedded {1to16} broadcast). The tile is
// kQMR = 8 rows by two panels (32 columns): 16 zmm accumulators.
// The output stage is the AVX2 one.
//
//===----------------------------------------------------------------------===//

#include "QGemm.h"

#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SPARQ_HAVE_QVNNI_BUILD 1
#include <immintrin.h>
#endif

using namespace sparq::rt;

#ifdef SPARQ_HAVE_QVNNI_BUILD

#define SPARQ_QVNNI                                                            \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

namespace {

template <int R, bool Two>
SPARQ_QVNNI void qMicroKernelVnni(int64_t kGroups, const uint8_t *a,
                                  const int8_t *b0, const int8_t *b1,
                                  int32_t *out) {
  __m512i acc0[R], acc1[R];
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
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
    _mm512_storeu_si512(out + i * kQTileN, acc0[i]);
    if (Two)
      _mm512_storeu_si512(out + i * kQTileN + kQNR, acc1[i]);
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
  static const QKernelSet set = {{vnniMicroRow<false>(), vnniMicroRow<true>()},
                                 avx2QKernelSet()->outputRow,
                                 "avx512vnni"};
  return &set;
}

#else

const QKernelSet *sparq::rt::vnniQKernelSet() { return nullptr; }

#endif
