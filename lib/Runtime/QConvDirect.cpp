//===- QConvDirect.cpp - Direct integer convolution (no im2col) -----------===//
//
// The direct path of sparq_uk_qconv2d_i8 (see QConvKernels.h): the image
// is copied once into a channels-interleaved, phase-split layout, four
// channels per pixel, so the kernels read each tap's operand straight from
// it instead of from im2col panels.
//
//===----------------------------------------------------------------------===//

#include "sparq/Runtime/sparq_runtime.h"

#include "Model.h"
#include "QConvKernels.h"
#include "QGemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#if defined(__SSE2__)
#define SPARQ_QCONVD_SSE2 1
#include <emmintrin.h>
#endif

using namespace sparq::rt;

namespace {

/// Tag of weights packed for the direct (channels-interleaved) path.
constexpr int64_t kQConvDirectTag = 13;

/// A grid of nBlocks x mBlocks tasks over `tiles` column tiles and `panels`
/// row panels: blocks of 8 tiles and 16 panels, refined until there are at
/// least 8 tasks per thread (the pool hands tasks out dynamically).
void qTaskGrid(int64_t tiles, int64_t panels, int threads, int64_t &nBlocks,
               int64_t &mBlocks) {
  nBlocks = qDivCeil(tiles, 8);
  mBlocks = qDivCeil(panels, 16);
  while (threads > 1 && nBlocks * mBlocks < 8 * threads &&
         (nBlocks < tiles || mBlocks < panels)) {
    if (nBlocks < tiles)
      ++nBlocks;
    else
      ++mBlocks;
  }
}

/// Task `task` of a qTaskGrid: row panels [p0, p1) x column tiles [t0, t1).
struct QTaskRange {
  int64_t p0, p1, t0, t1;
};
QTaskRange qTaskRange(int64_t task, int64_t nBlocks, int64_t mBlocks,
                      int64_t tiles, int64_t panels) {
  const int64_t mb = task / nBlocks, nb = task % nBlocks;
  return {mb * panels / mBlocks, (mb + 1) * panels / mBlocks,
          nb * tiles / nBlocks, (nb + 1) * tiles / nBlocks};
}

/// Direct convolution on the channels-interleaved image (QConvKernels.h),
/// one group. The image is split into sH x sW phases so that unit steps of
/// an output row are unit steps in memory: plane (cq, rp, cp) holds padded
/// pixel (i * sH + rp, j * sW + cp) at [i][j] (Hq x Wq), four channels per
/// pixel. Output pixel (oh, ow) is column q = oh * Wq + ow of the GEMM;
/// the columns with ow >= OW are computed and dropped, which keeps every
/// panel of 16 columns one contiguous 64-byte load per tap.
struct QDirectConv {
  const QConvShape *s;
  int64_t Cq, KK, kGroups, Kd, Hp, Wp, Hq, Wq, planeElems, Q;
  int64_t sumsLd; ///< ints per phase of the channel sums (with a guard)
  std::vector<int64_t> boff; ///< per group (cq, kh, kw): image byte offset
  std::vector<int64_t> soff; ///< per tap (kh, kw): offset in the sums
  uint8_t xMask, padByte;
  int32_t xZ;
};

/// Fills planes [cq0, cq1) of the interleaved image of one batch element.
void qDirectBuildImage(const QDirectConv &d, const uint8_t *x, int64_t cq0,
                       int64_t cq1, uint8_t *img) {
  const QConvShape &s = *d.s;
  const int64_t C = s.C, H = s.H, W = s.W, sH = s.sH, sW = s.sW;
  const int64_t Hq = d.Hq, Wq = d.Wq;
  const uint8_t pad = d.padByte, mask = d.xMask;
  // Vector loads may read past an input row (not past the image), and
  // vector stores may write past an output row into rows this item writes
  // later (not past its planes): the right padding is written last.
  const uint8_t *xEnd = x + C * H * W;
  const uint8_t *itemEnd = img + cq1 * sH * sW * Hq * Wq * 4;
  for (int64_t cq = cq0; cq < cq1; ++cq) {
    const uint8_t *src[4];
    const uint8_t *last = nullptr; // the highest channel's plane
    for (int t = 0; t < 4; ++t) {
      src[t] = 4 * cq + t < C ? x + (4 * cq + t) * H * W : nullptr;
      last = src[t] ? src[t] : last;
    }
    for (int64_t rp = 0; rp < sH; ++rp)
      for (int64_t cp = 0; cp < sW; ++cp) {
        // Columns j whose pixel iw = j * sW + cp - pL lies in [0, W).
        const int64_t off = cp - s.pL;
        int64_t j1 = W - off <= 0 ? 0 : qDivCeil(W - off, sW);
        j1 = std::min(j1, Wq);
        const int64_t j0 = std::min(off >= 0 ? 0 : qDivCeil(-off, sW), j1);
        uint8_t *plane = img + (((cq * sH + rp) * sW + cp) * Hq) * Wq * 4;
        for (int64_t i = 0; i < Hq; ++i) {
          const int64_t ih = i * sH + rp - s.pT;
          uint8_t *out = plane + i * Wq * 4;
          if (ih < 0 || ih >= H) {
            std::memset(out, pad, Wq * 4);
            continue;
          }
          std::memset(out, pad, j0 * 4);
          const uint8_t *row[4];
          for (int t = 0; t < 4; ++t)
            row[t] = src[t] ? src[t] + ih * W + off : nullptr;
          int64_t j = j0;
#ifdef SPARQ_QCONVD_SSE2
          if (sW <= 2) {
            const __m128i m = _mm_set1_epi8(static_cast<char>(mask));
            const __m128i padV = _mm_set1_epi8(static_cast<char>(pad));
            const uint8_t *lastRow = last + ih * W + off;
            for (; j < j1 && lastRow + (j + 16) * sW <= xEnd &&
                   out + (j + 16) * 4 <= itemEnd;
                 j += 16) {
              __m128i v[4];
              for (int t = 0; t < 4; ++t)
                v[t] = row[t] ? _mm_xor_si128(
                                    m, qLoadStridedSse2(row[t] + j * sW, sW))
                              : padV;
              qInterleave4x16Sse2(v[0], v[1], v[2], v[3], out + j * 4);
            }
          }
#endif
          for (; j < j1; ++j)
            for (int t = 0; t < 4; ++t)
              out[j * 4 + t] = row[t] ? row[t][j * sW] ^ mask : pad;
          std::memset(out + j1 * 4, pad, (Wq - j1) * 4);
        }
      }
  }
}

/// A short copy without a library call.
inline void qcCopyBytes(char *dst, const uint8_t *src, int64_t n) {
  int64_t i = 0;
#ifdef SPARQ_QCONVD_SSE2
  for (; i + 16 <= n; i += 16)
    _mm_storeu_si128(
        reinterpret_cast<__m128i *>(dst + i),
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + i)));
#endif
  // Fixed-size pieces, which compile to plain moves.
  for (; i + 8 <= n; i += 8)
    std::memcpy(dst + i, src + i, 8);
  if (i + 4 <= n) {
    std::memcpy(dst + i, src + i, 4);
    i += 4;
  }
  if (i + 2 <= n) {
    std::memcpy(dst + i, src + i, 2);
    i += 2;
  }
  if (i < n)
    dst[i] = static_cast<char>(src[i]);
}

/// Builds the interleaved image of one batch element and, per phase and
/// pixel, the sum over all its channels (padding included; bytes read as
/// s8, or as u8 with unsignedSums).
void qDirectPrepare(Context &ctx, const QDirectConv &d, const uint8_t *x,
                    uint8_t *img, int32_t *sums, bool unsignedSums) {
  const QConvShape &s = *d.s;
  const int64_t Wq = d.Wq, phases = s.sH * s.sW;
  const int64_t planeBytes = d.planeElems * 4, sumsLd = d.sumsLd;
  // The image, a few channel quads per item.
  // (At least two items per thread where there are enough quads.)
  const int64_t twoPerThread = 2 * ctx.numThreads();
  const int64_t perItem = std::max<int64_t>(
      1, std::min(32768 / (planeBytes * phases), qDivCeil(d.Cq, twoPerThread)));
  ctx.threads().parallelFor(
      qDivCeil(d.Cq, perItem), 1, [&](int64_t begin, int64_t end) {
        qDirectBuildImage(d, x, begin * perItem, std::min(d.Cq, end * perItem),
                          img);
      });
  // Per phase and pixel, the sum over all channels (padding included).
  const int64_t rowsPerItem = std::max<int64_t>(
      1, std::min(4096 / Wq, qDivCeil(d.Hq * phases, twoPerThread)));
  const int64_t itemsPerPhase = qDivCeil(d.Hq, rowsPerItem);
  ctx.threads().parallelFor(
      phases * itemsPerPhase, 1, [&](int64_t begin, int64_t end) {
        for (int64_t it = begin; it < end; ++it) {
          const int64_t ph = it / itemsPerPhase, r = it % itemsPerPhase;
          const int64_t p0 = r * rowsPerItem * Wq;
          const int64_t p1 = std::min(d.Hq, (r + 1) * rowsPerItem) * Wq;
          for (int64_t cq = 0; cq < d.Cq; ++cq)
            qconvQuadSums(reinterpret_cast<const int8_t *>(img) +
                              (cq * phases + ph) * planeBytes + p0 * 4,
                          p1 - p0, sums + ph * sumsLd + p0, cq == 0,
                          unsignedSums);
        }
      });
}

void qDirectConv(Context &ctx, const QDirectConv &d, const uint8_t *x,
                 const uint8_t *packedW, const int32_t *rowSums, void *Y,
                 const int32_t *wZ, const QGemmArgs &proto, uint8_t *img,
                 int32_t *sums) {
  const QConvShape &s = *d.s;
  const int64_t K = s.K, OH = s.OH, OW = s.OW, Wq = d.Wq, Q = d.Q;
  const int64_t es = qOutElementSize(proto.outKind);
  qDirectPrepare(ctx, d, x, img, sums, /*unsignedSums=*/false);

  // Tiles of equal width in whole panels, at most kQcdTileN columns.
  const int64_t tileW = qRoundUp(qDivCeil(Q, qDivCeil(Q, kQcdTileN)), 16);
  const int64_t tiles = qDivCeil(Q, tileW);
  const int64_t panels = qDivCeil(K, kQMR);
  const int threads = ctx.numThreads();
  // A grid of row blocks x tile blocks, at least 8 tasks per thread and a
  // multiple of the thread count where there are enough tiles (the pool
  // hands out tasks dynamically; a last, lone task idles the others).
  int64_t nBlocks, mBlocks;
  qTaskGrid(tiles, panels, threads, nBlocks, mBlocks);
  while (threads > 1 && (nBlocks * mBlocks) % threads != 0 && nBlocks < tiles)
    ++nBlocks;
  const QKernelSet &ks = *qkernelSet(activeQIsa());
  const uint32_t Kd32 = static_cast<uint32_t>(d.Kd);
  const int8_t *img8 = reinterpret_cast<const int8_t *>(img);
  ctx.threads().parallelFor(
      nBlocks * mBlocks, 1, [&](int64_t begin, int64_t end) {
        alignas(64) int32_t raw[kQMR * kQcdTileN];
        alignas(64) int32_t colAdj[kQcdTileN];
        alignas(64) int32_t bZero[kQcdTileN];
        alignas(64) uint8_t tmp[kQMR * kQcdTileN * 4];
        std::fill(bZero, bZero + kQcdTileN, d.xZ);
        for (int64_t task = begin; task < end; ++task) {
          const auto [p0, p1, t0, t1] =
              qTaskRange(task, nBlocks, mBlocks, tiles, panels);
          for (int64_t t = t0; t < t1; ++t) {
            const int64_t q0 = t * tileW;
            const int64_t n = std::min<int64_t>(tileW, Q - q0);
            const int np = static_cast<int>(qDivCeil(n, 16));
            // colsum - Kd * zb', in wrapping arithmetic.
            qconvColAdj(
                sums + q0, d.soff.data(), d.KK, n,
                static_cast<int32_t>(0u - Kd32 * static_cast<uint32_t>(d.xZ)),
                colAdj);
            // The tile's runs of real output pixels: (column, length, pixel).
            int64_t segJ[kQcdTileN], segLen[kQcdTileN], segPix[kQcdTileN];
            int segs = 0;
            for (int64_t j = 0; j < n;) {
              const int64_t q = q0 + j, oh = q / Wq, ow = q % Wq;
              if (ow >= OW) {
                j += Wq - ow;
                continue;
              }
              const int64_t len = std::min(OW - ow, n - j);
              segJ[segs] = j;
              segLen[segs] = len;
              segPix[segs++] = oh * OW + ow;
              j += len;
            }
            QOutRow row = qOutRowFor(proto);
            row.colAdj = colAdj;
            row.bZero = bZero;
            row.chanPerCol = false;
            for (int64_t p = p0; p < p1; ++p) {
              const int64_t m0 = p * kQMR;
              const int rows =
                  static_cast<int>(std::min<int64_t>(kQMR, K - m0));
              qconvDirectKernel(rows, np)(d.kGroups, packedW + m0 * d.Kd,
                                          img8 + q0 * 4, d.boff.data(), raw);
              if (!qconvOutputTile(raw, rows, n, colAdj, rowSums + m0, wZ + m0,
                                   d.xZ, proto.biasI32 + m0,
                                   proto.scale ? proto.scale + m0 : nullptr,
                                   proto.outKind, proto.outZero, proto.qmin,
                                   proto.qmax, tmp)) {
                for (int r = 0; r < rows; ++r) {
                  const int64_t m = m0 + r;
                  row.rowSum = rowSums[m];
                  row.aZero = wZ[m];
                  row.biasI32 = proto.biasI32 + m;
                  row.scale = proto.scale ? proto.scale + m : nullptr;
                  ks.outputRow(raw + r * kQcdTileN, n, row,
                               tmp + r * kQcdTileN * 4);
                }
              }
              // Keep the columns of real output pixels (all rows written
              // first, so the copies do not wait on the stores).
              for (int r = 0; r < rows; ++r) {
                const int64_t m = m0 + r;
                char *dstRow = static_cast<char *>(Y) + m * OH * OW * es;
                const uint8_t *src = tmp + r * kQcdTileN * 4;
                for (int i = 0; i < segs; ++i) {
                  char *dst = dstRow + segPix[i] * es;
                  qcCopyBytes(dst, src + segJ[i] * es, segLen[i] * es);
                  if (proto.outKind == SPARQ_QOUT_F32)
                    qApplyF32Epilogue(proto, reinterpret_cast<float *>(dst), m,
                                      segPix[i], segLen[i]);
                }
              }
            }
          }
        }
      });
}

/// The direct convolution of one batch element with the output pixels as
/// the GEMM rows: the image (canonical u8 here, the broadcast operand) is
/// read straight by QConvRowsFn kernels, kQMR consecutive output pixels
/// per call wherever they are in the image (no dropped columns), against
/// the weights packed as qPackB panels of 16 channels; each tile's outputs
/// are stored transposed into the NCHW output. xZa is the image's
/// canonical zero point, bZ the weights' per channel.
void qDirectConvRows(Context &ctx, const QDirectConv &d, const uint8_t *x,
                     const int8_t *packedW, const int32_t *colSums, void *Y,
                     const int32_t *bZ, int32_t xZa, const QGemmArgs &proto,
                     uint8_t *img, int32_t *sums, int32_t *rowSums) {
  const QConvShape &s = *d.s;
  const int64_t K = s.K, OH = s.OH, OW = s.OW, Wq = d.Wq, Kd = d.Kd;
  const int64_t pixels = OH * OW;
  const int64_t es = qOutElementSize(proto.outKind);
  qDirectPrepare(ctx, d, x, img, sums, /*unsignedSums=*/true);
  // Row sums: per output pixel, its taps' channel sums (qconvColAdj writes
  // up to 15 entries past each output row, which the next row overwrites).
  for (int64_t oh = 0; oh < OH; ++oh)
    qconvColAdj(sums + oh * Wq, d.soff.data(), d.KK, OW, 0, rowSums + oh * OW);

  const int64_t tiles = qDivCeil(K, kQTileN), panels = qDivCeil(pixels, kQMR);
  const int threads = ctx.numThreads();
  // A grid of pixel blocks x channel blocks, at least 8 tasks per thread,
  // split by channels first: a task sweeps its pixel panels over each of
  // its weight tiles (up to 32 x 4608 bytes), which then comes from memory
  // once per pixel block; the image is small next to the weights.
  int64_t nBlocks, mBlocks;
  qTaskGrid(tiles, panels, threads, nBlocks, mBlocks);
  const QKernelSet &ks = *qkernelSet(activeQIsa());
  const uint32_t Kd32 = static_cast<uint32_t>(Kd);
  QGemmArgs epi = proto;
  epi.chanPerCol = true;
  const bool fused =
      proto.outKind == SPARQ_QOUT_U8 || proto.outKind == SPARQ_QOUT_S8;
  ctx.threads().parallelFor(
      nBlocks * mBlocks, 1, [&](int64_t begin, int64_t end) {
        alignas(64) int32_t raw[kQMR * kQTileN];
        alignas(64) int32_t colAdj[kQTileN];
        alignas(64) uint8_t tmp[kQMR * kQTileN * 4];
        // The fused u8/s8 output stage's per-channel terms.
        alignas(64) int32_t colTerm[kQTileN], bZero[kQTileN];
        alignas(64) float scale[kQTileN];
        const uint8_t *rows[kQMR];
        for (int64_t task = begin; task < end; ++task) {
          const auto [p0, p1, t0, t1] =
              qTaskRange(task, nBlocks, mBlocks, tiles, panels);
          for (int64_t t = t0; t < t1; ++t) {
            const int64_t n0 = t * kQTileN;
            const int64_t cols = std::min<int64_t>(kQTileN, K - n0);
            const int8_t *b0 = packedW + n0 * Kd;
            const int8_t *b1 = cols > 16 ? b0 + 16 * Kd : nullptr;
            for (int64_t j = 0; j < cols; ++j)
              colAdj[j] = static_cast<int32_t>(
                  static_cast<uint32_t>(colSums[n0 + j]) -
                  Kd32 * static_cast<uint32_t>(bZ[n0 + j]));
            if (fused)
              for (int64_t j = 0; j < kQTileN; ++j) {
                const bool live = j < cols;
                colTerm[j] =
                    live ? static_cast<int32_t>(
                               static_cast<uint32_t>(xZa) *
                                   static_cast<uint32_t>(colAdj[j]) -
                               static_cast<uint32_t>(proto.biasI32[n0 + j]))
                         : 0;
                bZero[j] = live ? bZ[n0 + j] : 0;
                scale[j] = live ? proto.scale[n0 + j] : 0.f;
              }
            QConvRowsOut qout{nullptr,       colTerm,    bZero,     scale,
                              proto.outZero, proto.qmin, proto.qmax};
            QOutRow row = qOutRowFor(proto);
            row.aZero = xZa;
            row.colAdj = colAdj;
            row.bZero = bZ + n0;
            row.chanPerCol = true;
            row.biasI32 = proto.biasI32 + n0;
            row.scale = proto.scale ? proto.scale + n0 : nullptr;
            for (int64_t p = p0; p < p1; ++p) {
              // Panels of balanced sizes (49 pixels: 7 x 7, not 6 x 8 + 1,
              // whose one-row tail would wait on its accumulator latency).
              const int64_t m0 = p * pixels / panels;
              const int nr = static_cast<int>((p + 1) * pixels / panels - m0);
              for (int64_t i = 0, oh = m0 / OW, ow = m0 % OW; i < nr; ++i) {
                rows[i] = img + (oh * Wq + ow) * 4;
                if (++ow == OW) {
                  ow = 0;
                  ++oh;
                }
              }
              char *dst = static_cast<char *>(Y) + (n0 * pixels + m0) * es;
              if (fused) {
                qout.rowSums = rowSums + m0;
                qconvRowsKernelQ(nr, b1 != nullptr)(
                    d.kGroups, rows, d.boff.data(), b0, b1, qout, tmp);
                qStoreTransposed(tmp, nr, cols, 1, dst, pixels);
                continue;
              }
              qconvRowsKernel(nr, b1 != nullptr)(d.kGroups, rows, d.boff.data(),
                                                 b0, b1, raw);
              for (int r = 0; r < nr; ++r) {
                row.rowSum = rowSums[m0 + r];
                uint8_t *out = tmp + r * kQTileN * es;
                ks.outputRow(raw + r * kQTileN, cols, row, out);
                if (proto.outKind == SPARQ_QOUT_F32)
                  qApplyF32Epilogue(epi, reinterpret_cast<float *>(out), m0 + r,
                                    n0, cols);
              }
              qStoreTransposed(tmp, nr, cols, es, dst, pixels);
            }
          }
        }
      });
}

} // namespace

void sparq::rt::qconvDirectLayer(Context &context, const QConvShape &s,
                                 int64_t N, const uint8_t *x8, const void *W,
                                 void *Y, int64_t xType, int64_t wType,
                                 int32_t xzRaw, const int32_t *wzRaw,
                                 const QGemmArgs &proto, int64_t flags,
                                 bool pixelRows) {
  const int64_t C = s.C, H = s.H, Wd = s.W, K = s.K, OH = s.OH, OW = s.OW;
  const int64_t KH = s.KH, KW = s.KW, strideH = s.sH, strideW = s.sW;
  const int64_t padTop = s.pT, padLeft = s.pL, dilH = s.dH, dilW = s.dW;
  const int64_t depth = C * KH * KW, pixels = OH * OW;
  const int64_t es = qOutElementSize(proto.outKind);
  // Canonical forms: the weights u8 and the image s8 as the GEMM's rows
  // and columns, the other way round with pixelRows.
  const uint8_t wMask = (wType == SPARQ_QTYPE_S8) != pixelRows ? 0x80 : 0;
  const uint8_t xMask = (xType == SPARQ_QTYPE_U8) != pixelRows ? 0x80 : 0;
  const int32_t xZ = xzRaw + (xMask ? (pixelRows ? 128 : -128) : 0);
  const uint8_t *w8 = static_cast<const uint8_t *>(W);
  std::vector<int32_t> wZ(K);
  for (int64_t k = 0; k < K; ++k)
    wZ[k] = wzRaw[k] + (wMask ? (pixelRows ? -128 : 128) : 0);
  QDirectConv d;
  d.s = &s;
  d.Cq = qDivCeil(C, 4);
  d.KK = KH * KW;
  d.kGroups = d.Cq * d.KK;
  d.Kd = 4 * d.kGroups;
  d.Hp = std::max(H + padTop, (OH - 1) * strideH + (KH - 1) * dilH + 1);
  d.Wp = std::max(Wd + padLeft, (OW - 1) * strideW + (KW - 1) * dilW + 1);
  d.Hq = qDivCeil(d.Hp, strideH);
  d.Wq = qDivCeil(d.Wp, strideW);
  d.planeElems = d.Hq * d.Wq;
  d.Q = (OH - 1) * d.Wq + OW;
  d.xMask = xMask;
  d.padByte = static_cast<uint8_t>(xzRaw) ^ xMask;
  d.xZ = xZ;
  const int64_t phases = strideH * strideW;
  const int64_t sumsLd = d.planeElems + kQcdTileN + KW * dilW + 16;
  d.sumsLd = sumsLd;
  d.boff.resize(d.kGroups);
  d.soff.resize(d.KK);
  for (int64_t kh = 0; kh < KH; ++kh)
    for (int64_t kw = 0; kw < KW; ++kw) {
      const int64_t r = kh * dilH, c = kw * dilW;
      const int64_t ph = (r % strideH) * strideW + c % strideW;
      const int64_t at = (r / strideH) * d.Wq + c / strideW;
      d.soff[kh * KW + kw] = ph * sumsLd + at;
      for (int64_t cq = 0; cq < d.Cq; ++cq)
        d.boff[(cq * KH + kh) * KW + kw] =
            ((cq * phases + ph) * d.planeElems + at) * 4;
    }
  // Weights in the image's k order (cq, kh, kw, c % 4), padded channels
  // canonical 0; their sums, then kQMR-row A panels or (pixelRows) 16-column
  // B panels.
  const int64_t sumsBytes = 4 * qRoundUp(K, 16);
  const int64_t packBytes =
      sumsBytes + (pixelRows ? qPackedBSize(d.Kd, K) : qPackedASize(K, d.Kd));
  auto packDirect = [&](uint8_t *dst) {
    std::vector<uint8_t> wr(K * d.Kd, wMask);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t kk = 0; kk < d.KK; ++kk)
          wr[k * d.Kd + ((c / 4) * d.KK + kk) * 4 + c % 4] =
              w8[(k * C + c) * d.KK + kk];
    int32_t *wSums = reinterpret_cast<int32_t *>(dst);
    if (pixelRows)
      qPackB(wr.data(), d.Kd, /*transB=*/true, d.Kd, 0, K, wMask,
             reinterpret_cast<int8_t *>(dst + sumsBytes), wSums);
    else
      qPackA(wr.data(), d.Kd, K, d.Kd, wMask, dst + sumsBytes, wSums);
  };
  const uint8_t *pw;
  if (flags & SPARQ_UK_CONST_WEIGHTS) {
    std::vector<int64_t> key = {
        kQConvDirectTag, reinterpret_cast<int64_t>(W), K, depth, KH, wType,
        pixelRows};
    const float *p = context.cachedPack(
        key, static_cast<size_t>(qDivCeil(packBytes, 4)),
        [&](float *dst) { packDirect(reinterpret_cast<uint8_t *>(dst)); });
    if (!p)
      return;
    pw = reinterpret_cast<const uint8_t *>(p);
  } else {
    float *p = context.scratch(ScratchSlot::QuantA, qDivCeil(packBytes, 4));
    if (!p)
      return;
    packDirect(reinterpret_cast<uint8_t *>(p));
    pw = reinterpret_cast<const uint8_t *>(p);
  }
  // The image, with a guard for the over-reads of dropped columns, then
  // the per-phase channel sums.
  const int64_t imageBytes = qRoundUp(
      d.Cq * phases * d.planeElems * 4 + (kQcdTileN + 64 + KW * dilW) * 4, 64);
  const int64_t sumsInts = phases * sumsLd;
  const int64_t rowSumsInts = pixelRows ? pixels + 16 : 0;
  float *buf =
      context.scratch(ScratchSlot::QuantIm2col,
                      qDivCeil(imageBytes, 4) + sumsInts + rowSumsInts);
  if (!buf)
    return;
  uint8_t *img = reinterpret_cast<uint8_t *>(buf);
  int32_t *sums = reinterpret_cast<int32_t *>(buf) + imageBytes / 4;
  const int64_t used = d.Cq * phases * d.planeElems * 4;
  std::memset(img + used, d.padByte, imageBytes - used);
  std::memset(sums, 0, sumsInts * 4);
  int32_t *rowSums = sums + sumsInts;
  for (int64_t n = 0; n < N; ++n) {
    const uint8_t *xn = x8 + n * C * H * Wd;
    void *yn = static_cast<char *>(Y) + n * K * pixels * es;
    const int32_t *wSums = reinterpret_cast<const int32_t *>(pw);
    if (pixelRows)
      qDirectConvRows(context, d, xn,
                      reinterpret_cast<const int8_t *>(pw + sumsBytes), wSums,
                      yn, wZ.data(), xZ, proto, img, sums, rowSums);
    else
      qDirectConv(context, d, xn, pw + sumsBytes, wSums, yn, wZ.data(), proto,
                  img, sums);
  }
}
