//===- Prune.cpp - Magnitude pruning of kernel weights at compile time ----===//
//
// For users who have a dense model: zero the smallest weights of each
// kernel to a requested pattern (unstructured, N:M, blocks), globally or per
// layer by ONNX node name. Accuracy is the user's call; the report states
// exactly which layers were pruned and to what.
//
//===----------------------------------------------------------------------===//

#include "KernelWeights.h"

#include "sparq/Dialect/Sparq/Transforms/Passes.h"

#include "llvm/Support/Regex.h"

namespace sparq {
#define GEN_PASS_DEF_SPARQPRUNEPASS
#include "sparq/Dialect/Sparq/Transforms/Passes.h.inc"
} // namespace sparq

using namespace mlir;
using namespace sparq;

namespace {

struct LayerRule {
  std::unique_ptr<llvm::Regex> pattern;
  std::optional<PruneSpec> spec; // none: leave the layer dense
};

struct SparqPrunePass : sparq::impl::SparqPrunePassBase<SparqPrunePass> {
  using Base::Base;

  void runOnOperation() override {
    std::string error;
    std::optional<PruneSpec> global;
    if (!spec.empty() && !(global = parsePruneSpec(spec, error))) {
      getOperation().emitError("sparq-prune: ") << error;
      return signalPassFailure();
    }
    std::vector<LayerRule> rules;
    for (const std::string &entry : layers) {
      auto [regex, text] = llvm::StringRef(entry).rsplit('=');
      LayerRule rule;
      rule.pattern = std::make_unique<llvm::Regex>(regex);
      if (regex.empty() || !rule.pattern->isValid(error)) {
        getOperation().emitError("sparq-prune: bad layer pattern '")
            << entry << "' " << error;
        return signalPassFailure();
      }
      if (text != "none" && !(rule.spec = parsePruneSpec(text, error))) {
        getOperation().emitError("sparq-prune: ") << error;
        return signalPassFailure();
      }
      rules.push_back(std::move(rule));
    }

    OpBuilder builder(&getContext());
    WalkResult walk = getOperation().walk([&](Operation *op) {
      if (!isa<FusedMatMulOp, FusedConvOp>(op))
        return WalkResult::advance();
      std::string name = getNodeName(op->getLoc());
      const PruneSpec *chosen = global ? &*global : nullptr;
      for (const LayerRule &rule : rules)
        if (rule.pattern->match(name)) {
          chosen = rule.spec ? &*rule.spec : nullptr;
          break;
        }
      if (!chosen)
        return WalkResult::advance();
      std::optional<WeightMatrix> w = readKernelWeight(op);
      if (!w) {
        op->emitRemark("not pruned: the weight is not a constant f32 "
                       "matrix (or the conv is grouped)");
        return WalkResult::advance();
      }
      std::string reason;
      if (!pruneWeight(*w, *chosen, reason)) {
        op->emitError("cannot prune layer '")
            << name << "' to " << chosen->text << ": " << reason;
        return WalkResult::interrupt();
      }
      writeKernelWeight(builder, op, *w);
      op->setAttr("sparq.pruned", builder.getStringAttr(chosen->text));
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
