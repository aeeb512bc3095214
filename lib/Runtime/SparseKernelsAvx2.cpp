//===- SparseKernelsAvx2.cpp - AVX2+FMA sparse tile and vector kernels ----===//
//
// The fast path of SparseKernels.h. Tile kernels keep a block of output rows
// times a tile of activations in ymm accumulators: for every stored weight
// (or R x C block) they load the activation vectors of its column once and
// issue one broadcast-FMA per weight row, so blocks reuse each loaded
// activation vector R times. Kernels with few accumulator rows rotate
// through several accumulator sets to cover the FMA latency. N:M tiles
// decode four 4-bit positions at a time in general registers, without
// branches. Batch-1 kernels gather the activation at the stored indices
// (CSR, N:M) or broadcast one activation per R x 1 block. The row kernel for
// N:M with groups of 4 or 8 is vectorized over output rows instead: one
// permute selects each row's activation inside the group.
//
//===----------------------------------------------------------------------===//

#include "SparseKernels.h"
#include "SparsePack.h"

#include "sparq/Runtime/sparq_sparse_format.h"

#include <cstring>
#include <type_traits>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SPARQ_SPARSE_HAVE_AVX2 1
#include <immintrin.h>
#endif

#include "ActivationsAvx2.h"
#include "Kernels.h"

using namespace sparq::rt;

#ifdef SPARQ_SPARSE_HAVE_AVX2

#define SPARQ_SPARSE_AVX2 __attribute__((target("avx2,fma")))
#define SPARQ_SPARSE_AVX2_INLINE                                               \
  __attribute__((target("avx2,fma"), always_inline)) inline

namespace {

//===----------------------------------------------------------------------===//
// Fused store epilogue
//===----------------------------------------------------------------------===//

/// The epilogue of 8 consecutive output features of one activation row, in
/// the order of epilogueRowAvx2 (whose row bias is 0 here): v + 0, then
/// + bias (when hasBias), then + residual (when not null), then activation
/// `act` (a constant where the caller can make it one, so that the
/// activation's switch folds away).
SPARQ_SPARSE_AVX2_INLINE __m256 sparseEpilogue8(__m256 v, bool hasBias,
                                                __m256 bias,
                                                const float *residual, int act,
                                                float actA, float actB) {
  v = _mm256_add_ps(v, _mm256_setzero_ps());
  if (hasBias)
    v = _mm256_add_ps(v, bias);
  if (residual)
    v = _mm256_add_ps(v, _mm256_loadu_ps(residual));
  return activateAvx2(v, act, actA, actB);
}

//===----------------------------------------------------------------------===//
// Tile kernels
//===----------------------------------------------------------------------===//

/// acc[r] += v[r * C + c] * xk[c * 8V ..] over the C columns of one stored
/// block (its RB rows of values v).
template <int RB, int V>
SPARQ_SPARSE_AVX2_INLINE void sparseAddBlockAvx2(__m256 (&acc)[RB][V],
                                                 const float *xk,
                                                 const float *v, int64_t C) {
  for (int64_t c = 0; c < C; ++c) {
    __m256 x[V];
#pragma GCC unroll 4
    for (int i = 0; i < V; ++i)
      x[i] = _mm256_loadu_ps(xk + c * 8 * V + 8 * i);
#pragma GCC unroll 8
    for (int r = 0; r < RB; ++r) {
      const __m256 wv = _mm256_broadcast_ss(v + r * C + c);
#pragma GCC unroll 4
      for (int i = 0; i < V; ++i)
        acc[r][i] = _mm256_fmadd_ps(wv, x[i], acc[r][i]);
    }
  }
}

/// CSR (R = C = 1) and R x C blocks. RB weight rows of a block are
/// accumulated together (RB divides R), V = T / 8 vectors per row, SETS
/// accumulator sets rotated over consecutive blocks. CF is C when fixed at
/// compile time, 0 for a run-time C. src(b) is where the activations of
/// stored block b start; column c of the block reads src(b) + c * T.
template <int RB, int V, int SETS, int CF, typename Src>
SPARQ_SPARSE_AVX2_INLINE void
sparseBlockTileCoreAvx2(const SparseMatrix &w, Src src, int64_t row0,
                        int64_t rows, const SparseKRange &range, float *out,
                        int64_t ldo, bool accumulate) {
  const int64_t R = w.blockRows, C = CF ? CF : w.blockCols;
  const int64_t blockSize = R * C;
  for (int64_t br = row0 / R; br < (row0 + rows) / R; ++br) {
    int64_t b0, b1;
    sparseBlockBounds(w, range, br, b0, b1);
    for (int64_t sub = 0; sub < R; sub += RB) {
      __m256 acc[SETS][RB][V];
#pragma GCC unroll 8
      for (int s = 0; s < SETS; ++s)
#pragma GCC unroll 8
        for (int r = 0; r < RB; ++r)
#pragma GCC unroll 4
          for (int i = 0; i < V; ++i)
            acc[s][r][i] =
                s == 0 && accumulate
                    ? _mm256_loadu_ps(out + (br * R + sub + r - row0) * ldo +
                                      8 * i)
                    : _mm256_setzero_ps();
      const float *vals = w.values + b0 * blockSize + sub * C;
      int64_t b = b0;
      for (; b + SETS <= b1; b += SETS) {
#pragma GCC unroll 8
        for (int s = 0; s < SETS; ++s)
          sparseAddBlockAvx2<RB, V>(acc[s], src(b + s),
                                    vals + (b - b0 + s) * blockSize, C);
      }
      for (; b < b1; ++b)
        sparseAddBlockAvx2<RB, V>(acc[0], src(b), vals + (b - b0) * blockSize,
                                  C);
#pragma GCC unroll 8
      for (int s = 1; s < SETS; ++s)
#pragma GCC unroll 8
        for (int r = 0; r < RB; ++r)
#pragma GCC unroll 4
          for (int i = 0; i < V; ++i)
            acc[0][r][i] = _mm256_add_ps(acc[0][r][i], acc[s][r][i]);
#pragma GCC unroll 8
      for (int r = 0; r < RB; ++r) {
        float *o = out + (br * R + sub + r - row0) * ldo;
#pragma GCC unroll 4
        for (int i = 0; i < V; ++i)
          _mm256_storeu_ps(o + 8 * i, acc[0][r][i]);
      }
    }
  }
}

/// Tile kernel (SparseTileFn) over a K-major activation tile.
template <int RB, int V, int SETS, int CF, typename IndexT>
SPARQ_SPARSE_AVX2 void
sparseBlockTileAvx2(const SparseMatrix &w, const float *xt, int64_t row0,
                    int64_t rows, const SparseKRange &range, float *out,
                    int64_t ldo, bool accumulate) {
  const IndexT *col = static_cast<const IndexT *>(w.col);
  const int64_t step = (CF ? CF : w.blockCols) * 8 * V;
  sparseBlockTileCoreAvx2<RB, V, SETS, CF>(
      w, [&](int64_t b) { return xt + int64_t(col[b]) * step; }, row0, rows,
      range, out, ldo, accumulate);
}

/// Adds the products of one N:M slot: acc += value * xt[k].
template <int V>
SPARQ_SPARSE_AVX2_INLINE void sparseSlotFma(__m256 (&acc)[V], const float *xt,
                                            int64_t k, const float *value) {
  const __m256 wv = _mm256_broadcast_ss(value);
  const float *xk = xt + k * (8 * V);
#pragma GCC unroll 4
  for (int i = 0; i < V; ++i)
    acc[i] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(xk + 8 * i), acc[i]);
}

/// N:M with N = NT in {2, 4}: four slots per step, their positions read as
/// one 16-bit word (every row starts on a byte since N is even).
template <int NT, int V>
SPARQ_SPARSE_AVX2 void
sparseNmTileAvx2(const SparseMatrix &w, const float *xt, int64_t row0,
                 int64_t rows, const SparseKRange &range, float *out,
                 int64_t ldo, bool accumulate) {
  static_assert(NT == 2 || NT == 4, "four slots must cover whole groups");
  const int64_t M = w.m, groups = w.cols / M;
  const int64_t g0 = range.k0 / M, g1 = range.k1 ? range.k1 / M : groups;
  const int64_t slots = (g1 - g0) * NT;
  const uint8_t *nib = static_cast<const uint8_t *>(w.col);
  // Slots 2 and 3 of a step lie in the next group when N == 2.
  const int64_t off2 = NT == 2 ? M : 0;
  for (int64_t r = row0; r < row0 + rows; ++r) {
    const int64_t e0 = (r * groups + g0) * NT;
    const uint8_t *pos = nib + e0 / 2;
    const float *v = w.values + e0;
    float *o = out + (r - row0) * ldo;
    __m256 acc[4][V];
#pragma GCC unroll 4
    for (int s = 0; s < 4; ++s)
#pragma GCC unroll 4
      for (int i = 0; i < V; ++i)
        acc[s][i] = s == 0 && accumulate ? _mm256_loadu_ps(o + 8 * i)
                                         : _mm256_setzero_ps();
    int64_t e = 0, gbase = g0 * M;
    for (; e + 4 <= slots; e += 4, gbase += (4 / NT) * M) {
      uint16_t word;
      std::memcpy(&word, pos + e / 2, 2);
      const int64_t k0 = gbase + (word & 15);
      const int64_t k1 = gbase + ((word >> 4) & 15);
      const int64_t k2 = gbase + off2 + ((word >> 8) & 15);
      const int64_t k3 = gbase + off2 + (word >> 12);
      sparseSlotFma<V>(acc[0], xt, k0, v + e);
      sparseSlotFma<V>(acc[1], xt, k1, v + e + 1);
      sparseSlotFma<V>(acc[2], xt, k2, v + e + 2);
      sparseSlotFma<V>(acc[3], xt, k3, v + e + 3);
    }
    if (e < slots) { // one 2-slot group left (NT == 2, odd group count)
      const uint8_t b = pos[e / 2];
      sparseSlotFma<V>(acc[0], xt, gbase + (b & 15), v + e);
      sparseSlotFma<V>(acc[1], xt, gbase + (b >> 4), v + e + 1);
    }
#pragma GCC unroll 4
    for (int i = 0; i < V; ++i)
      _mm256_storeu_ps(o + 8 * i,
                       _mm256_add_ps(_mm256_add_ps(acc[0][i], acc[1][i]),
                                     _mm256_add_ps(acc[2][i], acc[3][i])));
  }
}

/// N:M with any N: one slot at a time, group base advanced by a counter.
template <int V>
SPARQ_SPARSE_AVX2 void
sparseNmAnyTileAvx2(const SparseMatrix &w, const float *xt, int64_t row0,
                    int64_t rows, const SparseKRange &range, float *out,
                    int64_t ldo, bool accumulate) {
  const int64_t N = w.n, M = w.m, groups = w.cols / M;
  const int64_t g0 = range.k0 / M, g1 = range.k1 ? range.k1 / M : groups;
  const uint8_t *nib = static_cast<const uint8_t *>(w.col);
  for (int64_t r = row0; r < row0 + rows; ++r) {
    float *o = out + (r - row0) * ldo;
    __m256 acc[2][V];
#pragma GCC unroll 4
    for (int i = 0; i < V; ++i) {
      acc[0][i] = accumulate ? _mm256_loadu_ps(o + 8 * i) : _mm256_setzero_ps();
      acc[1][i] = _mm256_setzero_ps();
    }
    int64_t e = (r * groups + g0) * N, gbase = g0 * M, slot = 0;
    const int64_t end = e + (g1 - g0) * N;
    for (; e < end; ++e) {
      const int64_t k = gbase + ((nib[e >> 1] >> ((e & 1) * 4)) & 15);
      sparseSlotFma<V>(acc[e & 1], xt, k, w.values + e);
      if (++slot == N) {
        slot = 0;
        gbase += M;
      }
    }
#pragma GCC unroll 4
    for (int i = 0; i < V; ++i)
      _mm256_storeu_ps(o + 8 * i, _mm256_add_ps(acc[0][i], acc[1][i]));
  }
}

template <int RB, int V, int SETS>
SparseTileFn sparseBlockTileFor(const SparseMatrix &w) {
  const bool c1 = w.blockCols == 1;
  if (w.indexBytes == 2)
    return c1 ? sparseBlockTileAvx2<RB, V, SETS, 1, uint16_t>
              : sparseBlockTileAvx2<RB, V, SETS, 0, uint16_t>;
  return c1 ? sparseBlockTileAvx2<RB, V, SETS, 1, uint32_t>
            : sparseBlockTileAvx2<RB, V, SETS, 0, uint32_t>;
}

/// Direct convolution tile (SparseDirectTileFn): CSR or R x 1 blocks read
/// their T input elements at x + off[b].
template <int RB, int V, int SETS>
SPARQ_SPARSE_AVX2 void
sparseDirectTileAvx2(const SparseMatrix &w, const int32_t *off, const float *x,
                     int64_t row0, int64_t rows, const SparseKRange &range,
                     float *out, int64_t ldo, bool accumulate) {
  sparseBlockTileCoreAvx2<RB, V, SETS, 1>(
      w, [&](int64_t b) { return x + off[b]; }, row0, rows, range, out, ldo,
      accumulate);
}

SparseDirectTileFn sparseSelectDirectAvx2(const SparseMatrix &w, int64_t T) {
  if (w.format == SPARQ_SPARSE_NM || w.blockCols != 1 || T > 32)
    return nullptr;
  // At most 8 accumulators: RB x V x SETS == 8.
  const int64_t R = w.blockRows;
  if (T <= 8)
    return R % 8 == 0   ? sparseDirectTileAvx2<8, 1, 1>
           : R % 4 == 0 ? sparseDirectTileAvx2<4, 1, 2>
           : R % 2 == 0 ? sparseDirectTileAvx2<2, 1, 4>
                        : sparseDirectTileAvx2<1, 1, 8>;
  if (T <= 16)
    return R % 4 == 0   ? sparseDirectTileAvx2<4, 2, 1>
           : R % 2 == 0 ? sparseDirectTileAvx2<2, 2, 2>
                        : sparseDirectTileAvx2<1, 2, 4>;
  return R % 2 == 0 ? sparseDirectTileAvx2<2, 4, 1>
                    : sparseDirectTileAvx2<1, 4, 2>;
}

/// Register blocking per block height: 8 accumulators in all.
int64_t sparseMaxTileAvx2(const SparseMatrix &w) {
  if (w.format == SPARQ_SPARSE_NM)
    return 16;
  if (w.blockRows % 8 == 0)
    return 8;
  if (w.blockRows % 4 == 0)
    return 16;
  return 32;
}

SparseTileFn sparseSelectTileAvx2(const SparseMatrix &w, int64_t T) {
  if (w.format == SPARQ_SPARSE_NM) {
    if (w.n == 2)
      return T <= 8 ? sparseNmTileAvx2<2, 1> : sparseNmTileAvx2<2, 2>;
    if (w.n == 4)
      return T <= 8 ? sparseNmTileAvx2<4, 1> : sparseNmTileAvx2<4, 2>;
    return T <= 8 ? sparseNmAnyTileAvx2<1> : sparseNmAnyTileAvx2<2>;
  }
  const int64_t R = w.blockRows;
  if (R % 8 == 0)
    return sparseBlockTileFor<8, 1, 1>(w);
  if (R % 4 == 0)
    return T <= 8 ? sparseBlockTileFor<4, 1, 2>(w)
                  : sparseBlockTileFor<4, 2, 1>(w);
  if (R % 2 == 0)
    return T <= 8    ? sparseBlockTileFor<2, 1, 4>(w)
           : T <= 16 ? sparseBlockTileFor<2, 2, 2>(w)
                     : sparseBlockTileFor<2, 4, 1>(w);
  return T <= 8    ? sparseBlockTileFor<1, 1, 8>(w)
         : T <= 16 ? sparseBlockTileFor<1, 2, 4>(w)
                   : sparseBlockTileFor<1, 4, 2>(w);
}

//===----------------------------------------------------------------------===//
// Vector (batch-1) kernels
//===----------------------------------------------------------------------===//

SPARQ_SPARSE_AVX2_INLINE float sparseHsumAvx2(__m256 v) {
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}

template <typename IndexT>
SPARQ_SPARSE_AVX2_INLINE __m256i sparseLoadIndices8(const IndexT *p) {
  if (sizeof(IndexT) == 2)
    return _mm256_cvtepu16_epi32(
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
  return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
}

/// Unstructured rows (CSR, or 1x1 blocks): gather-dot of each row.
template <typename IndexT>
SPARQ_SPARSE_AVX2 void sparseCsrVecAvx2(const SparseMatrix &w, const float *x,
                                        int64_t row0, int64_t rows, float *y) {
  const IndexT *col = static_cast<const IndexT *>(w.col);
  const float *vals = w.values;
  for (int64_t r = row0; r < row0 + rows; ++r) {
    int64_t b = w.rowPtr[r];
    const int64_t end = w.rowPtr[r + 1];
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (; b + 16 <= end; b += 16) {
      __m256 x0 = _mm256_i32gather_ps(x, sparseLoadIndices8(col + b), 4);
      __m256 x1 = _mm256_i32gather_ps(x, sparseLoadIndices8(col + b + 8), 4);
      acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(vals + b), x0, acc0);
      acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(vals + b + 8), x1, acc1);
    }
    if (b + 8 <= end) {
      __m256 x0 = _mm256_i32gather_ps(x, sparseLoadIndices8(col + b), 4);
      acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(vals + b), x0, acc0);
      b += 8;
    }
    float sum = sparseHsumAvx2(_mm256_add_ps(acc0, acc1));
    for (; b < end; ++b)
      sum += vals[b] * x[col[b]];
    y[r - row0] = sum;
  }
}

/// R x 1 blocks with R = 4, 8 or 16: each block is a column segment, so
/// it adds its R values times one broadcast activation.
template <int R, typename IndexT>
SPARQ_SPARSE_AVX2 void sparseColumnBlockVecAvx2(const SparseMatrix &w,
                                                const float *x, int64_t row0,
                                                int64_t rows, float *y) {
  const IndexT *col = static_cast<const IndexT *>(w.col);
  for (int64_t br = row0 / R; br < (row0 + rows) / R; ++br) {
    int64_t b = w.rowPtr[br];
    const int64_t end = w.rowPtr[br + 1];
    const float *v = w.values + b * R;
    float *o = y + br * R - row0;
    if (R == 4) {
      // Two blocks per ymm: low half block b, high half block b + 1.
      __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
      for (; b + 4 <= end; b += 4, v += 16) {
        __m256 xa = _mm256_insertf128_ps(
            _mm256_castps128_ps256(_mm_broadcast_ss(x + col[b])),
            _mm_broadcast_ss(x + col[b + 1]), 1);
        __m256 xb = _mm256_insertf128_ps(
            _mm256_castps128_ps256(_mm_broadcast_ss(x + col[b + 2])),
            _mm_broadcast_ss(x + col[b + 3]), 1);
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(v), xa, acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(v + 8), xb, acc1);
      }
      __m256 acc = _mm256_add_ps(acc0, acc1);
      __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc),
                            _mm256_extractf128_ps(acc, 1));
      for (; b < end; ++b, v += 4)
        s = _mm_fmadd_ps(_mm_loadu_ps(v), _mm_broadcast_ss(x + col[b]), s);
      _mm_storeu_ps(o, s);
      continue;
    }
    constexpr int V = R / 8;
    constexpr int SETS = V == 1 ? 4 : 2;
    __m256 acc[SETS][V];
#pragma GCC unroll 4
    for (int s = 0; s < SETS; ++s)
#pragma GCC unroll 2
      for (int i = 0; i < V; ++i)
        acc[s][i] = _mm256_setzero_ps();
    for (; b + SETS <= end; b += SETS, v += SETS * R) {
#pragma GCC unroll 4
      for (int s = 0; s < SETS; ++s) {
        const __m256 xv = _mm256_broadcast_ss(x + col[b + s]);
#pragma GCC unroll 2
        for (int i = 0; i < V; ++i)
          acc[s][i] =
              _mm256_fmadd_ps(_mm256_loadu_ps(v + s * R + 8 * i), xv, acc[s][i]);
      }
    }
    for (; b < end; ++b, v += R) {
      const __m256 xv = _mm256_broadcast_ss(x + col[b]);
#pragma GCC unroll 2
      for (int i = 0; i < V; ++i)
        acc[0][i] = _mm256_fmadd_ps(_mm256_loadu_ps(v + 8 * i), xv, acc[0][i]);
    }
#pragma GCC unroll 2
    for (int i = 0; i < V; ++i) {
      __m256 s = acc[0][i];
#pragma GCC unroll 4
      for (int t = 1; t < SETS; ++t)
        s = _mm256_add_ps(s, acc[t][i]);
      _mm256_storeu_ps(o + 8 * i, s);
    }
  }
}

/// N:M with N in {1, 2, 4, 8} and rows of a multiple of 8 slots: eight slots
/// per step, their 4-bit positions expanded from one 32-bit word with a
/// variable shift, then one gather.
template <int NT>
SPARQ_SPARSE_AVX2 void sparseNmVecAvx2(const SparseMatrix &w, const float *x,
                                       int64_t row0, int64_t rows, float *y) {
  const int32_t M = static_cast<int32_t>(w.m);
  const int64_t slots = (w.cols / M) * NT;
  const uint8_t *nib = static_cast<const uint8_t *>(w.col);
  const __m256i shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
  const __m256i laneGroup = _mm256_setr_epi32(
      0 / NT * M, 1 / NT * M, 2 / NT * M, 3 / NT * M, 4 / NT * M, 5 / NT * M,
      6 / NT * M, 7 / NT * M);
  const __m256i fifteen = _mm256_set1_epi32(15);
  const __m256i step = _mm256_set1_epi32((8 / NT) * M);
  for (int64_t r = row0; r < row0 + rows; ++r) {
    const int64_t e0 = r * slots;
    const uint8_t *pos = nib + e0 / 2;
    const float *v = w.values + e0;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m256i base = laneGroup;
    int64_t e = 0;
    for (; e + 16 <= slots; e += 16) {
      uint32_t w0, w1;
      std::memcpy(&w0, pos + e / 2, 4);
      std::memcpy(&w1, pos + e / 2 + 4, 4);
      __m256i i0 = _mm256_add_epi32(
          base, _mm256_and_si256(
                    _mm256_srlv_epi32(_mm256_set1_epi32(int32_t(w0)), shifts),
                    fifteen));
      base = _mm256_add_epi32(base, step);
      __m256i i1 = _mm256_add_epi32(
          base, _mm256_and_si256(
                    _mm256_srlv_epi32(_mm256_set1_epi32(int32_t(w1)), shifts),
                    fifteen));
      base = _mm256_add_epi32(base, step);
      acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(v + e),
                             _mm256_i32gather_ps(x, i0, 4), acc0);
      acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(v + e + 8),
                             _mm256_i32gather_ps(x, i1, 4), acc1);
    }
    if (e < slots) { // slots % 8 == 0, so exactly one step of 8 is left
      uint32_t w0;
      std::memcpy(&w0, pos + e / 2, 4);
      __m256i i0 = _mm256_add_epi32(
          base, _mm256_and_si256(
                    _mm256_srlv_epi32(_mm256_set1_epi32(int32_t(w0)), shifts),
                    fifteen));
      acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(v + e),
                             _mm256_i32gather_ps(x, i0, 4), acc0);
    }
    y[r - row0] = sparseHsumAvx2(_mm256_add_ps(acc0, acc1));
  }
}

template <int R> SparseVecFn sparseColumnBlockVecFor(const SparseMatrix &w) {
  return w.indexBytes == 2 ? sparseColumnBlockVecAvx2<R, uint16_t>
                           : sparseColumnBlockVecAvx2<R, uint32_t>;
}

SparseVecFn sparseSelectVecAvx2(const SparseMatrix &w) {
  if (w.cols >= (int64_t(1) << 31)) // gathers take int32 indices
    return nullptr;
  if (w.format == SPARQ_SPARSE_NM) {
    if ((w.cols / w.m) * w.n % 8 != 0)
      return nullptr;
    switch (w.n) {
    case 1:
      return sparseNmVecAvx2<1>;
    case 2:
      return sparseNmVecAvx2<2>;
    case 4:
      return sparseNmVecAvx2<4>;
    case 8:
      return sparseNmVecAvx2<8>;
    default:
      return nullptr;
    }
  }
  if (w.blockCols != 1)
    return nullptr;
  switch (w.blockRows) {
  case 1:
    return w.indexBytes == 2 ? sparseCsrVecAvx2<uint16_t>
                             : sparseCsrVecAvx2<uint32_t>;
  case 4:
    return sparseColumnBlockVecFor<4>(w);
  case 8:
    return sparseColumnBlockVecFor<8>(w);
  case 16:
    return sparseColumnBlockVecFor<16>(w);
  default:
    return nullptr;
  }
}

//===----------------------------------------------------------------------===//
// Row-vectorized N:M kernel
//===----------------------------------------------------------------------===//

/// Activation of each lane's position within a group of GM = 4 or 8.
template <int GM>
SPARQ_SPARSE_AVX2_INLINE __m256 sparseSelectInGroup(const float *group,
                                                    __m256i ctrl) {
  if (GM == 4)
    return _mm256_permutevar_ps(
        _mm256_broadcast_ps(reinterpret_cast<const __m128 *>(group)), ctrl);
  return _mm256_permutevar8x32_ps(_mm256_loadu_ps(group), ctrl);
}

/// MM activation rows of one 8-row block. A group of GM = 4 activations is
/// broadcast to both 128-bit lanes and permuted per lane (vpermilps), a
/// group of GM = 8 is permuted across lanes (vpermps); each permute picks
/// slot s's activation for all 8 rows at once. NT is N when fixed, 0 for a
/// run-time N; SETS accumulator sets per row cover the FMA latency when
/// MM is small.
template <int GM, int NT, int MM>
SPARQ_SPARSE_AVX2 void sparseNmRowsAvx2(const float *panel, int64_t groups,
                                        int64_t n, const float *x,
                                        int64_t ldx, float *y, int64_t ldy,
                                        int64_t liveRows,
                                        const SparseStoreEpilogue *epi) {
  constexpr int SETS = MM >= 8 ? 1 : (MM >= 4 ? 2 : 4);
  const int64_t N = NT ? NT : n;
  __m256 acc[MM][SETS];
#pragma GCC unroll 8
  for (int i = 0; i < MM; ++i)
#pragma GCC unroll 4
    for (int s = 0; s < SETS; ++s)
      acc[i][s] = _mm256_setzero_ps();
  // One slot for all MM rows into accumulator set S.
  auto slot = [&](const float *xg, const float *p, auto setTag)
      __attribute__((target("avx2,fma"), always_inline)) {
        constexpr int S = decltype(setTag)::value;
        const __m256 v = _mm256_loadu_ps(p);
        const __m256i c =
            _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p + 8));
#pragma GCC unroll 8
        for (int i = 0; i < MM; ++i)
          acc[i][S] = _mm256_fmadd_ps(
              v, sparseSelectInGroup<GM>(xg + i * ldx, c), acc[i][S]);
      };
  using Set0 = std::integral_constant<int, 0>;
  using Set1 = std::integral_constant<int, SETS >= 2 ? 1 : 0>;
  using Set2 = std::integral_constant<int, SETS >= 4 ? 2 : 0>;
  using Set3 = std::integral_constant<int, SETS >= 4 ? 3 : (SETS >= 2 ? 1 : 0)>;
  const float *p = panel;
  int64_t g = 0;
  if (NT == 2) {
    // Two groups (four slots) per step: sets 0..3 when SETS == 4.
    for (; g + 2 <= groups; g += 2, p += 64) {
      slot(x + g * GM, p, Set0());
      slot(x + g * GM, p + 16, Set1());
      slot(x + (g + 1) * GM, p + 32, Set2());
      slot(x + (g + 1) * GM, p + 48, Set3());
    }
    if (g < groups) {
      slot(x + g * GM, p, Set0());
      slot(x + g * GM, p + 16, Set1());
    }
  } else {
    for (; g < groups; ++g) {
      const float *xg = x + g * GM;
      int64_t s = 0;
      for (; s + 2 <= N; s += 2, p += 32) {
        slot(xg, p, Set0());
        slot(xg, p + 16, Set1());
      }
      if (s < N) {
        slot(xg, p, Set2());
        p += 16;
      }
    }
  }
  const __m256 bias = epi && epi->bias && liveRows == 8
                          ? _mm256_loadu_ps(epi->bias)
                          : _mm256_setzero_ps();
#pragma GCC unroll 8
  for (int i = 0; i < MM; ++i) {
    __m256 sum = acc[i][0];
#pragma GCC unroll 4
    for (int s = 1; s < SETS; ++s)
      sum = _mm256_add_ps(sum, acc[i][s]);
    if (liveRows == 8) {
      if (epi)
        sum = sparseEpilogue8(
            sum, epi->bias != nullptr, bias,
            epi->residual ? epi->residual + i * ldy : nullptr, epi->act,
            epi->actA, epi->actB);
      _mm256_storeu_ps(y + i * ldy, sum);
    } else {
      alignas(32) float tmp[8];
      _mm256_store_ps(tmp, sum);
      for (int64_t r = 0; r < liveRows; ++r)
        y[i * ldy + r] = tmp[r];
      if (epi)
        epi->epilogueRow(y + i * ldy, 0.f, epi->bias,
                         epi->residual ? epi->residual + i * ldy : nullptr,
                         liveRows, epi->act, epi->actA, epi->actB);
    }
  }
}

/// Splits mCount activation rows into register tiles of 8, 4, 2 and 1.
template <int GM, int NT>
SPARQ_SPARSE_AVX2 void
sparseNmRowsDispatchAvx2(const float *panel, int64_t groups, int64_t n,
                         const float *x, int64_t ldx, int64_t mCount, float *y,
                         int64_t ldy, int64_t liveRows,
                         const SparseStoreEpilogue *epi) {
  // The epilogue of activation rows [m, ...): its residual moves with y.
  SparseStoreEpilogue at;
  auto epiAt = [&](int64_t m) -> const SparseStoreEpilogue * {
    if (!epi)
      return nullptr;
    at = *epi;
    if (at.residual)
      at.residual += m * ldy;
    return &at;
  };
  int64_t m = 0;
  for (; m + 8 <= mCount; m += 8)
    sparseNmRowsAvx2<GM, NT, 8>(panel, groups, n, x + m * ldx, ldx,
                                y + m * ldy, ldy, liveRows, epiAt(m));
  if (m + 4 <= mCount) {
    sparseNmRowsAvx2<GM, NT, 4>(panel, groups, n, x + m * ldx, ldx,
                                y + m * ldy, ldy, liveRows, epiAt(m));
    m += 4;
  }
  if (m + 2 <= mCount) {
    sparseNmRowsAvx2<GM, NT, 2>(panel, groups, n, x + m * ldx, ldx,
                                y + m * ldy, ldy, liveRows, epiAt(m));
    m += 2;
  }
  if (m < mCount)
    sparseNmRowsAvx2<GM, NT, 1>(panel, groups, n, x + m * ldx, ldx,
                                y + m * ldy, ldy, liveRows, epiAt(m));
}

SparseNmRowsFn sparseSelectNmRowsAvx2(const SparseMatrix &w) {
  if (w.format != SPARQ_SPARSE_NM)
    return nullptr;
  if (w.m == 4)
    return w.n == 2 ? sparseNmRowsDispatchAvx2<4, 2>
                    : sparseNmRowsDispatchAvx2<4, 0>;
  if (w.m == 8)
    return w.n == 2 ? sparseNmRowsDispatchAvx2<8, 2>
                    : sparseNmRowsDispatchAvx2<8, 0>;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Transposes
//===----------------------------------------------------------------------===//

/// Transposes the 8x8 matrix held in r[0..8) (row i in r[i]).
SPARQ_SPARSE_AVX2_INLINE void sparseTranspose8x8(__m256 (&r)[8]) {
  __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

SPARQ_SPARSE_AVX2 void sparsePackRowsAvx2(const float *x, int64_t ld,
                                          int64_t cnt, int64_t kc, int64_t T,
                                          float *dst) {
  for (int64_t j0 = 0; j0 < T; j0 += 8) {
    const int64_t live = cnt - j0 < 0 ? 0 : (cnt - j0 > 8 ? 8 : cnt - j0);
    int64_t k = 0;
    for (; k + 8 <= kc; k += 8) {
      __m256 r[8];
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i)
        r[i] = i < live ? _mm256_loadu_ps(x + (j0 + i) * ld + k)
                        : _mm256_setzero_ps();
      sparseTranspose8x8(r);
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i)
        _mm256_storeu_ps(dst + (k + i) * T + j0, r[i]);
    }
    for (; k < kc; ++k)
      for (int64_t i = 0; i < 8; ++i)
        dst[k * T + j0 + i] = i < live ? x[(j0 + i) * ld + k] : 0.f;
  }
}

/// Stores features [0, rows8) of out (rows8 a multiple of 8) transposed
/// into y, cnt activation rows, through 8 x 8 register transposes: for each
/// block of 8 activation rows, the feature blocks left to right, so that
/// consecutive stores fill whole cache lines of y (and read the residual
/// in order). ACT < 0 is a plain store; otherwise the epilogue with
/// activation code ACT is applied in registers. ACT is a template parameter
/// so that the activation's switch folds away and the eight independent
/// vectors of a transpose interleave (a switch per vector serializes them).
template <int ACT>
SPARQ_SPARSE_AVX2 void sparseStoreRowsAvx2(const float *out, int64_t T,
                                           int64_t rows8, int64_t cnt,
                                           float *y, int64_t ldy,
                                           const SparseStoreEpilogue *epi) {
  const float *biasRow = ACT >= 0 ? epi->bias : nullptr;
  const float *residual = ACT >= 0 ? epi->residual : nullptr;
  // The final value of activation row j, features f0..f0 + 8.
  auto finish = [&](__m256 v, __m256 bias, int64_t j, int64_t f0)
      __attribute__((target("avx2,fma"), always_inline)) {
        if (ACT < 0)
          return v;
        return sparseEpilogue8(v, biasRow != nullptr, bias,
                               residual ? residual + j * ldy + f0 : nullptr,
                               ACT < 0 ? 0 : ACT, epi->actA, epi->actB);
      };
  for (int64_t j0 = 0; j0 < cnt; j0 += 8) {
    const int64_t live = cnt - j0 > 8 ? 8 : cnt - j0;
    for (int64_t f0 = 0; f0 < rows8; f0 += 8) {
      const __m256 bias = biasRow ? _mm256_loadu_ps(biasRow + f0)
                                  : _mm256_setzero_ps();
      __m256 r[8];
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i)
        r[i] = _mm256_loadu_ps(out + (f0 + i) * T + j0);
      sparseTranspose8x8(r);
      if (live == 8) {
#pragma GCC unroll 8
        for (int i = 0; i < 8; ++i)
          _mm256_storeu_ps(y + (j0 + i) * ldy + f0,
                           finish(r[i], bias, j0 + i, f0));
      } else {
        for (int64_t i = 0; i < live; ++i)
          _mm256_storeu_ps(y + (j0 + i) * ldy + f0,
                           finish(r[i], bias, j0 + i, f0));
      }
    }
  }
}

SPARQ_SPARSE_AVX2 void
sparseStoreTransposedAvx2(const float *out, int64_t T, int64_t rows,
                          int64_t cnt, float *y, int64_t ldy,
                          const SparseStoreEpilogue *epi) {
  // Whole groups of 8 features through 8 x 8 transposes.
  const int64_t rows8 = rows / 8 * 8;
  if (rows8 > 0) {
    using StoreFn = void (*)(const float *, int64_t, int64_t, int64_t,
                             float *, int64_t, const SparseStoreEpilogue *);
    static constexpr StoreFn byAct[11] = {
        sparseStoreRowsAvx2<-1>, sparseStoreRowsAvx2<0>,
        sparseStoreRowsAvx2<1>,  sparseStoreRowsAvx2<2>,
        sparseStoreRowsAvx2<3>,  sparseStoreRowsAvx2<4>,
        sparseStoreRowsAvx2<5>,  sparseStoreRowsAvx2<6>,
        sparseStoreRowsAvx2<7>,  sparseStoreRowsAvx2<8>,
        sparseStoreRowsAvx2<9>};
    // Unknown codes store v + bias + residual, as activateAvx2 does.
    const int act = epi ? (epi->act >= 0 && epi->act <= 9 ? epi->act : 0) : -1;
    byAct[act + 1](out, T, rows8, cnt, y, ldy, epi);
  }
  if (rows8 == rows)
    return;
  // The last < 8 features (a row count that is not a multiple of 8).
  const int64_t rem = rows - rows8;
  for (int64_t j = 0; j < cnt; ++j) {
    float *yj = y + j * ldy + rows8;
    for (int64_t r = 0; r < rem; ++r)
      yj[r] = out[(rows8 + r) * T + j];
    if (epi)
      epi->epilogueRow(yj, 0.f, epi->bias ? epi->bias + rows8 : nullptr,
                       epi->residual ? epi->residual + j * ldy + rows8
                                     : nullptr,
                       rem, epi->act, epi->actA, epi->actB);
  }
}

bool sparseCpuHasAvx2Fma() {
  // Follow the dense kernels' choice (it honours SPARQ_KERNELS=generic).
  return avx2KernelSet() != nullptr && &kernels() == avx2KernelSet();
}

} // namespace

const SparseKernelSet *sparq::rt::avx2SparseKernelSet() {
  static const SparseKernelSet set = {
      sparseMaxTileAvx2,      sparseSelectTileAvx2,
      sparseSelectVecAvx2,    sparseSelectNmRowsAvx2,
      sparsePackRowsAvx2,     sparseStoreTransposedAvx2,
      sparseSelectDirectAvx2, sparseMaxTileAvx2,
      sparseNoStripRows,      nullptr,
      "avx2-fma"};
  static const bool supported = sparseCpuHasAvx2Fma();
  return supported ? &set : nullptr;
}

#undef SPARQ_SPARSE_AVX2
#undef SPARQ_SPARSE_AVX2_INLINE

#else // !SPARQ_SPARSE_HAVE_AVX2

const SparseKernelSet *sparq::rt::avx2SparseKernelSet() { return nullptr; }

#endif
