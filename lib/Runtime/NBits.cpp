//===- NBits.cpp - sparq_uk_matmul_nbits_f32 weight-only n-bit matmul -----===//
//
// Y = act(X * dequant(W)^T + bias) for 4- and 8-bit block-quantized weights
// (com.microsoft MatMulNBits layout) and f32 activations. The f32 weight is
// never materialized:
//  - few rows of X (M <= kNbGemvRows): a GEMV per weight row that
//    dequantizes in registers and multiplies into up to 2 (AVX2) or 4
//    (AVX-512) rows of X at once. AVX2: nibbles split with vpand/vpsrlw and
//    interleaved back into k order, widened to f32, w * s - z * s in one
//    FMA. AVX-512 (4-bit blocks of 32/64/128, under the avx512vnni setting):
//    the block's 16 possible values i * s - z * s form a zmm table that
//    vpermps indexes with the nibbles, against a copy of X deinterleaved
//    into even and odd k. Unrolled bodies cover blocks of 16-128; other even
//    block sizes (and a partial last block) take a general loop. The GEMV
//    streams W once, which is what bounds it: 4-bit weights are 8x fewer
//    bytes than f32 ones;
//  - more rows: tasks over 32-column chunks of Y dequantize their weight
//    rows into a cache-resident f32 panel (transposed into the f32 GEMM's
//    B layout 8 x 8 at a time) and run the f32 GEMM engine on it against X
//    packed once.
// Threads split the weight rows (N) in both cases.
//
//===----------------------------------------------------------------------===//

#include "sparq/Runtime/sparq_runtime.h"

#include "Gemm.h"
#include "Kernels.h"
#include "Model.h"
#include "QGemm.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SPARQ_HAVE_NBITS_AVX2 1
#include <immintrin.h>
#endif

using namespace sparq::rt;

namespace {

constexpr int64_t kNbGemvRows = 4;
constexpr int64_t kNbChunk = 32;

struct NBitsProblem {
  const float *X;
  const float *Xd = nullptr; ///< X deinterleaved for the table kernels
  const uint8_t *W;
  const float *scales;
  const uint8_t *zeroPoints;
  int64_t M, N, K, bits, blockSize, nBlocks, rowBytes, zpRowBytes;

  const uint8_t *row(int64_t n) const { return W + n * rowBytes; }
  const float *scaleRow(int64_t n) const { return scales + n * nBlocks; }
  /// Row n's packed zero points, or null without zero points.
  const uint8_t *zeroRow(int64_t n) const {
    return zeroPoints ? zeroPoints + n * zpRowBytes : nullptr;
  }
  float scale(int64_t n, int64_t b) const { return scaleRow(n)[b]; }
  float zero(int64_t n, int64_t b) const {
    if (!zeroPoints)
      return static_cast<float>(1 << (bits - 1));
    const uint8_t *z = zeroRow(n);
    if (bits == 8)
      return z[b];
    return static_cast<float>((z[b / 2] >> (4 * (b & 1))) & 15);
  }
  /// Quantized value k of block data `blk` (k counted within the block).
  int32_t value(const uint8_t *blk, int64_t k) const {
    if (bits == 8)
      return blk[k];
    return (blk[k / 2] >> (4 * (k & 1))) & 15;
  }
  int64_t blockBytes() const { return blockSize * bits / 8; }
};

/// Dequantizes weight row n into out[0, K).
void nbDequantRowScalar(const NBitsProblem &p, int64_t n, float *out) {
  for (int64_t b = 0; b < p.nBlocks; ++b) {
    const uint8_t *blk = p.row(n) + b * p.blockBytes();
    const float s = p.scale(n, b), z = p.zero(n, b);
    const int64_t k0 = b * p.blockSize;
    const int64_t len = std::min(p.blockSize, p.K - k0);
    for (int64_t k = 0; k < len; ++k)
      out[k0 + k] = (static_cast<float>(p.value(blk, k)) - z) * s;
  }
}

/// y[m] += the dot product of block b of dequant(W row n), from k = kFrom
/// within the block to its end, with the same span of X row m0+m, for
/// m < rows (scalar, k ascending). Always inlined, so that it compiles
/// (contracts to FMA or not) as the kernel it finishes did.
__attribute__((always_inline)) inline void
nbAddBlockScalar(const NBitsProblem &p, int64_t n, int64_t b, int64_t kFrom,
                 int64_t m0, int64_t rows, float *y) {
  const uint8_t *blk = p.row(n) + b * p.blockBytes();
  const float s = p.scale(n, b), z = p.zero(n, b);
  const int64_t k0 = b * p.blockSize;
  const int64_t len = std::min(p.blockSize, p.K - k0);
  for (int64_t k = kFrom; k < len; ++k) {
    float w = (static_cast<float>(p.value(blk, k)) - z) * s;
    for (int64_t m = 0; m < rows; ++m)
      y[m] += w * p.X[(m0 + m) * p.K + k0 + k];
  }
}

/// y[m] = dot(X row m0+m, dequant(W row n)) for m < rows.
void nbDotScalar(const NBitsProblem &p, int64_t n, int64_t m0, int64_t rows,
                 float *y) {
  for (int64_t m = 0; m < rows; ++m)
    y[m] = 0.f;
  for (int64_t b = 0; b < p.nBlocks; ++b)
    nbAddBlockScalar(p, n, b, 0, m0, rows, y);
}

#ifdef SPARQ_HAVE_NBITS_AVX2

#define SPARQ_NBAVX2 __attribute__((target("avx2,fma")))
#define SPARQ_NBAVX2_INLINE                                                    \
  __attribute__((target("avx2,fma"), always_inline)) inline

/// 16 quantized values starting at even k of a block, as bytes in k order.
SPARQ_NBAVX2_INLINE __m128i nbLoad16(const uint8_t *blk, int64_t k,
                                     int64_t bits) {
  if (bits == 8)
    return _mm_loadu_si128(reinterpret_cast<const __m128i *>(blk + k));
  __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i *>(blk + k / 2));
  const __m128i low4 = _mm_set1_epi8(0x0F);
  __m128i lo = _mm_and_si128(v, low4);
  __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), low4);
  return _mm_unpacklo_epi8(lo, hi);
}

/// The 16 values as two f32 vectors of (w - z) * s.
SPARQ_NBAVX2_INLINE void nbDequant16(__m128i bytes, __m256 s, __m256 zs,
                                     __m256 &w0, __m256 &w1) {
  w0 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
  w1 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(bytes, 8)));
  w0 = _mm256_fmadd_ps(w0, s, zs);
  w1 = _mm256_fmadd_ps(w1, s, zs);
}

SPARQ_NBAVX2_INLINE float nbHsum(__m256 v) {
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  x = _mm_add_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}

/// y[m] = dot(X row m0+m, dequant(W row n)) for m < R (R = 1 or 2); four
/// accumulator chains per row hide the FMA latency.
template <int R>
SPARQ_NBAVX2 void nbDotAvx2(const NBitsProblem &p, int64_t n, int64_t m0,
                            float *y) {
  __m256 acc[R][4];
  for (int m = 0; m < R; ++m)
    for (int q = 0; q < 4; ++q)
      acc[m][q] = _mm256_setzero_ps();
  float tail[R] = {};
  const int64_t bb = p.blockBytes();
  for (int64_t b = 0; b < p.nBlocks; ++b) {
    const uint8_t *blk = p.row(n) + b * bb;
    const float sf = p.scale(n, b), zf = p.zero(n, b);
    const __m256 s = _mm256_set1_ps(sf), zs = _mm256_set1_ps(-zf * sf);
    const int64_t k0 = b * p.blockSize;
    const int64_t len = std::min(p.blockSize, p.K - k0);
    const float *x = p.X + m0 * p.K + k0;
    int64_t k = 0;
    for (; k + 32 <= len; k += 32) {
      __m256 w0, w1, w2, w3;
      nbDequant16(nbLoad16(blk, k, p.bits), s, zs, w0, w1);
      nbDequant16(nbLoad16(blk, k + 16, p.bits), s, zs, w2, w3);
      for (int m = 0; m < R; ++m) {
        const float *xm = x + m * p.K + k;
        acc[m][0] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xm), acc[m][0]);
        acc[m][1] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xm + 8), acc[m][1]);
        acc[m][2] = _mm256_fmadd_ps(w2, _mm256_loadu_ps(xm + 16), acc[m][2]);
        acc[m][3] = _mm256_fmadd_ps(w3, _mm256_loadu_ps(xm + 24), acc[m][3]);
      }
    }
    for (; k + 16 <= len; k += 16) {
      __m256 w0, w1;
      nbDequant16(nbLoad16(blk, k, p.bits), s, zs, w0, w1);
      for (int m = 0; m < R; ++m) {
        const float *xm = x + m * p.K + k;
        acc[m][0] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xm), acc[m][0]);
        acc[m][1] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xm + 8), acc[m][1]);
      }
    }
    nbAddBlockScalar(p, n, b, k, m0, R, tail);
  }
  for (int m = 0; m < R; ++m)
    y[m] = nbHsum(_mm256_add_ps(_mm256_add_ps(acc[m][0], acc[m][1]),
                                _mm256_add_ps(acc[m][2], acc[m][3]))) +
           tail[m];
}

/// The same for a compile-time block size and width: full blocks run a
/// fully unrolled body (32 weights per step from one 16-byte load at 4
/// bits); only a partial last block takes the scalar loop.
template <int Bits, int BS, int R>
SPARQ_NBAVX2 void nbDotFixedAvx2(const NBitsProblem &p, int64_t n, int64_t m0,
                                 float *y) {
  static_assert(BS % 16 == 0, "block of whole 16-weight steps");
  __m256 acc[R][4];
  for (int m = 0; m < R; ++m)
    for (int q = 0; q < 4; ++q)
      acc[m][q] = _mm256_setzero_ps();
  const uint8_t *wrow = p.row(n);
  const float *srow = p.scaleRow(n);
  const uint8_t *zrow = p.zeroRow(n);
  const float *x = p.X + m0 * p.K;
  const int64_t K = p.K, full = K / BS;
  const __m128i low4 = _mm_set1_epi8(0x0F);
  for (int64_t b = 0; b < full; ++b) {
    const float sf = srow[b];
    const float zf = !zrow       ? float(1 << (Bits - 1))
                     : Bits == 8 ? float(zrow[b])
                                 : float((zrow[b >> 1] >> ((b & 1) * 4)) & 15);
    const __m256 s = _mm256_set1_ps(sf), zs = _mm256_set1_ps(-zf * sf);
    const uint8_t *blk = wrow + b * (BS * Bits / 8);
    const float *xb = x + b * BS;
    if (BS == 16) {
      __m256 w0, w1;
      nbDequant16(nbLoad16(blk, 0, Bits), s, zs, w0, w1);
      const int q = (b & 1) * 2;
      for (int m = 0; m < R; ++m) {
        acc[m][q] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xb + m * K), acc[m][q]);
        acc[m][q + 1] =
            _mm256_fmadd_ps(w1, _mm256_loadu_ps(xb + m * K + 8), acc[m][q + 1]);
      }
      continue;
    }
#pragma GCC unroll 4
    for (int c = 0; c < BS; c += 32) {
      __m128i e0, e1;
      if (Bits == 4) {
        __m128i v =
            _mm_loadu_si128(reinterpret_cast<const __m128i *>(blk + c / 2));
        __m128i lo = _mm_and_si128(v, low4);
        __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), low4);
        e0 = _mm_unpacklo_epi8(lo, hi);
        e1 = _mm_unpackhi_epi8(lo, hi);
      } else {
        e0 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(blk + c));
        e1 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(blk + c + 16));
      }
      __m256 w[4];
      nbDequant16(e0, s, zs, w[0], w[1]);
      nbDequant16(e1, s, zs, w[2], w[3]);
      for (int m = 0; m < R; ++m)
#pragma GCC unroll 4
        for (int q = 0; q < 4; ++q)
          acc[m][q] = _mm256_fmadd_ps(
              w[q], _mm256_loadu_ps(xb + m * K + c + 8 * q), acc[m][q]);
    }
  }
  for (int m = 0; m < R; ++m)
    y[m] = nbHsum(_mm256_add_ps(_mm256_add_ps(acc[m][0], acc[m][1]),
                                _mm256_add_ps(acc[m][2], acc[m][3])));
  if (full < p.nBlocks)
    nbAddBlockScalar(p, n, full, 0, m0, R, y);
}

using NbDotFn = void (*)(const NBitsProblem &, int64_t, int64_t, float *);

/// The unrolled kernel for (bits, blockSize, rows), or null.
template <int R> NbDotFn nbFixedKernel(int64_t bits, int64_t blockSize) {
  switch (blockSize * 16 + bits) {
  case 16 * 16 + 4:
    return nbDotFixedAvx2<4, 16, R>;
  case 32 * 16 + 4:
    return nbDotFixedAvx2<4, 32, R>;
  case 64 * 16 + 4:
    return nbDotFixedAvx2<4, 64, R>;
  case 128 * 16 + 4:
    return nbDotFixedAvx2<4, 128, R>;
  case 16 * 16 + 8:
    return nbDotFixedAvx2<8, 16, R>;
  case 32 * 16 + 8:
    return nbDotFixedAvx2<8, 32, R>;
  case 64 * 16 + 8:
    return nbDotFixedAvx2<8, 64, R>;
  case 128 * 16 + 8:
    return nbDotFixedAvx2<8, 128, R>;
  }
  return nullptr;
}

#define SPARQ_NB512 __attribute__((target("avx512f,avx2,fma")))

/// 4-bit blocks of 32, 64 or 128 weights with AVX-512 (the path of the
/// avx512vnni ISA setting, though it needs only AVX-512F): the 16 possible
/// dequantized values of a block, (i - z) * s, form one zmm table, and
/// vpermps looks the weights up directly, 16 at a time, without integer to
/// float conversions. The low nibbles hold the even k, the high ones the
/// odd k, so X is used in its deinterleaved copy Xd (per 32-weight chunk:
/// 16 even k, then 16 odd k).
/// Sum of the 16 lanes, through memory: the GCC 12 headers of the
/// in-register reductions and extracts trip -Wuninitialized.
SPARQ_NB512 inline float nbHsum512(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  return nbHsum(
      _mm256_add_ps(_mm256_load_ps(lanes), _mm256_load_ps(lanes + 8)));
}

#define SPARQ_NB512_INLINE                                                     \
  __attribute__((target("avx512f,avx2,fma"), always_inline)) inline

/// Lane i of a table kernel's even (odd) vector takes the low (high)
/// nibble of chunk byte nbLaneByte(i): the 16-byte chunk is broadcast to
/// all four 128-bit lanes, where lane i sees dword i % 4, and a variable
/// shift by 8 * (i / 4) (+ 4) brings the nibble down; vpermps reads only
/// the low 4 bits of an index. Xd stores X in the same order.
constexpr int64_t nbLaneByte(int64_t i) { return 4 * (i % 4) + i / 4; }

/// One 32-weight chunk (16 bytes) against rows [0, R) of Xd into
/// accumulator pair Q, a constant so the accumulators stay in registers.
template <int Q, int R>
SPARQ_NB512_INLINE void nbLutChunk(const uint8_t *w, const float *xd, int64_t K,
                                   __m512 lut, __m512i shiftEven,
                                   __m512i shiftOdd, __m512 (&acc)[R][4]) {
  // Masked forms throughout: GCC 12's unmasked ones trip -Wuninitialized.
  __m512i v = _mm512_maskz_broadcast_i32x4(
      0xFFFF, _mm_loadu_si128(reinterpret_cast<const __m128i *>(w)));
  __m512 we = _mm512_maskz_permutexvar_ps(
      0xFFFF, _mm512_maskz_srlv_epi32(0xFFFF, v, shiftEven), lut);
  __m512 wo = _mm512_maskz_permutexvar_ps(
      0xFFFF, _mm512_maskz_srlv_epi32(0xFFFF, v, shiftOdd), lut);
  for (int m = 0; m < R; ++m) {
    acc[m][Q] = _mm512_fmadd_ps(we, _mm512_loadu_ps(xd + m * K), acc[m][Q]);
    acc[m][Q + 1] =
        _mm512_fmadd_ps(wo, _mm512_loadu_ps(xd + m * K + 16), acc[m][Q + 1]);
  }
}

template <int BS, int R>
SPARQ_NB512 void nbDotLutAvx512(const NBitsProblem &p, int64_t n, int64_t m0,
                                float *y) {
  static_assert(BS % 32 == 0, "blocks of whole 32-weight chunks");
  __m512 acc[R][4];
  for (int m = 0; m < R; ++m)
    for (int q = 0; q < 4; ++q)
      acc[m][q] = _mm512_setzero_ps();
  const uint8_t *wrow = p.row(n);
  const float *srow = p.scaleRow(n);
  const uint8_t *zrow = p.zeroRow(n);
  const int64_t K = p.K, full = K / BS;
  const float *xd = p.Xd + m0 * K;
  const __m512i shiftEven =
      _mm512_setr_epi32(0, 0, 0, 0, 8, 8, 8, 8, 16, 16, 16, 16, 24, 24, 24, 24);
  const __m512i shiftOdd = _mm512_add_epi32(shiftEven, _mm512_set1_epi32(4));
  const __m512 iota =
      _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  // Blocks go in groups of 16, whose z * s products are computed in one
  // vector and stored, so each block's table is one FMA of two broadcast
  // loads. Chunks of 32 weights alternate between two accumulator pairs.
  constexpr int64_t perBlock = BS / 32;
  const int64_t zpBytes = p.zpRowBytes;
  for (int64_t b0 = 0; b0 < full; b0 += 16) {
    const int64_t nb = std::min<int64_t>(16, full - b0);
    const __mmask16 live = static_cast<__mmask16>((1u << nb) - 1);
    __m512 z = _mm512_set1_ps(8.f);
    if (zrow) {
      uint64_t packed = 0;
      std::memcpy(&packed, zrow + b0 / 2,
                  std::min<int64_t>(8, zpBytes - b0 / 2));
      __m128i v = _mm_cvtsi64_si128(static_cast<long long>(packed));
      const __m128i low4 = _mm_set1_epi8(0x0F);
      __m128i nibbles = _mm_unpacklo_epi8(
          _mm_and_si128(v, low4), _mm_and_si128(_mm_srli_epi16(v, 4), low4));
      z = _mm512_maskz_cvtepi32_ps(0xFFFF,
                                   _mm512_maskz_cvtepu8_epi32(0xFFFF, nibbles));
    }
    alignas(64) float zs[16];
    _mm512_store_ps(zs, _mm512_sub_ps(_mm512_setzero_ps(),
                                      _mm512_mul_ps(z, _mm512_maskz_loadu_ps(
                                                           live, srow + b0))));
#define SPARQ_NB_LUT(b)                                                        \
  _mm512_fmadd_ps(iota, _mm512_set1_ps(srow[b]), _mm512_set1_ps(zs[(b)-b0]))
    const int64_t cEnd = (b0 + nb) * perBlock;
    int64_t ci = b0 * perBlock;
    __m512 lut = _mm512_setzero_ps();
    for (; ci + 2 <= cEnd; ci += 2) {
      __m512 lut1;
      if (perBlock == 1) {
        lut = SPARQ_NB_LUT(ci);
        lut1 = SPARQ_NB_LUT(ci + 1);
      } else {
        if (ci % perBlock == 0)
          lut = SPARQ_NB_LUT(ci / perBlock);
        lut1 = lut;
      }
      nbLutChunk<0, R>(wrow + 16 * ci, xd + 32 * ci, K, lut, shiftEven,
                       shiftOdd, acc);
      nbLutChunk<2, R>(wrow + 16 * (ci + 1), xd + 32 * (ci + 1), K, lut1,
                       shiftEven, shiftOdd, acc);
    }
    if (ci < cEnd)
      nbLutChunk<0, R>(wrow + 16 * ci, xd + 32 * ci, K,
                       SPARQ_NB_LUT(ci / perBlock), shiftEven, shiftOdd, acc);
#undef SPARQ_NB_LUT
  }
  for (int m = 0; m < R; ++m)
    y[m] = nbHsum512(_mm512_add_ps(_mm512_add_ps(acc[m][0], acc[m][1]),
                                   _mm512_add_ps(acc[m][2], acc[m][3])));
  if (full < p.nBlocks)
    nbAddBlockScalar(p, n, full, 0, m0, R, y);
}

/// The table-lookup kernel for (bits, blockSize, rows), or null.
template <int R> NbDotFn nbLutKernel(int64_t bits, int64_t blockSize) {
  if (bits != 4)
    return nullptr;
  switch (blockSize) {
  case 32:
    return nbDotLutAvx512<32, R>;
  case 64:
    return nbDotLutAvx512<64, R>;
  case 128:
    return nbDotLutAvx512<128, R>;
  }
  return nullptr;
}

bool cpuHasNbAvx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
         __builtin_cpu_supports("fma");
}

/// Packs rows [0, nc) of a row-major [nc, K] f32 matrix as the transposed B
/// of the f32 GEMM (packWholeB's layout: per kKC-deep block, kNR-column
/// panels of kc x kNR), transposing 8 x 8 tiles in registers.
SPARQ_NBAVX2 void nbPackPanelsAvx2(const float *rows, int64_t K, int64_t nc,
                                   float *dst) {
  const int64_t nPad = (nc + kNR - 1) / kNR * kNR;
  for (int64_t k0 = 0; k0 < K; k0 += kKC) {
    const int64_t kc = std::min(kKC, K - k0);
    for (int64_t j0 = 0; j0 < nPad; j0 += 8) {
      float *panel = dst + k0 * nPad + (j0 / kNR) * kNR * kc + j0 % kNR;
      int64_t k = 0;
      if (j0 + 8 <= nc) {
        for (; k + 8 <= kc; k += 8) {
          __m256 r[8], t[8];
          for (int i = 0; i < 8; ++i)
            r[i] = _mm256_loadu_ps(rows + (j0 + i) * K + k0 + k);
          for (int i = 0; i < 8; i += 2) {
            t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
            t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
          }
          for (int i = 0; i < 8; i += 4) {
            r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
            r[i + 1] =
                _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
            r[i + 2] =
                _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
            r[i + 3] =
                _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
          }
          for (int i = 0; i < 4; ++i) {
            _mm256_storeu_ps(panel + (k + i) * kNR,
                             _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
            _mm256_storeu_ps(panel + (k + i + 4) * kNR,
                             _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
          }
        }
      }
      for (; k < kc; ++k)
        for (int64_t j = 0; j < 8; ++j)
          panel[k * kNR + j] = j0 + j < nc ? rows[(j0 + j) * K + k0 + k] : 0.f;
    }
  }
}

SPARQ_NBAVX2 void nbDequantRowAvx2(const NBitsProblem &p, int64_t n,
                                   float *out) {
  const int64_t bb = p.blockBytes();
  for (int64_t b = 0; b < p.nBlocks; ++b) {
    const uint8_t *blk = p.row(n) + b * bb;
    const float sf = p.scale(n, b), zf = p.zero(n, b);
    const __m256 s = _mm256_set1_ps(sf), zs = _mm256_set1_ps(-zf * sf);
    const int64_t k0 = b * p.blockSize;
    const int64_t len = std::min(p.blockSize, p.K - k0);
    int64_t k = 0;
    for (; k + 16 <= len; k += 16) {
      __m256 w0, w1;
      nbDequant16(nbLoad16(blk, k, p.bits), s, zs, w0, w1);
      _mm256_storeu_ps(out + k0 + k, w0);
      _mm256_storeu_ps(out + k0 + k + 8, w1);
    }
    for (; k < len; ++k)
      out[k0 + k] = (static_cast<float>(p.value(blk, k)) - zf) * sf;
  }
}

#endif

/// y[m] for m < rows (<= 4 with the table kernels, else <= 2) through the
/// chosen path.
void nbDot(const NBitsProblem &p, bool vec, int64_t n, int64_t m0, int64_t rows,
           float *y) {
#ifdef SPARQ_HAVE_NBITS_AVX2
  if (p.Xd) {
    NbDotFn fns[4] = {nbLutKernel<1>(p.bits, p.blockSize),
                      nbLutKernel<2>(p.bits, p.blockSize),
                      nbLutKernel<3>(p.bits, p.blockSize),
                      nbLutKernel<4>(p.bits, p.blockSize)};
    fns[rows - 1](p, n, m0, y);
    return;
  }
  if (vec) {
    NbDotFn fixed = rows == 2 ? nbFixedKernel<2>(p.bits, p.blockSize)
                              : nbFixedKernel<1>(p.bits, p.blockSize);
    if (fixed)
      fixed(p, n, m0, y);
    else if (rows == 2)
      nbDotAvx2<2>(p, n, m0, y);
    else
      nbDotAvx2<1>(p, n, m0, y);
    return;
  }
#endif
  nbDotScalar(p, n, m0, rows, y);
}

void nbDequantRow(const NBitsProblem &p, bool vec, int64_t n, float *out) {
#ifdef SPARQ_HAVE_NBITS_AVX2
  if (vec) {
    nbDequantRowAvx2(p, n, out);
    return;
  }
#endif
  nbDequantRowScalar(p, n, out);
}

} // namespace

extern "C" SPARQ_API void
sparq_uk_matmul_nbits_f32(void *ctx, const float *X, const uint8_t *W,
                          const float *scales, const uint8_t *zeroPoints,
                          const float *bias, float *Y, int64_t M, int64_t N,
                          int64_t K, int64_t bits, int64_t blockSize,
                          int64_t act, float actA, float actB) {
  if (!X || !W || !scales || !Y || M <= 0 || N <= 0 || K <= 0 ||
      (bits != 4 && bits != 8) || blockSize <= 0 || blockSize % 2)
    return;
  Context &context = contextFromHandle(ctx);
  NBitsProblem p;
  p.X = X;
  p.W = W;
  p.scales = scales;
  p.zeroPoints = zeroPoints;
  p.M = M;
  p.N = N;
  p.K = K;
  p.bits = bits;
  p.blockSize = blockSize;
  p.nBlocks = (K + blockSize - 1) / blockSize;
  p.rowBytes = p.nBlocks * blockSize * bits / 8;
  p.zpRowBytes = (p.nBlocks * bits + 7) / 8;
  const bool vec = activeQIsa() != QIsa::Generic && avx2KernelSet();
  const KernelSet &ks = vec ? kernels() : genericKernelSet();
  const bool epilogue = bias || act != SPARQ_ACT_NONE;
  const int threads = context.numThreads();

  if (M <= kNbGemvRows) {
    // Rows of X sharing one pass over W: 4 with the AVX-512 table kernels
    // (32 zmm registers), else 2.
    int64_t rowsPerPass = 2;
#ifdef SPARQ_HAVE_NBITS_AVX2
    // The table kernels read X deinterleaved: per 32-weight chunk of the
    // full blocks, the 16 even k, then the 16 odd k, in nbLaneByte order.
    static const bool hasAvx512 = cpuHasNbAvx512();
    if (hasAvx512 && activeQIsa() == QIsa::Avx512Vnni &&
        nbLutKernel<1>(bits, blockSize)) {
      float *xd = context.scratch(ScratchSlot::QuantA, M * K);
      if (!xd)
        return;
      const int64_t chunked = K / blockSize * blockSize;
      for (int64_t m = 0; m < M; ++m) {
        const float *x = X + m * K;
        float *d = xd + m * K;
        for (int64_t k0 = 0; k0 < chunked; k0 += 32)
          for (int64_t i = 0; i < 16; ++i) {
            d[k0 + i] = x[k0 + 2 * nbLaneByte(i)];
            d[k0 + 16 + i] = x[k0 + 2 * nbLaneByte(i) + 1];
          }
        std::memcpy(d + chunked, x + chunked, (K - chunked) * sizeof(float));
      }
      p.Xd = xd;
      rowsPerPass = 4;
    }
#endif
    const int64_t grain =
        std::max<int64_t>(16, N / (8 * static_cast<int64_t>(threads)));
    context.threads().parallelFor(N, grain, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n)
        for (int64_t m0 = 0; m0 < M; m0 += rowsPerPass) {
          const int64_t rows = std::min<int64_t>(rowsPerPass, M - m0);
          float y[4];
          nbDot(p, vec, n, m0, rows, y);
          for (int64_t m = 0; m < rows; ++m)
            Y[(m0 + m) * N + n] = y[m];
        }
      if (epilogue)
        for (int64_t m = 0; m < M; ++m)
          ks.epilogueRow(Y + m * N + begin, 0.f, bias ? bias + begin : nullptr,
                         nullptr, end - begin, static_cast<int>(act), actA,
                         actB);
    });
    return;
  }

  // X packed once; tasks dequantize kNbChunk weight rows and run the GEMM.
  float *xPacked = context.scratch(ScratchSlot::QuantA, packedASize(M, K));
  if (!xPacked)
    return;
  packWholeA(X, K, M, K, xPacked);
  const int64_t chunks = (N + kNbChunk - 1) / kNbChunk;
  const size_t panelFloats = packedBSize(K, kNbChunk);
  context.threads().parallelFor(chunks, 1, [&](int64_t begin, int64_t end) {
    float *buf =
        context.scratch(ScratchSlot::QuantIm2col, kNbChunk * K + panelFloats);
    if (!buf)
      return;
    float *rowsF32 = buf, *panel = buf + kNbChunk * K;
    for (int64_t t = begin; t < end; ++t) {
      const int64_t n0 = t * kNbChunk, nc = std::min(kNbChunk, N - n0);
      for (int64_t j = 0; j < nc; ++j)
        nbDequantRow(p, vec, n0 + j, rowsF32 + j * K);
#ifdef SPARQ_HAVE_NBITS_AVX2
      if (vec)
        nbPackPanelsAvx2(rowsF32, K, nc, panel);
      else
#endif
        packWholeB(rowsF32, K, /*transB=*/true, K, nc, panel);
      GemmArgs g;
      g.M = M;
      g.N = nc;
      g.K = K;
      g.APacked = xPacked;
      g.BPacked = panel;
      g.C = Y + n0;
      g.ldc = N;
      g.epi.bias = bias ? bias + n0 : nullptr;
      g.epi.act = static_cast<int>(act);
      g.epi.actA = actA;
      g.epi.actB = actB;
      gemm(context, g); // nested: runs on this thread
    }
  });
}
