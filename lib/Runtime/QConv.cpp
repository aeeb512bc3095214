//===- QConv.cpp - sparq_uk_qconv2d_i8 integer convolution entry ----------===//
//
// Exact integer 2-D convolution (NCHW) on the QGemm.h engine, with the
// weights as the row operand A ([K/groups, C/groups*KH*KW] per group,
// canonical u8, packed once per model when constant) and the image as the
// column operand B (canonical s8, one column per output pixel):
//  - one input channel per group (depthwise and channel multipliers): a
//    direct int32 loop per output plane;
//  - 1x1, stride 1, unpadded: the image itself is B, [C, H*W] row-major;
//  - everything else: implicit im2col. The group's channels are first
//    copied once into a canonical, zero-point-padded image, so every tap
//    is in bounds; each GEMM task then packs its chunk of im2col columns
//    straight into B panels (a 16-byte copy per k row where the chunk's 16
//    pixels are one unit-stride run), and the column sums come from a box
//    sum over the padded image instead of from the panels.
//
//===----------------------------------------------------------------------===//

#include "sparq/Runtime/sparq_runtime.h"

#include "Model.h"
#include "QGemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

using namespace sparq::rt;

namespace {

/// Tag of integer convolution weights in the packed-weight cache.
constexpr int64_t kQConvPackTag = 12;

int64_t qcDivCeil(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t qcRoundUp(int64_t a, int64_t b) { return qcDivCeil(a, b) * b; }

struct QConvShape {
  int64_t C, H, W, K, OH, OW, KH, KW, sH, sW, pT, pL, dH, dW, groups;
};

/// Closure of the implicit-im2col packer: one image, one group.
struct QIm2colSource {
  const uint8_t *xp;      ///< padded canonical image of the group's channels
  const int32_t *colSums; ///< per output pixel
  int64_t Hp, Wp, depth;
  const QConvShape *s;
};

void qPackIm2colChunk(const void *closure, int64_t n0, int64_t nc, int8_t *dst,
                      int32_t *colSums) {
  const QIm2colSource &src = *static_cast<const QIm2colSource *>(closure);
  const QConvShape &s = *src.s;
  const int64_t Kp = qcRoundUp(src.depth, 4), taps = s.KH * s.KW;
  // Offset of each pixel's top-left tap within a padded channel plane.
  int64_t base[kQChunkMax];
  for (int64_t j = 0; j < nc; ++j) {
    int64_t p = n0 + j, oh = p / s.OW, ow = p % s.OW;
    base[j] = oh * s.sH * src.Wp + ow * s.sW;
  }
  alignas(16) uint8_t stage[4][16];
  for (int64_t q = 0; q * kQNR < nc; ++q) {
    const int64_t j0 = q * kQNR, cols = std::min<int64_t>(kQNR, nc - j0);
    bool run = cols == kQNR;
    for (int64_t j = 1; run && j < kQNR; ++j)
      run = base[j0 + j] == base[j0] + j;
    uint8_t *panel = reinterpret_cast<uint8_t *>(dst) + j0 * Kp;
    for (int64_t g = 0; g < Kp / 4; ++g) {
      for (int t = 0; t < 4; ++t) {
        int64_t r = 4 * g + t;
        if (r >= src.depth) {
          std::memset(stage[t], 0, 16);
          continue;
        }
        int64_t c = r / taps, tap = r % taps;
        const uint8_t *plane = src.xp + c * src.Hp * src.Wp +
                               (tap / s.KW) * s.dH * src.Wp +
                               (tap % s.KW) * s.dW;
        if (run) {
          std::memcpy(stage[t], plane + base[j0], 16);
          continue;
        }
        for (int64_t j = 0; j < cols; ++j)
          stage[t][j] = plane[base[j0 + j]];
        for (int64_t j = cols; j < 16; ++j)
          stage[t][j] = 0;
      }
      qInterleave4x16(stage[0], stage[1], stage[2], stage[3], panel + g * 64);
    }
  }
  std::memcpy(colSums, src.colSums + n0, nc * sizeof(int32_t));
}

/// Closure of the pointwise packer: the group's [cg, H*W] channels.
struct QPlainSource {
  const uint8_t *x;
  int64_t ld, rows;
  uint8_t xorMask;
};

void qPackPlainChunk(const void *closure, int64_t n0, int64_t nc, int8_t *dst,
                     int32_t *colSums) {
  const QPlainSource &src = *static_cast<const QPlainSource *>(closure);
  qPackB(src.x, src.ld, false, src.rows, n0, nc, src.xorMask, dst, colSums);
}

/// Writes the group's channels, canonical, into a [cg, Hp, Wp] image whose
/// border holds the canonical zero point; returns per-pixel im2col column
/// sums through a box sum of the channel-summed padded image.
void qBuildPaddedImage(const uint8_t *x, const QConvShape &s, int64_t cg,
                       int64_t Hp, int64_t Wp, uint8_t xorMask, uint8_t pad,
                       uint8_t *xp, int32_t *planeSum, int32_t *colSums) {
  std::memset(xp, pad, cg * Hp * Wp);
  std::fill(planeSum, planeSum + Hp * Wp, 0);
  for (int64_t c = 0; c < cg; ++c) {
    uint8_t *plane = xp + c * Hp * Wp;
    for (int64_t h = 0; h < s.H; ++h) {
      const uint8_t *in = x + (c * s.H + h) * s.W;
      uint8_t *out = plane + (h + s.pT) * Wp + s.pL;
      for (int64_t w = 0; w < s.W; ++w)
        out[w] = in[w] ^ xorMask;
    }
    for (int64_t i = 0; i < Hp * Wp; ++i)
      planeSum[i] += static_cast<int8_t>(plane[i]);
  }
  for (int64_t oh = 0; oh < s.OH; ++oh)
    for (int64_t ow = 0; ow < s.OW; ++ow) {
      int32_t sum = 0;
      for (int64_t kh = 0; kh < s.KH; ++kh)
        for (int64_t kw = 0; kw < s.KW; ++kw)
          sum += planeSum[(oh * s.sH + kh * s.dH) * Wp + ow * s.sW + kw * s.dW];
      colSums[oh * s.OW + ow] = sum;
    }
}

/// The per-channel output tables and zero points of one call.
struct QConvTables {
  std::vector<int32_t> wZ, bias32;
  std::vector<float> scales, biasF;
  int32_t xZ = 0; ///< canonical zb' of the image
};

/// Direct convolution for one input channel per group: each output plane
/// accumulates (x - xz) * (w - wz) over its taps in int32.
void qDepthwiseConv(Context &ctx, const uint8_t *X, const uint8_t *W, void *Y,
                    int64_t N, const QConvShape &s, int64_t xType,
                    int64_t wType, int32_t xz, const QGemmArgs &proto,
                    const int32_t *wzRaw) {
  const int64_t kg = s.K / s.groups, planes = N * s.K;
  const int64_t pixels = s.OH * s.OW, es = qOutElementSize(proto.outKind);
  const QKernelSet &ks = *qkernelSet(activeQIsa());
  auto xval = [&](const uint8_t *p, int64_t i) -> int32_t {
    return xType == SPARQ_QTYPE_S8
               ? static_cast<const int8_t *>(static_cast<const void *>(p))[i]
               : p[i];
  };
  ctx.threads().parallelFor(planes, 1, [&](int64_t begin, int64_t end) {
    std::vector<int32_t> acc(s.OW), zeros(s.OW, 0), xrow(s.W);
    for (int64_t t = begin; t < end; ++t) {
      const int64_t n = t / s.K, oc = t % s.K, ic = oc / kg;
      const uint8_t *plane = X + (n * s.C + ic) * s.H * s.W;
      const uint8_t *w = W + oc * s.KH * s.KW;
      const int32_t wz = wzRaw[oc];
      QOutRow row;
      row.colAdj = zeros.data();
      row.bZero = zeros.data();
      row.chanPerCol = false;
      row.biasI32 = proto.biasI32 + oc;
      row.scale = proto.scale ? proto.scale + oc : nullptr;
      row.outKind = proto.outKind;
      row.outZero = proto.outZero;
      row.qmin = proto.qmin;
      row.qmax = proto.qmax;
      for (int64_t oh = 0; oh < s.OH; ++oh) {
        std::fill(acc.begin(), acc.end(), 0);
        for (int64_t kh = 0; kh < s.KH; ++kh) {
          int64_t ih = oh * s.sH - s.pT + kh * s.dH;
          if (ih < 0 || ih >= s.H)
            continue;
          for (int64_t iw = 0; iw < s.W; ++iw)
            xrow[iw] = xval(plane + ih * s.W, iw) - xz;
          for (int64_t kw = 0; kw < s.KW; ++kw) {
            const int32_t wv = (wType == SPARQ_QTYPE_S8
                                    ? static_cast<int8_t>(w[kh * s.KW + kw])
                                    : int32_t(w[kh * s.KW + kw])) -
                               wz;
            // Output columns whose tap falls inside the row.
            const int64_t off = kw * s.dW - s.pL;
            int64_t lo = off >= 0 ? 0 : qcDivCeil(-off, s.sW);
            int64_t hi = s.W - 1 - off < 0
                             ? -1
                             : std::min(s.OW - 1, (s.W - 1 - off) / s.sW);
            for (int64_t ow = lo; ow <= hi; ++ow)
              acc[ow] += xrow[ow * s.sW + off] * wv;
          }
        }
        char *dst =
            static_cast<char *>(Y) + ((n * s.K + oc) * pixels + oh * s.OW) * es;
        ks.outputRow(acc.data(), s.OW, row, dst);
        if (proto.outKind == SPARQ_QOUT_F32)
          qApplyF32Epilogue(proto, reinterpret_cast<float *>(dst), oc, 0, s.OW);
      }
    }
  });
}

int32_t qcLoadZero(const void *zp, int64_t type, int64_t i) {
  if (!zp)
    return 0;
  return type == SPARQ_QTYPE_S8 ? static_cast<const int8_t *>(zp)[i]
                                : static_cast<const uint8_t *>(zp)[i];
}

} // namespace

extern "C" SPARQ_API void sparq_uk_qconv2d_i8(
    void *ctx, const void *X, const void *W, void *Y, int64_t N, int64_t C,
    int64_t H, int64_t Wd, int64_t K, int64_t OH, int64_t OW, int64_t KH,
    int64_t KW, int64_t strideH, int64_t strideW, int64_t padTop,
    int64_t padLeft, int64_t dilH, int64_t dilW, int64_t groups, int64_t xType,
    int64_t wType, const void *xZero, const void *wZero,
    int64_t wZeroPerChannel, int64_t outKind, const int32_t *biasI32,
    const float *scale, int64_t scalePerChannel, const float *biasF32,
    int64_t outZero, int64_t qmin, int64_t qmax, int64_t act, float actA,
    float actB, int64_t flags) {
  if (!X || !W || !Y || N <= 0 || C <= 0 || K <= 0 || OH <= 0 || OW <= 0 ||
      KH <= 0 || KW <= 0 || strideH <= 0 || strideW <= 0 || dilH <= 0 ||
      dilW <= 0 || groups <= 0 || C % groups || K % groups || padTop < 0 ||
      padLeft < 0 || outKind < SPARQ_QOUT_I32 || outKind > SPARQ_QOUT_S8 ||
      (outKind != SPARQ_QOUT_I32 && !scale))
    return;
  Context &context = contextFromHandle(ctx);
  const QConvShape s{C,       H,       Wd,     K,       OH,   OW,   KH,    KW,
                     strideH, strideW, padTop, padLeft, dilH, dilW, groups};
  const int64_t cg = C / groups, kg = K / groups;
  const int64_t depth = cg * KH * KW, pixels = OH * OW;
  const uint8_t wMask = wType == SPARQ_QTYPE_S8 ? 0x80 : 0;
  const uint8_t xMask = xType == SPARQ_QTYPE_U8 ? 0x80 : 0;
  const uint8_t *x8 = static_cast<const uint8_t *>(X);
  const uint8_t *w8 = static_cast<const uint8_t *>(W);
  const int64_t es = qOutElementSize(static_cast<int>(outKind));

  // Per-channel tables (channels are the GEMM rows).
  std::vector<int32_t> wzRaw(K), wZ(K), bias32(K, 0);
  for (int64_t k = 0; k < K; ++k) {
    wzRaw[k] = qcLoadZero(wZero, wType, wZeroPerChannel ? k : 0);
    wZ[k] = wzRaw[k] + (wMask ? 128 : 0);
  }
  if (biasI32)
    std::copy(biasI32, biasI32 + K, bias32.begin());
  std::vector<float> scales, biasF;
  if (outKind != SPARQ_QOUT_I32) {
    scales.resize(K);
    for (int64_t k = 0; k < K; ++k)
      scales[k] = scale[scalePerChannel ? k : 0];
    if (biasF32 && outKind == SPARQ_QOUT_F32) {
      biasF.resize(K);
      for (int64_t k = 0; k < K; ++k)
        biasF[k] = biasF32[scalePerChannel ? k : 0];
    }
  }
  const int32_t xzRaw = qcLoadZero(xZero, xType, 0);
  const int32_t xZ = xzRaw - (xMask ? 128 : 0);

  QGemmArgs proto;
  proto.chanPerCol = false;
  proto.biasI32 = bias32.data();
  proto.scale = scales.empty() ? nullptr : scales.data();
  proto.biasF32 = biasF.empty() ? nullptr : biasF.data();
  proto.outKind = static_cast<int>(outKind);
  proto.outZero = static_cast<int32_t>(outZero);
  proto.qmin = static_cast<int32_t>(qmin);
  proto.qmax = static_cast<int32_t>(qmax);
  proto.act = static_cast<int>(act);
  proto.actA = actA;
  proto.actB = actB;

  if (cg == 1) {
    qDepthwiseConv(context, x8, w8, Y, N, s, xType, wType, xzRaw, proto,
                   wzRaw.data());
    return;
  }

  // Weights: per group, row sums then kQMR-row panels.
  const int64_t sumsBytes = 4 * qcRoundUp(kg, 16);
  const int64_t oneGroup = sumsBytes + qPackedASize(kg, depth);
  auto packWeights = [&](uint8_t *dst) {
    for (int64_t g = 0; g < groups; ++g)
      qPackA(w8 + g * kg * depth, depth, kg, depth, wMask,
             dst + g * oneGroup + sumsBytes,
             reinterpret_cast<int32_t *>(dst + g * oneGroup));
  };
  const uint8_t *packedW;
  if (flags & SPARQ_UK_CONST_WEIGHTS) {
    std::vector<int64_t> key = {
        kQConvPackTag, reinterpret_cast<int64_t>(W), K, depth, groups, wType};
    const float *p = context.cachedPack(
        key, static_cast<size_t>(qcDivCeil(oneGroup * groups, 4)),
        [&](float *dst) { packWeights(reinterpret_cast<uint8_t *>(dst)); });
    if (!p)
      return;
    packedW = reinterpret_cast<const uint8_t *>(p);
  } else {
    float *p =
        context.scratch(ScratchSlot::QuantA, qcDivCeil(oneGroup * groups, 4));
    if (!p)
      return;
    packWeights(reinterpret_cast<uint8_t *>(p));
    packedW = reinterpret_cast<const uint8_t *>(p);
  }

  const bool pointwise = KH == 1 && KW == 1 && strideH == 1 && strideW == 1 &&
                         padTop == 0 && padLeft == 0 && OH == H && OW == Wd;
  const int64_t Hp =
      std::max(H + padTop, (OH - 1) * strideH + (KH - 1) * dilH + 1);
  const int64_t Wp =
      std::max(Wd + padLeft, (OW - 1) * strideW + (KW - 1) * dilW + 1);
  uint8_t *xp = nullptr;
  int32_t *planeSum = nullptr, *colSums = nullptr;
  if (!pointwise) {
    const int64_t imageBytes = qcRoundUp(cg * Hp * Wp, 64);
    float *p = context.scratch(ScratchSlot::QuantIm2col,
                               imageBytes / 4 + Hp * Wp + pixels);
    if (!p)
      return;
    xp = reinterpret_cast<uint8_t *>(p);
    planeSum = reinterpret_cast<int32_t *>(p) + imageBytes / 4;
    colSums = planeSum + Hp * Wp;
  }
  std::vector<int32_t> bZ(pixels, xZ);
  const uint8_t padByte = static_cast<uint8_t>(xzRaw) ^ xMask;

  QGemmArgs g = proto;
  g.M = kg;
  g.N = pixels;
  g.K = depth;
  g.bZero = bZ.data();
  g.ldc = pixels;
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t gi = 0; gi < groups; ++gi) {
      const uint8_t *xg = x8 + (n * C + gi * cg) * H * Wd;
      g.APacked = packedW + gi * oneGroup + sumsBytes;
      g.rowSums = reinterpret_cast<const int32_t *>(packedW + gi * oneGroup);
      g.aZero = wZ.data() + gi * kg;
      g.biasI32 = bias32.data() + gi * kg;
      g.scale = proto.scale ? proto.scale + gi * kg : nullptr;
      g.biasF32 = proto.biasF32 ? proto.biasF32 + gi * kg : nullptr;
      g.C = static_cast<char *>(Y) + (n * K + gi * kg) * pixels * es;
      QPlainSource plain{xg, pixels, cg, xMask};
      QIm2colSource im2col{xp, colSums, Hp, Wp, depth, &s};
      if (pointwise) {
        g.packB = qPackPlainChunk;
        g.packBClosure = &plain;
      } else {
        qBuildPaddedImage(xg, s, cg, Hp, Wp, xMask, padByte, xp, planeSum,
                          colSums);
        g.packB = qPackIm2colChunk;
        g.packBClosure = &im2col;
      }
      qgemm(context, g);
    }
  }
}
