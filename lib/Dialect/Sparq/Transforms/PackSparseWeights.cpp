//===- PackSparseWeights.cpp - Pack sparse weights into kernel ops ---------===//
//
// Applies the per-layer format decision: the weight is packed once, at
// compile time, into the runtime's layout (sparq_sparse_format.h) and the
// kernel op becomes sparq.sparse_matmul / sparq.sparse_conv, which lower to
// the runtime's sparse micro-kernels.
//
//===----------------------------------------------------------------------===//

#include "KernelWeights.h"

#include "sparq/Dialect/Sparq/Transforms/Passes.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace sparq {
#define GEN_PASS_DEF_SPARQPACKSPARSEWEIGHTSPASS
#include "sparq/Dialect/Sparq/Transforms/Passes.h.inc"
} // namespace sparq

using namespace mlir;
using namespace sparq;

namespace {

/// Copies the sparq.* annotations (pruning, format, reason) for the report.
void copyAnnotations(Operation *from, Operation *to) {
  for (NamedAttribute attr : from->getDiscardableAttrs())
    if (attr.getName().getValue().starts_with("sparq."))
      to->setAttr(attr.getName(), attr.getValue());
}

struct SparqPackSparseWeightsPass
    : sparq::impl::SparqPackSparseWeightsPassBase<SparqPackSparseWeightsPass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    OpBuilder builder(context);
    SmallVector<Operation *> kernels;
    getOperation().walk([&](Operation *op) {
      if (isa<FusedMatMulOp, FusedConvOp>(op))
        if (auto f = op->getAttrOfType<StringAttr>("sparq.format");
            f && f.getValue() != "dense")
          kernels.push_back(op);
    });
    for (Operation *op : kernels) {
      auto format = op->getAttrOfType<StringAttr>("sparq.format").getValue();
      std::optional<SparsePattern> pattern = SparsePattern::parse(format);
      std::optional<WeightMatrix> w = readKernelWeight(op);
      std::string error;
      std::vector<char> blob;
      if (!pattern || !w || !packWeight(*w, *pattern, blob, error)) {
        op->emitError("cannot pack the weight as '")
            << format << "': " << (error.empty() ? "unsupported" : error);
        return signalPassFailure();
      }
      // The analysis measured the density of this very weight.
      auto measured = op->getAttrOfType<SparsityAttr>("sparq.sparsity");
      if (!measured) {
        op->emitError("sparq.format is set but the weight was not analyzed "
                      "(run sparq-sparsity-analysis first)");
        return signalPassFailure();
      }
      double density = measured.getDensityValue();
      builder.setInsertionPoint(op);
      Location loc = op->getLoc();
      auto blobType = RankedTensorType::get({(int64_t)blob.size()},
                                            builder.getI8Type());
      auto packed = ConstantOp::create(
          builder, loc,
          DenseResourceElementsAttr::get(
              blobType, "sparse_weight",
              HeapAsmResourceBlob::allocateAndCopyWithAlign(
                  ArrayRef<char>(blob), /*align=*/64)));
      SparsityAttr encoding = sparsityAttrFor(context, *pattern, density,
                                              /*nmAxis=*/1);
      Operation *replacement;
      if (auto mm = dyn_cast<FusedMatMulOp>(op)) {
        replacement = SparseMatMulOp::create(
            builder, loc, mm.getType(), mm.getLhs(), packed, mm.getBias(),
            mm.getResidual(), encoding, builder.getI64IntegerAttr(w->rows),
            builder.getI64IntegerAttr(w->cols), mm.getActivationAttr(),
            mm.getActAlphaAttr(), mm.getActBetaAttr());
      } else {
        auto conv = cast<FusedConvOp>(op);
        auto weightType = cast<RankedTensorType>(conv.getWeight().getType());
        replacement = SparseConvOp::create(
            builder, loc, conv.getType(), conv.getInput(), packed,
            conv.getBias(), conv.getResidual(), encoding,
            builder.getI64IntegerAttr(w->rows),
            builder.getDenseI64ArrayAttr(
                {weightType.getDimSize(2), weightType.getDimSize(3)}),
            conv.getStridesAttr(), conv.getPadsAttr(),
            conv.getDilationsAttr(), conv.getActivationAttr(),
            conv.getActAlphaAttr(), conv.getActBetaAttr());
      }
      copyAnnotations(op, replacement);
      replacement->setAttr("sparq.packed_bytes",
                           builder.getI64IntegerAttr(blob.size()));
      op->replaceAllUsesWith(replacement);
      op->erase();
    }
  }
};

} // namespace
