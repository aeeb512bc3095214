//===- ConvKernel.cpp - sparq_uk_conv2d_f32 micro-kernel entry ------------===//
//
// 2-D convolution (NCHW) for generated code, in four strategies:
//  - one input channel per output channel (depthwise): a direct kernel,
//    parallel over batches of (image, channel) planes; 3x3 taps at column
//    stride 1 or 2 use an AVX2 kernel over a zero-padded copy of the plane,
//    so even 7x7 planes run whole vectors, with the epilogue in registers;
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
/// Parameters of one channel plane of a 3x3 undilated depthwise convolution.
struct DepthwisePlane {
  const float *x;        ///< input plane [H, W]
  const float *w;        ///< 9 taps
  float bias;            ///< added to every output
  const float *residual; ///< same layout as y, or null
  float *y;              ///< output plane [OH, OW]
  float *padded;         ///< depthwisePaddedFloats(s) floats of scratch
};

/// Floats a padded input row needs: the vector loop covers OW rounded up to
/// 8 outputs, each step reading S * 8 + 2 floats.
int64_t depthwisePaddedWidth(const ConvShape &s) {
  return s.sW * divCeil(s.OW, 8) * 8 + 2;
}

/// Scratch of one padded plane (rows the output reads) plus a tail vector.
int64_t depthwisePaddedFloats(const ConvShape &s) {
  return ((s.OH - 1) * s.sH + 3) * depthwisePaddedWidth(s) + 8;
}

/// Eight outputs of a 3x3 depthwise convolution whose top-left tap reads x
/// (a zero-padded plane of row stride wp), with two partial sums so the FMA
/// chain is six long, not nine.
template <int S>
__attribute__((target("avx2,fma"), always_inline)) inline __m256
depthwiseVector3x3Avx2(const float *x, int64_t wp, const __m256 *wv,
                       __m256 bias) {
  __m256 acc[2] = {bias, _mm256_setzero_ps()};
  for (int kh = 0; kh < 3; ++kh, x += wp) {
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
      acc[kh == 1] = _mm256_fmadd_ps(wv[kh * 3 + kw], v, acc[kh == 1]);
    }
  }
  return _mm256_add_ps(acc[0], acc[1]);
}

/// Adds the residual, applies relu/clip (act 1 or 2; others are left to
/// epilogueRow) and stores outputs [ow, ow+8) of row oh, clipped to OW.
__attribute__((target("avx2,fma"), always_inline)) inline void
depthwiseFinishAvx2(__m256 acc, const DepthwisePlane &p, const ConvShape &s,
                    int act, __m256 lower, __m256 upper, int64_t oh,
                    int64_t ow, float *tail) {
  float *y = p.y + oh * s.OW + ow;
  const int64_t n = std::min<int64_t>(8, s.OW - ow);
  if (act <= 2) {
    if (p.residual) {
      const float *res = p.residual + oh * s.OW + ow;
      if (n == 8) {
        acc = _mm256_add_ps(acc, _mm256_loadu_ps(res));
      } else {
        for (int64_t l = 0; l < n; ++l)
          tail[l] = res[l];
        acc = _mm256_add_ps(acc, _mm256_loadu_ps(tail));
      }
    }
    if (act == 1 || act == 2)
      acc = _mm256_max_ps(acc, lower);
    if (act == 2)
      acc = _mm256_min_ps(acc, upper);
  }
  if (n == 8) {
    _mm256_storeu_ps(y, acc);
  } else {
    _mm256_storeu_ps(tail, acc);
    for (int64_t l = 0; l < n; ++l)
      y[l] = tail[l];
  }
}

/// One channel of a 3x3 undilated depthwise convolution with column stride
/// S (1 or 2). The input plane is first copied into a zero-padded plane, so
/// every output row -- even a 7-pixel one -- is computed by whole 8-wide
/// vectors with no scalar border code; stride 2 loads 16 floats and keeps
/// the even lanes. Bias, residual and relu/clip are applied in registers;
/// other activations by epilogueRow afterwards.
template <int S>
__attribute__((target("avx2,fma"))) void
depthwisePlane3x3Avx2(const DepthwisePlane &p, const ConvShape &s,
                      const Epilogue &epi, EpilogueRowFn epilogueRow) {
  const int64_t wp = depthwisePaddedWidth(s);
  const int64_t hp = (s.OH - 1) * s.sH + 3;
  float *tail = p.padded + hp * wp;
  // Columns [lo, hi) of a padded row hold input; the rest is zero.
  const int64_t lo = std::min(wp, s.pL);
  const int64_t hi = std::min(wp, std::max(lo, s.pL + s.W));
  for (int64_t r = 0; r < hp; ++r) {
    float *row = p.padded + r * wp;
    const int64_t ih = r - s.pT;
    if (ih < 0 || ih >= s.H) {
      for (int64_t j = 0; j < wp; ++j)
        row[j] = 0.f;
      continue;
    }
    const float *src = p.x + ih * s.W;
    for (int64_t j = 0; j < lo; ++j)
      row[j] = 0.f;
    for (int64_t j = lo; j < hi; ++j)
      row[j] = src[j - s.pL];
    for (int64_t j = hi; j < wp; ++j)
      row[j] = 0.f;
  }
  __m256 wv[9];
  for (int i = 0; i < 9; ++i)
    wv[i] = _mm256_set1_ps(p.w[i]);
  const __m256 vbias = _mm256_set1_ps(p.bias);
  const __m256 lower = _mm256_set1_ps(epi.act == 1 ? 0.f : epi.actA);
  const __m256 upper = _mm256_set1_ps(epi.actB);
  const int64_t OH = s.OH, OW = s.OW, sH = s.sH;
  int64_t oh = 0;
  // Two output rows at a time: four independent FMA chains in flight.
  for (; oh + 2 <= OH; oh += 2)
    for (int64_t ow = 0; ow < OW; ow += 8) {
      const float *x = p.padded + oh * sH * wp + ow * S;
      __m256 acc0 = depthwiseVector3x3Avx2<S>(x, wp, wv, vbias);
      __m256 acc1 = depthwiseVector3x3Avx2<S>(x + sH * wp, wp, wv, vbias);
      depthwiseFinishAvx2(acc0, p, s, epi.act, lower, upper, oh, ow, tail);
      depthwiseFinishAvx2(acc1, p, s, epi.act, lower, upper, oh + 1, ow, tail);
    }
  for (; oh < OH; ++oh)
    for (int64_t ow = 0; ow < OW; ow += 8) {
      const float *x = p.padded + oh * sH * wp + ow * S;
      __m256 acc = depthwiseVector3x3Avx2<S>(x, wp, wv, vbias);
      depthwiseFinishAvx2(acc, p, s, epi.act, lower, upper, oh, ow, tail);
    }
  if (epi.act > 2)
    for (oh = 0; oh < OH; ++oh)
      epilogueRow(p.y + oh * OW, 0.f, nullptr,
                  p.residual ? p.residual + oh * OW : nullptr, OW, epi.act,
                  epi.actA, epi.actB);
}
#endif

/// Direct convolution where each output channel reads one input channel.
void depthwiseConv(Context &ctx, const float *X, const float *W,
                   const Epilogue &epi, float *Y, int64_t N,
                   const ConvShape &s) {
  const KernelSet &ks = kernels();
  int64_t multiplier = s.K / s.C;
  // 3x3 undilated, stride 1 or 2 along rows: the padded-plane AVX2 kernel.
  const bool fast3x3 = &ks == avx2KernelSet() && s.KH == 3 && s.KW == 3 &&
                       s.dH == 1 && s.dW == 1 && (s.sW == 1 || s.sW == 2);
  // Several channels per chunk when planes are small, so the per-chunk
  // dispatch cost stays well below the work; a few chunks per thread still.
  const int64_t plane = s.OH * s.OW;
  const int64_t planes = N * s.K;
  const int64_t grain = std::max<int64_t>(
      1, std::min(divCeil(16384, plane), planes / (4 * ctx.numThreads())));
  ctx.threads().parallelFor(planes, grain, [&](int64_t begin, int64_t end) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    float *padded = nullptr;
    if (fast3x3 && !(padded = ctx.scratch(ScratchSlot::PackA,
                                          depthwisePaddedFloats(s))))
      return;
#endif
    for (int64_t t = begin; t < end; ++t) {
      int64_t n = t / s.K, k = t % s.K;
      const float *x = X + (n * s.C + k / multiplier) * s.H * s.W;
      const float *w = W + k * s.KH * s.KW;
      float *y = Y + t * plane;
      float rowBias = epi.bias ? epi.bias[k] : 0.f;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
      if (fast3x3) {
        DepthwisePlane p{x, w, rowBias,
                         epi.residual ? epi.residual + t * plane : nullptr, y,
                         padded};
        if (s.sW == 1)
          depthwisePlane3x3Avx2<1>(p, s, epi, ks.epilogueRow);
        else
          depthwisePlane3x3Avx2<2>(p, s, epi, ks.epilogueRow);
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
            epi.residual ? epi.residual + t * plane + oh * s.OW : nullptr;
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
