//===- QGemm.h - Exact 8-bit integer GEMM engine ----------------*- C++ -*-===//
//
// The integer engine behind sparq_uk_qmatmul_i8 and sparq_uk_qconv2d_i8:
// C = out(sum_k (a - aZero) * (b - bZero)) with 8-bit operands and int32
// accumulation that never saturates.
//
// Every operand is first brought to one canonical form whatever its ONNX
// type: the row operand A (broadcast by the micro-kernel) as u8, the column
// operand B as s8, flipping the top bit (x ^ 0x80, i.e. +-128) where the
// type differs. That is the form vpdpbusd multiplies exactly, and the AVX2
// kernel widens both to int16 for vpmaddwd, which is exact too. The zero
// points move with their operands (za' = za + 128 for s8 A, zb' = zb - 128
// for u8 B), and
//   acc = sum u*s - za' * (colsum(s) - K * zb') - zb' * rowsum(u)
// in wrapping int32 arithmetic, which is exact whenever the true result
// fits in int32 (as ONNX requires).
//
// Packed layouts (Kp = K rounded up to 4; padding is zero):
//  - A: panels of kQMR rows; panel p holds Kp/4 groups of kQMR x 4 bytes,
//    byte (g, i, t) = u[p*kQMR + i][4g + t];
//  - B: panels of kQNR columns; panel q holds Kp/4 groups of kQNR x 4
//    bytes, byte (g, j, t) = s[4g + t][q*kQNR + j].
// Row sums of A travel with the packed A, and column sums with a B packed
// whole; a B packed per call gets its sums from the driver.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_RUNTIME_QGEMM_H
#define SPARQ_LIB_RUNTIME_QGEMM_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sparq {
namespace rt {

class Context;

/// Rows of a packed A panel, columns of a packed B panel, and columns of
/// one micro-kernel call (two B panels).
constexpr int kQMR = 8;
constexpr int kQNR = 16;
constexpr int kQTileN = 2 * kQNR;

inline int64_t qDivCeil(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t qRoundUp(int64_t a, int64_t b) { return qDivCeil(a, b) * b; }

/// Instruction-set paths of the integer kernels.
enum class QIsa : int { Generic = 0, Avx2 = 1, Avx512Vnni = 2 };

/// out[i * kQTileN + j] = sum_k a[i][k] * b[k][j] (raw canonical products)
/// for i < rows and j < kQNR (bPanel1 null) or 2 * kQNR.
using QMicroKernelFn = void (*)(int64_t kGroups, const uint8_t *aPanel,
                                const int8_t *bPanel0, const int8_t *bPanel1,
                                int32_t *out);

/// Everything the output stage of one row of a tile needs. Arrays indexed
/// by column are already offset to the first column of the row segment;
/// channel arrays (biasI32, scale) are offset to the segment's first column
/// when chanPerCol, else to the row's channel (and read at [0]).
struct QOutRow {
  int32_t rowSum = 0;              ///< sum_k u[i][k]
  int32_t aZero = 0;               ///< za' of the row
  const int32_t *colAdj = nullptr; ///< colsum(s)[j] - K * zb'[j]
  const int32_t *bZero = nullptr;  ///< zb'[j]
  bool chanPerCol = true;
  const int32_t *biasI32 = nullptr; ///< never null (zeros when absent)
  const float *scale = nullptr;     ///< never null for F32/U8/S8 outputs
  int outKind = 0;                  ///< SPARQ_QOUT_*
  int32_t outZero = 0, qmin = 0, qmax = 0;
};

/// Writes n outputs of one row: raw products -> exact int32 acc (+ biasI32)
/// -> int32, f32 (acc * scale; bias and activation are applied after), or
/// requantized u8/s8 at dst.
using QOutputRowFn = void (*)(const int32_t *raw, int64_t n, const QOutRow &row,
                              void *dst);

/// The u8/s8 output stage of one micro-kernel tile (the QOutRow
/// arithmetic): row i of `rows`, column j of `cols` (1..kQTileN).
struct QTileOut {
  const int32_t *rowSums; ///< per row
  const int32_t *aZero;   ///< per row
  const int32_t *colAdj;  ///< per column
  const int32_t *bZero;   ///< per column
  bool chanPerCol;        ///< bias and scale per column, else per row
  const int32_t *bias;
  const float *scale;
  int32_t outZero, qmin, qmax;
  int64_t cols;
};

/// A micro-kernel with that output stage fused: the bytes of row i at
/// out + i * ldo (columns past `cols` untouched).
using QMicroKernelQFn = void (*)(int64_t kGroups, const uint8_t *aPanel,
                                 const int8_t *bPanel0, const int8_t *bPanel1,
                                 const QTileOut &o, uint8_t *out, int64_t ldo);

struct QKernelSet {
  /// Micro-kernels by live row count 1..kQMR (entry 0 unused).
  using QMicroKernelRow = std::array<QMicroKernelFn, kQMR + 1>;
  std::array<QMicroKernelRow, 2> micro; ///< [two panels][live rows]
  QOutputRowFn outputRow;
  const char *name;
  /// The fused u8/s8 kernels, [two panels][live rows]; null where the set
  /// has none.
  using QMicroKernelQRow = std::array<QMicroKernelQFn, kQMR + 1>;
  std::array<QMicroKernelQRow, 2> microQ{};
};

/// The kernel set of `isa`, or null where the CPU (or build) lacks it.
const QKernelSet *qkernelSet(QIsa isa);
/// The individual sets (null where the CPU or build lacks them).
const QKernelSet &genericQKernelSet();
const QKernelSet *avx2QKernelSet();
const QKernelSet *vnniQKernelSet();
/// The best ISA of this CPU, unless SPARQ_QKERNEL_ISA (generic, avx2,
/// avx512vnni) or setQIsaOverride() forces a supported one.
QIsa activeQIsa();
/// Forces an ISA path for tests and benchmarks; -1 restores the default.
void setQIsaOverride(int isa);
const char *qIsaName(QIsa isa);

/// Scalar requantization of one int32 value, the reference of every path:
/// clamp(rne(float(acc) * scale) + outZero, qmin, qmax).
int32_t requantizeScalar(int32_t acc, float scale, int32_t outZero,
                         int32_t qmin, int32_t qmax);

/// Bytes of a packed A of M rows / B of N columns with depth K.
int64_t qPackedASize(int64_t M, int64_t K);
int64_t qPackedBSize(int64_t K, int64_t N);

/// Packs rows [0, M) of a row-major A (leading dimension lda); xorMask is
/// 0x80 for s8 data (-> canonical u8), else 0. rowSums gets M entries.
void qPackA(const uint8_t *A, int64_t lda, int64_t M, int64_t K,
            uint8_t xorMask, uint8_t *dst, int32_t *rowSums);
/// Packs columns [n0, n0+nc) of B, stored row-major [K,N] (transB false) or
/// [N,K] (transB true) with leading dimension ldb; xorMask is 0x80 for u8
/// data (-> canonical s8). colSums gets nc entries unless it is null.
void qPackB(const uint8_t *B, int64_t ldb, bool transB, int64_t K, int64_t n0,
            int64_t nc, uint8_t xorMask, int8_t *dst, int32_t *colSums);

/// Widest column chunk the driver hands a B packer.
constexpr int64_t kQChunkMax = 128;

/// Packs columns [n0, n0+nc) (nc <= kQChunkMax) of the B operand into
/// panels (the qPackB layout). The driver derives their column sums itself,
/// with one extra micro-kernel row of ones per tile.
using QPackBFn = void (*)(const void *closure, int64_t n0, int64_t nc,
                          int8_t *dst);

/// One canonical GEMM: C[M,N] = out(A * B) with A packed whole and B packed
/// whole or by a packer per column chunk.
struct QGemmArgs {
  int64_t M = 0, N = 0, K = 0;
  const uint8_t *APacked = nullptr; ///< qPackA layout
  const int32_t *rowSums = nullptr;
  const int8_t *BPacked = nullptr; ///< qPackB layout of all N columns
  const int32_t *colSums = nullptr;
  QPackBFn packB = nullptr; ///< used when BPacked is null
  const void *packBClosure = nullptr;
  const int32_t *aZero = nullptr;   ///< za' per row (M entries)
  const int32_t *bZero = nullptr;   ///< zb' per column (N entries)
  bool chanPerCol = true;           ///< channel = column (else row)
  const int32_t *biasI32 = nullptr; ///< per channel, never null
  const float *scale = nullptr;     ///< per channel
  const float *biasF32 = nullptr;   ///< per channel or null (F32 only)
  int outKind = 0;
  int32_t outZero = 0, qmin = 0, qmax = 0;
  int act = 0;
  float actA = 0.f, actB = 0.f;
  void *C = nullptr;
  int64_t ldc = 0; ///< in elements
  /// C stored column-major: element (m, n) at C[n * ldc + m] (convolution
  /// with the pixels as rows and an NCHW output).
  bool transC = false;
};

/// A QOutRow carrying g's output stage (kind, zero point, clamp range);
/// the caller sets the row's zero points, column terms and channel tables.
inline QOutRow qOutRowFor(const QGemmArgs &g) {
  QOutRow row;
  row.outKind = g.outKind;
  row.outZero = g.outZero;
  row.qmin = g.qmin;
  row.qmax = g.qmax;
  return row;
}

/// The output-channel tables and epilogue of one kernel call (the tail of
/// sparq_uk_qmatmul_i8's and sparq_uk_qconv2d_i8's arguments), expanded to
/// `channels` entries: the i32 bias (zeros without one), and for 8-bit and
/// f32 outputs the scale (one or per-channel entries, as `perChannel` says)
/// and for f32 outputs the optional f32 bias (read like the scale).
struct QEpilogueTables {
  std::vector<int32_t> biasI32;
  std::vector<float> scale, biasF32;
  int outKind = 0;
  int32_t outZero = 0, qmin = 0, qmax = 0;
  int act = 0;
  float actA = 0.f, actB = 0.f;

  QEpilogueTables(int64_t channels, int64_t outKind, const int32_t *biasI32,
                  const float *scale, bool perChannel, const float *biasF32,
                  int64_t outZero, int64_t qmin, int64_t qmax, int64_t act,
                  float actA, float actB);
  /// Points g's channel tables here and sets its epilogue fields.
  void apply(QGemmArgs &g) const;
};

/// Runs the GEMM on the context's pool with the active kernel set.
void qgemm(Context &ctx, const QGemmArgs &args);

/// Interleaves four k rows of 16 columns (already canonical) into packed
/// quads, columns 0-7 (32 bytes) at lo and columns 8-15 at hi: one packed
/// B group (hi = lo + 32), or one group of two consecutive A panels (hi =
/// lo + 8 * Kp).
void qInterleave4x16(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2,
                     const uint8_t *r3, uint8_t *lo, uint8_t *hi);

#if defined(__SSE2__)
/// qInterleave4x16 of rows already in registers, columns 0-7 (32 bytes) at
/// lo and columns 8-15 at hi: one B group (hi = lo + 32), or the same group
/// of two consecutive A panels (hi = lo + 8 * Kp).
inline void qInterleave4x16Sse2(__m128i a, __m128i b, __m128i c, __m128i d,
                                uint8_t *lo, uint8_t *hi) {
  __m128i ab0 = _mm_unpacklo_epi8(a, b), ab1 = _mm_unpackhi_epi8(a, b);
  __m128i cd0 = _mm_unpacklo_epi8(c, d), cd1 = _mm_unpackhi_epi8(c, d);
  auto st = [](uint8_t *p, __m128i v) {
    _mm_storeu_si128(reinterpret_cast<__m128i *>(p), v);
  };
  st(lo, _mm_unpacklo_epi16(ab0, cd0));
  st(lo + 16, _mm_unpackhi_epi16(ab0, cd0));
  st(hi, _mm_unpacklo_epi16(ab1, cd1));
  st(hi + 16, _mm_unpackhi_epi16(ab1, cd1));
}

/// One packed B group of 64 bytes.
inline void qInterleave4x16Sse2(__m128i a, __m128i b, __m128i c, __m128i d,
                                uint8_t *dst) {
  qInterleave4x16Sse2(a, b, c, d, dst, dst + 32);
}

/// Byte j of the result is p[step * j] (step 1 or 2).
inline __m128i qLoadStridedSse2(const uint8_t *p, int64_t step) {
  __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
  if (step == 1)
    return a;
  __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p + 16));
  const __m128i even = _mm_set1_epi16(0x00FF);
  return _mm_packus_epi16(_mm_and_si128(a, even), _mm_and_si128(b, even));
}
#endif

/// Stores a tile of `rows` x `cols` outputs of es bytes (row r at
/// tile + r * kQTileN * es) column-major: column j at dst + j * ldc * es.
void qStoreTransposed(const uint8_t *tile, int rows, int64_t cols, int64_t es,
                      char *dst, int64_t ldc);

/// Zero point i of a u8/s8 (SPARQ_QTYPE_*) array; 0 when zp is null.
int32_t qLoadZeroPoint(const void *zp, int64_t type, int64_t i);

/// Packs rows [0, M) of A like qPackA, on the pool when A is large.
void qPackAParallel(Context &ctx, const uint8_t *A, int64_t lda, int64_t M,
                    int64_t K, uint8_t xorMask, uint8_t *dst, int32_t *rowSums);

/// Bytes per element of an output kind.
int64_t qOutElementSize(int outKind);

/// Applies the f32 output epilogue (biasF32 and activation) to n f32
/// outputs of row `row` starting at column `col`.
void qApplyF32Epilogue(const QGemmArgs &a, float *c, int64_t row, int64_t col,
                       int64_t n);

} // namespace rt
} // namespace sparq

#endif // SPARQ_LIB_RUNTIME_QGEMM_H
