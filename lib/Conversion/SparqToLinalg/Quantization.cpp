//===- Quantization.cpp - Lower ONNX's quantized ops exactly --------------===//
//
// sparq.quantize_linear / dequantize_linear / dynamic_quantize_linear become
// elementwise generics (true f32 division, math.roundeven, saturation in
// float before the conversion); the integer contractions widen their
// operands to i32 minus the zero points and reuse the matmul and convolution
// builders; qlinear_matmul / qlinear_conv requantize the i32 accumulator
// with an f32 multiplier (a_scale * b_scale / y_scale), as onnxruntime does.
//
//===----------------------------------------------------------------------===//

#include "Patterns.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Matchers.h"

#include <cmath>

using namespace mlir;
using namespace sparq::lowering;

namespace sparq {
namespace {

/// A scale or zero point and where it is read: per-tensor, along `dim` of
/// the loop nest it is used in, or (blockSize > 0) blocked along `dim`.
struct QuantParam {
  Value value;   // the converted (signless) tensor
  Type original; // its sparq element type (signedness, float8)
  bool perTensor;
  int64_t blockSize = 0;
};

QuantParam makeParam(Value converted, Value original, int64_t blockSize = 0) {
  auto type = cast<RankedTensorType>(original.getType());
  bool perTensor =
      blockSize == 0 && type.getRank() <= 1 && type.getNumElements() == 1;
  return {converted, type.getElementType(), perTensor, blockSize};
}

/// The indexing map of `param` inside a rank-`rank` loop nest: constant 0s
/// when per-tensor, `dim` when per-axis, and every dim with `dim` divided
/// by the block size when blocked.
AffineMap paramMap(const QuantParam &param, int64_t rank, int64_t dim,
                   MLIRContext *ctx) {
  auto type = cast<RankedTensorType>(param.value.getType());
  if (param.perTensor)
    return AffineMap::get(
        rank, 0,
        SmallVector<AffineExpr>(type.getRank(), getAffineConstantExpr(0, ctx)),
        ctx);
  if (param.blockSize > 0) {
    SmallVector<AffineExpr> exprs;
    for (int64_t d = 0; d < rank; ++d) {
      AffineExpr e = getAffineDimExpr(d, ctx);
      exprs.push_back(d == dim ? e.floorDiv(param.blockSize) : e);
    }
    return AffineMap::get(rank, 0, exprs, ctx);
  }
  return AffineMap::get(rank, 0, getAffineDimExpr(dim, ctx));
}

//===----------------------------------------------------------------------===//
// float8 (e4m3fn, e5m2) and float4 (e2m1) in integer arithmetic: the type
// converter carries them as their bits (i8, i4), and LLVM has no such float
// types, so the conversions to and from f32 are done on the bits.
//===----------------------------------------------------------------------===//

struct SmallFloatFormat {
  unsigned bits, mantissaBits, bias;
  uint32_t maxFinite; // magnitude bits of the largest finite value
  bool hasInf;        // e5m2: exponent all ones, mantissa 0 is inf
  bool hasNan;        // e4m3fn: only all ones; e5m2: exponent all ones
};

SmallFloatFormat smallFloatFormat(Type type) {
  if (isa<Float8E4M3FNType>(type))
    return {8, 3, 7, 0x7E, false, true};
  if (isa<Float8E5M2Type>(type))
    return {8, 2, 15, 0x7B, true, true};
  return {4, 1, 1, 0x7, false, false}; // f4E2M1FN: no inf, no NaN
}

bool isSmallFloat(Type type) {
  return isa<Float8E4M3FNType, Float8E5M2Type, Float4E2M1FNType>(type);
}

Value i32Const(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIntOp::create(b, loc, b.getI32Type(), v);
}

/// The f32 value of the small float `bits` (an i8 or i4) of format `type`.
Value decodeSmallFloat(OpBuilder &b, Location loc, Value bits, Type type) {
  SmallFloatFormat f = smallFloatFormat(type);
  Type i32 = b.getI32Type(), f32 = b.getF32Type();
  unsigned expBits = f.bits - 1 - f.mantissaBits;
  Value u = arith::ExtUIOp::create(b, loc, i32, bits);
  Value sign = arith::ShLIOp::create(
      b, loc,
      arith::AndIOp::create(b, loc, u, i32Const(b, loc, 1 << (f.bits - 1))),
      i32Const(b, loc, 32 - f.bits));
  Value man = arith::AndIOp::create(
      b, loc, u, i32Const(b, loc, (1 << f.mantissaBits) - 1));
  Value exp = arith::AndIOp::create(
      b, loc,
      arith::ShRUIOp::create(b, loc, u, i32Const(b, loc, f.mantissaBits)),
      i32Const(b, loc, (1 << expBits) - 1));
  // Normal: rebias the exponent, widen the mantissa.
  Value normal = arith::OrIOp::create(
      b, loc,
      arith::ShLIOp::create(
          b, loc,
          arith::AddIOp::create(b, loc, exp, i32Const(b, loc, 127 - f.bias)),
          i32Const(b, loc, 23)),
      arith::ShLIOp::create(b, loc, man,
                            i32Const(b, loc, 23 - f.mantissaBits)));
  normal = arith::OrIOp::create(b, loc, normal, sign);
  // Subnormal: man * 2^(1 - bias - mantissaBits), exact in f32.
  Value sub = arith::MulFOp::create(
      b, loc, arith::SIToFPOp::create(b, loc, f32, man),
      createScalarConstant(
          b, loc, f32, std::ldexp(1.0, 1 - (int)f.bias - (int)f.mantissaBits)));
  Value negSub = arith::NegFOp::create(b, loc, sub);
  Value isNeg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, sign,
                                      i32Const(b, loc, 0));
  sub = arith::SelectOp::create(b, loc, isNeg, negSub, sub);
  Value zeroExp = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, exp,
                                        i32Const(b, loc, 0));
  Value value = arith::SelectOp::create(
      b, loc, zeroExp, sub, arith::BitcastOp::create(b, loc, f32, normal));
  if (!f.hasNan)
    return value;
  Value topExp = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, exp,
                                       i32Const(b, loc, (1 << expBits) - 1));
  Value nan = createScalarConstant(b, loc, f32, std::nan(""));
  if (f.hasInf) {
    Value manZero = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, man,
                                          i32Const(b, loc, 0));
    Value inf = arith::SelectOp::create(
        b, loc, isNeg, createScalarConstant(b, loc, f32, -INFINITY),
        createScalarConstant(b, loc, f32, INFINITY));
    Value special = arith::SelectOp::create(b, loc, manZero, inf, nan);
    return arith::SelectOp::create(b, loc, topExp, special, value);
  }
  Value manAll =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, man,
                            i32Const(b, loc, (1 << f.mantissaBits) - 1));
  Value isNan = arith::AndIOp::create(b, loc, topExp, manAll);
  return arith::SelectOp::create(b, loc, isNan, nan, value);
}

/// The small float bits (i8 or i4) of the f32 `x` rounded to nearest even.
/// Values past the largest finite one become it when `saturate` (always for
/// float4, which has no inf/NaN), else NaN (e4m3fn) or inf (e5m2). NaN stays
/// NaN (float4: the largest value).
Value encodeSmallFloat(OpBuilder &b, Location loc, Value x, Type type,
                       bool saturate) {
  SmallFloatFormat f = smallFloatFormat(type);
  Type i32 = b.getI32Type(), f32 = b.getF32Type();
  unsigned shift = 23 - f.mantissaBits;
  Value u = arith::BitcastOp::create(b, loc, i32, x);
  Value a = arith::AndIOp::create(b, loc, u, i32Const(b, loc, 0x7FFFFFFF));
  Value sign = arith::ShLIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, u, i32Const(b, loc, 31)),
      i32Const(b, loc, f.bits - 1));
  // Normal range: round the f32 mantissa to nearest even at `shift`, then
  // rebias the exponent.
  Value lsb = arith::AndIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, a, i32Const(b, loc, shift)),
      i32Const(b, loc, 1));
  Value rounded = arith::AddIOp::create(
      b, loc, a,
      arith::AddIOp::create(b, loc, lsb,
                            i32Const(b, loc, (1 << (shift - 1)) - 1)));
  Value normal = arith::SubIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, rounded, i32Const(b, loc, shift)),
      i32Const(b, loc, (127 - f.bias) << f.mantissaBits));
  // Subnormal range (below the smallest normal 2^(1 - bias)): count units
  // of the smallest subnormal, rounded to nearest even (exact scaling).
  Value units = arith::MulFOp::create(
      b, loc, math::AbsFOp::create(b, loc, x),
      createScalarConstant(b, loc, f32,
                           std::ldexp(1.0, f.bias - 1 + f.mantissaBits)));
  Value sub = arith::FPToSIOp::create(b, loc, i32,
                                      math::RoundEvenOp::create(b, loc, units));
  Value isSub =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, a,
                            i32Const(b, loc, int64_t(128 - f.bias) << 23));
  Value magnitude = arith::SelectOp::create(b, loc, isSub, sub, normal);
  Value overflow =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, magnitude,
                            i32Const(b, loc, f.maxFinite));
  int64_t nanBits = (1 << (f.bits - 1)) - 1;
  int64_t past = f.maxFinite;
  if (!saturate && f.hasInf)
    past = f.maxFinite + 1;
  else if (!saturate && f.hasNan)
    past = nanBits;
  magnitude = arith::SelectOp::create(b, loc, overflow, i32Const(b, loc, past),
                                      magnitude);
  Value isNan = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, a,
                                      i32Const(b, loc, 0x7F800000));
  magnitude = arith::SelectOp::create(
      b, loc, isNan, i32Const(b, loc, f.hasNan ? nanBits : f.maxFinite),
      magnitude);
  Value bits = arith::OrIOp::create(b, loc, magnitude, sign);
  return arith::TruncIOp::create(b, loc, b.getIntegerType(f.bits), bits);
}

/// A quantized scalar (integer of sparq type `type`, or small float bits)
/// as f32.
Value storageToF32(OpBuilder &b, Location loc, Value v, Type type) {
  if (isSmallFloat(type))
    return decodeSmallFloat(b, loc, v, type);
  return castScalar(b, loc, v, type, b.getF32Type());
}

/// A parallel generic over `resultType` reading `identityInputs` with the
/// identity map and `params` through paramMap along `dim`.
Value buildQuantGeneric(
    OpBuilder &b, Location loc, RankedTensorType resultType,
    ValueRange identityInputs, ArrayRef<QuantParam> params, int64_t dim,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  MLIRContext *ctx = b.getContext();
  int64_t rank = resultType.getRank();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
  SmallVector<Value> inputs(identityInputs);
  SmallVector<AffineMap> maps(identityInputs.size(), identity);
  for (const QuantParam &param : params) {
    inputs.push_back(param.value);
    maps.push_back(paramMap(param, rank, dim, ctx));
  }
  maps.push_back(identity);
  Value init = createEmptyTensor(b, loc, resultType);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, init, maps,
      getParallelIterators(rank), "", "",
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(nb, nl, body(nb, nl, args.drop_back()));
      });
  return generic.getResult(0);
}

/// saturate(round_half_to_even(real) + zeroPoint) as the integer `storage`
/// type (a sparq type: its signedness picks the range); `real` and
/// `zeroPoint` are f32.
Value saturateToStorage(OpBuilder &b, Location loc, Value real, Value zeroPoint,
                        Type storage) {
  auto intType = cast<IntegerType>(storage);
  unsigned width = intType.getWidth();
  bool isUnsigned = intType.isUnsigned();
  double lo = isUnsigned ? 0 : -std::ldexp(1.0, width - 1);
  double hi =
      isUnsigned ? std::ldexp(1.0, width) - 1 : std::ldexp(1.0, width - 1) - 1;
  Type f32 = b.getF32Type();
  Value v = math::RoundEvenOp::create(b, loc, real);
  v = arith::AddFOp::create(b, loc, v, zeroPoint);
  v = arith::MaximumFOp::create(b, loc, v,
                                createScalarConstant(b, loc, f32, lo));
  v = arith::MinimumFOp::create(b, loc, v,
                                createScalarConstant(b, loc, f32, hi));
  return castScalar(b, loc, v, f32, storage);
}

/// An integer scalar of sparq type `type` as f32.
Value intToF32(OpBuilder &b, Location loc, Value v, Type type) {
  return castScalar(b, loc, v, type, b.getF32Type());
}

/// True when `zeroPoint` (an operand of the sparq op) is a constant zero.
bool isZeroConstant(Value zeroPoint) {
  DenseElementsAttr attr;
  return matchPattern(zeroPoint, m_Constant(&attr)) &&
         llvm::all_of(attr.getValues<APInt>(),
                      [](const APInt &v) { return v.isZero(); });
}

/// `operand` widened to i32 minus its zero point (per-tensor, or along
/// `dim`); `original` and `zeroPoint` are the sparq op's operands.
Value widenMinusZeroPoint(OpBuilder &b, Location loc, Value operand,
                          Value original, Value convertedZeroPoint,
                          Value zeroPoint, int64_t dim) {
  auto type = cast<RankedTensorType>(original.getType());
  Type element = type.getElementType();
  Type i32 = b.getI32Type();
  auto resultType = RankedTensorType::get(type.getShape(), i32);
  bool skipZeroPoint = isZeroConstant(zeroPoint);
  SmallVector<QuantParam> params;
  if (!skipZeroPoint)
    params.push_back(makeParam(convertedZeroPoint, zeroPoint));
  return buildQuantGeneric(
      b, loc, resultType, operand, params, dim,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value x = castScalar(nb, nl, args[0], element, i32);
        if (skipZeroPoint)
          return x;
        Value zp = castScalar(nb, nl, args[1], element, i32);
        return arith::SubIOp::create(nb, nl, x, zp).getResult();
      });
}

/// Requantizes the i32 `acc`: saturate(round_half_to_even(acc * (inScale *
/// weightScale / outScale)) + outZeroPoint); `weightScale` may vary along
/// result dim `dim`.
Value requantize(OpBuilder &b, Location loc, Value acc, QuantParam inScale,
                 QuantParam weightScale, QuantParam outScale,
                 QuantParam outZeroPoint, int64_t dim,
                 RankedTensorType resultType, Type storage) {
  return buildQuantGeneric(
      b, loc, resultType, acc, {inScale, weightScale, outScale, outZeroPoint},
      dim, [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value a = promoteHalf(nb, nl, args[1]);
        Value w = promoteHalf(nb, nl, args[2]);
        Value y = promoteHalf(nb, nl, args[3]);
        Value multiplier = arith::DivFOp::create(
            nb, nl, arith::MulFOp::create(nb, nl, a, w), y);
        Value real = arith::MulFOp::create(
            nb, nl, intToF32(nb, nl, args[0], nb.getI32Type()), multiplier);
        Value zp = intToF32(nb, nl, args[4], outZeroPoint.original);
        return saturateToStorage(nb, nl, real, zp, storage);
      });
}

struct QuantizeLinearLowering : OpConversionPattern<QuantizeLinearOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(QuantizeLinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    Type storage = op.getType().getElementType();
    int64_t blockSize = op.getBlockSize();
    QuantParam scale = makeParam(adaptor.getScale(), op.getScale(), blockSize);
    QuantParam zp =
        makeParam(adaptor.getZeroPoint(), op.getZeroPoint(), blockSize);
    bool saturate = op.getSaturate();
    Value result = buildQuantGeneric(
        rewriter, op.getLoc(), type, adaptor.getInput(), {scale, zp},
        op.getAxis(), [&](OpBuilder &b, Location loc, ValueRange args) {
          Value x = promoteHalf(b, loc, args[0]);
          Value s = promoteHalf(b, loc, args[1]);
          Value real = arith::DivFOp::create(b, loc, x, s);
          Value zero = storageToF32(b, loc, args[2], zp.original);
          if (isSmallFloat(storage))
            return encodeSmallFloat(b, loc,
                                    arith::AddFOp::create(b, loc, real, zero),
                                    storage, saturate);
          return saturateToStorage(b, loc, real, zero, storage);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct DequantizeLinearLowering : OpConversionPattern<DequantizeLinearOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(DequantizeLinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    Type element = op.getInput().getType().getElementType();
    Type real = type.getElementType();
    int64_t blockSize = op.getBlockSize();
    QuantParam scale = makeParam(adaptor.getScale(), op.getScale(), blockSize);
    QuantParam zp =
        makeParam(adaptor.getZeroPoint(), op.getZeroPoint(), blockSize);
    Value result = buildQuantGeneric(
        rewriter, op.getLoc(), type, adaptor.getInput(), {scale, zp},
        op.getAxis(), [&](OpBuilder &b, Location loc, ValueRange args) {
          if (isSmallFloat(element)) {
            Value diff = arith::SubFOp::create(
                b, loc, decodeSmallFloat(b, loc, args[0], element),
                decodeSmallFloat(b, loc, args[2], element));
            Value v = arith::MulFOp::create(b, loc, diff,
                                            promoteHalf(b, loc, args[1]));
            return demoteHalf(b, loc, v, real);
          }
          Type i32 = b.getI32Type();
          Value diff = arith::SubIOp::create(
              b, loc, castScalar(b, loc, args[0], element, i32),
              castScalar(b, loc, args[2], element, i32));
          Value v = arith::MulFOp::create(b, loc, intToF32(b, loc, diff, i32),
                                          promoteHalf(b, loc, args[1]));
          return demoteHalf(b, loc, v, real);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// The i32 product of the zero-point-corrected operands of a matmul_integer
/// or qlinear_matmul (rhs zero point per-tensor or per-column).
template <typename OpTy, typename Adaptor>
Value buildIntegerMatmul(OpBuilder &b, OpTy op, Adaptor adaptor,
                         ArrayRef<int64_t> shape) {
  Location loc = op.getLoc();
  int64_t rhsRank = op.getRhs().getType().getRank();
  Value lhs =
      widenMinusZeroPoint(b, loc, adaptor.getLhs(), op.getLhs(),
                          adaptor.getLhsZeroPoint(), op.getLhsZeroPoint(), 0);
  Value rhs = widenMinusZeroPoint(b, loc, adaptor.getRhs(), op.getRhs(),
                                  adaptor.getRhsZeroPoint(),
                                  op.getRhsZeroPoint(), rhsRank - 1);
  return buildNumpyMatmul(b, loc, lhs, rhs,
                          RankedTensorType::get(shape, b.getI32Type()));
}

/// The i32 convolution of the zero-point-corrected operands of a
/// conv_integer or qlinear_conv (weight zero point per output channel or
/// per-tensor); padding reads zeros, that is the input's zero point.
template <typename OpTy, typename Adaptor>
Value buildIntegerConv(OpBuilder &b, OpTy op, Adaptor adaptor,
                       ArrayRef<int64_t> shape) {
  Location loc = op.getLoc();
  Value input = widenMinusZeroPoint(b, loc, adaptor.getInput(), op.getInput(),
                                    adaptor.getInputZeroPoint(),
                                    op.getInputZeroPoint(), 1);
  Value weight = widenMinusZeroPoint(
      b, loc, adaptor.getWeight(), op.getWeight(), adaptor.getWeightZeroPoint(),
      op.getWeightZeroPoint(), 0);
  return buildConvolution(b, loc, input, weight, op.getStrides(), op.getPads(),
                          op.getDilations(), op.getGroup(),
                          RankedTensorType::get(shape, b.getI32Type()));
}

struct MatMulIntegerLowering : OpConversionPattern<MatMulIntegerOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(MatMulIntegerOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, buildIntegerMatmul(rewriter, op, adaptor, op.getType().getShape()));
    return success();
  }
};

struct ConvIntegerLowering : OpConversionPattern<ConvIntegerOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ConvIntegerOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, buildIntegerConv(rewriter, op, adaptor, op.getType().getShape()));
    return success();
  }
};

struct QLinearMatMulLowering : OpConversionPattern<QLinearMatMulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(QLinearMatMulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    Value acc =
        buildIntegerMatmul(rewriter, op, adaptor, op.getType().getShape());
    Value result = requantize(
        rewriter, op.getLoc(), acc,
        makeParam(adaptor.getLhsScale(), op.getLhsScale()),
        makeParam(adaptor.getRhsScale(), op.getRhsScale()),
        makeParam(adaptor.getResultScale(), op.getResultScale()),
        makeParam(adaptor.getResultZeroPoint(), op.getResultZeroPoint()),
        type.getRank() - 1, type, op.getType().getElementType());
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct QLinearConvLowering : OpConversionPattern<QLinearConvOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(QLinearConvOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    auto accType =
        RankedTensorType::get(type.getShape(), rewriter.getI32Type());
    Value acc =
        buildIntegerConv(rewriter, op, adaptor, op.getType().getShape());
    if (Value bias = adaptor.getBias())
      acc = applyEpilogue(rewriter, loc, acc, bias, 1, Value(),
                          Activation::None, 0, 0, accType);
    Value result = requantize(
        rewriter, loc, acc,
        makeParam(adaptor.getInputScale(), op.getInputScale()),
        makeParam(adaptor.getWeightScale(), op.getWeightScale()),
        makeParam(adaptor.getResultScale(), op.getResultScale()),
        makeParam(adaptor.getResultZeroPoint(), op.getResultZeroPoint()), 1,
        type, op.getType().getElementType());
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void lowering::populateQuantizationPatterns(TypeConverter &typeConverter,
                                            RewritePatternSet &patterns) {
  patterns.add<QuantizeLinearLowering, DequantizeLinearLowering,
               MatMulIntegerLowering,
               ConvIntegerLowering, QLinearMatMulLowering, QLinearConvLowering>(
      typeConverter, patterns.getContext());
}

} // namespace sparq
