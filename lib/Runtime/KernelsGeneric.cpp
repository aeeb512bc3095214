//===- KernelsGeneric.cpp - Portable GEMM and epilogue kernels ------------===//
//
// Plain C++ versions of the kernels declared in Kernels.h. They are used on
// CPUs without AVX2+FMA, and provide the scalar activation shared with the
// vector paths for loop tails. Written so that the compiler's baseline
// auto-vectorizer (SSE2 on x86-64) gets simple, unit-stride loops.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

using namespace sparq::rt;

float sparq::rt::applyActivationScalar(float x, int act, float actA,
                                       float actB) {
  switch (act) {
  case 1:
    return x > 0.f ? x : 0.f;
  case 2:
    return x < actA ? actA : (x > actB ? actB : x);
  case 3:
    return x >= 0.f ? x : actA * x;
  case 4:
    return 1.f / (1.f + std::exp(-x));
  case 5:
    return std::tanh(x);
  case 6:
    return 0.5f * x * (1.f + std::erf(x * 0.70710678118654752f));
  case 7: {
    float inner = 0.79788456080286536f * (x + 0.044715f * x * x * x);
    return 0.5f * x * (1.f + std::tanh(inner));
  }
  case 8: {
    float y = actA * x + actB;
    return y < 0.f ? 0.f : (y > 1.f ? 1.f : y);
  }
  case 9: {
    float y = x * (1.f / 6.f) + 0.5f;
    y = y < 0.f ? 0.f : (y > 1.f ? 1.f : y);
    return x * y;
  }
  default:
    return x;
  }
}

namespace {

/// Columns [0, Cols) of the register tile; Cols is kNR or kNRNarrow.
template <int R, int Cols = kNR>
void microKernelGeneric(int64_t kc, const float *a, const float *b, float *c,
                        int64_t ldc, bool accumulate) {
  float acc[R][Cols] = {};
  for (int64_t k = 0; k < kc; ++k) {
    const float *bk = b + k * kNR;
    const float *ak = a + k * kMR;
    for (int i = 0; i < R; ++i) {
      float av = ak[i];
      for (int j = 0; j < Cols; ++j)
        acc[i][j] += av * bk[j];
    }
  }
  for (int i = 0; i < R; ++i) {
    float *ci = c + i * ldc;
    if (accumulate)
      for (int j = 0; j < Cols; ++j)
        ci[j] += acc[i][j];
    else
      for (int j = 0; j < Cols; ++j)
        ci[j] = acc[i][j];
  }
}

void epilogueRowGeneric(float *c, float rowBias, const float *bias,
                        const float *residual, int64_t n, int act, float actA,
                        float actB);

template <int R, int Cols = kNR>
void microKernelEpiGeneric(int64_t kc, const float *a, const float *b, float *c,
                           int64_t ldc, bool accumulate,
                           const TileEpilogue &epi) {
  microKernelGeneric<R, Cols>(kc, a, b, c, ldc, accumulate);
  for (int i = 0; i < R; ++i)
    epilogueRowGeneric(
        c + i * ldc, epi.rowBias ? epi.rowBias[i] : 0.f, epi.colBias,
        epi.residual ? epi.residual + i * epi.residualLd : nullptr, Cols,
        epi.act, epi.actA, epi.actB);
}

void epilogueRowGeneric(float *c, float rowBias, const float *bias,
                        const float *residual, int64_t n, int act, float actA,
                        float actB) {
  if (rowBias != 0.f)
    for (int64_t j = 0; j < n; ++j)
      c[j] += rowBias;
  if (bias)
    for (int64_t j = 0; j < n; ++j)
      c[j] += bias[j];
  if (residual)
    for (int64_t j = 0; j < n; ++j)
      c[j] += residual[j];
  if (act != 0)
    for (int64_t j = 0; j < n; ++j)
      c[j] = applyActivationScalar(c[j], act, actA, actB);
}

void axpyGeneric(float *y, const float *x, float alpha, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    y[i] += alpha * x[i];
}

float dotGeneric(const float *x, const float *y, int64_t n) {
  float s[4] = {0.f, 0.f, 0.f, 0.f};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int l = 0; l < 4; ++l)
      s[l] += x[i + l] * y[i + l];
  for (; i < n; ++i)
    s[0] += x[i] * y[i];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

} // namespace

const KernelSet &sparq::rt::genericKernelSet() {
  static const KernelSet set = {
      {nullptr, microKernelGeneric<1>, microKernelGeneric<2>,
       microKernelGeneric<3>, microKernelGeneric<4>, microKernelGeneric<5>,
       microKernelGeneric<6>},
      {nullptr, microKernelEpiGeneric<1>, microKernelEpiGeneric<2>,
       microKernelEpiGeneric<3>, microKernelEpiGeneric<4>,
       microKernelEpiGeneric<5>, microKernelEpiGeneric<6>},
      {nullptr, microKernelGeneric<1, kNRNarrow>,
       microKernelGeneric<2, kNRNarrow>, microKernelGeneric<3, kNRNarrow>,
       microKernelGeneric<4, kNRNarrow>, microKernelGeneric<5, kNRNarrow>,
       microKernelGeneric<6, kNRNarrow>},
      {nullptr, microKernelEpiGeneric<1, kNRNarrow>,
       microKernelEpiGeneric<2, kNRNarrow>, microKernelEpiGeneric<3, kNRNarrow>,
       microKernelEpiGeneric<4, kNRNarrow>, microKernelEpiGeneric<5, kNRNarrow>,
       microKernelEpiGeneric<6, kNRNarrow>},
      epilogueRowGeneric,
      axpyGeneric,
      dotGeneric,
      "generic"};
  return set;
}

const KernelSet &sparq::rt::kernels() {
  static const KernelSet *chosen = [] {
    const KernelSet *avx2 = avx2KernelSet();
    return avx2 ? avx2 : &genericKernelSet();
  }();
  return *chosen;
}

bool sparq::rt::genericKernelsForced() {
  static const bool forced = [] {
    const char *v = std::getenv("SPARQ_KERNELS");
    return v && std::strcmp(v, "generic") == 0;
  }();
  return forced;
}
