//===- SparseKernels.cpp - Sparse matmul and conv2d micro-kernel entries --===//
//
// sparq_uk_sparse_matmul_f32 and sparq_uk_sparse_conv2d_f32: products of a
// packed sparse weight (sparq_sparse_format.h) with dense activations.
//  - The blob is validated once per model and address; the validated view
//    lives in the model's packed-weight cache, so steady-state calls cost one
//    cache lookup. A malformed blob makes the kernel return without writing.
//  - matmul, CSR/BLOCK (and N:M without a row kernel): X is transposed once
//    per call into K-major tiles of 8, 16 or 32 rows (model scratch); threads
//    split the weight rows; each group of >= 8 rows is computed per tile in
//    registers and stored transposed into Y, the store applying the
//    bias/residual/activation epilogue, so Y is written once, final (the
//    same arithmetic as the dense kernels' epilogueRow, bit for bit). Long
//    rows are split into reduction chunks whose tile rows fit in L1 (a
//    per-row table of chunk starts is derived once and cached; it needs
//    sorted columns). With M == 1 a vector kernel (gather-dot, or R x 1
//    column blocks) is used where one fits.
//  - matmul, N:M with M = 4 or 8 (AVX2): an interleaved copy of the weights
//    (cached) feeds a kernel vectorized over 8 output rows that picks the
//    activations with permutes; X and Y are used in place and the kernel
//    applies the epilogue as it stores.
//  - conv: threads split (image, tile, channel range). k x k convolutions
//    read their inputs directly with one offset per stored weight: from
//    row-strip windows copied into L1 per reduction chunk (sparseConvStrips,
//    AVX-512 CSR) or from zero-padded phase planes of the image
//    (sparseConvDirect); the others pack their pixel tile of the im2col
//    matrix K-major (a plain copy for 1x1 convs) and run the matmul tile
//    kernels.
//
//===----------------------------------------------------------------------===//

#include "sparq/Runtime/sparq_runtime.h"
#include "sparq/Runtime/sparq_sparse_format.h"

#include "Kernels.h"
#include "Model.h"
#include "SparseCache.h"
#include "SparseKernels.h"
#include "SparsePack.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace sparq::rt;

namespace {

/// Tags of the sparse entries in the packed-weight cache.
constexpr int64_t kSparseCopyTag = 0x53505101;
constexpr int64_t kSparseViewTag = 0x53505102;
constexpr int64_t kSparseChunkTag = 0x53505103;
constexpr int64_t kSparseNmPanelTag = 0x53505104;
constexpr int64_t kSparseDirectOffTag = 0x53505105;
constexpr int64_t kSparseStripOffTag = 0x53505106;

std::atomic<const SparseKernelSet *> sparseForcedSet{nullptr};
/// The direct convolution's aligned mode: -1 by shape, 0 never, 1 always.
std::atomic<int> sparseDirectAlignMode{[] {
  const char *v = std::getenv("SPARQ_SPARSE_DIRECT_ALIGN");
  return v && std::string(v) == "0" ? 0 : v && std::string(v) == "1" ? 1 : -1;
}()};

/// The row-strip convolution path: -1 by shape, 0 never, 1 wherever the
/// kernel set has it.
std::atomic<int> sparseStripMode{[] {
  const char *v = std::getenv("SPARQ_SPARSE_CONV_STRIPS");
  return v && std::string(v) == "0" ? 0 : v && std::string(v) == "1" ? 1 : -1;
}()};

/// Looks up (validating on first use) the view of the blob at w; null when
/// the blob is malformed or memory ran out.
const SparseMatrix *sparseLookup(Context &context, const void *w) {
  return cachedSparseView<SparseMatrix>(context, w, kSparseViewTag,
                                        kSparseCopyTag, readSparseBlob);
}

int64_t sparseDivCeil(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Output rows handled together: a multiple of the block height, >= 8.
int64_t sparseGroupRows(const SparseMatrix &w) {
  return w.blockRows * sparseDivCeil(8, w.blockRows);
}

/// Width of the tile holding `count` activations: 8, 16 or 32, at most
/// maxTile.
int64_t sparseTileWidth(int64_t count, int64_t maxTile) {
  int64_t t = count <= 8 ? 8 : (count <= 16 ? 16 : 32);
  return std::min(t, maxTile);
}

struct SparseEpilogue {
  const float *bias, *residual;
  int act;
  float actA, actB;
  bool trivial() const { return !bias && !residual && act == 0; }

  /// The epilogue of a store of features [r, ...) of Y [M, N] starting at
  /// activation row m, or null when there is nothing to apply.
  const SparseStoreEpilogue *at(SparseStoreEpilogue &storage, int64_t m,
                                int64_t N, int64_t r) const {
    if (trivial())
      return nullptr;
    storage.bias = bias ? bias + r : nullptr;
    storage.residual = residual ? residual + m * N + r : nullptr;
    storage.act = act;
    storage.actA = actA;
    storage.actB = actB;
    storage.epilogueRow = kernels().epilogueRow;
    return &storage;
  }
};

/// Applies bias, residual and activation to output columns [r0, r1) of
/// every row of Y [M, N] (the output features one task produced); the
/// batch-1 vector path's epilogue, over the segment it just wrote.
void sparseEpilogueColumns(EpilogueRowFn epilogueRow,
                           const SparseEpilogue &epi, float *Y, int64_t M,
                           int64_t N, int64_t r0, int64_t r1) {
  if (epi.trivial())
    return;
  for (int64_t m = 0; m < M; ++m)
    epilogueRow(Y + m * N + r0, 0.f, epi.bias ? epi.bias + r0 : nullptr,
                epi.residual ? epi.residual + m * N + r0 : nullptr, r1 - r0,
                epi.act, epi.actA, epi.actB);
}

void sparseMatmulVec(Context &context, const SparseMatrix &w, SparseVecFn vec, const float *x,
                     float *y, const SparseEpilogue &epi) {
  const int64_t groupRows = sparseGroupRows(w);
  const int64_t groups = sparseDivCeil(w.rows, groupRows);
  const EpilogueRowFn epilogueRow = kernels().epilogueRow;
  context.threads().parallelFor(
      groups, sparseGrain(groups, context.numThreads(), double(w.nnz)),
      [&](int64_t g0, int64_t g1) {
        const int64_t r0 = g0 * groupRows;
        const int64_t r1 = std::min(w.rows, g1 * groupRows);
        vec(w, x, r0, r1 - r0, y + r0);
        sparseEpilogueColumns(epilogueRow, epi, y, /*M=*/1, w.rows, r0, r1);
      });
}

/// Bytes of activation tile rows a reduction chunk may span: half of L1.
constexpr int64_t kSparseChunkBytes = 16 * 1024;
/// Most output rows one thread accumulates before storing them.
constexpr int64_t kSparseMaxChunkRows = 256;

/// A split of the reduction dimension into chunks of whole blocks (CSR,
/// BLOCK) or groups (NM) whose activation rows fit kSparseChunkBytes.
struct SparseKSplit {
  int64_t chunks = 1, kc = 0, cols = 0;
  const uint32_t *blockPtr = nullptr; ///< see SparseKRange

  SparseKRange range(int64_t c) const {
    SparseKRange r;
    if (chunks == 1)
      return r;
    r.blockPtr = blockPtr;
    r.chunks = chunks;
    r.chunk = c;
    r.k0 = c * kc;
    r.k1 = std::min(cols, (c + 1) * kc);
    return r;
  }
};

/// Plans the reduction split for tiles of width T; CSR/BLOCK need sorted
/// rows and a per-row table of chunk starts, derived once and cached.
/// colBytes is the L1 footprint of one reduction column (0: a tile row of T
/// floats).
SparseKSplit sparsePlanKSplit(Context &context, const void *blob,
                              const SparseMatrix &w, int64_t T,
                              int64_t colBytes = 0) {
  SparseKSplit split;
  const int64_t unit = w.format == SPARQ_SPARSE_NM ? w.m : w.blockCols;
  if (colBytes <= 0)
    colBytes = 4 * T;
  const int64_t kc =
      std::max<int64_t>(1, kSparseChunkBytes / colBytes / unit) * unit;
  if (w.cols <= kc + kc / 2 ||
      (w.format != SPARQ_SPARSE_NM && !w.sortedColumns))
    return split;
  split.kc = kc;
  split.cols = w.cols;
  split.chunks = sparseDivCeil(w.cols, kc);
  if (w.format == SPARQ_SPARSE_NM) {
    // The last chunk ends at cols, a multiple of M.
    return split;
  }
  const int64_t blockRows = w.rows / w.blockRows;
  const int64_t stride = split.chunks + 1;
  const int64_t kcBlocks = kc / w.blockCols;
  std::vector<int64_t> key = {kSparseChunkTag, reinterpret_cast<int64_t>(blob),
                              w.rows, w.cols, w.nnz, kc};
  const float *table = context.cachedPack(
      key, static_cast<size_t>(blockRows * stride), [&](float *dst) {
        uint32_t *p = reinterpret_cast<uint32_t *>(dst);
        for (int64_t br = 0; br < blockRows; ++br) {
          uint32_t *row = p + br * stride;
          int64_t b = w.rowPtr[br];
          const int64_t end = w.rowPtr[br + 1];
          for (int64_t c = 0; c < split.chunks; ++c) {
            row[c] = static_cast<uint32_t>(b);
            const int64_t limit = (c + 1) * kcBlocks;
            while (b < end && (w.indexBytes == 2
                                   ? int64_t(static_cast<const uint16_t *>(
                                         w.col)[b])
                                   : int64_t(static_cast<const uint32_t *>(
                                         w.col)[b])) < limit)
              ++b;
          }
          row[split.chunks] = static_cast<uint32_t>(end);
        }
      });
  if (!table)
    return SparseKSplit();
  split.blockPtr = reinterpret_cast<const uint32_t *>(table);
  return split;
}

/// Parallel loop grain over row groups: a few chunks per thread, at most
/// kSparseMaxChunkRows rows each.
int64_t sparseRowGrain(int64_t groups, int64_t groupRows, int threads,
                       double macs) {
  return std::min(sparseGrain(groups, threads, macs),
                  std::max<int64_t>(1, kSparseMaxChunkRows / groupRows));
}

/// Builds (once, cached) the interleaved panel of the row-vectorized N:M
/// kernel: per block of 8 rows, group and slot, 8 values then 8 int32
/// positions; rows past the end are zero.
const float *sparseNmRowPanel(Context &context, const void *blob,
                              const SparseMatrix &w) {
  const int64_t groups = w.cols / w.m, rowBlocks = sparseDivCeil(w.rows, 8);
  const int64_t slots = groups * w.n;
  std::vector<int64_t> key = {kSparseNmPanelTag,
                              reinterpret_cast<int64_t>(blob), w.rows, w.cols,
                              w.n, w.m};
  return context.cachedPack(
      key, static_cast<size_t>(rowBlocks * slots * 16), [&](float *dst) {
        const uint8_t *nib = static_cast<const uint8_t *>(w.col);
        for (int64_t rb = 0; rb < rowBlocks; ++rb)
          for (int64_t q = 0; q < slots; ++q) {
            float *vals = dst + (rb * slots + q) * 16;
            int32_t pos[8];
            for (int64_t i = 0; i < 8; ++i) {
              const int64_t r = rb * 8 + i;
              const int64_t e = r * slots + q;
              vals[i] = r < w.rows ? w.values[e] : 0.f;
              pos[i] = r < w.rows ? (nib[e >> 1] >> ((e & 1) * 4)) & 15 : 0;
            }
            std::memcpy(vals + 8, pos, sizeof(pos));
          }
      });
}

/// N:M matmul on the row-vectorized kernel: threads split blocks of 8
/// output rows; X and Y are used in place.
void sparseMatmulNmRows(Context &context, SparseNmRowsFn fn,
                        const float *panel, const SparseMatrix &w,
                        const float *X, float *Y, int64_t M,
                        const SparseEpilogue &epi) {
  const int64_t N = w.rows, K = w.cols, groups = K / w.m;
  const int64_t rowBlocks = sparseDivCeil(N, 8);
  const int64_t blockFloats = groups * w.n * 16;
  context.threads().parallelFor(
      rowBlocks,
      sparseRowGrain(rowBlocks, 8, context.numThreads(),
                     double(w.nnz) * double(M)),
      [&](int64_t b0, int64_t b1) {
        // The kernel applies the epilogue as it stores each row block.
        SparseStoreEpilogue storeEpi;
        for (int64_t rb = b0; rb < b1; ++rb)
          fn(panel + rb * blockFloats, groups, w.n, X, K, M, Y + rb * 8, N,
             std::min<int64_t>(8, N - rb * 8),
             epi.at(storeEpi, /*m=*/0, N, rb * 8));
      });
}

/// Whether sparseMatmulTiles splits the activation tiles among the threads
/// (each transposing its own) rather than the output rows: with at least
/// two tiles per thread, so the split stays balanced.
/// SPARQ_SPARSE_SPLIT=rows|tiles forces one way (benchmarks, tests).
bool sparseSplitActivations(int64_t numTiles, int threads) {
  static const int forced = [] {
    const char *v = std::getenv("SPARQ_SPARSE_SPLIT");
    if (!v)
      return -1;
    return std::strcmp(v, "tiles") == 0 ? 1 : std::strcmp(v, "rows") == 0 ? 0 : -1;
  }();
  if (forced >= 0)
    return forced == 1;
  return numTiles >= 2 * int64_t(threads);
}

void sparseMatmulTiles(Context &context, const SparseKernelSet &ks,
                       const void *blob, const SparseMatrix &w, const float *X,
                       float *Y, int64_t M, const SparseEpilogue &epi) {
  const int64_t N = w.rows, K = w.cols;
  const int64_t maxTile = M == 1 ? 8 : ks.maxTile(w);
  // Tiles of maxTile rows of X, the last one narrowed to its row count.
  const int64_t numTiles = sparseDivCeil(M, maxTile);
  const int64_t lastCount = M - (numTiles - 1) * maxTile;
  const int64_t lastWidth = sparseTileWidth(lastCount, maxTile);
  const SparseKSplit splitFull = sparsePlanKSplit(context, blob, w, maxTile);
  const SparseKSplit splitLast = sparsePlanKSplit(context, blob, w, lastWidth);
  const SparseTileFn tileFull = ks.selectTile(w, maxTile);
  const SparseTileFn tileLast = ks.selectTile(w, lastWidth);
  const int64_t groupRows = sparseGroupRows(w);
  const int threads = context.numThreads();
  const double macs = double(w.nnz) * double(M);
  constexpr int64_t kChunk = 256;
  const int64_t kChunks = sparseDivCeil(K, kChunk);

  // Tile t: X rows [m0, m0 + count) transposed into K x width at xtTile.
  auto packChunk = [&](int64_t t, int64_t k0, float *xtTile) {
    const int64_t m0 = t * maxTile;
    const bool last = t + 1 == numTiles;
    ks.packRows(X + m0 * K + k0, K, last ? lastCount : maxTile,
                std::min(kChunk, K - k0), last ? lastWidth : maxTile,
                xtTile + k0 * (last ? lastWidth : maxTile));
  };
  // Output rows [r0, r1) on tile t: the products into out [row][width]
  // (reduction chunk by chunk, so the tile's rows stay in L1), then the
  // transposed store, which applies the epilogue.
  auto rowsOnTile = [&](int64_t t, const float *xtTile, int64_t r0,
                        int64_t r1, float *out, SparseStoreEpilogue &storeEpi) {
    const int64_t m0 = t * maxTile;
    const bool last = t + 1 == numTiles;
    const int64_t width = last ? lastWidth : maxTile;
    const SparseTileFn tile = last ? tileLast : tileFull;
    const SparseKSplit &split = last ? splitLast : splitFull;
    for (int64_t c = 0; c < split.chunks; ++c) {
      const SparseKRange range = split.range(c);
      for (int64_t r = r0; r < r1; r += groupRows)
        tile(w, xtTile, r, std::min(groupRows, r1 - r), range,
             out + (r - r0) * width, width, c > 0);
    }
    ks.storeTransposed(out, width, r1 - r0, last ? lastCount : maxTile,
                       Y + m0 * N + r0, N, epi.at(storeEpi, m0, N, r0));
  };

  if (sparseSplitActivations(numTiles, threads)) {
    // Enough activation tiles to share out: each task transposes its own
    // tile of X and runs every output row on it, so there is one parallel
    // region, no barrier between the transpose and the products, and the
    // tile never leaves the core that wrote it.
    context.threads().parallelFor(numTiles, 1, [&](int64_t t0, int64_t t1) {
      SparseStoreEpilogue storeEpi;
      float *xtT = context.scratch(ScratchSlot::PackB,
                                   static_cast<size_t>(K * maxTile));
      float *out = context.scratch(ScratchSlot::PackA,
                                   static_cast<size_t>(N * maxTile));
      if (!xtT || !out)
        return;
      for (int64_t t = t0; t < t1; ++t) {
        for (int64_t k = 0; k < kChunks; ++k)
          packChunk(t, k * kChunk, xtT);
        rowsOnTile(t, xtT, 0, N, out, storeEpi);
      }
    });
    return;
  }

  // Otherwise every tile is transposed first (in chunks of 256 columns),
  // then the threads split the output rows.
  float *xt = context.scratch(
      ScratchSlot::SharedB, static_cast<size_t>((M - lastCount + lastWidth) * K));
  if (!xt)
    return;
  context.threads().parallelFor(
      numTiles * kChunks,
      sparseGrain(numTiles * kChunks, threads, double(M) * double(K) * 8),
      [&](int64_t u0, int64_t u1) {
        for (int64_t u = u0; u < u1; ++u)
          packChunk(u / kChunks, (u % kChunks) * kChunk,
                    xt + (u / kChunks) * maxTile * K);
      });
  const int64_t groups = sparseDivCeil(N, groupRows);
  context.threads().parallelFor(
      groups, sparseRowGrain(groups, groupRows, threads, macs),
      [&](int64_t g0, int64_t g1) {
        SparseStoreEpilogue storeEpi;
        const int64_t r0 = g0 * groupRows;
        const int64_t r1 = std::min(N, g1 * groupRows);
        float *out = context.scratch(
            ScratchSlot::PackA, static_cast<size_t>((r1 - r0) * maxTile));
        if (!out)
          return;
        for (int64_t t = 0; t < numTiles; ++t)
          rowsOnTile(t, xt + t * maxTile * K, r0, r1, out, storeEpi);
      });
}

/// Column index (c KH + kh) KW + kw of CSR/BLOCK stored block b.
int64_t sparseStoredColumn(const SparseMatrix &w, int64_t b) {
  return w.indexBytes == 2 ? int64_t(static_cast<const uint16_t *>(w.col)[b])
                           : int64_t(static_cast<const uint32_t *>(w.col)[b]);
}

/// Tile columns [j, j + len) that go to output positions [p, p + len).
struct SparseTileSegment {
  int64_t j, p, len;
};

/// Writes output channels [r0, r1) of a direct-convolution tile (raw
/// products at out[(i - r0) * width + j]) into image y (P positions per
/// channel) through the epilogue, segment by segment. Without a residual the
/// epilogue runs once over the first `count` columns of each tile row (whole
/// vectors), not once per segment.
void sparseStoreConvTile(float *out, int64_t width, int64_t count, int64_t r0,
                         int64_t r1, const SparseTileSegment *segs,
                         int64_t numSegs, float *y, const float *res,
                         int64_t P, const SparseEpilogue &epi,
                         EpilogueRowFn epilogueRow) {
  for (int64_t i = r0; i < r1; ++i) {
    float *outRow = out + (i - r0) * width;
    const float rowBias = epi.bias ? epi.bias[i] : 0.f;
    if (!epi.trivial() && !res)
      epilogueRow(outRow, rowBias, nullptr, nullptr, count, epi.act, epi.actA,
                  epi.actB);
    for (int64_t s = 0; s < numSegs; ++s) {
      const SparseTileSegment &sg = segs[s];
      float *yi = y + i * P + sg.p;
      // A whole 16-float segment is a fixed-size (inlined) copy.
      if (sg.len == 16)
        std::memcpy(yi, outRow + sg.j, 16 * sizeof(float));
      else
        std::memcpy(yi, outRow + sg.j, sg.len * sizeof(float));
      if (res)
        epilogueRow(yi, rowBias, nullptr, res + i * P + sg.p, sg.len, epi.act,
                    epi.actA, epi.actB);
    }
  }
}

/// Largest stride of the direct convolution path (larger ones use im2col).
constexpr int64_t kSparseMaxStride = 4;
/// Widest direct-convolution tile of any kernel set (maxDirectTile).
constexpr int64_t kSparseMaxDirectTile = 64;
/// Most rows of a row-strip tile of any kernel set (maxStripRows).
constexpr int64_t kSparseMaxStripRows = 8;

struct SparseConvGeometry {
  int64_t C, H, W, KH, KW, OH, OW, sH, sW, pT, pL, dH, dW;
};

/// Writes im2col rows (c, kh, kw) x pixels [p0, p0 + count) of one image
/// into dst[k * T + j], zero for padding and for lanes count..T.
void sparsePackIm2colTile(const float *x, const SparseConvGeometry &g,
                          int64_t p0, int64_t count, int64_t T, float *dst) {
  struct Run {
    int64_t j, len, ih0, iw0;
  };
  Run runs[kSparseMaxTile];
  int numRuns = 0;
  for (int64_t j = 0; j < count;) {
    const int64_t oh = (p0 + j) / g.OW, ow = (p0 + j) % g.OW;
    const int64_t len = std::min(count - j, g.OW - ow);
    runs[numRuns++] = {j, len, oh * g.sH - g.pT, ow * g.sW - g.pL};
    j += len;
  }
  float *row = dst;
  for (int64_t c = 0; c < g.C; ++c) {
    const float *plane = x + c * g.H * g.W;
    for (int64_t kh = 0; kh < g.KH; ++kh)
      for (int64_t kw = 0; kw < g.KW; ++kw, row += T) {
        for (int r = 0; r < numRuns; ++r) {
          const Run &run = runs[r];
          float *o = row + run.j;
          const int64_t ih = run.ih0 + kh * g.dH;
          if (ih < 0 || ih >= g.H) {
            std::fill(o, o + run.len, 0.f);
            continue;
          }
          const float *line = plane + ih * g.W;
          const int64_t iw0 = run.iw0 + kw * g.dW;
          // Pixels [lo, hi) of the run read inside the input row.
          int64_t lo = iw0 >= 0 ? 0 : sparseDivCeil(-iw0, g.sW);
          int64_t hi = iw0 >= g.W ? 0 : (g.W - 1 - iw0) / g.sW + 1;
          lo = std::min(lo, run.len);
          hi = std::max(lo, std::min(hi, run.len));
          std::fill(o, o + lo, 0.f);
          if (g.sW == 1) {
            std::memcpy(o + lo, line + iw0 + lo, (hi - lo) * sizeof(float));
          } else {
            for (int64_t t = lo; t < hi; ++t)
              o[t] = line[iw0 + t * g.sW];
          }
          std::fill(o + hi, o + run.len, 0.f);
        }
        std::fill(row + count, row + T, 0.f);
      }
  }
}

/// How a sparse convolution splits into parallel units: every (image,
/// position tile, output-channel range), with the channels split too when
/// images x tiles are fewer than a few per thread.
struct SparseConvUnits {
  int64_t tiles, groupRows, groupsPerSplit, channelSplits = 1, K;

  SparseConvUnits(int64_t N, int64_t tiles, const SparseMatrix &w,
                  int threads)
      : tiles(tiles), groupRows(sparseGroupRows(w)), K(w.rows) {
    const int64_t groups = sparseDivCeil(K, groupRows);
    while (N * tiles * channelSplits < 4 * threads &&
           channelSplits * 2 <= groups)
      channelSplits *= 2;
    groupsPerSplit = sparseDivCeil(groups, channelSplits);
  }
  int64_t count(int64_t N) const { return N * tiles * channelSplits; }
  /// Rows of the raw-product buffer one unit fills.
  int64_t maxRows() const { return groupsPerSplit * groupRows; }

  struct Unit {
    int64_t img, tile, r0, r1; ///< output channels [r0, r1); may be empty
  };
  Unit unit(int64_t u) const {
    const int64_t split = u % channelSplits;
    const int64_t r0 = split * maxRows();
    return {u / (channelSplits * tiles), (u / channelSplits) % tiles, r0,
            std::min(K, r0 + maxRows())};
  }
};

/// SPARQ_SPARSE_CONV_DIRECT=0 sends every convolution through im2col
/// (benchmarks and tests compare the two paths).
bool sparseDirectEnabled() {
  static const bool enabled = [] {
    const char *v = std::getenv("SPARQ_SPARSE_CONV_DIRECT");
    return !(v && std::string(v) == "0");
  }();
  return enabled;
}

/// Width of a direct tile holding `count` positions: sparseTileWidth's 8,
/// 16 or 32, or above 32 the next multiple of 16, at most maxTile.
int64_t sparseDirectTileWidth(int64_t count, int64_t maxTile) {
  if (maxTile <= 32 || count <= 32)
    return sparseTileWidth(count, maxTile);
  return std::min(maxTile, sparseDivCeil(count, 16) * 16);
}

/// Direct convolution over row-strip tiles, for kernel sets with
/// maxStripRows (AVX-512, CSR). A tile is V <= 8 output rows of one strip
/// of 16 output columns, one zmm per row. Before each reduction chunk the
/// thread copies the chunk's input window into a buffer that stays in L1:
/// per channel c, row phase a (of the sH phases some tap reads) and
/// horizontal tap kw, M = V + (KH - 1) dH / sH rows of 16, row m and lane j
/// holding input ((oh0 + m) sH + a - pT, (ow0 + j) sW + kw dW - pL), zero
/// outside the image. Tap (c, kh, kw) then reads V consecutive 64-byte
/// aligned vectors: rows m = i + kh dH / sH of phase kh dH mod sH, so the
/// tile kernels are the padded-plane path's, with T = 16 V.
/// Against that path's 64-position tiles: every load is aligned without
/// per-shift copies of the whole image (which spill to L2 and beyond), a
/// channel's window costs fewer bytes per position, so the chunks (and the
/// runs of stored weights per row between two accumulator stores) are
/// longer, and each loaded weight feeds up to 8 FMAs.
/// Returns false, having done nothing, where it does not apply.
bool sparseConvStrips(Context &context, const SparseKernelSet &ks,
                      const void *blob, const SparseMatrix &wm,
                      const SparseConvGeometry &g, int64_t N, const float *X,
                      float *Y, const SparseEpilogue &epi) {
  constexpr int64_t kLanes = 16;
  const int mode = sparseStripMode.load();
  const int64_t maxRows = std::min(ks.maxStripRows(wm), kSparseMaxStripRows);
  if (mode == 0 || maxRows <= 0 || !ks.stripWindow)
    return false;
  const int64_t strips = sparseDivCeil(g.OW, kLanes);
  // Narrow maps would waste most lanes of a strip: by shape, at most 1/3
  // more columns than OW (7 x 7 maps stay on the padded planes).
  if (mode < 0 && strips * kLanes * 3 > g.OW * 4)
    return false;
  // Row phases some tap reads, and their slots.
  int64_t phaseSlot[kSparseMaxStride];
  std::fill(std::begin(phaseSlot), std::end(phaseSlot), -1);
  int64_t phases = 0;
  for (int64_t kh = 0; kh < g.KH; ++kh) {
    int64_t &slot = phaseSlot[kh * g.dH % g.sH];
    if (slot < 0)
      slot = phases++;
  }
  const int64_t rowTiles = sparseDivCeil(g.OH, maxRows);
  const int64_t V = sparseDivCeil(g.OH, rowTiles);
  const int64_t lastV = g.OH - (rowTiles - 1) * V;
  const int64_t winRows = V + g.dH * (g.KH - 1) / g.sH;
  const int64_t chanFloats = phases * g.KW * winRows * kLanes;
  if (g.C * chanFloats > INT32_MAX)
    return false;
  const SparseDirectTileFn tileFull = ks.selectDirect(wm, V * kLanes);
  const SparseDirectTileFn tileLast = ks.selectDirect(wm, lastV * kLanes);
  if (!tileFull || !tileLast)
    return false;
  // Chunks of about 32 KB of window, as the padded-plane path's.
  const int64_t KK = g.KH * g.KW;
  const SparseKSplit split = sparsePlanKSplit(
      context, blob, wm, V * kLanes,
      std::max<int64_t>(1, chanFloats * 4 / KK / 2));

  const int64_t stored = int64_t(wm.rowPtr[wm.rows / wm.blockRows]);
  std::vector<int64_t> key = {kSparseStripOffTag,
                              reinterpret_cast<int64_t>(blob),
                              wm.rows,
                              wm.cols,
                              wm.nnz,
                              g.KH,
                              g.KW,
                              g.dH,
                              g.sH,
                              winRows};
  const float *offTable = context.cachedPack(
      key, static_cast<size_t>(std::max<int64_t>(stored, 1)), [&](float *dst) {
        int32_t *off = reinterpret_cast<int32_t *>(dst);
        for (int64_t b = 0; b < stored; ++b) {
          const int64_t k = sparseStoredColumn(wm, b);
          const int64_t c = k / KK, kh = (k % KK) / g.KW, kw = k % g.KW;
          const int64_t rh = kh * g.dH;
          off[b] = static_cast<int32_t>(
              (((c * phases + phaseSlot[rh % g.sH]) * g.KW + kw) * winRows +
               rh / g.sH) *
              kLanes);
        }
      });
  if (!offTable)
    return true; // out of memory, recorded by the context
  const int32_t *off = reinterpret_cast<const int32_t *>(offTable);

  const int threads = context.numThreads();
  const SparseConvUnits work(N, rowTiles * strips, wm, threads);
  const int64_t groupRows = work.groupRows, units = work.count(N);
  const int64_t K = wm.rows, P = g.OH * g.OW;
  const double macs = double(wm.nnz) * double(P) * double(N);
  const EpilogueRowFn epilogueRow = kernels().epilogueRow;
  context.threads().parallelFor(
      units, sparseGrain(units, threads, macs), [&](int64_t u0, int64_t u1) {
        float *out = context.scratch(
            ScratchSlot::PackA,
            static_cast<size_t>(work.maxRows() * V * kLanes));
        float *win = context.scratch(ScratchSlot::PackB,
                                     static_cast<size_t>(g.C * chanFloats));
        if (!out || !win)
          return;
        for (int64_t u = u0; u < u1; ++u) {
          const auto [img, tile, r0, r1] = work.unit(u);
          if (r0 >= r1)
            continue;
          const int64_t rowTile = tile / strips, strip = tile % strips;
          const bool last = rowTile + 1 == rowTiles;
          const int64_t rows = last ? lastV : V, width = rows * kLanes;
          const SparseDirectTileFn tileFn = last ? tileLast : tileFull;
          const int64_t oh0 = rowTile * V, ow0 = strip * kLanes;
          const int64_t cols = std::min(kLanes, g.OW - ow0);
          const float *x = X + img * g.C * g.H * g.W;
          for (int64_t c = 0; c < split.chunks; ++c) {
            const SparseKRange range = split.range(c);
            const int64_t c0 = split.chunks == 1 ? 0 : range.k0 / KK;
            const int64_t c1 =
                split.chunks == 1 ? g.C : sparseDivCeil(range.k1, KK);
            for (int64_t ch = c0; ch < c1; ++ch)
              for (int64_t ph = 0; ph < g.sH; ++ph)
                if (phaseSlot[ph] >= 0)
                  ks.stripWindow(x + ch * g.H * g.W, g.H, g.W,
                                 oh0 * g.sH + ph - g.pT, g.sH,
                                 ow0 * g.sW - g.pL, g.sW, g.KW, g.dW, winRows,
                                 win + ch * chanFloats +
                                     phaseSlot[ph] * g.KW * winRows * kLanes);
            for (int64_t r = r0; r < r1; r += groupRows)
              tileFn(wm, off, win, r, std::min(groupRows, r1 - r), range,
                     out + (r - r0) * width, width, c > 0);
          }
          SparseTileSegment segs[kSparseMaxStripRows];
          for (int64_t v = 0; v < rows; ++v)
            segs[v] = {v * kLanes, (oh0 + v) * g.OW + ow0, cols};
          sparseStoreConvTile(
              out, width, width, r0, r1, segs, rows, Y + img * K * P,
              epi.residual ? epi.residual + img * K * P : nullptr, P, epi,
              epilogueRow);
        }
      });
  return true;
}

/// The direct path of sparq_uk_sparse_conv2d_f32 (CSR or R x 1 blocks, any
/// stride and dilation). Each image is copied once into zero-padded phase
/// planes: with strides sH x sW, phase (a, b) of channel c holds the padded
/// input rows a, a + sH, ... and columns b, b + sW, ..., so a strided
/// convolution becomes a stride-1 one over C x sH x sW planes (only the
/// phases some tap reads are built). The planes are Hq rows of rowLen (Wq,
/// or Wq padded to whole vectors in the aligned mode below), flattened so
/// that output position (oh, ow) maps to q = oh * rowLen + ow, and tap
/// (c, kh, kw) reads plane (c, kh dH mod sH, kw dW mod sW) at
/// q + (kh dH / sH) rowLen + kw dW / sW. A tile of T consecutive q then
/// reads T consecutive elements per stored weight: no im2col. The
/// rowLen - OW columns of each output row that wrap around are computed and
/// dropped.
/// Returns false, having done nothing, when an image's planes are too large
/// for the int32 offsets or no kernel fits (the caller then takes the
/// im2col path).
bool sparseConvDirect(Context &context, const SparseKernelSet &ks,
                      const void *blob, const SparseMatrix &wm,
                      const SparseConvGeometry &g, int64_t N, const float *X,
                      float *Y, const SparseEpilogue &epi) {
  const int64_t K = wm.rows;
  // Phases some tap reads, and the plane slot each one gets.
  int64_t phaseSlot[kSparseMaxStride * kSparseMaxStride];
  std::fill(std::begin(phaseSlot), std::end(phaseSlot), -1);
  int64_t phases = 0;
  for (int64_t kh = 0; kh < g.KH; ++kh)
    for (int64_t kw = 0; kw < g.KW; ++kw) {
      int64_t &slot = phaseSlot[(kh * g.dH % g.sH) * g.sW + kw * g.dW % g.sW];
      if (slot < 0)
        slot = phases++;
    }
  const int64_t Hq = g.OH + g.dH * (g.KH - 1) / g.sH;
  const int64_t Wq = g.OW + g.dW * (g.KW - 1) / g.sW;
  // Horizontal shifts (kw dW / sW) the taps read within a plane.
  const int64_t shifts = g.dW * (g.KW - 1) / g.sW + 1;
  // Aligned mode: plane rows padded to whole vectors, and one copy of each
  // plane per horizontal shift (copy e holds the plane shifted left by e),
  // so that every activation vector a tap reads is 64-byte aligned. An
  // unaligned 512-bit load straddles two cache lines: a loop of zmm FMAs on
  // loaded operands ran 1.6x slower unaligned on Zen 4. In the kernel the
  // gain is smaller, because the copies triple the activation bytes a
  // reduction chunk spans, so chunks are narrower: ResNet-18's stride-1
  // 3x3 layers at 80% measured 3-7% faster, its 14x14 stride-2 one 17% (one
  // thread). Taken for the 64-wide (AVX-512 CSR) tiles when padding the
  // rows costs at most 1/8 more positions.
  const int64_t WqA = sparseDivCeil(Wq, 16) * 16;
  const int alignMode = sparseDirectAlignMode.load();
  const bool aligned =
      alignMode == 1 ||
      (alignMode == -1 && ks.maxDirectTile(wm) > 32 && WqA * 8 <= Wq * 9);
  const int64_t rowLen = aligned ? WqA : Wq;
  const int64_t copies = aligned ? shifts : 1;
  const int64_t plane = Hq * rowLen, P = g.OH * g.OW;
  const int64_t maxTile = std::min(ks.maxDirectTile(wm), kSparseMaxDirectTile);
  if (g.C * phases * copies * plane + maxTile > INT32_MAX)
    return false;
  // Flattened positions [0, span) cover every valid output.
  const int64_t span = (g.OH - 1) * rowLen + g.OW;
  const int64_t qTiles = sparseDivCeil(span, maxTile);
  const int64_t lastWidth =
      sparseDirectTileWidth(span - (qTiles - 1) * maxTile, maxTile);
  const SparseDirectTileFn tileFull = ks.selectDirect(wm, maxTile);
  const SparseDirectTileFn tileLast = ks.selectDirect(wm, lastWidth);
  if (!tileFull || !tileLast)
    return false;
  // Reduction chunks whose input rows stay in L1 together with the weights
  // streamed past them. Unaligned, a column (c, kh, kw) shares its cache
  // lines with the other taps of (c, kh), so it costs about
  // (T + KW - 1) / KW floats plus a line of misalignment; chunks of twice
  // the plain budget measured ~7% faster than one (ResNet-18 layers) and
  // both beat smaller ones. Aligned, each tap reads its own copy's T floats.
  auto colBytes = [&](int64_t T) {
    if (aligned)
      return std::max<int64_t>(1, 4 * T / 2);
    return std::max<int64_t>(1, (4 * (T + g.dW * (g.KW - 1)) + 64) / g.KW / 2);
  };
  const SparseKSplit splitFull =
      sparsePlanKSplit(context, blob, wm, maxTile, colBytes(maxTile));
  const SparseKSplit splitLast =
      sparsePlanKSplit(context, blob, wm, lastWidth, colBytes(lastWidth));

  // Element offset of every stored weight (or R x 1 block) in a padded image.
  const int64_t stored = int64_t(wm.rowPtr[wm.rows / wm.blockRows]);
  std::vector<int64_t> key = {kSparseDirectOffTag,
                              reinterpret_cast<int64_t>(blob),
                              wm.rows,
                              wm.cols,
                              wm.nnz,
                              Hq,
                              rowLen,
                              copies,
                              g.KH,
                              g.KW,
                              g.dH,
                              g.dW,
                              g.sH,
                              g.sW};
  const float *offTable = context.cachedPack(
      key, static_cast<size_t>(std::max<int64_t>(stored, 1)), [&](float *dst) {
        int32_t *off = reinterpret_cast<int32_t *>(dst);
        const int64_t KK = g.KH * g.KW;
        for (int64_t b = 0; b < stored; ++b) {
          const int64_t k = sparseStoredColumn(wm, b);
          const int64_t c = k / KK, kh = (k % KK) / g.KW, kw = k % g.KW;
          const int64_t rh = kh * g.dH, rw = kw * g.dW;
          const int64_t slot = phaseSlot[(rh % g.sH) * g.sW + rw % g.sW];
          const int64_t e = rw / g.sW;
          off[b] = static_cast<int32_t>(
              ((c * phases + slot) * copies + (aligned ? e : 0)) * plane +
              rh / g.sH * rowLen + (aligned ? 0 : e));
        }
      });
  // One padded image per batch element, with maxTile floats of slack that a
  // tile reaching past the last position reads.
  const int64_t imageFloats = g.C * phases * copies * plane;
  float *xpad = context.scratch(
      ScratchSlot::SharedB, static_cast<size_t>(N * imageFloats + maxTile));
  if (!offTable || !xpad)
    return true; // out of memory, recorded by the context
  const int32_t *off = reinterpret_cast<const int32_t *>(offTable);
  const int threads = context.numThreads();
  context.threads().parallelFor(
      N * g.C, sparseGrain(N * g.C, threads, double(N * imageFloats) * 4),
      [&](int64_t u0, int64_t u1) {
        for (int64_t u = u0; u < u1; ++u) {
          const float *src = X + u * g.H * g.W;
          for (int64_t a = 0; a < g.sH; ++a)
            for (int64_t b = 0; b < g.sW; ++b) {
              const int64_t slot = phaseSlot[a * g.sW + b];
              if (slot < 0)
                continue;
              float *dst = xpad + (u * phases + slot) * copies * plane;
              // Plane column j reads input column j * sW + b - pL: the
              // columns [lo, hi) inside the input row.
              const int64_t lo = std::min(
                  Wq, std::max<int64_t>(0, sparseDivCeil(g.pL - b, g.sW)));
              const int64_t hi = std::max(
                  lo, std::min(Wq, sparseDivCeil(g.W + g.pL - b, g.sW)));
              for (int64_t h = 0; h < Hq; ++h) {
                float *row = dst + h * rowLen;
                const int64_t ih = h * g.sH + a - g.pT;
                if (ih < 0 || ih >= g.H) {
                  std::fill(row, row + rowLen, 0.f);
                  continue;
                }
                // Input column of plane column j: j * sW + b - pL.
                const float *line = src + ih * g.W;
                const int64_t shift = b - g.pL;
                std::fill(row, row + lo, 0.f);
                if (g.sW == 1) {
                  if (hi > lo)
                    std::memcpy(row + lo, line + lo + shift,
                                (hi - lo) * sizeof(float));
                } else {
                  for (int64_t j = lo; j < hi; ++j)
                    row[j] = line[j * g.sW + shift];
                }
                std::fill(row + hi, row + rowLen, 0.f);
              }
              // Copy e is the plane shifted left by e elements. Its last e
              // elements, and the ones that wrap into the next row, are only
              // read for dropped positions.
              for (int64_t e = 1; e < copies; ++e) {
                float *copy = dst + e * plane;
                std::memcpy(copy, dst + e, (plane - e) * sizeof(float));
                std::fill(copy + plane - e, copy + plane, 0.f);
              }
            }
        }
      });
  std::fill(xpad + N * imageFloats, xpad + N * imageFloats + maxTile, 0.f);

  const SparseConvUnits work(N, qTiles, wm, threads);
  const int64_t groupRows = work.groupRows, units = work.count(N);
  const double macs = double(wm.nnz) * double(P) * double(N);
  const EpilogueRowFn epilogueRow = kernels().epilogueRow;
  context.threads().parallelFor(
      units, sparseGrain(units, threads, macs), [&](int64_t u0, int64_t u1) {
        float *out = context.scratch(
            ScratchSlot::PackA, static_cast<size_t>(work.maxRows() * maxTile));
        if (!out)
          return;
        for (int64_t u = u0; u < u1; ++u) {
          const auto [img, tile, r0, r1] = work.unit(u);
          if (r0 >= r1)
            continue;
          const int64_t q0 = tile * maxTile;
          const int64_t count = std::min(maxTile, span - q0);
          const bool last = tile + 1 == qTiles;
          const int64_t width = last ? lastWidth : maxTile;
          const SparseDirectTileFn tileFn = last ? tileLast : tileFull;
          const SparseKSplit &ksplit = last ? splitLast : splitFull;
          const float *x = xpad + img * imageFloats + q0;
          for (int64_t c = 0; c < ksplit.chunks; ++c) {
            const SparseKRange range = ksplit.range(c);
            for (int64_t r = r0; r < r1; r += groupRows)
              tileFn(wm, off, x, r, std::min(groupRows, r1 - r), range,
                     out + (r - r0) * width, width, c > 0);
          }
          // The tile's output row segments; the wrapped-around columns
          // between them are dropped.
          SparseTileSegment segs[kSparseMaxDirectTile];
          int64_t numSegs = 0;
          for (int64_t j = 0; j < count;) {
            const int64_t q = q0 + j, oh = q / rowLen, ow = q % rowLen;
            if (ow >= g.OW) { // wrapped-around columns: skip to the next row
              j += rowLen - ow;
              continue;
            }
            const int64_t len = std::min(count - j, g.OW - ow);
            segs[numSegs++] = {j, oh * g.OW + ow, len};
            j += len;
          }
          sparseStoreConvTile(
              out, width, count, r0, r1, segs, numSegs, Y + img * K * P,
              epi.residual ? epi.residual + img * K * P : nullptr, P, epi,
              epilogueRow);
        }
      });
  return true;
}

} // namespace

const SparseKernelSet &sparq::rt::sparseKernels() {
  if (const SparseKernelSet *forced = sparseForcedSet.load())
    return *forced;
  // SPARQ_SPARSE_ISA=avx2|generic caps the choice (benchmarks, tests);
  // otherwise the widest set this CPU runs. The AVX-512 set is only taken
  // when the dense kernels are not forced to the generic ones.
  static const SparseKernelSet &best = [&]() -> const SparseKernelSet & {
    const char *env = std::getenv("SPARQ_SPARSE_ISA");
    const std::string cap = env ? env : "";
    if (cap != "avx2" && cap != "generic" && avx2SparseKernelSet())
      if (const SparseKernelSet *set = avx512SparseKernelSet())
        return *set;
    if (cap != "generic")
      if (const SparseKernelSet *set = avx2SparseKernelSet())
        return *set;
    return genericSparseKernelSet();
  }();
  return best;
}

void sparq::rt::setSparseKernelsForTesting(const SparseKernelSet *set) {
  sparseForcedSet.store(set);
}

void sparq::rt::setSparseDirectAlignForTesting(int mode) {
  sparseDirectAlignMode.store(mode);
}

void sparq::rt::setSparseConvStripsForTesting(int mode) {
  sparseStripMode.store(mode);
}

extern "C" SPARQ_API void
sparq_uk_sparse_matmul_f32(void *ctx, const void *w, const float *X,
                           const float *bias, const float *residual, float *Y,
                           int64_t M, int64_t act, float actA, float actB) {
  if (!w || !X || !Y || M <= 0)
    return;
  Context &context = contextFromHandle(ctx);
  const SparseMatrix *matrix = sparseLookup(context, w);
  if (!matrix)
    return;
  const SparseKernelSet &ks = sparseKernels();
  const SparseEpilogue epi = {bias, residual, static_cast<int>(act), actA,
                              actB};
  if (SparseNmRowsFn nmRows = ks.selectNmRows(*matrix)) {
    const float *panel = sparseNmRowPanel(context, w, *matrix);
    if (!panel)
      return;
    sparseMatmulNmRows(context, nmRows, panel, *matrix, X, Y, M, epi);
    return;
  }
  if (M == 1) {
    if (SparseVecFn vec = ks.selectVec(*matrix)) {
      sparseMatmulVec(context, *matrix, vec, X, Y, epi);
      return;
    }
  }
  sparseMatmulTiles(context, ks, w, *matrix, X, Y, M, epi);
}

extern "C" SPARQ_API void sparq_uk_sparse_conv2d_f32(
    void *ctx, const void *w, const float *X, const float *bias,
    const float *residual, float *Y, int64_t N, int64_t C, int64_t H,
    int64_t Wd, int64_t K, int64_t OH, int64_t OW, int64_t KH, int64_t KW,
    int64_t strideH, int64_t strideW, int64_t padTop, int64_t padLeft,
    int64_t dilH, int64_t dilW, int64_t act, float actA, float actB) {
  if (!w || !X || !Y || N <= 0 || C <= 0 || H <= 0 || Wd <= 0 || K <= 0 ||
      OH <= 0 || OW <= 0 || KH <= 0 || KW <= 0 || strideH <= 0 ||
      strideW <= 0 || dilH <= 0 || dilW <= 0)
    return;
  Context &context = contextFromHandle(ctx);
  const SparseMatrix *matrix = sparseLookup(context, w);
  if (!matrix || matrix->rows != K || matrix->cols != C * KH * KW)
    return;
  const SparseMatrix &wm = *matrix;
  const SparseKernelSet &ks = sparseKernels();
  const SparseConvGeometry g = {C,  H,       Wd,      KH,   KW,  OH,  OW,
                                strideH, strideW, padTop, padLeft, dilH, dilW};
  const bool pointwise = KH == 1 && KW == 1 && strideH == 1 && strideW == 1 &&
                         padTop == 0 && padLeft == 0 && OH == H && OW == Wd;
  const SparseEpilogue epi = {bias, residual, static_cast<int>(act), actA,
                              actB};
  // Other k x k convolutions read padded phase planes of the image
  // directly. Strided 1 x 1 ones stay on im2col, a plain strided copy
  // (ResNet-18's downsample at 80%: 0.101 ms there, 0.143 direct).
  if (!pointwise && (KH > 1 || KW > 1) && strideH <= kSparseMaxStride &&
      strideW <= kSparseMaxStride && sparseDirectEnabled() &&
      (sparseConvStrips(context, ks, w, wm, g, N, X, Y, epi) ||
       sparseConvDirect(context, ks, w, wm, g, N, X, Y, epi)))
    return;
  const int64_t P = OH * OW, CKK = wm.cols;
  const int64_t maxTile = ks.maxTile(wm);
  const int64_t pixelTiles = sparseDivCeil(P, maxTile);
  const int threads = context.numThreads();
  const SparseConvUnits work(N, pixelTiles, wm, threads);
  const int64_t groupRows = work.groupRows, units = work.count(N);
  const double macs = double(wm.nnz) * double(P) * double(N);
  const EpilogueRowFn epilogueRow = kernels().epilogueRow;

  const int64_t lastWidth =
      sparseTileWidth(P - (pixelTiles - 1) * maxTile, maxTile);
  const SparseKSplit splitFull = sparsePlanKSplit(context, w, wm, maxTile);
  const SparseKSplit splitLast = sparsePlanKSplit(context, w, wm, lastWidth);

  context.threads().parallelFor(
      units, sparseGrain(units, threads, macs), [&](int64_t u0, int64_t u1) {
        float *xt = context.scratch(ScratchSlot::PackB,
                                    static_cast<size_t>(CKK * maxTile));
        // Raw products of one channel range for one pixel tile.
        float *out = context.scratch(
            ScratchSlot::PackA, static_cast<size_t>(work.maxRows() * maxTile));
        if (!xt || !out)
          return;
        for (int64_t u = u0; u < u1; ++u) {
          const auto [img, tile, r0, r1] = work.unit(u);
          if (r0 >= r1)
            continue;
          const int64_t p0 = tile * maxTile;
          const int64_t count = std::min(maxTile, P - p0);
          const bool last = tile + 1 == pixelTiles;
          const int64_t width = last ? lastWidth : maxTile;
          const SparseKSplit &ksplit = last ? splitLast : splitFull;
          const float *x = X + img * C * H * Wd;
          if (pointwise) {
            for (int64_t c = 0; c < C; ++c) {
              std::memcpy(xt + c * width, x + c * P + p0,
                          count * sizeof(float));
              std::fill(xt + c * width + count, xt + (c + 1) * width, 0.f);
            }
          } else {
            sparsePackIm2colTile(x, g, p0, count, width, xt);
          }
          const SparseTileFn tileFn = ks.selectTile(wm, width);
          for (int64_t c = 0; c < ksplit.chunks; ++c) {
            const SparseKRange range = ksplit.range(c);
            for (int64_t r = r0; r < r1; r += groupRows)
              tileFn(wm, xt, r, std::min(groupRows, r1 - r), range,
                     out + (r - r0) * width, width, c > 0);
          }
          float *y = Y + img * K * P;
          const float *res = epi.residual ? epi.residual + img * K * P : nullptr;
          for (int64_t i = r0; i < r1; ++i) {
            float *yi = y + i * P + p0;
            std::memcpy(yi, out + (i - r0) * width, count * sizeof(float));
            if (!epi.trivial())
              epilogueRow(yi, epi.bias ? epi.bias[i] : 0.f, nullptr,
                          res ? res + i * P + p0 : nullptr, count, epi.act,
                          epi.actA, epi.actB);
          }
        }
      });
}
