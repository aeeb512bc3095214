//===- PoolTests.cpp - Unit tests of the max-pool kernel ------------------===//
//
// Checks sparq_uk_max_pool2d against a scalar reference written here, on
// every ISA path this CPU has (generic, AVX2), for f32, u8 and s8: random
// shapes (rows narrower and wider than a vector, odd widths), kernels 1..7,
// strides 1..3 (and 9/10), dilations 1..2, asymmetric pads up to windows that
// lie entirely in the padding, floor- and ceil_mode-sized outputs, few and many
// planes (row bands), f32 NaNs, and the ResNet stem pool (3x3, stride 2,
// pad 1 on 64 x 112 x 112). Results must match exactly (f32: equal, or
// NaN where the reference is NaN).
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include "PoolKernels.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace sparq::unit;
using sparq::rt::PoolIsa;

namespace {

struct PoolRng : TestRng {
  explicit PoolRng(uint64_t seed) : TestRng(seed, 99) {}
};

struct PoolCase {
  int64_t N = 1, C = 1, H = 1, W = 1, KH = 1, KW = 1;
  int64_t sH = 1, sW = 1, dH = 1, dW = 1;
  int64_t pT = 0, pL = 0, pB = 0, pR = 0;
  bool ceil = false;
  bool nans = false;
  int64_t OH() const { return outSize(H, KH, sH, dH, pT, pB); }
  int64_t OW() const { return outSize(W, KW, sW, dW, pL, pR); }
  int64_t outSize(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p0,
                  int64_t p1) const {
    int64_t span = in + p0 + p1 - ((k - 1) * d + 1);
    return (ceil ? (span + s - 1) / s : span / s) + 1;
  }
  std::string str() const {
    char buf[200];
    std::snprintf(buf, sizeof(buf),
                  "N%lld C%lld %lldx%lld k%lldx%lld s%lldx%lld d%lldx%lld "
                  "p%lld,%lld,%lld,%lld%s%s",
                  (long long)N, (long long)C, (long long)H, (long long)W,
                  (long long)KH, (long long)KW, (long long)sH, (long long)sW,
                  (long long)dH, (long long)dW, (long long)pT, (long long)pL,
                  (long long)pB, (long long)pR, ceil ? " ceil" : "",
                  nans ? " nan" : "");
    return buf;
  }
};

/// The reference: for each output, the max over the window's taps inside
/// the input, starting from the padding value; any NaN tap gives NaN.
template <typename T>
std::vector<T> referencePool(const PoolCase &c, const std::vector<T> &x,
                             T lowest) {
  int64_t OH = c.OH(), OW = c.OW();
  std::vector<T> y(c.N * c.C * OH * OW);
  for (int64_t p = 0; p < c.N * c.C; ++p)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        T best = lowest;
        bool nan = false;
        for (int64_t kh = 0; kh < c.KH; ++kh)
          for (int64_t kw = 0; kw < c.KW; ++kw) {
            int64_t ih = oh * c.sH - c.pT + kh * c.dH;
            int64_t iw = ow * c.sW - c.pL + kw * c.dW;
            if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W)
              continue;
            T v = x[(p * c.H + ih) * c.W + iw];
            if (v != v)
              nan = true;
            else if (v > best)
              best = v;
          }
        y[(p * OH + oh) * OW + ow] =
            nan ? std::numeric_limits<T>::quiet_NaN() : best;
      }
  return y;
}

template <typename T> bool sameValue(T a, T b) {
  return a == b || (a != a && b != b);
}

template <typename T> void fillPoolInput(std::vector<T> &x, PoolRng &r) {
  for (T &v : x)
    v = static_cast<T>(static_cast<int64_t>(r.next() % 256) +
                       static_cast<int64_t>(std::numeric_limits<T>::min()));
}
template <> void fillPoolInput(std::vector<float> &x, PoolRng &r) {
  for (float &v : x)
    v = static_cast<float>(static_cast<int64_t>(r.next() % 2000001) - 1000000) *
        1e-3f;
}

template <typename T> constexpr int64_t dtypeOf();
template <> constexpr int64_t dtypeOf<float>() { return SPARQ_DTYPE_F32; }
template <> constexpr int64_t dtypeOf<uint8_t>() { return SPARQ_DTYPE_U8; }
template <> constexpr int64_t dtypeOf<int8_t>() { return SPARQ_DTYPE_I8; }

template <typename T>
void runPoolCase(sparq_model *m, const PoolCase &c, PoolRng &r,
                 const std::string &tag, const char *typeName) {
  const T lowest = std::numeric_limits<T>::has_infinity
                       ? -std::numeric_limits<T>::infinity()
                       : std::numeric_limits<T>::lowest();
  std::vector<T> x(c.N * c.C * c.H * c.W);
  fillPoolInput(x, r);
  if constexpr (std::is_same_v<T, float>) {
    if (c.nans)
      for (int64_t i = 0; i < 1 + (int64_t)x.size() / 50; ++i)
        x[r.next() % x.size()] = std::numeric_limits<float>::quiet_NaN();
  }
  std::vector<T> ref = referencePool(c, x, lowest);
  // A sentinel distinguishable from every result, to see unwritten output.
  std::vector<T> y(ref.size(), static_cast<T>(7));
  if constexpr (std::is_same_v<T, float>)
    std::fill(y.begin(), y.end(), 1e30f);
  sparq_uk_max_pool2d(m, x.data(), y.data(), dtypeOf<T>(), c.N, c.C, c.H, c.W,
                      c.OH(), c.OW(), c.KH, c.KW, c.sH, c.sW, c.pT, c.pL, c.dH,
                      c.dW);
  std::string what = "max_pool2d " + tag + " " + typeName + " " + c.str();
  for (size_t i = 0; i < ref.size(); ++i)
    if (!sameValue(y[i], ref[i])) {
      check(false, what + ": element " + std::to_string(i) + " got " +
                       std::to_string((double)y[i]) + " expected " +
                       std::to_string((double)ref[i]));
      return;
    }
  check(true, what);
}

PoolCase randomPoolCase(PoolRng &r, bool wide) {
  PoolCase c;
  for (;;) {
    c.N = r.range(1, 2);
    c.C = r.range(1, 5);
    c.H = r.range(1, 24);
    c.W = wide ? r.range(30, 150) : r.range(1, 40);
    // Mostly 1..4 (each has its own AVX2 loop); sometimes up to 7.
    c.KH = r.range(1, r.next() % 8 == 0 ? 7 : 4);
    c.KW = r.range(1, r.next() % 8 == 0 ? 7 : 4);
    c.sH = r.range(1, 3);
    c.sW = r.range(1, 3);
    c.dH = r.next() % 4 == 0 ? 2 : 1;
    c.dW = r.next() % 4 == 0 ? 2 : 1;
    int64_t effH = (c.KH - 1) * c.dH + 1, effW = (c.KW - 1) * c.dW + 1;
    // Pads up to a whole window, so that border windows can lie entirely
    // in the padding.
    c.pT = r.range(0, effH);
    c.pB = r.range(0, effH);
    c.pL = r.range(0, effW);
    c.pR = r.range(0, effW);
    c.ceil = r.next() % 2;
    c.nans = r.next() % 4 == 0;
    if (c.H + c.pT + c.pB >= effH && c.W + c.pL + c.pR >= effW)
      return c;
  }
}

template <typename T>
void testPoolType(int threads, const std::string &tag, const char *typeName,
                  uint64_t seed) {
  PoolRng r(seed);
  sparq_model *m = createBareModel(threads);
  for (int i = 0; i < 120; ++i)
    runPoolCase<T>(m, randomPoolCase(r, /*wide=*/i % 2 == 1), r, tag, typeName);

  // Windows entirely in the padding at every border.
  PoolCase c;
  c.C = 3;
  c.H = 5;
  c.W = 37;
  c.KH = c.KW = 2;
  c.pT = c.pL = c.pB = c.pR = 2;
  runPoolCase<T>(m, c, r, tag, typeName);
  c.sH = c.sW = 2;
  c.ceil = true;
  runPoolCase<T>(m, c, r, tag, typeName);

  // One plane of many rows: split into row bands.
  c = PoolCase();
  c.H = 97;
  c.W = 71;
  c.KH = c.KW = 3;
  c.sH = c.sW = 2;
  c.pT = c.pL = c.pB = c.pR = 1;
  c.ceil = true;
  runPoolCase<T>(m, c, r, tag, typeName);

  // Strides above 8 (phase pointers on the heap), a large kernel.
  c = PoolCase();
  c.C = 2;
  c.H = 30;
  c.W = 100;
  c.KH = 9;
  c.KW = 11;
  c.sH = 9;
  c.sW = 10;
  c.pT = c.pL = 3;
  c.ceil = true;
  runPoolCase<T>(m, c, r, tag, typeName);

  // The ResNet stem pool.
  c = PoolCase();
  c.C = 64;
  c.H = c.W = 112;
  c.KH = c.KW = 3;
  c.sH = c.sW = 2;
  c.pT = c.pL = c.pB = c.pR = 1;
  runPoolCase<T>(m, c, r, tag, typeName);
  sparq_model_destroy(m);
}

/// Element types the kernel does not handle leave the output untouched.
void testPoolRejects() {
  float x[4] = {1, 2, 3, 4}, y[1] = {-5};
  sparq_uk_max_pool2d(nullptr, x, y, SPARQ_DTYPE_F64, 1, 1, 2, 2, 1, 1, 2, 2, 1,
                      1, 0, 0, 1, 1);
  check(y[0] == -5, "max_pool2d rejects f64");
  sparq_uk_max_pool2d(nullptr, x, y, SPARQ_DTYPE_F32, 1, 1, 2, 2, 1, 1, 2, 2, 0,
                      1, 0, 0, 1, 1);
  check(y[0] == -5, "max_pool2d rejects stride 0");
  sparq_uk_max_pool2d(nullptr, x, y, SPARQ_DTYPE_F32, 1, 1, 2, 2, 1, 1, 2, 2, 1,
                      1, 0, 0, 1, 1);
  check(y[0] == 4, "max_pool2d without ctx");
}

} // namespace

void sparq::unit::runPoolTests(int numThreads) {
  for (PoolIsa isa : {PoolIsa::Generic, PoolIsa::Avx2}) {
    if (!sparq::rt::poolIsaSupported(isa))
      continue;
    sparq::rt::setPoolIsaOverride(static_cast<int>(isa));
    check(sparq::rt::activePoolIsa() == isa, "pool isa override");
    std::string tag = std::string(isa == PoolIsa::Avx2 ? "avx2" : "generic") +
                      " t=" + std::to_string(numThreads);
    uint64_t seed = 31 * static_cast<uint64_t>(isa) + numThreads;
    testPoolType<float>(numThreads, tag, "f32", seed);
    testPoolType<uint8_t>(numThreads, tag, "u8", seed + 1);
    testPoolType<int8_t>(numThreads, tag, "s8", seed + 2);
  }
  sparq::rt::setPoolIsaOverride(-1);
  testPoolRejects();
}
