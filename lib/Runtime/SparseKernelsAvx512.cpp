//===- SparseKernelsAvx512.cpp - AVX-512 sparse tile kernels --------------===//
//
// The AVX-512 (F, BW, DQ, VL) set of SparseKernels.h. A tile of T = 16
// activations is one zmm, so a stored weight costs one activation load and
// one FMA. On Zen 4 a zmm FMA has the throughput of two ymm FMAs and a zmm
// load takes both load pipes, so the gain over the AVX2 set comes from
// fewer instructions and loads per stored weight, not from wider
// arithmetic. Measured there (sparq-sparse-bench, tools in the kernels'
// comments): the bound of a CSR / N:M tile is about 1.35 cycles per stored
// weight, set by the activation load plus the broadcast of the weight. The
// weights are therefore read four at a time (one 128-bit load copied to
// every lane, then an in-lane shuffle per weight): a broadcast load per
// weight, or an embedded {1to16} broadcast operand, measured slower. N:M
// positions are spread into scaled byte offsets with pdep; CSR indices are
// read as whole words and a row's last 1-4 weights are one masked step.
// Blocks of R x 1 rows reuse each loaded activation vector R times (FMA
// bound already). The N:M tiles replace the AVX2 row-vectorized kernel
// (bound by one permute per ymm FMA); at batch 1, N:M rows with M = 2 N
// select their activations with two-source permutes instead of gathers.
// Direct-convolution tiles follow the CSR and block tiles (CSR and 8 x 1
// measured ~10 % faster than AVX2, 4 x 1 the same). The other batch-1
// kernels, the transposes and tiles of <= 8 activations are the AVX2 set's.
//
//===----------------------------------------------------------------------===//

#include "SparseKernels.h"
#include "SparsePack.h"

#include "sparq/Runtime/sparq_sparse_format.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SPARQ_SPARSE_HAVE_AVX512 1
#include <immintrin.h>
#endif

using namespace sparq::rt;

#ifdef SPARQ_SPARSE_HAVE_AVX512

#define SPARQ_SPARSE_AVX512                                                    \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
#define SPARQ_SPARSE_AVX512_BMI2                                               \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,bmi2")))
#define SPARQ_SPARSE_AVX512_INLINE                                             \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"),       \
                 always_inline)) inline

namespace {

//===----------------------------------------------------------------------===//
// Tile kernels
//===----------------------------------------------------------------------===//

/// acc[r] += v[r * C + c] * xk[c * 16V ..] over the C columns of one stored
/// block (its RB rows of values v).
template <int RB, int V>
SPARQ_SPARSE_AVX512_INLINE void sparseAddBlockAvx512(__m512 (&acc)[RB][V],
                                                     const float *xk,
                                                     const float *v,
                                                     int64_t C) {
#pragma GCC unroll 4
  for (int64_t c = 0; c < C; ++c) {
    __m512 x[V];
#pragma GCC unroll 2
    for (int i = 0; i < V; ++i)
      x[i] = _mm512_loadu_ps(xk + c * 16 * V + 16 * i);
#pragma GCC unroll 16
    for (int r = 0; r < RB; ++r) {
      const __m512 wv = _mm512_set1_ps(v[r * C + c]);
#pragma GCC unroll 2
      for (int i = 0; i < V; ++i)
        acc[r][i] = _mm512_fmadd_ps(wv, x[i], acc[r][i]);
    }
  }
}

/// CSR (R = C = 1) and R x C blocks. RB weight rows of a block are
/// accumulated together (RB divides R), V = T / 16 zmm per row, SETS
/// accumulator sets rotated over consecutive blocks. CF is C when fixed at
/// compile time, 0 for a run-time C. src(b) is where the activations of
/// stored block b start; column c of the block reads src(b) + c * T. The
/// weights are broadcast from memory: with R > 1 the kernel is FMA bound,
/// and shuffles would take FMA pipe slots.
template <int RB, int V, int SETS, int CF, typename Src>
SPARQ_SPARSE_AVX512_INLINE void
sparseBlockTileCoreAvx512(const SparseMatrix &w, Src src, int64_t row0,
                          int64_t rows, const SparseKRange &range, float *out,
                          int64_t ldo, bool accumulate) {
  const int64_t R = w.blockRows, C = CF ? CF : w.blockCols;
  const int64_t blockSize = R * C;
  for (int64_t br = row0 / R; br < (row0 + rows) / R; ++br) {
    int64_t b0, b1;
    sparseBlockBounds(w, range, br, b0, b1);
    for (int64_t sub = 0; sub < R; sub += RB) {
      __m512 acc[SETS][RB][V];
#pragma GCC unroll 8
      for (int s = 0; s < SETS; ++s)
#pragma GCC unroll 16
        for (int r = 0; r < RB; ++r)
#pragma GCC unroll 2
          for (int i = 0; i < V; ++i)
            acc[s][r][i] =
                s == 0 && accumulate
                    ? _mm512_loadu_ps(out + (br * R + sub + r - row0) * ldo +
                                      16 * i)
                    : _mm512_setzero_ps();
      const float *vals = w.values + b0 * blockSize + sub * C;
      int64_t b = b0;
      for (; b + SETS <= b1; b += SETS) {
#pragma GCC unroll 8
        for (int s = 0; s < SETS; ++s)
          sparseAddBlockAvx512<RB, V>(acc[s], src(b + s),
                                      vals + (b - b0 + s) * blockSize, C);
      }
      for (; b < b1; ++b)
        sparseAddBlockAvx512<RB, V>(acc[0], src(b),
                                    vals + (b - b0) * blockSize, C);
#pragma GCC unroll 8
      for (int s = 1; s < SETS; ++s)
#pragma GCC unroll 16
        for (int r = 0; r < RB; ++r)
#pragma GCC unroll 2
          for (int i = 0; i < V; ++i)
            acc[0][r][i] = _mm512_add_ps(acc[0][r][i], acc[s][r][i]);
#pragma GCC unroll 16
      for (int r = 0; r < RB; ++r) {
        float *o = out + (br * R + sub + r - row0) * ldo;
#pragma GCC unroll 2
        for (int i = 0; i < V; ++i)
          _mm512_storeu_ps(o + 16 * i, acc[0][r][i]);
      }
    }
  }
}

/// Tile kernel (SparseTileFn) over a K-major activation tile.
template <int RB, int V, int SETS, int CF, typename IndexT>
SPARQ_SPARSE_AVX512 void
sparseBlockTileAvx512(const SparseMatrix &w, const float *xt, int64_t row0,
                      int64_t rows, const SparseKRange &range, float *out,
                      int64_t ldo, bool accumulate) {
  const IndexT *col = static_cast<const IndexT *>(w.col);
  const int64_t step = (CF ? CF : w.blockCols) * 16 * V;
  sparseBlockTileCoreAvx512<RB, V, SETS, CF>(
      w, [&](int64_t b) { return xt + int64_t(col[b]) * step; }, row0, rows,
      range, out, ldo, accumulate);
}

/// Four values loaded into every 128-bit lane of a zmm (one load).
SPARQ_SPARSE_AVX512_INLINE __m512 sparseLoad4x512(const float *p) {
  return _mm512_broadcast_f32x4(_mm_loadu_ps(p));
}

/// Value J of sparseLoad4x512 broadcast to all lanes: an in-lane shuffle
/// instead of a broadcast load, which keeps the load ports free for the
/// activation rows (a 512-bit load takes both load pipes of Zen 4).
template <int J>
SPARQ_SPARSE_AVX512_INLINE __m512 sparseLane512(__m512 v4) {
  return _mm512_permute_ps(v4, J * 0x55);
}

/// acc += w * xk[0 .. 16 V).
template <int V>
SPARQ_SPARSE_AVX512_INLINE void sparseFmaRow512(__m512 (&acc)[V], __m512 w,
                                                const float *xk) {
#pragma GCC unroll 8
  for (int i = 0; i < V; ++i)
    acc[i] = _mm512_fmadd_ps(w, _mm512_loadu_ps(xk + 16 * i), acc[i]);
}

/// N:M with N = NT in {2, 4}: four slots per step, their positions read as
/// one 16-bit word (every row starts on a byte since N is even) and their
/// values as one 128-bit load; two steps per iteration, SETS (4 or 8)
/// accumulator sets.
template <int NT, int V, int SETS>
SPARQ_SPARSE_AVX512_BMI2 void
sparseNmTileAvx512(const SparseMatrix &w, const float *xt, int64_t row0,
                   int64_t rows, const SparseKRange &range, float *out,
                   int64_t ldo, bool accumulate) {
  static_assert(NT == 2 || NT == 4, "four slots must cover whole groups");
  static_assert(SETS == 4 || SETS == 8, "four slots per step");
  constexpr int64_t T = 16 * V;
  constexpr int kTileShift = V == 1 ? 6 : 7; // log2 of a tile row's bytes
  const int64_t M = w.m, groups = w.cols / M;
  const int64_t g0 = range.k0 / M, g1 = range.k1 ? range.k1 / M : groups;
  const int64_t slots = (g1 - g0) * NT;
  const uint8_t *nib = static_cast<const uint8_t *>(w.col);
  // Slots 2 and 3 of a step lie in the next group when N == 2.
  const int64_t off2 = NT == 2 ? M * T : 0;
  const int64_t step = (4 / NT) * M * T;
  // pdep spreads two 4-bit positions into the two 32-bit halves of a
  // register, already scaled to byte offsets of tile rows, so that each
  // slot's address costs one move or shift.
  constexpr uint64_t spread = (uint64_t(15) << kTileShift) |
                              (uint64_t(15) << (32 + kTileShift));
  for (int64_t r = row0; r < row0 + rows; ++r) {
    const int64_t e0 = (r * groups + g0) * NT;
    const uint8_t *pos = nib + e0 / 2;
    const float *v = w.values + e0;
    float *o = out + (r - row0) * ldo;
    __m512 acc[SETS][V];
#pragma GCC unroll 8
    for (int s = 0; s < SETS; ++s)
#pragma GCC unroll 4
      for (int i = 0; i < V; ++i)
        acc[s][i] = s == 0 && accumulate ? _mm512_loadu_ps(o + 16 * i)
                                         : _mm512_setzero_ps();
    const float *xg = xt + g0 * M * T;
    // One step of four slots into accumulator sets S .. S + 3.
    auto quad = [&](uint32_t word, const float *val, const float *x,
                    auto setTag) __attribute__((
                    target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,bmi2"),
                    always_inline)) {
      constexpr int S = decltype(setTag)::value;
      const __m512 vv = sparseLoad4x512(val);
      const uint64_t q01 = _pdep_u64(word, spread);
      const uint64_t q23 = _pdep_u64(word >> 8, spread);
      const char *xb = reinterpret_cast<const char *>(x);
      const char *xb2 = reinterpret_cast<const char *>(x + off2);
      sparseFmaRow512<V>(acc[S], sparseLane512<0>(vv),
                         reinterpret_cast<const float *>(xb + uint32_t(q01)));
      sparseFmaRow512<V>(acc[S + 1], sparseLane512<1>(vv),
                         reinterpret_cast<const float *>(xb + (q01 >> 32)));
      sparseFmaRow512<V>(acc[S + 2], sparseLane512<2>(vv),
                         reinterpret_cast<const float *>(xb2 + uint32_t(q23)));
      sparseFmaRow512<V>(acc[S + 3], sparseLane512<3>(vv),
                         reinterpret_cast<const float *>(xb2 + (q23 >> 32)));
    };
    using Set0 = std::integral_constant<int, 0>;
    using Set4 = std::integral_constant<int, SETS == 8 ? 4 : 0>;
    int64_t e = 0;
    for (; e + 8 <= slots; e += 8, xg += 2 * step) {
      uint32_t word;
      std::memcpy(&word, pos + e / 2, 4);
      quad(word, v + e, xg, Set0());
      quad(word >> 16, v + e + 4, xg + step, Set4());
    }
    if (e + 4 <= slots) {
      uint16_t word;
      std::memcpy(&word, pos + e / 2, 2);
      quad(word, v + e, xg, Set0());
      e += 4;
      xg += step;
    }
    if (e < slots) { // one 2-slot group left (NT == 2, odd group count)
      const uint8_t b = pos[e / 2];
      sparseFmaRow512<V>(acc[0], _mm512_set1_ps(v[e]), xg + (b & 15) * T);
      sparseFmaRow512<V>(acc[1], _mm512_set1_ps(v[e + 1]), xg + (b >> 4) * T);
    }
#pragma GCC unroll 4
    for (int i = 0; i < V; ++i) {
      __m512 a = _mm512_add_ps(_mm512_add_ps(acc[0][i], acc[1][i]),
                               _mm512_add_ps(acc[2][i], acc[3][i]));
      if (SETS == 8)
        a = _mm512_add_ps(
            a,
            _mm512_add_ps(_mm512_add_ps(acc[4 % SETS][i], acc[5 % SETS][i]),
                          _mm512_add_ps(acc[6 % SETS][i], acc[7 % SETS][i])));
      _mm512_storeu_ps(o + 16 * i, a);
    }
  }
}

/// Byte offset of tile row `index` (rows of 1 << Shift bytes).
template <int Shift>
SPARQ_SPARSE_AVX512_INLINE const float *sparseTileRow(const float *xt,
                                                      uint64_t index) {
  return reinterpret_cast<const float *>(reinterpret_cast<const char *>(xt) +
                                         (index << Shift));
}

/// Four column indices of a CSR row: one 64-bit word of 2-byte indices or
/// two of 4-byte indices, read with a mask (lanes at or past `live` read 0,
/// and memory there is not touched); index J of them.
template <typename IndexT> struct SparseIndex4 {
  uint64_t lo, hi;
  SPARQ_SPARSE_AVX512_INLINE explicit SparseIndex4(const IndexT *p) {
    std::memcpy(&lo, p, 8);
    if (sizeof(IndexT) == 4)
      std::memcpy(&hi, p + 2, 8);
    else
      hi = 0;
  }
  SPARQ_SPARSE_AVX512_INLINE SparseIndex4(const IndexT *p, __mmask8 live) {
    __m128i v;
    if (sizeof(IndexT) == 2)
      v = _mm_maskz_loadu_epi16(live, p);
    else
      v = _mm_maskz_loadu_epi32(live, p);
    lo = uint64_t(_mm_cvtsi128_si64(v));
    hi = uint64_t(_mm_extract_epi64(v, 1));
  }
  template <int J> SPARQ_SPARSE_AVX512_INLINE uint64_t get() const {
    if (sizeof(IndexT) == 2)
      return (lo >> (16 * J)) & 0xFFFF;
    const uint64_t w = J < 2 ? lo : hi;
    return J % 2 == 0 ? uint64_t(uint32_t(w)) : w >> 32;
  }
};

/// CSR (1 x 1 blocks): per row, four stored weights per step with their
/// indices read as whole words and their values as one 128-bit load
/// (shuffled into broadcasts), into four accumulator sets. The last 1-4
/// weights of a row are one masked step, so that a row costs one
/// data-dependent branch (the loop exit) instead of one per tail length.
/// Stored weight b reads its activations at xt + (col[b] << Shift) bytes:
/// a K-major tile row (Shift = log2 of its bytes) or, with element offsets
/// (Shift = 2), a position of a padded image. Weight j of a step goes to
/// accumulator set j mod SETS: V = 1..4 use 4 sets (FMA latency), V = 5..8
/// one (their V chains already hide it, and 4 V would not fit in registers).
template <int V, int Shift, typename IndexT, int SETS = 4>
SPARQ_SPARSE_AVX512_INLINE void
sparseCsrCoreAvx512(const SparseMatrix &w, const IndexT *col, const float *xt,
                    int64_t row0, int64_t rows, const SparseKRange &range,
                    float *out, int64_t ldo, bool accumulate) {
  static_assert(SETS == 1 || SETS == 4, "weights of a step go to 1 or 4 sets");
  for (int64_t r = row0; r < row0 + rows; ++r) {
    int64_t b, b1;
    sparseBlockBounds(w, range, r, b, b1);
    float *o = out + (r - row0) * ldo;
    __m512 acc[SETS][V];
#pragma GCC unroll 4
    for (int s = 0; s < SETS; ++s)
#pragma GCC unroll 8
      for (int i = 0; i < V; ++i)
        acc[s][i] = s == 0 && accumulate ? _mm512_loadu_ps(o + 16 * i)
                                         : _mm512_setzero_ps();
    if (b < b1) {
      for (; b + 4 < b1; b += 4) {
        const SparseIndex4<IndexT> idx(col + b);
        const __m512 vv = sparseLoad4x512(w.values + b);
        sparseFmaRow512<V>(acc[0 % SETS], sparseLane512<0>(vv),
                           sparseTileRow<Shift>(xt, idx.template get<0>()));
        sparseFmaRow512<V>(acc[1 % SETS], sparseLane512<1>(vv),
                           sparseTileRow<Shift>(xt, idx.template get<1>()));
        sparseFmaRow512<V>(acc[2 % SETS], sparseLane512<2>(vv),
                           sparseTileRow<Shift>(xt, idx.template get<2>()));
        sparseFmaRow512<V>(acc[3 % SETS], sparseLane512<3>(vv),
                           sparseTileRow<Shift>(xt, idx.template get<3>()));
      }
      // The last 1-4 weights: masked-off lanes read index 0 (a valid tile
      // row) and value 0, and their FMAs are masked off as well, so that
      // an infinite activation cannot turn into NaN.
      const int live = int(b1 - b);
      const __mmask8 lanes = __mmask8((1u << live) - 1);
      const SparseIndex4<IndexT> idx(col + b, lanes);
      const __m512 vv =
          _mm512_broadcast_f32x4(_mm_maskz_loadu_ps(lanes, w.values + b));
      auto last = [&](__m512(&a)[V], __m512 wv, uint64_t index, int j)
          __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"),
                         always_inline)) {
            const __mmask16 k = __mmask16(-int(j < live));
            const float *xk = sparseTileRow<Shift>(xt, index);
#pragma GCC unroll 8
            for (int i = 0; i < V; ++i)
              a[i] = _mm512_mask3_fmadd_ps(
                  wv, _mm512_maskz_loadu_ps(k, xk + 16 * i), a[i], k);
          };
      last(acc[0 % SETS], sparseLane512<0>(vv), idx.template get<0>(), 0);
      last(acc[1 % SETS], sparseLane512<1>(vv), idx.template get<1>(), 1);
      last(acc[2 % SETS], sparseLane512<2>(vv), idx.template get<2>(), 2);
      last(acc[3 % SETS], sparseLane512<3>(vv), idx.template get<3>(), 3);
    }
#pragma GCC unroll 8
    for (int i = 0; i < V; ++i)
      _mm512_storeu_ps(o + 16 * i,
                       SETS == 1 ? acc[0][i]
                                 : _mm512_add_ps(
                                       _mm512_add_ps(acc[0][i], acc[1 % SETS][i]),
                                       _mm512_add_ps(acc[2 % SETS][i],
                                                     acc[3 % SETS][i])));
  }
}

/// CSR tile kernel (SparseTileFn).
template <int V, typename IndexT>
SPARQ_SPARSE_AVX512 void
sparseCsrTileAvx512(const SparseMatrix &w, const float *xt, int64_t row0,
                    int64_t rows, const SparseKRange &range, float *out,
                    int64_t ldo, bool accumulate) {
  constexpr int kShift = V == 1 ? 6 : 7; // log2 of a tile row's bytes
  sparseCsrCoreAvx512<V, kShift>(w, static_cast<const IndexT *>(w.col), xt,
                                 row0, rows, range, out, ldo, accumulate);
}

/// N:M with any N: one slot at a time, group base advanced by a counter.
template <int V>
SPARQ_SPARSE_AVX512 void
sparseNmAnyTileAvx512(const SparseMatrix &w, const float *xt, int64_t row0,
                      int64_t rows, const SparseKRange &range, float *out,
                      int64_t ldo, bool accumulate) {
  constexpr int64_t T = 16 * V;
  const int64_t N = w.n, M = w.m, groups = w.cols / M;
  const int64_t g0 = range.k0 / M, g1 = range.k1 ? range.k1 / M : groups;
  const uint8_t *nib = static_cast<const uint8_t *>(w.col);
  for (int64_t r = row0; r < row0 + rows; ++r) {
    float *o = out + (r - row0) * ldo;
    __m512 acc[2][V];
#pragma GCC unroll 2
    for (int i = 0; i < V; ++i) {
      acc[0][i] = accumulate ? _mm512_loadu_ps(o + 16 * i) : _mm512_setzero_ps();
      acc[1][i] = _mm512_setzero_ps();
    }
    int64_t e = (r * groups + g0) * N, gbase = g0 * M, slot = 0;
    const int64_t end = e + (g1 - g0) * N;
    for (; e < end; ++e) {
      const int64_t k = gbase + ((nib[e >> 1] >> ((e & 1) * 4)) & 15);
      sparseFmaRow512<V>(acc[e & 1], _mm512_set1_ps(w.values[e]), xt + k * T);
      if (++slot == N) {
        slot = 0;
        gbase += M;
      }
    }
#pragma GCC unroll 2
    for (int i = 0; i < V; ++i)
      _mm512_storeu_ps(o + 16 * i, _mm512_add_ps(acc[0][i], acc[1][i]));
  }
}

template <int RB, int V, int SETS>
SparseTileFn sparseBlockTileFor512(const SparseMatrix &w) {
  const bool c1 = w.blockCols == 1;
  if (w.indexBytes == 2)
    return c1 ? sparseBlockTileAvx512<RB, V, SETS, 1, uint16_t>
              : sparseBlockTileAvx512<RB, V, SETS, 0, uint16_t>;
  return c1 ? sparseBlockTileAvx512<RB, V, SETS, 1, uint32_t>
            : sparseBlockTileAvx512<RB, V, SETS, 0, uint32_t>;
}

/// Accumulator sets of the N:M tiles: 4 cover the FMA latency; 8 cost more
/// in the per-row reduction than they gain.
constexpr int kNmSets = 4;

/// N:M rows of T = 32 share each shuffled weight between two FMAs, which
/// measured faster than 16 (2:4, M = 128: 1.36x against 1.23x dense);
/// CSR and blocks measured as fast or faster at 16, whose reduction chunks
/// are twice as long.
int64_t sparseMaxTileAvx512(const SparseMatrix &w) {
  return w.format == SPARQ_SPARSE_NM ? 32 : 16;
}

SparseTileFn sparseSelectTileAvx512(const SparseMatrix &w, int64_t T) {
  // Tiles of 8 (a last tile of <= 8 activation rows) use the AVX2 kernels.
  if (T <= 8)
    return avx2SparseKernelSet()->selectTile(w, T);
  const bool t16 = T <= 16;
  if (w.format == SPARQ_SPARSE_NM) {
    if (w.n == 2)
      return t16 ? sparseNmTileAvx512<2, 1, kNmSets> : sparseNmTileAvx512<2, 2, kNmSets>;
    if (w.n == 4)
      return t16 ? sparseNmTileAvx512<4, 1, kNmSets> : sparseNmTileAvx512<4, 2, kNmSets>;
    return t16 ? sparseNmAnyTileAvx512<1> : sparseNmAnyTileAvx512<2>;
  }
  const int64_t R = w.blockRows;
  if (R % 8 == 0)
    return t16 ? sparseBlockTileFor512<8, 1, 1>(w)
               : sparseBlockTileFor512<8, 2, 1>(w);
  if (R % 4 == 0)
    return t16 ? sparseBlockTileFor512<4, 1, 2>(w)
               : sparseBlockTileFor512<4, 2, 1>(w);
  if (R % 2 == 0)
    return t16 ? sparseBlockTileFor512<2, 1, 4>(w)
               : sparseBlockTileFor512<2, 2, 2>(w);
  if (R == 1 && w.blockCols == 1) {
    if (w.indexBytes == 2)
      return t16 ? sparseCsrTileAvx512<1, uint16_t>
                 : sparseCsrTileAvx512<2, uint16_t>;
    return t16 ? sparseCsrTileAvx512<1, uint32_t>
               : sparseCsrTileAvx512<2, uint32_t>;
  }
  return t16 ? sparseBlockTileFor512<1, 1, 4>(w)
             : sparseBlockTileFor512<1, 2, 4>(w);
}

//===----------------------------------------------------------------------===//
// Vector (batch-1) kernels
//===----------------------------------------------------------------------===//

/// Sixteen N:M slots starting at a group boundary, with M = 2 N (2:4, 4:8,
/// 8:16): they span 16 M / N = 32 activations, so one two-source permute
/// picks every slot's activation. `live` masks the slots of a short last
/// step (whole groups); masked lanes read no memory and add nothing.
template <int NT>
SPARQ_SPARSE_AVX512_INLINE __m512 sparseNmVecStep(const uint8_t *pos,
                                                  const float *v,
                                                  const float *x,
                                                  __mmask16 live, __m512 acc) {
  constexpr int MT = 2 * NT;
  // Lane j: group j / N of the step, nibble j of the 8 position bytes.
  const __m512i shifts = _mm512_set_epi32(4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0,
                                          4, 0, 4, 0);
  const __m512i groupBase = _mm512_set_epi32(
      15 / NT * MT, 14 / NT * MT, 13 / NT * MT, 12 / NT * MT, 11 / NT * MT,
      10 / NT * MT, 9 / NT * MT, 8 / NT * MT, 7 / NT * MT, 6 / NT * MT,
      5 / NT * MT, 4 / NT * MT, 3 / NT * MT, 2 / NT * MT, 1 / NT * MT, 0);
  const __m128i bytes =
      _mm_maskz_loadu_epi8(__mmask16((1u << ((_mm_popcnt_u32(live) + 1) / 2)) - 1), pos);
  const __m512i nib = _mm512_and_si512(
      _mm512_srlv_epi32(_mm512_cvtepu8_epi32(_mm_unpacklo_epi8(bytes, bytes)),
                        shifts),
      _mm512_set1_epi32(15));
  const __m512i idx = _mm512_add_epi32(nib, groupBase);
  // The step's activations: 16 / N groups of M.
  const int span = _mm_popcnt_u32(live) / NT * MT;
  const __m512 x0 = _mm512_maskz_loadu_ps(
      __mmask16(span >= 16 ? 0xFFFF : (1u << span) - 1), x);
  const __m512 x1 = _mm512_maskz_loadu_ps(
      __mmask16(span >= 32 ? 0xFFFF : span <= 16 ? 0 : (1u << (span - 16)) - 1),
      x + 16);
  const __m512 xs = _mm512_permutex2var_ps(x0, idx, x1);
  return _mm512_mask3_fmadd_ps(_mm512_maskz_loadu_ps(live, v), xs, acc, live);
}

/// N:M rows with M = 2 N, N even: 32 slots per iteration (two permutes of
/// contiguous activations instead of gathers), one masked last step.
template <int NT>
SPARQ_SPARSE_AVX512 void sparseNmVecAvx512(const SparseMatrix &w,
                                           const float *x, int64_t row0,
                                           int64_t rows, float *y) {
  constexpr int MT = 2 * NT;
  const int64_t slots = (w.cols / MT) * NT;
  const uint8_t *nib = static_cast<const uint8_t *>(w.col);
  for (int64_t r = row0; r < row0 + rows; ++r) {
    const int64_t e0 = r * slots; // even: N is even
    const uint8_t *pos = nib + e0 / 2;
    const float *v = w.values + e0;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    int64_t e = 0;
    const float *xg = x;
    for (; e + 32 <= slots; e += 32, xg += 64) {
      acc0 = sparseNmVecStep<NT>(pos + e / 2, v + e, xg, 0xFFFF, acc0);
      acc1 = sparseNmVecStep<NT>(pos + e / 2 + 8, v + e + 16, xg + 32, 0xFFFF,
                                 acc1);
    }
    for (; e < slots; e += 16, xg += 32) {
      const int64_t left = slots - e;
      acc0 = sparseNmVecStep<NT>(
          pos + e / 2, v + e, xg,
          __mmask16(left >= 16 ? 0xFFFF : (1u << left) - 1), acc0);
    }
    y[r - row0] = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  }
}

/// N:M with M = 2 N (N = 2, 4, 8) gets the permute kernel above; the other
/// formats the AVX2 set's kernels.
SparseVecFn sparseSelectVecAvx512(const SparseMatrix &w) {
  if (w.format == SPARQ_SPARSE_NM && w.m == 2 * w.n) {
    switch (w.n) {
    case 2:
      return sparseNmVecAvx512<2>;
    case 4:
      return sparseNmVecAvx512<4>;
    case 8:
      return sparseNmVecAvx512<8>;
    default:
      break;
    }
  }
  return avx2SparseKernelSet()->selectVec(w);
}

//===----------------------------------------------------------------------===//
// Direct convolution tiles
//===----------------------------------------------------------------------===//

/// CSR direct tile (SparseDirectTileFn): the CSR core with the input read at
/// x + off[b] (element offsets) instead of a K-major tile row; V = 5..8 for
/// the row-strip tiles.
template <int V>
SPARQ_SPARSE_AVX512 void
sparseCsrDirectAvx512(const SparseMatrix &w, const int32_t *off,
                      const float *x, int64_t row0, int64_t rows,
                      const SparseKRange &range, float *out, int64_t ldo,
                      bool accumulate) {
  sparseCsrCoreAvx512<V, 2, uint32_t, V <= 4 ? 4 : 1>(
      w, reinterpret_cast<const uint32_t *>(off), x, row0, rows, range, out,
      ldo, accumulate);
}

/// R x 1 block direct tile: RB rows of a block accumulated together (RB
/// divides R), each loaded input vector reused RB times.
template <int RB, int V, int SETS>
SPARQ_SPARSE_AVX512 void
sparseBlockDirectAvx512(const SparseMatrix &w, const int32_t *off,
                        const float *x, int64_t row0, int64_t rows,
                        const SparseKRange &range, float *out, int64_t ldo,
                        bool accumulate) {
  sparseBlockTileCoreAvx512<RB, V, SETS, 1>(
      w, [&](int64_t b) { return x + off[b]; }, row0, rows, range, out, ldo,
      accumulate);
}

/// CSR direct tiles go up to 64 positions (V = 4 zmm per row): every pass
/// over the stored weights of a tile streams them (and their offsets) from
/// L2 or beyond once, which at 16 positions per pass cost more than the
/// products (ResNet-18's 14 x 14, 256-channel 3x3 layer at 80%: 1.61 ms at
/// T = 16, 1.21 at 32, 1.02 at 64, one thread). Blocks keep 32: with RB
/// rows per block their V x RB accumulators run out of registers first.
int64_t sparseMaxDirectTileAvx512(const SparseMatrix &w) {
  return w.format == SPARQ_SPARSE_CSR ? 64 : 32;
}

/// Row strips of up to 8 vectors (128 positions), CSR only: one loaded
/// weight feeds 8 FMAs, and the reduction chunks of a strip's input window
/// hold more stored weights per row than the 64-wide tiles' (see
/// sparseConvStrips).
int64_t sparseMaxStripRowsAvx512(const SparseMatrix &w) {
  return w.format == SPARQ_SPARSE_CSR ? 8 : 0;
}

/// SparseStripWindowFn. Per vector, stride 1: one masked load (lanes outside
/// the row masked off, which also suppresses their faults); stride 2: two
/// masked loads and a permute picking the even elements; wider strides:
/// element by element. One aligned store each.
SPARQ_SPARSE_AVX512 void
sparseStripWindowAvx512(const float *x, int64_t H, int64_t W, int64_t ih0,
                        int64_t sH, int64_t iw0, int64_t sW, int64_t KW,
                        int64_t dW, int64_t rows, float *dst) {
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14,
                                        12, 10, 8, 6, 4, 2, 0);
  for (int64_t kw = 0; kw < KW; ++kw) {
    const int64_t c0 = iw0 + kw * dW;
    // Elements [lo, hi) of the span read (16 sW wide) lie inside the row.
    const int64_t span = 16 * sW;
    const int64_t lo = std::min(span, std::max<int64_t>(0, -c0));
    const int64_t hi = std::max(lo, std::min(span, W - c0));
    auto bits = [&](int64_t from) {
      const int64_t l = std::clamp<int64_t>(lo - from, 0, 16);
      const int64_t h = std::clamp<int64_t>(hi - from, 0, 16);
      return __mmask16(((uint32_t(1) << h) - 1) & ~((uint32_t(1) << l) - 1));
    };
    const __mmask16 m0 = bits(0), m1 = bits(16);
    float *d = dst + kw * rows * 16;
    // Rows [r0, r1) lie inside the image (ih0 + r sH in [0, H)).
    const int64_t r0 =
        lo == hi ? rows
                 : std::min(rows, std::max<int64_t>(0, (sH - 1 - ih0) / sH));
    const int64_t r1 =
        lo == hi ? rows
                 : std::max(r0, std::min(rows, (H - ih0 + sH - 1) / sH));
    for (int64_t r = 0; r < r0; ++r)
      _mm512_store_ps(d + r * 16, _mm512_setzero_ps());
    const float *line = x + (ih0 + r0 * sH) * W + c0;
    const int64_t step = sH * W;
    if (sW == 1) {
      for (int64_t r = r0; r < r1; ++r, line += step)
        _mm512_store_ps(d + r * 16, _mm512_maskz_loadu_ps(m0, line));
    } else if (sW == 2) {
      for (int64_t r = r0; r < r1; ++r, line += step) {
        const __m512 a = _mm512_maskz_loadu_ps(m0, line);
        const __m512 b = _mm512_maskz_loadu_ps(m1, line + 16);
        _mm512_store_ps(d + r * 16, _mm512_permutex2var_ps(a, even, b));
      }
    } else {
      for (int64_t r = r0; r < r1; ++r, line += step)
        for (int64_t j = 0; j < 16; ++j)
          d[r * 16 + j] = j * sW >= lo && j * sW < hi ? line[j * sW] : 0.f;
    }
    for (int64_t r = r1; r < rows; ++r)
      _mm512_store_ps(d + r * 16, _mm512_setzero_ps());
  }
}

/// T <= 8 (a short last tile) keeps the AVX2 kernels.
SparseDirectTileFn sparseSelectDirectAvx512(const SparseMatrix &w,
                                            int64_t T) {
  if (T <= 8 || w.format == SPARQ_SPARSE_NM || w.blockCols != 1)
    return avx2SparseKernelSet()->selectDirect(w, T);
  const bool t16 = T <= 16;
  const int64_t R = w.blockRows;
  if (R == 1)
    return t16        ? sparseCsrDirectAvx512<1>
           : T <= 32  ? sparseCsrDirectAvx512<2>
           : T <= 48  ? sparseCsrDirectAvx512<3>
           : T <= 64  ? sparseCsrDirectAvx512<4>
           : T <= 80  ? sparseCsrDirectAvx512<5>
           : T <= 96  ? sparseCsrDirectAvx512<6>
           : T <= 112 ? sparseCsrDirectAvx512<7>
                      : sparseCsrDirectAvx512<8>;
  if (R % 8 == 0)
    return t16 ? sparseBlockDirectAvx512<8, 1, 1>
               : sparseBlockDirectAvx512<8, 2, 1>;
  if (R % 4 == 0)
    return t16 ? sparseBlockDirectAvx512<4, 1, 2>
               : sparseBlockDirectAvx512<4, 2, 1>;
  if (R % 2 == 0)
    return t16 ? sparseBlockDirectAvx512<2, 1, 2>
               : sparseBlockDirectAvx512<2, 2, 2>;
  return avx2SparseKernelSet()->selectDirect(w, T);
}

//===----------------------------------------------------------------------===//
// Delegation to the AVX2 set
//===----------------------------------------------------------------------===//


/// N:M with M = 2 N (2:4, 4:8, 8:16): the zmm tiles (with the transposes
/// around them) beat the AVX2 row-vectorized kernel, which is bound by one
/// permute per ymm FMA, and batch 1 has the permute vector kernel. Other
/// N:M patterns keep the AVX2 row kernel (at batch 1 the only fast one).
SparseNmRowsFn sparseSelectNmRowsAvx512(const SparseMatrix &w) {
  if (w.format == SPARQ_SPARSE_NM && w.m == 2 * w.n && w.n % 2 == 0)
    return nullptr;
  return avx2SparseKernelSet()->selectNmRows(w);
}


void sparsePackRowsAvx512(const float *x, int64_t ld, int64_t cnt, int64_t kc,
                          int64_t T, float *dst) {
  avx2SparseKernelSet()->packRows(x, ld, cnt, kc, T, dst);
}

void sparseStoreTransposedAvx512(const float *out, int64_t T, int64_t rows,
                                 int64_t cnt, float *y, int64_t ldy,
                                 const SparseStoreEpilogue *epi) {
  avx2SparseKernelSet()->storeTransposed(out, T, rows, cnt, y, ldy, epi);
}

bool sparseCpuHasAvx512() {
  // Only where the AVX2 set is in use (it honours SPARQ_KERNELS=generic):
  // this set delegates to it.
  if (!avx2SparseKernelSet())
    return false;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") &&
         __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("bmi2");
}

} // namespace

const SparseKernelSet *sparq::rt::avx512SparseKernelSet() {
  static const SparseKernelSet set = {
      sparseMaxTileAvx512,      sparseSelectTileAvx512,
      sparseSelectVecAvx512,    sparseSelectNmRowsAvx512,
      sparsePackRowsAvx512,     sparseStoreTransposedAvx512,
      sparseSelectDirectAvx512, sparseMaxDirectTileAvx512,
      sparseMaxStripRowsAvx512, sparseStripWindowAvx512,
      "avx512"};
  static const bool supported = sparseCpuHasAvx512();
  return supported ? &set : nullptr;
}

#undef SPARQ_SPARSE_AVX512
#undef SPARQ_SPARSE_AVX512_INLINE
#undef SPARQ_SPARSE_AVX512_BMI2

#else // !SPARQ_SPARSE_HAVE_AVX512

const SparseKernelSet *sparq::rt::avx512SparseKernelSet() { return nullptr; }

#endif
