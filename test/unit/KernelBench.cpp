//===- KernelBench.cpp - GFLOP/s benchmark of the GEMM and conv kernels ---===//
//
// Times sparq_uk_matmul_f32 and sparq_uk_conv2d_f32 on representative shapes
// (square SGEMM, BERT-base projections, ResNet-18 convolutions with each
// 3x3 strategy, MobileNetV2 depthwise layers) with 1 and 2
// threads and prints GFLOP/s. Not part of the unit-test pass/fail count.
// Usage: sparq-kernel-bench [threads...]
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "Model.h"
#include "WinogradConv.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

namespace {

/// Best per-call time over several ~0.1 s windows; the minimum is robust
/// against other load on the machine.
double secondsPerCall(const std::function<void()> &fn) {
  fn(); // warm-up, fills the weight cache
  int reps = 1;
  double best = 1e30;
  for (int window = 0; window < 5;) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i)
      fn();
    double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    if (s < 0.1) {
      reps *= 2;
      continue;
    }
    best = std::min(best, s / reps);
    ++window;
  }
  return best;
}

std::vector<float> randomVector(size_t n) {
  std::vector<float> v(n);
  uint32_t s = 12345;
  for (float &x : v) {
    s = s * 1664525u + 1013904223u;
    x = static_cast<float>(s >> 8) / 16777216.f - 0.5f;
  }
  return v;
}

void benchMatmul(sparq_model *m, const char *label, int64_t M, int64_t N,
                 int64_t K, int64_t transB, int64_t flags, int64_t act) {
  std::vector<float> A = randomVector(M * K), B = randomVector(K * N);
  std::vector<float> bias = randomVector(N), C(M * N);
  double s = secondsPerCall([&] {
    sparq_uk_matmul_f32(m, A.data(), B.data(), bias.data(), nullptr, C.data(),
                        1, M, N, K, 0, 0, 0, transB, flags, act, 0.f, 0.f);
  });
  std::printf("  %-38s %8.3f ms  %7.1f GFLOP/s\n", label, s * 1e3,
              2.0 * M * N * K / s * 1e-9);
}

void benchConv(sparq_model *m, const char *label, int64_t C, int64_t H,
               int64_t K, int64_t R, int64_t stride, int64_t pad,
               int64_t groups) {
  int64_t OH = (H + 2 * pad - R) / stride + 1;
  std::vector<float> X = randomVector(C * H * H);
  std::vector<float> W = randomVector(K * (C / groups) * R * R);
  std::vector<float> bias = randomVector(K), Y(K * OH * OH);
  double s = secondsPerCall([&] {
    sparq_uk_conv2d_f32(m, X.data(), W.data(), bias.data(), nullptr, Y.data(),
                        1, C, H, H, K, OH, OH, R, R, stride, stride, pad, pad,
                        1, 1, groups, SPARQ_UK_CONST_WEIGHTS, 1, 0.f, 0.f);
  });
  double flops = 2.0 * K * OH * OH * (C / groups) * R * R;
  std::printf("  %-38s %8.3f ms  %7.1f GFLOP/s\n", label, s * 1e3,
              flops / s * 1e-9);
}

} // namespace

int main(int argc, char **argv) {
  std::vector<int> threadCounts;
  for (int i = 1; i < argc; ++i)
    threadCounts.push_back(std::atoi(argv[i]));
  if (threadCounts.empty())
    threadCounts = {1, 2};
  std::printf("kernels: %s\n", sparq::rt::kernels().name);
  for (int t : threadCounts) {
    sparq_model *m = nullptr;
    sparq::rt::createModel("sparq-signature 1\narena 0\n", nullptr, t, &m);
    std::printf("threads %d\n", t);
    benchMatmul(m, "sgemm 512^3", 512, 512, 512, 0, 0, 0);
    benchMatmul(m, "sgemm 512^3 const B", 512, 512, 512, 0, 1, 0);
    benchMatmul(m, "sgemm 1024^3 const B", 1024, 1024, 1024, 0, 1, 0);
    benchMatmul(m, "bert 128x768x768 const transB", 128, 768, 768, 1, 1, 0);
    benchMatmul(m, "bert 128x3072x768 gelu", 128, 3072, 768, 1, 1, 6);
    benchMatmul(m, "bert 128x768x3072", 128, 768, 3072, 1, 1, 0);
    benchMatmul(m, "attn 128x128x64 (QK^T)", 128, 128, 64, 1, 0, 0);
    benchMatmul(m, "gemv 1x1000x512 const", 1, 1000, 512, 1, 1, 0);
    benchMatmul(m, "gemv 1x4096x4096", 1, 4096, 4096, 0, 0, 0);
    // ResNet-18 3x3 layers: default choice, then GEMM, F(2x2), F(4x4).
    const char *modes[] = {"auto", "gemm", "wino2", "wino4"};
    const int overrides[] = {-1, 0, 2, 4};
    for (int i = 0; i < 4; ++i) {
      sparq::rt::setWinogradTileOverride(overrides[i]);
      char label[4][64];
      std::snprintf(label[0], 64, "conv 64x56x56 -> 64 3x3 %s", modes[i]);
      std::snprintf(label[1], 64, "conv 128x28x28 -> 128 3x3 %s", modes[i]);
      std::snprintf(label[2], 64, "conv 256x14x14 -> 256 3x3 %s", modes[i]);
      std::snprintf(label[3], 64, "conv 512x7x7 -> 512 3x3 %s", modes[i]);
      benchConv(m, label[0], 64, 56, 64, 3, 1, 1, 1);
      benchConv(m, label[1], 128, 28, 128, 3, 1, 1, 1);
      benchConv(m, label[2], 256, 14, 256, 3, 1, 1, 1);
      benchConv(m, label[3], 512, 7, 512, 3, 1, 1, 1);
    }
    sparq::rt::setWinogradTileOverride(-1);
    benchConv(m, "conv 3x224x224 -> 64 7x7 s2", 3, 224, 64, 7, 2, 3, 1);
    benchConv(m, "conv 64x56x56 -> 128 1x1 s2", 64, 56, 128, 1, 2, 0, 1);
    benchConv(m, "conv 256x14x14 -> 256 1x1", 256, 14, 256, 1, 1, 0, 1);
    benchConv(m, "dwconv 128x56x56 3x3", 128, 56, 128, 3, 1, 1, 128);
    // MobileNetV2 depthwise layers.
    benchConv(m, "dwconv 32x112x112 3x3", 32, 112, 32, 3, 1, 1, 32);
    benchConv(m, "dwconv 96x112x112 3x3 s2", 96, 112, 96, 3, 2, 1, 96);
    benchConv(m, "dwconv 144x56x56 3x3", 144, 56, 144, 3, 1, 1, 144);
    benchConv(m, "dwconv 384x14x14 3x3", 384, 14, 384, 3, 1, 1, 384);
    benchConv(m, "dwconv 960x7x7 3x3", 960, 7, 960, 3, 1, 1, 960);
    sparq_model_destroy(m);
  }
  return 0;
}
