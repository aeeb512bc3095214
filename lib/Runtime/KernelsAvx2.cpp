//===- KernelsAvx2.cpp - AVX2+FMA GEMM and epilogue kernels ---------------===//
//
// The fast path of Kernels.h for x86-64 CPUs with AVX2 and FMA. Only the
// functions carrying SPARQ_AVX2 use those instructions, and they are reached
// solely through avx2KernelSet(), which checks the CPU first; the rest of the
// library stays baseline x86-64.
//
// The micro-kernel keeps a 6x16 tile of C in 12 ymm accumulators and streams
// one packed A column (6 broadcasts) and one packed B row (2 loads) per step
// of k; its fused variant adds bias/residual and activates in registers
// before storing. Narrow 6x8 variants finish B panels with at most 8 live
// columns (N = 49 or 196 pixels leaves one) at half the cost. The activations
// (ActivationsAvx2.h, shared with the sparse tile stores) use vectorized
// polynomial approximations of exp and erf that are accurate to a few float
// ulps (erf to ~1.5e-7 absolute).
//
//===----------------------------------------------------------------------===//

#include "ActivationsAvx2.h"
#include "Kernels.h"

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SPARQ_HAVE_AVX2_BUILD 1
#include <immintrin.h>
#endif

using namespace sparq::rt;

#ifdef SPARQ_HAVE_AVX2_BUILD

#define SPARQ_AVX2 __attribute__((target("avx2,fma")))
#define SPARQ_AVX2_INLINE                                                      \
  __attribute__((target("avx2,fma"), always_inline)) inline

namespace {

/// The register-tile product of the micro-kernels: lo/hi[i] hold columns
/// 0-7 and 8-15 of row i of A panel * B panel.
template <int R>
SPARQ_AVX2_INLINE void tileProductAvx2(int64_t kc, const float *a,
                                       const float *b, __m256 (&lo)[R],
                                       __m256 (&hi)[R]) {
#pragma GCC unroll 6
  for (int i = 0; i < R; ++i) {
    lo[i] = _mm256_setzero_ps();
    hi[i] = _mm256_setzero_ps();
  }
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    __m256 b0 = _mm256_load_ps(b);
    __m256 b1 = _mm256_load_ps(b + 8);
    _mm_prefetch(reinterpret_cast<const char *>(b + 8 * kNR), _MM_HINT_T0);
#pragma GCC unroll 6
    for (int i = 0; i < R; ++i) {
      __m256 av = _mm256_broadcast_ss(a + i);
      lo[i] = _mm256_fmadd_ps(av, b0, lo[i]);
      hi[i] = _mm256_fmadd_ps(av, b1, hi[i]);
    }
    a += kMR;
    b += kNR;
  }
}

template <int R>
SPARQ_AVX2 void microKernelAvx2(int64_t kc, const float *a, const float *b,
                                float *c, int64_t ldc, bool accumulate) {
  __m256 lo[R], hi[R];
  tileProductAvx2<R>(kc, a, b, lo, hi);
#pragma GCC unroll 6
  for (int i = 0; i < R; ++i) {
    float *ci = c + i * ldc;
    if (accumulate) {
      lo[i] = _mm256_add_ps(lo[i], _mm256_loadu_ps(ci));
      hi[i] = _mm256_add_ps(hi[i], _mm256_loadu_ps(ci + 8));
    }
    _mm256_storeu_ps(ci, lo[i]);
    _mm256_storeu_ps(ci + 8, hi[i]);
  }
}

SPARQ_AVX2 void epilogueRowAvx2(float *c, float rowBias, const float *bias,
                                const float *residual, int64_t n, int act,
                                float actA, float actB) {
  const __m256 rb = _mm256_set1_ps(rowBias);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 v = _mm256_add_ps(_mm256_loadu_ps(c + j), rb);
    if (bias)
      v = _mm256_add_ps(v, _mm256_loadu_ps(bias + j));
    if (residual)
      v = _mm256_add_ps(v, _mm256_loadu_ps(residual + j));
    _mm256_storeu_ps(c + j, activateAvx2(v, act, actA, actB));
  }
  if (j < n) {
    // Tail through a full vector in a local buffer, so every element sees
    // the same arithmetic. (Masked loads of data just written by narrower
    // stores defeat store forwarding and stall on AMD cores.)
    const int64_t rem = n - j;
    alignas(32) float buf[8] = {}, bb[8] = {}, rr[8] = {};
    for (int64_t l = 0; l < rem; ++l)
      buf[l] = c[j + l];
    __m256 v = _mm256_add_ps(_mm256_load_ps(buf), rb);
    if (bias) {
      for (int64_t l = 0; l < rem; ++l)
        bb[l] = bias[j + l];
      v = _mm256_add_ps(v, _mm256_load_ps(bb));
    }
    if (residual) {
      for (int64_t l = 0; l < rem; ++l)
        rr[l] = residual[j + l];
      v = _mm256_add_ps(v, _mm256_load_ps(rr));
    }
    _mm256_store_ps(buf, activateAvx2(v, act, actA, actB));
    for (int64_t l = 0; l < rem; ++l)
      c[j + l] = buf[l];
  }
}

template <int R>
SPARQ_AVX2 void microKernelEpiAvx2(int64_t kc, const float *a, const float *b,
                                   float *c, int64_t ldc, bool accumulate,
                                   const TileEpilogue &epi) {
  __m256 lo[R], hi[R];
  tileProductAvx2<R>(kc, a, b, lo, hi);
  __m256 cb0 = _mm256_setzero_ps(), cb1 = _mm256_setzero_ps();
  if (epi.colBias) {
    cb0 = _mm256_loadu_ps(epi.colBias);
    cb1 = _mm256_loadu_ps(epi.colBias + 8);
  }
#pragma GCC unroll 6
  for (int i = 0; i < R; ++i) {
    float *ci = c + i * ldc;
    if (accumulate) {
      lo[i] = _mm256_add_ps(lo[i], _mm256_loadu_ps(ci));
      hi[i] = _mm256_add_ps(hi[i], _mm256_loadu_ps(ci + 8));
    }
    if (epi.rowBias) {
      __m256 rb = _mm256_set1_ps(epi.rowBias[i]);
      lo[i] = _mm256_add_ps(lo[i], rb);
      hi[i] = _mm256_add_ps(hi[i], rb);
    }
    lo[i] = _mm256_add_ps(lo[i], cb0);
    hi[i] = _mm256_add_ps(hi[i], cb1);
    if (epi.residual) {
      const float *r = epi.residual + i * epi.residualLd;
      lo[i] = _mm256_add_ps(lo[i], _mm256_loadu_ps(r));
      hi[i] = _mm256_add_ps(hi[i], _mm256_loadu_ps(r + 8));
    }
    _mm256_storeu_ps(ci, activateAvx2(lo[i], epi.act, epi.actA, epi.actB));
    _mm256_storeu_ps(ci + 8, activateAvx2(hi[i], epi.act, epi.actA, epi.actB));
  }
}

/// The narrow tile product: acc[i] holds columns 0-7 of row i. Even and odd
/// steps of k feed separate accumulators, so 2R independent FMA chains hide
/// the FMA latency that R chains alone would expose.
template <int R>
SPARQ_AVX2_INLINE void tileProductNarrowAvx2(int64_t kc, const float *a,
                                             const float *b, __m256 (&acc)[R]) {
  __m256 odd[R];
#pragma GCC unroll 6
  for (int i = 0; i < R; ++i) {
    acc[i] = _mm256_setzero_ps();
    odd[i] = _mm256_setzero_ps();
  }
  int64_t k = 0;
#pragma GCC unroll 2
  for (; k + 2 <= kc; k += 2) {
    __m256 b0 = _mm256_load_ps(b);
    __m256 b1 = _mm256_load_ps(b + kNR);
#pragma GCC unroll 6
    for (int i = 0; i < R; ++i) {
      acc[i] = _mm256_fmadd_ps(_mm256_broadcast_ss(a + i), b0, acc[i]);
      odd[i] = _mm256_fmadd_ps(_mm256_broadcast_ss(a + kMR + i), b1, odd[i]);
    }
    a += 2 * kMR;
    b += 2 * kNR;
  }
  if (k < kc) {
    __m256 b0 = _mm256_load_ps(b);
#pragma GCC unroll 6
    for (int i = 0; i < R; ++i)
      acc[i] = _mm256_fmadd_ps(_mm256_broadcast_ss(a + i), b0, acc[i]);
  }
#pragma GCC unroll 6
  for (int i = 0; i < R; ++i)
    acc[i] = _mm256_add_ps(acc[i], odd[i]);
}

template <int R>
SPARQ_AVX2 void microKernelNarrowAvx2(int64_t kc, const float *a,
                                      const float *b, float *c, int64_t ldc,
                                      bool accumulate) {
  __m256 acc[R];
  tileProductNarrowAvx2<R>(kc, a, b, acc);
#pragma GCC unroll 6
  for (int i = 0; i < R; ++i) {
    float *ci = c + i * ldc;
    if (accumulate)
      acc[i] = _mm256_add_ps(acc[i], _mm256_loadu_ps(ci));
    _mm256_storeu_ps(ci, acc[i]);
  }
}

template <int R>
SPARQ_AVX2 void microKernelEpiNarrowAvx2(int64_t kc, const float *a,
                                         const float *b, float *c, int64_t ldc,
                                         bool accumulate,
                                         const TileEpilogue &epi) {
  __m256 acc[R];
  tileProductNarrowAvx2<R>(kc, a, b, acc);
  __m256 cb = epi.colBias ? _mm256_loadu_ps(epi.colBias) : _mm256_setzero_ps();
#pragma GCC unroll 6
  for (int i = 0; i < R; ++i) {
    float *ci = c + i * ldc;
    __m256 v = acc[i];
    if (accumulate)
      v = _mm256_add_ps(v, _mm256_loadu_ps(ci));
    if (epi.rowBias)
      v = _mm256_add_ps(v, _mm256_set1_ps(epi.rowBias[i]));
    v = _mm256_add_ps(v, cb);
    if (epi.residual)
      v = _mm256_add_ps(v, _mm256_loadu_ps(epi.residual + i * epi.residualLd));
    _mm256_storeu_ps(ci, activateAvx2(v, epi.act, epi.actA, epi.actB));
  }
}

SPARQ_AVX2 void axpyAvx2(float *y, const float *x, float alpha, int64_t n) {
  __m256 a = _mm256_set1_ps(alpha);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i),
                                            _mm256_loadu_ps(y + i)));
    _mm256_storeu_ps(y + i + 8, _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i + 8),
                                                _mm256_loadu_ps(y + i + 8)));
    _mm256_storeu_ps(y + i + 16, _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i + 16),
                                                 _mm256_loadu_ps(y + i + 16)));
    _mm256_storeu_ps(y + i + 24, _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i + 24),
                                                 _mm256_loadu_ps(y + i + 24)));
  }
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i),
                                            _mm256_loadu_ps(y + i)));
  for (; i < n; ++i)
    y[i] += alpha * x[i];
}

SPARQ_AVX2 float dotAvx2(const float *x, const float *y, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8),
                         s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16),
                         _mm256_loadu_ps(y + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24),
                         _mm256_loadu_ps(y + i + 24), s3);
  }
  for (; i + 8 <= n; i += 8)
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), s0);
  __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  float r = _mm_cvtss_f32(h);
  for (; i < n; ++i)
    r += x[i] * y[i];
  return r;
}

bool cpuHasAvx2Fma() {
  if (genericKernelsForced())
    return false;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

} // namespace

const KernelSet *sparq::rt::avx2KernelSet() {
  static const KernelSet set = {
      {nullptr, microKernelAvx2<1>, microKernelAvx2<2>, microKernelAvx2<3>,
       microKernelAvx2<4>, microKernelAvx2<5>, microKernelAvx2<6>},
      {nullptr, microKernelEpiAvx2<1>, microKernelEpiAvx2<2>,
       microKernelEpiAvx2<3>, microKernelEpiAvx2<4>, microKernelEpiAvx2<5>,
       microKernelEpiAvx2<6>},
      {nullptr, microKernelNarrowAvx2<1>, microKernelNarrowAvx2<2>,
       microKernelNarrowAvx2<3>, microKernelNarrowAvx2<4>,
       microKernelNarrowAvx2<5>, microKernelNarrowAvx2<6>},
      {nullptr, microKernelEpiNarrowAvx2<1>, microKernelEpiNarrowAvx2<2>,
       microKernelEpiNarrowAvx2<3>, microKernelEpiNarrowAvx2<4>,
       microKernelEpiNarrowAvx2<5>, microKernelEpiNarrowAvx2<6>},
      epilogueRowAvx2,
      axpyAvx2,
      dotAvx2,
      "avx2-fma"};
  static const bool supported = cpuHasAvx2Fma();
  return supported ? &set : nullptr;
}

#else // !SPARQ_HAVE_AVX2_BUILD

const KernelSet *sparq::rt::avx2KernelSet() { return nullptr; }

#endif
