//===- PoolKernels.cpp - NCHW 2-d max pooling for f32, u8 and s8 ----------===//
//
// sparq_uk_max_pool2d computes one output row from two row passes over a
// padded row buffer that spans every column the row's windows read:
//   1. vertical: the elementwise max of the window's input rows that lie
//      inside the input (rows in the padding are skipped, columns in the
//      padding hold the type's lowest value, so padding never wins);
//   2. horizontal: out[ow] = max over kw of row[ow * strideW + kw * dilW].
//      For strideW > 1 the row is first split into strideW phases (even and
//      odd lanes for stride 2), so that tap kw reads phase (kw * dilW) %
//      strideW at offset (kw * dilW) / strideW: contiguous vector loads.
// Both passes are "max of k equally long arrays", the one primitive each
// ISA implements (plus the stride-2 deinterleave). The AVX2 path finishes
// a row whose length is not a multiple of the vector width with one
// overlapping vector (source and destination never alias), so short rows
// cost no scalar tail. Rows go in batches of 8, pass by pass (poolBand says
// why). Work is split over (image, channel) planes and, when there are few
// planes, bands of output rows.
//
// Float max propagates NaN, as arith.maximumf in the generated code does;
// the sign of a zero maximum of -0 and +0 is unspecified.
//
//===----------------------------------------------------------------------===//

#include "PoolKernels.h"

#include "Context.h"
#include "Kernels.h"
#include "Model.h"

#include "sparq/Runtime/sparq_runtime.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SPARQ_HAVE_POOL_AVX2_BUILD 1
#include <immintrin.h>
#endif

using namespace sparq::rt;

namespace {

/// The value padding stands for: -inf for f32, the lowest integer else.
template <typename T> T poolLowest() {
  if (std::numeric_limits<T>::has_infinity)
    return -std::numeric_limits<T>::infinity();
  return std::numeric_limits<T>::lowest();
}

/// max(acc, x); a NaN in either stays.
inline float poolMaxScalar(float acc, float x) {
  return (x != x || x > acc) ? x : acc;
}
inline uint8_t poolMaxScalar(uint8_t acc, uint8_t x) {
  return x > acc ? x : acc;
}
inline int8_t poolMaxScalar(int8_t acc, int8_t x) { return x > acc ? x : acc; }

template <typename T>
void poolMaxArraysScalar(const T *const *src, int k, T *dst, int64_t begin,
                         int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    T acc = src[0][i];
    for (int j = 1; j < k; ++j)
      acc = poolMaxScalar(acc, src[j][i]);
    dst[i] = acc;
  }
}

template <typename T>
void poolDeinterleaveScalar(const T *src, int64_t stride, T *const *phases,
                            int64_t begin, int64_t end) {
  for (int64_t j = begin; j < end; ++j)
    for (int64_t p = 0; p < stride; ++p)
      phases[p][j] = src[j * stride + p];
}

/// The portable row primitives.
struct PoolGenericOps {
  template <typename T>
  static void maxArrays(const T *const *src, int k, T *dst, int64_t n) {
    poolMaxArraysScalar(src, k, dst, 0, n);
  }
  template <typename T>
  static void deinterleave2(const T *src, T *even, T *odd, int64_t pairs) {
    T *phases[2] = {even, odd};
    poolDeinterleaveScalar(src, 2, phases, 0, pairs);
  }
};

#ifdef SPARQ_HAVE_POOL_AVX2_BUILD
#define SPARQ_POOL_AVX2 __attribute__((target("avx2")))

/// 256-bit and 128-bit vectors of one element type: load, store, max.
template <typename T> struct PoolVec;

template <> struct PoolVec<float> {
  static constexpr int kLanes = 8;
  using W = __m256;
  using H = __m128;
  SPARQ_POOL_AVX2 static W load(const float *p) { return _mm256_loadu_ps(p); }
  SPARQ_POOL_AVX2 static void store(float *p, W v) { _mm256_storeu_ps(p, v); }
  // max_ps returns its second operand when either is NaN: the OR of both
  // operand orders is the max when neither is NaN and a NaN when one is.
  SPARQ_POOL_AVX2 static W max(W a, W b) {
    return _mm256_or_ps(_mm256_max_ps(a, b), _mm256_max_ps(b, a));
  }
  SPARQ_POOL_AVX2 static H loadH(const float *p) { return _mm_loadu_ps(p); }
  SPARQ_POOL_AVX2 static void storeH(float *p, H v) { _mm_storeu_ps(p, v); }
  SPARQ_POOL_AVX2 static H maxH(H a, H b) {
    return _mm_or_ps(_mm_max_ps(a, b), _mm_max_ps(b, a));
  }
};

template <typename T> struct PoolByteVec {
  static constexpr int kLanes = 32;
  using W = __m256i;
  using H = __m128i;
  SPARQ_POOL_AVX2 static W load(const T *p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
  }
  SPARQ_POOL_AVX2 static void store(T *p, W v) {
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(p), v);
  }
  SPARQ_POOL_AVX2 static H loadH(const T *p) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
  }
  SPARQ_POOL_AVX2 static void storeH(T *p, H v) {
    _mm_storeu_si128(reinterpret_cast<__m128i *>(p), v);
  }
};

template <> struct PoolVec<uint8_t> : PoolByteVec<uint8_t> {
  SPARQ_POOL_AVX2 static W max(W a, W b) { return _mm256_max_epu8(a, b); }
  SPARQ_POOL_AVX2 static H maxH(H a, H b) { return _mm_max_epu8(a, b); }
};

template <> struct PoolVec<int8_t> : PoolByteVec<int8_t> {
  SPARQ_POOL_AVX2 static W max(W a, W b) { return _mm256_max_epi8(a, b); }
  SPARQ_POOL_AVX2 static H maxH(H a, H b) { return _mm_max_epi8(a, b); }
};

/// The AVX2 row primitives.
struct PoolAvx2Ops {
  /// Dispatches to a loop with the k source pointers in registers.
  template <typename T>
  SPARQ_POOL_AVX2 static void maxArrays(const T *const *src, int k, T *dst,
                                        int64_t n) {
    switch (k) {
    case 1:
      return maxArraysOf<T, 1>(src, k, dst, n);
    case 2:
      return maxArraysOf<T, 2>(src, k, dst, n);
    case 3:
      return maxArraysOf<T, 3>(src, k, dst, n);
    case 4:
      return maxArraysOf<T, 4>(src, k, dst, n);
    default:
      return maxArraysOf<T, 0>(src, k, dst, n);
    }
  }

  /// K > 0: exactly K sources, unrolled; K == 0: any k.
  template <typename T, int K>
  SPARQ_POOL_AVX2 static void maxArraysOf(const T *const *srcIn, int kIn,
                                          T *dst, int64_t n) {
    const int k = K > 0 ? K : kIn;
    const T *const *src = srcIn;
    const T *fixed[K > 0 ? K : 1];
    if (K > 0) {
      for (int j = 0; j < K; ++j)
        fixed[j] = srcIn[j];
      src = fixed;
    }
    using V = PoolVec<T>;
    constexpr int64_t lanes = V::kLanes, half = V::kLanes / 2;
    auto full = [&](int64_t i) SPARQ_POOL_AVX2 {
      typename V::W acc = V::load(src[0] + i);
      for (int j = 1; j < k; ++j)
        acc = V::max(acc, V::load(src[j] + i));
      V::store(dst + i, acc);
    };
    auto narrow = [&](int64_t i) SPARQ_POOL_AVX2 {
      typename V::H acc = V::loadH(src[0] + i);
      for (int j = 1; j < k; ++j)
        acc = V::maxH(acc, V::loadH(src[j] + i));
      V::storeH(dst + i, acc);
    };
    if (n >= lanes) {
      int64_t i = 0;
      for (; i + lanes <= n; i += lanes)
        full(i);
      if (i < n)
        full(n - lanes); // overlaps columns already done: same values
      return;
    }
    if (n >= half) {
      narrow(0);
      if (n > half)
        narrow(n - half);
      return;
    }
    poolMaxArraysScalar(srcIn, kIn, dst, 0, n);
  }

  /// Byte elements: 32 pairs per step. Within each 128-bit lane the shuffle
  /// gathers the even bytes into the low quadword and the odd bytes into
  /// the high one; the permutes put the quadwords in order.
  template <typename T>
  SPARQ_POOL_AVX2 static void deinterleaveBytes(const T *src, T *even, T *odd,
                                                int64_t pairs) {
    const __m256i split =
        _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15,
                         0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    auto full = [&](int64_t j) SPARQ_POOL_AVX2 {
      __m256i a =
          _mm256_loadu_si256(reinterpret_cast<const __m256i *>(src + 2 * j));
      __m256i b = _mm256_loadu_si256(
          reinterpret_cast<const __m256i *>(src + 2 * j + 32));
      // a: [E0 O0 | E1 O1] -> [E0 E1 O0 O1]; likewise b.
      a = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(a, split),
                                   _MM_SHUFFLE(3, 1, 2, 0));
      b = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(b, split),
                                   _MM_SHUFFLE(3, 1, 2, 0));
      _mm256_storeu_si256(reinterpret_cast<__m256i *>(even + j),
                          _mm256_permute2x128_si256(a, b, 0x20));
      _mm256_storeu_si256(reinterpret_cast<__m256i *>(odd + j),
                          _mm256_permute2x128_si256(a, b, 0x31));
    };
    auto narrow = [&](int64_t j) SPARQ_POOL_AVX2 {
      const __m128i split16 = _mm256_castsi256_si128(split);
      __m128i a = _mm_shuffle_epi8(
          _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + 2 * j)),
          split16);
      __m128i b = _mm_shuffle_epi8(
          _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + 2 * j + 16)),
          split16);
      _mm_storeu_si128(reinterpret_cast<__m128i *>(even + j),
                       _mm_unpacklo_epi64(a, b));
      _mm_storeu_si128(reinterpret_cast<__m128i *>(odd + j),
                       _mm_unpackhi_epi64(a, b));
    };
    pairsInSteps(pairs, 32, full, narrow, [&](int64_t begin) {
      T *phases[2] = {even, odd};
      poolDeinterleaveScalar(src, 2, phases, begin, pairs);
    });
  }

  /// f32: 8 pairs per step; shuffle_ps picks the even (odd) elements of
  /// both loads lane by lane, the permute orders the 64-bit halves.
  SPARQ_POOL_AVX2 static void deinterleave2(const float *src, float *even,
                                            float *odd, int64_t pairs) {
    auto full = [&](int64_t j) SPARQ_POOL_AVX2 {
      __m256 a = _mm256_loadu_ps(src + 2 * j);
      __m256 b = _mm256_loadu_ps(src + 2 * j + 8);
      __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
      __m256 o = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
      _mm256_storeu_ps(even + j,
                       _mm256_castpd_ps(_mm256_permute4x64_pd(
                           _mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0))));
      _mm256_storeu_ps(odd + j,
                       _mm256_castpd_ps(_mm256_permute4x64_pd(
                           _mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0))));
    };
    auto narrow = [&](int64_t j) SPARQ_POOL_AVX2 {
      __m128 a = _mm_loadu_ps(src + 2 * j), b = _mm_loadu_ps(src + 2 * j + 4);
      _mm_storeu_ps(even + j, _mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)));
      _mm_storeu_ps(odd + j, _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
    };
    pairsInSteps(pairs, 8, full, narrow, [&](int64_t begin) {
      float *phases[2] = {even, odd};
      poolDeinterleaveScalar(src, 2, phases, begin, pairs);
    });
  }
  SPARQ_POOL_AVX2 static void deinterleave2(const uint8_t *src, uint8_t *even,
                                            uint8_t *odd, int64_t pairs) {
    deinterleaveBytes(src, even, odd, pairs);
  }
  SPARQ_POOL_AVX2 static void deinterleave2(const int8_t *src, int8_t *even,
                                            int8_t *odd, int64_t pairs) {
    deinterleaveBytes(src, even, odd, pairs);
  }

  /// Covers [0, pairs) with full steps of `step` pairs (the last one
  /// overlapping), else with two overlapping half steps, else scalar.
  template <typename Full, typename Narrow, typename Rest>
  SPARQ_POOL_AVX2 static void pairsInSteps(int64_t pairs, int64_t step,
                                           Full &&full, Narrow &&narrow,
                                           Rest &&rest) {
    if (pairs >= step) {
      int64_t j = 0;
      for (; j + step <= pairs; j += step)
        full(j);
      if (j < pairs)
        full(pairs - step);
      return;
    }
    int64_t half = step / 2;
    if (pairs >= half) {
      narrow(0);
      if (pairs > half)
        narrow(pairs - half);
      return;
    }
    rest(0);
  }
};
#endif // SPARQ_HAVE_POOL_AVX2_BUILD

/// Output rows computed together, pass by pass (see poolBand).
constexpr int kPoolBatch = 8;

/// Geometry of one call.
struct PoolGeom {
  int64_t H, W, OH, OW, KH, KW, sh, sw, pt, pl, dh, dw;
  /// Padded row: columns [0, rowLen) of padded coordinates (column c is
  /// input column c - pl), rowLen = phaseLen * sw >= the last column read.
  int64_t phaseLen, rowLen;
  /// Input columns live in padded columns [inBegin, inEnd).
  int64_t inBegin, inEnd;
  /// Layout of one output row's scratch slot, in elements: the row at
  /// rowOffset (so that its input columns, which the vertical pass stores,
  /// start on a cache line), then for sw > 1 the sw phases from phaseBase,
  /// phaseStride apart and line aligned, so that no store splits a line
  /// where it can be avoided.
  int64_t rowOffset, phaseBase, phaseStride, slotElems;
  /// Where tap kw of output column 0 reads, from the start of a slot.
  std::vector<int64_t> tapOffsets;

  PoolGeom(int64_t H, int64_t W, int64_t OH, int64_t OW, int64_t KH, int64_t KW,
           int64_t sh, int64_t sw, int64_t pt, int64_t pl, int64_t dh,
           int64_t dw, int64_t elemSize)
      : H(H), W(W), OH(OH), OW(OW), KH(KH), KW(KW), sh(sh), sw(sw), pt(pt),
        pl(pl), dh(dh), dw(dw) {
    int64_t span = (OW - 1) * sw + (KW - 1) * dw + 1;
    phaseLen = (span + sw - 1) / sw;
    rowLen = phaseLen * sw;
    inBegin = std::min(pl, rowLen);
    inEnd = std::max(inBegin, std::min(pl + W, rowLen));
    const int64_t line = 64 / elemSize;
    auto roundUp = [&](int64_t v) { return (v + line - 1) / line * line; };
    rowOffset = (line - pl % line) % line;
    phaseBase = roundUp(rowOffset + rowLen);
    phaseStride = roundUp(phaseLen);
    slotElems = phaseBase + (sw > 1 ? sw * phaseStride : 0);
    for (int64_t kw = 0; kw < KW; ++kw) {
      int64_t off = kw * dw;
      tapOffsets.push_back(sw == 1 ? rowOffset + off
                                   : phaseBase + (off % sw) * phaseStride +
                                         off / sw);
    }
  }
  /// Elements of per-task scratch: one slot per row of a batch.
  int64_t scratchElems() const { return kPoolBatch * slotElems; }
};

/// Output rows [oh0, oh1) of one plane. `ptrs` has room for max(KH, KW)
/// pointers, `scratch` for g.scratchElems() elements.
///
/// The rows go in batches of kPoolBatch, one pass at a time over the whole
/// batch: a pass reads the buffers the previous pass wrote a few rows
/// earlier, not the ones it has just written. Reading back a vector right
/// after stores it only partly overlaps (the row buffer's writes start at
/// padLeft, the deinterleave reads at 0; the tap kw reads at offset kw)
/// stalls on store forwarding, which doubled the time of the byte kernels.
template <class Ops, typename T>
#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline))
#endif
inline void
poolBand(const PoolGeom &g, const T *x, T *y, int64_t oh0, int64_t oh1,
         const T **ptrs, T *scratch) {
  const T lowest = poolLowest<T>();
  const int64_t slot = g.slotElems;
  for (int b = 0; b < kPoolBatch; ++b) {
    T *row = scratch + b * slot + g.rowOffset;
    std::fill(row, row + g.inBegin, lowest);
    std::fill(row + g.inEnd, row + g.rowLen, lowest);
  }
  T *phases[8];
  std::vector<T *> manyPhases;
  T **ph = phases;
  if (g.sw > 8) {
    manyPhases.resize(g.sw);
    ph = manyPhases.data();
  }
  // Only dereferenced when inEnd > inBegin, i.e. inBegin == pl.
  const T *colStart = x + (g.inBegin - g.pl);
  for (int64_t ohb = oh0; ohb < oh1; ohb += kPoolBatch) {
    const int batch =
        static_cast<int>(std::min<int64_t>(kPoolBatch, oh1 - ohb));
    // Vertical: the max of the window's rows inside the input.
    for (int b = 0; b < batch; ++b) {
      T *row = scratch + b * slot + g.rowOffset;
      int64_t top = (ohb + b) * g.sh - g.pt;
      int nrows = 0;
      for (int64_t kh = 0; kh < g.KH; ++kh) {
        int64_t ih = top + kh * g.dh;
        if (ih >= 0 && ih < g.H)
          ptrs[nrows++] = colStart + ih * g.W;
      }
      if (nrows == 0 || g.inEnd == g.inBegin)
        std::fill(row + g.inBegin, row + g.inEnd, lowest);
      else
        Ops::maxArrays(ptrs, nrows, row + g.inBegin, g.inEnd - g.inBegin);
    }
    // Strided rows split into phases.
    if (g.sw > 1) {
      for (int b = 0; b < batch; ++b) {
        const T *row = scratch + b * slot + g.rowOffset;
        T *phase0 = scratch + b * slot + g.phaseBase;
        if (g.sw == 2) {
          Ops::deinterleave2(row, phase0, phase0 + g.phaseStride, g.phaseLen);
        } else {
          for (int64_t p = 0; p < g.sw; ++p)
            ph[p] = phase0 + p * g.phaseStride;
          poolDeinterleaveScalar(row, g.sw, ph, 0, g.phaseLen);
        }
      }
    }
    // Horizontal: tap kw of output ow reads padded column ow * sw + kw * dw.
    for (int b = 0; b < batch; ++b) {
      const T *slotStart = scratch + b * slot;
      for (int64_t kw = 0; kw < g.KW; ++kw)
        ptrs[kw] = slotStart + g.tapOffsets[kw];
      Ops::maxArrays(ptrs, static_cast<int>(g.KW), y + (ohb + b) * g.OW, g.OW);
    }
  }
}

using PoolBandFn = void (*)(const PoolGeom &g, const void *x, void *y,
                            int64_t oh0, int64_t oh1, const void **ptrs,
                            void *scratch);

template <typename T>
void poolBandGeneric(const PoolGeom &g, const void *x, void *y, int64_t oh0,
                     int64_t oh1, const void **ptrs, void *scratch) {
  poolBand<PoolGenericOps, T>(g, static_cast<const T *>(x), static_cast<T *>(y),
                              oh0, oh1, reinterpret_cast<const T **>(ptrs),
                              static_cast<T *>(scratch));
}

#ifdef SPARQ_HAVE_POOL_AVX2_BUILD
/// flatten: the row primitives are inlined here whatever the inliner's
/// budget in the runtime's unity build (where it otherwise kept maxArrays
/// out of line).
template <typename T>
SPARQ_POOL_AVX2 __attribute__((flatten)) void
poolBandAvx2(const PoolGeom &g, const void *x, void *y, int64_t oh0,
             int64_t oh1, const void **ptrs, void *scratch) {
  poolBand<PoolAvx2Ops, T>(g, static_cast<const T *>(x), static_cast<T *>(y),
                           oh0, oh1, reinterpret_cast<const T **>(ptrs),
                           static_cast<T *>(scratch));
}
#endif

std::atomic<int> poolIsaOverride{-1};

bool poolCpuHasAvx2() {
#ifdef SPARQ_HAVE_POOL_AVX2_BUILD
  static const bool has = [] {
    __builtin_cpu_init();
    return (bool)__builtin_cpu_supports("avx2");
  }();
  return has;
#else
  return false;
#endif
}

template <typename T> PoolBandFn poolBandFor(PoolIsa isa) {
#ifdef SPARQ_HAVE_POOL_AVX2_BUILD
  if (isa == PoolIsa::Avx2)
    return poolBandAvx2<T>;
#endif
  return poolBandGeneric<T>;
}

} // namespace

bool sparq::rt::poolIsaSupported(PoolIsa isa) {
  return isa == PoolIsa::Generic || (isa == PoolIsa::Avx2 && poolCpuHasAvx2());
}

PoolIsa sparq::rt::activePoolIsa() {
  int forced = poolIsaOverride.load(std::memory_order_relaxed);
  if (forced >= 0 && poolIsaSupported(static_cast<PoolIsa>(forced)))
    return static_cast<PoolIsa>(forced);
  return !genericKernelsForced() && poolCpuHasAvx2() ? PoolIsa::Avx2
                                                     : PoolIsa::Generic;
}

void sparq::rt::setPoolIsaOverride(int isa) { poolIsaOverride.store(isa); }

extern "C" SPARQ_API void
sparq_uk_max_pool2d(void *ctx, const void *X, void *Y, int64_t elemType,
                    int64_t N, int64_t C, int64_t H, int64_t Wd, int64_t OH,
                    int64_t OW, int64_t KH, int64_t KW, int64_t strideH,
                    int64_t strideW, int64_t padTop, int64_t padLeft,
                    int64_t dilH, int64_t dilW) {
  if (!X || !Y || N <= 0 || C <= 0 || H <= 0 || Wd <= 0 || OH <= 0 || OW <= 0 ||
      KH <= 0 || KW <= 0 || strideH <= 0 || strideW <= 0 || padTop < 0 ||
      padLeft < 0 || dilH <= 0 || dilW <= 0)
    return;
  size_t elemSize;
  PoolBandFn band;
  PoolIsa isa = activePoolIsa();
  switch (elemType) {
  case SPARQ_DTYPE_F32:
    elemSize = sizeof(float);
    band = poolBandFor<float>(isa);
    break;
  case SPARQ_DTYPE_U8:
    elemSize = 1;
    band = poolBandFor<uint8_t>(isa);
    break;
  case SPARQ_DTYPE_I8:
    elemSize = 1;
    band = poolBandFor<int8_t>(isa);
    break;
  default:
    return;
  }
  Context &context = contextFromHandle(ctx);
  const PoolGeom g(H, Wd, OH, OW, KH, KW, strideH, strideW, padTop, padLeft,
                   dilH, dilW, static_cast<int64_t>(elemSize));
  const int64_t planes = N * C;
  // Split planes into bands of output rows only when there are too few
  // planes to keep every thread busy.
  const int64_t threads = context.numThreads();
  int64_t bands = 1;
  if (threads > 1 && planes < 4 * threads)
    bands = std::min(OH, (4 * threads + planes - 1) / planes);
  const int64_t bandRows = (OH + bands - 1) / bands;
  bands = (OH + bandRows - 1) / bandRows;
  // Chunks of about 16K output elements amortize the task overhead.
  const int64_t bandElems = bandRows * OW * KH * KW;
  const int64_t grain = std::max<int64_t>(1, (1 << 16) / bandElems);
  const int64_t ptrCount = std::max(KH, KW);
  const size_t scratchBytes =
      g.scratchElems() * elemSize + ptrCount * sizeof(void *) + 64;
  const int64_t inPlane = H * Wd, outPlane = OH * OW;
  context.threads().parallelFor(
      planes * bands, grain, [&](int64_t begin, int64_t end) {
        float *scratch = context.scratch(ScratchSlot::PackA,
                                         (scratchBytes + 3) / sizeof(float));
        if (!scratch)
          return;
        auto **ptrs = reinterpret_cast<const void **>(scratch);
        void *data = reinterpret_cast<char *>(scratch) +
                     ((ptrCount * sizeof(void *) + 63) & ~size_t(63));
        for (int64_t t = begin; t < end; ++t) {
          int64_t plane = t / bands, b = t % bands;
          int64_t oh0 = b * bandRows, oh1 = std::min(OH, oh0 + bandRows);
          band(g, static_cast<const char *>(X) + plane * inPlane * elemSize,
               static_cast<char *>(Y) + plane * outPlane * elemSize, oh0, oh1,
               ptrs, data);
        }
      });
}
