//===- Kernels.h - Register-tile kernels and epilogues ----------*- C++ -*-===//
//
// The innermost computational kernels of the runtime: the GEMM micro-kernel
// over packed panels, the fused bias/residual/activation epilogue, and the
// memory-bound matrix-vector helpers. Each has an AVX2+FMA implementation and
// a portable one; kernels() picks the set once per process from the CPU's
// feature bits, so the library never executes an instruction the CPU lacks.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_RUNTIME_KERNELS_H
#define SPARQ_LIB_RUNTIME_KERNELS_H

#include <cstdint>

namespace sparq {
namespace rt {

/// Register tile of the GEMM micro-kernel: kMR rows by kNR columns.
constexpr int kMR = 6;
constexpr int kNR = 16;
/// Columns of the narrow micro-kernels, which finish a last B panel that has
/// at most this many live columns at half the cost of a full tile.
constexpr int kNRNarrow = 8;

/// Fused epilogue parameters: y = act(acc + bias + residual).
struct Epilogue {
  const float *bias = nullptr;     ///< per column (or per row), or null
  bool biasPerRow = false;         ///< bias is indexed by output row
  const float *residual = nullptr; ///< same layout as C, or null
  int64_t residualLd = 0;          ///< row stride of residual
  int act = 0;
  float actA = 0.f, actB = 0.f;
  bool trivial() const { return !bias && !residual && act == 0; }
};

/// C[0..rows) x [0..kNR) (+)= A panel (kc x kMR) * B panel (kc x kNR).
/// `rows` <= kMR is the number of live rows; C must have kNR writable
/// columns per row. accumulate=false overwrites C.
using MicroKernelFn = void (*)(int64_t kc, const float *aPanel,
                               const float *bPanel, float *c, int64_t ldc,
                               bool accumulate);

/// Epilogue of one register tile, applied in registers by the fused
/// micro-kernel before its only store: c = act(acc + rowBias[i] + colBias[j]
/// + residual[i * residualLd + j]). rowBias has one entry per live row,
/// colBias and every residual row kNR entries; each may be null.
struct TileEpilogue {
  const float *rowBias = nullptr;
  const float *colBias = nullptr;
  const float *residual = nullptr;
  int64_t residualLd = 0;
  int act = 0;
  float actA = 0.f, actB = 0.f;
};

/// The micro-kernel followed by the tile's epilogue (for the last K slice).
using MicroKernelEpiFn = void (*)(int64_t kc, const float *aPanel,
                                  const float *bPanel, float *c, int64_t ldc,
                                  bool accumulate, const TileEpilogue &epi);

/// Applies the epilogue to c[0..n): c[j] = act(c[j] + rowBias + bias[j] +
/// residual[j]); bias/residual are already offset to the same columns and
/// either may be null.
using EpilogueRowFn = void (*)(float *c, float rowBias, const float *bias,
                               const float *residual, int64_t n, int act,
                               float actA, float actB);

/// y[0..n) += alpha * x[0..n)
using AxpyFn = void (*)(float *y, const float *x, float alpha, int64_t n);
/// returns sum x[i] * y[i]
using DotFn = float (*)(const float *x, const float *y, int64_t n);

struct KernelSet {
  MicroKernelFn micro[kMR + 1]; ///< indexed by live row count 1..kMR
  MicroKernelEpiFn microEpi[kMR + 1]; ///< same, with the fused epilogue
  /// The same two, computing and storing only columns [0, kNRNarrow) of the
  /// tile; B panels keep their kNR stride.
  MicroKernelFn microNarrow[kMR + 1];
  MicroKernelEpiFn microEpiNarrow[kMR + 1];
  EpilogueRowFn epilogueRow;
  AxpyFn axpy;
  DotFn dot;
  const char *name;
};

/// The best kernel set this CPU supports (resolved once).
const KernelSet &kernels();

/// Whether SPARQ_KERNELS=generic asks every kernel family for its portable
/// code (read once).
bool genericKernelsForced();
/// Individual sets, for tests; avx2KernelSet() returns null where the CPU
/// (or the build) lacks AVX2+FMA.
const KernelSet &genericKernelSet();
const KernelSet *avx2KernelSet();

/// Scalar reference of one activation, shared by the kernel sets' tails.
float applyActivationScalar(float x, int act, float actA, float actB);

} // namespace rt
} // namespace sparq

#endif // SPARQ_LIB_RUNTIME_KERNELS_H
