//===- QuantKernelTests.cpp - Unit tests of the integer kernels -----------===//
//
// Checks sparq_uk_qmatmul_i8, sparq_uk_qconv2d_i8 and
// sparq_uk_matmul_nbits_f32 against scalar references written here, on
// every ISA path of the integer kernels this CPU has (generic, AVX2,
// AVX-512 VNNI): random shapes with odd M/N/K and K not a multiple of
// 4/16/32, every u8/s8 combination, scalar and per-row/per-column zero
// points, every output kind with and without biases, narrowed clamps,
// rounding ties, batch strides of 0, transposed B, constant (cached) and
// per-call B; convolutions with padding, strides, dilations, groups and
// depthwise layers; n-bit weights of 4 and 8 bits with and without zero
// points and blocks that do not divide K. Integer outputs must match
// exactly; f32 outputs within 1e-5 of the summed magnitudes.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include "QConvKernels.h"
#include "QGemm.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace sparq::unit;
using sparq::rt::QIsa;

namespace {

struct QRng : TestRng {
  explicit QRng(uint64_t seed) : TestRng(seed, 12345) {}
};

int64_t elemValue(const uint8_t *p, int64_t type, int64_t i) {
  return type == SPARQ_QTYPE_S8 ? static_cast<int8_t>(p[i]) : p[i];
}

/// The documented output stage, computed independently of the runtime.
struct QOutSpec {
  int64_t outKind = SPARQ_QOUT_I32;
  bool biasI32 = false, biasF32 = false, perChan = false;
  int64_t outZero = 0, qmin = 0, qmax = 0;
  int act = 0;
  float actA = 0.f, actB = 0.f;
  std::vector<int32_t> bI;
  std::vector<float> scale, bF;

  void randomize(QRng &r, int64_t channels, double accMagnitude,
                 int64_t forceOutKind = -1) {
    outKind = forceOutKind >= 0 ? forceOutKind : r.range(0, 3);
    biasI32 = r.range(0, 1);
    biasF32 = r.range(0, 1);
    perChan = r.range(0, 1);
    bI.resize(channels);
    for (auto &v : bI)
      v = static_cast<int32_t>(r.range(-5000, 5000));
    int64_t ns = perChan ? channels : 1;
    scale.resize(ns);
    bF.resize(ns);
    // Scales that spread the outputs over the storage range; sometimes an
    // exact power of two, so ties (x.5) occur and must round to even.
    bool ties = r.range(0, 3) == 0;
    for (auto &v : scale)
      v = ties ? r.pick({0.5f, 0.25f, 0.125f})
               : static_cast<float>(r.uniform(0.3f, 1.5f) * 120.0 /
                                    (accMagnitude + 1.0));
    for (auto &v : bF)
      v = r.uniform(-1.f, 1.f);
    if (outKind == SPARQ_QOUT_U8) {
      outZero = r.range(0, 255);
      qmin = r.range(0, 1) ? outZero : 0; // a fused Relu narrows qmin
      qmax = r.range(0, 1) ? 255 : r.range(std::max<int64_t>(qmin, 128), 255);
    } else if (outKind == SPARQ_QOUT_S8) {
      outZero = r.range(-128, 127);
      qmin = r.range(0, 1) ? -128 : r.range(-128, outZero);
      qmax = r.range(0, 1) ? 127 : r.range(outZero, 127);
    }
    act = outKind == SPARQ_QOUT_F32 ? static_cast<int>(r.range(0, 9)) : 0;
    actA = act == 2 ? -0.5f : (act == 8 ? 0.2f : 0.1f);
    actB = act == 2 ? 0.7f : (act == 8 ? 0.5f : 0.f);
  }

  int64_t elemSize() const { return outKind <= SPARQ_QOUT_F32 ? 4 : 1; }

  /// Checks output element `o` of channel `ch` against exact acc.
  bool matches(const void *out, int64_t o, int64_t ch, int64_t acc, double mag,
               std::string &why) const {
    int64_t v = acc + (biasI32 ? bI[ch] : 0);
    int64_t sc = perChan ? ch : 0;
    char buf[160];
    switch (outKind) {
    case SPARQ_QOUT_I32: {
      int32_t got = static_cast<const int32_t *>(out)[o];
      if (got == static_cast<int32_t>(v))
        return true;
      std::snprintf(buf, sizeof(buf), "i32 got %d expected %lld", got,
                    (long long)v);
      break;
    }
    case SPARQ_QOUT_F32: {
      float got = static_cast<const float *>(out)[o];
      double x = static_cast<double>(static_cast<float>(v)) * scale[sc] +
                 (biasF32 ? bF[sc] : 0.0);
      double ref = referenceActivation(x, act, actA, actB);
      double tol = 1e-5 * (std::fabs(x) + 1.0);
      if (std::fabs(got - ref) <= tol)
        return true;
      std::snprintf(buf, sizeof(buf), "f32 got %.9g expected %.9g", got, ref);
      break;
    }
    default: {
      float f = static_cast<float>(v) * scale[sc];
      int64_t q = std::lrint(f) + outZero; // default mode: half to even
      q = std::min(qmax, std::max(qmin, q));
      int64_t got = outKind == SPARQ_QOUT_U8
                        ? static_cast<const uint8_t *>(out)[o]
                        : static_cast<const int8_t *>(out)[o];
      if (got == q)
        return true;
      std::snprintf(buf, sizeof(buf), "q got %lld expected %lld (acc %lld)",
                    (long long)got, (long long)q, (long long)v);
      break;
    }
    }
    why = buf;
    (void)mag;
    return false;
  }
};

std::string outDesc(const QOutSpec &o) {
  return " out=" + std::to_string(o.outKind) +
         " bI=" + std::to_string(o.biasI32) +
         " bF=" + std::to_string(o.biasF32) +
         " perChan=" + std::to_string(o.perChan) +
         " zp=" + std::to_string(o.outZero) + " q=[" + std::to_string(o.qmin) +
         "," + std::to_string(o.qmax) + "] act=" + std::to_string(o.act);
}

struct QMatmulCase {
  int64_t batch = 1, M = 1, N = 1, K = 1;
  bool transB = false, constB = false, strideA0 = false, strideB0 = false;
  int64_t aType = 0, bType = 0;
  bool aZeroPerRow = false, bZeroPerCol = false, noZero = false;
  int64_t outKind = -1; ///< random when negative
};

void runQMatmulCase(void *ctx, const QMatmulCase &c, QRng &r,
                    const std::string &tag, int calls = 1) {
  const int64_t sA = c.strideA0 ? 0 : c.M * c.K;
  const int64_t sB = c.strideB0 ? 0 : c.K * c.N;
  const int64_t sC = c.M * c.N;
  std::vector<uint8_t> A(
      std::max<int64_t>(1, c.strideA0 ? c.M * c.K : c.batch * sA));
  std::vector<uint8_t> B(
      std::max<int64_t>(1, c.strideB0 ? c.K * c.N : c.batch * sB));
  for (auto &v : A)
    v = static_cast<uint8_t>(r.next());
  for (auto &v : B)
    v = static_cast<uint8_t>(r.next());
  std::vector<uint8_t> aZ(c.M), bZ(c.N);
  for (auto &v : aZ)
    v = c.noZero ? 0 : static_cast<uint8_t>(r.next());
  for (auto &v : bZ)
    v = c.noZero ? 0 : static_cast<uint8_t>(r.next());
  QOutSpec o;
  o.randomize(r, c.N, 128.0 * 64.0 * std::sqrt(double(c.K)), c.outKind);
  std::vector<uint8_t> C(c.batch * sC * o.elemSize() + 1, 0xCD);
  for (int call = 0; call < calls; ++call) {
    std::fill(C.begin(), C.end(), 0xCD);
    sparq_uk_qmatmul_i8(
        ctx, A.data(), B.data(), C.data(), c.batch, c.M, c.N, c.K, sA, sB, sC,
        c.transB, c.aType, c.bType, c.noZero ? nullptr : aZ.data(),
        c.aZeroPerRow, c.noZero ? nullptr : bZ.data(), c.bZeroPerCol, o.outKind,
        o.biasI32 ? o.bI.data() : nullptr, o.scale.data(), o.perChan,
        o.biasF32 ? o.bF.data() : nullptr, o.outZero, o.qmin, o.qmax, o.act,
        o.actA, o.actB, c.constB ? SPARQ_UK_CONST_WEIGHTS : 0);

    char buf[256];
    std::snprintf(buf, sizeof(buf),
                  "qmatmul %s b=%lld M=%lld N=%lld K=%lld tB=%d const=%d "
                  "sA0=%d sB0=%d types=%lld/%lld zpRow=%d zpCol=%d nozp=%d",
                  tag.c_str(), (long long)c.batch, (long long)c.M,
                  (long long)c.N, (long long)c.K, c.transB, c.constB,
                  c.strideA0, c.strideB0, (long long)c.aType,
                  (long long)c.bType, c.aZeroPerRow, c.bZeroPerCol, c.noZero);
    std::string what = buf + outDesc(o) + " call " + std::to_string(call);
    for (int64_t b = 0; b < c.batch; ++b)
      for (int64_t i = 0; i < c.M; ++i)
        for (int64_t j = 0; j < c.N; ++j) {
          int64_t za = elemValue(aZ.data(), c.aType, c.aZeroPerRow ? i : 0);
          int64_t zb = elemValue(bZ.data(), c.bType, c.bZeroPerCol ? j : 0);
          int64_t acc = 0;
          for (int64_t k = 0; k < c.K; ++k) {
            int64_t a = elemValue(A.data(), c.aType, b * sA + i * c.K + k);
            int64_t bv =
                elemValue(B.data(), c.bType,
                          b * sB + (c.transB ? j * c.K + k : k * c.N + j));
            acc += (a - za) * (bv - zb);
          }
          std::string why;
          if (!o.matches(C.data(), b * sC + i * c.N + j, j, acc, 0, why)) {
            check(false, what + ": [" + std::to_string(b) + "," +
                             std::to_string(i) + "," + std::to_string(j) +
                             "] " + why);
            return;
          }
        }
    check(C.back() == 0xCD, what + ": no write past the output");
    check(true, what);
  }
}

void testQMatmul(int threads, const std::string &tag, uint64_t seed) {
  QRng r(seed);
  sparq_model *model = createBareModel(threads);
  for (int it = 0; it < 120; ++it) {
    QMatmulCase c;
    c.M = r.pick<int64_t>({1, 2, 3, 7, 8, 9, 17, 33, 64});
    c.N = r.pick<int64_t>({1, 5, 16, 17, 31, 32, 33, 70, 130});
    c.K = r.pick<int64_t>({0, 1, 3, 4, 5, 15, 17, 31, 32, 33, 64, 100, 259});
    c.batch = r.pick<int64_t>({1, 1, 2, 3});
    c.transB = r.range(0, 1);
    c.constB = r.range(0, 1);
    c.strideA0 = c.batch > 1 && r.range(0, 3) == 0;
    c.strideB0 = c.batch > 1 && r.range(0, 2) == 0;
    c.aType = r.range(0, 1);
    c.bType = r.range(0, 1);
    c.aZeroPerRow = r.range(0, 1);
    c.bZeroPerCol = r.range(0, 1);
    c.noZero = r.range(0, 5) == 0;
    // Constant weights get a fresh model: the cache is keyed by address.
    sparq_model *m = c.constB ? createBareModel(threads) : model;
    runQMatmulCase(m, c, r, tag);
    if (m != model)
      sparq_model_destroy(m);
  }
  // Every operand type pair with every output kind, both driver modes.
  for (int64_t types = 0; types < 4; ++types)
    for (int64_t out = 0; out < 4; ++out) {
      QMatmulCase c;
      c.M = 9;
      c.N = 37;
      c.K = 45;
      c.aType = types & 1;
      c.bType = types >> 1;
      c.outKind = out;
      c.aZeroPerRow = c.bZeroPerCol = out & 1;
      c.constB = out >= 2;
      sparq_model *m = c.constB ? createBareModel(threads) : model;
      runQMatmulCase(m, c, r, tag);
      if (m != model)
        sparq_model_destroy(m);
    }
  // Larger products: several blocks and tasks in both driver modes, and
  // a second call that must hit the packed-weight cache.
  for (int constB = 0; constB < 2; ++constB) {
    QMatmulCase c;
    c.M = 131;
    c.N = 301;
    c.K = 203;
    c.constB = constB;
    c.aType = SPARQ_QTYPE_U8;
    c.bType = SPARQ_QTYPE_S8;
    runQMatmulCase(model, c, r, tag, /*calls=*/2);
  }
  sparq_model_destroy(model);
  // A null ctx takes the shared single-threaded fallback.
  QMatmulCase c;
  c.M = 5;
  c.N = 40;
  c.K = 77;
  runQMatmulCase(nullptr, c, r, tag + " ctx=null");
}

struct QConvCase {
  int64_t N = 1, C = 1, H = 1, W = 1, K = 1, KH = 1, KW = 1, sH = 1, sW = 1;
  int64_t pT = 0, pL = 0, pB = 0, pR = 0, dH = 1, dW = 1, groups = 1;
  int64_t xType = 0, wType = 0;
  bool wPerChan = false, constW = false;
};

/// A ResNet-like 3x3 layer: pad 1, u8 activations, per-channel s8 constant
/// weights.
QConvCase resnetLikeQConv(int64_t C, int64_t K, int64_t HW) {
  QConvCase c;
  c.C = C;
  c.K = K;
  c.H = c.W = HW;
  c.KH = c.KW = 3;
  c.pT = c.pL = c.pB = c.pR = 1;
  c.xType = SPARQ_QTYPE_U8;
  c.wType = SPARQ_QTYPE_S8;
  c.wPerChan = true;
  c.constW = true;
  return c;
}

void runQConvCase(void *ctx, const QConvCase &c, QRng &r,
                  const std::string &tag, int calls = 1) {
  const int64_t OH = (c.H + c.pT + c.pB - c.dH * (c.KH - 1) - 1) / c.sH + 1;
  const int64_t OW = (c.W + c.pL + c.pR - c.dW * (c.KW - 1) - 1) / c.sW + 1;
  if (OH <= 0 || OW <= 0)
    return;
  const int64_t cg = c.C / c.groups, kg = c.K / c.groups;
  std::vector<uint8_t> X(c.N * c.C * c.H * c.W), Wt(c.K * cg * c.KH * c.KW);
  for (auto &v : X)
    v = static_cast<uint8_t>(r.next());
  for (auto &v : Wt)
    v = static_cast<uint8_t>(r.next());
  uint8_t xZ = static_cast<uint8_t>(r.next());
  std::vector<uint8_t> wZ(c.K);
  for (auto &v : wZ)
    v = static_cast<uint8_t>(r.next());
  const int64_t depth = cg * c.KH * c.KW;
  QOutSpec o;
  o.randomize(r, c.K, 128.0 * 64.0 * std::sqrt(double(depth)));
  const int64_t outCount = c.N * c.K * OH * OW;
  std::vector<uint8_t> Y(outCount * o.elemSize() + 1, 0xCD);
  for (int call = 0; call < calls; ++call) {
    std::fill(Y.begin(), Y.end(), 0xCD);
    sparq_uk_qconv2d_i8(
        ctx, X.data(), Wt.data(), Y.data(), c.N, c.C, c.H, c.W, c.K, OH, OW,
        c.KH, c.KW, c.sH, c.sW, c.pT, c.pL, c.dH, c.dW, c.groups, c.xType,
        c.wType, &xZ, wZ.data(), c.wPerChan, o.outKind,
        o.biasI32 ? o.bI.data() : nullptr, o.scale.data(), o.perChan,
        o.biasF32 ? o.bF.data() : nullptr, o.outZero, o.qmin, o.qmax, o.act,
        o.actA, o.actB, c.constW ? SPARQ_UK_CONST_WEIGHTS : 0);
    char buf[320];
    std::snprintf(
        buf, sizeof(buf),
        "qconv %s N=%lld C=%lld %lldx%lld K=%lld k=%lldx%lld s=%lld,%lld "
        "p=%lld,%lld,%lld,%lld d=%lld,%lld g=%lld types=%lld/%lld wzCh=%d "
        "const=%d",
        tag.c_str(), (long long)c.N, (long long)c.C, (long long)c.H,
        (long long)c.W, (long long)c.K, (long long)c.KH, (long long)c.KW,
        (long long)c.sH, (long long)c.sW, (long long)c.pT, (long long)c.pL,
        (long long)c.pB, (long long)c.pR, (long long)c.dH, (long long)c.dW,
        (long long)c.groups, (long long)c.xType, (long long)c.wType, c.wPerChan,
        c.constW);
    std::string what = buf + outDesc(o) + " call " + std::to_string(call);
    const int64_t xz = elemValue(&xZ, c.xType, 0);
    for (int64_t n = 0; n < c.N; ++n)
      for (int64_t k = 0; k < c.K; ++k) {
        const int64_t g = k / kg;
        const int64_t wz = elemValue(wZ.data(), c.wType, c.wPerChan ? k : 0);
        for (int64_t oh = 0; oh < OH; ++oh)
          for (int64_t ow = 0; ow < OW; ++ow) {
            int64_t acc = 0;
            for (int64_t ci = 0; ci < cg; ++ci)
              for (int64_t kh = 0; kh < c.KH; ++kh)
                for (int64_t kw = 0; kw < c.KW; ++kw) {
                  int64_t ih = oh * c.sH - c.pT + kh * c.dH;
                  int64_t iw = ow * c.sW - c.pL + kw * c.dW;
                  if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W)
                    continue; // padding holds the zero point: contributes 0
                  int64_t xv = elemValue(
                      X.data(), c.xType,
                      ((n * c.C + g * cg + ci) * c.H + ih) * c.W + iw);
                  int64_t wv =
                      elemValue(Wt.data(), c.wType,
                                ((k * cg + ci) * c.KH + kh) * c.KW + kw);
                  acc += (xv - xz) * (wv - wz);
                }
            std::string why;
            int64_t idx = ((n * c.K + k) * OH + oh) * OW + ow;
            if (!o.matches(Y.data(), idx, k, acc, 0, why)) {
              check(false, what + ": at " + std::to_string(idx) + " " + why);
              return;
            }
          }
      }
    check(Y.back() == 0xCD, what + ": no write past the output");
    check(true, what);
  }
}

void testQConv(int threads, const std::string &tag, uint64_t seed) {
  QRng r(seed);
  for (int it = 0; it < 70; ++it) {
    QConvCase c;
    int kind = static_cast<int>(r.range(0, 3)); // 0 general 1 1x1 2 dw 3 grp
    c.N = r.range(1, 2);
    c.groups = kind == 3 ? r.range(2, 3) : 1;
    c.C = kind == 2 ? r.range(1, 9) : c.groups * r.range(1, 9);
    if (kind == 2)
      c.groups = c.C;
    c.K = kind == 2 ? c.C * r.pick<int64_t>({1, 1, 2})
                    : c.groups * r.range(1, 19);
    c.H = r.range(1, 12);
    c.W = r.range(1, 23);
    if (kind == 1) {
      c.KH = c.KW = 1;
    } else {
      c.KH = r.range(1, 3);
      c.KW = r.range(1, 3);
      c.sH = r.range(1, 2);
      c.sW = r.range(1, 2);
      c.dH = r.range(1, 2);
      c.dW = r.range(1, 2);
      c.pT = r.range(0, 2);
      c.pL = r.range(0, 2);
      c.pB = r.range(0, 2);
      c.pR = r.range(0, 2);
    }
    c.xType = r.range(0, 1);
    c.wType = r.range(0, 1);
    c.wPerChan = r.range(0, 1);
    c.constW = r.range(0, 1);
    sparq_model *m = createBareModel(threads);
    runQConvCase(m, c, r, tag);
    sparq_model_destroy(m);
  }
  // A ResNet-like layer: many pixels, several chunks per task grid.
  sparq_model *m = createBareModel(threads);
  runQConvCase(m, resnetLikeQConv(24, 40, 19), r, tag,
               /*calls=*/2); // the second hits the cache
  sparq_model_destroy(m);
}

struct NBitsCase {
  int64_t M = 1, N = 1, K = 1, bits = 4, blockSize = 32;
  bool zeroPoints = false, bias = false;
  int act = 0;
};

void runNBitsCase(void *ctx, const NBitsCase &c, QRng &r,
                  const std::string &tag) {
  const int64_t nBlocks = (c.K + c.blockSize - 1) / c.blockSize;
  const int64_t rowBytes = nBlocks * c.blockSize * c.bits / 8;
  const int64_t zpRow = (nBlocks * c.bits + 7) / 8;
  std::vector<uint8_t> W(c.N * rowBytes), zp(c.N * zpRow);
  for (auto &v : W)
    v = static_cast<uint8_t>(r.next());
  for (auto &v : zp)
    v = static_cast<uint8_t>(r.next());
  std::vector<float> X(c.M * c.K), scales(c.N * nBlocks), bias(c.N);
  for (auto &v : X)
    v = r.uniform(-1.f, 1.f);
  for (auto &v : scales)
    v = r.uniform(0.001f, 0.1f);
  for (auto &v : bias)
    v = r.uniform(-1.f, 1.f);
  std::vector<float> Y(c.M * c.N, -777.f);
  sparq_uk_matmul_nbits_f32(ctx, X.data(), W.data(), scales.data(),
                            c.zeroPoints ? zp.data() : nullptr,
                            c.bias ? bias.data() : nullptr, Y.data(), c.M, c.N,
                            c.K, c.bits, c.blockSize, c.act, 0.1f, 0.f);
  std::vector<double> ref(Y.size()), mag(Y.size());
  for (int64_t n = 0; n < c.N; ++n)
    for (int64_t m = 0; m < c.M; ++m) {
      double acc = 0, s = 0;
      for (int64_t k = 0; k < c.K; ++k) {
        int64_t b = k / c.blockSize, kk = k % c.blockSize;
        const uint8_t *blk =
            W.data() + n * rowBytes + b * c.blockSize * c.bits / 8;
        int64_t q =
            c.bits == 8 ? blk[kk] : (blk[kk / 2] >> (4 * (kk % 2))) & 15;
        int64_t z = 1 << (c.bits - 1);
        if (c.zeroPoints) {
          const uint8_t *zr = zp.data() + n * zpRow;
          z = c.bits == 8 ? zr[b] : (zr[b / 2] >> (4 * (b % 2))) & 15;
        }
        double w = double(q - z) * scales[n * nBlocks + b];
        acc += w * X[m * c.K + k];
        s += std::fabs(w * X[m * c.K + k]);
      }
      if (c.bias)
        acc += bias[n], s += std::fabs(bias[n]);
      ref[m * c.N + n] = referenceActivation(acc, c.act, 0.1, 0.0);
      mag[m * c.N + n] = s;
    }
  char buf[200];
  std::snprintf(buf, sizeof(buf),
                "nbits %s M=%lld N=%lld K=%lld bits=%lld block=%lld zp=%d "
                "bias=%d act=%d",
                tag.c_str(), (long long)c.M, (long long)c.N, (long long)c.K,
                (long long)c.bits, (long long)c.blockSize, c.zeroPoints, c.bias,
                c.act);
  checkClose(Y, ref, mag, buf);
}

void testNBits(int threads, const std::string &tag, uint64_t seed) {
  QRng r(seed);
  sparq_model *model = createBareModel(threads);
  for (int it = 0; it < 60; ++it) {
    NBitsCase c;
    c.M = r.pick<int64_t>({1, 1, 2, 3, 4, 5, 17});
    c.N = r.pick<int64_t>({1, 7, 33, 70});
    c.K = r.pick<int64_t>({2, 16, 37, 64, 100, 130, 256});
    c.bits = r.pick<int64_t>({4, 8});
    c.blockSize = r.pick<int64_t>({16, 32, 64, 128, 2, 6, 48, 1024});
    c.zeroPoints = r.range(0, 1);
    c.bias = r.range(0, 1);
    c.act = r.pick({0, 0, 1, 3});
    runNBitsCase(model, c, r, tag);
  }
  // More than 16 blocks per row (the table kernels take zero points 16
  // blocks at a time), with a partial last block.
  for (int64_t M : {1, 4})
    for (int64_t bs : {32, 64}) {
      NBitsCase c;
      c.M = M;
      c.N = 21;
      c.K = 1000 + bs / 2;
      c.bits = 4;
      c.blockSize = bs;
      c.zeroPoints = true;
      runNBitsCase(model, c, r, tag);
    }
  // Per-channel int8 (one block per row) and LLM-like block sizes.
  for (int64_t M : {1, 3, 17}) {
    NBitsCase c;
    c.M = M;
    c.N = 96;
    c.K = 520;
    c.bits = 8;
    c.blockSize = 520;
    c.zeroPoints = true;
    runNBitsCase(model, c, r, tag);
    c.bits = 4;
    c.blockSize = 128;
    c.K = 512;
    runNBitsCase(model, c, r, tag);
  }
  sparq_model_destroy(model);
}

/// sparq_rt_dynamic_quantize_u8 against ONNX DynamicQuantizeLinear written
/// as a scalar loop here (f32 arithmetic, round half to even).
void runDynamicQuantizeCase(const std::vector<float> &x,
                            const std::string &what) {
  float lo = 0.0f, hi = 0.0f;
  for (float v : x) {
    if (v < lo)
      lo = v;
    if (v > hi)
      hi = v;
  }
  float scale = (hi == lo ? 1.0f : hi - lo) / 255.0f;
  float zpf = std::nearbyint(std::min(std::max(-(lo / scale), 0.0f), 255.0f));
  std::vector<uint8_t> ref(x.size()), y(x.size(), 0xAB);
  for (size_t i = 0; i < x.size(); ++i)
    ref[i] = static_cast<uint8_t>(
        std::min(std::max(std::nearbyint(x[i] / scale) + zpf, 0.0f), 255.0f));
  float gotScale = -1.0f;
  uint8_t gotZero = 0xAB;
  sparq_rt_dynamic_quantize_u8(nullptr, x.data(),
                               static_cast<int64_t>(x.size()), y.data(),
                               &gotScale, &gotZero);
  std::string tag =
      "dynamic quantize " + what + " n=" + std::to_string(x.size());
  check(gotScale == scale, tag + " scale");
  check(gotZero == static_cast<uint8_t>(zpf), tag + " zero point");
  size_t bad = 0;
  for (size_t i = 0; i < x.size(); ++i)
    bad += y[i] != ref[i];
  check(bad == 0, tag + " values (" + std::to_string(bad) + " differ)");
}

void testDynamicQuantize(uint64_t seed) {
  QRng r(seed);
  for (int64_t n : {1, 7, 31, 32, 33, 100, 1000, 4099}) {
    std::vector<float> x(n);
    for (auto &v : x)
      v = r.uniform(-3.0f, 5.0f);
    runDynamicQuantizeCase(x, "mixed");
    for (auto &v : x)
      v = r.uniform(0.5f, 2.0f);
    runDynamicQuantizeCase(x, "positive");
    for (auto &v : x)
      v = r.uniform(-7.0f, -0.25f);
    runDynamicQuantizeCase(x, "negative");
    std::fill(x.begin(), x.end(), 0.0f);
    runDynamicQuantizeCase(x, "zeros");
    // Range [0, 255]: scale 1, so halves are exact ties (2.5 -> 2, 3.5 -> 4).
    for (int64_t i = 0; i < n; ++i)
      x[i] = static_cast<float>(i % 256) + (i % 2 ? 0.5f : 0.0f);
    x[0] = 255.0f;
    runDynamicQuantizeCase(x, "ties");
  }
}

/// sparq_uk_qadd_i8 against the dequantize -> add -> quantize steps written
/// here as scalar f32 code: (float)(q - z) * s for each side, their f32 sum,
/// a true f32 division by the output scale, round half to even, the zero
/// point, then the clamp.
void runQAddCase(void *ctx, int64_t n, int64_t type, QRng &r,
                 const std::string &tag) {
  const bool isSigned = type == SPARQ_QTYPE_S8;
  const int64_t lo = isSigned ? -128 : 0, hi = isSigned ? 127 : 255;
  // Every fourth case uses scales that make (a + b) / sy land on exact
  // halves, so the rounding ties are exercised.
  const bool ties = r.range(0, 3) == 0;
  const float sa = ties ? 0.5f : r.uniform(0.001f, 0.1f);
  const float sb = ties ? 0.5f : r.uniform(0.001f, 0.1f);
  const float sy = ties ? 1.0f : r.uniform(0.002f, 0.1f);
  const int64_t za = r.range(lo, hi), zb = r.range(lo, hi);
  const int64_t zy = r.range(lo, hi);
  int64_t qmin = lo, qmax = hi;
  if (r.range(0, 2) == 0)
    qmin = zy; // a fused Relu
  if (r.range(0, 3) == 0)
    qmax = std::max(qmin, hi - 20);
  std::vector<uint8_t> a(n), b(n), y(n, 0xAB), ref(n);
  for (int64_t i = 0; i < n; ++i) {
    a[i] = static_cast<uint8_t>(r.range(0, 255));
    b[i] = static_cast<uint8_t>(r.range(0, 255));
    float fa = static_cast<float>(elemValue(a.data(), type, i) - za) * sa;
    float fb = static_cast<float>(elemValue(b.data(), type, i) - zb) * sb;
    float sum = fa + fb;
    float q = std::nearbyint(sum / sy) + static_cast<float>(zy);
    q = std::min(std::max(q, static_cast<float>(qmin)),
                 static_cast<float>(qmax));
    ref[i] = static_cast<uint8_t>(static_cast<int32_t>(q));
  }
  sparq_uk_qadd_i8(ctx, a.data(), b.data(), y.data(), n, type, sa, za, sb, zb,
                   sy, zy, qmin, qmax);
  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i)
    bad += y[i] != ref[i];
  check(bad == 0, tag + " qadd " + (isSigned ? "s8" : "u8") +
                      (ties ? " ties" : "") + " n=" + std::to_string(n) +
                      " (" + std::to_string(bad) + " differ)");
}

void testQAdd(int threads, const std::string &tag, uint64_t seed) {
  QRng r(seed);
  sparq_model *model = createBareModel(threads);
  for (int64_t n : {1, 7, 31, 32, 33, 100, 1000, 8192, 8193, 40000})
    for (int64_t type : {SPARQ_QTYPE_U8, SPARQ_QTYPE_S8})
      for (int rep = 0; rep < 2; ++rep)
        runQAddCase(model, n, type, r, tag);
  sparq_model_destroy(model);
}

/// Layers of the direct conv path's kinds: ResNet-like 3x3 (a 44-wide map,
/// which its default choice takes), a stem-like 7x7 stride 2 over 3
/// channels, dilation, batch 2 and f32/i32 outputs (via the random output
/// spec), each checked against the scalar reference of runQConvCase.
void testQConvDirectShapes(int threads, const std::string &tag) {
  QRng r(4242 + threads);
  auto run = [&](QConvCase c) {
    sparq_model *m = createBareModel(threads);
    runQConvCase(m, c, r, tag, /*calls=*/2);
    sparq_model_destroy(m);
  };
  QConvCase c = resnetLikeQConv(16, 24, 44);
  run(c);
  c.N = 2;
  c.xType = SPARQ_QTYPE_S8;
  c.wType = SPARQ_QTYPE_U8;
  c.constW = false;
  c.pB = c.pR = 0;
  c.dH = 2;
  run(c);
  QConvCase stem;
  stem.C = 3;
  stem.K = 17;
  stem.H = 29;
  stem.W = 37;
  stem.KH = stem.KW = 7;
  stem.sH = stem.sW = 2;
  stem.pT = stem.pL = stem.pB = stem.pR = 3;
  stem.xType = SPARQ_QTYPE_U8;
  stem.wType = SPARQ_QTYPE_S8;
  stem.wPerChan = true;
  stem.constW = true;
  run(stem);
}

/// Layers with small maps, where the pixels-as-rows path is meant to pay:
/// 7x7 and 14x14 3x3 layers (49 and 196 pixels: partial pixel panels),
/// a stride-2 3x3 and a stride-2 1x1 downsample into 7x7, s8 activations
/// with u8 weights and a non-constant weight operand, and channel counts
/// that are not multiples of 16; each checked against runQConvCase's
/// scalar reference.
void testQConvSmallMaps(int threads, const std::string &tag) {
  QRng r(777 + threads);
  auto run = [&](QConvCase c) {
    sparq_model *m = createBareModel(threads);
    runQConvCase(m, c, r, tag, /*calls=*/2);
    sparq_model_destroy(m);
  };
  run(resnetLikeQConv(64, 96, 7));
  run(resnetLikeQConv(40, 48, 14));
  QConvCase c = resnetLikeQConv(36, 64, 14);
  c.sH = c.sW = 2;
  run(c);
  c.KH = c.KW = 1;
  c.pT = c.pL = c.pB = c.pR = 0;
  c.K = 40;
  run(c);
  c = resnetLikeQConv(24, 21, 9);
  c.N = 2;
  c.xType = SPARQ_QTYPE_S8;
  c.wType = SPARQ_QTYPE_U8;
  c.constW = false;
  c.wPerChan = false;
  run(c);
}

} // namespace

void sparq::unit::runQuantKernelTests(int numThreads) {
  for (QIsa isa : {QIsa::Generic, QIsa::Avx2, QIsa::Avx512Vnni}) {
    if (!sparq::rt::qkernelSet(isa))
      continue;
    sparq::rt::setQIsaOverride(static_cast<int>(isa));
    check(sparq::rt::activeQIsa() == isa,
          std::string("isa override ") + sparq::rt::qIsaName(isa));
    std::string tag = std::string(sparq::rt::qIsaName(isa)) +
                      " t=" + std::to_string(numThreads);
    uint64_t seed = 100 * static_cast<uint64_t>(isa) + numThreads;
    testQMatmul(numThreads, tag, seed);
    testQConv(numThreads, tag, seed + 7);
    if (isa == QIsa::Avx512Vnni) {
      // The direct conv path on every shape it supports, then its default
      // choice on shapes where it pays.
      sparq::rt::setQConvDirect(1);
      testQConv(numThreads, tag + " direct", seed + 11);
      testQConvDirectShapes(numThreads, tag + " direct");
      sparq::rt::setQConvDirect(-1);
      testQConvDirectShapes(numThreads, tag);
      // The direct path with the pixels as rows, likewise.
      sparq::rt::setQConvDirectRows(1);
      testQConv(numThreads, tag + " direct-rows", seed + 19);
      testQConvDirectShapes(numThreads, tag + " direct-rows");
      testQConvSmallMaps(numThreads, tag + " direct-rows");
      sparq::rt::setQConvDirectRows(-1);
    }
    // The pixels-as-rows path on every ungrouped layer (direct path off),
    // then the default choices on small maps.
    sparq::rt::setQConvDirect(0);
    sparq::rt::setQConvPixelRows(1);
    testQConv(numThreads, tag + " pixel-rows", seed + 17);
    testQConvDirectShapes(numThreads, tag + " pixel-rows");
    testQConvSmallMaps(numThreads, tag + " pixel-rows");
    sparq::rt::setQConvPixelRows(-1);
    sparq::rt::setQConvDirect(-1);
    testQConvSmallMaps(numThreads, tag);
    testNBits(numThreads, tag, seed + 13);
    testQAdd(numThreads, tag, seed + 23);
  }
  sparq::rt::setQIsaOverride(-1);
  testDynamicQuantize(977);
}
