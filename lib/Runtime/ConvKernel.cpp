//===- ConvKernel.cpp - sparq_uk_conv2d_f32 micro-kernel entry ------------===//
//
// 2-D convolution (NCHW) for generated code, in three strategies:
//  - one input channel per output channel (depthwise): a direct kernel that
//    accumulates shifted input rows, parallel over (image, channel);
//  - 1x1, stride 1, no padding: a plain GEMM of the weights with the image;
//  - everything else: a GEMM whose B operand is packed straight from the
//    image (implicit im2col), one kc x nc block at a time, so the im2col
//    matrix is never materialized and scratch stays bounded.
// Weights flagged constant are packed once into A panels and cached.
//
//===----------------------------------------------------------------------===//

#include "sparq/Runtime/sparq_runtime.h"

#include "Gemm.h"
#include "Model.h"

#include <algorithm>
#include <cstring>

using namespace sparq::rt;

namespace {

/// Tag of convolution entries in the packed-weight cache.
constexpr int64_t kConvPackTag = 2;

int64_t divCeil(int64_t a, int64_t b) { return (a + b - 1) / b; }

struct ConvShape {
  int64_t C, H, W, K, OH, OW, KH, KW, sH, sW, pT, pL, dH, dW, groups;
};

/// Closure of the implicit-im2col packer: one image, one group.
struct Im2colSource {
  const float *x; ///< first input channel of the group
  const ConvShape *s;
  int64_t channels; ///< input channels per group
};

/// Packs rows [k0,k0+kc) x output pixels [n0,n0+nc) of the (virtual) im2col
/// matrix, whose row index is (c, kh, kw) and column index (oh, ow).
void packIm2col(const void *closure, int64_t k0, int64_t kc, int64_t n0,
                int64_t nc, float *dst) {
  const Im2colSource &src = *static_cast<const Im2colSource *>(closure);
  const ConvShape &s = *src.s;
  const int64_t taps = s.KH * s.KW;
  struct Run {
    int64_t j, len, oh, ow;
  };
  for (int64_t p = 0; p < nc; p += kNR) {
    int64_t cols = std::min<int64_t>(kNR, nc - p);
    // Split the panel's pixels into runs lying on one output row.
    Run runs[kNR];
    int numRuns = 0;
    for (int64_t j = 0; j < cols;) {
      int64_t q = n0 + p + j;
      int64_t oh = q / s.OW, ow = q % s.OW;
      int64_t len = std::min(cols - j, s.OW - ow);
      runs[numRuns++] = {j, len, oh, ow};
      j += len;
    }
    float *panel = dst + p * kc;
    for (int64_t k = 0; k < kc; ++k) {
      int64_t kk = k0 + k;
      int64_t c = kk / taps, tap = kk % taps;
      int64_t kh = tap / s.KW, kw = tap % s.KW;
      const float *plane = src.x + c * s.H * s.W;
      float *row = panel + k * kNR;
      for (int r = 0; r < numRuns; ++r) {
        const Run &run = runs[r];
        float *out = row + run.j;
        int64_t ih = run.oh * s.sH - s.pT + kh * s.dH;
        if (ih < 0 || ih >= s.H) {
          std::memset(out, 0, run.len * sizeof(float));
          continue;
        }
        const float *line = plane + ih * s.W;
        int64_t iw0 = run.ow * s.sW - s.pL + kw * s.dW;
        // Pixels t in [lo, hi) read inside the row; the rest are padding.
        int64_t lo = iw0 >= 0 ? 0 : std::min(run.len, divCeil(-iw0, s.sW));
        int64_t hi = s.W - iw0 <= 0 ? 0 : divCeil(s.W - iw0, s.sW);
        hi = std::max(lo, std::min(hi, run.len));
        for (int64_t t = 0; t < lo; ++t)
          out[t] = 0.f;
        if (s.sW == 1) {
          std::memcpy(out + lo, line + iw0 + lo, (hi - lo) * sizeof(float));
        } else {
          const float *in = line + iw0;
          for (int64_t t = lo; t < hi; ++t)
            out[t] = in[t * s.sW];
        }
        for (int64_t t = hi; t < run.len; ++t)
          out[t] = 0.f;
      }
      if (cols < kNR)
        std::memset(row + cols, 0, (kNR - cols) * sizeof(float));
    }
  }
}

/// Direct convolution where each output channel reads one input channel.
void depthwiseConv(Context &ctx, const float *X, const float *W,
                   const Epilogue &epi, float *Y, int64_t N,
                   const ConvShape &s) {
  const KernelSet &ks = kernels();
  int64_t multiplier = s.K / s.C;
  ctx.threads().parallelFor(N * s.K, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      int64_t n = t / s.K, k = t % s.K;
      const float *x = X + (n * s.C + k / multiplier) * s.H * s.W;
      const float *w = W + k * s.KH * s.KW;
      float *y = Y + t * s.OH * s.OW;
      float rowBias = epi.bias ? epi.bias[k] : 0.f;
      for (int64_t oh = 0; oh < s.OH; ++oh) {
        float *yrow = y + oh * s.OW;
        std::memset(yrow, 0, s.OW * sizeof(float));
        for (int64_t kh = 0; kh < s.KH; ++kh) {
          int64_t ih = oh * s.sH - s.pT + kh * s.dH;
          if (ih < 0 || ih >= s.H)
            continue;
          const float *xrow = x + ih * s.W;
          for (int64_t kw = 0; kw < s.KW; ++kw) {
            float wv = w[kh * s.KW + kw];
            int64_t shift = kw * s.dW - s.pL; // iw = ow * sW + shift
            int64_t lo = shift >= 0 ? 0 : divCeil(-shift, s.sW);
            int64_t hi = s.W - shift <= 0 ? 0 : divCeil(s.W - shift, s.sW);
            hi = std::min(hi, s.OW);
            if (lo >= hi)
              continue;
            if (s.sW == 1) {
              ks.axpy(yrow + lo, xrow + lo + shift, wv, hi - lo);
            } else {
              for (int64_t ow = lo; ow < hi; ++ow)
                yrow[ow] += wv * xrow[ow * s.sW + shift];
            }
          }
        }
        const float *res =
            epi.residual ? epi.residual + t * s.OH * s.OW + oh * s.OW : nullptr;
        if (rowBias != 0.f || res || epi.act != 0)
          ks.epilogueRow(yrow, rowBias, nullptr, res, s.OW, epi.act, epi.actA,
                         epi.actB);
      }
    }
  });
}

} // namespace

extern "C" SPARQ_API void
sparq_uk_conv2d_f32(void *ctx, const float *X, const float *W,
                    const float *bias, const float *residual, float *Y,
                    int64_t N, int64_t C, int64_t H, int64_t Wd, int64_t K,
                    int64_t OH, int64_t OW, int64_t KH, int64_t KW,
                    int64_t strideH, int64_t strideW, int64_t padTop,
                    int64_t padLeft, int64_t dilH, int64_t dilW, int64_t groups,
                    int64_t flags, int64_t act, float actA, float actB) {
  if (!X || !W || !Y || N <= 0 || C <= 0 || K <= 0 || OH <= 0 || OW <= 0 ||
      KH <= 0 || KW <= 0 || strideH <= 0 || strideW <= 0 || dilH <= 0 ||
      dilW <= 0 || groups <= 0 || C % groups || K % groups)
    return;
  Context &context = contextFromHandle(ctx);
  const ConvShape s{C,       H,       Wd,     K,       OH,   OW,   KH,    KW,
                    strideH, strideW, padTop, padLeft, dilH, dilW, groups};
  const int64_t cg = C / groups, kg = K / groups;
  const int64_t depth = cg * KH * KW; // GEMM K
  const int64_t pixels = OH * OW;     // GEMM N

  Epilogue epi;
  epi.bias = bias;
  epi.biasPerRow = true;
  epi.residual = residual;
  epi.residualLd = pixels;
  epi.act = static_cast<int>(act);
  epi.actA = actA;
  epi.actB = actB;

  if (cg == 1) {
    depthwiseConv(context, X, W, epi, Y, N, s);
    return;
  }

  // Weights as GEMM A operands, one [kg, depth] matrix per group.
  const float *packedW = nullptr;
  size_t groupPacked = packedASize(kg, depth);
  if (flags & SPARQ_UK_CONST_WEIGHTS) {
    std::vector<int64_t> key = {kConvPackTag, reinterpret_cast<int64_t>(W), K,
                                depth, groups};
    packedW = context.cachedPack(key, groupPacked * groups, [&](float *dst) {
      for (int64_t g = 0; g < groups; ++g)
        packWholeA(W + g * kg * depth, depth, kg, depth, dst + g * groupPacked);
    });
    if (!packedW)
      return;
  }

  const bool pointwise = KH == 1 && KW == 1 && strideH == 1 && strideW == 1 &&
                         padTop == 0 && padLeft == 0 && OH == H && OW == Wd;
  for (int64_t g = 0; g < groups; ++g) {
    GemmArgs a;
    a.M = kg;
    a.N = pixels;
    a.K = depth;
    if (packedW)
      a.APacked = packedW + g * groupPacked;
    else
      a.A = W + g * kg * depth, a.lda = depth;
    a.ldc = pixels;
    a.epi = epi;
    if (bias)
      a.epi.bias = bias + g * kg;
    if (pointwise) {
      // Images are the batch; B is the image itself, [C, H*W] row-major.
      a.batch = N;
      a.B = X + g * cg * H * Wd;
      a.ldb = H * Wd;
      a.strideB = C * H * Wd;
      a.C = Y + g * kg * pixels;
      a.strideC = K * pixels;
      if (residual)
        a.epi.residual = residual + g * kg * pixels;
      a.strideResidual = K * pixels;
      gemm(context, a);
      continue;
    }
    for (int64_t n = 0; n < N; ++n) {
      Im2colSource src{X + (n * C + g * cg) * H * Wd, &s, cg};
      a.packB = packIm2col;
      a.packBClosure = &src;
      a.C = Y + (n * K + g * kg) * pixels;
      if (residual)
        a.epi.residual = residual + (n * K + g * kg) * pixels;
      gemm(context, a);
    }
  }
}
