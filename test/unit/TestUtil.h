//===- TestUtil.h - Shared helpers of the runtime unit tests ----*- C++ -*-===//
//
// Deterministic random data, a reference activation in double precision,
// a tolerance check for float results against double references, and the
// creation of a bare execution context for kernel tests.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_TEST_UNIT_TESTUTIL_H
#define SPARQ_TEST_UNIT_TESTUTIL_H

#include "Harness.h"

#include "sparq/Runtime/sparq_runtime.h"

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace sparq {
namespace unit {

/// The deterministic generator of the unit tests' shapes, masks and data
/// (an LCG; `salt` keeps the streams of different test files apart).
struct TestRng {
  uint64_t s;
  explicit TestRng(uint64_t seed, uint64_t salt)
      : s(seed * 0x9E3779B97F4A7C15ULL + salt) {}
  uint64_t next() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return s >> 33;
  }
  int64_t range(int64_t lo, int64_t hi) { // [lo, hi]
    return lo + static_cast<int64_t>(next() % uint64_t(hi - lo + 1));
  }
  float uniform(float lo, float hi) {
    return lo + (hi - lo) * static_cast<float>(next() % 1000000) / 1e6f;
  }
  bool chance(double p) { return (next() % 1000000) < p * 1000000; }
  template <typename T> T pick(std::initializer_list<T> l) {
    return *(l.begin() + next() % l.size());
  }
};

/// Fills v with uniform values in [-1, 1) from a fixed seed.
inline void fillRandom(std::vector<float> &v, uint64_t seed) {
  uint64_t s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  for (float &x : v) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    x = static_cast<float>((s >> 40) * (1.0 / 16777216.0)) * 2.f - 1.f;
  }
}

inline double referenceActivation(double x, int act, double a, double b) {
  switch (act) {
  case 1:
    return x > 0 ? x : 0;
  case 2:
    return x < a ? a : (x > b ? b : x);
  case 3:
    return x >= 0 ? x : a * x;
  case 4:
    return 1 / (1 + std::exp(-x));
  case 5:
    return std::tanh(x);
  case 6:
    return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
  case 7:
    return 0.5 * x *
           (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
  case 8:
    return std::fmax(0, std::fmin(1, a * x + b));
  case 9:
    return x * std::fmax(0, std::fmin(1, x / 6 + 0.5));
  default:
    return x;
  }
}

/// Compares got[i] with ref[i] within 1e-5 of (scale[i] + 1), where scale is
/// the magnitude of the terms summed into the element. Reports the first
/// offending element only.
inline bool checkClose(const std::vector<float> &got,
                       const std::vector<double> &ref,
                       const std::vector<double> &scale,
                       const std::string &what) {
  if (got.size() != ref.size())
    return check(false, what + ": size mismatch");
  for (size_t i = 0; i < got.size(); ++i) {
    double tol = 1e-5 * (scale[i] + 1.0);
    double diff = std::fabs(static_cast<double>(got[i]) - ref[i]);
    if (!(diff <= tol)) {
      return check(false, what + ": element " + std::to_string(i) + " got " +
                              std::to_string(got[i]) + " expected " +
                              std::to_string(ref[i]));
    }
  }
  return check(true, what);
}

/// A model object without a compiled graph, used as kernel context.
sparq_model *createBareModel(int numThreads);

} // namespace unit
} // namespace sparq

#endif // SPARQ_TEST_UNIT_TESTUTIL_H
