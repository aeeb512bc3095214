//===- Normalization.cpp - Lower softmax, layer_norm and batch_norm -------===//
//
// softmax / log_softmax (max-shifted, along one axis), layer_norm (two-pass
// mean and biased variance over [axis, rank)) and inference batch_norm over
// dim 1. Everything is computed in f32 for f16/bf16 inputs. Sums are
// `reassoc` and, over trailing dims, keep their accumulator in a register
// (see reduceGeneric) so that LLVM vectorizes them.
//
// Static f32 softmax, log_softmax and layer_norm over the last axis become
// calls of the runtime's vectorized, threaded row kernels instead
// (sparq_uk_softmax_f32, sparq_uk_layer_norm_f32); the linalg lowering
// stays for other axes, dynamic shapes and other element types.
//
//===----------------------------------------------------------------------===//

#include "KernelCallBuilder.h"
#include "Patterns.h"
#include "sparq/Dialect/Sparq/IR/Sparq.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace sparq::lowering;

namespace sparq {
namespace {

/// A parallel generic over the full shape of `full` reading `reduced`
/// tensors (kept dims of `axes`) and `broadcast` tensors (ONNX broadcast
/// against the full shape). `body` gets (full, reduced..., broadcast...).
Value mapWithReduced(
    OpBuilder &b, Location loc, Value full, ArrayRef<int64_t> axes,
    ValueRange reduced, ValueRange broadcast, Type elementType,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  MLIRContext *ctx = b.getContext();
  auto fullType = cast<RankedTensorType>(full.getType());
  int64_t rank = fullType.getRank();
  auto resultType = RankedTensorType::get(fullType.getShape(), elementType);
  SmallVector<Value> inputs = {full};
  llvm::append_range(inputs, reduced);
  llvm::append_range(inputs, broadcast);
  SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(rank, ctx)};
  maps.append(reduced.size(), getReducedMap(rank, axes, ctx));
  for (Value v : broadcast)
    maps.push_back(
        getBroadcastMap(cast<RankedTensorType>(v.getType()).getShape(),
                        fullType.getShape(), ctx));
  maps.push_back(AffineMap::getMultiDimIdentityMap(rank, ctx));
  Value init = createEmptyTensor(b, loc, resultType);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, init, maps,
      getParallelIterators(rank), "", "",
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        SmallVector<Value> promoted;
        for (Value arg : args.drop_back())
          promoted.push_back(promoteHalf(nb, nl, arg));
        linalg::YieldOp::create(nb, nl, body(nb, nl, promoted));
      });
  return generic.getResult(0);
}

/// `reassoc` lets LLVM's loop vectorizer keep partial sums in vector lanes
/// (as onnxruntime does); results move by float rounding only.
Value reassocAdd(OpBuilder &b, Location loc, Value x, Value y) {
  return arith::AddFOp::create(b, loc, x, y, arith::FastMathFlags::reassoc);
}

template <typename OpTy, bool IsLog>
struct SoftmaxLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto type = cast<RankedTensorType>(input.getType());
    Type element = type.getElementType();
    if (!isa<FloatType>(element))
      return op.emitOpError("expected a float element type, got ") << element;
    int64_t axis = op.getAxis();
    if (axis < 0)
      axis += type.getRank();
    SmallVector<int64_t> axes = {axis};
    Type acc = isHalfFloat(element) ? rewriter.getF32Type() : element;

    Value maxima = reduceGeneric(
        rewriter, loc, input, axes,
        createLowestValue(rewriter, loc, acc, false), {},
        [&](OpBuilder &b, Location l, ValueRange args) {
          return createMax(b, l, promoteHalf(b, l, args[0]), args[1], false);
        });
    Value sums = reduceGeneric(
        rewriter, loc, input, axes, createScalarConstant(rewriter, loc, acc, 0),
        maxima, [&](OpBuilder &b, Location l, ValueRange args) {
          Value shifted = arith::SubFOp::create(
              b, l, promoteHalf(b, l, args[0]), args[1]);
          return reassocAdd(b, l, math::ExpOp::create(b, l, shifted),
                            args[2]);
        });
    Value result = mapWithReduced(
        rewriter, loc, input, axes, {maxima, sums}, {}, element,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value shifted = arith::SubFOp::create(b, l, args[0], args[1]);
          Value v;
          if (IsLog)
            v = arith::SubFOp::create(b, l, shifted,
                                      math::LogOp::create(b, l, args[2]));
          else
            v = arith::DivFOp::create(
                b, l, math::ExpOp::create(b, l, shifted), args[2]);
          return demoteHalf(b, l, v, element);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LayerNormLowering : OpConversionPattern<LayerNormOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(LayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto type = cast<RankedTensorType>(input.getType());
    Type element = type.getElementType();
    if (!isa<FloatType>(element))
      return op.emitOpError("expected a float element type, got ") << element;
    int64_t rank = type.getRank();
    int64_t axis = op.getAxis();
    if (axis < 0)
      axis += rank;
    SmallVector<int64_t> axes;
    int64_t count = 1;
    for (int64_t d = axis; d < rank; ++d) {
      axes.push_back(d);
      count *= type.getDimSize(d);
    }
    for (Value param : {adaptor.getScale(), adaptor.getBias()}) {
      if (!param)
        continue;
      auto paramType = cast<RankedTensorType>(param.getType());
      if (paramType.getRank() > rank - axis)
        return op.emitOpError("scale/bias rank exceeds the normalized rank");
    }
    Type acc = isHalfFloat(element) ? rewriter.getF32Type() : element;
    double eps = op.getEpsilonAttr().getValueAsDouble();
    double invCount = count ? 1.0 / (double)count : 0.0;

    auto center = [&](OpBuilder &b, Location l, Value x, Value sum) -> Value {
      Value mean = arith::MulFOp::create(
          b, l, sum, createScalarConstant(b, l, acc, invCount));
      return arith::SubFOp::create(b, l, x, mean);
    };
    Value zero = createScalarConstant(rewriter, loc, acc, 0);
    Value sums = reduceGeneric(
        rewriter, loc, input, axes, zero, {},
        [&](OpBuilder &b, Location l, ValueRange args) {
          return reassocAdd(b, l, promoteHalf(b, l, args[0]), args[1]);
        });
    Value squares = reduceGeneric(
        rewriter, loc, input, axes, zero, sums,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value c = center(b, l, promoteHalf(b, l, args[0]), args[1]);
          return reassocAdd(b, l, arith::MulFOp::create(b, l, c, c), args[2]);
        });
    SmallVector<Value> params = {adaptor.getScale()};
    if (adaptor.getBias())
      params.push_back(adaptor.getBias());
    bool hasBias = (bool)adaptor.getBias();
    Value result = mapWithReduced(
        rewriter, loc, input, axes, {sums, squares}, params, element,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value centered = center(b, l, args[0], args[1]);
          Value var = arith::MulFOp::create(
              b, l, args[2], createScalarConstant(b, l, acc, invCount));
          Value denom = arith::AddFOp::create(
              b, l, var, createScalarConstant(b, l, acc, eps));
          Value v = arith::DivFOp::create(b, l, centered,
                                          math::SqrtOp::create(b, l, denom));
          v = arith::MulFOp::create(b, l, v, args[3]);
          if (hasBias)
            v = arith::AddFOp::create(b, l, v, args[4]);
          return demoteHalf(b, l, v, element);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

constexpr StringLiteral kLayerNormFn = "sparq_uk_layer_norm_f32";
constexpr StringLiteral kSoftmaxFn = "sparq_uk_softmax_f32";

/// The row length of a static f32 tensor normalized along `axis` when
/// `axis` is its last dim (and the row is not empty); 0 otherwise.
int64_t lastAxisRowLength(RankedTensorType type, int64_t axis) {
  int64_t rank = type.getRank();
  if (axis < 0)
    axis += rank;
  if (rank == 0 || axis != rank - 1 || !type.hasStaticShape() ||
      !type.getElementType().isF32())
    return 0;
  return type.getDimSize(rank - 1);
}

template <typename OpTy, bool IsLog>
struct SoftmaxCall : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(adaptor.getInput().getType());
    int64_t n = lastAxisRowLength(type, op.getAxis());
    if (n == 0)
      return rewriter.notifyMatchFailure(op, "not a static f32 last-axis "
                                             "softmax");
    KernelCallBuilder kb(rewriter, op);
    Value ctx = kb.context();
    Value px = kb.pointerTo(adaptor.getInput());
    Value out = kb.allocResult(type);
    Value py = kb.pointerToBuffer(out);
    kb.call(kSoftmaxFn, {ctx, px, py, kb.i64(type.getNumElements() / n),
                         kb.i64(n), kb.i64(IsLog ? 1 : 0)});
    rewriter.replaceOp(op, kb.toTensor(out, type));
    return success();
  }
};

struct LayerNormCall : OpConversionPattern<LayerNormOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(LayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(adaptor.getInput().getType());
    int64_t n = lastAxisRowLength(type, op.getAxis());
    if (n == 0)
      return rewriter.notifyMatchFailure(op, "not a static f32 last-axis "
                                             "layer_norm");
    // Scale and bias must be n contiguous floats ([n] or [1, ..., n]);
    // broadcast scalars stay on the linalg path.
    for (Value param : {adaptor.getScale(), adaptor.getBias()}) {
      if (!param)
        continue;
      auto paramType = cast<RankedTensorType>(param.getType());
      if (!paramType.hasStaticShape() || !paramType.getElementType().isF32() ||
          paramType.getRank() == 0 || paramType.getNumElements() != n ||
          paramType.getShape().back() != n)
        return rewriter.notifyMatchFailure(op, "scale/bias is not [n] f32");
    }
    KernelCallBuilder kb(rewriter, op);
    Value ctx = kb.context();
    Value px = kb.pointerTo(adaptor.getInput());
    Value pscale = kb.pointerTo(adaptor.getScale());
    Value pbias = kb.optionalPointer(adaptor.getBias());
    Value out = kb.allocResult(type);
    Value py = kb.pointerToBuffer(out);
    kb.call(kLayerNormFn,
            {ctx, px, pscale, pbias, py, kb.i64(type.getNumElements() / n),
             kb.i64(n), kb.f32(op.getEpsilonAttr().getValueAsDouble())});
    rewriter.replaceOp(op, kb.toTensor(out, type));
    return success();
  }
};

struct BatchNormLowering : OpConversionPattern<BatchNormOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(BatchNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = getContext();
    Value input = adaptor.getInput();
    auto type = cast<RankedTensorType>(input.getType());
    Type element = type.getElementType();
    if (!isa<FloatType>(element))
      return op.emitOpError("expected a float element type, got ") << element;
    int64_t rank = type.getRank();
    if (rank < 2)
      return op.emitOpError("expected rank >= 2, got ") << rank;
    for (Value param : {adaptor.getScale(), adaptor.getBias(),
                        adaptor.getMean(), adaptor.getVariance()})
      if (cast<RankedTensorType>(param.getType()).getRank() != 1)
        return op.emitOpError("expected 1-d per-channel parameters");
    double eps = op.getEpsilonAttr().getValueAsDouble();
    AffineMap channel =
        AffineMap::get(rank, 0, {getAffineDimExpr(1, ctx)}, ctx);
    AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
    SmallVector<AffineMap> maps = {identity, channel, channel,
                                   channel,  channel, identity};
    Value init = createEmptyTensor(rewriter, loc, type);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type},
        ValueRange{input, adaptor.getScale(), adaptor.getBias(),
                   adaptor.getMean(), adaptor.getVariance()},
        init, maps, getParallelIterators(rank), "", "",
        [&](OpBuilder &b, Location l, ValueRange args) {
          SmallVector<Value> v;
          for (Value arg : args.drop_back())
            v.push_back(promoteHalf(b, l, arg));
          Type acc = v[0].getType();
          Value denom = arith::AddFOp::create(
              b, l, v[4], createScalarConstant(b, l, acc, eps));
          Value centered = arith::SubFOp::create(b, l, v[0], v[3]);
          Value normalized = arith::DivFOp::create(
              b, l, centered, math::SqrtOp::create(b, l, denom));
          Value scaled = arith::MulFOp::create(b, l, normalized, v[1]);
          Value out = arith::AddFOp::create(b, l, scaled, v[2]);
          linalg::YieldOp::create(b, l, demoteHalf(b, l, out, element));
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void lowering::populateNormalizationPatterns(TypeConverter &typeConverter,
                                             RewritePatternSet &patterns) {
  patterns.add<SoftmaxLowering<SoftmaxOp, false>,
               SoftmaxLowering<LogSoftmaxOp, true>, LayerNormLowering,
               BatchNormLowering>(typeConverter, patterns.getContext());
  // Preferred over the linalg lowering where they apply.
  patterns.add<SoftmaxCall<SoftmaxOp, false>, SoftmaxCall<LogSoftmaxOp, true>,
               LayerNormCall>(typeConverter, patterns.getContext(),
                              /*benefit=*/2);
}

} // namespace sparq
