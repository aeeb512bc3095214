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
      op->setAttr("sparq.sparsity", sparsityAttrFor(context, report.detected,
                                                     report.density, axis));
      if (report.nm && report.detected.format != SparseFormat::NM)
        op->setAttr("sparq.nm_fit",
                    StringAttr::get(context, report.nm->str()));
    });
  }
};

} // namespace
