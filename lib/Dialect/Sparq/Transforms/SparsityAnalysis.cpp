//===- SparsityAnalysis.cpp - Measure kernel weight zero patterns ---------===//
//
// Records each constant kernel weight's density and best structural fit
// (blocks, N:M, or unstructured) as a #sparq.sparsity attribute on the
// kernel op. Format selection and packing read it.
//
//===----------------------------------------------------------------------===//

#include "KernelWeights.h"

#include "sparq/Dialect/Sparq/Transforms/Passes.h"

namespace sparq {
#define GEN_PASS_DEF_SPARQSPARSITYANALYSISPASS
#include "sparq/Dialect/Sparq/Transforms/Passes.h.inc"
} // namespace sparq

using namespace mlir;
using namespace sparq;

namespace {

SparsityAttr toAttr(MLIRContext *context, const PatternReport &report,
                    int64_t reductionAxis) {
  const SparsePattern &p = report.detected;
  SparsityKind kind = SparsityKind::Unstructured;
  switch (p.format) {
  case SparseFormat::Dense:
    kind = SparsityKind::Dense;
    break;
  case SparseFormat::Csr:
    kind = SparsityKind::Unstructured;
    break;
  case SparseFormat::Block:
    kind = SparsityKind::Block;
    break;
  case SparseFormat::NM:
    kind = SparsityKind::NM;
    break;
  }
  return SparsityAttr::get(
      context, kind, p.format == SparseFormat::NM ? p.n : 0,
      p.format == SparseFormat::NM ? p.m : 0,
      p.format == SparseFormat::Block ? p.blockRows : 0,
      p.format == SparseFormat::Block ? p.blockCols : 0,
      kind == SparsityKind::NM ? reductionAxis : -1, APFloat(report.density));
}

struct SparqSparsityAnalysisPass
    : sparq::impl::SparqSparsityAnalysisPassBase<SparqSparsityAnalysisPass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    getOperation().walk([&](Operation *op) {
      if (!isa<FusedMatMulOp, FusedConvOp>(op))
        return;
      std::optional<WeightMatrix> w = readKernelWeight(op);
      if (!w)
        return;
      PatternReport report = analyzeWeight(*w);
      // The N:M axis is the reduction dim of the weight as stored: dim 1
      // for [N, K] matmul weights and convs, dim 0 for [K, N] weights.
      int64_t axis = 1;
      if (auto mm = dyn_cast<FusedMatMulOp>(op); mm && !mm.getTransB())
        axis = 0;
      op->setAttr("sparq.sparsity", toAttr(context, report, axis));
      if (report.nm && report.detected.format != SparseFormat::NM)
        op->setAttr("sparq.nm_fit",
                    StringAttr::get(context, report.nm->str()));
    });
  }
};

} // namespace
