//===- FoldBatchNorm.cpp - Fold batch norm into convolution weights -------===//
//
// Inference batch normalization after a convolution with constant weights is
// an affine per-channel map, so it folds into the convolution's weights and
// bias at compile time. Exporters that keep BatchNormalization nodes (onnx
// helper graphs, Keras converters) produce this pattern.
//
//===----------------------------------------------------------------------===//

#include "sparq/Dialect/Sparq/IR/Weights.h"
#include "sparq/Dialect/Sparq/Transforms/Passes.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace sparq {
#define GEN_PASS_DEF_SPARQFOLDBATCHNORMPASS
#include "sparq/Dialect/Sparq/Transforms/Passes.h.inc"
} // namespace sparq

using namespace mlir;
using namespace sparq;

namespace {

std::optional<SmallVector<float>> constantValues(Value v) {
  Attribute attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  return readF32Values(attr);
}

struct FoldBatchNormIntoConv : OpRewritePattern<BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(BatchNormOp bn,
                                PatternRewriter &rewriter) const override {
    auto conv = bn.getInput().getDefiningOp<ConvOp>();
    if (!conv || !conv->hasOneUse())
      return rewriter.notifyMatchFailure(bn, "input is not a single-use conv");
    auto weightType = cast<RankedTensorType>(conv.getWeight().getType());
    if (!weightType.getElementType().isF32() || !weightType.hasStaticShape())
      return rewriter.notifyMatchFailure(bn, "weights are not static f32");
    auto weights = constantValues(conv.getWeight());
    auto gamma = constantValues(bn.getScale());
    auto beta = constantValues(bn.getBias());
    auto mean = constantValues(bn.getMean());
    auto var = constantValues(bn.getVariance());
    if (!weights || !gamma || !beta || !mean || !var)
      return rewriter.notifyMatchFailure(bn, "parameters are not constant");
    int64_t channels = weightType.getDimSize(0);
    if ((int64_t)gamma->size() != channels || (int64_t)beta->size() != channels ||
        (int64_t)mean->size() != channels || (int64_t)var->size() != channels)
      return rewriter.notifyMatchFailure(bn, "parameter sizes differ");
    SmallVector<float> bias(channels, 0.0f);
    if (Value b = conv.getBias()) {
      auto values = constantValues(b);
      if (!values || (int64_t)values->size() != channels)
        return rewriter.notifyMatchFailure(bn, "conv bias is not constant");
      bias = *values;
    }
    int64_t perChannel = weightType.getNumElements() / channels;
    float eps = bn.getEpsilon().convertToFloat();
    for (int64_t c = 0; c < channels; ++c) {
      // Compute in double so the folded weights round once.
      double s = (*gamma)[c] / std::sqrt((double)(*var)[c] + eps);
      for (int64_t i = 0; i < perChannel; ++i)
        (*weights)[c * perChannel + i] =
            (float)((*weights)[c * perChannel + i] * s);
      bias[c] = (float)((bias[c] - (*mean)[c]) * s + (*beta)[c]);
    }
    Location loc = bn.getLoc();
    auto newWeight = ConstantOp::create(
        rewriter, loc, makeF32Constant(weightType, *weights, "folded_weight"));
    auto biasType =
        RankedTensorType::get({channels}, weightType.getElementType());
    auto newBias = ConstantOp::create(
        rewriter, loc, makeF32Constant(biasType, bias, "folded_bias"));
    rewriter.replaceOpWithNewOp<ConvOp>(
        bn, conv.getInput(), newWeight, newBias, conv.getStridesAttr(),
        conv.getPadsAttr(), conv.getDilationsAttr(), conv.getGroupAttr());
    return success();
  }
};

struct SparqFoldBatchNormPass
    : sparq::impl::SparqFoldBatchNormPassBase<SparqFoldBatchNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldBatchNormIntoConv>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
