//===- Contractions.cpp - Lower matmul, gemm and the fused epilogue -------===//
//
// Plain sparq.matmul / sparq.gemm (and sparq.fused_matmul on element types
// the microkernels do not take) become a batch-broadcasting contraction
// generic followed by an epilogue generic. The builders here are shared
// with the convolution lowering.
//
//===----------------------------------------------------------------------===//

#include "Patterns.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;
using namespace sparq::lowering;

namespace sparq {

Value lowering::buildMatmul(OpBuilder &b, Location loc, Value lhs, Value rhs,
                            bool transA, bool transB,
                            RankedTensorType resultType) {
  MLIRContext *ctx = b.getContext();
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  int64_t rank = resultType.getRank();
  ArrayRef<int64_t> outBatch = resultType.getShape().drop_back(2);
  int64_t m = rank - 2, n = rank - 1, k = rank;
  auto operandMap = [&](RankedTensorType type, int64_t row, int64_t col) {
    AffineMap batch =
        getBroadcastMap(type.getShape().drop_back(2), outBatch, ctx);
    SmallVector<AffineExpr> exprs(batch.getResults());
    exprs.push_back(getAffineDimExpr(row, ctx));
    exprs.push_back(getAffineDimExpr(col, ctx));
    return AffineMap::get(rank + 1, 0, exprs, ctx);
  };
  SmallVector<AffineMap> maps = {
      transA ? operandMap(lhsType, k, m) : operandMap(lhsType, m, k),
      transB ? operandMap(rhsType, n, k) : operandMap(rhsType, k, n),
      AffineMap::getMultiDimIdentityMap(rank + 1, ctx).getMajorSubMap(rank)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);

  Type element = resultType.getElementType();
  Type acc = isHalfFloat(element) ? b.getF32Type() : element;
  auto accType = RankedTensorType::get(resultType.getShape(), acc);
  Value init =
      createFilledTensor(b, loc, accType, createScalarConstant(b, loc, acc, 0));
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{accType}, ValueRange{lhs, rhs}, init, maps, iterators,
      "", "", [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value x = promoteHalf(nb, nl, args[0]);
        Value y = promoteHalf(nb, nl, args[1]);
        Value sum;
        if (isa<FloatType>(acc))
          sum = arith::AddFOp::create(nb, nl, args[2],
                                      arith::MulFOp::create(nb, nl, x, y));
        else
          sum = arith::AddIOp::create(nb, nl, args[2],
                                      arith::MulIOp::create(nb, nl, x, y));
        linalg::YieldOp::create(nb, nl, sum);
      });
  Value result = generic.getResult(0);
  if (acc != element)
    result = createBroadcastGeneric(
        b, loc, resultType, result,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          return demoteHalf(nb, nl, args[0], element);
        });
  return result;
}

Value lowering::buildNumpyMatmul(OpBuilder &b, Location loc, Value lhs,
                                 Value rhs, RankedTensorType resultType) {
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  if (lhsType.getRank() == 1)
    lhs = reshapeTensor(b, loc, lhs,
                        RankedTensorType::get({1, lhsType.getDimSize(0)},
                                              lhsType.getElementType()));
  if (rhsType.getRank() == 1)
    rhs = reshapeTensor(b, loc, rhs,
                        RankedTensorType::get({rhsType.getDimSize(0), 1},
                                              rhsType.getElementType()));
  lhsType = cast<RankedTensorType>(lhs.getType());
  rhsType = cast<RankedTensorType>(rhs.getType());
  SmallVector<int64_t> shape;
  // The op's type inference has checked that the batch dims broadcast.
  (void)broadcastShapes(lhsType.getShape().drop_back(2),
                        rhsType.getShape().drop_back(2), shape);
  shape.push_back(lhsType.getDimSize(lhsType.getRank() - 2));
  shape.push_back(rhsType.getDimSize(rhsType.getRank() - 1));
  auto fullType = RankedTensorType::get(shape, resultType.getElementType());
  Value result = buildMatmul(b, loc, lhs, rhs, false, false, fullType);
  return reshapeTensor(b, loc, result, resultType);
}

bool lowering::supportsActivation(Activation activation, Type elementType) {
  if (isa<FloatType>(elementType))
    return true;
  return activation == Activation::None || activation == Activation::Relu ||
         activation == Activation::Clip;
}

static Value activate(OpBuilder &b, Location loc, Value x,
                      Activation activation, double alpha, double beta) {
  auto c = [&](double v) {
    return createScalarConstant(b, loc, x.getType(), v);
  };
  auto mulf = [&](Value p, Value q) {
    return arith::MulFOp::create(b, loc, p, q).getResult();
  };
  auto addf = [&](Value p, Value q) {
    return arith::AddFOp::create(b, loc, p, q).getResult();
  };
  auto clamp01 = [&](Value v) {
    Value lo = arith::MaximumFOp::create(b, loc, v, c(0));
    return arith::MinimumFOp::create(b, loc, lo, c(1)).getResult();
  };
  switch (activation) {
  case Activation::None:
    return x;
  case Activation::Relu:
    return createMax(b, loc, x, c(0), false);
  case Activation::Clip:
    return createMin(b, loc, createMax(b, loc, x, c(alpha), false), c(beta),
                     false);
  case Activation::LeakyRelu: {
    Value neg =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, x, c(0));
    return arith::SelectOp::create(b, loc, neg, mulf(x, c(alpha)), x);
  }
  case Activation::Sigmoid: {
    Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
    return arith::DivFOp::create(b, loc, c(1), addf(c(1), e));
  }
  case Activation::Tanh:
    return math::TanhOp::create(b, loc, x);
  case Activation::Gelu: {
    Value e = math::ErfOp::create(b, loc, mulf(x, c(M_SQRT1_2)));
    return mulf(mulf(c(0.5), x), addf(c(1), e));
  }
  case Activation::GeluTanh: {
    Value cube = mulf(mulf(x, x), x);
    Value inner =
        mulf(c(std::sqrt(2.0 / M_PI)), addf(x, mulf(c(0.044715), cube)));
    Value t = math::TanhOp::create(b, loc, inner);
    return mulf(mulf(c(0.5), x), addf(c(1), t));
  }
  case Activation::HardSigmoid:
    return clamp01(addf(mulf(x, c(alpha)), c(beta)));
  case Activation::HardSwish:
    return mulf(x, clamp01(addf(mulf(x, c(1.0 / 6.0)), c(0.5))));
  }
  return x;
}

Value lowering::applyEpilogue(OpBuilder &b, Location loc, Value acc, Value bias,
                              int64_t biasDim, Value residual,
                              Activation activation, double alpha, double beta,
                              RankedTensorType resultType) {
  MLIRContext *ctx = b.getContext();
  int64_t rank = resultType.getRank();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
  SmallVector<Value> inputs = {acc};
  SmallVector<AffineMap> maps = {identity};
  if (bias) {
    inputs.push_back(bias);
    maps.push_back(AffineMap::get(rank, 0, getAffineDimExpr(biasDim, ctx)));
  }
  if (residual) {
    inputs.push_back(residual);
    maps.push_back(
        getBroadcastMap(cast<RankedTensorType>(residual.getType()).getShape(),
                        resultType.getShape(), ctx));
  }
  maps.push_back(identity);
  Type element = resultType.getElementType();
  Value init = createEmptyTensor(b, loc, resultType);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, init, maps,
      getParallelIterators(rank), "", "",
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value v = promoteHalf(nb, nl, args[0]);
        for (Value extra : args.drop_front().drop_back()) {
          Value e = promoteHalf(nb, nl, extra);
          v = isa<FloatType>(v.getType())
                  ? arith::AddFOp::create(nb, nl, v, e).getResult()
                  : arith::AddIOp::create(nb, nl, v, e).getResult();
        }
        v = activate(nb, nl, v, activation, alpha, beta);
        linalg::YieldOp::create(nb, nl, demoteHalf(nb, nl, v, element));
      });
  return generic.getResult(0);
}

namespace {

/// Promotes 1-D matmul operands to matrices, multiplies, and drops the
/// promoted dims again.
struct MatMulLowering : OpConversionPattern<MatMulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(MatMulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    if (type.getElementType().isInteger(1))
      return op.emitOpError("matmul over bool is not supported");
    rewriter.replaceOp(op, buildNumpyMatmul(rewriter, loc, adaptor.getLhs(),
                                            adaptor.getRhs(), type));
    return success();
  }
};

struct GemmLowering : OpConversionPattern<GemmOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(GemmOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    Type element = type.getElementType();
    if (element.isInteger(1))
      return op.emitOpError("gemm over bool is not supported");
    Value product = buildMatmul(rewriter, loc, adaptor.getA(), adaptor.getB(),
                                op.getTransA(), op.getTransB(), type);
    double alpha = op.getAlphaAttr().getValueAsDouble();
    double beta = op.getBetaAttr().getValueAsDouble();
    Value c = adaptor.getC();
    if (alpha == 1.0 && (!c || beta == 0.0)) {
      rewriter.replaceOp(op, product);
      return success();
    }
    SmallVector<Value> inputs = {product};
    if (c && beta != 0.0)
      inputs.push_back(c);
    Value result = createBroadcastGeneric(
        rewriter, loc, type, inputs,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value p = promoteHalf(b, l, args[0]);
          Type t = p.getType();
          bool isFloat = isa<FloatType>(t);
          auto mul = [&](Value x, double s) -> Value {
            Value k = createScalarConstant(b, l, t, s);
            return isFloat ? arith::MulFOp::create(b, l, x, k).getResult()
                           : arith::MulIOp::create(b, l, x, k).getResult();
          };
          Value v = alpha == 1.0 ? p : mul(p, alpha);
          if (args.size() > 1) {
            Value cv = promoteHalf(b, l, args[1]);
            cv = beta == 1.0 ? cv : mul(cv, beta);
            v = isFloat ? arith::AddFOp::create(b, l, v, cv).getResult()
                        : arith::AddIOp::create(b, l, v, cv).getResult();
          }
          return demoteHalf(b, l, v, element);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// fused_matmul on element types other than f32: contraction + epilogue.
struct FusedMatMulFallback : OpConversionPattern<FusedMatMulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(FusedMatMulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    Type element = type.getElementType();
    if (element.isF32())
      return rewriter.notifyMatchFailure(op, "f32 goes to the microkernel");
    if (element.isInteger(1) ||
        !supportsActivation(op.getActivation(), element))
      return op.emitOpError("fused activation is not supported on ") << element;
    Location loc = op.getLoc();
    Value product = buildMatmul(rewriter, loc, adaptor.getLhs(),
                                adaptor.getRhs(), false, op.getTransB(), type);
    Value result = applyEpilogue(rewriter, loc, product, adaptor.getBias(),
                                 type.getRank() - 1, adaptor.getResidual(),
                                 op.getActivation(),
                                 op.getActAlphaAttr().getValueAsDouble(),
                                 op.getActBetaAttr().getValueAsDouble(), type);
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void lowering::populateContractionPatterns(TypeConverter &typeConverter,
                                           RewritePatternSet &patterns) {
  patterns.add<MatMulLowering, GemmLowering, FusedMatMulFallback>(
      typeConverter, patterns.getContext());
}

} // namespace sparq
