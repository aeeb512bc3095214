//===- SparseQKernels.cpp - int8 matmul/conv over 1x4-block sparse weights ===//
//
// sparq_uk_sparse_qmatmul_i8: C[M,N] = out(sum_k (a - aZero) * w[n][k]) with
// the weight packed as SPARQ_SPARSE_BLOCK_I8 (1 x 4 int8 blocks along k,
// symmetric, zero point 0) and u8 or s8 activations. Activations take the
// canonical u8 form of QGemm.h (s8 flipped by x ^ 0x80, its zero point moved
// by +128), so with u = canonical a and s = w
//   acc[m][n] = sum u * s - za' * rowsum(s)[n]
// in wrapping int32 arithmetic, exact whenever the true result fits; the row
// sums come with the blob. The output stage is the integer GEMM's
// (QKernelSet::outputRow, then the f32 bias and activation).
//
// Two ways through the weight, by the number of activation rows:
//  - panels (many rows): activations packed in panels of 16 rows, one group
//    of 4 k per 64 bytes (u8 for VNNI; widened to i16 for AVX2's vpmaddwd),
//    so one stored block is one panel load and one vpdpbusd (AVX2: four
//    vpmaddwd) with the block's 4 bytes broadcast; 16 x 16 tiles of results
//    are transposed into rows for the output stage;
//  - rows (few rows): per activation row, the activation quads of 16
//    (AVX2: 8) blocks at a time gathered by block column; VNNI runs over
//    the blocks of all the task's outputs as one flat sequence and takes
//    each output as a difference of prefix sums, AVX2 sums per output.
// The generic path is the scalar loop. Tasks are (rows, 64-column chunk)
// pairs spread over the context's pool.
//
// sparq_uk_sparse_qconv2d_i8 (1x1, NCHW) runs the same panel kernels with
// output pixels as panel rows (packed from the channel planes), four
// panels at a time, and no transpose: an output channel's 64 pixels are
// contiguous in Y, so its output stage is one call per 64 pixels.
//
//===----------------------------------------------------------------------===//

#include "Context.h"
#include "Model.h"
#include "QGemm.h"
#include "SparseCache.h"
#include "SparsePack.h"

#include "sparq/Runtime/sparq_runtime.h"
#include "sparq/Runtime/sparq_sparse_format.h"

#include <algorithm>
#include <cstring>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SPARQ_HAVE_SQ_X86 1
#include <immintrin.h>
#endif

using namespace sparq::rt;

namespace {

/// Tags of this kernel's entries in the packed-weight cache.
constexpr int64_t kSqViewTag = 0x53515101;
constexpr int64_t kSqCopyTag = 0x53515102;

/// Activation rows of one panel, output columns of one task.
constexpr int64_t kSqPanelRows = 16;
constexpr int64_t kSqChunk = 64;

/// Up to this many activation rows take the row (gather) path (measured:
/// VNNI panels cost the same from 1 to 16 rows and match one gathered
/// row; AVX2's gathered rows beat its panels up to 3 rows).
constexpr int64_t kSqRowPathMaxMVnni = 1;
constexpr int64_t kSqRowPathMaxMAvx2 = 3;

/// The validated view of the blob at w (checked on first use, then cached);
/// null when it is malformed or memory ran out.
const SparseMatrixI8 *sqLookup(Context &context, const void *w) {
  return cachedSparseView<SparseMatrixI8>(context, w, kSqViewTag, kSqCopyTag,
                                          readSparseBlobI8);
}

template <typename IdxT> int64_t sqBlockCol(const void *col, int64_t b) {
  return static_cast<const IdxT *>(col)[b];
}

/// Raw products of columns [n0, n0 + nc) of one activation row x (xorMask
/// canonicalizes s8): raw[j] = sum u * s. `work` holds at least the
/// chunk's block count + 32 int32.
using SqRowFn = void (*)(const SparseMatrixI8 &w, const uint8_t *x,
                         uint8_t xorMask, int64_t n0, int64_t nc, int32_t *raw,
                         int32_t *work);
/// Raw products of one packed panel: colTile[j * 16 + i] for its 16 rows i
/// and columns j of [n0, n0 + nc); colTile is 64-byte aligned.
using SqPanelFn = void (*)(const SparseMatrixI8 &w, const uint8_t *panel,
                           int64_t n0, int64_t nc, int32_t *colTile);
/// rowTile[i * kSqChunk + j] = colTile[j * 16 + i] for the 16 rows and nc
/// columns (colTile is read up to nc rounded up to 16).
using SqTransposeFn = void (*)(const int32_t *colTile, int64_t nc,
                               int32_t *rowTile);

void sqTransposeGeneric(const int32_t *colTile, int64_t nc, int32_t *rowTile) {
  for (int64_t j = 0; j < nc; ++j)
    for (int64_t i = 0; i < kSqPanelRows; ++i)
      rowTile[i * kSqChunk + j] = colTile[j * kSqPanelRows + i];
}

template <typename IdxT>
void sqRowGeneric(const SparseMatrixI8 &w, const uint8_t *x, uint8_t xorMask,
                  int64_t n0, int64_t nc, int32_t *raw, int32_t *) {
  for (int64_t j = 0; j < nc; ++j) {
    const int64_t n = n0 + j;
    int32_t acc = 0;
    for (int64_t b = w.rowPtr[n]; b < w.rowPtr[n + 1]; ++b) {
      const uint8_t *xq = x + 4 * sqBlockCol<IdxT>(w.col, b);
      const int8_t *s = w.values + 4 * b;
      for (int t = 0; t < 4; ++t)
        acc += int32_t(uint8_t(xq[t] ^ xorMask)) * int32_t(s[t]);
    }
    raw[j] = acc;
  }
}

/// Generic panels are u8 like VNNI's.
template <typename IdxT>
void sqPanelGeneric(const SparseMatrixI8 &w, const uint8_t *panel, int64_t n0,
                    int64_t nc, int32_t *colTile) {
  for (int64_t j = 0; j < nc; ++j) {
    const int64_t n = n0 + j;
    int32_t acc[kSqPanelRows] = {};
    for (int64_t b = w.rowPtr[n]; b < w.rowPtr[n + 1]; ++b) {
      const uint8_t *g = panel + 64 * sqBlockCol<IdxT>(w.col, b);
      const int8_t *s = w.values + 4 * b;
      for (int i = 0; i < kSqPanelRows; ++i)
        for (int t = 0; t < 4; ++t)
          acc[i] += int32_t(g[i * 4 + t]) * int32_t(s[t]);
    }
    for (int i = 0; i < kSqPanelRows; ++i)
      colTile[j * kSqPanelRows + i] = acc[i];
  }
}

#ifdef SPARQ_HAVE_SQ_X86

#define SPARQ_SQVNNI                                                           \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define SPARQ_SQAVX2 __attribute__((target("avx2,fma")))

/// acc += u (64 u8) times the s8 quad broadcast: vpdpbusd with a {1to16}
/// memory broadcast. Inline assembly: GCC 12 copies the accumulators of
/// _mm512_dpbusd_epi32 around unrolled loops (three extra moves per four
/// blocks), which costs more than the dot products here.
SPARQ_SQVNNI inline __attribute__((always_inline)) __m512i
sqDpbusdQuad(__m512i acc, __m512i u, const int8_t *quad) {
  asm("vpdpbusd %2%{1to16%}, %1, %0"
      : "+v"(acc)
      : "v"(u), "m"(*reinterpret_cast<const int32_t *>(quad)));
  return acc;
}

/// acc += the panel group of block i times its broadcast quad.
template <typename IdxT>
SPARQ_SQVNNI inline __attribute__((always_inline)) __m512i
sqPanelStepVnni(const SparseMatrixI8 &w, const uint8_t *panel, __m512i acc,
                int64_t i) {
  const uint8_t *g = panel + 64 * sqBlockCol<IdxT>(w.col, i);
  return sqDpbusdQuad(acc, _mm512_load_si512(g), w.values + 4 * i);
}

template <typename IdxT>
SPARQ_SQVNNI void sqPanelVnni(const SparseMatrixI8 &w, const uint8_t *panel,
                              int64_t n0, int64_t nc, int32_t *colTile) {
  for (int64_t j = 0; j < nc; ++j) {
    const int64_t n = n0 + j;
    int64_t b = w.rowPtr[n];
    const int64_t e = w.rowPtr[n + 1];
    // Four independent chains.
    __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
    __m512i acc2 = _mm512_setzero_si512(), acc3 = _mm512_setzero_si512();
    for (; b + 4 <= e; b += 4) {
      acc0 = sqPanelStepVnni<IdxT>(w, panel, acc0, b);
      acc1 = sqPanelStepVnni<IdxT>(w, panel, acc1, b + 1);
      acc2 = sqPanelStepVnni<IdxT>(w, panel, acc2, b + 2);
      acc3 = sqPanelStepVnni<IdxT>(w, panel, acc3, b + 3);
    }
    for (; b < e; ++b)
      acc0 = sqPanelStepVnni<IdxT>(w, panel, acc0, b);
    acc0 = _mm512_add_epi32(_mm512_add_epi32(acc0, acc1),
                            _mm512_add_epi32(acc2, acc3));
    _mm512_store_si512(colTile + j * kSqPanelRows, acc0);
  }
}

/// Four consecutive panels (panelBytes apart, 64 rows) per output column:
/// tile[j * 64 + r] for rows r and columns j of [n0, n0 + nc). Each block
/// is four loads and four vpdpbusd, four independent chains.
template <typename IdxT>
SPARQ_SQVNNI void sqPanel4Vnni(const SparseMatrixI8 &w, const uint8_t *panel,
                               int64_t panelBytes, int64_t n0, int64_t nc,
                               int32_t *tile) {
  const IdxT *col = static_cast<const IdxT *>(w.col);
  const uint8_t *p1 = panel + panelBytes, *p2 = p1 + panelBytes,
                *p3 = p2 + panelBytes;
  for (int64_t j = 0; j < nc; ++j) {
    const int64_t n = n0 + j;
    __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
    __m512i acc2 = _mm512_setzero_si512(), acc3 = _mm512_setzero_si512();
    for (int64_t b = w.rowPtr[n]; b < w.rowPtr[n + 1]; ++b) {
      const int64_t g = 64 * int64_t(col[b]);
      const int8_t *quad = w.values + 4 * b;
      acc0 = sqDpbusdQuad(acc0, _mm512_load_si512(panel + g), quad);
      acc1 = sqDpbusdQuad(acc1, _mm512_load_si512(p1 + g), quad);
      acc2 = sqDpbusdQuad(acc2, _mm512_load_si512(p2 + g), quad);
      acc3 = sqDpbusdQuad(acc3, _mm512_load_si512(p3 + g), quad);
    }
    int32_t *t = tile + j * 4 * kSqPanelRows;
    _mm512_store_si512(t, acc0);
    _mm512_store_si512(t + 16, acc1);
    _mm512_store_si512(t + 32, acc2);
    _mm512_store_si512(t + 48, acc3);
  }
}

/// 16 x 16 transposes: 32-bit and 64-bit unpacks, then 128-bit lanes.
SPARQ_SQVNNI void sqTransposeVnni(const int32_t *colTile, int64_t nc,
                                  int32_t *rowTile) {
  for (int64_t j0 = 0; j0 < nc; j0 += 16) {
    __m512i r[16], t[16], u[16];
    for (int k = 0; k < 16; ++k)
      r[k] = j0 + k < nc ? _mm512_load_si512(colTile + (j0 + k) * kSqPanelRows)
                         : _mm512_setzero_si512();
    for (int k = 0; k < 8; ++k) {
      t[2 * k] = _mm512_unpacklo_epi32(r[2 * k], r[2 * k + 1]);
      t[2 * k + 1] = _mm512_unpackhi_epi32(r[2 * k], r[2 * k + 1]);
    }
    for (int k = 0; k < 4; ++k) {
      u[4 * k] = _mm512_unpacklo_epi64(t[4 * k], t[4 * k + 2]);
      u[4 * k + 1] = _mm512_unpackhi_epi64(t[4 * k], t[4 * k + 2]);
      u[4 * k + 2] = _mm512_unpacklo_epi64(t[4 * k + 1], t[4 * k + 3]);
      u[4 * k + 3] = _mm512_unpackhi_epi64(t[4 * k + 1], t[4 * k + 3]);
    }
    // u[4k + c], lane L: rows 4k..4k+3 (of colTile) of output row 4L + c.
    for (int c = 0; c < 4; ++c) {
      __m512i v0 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0x44);
      __m512i v1 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0xEE);
      __m512i v2 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0x44);
      __m512i v3 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0xEE);
      _mm512_storeu_si512(rowTile + c * kSqChunk + j0,
                          _mm512_shuffle_i32x4(v0, v2, 0x88));
      _mm512_storeu_si512(rowTile + (4 + c) * kSqChunk + j0,
                          _mm512_shuffle_i32x4(v0, v2, 0xDD));
      _mm512_storeu_si512(rowTile + (8 + c) * kSqChunk + j0,
                          _mm512_shuffle_i32x4(v1, v3, 0x88));
      _mm512_storeu_si512(rowTile + (12 + c) * kSqChunk + j0,
                          _mm512_shuffle_i32x4(v1, v3, 0xDD));
    }
  }
}

template <typename IdxT>
SPARQ_SQVNNI __m512i sqLoadIndices16(const void *col, int64_t b, __mmask16 k) {
  if constexpr (sizeof(IdxT) == 2)
    return _mm512_cvtepu16_epi32(
        _mm256_maskz_loadu_epi16(k, static_cast<const uint16_t *>(col) + b));
  else
    return _mm512_maskz_loadu_epi32(k, static_cast<const uint32_t *>(col) + b);
}

/// The blocks of all the chunk's rows as one flat run, 16 at a time: their
/// activation quads gathered by block column, one vpdpbusd into 16 block
/// dot products, an inclusive prefix sum across the lanes (plus the carry
/// of the previous 16) stored to work[1 + i]; then each output is the
/// difference of the prefix sums at its row's ends (wrapping int32
/// arithmetic, exact when the result fits). No per-row tails or horizontal
/// sums, and every gather but the last is full.
template <typename IdxT>
SPARQ_SQVNNI void sqRowVnni(const SparseMatrixI8 &w, const uint8_t *x,
                            uint8_t xorMask, int64_t n0, int64_t nc,
                            int32_t *raw, int32_t *work) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(xorMask));
  const __m512i zero = _mm512_setzero_si512();
  const __m512i last = _mm512_set1_epi32(15);
  const int64_t b0 = w.rowPtr[n0], b1 = w.rowPtr[n0 + nc];
  work[0] = 0;
  __m512i carry = zero;
  for (int64_t b = b0; b < b1; b += 16) {
    const int64_t left = std::min<int64_t>(16, b1 - b);
    const __mmask16 k = static_cast<__mmask16>((1u << left) - 1);
    __m512i idx = sqLoadIndices16<IdxT>(w.col, b, k);
    __m512i xv = _mm512_mask_i32gather_epi32(zero, k, idx, x, 4);
    xv = _mm512_xor_si512(xv, flip);
    __m512i sv = _mm512_maskz_loadu_epi32(k, w.values + 4 * b);
    __m512i d = _mm512_dpbusd_epi32(zero, xv, sv);
    d = _mm512_add_epi32(d, _mm512_alignr_epi32(d, zero, 15));
    d = _mm512_add_epi32(d, _mm512_alignr_epi32(d, zero, 14));
    d = _mm512_add_epi32(d, _mm512_alignr_epi32(d, zero, 12));
    d = _mm512_add_epi32(d, _mm512_alignr_epi32(d, zero, 8));
    d = _mm512_add_epi32(d, carry);
    _mm512_storeu_si512(work + 1 + (b - b0), d);
    carry = _mm512_permutexvar_epi32(last, d);
  }
  for (int64_t j = 0; j < nc; ++j)
    raw[j] = static_cast<int32_t>(
        static_cast<uint32_t>(work[w.rowPtr[n0 + j + 1] - b0]) -
        static_cast<uint32_t>(work[w.rowPtr[n0 + j] - b0]));
}

/// AVX2 panels hold i16: 64 values (128 bytes) per group.
template <typename IdxT>
SPARQ_SQAVX2 void sqPanelAvx2(const SparseMatrixI8 &w, const uint8_t *panel,
                              int64_t n0, int64_t nc, int32_t *colTile) {
  const int16_t *p16 = reinterpret_cast<const int16_t *>(panel);
  for (int64_t j = 0; j < nc; ++j) {
    const int64_t n = n0 + j;
    __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(),
                      _mm256_setzero_si256(), _mm256_setzero_si256()};
    for (int64_t b = w.rowPtr[n]; b < w.rowPtr[n + 1]; ++b) {
      const int8_t *s = w.values + 4 * b;
      // (s0, s1, s2, s3) as i16, repeated for every row.
      const int64_t q =
          int64_t(uint16_t(s[0])) | int64_t(uint16_t(s[1])) << 16 |
          int64_t(uint16_t(s[2])) << 32 | int64_t(uint16_t(s[3])) << 48;
      const __m256i sv = _mm256_set1_epi64x(q);
      const int16_t *g = p16 + 64 * sqBlockCol<IdxT>(w.col, b);
      for (int r = 0; r < 4; ++r)
        acc[r] = _mm256_add_epi32(
            acc[r], _mm256_madd_epi16(
                        _mm256_load_si256(
                            reinterpret_cast<const __m256i *>(g + 16 * r)),
                        sv));
    }
    // acc[r]: rows 4r..4r+3, two partial sums each.
    for (int h = 0; h < 2; ++h) {
      __m256i s = _mm256_hadd_epi32(acc[2 * h], acc[2 * h + 1]);
      s = _mm256_permute4x64_epi64(s, 0xD8);
      _mm256_store_si256(
          reinterpret_cast<__m256i *>(colTile + j * kSqPanelRows + 8 * h), s);
    }
  }
}

template <typename IdxT>
SPARQ_SQAVX2 void sqRowAvx2(const SparseMatrixI8 &w, const uint8_t *x,
                            uint8_t xorMask, int64_t n0, int64_t nc,
                            int32_t *raw, int32_t *) {
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(xorMask));
  const int *xi = reinterpret_cast<const int *>(x);
  for (int64_t j = 0; j < nc; ++j) {
    const int64_t n = n0 + j;
    int64_t b = w.rowPtr[n];
    const int64_t e = w.rowPtr[n + 1];
    __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
    for (; b + 8 <= e; b += 8) {
      __m256i idx;
      if constexpr (sizeof(IdxT) == 2)
        idx = _mm256_cvtepu16_epi32(
            _mm_loadu_si128(reinterpret_cast<const __m128i *>(
                static_cast<const uint16_t *>(w.col) + b)));
      else
        idx = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(
            static_cast<const uint32_t *>(w.col) + b));
      __m256i xv = _mm256_xor_si256(_mm256_i32gather_epi32(xi, idx, 4), flip);
      __m256i sv = _mm256_loadu_si256(
          reinterpret_cast<const __m256i *>(w.values + 4 * b));
      acc0 = _mm256_add_epi32(
          acc0,
          _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm256_castsi256_si128(xv)),
                            _mm256_cvtepi8_epi16(_mm256_castsi256_si128(sv))));
      acc1 = _mm256_add_epi32(
          acc1, _mm256_madd_epi16(
                    _mm256_cvtepu8_epi16(_mm256_extracti128_si256(xv, 1)),
                    _mm256_cvtepi8_epi16(_mm256_extracti128_si256(sv, 1))));
    }
    __m256i s = _mm256_add_epi32(acc0, acc1);
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s),
                              _mm256_extracti128_si256(s, 1));
    h = _mm_hadd_epi32(h, h);
    h = _mm_hadd_epi32(h, h);
    int32_t acc = _mm_cvtsi128_si32(h);
    for (; b < e; ++b) {
      const uint8_t *xq = x + 4 * sqBlockCol<IdxT>(w.col, b);
      const int8_t *sq = w.values + 4 * b;
      for (int t = 0; t < 4; ++t)
        acc += int32_t(uint8_t(xq[t] ^ xorMask)) * int32_t(sq[t]);
    }
    raw[j] = acc;
  }
}

#endif // SPARQ_HAVE_SQ_X86

/// Four consecutive panels, panelBytes apart: tile[j * 64 + r] (the
/// sqPanel4Vnni layout; 64-byte aligned).
using SqPanel4Fn = void (*)(const SparseMatrixI8 &w, const uint8_t *panel,
                            int64_t panelBytes, int64_t n0, int64_t nc,
                            int32_t *tile);

/// The output-stage fields every row of a sparse int8 call shares (zero
/// weight zero points, activation zero point za); the callers set colAdj,
/// biasI32 and scale per chunk.
QOutRow sqOutRow(const QGemmArgs &g, int32_t za, const int32_t *zeros,
                 bool chanPerCol) {
  QOutRow row = qOutRowFor(g);
  row.aZero = za;
  row.bZero = zeros;
  row.chanPerCol = chanPerCol;
  return row;
}

/// The kernels of one ISA and index width.
struct SqKernels {
  SqRowFn row;
  SqPanelFn panel;
  SqTransposeFn transpose;
  SqPanel4Fn panel4; ///< null: four calls of panel
  bool panelI16;     ///< AVX2 panels are widened to i16
};

template <typename IdxT> SqKernels sqKernelsFor(QIsa isa) {
#ifdef SPARQ_HAVE_SQ_X86
  if (isa == QIsa::Avx512Vnni)
    return {sqRowVnni<IdxT>, sqPanelVnni<IdxT>, sqTransposeVnni,
            sqPanel4Vnni<IdxT>, false};
  if (isa == QIsa::Avx2)
    return {sqRowAvx2<IdxT>, sqPanelAvx2<IdxT>, sqTransposeGeneric, nullptr,
            true};
#endif
  return {sqRowGeneric<IdxT>, sqPanelGeneric<IdxT>, sqTransposeGeneric, nullptr,
          false};
}

/// Packs rows [p * 16, p * 16 + 16) of A (canonical u8; i16 when wide) as
/// one panel: group g holds 16 rows x 4 bytes (values); rows past M are 0.
void sqPackPanel(const uint8_t *A, int64_t M, int64_t K, uint8_t xorMask,
                 int64_t p, bool wide, uint8_t *dst) {
  const int64_t groups = K / 4;
  const int64_t es = wide ? 2 : 1;
  std::memset(dst, 0, static_cast<size_t>(groups * 64 * es));
  for (int64_t i = 0; i < kSqPanelRows; ++i) {
    const int64_t m = p * kSqPanelRows + i;
    if (m >= M)
      break;
    const uint8_t *row = A + m * K;
    if (wide) {
      int16_t *d = reinterpret_cast<int16_t *>(dst);
      for (int64_t g = 0; g < groups; ++g)
        for (int t = 0; t < 4; ++t)
          d[g * 64 + i * 4 + t] = uint8_t(row[4 * g + t] ^ xorMask);
    } else {
      for (int64_t g = 0; g < groups; ++g)
        for (int t = 0; t < 4; ++t)
          dst[g * 64 + i * 4 + t] = uint8_t(row[4 * g + t] ^ xorMask);
    }
  }
}

} // namespace

extern "C" SPARQ_API void
sparq_uk_sparse_qmatmul_i8(void *ctx, const void *w, const void *A, void *C,
                           int64_t M, int64_t aType, const void *aZero,
                           int64_t outKind, const int32_t *biasI32,
                           const float *scale, int64_t scalePerCol,
                           const float *biasF32, int64_t outZero, int64_t qmin,
                           int64_t qmax, int64_t act, float actA, float actB) {
  if (!w || !A || !C || M <= 0 || outKind < SPARQ_QOUT_I32 ||
      outKind > SPARQ_QOUT_S8 || (outKind != SPARQ_QOUT_I32 && !scale))
    return;
  Context &context = contextFromHandle(ctx);
  const SparseMatrixI8 *wp = sqLookup(context, w);
  if (!wp)
    return;
  const SparseMatrixI8 &wm = *wp;
  const int64_t N = wm.rows, K = wm.cols;
  const uint8_t mask = aType == SPARQ_QTYPE_S8 ? 0x80 : 0;
  const int32_t za = qLoadZeroPoint(aZero, aType, 0) + (mask ? 128 : 0);
  const QEpilogueTables tables(N, outKind, biasI32, scale, scalePerCol != 0,
                               biasF32, outZero, qmin, qmax, act, actA, actB);
  QGemmArgs g;
  g.chanPerCol = true;
  tables.apply(g);

  const QIsa isa = activeQIsa();
  const QKernelSet &ks = *qkernelSet(isa);
  const SqKernels kern = wm.indexBytes == 2 ? sqKernelsFor<uint16_t>(isa)
                                            : sqKernelsFor<uint32_t>(isa);
  const bool usePanels =
      isa == QIsa::Generic ||
      M > (isa == QIsa::Avx2 ? kSqRowPathMaxMAvx2 : kSqRowPathMaxMVnni);
  const uint8_t *a8 = static_cast<const uint8_t *>(A);

  // Panels of A, packed once into the caller's scratch.
  const int64_t panels = qDivCeil(M, kSqPanelRows);
  const int64_t panelBytes = (K / 4) * 64 * (kern.panelI16 ? 2 : 1);
  uint8_t *packed = nullptr;
  if (usePanels) {
    float *scratch =
        context.scratch(ScratchSlot::QuantA, qDivCeil(panels * panelBytes, 4));
    if (!scratch)
      return;
    packed = reinterpret_cast<uint8_t *>(scratch);
    context.threads().parallelFor(
        panels, std::max<int64_t>(1, panels / (2 * context.numThreads())),
        [&](int64_t b, int64_t e) {
          for (int64_t p = b; p < e; ++p)
            sqPackPanel(a8, M, K, mask, p, kern.panelI16,
                        packed + p * panelBytes);
        });
  }

  const int64_t rowUnits = usePanels ? panels : M;
  const int64_t chunks = qDivCeil(N, kSqChunk);
  const int64_t units = rowUnits * chunks;
  const int threads = context.numThreads();
  const double macs = double(M) * double(wm.blocks) * 4;
  const int64_t grain = sparseGrain(units, threads, macs);
  const int64_t es = qOutElementSize(static_cast<int>(outKind));
  char *c8 = static_cast<char *>(C);
  static const int32_t zeros[kSqChunk] = {};

  // The row path's per-task work: the most blocks of one column chunk.
  int64_t chunkBlocks = 0;
  if (!usePanels)
    for (int64_t c = 0; c < chunks; ++c)
      chunkBlocks = std::max<int64_t>(
          chunkBlocks, int64_t(wm.rowPtr[std::min(N, (c + 1) * kSqChunk)]) -
                           int64_t(wm.rowPtr[c * kSqChunk]));

  context.threads().parallelFor(units, grain, [&](int64_t begin, int64_t end) {
    alignas(64) int32_t tile[kSqPanelRows * kSqChunk];
    alignas(64) int32_t colTile[kSqChunk * kSqPanelRows];
    int32_t *work = nullptr;
    if (!usePanels) {
      work = reinterpret_cast<int32_t *>(context.scratch(
          ScratchSlot::QuantB, static_cast<size_t>(chunkBlocks + 32)));
      if (!work)
        return;
    }
    QOutRow row = sqOutRow(g, za, zeros, /*chanPerCol=*/true);
    for (int64_t t = begin; t < end; ++t) {
      const int64_t chunk = t / rowUnits, unit = t % rowUnits;
      const int64_t n0 = chunk * kSqChunk;
      const int64_t nc = std::min(kSqChunk, N - n0);
      row.colAdj = wm.rowSums + n0;
      row.biasI32 = g.biasI32 + n0;
      row.scale = g.scale ? g.scale + n0 : nullptr;
      int64_t m0 = unit, rows = 1;
      if (usePanels) {
        kern.panel(wm, packed + unit * panelBytes, n0, nc, colTile);
        kern.transpose(colTile, nc, tile);
        m0 = unit * kSqPanelRows;
        rows = std::min(kSqPanelRows, M - m0);
      } else {
        kern.row(wm, a8 + unit * K, mask, n0, nc, tile, work);
      }
      for (int64_t r = 0; r < rows; ++r) {
        char *dst = c8 + ((m0 + r) * N + n0) * es;
        ks.outputRow(tile + r * kSqChunk, nc, row, dst);
        if (g.outKind == SPARQ_QOUT_F32)
          qApplyF32Epilogue(g, reinterpret_cast<float *>(dst), m0 + r, n0, nc);
      }
    }
  });
}

namespace {

/// Packs output pixels [p * 16, p * 16 + 16) of one image of a 1x1
/// convolution as one panel (the sqPackPanel layout with pixels as rows):
/// byte (g, i, t) = x[4g + t][pixel p * 16 + i] canonicalized; pixels past
/// P are 0.
void sqPackConvPanel(const uint8_t *x, int64_t C, int64_t H, int64_t Wd,
                     int64_t OW, int64_t P, int64_t strideH, int64_t strideW,
                     uint8_t xorMask, int64_t p, bool wide, uint8_t *dst) {
  const int64_t groups = C / 4;
  const int64_t es = wide ? 2 : 1;
  int64_t offset[kSqPanelRows];
  int64_t live = 0;
  for (int64_t i = 0; i < kSqPanelRows; ++i) {
    const int64_t q = p * kSqPanelRows + i;
    if (q >= P)
      break;
    offset[i] = (q / OW) * strideH * Wd + (q % OW) * strideW;
    ++live;
  }
  std::memset(dst, 0, static_cast<size_t>(groups * 64 * es));
  const int64_t plane = H * Wd;
#ifdef SPARQ_HAVE_SQ_X86
  // Full panels of 16 consecutive input pixels (stride 1 along a row):
  // four 16-byte channel rows interleaved into quads.
  if (!wide && live == kSqPanelRows && offset[15] - offset[0] == 15) {
    const __m128i flip = _mm_set1_epi8(static_cast<char>(xorMask));
    const uint8_t *base = x + offset[0];
    for (int64_t g = 0; g < groups; ++g) {
      __m128i r[4];
      for (int t = 0; t < 4; ++t)
        r[t] = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i *>(
                                 base + (4 * g + t) * plane)),
                             flip);
      qInterleave4x16Sse2(r[0], r[1], r[2], r[3], dst + g * 64);
    }
    return;
  }
#endif
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t i = 0; i < live; ++i)
      for (int t = 0; t < 4; ++t) {
        const uint8_t v = x[(4 * g + t) * plane + offset[i]] ^ xorMask;
        if (wide)
          reinterpret_cast<int16_t *>(dst)[g * 64 + i * 4 + t] = v;
        else
          dst[g * 64 + i * 4 + t] = v;
      }
}

} // namespace

extern "C" SPARQ_API void sparq_uk_sparse_qconv2d_i8(
    void *ctx, const void *w, const void *X, void *Y, int64_t N, int64_t C,
    int64_t H, int64_t Wd, int64_t OH, int64_t OW, int64_t strideH,
    int64_t strideW, int64_t xType, const void *xZero, int64_t outKind,
    const int32_t *biasI32, const float *scale, int64_t scalePerChannel,
    const float *biasF32, int64_t outZero, int64_t qmin, int64_t qmax,
    int64_t act, float actA, float actB) {
  if (!w || !X || !Y || N <= 0 || C <= 0 || H <= 0 || Wd <= 0 || OH <= 0 ||
      OW <= 0 || strideH <= 0 || strideW <= 0 || (OH - 1) * strideH >= H ||
      (OW - 1) * strideW >= Wd || outKind < SPARQ_QOUT_I32 ||
      outKind > SPARQ_QOUT_S8 || (outKind != SPARQ_QOUT_I32 && !scale))
    return;
  Context &context = contextFromHandle(ctx);
  const SparseMatrixI8 *wp = sqLookup(context, w);
  if (!wp || wp->cols != C)
    return;
  const SparseMatrixI8 &wm = *wp;
  const int64_t K = wm.rows, P = OH * OW;
  const uint8_t mask = xType == SPARQ_QTYPE_S8 ? 0x80 : 0;
  const int32_t za = qLoadZeroPoint(xZero, xType, 0) + (mask ? 128 : 0);
  const QEpilogueTables tables(K, outKind, biasI32, scale, scalePerChannel != 0,
                               biasF32, outZero, qmin, qmax, act, actA, actB);
  QGemmArgs g;
  g.chanPerCol = false; // the output channel is the row of Y's planes
  tables.apply(g);

  const QIsa isa = activeQIsa();
  const QKernelSet &ks = *qkernelSet(isa);
  const SqKernels kern = wm.indexBytes == 2 ? sqKernelsFor<uint16_t>(isa)
                                            : sqKernelsFor<uint32_t>(isa);
  // Super-panels of four panels (64 pixels): one output-stage call per
  // output channel and 64 pixels; the panels past P are packed as zeros.
  constexpr int64_t kSub = 4, kPix = kSub * kSqPanelRows;
  const int64_t supers = qDivCeil(P, kPix), panels = supers * kSub;
  const int64_t panelBytes = (C / 4) * 64 * (kern.panelI16 ? 2 : 1);
  float *scratch =
      context.scratch(ScratchSlot::QuantA, qDivCeil(panels * panelBytes, 4));
  if (!scratch)
    return;
  uint8_t *packed = reinterpret_cast<uint8_t *>(scratch);
  const int64_t chunks = qDivCeil(K, kSqChunk);
  const int64_t units = supers * chunks;
  const int threads = context.numThreads();
  const double macs = double(P) * double(wm.blocks) * 4;
  const int64_t grain = sparseGrain(units, threads, macs);
  const int64_t es = qOutElementSize(static_cast<int>(outKind));
  static const int32_t zeros[kPix] = {};
  const uint8_t *x8 = static_cast<const uint8_t *>(X);

  for (int64_t n = 0; n < N; ++n) {
    const uint8_t *xn = x8 + n * C * H * Wd;
    context.threads().parallelFor(
        panels, std::max<int64_t>(1, panels / (2 * threads)),
        [&](int64_t b, int64_t e) {
          for (int64_t p = b; p < e; ++p)
            sqPackConvPanel(xn, C, H, Wd, OW, P, strideH, strideW, mask, p,
                            kern.panelI16, packed + p * panelBytes);
        });
    char *yn = static_cast<char *>(Y) + n * K * P * es;
    context.threads().parallelFor(
        units, grain, [&](int64_t begin, int64_t end) {
          alignas(64) int32_t tile[kSqChunk * kPix];
          alignas(64) int32_t colTile[kSqChunk * kSqPanelRows];
          int32_t colAdj[kPix];
          QOutRow row = sqOutRow(g, za, zeros, /*chanPerCol=*/false);
          row.colAdj = colAdj;
          for (int64_t t = begin; t < end; ++t) {
            const int64_t chunk = t / supers, sp = t % supers;
            const int64_t k0 = chunk * kSqChunk;
            const int64_t kc = std::min(kSqChunk, K - k0);
            const int64_t p0 = sp * kPix;
            const int64_t np = std::min(kPix, P - p0);
            const uint8_t *panel = packed + sp * kSub * panelBytes;
            if (kern.panel4) {
              kern.panel4(wm, panel, panelBytes, k0, kc, tile);
            } else {
              for (int64_t s = 0; s < kSub; ++s) {
                kern.panel(wm, panel + s * panelBytes, k0, kc, colTile);
                for (int64_t j = 0; j < kc; ++j)
                  std::memcpy(tile + j * kPix + s * kSqPanelRows,
                              colTile + j * kSqPanelRows, 4 * kSqPanelRows);
              }
            }
            for (int64_t j = 0; j < kc; ++j) {
              const int64_t k = k0 + j;
              std::fill(colAdj, colAdj + np, wm.rowSums[k]);
              row.biasI32 = g.biasI32 + k;
              row.scale = g.scale ? g.scale + k : nullptr;
              char *dst = yn + (k * P + p0) * es;
              ks.outputRow(tile + j * kPix, np, row, dst);
              if (g.outKind == SPARQ_QOUT_F32)
                qApplyF32Epilogue(g, reinterpret_cast<float *>(dst), k, p0, np);
            }
          }
        });
  }
}
