//===- QGemm.cpp - Exact 8-bit integer GEMM driver and qmatmul entry ------===//
//
// Packing into the canonical layouts of QGemm.h, the ISA choice, the
// multi-threaded driver, and sparq_uk_qmatmul_i8.
//
// The driver has two modes. With B packed whole (constant weights, cached
// per model), the output is cut into M-block x N-block tasks. Otherwise
// every task owns a chunk of columns, packs that chunk of B (or of the
// im2col matrix) into its own scratch, and sweeps all rows over it, so B is
// packed exactly once and stays in cache while it is used; its column sums
// come from one extra micro-kernel row of ones per tile, so packers never
// sum. Inside a block,
// a 32-column B tile is the outer loop and the A panels the inner one; each
// micro-kernel call is followed by the output stage of its rows.
//
//===----------------------------------------------------------------------===//

#include "QGemm.h"

#include "sparq/Runtime/sparq_runtime.h"

#include "Kernels.h"
#include "Model.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SPARQ_QGEMM_SSE2 1
#include <emmintrin.h>
#endif

using namespace sparq::rt;

namespace {

/// Tag of integer matmul entries in the packed-weight cache.
constexpr int64_t kQMatmulPackTag = 11;

std::atomic<int> qIsaOverride{-1};

QIsa bestQIsa() {
  if (vnniQKernelSet())
    return QIsa::Avx512Vnni;
  if (avx2QKernelSet())
    return QIsa::Avx2;
  return QIsa::Generic;
}

/// The ISA SPARQ_QKERNEL_ISA asks for, if supported; else the best one.
QIsa defaultQIsa() {
  static const QIsa isa = [] {
    const char *env = std::getenv("SPARQ_QKERNEL_ISA");
    if (env) {
      for (QIsa q : {QIsa::Generic, QIsa::Avx2, QIsa::Avx512Vnni})
        if (std::strcmp(env, qIsaName(q)) == 0 && qkernelSet(q))
          return q;
    }
    return bestQIsa();
  }();
  return isa;
}

} // namespace

const QKernelSet *sparq::rt::qkernelSet(QIsa isa) {
  switch (isa) {
  case QIsa::Generic:
    return &genericQKernelSet();
  case QIsa::Avx2:
    return avx2QKernelSet();
  case QIsa::Avx512Vnni:
    return vnniQKernelSet();
  }
  return nullptr;
}

QIsa sparq::rt::activeQIsa() {
  int forced = qIsaOverride.load(std::memory_order_relaxed);
  if (forced >= 0 && qkernelSet(static_cast<QIsa>(forced)))
    return static_cast<QIsa>(forced);
  return defaultQIsa();
}

void sparq::rt::setQIsaOverride(int isa) { qIsaOverride.store(isa); }

const char *sparq::rt::qIsaName(QIsa isa) {
  switch (isa) {
  case QIsa::Generic:
    return "generic";
  case QIsa::Avx2:
    return "avx2";
  case QIsa::Avx512Vnni:
    return "avx512vnni";
  }
  return "?";
}

int64_t sparq::rt::qOutElementSize(int outKind) {
  return outKind == SPARQ_QOUT_I32 || outKind == SPARQ_QOUT_F32 ? 4 : 1;
}

int32_t sparq::rt::qLoadZeroPoint(const void *zp, int64_t type, int64_t i) {
  if (!zp)
    return 0;
  return type == SPARQ_QTYPE_S8 ? static_cast<const int8_t *>(zp)[i]
                                : static_cast<const uint8_t *>(zp)[i];
}

sparq::rt::QEpilogueTables::QEpilogueTables(
    int64_t channels, int64_t outKind, const int32_t *biasI32,
    const float *scale, bool perChannel, const float *biasF32, int64_t outZero,
    int64_t qmin, int64_t qmax, int64_t act, float actA, float actB)
    : biasI32(channels, 0), outKind(static_cast<int>(outKind)),
      outZero(static_cast<int32_t>(outZero)), qmin(static_cast<int32_t>(qmin)),
      qmax(static_cast<int32_t>(qmax)), act(static_cast<int>(act)), actA(actA),
      actB(actB) {
  if (biasI32)
    std::copy(biasI32, biasI32 + channels, this->biasI32.begin());
  if (outKind == SPARQ_QOUT_I32)
    return;
  this->scale.resize(channels);
  for (int64_t c = 0; c < channels; ++c)
    this->scale[c] = scale[perChannel ? c : 0];
  if (biasF32 && outKind == SPARQ_QOUT_F32) {
    this->biasF32.resize(channels);
    for (int64_t c = 0; c < channels; ++c)
      this->biasF32[c] = biasF32[perChannel ? c : 0];
  }
}

void sparq::rt::QEpilogueTables::apply(QGemmArgs &g) const {
  g.biasI32 = biasI32.data();
  g.scale = scale.empty() ? nullptr : scale.data();
  g.biasF32 = biasF32.empty() ? nullptr : biasF32.data();
  g.outKind = outKind;
  g.outZero = outZero;
  g.qmin = qmin;
  g.qmax = qmax;
  g.act = act;
  g.actA = actA;
  g.actB = actB;
}

int64_t sparq::rt::qPackedASize(int64_t M, int64_t K) {
  return qRoundUp(M, kQMR) * qRoundUp(K, 4);
}

int64_t sparq::rt::qPackedBSize(int64_t K, int64_t N) {
  return qRoundUp(N, kQNR) * qRoundUp(K, 4);
}

namespace {

/// Packs a run of K bytes (each XORed with xorMask) as the 4-byte quads of
/// one row or column of a panel whose groups are groupBytes apart, the last
/// quad zero-padded; without src, writes zero quads.
void qPackRun(const uint8_t *src, int64_t K, uint8_t xorMask, uint8_t *slot,
              int64_t groupBytes) {
  const int64_t full = K / 4;
  if (!src) {
    for (int64_t g = 0; g < qRoundUp(K, 4) / 4; ++g)
      std::memset(slot + g * groupBytes, 0, 4);
    return;
  }
  const uint32_t mask32 = xorMask * 0x01010101u;
  for (int64_t g = 0; g < full; ++g) {
    uint32_t quad;
    std::memcpy(&quad, src + 4 * g, 4);
    quad ^= mask32;
    std::memcpy(slot + g * groupBytes, &quad, 4);
  }
  if (full * 4 < K) {
    uint8_t tail[4] = {0, 0, 0, 0};
    for (int64_t k = full * 4; k < K; ++k)
      tail[k - full * 4] = src[k] ^ xorMask;
    std::memcpy(slot + full * groupBytes, tail, 4);
  }
}

} // namespace

void sparq::rt::qPackA(const uint8_t *A, int64_t lda, int64_t M, int64_t K,
                       uint8_t xorMask, uint8_t *dst, int32_t *rowSums) {
  const int64_t Kp = qRoundUp(K, 4);
  for (int64_t p = 0; p * kQMR < M; ++p) {
    uint8_t *panel = dst + p * kQMR * Kp;
    for (int64_t i = 0; i < kQMR; ++i) {
      int64_t r = p * kQMR + i;
      const uint8_t *src = r < M ? A + r * lda : nullptr;
      qPackRun(src, K, xorMask, panel + i * 4, kQMR * 4);
      if (!src)
        continue;
      int32_t sum = 0;
      for (int64_t k = 0; k < K; ++k)
        sum += static_cast<uint8_t>(src[k] ^ xorMask);
      rowSums[r] = sum;
    }
  }
}

void sparq::rt::qInterleave4x16(const uint8_t *r0, const uint8_t *r1,
                                const uint8_t *r2, const uint8_t *r3,
                                uint8_t *lo, uint8_t *hi) {
#ifdef SPARQ_QGEMM_SSE2
  auto ld = [](const uint8_t *p) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
  };
  qInterleave4x16Sse2(ld(r0), ld(r1), ld(r2), ld(r3), lo, hi);
#else
  for (int j = 0; j < 16; ++j) {
    uint8_t *q = (j < 8 ? lo : hi) + (j % 8) * 4;
    q[0] = r0[j];
    q[1] = r1[j];
    q[2] = r2[j];
    q[3] = r3[j];
  }
#endif
}

void sparq::rt::qPackAParallel(Context &ctx, const uint8_t *A, int64_t lda,
                               int64_t M, int64_t K, uint8_t xorMask,
                               uint8_t *dst, int32_t *rowSums) {
  constexpr int64_t kPanelsPerItem = 8;
  const int64_t Kp = qRoundUp(K, 4), panels = qDivCeil(M, kQMR);
  const int64_t items = qDivCeil(panels, kPanelsPerItem);
  auto pack = [&](int64_t begin, int64_t end) {
    for (int64_t it = begin; it < end; ++it) {
      int64_t r0 = it * kPanelsPerItem * kQMR;
      int64_t rows = std::min(kPanelsPerItem * kQMR, M - r0);
      qPackA(A + r0 * lda, lda, rows, K, xorMask, dst + r0 * Kp, rowSums + r0);
    }
  };
  // Small operands are packed by the caller alone, cheaper than the pool.
  if (M * K <= (int64_t(1) << 16) || ctx.numThreads() == 1)
    pack(0, items);
  else
    ctx.threads().parallelFor(items, 1,
                              [&](int64_t b, int64_t e) { pack(b, e); });
}

namespace {

/// Row-major [K,N] source: interleaves groups of 4 rows, 16 columns at a
/// time, through a small canonicalized staging copy.
void qPackBRowMajor(const uint8_t *B, int64_t ldb, int64_t K, int64_t n0,
                    int64_t nc, uint8_t xorMask, int8_t *dst,
                    int32_t *colSums) {
  const int64_t Kp = qRoundUp(K, 4);
  alignas(16) uint8_t stage[4][16];
  for (int64_t q = 0; q * kQNR < nc; ++q) {
    const int64_t cols = std::min<int64_t>(kQNR, nc - q * kQNR);
    uint8_t *panel = reinterpret_cast<uint8_t *>(dst) + q * kQNR * Kp;
    const uint8_t *src = B + n0 + q * kQNR;
    int64_t g = 0;
#ifdef SPARQ_QGEMM_SSE2
    if (cols == kQNR) {
      // Whole panels: four row loads per group, canonicalized in register.
      const __m128i mask = _mm_set1_epi8(static_cast<char>(xorMask));
      auto ld = [&](int64_t k) {
        return _mm_xor_si128(
            mask,
            _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + k * ldb)));
      };
      for (; 4 * g + 3 < K; ++g)
        qInterleave4x16Sse2(ld(4 * g), ld(4 * g + 1), ld(4 * g + 2),
                            ld(4 * g + 3), panel + g * 64);
    }
#endif
    for (; g < Kp / 4; ++g) {
      for (int t = 0; t < 4; ++t) {
        int64_t k = 4 * g + t;
        if (k >= K) {
          std::memset(stage[t], 0, 16);
          continue;
        }
        const uint8_t *row = src + k * ldb;
        for (int64_t j = 0; j < cols; ++j)
          stage[t][j] = row[j] ^ xorMask;
        for (int64_t j = cols; j < 16; ++j)
          stage[t][j] = 0;
      }
      qInterleave4x16(stage[0], stage[1], stage[2], stage[3], panel + g * 64,
                      panel + g * 64 + 32);
    }
  }
  if (!colSums)
    return;
  std::fill(colSums, colSums + nc, 0);
  for (int64_t k = 0; k < K; ++k) {
    const uint8_t *row = B + k * ldb + n0;
    for (int64_t j = 0; j < nc; ++j)
      colSums[j] += static_cast<int8_t>(row[j] ^ xorMask);
  }
}

/// Transposed [N,K] source: each column is a contiguous run of K bytes.
void qPackBTransposed(const uint8_t *Bt, int64_t ldb, int64_t K, int64_t n0,
                      int64_t nc, uint8_t xorMask, int8_t *dst,
                      int32_t *colSums) {
  const int64_t Kp = qRoundUp(K, 4);
  for (int64_t q = 0; q * kQNR < nc; ++q) {
    int8_t *panel = dst + q * kQNR * Kp;
    for (int64_t j = 0; j < kQNR; ++j) {
      int64_t c = q * kQNR + j;
      const uint8_t *src = c < nc ? Bt + (n0 + c) * ldb : nullptr;
      qPackRun(src, K, xorMask, reinterpret_cast<uint8_t *>(panel) + j * 4,
               kQNR * 4);
      if (!src || !colSums)
        continue;
      int32_t sum = 0;
      for (int64_t k = 0; k < K; ++k)
        sum += static_cast<int8_t>(src[k] ^ xorMask);
      colSums[c] = sum;
    }
  }
}

} // namespace

void sparq::rt::qPackB(const uint8_t *B, int64_t ldb, bool transB, int64_t K,
                       int64_t n0, int64_t nc, uint8_t xorMask, int8_t *dst,
                       int32_t *colSums) {
  if (transB)
    qPackBTransposed(B, ldb, K, n0, nc, xorMask, dst, colSums);
  else
    qPackBRowMajor(B, ldb, K, n0, nc, xorMask, dst, colSums);
}

void sparq::rt::qApplyF32Epilogue(const QGemmArgs &a, float *c, int64_t row,
                                  int64_t col, int64_t n) {
  if (!a.biasF32 && a.act == SPARQ_ACT_NONE)
    return;
  float rowBias = a.biasF32 && !a.chanPerCol ? a.biasF32[row] : 0.f;
  const float *colBias = a.biasF32 && a.chanPerCol ? a.biasF32 + col : nullptr;
  kernels().epilogueRow(c, rowBias, colBias, nullptr, n, a.act, a.actA, a.actB);
}

void sparq::rt::qStoreTransposed(const uint8_t *tile, int rows, int64_t cols,
                                 int64_t es, char *dst, int64_t ldc) {
#ifdef SPARQ_QGEMM_SSE2
  if (es == 1) {
    // 8 x 16 byte transposes: each 16-byte result holds two columns.
    int64_t j0 = 0;
    for (; j0 < cols; j0 += 16) {
      __m128i r[8];
      for (int i = 0; i < 8; ++i)
        r[i] = _mm_loadu_si128(
            reinterpret_cast<const __m128i *>(tile + i * kQTileN + j0));
      __m128i a[8], b[8];
      for (int i = 0; i < 4; ++i) {
        a[2 * i] = _mm_unpacklo_epi8(r[2 * i], r[2 * i + 1]);
        a[2 * i + 1] = _mm_unpackhi_epi8(r[2 * i], r[2 * i + 1]);
      }
      // b[0..3]: rows 0-3 of columns 0-3, 4-7, 8-11, 12-15; b[4..7] rows 4-7.
      for (int h = 0; h < 2; ++h) {
        b[4 * h + 0] = _mm_unpacklo_epi16(a[4 * h], a[4 * h + 2]);
        b[4 * h + 1] = _mm_unpackhi_epi16(a[4 * h], a[4 * h + 2]);
        b[4 * h + 2] = _mm_unpacklo_epi16(a[4 * h + 1], a[4 * h + 3]);
        b[4 * h + 3] = _mm_unpackhi_epi16(a[4 * h + 1], a[4 * h + 3]);
      }
      const int64_t live = std::min<int64_t>(16, cols - j0);
      for (int q = 0; q < 4; ++q) {
        __m128i lo = _mm_unpacklo_epi32(b[q], b[4 + q]);
        __m128i hi = _mm_unpackhi_epi32(b[q], b[4 + q]);
        const __m128i pairs[2] = {lo, hi};
        for (int h = 0; h < 2; ++h)
          for (int t = 0; t < 2; ++t) {
            const int64_t j = 4 * q + 2 * h + t;
            if (j >= live)
              continue;
            __m128i v = t ? _mm_unpackhi_epi64(pairs[h], pairs[h]) : pairs[h];
            char *out = dst + (j0 + j) * ldc;
            if (rows == kQMR) {
              _mm_storel_epi64(reinterpret_cast<__m128i *>(out), v);
              continue;
            }
            // Only the live rows: the next bytes may be another task's.
            uint64_t bytes = static_cast<uint64_t>(_mm_cvtsi128_si64(v));
            int at = 0;
            if (rows & 4) {
              std::memcpy(out, &bytes, 4);
              bytes >>= 32;
              at = 4;
            }
            if (rows & 2) {
              std::memcpy(out + at, &bytes, 2);
              bytes >>= 16;
              at += 2;
            }
            if (rows & 1)
              out[at] = static_cast<char>(bytes);
          }
      }
    }
    return;
  }
#endif
  for (int64_t j = 0; j < cols; ++j)
    for (int r = 0; r < rows; ++r) {
      const uint8_t *from = tile + (r * kQTileN + j) * es;
      char *to = dst + (j * ldc + r) * es;
      if (es == 4)
        std::memcpy(to, from, 4);
      else
        *to = static_cast<char>(*from);
    }
}

namespace {

/// Rows [m0, m0+mc) x columns [n0, n0+nc) of C; bBlock holds the packed
/// panels from column n0 (a panel boundary) on and colSums their sums, or
/// is null: then each tile's sums come from a product with `ones`, an A
/// panel whose first row is all ones.
void qRunBlock(const QKernelSet &ks, const QGemmArgs &a, int64_t m0, int64_t mc,
               int64_t n0, int64_t nc, const int8_t *bBlock,
               const int32_t *colSums, const uint8_t *ones) {
  const int64_t Kp = qRoundUp(a.K, 4), kGroups = Kp / 4;
  const int64_t es = qOutElementSize(a.outKind);
  const uint32_t K32 = static_cast<uint32_t>(a.K);
  alignas(64) int32_t tile[kQMR * kQTileN];
  alignas(64) int32_t colAdj[kQTileN];
  // With transC, each row's outputs go here first.
  alignas(64) uint8_t rowsOut[kQMR * kQTileN * 4];
  // u8/s8 outputs from the fused kernels where the set has them.
  const bool fused =
      (a.outKind == SPARQ_QOUT_U8 || a.outKind == SPARQ_QOUT_S8) &&
      ks.microQ[0][1] != nullptr;
  for (int64_t jt = 0; jt < nc; jt += kQTileN) {
    const int64_t cols = std::min<int64_t>(kQTileN, nc - jt);
    const int64_t n = n0 + jt;
    const int8_t *b0 = bBlock + jt * Kp;
    const int8_t *b1 = cols > kQNR ? b0 + kQNR * Kp : nullptr;
    const auto &micro = ks.micro[cols > kQNR ? 1 : 0];
    const auto &microQ = ks.microQ[cols > kQNR ? 1 : 0];
    const int32_t *sums = colSums ? colSums + jt : tile;
    if (!colSums)
      micro[1](kGroups, ones, b0, b1, tile);
    for (int64_t j = 0; j < cols; ++j)
      colAdj[j] =
          static_cast<int32_t>(static_cast<uint32_t>(sums[j]) -
                               K32 * static_cast<uint32_t>(a.bZero[n + j]));
    QOutRow row = qOutRowFor(a);
    row.colAdj = colAdj;
    row.bZero = a.bZero + n;
    row.chanPerCol = a.chanPerCol;
    for (int64_t ip = m0; ip < m0 + mc; ip += kQMR) {
      const int rows = static_cast<int>(std::min<int64_t>(kQMR, a.M - ip));
      if (fused) {
        // The output stage inside the kernel, into C or (transC) rowsOut.
        QTileOut o;
        o.rowSums = a.rowSums + ip;
        o.aZero = a.aZero + ip;
        o.colAdj = colAdj;
        o.bZero = a.bZero + n;
        o.chanPerCol = a.chanPerCol;
        o.bias = a.biasI32 + (a.chanPerCol ? n : ip);
        o.scale = a.scale + (a.chanPerCol ? n : ip);
        o.outZero = a.outZero;
        o.qmin = a.qmin;
        o.qmax = a.qmax;
        o.cols = cols;
        char *c = static_cast<char *>(a.C);
        if (a.transC) {
          microQ[rows](kGroups, a.APacked + ip * Kp, b0, b1, o, rowsOut,
                       kQTileN);
          qStoreTransposed(rowsOut, rows, cols, 1, c + n * a.ldc + ip, a.ldc);
        } else {
          microQ[rows](kGroups, a.APacked + ip * Kp, b0, b1, o,
                       reinterpret_cast<uint8_t *>(c + ip * a.ldc + n), a.ldc);
        }
        continue;
      }
      micro[rows](kGroups, a.APacked + ip * Kp, b0, b1, tile);
      for (int r = 0; r < rows; ++r) {
        const int64_t m = ip + r;
        row.rowSum = a.rowSums[m];
        row.aZero = a.aZero[m];
        const int64_t chan = a.chanPerCol ? n : m;
        row.biasI32 = a.biasI32 + chan;
        row.scale = a.scale ? a.scale + chan : nullptr;
        char *dst = a.transC
                        ? reinterpret_cast<char *>(rowsOut) + r * kQTileN * es
                        : static_cast<char *>(a.C) + (m * a.ldc + n) * es;
        ks.outputRow(tile + r * kQTileN, cols, row, dst);
        if (a.outKind == SPARQ_QOUT_F32)
          qApplyF32Epilogue(a, reinterpret_cast<float *>(dst), m, n, cols);
      }
      if (a.transC)
        qStoreTransposed(rowsOut, rows, cols, es,
                         static_cast<char *>(a.C) + (n * a.ldc + ip) * es,
                         a.ldc);
    }
  }
}

} // namespace

void sparq::rt::qgemm(Context &ctx, const QGemmArgs &a) {
  if (a.M <= 0 || a.N <= 0)
    return;
  const QKernelSet &ks = *qkernelSet(activeQIsa());
  const int threads = ctx.numThreads();
  const int64_t Kp = qRoundUp(a.K, 4);

  std::vector<uint8_t> ones;
  auto onesPanel = [&] {
    ones.assign(Kp * kQMR, 0);
    for (int64_t g = 0; g < Kp / 4; ++g)
      std::memset(ones.data() + g * kQMR * 4, 1, 4);
    return ones.data();
  };
  const int64_t tiles = qDivCeil(a.N, kQTileN);

  // Few column tiles to share out: pack B once, in parallel, and split the
  // rows as well.
  QGemmArgs shared;
  const QGemmArgs *ap = &a;
  const int64_t sharedBytes = 4 * qRoundUp(a.N, 16) + qPackedBSize(a.K, a.N);
  if (!a.BPacked && threads > 1 && tiles < 4 * threads && a.M > kQMR &&
      sharedBytes <= (int64_t(8) << 20)) {
    float *buf =
        ctx.scratch(ScratchSlot::QuantSharedB, qDivCeil(sharedBytes, 4));
    if (!buf)
      return;
    int32_t *sums = reinterpret_cast<int32_t *>(buf);
    int8_t *packed = reinterpret_cast<int8_t *>(buf) + 4 * qRoundUp(a.N, 16);
    const uint8_t *onesData = onesPanel();
    const int64_t kGroups = Kp / 4;
    ctx.threads().parallelFor(tiles, 1, [&](int64_t begin, int64_t end) {
      alignas(64) int32_t tile[kQMR * kQTileN];
      for (int64_t t = begin; t < end; ++t) {
        const int64_t n0 = t * kQTileN,
                      len = std::min<int64_t>(kQTileN, a.N - n0);
        int8_t *b0 = packed + n0 * Kp;
        a.packB(a.packBClosure, n0, len, b0);
        ks.micro[len > kQNR ? 1 : 0][1](
            kGroups, onesData, b0, len > kQNR ? b0 + kQNR * Kp : nullptr, tile);
        std::memcpy(sums + n0, tile, len * sizeof(int32_t));
      }
    });
    shared = a;
    shared.BPacked = packed;
    shared.colSums = sums;
    ap = &shared;
  }

  if (ap->BPacked) {
    // A grid of row blocks x column blocks, balanced in panels and tiles, of
    // at least a few tasks per thread.
    const int64_t panels = qDivCeil(a.M, kQMR);
    int64_t nBlocks = qDivCeil(tiles, 8), mBlocks = qDivCeil(panels, 16);
    while (threads > 1 && nBlocks * mBlocks < 4 * threads &&
           (nBlocks < tiles || mBlocks < panels)) {
      if (nBlocks < tiles)
        ++nBlocks;
      else
        ++mBlocks;
    }
    const QGemmArgs &g = *ap;
    ctx.threads().parallelFor(
        nBlocks * mBlocks, 1, [&](int64_t begin, int64_t end) {
          for (int64_t t = begin; t < end; ++t) {
            const int64_t mb = t / nBlocks, nb = t % nBlocks;
            const int64_t p0 = mb * panels / mBlocks,
                          p1 = (mb + 1) * panels / mBlocks;
            const int64_t t0 = nb * tiles / nBlocks,
                          t1 = (nb + 1) * tiles / nBlocks;
            const int64_t m0 = p0 * kQMR, n0 = t0 * kQTileN;
            const int64_t mc = std::min(p1 * kQMR, a.M) - m0;
            const int64_t nc = std::min(t1 * kQTileN, a.N) - n0;
            if (mc > 0 && nc > 0)
              qRunBlock(ks, g, m0, mc, n0, nc, g.BPacked + n0 * Kp,
                        g.colSums + n0, nullptr);
          }
        });
    return;
  }

  // Each task packs its own column chunk and runs every row over it. The
  // chunks split the 32-column tiles evenly, in a multiple of the thread
  // count.
  const int64_t maxTiles = kQChunkMax / kQTileN;
  int64_t chunks = qDivCeil(tiles, maxTiles);
  if (threads > 1)
    chunks = std::min(
        tiles, qRoundUp(std::max<int64_t>(chunks, 2 * threads), threads));
  const int64_t chunkBytes = qPackedBSize(a.K, kQChunkMax);
  const uint8_t *onesData = onesPanel();
  constexpr int64_t kQRowBlock = 256;
  ctx.threads().parallelFor(chunks, 1, [&](int64_t begin, int64_t end) {
    float *scratch = ctx.scratch(ScratchSlot::QuantB, qDivCeil(chunkBytes, 4));
    if (!scratch)
      return;
    int8_t *packed = reinterpret_cast<int8_t *>(scratch);
    for (int64_t t = begin; t < end; ++t) {
      int64_t t0 = t * tiles / chunks, t1 = (t + 1) * tiles / chunks;
      int64_t n0 = t0 * kQTileN, len = std::min(t1 * kQTileN, a.N) - n0;
      if (len <= 0)
        continue;
      a.packB(a.packBClosure, n0, len, packed);
      for (int64_t m0 = 0; m0 < a.M; m0 += kQRowBlock)
        qRunBlock(ks, a, m0, std::min(kQRowBlock, a.M - m0), n0, len, packed,
                  nullptr, onesData);
    }
  });
}

namespace {

/// Closure of the plain B packer.
struct QMatrixSource {
  const uint8_t *B;
  int64_t ldb, K;
  bool transB;
  uint8_t xorMask;
};

void qPackMatrixChunk(const void *closure, int64_t n0, int64_t nc,
                      int8_t *dst) {
  const auto &s = *static_cast<const QMatrixSource *>(closure);
  qPackB(s.B, s.ldb, s.transB, s.K, n0, nc, s.xorMask, dst, nullptr);
}

} // namespace

extern "C" SPARQ_API void sparq_uk_qmatmul_i8(
    void *ctx, const void *A, const void *B, void *C, int64_t batch, int64_t M,
    int64_t N, int64_t K, int64_t strideA, int64_t strideB, int64_t strideC,
    int64_t transB, int64_t aType, int64_t bType, const void *aZero,
    int64_t aZeroPerRow, const void *bZero, int64_t bZeroPerCol,
    int64_t outKind, const int32_t *biasI32, const float *scale,
    int64_t scalePerCol, const float *biasF32, int64_t outZero, int64_t qmin,
    int64_t qmax, int64_t act, float actA, float actB, int64_t flags) {
  if (!A || !B || !C || batch <= 0 || M <= 0 || N <= 0 || K < 0 ||
      outKind < SPARQ_QOUT_I32 || outKind > SPARQ_QOUT_S8 ||
      (outKind != SPARQ_QOUT_I32 && !scale))
    return;
  Context &context = contextFromHandle(ctx);
  const uint8_t aMask = aType == SPARQ_QTYPE_S8 ? 0x80 : 0;
  const uint8_t bMask = bType == SPARQ_QTYPE_U8 ? 0x80 : 0;
  const uint8_t *a8 = static_cast<const uint8_t *>(A);
  const uint8_t *b8 = static_cast<const uint8_t *>(B);
  const int64_t ldb = transB ? K : N;

  // Canonical zero points and per-column output tables.
  std::vector<int32_t> aZ(M), bZ(N);
  for (int64_t i = 0; i < M; ++i)
    aZ[i] =
        qLoadZeroPoint(aZero, aType, aZeroPerRow ? i : 0) + (aMask ? 128 : 0);
  for (int64_t j = 0; j < N; ++j)
    bZ[j] =
        qLoadZeroPoint(bZero, bType, bZeroPerCol ? j : 0) - (bMask ? 128 : 0);
  const QEpilogueTables tables(N, outKind, biasI32, scale, scalePerCol != 0,
                               biasF32, outZero, qmin, qmax, act, actA, actB);

  QGemmArgs g;
  g.M = M;
  g.N = N;
  g.K = K;
  g.aZero = aZ.data();
  g.bZero = bZ.data();
  g.chanPerCol = true;
  tables.apply(g);
  g.ldc = N;

  // Constant B: packed once per model with its column sums in front.
  const int64_t sumsBytes = 4 * qRoundUp(N, 16);
  const int64_t oneB = sumsBytes + qPackedBSize(K, N);
  const uint8_t *cachedB = nullptr;
  if (flags & SPARQ_UK_CONST_WEIGHTS) {
    const int64_t copies = strideB ? batch : 1;
    std::vector<int64_t> key = {kQMatmulPackTag,
                                reinterpret_cast<int64_t>(B),
                                K,
                                N,
                                transB,
                                bType,
                                strideB,
                                copies};
    const float *packed = context.cachedPack(
        key, static_cast<size_t>(qDivCeil(oneB * copies, 4)), [&](float *dst) {
          uint8_t *d = reinterpret_cast<uint8_t *>(dst);
          for (int64_t b = 0; b < copies; ++b)
            qPackB(b8 + b * strideB, ldb, transB != 0, K, 0, N, bMask,
                   reinterpret_cast<int8_t *>(d + b * oneB + sumsBytes),
                   reinterpret_cast<int32_t *>(d + b * oneB));
        });
    if (!packed)
      return;
    cachedB = reinterpret_cast<const uint8_t *>(packed);
  }

  // A is packed whole per batch entry into the caller's scratch.
  const int64_t aBytes = 4 * qRoundUp(M, 16) + qPackedASize(M, K);
  float *aScratch = context.scratch(ScratchSlot::QuantA, qDivCeil(aBytes, 4));
  if (!aScratch)
    return;
  int32_t *rowSums = reinterpret_cast<int32_t *>(aScratch);
  uint8_t *aPacked =
      reinterpret_cast<uint8_t *>(aScratch) + 4 * qRoundUp(M, 16);
  g.APacked = aPacked;
  g.rowSums = rowSums;

  const int64_t es = qOutElementSize(static_cast<int>(outKind));
  for (int64_t bi = 0; bi < batch; ++bi) {
    if (bi == 0 || strideA)
      qPackAParallel(context, a8 + bi * strideA, K, M, K, aMask, aPacked,
                     rowSums);
    QMatrixSource src{b8 + bi * strideB, ldb, K, transB != 0, bMask};
    if (cachedB) {
      const uint8_t *base = cachedB + (strideB ? bi * oneB : 0);
      g.colSums = reinterpret_cast<const int32_t *>(base);
      g.BPacked = reinterpret_cast<const int8_t *>(base + sumsBytes);
    } else {
      g.packB = qPackMatrixChunk;
      g.packBClosure = &src;
    }
    g.C = static_cast<char *>(C) + bi * strideC * es;
    qgemm(context, g);
  }
}
