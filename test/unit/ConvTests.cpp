//===- ConvTests.cpp - Unit tests of the conv2d micro-kernel --------------===//
//
// Checks sparq_uk_conv2d_f32 against a direct double-precision convolution
// for all three strategies (depthwise, pointwise GEMM, implicit im2col), with
// groups, strides, asymmetric padding, dilations, bias, residual and relu.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"
#include "WinogradConv.h"

using namespace sparq::unit;

namespace {

struct ConvCase {
  int64_t N, C, H, W, K, KH, KW, sH, sW, pT, pL, pB, pR, dH, dW, groups;
  bool bias, residual, constW;
  int act;
  float actA = 0.f, actB = 0.f;
};

void runConvCase(sparq_model *model, const ConvCase &c, int threads) {
  int64_t OH = (c.H + c.pT + c.pB - c.dH * (c.KH - 1) - 1) / c.sH + 1;
  int64_t OW = (c.W + c.pL + c.pR - c.dW * (c.KW - 1) - 1) / c.sW + 1;
  int64_t cg = c.C / c.groups, kg = c.K / c.groups;
  std::vector<float> X(c.N * c.C * c.H * c.W), Wt(c.K * cg * c.KH * c.KW);
  std::vector<float> bias(c.K), residual(c.N * c.K * OH * OW);
  std::vector<float> Y(residual.size(), -777.f);
  fillRandom(X, 21 + c.C);
  fillRandom(Wt, 22 + c.K);
  fillRandom(bias, 23);
  fillRandom(residual, 24);
  std::vector<double> ref(Y.size()), scale(Y.size());
  for (int64_t n = 0; n < c.N; ++n)
    for (int64_t k = 0; k < c.K; ++k) {
      int64_t g = k / kg;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double acc = 0, mag = 0;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t kh = 0; kh < c.KH; ++kh)
              for (int64_t kw = 0; kw < c.KW; ++kw) {
                int64_t ih = oh * c.sH - c.pT + kh * c.dH;
                int64_t iw = ow * c.sW - c.pL + kw * c.dW;
                if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W)
                  continue;
                double x = X[((n * c.C + g * cg + ci) * c.H + ih) * c.W + iw];
                double w = Wt[((k * cg + ci) * c.KH + kh) * c.KW + kw];
                acc += x * w;
                mag += std::fabs(x * w);
              }
          size_t o = ((n * c.K + k) * OH + oh) * OW + ow;
          if (c.bias)
            acc += bias[k], mag += std::fabs(bias[k]);
          if (c.residual)
            acc += residual[o], mag += std::fabs(residual[o]);
          ref[o] = referenceActivation(acc, c.act, c.actA, c.actB);
          scale[o] = mag;
        }
    }
  for (int rep = 0; rep < (c.constW ? 2 : 1); ++rep) {
    std::fill(Y.begin(), Y.end(), -777.f);
    sparq_uk_conv2d_f32(
        model, X.data(), Wt.data(), c.bias ? bias.data() : nullptr,
        c.residual ? residual.data() : nullptr, Y.data(), c.N, c.C, c.H, c.W,
        c.K, OH, OW, c.KH, c.KW, c.sH, c.sW, c.pT, c.pL, c.dH, c.dW, c.groups,
        c.constW ? SPARQ_UK_CONST_WEIGHTS : 0, c.act, c.actA, c.actB);
    char buf[320];
    std::snprintf(
        buf, sizeof(buf),
        "conv t=%d N=%lld C=%lld H=%lld W=%lld K=%lld k=%lldx%lld "
        "s=%lld,%lld pad=%lld,%lld,%lld,%lld dil=%lld,%lld g=%lld "
        "bias=%d res=%d const=%d act=%d call %d",
        threads, (long long)c.N, (long long)c.C, (long long)c.H, (long long)c.W,
        (long long)c.K, (long long)c.KH, (long long)c.KW, (long long)c.sH,
        (long long)c.sW, (long long)c.pT, (long long)c.pL, (long long)c.pB,
        (long long)c.pR, (long long)c.dH, (long long)c.dW, (long long)c.groups,
        c.bias, c.residual, c.constW, c.act, rep + 1);
    checkClose(Y, ref, scale, buf);
  }
}

} // namespace

void sparq::unit::runConvTests(int numThreads) {
  sparq_model *model = createBareModel(numThreads);
  if (!check(model != nullptr, "create bare model for conv"))
    return;
  // N C H W K KH KW sH sW pT pL pB pR dH dW groups bias res const act
  const ConvCase cases[] = {
      {1, 3, 9, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, false, true, 0},
      {2, 8, 10, 7, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, true, true, 1},
      {1, 16, 12, 12, 24, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true, true, true, 1},
      {2, 16, 5, 6, 8, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, false, false, false, 0},
      {1, 16, 12, 12, 32, 1, 1,    2,     2,    0,
       0, 0,  0,  1,  1,  1, true, false, true, 1},
      {1, 3, 23, 23, 8, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1, true, false, true, 1},
      {1, 8, 11, 13, 8, 3, 3, 2, 2, 1, 0, 1, 0, 1, 1, 1, true, true, false, 1},
      {1, 8, 11, 11, 12, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, false, true, true, 0},
      {1, 8, 9, 9, 8, 3, 3, 1, 2, 1, 2, 0, 1, 2, 1, 2, true, false, true, 1},
      {2, 12, 8, 8, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, true, true, true, 0},
      {1, 16, 10, 10, 16, 3,  3,    1,    1,    1,
       1, 1,  1,  1,  1,  16, true, true, true, 1},
      {2, 8, 13, 11, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 8, true, false, false, 1},
      {1, 8, 15, 15, 8, 5, 5, 1, 1, 4, 4, 4, 4, 2, 2, 8, false, true, true, 0},
      {1, 4, 9, 9, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4, true, false, true, 1},
      {1, 64, 14, 14, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, true, true, 1},
      {1, 32, 20, 20, 40, 3, 3,    1,     1,    1,
       1, 1,  1,  1,  1,  1, true, false, true, 1},
      // More output channels than one M block: B (im2col) is packed once
      // and shared by all M blocks.
      {1, 16, 9, 11, 112, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, true, true, 1},
      {1, 8, 12, 12, 200, 1, 1,    1,     1,     0,
       0, 0, 0,  1,  1,   1, true, false, false, 0},
  };
  for (const ConvCase &c : cases)
    runConvCase(model, c, numThreads);

  // Depthwise 3x3 rows wide enough for the vector kernel: stride 1 and 2,
  // mixed strides, channel multiplier 2, pads on any side, N = 2.
  const ConvCase depthwiseCases[] = {
      {2, 24, 37, 41, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 24, true, true, true,
       1},
      {1, 16, 19, 35, 32, 3, 3, 1, 1, 0, 2, 1, 0, 1, 1, 16, true, false, true,
       1},
      {1, 8, 33, 40, 8, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, 8, false, true, true, 0},
      {1, 5, 21, 50, 5, 3, 3, 1, 2, 2, 1, 0, 2, 1, 1, 5, true, true, false, 1},
      {1, 6, 18, 29, 6, 3, 3, 2, 1, 1, 2, 2, 1, 1, 1, 6, true, false, true, 1},
      {1, 4, 3, 17, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 4, true, true, true, 0},
  };
  for (const ConvCase &c : depthwiseCases)
    runConvCase(model, c, numThreads);

  // Depthwise 3x3 on small planes (rows narrower than one vector, partial
  // last vectors), many channels per task, clip / sigmoid / hard-swish
  // epilogues with and without residual, stride 2, N = 2, multiplier 2.
  // N C H W K KH KW sH sW pT pL pB pR dH dW groups bias res const act
  const ConvCase smallDepthwiseCases[] = {
      {1, 96, 7, 7, 96, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 96, true, false, true, 2,
       -0.2f, 0.6f},
      {2, 40, 14, 14, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 40, true, true, true, 2,
       -0.1f, 0.3f},
      {1, 36, 14, 14, 36, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, 36, true, false, true,
       1},
      {1, 24, 15, 13, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 24, false, true, true,
       4},
      {2, 10, 5, 3, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 10, true, true, false, 9},
      {1, 64, 1, 9, 64, 3, 3, 1, 2, 1, 2, 1, 0, 1, 1, 64, true, false, true, 2,
       0.f, 6.f},
      {1, 12, 30, 30, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 12, true, true, true, 6},
  };
  for (const ConvCase &c : smallDepthwiseCases)
    runConvCase(model, c, numThreads);

  // Winograd F(2x2) and F(4x4), forced on shapes the heuristic would not
  // pick: odd and tiny images, asymmetric pads 0..2, N = 2, channel counts
  // off multiples of 8, K from 1 to 70, every epilogue part.
  // N C H W K KH KW sH sW pT pL pB pR dH dW groups bias res const act
  const ConvCase winogradCases[] = {
      {1, 16, 7, 7, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, true, true, 1},
      {1, 5, 5, 9, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, false, true, 1},
      {2, 3, 1, 1, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, true, true, 0},
      {1, 9, 6, 6, 1, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, false, false, true, 0},
      {2, 13, 11, 10, 70, 3, 3, 1, 1, 2, 1, 0, 2, 1, 1, 1, true, true, true, 1},
      {1, 8, 9, 13, 17, 3, 3, 1, 1, 0, 2, 2, 1, 1, 1, 1, false, true, true, 3},
      {2, 20, 14, 14, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, false, true,
       2},
      {1, 24, 23, 19, 40, 3, 3, 1, 1, 1, 0, 1, 2, 1, 1, 1, true, true, true, 1},
      {1, 7, 3, 4, 5, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1, 1, true, true, true, 1},
      {3, 2, 4, 3, 9, 3, 3, 1, 1, 1, 2, 0, 1, 1, 1, 1, false, false, true, 0},
  };
  for (int m : {2, 4}) {
    sparq::rt::setWinogradTileOverride(m);
    for (const ConvCase &c : winogradCases)
      runConvCase(model, c, numThreads);
  }
  sparq::rt::setWinogradTileOverride(-1);
  // Many input channels (several GEMM depth blocks) at F(4x4) accuracy.
  sparq::rt::setWinogradTileOverride(4);
  runConvCase(model,
              {1, 512, 8, 8, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, true,
               true, 1},
              numThreads);
  sparq::rt::setWinogradTileOverride(-1);
  // The heuristic's own choices on ResNet-like shapes.
  runConvCase(model,
              {1, 32, 28, 28, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, true,
               true, 1},
              numThreads);
  runConvCase(model,
              {2, 64, 7, 7, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, true,
               true, 1},
              numThreads);
  sparq_model_destroy(model);
}
