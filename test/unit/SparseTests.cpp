//===- SparseTests.cpp - Unit tests of the sparse micro-kernels -----------===//
//
// Checks sparq_uk_sparse_matmul_f32 and sparq_uk_sparse_conv2d_f32 against
// double-precision dense references computed from the same dense matrix, for
// every packed format (CSR with 2- and 4-byte indices, R x C blocks, N:M),
// densities from all-zero to full, batch sizes from 1 to 128, every
// epilogue, conv geometries (1x1, 3x3 padded, strided, dilated, batched)
// and the edge shapes of the tile kernels (T = 16 and 32 tiles, N:M and CSR
// step tails), with every kernel set the CPU runs (AVX-512, AVX2,
// portable); that the epilogue fused into the tile stores matches a scalar
// reference and, bit for bit, the raw products followed by the dense row
// epilogue; and that malformed blobs are rejected without writing the
// output or crashing.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include "Kernels.h"
#include "Model.h"
#include "SparseKernels.h"
#include "SparsePack.h"

#include "sparq/Runtime/sparq_sparse_format.h"

#include <algorithm>
#include <cstring>

using namespace sparq::unit;
using sparq::rt::SparseKernelSet;

namespace {

/// Deterministic generator for shapes and masks.
struct SparseRng : TestRng {
  explicit SparseRng(uint64_t seed) : TestRng(seed, 1) {}
};

/// The weight of one case: a dense matrix and its packed form.
struct SparseWeight {
  std::vector<float> dense;
  std::vector<uint8_t> blob;
  std::string what;
};

enum class SparseKind { Csr, Block, NM };

struct SparseFormatSpec {
  SparseKind kind;
  int64_t r = 1, c = 1; // block shape, or N and M for N:M
  int indexBytes = 0;
};

std::string describe(const SparseFormatSpec &f) {
  switch (f.kind) {
  case SparseKind::Csr:
    return "csr/i" + std::to_string(f.indexBytes ? f.indexBytes : 2);
  case SparseKind::Block:
    return "block" + std::to_string(f.r) + "x" + std::to_string(f.c) + "/i" +
           std::to_string(f.indexBytes ? f.indexBytes : 2);
  case SparseKind::NM:
    return std::to_string(f.r) + ":" + std::to_string(f.c);
  }
  return "?";
}

/// Builds a random rows x cols weight of the format at `density` (the
/// fraction of kept entries, blocks, or -- for N:M -- kept slots).
SparseWeight makeWeight(const SparseFormatSpec &f, int64_t rows, int64_t cols,
                        double density, uint64_t seed) {
  SparseWeight w;
  w.dense.assign(rows * cols, 0.f);
  std::vector<float> values(rows * cols);
  fillRandom(values, seed);
  SparseRng rng(seed + 7);
  if (f.kind == SparseKind::Csr) {
    for (int64_t i = 0; i < rows * cols; ++i)
      if (rng.chance(density))
        w.dense[i] = values[i];
    w.blob = sparq::rt::packSparseCsr(w.dense.data(), rows, cols, f.indexBytes);
  } else if (f.kind == SparseKind::Block) {
    for (int64_t br = 0; br < rows / f.r; ++br)
      for (int64_t bc = 0; bc < cols / f.c; ++bc) {
        if (!rng.chance(density))
          continue;
        for (int64_t r = 0; r < f.r; ++r)
          for (int64_t c = 0; c < f.c; ++c) {
            int64_t i = (br * f.r + r) * cols + bc * f.c + c;
            w.dense[i] = values[i];
          }
      }
    w.blob = sparq::rt::packSparseBlock(w.dense.data(), rows, cols, f.r, f.c,
                                        f.indexBytes);
  } else {
    w.dense = values;
    sparq::rt::pruneToNM(w.dense.data(), rows, cols, f.r, f.c);
    for (float &v : w.dense)
      if (v != 0.f && !rng.chance(density))
        v = 0.f;
    w.blob = sparq::rt::packSparseNM(w.dense.data(), rows, cols, f.r, f.c);
  }
  w.what = describe(f) + " " + std::to_string(rows) + "x" +
           std::to_string(cols) + " density " + std::to_string(density);
  return w;
}

const float kActA[10] = {0, 0, -0.5f, 0.1f, 0, 0, 0, 0, 0.2f, 0};
const float kActB[10] = {0, 0, 0.5f, 0, 0, 0, 0, 0, 0.5f, 0};

void runSparseMatmulCase(const SparseWeight &w, int64_t rows, int64_t cols,
                         int64_t M, bool useBias, bool useResidual, int act,
                         int threads, const std::string &setName) {
  std::vector<float> X(M * cols), bias(rows), residual(M * rows);
  fillRandom(X, 31 + M);
  fillRandom(bias, 32);
  fillRandom(residual, 33);
  std::vector<double> ref(M * rows), scale(M * rows);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < rows; ++n) {
      double acc = 0, mag = 0;
      for (int64_t k = 0; k < cols; ++k) {
        double p = double(X[m * cols + k]) * w.dense[n * cols + k];
        acc += p;
        mag += std::fabs(p);
      }
      if (useBias)
        acc += bias[n], mag += std::fabs(bias[n]);
      if (useResidual)
        acc += residual[m * rows + n], mag += std::fabs(residual[m * rows + n]);
      ref[m * rows + n] = referenceActivation(acc, act, kActA[act], kActB[act]);
      scale[m * rows + n] = mag;
    }
  sparq_model *model = createBareModel(threads);
  std::vector<float> Y(M * rows, -777.f);
  // Twice: the first call validates and caches, the second uses the cache.
  for (int rep = 0; rep < 2; ++rep)
    sparq_uk_sparse_matmul_f32(model, w.blob.data(), X.data(),
                               useBias ? bias.data() : nullptr,
                               useResidual ? residual.data() : nullptr,
                               Y.data(), M, act, kActA[act], kActB[act]);
  sparq_model_destroy(model);
  checkClose(Y, ref, scale,
             "sparse matmul " + setName + " " + w.what + " M=" +
                 std::to_string(M) + " bias=" + std::to_string(useBias) +
                 " res=" + std::to_string(useResidual) + " act=" +
                 std::to_string(act) + " threads=" + std::to_string(threads));
}

void testSparseMatmul(int threads, const std::string &setName, uint64_t seed) {
  const SparseFormatSpec formats[] = {
      {SparseKind::Csr, 1, 1, 2},   {SparseKind::Csr, 1, 1, 4},
      {SparseKind::Block, 4, 1, 2}, {SparseKind::Block, 8, 1, 4},
      {SparseKind::Block, 16, 1, 2}, {SparseKind::Block, 1, 4, 2},
      {SparseKind::Block, 4, 4, 4}, {SparseKind::Block, 2, 1, 2},
      {SparseKind::Block, 3, 2, 2}, {SparseKind::NM, 2, 4},
      {SparseKind::NM, 4, 8},       {SparseKind::NM, 1, 4},
      {SparseKind::NM, 3, 8}};
  const double densities[] = {0.0, 0.05, 0.3, 1.0};
  const int64_t batches[] = {1, 2, 7, 8, 16, 33, 128};
  SparseRng rng(seed);
  int caseIndex = 0;
  for (const SparseFormatSpec &f : formats)
    for (double density : densities) {
      // Shapes in 1..300, rounded up to what the format requires.
      const int64_t rowUnit = f.kind == SparseKind::Block ? f.r : 1;
      const int64_t colUnit = f.kind == SparseKind::Block ? f.c
                              : f.kind == SparseKind::NM  ? f.c
                                                          : 1;
      int64_t rows = rng.range(1, 300), cols = rng.range(1, 300);
      rows = (rows + rowUnit - 1) / rowUnit * rowUnit;
      cols = (cols + colUnit - 1) / colUnit * colUnit;
      SparseWeight w = makeWeight(f, rows, cols, density, seed + caseIndex);
      if (!check(!w.blob.empty(), "pack " + w.what))
        continue;
      for (int64_t M : batches) {
        ++caseIndex;
        // Large products only for some cases, to bound the test time.
        if (M == 128 && caseIndex % 3 != 0)
          continue;
        int act = static_cast<int>(rng.range(0, 9));
        bool useBias = rng.chance(0.6), useResidual = rng.chance(0.4);
        runSparseMatmulCase(w, rows, cols, M, useBias, useResidual, act,
                            threads, setName);
      }
    }
  // Small odd shapes: one row, one column, all-zero rows between full ones.
  for (int64_t M : {1, 3, 9}) {
    SparseWeight tiny = makeWeight({SparseKind::Csr, 1, 1, 2}, 1, 1, 1.0, 5);
    runSparseMatmulCase(tiny, 1, 1, M, true, true, 1, threads, setName);
    SparseWeight striped;
    striped.dense.assign(37 * 19, 0.f);
    for (int64_t r = 0; r < 37; r += 3)
      for (int64_t c = 0; c < 19; ++c)
        striped.dense[r * 19 + c] = 0.01f * float(r + c) - 0.2f;
    striped.blob = sparq::rt::packSparseCsr(striped.dense.data(), 37, 19);
    striped.what = "csr striped 37x19";
    runSparseMatmulCase(striped, 37, 19, M, true, false, 0, threads, setName);
  }
}

/// Shapes at the edges of the tile kernels: activation counts that fill a
/// tile of 32 partly or exactly (T = 32 and a last tile of 16 or 8), N:M
/// rows whose slot count leaves every tail of the 8- and 4-slot steps
/// (N = 2: 2, 4, 6, 8, 10 slots; N = 4: 4, 8, 12), N:M patterns without a
/// row kernel, CSR rows of every length modulo 4 (the unrolled steps), and
/// blocks of every height the kernels special-case.
void testSparseTileEdges(int threads, const std::string &setName) {
  uint64_t seed = 700;
  // 1: the batch-1 vector kernels (N:M step tails too).
  const int64_t batches[] = {1, 16, 17, 24, 32, 48, 64};
  // N:M rows of 1..5 groups, and 2:4 rows of 15..17 groups (slots around
  // the 32 of a batch-1 iteration).
  for (int64_t groups : {1, 2, 3, 4, 5, 15, 16, 17})
    for (const SparseFormatSpec &f :
         {SparseFormatSpec{SparseKind::NM, 2, 4}, SparseFormatSpec{SparseKind::NM, 4, 8}}) {
      if (f.r == 4 && groups > 3 && groups != 16)
        continue;
      SparseWeight w = makeWeight(f, 24, groups * f.c, 1.0, ++seed);
      if (!check(!w.blob.empty(), "pack " + w.what))
        continue;
      for (int64_t M : batches)
        runSparseMatmulCase(w, 24, groups * f.c, M, true, false, 0, threads,
                            setName);
    }
  // N:M patterns without a row kernel (M not 4 or 8) run the tiles for every
  // batch, the generic-N tile for odd N; 8:16 has the batch-1 permute kernel.
  for (const SparseFormatSpec &f :
       {SparseFormatSpec{SparseKind::NM, 2, 6}, SparseFormatSpec{SparseKind::NM, 3, 6},
        SparseFormatSpec{SparseKind::NM, 1, 2}, SparseFormatSpec{SparseKind::NM, 8, 16}})
    for (int64_t groups : {1, 3, 8}) {
      SparseWeight w = makeWeight(f, 16, groups * f.c, 1.0, ++seed);
      if (!check(!w.blob.empty(), "pack " + w.what))
        continue;
      for (int64_t M : batches)
        runSparseMatmulCase(w, 16, groups * f.c, M, false, true, 0, threads,
                            setName);
    }
  // CSR rows of 0 .. 11 stored weights (row r keeps r % 12 of its columns).
  for (int indexBytes : {2, 4}) {
    SparseWeight w;
    const int64_t rows = 48, cols = 40;
    w.dense.assign(rows * cols, 0.f);
    std::vector<float> values(rows * cols);
    fillRandom(values, ++seed);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < r % 12; ++i) {
        const int64_t c = (i * 7 + r) % cols;
        w.dense[r * cols + c] = values[r * cols + c];
      }
    w.blob = sparq::rt::packSparseCsr(w.dense.data(), rows, cols, indexBytes);
    w.what = "csr/i" + std::to_string(indexBytes) + " rows of 0..11";
    if (!check(!w.blob.empty(), "pack " + w.what))
      continue;
    for (int64_t M : batches)
      runSparseMatmulCase(w, rows, cols, M, M == 17, false, 0, threads,
                          setName);
  }
  const SparseFormatSpec blocks[] = {
      {SparseKind::Block, 2, 1, 2}, {SparseKind::Block, 4, 1, 4},
      {SparseKind::Block, 8, 1, 2}, {SparseKind::Block, 16, 1, 2},
      {SparseKind::Block, 32, 1, 4}, {SparseKind::Block, 4, 2, 2},
      {SparseKind::Block, 6, 1, 2}};
  for (const SparseFormatSpec &f : blocks) {
    SparseWeight w = makeWeight(f, 96, 70, 0.35, ++seed);
    if (!check(!w.blob.empty(), "pack " + w.what))
      continue;
    for (int64_t M : batches)
      runSparseMatmulCase(w, 96, 70, M, false, M == 24, 1, threads, setName);
  }
}

/// Long rows, so the kernels split the reduction into L1-sized chunks, and
/// CSR rows with unsorted columns, which must not be split.
void testSparseSplitReduction(int threads, const std::string &setName) {
  const SparseFormatSpec formats[] = {
      {SparseKind::Csr, 1, 1, 2},   {SparseKind::Csr, 1, 1, 4},
      {SparseKind::Block, 4, 1, 2}, {SparseKind::Block, 8, 1, 2},
      {SparseKind::Block, 2, 4, 4}, {SparseKind::NM, 2, 4},
      {SparseKind::NM, 4, 8},       {SparseKind::NM, 3, 8}};
  uint64_t seed = 500;
  for (const SparseFormatSpec &f : formats)
    for (int64_t cols : {1104, 2400}) {
      const int64_t rows = 24;
      SparseWeight w = makeWeight(f, rows, cols, 0.3, ++seed);
      if (!check(!w.blob.empty(), "pack " + w.what))
        continue;
      for (int64_t M : {1, 5, 8, 16, 40})
        runSparseMatmulCase(w, rows, cols, M, true, M == 5, 1 + int(M % 7),
                            threads, setName);
    }
  // Reverse the columns of every CSR row: still valid, no longer sorted.
  SparseWeight w = makeWeight({SparseKind::Csr, 1, 1, 2}, 16, 1500, 0.4, 600);
  sparq_sparse_header h;
  std::memcpy(&h, w.blob.data(), sizeof(h));
  const uint32_t *rowPtr =
      reinterpret_cast<const uint32_t *>(w.blob.data() + h.row_ptr_offset);
  uint16_t *col = reinterpret_cast<uint16_t *>(w.blob.data() + h.col_offset);
  float *val = reinterpret_cast<float *>(w.blob.data() + h.values_offset);
  for (int r = 0; r < 16; ++r) {
    std::reverse(col + rowPtr[r], col + rowPtr[r + 1]);
    std::reverse(val + rowPtr[r], val + rowPtr[r + 1]);
  }
  w.what += " unsorted";
  for (int64_t M : {1, 16, 40})
    runSparseMatmulCase(w, 16, 1500, M, false, false, 0, threads, setName);
}

struct SparseConvCase {
  int64_t N, C, H, W, K, KH, KW, sH, sW, pT, pL, pB, pR, dH, dW;
};

void runSparseConvCase(const SparseConvCase &c, const SparseFormatSpec &f,
                       double density, int act, int threads,
                       const std::string &setName, uint64_t seed) {
  const int64_t OH = (c.H + c.pT + c.pB - c.dH * (c.KH - 1) - 1) / c.sH + 1;
  const int64_t OW = (c.W + c.pL + c.pR - c.dW * (c.KW - 1) - 1) / c.sW + 1;
  const int64_t cols = c.C * c.KH * c.KW;
  SparseWeight w = makeWeight(f, c.K, cols, density, seed);
  if (!check(!w.blob.empty(), "pack conv " + w.what))
    return;
  std::vector<float> X(c.N * c.C * c.H * c.W), bias(c.K);
  std::vector<float> residual(c.N * c.K * OH * OW);
  fillRandom(X, seed + 1);
  fillRandom(bias, seed + 2);
  fillRandom(residual, seed + 3);
  std::vector<double> ref(residual.size()), scale(residual.size());
  for (int64_t n = 0; n < c.N; ++n)
    for (int64_t k = 0; k < c.K; ++k)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double acc = 0, mag = 0;
          for (int64_t ci = 0; ci < c.C; ++ci)
            for (int64_t kh = 0; kh < c.KH; ++kh)
              for (int64_t kw = 0; kw < c.KW; ++kw) {
                int64_t ih = oh * c.sH - c.pT + kh * c.dH;
                int64_t iw = ow * c.sW - c.pL + kw * c.dW;
                if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W)
                  continue;
                double p = double(X[((n * c.C + ci) * c.H + ih) * c.W + iw]) *
                           w.dense[k * cols + (ci * c.KH + kh) * c.KW + kw];
                acc += p;
                mag += std::fabs(p);
              }
          size_t o = ((n * c.K + k) * OH + oh) * OW + ow;
          acc += bias[k] + residual[o];
          mag += std::fabs(bias[k]) + std::fabs(residual[o]);
          ref[o] = referenceActivation(acc, act, kActA[act], kActB[act]);
          scale[o] = mag;
        }
  sparq_model *model = createBareModel(threads);
  std::vector<float> Y(residual.size(), -777.f);
  sparq_uk_sparse_conv2d_f32(model, w.blob.data(), X.data(), bias.data(),
                             residual.data(), Y.data(), c.N, c.C, c.H, c.W,
                             c.K, OH, OW, c.KH, c.KW, c.sH, c.sW, c.pT, c.pL,
                             c.dH, c.dW, act, kActA[act], kActB[act]);
  sparq_model_destroy(model);
  checkClose(Y, ref, scale,
             "sparse conv " + setName + " " + w.what + " " +
                 std::to_string(c.KH) + "x" + std::to_string(c.KW) + " s" +
                 std::to_string(c.sH) + " p" + std::to_string(c.pT) + " N=" +
                 std::to_string(c.N) + " " + std::to_string(c.H) + "x" +
                 std::to_string(c.W) + " threads=" + std::to_string(threads));
}

void testSparseConv(int threads, const std::string &setName) {
  // N C H W K KH KW sH sW pT pL pB pR dH dW
  const SparseConvCase cases[] = {
      {1, 16, 12, 12, 24, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1}, // pointwise
      {2, 8, 9, 7, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},    // pointwise, N=2
      {1, 8, 10, 10, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},  // 3x3 pad 1
      {2, 4, 11, 13, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},   // stride 2
      {1, 12, 9, 9, 32, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2},   // dilated
      {1, 4, 8, 8, 8, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1},     // 1x1 stride 2
      {1, 4, 23, 23, 16, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1},  // 7x7 stem
      {1, 8, 6, 40, 8, 3, 3, 1, 1, 1, 0, 1, 0, 1, 1},    // asymmetric pad
      {1, 96, 7, 9, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},   // 864 = split K
      {1, 520, 5, 5, 8, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},   // pointwise, split K
      // Stride-1 k x k layers take the direct path (CSR, R x 1 blocks):
      {2, 6, 7, 7, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},    // 7x7 map, N=2
      {1, 5, 9, 11, 8, 5, 5, 1, 1, 2, 3, 1, 0, 1, 1},    // 5x5, uneven pads
      {1, 3, 4, 30, 16, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1},   // no padding
      {1, 7, 3, 3, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},     // 3x3 map
      // Spans of several 64-position tiles plus a partial one (AVX-512 CSR
      // tiles of 48 and 64), and a span of 40 (one tile of 48):
      {1, 8, 20, 20, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},  // 20x20, 7 tiles
      {2, 6, 5, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},     // span 40, N=2
      // Strided layers read phase planes on the direct path:
      {1, 6, 17, 13, 8, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1},   // stride 2 x 1
      {1, 5, 19, 19, 8, 5, 5, 3, 3, 2, 2, 2, 2, 1, 1},   // stride 3
      {1, 4, 15, 15, 8, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2},   // stride 2, dilated
      {1, 4, 9, 9, 8, 3, 3, 2, 2, 3, 2, 3, 1, 1, 1},     // pads > extent
      {2, 3, 30, 30, 16, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1},  // stem, N=2
      {1, 8, 11, 11, 8, 1, 1, 2, 2, 1, 1, 0, 0, 1, 1},   // 1x1 s2, padded
      {1, 3, 20, 20, 8, 3, 3, 5, 5, 1, 1, 1, 1, 1, 1},   // stride 5: im2col
      // Row strips (AVX-512 CSR, stride 1): a partial last strip and row
      // tile (OW 37: 16 + 16 + 5; OH 20: 7 + 7 + 6 rows), whole strips with
      // N=2 and K=24, and a reduction split inside channels (kc 221).
      {1, 8, 20, 37, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
      {2, 16, 17, 32, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
      {1, 300, 9, 16, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
  };
  const SparseFormatSpec formats[] = {{SparseKind::Csr, 1, 1, 2},
                                      {SparseKind::Block, 4, 1, 2},
                                      {SparseKind::Block, 8, 1, 4},
                                      {SparseKind::NM, 2, 4}};
  uint64_t seed = 100;
  for (const SparseConvCase &c : cases)
    for (const SparseFormatSpec &f : formats) {
      if (f.kind == SparseKind::NM && (c.C * c.KH * c.KW) % f.c != 0)
        continue;
      if (f.kind == SparseKind::Block && c.K % f.r != 0)
        continue;
      for (double density : {0.0, 0.3, 1.0}) {
        ++seed;
        runSparseConvCase(c, f, density, static_cast<int>(seed % 10), threads,
                          setName, seed);
      }
    }
}

/// Malformed blobs are rejected: the output keeps its sentinel values.
void testCorruptedBlobs() {
  std::vector<float> dense(64 * 48);
  fillRandom(dense, 77);
  for (size_t i = 0; i < dense.size(); i += 2)
    dense[i] = 0.f;
  const std::vector<uint8_t> csr = sparq::rt::packSparseCsr(dense.data(), 64, 48);
  const std::vector<uint8_t> block =
      sparq::rt::packSparseBlock(dense.data(), 64, 48, 4, 1);
  std::vector<float> nmDense = dense;
  sparq::rt::pruneToNM(nmDense.data(), 64, 48, 2, 4);
  const std::vector<uint8_t> nm =
      sparq::rt::packSparseNM(nmDense.data(), 64, 48, 2, 4);

  struct Corruption {
    const char *what;
    const std::vector<uint8_t> *base;
    void (*apply)(std::vector<uint8_t> &);
  };
  const Corruption corruptions[] = {
      {"bad magic", &csr,
       [](std::vector<uint8_t> &b) { b[0] ^= 0xFF; }},
      {"bad version", &csr,
       [](std::vector<uint8_t> &b) {
         reinterpret_cast<sparq_sparse_header *>(b.data())->version = 9;
       }},
      {"bad format", &csr,
       [](std::vector<uint8_t> &b) {
         reinterpret_cast<sparq_sparse_header *>(b.data())->format = 7;
       }},
      {"total_bytes too small", &csr,
       [](std::vector<uint8_t> &b) {
         reinterpret_cast<sparq_sparse_header *>(b.data())->total_bytes = 100;
       }},
      {"values past the end", &csr,
       [](std::vector<uint8_t> &b) {
         reinterpret_cast<sparq_sparse_header *>(b.data())->nnz += 1000;
       }},
      {"misaligned offset", &csr,
       [](std::vector<uint8_t> &b) {
         reinterpret_cast<sparq_sparse_header *>(b.data())->col_offset += 2;
       }},
      {"column out of range", &csr,
       [](std::vector<uint8_t> &b) {
         auto *hh = reinterpret_cast<sparq_sparse_header *>(b.data());
         uint16_t big = 60000;
         std::memcpy(b.data() + hh->col_offset + 2 * 5, &big, 2);
       }},
      {"decreasing row_ptr", &csr,
       [](std::vector<uint8_t> &b) {
         auto *hh = reinterpret_cast<sparq_sparse_header *>(b.data());
         uint32_t *rp = reinterpret_cast<uint32_t *>(b.data() + hh->row_ptr_offset);
         rp[3] = rp[4] + 5;
       }},
      {"bad index_bytes", &csr,
       [](std::vector<uint8_t> &b) {
         reinterpret_cast<sparq_sparse_header *>(b.data())->index_bytes = 3;
       }},
      {"block rows not dividing", &block,
       [](std::vector<uint8_t> &b) {
         reinterpret_cast<sparq_sparse_header *>(b.data())->block_rows = 5;
       }},
      {"block column out of range", &block,
       [](std::vector<uint8_t> &b) {
         auto *hh = reinterpret_cast<sparq_sparse_header *>(b.data());
         uint16_t big = 48;
         std::memcpy(b.data() + hh->col_offset, &big, 2);
       }},
      {"nm position >= m", &nm,
       [](std::vector<uint8_t> &b) {
         auto *hh = reinterpret_cast<sparq_sparse_header *>(b.data());
         b[hh->col_offset + 3] = 0xF7;
       }},
      {"nm n > m", &nm,
       [](std::vector<uint8_t> &b) {
         reinterpret_cast<sparq_sparse_header *>(b.data())->n = 5;
       }},
      {"huge rows", &csr,
       [](std::vector<uint8_t> &b) {
         reinterpret_cast<sparq_sparse_header *>(b.data())->rows = 0xFFFFFFF0u;
       }},
  };
  std::vector<float> X(8 * 48);
  fillRandom(X, 78);
  for (const Corruption &c : corruptions) {
    // A fresh model per blob: the validation result is cached per address.
    sparq_model *model = createBareModel(2);
    std::vector<uint8_t> blob = *c.base;
    c.apply(blob);
    std::vector<float> Y(8 * 64, -777.f);
    for (int64_t M : {1, 8}) {
      sparq_uk_sparse_matmul_f32(model, blob.data(), X.data(), nullptr,
                                 nullptr, Y.data(), M, 1, 0.f, 0.f);
    }
    sparq_uk_sparse_conv2d_f32(model, blob.data(), X.data(), nullptr, nullptr,
                               Y.data(), 1, 48, 1, 1, 64, 1, 1, 1, 1, 1, 1, 0,
                               0, 1, 1, 0, 0.f, 0.f);
    bool untouched = true;
    for (float v : Y)
      untouched = untouched && v == -777.f;
    check(untouched, std::string("corrupted blob rejected: ") + c.what);
    sparq_model_destroy(model);
  }
  // A conv whose geometry does not match the blob is rejected too.
  {
    sparq_model *model = createBareModel(1);
    std::vector<float> Y(64 * 4, -777.f);
    sparq_uk_sparse_conv2d_f32(model, csr.data(), X.data(), nullptr, nullptr,
                               Y.data(), 1, 12, 2, 2, 64, 2, 2, 1, 1, 1, 1, 0,
                               0, 1, 1, 0, 0.f, 0.f);
    bool untouched = true;
    for (float v : Y)
      untouched = untouched && v == -777.f;
    check(untouched, "sparse conv rejects a blob of the wrong shape");
    sparq_model_destroy(model);
  }
  // A valid blob at a misaligned address is still used (copied once).
  {
    std::vector<uint8_t> shifted(csr.size() + 1);
    std::memcpy(shifted.data() + 1, csr.data(), csr.size());
    sparq_model *model = createBareModel(1);
    std::vector<float> Y1(2 * 64), Y2(2 * 64);
    sparq_uk_sparse_matmul_f32(model, csr.data(), X.data(), nullptr, nullptr,
                               Y1.data(), 2, 0, 0.f, 0.f);
    sparq_uk_sparse_matmul_f32(model, shifted.data() + 1, X.data(), nullptr,
                               nullptr, Y2.data(), 2, 0, 0.f, 0.f);
    check(Y1 == Y2, "sparse matmul reads a misaligned blob");
    sparq_model_destroy(model);
  }
  // Packers refuse what the format cannot express.
  check(sparq::rt::packSparseNM(dense.data(), 64, 48, 1, 4).empty(),
        "packSparseNM rejects a group with more than N non-zeros");
  check(sparq::rt::packSparseNM(dense.data(), 64, 48, 2, 5).empty(),
        "packSparseNM rejects cols % M != 0");
  check(sparq::rt::packSparseBlock(dense.data(), 64, 48, 5, 1).empty(),
        "packSparseBlock rejects rows % R != 0");
  check(sparq::rt::packSparseCsr(dense.data(), 64, 48, 3).empty(),
        "packSparseCsr rejects index_bytes 3");
}

/// The validated view is cached: one cache entry per blob and model.
void testSparseCache() {
  std::vector<float> dense(32 * 32);
  fillRandom(dense, 90);
  const std::vector<uint8_t> blob = sparq::rt::packSparseCsr(dense.data(), 32, 32);
  sparq_model *model = createBareModel(2);
  std::vector<float> X(16 * 32), Y(16 * 32);
  fillRandom(X, 91);
  for (int i = 0; i < 3; ++i)
    sparq_uk_sparse_matmul_f32(model, blob.data(), X.data(), nullptr, nullptr,
                               Y.data(), 16, 0, 0.f, 0.f);
  check(model->context.cachedPackCount() == 1,
        "sparse blob is validated once and cached");
  sparq_model_destroy(model);
}

/// The epilogue the sparse matmul fuses into its tile stores: every
/// activation code (GELU in its erf and tanh forms included) with and
/// without bias and residual, for shapes whose batch M and feature count N
/// are not multiples of the tiles (N = 8 k + 3 leaves a last group of 3
/// features; M leaves a partial last tile), on the tile path (CSR, R x 1
/// blocks of 8 and 16 rows), the N:M tile or row kernels and the batch-1
/// vector kernels. Each result is compared with a double-precision scalar
/// reference, and bit for bit with the unfused computation it replaces: the
/// raw products (a call without epilogue) followed by the dense kernels'
/// row epilogue over each output row.
void testSparseFusedEpilogue(int threads, const std::string &setName) {
  const SparseFormatSpec formats[] = {
      {SparseKind::Csr, 1, 1, 2},   {SparseKind::Block, 8, 1, 2},
      {SparseKind::Block, 16, 1, 4}, {SparseKind::Block, 4, 1, 2},
      {SparseKind::NM, 2, 4},       {SparseKind::NM, 4, 8},
      {SparseKind::NM, 1, 4}};
  const sparq::rt::EpilogueRowFn epilogueRow =
      sparq::rt::kernels().epilogueRow;
  uint64_t seed = 900;
  for (const SparseFormatSpec &f : formats) {
    const int64_t rowUnit = f.kind == SparseKind::Block ? f.r : 1;
    // 67 = 8 * 8 + 3 features (blocks: rounded up to whole blocks, 80 for
    // 16-row blocks, which leaves a partial last thread chunk instead).
    const int64_t rows = (67 + rowUnit - 1) / rowUnit * rowUnit;
    const int64_t cols = f.kind == SparseKind::NM ? 96 : 90;
    SparseWeight w = makeWeight(f, rows, cols, 0.35, ++seed);
    if (!check(!w.blob.empty(), "pack " + w.what))
      continue;
    std::vector<float> bias(rows);
    fillRandom(bias, seed + 1);
    for (int64_t M : {1, 5, 16, 21, 37}) {
      std::vector<float> X(M * cols), residual(M * rows);
      fillRandom(X, seed + 2 + M);
      fillRandom(residual, seed + 3 + M);
      // Raw products in double (reference) and from the kernels.
      std::vector<double> acc(M * rows), mag(M * rows);
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < rows; ++n) {
          double a = 0, g = 0;
          for (int64_t k = 0; k < cols; ++k) {
            const double p = double(X[m * cols + k]) * w.dense[n * cols + k];
            a += p;
            g += std::fabs(p);
          }
          acc[m * rows + n] = a;
          mag[m * rows + n] = g;
        }
      sparq_model *model = createBareModel(threads);
      std::vector<float> raw(M * rows, -777.f);
      sparq_uk_sparse_matmul_f32(model, w.blob.data(), X.data(), nullptr,
                                 nullptr, raw.data(), M, 0, 0.f, 0.f);
      for (int act = 0; act <= 9; ++act)
        for (int variant = 0; variant < 4; ++variant) {
          const bool useBias = variant & 1, useResidual = variant & 2;
          if (act == 0 && variant == 0)
            continue; // no epilogue: the raw call above
          const float *b = useBias ? bias.data() : nullptr;
          const float *res = useResidual ? residual.data() : nullptr;
          std::vector<float> Y(M * rows, -777.f);
          sparq_uk_sparse_matmul_f32(model, w.blob.data(), X.data(), b, res,
                                     Y.data(), M, act, kActA[act],
                                     kActB[act]);
          const std::string what =
              "sparse fused epilogue " + setName + " " + w.what + " M=" +
              std::to_string(M) + " bias=" + std::to_string(useBias) +
              " res=" + std::to_string(useResidual) + " act=" +
              std::to_string(act) + " threads=" + std::to_string(threads);
          std::vector<double> ref(M * rows), scale(M * rows);
          for (int64_t i = 0; i < M * rows; ++i) {
            const int64_t n = i % rows;
            double v = acc[i], g = mag[i];
            if (useBias)
              v += bias[n], g += std::fabs(bias[n]);
            if (useResidual)
              v += residual[i], g += std::fabs(residual[i]);
            ref[i] = referenceActivation(v, act, kActA[act], kActB[act]);
            scale[i] = g;
          }
          checkClose(Y, ref, scale, what);
          // The unfused order: raw store, then the row epilogue.
          std::vector<float> unfused = raw;
          for (int64_t m = 0; m < M; ++m)
            epilogueRow(unfused.data() + m * rows, 0.f, b,
                        res ? res + m * rows : nullptr, rows, act, kActA[act],
                        kActB[act]);
          check(std::memcmp(Y.data(), unfused.data(),
                            Y.size() * sizeof(float)) == 0,
                what + ": bit-identical to raw store + epilogueRow");
        }
      sparq_model_destroy(model);
    }
  }
}

/// The kernel set's transposed store on its own: every row count 1..24
/// (whole 8 x 8 transposes plus a remainder) and live count 1..T, with and
/// without an epilogue, against a scalar loop; untouched parts of y keep
/// their sentinel.
void testSparseStoreTransposed(const SparseKernelSet &ks,
                               const std::string &setName) {
  const int64_t T = 16, ldy = 29;
  std::vector<float> out(24 * T), bias(24), residual(T * ldy);
  fillRandom(out, 41);
  fillRandom(bias, 42);
  fillRandom(residual, 43);
  for (float &v : out)
    v *= 4.f; // reach the saturating parts of the activations
  int failures = 0;
  for (int64_t rows = 1; rows <= 24; ++rows)
    for (int64_t cnt = 1; cnt <= T; ++cnt)
      for (int act : {0, 1, 6, 7}) {
        const bool withEpi = act != 0 || rows % 2 == 0;
        sparq::rt::SparseStoreEpilogue epi;
        epi.bias = rows % 3 != 0 ? bias.data() : nullptr;
        epi.residual = rows % 4 != 1 ? residual.data() : nullptr;
        epi.act = act;
        epi.epilogueRow = sparq::rt::kernels().epilogueRow;
        std::vector<float> y(T * ldy, -777.f);
        ks.storeTransposed(out.data(), T, rows, cnt, y.data(), ldy,
                           withEpi ? &epi : nullptr);
        bool ok = true;
        for (int64_t j = 0; j < T; ++j)
          for (int64_t r = 0; r < ldy; ++r) {
            const float got = y[j * ldy + r];
            if (j >= cnt || r >= rows) {
              ok = ok && got == -777.f;
              continue;
            }
            double v = out[r * T + j];
            if (withEpi) {
              if (epi.bias)
                v += bias[r];
              if (epi.residual)
                v += residual[j * ldy + r];
              v = referenceActivation(v, act, 0, 0);
            }
            ok = ok && std::fabs(got - v) <= 1e-5 * (std::fabs(v) + 1.0);
          }
        if (!ok && ++failures <= 3)
          check(false, "sparse store transposed " + setName + " rows=" +
                           std::to_string(rows) + " cnt=" +
                           std::to_string(cnt) + " act=" + std::to_string(act));
      }
  check(failures == 0, "sparse store transposed " + setName +
                           " (rows 1..24, cnt 1..16, with/without epilogue)");
}

} // namespace

void sparq::unit::runSparseTests(int numThreads) {
  // Every kernel set this CPU runs: the automatic choice first, then the
  // AVX-512, AVX2 and portable sets (each compared with the references).
  std::vector<const SparseKernelSet *> sets = {&sparq::rt::sparseKernels()};
  for (const SparseKernelSet *set :
       {sparq::rt::avx512SparseKernelSet(), sparq::rt::avx2SparseKernelSet(),
        &sparq::rt::genericSparseKernelSet()})
    if (set && std::find(sets.begin(), sets.end(), set) == sets.end())
      sets.push_back(set);
  for (const SparseKernelSet *set : sets) {
    sparq::rt::setSparseKernelsForTesting(set);
    testSparseMatmul(numThreads, set->name, 1000 + numThreads);
    testSparseTileEdges(numThreads, set->name);
    // The padded-plane direct path's aligned and unaligned modes on every
    // shape, the row strips on every stride-1 shape (where the set has
    // them), then the choice by shape.
    const struct {
      int align, strips;
      const char *name;
    } convModes[] = {{0, 0, " unaligned"},
                     {1, 0, " aligned"},
                     {-1, 1, " row strips"},
                     {-1, -1, ""}};
    for (const auto &mode : convModes) {
      if (mode.strips == 1 && !set->stripWindow)
        continue; // no row strips in this set: the same as the choice
      sparq::rt::setSparseDirectAlignForTesting(mode.align);
      sparq::rt::setSparseConvStripsForTesting(mode.strips);
      testSparseConv(numThreads, set->name + std::string(mode.name));
    }
    sparq::rt::setSparseConvStripsForTesting(-1);
    testSparseSplitReduction(numThreads, set->name);
    testSparseFusedEpilogue(numThreads, set->name);
    if (numThreads == 1)
      testSparseStoreTransposed(*set, set->name);
  }
  sparq::rt::setSparseKernelsForTesting(nullptr);
  if (numThreads == 1) {
    testCorruptedBlobs();
    testSparseCache();
  }
}
