//===- ConvKernel.cpp - sparq_uk_conv2d_f32 micro-kernel entry ------------===//
//
// 2-D convolution (NCHW) for generated code, in four strategies:
//  - one input channel per output channel (depthwise): a direct kernel that
//    accumulates shifted input rows, parallel over (image, channel), with a
//    register-blocked AVX2 row kernel for 3x3 taps at stride 1 or 2;
//  - 1x1, stride 1, no padding: a plain GEMM of the weights with the image;
//  - 3x3, stride 1, constant weights, enough channels: Winograd
//    (WinogradConv.cpp), where it beats the GEMM;
//  - everything else: a GEMM whose B operand is packed straight from the
//    image (implicit im2col), one kc x nc block at a time, so the im2col
//    matrix is never materialized and scratch stays bounded.
// Weights flagged constant are packed once into A panels and cached.
//
//===----------------------------------------------------------------------===//

#include "sparq/Runtime/sparq_runtime.h"

#include "Gemm.h"
#include "Model.h"
#include "WinogradConv.h"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

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
/// matrix, whose row index is (c, kh, kw) and column index (oh, ow). The
/// (c, kh, kw) decomposition of every row is computed once per call, so the
/// per-row work is a bounds check and a short copy; a panel that is one run
/// of kNR in-bounds, unit-stride pixels (the common case) is a fixed-size
/// copy the compiler turns into vector moves.
__attribute__((always_inline)) inline void
packIm2colBody(const Im2colSource &src, int64_t k0, int64_t kc, int64_t n0,
               int64_t nc, float *dst) {
  const ConvShape &s = *src.s;
  const int64_t taps = s.KH * s.KW;
  const int64_t planeSize = s.H * s.W;
  // Per row k: offset of its input plane, and its kh/kw input offsets.
  int64_t planeOff[kKC], rowOff[kKC], colOff[kKC];
  {
    int64_t kk = k0;
    int64_t c = kk / taps, tap = kk % taps;
    int64_t kh = tap / s.KW, kw = tap % s.KW;
    for (int64_t k = 0; k < kc; ++k) {
      planeOff[k] = c * planeSize;
      rowOff[k] = kh * s.dH;
      colOff[k] = kw * s.dW;
      if (++kw == s.KW) {
        kw = 0;
        if (++kh == s.KH) {
          kh = 0;
          ++c;
        }
      }
    }
  }
  struct Run {
    int64_t j, len, ih0, iw0;
  };
  int64_t oh = n0 / s.OW, ow = n0 % s.OW;
  for (int64_t p = 0; p < nc; p += kNR) {
    int64_t cols = std::min<int64_t>(kNR, nc - p);
    // Split the panel's pixels into runs lying on one output row.
    Run runs[kNR];
    int numRuns = 0;
    for (int64_t j = 0; j < cols;) {
      int64_t len = std::min(cols - j, s.OW - ow);
      runs[numRuns++] = {j, len, oh * s.sH - s.pT, ow * s.sW - s.pL};
      j += len;
      ow += len;
      if (ow == s.OW)
        ow = 0, ++oh;
    }
    float *panel = dst + p * kc;
    if (numRuns == 1 && cols == kNR && s.sW == 1) {
      // One run of kNR unit-stride pixels per row.
      const int64_t ih0 = runs[0].ih0, iw0 = runs[0].iw0;
      for (int64_t k = 0; k < kc; ++k) {
        float *out = panel + k * kNR;
        int64_t ih = ih0 + rowOff[k], iw = iw0 + colOff[k];
        if (ih >= 0 && ih < s.H && iw >= 0 && iw + kNR <= s.W) {
          const float *in = src.x + planeOff[k] + ih * s.W + iw;
          for (int t = 0; t < kNR; ++t)
            out[t] = in[t];
          continue;
        }
        if (ih < 0 || ih >= s.H) {
          for (int t = 0; t < kNR; ++t)
            out[t] = 0.f;
          continue;
        }
        const float *in = src.x + planeOff[k] + ih * s.W;
        for (int t = 0; t < kNR; ++t) {
          int64_t x = iw + t;
          out[t] = x >= 0 && x < s.W ? in[x] : 0.f;
        }
      }
      continue;
    }
    for (int64_t k = 0; k < kc; ++k) {
      float *row = panel + k * kNR;
      for (int r = 0; r < numRuns; ++r) {
        const Run &run = runs[r];
        float *out = row + run.j;
        int64_t ih = run.ih0 + rowOff[k];
        if (ih < 0 || ih >= s.H) {
          for (int64_t t = 0; t < run.len; ++t)
            out[t] = 0.f;
          continue;
        }
        const float *line = src.x + planeOff[k] + ih * s.W;
        int64_t iw0 = run.iw0 + colOff[k];
        // Pixels t in [lo, hi) read inside the row; the rest are padding.
        int64_t lo, hi;
        if (s.sW == 1) {
          lo = std::min(run.len, std::max<int64_t>(0, -iw0));
          hi = std::max(lo, std::min(run.len, s.W - iw0));
        } else {
          lo = iw0 >= 0 ? 0 : std::min(run.len, divCeil(-iw0, s.sW));
          hi = s.W - iw0 <= 0 ? 0 : divCeil(s.W - iw0, s.sW);
          hi = std::max(lo, std::min(hi, run.len));
        }
        for (int64_t t = 0; t < lo; ++t)
          out[t] = 0.f;
        const float *in = line + iw0;
        if (s.sW == 1) {
          for (int64_t t = lo; t < hi; ++t)
            out[t] = in[t];
        } else if (s.sW == 2) {
          for (int64_t t = lo; t < hi; ++t)
            out[t] = in[2 * t];
        } else {
          for (int64_t t = lo; t < hi; ++t)
            out[t] = in[t * s.sW];
        }
        for (int64_t t = hi; t < run.len; ++t)
          out[t] = 0.f;
      }
      for (int64_t t = cols; t < kNR; ++t)
        row[t] = 0.f;
    }
  }
}

void packIm2colGeneric(const void *closure, int64_t k0, int64_t kc, int64_t n0,
                       int64_t nc, float *dst) {
  packIm2colBody(*static_cast<const Im2colSource *>(closure), k0, kc, n0, nc,
                 dst);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/// The same packer compiled for AVX2, so the copies become ymm moves.
__attribute__((target("avx2,fma"))) void
packIm2colAvx2(const void *closure, int64_t k0, int64_t kc, int64_t n0,
               int64_t nc, float *dst) {
  packIm2colBody(*static_cast<const Im2colSource *>(closure), k0, kc, n0, nc,
                 dst);
}
#endif

/// The im2col packer for this CPU (AVX2 when the AVX2 kernel set is used).
PackBFn im2colPacker() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (&kernels() == avx2KernelSet())
    return packIm2colAvx2;
#endif
  return packIm2colGeneric;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/// One output row of a 3x3 undilated depthwise convolution with stride 1 or
/// 2: y[ow] = bias + sum w[kh][kw] * row_kh[ow * S - padLeft + kw], where a
/// null row is padding. Eight outputs per step for the pixels whose taps all
/// lie inside the row (stride 2 loads 16 and keeps the even lanes); the
/// border pixels are computed one by one.
template <int S>
__attribute__((target("avx2,fma"))) void
depthwiseRow3x3Avx2(const float *const rows[3], const float *w, float bias,
                    int64_t W, int64_t OW, int64_t padLeft, float *y) {
  auto scalarAt = [&](int64_t ow) {
    float acc = bias;
    for (int kh = 0; kh < 3; ++kh) {
      if (!rows[kh])
        continue;
      for (int kw = 0; kw < 3; ++kw) {
        int64_t iw = ow * S - padLeft + kw;
        if (iw >= 0 && iw < W)
          acc += w[kh * 3 + kw] * rows[kh][iw];
      }
    }
    return acc;
  };
  // Vector steps need every load of 8 (stride 1) or 16 (stride 2) floats
  // from iw0 = ow * S - padLeft inside the row.
  int64_t lo = padLeft <= 0 ? 0 : (padLeft + S - 1) / S;
  int64_t ow = 0;
  for (; ow < std::min(lo, OW); ++ow)
    y[ow] = scalarAt(ow);
  __m256 wv[9];
  for (int i = 0; i < 9; ++i)
    wv[i] = _mm256_set1_ps(w[i]);
  const __m256 vbias = _mm256_set1_ps(bias);
  const int64_t span = S == 1 ? 8 + 2 : 16 + 2; // floats read per step
  for (; ow + 8 <= OW && ow * S - padLeft + span <= W; ow += 8) {
    int64_t iw0 = ow * S - padLeft;
    __m256 acc = vbias;
    for (int kh = 0; kh < 3; ++kh) {
      if (!rows[kh])
        continue;
      const float *x = rows[kh] + iw0;
      for (int kw = 0; kw < 3; ++kw) {
        __m256 v;
        if (S == 1) {
          v = _mm256_loadu_ps(x + kw);
        } else {
          __m256 a = _mm256_loadu_ps(x + kw), b = _mm256_loadu_ps(x + kw + 8);
          __m256 even = _mm256_shuffle_ps(a, b, 0x88);
          v = _mm256_castpd_ps(
              _mm256_permute4x64_pd(_mm256_castps_pd(even), 0xD8));
        }
        acc = _mm256_fmadd_ps(wv[kh * 3 + kw], v, acc);
      }
    }
    _mm256_storeu_ps(y + ow, acc);
  }
  for (; ow < OW; ++ow)
    y[ow] = scalarAt(ow);
}
#endif

/// Direct convolution where each output channel reads one input channel.
void depthwiseConv(Context &ctx, const float *X, const float *W,
                   const Epilogue &epi, float *Y, int64_t N,
                   const ConvShape &s) {
  const KernelSet &ks = kernels();
  int64_t multiplier = s.K / s.C;
  // 3x3 undilated, stride 1 or 2 along rows: the register-blocked kernel.
  const bool fast3x3 = &ks == avx2KernelSet() && s.KH == 3 && s.KW == 3 &&
                       s.dH == 1 && s.dW == 1 && (s.sW == 1 || s.sW == 2);
  (void)fast3x3;
  ctx.threads().parallelFor(N * s.K, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      int64_t n = t / s.K, k = t % s.K;
      const float *x = X + (n * s.C + k / multiplier) * s.H * s.W;
      const float *w = W + k * s.KH * s.KW;
      float *y = Y + t * s.OH * s.OW;
      float rowBias = epi.bias ? epi.bias[k] : 0.f;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
      if (fast3x3) {
        for (int64_t oh = 0; oh < s.OH; ++oh) {
          float *yrow = y + oh * s.OW;
          const float *rows[3];
          for (int kh = 0; kh < 3; ++kh) {
            int64_t ih = oh * s.sH - s.pT + kh;
            rows[kh] = ih >= 0 && ih < s.H ? x + ih * s.W : nullptr;
          }
          if (s.sW == 1)
            depthwiseRow3x3Avx2<1>(rows, w, rowBias, s.W, s.OW, s.pL, yrow);
          else
            depthwiseRow3x3Avx2<2>(rows, w, rowBias, s.W, s.OW, s.pL, yrow);
          if (epi.residual || epi.act != 0)
            ks.epilogueRow(yrow, 0.f, nullptr,
                           epi.residual ? epi.residual + t * s.OH * s.OW +
                                              oh * s.OW
                                        : nullptr,
                           s.OW, epi.act, epi.actA, epi.actB);
        }
        continue;
      }
#endif
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

  // 3x3 stride-1 layers with constant weights: Winograd where it wins.
  if (groups == 1 && KH == 3 && KW == 3 && strideH == 1 && strideW == 1 &&
      dilH == 1 && dilW == 1 && (flags & SPARQ_UK_CONST_WEIGHTS)) {
    const WinogradProblem wp{N, C, H, Wd, K, OH, OW, padTop, padLeft};
    int m = chooseWinogradTile(wp);
    if (m && winogradConv3x3(context, m, X, W, epi, Y, wp))
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
      a.packB = im2colPacker();
      a.packBClosure = &src;
      a.C = Y + (n * K + g * kg) * pixels;
      if (residual)
        a.epi.residual = residual + (n * K + g * kg) * pixels;
      gemm(context, a);
    }
  }
}
