//===- Gemm.cpp - Packed, blocked, multi-threaded SGEMM driver ------------===//
//
// Goto-style SGEMM. The output is cut into batch x M-block x N-block tasks
// that the thread pool hands out dynamically. A task walks K in kKC-deep
// slices; for each slice it packs (or finds pre-packed) an A block of
// kMR-row panels and a B block of kNR-column panels, then sweeps the
// micro-kernel over the block, B panel outer (kept in L1) and A panel inner
// (the A block stays in L2). On the last K slice the micro-kernel applies the
// epilogue in registers before its only store. An unpacked A that several N
// blocks would each repack is packed once up front and shared.
//
// Single-row products with an unpacked B take a separate, memory-bound path
// (axpy over rows of B, or dot products for a transposed B): packing B would
// cost as much as the product itself.
//
//===----------------------------------------------------------------------===//

#include "Gemm.h"

#include "Context.h"

#include <algorithm>
#include <cstring>

using namespace sparq::rt;

namespace {

constexpr int64_t kMCMax = 96;
constexpr int64_t kNCMax = 512;

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t roundUp(int64_t a, int64_t b) { return ceilDiv(a, b) * b; }

/// Packs A[m0:m0+mc, k0:k0+kc] (row-major, lda) into kMR-row panels.
void packABlock(const float *A, int64_t lda, int64_t m0, int64_t mc, int64_t k0,
                int64_t kc, float *dst) {
  for (int64_t p = 0; p < mc; p += kMR) {
    int64_t rows = std::min<int64_t>(kMR, mc - p);
    float *panel = dst + p * kc;
    for (int64_t i = 0; i < rows; ++i) {
      const float *src = A + (m0 + p + i) * lda + k0;
      for (int64_t k = 0; k < kc; ++k)
        panel[k * kMR + i] = src[k];
    }
    for (int64_t i = rows; i < kMR; ++i)
      for (int64_t k = 0; k < kc; ++k)
        panel[k * kMR + i] = 0.f;
  }
}

/// Packs B[k0:k0+kc, n0:n0+nc] of a row-major [K,N] matrix.
void packBBlockRowMajor(const float *B, int64_t ldb, int64_t k0, int64_t kc,
                        int64_t n0, int64_t nc, float *dst) {
  for (int64_t p = 0; p < nc; p += kNR) {
    int64_t cols = std::min<int64_t>(kNR, nc - p);
    float *panel = dst + p * kc;
    const float *src = B + k0 * ldb + n0 + p;
    if (cols == kNR) {
      for (int64_t k = 0; k < kc; ++k)
        std::memcpy(panel + k * kNR, src + k * ldb, kNR * sizeof(float));
    } else {
      for (int64_t k = 0; k < kc; ++k) {
        float *row = panel + k * kNR;
        std::memcpy(row, src + k * ldb, cols * sizeof(float));
        std::memset(row + cols, 0, (kNR - cols) * sizeof(float));
      }
    }
  }
}

/// Packs the same block of a B stored transposed, i.e. as [N,K].
void packBBlockTransposed(const float *Bt, int64_t ldb, int64_t k0, int64_t kc,
                          int64_t n0, int64_t nc, float *dst) {
  for (int64_t p = 0; p < nc; p += kNR) {
    int64_t cols = std::min<int64_t>(kNR, nc - p);
    float *panel = dst + p * kc;
    for (int64_t j = 0; j < cols; ++j) {
      const float *src = Bt + (n0 + p + j) * ldb + k0;
      for (int64_t k = 0; k < kc; ++k)
        panel[k * kNR + j] = src[k];
    }
    for (int64_t j = cols; j < kNR; ++j)
      for (int64_t k = 0; k < kc; ++k)
        panel[k * kNR + j] = 0.f;
  }
}

/// Applies the epilogue to rows [i0, i0+rows) x columns [j0, j0+cols) of C.
void applyEpilogue(const KernelSet &ks, const Epilogue &epi,
                   const float *residualBase, float *C, int64_t ldc, int64_t i0,
                   int64_t rows, int64_t j0, int64_t cols) {
  for (int64_t i = i0; i < i0 + rows; ++i) {
    float rowBias = epi.bias && epi.biasPerRow ? epi.bias[i] : 0.f;
    const float *colBias =
        epi.bias && !epi.biasPerRow ? epi.bias + j0 : nullptr;
    const float *res =
        residualBase ? residualBase + i * epi.residualLd + j0 : nullptr;
    ks.epilogueRow(C + i * ldc + j0, rowBias, colBias, res, cols, epi.act,
                   epi.actA, epi.actB);
  }
}

struct Blocking {
  int64_t mc, nc, mBlocks, nBlocks;
};

Blocking chooseBlocking(const GemmArgs &a, int threads) {
  Blocking b;
  b.mBlocks = ceilDiv(a.M, kMCMax);
  b.mc = roundUp(ceilDiv(a.M, b.mBlocks), kMR);
  b.mBlocks = ceilDiv(a.M, b.mc);
  b.nBlocks = ceilDiv(a.N, kNCMax);
  b.nc = roundUp(ceilDiv(a.N, b.nBlocks), kNR);
  b.nBlocks = ceilDiv(a.N, b.nc);
  // Give every thread a few tasks so dynamic scheduling can balance them.
  if (threads > 1) {
    while (a.batch * b.mBlocks * b.nBlocks < 4 * threads && b.nc > 4 * kNR) {
      b.nc = roundUp(ceilDiv(b.nc, 2), kNR);
      b.nBlocks = ceilDiv(a.N, b.nc);
    }
    while (a.batch * b.mBlocks * b.nBlocks < 2 * threads && b.mc > 2 * kMR) {
      b.mc = roundUp(ceilDiv(b.mc, 2), kMR);
      b.mBlocks = ceilDiv(a.M, b.mc);
    }
  }
  return b;
}

struct GemmRunner {
  Context &ctx;
  const GemmArgs &a;
  const KernelSet &ks;
  Blocking blk;
  int64_t mPad, nPad;

  /// The epilogue of the tile at rows [i0, i0+rows) x columns [j0, j0+cols)
  /// of C; a partial tile gets its column bias and residual zero-padded to
  /// kNR columns in the given buffers.
  TileEpilogue tileEpilogue(const float *residual, int64_t i0, int64_t rows,
                            int64_t j0, int64_t cols, float *colBiasBuf,
                            float *residualBuf) const {
    const Epilogue &e = a.epi;
    TileEpilogue te;
    te.act = e.act;
    te.actA = e.actA;
    te.actB = e.actB;
    if (e.bias && e.biasPerRow)
      te.rowBias = e.bias + i0;
    const float *colBias = e.bias && !e.biasPerRow ? e.bias + j0 : nullptr;
    const float *res = residual ? residual + i0 * e.residualLd + j0 : nullptr;
    if (cols == kNR) {
      te.colBias = colBias;
      te.residual = res;
      te.residualLd = e.residualLd;
      return te;
    }
    if (colBias) {
      std::memcpy(colBiasBuf, colBias, cols * sizeof(float));
      std::memset(colBiasBuf + cols, 0, (kNR - cols) * sizeof(float));
      te.colBias = colBiasBuf;
    }
    if (res) {
      for (int64_t r = 0; r < rows; ++r) {
        std::memcpy(residualBuf + r * kNR, res + r * e.residualLd,
                    cols * sizeof(float));
        std::memset(residualBuf + r * kNR + cols, 0,
                    (kNR - cols) * sizeof(float));
      }
      te.residual = residualBuf;
      te.residualLd = kNR;
    }
    return te;
  }

  void runTask(int64_t task) {
    int64_t nb = task % blk.nBlocks;
    int64_t rest = task / blk.nBlocks;
    int64_t mb = rest % blk.mBlocks;
    int64_t bi = rest / blk.mBlocks;
    int64_t m0 = mb * blk.mc, mc = std::min(blk.mc, a.M - m0);
    int64_t n0 = nb * blk.nc, nc = std::min(blk.nc, a.N - n0);

    const float *A = a.A ? a.A + bi * a.strideA : nullptr;
    const float *AP = a.APacked ? a.APacked + bi * a.strideAPacked : nullptr;
    const float *B = a.B ? a.B + bi * a.strideB : nullptr;
    const float *BP = a.BPacked ? a.BPacked + bi * a.strideBPacked : nullptr;
    float *C = a.C + bi * a.strideC;
    const float *residual =
        a.epi.residual ? a.epi.residual + bi * a.strideResidual : nullptr;

    float *aBuf = nullptr, *bBuf = nullptr;
    if (!AP &&
        !(aBuf = ctx.scratch(ScratchSlot::PackA, roundUp(mc, kMR) * kKC)))
      return;
    if (!BP &&
        !(bBuf = ctx.scratch(ScratchSlot::PackB, roundUp(nc, kNR) * kKC)))
      return;
    alignas(64) float tile[kMR * kNR];
    alignas(64) float colBiasTile[kNR], residualTile[kMR * kNR];
    bool needEpilogue = !a.epi.trivial();

    for (int64_t k0 = 0; k0 < a.K; k0 += kKC) {
      int64_t kc = std::min(kKC, a.K - k0);
      bool first = k0 == 0, last = k0 + kc >= a.K;
      const float *aBlock, *bBlock;
      if (AP) {
        aBlock = AP + k0 * mPad + m0 * kc;
      } else {
        packABlock(A, a.lda, m0, mc, k0, kc, aBuf);
        aBlock = aBuf;
      }
      if (BP) {
        bBlock = BP + k0 * nPad + n0 * kc;
      } else {
        if (a.packB)
          a.packB(a.packBClosure, k0, kc, n0, nc, bBuf);
        else if (a.transB)
          packBBlockTransposed(B, a.ldb, k0, kc, n0, nc, bBuf);
        else
          packBBlockRowMajor(B, a.ldb, k0, kc, n0, nc, bBuf);
        bBlock = bBuf;
      }
      for (int64_t jp = 0; jp < nc; jp += kNR) {
        int64_t cols = std::min<int64_t>(kNR, nc - jp);
        const float *bPanel = bBlock + jp * kc;
        for (int64_t ip = 0; ip < mc; ip += kMR) {
          int64_t rows = std::min<int64_t>(kMR, mc - ip);
          const float *aPanel = aBlock + ip * kc;
          float *c = C + (m0 + ip) * a.ldc + n0 + jp;
          const bool fuse = last && needEpilogue;
          TileEpilogue te;
          if (fuse)
            te = tileEpilogue(residual, m0 + ip, rows, n0 + jp, cols,
                              colBiasTile, residualTile);
          if (cols == kNR) {
            if (fuse)
              ks.microEpi[rows](kc, aPanel, bPanel, c, a.ldc, !first, te);
            else
              ks.micro[rows](kc, aPanel, bPanel, c, a.ldc, !first);
            continue;
          }
          if (!first)
            for (int64_t r = 0; r < rows; ++r)
              std::memcpy(tile + r * kNR, c + r * a.ldc, cols * sizeof(float));
          // A panel with few live columns takes the half-width kernels.
          const bool narrow = cols <= kNRNarrow;
          if (fuse)
            (narrow ? ks.microEpiNarrow : ks.microEpi)[rows](
                kc, aPanel, bPanel, tile, kNR, !first, te);
          else
            (narrow ? ks.microNarrow : ks.micro)[rows](kc, aPanel, bPanel, tile,
                                                       kNR, !first);
          for (int64_t r = 0; r < rows; ++r)
            std::memcpy(c + r * a.ldc, tile + r * kNR, cols * sizeof(float));
        }
      }
    }
  }
};

/// M == 1 with an unpacked B: stream B once.
void gemvRowMajorOrTransposed(Context &ctx, const GemmArgs &a,
                              const KernelSet &ks) {
  int64_t chunk =
      std::max<int64_t>(64, roundUp(ceilDiv(a.N, 4 * ctx.numThreads()), kNR));
  int64_t chunks = ceilDiv(a.N, chunk);
  ctx.threads().parallelFor(
      a.batch * chunks, 1, [&](int64_t begin, int64_t end) {
        for (int64_t t = begin; t < end; ++t) {
          int64_t bi = t / chunks;
          int64_t n0 = (t % chunks) * chunk;
          int64_t len = std::min(chunk, a.N - n0);
          const float *x = a.A + bi * a.strideA;
          const float *B = a.B + bi * a.strideB;
          float *y = a.C + bi * a.strideC + n0;
          if (a.transB) {
            for (int64_t j = 0; j < len; ++j)
              y[j] = ks.dot(x, B + (n0 + j) * a.ldb, a.K);
          } else {
            std::memset(y, 0, len * sizeof(float));
            for (int64_t k = 0; k < a.K; ++k)
              ks.axpy(y, B + k * a.ldb + n0, x[k], len);
          }
          if (!a.epi.trivial()) {
            const float *res = a.epi.residual
                                   ? a.epi.residual + bi * a.strideResidual
                                   : nullptr;
            applyEpilogue(ks, a.epi, res, a.C + bi * a.strideC, a.ldc, 0, 1, n0,
                          len);
          }
        }
      });
}

} // namespace

size_t sparq::rt::packedASize(int64_t M, int64_t K) {
  return static_cast<size_t>(roundUp(M, kMR) * K);
}

size_t sparq::rt::packedBSize(int64_t K, int64_t N) {
  return static_cast<size_t>(roundUp(N, kNR) * K);
}

void sparq::rt::packWholeA(const float *A, int64_t lda, int64_t M, int64_t K,
                           float *dst) {
  int64_t mPad = roundUp(M, kMR);
  for (int64_t k0 = 0; k0 < K; k0 += kKC) {
    int64_t kc = std::min(kKC, K - k0);
    packABlock(A, lda, 0, M, k0, kc, dst + k0 * mPad);
  }
}

void sparq::rt::packWholeB(const float *B, int64_t ldb, bool transB, int64_t K,
                           int64_t N, float *dst) {
  int64_t nPad = roundUp(N, kNR);
  for (int64_t k0 = 0; k0 < K; k0 += kKC) {
    int64_t kc = std::min(kKC, K - k0);
    if (transB)
      packBBlockTransposed(B, ldb, k0, kc, 0, N, dst + k0 * nPad);
    else
      packBBlockRowMajor(B, ldb, k0, kc, 0, N, dst + k0 * nPad);
  }
}

namespace {

/// Runs the task grid of one GEMM on the pool.
void runTasks(Context &ctx, const GemmArgs &a, const KernelSet &ks,
              const Blocking &blk) {
  GemmRunner runner{ctx, a, ks, blk, roundUp(a.M, kMR), roundUp(a.N, kNR)};
  int64_t tasks = a.batch * blk.mBlocks * blk.nBlocks;
  ctx.threads().parallelFor(tasks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t)
      runner.runTask(t);
  });
}

/// Packs B[:, n0:n0+nc] in parallel into `dst` in the whole-matrix layout.
void packBShared(Context &ctx, const GemmArgs &a, int64_t n0, int64_t nc,
                 float *dst) {
  constexpr int64_t kPanelsPerItem = 8;
  const int64_t ncPad = roundUp(nc, kNR);
  const int64_t kBlocks = ceilDiv(a.K, kKC);
  const int64_t groups = ceilDiv(ncPad / kNR, kPanelsPerItem);
  ctx.threads().parallelFor(kBlocks * groups, 1, [&](int64_t b, int64_t e) {
    for (int64_t item = b; item < e; ++item) {
      int64_t k0 = (item / groups) * kKC, kc = std::min(kKC, a.K - k0);
      int64_t p = (item % groups) * kPanelsPerItem * kNR;
      int64_t width = std::min(kPanelsPerItem * kNR, nc - p);
      float *out = dst + k0 * ncPad + p * kc;
      if (a.packB)
        a.packB(a.packBClosure, k0, kc, n0 + p, width, out);
      else if (a.transB)
        packBBlockTransposed(a.B, a.ldb, k0, kc, n0 + p, width, out);
      else
        packBBlockRowMajor(a.B, a.ldb, k0, kc, n0 + p, width, out);
    }
  });
}

/// Packs B once per column chunk, shared by all M blocks, instead of once
/// per task: worthwhile when several M blocks would each repack it.
void gemmWithSharedB(Context &ctx, const GemmArgs &a, const KernelSet &ks) {
  constexpr int64_t kSharedBFloats = int64_t(1) << 20; // 4 MiB per chunk
  int64_t chunk = std::max<int64_t>(kNR, kSharedBFloats / a.K / kNR * kNR);
  chunk = std::min(chunk, roundUp(a.N, kNR));
  float *buf = ctx.scratch(ScratchSlot::SharedB, chunk * a.K);
  if (!buf)
    return;
  for (int64_t n0 = 0; n0 < a.N; n0 += chunk) {
    int64_t nc = std::min(chunk, a.N - n0);
    packBShared(ctx, a, n0, nc, buf);
    GemmArgs sub = a;
    sub.N = nc;
    sub.B = nullptr;
    sub.packB = nullptr;
    sub.BPacked = buf;
    sub.strideBPacked = 0;
    sub.C = a.C + n0;
    if (a.epi.bias && !a.epi.biasPerRow)
      sub.epi.bias = a.epi.bias + n0;
    if (a.epi.residual)
      sub.epi.residual = a.epi.residual + n0;
    runTasks(ctx, sub, ks, chooseBlocking(sub, ctx.numThreads()));
  }
}

/// Packs every batch's A into the calling thread's SharedA scratch in the
/// packWholeA layout and points `out` at it, so that tasks sharing an M
/// block stop packing it once each. Returns false (and leaves `out` alone)
/// when A is too large to be worth it or the scratch is unavailable.
bool packSharedA(Context &ctx, const GemmArgs &a, GemmArgs &out) {
  constexpr size_t kMaxSharedAFloats = size_t(1) << 22; // 16 MiB
  const size_t one = packedASize(a.M, a.K);
  if (one * a.batch > kMaxSharedAFloats)
    return false;
  float *dst = ctx.scratch(ScratchSlot::SharedA, one * a.batch);
  if (!dst)
    return false;
  const int64_t mPad = roundUp(a.M, kMR);
  const int64_t kBlocks = ceilDiv(a.K, kKC);
  // Items of up to 8 panels x one K block; small operands are packed by the
  // caller alone, which is cheaper than waking the pool.
  constexpr int64_t kPanelsPerItem = 8;
  const int64_t groups = ceilDiv(mPad / kMR, kPanelsPerItem);
  auto packItems = [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      int64_t bi = item / (kBlocks * groups), rest = item % (kBlocks * groups);
      int64_t k0 = (rest / groups) * kKC, kc = std::min(kKC, a.K - k0);
      int64_t m0 = (rest % groups) * kPanelsPerItem * kMR;
      int64_t mc = std::min(kPanelsPerItem * kMR, a.M - m0);
      packABlock(a.A + bi * a.strideA, a.lda, m0, mc, k0, kc,
                 dst + bi * one + k0 * mPad + m0 * kc);
    }
  };
  const int64_t items = a.batch * kBlocks * groups;
  if (one * a.batch <= (size_t(1) << 15))
    packItems(0, items);
  else
    ctx.threads().parallelFor(
        items, 1, [&](int64_t begin, int64_t end) { packItems(begin, end); });
  out.A = nullptr;
  out.APacked = dst;
  out.strideAPacked = static_cast<int64_t>(one);
  return true;
}

} // namespace

void sparq::rt::gemm(Context &ctx, const GemmArgs &args) {
  GemmArgs packedA;
  const GemmArgs *ap = &args;
  if (args.A && !args.APacked && args.M > 1 && args.K > 0 &&
      args.batch > 0 && args.N > 0 &&
      chooseBlocking(args, ctx.numThreads()).nBlocks > 1) {
    // Several N blocks would each pack the same A block: pack it once.
    packedA = args;
    if (packSharedA(ctx, args, packedA))
      ap = &packedA;
  }
  const GemmArgs &a = *ap;
  if (a.batch <= 0 || a.M <= 0 || a.N <= 0)
    return;
  const KernelSet &ks = kernels();
  if (a.K <= 0) {
    // Empty reduction: the product is zero; only the epilogue remains.
    for (int64_t bi = 0; bi < a.batch; ++bi) {
      float *C = a.C + bi * a.strideC;
      for (int64_t i = 0; i < a.M; ++i)
        std::memset(C + i * a.ldc, 0, a.N * sizeof(float));
      const float *res =
          a.epi.residual ? a.epi.residual + bi * a.strideResidual : nullptr;
      if (!a.epi.trivial())
        applyEpilogue(ks, a.epi, res, C, a.ldc, 0, a.M, 0, a.N);
    }
    return;
  }
  if (a.M == 1 && !a.BPacked && !a.packB && a.A) {
    gemvRowMajorOrTransposed(ctx, a, ks);
    return;
  }
  Blocking blk = chooseBlocking(a, ctx.numThreads());
  if (a.batch == 1 && !a.BPacked && blk.mBlocks > 1) {
    gemmWithSharedB(ctx, a, ks);
    return;
  }
  runTasks(ctx, a, ks, blk);
}
