//===- KernelTests.cpp - Unit tests of the matmul micro-kernel ------------===//
//
// Checks sparq_uk_matmul_f32 against a double-precision reference over many
// shapes (including all edge-tile cases), both B layouts, batched operands
// with broadcast strides, every fused epilogue, and repeated calls that hit
// the packed-weight cache. Also checks the vector activations against the
// scalar ones.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include <algorithm>

#include "Context.h"
#include "Kernels.h"
#include "Model.h"

#include <cstring>
#include <limits>

using namespace sparq::unit;

sparq_model *sparq::unit::createBareModel(int numThreads) {
  sparq_model *m = nullptr;
  sparq::rt::createModel("sparq-signature 1\narena 0\n", nullptr, numThreads,
                         &m);
  return m;
}

namespace {

struct MatmulCase {
  int64_t batch = 1, M, N, K;
  bool transB = false;
  int64_t strideAMode = 1, strideBMode = 1; // 0: broadcast, 1: per batch
  bool bias = false, residual = false, constB = false;
  int act = 0;
  float actA = 0.f, actB = 0.f;
};

std::string describe(const MatmulCase &c, int threads) {
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "matmul t=%d b=%lld M=%lld N=%lld K=%lld transB=%d sA=%lld "
                "sB=%lld bias=%d res=%d const=%d act=%d",
                threads, (long long)c.batch, (long long)c.M, (long long)c.N,
                (long long)c.K, c.transB, (long long)c.strideAMode,
                (long long)c.strideBMode, c.bias, c.residual, c.constB, c.act);
  return buf;
}

void runMatmulCase(sparq_model *model, const MatmulCase &c, int threads,
                   int repeats = 1) {
  int64_t sA = c.strideAMode ? c.M * c.K : 0;
  int64_t sB = c.strideBMode ? c.K * c.N : 0;
  int64_t sC = c.M * c.N;
  std::vector<float> A(
      std::max<int64_t>(1, c.strideAMode ? c.batch * sA : c.M * c.K));
  std::vector<float> B(
      std::max<int64_t>(1, c.strideBMode ? c.batch * sB : c.K * c.N));
  std::vector<float> bias(c.N), residual(c.batch * sC), C(c.batch * sC);
  fillRandom(A, 1 + c.M);
  fillRandom(B, 2 + c.N);
  fillRandom(bias, 3);
  fillRandom(residual, 4);
  for (float &v : residual)
    v *= 2.f;

  std::vector<double> ref(C.size()), scale(C.size());
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t i = 0; i < c.M; ++i)
      for (int64_t j = 0; j < c.N; ++j) {
        double acc = 0, mag = 0;
        for (int64_t k = 0; k < c.K; ++k) {
          double a = A[b * sA + i * c.K + k];
          double bv =
              c.transB ? B[b * sB + j * c.K + k] : B[b * sB + k * c.N + j];
          acc += a * bv;
          mag += std::fabs(a * bv);
        }
        size_t o = b * sC + i * c.N + j;
        if (c.bias)
          acc += bias[j], mag += std::fabs(bias[j]);
        if (c.residual)
          acc += residual[o], mag += std::fabs(residual[o]);
        ref[o] = referenceActivation(acc, c.act, c.actA, c.actB);
        scale[o] = mag;
      }
  for (int r = 0; r < repeats; ++r) {
    std::fill(C.begin(), C.end(), -12345.f);
    sparq_uk_matmul_f32(
        model, A.data(), B.data(), c.bias ? bias.data() : nullptr,
        c.residual ? residual.data() : nullptr, C.data(), c.batch, c.M, c.N,
        c.K, sA, sB, sC, c.transB, c.constB ? SPARQ_UK_CONST_WEIGHTS : 0, c.act,
        c.actA, c.actB);
    std::string what = describe(c, threads);
    if (repeats > 1)
      what += " call " + std::to_string(r + 1);
    checkClose(C, ref, scale, what);
  }
}

void testMatmulShapes(sparq_model *model, int threads) {
  const int64_t sizes[] = {1, 2, 3, 7, 16, 17, 33, 64, 100, 257};
  int variant = 0;
  for (int64_t M : sizes)
    for (int64_t N : sizes)
      for (int64_t K : sizes) {
        MatmulCase c;
        c.M = M, c.N = N, c.K = K;
        c.transB = (variant & 1) != 0;
        c.constB = (variant & 2) != 0;
        ++variant;
        runMatmulCase(model, c, threads);
      }
}

void testMatmulEpilogues(sparq_model *model, int threads) {
  const float actParams[][2] = {{0, 0},       {0, 0}, {-0.5f, 0.7f}, {0.1f, 0},
                                {0, 0},       {0, 0}, {0, 0},        {0, 0},
                                {0.2f, 0.5f}, {0, 0}};
  for (int act = 0; act <= 9; ++act)
    for (int mode = 0; mode < 4; ++mode) {
      MatmulCase c;
      c.M = 37, c.N = 45, c.K = 70;
      c.bias = mode & 1;
      c.residual = mode & 2;
      c.transB = act & 1;
      c.act = act;
      c.actA = actParams[act][0];
      c.actB = actParams[act][1];
      runMatmulCase(model, c, threads);
      // Single-row (GEMV) path with the same epilogue.
      c.M = 1;
      c.K = 300;
      runMatmulCase(model, c, threads);
    }
}

void testNarrowTailGemms(sparq_model *model, int threads) {
  // Last B panels of 1, 4 and 8 live columns take the half-width kernels:
  // every epilogue, with K both within one packed K block and across several
  // (so the narrow kernels also accumulate into a partial tile).
  const float actParams[][2] = {{0, 0},       {0, 0}, {-0.5f, 0.7f}, {0.1f, 0},
                                {0, 0},       {0, 0}, {0, 0},        {0, 0},
                                {0.2f, 0.5f}, {0, 0}};
  int variant = 0;
  for (int64_t N : {49, 196, 24})
    for (int act = 0; act <= 9; ++act) {
      MatmulCase c;
      c.M = 23, c.N = N, c.K = variant % 3 == 0 ? 700 : 33;
      c.bias = variant & 1;
      c.residual = variant & 2;
      c.transB = variant & 4;
      c.constB = variant % 5 == 0;
      c.act = act;
      c.actA = actParams[act][0];
      c.actB = actParams[act][1];
      ++variant;
      runMatmulCase(model, c, threads);
    }
}

void testMatmulBatches(sparq_model *model, int threads) {
  for (int aMode = 0; aMode <= 1; ++aMode)
    for (int bMode = 0; bMode <= 1; ++bMode)
      for (int transB = 0; transB <= 1; ++transB)
        for (int64_t M : {1, 5, 40}) {
          MatmulCase c;
          c.batch = 3, c.M = M, c.N = 33, c.K = 20;
          c.strideAMode = aMode, c.strideBMode = bMode;
          c.transB = transB;
          c.residual = true;
          c.bias = true;
          c.act = 1;
          runMatmulCase(model, c, threads);
          c.constB = true;
          runMatmulCase(model, c, threads, 2);
        }
}

void testWeightCache(int threads) {
  sparq_model *model = createBareModel(threads);
  MatmulCase c;
  c.M = 64, c.N = 300, c.K = 600; // K spans several packed K blocks
  c.constB = true;
  c.bias = true;
  c.act = 6;
  runMatmulCase(model, c, threads, 3);
  check(model->context.cachedPackCount() == 1,
        "matmul const weights are packed once and cached");
  // A non-constant B too large for one shared packing chunk.
  MatmulCase big;
  big.M = 200, big.N = 1100, big.K = 1000;
  big.bias = big.residual = true;
  big.act = 1;
  runMatmulCase(model, big, threads);
  sparq_model_destroy(model);
}

void testActivationsMatchScalar() {
  const sparq::rt::KernelSet &ks = sparq::rt::kernels();
  std::vector<float> x(301);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = -15.f + 0.1f * static_cast<float>(i);
  for (int act = 0; act <= 9; ++act) {
    std::vector<float> y = x;
    ks.epilogueRow(y.data(), 0.f, nullptr, nullptr, (int64_t)y.size(), act,
                   0.25f, 0.5f);
    bool ok = true;
    size_t bad = 0;
    for (size_t i = 0; i < y.size() && ok; ++i) {
      double r = referenceActivation(x[i], act, 0.25, 0.5);
      ok = std::fabs(y[i] - r) <= 2e-6 * (1 + std::fabs(r));
      bad = i;
    }
    check(ok, std::string("activation ") + std::to_string(act) + " (" +
                  ks.name + ") matches reference" +
                  (ok ? "" : " at x=" + std::to_string(x[bad])));
  }
}

void testMicroKernelSetsAgree() {
  const sparq::rt::KernelSet *fast = sparq::rt::avx2KernelSet();
  const sparq::rt::KernelSet &slow = sparq::rt::genericKernelSet();
  if (!fast)
    return;
  const int64_t kc = 37;
  std::vector<float> a(kc * sparq::rt::kMR), b(kc * sparq::rt::kNR);
  fillRandom(a, 11);
  fillRandom(b, 12);
  // Packed B panels are 32-byte aligned in the GEMM (aligned loads); a
  // std::vector only guarantees 16 bytes.
  alignas(64) float bPanel[kc * sparq::rt::kNR];
  std::copy(b.begin(), b.end(), bPanel);
  for (int rows = 1; rows <= sparq::rt::kMR; ++rows) {
    std::vector<float> c1(sparq::rt::kMR * sparq::rt::kNR, 1.f), c2 = c1;
    fast->micro[rows](kc, a.data(), bPanel, c1.data(), sparq::rt::kNR, true);
    slow.micro[rows](kc, a.data(), bPanel, c2.data(), sparq::rt::kNR, true);
    bool ok = true;
    for (size_t i = 0; i < c1.size(); ++i)
      ok = ok && std::fabs(c1[i] - c2[i]) <= 1e-4f;
    check(ok,
          "avx2 and generic micro-kernels agree, rows=" + std::to_string(rows));
  }
  // The fused-epilogue kernels: every epilogue part, accumulate both ways.
  std::vector<float> rowBias(sparq::rt::kMR), colBias(sparq::rt::kNR);
  std::vector<float> residual(sparq::rt::kMR * 20);
  fillRandom(rowBias, 13);
  fillRandom(colBias, 14);
  fillRandom(residual, 15);
  for (int act : {0, 1, 2, 4, 6})
    for (int rows = 1; rows <= sparq::rt::kMR; ++rows) {
      sparq::rt::TileEpilogue te;
      te.rowBias = rows % 2 ? rowBias.data() : nullptr;
      te.colBias = rows % 3 ? colBias.data() : nullptr;
      te.residual = rows > 2 ? residual.data() : nullptr;
      te.residualLd = 20;
      te.act = act;
      te.actA = -0.3f;
      te.actB = 0.4f;
      bool accumulate = rows % 2 == 0;
      std::vector<float> c1(sparq::rt::kMR * 17, 0.5f), c2 = c1;
      fast->microEpi[rows](kc, a.data(), bPanel, c1.data(), 17, accumulate,
                           te);
      slow.microEpi[rows](kc, a.data(), bPanel, c2.data(), 17, accumulate,
                          te);
      bool ok = true;
      for (size_t i = 0; i < c1.size(); ++i)
        ok = ok && std::fabs(c1[i] - c2[i]) <= 1e-4f;
      check(ok, "avx2 and generic fused micro-kernels agree, rows=" +
                    std::to_string(rows) + " act=" + std::to_string(act));
    }
  // The narrow kernels, over an odd and an even depth: they must match the
  // generic ones on columns [0, kNRNarrow) and leave the rest untouched.
  for (int64_t depth : {kc, kc - 1})
    for (int act : {0, 1, 3, 5, 7})
      for (int rows = 1; rows <= sparq::rt::kMR; ++rows) {
        sparq::rt::TileEpilogue te;
        te.rowBias = rows % 2 ? rowBias.data() : nullptr;
        te.colBias = rows % 3 ? colBias.data() : nullptr;
        te.residual = rows > 2 ? residual.data() : nullptr;
        te.residualLd = 20;
        te.act = act;
        te.actA = 0.2f;
        bool accumulate = (rows + act) % 2 == 0;
        std::vector<float> c1(sparq::rt::kMR * 17, 0.5f), c2 = c1, c3 = c1,
                                                          c4 = c1;
        fast->microEpiNarrow[rows](depth, a.data(), bPanel, c1.data(), 17,
                                   accumulate, te);
        slow.microEpiNarrow[rows](depth, a.data(), bPanel, c2.data(), 17,
                                  accumulate, te);
        fast->microNarrow[rows](depth, a.data(), bPanel, c3.data(), 17,
                                accumulate);
        slow.microNarrow[rows](depth, a.data(), bPanel, c4.data(), 17,
                               accumulate);
        bool ok = true;
        for (size_t i = 0; i < c1.size(); ++i) {
          bool live = static_cast<int64_t>(i) / 17 < rows &&
                      static_cast<int64_t>(i) % 17 < sparq::rt::kNRNarrow;
          ok = ok && std::fabs(c1[i] - c2[i]) <= 1e-4f &&
               std::fabs(c3[i] - c4[i]) <= 1e-4f &&
               (live || (c1[i] == 0.5f && c3[i] == 0.5f));
        }
        check(ok, "avx2 and generic narrow micro-kernels agree, rows=" +
                      std::to_string(rows) + " act=" + std::to_string(act) +
                      " kc=" + std::to_string(depth));
      }
}

void testSmallMGemms(sparq_model *model, int threads) {
  // Few rows and many columns (A packed once, shared by the N blocks),
  // batched with a non-constant B, and partial last panels.
  for (int64_t M : {2, 7, 16})
    for (int64_t N : {200, 1024, 1030})
      for (int64_t K : {40, 300}) {
        MatmulCase c;
        c.M = M, c.N = N, c.K = K;
        c.bias = N % 2 == 0;
        c.residual = K > 100;
        c.constB = M != 7;
        c.transB = M == 16 && N == 200;
        c.act = 1;
        runMatmulCase(model, c, threads, c.constB ? 2 : 1);
      }
  MatmulCase attn;
  attn.batch = 4, attn.M = 128, attn.N = 260, attn.K = 64;
  attn.transB = true;
  runMatmulCase(model, attn, threads);
  attn.transB = false, attn.strideAMode = 0, attn.residual = true;
  runMatmulCase(model, attn, threads);
}

void testParallelFor(sparq_model *model, int threads) {
  // Every index is visited exactly once, over many back-to-back loops, and
  // a nested call runs inline.
  struct State {
    std::vector<int> hits;
    sparq_model *model;
    int nestedOk;
  } st{std::vector<int>(1000), model, 1};
  bool ok = true;
  for (int iter = 0; iter < 500 && ok; ++iter) {
    std::fill(st.hits.begin(), st.hits.end(), 0);
    int64_t n = 1 + (iter * 37) % 1000;
    sparq_rt_parallel_for(
        model, n,
        [](void *c, int64_t b, int64_t e) {
          State &s = *static_cast<State *>(c);
          for (int64_t i = b; i < e; ++i)
            ++s.hits[i];
        },
        &st);
    for (int64_t i = 0; i < 1000; ++i)
      ok = ok && st.hits[i] == (i < n ? 1 : 0);
  }
  check(ok, "parallel_for covers each index once, threads=" +
                std::to_string(threads));
  sparq_rt_parallel_for(
      model, 4,
      [](void *c, int64_t, int64_t) {
        State &s = *static_cast<State *>(c);
        int64_t inner = 0;
        sparq_rt_parallel_for(
            s.model, 10,
            [](void *ic, int64_t b, int64_t e) {
              *static_cast<int64_t *>(ic) += e - b;
            },
            &inner);
        if (inner != 10)
          s.nestedOk = 0;
      },
      &st);
  check(st.nestedOk == 1, "nested parallel_for runs inline");
}

} // namespace

/// sparq_uk_attention_f32 against attention written here in double:
/// scores = scale * q.k (+ add mask) (masked fill), softmax over the keys,
/// times v; shapes with D a multiple of 8 (the vector path) and not (the
/// scalar path), S and T not multiples of the kernel's blocks, and masks
/// broadcast along different dims.
void testAttention(sparq_model *ctx, int threads) {
  struct Case {
    int64_t B, S, T, H, D;
    int maskKind; // 0 none, 1 add [B,1,1,T], 2 fill [1,1,S,T], 3 both
  };
  const Case cases[] = {{1, 16, 16, 2, 8, 1},  {1, 13, 21, 3, 16, 0},
                        {2, 7, 7, 2, 64, 2},   {1, 128, 128, 4, 64, 1},
                        {2, 9, 30, 1, 12, 3},  {1, 1, 5, 2, 24, 3},
                        {1, 33, 17, 2, 40, 2}, {1, 6, 48, 1, 7, 1}};
  int index = 0;
  for (const Case &c : cases) {
    const int64_t qn = c.B * c.S * c.H * c.D, kn = c.B * c.T * c.H * c.D;
    std::vector<float> q(qn), k(kn), v(kn), y(qn, 7.0f);
    fillRandom(q, 100 + index);
    fillRandom(k, 200 + index);
    fillRandom(v, 300 + index);
    for (float &x : q)
      x *= 3.0f; // spread the softmax
    const bool hasAdd = c.maskKind & 1, hasFill = c.maskKind & 2;
    std::vector<float> add(c.B * c.T);
    fillRandom(add, 400 + index);
    std::vector<uint8_t> fill(c.S * c.T);
    for (int64_t s = 0; s < c.S; ++s)
      for (int64_t t = 0; t < c.T; ++t)
        fill[s * c.T + t] = t > s + 2 ? 1 : 0; // causal-like, never a full row
    const float scale = 1.0f / std::sqrt(static_cast<float>(c.D));
    const float fillValue = -1.0e4f;
    sparq_uk_attention_f32(ctx, q.data(), k.data(), v.data(), y.data(), c.B,
                           c.S, c.T, c.H, c.D, scale,
                           hasAdd ? add.data() : nullptr, c.T, 0, 0, 1,
                           hasFill ? fill.data() : nullptr, 0, 0, c.T, 1,
                           fillValue);
    std::vector<double> ref(qn), mag(qn);
    std::vector<double> p(c.T);
    for (int64_t b = 0; b < c.B; ++b)
      for (int64_t h = 0; h < c.H; ++h)
        for (int64_t s = 0; s < c.S; ++s) {
          const float *qr = &q[((b * c.S + s) * c.H + h) * c.D];
          double mx = -1e300;
          for (int64_t t = 0; t < c.T; ++t) {
            const float *kr = &k[((b * c.T + t) * c.H + h) * c.D];
            double dot = 0;
            for (int64_t d = 0; d < c.D; ++d)
              dot += double(qr[d]) * double(kr[d]);
            double sc = dot * scale;
            if (hasAdd)
              sc += add[b * c.T + t];
            if (hasFill && fill[s * c.T + t])
              sc = fillValue;
            p[t] = sc;
            mx = std::max(mx, sc);
          }
          double sum = 0;
          for (int64_t t = 0; t < c.T; ++t)
            sum += p[t] = std::exp(p[t] - mx);
          for (int64_t d = 0; d < c.D; ++d) {
            double acc = 0, m = 0;
            for (int64_t t = 0; t < c.T; ++t) {
              double vv = v[((b * c.T + t) * c.H + h) * c.D + d];
              acc += p[t] / sum * vv;
              m += p[t] / sum * std::fabs(vv);
            }
            ref[((b * c.S + s) * c.H + h) * c.D + d] = acc;
            mag[((b * c.S + s) * c.H + h) * c.D + d] = m;
          }
        }
    checkClose(y, ref, mag,
               "attention t=" + std::to_string(threads) + " case " +
                   std::to_string(index) + " B" + std::to_string(c.B) + " S" +
                   std::to_string(c.S) + " T" + std::to_string(c.T) + " H" +
                   std::to_string(c.H) + " D" + std::to_string(c.D) +
                   " mask " + std::to_string(c.maskKind));
    ++index;
  }
}

/// A query row whose every key is filled with -inf has no softmax: its
/// output is NaN (ONNX Softmax of all -inf), on the vector and scalar
/// paths alike; the other rows are unaffected.
void testAttentionFullyMasked(sparq_model *ctx, int threads) {
  for (int64_t D : {16, 12}) { // the vector path, then the scalar one
    const int64_t S = 3, T = 9, H = 1;
    std::vector<float> q(S * H * D), k(T * H * D), v(T * H * D);
    std::vector<float> y(S * H * D, 0.0f);
    fillRandom(q, 11);
    fillRandom(k, 12);
    fillRandom(v, 13);
    std::vector<uint8_t> fill(S * T, 0);
    for (int64_t t = 0; t < T; ++t)
      fill[1 * T + t] = 1; // row 1 fully masked
    sparq_uk_attention_f32(ctx, q.data(), k.data(), v.data(), y.data(), 1, S,
                           T, H, D, 0.25f, nullptr, 0, 0, 0, 0, fill.data(), 0,
                           0, T, 1, -std::numeric_limits<float>::infinity());
    bool maskedNaN = true, othersFinite = true;
    for (int64_t s = 0; s < S; ++s)
      for (int64_t d = 0; d < D; ++d) {
        const float x = y[s * D + d];
        if (s == 1)
          maskedNaN = maskedNaN && std::isnan(x);
        else
          othersFinite = othersFinite && std::isfinite(x);
      }
    const std::string tag =
        "attention fully masked row D" + std::to_string(D) + " t=" +
        std::to_string(threads);
    check(maskedNaN, tag + ": NaN output");
    check(othersFinite, tag + ": other rows finite");
  }
}

void sparq::unit::runKernelTests(int numThreads) {
  sparq_model *model = createBareModel(numThreads);
  if (!check(model != nullptr, "create bare model"))
    return;
  check(sparq_model_num_threads(model) == numThreads, "thread count honored");
  testParallelFor(model, numThreads);
  testMatmulShapes(model, numThreads);
  testMatmulEpilogues(model, numThreads);
  testMatmulBatches(model, numThreads);
  testNarrowTailGemms(model, numThreads);
  testSmallMGemms(model, numThreads);
  testAttention(model, numThreads);
  testAttentionFullyMasked(model, numThreads);
  sparq_model_destroy(model);
  testWeightCache(numThreads);
  if (numThreads == 1) {
    testActivationsMatchScalar();
    testMicroKernelSetsAgree();
  }
}
