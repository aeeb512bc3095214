//===- SparseKernels.h - Inner kernels of the sparse micro-kernels -*- C++ -*-===//
//
// The ISA-specific building blocks of sparq_uk_sparse_matmul_f32 and
// sparq_uk_sparse_conv2d_f32 (SparseKernels.cpp drives them):
//  - tile kernels: raw products of a range of weight rows with one
//    activation tile, a K-major panel xt[cols][T] of T independent
//    activation vectors (batch rows of a matmul, pixels of a convolution),
//    so every stored weight is one broadcast times T/8 vector FMAs;
//  - vector kernels for a single activation row (batch-1 matmul), which
//    read the activation at the weights' indices (gathers);
//  - the transposes between row-major activations/outputs and tiles.
// An AVX2+FMA set and a portable set exist; sparseKernels() picks one with
// the same CPU check as the dense kernels (kernels() in Kernels.h).
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_RUNTIME_SPARSEKERNELS_H
#define SPARQ_LIB_RUNTIME_SPARSEKERNELS_H

#include "Kernels.h"
#include "SparsePack.h"

#include <cstdint>

namespace sparq {
namespace rt {


/// Widest activation tile any kernel set uses (floats).
constexpr int64_t kSparseMaxTile = 32;

/// The columns of W a tile kernel call covers: all of them, or one chunk
/// [k0, k1) of a split of the reduction dimension (so that the activation
/// rows of a chunk stay in L1 across many weight rows).
struct SparseKRange {
  /// CSR/BLOCK chunk c of block row br holds the blocks [p[c], p[c + 1]) with
  /// p = blockPtr + br * (chunks + 1); null covers whole rows.
  const uint32_t *blockPtr = nullptr;
  int64_t chunks = 1, chunk = 0;
  /// NM: the column range, multiples of M (k1 == 0: all columns).
  int64_t k0 = 0, k1 = 0;
};

/// The stored blocks [b0, b1) of CSR/BLOCK block row br inside `range`.
inline void sparseBlockBounds(const SparseMatrix &w, const SparseKRange &range,
                              int64_t br, int64_t &b0, int64_t &b1) {
  if (range.blockPtr) {
    const uint32_t *p = range.blockPtr + br * (range.chunks + 1) + range.chunk;
    b0 = p[0];
    b1 = p[1];
  } else {
    b0 = w.rowPtr[br];
    b1 = w.rowPtr[br + 1];
  }
}

/// out[(r - row0) * ldo + j] (+)= sum_{k in range} W[r, k] * xt[k * T + j]
/// for weight rows r in [row0, row0 + rows) and j < T; accumulate adds to
/// out instead of overwriting it. row0 and rows are multiples of the block
/// height; T is the tile width the kernel was selected for.
using SparseTileFn = void (*)(const SparseMatrix &w, const float *xt,
                              int64_t row0, int64_t rows,
                              const SparseKRange &range, float *out,
                              int64_t ldo, bool accumulate);

/// y[r - row0] = sum_k W[r, k] * x[k] for r in [row0, row0 + rows).
using SparseVecFn = void (*)(const SparseMatrix &w, const float *x,
                             int64_t row0, int64_t rows, float *y);

/// dst[k * T + j] = x[j * ld + k] for k < kc, j < cnt; lanes cnt..T are 0.
using SparsePackRowsFn = void (*)(const float *x, int64_t ld, int64_t cnt,
                                  int64_t kc, int64_t T, float *dst);

/// The epilogue a store applies to the values it writes: for every output
/// feature r it stores act(((v + 0) + bias[r]) + residual[..]), the same
/// operations in the same order as the dense kernels' EpilogueRowFn (so the
/// results match a raw store followed by epilogueRow bit for bit).
struct SparseStoreEpilogue {
  /// Per output feature, already offset to the store's first feature, or
  /// null.
  const float *bias = nullptr;
  /// Same layout and leading dimension as y and offset like it, or null;
  /// must not alias y.
  const float *residual = nullptr;
  int act = 0;
  float actA = 0.f, actB = 0.f;
  /// The dense kernel set's row epilogue (kernels().epilogueRow), which the
  /// portable stores and the vector stores' tails apply after storing.
  EpilogueRowFn epilogueRow = nullptr;
};

/// y[j * ldy + r] = out[r * T + j] for r < rows, j < cnt; with a non-null
/// epi, each stored row segment y[j * ldy + 0..rows) goes through the
/// epilogue first.
using SparseStoreTransposedFn = void (*)(const float *out, int64_t T,
                                         int64_t rows, int64_t cnt, float *y,
                                         int64_t ldy,
                                         const SparseStoreEpilogue *epi);

/// N:M with M = 4 or 8, vectorized over blocks of 8 output rows instead of
/// activations, on an interleaved panel (see sparseNmRowPanelFloats): for
/// every row block, group g and slot s, 8 values (lane i: row 8b + i) then
/// 8 int32 positions. Computes y[m * ldy + i] = sum over the block's row i
/// for activation rows x[m * ldx + k], m < mCount, i < liveRows, for the
/// row block whose panel starts at `panel`. Selects activation elements
/// with in-register permutes, so X stays row-major and Y is stored directly.
/// A non-null epi (bias offset to the block's first row, residual offset
/// like y) is applied to each stored row segment y[m * ldy + 0..liveRows).
using SparseNmRowsFn = void (*)(const float *panel, int64_t groups,
                                int64_t n, const float *x, int64_t ldx,
                                int64_t mCount, float *y, int64_t ldy,
                                int64_t liveRows,
                                const SparseStoreEpilogue *epi);

/// Direct convolution tile (k x k convolutions without im2col):
/// out[(r - row0) * ldo + j] (+)= sum over the stored weights b of rows
/// [row0, row0 + rows) of value[b] * x[off[b] + j], j < T, where off holds
/// one int32 element offset per stored weight (CSR) or per block (R x 1
/// BLOCK) into a zero-padded input image, flattened so that a tile of T
/// consecutive output positions reads T consecutive input elements.
/// `range` restricts the stored weights to one reduction chunk (blockPtr
/// only; see SparseKRange).
using SparseDirectTileFn = void (*)(const SparseMatrix &w, const int32_t *off,
                                    const float *x, int64_t row0, int64_t rows,
                                    const SparseKRange &range, float *out,
                                    int64_t ldo, bool accumulate);

/// The input window of a row-strip tile (see sparseConvStrips): for
/// kw < KW and r < rows, dst[(kw * rows + r) * 16 + j] =
/// x[(ih0 + r * sH) * W + iw0 + kw * dW + j * sW] for j < 16, 0 where that
/// lies outside the H x W image x. dst is 64-byte aligned.
using SparseStripWindowFn = void (*)(const float *x, int64_t H, int64_t W,
                                     int64_t ih0, int64_t sH, int64_t iw0,
                                     int64_t sW, int64_t KW, int64_t dW,
                                     int64_t rows, float *dst);

struct SparseKernelSet {
  /// Widest tile (8, 16 or 32) worth using for w; tiles are 8, 16 or 32.
  int64_t (*maxTile)(const SparseMatrix &w);
  /// Tile kernel for w and tile width T (never null).
  SparseTileFn (*selectTile)(const SparseMatrix &w, int64_t T);
  /// Vector kernel for w, or null when the tile path with T = 8 is used.
  SparseVecFn (*selectVec)(const SparseMatrix &w);
  /// Row-vectorized N:M kernel for w (M = 4 or 8), or null.
  SparseNmRowsFn (*selectNmRows)(const SparseMatrix &w);
  SparsePackRowsFn packRows;
  SparseStoreTransposedFn storeTransposed;
  /// Direct convolution tile for w (CSR or R x 1 blocks) and tile width T,
  /// or null when w's format has no direct kernel.
  SparseDirectTileFn (*selectDirect)(const SparseMatrix &w, int64_t T);
  /// Widest direct-convolution tile for w: 8, 16, 32, or a multiple of 16
  /// up to 64 (selectDirect takes any multiple of 16 up to it).
  int64_t (*maxDirectTile)(const SparseMatrix &w);
  /// Most vectors of 16 floats (V) in a row-strip tile of a convolution
  /// (selectDirect then takes T = 16 V), or 0 where the set has no such
  /// kernel for w (see sparseConvStrips).
  int64_t (*maxStripRows)(const SparseMatrix &w);
  /// Window copy of the row-strip tiles (null where maxStripRows is 0).
  SparseStripWindowFn stripWindow;
  const char *name;
};

/// maxStripRows of the sets without row-strip kernels.
inline int64_t sparseNoStripRows(const SparseMatrix &) { return 0; }

/// The set for this CPU (or the one forced by setSparseKernelsForTesting).
const SparseKernelSet &sparseKernels();
const SparseKernelSet &genericSparseKernelSet();
/// Null where the CPU or the build lacks AVX2+FMA.
const SparseKernelSet *avx2SparseKernelSet();
/// Null where the CPU or the build lacks AVX-512 (F, BW, DQ, VL).
const SparseKernelSet *avx512SparseKernelSet();
/// Forces a kernel set (null restores the automatic choice); tests only.
void setSparseKernelsForTesting(const SparseKernelSet *set);
/// Forces the direct convolution's aligned mode (1), its unaligned mode (0)
/// or the choice by shape (-1, also SPARQ_SPARSE_DIRECT_ALIGN unset); tests
/// only.
void setSparseDirectAlignForTesting(int mode);
/// Forces the stride-1 row-strip convolution path wherever the kernel set
/// has it (1), never (0), or by shape (-1, also SPARQ_SPARSE_CONV_STRIPS
/// unset); tests only.
void setSparseConvStripsForTesting(int mode);

} // namespace rt
} // namespace sparq

#endif // SPARQ_LIB_RUNTIME_SPARSEKERNELS_H
