//===- SparseBench.cpp - Sparse vs dense matmul benchmark -----------------===//
//
// Times sparq_uk_sparse_matmul_f32 against the dense sparq_uk_matmul_f32
// (constant, cached B) on the linear layers of an MLP 256->1024->1024->256
// and a BERT-base 768x768 projection, for batch M = 1, 16, 128, densities
// 50/30/20/10/5 % and the formats CSR, 2x1/4x1/8x1/16x1 blocks and 2:4 (at
// 50 % only), and prints median milliseconds and the dense/sparse ratio. It then
// fits, per format and M, time = overhead + stored MACs / rate by least
// squares over all shapes and densities: the constants of the compiler's
// format-choice cost model. Not part of the unit tests.
// With one thread the calling thread's CPU time is measured, so that the
// fitted constants are not skewed by other load on the machine.
// Usage: sparq-sparse-bench [threads...] [--set=avx512|avx2|generic]
//          [--formats=csr,4x1,...] [--batches=1,16,...] [--dens=0.1,...]
// (default threads: 2 1; default set: the one sparseKernels() picks, which
// SPARQ_SPARSE_ISA=avx2|generic caps; the filters restrict the sweep).
//
//===----------------------------------------------------------------------===//

#include "BenchClock.h"
#include "Model.h"
#include "SparseKernels.h"
#include "SparsePack.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace {

/// With one thread the calling thread's CPU time (see BenchClock.h).
bool benchUseCpuClock = false;

/// Median per-call time over 15 samples of >= 1 ms each.
double medianSeconds(const std::function<void()> &fn) {
  return sparq::bench::medianSeconds(fn, benchUseCpuClock, 1e-3, 15);
}

std::vector<float> benchRandom(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  uint32_t s = seed * 2654435761u + 1;
  for (float &x : v) {
    s = s * 1664525u + 1013904223u;
    x = static_cast<float>(s >> 8) / 16777216.f - 0.5f;
  }
  return v;
}

struct BenchFormat {
  const char *name;
  int kind; // 0 CSR, 1 block R x 1, 2 N:M 2:4
  int64_t r;
};

/// Keeps a fraction `density` of the weights (of the R x 1 blocks for
/// blocks; 2:4 ignores density) and packs them.
std::vector<uint8_t> benchPack(const BenchFormat &f, std::vector<float> w,
                               int64_t N, int64_t K, double density,
                               uint32_t seed) {
  uint32_t s = seed;
  auto keep = [&] {
    s = s * 1664525u + 1013904223u;
    return (s >> 8) < density * 16777216.0;
  };
  if (f.kind == 2) {
    sparq::rt::pruneToNM(w.data(), N, K, 2, 4);
    return sparq::rt::packSparseNM(w.data(), N, K, 2, 4);
  }
  for (int64_t br = 0; br < N / f.r; ++br)
    for (int64_t k = 0; k < K; ++k) {
      if (keep())
        continue;
      for (int64_t r = 0; r < f.r; ++r)
        w[(br * f.r + r) * K + k] = 0.f;
    }
  if (f.kind == 0)
    return sparq::rt::packSparseCsr(w.data(), N, K);
  return sparq::rt::packSparseBlock(w.data(), N, K, f.r, 1);
}

struct Sample {
  double macs, seconds;
};

/// Least squares seconds = a + macs / rate; returns {a, rate}.
std::pair<double, double> fitLine(const std::vector<Sample> &v) {
  double n = v.size(), sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const Sample &s : v) {
    sx += s.macs;
    sy += s.seconds;
    sxx += s.macs * s.macs;
    sxy += s.macs * s.seconds;
  }
  double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  double a = (sy - slope * sx) / n;
  return {a, 1.0 / slope};
}

} // namespace

/// The comma-separated items of `text`.
std::vector<std::string> benchSplit(const std::string &text) {
  std::vector<std::string> out;
  size_t p = 0;
  while (p <= text.size()) {
    size_t q = text.find(',', p);
    if (q == std::string::npos)
      q = text.size();
    if (q > p)
      out.push_back(text.substr(p, q - p));
    p = q + 1;
  }
  return out;
}

/// True when `filter` is empty or lists `item`.
bool benchSelected(const std::vector<std::string> &filter,
                   const std::string &item) {
  return filter.empty() ||
         std::find(filter.begin(), filter.end(), item) != filter.end();
}

int main(int argc, char **argv) {
  std::vector<int> threadCounts;
  std::vector<std::string> formatFilter, batchFilter, densFilter;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char *prefix) -> const char * {
      size_t n = std::strlen(prefix);
      return arg.compare(0, n, prefix) == 0 ? argv[i] + n : nullptr;
    };
    if (const char *v = value("--set=")) {
      const std::string name = v;
      const sparq::rt::SparseKernelSet *set =
          name == "avx512"    ? sparq::rt::avx512SparseKernelSet()
          : name == "avx2"    ? sparq::rt::avx2SparseKernelSet()
          : name == "generic" ? &sparq::rt::genericSparseKernelSet()
                              : nullptr;
      if (!set) {
        std::fprintf(stderr, "kernel set %s unknown or not supported here\n",
                     v);
        return 1;
      }
      sparq::rt::setSparseKernelsForTesting(set);
    } else if (const char *v = value("--formats=")) {
      formatFilter = benchSplit(v);
    } else if (const char *v = value("--batches=")) {
      batchFilter = benchSplit(v);
    } else if (const char *v = value("--dens=")) {
      densFilter = benchSplit(v);
    } else {
      threadCounts.push_back(std::atoi(argv[i]));
    }
  }
  if (threadCounts.empty())
    threadCounts = {2, 1};
  struct Shape {
    const char *name;
    int64_t N, K;
  };
  const Shape shapes[] = {{"mlp.fc1 1024x256", 1024, 256},
                          {"mlp.fc2 1024x1024", 1024, 1024},
                          {"mlp.fc3 256x1024", 256, 1024},
                          {"bert 768x768", 768, 768}};
  const BenchFormat formats[] = {
      {"csr", 0, 1},   {"2x1", 1, 2},  {"4x1", 1, 4},
      {"8x1", 1, 8},   {"16x1", 1, 16}, {"2:4", 2, 1}};
  const double densities[] = {0.5, 0.3, 0.2, 0.1, 0.05};
  const int64_t batches[] = {1, 16, 128};
  std::printf("sparse kernels: %s\n", sparq::rt::sparseKernels().name);

  for (int threads : threadCounts) {
    sparq_model *m = nullptr;
    sparq::rt::createModel("sparq-signature 1\narena 0\n", nullptr, threads,
                           &m);
    benchUseCpuClock = threads == 1;
    std::printf("\n== threads %d (%s) ==\n", threads,
                benchUseCpuClock ? "thread CPU time" : "wall time");
    std::printf("%-18s %4s %-5s %5s %9s %9s %7s\n", "shape", "M", "fmt",
                "dens", "sparse ms", "dense ms", "d/s");
    std::map<std::string, std::vector<Sample>> fits;
    std::vector<Sample> denseFit[3];
    // MLP totals per (M, format, density): sparse and dense seconds.
    std::map<std::string, std::pair<double, double>> mlp;
    for (const Shape &sh : shapes) {
      const std::vector<float> W = benchRandom(sh.N * sh.K, uint32_t(sh.N + sh.K));
      const std::vector<float> bias = benchRandom(sh.N, 3);
      for (int bi = 0; bi < 3; ++bi) {
        const int64_t M = batches[bi];
        if (!benchSelected(batchFilter, std::to_string(M)))
          continue;
        const std::vector<float> X = benchRandom(M * sh.K, 5);
        std::vector<float> Y(M * sh.N);
        const double dense = medianSeconds([&] {
          sparq_uk_matmul_f32(m, X.data(), W.data(), bias.data(), nullptr,
                              Y.data(), 1, M, sh.N, sh.K, 0, 0, 0, 1,
                              SPARQ_UK_CONST_WEIGHTS, 1, 0.f, 0.f);
        });
        denseFit[bi].push_back({double(M) * sh.N * sh.K, dense});
        for (const BenchFormat &f : formats)
          for (double d : densities) {
            if (f.kind == 2 && d != 0.5)
              continue;
            char densText[16];
            std::snprintf(densText, sizeof densText, "%g", d);
            if (!benchSelected(formatFilter, f.name) ||
                (f.kind != 2 && !benchSelected(densFilter, densText)))
              continue;
            std::vector<uint8_t> blob =
                benchPack(f, W, sh.N, sh.K, d, uint32_t(d * 1000) + 17);
            sparq::rt::SparseMatrix view;
            if (!sparq::rt::readSparseBlob(blob.data(), view)) {
              std::printf("pack failed\n");
              return 1;
            }
            const double sparse = medianSeconds([&] {
              sparq_uk_sparse_matmul_f32(m, blob.data(), X.data(), bias.data(),
                                         nullptr, Y.data(), M, 1, 0.f, 0.f);
            });
            std::printf("%-18s %4lld %-5s %4.0f%% %9.4f %9.4f %6.2fx\n",
                        sh.name, (long long)M, f.name, d * 100, sparse * 1e3,
                        dense * 1e3, dense / sparse);
            fits[std::string(f.name) + " M=" + std::to_string(M)].push_back(
                {double(view.nnz) * M, sparse});
            if (sh.K == 256 || (sh.N == 1024 && sh.K == 1024) ||
                (sh.N == 256 && sh.K == 1024)) {
              char key[64];
              std::snprintf(key, sizeof key, "M=%-4lld %-5s %3.0f%%",
                            (long long)M, f.name, d * 100);
              mlp[key].first += sparse;
              mlp[key].second += dense;
            }
          }
      }
    }
    std::printf("\nMLP 256->1024->1024->256 (sum of the 3 layers):\n");
    for (const auto &e : mlp)
      std::printf("  %s  sparse %8.4f ms  dense %8.4f ms  %6.2fx\n",
                  e.first.c_str(), e.second.first * 1e3,
                  e.second.second * 1e3, e.second.second / e.second.first);
    std::printf("\nfit: seconds = overhead + stored_MACs / rate "
                "(stored_MACs = stored values * M)\n");
    for (const auto &e : fits) {
      if (e.second.size() < 2)
        continue;
      auto [a, rate] = fitLine(e.second);
      std::printf("  %-12s rate %7.2f MAC/ns  overhead %7.2f us\n",
                  e.first.c_str(), rate * 1e-9, a * 1e6);
    }
    for (int bi = 0; bi < 3; ++bi) {
      if (denseFit[bi].size() < 2)
        continue;
      auto [a, rate] = fitLine(denseFit[bi]);
      std::printf("  dense M=%-4lld rate %7.2f MAC/ns  overhead %7.2f us\n",
                  (long long)batches[bi], rate * 1e-9, a * 1e6);
    }
    sparq_model_destroy(m);
  }
  return 0;
}
