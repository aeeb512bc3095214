//===- Attention.cpp - Fused multi-head attention (sparq.attention) -------===//
//
// sparq_uk_attention_f32: per batch element and head, the scores of a block
// of query rows against every key, scaled and masked, their softmax, and its
// product with the values, without materializing the [B, H, S, T] scores
// or the head transposes. The heads are read in place from the [B, S, H, D]
// / [B, T, H, D] projections.
//
// Per (b, h), the keys are first packed transposed, [D][Tp] with Tp = T
// rounded up to 16 (zero padded), so that the scores of R query rows are a
// small register-blocked GEMM over d (R rows x 16 keys of accumulators).
// The softmax keeps each row's exponentials unnormalized and scales the
// output rows by 1 / sum at the end. The AVX2+FMA path takes D a multiple
// of 8; any other shape (or CPU) runs the scalar path, same algorithm.
//
//===----------------------------------------------------------------------===//

#include "sparq/Runtime/sparq_runtime.h"

#include "ActivationsAvx2.h"
#include "Context.h"
#include "Kernels.h"
#include "Model.h"
#include "ThreadPool.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace sparq::rt;

namespace {

/// Query rows per task block (the score kernel's register rows).
constexpr int64_t kAttnRows = 6;

struct AttnShape {
  const float *Q, *K, *V;
  float *Y;
  int64_t B, S, T, H, D, Tp;
  float scale;
  const float *addMask;
  int64_t am[4]; // element strides b, h, s, t (0: broadcast)
  const uint8_t *fillMask;
  int64_t fm[4];
  float fill;

  const float *qRow(int64_t b, int64_t s, int64_t h) const {
    return Q + ((b * S + s) * H + h) * D;
  }
  const float *kRow(int64_t b, int64_t t, int64_t h) const {
    return K + ((b * T + t) * H + h) * D;
  }
  const float *vRow(int64_t b, int64_t t, int64_t h) const {
    return V + ((b * T + t) * H + h) * D;
  }
  float *yRow(int64_t b, int64_t s, int64_t h) const {
    return Y + ((b * S + s) * H + h) * D;
  }
  /// The masks' rows for query s of head (b, h) (null without a mask).
  const float *addRow(int64_t b, int64_t h, int64_t s) const {
    return addMask ? addMask + b * am[0] + h * am[1] + s * am[2] : nullptr;
  }
  const uint8_t *fillRow(int64_t b, int64_t h, int64_t s) const {
    return fillMask ? fillMask + b * fm[0] + h * fm[1] + s * fm[2] : nullptr;
  }
};

/// kt[d * Tp + t] = K[b, t, h, d] for t in [t0, T), zero for t >= T.
void attnPackKeys(const AttnShape &a, int64_t b, int64_t h, float *kt,
                  int64_t t0 = 0) {
  for (int64_t t = t0; t < a.T; ++t) {
    const float *k = a.kRow(b, t, h);
    for (int64_t d = 0; d < a.D; ++d)
      kt[d * a.Tp + t] = k[d];
  }
  for (int64_t d = 0; d < a.D; ++d)
    for (int64_t t = a.T; t < a.Tp; ++t)
      kt[d * a.Tp + t] = 0.0f;
}

/// Scales and masks row s's raw scores in place for t in [from, T);
/// returns the max of those and `mx`.
float attnMaskRow(const AttnShape &a, int64_t b, int64_t h, int64_t s,
                  float *sc, int64_t from = 0,
                  float mx = -std::numeric_limits<float>::infinity()) {
  const float *am = a.addRow(b, h, s);
  const uint8_t *fm = a.fillRow(b, h, s);
  for (int64_t t = from; t < a.T; ++t) {
    float v = sc[t] * a.scale;
    if (am)
      v += am[t * a.am[3]];
    if (fm && fm[t * a.fm[3]])
      v = a.fill;
    sc[t] = v;
    mx = std::max(mx, v);
  }
  return mx;
}

//===----------------------------------------------------------------------===//
// Scalar path
//===----------------------------------------------------------------------===//

void attnBlockScalar(const AttnShape &a, int64_t b, int64_t h, int64_t s0,
                     int64_t rows, const float *kt, float *sc) {
  for (int64_t r = 0; r < rows; ++r) {
    const float *q = a.qRow(b, s0 + r, h);
    float *row = sc + r * a.Tp;
    for (int64_t t = 0; t < a.T; ++t) {
      float acc = 0.0f;
      for (int64_t d = 0; d < a.D; ++d)
        acc += q[d] * kt[d * a.Tp + t];
      row[t] = acc;
    }
    const float mx = attnMaskRow(a, b, h, s0 + r, row);
    float sum = 0.0f;
    for (int64_t t = 0; t < a.T; ++t) {
      row[t] = std::exp(row[t] - mx);
      sum += row[t];
    }
    const float inv = 1.0f / sum;
    float *y = a.yRow(b, s0 + r, h);
    for (int64_t d = 0; d < a.D; ++d)
      y[d] = 0.0f;
    for (int64_t t = 0; t < a.T; ++t) {
      const float p = row[t];
      const float *v = a.vRow(b, t, h);
      for (int64_t d = 0; d < a.D; ++d)
        y[d] += p * v[d];
    }
    for (int64_t d = 0; d < a.D; ++d)
      y[d] *= inv;
  }
}

//===----------------------------------------------------------------------===//
// AVX2 + FMA path
//===----------------------------------------------------------------------===//

#ifdef SPARQ_HAVE_ACTIVATIONS_AVX2
#define SPARQ_ATTN_AVX2 __attribute__((target("avx2,fma")))

/// Raw scores of R query rows x 16 keys [t0, t0 + 16): sc[r * Tp + t].
template <int R>
SPARQ_ATTN_AVX2 void attnScoresAvx2(const AttnShape &a, const float *const *q,
                                    const float *kt, int64_t t0, float *sc) {
  __m256 lo[R], hi[R];
  for (int r = 0; r < R; ++r)
    lo[r] = hi[r] = _mm256_setzero_ps();
  const float *k = kt + t0;
  for (int64_t d = 0; d < a.D; ++d, k += a.Tp) {
    const __m256 k0 = _mm256_loadu_ps(k), k1 = _mm256_loadu_ps(k + 8);
    for (int r = 0; r < R; ++r) {
      const __m256 qb = _mm256_broadcast_ss(q[r] + d);
      lo[r] = _mm256_fmadd_ps(qb, k0, lo[r]);
      hi[r] = _mm256_fmadd_ps(qb, k1, hi[r]);
    }
  }
  for (int r = 0; r < R; ++r) {
    _mm256_storeu_ps(sc + r * a.Tp + t0, lo[r]);
    _mm256_storeu_ps(sc + r * a.Tp + t0 + 8, hi[r]);
  }
}

/// attnMaskRow, vectorized where the masks are contiguous (or absent)
/// along t: the same operations per element, so the same bits.
SPARQ_ATTN_AVX2 float attnMaskRowAvx2(const AttnShape &a, int64_t b, int64_t h,
                                      int64_t s, float *sc) {
  const bool addVec = !a.addMask || a.am[3] == 1;
  const bool fillVec = !a.fillMask || a.fm[3] == 1;
  if (!addVec || !fillVec)
    return attnMaskRow(a, b, h, s, sc);
  const float *am = a.addRow(b, h, s);
  const uint8_t *fm = a.fillRow(b, h, s);
  const __m256 scale = _mm256_set1_ps(a.scale), fill = _mm256_set1_ps(a.fill);
  __m256 mx = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  int64_t t = 0;
  for (; t + 8 <= a.T; t += 8) {
    __m256 v = _mm256_mul_ps(_mm256_loadu_ps(sc + t), scale);
    if (am)
      v = _mm256_add_ps(v, _mm256_loadu_ps(am + t));
    if (fm) {
      const __m256i bytes = _mm256_cvtepu8_epi32(
          _mm_loadl_epi64(reinterpret_cast<const __m128i *>(fm + t)));
      const __m256 set = _mm256_castsi256_ps(
          _mm256_cmpgt_epi32(bytes, _mm256_setzero_si256()));
      v = _mm256_blendv_ps(v, fill, set);
    }
    _mm256_storeu_ps(sc + t, v);
    mx = _mm256_max_ps(mx, v);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, mx);
  float m = lanes[0];
  for (int l = 1; l < 8; ++l)
    m = std::max(m, lanes[l]);
  return attnMaskRow(a, b, h, s, sc, t, m);
}

/// exp(sc[t] - mx) in place for t < T (0 for T <= t < Tp); returns the sum.
SPARQ_ATTN_AVX2 float attnExpRowAvx2(float *sc, int64_t T, int64_t Tp,
                                     float mx) {
  const __m256 m = _mm256_set1_ps(mx);
  __m256 sum = _mm256_setzero_ps();
  int64_t t = 0;
  for (; t + 8 <= T; t += 8) {
    const __m256 e = expAvx2(_mm256_sub_ps(_mm256_loadu_ps(sc + t), m));
    _mm256_storeu_ps(sc + t, e);
    sum = _mm256_add_ps(sum, e);
  }
  if (t < T) {
    alignas(32) float buf[8];
    const int64_t rem = T - t;
    for (int64_t l = 0; l < 8; ++l)
      buf[l] = l < rem ? sc[t + l] : mx - 200.0f;
    __m256 e = expAvx2(_mm256_sub_ps(_mm256_load_ps(buf), m));
    // Lanes past T add nothing.
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 live = _mm256_castsi256_ps(
        _mm256_cmpgt_epi32(_mm256_set1_epi32(int(rem)), lane));
    e = _mm256_and_ps(e, live);
    _mm256_store_ps(buf, e);
    for (int64_t l = 0; l < rem; ++l)
      sc[t + l] = buf[l];
    sum = _mm256_add_ps(sum, e);
  }
  for (int64_t z = T; z < Tp; ++z)
    sc[z] = 0.0f;
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
         ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

/// y[r][d0 .. d0 + 8 W) = inv[r] * sum_t p[r][t] * V[t][d0 ..].
template <int R, int W>
SPARQ_ATTN_AVX2 void attnOutputAvx2(const AttnShape &a, int64_t b, int64_t h,
                                    const float *p, const float *inv,
                                    float *const *y, int64_t d0) {
  __m256 acc[R][W];
  for (int r = 0; r < R; ++r)
    for (int w = 0; w < W; ++w)
      acc[r][w] = _mm256_setzero_ps();
  const int64_t vStride = a.H * a.D;
  const float *v = a.vRow(b, 0, h) + d0;
  for (int64_t t = 0; t < a.T; ++t, v += vStride) {
    __m256 vv[W];
    for (int w = 0; w < W; ++w)
      vv[w] = _mm256_loadu_ps(v + 8 * w);
    for (int r = 0; r < R; ++r) {
      const __m256 pb = _mm256_broadcast_ss(p + r * a.Tp + t);
      for (int w = 0; w < W; ++w)
        acc[r][w] = _mm256_fmadd_ps(pb, vv[w], acc[r][w]);
    }
  }
  for (int r = 0; r < R; ++r) {
    const __m256 s = _mm256_set1_ps(inv[r]);
    for (int w = 0; w < W; ++w)
      _mm256_storeu_ps(y[r] + d0 + 8 * w, _mm256_mul_ps(acc[r][w], s));
  }
}

/// attnPackKeys with 8 x 8 register transposes (D a multiple of 8).
SPARQ_ATTN_AVX2 void attnPackKeysAvx2(const AttnShape &a, int64_t b, int64_t h,
                                      float *kt) {
  int64_t t = 0;
  for (; t + 8 <= a.T; t += 8) {
    const float *k[8];
    for (int i = 0; i < 8; ++i)
      k[i] = a.kRow(b, t + i, h);
    for (int64_t d = 0; d < a.D; d += 8) {
      __m256 r0 = _mm256_loadu_ps(k[0] + d), r1 = _mm256_loadu_ps(k[1] + d);
      __m256 r2 = _mm256_loadu_ps(k[2] + d), r3 = _mm256_loadu_ps(k[3] + d);
      __m256 r4 = _mm256_loadu_ps(k[4] + d), r5 = _mm256_loadu_ps(k[5] + d);
      __m256 r6 = _mm256_loadu_ps(k[6] + d), r7 = _mm256_loadu_ps(k[7] + d);
      __m256 u0 = _mm256_unpacklo_ps(r0, r1), u1 = _mm256_unpackhi_ps(r0, r1);
      __m256 u2 = _mm256_unpacklo_ps(r2, r3), u3 = _mm256_unpackhi_ps(r2, r3);
      __m256 u4 = _mm256_unpacklo_ps(r4, r5), u5 = _mm256_unpackhi_ps(r4, r5);
      __m256 u6 = _mm256_unpacklo_ps(r6, r7), u7 = _mm256_unpackhi_ps(r6, r7);
      __m256 s0 = _mm256_shuffle_ps(u0, u2, 0x44), s1 = _mm256_shuffle_ps(u0, u2, 0xEE);
      __m256 s2 = _mm256_shuffle_ps(u1, u3, 0x44), s3 = _mm256_shuffle_ps(u1, u3, 0xEE);
      __m256 s4 = _mm256_shuffle_ps(u4, u6, 0x44), s5 = _mm256_shuffle_ps(u4, u6, 0xEE);
      __m256 s6 = _mm256_shuffle_ps(u5, u7, 0x44), s7 = _mm256_shuffle_ps(u5, u7, 0xEE);
      float *o = kt + d * a.Tp + t;
      _mm256_storeu_ps(o + 0 * a.Tp, _mm256_permute2f128_ps(s0, s4, 0x20));
      _mm256_storeu_ps(o + 1 * a.Tp, _mm256_permute2f128_ps(s1, s5, 0x20));
      _mm256_storeu_ps(o + 2 * a.Tp, _mm256_permute2f128_ps(s2, s6, 0x20));
      _mm256_storeu_ps(o + 3 * a.Tp, _mm256_permute2f128_ps(s3, s7, 0x20));
      _mm256_storeu_ps(o + 4 * a.Tp, _mm256_permute2f128_ps(s0, s4, 0x31));
      _mm256_storeu_ps(o + 5 * a.Tp, _mm256_permute2f128_ps(s1, s5, 0x31));
      _mm256_storeu_ps(o + 6 * a.Tp, _mm256_permute2f128_ps(s2, s6, 0x31));
      _mm256_storeu_ps(o + 7 * a.Tp, _mm256_permute2f128_ps(s3, s7, 0x31));
    }
  }
  // The last T mod 8 keys and the zero padding.
  attnPackKeys(a, b, h, kt, t);
}

template <int R>
SPARQ_ATTN_AVX2 void attnBlockAvx2R(const AttnShape &a, int64_t b, int64_t h,
                                    int64_t s0, const float *kt, float *sc) {
  const float *q[R];
  float *y[R];
  for (int r = 0; r < R; ++r) {
    q[r] = a.qRow(b, s0 + r, h);
    y[r] = a.yRow(b, s0 + r, h);
  }
  for (int64_t t0 = 0; t0 < a.Tp; t0 += 16)
    attnScoresAvx2<R>(a, q, kt, t0, sc);
  float inv[R];
  for (int r = 0; r < R; ++r) {
    float *row = sc + r * a.Tp;
    const float mx = attnMaskRowAvx2(a, b, h, s0 + r, row);
    // A row whose every score is -inf has no softmax (NaN, as ONNX
    // Softmax gives and the scalar path computes).
    inv[r] = mx == -std::numeric_limits<float>::infinity()
                 ? std::numeric_limits<float>::quiet_NaN()
                 : 1.0f / attnExpRowAvx2(row, a.T, a.Tp, mx);
  }
  int64_t d0 = 0;
  for (; d0 + 16 <= a.D; d0 += 16)
    attnOutputAvx2<R, 2>(a, b, h, sc, inv, y, d0);
  if (d0 < a.D)
    attnOutputAvx2<R, 1>(a, b, h, sc, inv, y, d0);
}

void attnBlockAvx2(const AttnShape &a, int64_t b, int64_t h, int64_t s0,
                   int64_t rows, const float *kt, float *sc) {
  switch (rows) {
  case 1: return attnBlockAvx2R<1>(a, b, h, s0, kt, sc);
  case 2: return attnBlockAvx2R<2>(a, b, h, s0, kt, sc);
  case 3: return attnBlockAvx2R<3>(a, b, h, s0, kt, sc);
  case 4: return attnBlockAvx2R<4>(a, b, h, s0, kt, sc);
  case 5: return attnBlockAvx2R<5>(a, b, h, s0, kt, sc);
  default: return attnBlockAvx2R<6>(a, b, h, s0, kt, sc);
  }
}

/// Where the dense AVX2+FMA set runs (the CPU has it and SPARQ_KERNELS
/// does not force the portable code).
bool attnUseAvx2() { return avx2KernelSet() != nullptr; }
#endif

} // namespace

extern "C" SPARQ_API void sparq_uk_attention_f32(
    void *ctx, const float *Q, const float *K, const float *V, float *Y,
    int64_t B, int64_t S, int64_t T, int64_t H, int64_t D, float scale,
    const float *addMask, int64_t amB, int64_t amH, int64_t amS, int64_t amT,
    const uint8_t *fillMask, int64_t fmB, int64_t fmH, int64_t fmS,
    int64_t fmT, float fill) {
  if (!ctx || !Q || !K || !V || !Y || B <= 0 || S <= 0 || T <= 0 || H <= 0 ||
      D <= 0)
    return;
  Context &context = contextFromHandle(ctx);
  AttnShape a{Q,     K, V, Y, B, S, T, H, D, (T + 15) / 16 * 16, scale,
              addMask, {amB, amH, amS, amT}, fillMask, {fmB, fmH, fmS, fmT},
              fill};
  bool avx2 = false;
#ifdef SPARQ_HAVE_ACTIVATIONS_AVX2
  avx2 = D % 8 == 0 && attnUseAvx2();
#endif
  const int64_t keyFloats = D * a.Tp;
  const int64_t blocks = (S + kAttnRows - 1) / kAttnRows;
  auto packKeys = [&](int64_t bh, float *kt) {
#ifdef SPARQ_HAVE_ACTIVATIONS_AVX2
    if (avx2)
      return attnPackKeysAvx2(a, bh / H, bh % H, kt);
#endif
    attnPackKeys(a, bh / H, bh % H, kt);
  };
  auto runBlock = [&](int64_t bh, int64_t blk, const float *kt, float *sc) {
    const int64_t b = bh / H, h = bh % H, s0 = blk * kAttnRows;
    const int64_t rows = std::min(kAttnRows, S - s0);
#ifdef SPARQ_HAVE_ACTIVATIONS_AVX2
    if (avx2)
      return attnBlockAvx2(a, b, h, s0, rows, kt, sc);
#endif
    attnBlockScalar(a, b, h, s0, rows, kt, sc);
  };
  const size_t scoreFloats = static_cast<size_t>(kAttnRows * a.Tp);
  if (B * H >= 2 * context.numThreads()) {
    // Enough heads to share out: each task packs its head's keys and runs
    // all its query blocks (one parallel region).
    context.threads().parallelFor(B * H, 1, [&](int64_t u0, int64_t u1) {
      float *kt = context.scratch(ScratchSlot::PackB,
                                  static_cast<size_t>(keyFloats));
      float *sc = context.scratch(ScratchSlot::PackA, scoreFloats);
      if (!kt || !sc)
        return;
      for (int64_t bh = u0; bh < u1; ++bh) {
        packKeys(bh, kt);
        for (int64_t blk = 0; blk < blocks; ++blk)
          runBlock(bh, blk, kt, sc);
      }
    });
    return;
  }
  // Few heads: every head's keys packed first, then the query blocks of all
  // heads shared out.
  float *kts = context.scratch(ScratchSlot::SharedB,
                               static_cast<size_t>(B * H * keyFloats));
  if (!kts)
    return;
  context.threads().parallelFor(B * H, 1, [&](int64_t u0, int64_t u1) {
    for (int64_t bh = u0; bh < u1; ++bh)
      packKeys(bh, kts + bh * keyFloats);
  });
  context.threads().parallelFor(
      B * H * blocks, 1, [&](int64_t u0, int64_t u1) {
        float *sc = context.scratch(ScratchSlot::PackA, scoreFloats);
        if (!sc)
          return;
        for (int64_t u = u0; u < u1; ++u)
          runBlock(u / blocks, u % blocks, kts + (u / blocks) * keyFloats, sc);
      });
}
