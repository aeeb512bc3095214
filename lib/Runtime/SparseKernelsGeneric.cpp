//===- SparseKernelsGeneric.cpp - Portable sparse tile kernels ------------===//
//
// Plain C++ versions of the sparse kernels of SparseKernels.h, used on CPUs
// without AVX2+FMA. One tile kernel per format, templated on the tile width
// so the per-weight loop over the tile is a fixed-length, unit-stride loop
// the baseline auto-vectorizer handles; no vector (batch-1) kernels, so a
// single activation row goes through the tile path with T = 8.
//
//===----------------------------------------------------------------------===//

#include "SparseKernels.h"
#include "SparsePack.h"

#include "sparq/Runtime/sparq_sparse_format.h"

using namespace sparq::rt;

namespace {

/// CSR and R x C blocks; src(b) is where the activations of stored block b
/// start, column c of the block reading src(b) + c * T.
template <int T, typename Src>
void sparseBlockTileCoreGeneric(const SparseMatrix &w, Src src, int64_t row0,
                                int64_t rows, const SparseKRange &range,
                                float *out, int64_t ldo, bool accumulate) {
  const int64_t R = w.blockRows, C = w.blockCols;
  for (int64_t br = row0 / R; br < (row0 + rows) / R; ++br) {
    int64_t b0, b1;
    sparseBlockBounds(w, range, br, b0, b1);
    for (int64_t r = 0; r < R; ++r) {
      float *o = out + (br * R + r - row0) * ldo;
      float acc[T];
      for (int j = 0; j < T; ++j)
        acc[j] = accumulate ? o[j] : 0.f;
      for (int64_t b = b0; b < b1; ++b) {
        const float *v = w.values + b * R * C + r * C;
        const float *xk = src(b);
        for (int64_t c = 0; c < C; ++c) {
          const float wv = v[c];
          for (int j = 0; j < T; ++j)
            acc[j] += wv * xk[c * T + j];
        }
      }
      for (int j = 0; j < T; ++j)
        o[j] = acc[j];
    }
  }
}

template <int T, typename IndexT>
void sparseBlockTileGeneric(const SparseMatrix &w, const float *xt,
                            int64_t row0, int64_t rows,
                            const SparseKRange &range, float *out, int64_t ldo,
                            bool accumulate) {
  const IndexT *col = static_cast<const IndexT *>(w.col);
  sparseBlockTileCoreGeneric<T>(
      w, [&](int64_t b) { return xt + int64_t(col[b]) * w.blockCols * T; },
      row0, rows, range, out, ldo, accumulate);
}

template <int T>
void sparseNmTileGeneric(const SparseMatrix &w, const float *xt, int64_t row0,
                         int64_t rows, const SparseKRange &range, float *out,
                         int64_t ldo, bool accumulate) {
  const int64_t N = w.n, M = w.m, groups = w.cols / M;
  const int64_t g0 = range.k0 / M, g1 = range.k1 ? range.k1 / M : groups;
  const uint8_t *nib = static_cast<const uint8_t *>(w.col);
  for (int64_t r = row0; r < row0 + rows; ++r) {
    float *o = out + (r - row0) * ldo;
    float acc[T];
    for (int j = 0; j < T; ++j)
      acc[j] = accumulate ? o[j] : 0.f;
    int64_t e = (r * groups + g0) * N;
    for (int64_t g = g0; g < g1; ++g)
      for (int64_t s = 0; s < N; ++s, ++e) {
        const int64_t k = g * M + ((nib[e >> 1] >> ((e & 1) * 4)) & 15);
        const float wv = w.values[e];
        const float *xk = xt + k * T;
        for (int j = 0; j < T; ++j)
          acc[j] += wv * xk[j];
      }
    for (int j = 0; j < T; ++j)
      o[j] = acc[j];
  }
}

template <int T> SparseTileFn sparseSelectTileGenericT(const SparseMatrix &w) {
  if (w.format == SPARQ_SPARSE_NM)
    return sparseNmTileGeneric<T>;
  return w.indexBytes == 2 ? sparseBlockTileGeneric<T, uint16_t>
                           : sparseBlockTileGeneric<T, uint32_t>;
}

SparseTileFn sparseSelectTileGeneric(const SparseMatrix &w, int64_t T) {
  if (T <= 8)
    return sparseSelectTileGenericT<8>(w);
  return sparseSelectTileGenericT<16>(w);
}

/// Direct convolution tile: CSR (R = 1) or R x 1 blocks, one offset per
/// stored block.
template <int T>
void sparseDirectTileGeneric(const SparseMatrix &w, const int32_t *off,
                             const float *x, int64_t row0, int64_t rows,
                             const SparseKRange &range, float *out,
                             int64_t ldo, bool accumulate) {
  sparseBlockTileCoreGeneric<T>(
      w, [&](int64_t b) { return x + off[b]; }, row0, rows, range, out, ldo,
      accumulate);
}

SparseDirectTileFn sparseSelectDirectGeneric(const SparseMatrix &w,
                                             int64_t T) {
  if (w.format == SPARQ_SPARSE_NM || w.blockCols != 1 || T > 16)
    return nullptr;
  return T <= 8 ? sparseDirectTileGeneric<8> : sparseDirectTileGeneric<16>;
}

int64_t sparseMaxTileGeneric(const SparseMatrix &) { return 16; }

SparseVecFn sparseSelectVecGeneric(const SparseMatrix &) { return nullptr; }

SparseNmRowsFn sparseSelectNmRowsGeneric(const SparseMatrix &) {
  return nullptr;
}

void sparsePackRowsGeneric(const float *x, int64_t ld, int64_t cnt, int64_t kc,
                           int64_t T, float *dst) {
  for (int64_t k = 0; k < kc; ++k) {
    float *d = dst + k * T;
    for (int64_t j = 0; j < cnt; ++j)
      d[j] = x[j * ld + k];
    for (int64_t j = cnt; j < T; ++j)
      d[j] = 0.f;
  }
}

void sparseStoreTransposedGeneric(const float *out, int64_t T, int64_t rows,
                                  int64_t cnt, float *y, int64_t ldy,
                                  const SparseStoreEpilogue *epi) {
  for (int64_t j = 0; j < cnt; ++j) {
    float *yj = y + j * ldy;
    for (int64_t r = 0; r < rows; ++r)
      yj[r] = out[r * T + j];
    // The row segment is still in L1: one epilogue pass over it.
    if (epi)
      epi->epilogueRow(yj, 0.f, epi->bias,
                       epi->residual ? epi->residual + j * ldy : nullptr, rows,
                       epi->act, epi->actA, epi->actB);
  }
}

} // namespace

const SparseKernelSet &sparq::rt::genericSparseKernelSet() {
  static const SparseKernelSet set = {
      sparseMaxTileGeneric,  sparseSelectTileGeneric,
      sparseSelectVecGeneric, sparseSelectNmRowsGeneric, sparsePackRowsGeneric,
      sparseStoreTransposedGeneric, sparseSelectDirectGeneric,
      sparseMaxTileGeneric, sparseNoStripRows, nullptr, "generic"};
  return set;
}
