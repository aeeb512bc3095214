//===- MatmulKernel.cpp - sparq_uk_matmul_f32 micro-kernel entry ----------===//
//
// Entry point the generated code calls for (batched) matrix products with a
// fused bias/residual/activation epilogue. Constant weight operands are
// packed once into the GEMM's panel layout and cached in the model, keyed by
// their address and shape, so steady-state runs skip B packing entirely.
//
//===----------------------------------------------------------------------===//

#include "sparq/Runtime/sparq_runtime.h"

#include "Gemm.h"
#include "Model.h"

using namespace sparq::rt;

namespace {
/// Tag of matmul entries in the packed-weight cache.
constexpr int64_t kMatmulPackTag = 1;
} // namespace

extern "C" SPARQ_API void sparq_uk_matmul_f32(
    void *ctx, const float *A, const float *B, const float *bias,
    const float *residual, float *C, int64_t batch, int64_t M, int64_t N,
    int64_t K, int64_t strideA, int64_t strideB, int64_t strideC,
    int64_t transB, int64_t flags, int64_t act, float actA, float actB) {
  if (!A || !B || !C || batch <= 0 || M <= 0 || N <= 0 || K < 0)
    return;
  Context &context = contextFromHandle(ctx);
  GemmArgs g;
  g.batch = batch;
  g.M = M;
  g.N = N;
  g.K = K;
  g.A = A;
  g.lda = K;
  g.strideA = strideA;
  g.B = B;
  g.ldb = transB ? K : N;
  g.strideB = strideB;
  g.transB = transB != 0;
  g.C = C;
  g.ldc = N;
  g.strideC = strideC;
  g.epi.bias = bias;
  g.epi.residual = residual;
  g.epi.residualLd = N;
  g.epi.act = static_cast<int>(act);
  g.epi.actA = actA;
  g.epi.actB = actB;
  g.strideResidual = M * N;

  if ((flags & SPARQ_UK_CONST_WEIGHTS) && K > 0) {
    int64_t copies = strideB ? batch : 1;
    size_t one = packedBSize(K, N);
    std::vector<int64_t> key = {
        kMatmulPackTag, reinterpret_cast<int64_t>(B), K, N, transB, strideB,
        copies};
    const float *packed =
        context.cachedPack(key, one * copies, [&](float *dst) {
          for (int64_t b = 0; b < copies; ++b)
            packWholeB(B + b * strideB, g.ldb, g.transB, K, N, dst + b * one);
        });
    if (!packed)
      return;
    g.BPacked = packed;
    g.strideBPacked = strideB ? static_cast<int64_t>(one) : 0;
  }
  gemm(context, g);
}
