//===- KernelWeights.cpp - the weight matrix of a kernel op ---------------===//
//
// Reads and writes kernel weights as W[outputs][reduction] matrices.
//
//===----------------------------------------------------------------------===//

#include "KernelWeights.h"

#include "sparq/Dialect/Sparq/IR/Sparq.h"
#include "sparq/Dialect/Sparq/IR/Weights.h"

#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace sparq;

/// The weight operand, and whether a matmul weight is stored [N, K].
static Value weightOperand(Operation *kernel, bool &transposed) {
  transposed = false;
  if (auto mm = dyn_cast<FusedMatMulOp>(kernel)) {
    transposed = mm.getTransB();
    return mm.getRhs();
  }
  if (auto conv = dyn_cast<FusedConvOp>(kernel))
    return conv.getGroup() == 1 ? conv.getWeight() : Value();
  return {};
}

std::optional<WeightMatrix> sparq::readKernelWeight(Operation *kernel) {
  bool transposed;
  Value weight = weightOperand(kernel, transposed);
  Attribute attr;
  if (!weight || !matchPattern(weight, m_Constant(&attr)))
    return std::nullopt;
  auto type = cast<RankedTensorType>(weight.getType());
  std::optional<SmallVector<float>> values = readF32Values(attr);
  if (!values)
    return std::nullopt;
  WeightMatrix w;
  if (isa<FusedConvOp>(kernel)) {
    if (type.getRank() != 4)
      return std::nullopt;
    w.rows = type.getDimSize(0);
    w.cols = type.getNumElements() / w.rows;
    w.values.assign(values->begin(), values->end());
    return w;
  }
  if (type.getRank() != 2)
    return std::nullopt;
  outputMajorWeight<float>(*values, type.getDimSize(0), type.getDimSize(1),
                           transposed, w.rows, w.cols, w.values);
  return w;
}

void sparq::writeKernelWeight(OpBuilder &builder, Operation *kernel,
                              const WeightMatrix &w) {
  bool transposed;
  Value weight = weightOperand(kernel, transposed);
  auto type = cast<RankedTensorType>(weight.getType());
  SmallVector<float> data;
  if (isa<FusedConvOp>(kernel) || transposed) {
    data.assign(w.values.begin(), w.values.end());
  } else {
    data.resize(w.values.size());
    for (int64_t n = 0; n < w.rows; ++n)
      for (int64_t k = 0; k < w.cols; ++k)
        data[k * w.rows + n] = w.values[n * w.cols + k];
  }
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPoint(kernel);
  auto constant = ConstantOp::create(
      builder, kernel->getLoc(),
      makeF32Constant(type, data, "pruned_weight"));
  for (OpOperand &operand : kernel->getOpOperands())
    if (operand.get() == weight) {
      operand.set(constant);
      break;
    }
}

int64_t sparq::kernelBatchRows(Operation *kernel) {
  auto result = cast<RankedTensorType>(kernel->getResult(0).getType());
  if (isa<FusedConvOp>(kernel))
    return result.getNumElements() / result.getDimSize(1);
  return result.getNumElements() / result.getShape().back();
}

SparsityAttr sparq::sparsityAttrFor(MLIRContext *context,
                                    const SparsePattern &p, double density,
                                    int64_t nmAxis) {
  switch (p.format) {
  case SparseFormat::Dense:
    return SparsityAttr::get(context, SparsityKind::Dense, 0, 0, 0, 0, -1,
                             APFloat(density));
  case SparseFormat::Csr:
    return SparsityAttr::get(context, SparsityKind::Unstructured, 0, 0, 0, 0,
                             -1, APFloat(density));
  case SparseFormat::Block:
    return SparsityAttr::get(context, SparsityKind::Block, 0, 0, p.blockRows,
                             p.blockCols, -1, APFloat(density));
  case SparseFormat::NM:
    return SparsityAttr::get(context, SparsityKind::NM, p.n, p.m, 0, 0, nmAxis,
                             APFloat(density));
  }
  return {};
}
