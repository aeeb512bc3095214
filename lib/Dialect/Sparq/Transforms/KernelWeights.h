//===- KernelWeights.h - the weight matrix of a kernel op -----*- C++ -*-===//
//
// Views the constant weight of sparq.fused_matmul / sparq.fused_conv as the
// matrix W[rows = outputs][cols = reduction] the sparsity passes work on,
// and writes a transformed matrix back as a new constant.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_DIALECT_SPARQ_TRANSFORMS_KERNELWEIGHTS_H
#define SPARQ_LIB_DIALECT_SPARQ_TRANSFORMS_KERNELWEIGHTS_H

#include "sparq/Dialect/Sparq/IR/Sparq.h"
#include "sparq/Dialect/Sparq/Transforms/SparsityModel.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Operation.h"

#include <vector>

namespace sparq {

/// The weight of a kernel op that sparsity applies to: an f32 constant,
/// 2-d for fused_matmul (no batch dims), 4-d with groups == 1 for
/// fused_conv. std::nullopt otherwise.
std::optional<WeightMatrix> readKernelWeight(mlir::Operation *kernel);

/// W[rows = outputs][cols = reduction] of a 2-d matmul operand of shape
/// [d0, d1]: the operand itself when it is stored transposed ([N, K]), else
/// its transpose ([K, N] -> W[n][k]).
template <typename T>
void outputMajorWeight(llvm::ArrayRef<T> values, int64_t d0, int64_t d1,
                       bool transposed, int64_t &rows, int64_t &cols,
                       std::vector<T> &out) {
  if (transposed) {
    rows = d0;
    cols = d1;
    out.assign(values.begin(), values.end());
    return;
  }
  rows = d1;
  cols = d0;
  out.resize(d0 * d1);
  for (int64_t k = 0; k < d0; ++k)
    for (int64_t n = 0; n < d1; ++n)
      out[n * d0 + k] = values[k * d1 + n];
}

/// Replaces the kernel's weight operand by a new constant holding `w` in
/// the operand's original layout.
void writeKernelWeight(mlir::OpBuilder &builder, mlir::Operation *kernel,
                       const WeightMatrix &w);

/// The #sparq.sparsity attribute describing `pattern` at `density`; N:M
/// patterns record `nmAxis`, the reduction dim of the weight as stored.
SparsityAttr sparsityAttrFor(mlir::MLIRContext *context,
                             const SparsePattern &pattern, double density,
                             int64_t nmAxis);

/// Rows of activations one call processes (the vectorized dimension):
/// batch * sequence for matmuls, images * output pixels for convolutions.
int64_t kernelBatchRows(mlir::Operation *kernel);

} // namespace sparq

#endif // SPARQ_LIB_DIALECT_SPARQ_TRANSFORMS_KERNELWEIGHTS_H
