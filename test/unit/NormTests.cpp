//===- NormTests.cpp - Unit tests of the layer_norm and softmax rows ------===//
//
// Checks sparq_uk_layer_norm_f32 and sparq_uk_softmax_f32 (softmax and
// log-softmax) against double-precision scalar references written here, on
// every ISA path this CPU has (generic, AVX2, AVX-512): row lengths around
// the vector widths (1, 3, 7, 8, 9, 15, 16, 17, 31, 33, ...), with and
// without gamma/beta, rows offset far from zero (variance stability), softmax
// logits of magnitude 1e4 (overflow safety) and -inf entries, in-place
// calls, and row counts that split across the pool's threads. The vector
// exp is checked in ulps over [-87, 88].
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include "NormKernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

using namespace sparq::unit;
using sparq::rt::NormIsa;

namespace {

const char *normIsaName(NormIsa isa) {
  switch (isa) {
  case NormIsa::Avx2:
    return "avx2";
  case NormIsa::Avx512:
    return "avx512";
  default:
    return "generic";
  }
}

/// Distance in units in the last place of `want` (a double rounded to
/// float's precision).
double ulpError(float got, double want) {
  float w = static_cast<float>(want);
  double ulp = std::nextafter(std::fabs(w), std::numeric_limits<float>::max()) -
               std::fabs(w);
  return std::fabs(static_cast<double>(got) - want) / ulp;
}

std::vector<double> referenceLayerNorm(const std::vector<float> &x,
                                       int64_t rows, int64_t n,
                                       const float *gamma, const float *beta,
                                       double eps) {
  std::vector<double> y(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = x.data() + r * n;
    double mean = 0;
    for (int64_t i = 0; i < n; ++i)
      mean += row[i];
    mean /= n;
    double var = 0;
    for (int64_t i = 0; i < n; ++i)
      var += (row[i] - mean) * (row[i] - mean);
    var /= n;
    for (int64_t i = 0; i < n; ++i) {
      double v = (row[i] - mean) / std::sqrt(var + eps);
      if (gamma)
        v *= gamma[i];
      if (beta)
        v += beta[i];
      y[r * n + i] = v;
    }
  }
  return y;
}

std::vector<double> referenceSoftmax(const std::vector<float> &x,
                                     int64_t rows, int64_t n, bool log) {
  std::vector<double> y(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = x.data() + r * n;
    double max = -INFINITY;
    for (int64_t i = 0; i < n; ++i)
      max = std::max(max, static_cast<double>(row[i]));
    double sum = 0;
    for (int64_t i = 0; i < n; ++i)
      sum += std::exp(row[i] - max);
    for (int64_t i = 0; i < n; ++i)
      y[r * n + i] = log ? row[i] - max - std::log(sum)
                         : std::exp(row[i] - max) / sum;
  }
  return y;
}

/// |got - want| <= rel * |want| + abs for every element; reports the first
/// offender and returns the largest |got - want| / (|want| + 1).
bool checkRows(const std::vector<float> &got, const std::vector<double> &want,
               double rel, double abs, const std::string &what,
               double *worst = nullptr) {
  double w = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double diff = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (std::isinf(want[i]) && got[i] == want[i])
      diff = 0;
    if (!(diff <= rel * std::fabs(want[i]) + abs))
      return check(false, what + ": element " + std::to_string(i) + " got " +
                              std::to_string(got[i]) + " expected " +
                              std::to_string(want[i]));
    w = std::max(w, diff / (std::fabs(want[i]) + 1));
  }
  if (worst)
    *worst = std::max(*worst, w);
  return check(true, what);
}

const int64_t kNormWidths[] = {1,  2,  3,  7,  8,  9,   15,  16,  17,
                               24, 31, 32, 33, 63, 64,  65,  100, 128,
                               255, 256, 257, 768, 1000, 1024};

void layerNormCases(sparq_model *m, const std::string &tag, double &worst) {
  for (int64_t n : kNormWidths) {
    for (int variant = 0; variant < 4; ++variant) {
      const bool withGamma = variant & 1, withBeta = variant & 2;
      // Enough rows for several tasks when the row is narrow.
      const int64_t rows = n < 64 ? 300 : 37;
      std::vector<float> x(rows * n), gamma(n), beta(n);
      fillRandom(x, 11 + n);
      fillRandom(gamma, 12 + n);
      fillRandom(beta, 13 + n);
      // Rows far from zero with a small spread, and a scaled row: the
      // variance must not cancel.
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t i = 0; i < n; ++i) {
          float &v = x[r * n + i];
          if (r % 3 == 1)
            v = 1000.f + v;
          else if (r % 3 == 2)
            v = 1e-3f * v - 50.f;
        }
      const float eps = variant == 3 ? 1e-12f : 1e-5f;
      const float *g = withGamma ? gamma.data() : nullptr;
      const float *b = withBeta ? beta.data() : nullptr;
      std::vector<float> y(x.size(), NAN);
      sparq_uk_layer_norm_f32(m, x.data(), g, b, y.data(), rows, n, eps);
      std::vector<double> want = referenceLayerNorm(x, rows, n, g, b, eps);
      std::string what = "layer_norm " + tag + " n=" + std::to_string(n) +
                         (withGamma ? " gamma" : "") +
                         (withBeta ? " beta" : "");
      // n == 1: the row is its own mean, y = beta exactly.
      checkRows(y, want, 2e-6, 2e-6, what, &worst);
      // In place.
      std::vector<float> inPlace = x;
      sparq_uk_layer_norm_f32(m, inPlace.data(), g, b, inPlace.data(), rows, n,
                              eps);
      check(std::memcmp(inPlace.data(), y.data(), y.size() * 4) == 0,
            what + " in place");
    }
  }
}

void softmaxCases(sparq_model *m, const std::string &tag, double &worst) {
  for (int64_t n : kNormWidths) {
    for (int variant = 0; variant < 3; ++variant) {
      const int64_t rows = n < 64 ? 300 : 37;
      std::vector<float> x(rows * n);
      fillRandom(x, 21 + n);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t i = 0; i < n; ++i) {
          float &v = x[r * n + i];
          if (variant == 1)
            v *= 1e4f; // differences far beyond exp's range
          else if (variant == 2)
            v = 8.f * v + 40.f; // large positive logits
          // A masked position in most rows (never the whole row).
          if (n > 1 && (i * 7 + r) % 5 == 0 && i != r % n)
            v = -INFINITY;
        }
      for (bool log : {false, true}) {
        std::vector<float> y(x.size(), NAN);
        sparq_uk_softmax_f32(m, x.data(), y.data(), rows, n, log ? 1 : 0);
        std::vector<double> want = referenceSoftmax(x, rows, n, log);
        std::string what = std::string(log ? "log_softmax " : "softmax ") +
                           tag + " n=" + std::to_string(n) + " variant " +
                           std::to_string(variant);
        // softmax: a few ulps relative; values below FLT_MIN may flush to 0.
        // log-softmax: absolute in the order of the logits' ulp.
        if (log) {
          double scale = variant == 1 ? 1e4 : 100;
          checkRows(y, want, 2e-6, 2e-6 * scale, what);
        } else {
          checkRows(y, want, 2e-6, 1e-37, what, &worst);
          double total = 0;
          for (int64_t i = 0; i < n; ++i)
            total += y[i];
          check(std::fabs(total - 1) < 1e-5, what + " row sums to 1");
        }
        std::vector<float> inPlace = x;
        sparq_uk_softmax_f32(m, inPlace.data(), inPlace.data(), rows, n,
                             log ? 1 : 0);
        check(std::memcmp(inPlace.data(), y.data(), y.size() * 4) == 0,
              what + " in place");
      }
    }
  }
}

void expCases(const std::string &tag) {
  std::vector<float> x;
  for (double v = -87.0; v <= 88.0; v += 0.0137)
    x.push_back(static_cast<float>(v));
  for (float v : {0.f, -0.f, 1e-30f, -1e-30f, 0.34657f, -0.34657f, 88.f})
    x.push_back(v);
  std::vector<float> y(x.size());
  sparq::rt::normExpForTest(x.data(), y.data(), static_cast<int64_t>(x.size()));
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i)
    worst = std::max(worst, ulpError(y[i], std::exp(static_cast<double>(x[i]))));
  check(worst <= 2.0, "exp " + tag + " within 2 ulp (max " +
                          std::to_string(worst) + ")");
  // Far below the range: 0; -inf: 0; NaN stays NaN.
  float special[4] = {-200.f, -INFINITY, NAN, -1e30f};
  float out[4];
  sparq::rt::normExpForTest(special, out, 4);
  check(out[0] == 0.f && out[1] == 0.f && std::isnan(out[2]) && out[3] == 0.f,
        "exp " + tag + " underflow, -inf and NaN");
}

} // namespace

void sparq::unit::runNormTests(int numThreads) {
  sparq_model *m = createBareModel(numThreads);
  for (NormIsa isa : {NormIsa::Generic, NormIsa::Avx2, NormIsa::Avx512}) {
    if (!sparq::rt::normIsaSupported(isa))
      continue;
    sparq::rt::setNormIsaOverride(static_cast<int>(isa));
    check(sparq::rt::activeNormIsa() == isa, "norm isa override");
    std::string tag = std::string(normIsaName(isa)) + " threads=" +
                      std::to_string(numThreads);
    double lnWorst = 0, smWorst = 0;
    layerNormCases(m, tag, lnWorst);
    softmaxCases(m, tag, smWorst);
    expCases(tag);
    // Without a context the rows run on the caller.
    std::vector<float> x(5 * 40), y(x.size()), y2(x.size());
    fillRandom(x, 99);
    sparq_uk_softmax_f32(m, x.data(), y.data(), 5, 40, 0);
    sparq_uk_softmax_f32(nullptr, x.data(), y2.data(), 5, 40, 0);
    check(y == y2, "softmax " + tag + " without context");
    if (numThreads == 1)
      std::printf("note: norm %s: layer_norm max err %.2e, softmax max err %.2e "
                  "(relative to |ref| + 1)\n",
                  normIsaName(isa), lnWorst, smWorst);
  }
  sparq::rt::setNormIsaOverride(-1);
  sparq_model_destroy(m);
}
