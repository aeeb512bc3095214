//===- SparseQTests.cpp - Unit tests of the sparse int8 matmul ------------===//
//
// Checks sparq_uk_sparse_qmatmul_i8 (and the 1x1 convolution
// sparq_uk_sparse_qconv2d_i8, strided, batched) bit for bit against a scalar
// reference written here (int64 sums of (a - aZero) * w over the dense int8
// weight, then the documented output stage: i32, f32 with bias and activation,
// or round-half-to-even requantization to u8/s8 with clamping), over shapes
// around the kernel's tile edges (16-row panels, 64-column chunks, 16-block
// gather steps), densities from 0 to 100% of 1 x 4 blocks, M from 1 to 130
// (both the row and the panel path), u8 and s8 activations, 2- and 4-byte
// block indices, every ISA path the CPU runs; and that the packer's blob
// reads back, and that corrupted blobs are rejected without writing C.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include "QGemm.h"
#include "SparsePack.h"

#include "sparq/Runtime/sparq_sparse_format.h"

#include <cmath>
#include <cstring>

using namespace sparq::unit;
using sparq::rt::QIsa;

namespace {

struct SqRng {
  uint64_t s;
  explicit SqRng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ULL + 7) {}
  uint32_t next() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(s >> 33);
  }
  int64_t range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(next() % uint64_t(hi - lo + 1));
  }
  bool chance(double p) { return (next() % 1000000) < p * 1000000; }
};

/// A random [rows, cols] int8 weight whose 1 x 4 blocks are kept with
/// probability `density` (kept blocks have at least one non-zero).
std::vector<int8_t> makeWeightI8(int64_t rows, int64_t cols, double density,
                                 SqRng &rng) {
  std::vector<int8_t> w(rows * cols, 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < cols / 4; ++b) {
      if (!rng.chance(density))
        continue;
      for (int t = 0; t < 4; ++t)
        w[r * cols + b * 4 + t] = static_cast<int8_t>(rng.range(-128, 127));
      if (w[r * cols + b * 4] == 0)
        w[r * cols + b * 4] = 1;
    }
  return w;
}

struct SqCase {
  int64_t M, N, K;
  double density;
  int indexBytes;
};

/// The reference of one element's output, written to ref (es bytes).
void referenceOut(int64_t acc, int outKind, int n, const int32_t *bias,
                  const std::vector<float> &scale, const float *biasF32,
                  int32_t outZero, int32_t qmin, int32_t qmax, int act,
                  uint8_t *ref) {
  int32_t v = static_cast<int32_t>(acc + (bias ? bias[n] : 0));
  if (outKind == SPARQ_QOUT_I32) {
    std::memcpy(ref, &v, 4);
    return;
  }
  float f = static_cast<float>(v) * scale[scale.size() == 1 ? 0 : n];
  if (outKind == SPARQ_QOUT_F32) {
    if (biasF32)
      f += biasF32[scale.size() == 1 ? 0 : n];
    if (act == SPARQ_ACT_RELU)
      f = f > 0 ? f : 0;
    std::memcpy(ref, &f, 4);
    return;
  }
  float r = std::nearbyint(f) + static_cast<float>(outZero);
  int64_t q = std::isnan(r)
                  ? outZero
                  : static_cast<int64_t>(std::fmax(-1e9, std::fmin(1e9, r)));
  q = std::min<int64_t>(qmax, std::max<int64_t>(qmin, q));
  if (outKind == SPARQ_QOUT_U8)
    *ref = static_cast<uint8_t>(q);
  else
    *ref = static_cast<uint8_t>(static_cast<int8_t>(q));
}


/// One check: out equals ref element by element (es bytes each), naming the
/// first element that differs.
void checkSameElements(const std::vector<uint8_t> &ref,
                       const std::vector<uint8_t> &out, int64_t es,
                       const std::string &what) {
  for (size_t i = 0; i < ref.size(); i += es)
    if (std::memcmp(ref.data() + i, out.data() + i, es) != 0) {
      check(false, what + ": element " + std::to_string(i / es) +
                       " differs from the reference");
      return;
    }
  check(true, what);
}

void testCase(sparq_model *model, const SqCase &c, int aType, int outKind,
              SqRng &rng, const std::string &tag) {
  std::vector<int8_t> w = makeWeightI8(c.N, c.K, c.density, rng);
  std::vector<uint8_t> blob =
      sparq::rt::packSparseBlockI8(w.data(), c.N, c.K, c.indexBytes);
  std::string what =
      tag + " M=" + std::to_string(c.M) + " N=" + std::to_string(c.N) +
      " K=" + std::to_string(c.K) + " d=" + std::to_string(c.density) + " i" +
      std::to_string(c.indexBytes) + (aType == SPARQ_QTYPE_S8 ? " s8" : " u8") +
      " out" + std::to_string(outKind);
  if (!check(!blob.empty(), what + ": pack"))
    return;
  sparq::rt::SparseMatrixI8 view;
  if (!check(sparq::rt::readSparseBlobI8(blob.data(), view), what + ": read"))
    return;
  std::vector<uint8_t> A(c.M * c.K);
  for (auto &a : A)
    a = static_cast<uint8_t>(rng.range(0, 255));
  uint8_t zp = static_cast<uint8_t>(rng.range(0, 255));
  const int32_t za = aType == SPARQ_QTYPE_S8 ? int32_t(int8_t(zp)) : zp;
  std::vector<int32_t> bias(c.N);
  for (auto &b : bias)
    b = static_cast<int32_t>(rng.range(-5000, 5000));
  const bool perCol = rng.chance(0.5);
  std::vector<float> scale(perCol ? c.N : 1);
  for (auto &s : scale)
    s = 0.0005f + 0.0001f * static_cast<float>(rng.range(0, 40));
  std::vector<float> biasF32(scale.size());
  for (auto &b : biasF32)
    b = 0.01f * static_cast<float>(rng.range(-100, 100));
  const bool useBias = rng.chance(0.7);
  const int act = outKind == SPARQ_QOUT_F32 && rng.chance(0.5) ? SPARQ_ACT_RELU
                                                               : SPARQ_ACT_NONE;
  int32_t outZero = 0, qmin = 0, qmax = 0;
  if (outKind == SPARQ_QOUT_U8) {
    outZero = static_cast<int32_t>(rng.range(0, 255));
    qmin = rng.chance(0.3) ? outZero : 0;
    qmax = 255;
  } else if (outKind == SPARQ_QOUT_S8) {
    outZero = static_cast<int32_t>(rng.range(-128, 127));
    qmin = -128;
    qmax = 127;
  }
  const int64_t es =
      outKind == SPARQ_QOUT_I32 || outKind == SPARQ_QOUT_F32 ? 4 : 1;
  std::vector<uint8_t> ref(c.M * c.N * es);
  for (int64_t m = 0; m < c.M; ++m)
    for (int64_t n = 0; n < c.N; ++n) {
      int64_t acc = 0;
      for (int64_t k = 0; k < c.K; ++k) {
        int32_t a = aType == SPARQ_QTYPE_S8 ? int32_t(int8_t(A[m * c.K + k]))
                                            : int32_t(A[m * c.K + k]);
        acc += int64_t(a - za) * w[n * c.K + k];
      }
      referenceOut(acc, outKind, static_cast<int>(n),
                   useBias ? bias.data() : nullptr, scale,
                   useBias ? biasF32.data() : nullptr, outZero, qmin, qmax, act,
                   ref.data() + (m * c.N + n) * es);
    }
  std::vector<uint8_t> out(ref.size(), 0xCD);
  sparq_uk_sparse_qmatmul_i8(
      model, blob.data(), A.data(), out.data(), c.M, aType, &zp, outKind,
      useBias ? bias.data() : nullptr,
      outKind == SPARQ_QOUT_I32 ? nullptr : scale.data(), perCol ? 1 : 0,
      useBias && outKind == SPARQ_QOUT_F32 ? biasF32.data() : nullptr, outZero,
      qmin, qmax, act, 0.f, 0.f);
  checkSameElements(ref, out, es, what);
}

struct SqConvCase {
  int64_t N, C, H, W, K, stride;
  double density;
};

/// sparq_uk_sparse_qconv2d_i8 (1x1, no padding) against the scalar sum
/// over channels at each strided input pixel.
void testConvCase(sparq_model *model, const SqConvCase &c, int xType,
                  int outKind, SqRng &rng, const std::string &tag) {
  const int64_t OH = (c.H - 1) / c.stride + 1, OW = (c.W - 1) / c.stride + 1;
  const int64_t P = OH * OW;
  std::vector<int8_t> w = makeWeightI8(c.K, c.C, c.density, rng);
  std::vector<uint8_t> blob = sparq::rt::packSparseBlockI8(w.data(), c.K, c.C);
  std::string what = tag + " conv N=" + std::to_string(c.N) +
                     " C=" + std::to_string(c.C) + " " + std::to_string(c.H) +
                     "x" + std::to_string(c.W) + " K=" + std::to_string(c.K) +
                     " s=" + std::to_string(c.stride) +
                     " d=" + std::to_string(c.density) +
                     (xType == SPARQ_QTYPE_S8 ? " s8" : " u8") + " out" +
                     std::to_string(outKind);
  if (!check(!blob.empty(), what + ": pack"))
    return;
  std::vector<uint8_t> X(c.N * c.C * c.H * c.W);
  for (auto &x : X)
    x = static_cast<uint8_t>(rng.range(0, 255));
  uint8_t zp = static_cast<uint8_t>(rng.range(0, 255));
  const int32_t za = xType == SPARQ_QTYPE_S8 ? int32_t(int8_t(zp)) : zp;
  std::vector<int32_t> bias(c.K);
  for (auto &b : bias)
    b = static_cast<int32_t>(rng.range(-5000, 5000));
  const bool perChannel = rng.chance(0.5);
  std::vector<float> scale(perChannel ? c.K : 1);
  for (auto &s : scale)
    s = 0.0005f + 0.0001f * static_cast<float>(rng.range(0, 40));
  std::vector<float> biasF32(scale.size());
  for (auto &b : biasF32)
    b = 0.01f * static_cast<float>(rng.range(-100, 100));
  const int act = outKind == SPARQ_QOUT_F32 ? SPARQ_ACT_RELU : SPARQ_ACT_NONE;
  int32_t outZero = 0, qmin = 0, qmax = 0;
  if (outKind == SPARQ_QOUT_U8) {
    outZero = static_cast<int32_t>(rng.range(0, 255));
    qmin = 0;
    qmax = 255;
  } else if (outKind == SPARQ_QOUT_S8) {
    outZero = static_cast<int32_t>(rng.range(-128, 127));
    qmin = -100;
    qmax = 127;
  }
  const int64_t es =
      outKind == SPARQ_QOUT_I32 || outKind == SPARQ_QOUT_F32 ? 4 : 1;
  std::vector<uint8_t> ref(c.N * c.K * P * es);
  for (int64_t n = 0; n < c.N; ++n)
    for (int64_t k = 0; k < c.K; ++k)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          int64_t acc = 0;
          for (int64_t ch = 0; ch < c.C; ++ch) {
            uint8_t raw =
                X[((n * c.C + ch) * c.H + oh * c.stride) * c.W + ow * c.stride];
            int32_t x =
                xType == SPARQ_QTYPE_S8 ? int32_t(int8_t(raw)) : int32_t(raw);
            acc += int64_t(x - za) * w[k * c.C + ch];
          }
          referenceOut(acc, outKind, static_cast<int>(k), bias.data(), scale,
                       biasF32.data(), outZero, qmin, qmax, act,
                       ref.data() + ((n * c.K + k) * P + oh * OW + ow) * es);
        }
  std::vector<uint8_t> out(ref.size(), 0xCD);
  sparq_uk_sparse_qconv2d_i8(
      model, blob.data(), X.data(), out.data(), c.N, c.C, c.H, c.W, OH, OW,
      c.stride, c.stride, xType, &zp, outKind, bias.data(),
      outKind == SPARQ_QOUT_I32 ? nullptr : scale.data(), perChannel ? 1 : 0,
      outKind == SPARQ_QOUT_F32 ? biasF32.data() : nullptr, outZero, qmin, qmax,
      act, 0.f, 0.f);
  checkSameElements(ref, out, es, what);
}

/// Corrupted blobs (each field broken in turn) are rejected: C unwritten.
void testRejects(sparq_model *model, const std::string &tag) {
  SqRng rng(99);
  std::vector<int8_t> w = makeWeightI8(8, 32, 0.5, rng);
  std::vector<uint8_t> good = sparq::rt::packSparseBlockI8(w.data(), 8, 32);
  sparq_sparse_header h;
  std::memcpy(&h, good.data(), sizeof(h));
  std::vector<uint8_t> A(2 * 32, 3);
  uint8_t zp = 1;
  float scale = 1.f;
  auto runsClean = [&](std::vector<uint8_t> blob, const std::string &what) {
    // A copy in a fresh buffer: the cache is keyed by address and header.
    std::vector<int32_t> out(2 * 8, 0x7ABCDEF);
    sparq_uk_sparse_qmatmul_i8(model, blob.data(), A.data(), out.data(), 2,
                               SPARQ_QTYPE_U8, &zp, SPARQ_QOUT_I32, nullptr,
                               &scale, 0, nullptr, 0, 0, 0, 0, 0.f, 0.f);
    bool untouched = true;
    for (int32_t v : out)
      untouched = untouched && v == 0x7ABCDEF;
    sparq::rt::SparseMatrixI8 view;
    check(untouched && !sparq::rt::readSparseBlobI8(blob.data(), view),
          tag + " rejects " + what);
  };
  auto withHeader = [&](auto mutate, const std::string &what) {
    std::vector<uint8_t> b = good;
    sparq_sparse_header hh = h;
    mutate(hh);
    std::memcpy(b.data(), &hh, sizeof(hh));
    runsClean(b, what);
  };
  withHeader([](sparq_sparse_header &x) { x.magic ^= 1; }, "bad magic");
  withHeader([](sparq_sparse_header &x) { x.format = SPARQ_SPARSE_BLOCK; },
             "f32 block format");
  withHeader([](sparq_sparse_header &x) { x.block_cols = 8; }, "block width");
  withHeader([](sparq_sparse_header &x) { x.cols = 30; }, "cols % 4");
  withHeader([](sparq_sparse_header &x) { x.total_bytes -= 16; },
             "truncated total");
  withHeader([](sparq_sparse_header &x) { x.nnz += 4; }, "nnz");
  withHeader([](sparq_sparse_header &x) { x.values_offset += 1; },
             "misaligned values");
  withHeader([](sparq_sparse_header &x) { x.index_bytes = 3; }, "index width");
  {
    std::vector<uint8_t> b = good;
    uint16_t big = 8; // block column 8 of a 32-col matrix: out of range
    std::memcpy(b.data() + h.col_offset, &big, 2);
    runsClean(b, "block column out of range");
  }
  {
    std::vector<uint8_t> b = good;
    uint32_t rp;
    std::memcpy(&rp, b.data() + h.row_ptr_offset + 4, 4);
    rp = h.nnz / 4 + 1; // past the end, non-monotone at the last row
    std::memcpy(b.data() + h.row_ptr_offset + 4, &rp, 4);
    runsClean(b, "row pointer");
  }
  {
    std::vector<uint8_t> b = good;
    b[h.values_offset] ^= 0x11; // the row sum no longer matches
    runsClean(b, "row sum mismatch");
  }
  // The f32 reader does not take an int8 blob.
  sparq::rt::SparseMatrix f32view;
  check(!sparq::rt::readSparseBlob(good.data(), f32view),
        tag + " f32 reader rejects BLOCK_I8");
  // The packer refuses what the format cannot hold.
  check(sparq::rt::packSparseBlockI8(w.data(), 8, 30).empty(),
        tag + " packer rejects cols % 4 != 0");
}

} // namespace

void sparq::unit::runSparseQTests(int numThreads) {
  sparq_model *model = createBareModel(numThreads);
  const SqCase cases[] = {
      {1, 1, 4, 1.0, 0},       {1, 5, 12, 0.5, 0},     {2, 64, 64, 0.3, 0},
      {3, 70, 132, 0.2, 0},    {4, 64, 64, 0.5, 0},    {15, 17, 36, 0.8, 0},
      {16, 64, 256, 0.1, 0},   {17, 65, 64, 0.0, 0},   {33, 130, 128, 0.3, 4},
      {1, 129, 768, 0.2, 4},   {2, 33, 260, 1.0, 0},   {130, 96, 96, 0.5, 0},
      {64, 128, 512, 0.05, 0}, {5, 200, 1024, 0.4, 0}, {128, 40, 64, 1.0, 4},
      {1, 70, 64, 0.0, 0},     {1, 300, 64, 0.03, 0},
  };
  for (QIsa isa : {QIsa::Generic, QIsa::Avx2, QIsa::Avx512Vnni}) {
    if (!sparq::rt::qkernelSet(isa))
      continue;
    sparq::rt::setQIsaOverride(static_cast<int>(isa));
    std::string tag = std::string("sparse-q ") + sparq::rt::qIsaName(isa) +
                      " t=" + std::to_string(numThreads);
    SqRng rng(1000 + 10 * static_cast<uint64_t>(isa) + numThreads);
    int i = 0;
    for (const SqCase &c : cases)
      for (int aType : {SPARQ_QTYPE_U8, SPARQ_QTYPE_S8}) {
        int outKind = (i++) % 4;
        testCase(model, c, aType, outKind, rng, tag);
      }
    // Every output kind on one panel-path and one row-path shape.
    for (int outKind = 0; outKind < 4; ++outKind) {
      testCase(model, {20, 70, 68, 0.4, 0}, SPARQ_QTYPE_S8, outKind, rng, tag);
      testCase(model, {1, 70, 68, 0.4, 0}, SPARQ_QTYPE_U8, outKind, rng, tag);
    }
    const SqConvCase convs[] = {
        {1, 4, 4, 4, 5, 1, 1.0},      {2, 32, 16, 16, 64, 1, 0.3},
        {1, 36, 7, 7, 70, 1, 0.5},    {1, 16, 17, 33, 24, 2, 0.2},
        {2, 64, 14, 14, 130, 2, 0.1}, {1, 8, 5, 40, 16, 1, 0.0},
    };
    for (const SqConvCase &c : convs)
      for (int xType : {SPARQ_QTYPE_U8, SPARQ_QTYPE_S8}) {
        int outKind = (i++) % 4;
        testConvCase(model, c, xType, outKind, rng, tag);
      }
    {
      // A blob whose cols differ from C leaves Y unwritten.
      std::vector<int8_t> w = makeWeightI8(4, 8, 1.0, rng);
      std::vector<uint8_t> blob = sparq::rt::packSparseBlockI8(w.data(), 4, 8);
      std::vector<uint8_t> X(4 * 9, 1);
      std::vector<int32_t> Y(4 * 9, 0x5A5A5A5A);
      uint8_t zp = 0;
      sparq_uk_sparse_qconv2d_i8(model, blob.data(), X.data(), Y.data(), 1, 4,
                                 3, 3, 3, 3, 1, 1, SPARQ_QTYPE_U8, &zp,
                                 SPARQ_QOUT_I32, nullptr, nullptr, 0, nullptr,
                                 0, 0, 0, 0, 0.f, 0.f);
      bool untouched = true;
      for (int32_t v : Y)
        untouched = untouched && v == 0x5A5A5A5A;
      check(untouched, tag + " conv rejects cols != C");
    }
    testRejects(model, tag);
  }
  sparq::rt::setQIsaOverride(-1);
  sparq_model_destroy(model);
}
