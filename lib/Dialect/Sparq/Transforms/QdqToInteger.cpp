//===- QdqToInteger.cpp - QDQ groups to integer kernels -------------------===//
//
// Recognizes the quantize/dequantize groups that onnxruntime's quantization
// tools and torch's exporters write around convolutions and matrix products
// (after sparq-fuse-epilogues has formed sparq.fused_conv / fused_matmul
// from them) and rewrites them to the integer kernels sparq.qconv /
// sparq.qmatmul:
//
//  - dequantize(x) and dequantize(const w) into a kernel whose only user is
//    a per-tensor quantize_linear become one kernel with an 8-bit result:
//    requantization multiplier x_scale * w_scale[n] / y_scale (in f32, in
//    that order, as onnxruntime's QLinearConv), the i32 bias, and a fused
//    Relu/Clip as a narrowed [qmin, qmax];
//  - the same group with a float consumer (or an epilogue the integer
//    result cannot express) becomes a kernel with an f32 result;
//  - quantize_dynamic's matmul_integer / conv_integer -> cast ->
//    mul(scale) [-> add bias] becomes one kernel with an f32 result;
//  - max_pool / reshape / transpose between a dequantize and a quantize with
//    the same per-tensor parameters run on the 8-bit values, and a Relu /
//    Clip there narrows the producing kernel's [qmin, qmax];
//  - quantize(add(dequantize(a), dequantize(b))) with per-tensor parameters
//    (the residual adds of QDQ ResNets) becomes sparq.qadd, the same f32
//    arithmetic in one runtime kernel.
//
// Every kernel formed records what it computes in a `sparq.quantized`
// string attribute for the compile report.
//
//===----------------------------------------------------------------------===//

#include "sparq/Dialect/Sparq/Transforms/Passes.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace sparq {
#define GEN_PASS_DEF_SPARQQDQTOINTEGERPASS
#include "sparq/Dialect/Sparq/Transforms/Passes.h.inc"
} // namespace sparq

using namespace mlir;
using namespace sparq;

namespace {

constexpr StringLiteral kQuantizedAttr = "sparq.quantized";

RankedTensorType typeOf(Value v) { return cast<RankedTensorType>(v.getType()); }

int64_t numElements(Value v) {
  auto t = typeOf(v);
  return t.hasStaticShape() ? t.getNumElements() : -1;
}

bool isByteType(Type t) {
  auto i = dyn_cast<IntegerType>(t);
  return i && i.getWidth() == 8 && !i.isSigned();
}

/// "u8" / "s8" / "f32" / "i32" for the recorded description.
std::string typeTag(Type t) {
  if (auto i = dyn_cast<IntegerType>(t))
    return (i.isUnsigned() ? "u" : (i.getWidth() == 32 ? "i" : "s")) +
           std::to_string(i.getWidth());
  return t.isF32() ? "f32" : "?";
}

/// The elements of a constant tensor as floats (f32 only).
std::optional<SmallVector<float>> constantFloats(Value v) {
  ElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)) || !attr.getElementType().isF32())
    return std::nullopt;
  SmallVector<float> values;
  for (APFloat f : attr.getValues<APFloat>())
    values.push_back(f.convertToFloat());
  return values;
}

/// The elements of a constant integer tensor, sign- or zero-extended as
/// their type says.
std::optional<SmallVector<int64_t>> constantInts(Value v) {
  ElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  auto intType = dyn_cast<IntegerType>(attr.getElementType());
  if (!intType)
    return std::nullopt;
  SmallVector<int64_t> values;
  for (APInt i : attr.getValues<APInt>())
    values.push_back(intType.isUnsigned() ? (int64_t)i.getZExtValue()
                                          : i.getSExtValue());
  return values;
}

/// A dequantize_linear of 8-bit values with per-tensor or per-axis f32
/// parameters.
struct Dequantized {
  DequantizeLinearOp op;
  Value q() { return op.getInput(); }
  Type storage() { return typeOf(op.getInput()).getElementType(); }
  bool perTensor() { return numElements(op.getScale()) == 1; }
};

std::optional<Dequantized> matchDequantize(Value v) {
  auto dq = v.getDefiningOp<DequantizeLinearOp>();
  if (!dq || dq.getBlockSize() != 0 ||
      !isByteType(typeOf(dq.getInput()).getElementType()) ||
      !typeOf(dq.getScale()).getElementType().isF32())
    return std::nullopt;
  return Dequantized{dq};
}

/// The per-tensor f32 scale and integer zero point of `dq`, when both are
/// constants.
std::optional<std::pair<float, int64_t>> perTensorParams(Value scale,
                                                         Value zeroPoint) {
  auto s = constantFloats(scale);
  auto z = constantInts(zeroPoint);
  if (!s || !z || s->size() != 1 || z->size() != 1)
    return std::nullopt;
  return std::make_pair((*s)[0], (*z)[0]);
}

/// The per-tensor parameters that `dq` and the quantize `q` share: both
/// per-tensor with equal constant scale and zero point, into the same storage
/// type. quantize(f(dequantize(x))) with such parameters can run f on x.
std::optional<std::pair<float, int64_t>> sharedParams(Dequantized dq,
                                                      QuantizeLinearOp q) {
  if (dq.storage() != q.getType().getElementType() || q.getBlockSize() != 0)
    return std::nullopt;
  auto in = perTensorParams(dq.op.getScale(), dq.op.getZeroPoint());
  auto out = perTensorParams(q.getScale(), q.getZeroPoint());
  if (!in || !out || *in != *out)
    return std::nullopt;
  return in;
}

/// ONNX QuantizeLinear of one value: saturate(rne(v / scale) + zp), the
/// division in f32; infinities saturate.
int64_t quantizeScalar(float v, float scale, int64_t zp, int64_t lo,
                       int64_t hi) {
  float real = v / scale;
  if (std::isnan(real))
    return lo;
  double q = std::nearbyint((double)real) + (double)zp;
  return (int64_t)std::min<double>(hi, std::max<double>(lo, q));
}

/// The [qmin, qmax] that quantize(act(v)) clamps quantize(v) to, for a
/// Relu or Clip `act` (or none) and per-tensor parameters into `storage`:
/// quantization is monotone, so quantize(clamp(v, a, b)) =
/// clamp(quantize(v), quantize(a), quantize(b)) exactly.
std::pair<int64_t, int64_t> clampRange(Operation *act, float scale,
                                       int64_t zero, Type storage) {
  bool isUnsigned = storage.isUnsignedInteger();
  int64_t lo = isUnsigned ? 0 : -128, hi = isUnsigned ? 255 : 127;
  int64_t qmin = lo, qmax = hi;
  if (auto clip = dyn_cast_or_null<ClipOp>(act)) {
    if (clip.getMin())
      qmin = quantizeScalar((float)clip.getMin()->convertToDouble(), scale,
                            zero, lo, hi);
    if (clip.getMax())
      qmax = quantizeScalar((float)clip.getMax()->convertToDouble(), scale,
                            zero, lo, hi);
  } else if (isa_and_nonnull<ReluOp>(act)) {
    qmin = std::max(lo, zero);
  }
  return {qmin, qmax};
}

Value vectorConstant(PatternRewriter &rewriter, Location loc,
                     ArrayRef<float> values) {
  auto type =
      RankedTensorType::get({(int64_t)values.size()}, rewriter.getF32Type());
  return ConstantOp::create(rewriter, loc,
                            DenseElementsAttr::get(type, values));
}

/// Whether the integer matmul kernel takes these static operands: batch
/// dims all ones (broadcast) or the result's.
bool batchesFit(Value lhs, Value rhs, RankedTensorType result) {
  ArrayRef<int64_t> outBatch = result.getShape().drop_back(2);
  for (Value v : {lhs, rhs}) {
    auto type = typeOf(v);
    if (!type.hasStaticShape() || type.getRank() < 2)
      return false;
    ArrayRef<int64_t> batch = type.getShape().drop_back(2);
    if (llvm::any_of(batch, [](int64_t d) { return d != 1; }) &&
        batch != outBatch)
      return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// dequantize -> fused kernel [-> quantize]
//===----------------------------------------------------------------------===//

/// What the two kernel ops differ in.
template <typename KernelOp> struct KernelTraits;

template <> struct KernelTraits<FusedConvOp> {
  static Value input(FusedConvOp op) { return op.getInput(); }
  static Value weight(FusedConvOp op) { return op.getWeight(); }
  /// The weight dim holding the output channels.
  static int64_t channelAxis(FusedConvOp) { return 0; }
  static bool accepts(FusedConvOp op) {
    return typeOf(op.getInput()).getRank() == 4;
  }
  static Operation *build(PatternRewriter &rewriter, FusedConvOp op,
                          Type resultType, Value x, Value w, Value xZero,
                          Value wZero, Value scale, Value bias, Value biasF32) {
    return QConvOp::create(rewriter, op.getLoc(), resultType, x, w, xZero,
                           wZero, scale, bias, biasF32, op.getStridesAttr(),
                           op.getPadsAttr(), op.getDilationsAttr(),
                           op.getGroupAttr(), nullptr, nullptr, nullptr,
                           nullptr, nullptr, nullptr);
  }
};

template <> struct KernelTraits<FusedMatMulOp> {
  static Value input(FusedMatMulOp op) { return op.getLhs(); }
  static Value weight(FusedMatMulOp op) { return op.getRhs(); }
  static int64_t channelAxis(FusedMatMulOp op) {
    int64_t rank = typeOf(op.getRhs()).getRank();
    return op.getTransB() ? rank - 2 : rank - 1;
  }
  static bool accepts(FusedMatMulOp op) {
    return batchesFit(op.getLhs(), op.getRhs(), op.getType());
  }
  static Operation *build(PatternRewriter &rewriter, FusedMatMulOp op,
                          Type resultType, Value x, Value w, Value xZero,
                          Value wZero, Value scale, Value bias, Value biasF32) {
    return QMatMulOp::create(rewriter, op.getLoc(), resultType, x, w, xZero,
                             wZero, scale, bias, biasF32, op.getTransBAttr(),
                             nullptr, nullptr, nullptr, nullptr, nullptr,
                             nullptr);
  }
};

/// Sets the epilogue attributes shared by qconv and qmatmul.
void setEpilogue(Operation *kernel, Activation act, float alpha, float beta,
                 std::optional<int64_t> outZero, std::optional<int64_t> qmin,
                 std::optional<int64_t> qmax, StringRef description) {
  Builder b(kernel->getContext());
  if (act != Activation::None) {
    kernel->setAttr("activation", ActivationAttr::get(b.getContext(), act));
    kernel->setAttr("act_alpha", b.getF32FloatAttr(alpha));
    kernel->setAttr("act_beta", b.getF32FloatAttr(beta));
  }
  if (outZero)
    kernel->setAttr("out_zero_point", b.getI64IntegerAttr(*outZero));
  if (qmin)
    kernel->setAttr("qmin", b.getI64IntegerAttr(*qmin));
  if (qmax)
    kernel->setAttr("qmax", b.getI64IntegerAttr(*qmax));
  kernel->setAttr(kQuantizedAttr, b.getStringAttr(description));
}

/// Rewrites a fused_conv / fused_matmul whose input and weight are
/// dequantized 8-bit values into qconv / qmatmul (see the file comment).
template <typename KernelOp>
struct DequantizedKernelToInteger : OpRewritePattern<KernelOp> {
  using OpRewritePattern<KernelOp>::OpRewritePattern;
  using Traits = KernelTraits<KernelOp>;

  LogicalResult matchAndRewrite(KernelOp op,
                                PatternRewriter &rewriter) const override {
    if (!Traits::accepts(op) || op.getResidual() ||
        !op.getType().getElementType().isF32() ||
        !op.getType().hasStaticShape())
      return rewriter.notifyMatchFailure(op, "not a static f32 kernel "
                                             "without a residual");
    std::optional<Dequantized> x = matchDequantize(Traits::input(op));
    std::optional<Dequantized> w = matchDequantize(Traits::weight(op));
    if (!x || !w)
      return rewriter.notifyMatchFailure(op, "operands are not dequantized "
                                             "8-bit values");
    // Activations: per-tensor; the scale folds into the multiplier.
    auto xParams = perTensorParams(x->op.getScale(), x->op.getZeroPoint());
    if (!xParams)
      return rewriter.notifyMatchFailure(op, "input is not per-tensor with "
                                             "constant parameters");
    float xScale = xParams->first;
    // Weights: per-tensor or per output channel with constant scales. A
    // non-constant weight is accepted only per-tensor (activation x
    // activation products).
    auto wType = typeOf(w->q());
    int64_t axis = Traits::channelAxis(op);
    int64_t channels = wType.getDimSize(axis);
    std::optional<SmallVector<float>> wScales =
        constantFloats(w->op.getScale());
    if (!wScales)
      return rewriter.notifyMatchFailure(op, "weight scale is not constant");
    bool perChannel = !w->perTensor();
    if (perChannel &&
        ((int64_t)wScales->size() != channels || (int64_t)w->op.getAxis() != axis ||
         numElements(w->op.getZeroPoint()) != channels))
      return rewriter.notifyMatchFailure(op, "weight is quantized along "
                                             "another axis");
    if (perChannel && !matchPattern(w->q(), m_Constant()))
      return rewriter.notifyMatchFailure(op, "per-channel weight is not "
                                             "constant");

    // acc * (x_scale * w_scale[n]) is the float kernel's accumulator.
    SmallVector<float> accScale;
    for (float ws : *wScales)
      accScale.push_back(xScale * ws);

    // The bias: i32 when it is a dequantized i32 constant with scale
    // x_scale * w_scale and zero point 0 (as the quantizers write it),
    // otherwise added in f32.
    Value biasI32, biasF32;
    if (Value bias = op.getBias()) {
      biasI32 = matchIntegerBias(bias, accScale, channels);
      if (!biasI32)
        biasF32 = bias;
    }

    Location loc = op.getLoc();
    Activation act = op.getActivation();
    float alpha = op.getActAlphaAttr().getValueAsDouble();
    float beta = op.getActBetaAttr().getValueAsDouble();
    std::string operands = typeTag(x->storage()) + typeTag(w->storage());
    std::string granularity = perChannel ? " per-channel" : " per-tensor";

    // An 8-bit result when the only user quantizes per-tensor.
    auto q = op->hasOneUse()
                 ? dyn_cast<QuantizeLinearOp>(*op->getUsers().begin())
                 : QuantizeLinearOp();
    if (q && !biasF32 && q.getBlockSize() == 0 &&
        isByteType(q.getType().getElementType()) &&
        (act == Activation::None || act == Activation::Relu ||
         act == Activation::Clip)) {
      if (auto yParams = perTensorParams(q.getScale(), q.getZeroPoint())) {
        auto [yScale, yZero] = *yParams;
        Type storage = q.getType().getElementType();
        bool isUnsigned = storage.isUnsignedInteger();
        int64_t lo = isUnsigned ? 0 : -128, hi = isUnsigned ? 255 : 127;
        std::optional<int64_t> qmin, qmax;
        // Quantization is monotone, so quantize(clamp(v, a, b)) =
        // clamp(quantize(v), quantize(a), quantize(b)) exactly.
        if (act == Activation::Relu)
          qmin = std::max(lo, yZero);
        if (act == Activation::Clip) {
          qmin = quantizeScalar(alpha, yScale, yZero, lo, hi);
          qmax = quantizeScalar(beta, yScale, yZero, lo, hi);
        }
        SmallVector<float> multiplier;
        for (float s : accScale)
          multiplier.push_back(s / yScale);
        rewriter.setInsertionPoint(q);
        Operation *kernel = Traits::build(
            rewriter, op, q.getType(), x->q(), w->q(), x->op.getZeroPoint(),
            w->op.getZeroPoint(), vectorConstant(rewriter, loc, multiplier),
            biasI32, Value());
        std::string what = operands + "->" + typeTag(storage) + granularity;
        if (act != Activation::None)
          what += act == Activation::Relu ? " +relu" : " +clip";
        setEpilogue(kernel, Activation::None, 0, 0, yZero, qmin, qmax, what);
        rewriter.replaceOp(q, kernel->getResult(0));
        rewriter.eraseOp(op);
        return success();
      }
    }

    // An f32 result; a quantize_linear user stays.
    Operation *kernel = Traits::build(
        rewriter, op, op.getType(), x->q(), w->q(), x->op.getZeroPoint(),
        w->op.getZeroPoint(), vectorConstant(rewriter, loc, accScale), biasI32,
        biasF32);
    setEpilogue(kernel, act, alpha, beta, std::nullopt, std::nullopt,
                std::nullopt, operands + "->f32" + granularity);
    rewriter.replaceOp(op, kernel->getResults());
    return success();
  }

  /// The i32 values of `bias` when it dequantizes a constant i32 vector of
  /// `channels` elements with zero point 0 and scale[n] == accScale[n] (up
  /// to rounding of the product).
  static Value matchIntegerBias(Value bias, ArrayRef<float> accScale,
                                int64_t channels) {
    auto dq = bias.getDefiningOp<DequantizeLinearOp>();
    if (!dq || dq.getBlockSize() != 0)
      return Value();
    auto qType = typeOf(dq.getInput());
    if (!qType.getElementType().isSignlessInteger(32) || qType.getRank() != 1 ||
        qType.getDimSize(0) != channels ||
        !matchPattern(dq.getInput(), m_Constant()))
      return Value();
    auto zeros = constantInts(dq.getZeroPoint());
    auto scales = constantFloats(dq.getScale());
    if (!zeros || !scales ||
        llvm::any_of(*zeros, [](int64_t z) { return z != 0; }))
      return Value();
    for (int64_t n = 0; n < channels; ++n) {
      float want = accScale[accScale.size() == 1 ? 0 : n];
      float got = (*scales)[scales->size() == 1 ? 0 : n];
      if (std::fabs(got - want) > 1e-6f * std::fabs(want))
        return Value();
    }
    return dq.getInput();
  }
};

//===----------------------------------------------------------------------===//
// quantize_dynamic: matmul_integer / conv_integer -> cast -> mul [-> add]
//===----------------------------------------------------------------------===//

template <typename OpTy> OpTy soleUser(Operation *op) {
  if (!op->hasOneUse())
    return OpTy();
  return dyn_cast<OpTy>(*op->getUsers().begin());
}

/// The other operand of a binary op, given one of them.
Value otherOperand(Operation *binary, Value one) {
  return binary->getOperand(0) == one ? binary->getOperand(1)
                                      : binary->getOperand(0);
}

/// Whether `v` broadcasts against a rank-`rank` result as one element or as
/// a vector of `n` along result dim `dim` (trailing-aligned, as ONNX
/// broadcasts).
bool isChannelVector(Value v, int64_t n, int64_t dim, int64_t rank) {
  auto t = typeOf(v);
  if (!t.hasStaticShape() || !t.getElementType().isF32() || t.getRank() > rank)
    return false;
  if (t.getNumElements() == 1)
    return true;
  int64_t at = dim - (rank - t.getRank());
  return at >= 0 && t.getDimSize(at) == n && t.getNumElements() == n;
}

Value asVector(PatternRewriter &rewriter, Location loc, Value v) {
  auto t = typeOf(v);
  if (t.getRank() == 1)
    return v;
  auto vec = RankedTensorType::get({t.getNumElements()}, t.getElementType());
  return ReshapeOp::create(rewriter, loc, vec, v);
}

/// What matmul_integer and conv_integer differ in.
template <typename IntOp> struct IntegerOpTraits;

template <> struct IntegerOpTraits<MatMulIntegerOp> {
  static bool accepts(MatMulIntegerOp op) {
    return op.getType().hasStaticShape() &&
           batchesFit(op.getLhs(), op.getRhs(), op.getType());
  }
  static int64_t channelDim(MatMulIntegerOp op) {
    return op.getType().getRank() - 1;
  }
  static Value x(MatMulIntegerOp op) { return op.getLhs(); }
  static Value w(MatMulIntegerOp op) { return op.getRhs(); }
  static Operation *build(PatternRewriter &rewriter, MatMulIntegerOp op,
                          Type type, Value scale, Value bias) {
    return QMatMulOp::create(
        rewriter, op.getLoc(), type, op.getLhs(), op.getRhs(),
        op.getLhsZeroPoint(), op.getRhsZeroPoint(), scale, Value(), bias,
        nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
  }
};

template <> struct IntegerOpTraits<ConvIntegerOp> {
  static bool accepts(ConvIntegerOp op) {
    return op.getType().hasStaticShape() && op.getType().getRank() == 4 &&
           typeOf(op.getInput()).hasStaticShape();
  }
  static int64_t channelDim(ConvIntegerOp) { return 1; }
  static Value x(ConvIntegerOp op) { return op.getInput(); }
  static Value w(ConvIntegerOp op) { return op.getWeight(); }
  static Operation *build(PatternRewriter &rewriter, ConvIntegerOp op,
                          Type type, Value scale, Value bias) {
    return QConvOp::create(rewriter, op.getLoc(), type, op.getInput(),
                           op.getWeight(), op.getInputZeroPoint(),
                           op.getWeightZeroPoint(), scale, Value(), bias,
                           op.getStridesAttr(), op.getPadsAttr(),
                           op.getDilationsAttr(), op.getGroupAttr(), nullptr,
                           nullptr, nullptr, nullptr, nullptr, nullptr);
  }
};

/// onnxruntime quantize_dynamic's int -> cast(f32) -> mul(scale) [-> add
/// (bias)] after matmul_integer / conv_integer: one kernel with an f32
/// result computing f32(acc) * scale[n] + bias[n], exactly these ops.
template <typename IntOp> struct DynamicToInteger : OpRewritePattern<IntOp> {
  using OpRewritePattern<IntOp>::OpRewritePattern;
  using Traits = IntegerOpTraits<IntOp>;

  LogicalResult matchAndRewrite(IntOp op,
                                PatternRewriter &rewriter) const override {
    if (!Traits::accepts(op))
      return rewriter.notifyMatchFailure(op, "not a kernel-shaped op");
    auto type = op.getType();
    int64_t rank = type.getRank(), dim = Traits::channelDim(op);
    int64_t n = type.getDimSize(dim);
    auto cast = soleUser<CastOp>(op);
    if (!cast || !cast.getType().getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "not cast to f32");
    auto mul = soleUser<MulOp>(cast);
    if (!mul || mul.getType() != cast.getType())
      return rewriter.notifyMatchFailure(op, "not scaled");
    Value scale = otherOperand(mul, cast.getResult());
    if (!isChannelVector(scale, n, dim, rank))
      return rewriter.notifyMatchFailure(op, "scale is not per-tensor or "
                                             "per-channel");
    Operation *last = mul;
    Value bias;
    if (auto add = soleUser<AddOp>(mul);
        add && add.getType() == mul.getType()) {
      Value other = otherOperand(add, mul.getResult());
      if (isChannelVector(other, n, dim, rank)) {
        bias = other;
        last = add;
      }
    }
    // The kernel runs where the last op of the group did: every operand is
    // available there.
    rewriter.setInsertionPoint(last);
    Location loc = op.getLoc();
    Value scaleVec = asVector(rewriter, loc, scale);
    Value biasVec = bias ? asVector(rewriter, loc, bias) : Value();
    Operation *kernel =
        Traits::build(rewriter, op, mul.getType(), scaleVec, biasVec);
    bool perChannel =
        numElements(op->getOperand(3)) > 1 || numElements(scale) > 1;
    kernel->setAttr(
        kQuantizedAttr,
        rewriter.getStringAttr(
            "dynamic " + typeTag(typeOf(Traits::x(op)).getElementType()) +
            typeTag(typeOf(Traits::w(op)).getElementType()) + "->f32" +
            (perChannel ? " per-channel" : " per-tensor")));
    rewriter.replaceOp(last, kernel->getResults());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Data movement on 8-bit values
//===----------------------------------------------------------------------===//

/// quantize(op(dequantize(x))) with the same per-tensor parameters is op(x)
/// for max_pool, reshape, transpose and gather (of the data operand): they
/// only move or select values, and dequantization is monotone.
struct MoveThroughDataMovement : OpRewritePattern<QuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QuantizeLinearOp q,
                                PatternRewriter &rewriter) const override {
    Operation *mover = q.getInput().getDefiningOp();
    if (!mover || !isa<MaxPoolOp, ReshapeOp, TransposeOp, GatherOp>(mover) ||
        !mover->hasOneUse())
      return rewriter.notifyMatchFailure(q, "not after a data movement op");
    std::optional<Dequantized> dq = matchDequantize(mover->getOperand(0));
    if (!dq || !sharedParams(*dq, q))
      return rewriter.notifyMatchFailure(q, "not a dequantize with the same "
                                            "per-tensor parameters");
    rewriter.setInsertionPoint(q);
    Operation *moved = rewriter.clone(*mover);
    moved->setOperand(0, dq->q());
    moved->getResult(0).setType(q.getType());
    rewriter.replaceOp(q, moved->getResults());
    rewriter.eraseOp(mover);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Relu / Clip between a dequantize and a quantize of a kernel's result
//===----------------------------------------------------------------------===//

/// quantize(relu|clip(dequantize(k))) with the same per-tensor parameters,
/// where k is the 8-bit result of a qconv/qmatmul used only there, is k with
/// [qmin, qmax] narrowed: quantize(dequantize(k)) = k, and quantization is
/// monotone, so quantize(clamp(v, a, b)) = clamp(quantize(v), quantize(a),
/// quantize(b)). onnxruntime writes this form for symmetric activations,
/// whose Relu it cannot drop.
struct FoldClampIntoKernel : OpRewritePattern<QuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QuantizeLinearOp q,
                                PatternRewriter &rewriter) const override {
    Operation *act = q.getInput().getDefiningOp();
    if (!act || !isa<ReluOp, ClipOp>(act) || !act->hasOneUse())
      return rewriter.notifyMatchFailure(q, "not after a relu or clip");
    std::optional<Dequantized> dq = matchDequantize(act->getOperand(0));
    std::optional<std::pair<float, int64_t>> params;
    if (!dq || !dq->op->hasOneUse() || !(params = sharedParams(*dq, q)))
      return rewriter.notifyMatchFailure(q, "not a single-use dequantize with "
                                            "the same per-tensor parameters");
    Operation *kernel = dq->q().getDefiningOp();
    if (!kernel || !isa<QConvOp, QMatMulOp, QAddOp>(kernel) ||
        !kernel->hasOneUse())
      return rewriter.notifyMatchFailure(q, "not a kernel's 8-bit result");
    auto [scale, zero] = *params;
    auto [qmin, qmax] =
        clampRange(act, scale, zero, q.getType().getElementType());
    auto intAttr = [&](StringRef name, int64_t dflt) {
      auto attr = kernel->getAttrOfType<IntegerAttr>(name);
      return attr ? attr.getInt() : dflt;
    };
    qmin = std::max(qmin, intAttr("qmin", qmin));
    qmax = std::min(qmax, intAttr("qmax", qmax));
    if (qmin > qmax)
      return rewriter.notifyMatchFailure(q, "empty clamp range");
    auto description = kernel->getAttrOfType<StringAttr>(kQuantizedAttr);
    rewriter.modifyOpInPlace(kernel, [&] {
      kernel->setAttr("qmin", rewriter.getI64IntegerAttr(qmin));
      kernel->setAttr("qmax", rewriter.getI64IntegerAttr(qmax));
      if (description)
        kernel->setAttr(
            kQuantizedAttr,
            rewriter.getStringAttr(description.getValue().str() +
                                   (isa<ReluOp>(act) ? " +relu" : " +clip")));
    });
    rewriter.replaceOp(q, kernel->getResults());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// dequantize -> add -> quantize (residual adds)
//===----------------------------------------------------------------------===//

/// quantize([relu|clip](add(dequantize(a), dequantize(b)))) with per-tensor
/// constant parameters, a, b and the result of one 8-bit type and one
/// static shape, is sparq.qadd: the same f32 steps in one runtime kernel
/// instead of three elementwise passes (the skip connections of QDQ
/// ResNets). A Relu/Clip narrows [qmin, qmax] as for the kernels.
struct DequantizedAddToInteger : OpRewritePattern<QuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QuantizeLinearOp q,
                                PatternRewriter &rewriter) const override {
    Operation *act = q.getInput().getDefiningOp();
    if (!isa_and_nonnull<ReluOp, ClipOp>(act) || !act->hasOneUse())
      act = nullptr;
    Value sum = act ? act->getOperand(0) : q.getInput();
    auto add = sum.getDefiningOp<AddOp>();
    if (!add || !add->hasOneUse())
      return rewriter.notifyMatchFailure(q, "not after a single-use add");
    Type storage = q.getType().getElementType();
    auto out = perTensorParams(q.getScale(), q.getZeroPoint());
    if (!isByteType(storage) || q.getBlockSize() != 0 || !out ||
        !typeOf(q.getResult()).hasStaticShape())
      return rewriter.notifyMatchFailure(q, "not a per-tensor 8-bit quantize");
    std::optional<std::pair<float, int64_t>> params[2];
    Value inputs[2];
    for (int i = 0; i < 2; ++i) {
      std::optional<Dequantized> dq = matchDequantize(add->getOperand(i));
      if (!dq || dq->storage() != storage ||
          typeOf(dq->q()).getShape() != typeOf(q.getResult()).getShape())
        return rewriter.notifyMatchFailure(
            q, "add operands are not dequantized values of the result's "
               "type and shape");
      params[i] = perTensorParams(dq->op.getScale(), dq->op.getZeroPoint());
      if (!params[i])
        return rewriter.notifyMatchFailure(q, "not per-tensor constants");
      inputs[i] = dq->q();
    }
    auto [yScale, yZero] = *out;
    auto [qmin, qmax] = clampRange(act, yScale, yZero, storage);
    if (qmin > qmax)
      return rewriter.notifyMatchFailure(q, "empty clamp range");
    // At the Add node's location: the report and errors name that node.
    auto qadd = QAddOp::create(
        rewriter, add.getLoc(), q.getType(), inputs[0], inputs[1],
        rewriter.getF32FloatAttr(params[0]->first),
        rewriter.getI64IntegerAttr(params[0]->second),
        rewriter.getF32FloatAttr(params[1]->first),
        rewriter.getI64IntegerAttr(params[1]->second),
        rewriter.getF32FloatAttr(yScale), rewriter.getI64IntegerAttr(yZero),
        rewriter.getI64IntegerAttr(qmin), rewriter.getI64IntegerAttr(qmax));
    qadd->setAttr(kQuantizedAttr,
                  rewriter.getStringAttr(
                      typeTag(storage) + " add" +
                      (isa_and_nonnull<ReluOp>(act)   ? " +relu"
                       : isa_and_nonnull<ClipOp>(act) ? " +clip"
                                                      : "")));
    rewriter.replaceOp(q, qadd.getResult());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Quantize / dequantize of small constants
//===----------------------------------------------------------------------===//

/// The most elements a constant quantize/dequantize is folded for: the
/// scalars and per-channel vectors (LayerNorm gamma/beta, biases, 1.0, 0.5)
/// that QDQ models quantize; weights stay 8-bit for the kernels.
constexpr int64_t kMaxFoldedElements = 4096;

/// The elements of a small constant as floats (f32): dense attributes and
/// dense f32 resources; nullopt otherwise (never a failed iteration).
std::optional<SmallVector<float>> foldableFloats(Value v, int64_t n) {
  ElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)) || !attr.getElementType().isF32())
    return std::nullopt;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    auto range = dense.getValues<float>();
    return SmallVector<float>(range.begin(), range.end());
  }
  if (auto res = dyn_cast<DenseF32ResourceElementsAttr>(attr))
    if (auto data = res.tryGetAsArrayRef(); data && (int64_t)data->size() == n)
      return SmallVector<float>(data->begin(), data->end());
  return std::nullopt;
}

/// The elements of a small 8-bit constant, extended as their type says:
/// dense attributes and dense 8-bit resources.
std::optional<SmallVector<int64_t>> foldableBytes(Value v, int64_t n) {
  ElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  auto intType = dyn_cast<IntegerType>(attr.getElementType());
  if (!intType || intType.getWidth() != 8)
    return std::nullopt;
  SmallVector<int64_t> values;
  if (isa<DenseElementsAttr>(attr))
    return constantInts(v);
  if (auto res = dyn_cast<DenseUI8ResourceElementsAttr>(attr)) {
    if (auto data = res.tryGetAsArrayRef(); data && (int64_t)data->size() == n)
      for (uint8_t b : *data)
        values.push_back(intType.isUnsigned() ? (int64_t)b
                                              : (int64_t)(int8_t)b);
  } else if (auto res = dyn_cast<DenseI8ResourceElementsAttr>(attr)) {
    if (auto data = res.tryGetAsArrayRef(); data && (int64_t)data->size() == n)
      for (int8_t b : *data)
        values.push_back(intType.isUnsigned() ? (int64_t)(uint8_t)b
                                              : (int64_t)b);
  }
  if ((int64_t)values.size() != n)
    return std::nullopt;
  return values;
}

/// quantize_linear(const) with per-tensor constant parameters is a constant:
/// the same saturate(rne(v / scale) + zp) the lowering computes, in f32.
struct FoldConstantQuantize : OpRewritePattern<QuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QuantizeLinearOp q,
                                PatternRewriter &rewriter) const override {
    auto type = typeOf(q.getResult());
    auto intType = dyn_cast<IntegerType>(type.getElementType());
    if (!intType || intType.getWidth() != 8 || q.getBlockSize() != 0 ||
        !type.hasStaticShape() || type.getNumElements() > kMaxFoldedElements)
      return rewriter.notifyMatchFailure(q, "not a small 8-bit quantize");
    auto values = foldableFloats(q.getInput(), type.getNumElements());
    auto params = perTensorParams(q.getScale(), q.getZeroPoint());
    if (!values || !params)
      return rewriter.notifyMatchFailure(q, "operands not constant");
    auto [scale, zero] = *params;
    bool isUnsigned = intType.isUnsigned();
    int64_t lo = isUnsigned ? 0 : -128, hi = isUnsigned ? 255 : 127;
    SmallVector<APInt> result;
    for (float v : *values) {
      if (std::isnan(v / scale))
        return rewriter.notifyMatchFailure(q, "NaN input");
      result.push_back(APInt(8,
                             (uint64_t)quantizeScalar(v, scale, zero, lo, hi),
                             /*isSigned=*/!isUnsigned, /*implicitTrunc=*/true));
    }
    rewriter.replaceOpWithNewOp<ConstantOp>(
        q, DenseElementsAttr::get(type, result));
    return success();
  }
};

/// dequantize_linear(const 8-bit) with per-tensor constant parameters into
/// elementwise code is a constant: (float)(q - zp) * scale, one rounding, as
/// the lowering computes it. Operands of matrix products and convolutions
/// are left for the integer kernels.
struct FoldConstantDequantize : OpRewritePattern<DequantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DequantizeLinearOp dq,
                                PatternRewriter &rewriter) const override {
    auto type = typeOf(dq.getResult());
    if (!type.getElementType().isF32() || dq.getBlockSize() != 0 ||
        !type.hasStaticShape() || type.getNumElements() > kMaxFoldedElements ||
        !isa<IntegerType>(typeOf(dq.getInput()).getElementType()) ||
        typeOf(dq.getInput()).getElementType().getIntOrFloatBitWidth() != 8)
      return rewriter.notifyMatchFailure(dq, "not a small 8-bit dequantize");
    for (Operation *user : dq->getUsers())
      if (isa<FusedMatMulOp, FusedConvOp, MatMulOp, ConvOp, GemmOp>(user))
        return rewriter.notifyMatchFailure(dq, "feeds a kernel");
    auto values = foldableBytes(dq.getInput(), type.getNumElements());
    auto params = perTensorParams(dq.getScale(), dq.getZeroPoint());
    if (!values || !params)
      return rewriter.notifyMatchFailure(dq, "operands not constant");
    auto [scale, zero] = *params;
    SmallVector<float> result;
    for (int64_t v : *values)
      result.push_back((float)(int32_t)(v - zero) * scale);
    rewriter.replaceOpWithNewOp<ConstantOp>(
        dq, DenseElementsAttr::get(type, ArrayRef<float>(result)));
    return success();
  }
};

struct SparqQdqToIntegerPass
    : sparq::impl::SparqQdqToIntegerPassBase<SparqQdqToIntegerPass> {
  using Base::Base;
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    patterns
        .add<DequantizedKernelToInteger<FusedConvOp>,
             DequantizedKernelToInteger<FusedMatMulOp>,
             DynamicToInteger<MatMulIntegerOp>, DynamicToInteger<ConvIntegerOp>,
             MoveThroughDataMovement, FoldClampIntoKernel, DequantizedAddToInteger,
             FoldConstantQuantize,
             FoldConstantDequantize>(context);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
