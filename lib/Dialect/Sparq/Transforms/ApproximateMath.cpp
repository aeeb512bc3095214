//===- ApproximateMath.cpp - Vectorizable polynomial math ------------------===//
//
// Elementwise loops that call scalar libm functions (tanhf, erff, expf) do
// not vectorize and dominate attention and GELU blocks. This pass swaps f32
// math ops for MLIR's polynomial approximations, which are plain arith and
// vectorize.
//
//===----------------------------------------------------------------------===//

#include "sparq/Dialect/Sparq/Transforms/Passes.h"

#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace sparq {
#define GEN_PASS_DEF_SPARQAPPROXIMATEMATHPASS
#include "sparq/Dialect/Sparq/Transforms/Passes.h.inc"
} // namespace sparq

using namespace mlir;

namespace {

struct SparqApproximateMathPass
    : sparq::impl::SparqApproximateMathPassBase<SparqApproximateMathPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    SmallVector<std::string> selected(functions.begin(), functions.end());
    populateMathPolynomialApproximationPatterns(
        patterns, [&](StringRef name) {
          return selected.empty() || llvm::is_contained(selected, name);
        });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
