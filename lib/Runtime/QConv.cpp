//===- QConv.cpp - sparq_uk_qconv2d_i8 integer convolution entry ----------===//
//
// Exact integer 2-D convolution (NCHW) on the QGemm.h engine, with the
// weights as the row operand A ([K/groups, C/groups*KH*KW] per group,
// canonical u8, packed once per model when constant) and the image as the
// column operand B (canonical s8, one column per output pixel):
//  - one input channel per group (depthwise and channel multipliers): a
//    direct int32 loop per output plane;
//  - 1x1, unpadded: B is a plain [C, OH*OW] matrix -- the image itself at
//    stride 1, a subsampled copy otherwise;
//  - ungrouped layers on AVX-512 VNNI, where it pays: the direct path
//    (QConvDirect.cpp), which reads a channels-interleaved copy of the
//    image straight from its kernels, with the output pixels as GEMM rows
//    (stride-1 3x3 layers) or columns;
//  - ungrouped layers with small maps (at most 256 pixels): the pixels as
//    the GEMM rows (A: the transposed im2col matrix, packed whole) and the
//    channels as its columns (B: the weights), C stored transposed;
//  - everything else: implicit im2col. The group's channels are first
//    copied once into a canonical, zero-point-padded image, so every tap is
//    in bounds and padding contributes exactly 0; each GEMM task then packs
//    its chunk of im2col columns straight into B panels. A panel's 16
//    pixels form at most a few runs of unit (or stride-2) taps, so each k
//    row is one or two vector loads blended under masks (32-byte guards
//    around the image absorb their overreach); panels with more runs take
//    a byte gather. Column sums come from the driver's row of ones.
//
//===----------------------------------------------------------------------===//

#include "sparq/Runtime/sparq_runtime.h"

#include "Model.h"
#include "QConvKernels.h"
#include "QGemm.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

#if defined(__SSE2__) && !defined(SPARQ_QCONV_NO_SSE2)
#define SPARQ_QCONV_SSE2 1
#include <emmintrin.h>
#endif

using namespace sparq::rt;

namespace {

/// setQConvDirect's value: -1 default, 0 never, 1 wherever it applies.
std::atomic<int> qconvDirectOverride{-1};
/// setQConvPixelRows's and setQConvDirectRows's values, likewise.
std::atomic<int> qconvPixelRowsOverride{-1};
std::atomic<int> qconvDirectRowsOverride{-1};

/// Tag of integer convolution weights in the packed-weight cache.
constexpr int64_t kQConvPackTag = 12;
/// Tag of weights packed as the B operand (pixels-as-rows path).
constexpr int64_t kQConvPixelRowsTag = 14;

/// Closure of the implicit-im2col packer: one image, one group. Pixels
/// are packed 16 at a time; group g of a 16-pixel panel stores pixels 0-7
/// at panel + g * groupStride and pixels 8-15 halfOffset bytes later: B
/// panels (64, 32) or, with the pixels as GEMM rows, pairs of A panels
/// (32, 8 * Kp).
struct QIm2colSource {
  const uint8_t *xp;     ///< padded canonical image of the group's channels
  const int64_t *rowOff; ///< per im2col row (c, kh, kw): its tap's offset
  int64_t Wp, depth;
  const QConvShape *s;
  int64_t groupStride = 64, halfOffset = 32;
};

#ifdef SPARQ_QCONV_SSE2

/// Up to this many unit- or stride-2 runs of pixels per B panel are packed
/// with whole-vector loads; panels with more take a byte gather.
constexpr int kQcMaxRuns = 4;

/// The full groups of a whole panel whose 16 pixels form `Runs` runs of
/// taps `Step` bytes apart (run i from the first byte of mask[i] on);
/// returns the number of groups written.
template <int Step, int Runs>
int64_t qcPackRuns(const uint8_t *xp, const int64_t *rowOff,
                   const int64_t *delta, const __m128i *mask,
                   int64_t fullGroups, uint8_t *panel, int64_t gs, int64_t ho) {
  const uint8_t *at[Runs];
  for (int i = 0; i < Runs; ++i)
    at[i] = xp + delta[i];
  for (int64_t g = 0; g < fullGroups; ++g) {
    const int64_t *ro = rowOff + 4 * g;
    auto ld = [&](int t) {
      __m128i v = qLoadStridedSse2(at[0] + ro[t], Step);
      for (int i = 1; i < Runs; ++i)
        v = _mm_or_si128(
            _mm_andnot_si128(mask[i], v),
            _mm_and_si128(mask[i], qLoadStridedSse2(at[i] + ro[t], Step)));
      return v;
    };
    uint8_t *lo = panel + g * gs;
    qInterleave4x16Sse2(ld(0), ld(1), ld(2), ld(3), lo, lo + ho);
  }
  return fullGroups;
}

void qPackIm2colChunk(const void *closure, int64_t n0, int64_t nc,
                      int8_t *dst) {
  const QIm2colSource &src = *static_cast<const QIm2colSource *>(closure);
  const QConvShape &s = *src.s;
  const int64_t depth = src.depth, Kp = qRoundUp(depth, 4);
  const int64_t step = s.sW;
  const int64_t gs = src.groupStride, ho = src.halfOffset;
  const int64_t *rowOff = src.rowOff;
  const uint8_t *xp = src.xp;
  // Offset of each pixel's top-left tap within a padded channel plane.
  int64_t base[kQChunkMax];
  for (int64_t j = 0; j < nc; ++j) {
    int64_t p = n0 + j, oh = p / s.OW, ow = p % s.OW;
    base[j] = oh * s.sH * src.Wp + ow * step;
  }
  alignas(16) static const uint8_t ramp[32] = {
      0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
      0,    0,    0,    0,    0,    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
      0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  // ramp + 16 - i: 0xFF from byte i on.
  auto fromByte = [&](int64_t i) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i *>(ramp + 16 - i));
  };
  const bool vectorRuns = step == 1 || step == 2;
  for (int64_t q = 0; q * kQNR < nc; ++q) {
    const int64_t j0 = q * kQNR, cols = std::min<int64_t>(kQNR, nc - j0);
    uint8_t *panel = reinterpret_cast<uint8_t *>(dst) + j0 * Kp;
    // Runs of pixels whose taps are `step` bytes apart: run i covers the
    // columns from the first byte of mask[i] on and reads tap + delta[i] +
    // step * j for column j.
    int64_t delta[kQcMaxRuns];
    __m128i mask[kQcMaxRuns];
    int runs = 0;
    bool gather = !vectorRuns;
    for (int64_t j = 0; j < cols && !gather; ++j) {
      int64_t d = base[j0 + j] - step * j;
      if (runs && d == delta[runs - 1])
        continue;
      if (runs == kQcMaxRuns) {
        gather = true;
        break;
      }
      delta[runs] = d;
      mask[runs] = fromByte(j);
      ++runs;
    }
    const __m128i live = _mm_andnot_si128(fromByte(cols), _mm_set1_epi8(-1));
    // One k row of the panel, canonical, zero past the live columns.
    auto row = [&](int64_t r) -> __m128i {
      if (r >= depth)
        return _mm_setzero_si128();
      const uint8_t *tap = xp + rowOff[r];
      if (gather) {
        alignas(16) uint8_t bytes[16] = {};
        for (int64_t j = 0; j < cols; ++j)
          bytes[j] = tap[base[j0 + j]];
        return _mm_load_si128(reinterpret_cast<const __m128i *>(bytes));
      }
      __m128i v = qLoadStridedSse2(tap + delta[0], step);
      for (int i = 1; i < runs; ++i) {
        __m128i w = qLoadStridedSse2(tap + delta[i], step);
        v = _mm_or_si128(_mm_andnot_si128(mask[i], v),
                         _mm_and_si128(mask[i], w));
      }
      return _mm_and_si128(v, live);
    };
    const int64_t fullGroups = depth / 4;
    int64_t g = 0;
    if (!gather && runs == 1 && cols == kQNR && step == 1) {
      // The common case: 16 adjacent pixels of one output row.
      const uint8_t *at = xp + delta[0];
      for (; g < fullGroups; ++g) {
        const int64_t *ro = rowOff + 4 * g;
        auto ld = [&](int t) {
          return _mm_loadu_si128(reinterpret_cast<const __m128i *>(at + ro[t]));
        };
        uint8_t *lo = panel + g * gs;
        qInterleave4x16Sse2(ld(0), ld(1), ld(2), ld(3), lo, lo + ho);
      }
    } else if (!gather && cols == kQNR) {
      // Whole panels of a few runs (row boundaries inside the panel, or
      // stride 2): specialized loads and blends.
      const int key = static_cast<int>(step) * 8 + runs;
      switch (key) {
      case 8 + 2:
        g = qcPackRuns<1, 2>(xp, rowOff, delta, mask, fullGroups, panel, gs,
                             ho);
        break;
      case 8 + 3:
        g = qcPackRuns<1, 3>(xp, rowOff, delta, mask, fullGroups, panel, gs,
                             ho);
        break;
      case 8 + 4:
        g = qcPackRuns<1, 4>(xp, rowOff, delta, mask, fullGroups, panel, gs,
                             ho);
        break;
      case 16 + 1:
        g = qcPackRuns<2, 1>(xp, rowOff, delta, mask, fullGroups, panel, gs,
                             ho);
        break;
      case 16 + 2:
        g = qcPackRuns<2, 2>(xp, rowOff, delta, mask, fullGroups, panel, gs,
                             ho);
        break;
      case 16 + 3:
        g = qcPackRuns<2, 3>(xp, rowOff, delta, mask, fullGroups, panel, gs,
                             ho);
        break;
      default:
        break;
      }
    }
    for (; g < Kp / 4; ++g)
      qInterleave4x16Sse2(row(4 * g), row(4 * g + 1), row(4 * g + 2),
                          row(4 * g + 3), panel + g * gs, panel + g * gs + ho);
  }
}

#else

/// Portable packer: every k row of a panel is a byte gather.
void qPackIm2colChunk(const void *closure, int64_t n0, int64_t nc,
                      int8_t *dst) {
  const QIm2colSource &src = *static_cast<const QIm2colSource *>(closure);
  const QConvShape &s = *src.s;
  const int64_t depth = src.depth, Kp = qRoundUp(depth, 4);
  uint8_t stage[4][16];
  for (int64_t q = 0; q * kQNR < nc; ++q) {
    const int64_t j0 = q * kQNR, cols = std::min<int64_t>(kQNR, nc - j0);
    uint8_t *panel = reinterpret_cast<uint8_t *>(dst) + j0 * Kp;
    for (int64_t g = 0; g < Kp / 4; ++g) {
      for (int t = 0; t < 4; ++t) {
        const int64_t r = 4 * g + t;
        for (int64_t j = 0; j < 16; ++j) {
          const int64_t p = n0 + j0 + j, oh = p / s.OW, ow = p % s.OW;
          stage[t][j] =
              r < depth && j < cols
                  ? src.xp[src.rowOff[r] + oh * s.sH * src.Wp + ow * s.sW]
                  : 0;
        }
      }
      qInterleave4x16(stage[0], stage[1], stage[2], stage[3],
                      panel + g * src.groupStride,
                      panel + g * src.groupStride + src.halfOffset);
    }
  }
}

#endif

/// Closure of the pointwise packer: the group's [cg, H*W] channels.
struct QPlainSource {
  const uint8_t *x;
  int64_t ld, rows;
  uint8_t xorMask;
};

void qPackPlainChunk(const void *closure, int64_t n0, int64_t nc, int8_t *dst) {
  const QPlainSource &src = *static_cast<const QPlainSource *>(closure);
  qPackB(src.x, src.ld, false, src.rows, n0, nc, src.xorMask, dst, nullptr);
}

/// Writes the group's channels, canonical, into a [cg, Hp, Wp] image whose
/// border holds the canonical zero point.
void qBuildPaddedImage(const uint8_t *x, const QConvShape &s, int64_t cg,
                       int64_t Hp, int64_t Wp, uint8_t xorMask, uint8_t pad,
                       uint8_t *xp) {
  // Locals, so the compiler knows the stores cannot change the geometry.
  const int64_t H = s.H, W = s.W, pT = s.pT, pL = s.pL;
  std::memset(xp, pad, cg * Hp * Wp);
#ifdef SPARQ_QCONV_SSE2
  const __m128i mask = _mm_set1_epi8(static_cast<char>(xorMask));
  auto copy16 = [&](const uint8_t *in, uint8_t *out) {
    _mm_storeu_si128(
        reinterpret_cast<__m128i *>(out),
        _mm_xor_si128(mask,
                      _mm_loadu_si128(reinterpret_cast<const __m128i *>(in))));
  };
#endif
  for (int64_t c = 0; c < cg; ++c)
    for (int64_t h = 0; h < H; ++h) {
      const uint8_t *in = x + (c * H + h) * W;
      uint8_t *out = xp + (c * Hp + h + pT) * Wp + pL;
#ifdef SPARQ_QCONV_SSE2
      if (W >= 16) {
        // Whole vectors; the last one overlaps its predecessor.
        for (int64_t w = 0; w + 16 <= W; w += 16)
          copy16(in + w, out + w);
        copy16(in + W - 16, out + W - 16);
        continue;
      }
#endif
      for (int64_t w = 0; w < W; ++w)
        out[w] = in[w] ^ xorMask;
    }
}

/// Copies the pixels a strided, unpadded 1x1 convolution reads into a plain
/// [cg, OH*OW] matrix.
void qSubsampleImage(const uint8_t *x, const QConvShape &s, int64_t cg,
                     uint8_t *dst) {
  const int64_t H = s.H, W = s.W, OH = s.OH, OW = s.OW, sH = s.sH, sW = s.sW;
  for (int64_t c = 0; c < cg; ++c)
    for (int64_t oh = 0; oh < OH; ++oh) {
      const uint8_t *in = x + (c * H + oh * sH) * W;
      uint8_t *out = dst + (c * OH + oh) * OW;
      int64_t ow = 0;
#ifdef SPARQ_QCONV_SSE2
      // 16 outputs per (stride-2) vector load pair inside the input row.
      if (sW <= 2)
        for (; (ow + 16) * sW <= W; ow += 16)
          _mm_storeu_si128(reinterpret_cast<__m128i *>(out + ow),
                           qLoadStridedSse2(in + ow * sW, sW));
#endif
      for (; ow < OW; ++ow)
        out[ow] = in[ow * sW];
    }
}

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
      QOutRow row = qOutRowFor(proto);
      row.colAdj = zeros.data();
      row.bZero = zeros.data();
      row.chanPerCol = false;
      row.biasI32 = proto.biasI32 + oc;
      row.scale = proto.scale ? proto.scale + oc : nullptr;
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
            int64_t lo = off >= 0 ? 0 : qDivCeil(-off, s.sW);
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

/// Per padded-plane position p in [p0, p1), the sum over the cg channels
/// of the canonical image: sums[p] = sum_c xp[c * plane + p].
void qPlaneChannelSums(const uint8_t *xp, int64_t cg, int64_t plane, int64_t p0,
                       int64_t p1, int32_t *sums) {
  constexpr int64_t kSpan = 512;
  uint16_t part[kSpan];
  for (int64_t b = p0; b < p1; b += kSpan) {
    const int64_t n = std::min(kSpan, p1 - b);
    for (int64_t j = 0; j < n; ++j)
      sums[b + j] = 0;
    // 16-bit partial sums over at most 256 channels (255 * 257 < 65536).
    for (int64_t c0 = 0; c0 < cg; c0 += 256) {
      const int64_t c1 = std::min(cg, c0 + 256);
      std::fill(part, part + n, 0);
      for (int64_t c = c0; c < c1; ++c) {
        const uint8_t *row = xp + c * plane + b;
        for (int64_t j = 0; j < n; ++j)
          part[j] = static_cast<uint16_t>(part[j] + row[j]);
      }
      for (int64_t j = 0; j < n; ++j)
        sums[b + j] += part[j];
    }
  }
}

/// The convolution (one group) with the output pixels as the GEMM rows and
/// the output channels as its columns: A is the transposed im2col matrix,
/// packed whole per image into pairs of kQMR-pixel panels by the im2col
/// packer (canonical u8, so the image's type flips the other way), B the
/// weights, packed once like a transposed matmul operand (canonical s8),
/// and C the NCHW output, stored transposed. The 16-wide B panels then run
/// over channels, a multiple of 16 in most networks, rather than over the
/// pixels of small maps (7x7: 49 pixels in 64 columns), and the last pixel
/// panel runs the micro-kernel of its live rows only. The row sums come
/// from the image's per-position channel sums, added over the taps.
void qconvPixelRows(Context &ctx, const uint8_t *x8, const void *W, void *Y,
                    int64_t N, const QConvShape &s, int64_t xType,
                    int64_t wType, int32_t xzRaw, const int32_t *wzRaw,
                    const QGemmArgs &proto, int64_t flags) {
  const int64_t C = s.C, K = s.K, depth = C * s.KH * s.KW;
  const int64_t Kp = qRoundUp(depth, 4), pixels = s.OH * s.OW;
  const int64_t es = qOutElementSize(proto.outKind);
  const uint8_t aMask = xType == SPARQ_QTYPE_S8 ? 0x80 : 0;
  const uint8_t bMask = wType == SPARQ_QTYPE_U8 ? 0x80 : 0;
  const uint8_t *w8 = static_cast<const uint8_t *>(W);

  // Weights: column sums, then [depth, K] as B panels.
  const int64_t sumsBytes = 4 * qRoundUp(K, 16);
  const int64_t packBytes = sumsBytes + qPackedBSize(depth, K);
  auto packWeights = [&](uint8_t *dst) {
    qPackB(w8, depth, /*transB=*/true, depth, 0, K, bMask,
           reinterpret_cast<int8_t *>(dst + sumsBytes),
           reinterpret_cast<int32_t *>(dst));
  };
  const uint8_t *pw;
  if (flags & SPARQ_UK_CONST_WEIGHTS) {
    std::vector<int64_t> key = {kQConvPixelRowsTag,
                                reinterpret_cast<int64_t>(W),
                                K,
                                depth,
                                s.KH,
                                wType};
    const float *p = ctx.cachedPack(
        key, static_cast<size_t>(qDivCeil(packBytes, 4)),
        [&](float *dst) { packWeights(reinterpret_cast<uint8_t *>(dst)); });
    if (!p)
      return;
    pw = reinterpret_cast<const uint8_t *>(p);
  } else {
    float *p = ctx.scratch(ScratchSlot::QuantSharedB, qDivCeil(packBytes, 4));
    if (!p)
      return;
    packWeights(reinterpret_cast<uint8_t *>(p));
    pw = reinterpret_cast<const uint8_t *>(p);
  }

  // The padded image (32-byte guards on both sides) and its channel sums.
  const int64_t Hp =
      std::max(s.H + s.pT, (s.OH - 1) * s.sH + (s.KH - 1) * s.dH + 1);
  const int64_t Wp =
      std::max(s.W + s.pL, (s.OW - 1) * s.sW + (s.KW - 1) * s.dW + 1);
  const int64_t plane = Hp * Wp;
  const int64_t imageBytes = qRoundUp(C * plane + 64, 64);
  float *buf = ctx.scratch(ScratchSlot::QuantIm2col,
                           imageBytes / 4 + qRoundUp(plane, 16));
  if (!buf)
    return;
  uint8_t *xp = reinterpret_cast<uint8_t *>(buf) + 32;
  int32_t *planeSums = reinterpret_cast<int32_t *>(buf) + imageBytes / 4;
  // A: pixel row sums, then the panels (whole 16-pixel pairs).
  const int64_t rowSumsBytes = 4 * qRoundUp(pixels, 16);
  float *abuf = ctx.scratch(ScratchSlot::QuantA,
                            (rowSumsBytes + qRoundUp(pixels, 16) * Kp) / 4);
  if (!abuf)
    return;
  int32_t *rowSums = reinterpret_cast<int32_t *>(abuf);
  uint8_t *aPacked = reinterpret_cast<uint8_t *>(abuf) + rowSumsBytes;

  std::vector<int64_t> rowOff(depth), tapOff(s.KH * s.KW);
  for (int64_t c = 0, r = 0; c < C; ++c)
    for (int64_t kh = 0; kh < s.KH; ++kh)
      for (int64_t kw = 0; kw < s.KW; ++kw)
        rowOff[r++] = (c * Hp + kh * s.dH) * Wp + kw * s.dW;
  for (int64_t t = 0; t < s.KH * s.KW; ++t)
    tapOff[t] = rowOff[t];
  const uint8_t padByte = static_cast<uint8_t>(xzRaw) ^ aMask;
  const int32_t xZa = xzRaw + (aMask ? 128 : 0);
  std::vector<int32_t> aZ(pixels, xZa), bZ(K);
  for (int64_t k = 0; k < K; ++k)
    bZ[k] = wzRaw[k] - (bMask ? 128 : 0);

  QGemmArgs g = proto;
  g.M = pixels;
  g.N = K;
  g.K = depth;
  g.APacked = aPacked;
  g.rowSums = rowSums;
  g.BPacked = reinterpret_cast<const int8_t *>(pw + sumsBytes);
  g.colSums = reinterpret_cast<const int32_t *>(pw);
  g.aZero = aZ.data();
  g.bZero = bZ.data();
  g.chanPerCol = true;
  g.ldc = pixels;
  g.transC = true;
  QIm2colSource im2col{xp, rowOff.data(), Wp, depth, &s, 32, kQMR * Kp};
  ThreadPool &pool = ctx.threads();
  for (int64_t n = 0; n < N; ++n) {
    const uint8_t *xn = x8 + n * C * s.H * s.W;
    const int64_t perItem = std::max<int64_t>(1, 16384 / plane);
    pool.parallelFor(qDivCeil(C, perItem), 1, [&](int64_t begin, int64_t end) {
      const int64_t c0 = begin * perItem, c1 = std::min(C, end * perItem);
      qBuildPaddedImage(xn + c0 * s.H * s.W, s, c1 - c0, Hp, Wp, aMask, padByte,
                        xp + c0 * plane);
    });
    constexpr int64_t kSumsItem = 1024;
    pool.parallelFor(
        qDivCeil(plane, kSumsItem), 1, [&](int64_t begin, int64_t end) {
          qPlaneChannelSums(xp, C, plane, begin * kSumsItem,
                            std::min(plane, end * kSumsItem), planeSums);
        });
    pool.parallelFor(
        qDivCeil(pixels, kQChunkMax), 1, [&](int64_t begin, int64_t end) {
          for (int64_t it = begin; it < end; ++it) {
            const int64_t p0 = it * kQChunkMax;
            const int64_t nc = std::min(kQChunkMax, pixels - p0);
            qPackIm2colChunk(&im2col, p0, nc,
                             reinterpret_cast<int8_t *>(aPacked + p0 * Kp));
            for (int64_t p = p0; p < p0 + nc; ++p) {
              const int32_t *at =
                  planeSums + (p / s.OW) * s.sH * Wp + (p % s.OW) * s.sW;
              uint32_t sum = 0;
              for (int64_t off : tapOff)
                sum += static_cast<uint32_t>(at[off]);
              rowSums[p] = static_cast<int32_t>(sum);
            }
          }
        });
    g.C = static_cast<char *>(Y) + n * K * pixels * es;
    qgemm(ctx, g);
  }
}

} // namespace

bool sparq::rt::qconvDirectEnabled() {
  const int o = qconvDirectOverride.load();
  if (o >= 0)
    return o != 0;
  static const bool env = [] {
    const char *v = std::getenv("SPARQ_QCONV_DIRECT");
    return !(v && v[0] == '0');
  }();
  return env;
}

void sparq::rt::setQConvDirect(int on) { qconvDirectOverride.store(on); }

void sparq::rt::setQConvPixelRows(int on) { qconvPixelRowsOverride.store(on); }

void sparq::rt::setQConvDirectRows(int on) {
  qconvDirectRowsOverride.store(on);
}

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
  std::vector<int32_t> wzRaw(K), wZ(K);
  for (int64_t k = 0; k < K; ++k) {
    wzRaw[k] = qLoadZeroPoint(wZero, wType, wZeroPerChannel ? k : 0);
    wZ[k] = wzRaw[k] + (wMask ? 128 : 0);
  }
  const QEpilogueTables tables(K, outKind, biasI32, scale, scalePerChannel != 0,
                               biasF32, outZero, qmin, qmax, act, actA, actB);
  const int32_t xzRaw = qLoadZeroPoint(xZero, xType, 0);
  const int32_t xZ = xzRaw - (xMask ? 128 : 0);

  QGemmArgs proto;
  proto.chanPerCol = false;
  tables.apply(proto);

  if (cg == 1) {
    qDepthwiseConv(context, x8, w8, Y, N, s, xType, wType, xzRaw, proto,
                   wzRaw.data());
    return;
  }

  const bool unpadded1x1 = KH == 1 && KW == 1 && padTop == 0 && padLeft == 0 &&
                           (OH - 1) * strideH < H && (OW - 1) * strideW < Wd;
  // Where the direct path pays (measured with sparq-quant-bench on Zen 4):
  // it saves the im2col packing, whose share is largest with few output
  // channels, but computes Wq - OW dropped columns per output row, rounds
  // the channels up to 4, and reads B less sequentially than packed panels;
  // so only unit strides, whole channel quads, few dropped columns and at
  // most 128 output channels (ResNet-18: the 56x56 layers, 0.85x the time).
  const int64_t directWq = std::max(Wd + padLeft, OW + (KW - 1) * dilW);
  const bool directPays = strideH == 1 && strideW == 1 && C % 4 == 0 &&
                          K <= 128 && (directWq - OW) * 20 <= OW;
  const int directOverride = qconvDirectOverride.load();
  const int rowsOverride = qconvDirectRowsOverride.load();
  const bool directOk = groups == 1 && activeQIsa() == QIsa::Avx512Vnni &&
                        qconvDirectEnabled() &&
                        qconvDirectKernel(kQMR, kQcdMaxPanels);
  // The direct path with the pixels as rows: no dropped columns, no
  // im2col, whole 16-channel panels, the u8/s8 output stage fused into the
  // kernel. Measured with sparq-quant-bench (SPARQ_QBENCH_CPUTIME, 1
  // thread, Zen 4) on ResNet-18's 3x3 layers: 0.93-0.96x the time of the
  // im2col GEMM or the columns direct path at 56x56 and 28x28, 0.95x the
  // pixels-as-rows GEMM's at 14x14 and 7x7; stride 2: even at 56x56,
  // 0.96-0.98x at 28x28 and 14x14; slower on 1x1 layers and the 3-channel
  // stem (channels padded to 4).
  const bool rowsPay = strideH <= 2 && strideW <= 2 && C % 4 == 0 &&
                       K % 16 == 0 && (KH > 1 || KW > 1);
  if (directOk && rowsOverride != 0 && (rowsPay || rowsOverride == 1)) {
    qconvDirectLayer(context, s, N, x8, W, Y, xType, wType, xzRaw, wzRaw.data(),
                     proto, flags, /*pixelRows=*/true);
    return;
  }
  if (directOk && !unpadded1x1 && (directPays || directOverride == 1)) {
    qconvDirectLayer(context, s, N, x8, W, Y, xType, wType, xzRaw, wzRaw.data(),
                     proto, flags, /*pixelRows=*/false);
    return;
  }

  // Pixels as the GEMM rows (see qconvPixelRows) where the maps are small
  // and the channels fill whole B panels (measured with sparq-quant-bench on
  // Zen 4: ResNet-18's 7x7 layers 0.78x the time, 14x14 0.8-0.94x, 28x28
  // even, 56x56 slower).
  const int pixelRowsOverride = qconvPixelRowsOverride.load();
  const bool pixelRowsPay = K % 16 == 0 && pixels <= 256;
  if (groups == 1 && pixelRowsOverride != 0 &&
      (pixelRowsPay || pixelRowsOverride == 1)) {
    qconvPixelRows(context, x8, W, Y, N, s, xType, wType, xzRaw, wzRaw.data(),
                   proto, flags);
    return;
  }

  // Weights: per group, row sums then kQMR-row panels.
  const int64_t sumsBytes = 4 * qRoundUp(kg, 16);
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
        key, static_cast<size_t>(qDivCeil(oneGroup * groups, 4)),
        [&](float *dst) { packWeights(reinterpret_cast<uint8_t *>(dst)); });
    if (!p)
      return;
    packedW = reinterpret_cast<const uint8_t *>(p);
  } else {
    float *p =
        context.scratch(ScratchSlot::QuantA, qDivCeil(oneGroup * groups, 4));
    if (!p)
      return;
    packWeights(reinterpret_cast<uint8_t *>(p));
    packedW = reinterpret_cast<const uint8_t *>(p);
  }

  // 1x1 unpadded layers read the image as a plain matrix: the image itself
  // at stride 1, a subsampled copy otherwise.
  const bool plainB = KH == 1 && KW == 1 && padTop == 0 && padLeft == 0 &&
                      (OH - 1) * strideH < H && (OW - 1) * strideW < Wd;
  const bool direct = plainB && strideH == 1 && strideW == 1 && OW == Wd;
  const int64_t Hp =
      std::max(H + padTop, (OH - 1) * strideH + (KH - 1) * dilH + 1);
  const int64_t Wp =
      std::max(Wd + padLeft, (OW - 1) * strideW + (KW - 1) * dilW + 1);
  uint8_t *xp = nullptr;
  if (!direct) {
    // 32-byte guards on both sides: vector loads of pixel runs may reach
    // past the image (the bytes they read there are masked off).
    const int64_t imageBytes =
        qRoundUp((plainB ? cg * pixels : cg * Hp * Wp) + 64, 64);
    float *p = context.scratch(ScratchSlot::QuantIm2col, imageBytes / 4);
    if (!p)
      return;
    xp = reinterpret_cast<uint8_t *>(p) + 32;
  }
  std::vector<int32_t> bZ(pixels, xZ);
  std::vector<int64_t> rowOff(plainB ? 0 : depth);
  if (!plainB)
    for (int64_t c = 0, r = 0; c < cg; ++c)
      for (int64_t kh = 0; kh < KH; ++kh)
        for (int64_t kw = 0; kw < KW; ++kw)
          rowOff[r++] = (c * Hp + kh * dilH) * Wp + kw * dilW;
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
      g.biasI32 = proto.biasI32 + gi * kg;
      g.scale = proto.scale ? proto.scale + gi * kg : nullptr;
      g.biasF32 = proto.biasF32 ? proto.biasF32 + gi * kg : nullptr;
      g.C = static_cast<char *>(Y) + (n * K + gi * kg) * pixels * es;
      QPlainSource plain{xg, H * Wd, cg, xMask};
      QIm2colSource im2col{xp, rowOff.data(), Wp, depth, &s};
      if (plainB) {
        if (!direct) {
          qSubsampleImage(xg, s, cg, xp);
          plain.x = xp;
          plain.ld = pixels;
        }
        g.packB = qPackPlainChunk;
        g.packBClosure = &plain;
      } else {
        // The image is copied by the whole pool, a few channels each.
        const int64_t perItem = std::max<int64_t>(1, 16384 / (Hp * Wp));
        context.threads().parallelFor(
            qDivCeil(cg, perItem), 1, [&](int64_t begin, int64_t end) {
              const int64_t c0 = begin * perItem;
              const int64_t c1 = std::min(cg, end * perItem);
              qBuildPaddedImage(xg + c0 * H * Wd, s, c1 - c0, Hp, Wp, xMask,
                                padByte, xp + c0 * Hp * Wp);
            });
        g.packB = qPackIm2colChunk;
        g.packBClosure = &im2col;
      }
      qgemm(context, g);
    }
  }
}
