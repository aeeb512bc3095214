//===- FuseEpilogues.cpp - Form kernel ops with fused epilogues ------------===//
//
// Turns f32 convolutions and matrix products into the kernel-level ops
// sparq.fused_conv and sparq.fused_matmul, then grows their epilogue: a
// following per-channel bias add, a same-shape residual add and an
// activation are absorbed while the kernel result has no other user. Each
// kernel op becomes one microkernel call, so the fused ops never round-trip
// through memory.
//
// It also recognizes two decompositions exporters write for ops the kernels
// or the runtime implement directly: GELU (absorbed into the epilogue) and
// LayerNorm over the last axis (sparq.layer_norm, one runtime row kernel).
//
//===----------------------------------------------------------------------===//

#include "sparq/Dialect/Sparq/Transforms/Passes.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>
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

//===----------------------------------------------------------------------===//
// GELU recognition
//===----------------------------------------------------------------------===//

/// The value of a constant with a single (splat) f32 value, if v is one.
std::optional<double> splatConstant(Value v) {
  DenseElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)) || !attr.isSplat() ||
      !attr.getElementType().isF32())
    return std::nullopt;
  return attr.getSplatValue<APFloat>().convertToDouble();
}

bool near(std::optional<double> v, double want) {
  return v && std::abs(*v - want) <= 1e-6 * std::abs(want);
}

/// For a binary op with one splat-constant operand equal to `want`, the
/// other operand; null otherwise.
template <typename BinaryOp>
Value otherThanConstant(BinaryOp op, double want) {
  if (near(splatConstant(op.getRhs()), want))
    return op.getLhs();
  if (near(splatConstant(op.getLhs()), want))
    return op.getRhs();
  return {};
}

/// GELU as exporters decompose it, x * 0.5 * (1 + f(x)), in any
/// association of the two products, becomes sparq.gelu so that the matmul
/// epilogue can absorb it:
///  - exact: f = erf(x / sqrt 2), also as x * (1 / sqrt 2) (torch.nn.GELU:
///    Div, Erf, Add, Mul(x, .), Mul(., 0.5); Hugging Face's gelu: Mul(x,
///    0.5) first);
///  - tanh approximation: f = tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)),
///    with x^3 as x * (x * x) or Pow(x, 3) (GPT-2's NewGELU,
///    nn.GELU(approximate="tanh")).
struct RecognizeGelu : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;

  /// x of erf(x / sqrt 2).
  static Value erfArgument(ErfOp erf) {
    Operation *scale = erf.getInput().getDefiningOp();
    if (!scale || !scale->hasOneUse())
      return {};
    if (auto div = dyn_cast<DivOp>(scale))
      return near(splatConstant(div.getRhs()), M_SQRT2) ? div.getLhs() : Value();
    if (auto mul = dyn_cast<MulOp>(scale))
      return otherThanConstant(mul, M_SQRT1_2);
    return {};
  }

  /// Whether v is x^3 (used only here).
  static bool isCube(Value v, Value x) {
    Operation *op = v.getDefiningOp();
    if (!op || !op->hasOneUse())
      return false;
    if (auto pow = dyn_cast<PowOp>(op))
      return pow.getLhs() == x && near(splatConstant(pow.getRhs()), 3.0);
    auto mul = dyn_cast<MulOp>(op);
    if (!mul)
      return false;
    for (auto [a, b] : {std::pair(mul.getLhs(), mul.getRhs()),
                        std::pair(mul.getRhs(), mul.getLhs())}) {
      auto sq = b.getDefiningOp<MulOp>();
      if (a == x && sq && sq->hasOneUse() && sq.getLhs() == x &&
          sq.getRhs() == x)
        return true;
    }
    return false;
  }

  /// x of tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)).
  static Value tanhArgument(TanhOp tanh) {
    auto outer = tanh.getInput().getDefiningOp<MulOp>();
    if (!outer || !outer->hasOneUse())
      return {};
    Value sum = otherThanConstant(outer, 0.7978845608028654);
    auto add = sum ? sum.getDefiningOp<AddOp>() : AddOp();
    if (!add || !add->hasOneUse())
      return {};
    for (auto [x, t] : {std::pair(add.getLhs(), add.getRhs()),
                        std::pair(add.getRhs(), add.getLhs())}) {
      auto scaled = t.getDefiningOp<MulOp>();
      if (!scaled || !scaled->hasOneUse())
        continue;
      Value cube = otherThanConstant(scaled, 0.044715);
      if (cube && isCube(cube, x))
        return x;
    }
    return {};
  }

  /// Matches 1 + f(x); returns x and whether f is the tanh form.
  static Value onePlusTerm(Value v, bool &tanhForm) {
    auto add = v.getDefiningOp<AddOp>();
    if (!add || !add->hasOneUse())
      return {};
    Value f = otherThanConstant(add, 1.0);
    if (!f || !f.hasOneUse())
      return {};
    tanhForm = false;
    if (auto erf = f.getDefiningOp<ErfOp>())
      return erfArgument(erf);
    tanhForm = true;
    if (auto tanh = f.getDefiningOp<TanhOp>())
      return tanhArgument(tanh);
    return {};
  }

  LogicalResult matchAndRewrite(MulOp root,
                                PatternRewriter &rewriter) const override {
    // Flatten the two products into three factors.
    SmallVector<Value, 3> factors;
    Operation *inner = nullptr;
    for (Value operand : {root.getLhs(), root.getRhs()}) {
      auto mul = operand.getDefiningOp<MulOp>();
      if (!inner && mul && mul->hasOneUse()) {
        inner = mul;
        factors.push_back(mul.getLhs());
        factors.push_back(mul.getRhs());
      } else {
        factors.push_back(operand);
      }
    }
    if (!inner || factors.size() != 3)
      return failure();
    // One factor is 0.5, one is 1 + erf(x / sqrt 2), the last is x.
    for (int half = 0; half < 3; ++half) {
      if (!near(splatConstant(factors[half]), 0.5))
        continue;
      for (int term = 0; term < 3; ++term) {
        if (term == half)
          continue;
        Value x = factors[3 - half - term];
        bool tanhForm = false;
        if (onePlusTerm(factors[term], tanhForm) != x ||
            typeOf(x) != typeOf(root.getResult()))
          continue;
        rewriter.replaceOpWithNewOp<GeluOp>(root, root.getType(), x,
                                            tanhForm);
        return success();
      }
    }
    return failure();
  }
};

//===----------------------------------------------------------------------===//
// LayerNorm recognition
//===----------------------------------------------------------------------===//

/// Whether every use of `v` is an operand of one of `users`.
bool onlyUsedBy(Value v, ArrayRef<Operation *> users) {
  return llvm::all_of(v.getUses(), [&](OpOperand &use) {
    return llvm::is_contained(users, use.getOwner());
  });
}

/// A keepdims mean over the last axis only, with a single use.
ReduceMeanOp lastAxisMean(Value v) {
  auto mean = v.getDefiningOp<ReduceMeanOp>();
  if (!mean || !mean->hasOneUse() || !mean.getKeepdims())
    return {};
  int64_t rank = typeOf(mean.getInput()).getRank();
  ArrayRef<int64_t> axes = mean.getAxes();
  if (rank == 0 || axes.size() != 1 || axes[0] != rank - 1)
    return {};
  return mean;
}

/// A constant of n f32 values laid out along the last dim ([n] or
/// [1, ..., 1, n]) in a result of rank `rank`.
bool isLastDimVectorConstant(Value v, int64_t n, int64_t rank) {
  return matchPattern(v, m_Constant()) && typeOf(v).getElementType().isF32() &&
         vectorAlongDim(v, 0, rank) == n;
}

/// LayerNorm as torch (opset < 17) and Hugging Face exporters decompose it:
///   mean = ReduceMean(x, last axis); d = x - mean
///   var = ReduceMean(Pow(d, 2) or d * d, last axis)
///   y = d / Sqrt(var + eps), or d * Reciprocal(Sqrt(var + eps))
///   then optionally y * gamma and + beta (constants along the last axis)
/// becomes sparq.layer_norm(x, gamma or ones, beta) with axis -1. Every
/// intermediate must have only its use inside the pattern and eps must be
/// a one-element constant. Rooted at the division (or the multiply by the
/// reciprocal).
template <typename RootOp>
struct RecognizeLayerNorm : OpRewritePattern<RootOp> {
  using OpRewritePattern<RootOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(RootOp root,
                                PatternRewriter &rewriter) const override {
    // The chain, from the root up; erased in this order after the rewrite.
    SmallVector<Operation *, 10> chain;
    Value centered, denominator;
    if constexpr (std::is_same_v<RootOp, DivOp>) {
      centered = root.getLhs();
      denominator = root.getRhs();
    } else {
      for (auto [c, r] : {std::pair(root.getLhs(), root.getRhs()),
                          std::pair(root.getRhs(), root.getLhs())}) {
        auto recip = r.template getDefiningOp<ReciprocalOp>();
        if (recip && recip->hasOneUse() && c != r) {
          centered = c;
          denominator = recip.getInput();
          chain.push_back(recip);
          break;
        }
      }
      if (!denominator)
        return rewriter.notifyMatchFailure(root, "no reciprocal factor");
    }
    auto sqrt = denominator.getDefiningOp<SqrtOp>();
    if (!sqrt || !sqrt->hasOneUse())
      return rewriter.notifyMatchFailure(root, "no sqrt denominator");
    auto addEps = sqrt.getInput().getDefiningOp<AddOp>();
    if (!addEps || !addEps->hasOneUse())
      return rewriter.notifyMatchFailure(root, "no + eps");
    std::optional<double> eps;
    ReduceMeanOp variance;
    for (auto [v, e] : {std::pair(addEps.getLhs(), addEps.getRhs()),
                        std::pair(addEps.getRhs(), addEps.getLhs())}) {
      if (!typeOf(e).hasStaticShape() || typeOf(e).getNumElements() != 1)
        continue;
      if ((eps = splatConstant(e)) && (variance = lastAxisMean(v)))
        break;
    }
    if (!eps || !variance)
      return rewriter.notifyMatchFailure(root,
                                         "not mean(...) + constant eps");
    // The square of d: Pow(d, 2) or d * d.
    Operation *square = variance.getInput().getDefiningOp();
    if (!square || !square->hasOneUse())
      return failure();
    if (auto pow = dyn_cast<PowOp>(square)) {
      if (pow.getLhs() != centered || !near(splatConstant(pow.getRhs()), 2.0))
        return failure();
    } else if (auto mul = dyn_cast<MulOp>(square)) {
      if (mul.getLhs() != centered || mul.getRhs() != centered)
        return failure();
    } else {
      return failure();
    }
    auto sub = centered.getDefiningOp<SubOp>();
    ReduceMeanOp mean = sub ? lastAxisMean(sub.getRhs()) : ReduceMeanOp();
    if (!mean || mean.getInput() != sub.getLhs())
      return rewriter.notifyMatchFailure(root, "not x - mean(x)");
    if (!onlyUsedBy(centered, {square, root}))
      return rewriter.notifyMatchFailure(root, "x - mean has other users");
    Value x = sub.getLhs();
    auto type = typeOf(x);
    int64_t rank = type.getRank();
    int64_t n = type.getDimSize(rank - 1);
    if (!type.getElementType().isF32() || ShapedType::isDynamic(n) ||
        typeOf(centered) != type || root.getType() != type)
      return rewriter.notifyMatchFailure(root, "shapes change in the chain");
    chain.append({sqrt, addEps, variance, square, sub, mean});

    // Trailing affine: * gamma, then + beta, each the single user.
    SmallVector<Operation *, 3> tail = {root};
    Value gamma, beta;
    auto absorb = [&](auto opTag) -> Value {
      using Op = decltype(opTag);
      Operation *last = tail.back();
      if (!last->hasOneUse())
        return {};
      auto user = dyn_cast<Op>(*last->getUsers().begin());
      if (!user || user.getType() != type)
        return {};
      Value v = last->getResult(0);
      Value other = user.getLhs() == v ? user.getRhs() : user.getLhs();
      if (other == v || !isLastDimVectorConstant(other, n, rank))
        return {};
      tail.push_back(user);
      return other;
    };
    gamma = absorb(MulOp());
    beta = absorb(AddOp());

    Operation *last = tail.back();
    rewriter.setInsertionPoint(last);
    Location loc = root.getLoc();
    Value scale =
        gamma ? asVector(rewriter, loc, gamma, n)
              : ConstantOp::create(
                    rewriter, loc,
                    DenseElementsAttr::get(
                        RankedTensorType::get({n}, rewriter.getF32Type()),
                        1.0f));
    Value bias = beta ? asVector(rewriter, loc, beta, n) : Value();
    Value layerNorm = LayerNormOp::create(
        rewriter, last->getLoc(), type, x, scale, bias,
        rewriter.getI64IntegerAttr(-1),
        rewriter.getF32FloatAttr(static_cast<float>(*eps)));
    rewriter.replaceOp(last, layerNorm);
    // What is left of the chain is dead; erase users first.
    tail.pop_back();
    for (Operation *op : llvm::reverse(tail))
      rewriter.eraseOp(op);
    for (Operation *op : chain)
      rewriter.eraseOp(op);
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
                 FuseActivation<FusedConvOp>, FuseActivation<FusedMatMulOp>,
                 RecognizeGelu, RecognizeLayerNorm<DivOp>,
                 RecognizeLayerNorm<MulOp>>(context);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
