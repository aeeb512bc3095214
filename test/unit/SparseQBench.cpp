//===- SparseQBench.cpp - Sparse int8 vs dense int8 vs sparse f32 matmul --===//
//
// Times sparq_uk_sparse_qmatmul_i8 (1 x 4 int8 blocks) against the dense
// int8 kernel sparq_uk_qmatmul_i8 (constant weight, packed and cached) and
// the f32 sparse kernel sparq_uk_sparse_matmul_f32 on the same 1 x 4 block
// pattern, for M = 1, 16, 128 and block densities 50/30/20/10 %, on the
// BERT-base shapes 768 x 768 and 3072 x 768 (N x K), u8 activations and u8
// outputs. Prints median milliseconds and the ratios dense-int8/sparse-int8
// and sparse-f32/sparse-int8 (> 1: sparse int8 is faster), and the density
// at which sparse int8 breaks even with dense int8 per M (linear
// interpolation between the measured densities, plus 70/100 %): the
// constants of the compiler's sparse-int8 cost rule. Not part of the tests.
// With one thread the calling thread's CPU time is measured.
// --conv times the 1x1 convolutions of MobileNetV2 instead
// (sparq_uk_sparse_qconv2d_i8 vs sparq_uk_qconv2d_i8).
// Usage: sparq-sparseq-bench [threads] [--isa=generic|avx2|avx512vnni]
//          [--batches=1,16,128] [--dens=0.5,0.3,...] [--conv]
//
//===----------------------------------------------------------------------===//

#include "BenchClock.h"
#include "Model.h"
#include "QGemm.h"
#include "SparsePack.h"

#include "sparq/Runtime/sparq_runtime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

namespace {

/// With one thread, the calling thread's CPU time (see BenchClock.h).
bool sqbCpuClock = false;

/// Median per-call seconds over 11 samples of >= 2 ms.
double sqbMedian(const std::function<void()> &fn) {
  return sparq::bench::medianSeconds(fn, sqbCpuClock, 2e-3, 11);
}

std::vector<double> sqbList(const char *s) {
  std::vector<double> v;
  while (*s) {
    v.push_back(std::atof(s));
    const char *c = std::strchr(s, ',');
    if (!c)
      break;
    s = c + 1;
  }
  return v;
}

uint64_t sqbState = 12345;
uint32_t sqbRand() {
  sqbState = sqbState * 6364136223846793005ULL + 1442695040888963407ULL;
  return static_cast<uint32_t>(sqbState >> 33);
}

/// 1x1 convolutions of MobileNetV2 (C, K, H, stride): the sparse int8
/// kernel against the dense int8 one (constant weight), u8 in and out.
int benchConvs(int threads, const std::vector<double> &dens) {
  sqbCpuClock = threads == 1;
  sparq_model *model = nullptr;
  sparq::rt::createModel("sparq-signature 1\narena 0\n", nullptr, threads,
                         &model);
  std::printf("isa %s, %d thread(s), 1x1 convs; ms (medians)\n",
              sparq::rt::qIsaName(sparq::rt::activeQIsa()), threads);
  std::printf("%-18s %5s %10s %10s %9s\n", "CxK@HxW", "dens", "sp-int8",
              "dense-int8", "dense/sp");
  const int64_t shapes[][4] = {
      {32, 16, 112, 1}, {16, 96, 112, 1}, {96, 24, 56, 1},  {24, 144, 56, 1},
      {144, 24, 56, 1}, {192, 32, 28, 1}, {384, 64, 14, 1}, {576, 96, 14, 1},
      {960, 160, 7, 1}, {320, 1280, 7, 1}};
  for (auto &sh : shapes) {
    const int64_t C = sh[0], K = sh[1], H = sh[2];
    std::vector<uint8_t> X(C * H * H), Y(K * H * H);
    for (auto &x : X)
      x = static_cast<uint8_t>(sqbRand());
    std::vector<float> scale(K, 0.001f);
    std::vector<int32_t> bias(K, 7);
    uint8_t xZero = 100;
    int8_t wZero = 0;
    for (double d : dens) {
      std::vector<int8_t> w(K * C, 0);
      for (int64_t r = 0; r < K; ++r)
        for (int64_t b = 0; b < C / 4; ++b)
          if (sqbRand() % 10000 < d * 10000)
            for (int t = 0; t < 4; ++t)
              w[r * C + 4 * b + t] =
                  static_cast<int8_t>(sqbRand() % 255 - 127) | 1;
      std::vector<uint8_t> blob = sparq::rt::packSparseBlockI8(w.data(), K, C);
      double tSparse = sqbMedian([&] {
        sparq_uk_sparse_qconv2d_i8(model, blob.data(), X.data(), Y.data(), 1, C,
                                   H, H, H, H, 1, 1, SPARQ_QTYPE_U8, &xZero,
                                   SPARQ_QOUT_U8, bias.data(), scale.data(), 1,
                                   nullptr, 3, 0, 255, 0, 0.f, 0.f);
      });
      double tDense = sqbMedian([&] {
        sparq_uk_qconv2d_i8(model, X.data(), w.data(), Y.data(), 1, C, H, H, K,
                            H, H, 1, 1, 1, 1, 0, 0, 1, 1, 1, SPARQ_QTYPE_U8,
                            SPARQ_QTYPE_S8, &xZero, &wZero, 0, SPARQ_QOUT_U8,
                            bias.data(), scale.data(), 1, nullptr, 3, 0, 255, 0,
                            0.f, 0.f, SPARQ_UK_CONST_WEIGHTS);
      });
      std::printf("%4ldx%-4ld@%3ldx%-3ld %4.0f%% %10.4f %10.4f %9.2f\n",
                  (long)C, (long)K, (long)H, (long)H, d * 100, tSparse * 1e3,
                  tDense * 1e3, tDense / tSparse);
    }
  }
  sparq_model_destroy(model);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  int threads = 1;
  bool convMode = false;
  std::vector<double> batches = {1, 16, 128};
  std::vector<double> dens = {0.5, 0.3, 0.2, 0.1};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--isa=", 0) == 0) {
      for (int q = 0; q < 3; ++q)
        if (a.substr(6) == sparq::rt::qIsaName(static_cast<sparq::rt::QIsa>(q)))
          sparq::rt::setQIsaOverride(q);
    } else if (a.rfind("--batches=", 0) == 0) {
      batches = sqbList(a.c_str() + 10);
    } else if (a == "--conv") {
      convMode = true;
    } else if (a.rfind("--dens=", 0) == 0) {
      dens = sqbList(a.c_str() + 7);
    } else {
      threads = std::atoi(a.c_str());
    }
  }
  if (convMode)
    return benchConvs(threads, dens);
  sqbCpuClock = threads == 1;
  sparq_model *model = nullptr;
  sparq::rt::createModel("sparq-signature 1\narena 0\n", nullptr, threads,
                         &model);
  std::printf("isa %s, %d thread(s); times in ms (medians)\n",
              sparq::rt::qIsaName(sparq::rt::activeQIsa()), threads);
  std::printf("%-10s %4s %5s %10s %10s %10s %9s %9s\n", "NxK", "M", "dens",
              "sp-int8", "dense-int8", "sp-f32", "dense/sp", "f32/sp");
  const int64_t shapes[][2] = {{768, 768}, {3072, 768}};
  for (auto &shape : shapes) {
    const int64_t N = shape[0], K = shape[1];
    for (double mD : batches) {
      const int64_t M = static_cast<int64_t>(mD);
      std::vector<uint8_t> A(M * K);
      for (auto &a : A)
        a = static_cast<uint8_t>(sqbRand());
      std::vector<float> Af(M * K);
      for (int64_t i = 0; i < M * K; ++i)
        Af[i] = A[i] / 255.f;
      std::vector<uint8_t> C(M * N);
      std::vector<float> Cf(M * N);
      std::vector<float> scale(N, 0.001f);
      uint8_t zp = 128, outZero = 3;
      std::vector<double> measured; // (density, ratio) pairs
      std::vector<double> sweep = dens;
      sweep.push_back(0.7);
      sweep.push_back(1.0);
      for (double d : sweep) {
        std::vector<int8_t> w(N * K, 0);
        for (int64_t r = 0; r < N; ++r)
          for (int64_t b = 0; b < K / 4; ++b)
            if (sqbRand() % 10000 < d * 10000)
              for (int t = 0; t < 4; ++t)
                w[r * K + 4 * b + t] =
                    static_cast<int8_t>(sqbRand() % 255 - 127) | 1;
        std::vector<uint8_t> blob =
            sparq::rt::packSparseBlockI8(w.data(), N, K);
        std::vector<float> wf(N * K);
        for (int64_t i = 0; i < N * K; ++i)
          wf[i] = w[i] * 0.01f;
        std::vector<uint8_t> blobF =
            sparq::rt::packSparseBlock(wf.data(), N, K, 1, 4);
        double tSparse = sqbMedian([&] {
          sparq_uk_sparse_qmatmul_i8(model, blob.data(), A.data(), C.data(), M,
                                     SPARQ_QTYPE_U8, &zp, SPARQ_QOUT_U8,
                                     nullptr, scale.data(), 1, nullptr, outZero,
                                     0, 255, 0, 0.f, 0.f);
        });
        double tDense = sqbMedian([&] {
          sparq_uk_qmatmul_i8(model, A.data(), w.data(), C.data(), 1, M, N, K,
                              0, 0, 0, /*transB=*/1, SPARQ_QTYPE_U8,
                              SPARQ_QTYPE_S8, &zp, 0, nullptr, 0, SPARQ_QOUT_U8,
                              nullptr, scale.data(), 1, nullptr, outZero, 0,
                              255, 0, 0.f, 0.f, SPARQ_UK_CONST_WEIGHTS);
        });
        double tF32 = sqbMedian([&] {
          sparq_uk_sparse_matmul_f32(model, blobF.data(), Af.data(), nullptr,
                                     nullptr, Cf.data(), M, 0, 0.f, 0.f);
        });
        bool inSweep = std::find(dens.begin(), dens.end(), d) != dens.end();
        if (inSweep || d == 1.0 || d == 0.7)
          std::printf(
              "%4ldx%-5ld %4ld %4.0f%% %10.4f %10.4f %10.4f %9.2f %9.2f\n",
              (long)N, (long)K, (long)M, d * 100, tSparse * 1e3, tDense * 1e3,
              tF32 * 1e3, tDense / tSparse, tF32 / tSparse);
        measured.push_back(d);
        measured.push_back(tDense / tSparse);
      }
      // Break-even: the highest density whose ratio is >= 1, interpolated
      // toward the next measured one.
      std::vector<std::pair<double, double>> pts;
      for (size_t i = 0; i < measured.size(); i += 2)
        pts.push_back({measured[i], measured[i + 1]});
      std::sort(pts.begin(), pts.end());
      double even = 0;
      for (size_t i = 0; i < pts.size(); ++i) {
        if (pts[i].second < 1.0)
          break;
        even = pts[i].first;
        if (i + 1 < pts.size() && pts[i + 1].second < 1.0) {
          double r0 = pts[i].second, r1 = pts[i + 1].second;
          even = pts[i].first +
                 (pts[i + 1].first - pts[i].first) * (r0 - 1.0) / (r0 - r1);
        }
      }
      std::printf("%4ldx%-5ld %4ld break-even density %.0f%%\n", (long)N,
                  (long)K, (long)M, even * 100);
    }
  }
  sparq_model_destroy(model);
  return 0;
}
