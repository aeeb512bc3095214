//===- QuantBench.cpp - Timings of the integer and n-bit kernels ----------===//
//
// sparq-quant-bench: times sparq_uk_qmatmul_i8 (BERT-base projections),
// sparq_uk_qconv2d_i8 (ResNet-18 layers) on every integer ISA path this CPU
// has, and sparq_uk_matmul_nbits_f32 (LLM-sized GEMVs), each against the
// f32 kernel of the same shape with constant weights (which, for ResNet's
// 3x3 layers, is Winograd). Prints the median ms per call over several
// timing windows, GOPS (2 * MACs / s), and the speedup over f32. Not part
// of the unit-test count.
// Usage: sparq-quant-bench [threads...]   (default: 1 2)
// Environment: SPARQ_QBENCH_FILTER (label substring), SPARQ_QBENCH_ISA,
// SPARQ_QBENCH_SKIP_GENERIC, SPARQ_QBENCH_CPUTIME (thread CPU time).
//
//===----------------------------------------------------------------------===//

#include "Model.h"
#include "QConvKernels.h"
#include "QGemm.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <time.h>
#include <vector>

using sparq::rt::QIsa;

namespace {

/// Median seconds per call of each function over 9 rounds; every round
/// times each function for ~30 ms in turn, so that load from elsewhere on
/// the machine hits all of them alike and the ratios stay meaningful.
std::vector<double>
medianSecondsPerCall(const std::vector<std::function<void()>> &fns) {
  // SPARQ_QBENCH_CPUTIME: the calling thread's CPU time instead of wall
  // time (meaningful at 1 thread only), which time slices given to other
  // processes on a shared machine do not inflate.
  static const bool cpuTime = std::getenv("SPARQ_QBENCH_CPUTIME") != nullptr;
  auto now = [] {
    if (!cpuTime)
      return std::chrono::steady_clock::now();
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::steady_clock::time_point(
        std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
  };
  std::vector<int> reps(fns.size(), 1);
  for (size_t f = 0; f < fns.size(); ++f) {
    fns[f](); // warm-up: fills the weight cache and the scratch
    for (;;) {
      auto t0 = now();
      for (int i = 0; i < reps[f]; ++i)
        fns[f]();
      double s = std::chrono::duration<double>(now() - t0).count();
      if (s >= 0.03 || reps[f] >= (1 << 20))
        break;
      reps[f] *= 2;
    }
  }
  std::vector<std::vector<double>> samples(fns.size());
  for (int round = 0; round < 9; ++round)
    for (size_t f = 0; f < fns.size(); ++f) {
      auto t0 = now();
      for (int i = 0; i < reps[f]; ++i)
        fns[f]();
      samples[f].push_back(std::chrono::duration<double>(now() - t0).count() /
                           reps[f]);
    }
  std::vector<double> out;
  for (auto &v : samples) {
    std::sort(v.begin(), v.end());
    out.push_back(v[v.size() / 2]);
  }
  return out;
}

/// Runs `isa`'s path inside fn.
std::function<void()> onIsa(QIsa isa, std::function<void()> fn) {
  return [isa, fn] {
    sparq::rt::setQIsaOverride(static_cast<int>(isa));
    fn();
    sparq::rt::setQIsaOverride(-1);
  };
}

/// The calls one row times: the f32 kernel, then `kernel` on each ISA path.
std::vector<std::function<void()>>
timedCalls(const std::function<void()> &f32, const std::vector<QIsa> &isas,
           const std::function<void()> &kernel) {
  std::vector<std::function<void()>> fns = {f32};
  for (QIsa isa : isas)
    fns.push_back(onIsa(isa, kernel));
  return fns;
}

/// Whether SPARQ_QBENCH_FILTER (a substring of the label) selects label.
bool selected(const char *label) {
  const char *f = std::getenv("SPARQ_QBENCH_FILTER");
  return !f || std::strstr(label, f);
}

std::vector<uint8_t> randomBytes(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  for (auto &x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = static_cast<uint8_t>(seed >> 24);
  }
  return v;
}

std::vector<float> randomFloats(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  for (auto &x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = static_cast<float>(seed >> 8) / 16777216.f - 0.5f;
  }
  return v;
}

std::vector<QIsa> availableIsas() {
  std::vector<QIsa> out;
  for (QIsa q : {QIsa::Generic, QIsa::Avx2, QIsa::Avx512Vnni})
    if (sparq::rt::qkernelSet(q))
      out.push_back(q);
  return out;
}

/// Prints one row: f32 time, then each ISA's time, GOPS and speedup.
void report(const char *label, int threads, double ops,
            const std::vector<QIsa> &isas, const std::vector<double> &times) {
  double f32s = times[0];
  std::printf("%-30s %2d  f32 %7.3f ms %6.1f GOPS", label, threads, f32s * 1e3,
              ops / f32s * 1e-9);
  for (size_t i = 0; i < isas.size(); ++i)
    std::printf(" | %s %7.3f ms %6.1f GOPS x%.2f", sparq::rt::qIsaName(isas[i]),
                times[i + 1] * 1e3, ops / times[i + 1] * 1e-9,
                f32s / times[i + 1]);
  std::printf("\n");
  std::fflush(stdout);
}

/// The ISA paths to time: all the CPU has, without generic when
/// SPARQ_QBENCH_SKIP_GENERIC is set, or only SPARQ_QBENCH_ISA.
std::vector<QIsa> benchIsas(bool skipGeneric) {
  const char *only = std::getenv("SPARQ_QBENCH_ISA");
  std::vector<QIsa> out;
  for (QIsa isa : availableIsas())
    if (!(skipGeneric && isa == QIsa::Generic) &&
        !(only && std::strcmp(only, sparq::rt::qIsaName(isa)) != 0))
      out.push_back(isa);
  return out;
}

void benchQMatmul(sparq_model *m, int threads, const char *label, int64_t M,
                  int64_t N, int64_t K, bool skipGeneric) {
  if (!selected(label))
    return;
  auto A = randomBytes(M * K, 1), B = randomBytes(K * N, 2);
  auto Af = randomFloats(M * K, 3), Bf = randomFloats(K * N, 4);
  std::vector<float> Cf(M * N), scale(N, 0.01f);
  std::vector<int32_t> bias(N, 7);
  std::vector<uint8_t> C(M * N);
  uint8_t aZero = 128;
  int8_t bZero = 0;
  std::vector<QIsa> isas = benchIsas(skipGeneric);
  std::vector<std::function<void()>> fns = timedCalls(
      [&] {
        sparq_uk_matmul_f32(m, Af.data(), Bf.data(), nullptr, nullptr,
                            Cf.data(), 1, M, N, K, 0, 0, 0, 0,
                            SPARQ_UK_CONST_WEIGHTS, 0, 0.f, 0.f);
      },
      isas,
      [&] {
        sparq_uk_qmatmul_i8(m, A.data(), B.data(), C.data(), 1, M, N, K, 0, 0,
                            0, 0, SPARQ_QTYPE_U8, SPARQ_QTYPE_S8, &aZero, 0,
                            &bZero, 0, SPARQ_QOUT_U8, bias.data(), scale.data(),
                            0, nullptr, 3, 0, 255, 0, 0.f, 0.f,
                            SPARQ_UK_CONST_WEIGHTS);
      });
  report(label, threads, 2.0 * M * N * K, isas, medianSecondsPerCall(fns));
}

void benchQConv(sparq_model *m, int threads, const char *label, int64_t C,
                int64_t H, int64_t K, int64_t k, int64_t stride,
                bool skipGeneric) {
  if (!selected(label))
    return;
  const int64_t pad = k / 2;
  const int64_t OH = (H + 2 * pad - k) / stride + 1, OW = OH;
  auto X = randomBytes(C * H * H, 5), W = randomBytes(K * C * k * k, 6);
  auto Xf = randomFloats(C * H * H, 7), Wf = randomFloats(K * C * k * k, 8);
  std::vector<float> Yf(K * OH * OW), scale(K, 0.001f), biasF(K, 0.1f);
  std::vector<int32_t> bias(K, 3);
  std::vector<uint8_t> Y(K * OH * OW);
  uint8_t xZero = 100;
  int8_t wZero = 0;
  std::vector<QIsa> isas = benchIsas(skipGeneric);
  std::vector<std::function<void()>> fns = timedCalls(
      [&] {
        sparq_uk_conv2d_f32(m, Xf.data(), Wf.data(), biasF.data(), nullptr,
                            Yf.data(), 1, C, H, H, K, OH, OW, k, k, stride,
                            stride, pad, pad, 1, 1, 1, SPARQ_UK_CONST_WEIGHTS,
                            SPARQ_ACT_RELU, 0.f, 0.f);
      },
      isas,
      [&] {
        sparq_uk_qconv2d_i8(
            m, X.data(), W.data(), Y.data(), 1, C, H, H, K, OH, OW, k, k,
            stride, stride, pad, pad, 1, 1, 1, SPARQ_QTYPE_U8, SPARQ_QTYPE_S8,
            &xZero, &wZero, 0, SPARQ_QOUT_U8, bias.data(), scale.data(), 1,
            nullptr, 0, 0, 255, 0, 0.f, 0.f, SPARQ_UK_CONST_WEIGHTS);
      });
  // The VNNI path once more with the direct kernels forced, with the
  // im2col GEMM (pixels as columns), and with the pixels as GEMM rows.
  const bool vnni = !isas.empty() && isas.back() == QIsa::Avx512Vnni;
  if (vnni) {
    std::function<void()> vnniFn = fns.back();
    struct Mode {
      int direct, directRows, pixelRows;
    };
    for (Mode mode : {Mode{1, 0, -1}, Mode{0, 0, 0}, Mode{0, 0, 1},
                      Mode{-1, 1, -1}})
      fns.push_back([vnniFn, mode] {
        sparq::rt::setQConvDirect(mode.direct);
        sparq::rt::setQConvDirectRows(mode.directRows);
        sparq::rt::setQConvPixelRows(mode.pixelRows);
        vnniFn();
        sparq::rt::setQConvPixelRows(-1);
        sparq::rt::setQConvDirectRows(-1);
        sparq::rt::setQConvDirect(-1);
      });
  }
  const double ops = 2.0 * K * OH * OW * C * k * k;
  std::vector<double> times = medianSecondsPerCall(fns);
  report(label, threads, ops, isas, times);
  if (vnni) {
    const size_t v = times.size() - 5;
    const double dflt = times[v], forced = times[v + 1], off = times[v + 2];
    const double rows = times[v + 3], directRows = times[v + 4];
    std::printf("%-30s %2d  vnni im2col %7.3f ms %6.1f GOPS, direct forced "
                "%7.3f ms, pixel rows %7.3f ms, direct rows %7.3f ms %6.1f "
                "GOPS; time vs im2col: default %.2f, direct %.2f, pixel rows "
                "%.2f, direct rows %.2f\n",
                label, threads, off * 1e3, ops / off * 1e-9, forced * 1e3,
                rows * 1e3, directRows * 1e3, ops / directRows * 1e-9,
                dflt / off, forced / off, rows / off, directRows / off);
  }
}

void benchNBits(sparq_model *m, int threads, const char *label, int64_t M,
                int64_t N, int64_t K, int64_t bits, int64_t block) {
  if (!selected(label))
    return;
  const int64_t nBlocks = (K + block - 1) / block;
  auto W = randomBytes(N * nBlocks * block * bits / 8, 9);
  auto zp = randomBytes(N * ((nBlocks * bits + 7) / 8), 10);
  auto scales = randomFloats(N * nBlocks, 11);
  auto X = randomFloats(M * K, 12), Bf = randomFloats(K * N, 13);
  std::vector<float> Y(M * N);
  // The avx512vnni setting selects the AVX-512 table kernels here.
  std::vector<QIsa> isas = benchIsas(false);
  std::vector<std::function<void()>> fns = timedCalls(
      [&] {
        sparq_uk_matmul_f32(m, X.data(), Bf.data(), nullptr, nullptr, Y.data(),
                            1, M, N, K, 0, 0, 0, 1, SPARQ_UK_CONST_WEIGHTS, 0,
                            0.f, 0.f);
      },
      isas,
      [&] {
        sparq_uk_matmul_nbits_f32(m, X.data(), W.data(), scales.data(),
                                  zp.data(), nullptr, Y.data(), M, N, K, bits,
                                  block, 0, 0.f, 0.f);
      });
  report(label, threads, 2.0 * M * N * K, isas, medianSecondsPerCall(fns));
}

} // namespace

int main(int argc, char **argv) {
  std::vector<int> threadCounts;
  for (int i = 1; i < argc; ++i)
    threadCounts.push_back(std::atoi(argv[i]));
  if (threadCounts.empty())
    threadCounts = {1, 2};
  const bool skipGeneric = std::getenv("SPARQ_QBENCH_SKIP_GENERIC") != nullptr;
  std::printf("integer ISA paths:");
  for (QIsa isa : availableIsas())
    std::printf(" %s", sparq::rt::qIsaName(isa));
  std::printf(" (default %s)\n", sparq::rt::qIsaName(sparq::rt::activeQIsa()));
  for (int t : threadCounts) {
    sparq_model *m = nullptr;
    if (sparq::rt::createModel("sparq-signature 1\narena 0\n", nullptr, t,
                               &m) != SPARQ_OK)
      return 1;
    std::printf("-- qmatmul u8 x s8 -> u8, const B (threads %d)\n", t);
    benchQMatmul(m, t, "M=128 N=768 K=768", 128, 768, 768, skipGeneric);
    benchQMatmul(m, t, "M=128 N=3072 K=768", 128, 3072, 768, skipGeneric);
    benchQMatmul(m, t, "M=128 N=768 K=3072", 128, 768, 3072, skipGeneric);
    std::printf("-- qconv u8 x s8 -> u8, ResNet-18 layers (threads %d)\n", t);
    benchQConv(m, t, "stem C=3 K=64 224x224 7x7 s2", 3, 224, 64, 7, 2,
               skipGeneric);
    benchQConv(m, t, "C=K=64 56x56 3x3", 64, 56, 64, 3, 1, skipGeneric);
    benchQConv(m, t, "C=64 K=128 56x56 3x3 s2", 64, 56, 128, 3, 2,
               skipGeneric);
    benchQConv(m, t, "C=128 K=256 28x28 3x3 s2", 128, 28, 256, 3, 2,
               skipGeneric);
    benchQConv(m, t, "C=256 K=512 14x14 3x3 s2", 256, 14, 512, 3, 2,
               skipGeneric);
    benchQConv(m, t, "C=K=128 28x28 3x3", 128, 28, 128, 3, 1, skipGeneric);
    benchQConv(m, t, "C=K=256 14x14 3x3", 256, 14, 256, 3, 1, skipGeneric);
    benchQConv(m, t, "C=K=512 7x7 3x3", 512, 7, 512, 3, 1, skipGeneric);
    benchQConv(m, t, "C=64 K=128 56x56 1x1 s2", 64, 56, 128, 1, 2, skipGeneric);
    benchQConv(m, t, "C=128 K=256 28x28 1x1 s2", 128, 28, 256, 1, 2,
               skipGeneric);
    benchQConv(m, t, "C=256 K=512 14x14 1x1 s2", 256, 14, 512, 1, 2,
               skipGeneric);
    benchQConv(m, t, "C=K=64 56x56 1x1 s1", 64, 56, 64, 1, 1, skipGeneric);
    std::printf("-- matmul_nbits, f32 X (threads %d)\n", t);
    benchNBits(m, t, "M=1 N=4096 K=4096 4b bs32", 1, 4096, 4096, 4, 32);
    benchNBits(m, t, "M=1 N=4096 K=4096 4b bs128", 1, 4096, 4096, 4, 128);
    benchNBits(m, t, "M=1 N=11008 K=4096 4b bs32", 1, 11008, 4096, 4, 32);
    benchNBits(m, t, "M=1 N=11008 K=4096 4b bs128", 1, 11008, 4096, 4, 128);
    benchNBits(m, t, "M=1 N=4096 K=4096 8b perchan", 1, 4096, 4096, 8, 4096);
    benchNBits(m, t, "M=4 N=4096 K=4096 4b bs32", 4, 4096, 4096, 4, 32);
    benchNBits(m, t, "M=32 N=4096 K=4096 4b bs32", 32, 4096, 4096, 4, 32);
    sparq_model_destroy(m);
  }
  return 0;
}
