//===- FuseEpilogues.cpp - Form kernel ops with fused epilogues ------------===//
//
// Turns f32 convolutions and matrix products into the kernel-level ops
// sparq.fused_conv and sparq.fused_matmul, then grows their epilogue: a
// following per-channel bias add, a same-shape residual add and an
// activation are absorbed while the kernel result has no other user. Each
// kernel op becomes one microkernel call, so the fused ops never round-trip
// through memory.
//
//===----------------------------------------------------------------------===//

#include "sparq/Dialect/Sparq/Transforms/Passes.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

namespace sparq {
#define GEN_PASS_DEF_SPARQFUSEEPILOGUESPASS
#include "sparq/Dialect/Sparq/Transforms/Passes.h.inc"
} // namespace sparq

using namespace mlir;
using namespace sparq;

namespace {

RankedTensorType typeOf(Value v) { return cast<RankedTensorType>(v.getType()); }

bool isStaticF32(Value v) {
  auto t = typeOf(v);
  return t.getElementType().isF32() && t.hasStaticShape();
}

/// Epilogue state shared by both kernel ops.
template <typename KernelOp>
bool hasFreeEpilogue(KernelOp op) {
  return op.getActivation() == Activation::None;
}

//===----------------------------------------------------------------------===//
// Kernel formation
//===----------------------------------------------------------------------===//

struct ConvToFusedConv : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    if (typeOf(op.getInput()).getRank() != 4 || !isStaticF32(op.getInput()) ||
        !isStaticF32(op.getWeight()))
      return rewriter.notifyMatchFailure(op, "not a static f32 2-d conv");
    rewriter.replaceOpWithNewOp<FusedConvOp>(
        op, op.getType(), op.getInput(), op.getWeight(), op.getBias(),
        /*residual=*/Value(), op.getStridesAttr(), op.getPadsAttr(),
        op.getDilationsAttr(), op.getGroupAttr(), /*activation=*/nullptr,
        /*act_alpha=*/nullptr, /*act_beta=*/nullptr);
    return success();
  }
};

struct MatMulToFusedMatMul : OpRewritePattern<MatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatMulOp op,
                                PatternRewriter &rewriter) const override {
    if (typeOf(op.getLhs()).getRank() < 2 || typeOf(op.getRhs()).getRank() < 2 ||
        !isStaticF32(op.getLhs()) || !isStaticF32(op.getRhs()))
      return rewriter.notifyMatchFailure(op, "not a static f32 matmul");
    rewriter.replaceOpWithNewOp<FusedMatMulOp>(
        op, op.getType(), op.getLhs(), op.getRhs(), Value(), Value(),
        /*trans_b=*/rewriter.getBoolAttr(false), nullptr, nullptr, nullptr);
    return success();
  }
};

/// gemm(A, B, C) = alpha * op(A) op(B) + beta * C becomes a fused matmul
/// (trans_b folded in) followed by scaling and the C add, which the bias and
/// residual patterns then absorb when alpha == beta == 1.
struct GemmToFusedMatMul : OpRewritePattern<GemmOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GemmOp op,
                                PatternRewriter &rewriter) const override {
    if (!isStaticF32(op.getA()) || !isStaticF32(op.getB()) ||
        (op.getC() && !isStaticF32(op.getC())))
      return rewriter.notifyMatchFailure(op, "not a static f32 gemm");
    Location loc = op.getLoc();
    Value a = op.getA();
    if (op.getTransA())
      a = TransposeOp::create(rewriter, loc, a,
                              rewriter.getDenseI64ArrayAttr({1, 0}));
    Value result = FusedMatMulOp::create(
        rewriter, loc, op.getType(), a, op.getB(), Value(), Value(),
        op.getTransBAttr(), nullptr, nullptr, nullptr);
    auto scalar = [&](float v) -> Value {
      auto type = RankedTensorType::get({}, rewriter.getF32Type());
      return ConstantOp::create(rewriter, loc,
                                DenseElementsAttr::get(type, v));
    };
    float alpha = op.getAlpha().convertToFloat();
    float beta = op.getBeta().convertToFloat();
    if (alpha != 1.0f)
      result = MulOp::create(rewriter, loc, result, scalar(alpha));
    if (Value c = op.getC()) {
      if (beta != 1.0f)
        c = MulOp::create(rewriter, loc, c, scalar(beta));
      if (beta != 0.0f)
        result = AddOp::create(rewriter, loc, result, c);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Epilogue growth
//===----------------------------------------------------------------------===//

/// Returns the add's operand that is not `kernel`, when the other is the
/// single-use result of a kernel op of type KernelOp.
template <typename KernelOp>
std::pair<KernelOp, Value> matchKernelAdd(AddOp add) {
  for (int i = 0; i < 2; ++i) {
    auto kernel = add->getOperand(i).getDefiningOp<KernelOp>();
    if (kernel && kernel->hasOneUse() && add.getType() == kernel.getType())
      return {kernel, add->getOperand(1 - i)};
  }
  return {KernelOp(), Value()};
}

/// Number of elements of `v` if its shape is [1, ..., 1, n, 1, ..., 1] with
/// the non-unit dim at `dim` counted from the end (0 = last), else -1.
int64_t vectorAlongDim(Value v, int64_t dimFromEnd, int64_t resultRank) {
  auto t = typeOf(v);
  if (t.getRank() > resultRank || !t.hasStaticShape())
    return -1;
  int64_t n = 1;
  for (int64_t i = 0; i < t.getRank(); ++i) {
    int64_t fromEnd = t.getRank() - 1 - i;
    if (fromEnd == dimFromEnd)
      n = t.getDimSize(i);
    else if (t.getDimSize(i) != 1)
      return -1;
  }
  if (dimFromEnd >= t.getRank())
    return -1;
  return n;
}

Value asVector(PatternRewriter &rewriter, Location loc, Value v, int64_t n) {
  auto t = typeOf(v);
  if (t.getRank() == 1)
    return v;
  auto vecType = RankedTensorType::get({n}, t.getElementType());
  return ReshapeOp::create(rewriter, loc, vecType, v);
}

template <typename KernelOp>
struct FuseBiasOrResidual : OpRewritePattern<AddOp> {
  using OpRewritePattern<AddOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(AddOp add,
                                PatternRewriter &rewriter) const override {
    auto [kernel, other] = matchKernelAdd<KernelOp>(add);
    if (!kernel || !hasFreeEpilogue(kernel))
      return rewriter.notifyMatchFailure(add, "no fusable kernel operand");
    auto resultType = typeOf(kernel.getResult());
    if (typeOf(other).getElementType() != resultType.getElementType())
      return failure();
    // The bias of a conv runs along channels (dim 1 = rank-3 from the end);
    // the bias of a matmul along the last dim.
    int64_t biasDim = std::is_same_v<KernelOp, FusedConvOp> ? 2 : 0;
    int64_t channels = resultType.getDimSize(resultType.getRank() - 1 - biasDim);
    bool isBias = !kernel.getBias() &&
                  vectorAlongDim(other, biasDim, resultType.getRank()) ==
                      channels;
    bool isResidual =
        !isBias && !kernel.getResidual() && typeOf(other) == resultType;
    if (!isBias && !isResidual)
      return rewriter.notifyMatchFailure(add,
                                         "addend is neither bias nor residual");
    // The addend must be available where the kernel runs: move the kernel
    // down past the addend's producer. Only the add uses the kernel, and the
    // add comes after both.
    if (Operation *def = other.getDefiningOp();
        def && def->getBlock() == kernel->getBlock() &&
        kernel->isBeforeInBlock(def))
      rewriter.moveOpAfter(kernel, def);
    rewriter.setInsertionPoint(kernel);
    if (isBias) {
      Value bias = asVector(rewriter, add.getLoc(), other, channels);
      rewriter.modifyOpInPlace(kernel,
                               [&] { kernel.getBiasMutable().assign(bias); });
    } else {
      rewriter.modifyOpInPlace(
          kernel, [&] { kernel.getResidualMutable().assign(other); });
    }
    rewriter.replaceOp(add, kernel.getResult());
    return success();
  }
};

/// Maps an activation op to the epilogue kind, reading its parameters.
std::optional<Activation> activationOf(Operation *op, float &alpha,
                                       float &beta) {
  alpha = 0.0f;
  beta = 0.0f;
  if (isa<ReluOp>(op))
    return Activation::Relu;
  if (isa<SigmoidOp>(op))
    return Activation::Sigmoid;
  if (isa<TanhOp>(op))
    return Activation::Tanh;
  if (isa<HardSwishOp>(op))
    return Activation::HardSwish;
  if (auto gelu = dyn_cast<GeluOp>(op))
    return gelu.getTanhApproximation() ? Activation::GeluTanh
                                       : Activation::Gelu;
  if (auto leaky = dyn_cast<LeakyReluOp>(op)) {
    alpha = leaky.getAlpha().convertToFloat();
    return Activation::LeakyRelu;
  }
  if (auto hs = dyn_cast<HardSigmoidOp>(op)) {
    alpha = hs.getAlpha().convertToFloat();
    beta = hs.getBeta().convertToFloat();
    return Activation::HardSigmoid;
  }
  if (auto clip = dyn_cast<ClipOp>(op)) {
    alpha = clip.getMin() ? (float)clip.getMin()->convertToDouble()
                          : -std::numeric_limits<float>::infinity();
    beta = clip.getMax() ? (float)clip.getMax()->convertToDouble()
                         : std::numeric_limits<float>::infinity();
    return Activation::Clip;
  }
  return std::nullopt;
}

template <typename KernelOp>
struct FuseActivation : RewritePattern {
  FuseActivation(MLIRContext *context)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (op->getNumOperands() != 1 || op->getNumResults() != 1)
      return failure();
    auto kernel = op->getOperand(0).getDefiningOp<KernelOp>();
    if (!kernel || !kernel->hasOneUse() || !hasFreeEpilogue(kernel) ||
        op->getResult(0).getType() != kernel.getType())
      return failure();
    float alpha, beta;
    std::optional<Activation> act = activationOf(op, alpha, beta);
    if (!act)
      return failure();
    rewriter.modifyOpInPlace(kernel, [&] {
      kernel.setActivation(*act);
      kernel.setActAlpha(APFloat(alpha));
      kernel.setActBeta(APFloat(beta));
    });
    rewriter.replaceOp(op, kernel.getResult());
    return success();
  }
};

struct SparqFuseEpiloguesPass
    : sparq::impl::SparqFuseEpiloguesPassBase<SparqFuseEpiloguesPass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    patterns.add<ConvToFusedConv, MatMulToFusedMatMul, GemmToFusedMatMul,
                 FuseBiasOrResidual<FusedConvOp>,
                 FuseBiasOrResidual<FusedMatMulOp>,
                 FuseActivation<FusedConvOp>, FuseActivation<FusedMatMulOp>>(
        context);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
