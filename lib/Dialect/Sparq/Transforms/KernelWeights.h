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

namespace sparq {

/// The weight of a kernel op that sparsity applies to: an f32 constant,
/// 2-d for fused_matmul (no batch dims), 4-d with groups == 1 for
/// fused_conv. std::nullopt otherwise.
std::optional<WeightMatrix> readKernelWeight(mlir::Operation *kernel);

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
