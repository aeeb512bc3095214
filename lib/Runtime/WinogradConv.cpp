//===- WinogradConv.cpp - Winograd F(m x m, 3 x 3) convolution ------------===//
//
// Winograd convolution for 3x3, stride-1 layers: Y = A^T [U (.) V] A with
// U = G g G^T per (output, input) channel pair and V = B^T d B per input tile
// of alpha x alpha = (m + 2)^2 pixels. The element-wise products summed over
// input channels become alpha^2 independent GEMMs [K x C] x [C x tiles],
// which run on the packed SGEMM engine:
//  1. the weights are transformed once and cached as alpha^2 packed A
//     operands (the weights are constant);
//  2. input tiles are transformed straight into the packed B layout, eight
//     tiles per AVX2 register (masked loads supply the zero padding);
//  3. one batched GEMM computes all alpha^2 products;
//  4. the output transform writes Y tile by tile, and the fused epilogue
//     (bias, residual, activation) runs once per output row.
// Tiles are processed in blocks of whole tile rows so scratch stays bounded;
// every phase runs on the thread pool. Only the AVX2 build has the tile
// transforms; elsewhere chooseWinogradTile() returns 0.
//
//===----------------------------------------------------------------------===//

#include "WinogradConv.h"

#include "Context.h"
#include "Gemm.h"

#include <algorithm>
#include <atomic>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SPARQ_WINOGRAD_AVX2_BUILD 1
#include <immintrin.h>
#endif

using namespace sparq::rt;

namespace {

/// Tag of Winograd weight transforms in the packed-weight cache.
constexpr int64_t kWinogradPackTag = 3;
/// Floats of scratch per transformed-tile buffer (input or output side).
constexpr int64_t kWinogradScratchFloats = int64_t(2) << 20; // 8 MiB

std::atomic<int> winogradOverride{-1};

int64_t wgCeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t wgRoundUp(int64_t a, int64_t b) { return wgCeilDiv(a, b) * b; }

/// U = G g G^T for one 3x3 filter g, alpha x alpha row-major into u.
void transformFilter(int m, const float *g, double *u) {
  static const double g2[4][3] = {
      {1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  static const double g4[6][3] = {{1.0 / 4, 0, 0},
                                  {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                  {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                  {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                  {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                  {0, 0, 1}};
  const int alpha = m + 2;
  auto G = [&](int i, int j) { return m == 2 ? g2[i][j] : g4[i][j]; };
  double t[6][3]; // G g
  for (int i = 0; i < alpha; ++i)
    for (int j = 0; j < 3; ++j) {
      double acc = 0;
      for (int l = 0; l < 3; ++l)
        acc += G(i, l) * g[l * 3 + j];
      t[i][j] = acc;
    }
  for (int i = 0; i < alpha; ++i)
    for (int j = 0; j < alpha; ++j) {
      double acc = 0;
      for (int l = 0; l < 3; ++l)
        acc += t[i][l] * G(j, l);
      u[i * alpha + j] = acc;
    }
}

/// Caches the alpha^2 transformed weight matrices, each [K, C] packed as a
/// GEMM A operand; matrix xi starts at xi * packedASize(K, C).
const float *transformedWeights(Context &ctx, int m, const float *W, int64_t K,
                                int64_t C) {
  const int alpha = m + 2, positions = alpha * alpha;
  const size_t perPosition = packedASize(K, C);
  std::vector<int64_t> key = {kWinogradPackTag, reinterpret_cast<int64_t>(W), K,
                              C, m};
  return ctx.cachedPack(key, perPosition * positions, [&](float *dst) {
    std::vector<float> plain(static_cast<size_t>(positions) * K * C);
    double u[36];
    for (int64_t k = 0; k < K; ++k)
      for (int64_t c = 0; c < C; ++c) {
        transformFilter(m, W + (k * C + c) * 9, u);
        for (int xi = 0; xi < positions; ++xi)
          plain[(xi * K + k) * C + c] = static_cast<float>(u[xi]);
      }
    for (int xi = 0; xi < positions; ++xi)
      packWholeA(plain.data() + xi * K * C, C, K, C, dst + xi * perPosition);
  });
}

#ifdef SPARQ_WINOGRAD_AVX2_BUILD

#define SPARQ_WINOGRAD_AVX2 __attribute__((target("avx2,fma")))
#define SPARQ_WINOGRAD_INLINE                                                  \
  __attribute__((target("avx2,fma"), always_inline)) inline

/// In-register transpose of eight rows of eight floats.
SPARQ_WINOGRAD_INLINE void transpose8x8(__m256 r[8]) {
  __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

/// v = B^T d for one line of alpha values.
template <int M> SPARQ_WINOGRAD_INLINE void inputLine(const __m256 *d, __m256 *v);

template <> SPARQ_WINOGRAD_INLINE void inputLine<2>(const __m256 *d, __m256 *v) {
  v[0] = _mm256_sub_ps(d[0], d[2]);
  v[1] = _mm256_add_ps(d[1], d[2]);
  v[2] = _mm256_sub_ps(d[2], d[1]);
  v[3] = _mm256_sub_ps(d[1], d[3]);
}

template <> SPARQ_WINOGRAD_INLINE void inputLine<4>(const __m256 *d, __m256 *v) {
  const __m256 four = _mm256_set1_ps(4.f), five = _mm256_set1_ps(5.f);
  const __m256 two = _mm256_set1_ps(2.f);
  __m256 t0 = _mm256_fnmadd_ps(four, d[2], d[4]); // d4 - 4 d2
  __m256 t1 = _mm256_fnmadd_ps(four, d[1], d[3]); // d3 - 4 d1
  __m256 t2 = _mm256_sub_ps(d[4], d[2]);
  __m256 t3 = _mm256_mul_ps(two, _mm256_sub_ps(d[3], d[1]));
  v[0] = _mm256_fmadd_ps(four, d[0], _mm256_fnmadd_ps(five, d[2], d[4]));
  v[1] = _mm256_add_ps(t0, t1);
  v[2] = _mm256_sub_ps(t0, t1);
  v[3] = _mm256_add_ps(t2, t3);
  v[4] = _mm256_sub_ps(t2, t3);
  v[5] = _mm256_fmadd_ps(four, d[1], _mm256_fnmadd_ps(five, d[3], d[5]));
}

/// y = A^T s for one line of alpha values.
template <int M> SPARQ_WINOGRAD_INLINE void outputLine(const __m256 *s, __m256 *y);

template <> SPARQ_WINOGRAD_INLINE void outputLine<2>(const __m256 *s, __m256 *y) {
  y[0] = _mm256_add_ps(_mm256_add_ps(s[0], s[1]), s[2]);
  y[1] = _mm256_sub_ps(_mm256_sub_ps(s[1], s[2]), s[3]);
}

template <> SPARQ_WINOGRAD_INLINE void outputLine<4>(const __m256 *s, __m256 *y) {
  __m256 a = _mm256_add_ps(s[1], s[2]), b = _mm256_sub_ps(s[1], s[2]);
  __m256 c = _mm256_add_ps(s[3], s[4]), d = _mm256_sub_ps(s[3], s[4]);
  y[0] = _mm256_add_ps(_mm256_add_ps(s[0], a), c);
  y[1] = _mm256_fmadd_ps(_mm256_set1_ps(2.f), d, b);
  y[2] = _mm256_fmadd_ps(_mm256_set1_ps(4.f), c, a);
  y[3] = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(8.f), d, b), s[5]);
}

/// Geometry of one Winograd call, shared by the phases.
struct WinogradPlan {
  const WinogradProblem *p;
  int64_t TH, TW;        ///< tiles per image column / row
  int64_t rowsPerBlock;  ///< tile rows per block
  int64_t maxBlockTiles; ///< rowsPerBlock * TW
};

/// Phase 2: transforms channels [c0, c1) of eight consecutive tiles
/// [j0, j0 + 8) of the block starting at global tile row gr0 into the packed
/// B operands V (matrix xi at V + xi * C * nPad).
template <int M>
SPARQ_WINOGRAD_AVX2 void
transformInputGroup(const WinogradPlan &plan, const float *X, int64_t gr0,
                    int64_t blockTiles, int64_t nPad, int64_t j0, int64_t c0,
                    int64_t c1, float *V) {
  constexpr int alpha = M + 2;
  const WinogradProblem &p = *plan.p;
  const int64_t plane = p.H * p.W;
  // Per lane: input offset of its tile's top-left pixel in channel 0, the
  // valid rows [rlo, rhi) and the mask of valid columns.
  int64_t offset[8];
  int rlo[8], rhi[8];
  __m256i colMask[8];
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (int l = 0; l < 8; ++l) {
    int64_t j = j0 + l;
    if (j >= blockTiles) {
      offset[l] = 0, rlo[l] = rhi[l] = 0;
      colMask[l] = _mm256_setzero_si256();
      continue;
    }
    int64_t gr = gr0 + j / plan.TW, tw = j % plan.TW;
    int64_t n = gr / plan.TH, th = gr % plan.TH;
    int64_t ih0 = th * M - p.padTop, iw0 = tw * M - p.padLeft;
    offset[l] = n * p.C * plane + ih0 * p.W + iw0;
    rlo[l] = static_cast<int>(std::max<int64_t>(0, -ih0));
    rhi[l] = static_cast<int>(std::min<int64_t>(alpha, p.H - ih0));
    int lo = static_cast<int>(std::max<int64_t>(0, -iw0));
    int hi = static_cast<int>(std::min<int64_t>(alpha, p.W - iw0));
    colMask[l] =
        _mm256_and_si256(_mm256_cmpgt_epi32(iota, _mm256_set1_epi32(lo - 1)),
                         _mm256_cmpgt_epi32(_mm256_set1_epi32(hi), iota));
  }
  const int64_t panelOffset = (j0 / kNR) * kNR, lane0 = j0 % kNR;
  for (int64_t c = c0; c < c1; ++c) {
    const float *xc = X + c * plane;
    __m256 t[alpha][alpha]; // row transform of each input row
    for (int r = 0; r < alpha; ++r) {
      __m256 rows[8];
      for (int l = 0; l < 8; ++l)
        rows[l] = r >= rlo[l] && r < rhi[l]
                      ? _mm256_maskload_ps(xc + offset[l] + r * p.W, colMask[l])
                      : _mm256_setzero_ps();
      transpose8x8(rows); // rows[col] now holds column col of the 8 tiles
      inputLine<M>(rows, t[r]);
    }
    const int64_t k0 = c - c % kKC, kc = std::min(kKC, p.C - k0);
    float *dst = V + k0 * nPad + panelOffset * kc + (c - k0) * kNR + lane0;
    const int64_t matrixStride = p.C * nPad;
    for (int col = 0; col < alpha; ++col) {
      __m256 line[alpha], v[alpha];
      for (int r = 0; r < alpha; ++r)
        line[r] = t[r][col];
      inputLine<M>(line, v);
      for (int r = 0; r < alpha; ++r)
        _mm256_store_ps(dst + (r * alpha + col) * matrixStride, v[r]);
    }
  }
}

/// Phase 4: output transform of output channel k over the tiles of tile row
/// `row` of the block, plus bias; the caller applies the rest of the
/// epilogue. Products of position xi are at Mout + xi * K * nPad.
template <int M>
SPARQ_WINOGRAD_AVX2 void transformOutputRow(const WinogradPlan &plan,
                                            const float *Mout, int64_t nPad,
                                            int64_t gr, int64_t row, int64_t k,
                                            float bias, float *Y) {
  constexpr int alpha = M + 2;
  const WinogradProblem &p = *plan.p;
  const int64_t n = gr / plan.TH, th = gr % plan.TH;
  const int64_t oh0 = th * M, rows = std::min<int64_t>(M, p.OH - oh0);
  float *y = Y + ((n * p.K + k) * p.OH + oh0) * p.OW;
  const float *src = Mout + k * nPad + row * plan.TW;
  const int64_t matrixStride = p.K * nPad;
  const __m256 vbias = _mm256_set1_ps(bias);
  alignas(32) float out[M * M][8];
  for (int64_t tw0 = 0; tw0 < plan.TW; tw0 += 8) {
    __m256 s[alpha][M]; // row transform of each product row
    for (int i = 0; i < alpha; ++i) {
      __m256 line[alpha];
      for (int j = 0; j < alpha; ++j)
        line[j] = _mm256_loadu_ps(src + (i * alpha + j) * matrixStride + tw0);
      outputLine<M>(line, s[i]);
    }
    for (int ox = 0; ox < M; ++ox) {
      __m256 line[alpha], v[M];
      for (int i = 0; i < alpha; ++i)
        line[i] = s[i][ox];
      outputLine<M>(line, v);
      for (int oy = 0; oy < M; ++oy)
        _mm256_store_ps(out[oy * M + ox], _mm256_add_ps(v[oy], vbias));
    }
    int64_t lanes = std::min<int64_t>(8, plan.TW - tw0);
    for (int64_t l = 0; l < lanes; ++l) {
      int64_t ow0 = (tw0 + l) * M;
      int64_t cols = std::min<int64_t>(M, p.OW - ow0);
      for (int64_t oy = 0; oy < rows; ++oy) {
        float *yo = y + oy * p.OW + ow0;
        if (cols == M) {
          for (int ox = 0; ox < M; ++ox)
            yo[ox] = out[oy * M + ox][l];
        } else {
          for (int64_t ox = 0; ox < cols; ++ox)
            yo[ox] = out[oy * M + ox][l];
        }
      }
    }
  }
}

template <int M>
bool runWinograd(Context &ctx, const float *X, const float *W,
                 const Epilogue &epi, float *Y, const WinogradProblem &p) {
  constexpr int alpha = M + 2, positions = alpha * alpha;
  const float *U = transformedWeights(ctx, M, W, p.K, p.C);
  if (!U)
    return false;
  WinogradPlan plan;
  plan.p = &p;
  plan.TH = wgCeilDiv(p.OH, M);
  plan.TW = wgCeilDiv(p.OW, M);
  const int64_t totalRows = p.N * plan.TH;
  // Largest block of whole tile rows whose transformed tiles fit the budget.
  const int64_t channels = std::max(p.C, p.K);
  int64_t maxTiles = kWinogradScratchFloats / (positions * channels);
  plan.rowsPerBlock =
      std::max<int64_t>(1, std::min(totalRows, maxTiles / plan.TW));
  // Keep blocks balanced: same number of rows in each.
  int64_t blocks = wgCeilDiv(totalRows, plan.rowsPerBlock);
  plan.rowsPerBlock = wgCeilDiv(totalRows, blocks);
  plan.maxBlockTiles = plan.rowsPerBlock * plan.TW;
  const int64_t nPadMax = wgRoundUp(plan.maxBlockTiles, kNR);
  // Output products are read eight tiles at a time past the block's end.
  float *V = ctx.scratch(ScratchSlot::WinogradIn, positions * p.C * nPadMax);
  float *Mout = ctx.scratch(ScratchSlot::WinogradOut,
                            positions * p.K * nPadMax + 16);
  if (!V || !Mout)
    return false;

  const KernelSet &ks = kernels();
  const bool restOfEpilogue = epi.residual || epi.act != 0;
  const int64_t plane = p.OH * p.OW;
  for (int64_t gr0 = 0; gr0 < totalRows; gr0 += plan.rowsPerBlock) {
    const int64_t rows = std::min(plan.rowsPerBlock, totalRows - gr0);
    const int64_t blockTiles = rows * plan.TW;
    const int64_t nPad = wgRoundUp(blockTiles, kNR);
    // Input transform: (group of 8 tiles) x (chunk of channels).
    const int64_t groups = nPad / 8;
    const int64_t cChunk = std::min<int64_t>(p.C, 32);
    const int64_t cChunks = wgCeilDiv(p.C, cChunk);
    ctx.threads().parallelFor(groups * cChunks, 1, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        int64_t g = t / cChunks, cc = t % cChunks;
        int64_t c0 = cc * cChunk, c1 = std::min(p.C, c0 + cChunk);
        transformInputGroup<M>(plan, X, gr0, blockTiles, nPad, g * 8, c0, c1,
                               V);
      }
    });
    // The alpha^2 products, as one batched GEMM.
    GemmArgs a;
    a.batch = positions;
    a.M = p.K;
    a.N = blockTiles;
    a.K = p.C;
    a.APacked = U;
    a.strideAPacked = static_cast<int64_t>(packedASize(p.K, p.C));
    a.BPacked = V;
    a.strideBPacked = p.C * nPad;
    a.C = Mout;
    a.ldc = nPad;
    a.strideC = p.K * nPad;
    gemm(ctx, a);
    // Output transform and epilogue: (output channel) x (tile row).
    ctx.threads().parallelFor(p.K * rows, 4, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        int64_t k = t / rows, row = t % rows;
        int64_t gr = gr0 + row;
        transformOutputRow<M>(plan, Mout, nPad, gr, row, k,
                              epi.bias ? epi.bias[k] : 0.f, Y);
        if (!restOfEpilogue)
          continue;
        int64_t n = gr / plan.TH, oh0 = (gr % plan.TH) * M;
        int64_t outRows = std::min<int64_t>(M, p.OH - oh0);
        int64_t base = (n * p.K + k) * plane + oh0 * p.OW;
        ks.epilogueRow(Y + base, 0.f, nullptr,
                       epi.residual ? epi.residual + base : nullptr,
                       outRows * p.OW, epi.act, epi.actA, epi.actB);
      }
    });
  }
  return true;
}

#endif // SPARQ_WINOGRAD_AVX2_BUILD

} // namespace

void sparq::rt::setWinogradTileOverride(int m) { winogradOverride.store(m); }

int sparq::rt::chooseWinogradTile(const WinogradProblem &p) {
#ifdef SPARQ_WINOGRAD_AVX2_BUILD
  if (&kernels() != avx2KernelSet())
    return 0;
  int forced = winogradOverride.load();
  if (forced == 0 || forced == 2 || forced == 4)
    return forced;
  if (p.C < 16 || p.K < 16)
    return 0;
  // Multiply counts per output channel and input channel, with the tile
  // count padded to whole GEMM panels, weighted by the efficiency measured
  // on the ResNet-18 layers (sparq-kernel-bench, 2 threads): F(4x4) has the
  // costlier transforms, and both lose on tiny images, where padding the
  // output to whole tiles and panels wastes more than the transform saves.
  auto tiles = [&](int64_t m) {
    return wgRoundUp(p.N * wgCeilDiv(p.OH, m) * wgCeilDiv(p.OW, m), kNR);
  };
  double direct = 9.0 * p.N * p.OH * p.OW;
  double f4 = 1.6 * 36.0 * tiles(4);
  double f2 = 1.25 * 16.0 * tiles(2);
  if (f4 < direct && f4 <= f2)
    return 4;
  if (f2 < direct)
    return 2;
  return 0;
#else
  return 0;
#endif
}

bool sparq::rt::winogradConv3x3(Context &ctx, int m, const float *X,
                                const float *W, const Epilogue &epi, float *Y,
                                const WinogradProblem &p) {
#ifdef SPARQ_WINOGRAD_AVX2_BUILD
  if (m == 2)
    return runWinograd<2>(ctx, X, W, epi, Y, p);
  if (m == 4)
    return runWinograd<4>(ctx, X, W, epi, Y, p);
#endif
  return false;
}
