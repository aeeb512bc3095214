//===- Gemm.h - Packed, blocked, multi-threaded SGEMM driver ----*- C++ -*-===//
//
// The single-precision GEMM engine behind the matmul and convolution
// micro-kernels: C = epilogue(A * B) with A [M,K] and B [K,N]. Operands can
// be given as plain row-major matrices, as whole matrices packed ahead of
// time (the cached form of constant weights), or -- for B -- through a
// packing callback, which is how convolution feeds im2col panels without
// materializing the im2col matrix.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_RUNTIME_GEMM_H
#define SPARQ_LIB_RUNTIME_GEMM_H

#include "Kernels.h"

#include <cstddef>
#include <cstdint>

namespace sparq {
namespace rt {

class Context;

/// Depth of one packed block along K; whole-matrix packing uses it too.
constexpr int64_t kKC = 256;

/// Writes B[k0:k0+kc, n0:n0+nc] into dst as ceil(nc/kNR) panels of
/// kc x kNR floats (row k of a panel at dst + panel*kc*kNR + k*kNR), with the
/// columns past nc zeroed.
using PackBFn = void (*)(const void *closure, int64_t k0, int64_t kc,
                         int64_t n0, int64_t nc, float *dst);

struct GemmArgs {
  int64_t batch = 1, M = 0, N = 0, K = 0;

  // A: row-major [M,K] with leading dimension lda, or pre-packed.
  const float *A = nullptr;
  int64_t lda = 0, strideA = 0;
  const float *APacked = nullptr; ///< from packWholeA, stride strideAPacked
  int64_t strideAPacked = 0;

  // B: row-major [K,N] (or [N,K] when transB), pre-packed, or a packer.
  const float *B = nullptr;
  int64_t ldb = 0, strideB = 0;
  bool transB = false;
  const float *BPacked = nullptr; ///< from packWholeB, stride strideBPacked
  int64_t strideBPacked = 0;
  PackBFn packB = nullptr; ///< used when set (batch must be 1)
  const void *packBClosure = nullptr;

  float *C = nullptr;
  int64_t ldc = 0, strideC = 0;

  Epilogue epi; ///< residual row stride in epi.residualLd
  int64_t strideResidual = 0;
};

/// Runs the GEMM on the context's thread pool.
void gemm(Context &ctx, const GemmArgs &args);

/// Floats needed by packWholeA / packWholeB.
size_t packedASize(int64_t M, int64_t K);
size_t packedBSize(int64_t K, int64_t N);
/// Packs a whole row-major A [M,K] (leading dimension lda) for APacked.
void packWholeA(const float *A, int64_t lda, int64_t M, int64_t K, float *dst);
/// Packs a whole B (row-major [K,N], or [N,K] when transB) for BPacked.
void packWholeB(const float *B, int64_t ldb, bool transB, int64_t K, int64_t N,
                float *dst);

} // namespace rt
} // namespace sparq

#endif // SPARQ_LIB_RUNTIME_GEMM_H
