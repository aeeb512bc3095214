//===- Elementwise.cpp - Lower sparq elementwise ops to linalg.generic ----===//
//
// Every unary and binary elementwise op (and `where`) becomes one parallel
// linalg.generic whose indexing maps implement ONNX multidirectional
// broadcasting. f16/bf16 are computed in f32; unsigned integers pick the
// unsigned arith variants from the original sparq element types.
//
//===----------------------------------------------------------------------===//

#include "Patterns.h"
#include "sparq/Dialect/Sparq/IR/Sparq.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;
using namespace sparq::lowering;

namespace sparq {
namespace {

/// Which element types an op accepts.
enum class Elements { Float, Numeric, Integer, Bool, Any };

/// What a scalar body sees: the builder, the original (possibly unsigned)
/// element types of the operands and the result element type.
struct Scalar {
  OpBuilder &b;
  Location loc;
  ArrayRef<Type> operandTypes;
  unsigned dataIndex;

  bool isUnsigned() const { return isUnsignedInteger(operandTypes[dataIndex]); }
  Value constant(Type type, double v) const {
    return createScalarConstant(b, loc, type, v);
  }
  Value constantLike(Value like, double v) const {
    return constant(like.getType(), v);
  }
};

bool isFloat(Value v) { return isa<FloatType>(v.getType()); }

//===----------------------------------------------------------------------===//
// Small arithmetic builders (float or integer by the operand type)
//===----------------------------------------------------------------------===//

Value add(const Scalar &s, Value a, Value c) {
  if (isFloat(a))
    return arith::AddFOp::create(s.b, s.loc, a, c);
  return arith::AddIOp::create(s.b, s.loc, a, c);
}
Value sub(const Scalar &s, Value a, Value c) {
  if (isFloat(a))
    return arith::SubFOp::create(s.b, s.loc, a, c);
  return arith::SubIOp::create(s.b, s.loc, a, c);
}
Value mul(const Scalar &s, Value a, Value c) {
  if (isFloat(a))
    return arith::MulFOp::create(s.b, s.loc, a, c);
  return arith::MulIOp::create(s.b, s.loc, a, c);
}
Value divf(const Scalar &s, Value a, Value c) {
  return arith::DivFOp::create(s.b, s.loc, a, c);
}
Value exp(const Scalar &s, Value a) {
  return math::ExpOp::create(s.b, s.loc, a);
}
Value select(const Scalar &s, Value c, Value t, Value f) {
  return arith::SelectOp::create(s.b, s.loc, c, t, f);
}
/// Ordered float or signed/unsigned integer comparison.
Value compare(const Scalar &s, arith::CmpFPredicate fp, arith::CmpIPredicate sp,
              arith::CmpIPredicate up, Value a, Value c, bool isUnsigned) {
  if (isFloat(a))
    return arith::CmpFOp::create(s.b, s.loc, fp, a, c);
  bool u = isUnsigned || a.getType().isInteger(1);
  return arith::CmpIOp::create(s.b, s.loc, u ? up : sp, a, c);
}
Value isNegative(const Scalar &s, Value a) {
  return compare(s, arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt,
                 arith::CmpIPredicate::ult, a, s.constantLike(a, 0),
                 s.isUnsigned());
}
Value sigmoid(const Scalar &s, Value x) {
  Value one = s.constantLike(x, 1.0);
  Value negX = arith::NegFOp::create(s.b, s.loc, x);
  return divf(s, one, add(s, one, exp(s, negX)));
}
/// log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|)).
Value softplus(const Scalar &s, Value x) {
  Value absX = math::AbsFOp::create(s.b, s.loc, x);
  Value e = exp(s, arith::NegFOp::create(s.b, s.loc, absX));
  Value l = math::Log1pOp::create(s.b, s.loc, e);
  Value pos = arith::MaximumFOp::create(s.b, s.loc, x, s.constantLike(x, 0));
  return add(s, pos, l);
}
Value clamp01(const Scalar &s, Value x) {
  Value lo = arith::MaximumFOp::create(s.b, s.loc, x, s.constantLike(x, 0));
  return arith::MinimumFOp::create(s.b, s.loc, lo, s.constantLike(x, 1));
}

//===----------------------------------------------------------------------===//
// Scalar bodies, one overload per op
//===----------------------------------------------------------------------===//

Value build(AddOp, const Scalar &s, ValueRange a) { return add(s, a[0], a[1]); }
Value build(SubOp, const Scalar &s, ValueRange a) { return sub(s, a[0], a[1]); }
Value build(MulOp, const Scalar &s, ValueRange a) { return mul(s, a[0], a[1]); }
Value build(DivOp, const Scalar &s, ValueRange a) {
  if (isFloat(a[0]))
    return divf(s, a[0], a[1]);
  if (s.isUnsigned())
    return arith::DivUIOp::create(s.b, s.loc, a[0], a[1]);
  return arith::DivSIOp::create(s.b, s.loc, a[0], a[1]);
}
Value build(PowOp, const Scalar &s, ValueRange a) {
  Value base = a[0], expo = a[1];
  Type baseType = s.operandTypes[0], expoType = s.operandTypes[1];
  if (isFloat(base)) {
    if (isFloat(expo)) {
      expo = castScalar(s.b, s.loc, expo, expo.getType(), base.getType());
      return math::PowFOp::create(s.b, s.loc, base, expo);
    }
    // Integer exponent: pow of an integral float is exact for negative
    // bases too (libm semantics).
    expo = castScalar(s.b, s.loc, expo, expoType, base.getType());
    return math::PowFOp::create(s.b, s.loc, base, expo);
  }
  // Integer base: compute in f64, round to nearest, convert back (ONNX
  // truncates a float exponent's result; integral results are exact).
  Type f64 = s.b.getF64Type();
  Value wideBase = castScalar(s.b, s.loc, base, baseType, f64);
  Value wideExpo = castScalar(s.b, s.loc, expo,
                              isFloat(expo) ? expo.getType() : expoType, f64);
  Value p = math::PowFOp::create(s.b, s.loc, wideBase, wideExpo);
  if (!isFloat(expo))
    p = math::RoundEvenOp::create(s.b, s.loc, p);
  return castScalar(s.b, s.loc, p, f64, baseType);
}
Value build(MinOp, const Scalar &s, ValueRange a) {
  return createMin(s.b, s.loc, a[0], a[1], s.isUnsigned());
}
Value build(MaxOp, const Scalar &s, ValueRange a) {
  return createMax(s.b, s.loc, a[0], a[1], s.isUnsigned());
}
Value build(ModOp op, const Scalar &s, ValueRange a) {
  // Floats: C fmod (ONNX requires fmod=1 for floats).
  if (isFloat(a[0]))
    return arith::RemFOp::create(s.b, s.loc, a[0], a[1]);
  if (s.isUnsigned())
    return arith::RemUIOp::create(s.b, s.loc, a[0], a[1]);
  if (op.getFmod())
    return arith::RemSIOp::create(s.b, s.loc, a[0], a[1]);
  // Integers with fmod=0: the result takes the sign of the divisor.
  Value r = arith::RemSIOp::create(s.b, s.loc, a[0], a[1]);
  Value zero = s.constantLike(r, 0);
  Value nonZero =
      arith::CmpIOp::create(s.b, s.loc, arith::CmpIPredicate::ne, r, zero);
  Value rNeg =
      arith::CmpIOp::create(s.b, s.loc, arith::CmpIPredicate::slt, r, zero);
  Value dNeg =
      arith::CmpIOp::create(s.b, s.loc, arith::CmpIPredicate::slt, a[1], zero);
  Value signsDiffer = arith::XOrIOp::create(s.b, s.loc, rNeg, dNeg);
  Value fix = arith::AndIOp::create(s.b, s.loc, nonZero, signsDiffer);
  return select(s, fix, add(s, r, a[1]), r);
}
Value build(AndOp, const Scalar &s, ValueRange a) {
  return arith::AndIOp::create(s.b, s.loc, a[0], a[1]);
}
Value build(OrOp, const Scalar &s, ValueRange a) {
  return arith::OrIOp::create(s.b, s.loc, a[0], a[1]);
}
Value build(XorOp, const Scalar &s, ValueRange a) {
  return arith::XOrIOp::create(s.b, s.loc, a[0], a[1]);
}
Value build(EqualOp, const Scalar &s, ValueRange a) {
  return compare(s, arith::CmpFPredicate::OEQ, arith::CmpIPredicate::eq,
                 arith::CmpIPredicate::eq, a[0], a[1], s.isUnsigned());
}
Value build(LessOp, const Scalar &s, ValueRange a) {
  return compare(s, arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt,
                 arith::CmpIPredicate::ult, a[0], a[1], s.isUnsigned());
}
Value build(LessOrEqualOp, const Scalar &s, ValueRange a) {
  return compare(s, arith::CmpFPredicate::OLE, arith::CmpIPredicate::sle,
                 arith::CmpIPredicate::ule, a[0], a[1], s.isUnsigned());
}
Value build(GreaterOp, const Scalar &s, ValueRange a) {
  return compare(s, arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt,
                 arith::CmpIPredicate::ugt, a[0], a[1], s.isUnsigned());
}
Value build(GreaterOrEqualOp, const Scalar &s, ValueRange a) {
  return compare(s, arith::CmpFPredicate::OGE, arith::CmpIPredicate::sge,
                 arith::CmpIPredicate::uge, a[0], a[1], s.isUnsigned());
}
Value build(PReluOp, const Scalar &s, ValueRange a) {
  Value slope = castScalar(s.b, s.loc, a[1], a[1].getType(), a[0].getType());
  return select(s, isNegative(s, a[0]), mul(s, slope, a[0]), a[0]);
}
Value build(WhereOp, const Scalar &s, ValueRange a) {
  return select(s, a[0], a[1], a[2]);
}

Value build(SqrtOp, const Scalar &s, ValueRange a) {
  return math::SqrtOp::create(s.b, s.loc, a[0]);
}
Value build(ReciprocalOp, const Scalar &s, ValueRange a) {
  return divf(s, s.constantLike(a[0], 1.0), a[0]);
}
Value build(ExpOp, const Scalar &s, ValueRange a) { return exp(s, a[0]); }
Value build(LogOp, const Scalar &s, ValueRange a) {
  return math::LogOp::create(s.b, s.loc, a[0]);
}
Value build(ErfOp, const Scalar &s, ValueRange a) {
  return math::ErfOp::create(s.b, s.loc, a[0]);
}
Value build(TanhOp, const Scalar &s, ValueRange a) {
  return math::TanhOp::create(s.b, s.loc, a[0]);
}
Value build(SigmoidOp, const Scalar &s, ValueRange a) {
  return sigmoid(s, a[0]);
}
Value build(ReluOp, const Scalar &s, ValueRange a) {
  return createMax(s.b, s.loc, a[0], s.constantLike(a[0], 0), s.isUnsigned());
}
Value build(NegOp, const Scalar &s, ValueRange a) {
  if (isFloat(a[0]))
    return arith::NegFOp::create(s.b, s.loc, a[0]);
  return sub(s, s.constantLike(a[0], 0), a[0]);
}
Value build(AbsOp, const Scalar &s, ValueRange a) {
  if (isFloat(a[0]))
    return math::AbsFOp::create(s.b, s.loc, a[0]);
  if (s.isUnsigned())
    return a[0];
  return math::AbsIOp::create(s.b, s.loc, a[0]);
}
Value build(FloorOp, const Scalar &s, ValueRange a) {
  return math::FloorOp::create(s.b, s.loc, a[0]);
}
Value build(CeilOp, const Scalar &s, ValueRange a) {
  return math::CeilOp::create(s.b, s.loc, a[0]);
}
Value build(RoundOp, const Scalar &s, ValueRange a) {
  return math::RoundEvenOp::create(s.b, s.loc, a[0]);
}
Value build(SignOp, const Scalar &s, ValueRange a) {
  Value x = a[0];
  Value zero = s.constantLike(x, 0), one = s.constantLike(x, 1);
  Value positive =
      compare(s, arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt,
              arith::CmpIPredicate::ugt, x, zero, s.isUnsigned());
  Value result = select(s, positive, one, zero);
  if (s.isUnsigned())
    return result;
  result = select(s, isNegative(s, x), s.constantLike(x, -1), result);
  if (isFloat(x)) // NaN stays NaN.
    result = select(
        s, arith::CmpFOp::create(s.b, s.loc, arith::CmpFPredicate::UNO, x, x),
        x, result);
  return result;
}
Value build(NotOp, const Scalar &s, ValueRange a) {
  return arith::XOrIOp::create(s.b, s.loc, a[0], s.constantLike(a[0], 1));
}
#define SPARQ_MATH_UNARY(OP, MATHOP)                                           \
  Value build(OP, const Scalar &s, ValueRange a) {                             \
    return math::MATHOP::create(s.b, s.loc, a[0]);                             \
  }
SPARQ_MATH_UNARY(SinOp, SinOp)
SPARQ_MATH_UNARY(CosOp, CosOp)
SPARQ_MATH_UNARY(TanOp, TanOp)
SPARQ_MATH_UNARY(AsinOp, AsinOp)
SPARQ_MATH_UNARY(AcosOp, AcosOp)
SPARQ_MATH_UNARY(AtanOp, AtanOp)
SPARQ_MATH_UNARY(SinhOp, SinhOp)
SPARQ_MATH_UNARY(CoshOp, CoshOp)
SPARQ_MATH_UNARY(AsinhOp, AsinhOp)
SPARQ_MATH_UNARY(AcoshOp, AcoshOp)
SPARQ_MATH_UNARY(AtanhOp, AtanhOp)
#undef SPARQ_MATH_UNARY
Value build(SoftplusOp, const Scalar &s, ValueRange a) {
  return softplus(s, a[0]);
}
Value build(SoftsignOp, const Scalar &s, ValueRange a) {
  Value absX = math::AbsFOp::create(s.b, s.loc, a[0]);
  return divf(s, a[0], add(s, s.constantLike(a[0], 1), absX));
}
Value build(MishOp, const Scalar &s, ValueRange a) {
  return mul(s, a[0], math::TanhOp::create(s.b, s.loc, softplus(s, a[0])));
}
Value build(HardSwishOp, const Scalar &s, ValueRange a) {
  Value t = add(s, mul(s, a[0], s.constantLike(a[0], 1.0 / 6.0)),
                s.constantLike(a[0], 0.5));
  return mul(s, a[0], clamp01(s, t));
}
Value build(IdentityOp, const Scalar &, ValueRange a) { return a[0]; }
Value build(LeakyReluOp op, const Scalar &s, ValueRange a) {
  Value alpha = s.constantLike(a[0], op.getAlphaAttr().getValueAsDouble());
  return select(s, isNegative(s, a[0]), mul(s, alpha, a[0]), a[0]);
}
Value build(EluOp op, const Scalar &s, ValueRange a) {
  Value x = a[0];
  Value alpha = s.constantLike(x, op.getAlphaAttr().getValueAsDouble());
  Value negative = mul(s, alpha, sub(s, exp(s, x), s.constantLike(x, 1)));
  return select(s, isNegative(s, x), negative, x);
}
Value build(CeluOp op, const Scalar &s, ValueRange a) {
  Value x = a[0];
  Value alpha = s.constantLike(x, op.getAlphaAttr().getValueAsDouble());
  Value zero = s.constantLike(x, 0);
  Value e = sub(s, exp(s, divf(s, x, alpha)), s.constantLike(x, 1));
  Value negPart = arith::MinimumFOp::create(s.b, s.loc, zero, mul(s, alpha, e));
  Value posPart = arith::MaximumFOp::create(s.b, s.loc, zero, x);
  return add(s, posPart, negPart);
}
Value build(ThresholdedReluOp op, const Scalar &s, ValueRange a) {
  Value alpha = s.constantLike(a[0], op.getAlphaAttr().getValueAsDouble());
  Value above =
      arith::CmpFOp::create(s.b, s.loc, arith::CmpFPredicate::OGT, a[0], alpha);
  return select(s, above, a[0], s.constantLike(a[0], 0));
}
Value build(SeluOp op, const Scalar &s, ValueRange a) {
  Value x = a[0];
  Value alpha = s.constantLike(x, op.getAlphaAttr().getValueAsDouble());
  Value gamma = s.constantLike(x, op.getGammaAttr().getValueAsDouble());
  Value negative = sub(s, mul(s, alpha, exp(s, x)), alpha);
  Value positive = arith::CmpFOp::create(s.b, s.loc, arith::CmpFPredicate::OGT,
                                         x, s.constantLike(x, 0));
  return mul(s, gamma, select(s, positive, x, negative));
}
Value build(HardSigmoidOp op, const Scalar &s, ValueRange a) {
  Value alpha = s.constantLike(a[0], op.getAlphaAttr().getValueAsDouble());
  Value beta = s.constantLike(a[0], op.getBetaAttr().getValueAsDouble());
  return clamp01(s, add(s, mul(s, alpha, a[0]), beta));
}
Value build(GeluOp op, const Scalar &s, ValueRange a) {
  Value x = a[0];
  Value half = s.constantLike(x, 0.5), one = s.constantLike(x, 1);
  Value inner;
  if (op.getTanhApproximation()) {
    Value cube = mul(s, mul(s, x, x), x);
    Value poly = add(s, x, mul(s, s.constantLike(x, 0.044715), cube));
    Value scaled = mul(s, s.constantLike(x, std::sqrt(2.0 / M_PI)), poly);
    inner = math::TanhOp::create(s.b, s.loc, scaled);
  } else {
    Value scaled = mul(s, x, s.constantLike(x, M_SQRT1_2));
    inner = math::ErfOp::create(s.b, s.loc, scaled);
  }
  return mul(s, mul(s, half, x), add(s, one, inner));
}
Value build(ClipOp op, const Scalar &s, ValueRange a) {
  Value x = a[0];
  if (auto minAttr = op.getMinAttr())
    x = createMax(s.b, s.loc, x, s.constantLike(x, minAttr.getValueAsDouble()),
                  s.isUnsigned());
  if (auto maxAttr = op.getMaxAttr())
    x = createMin(s.b, s.loc, x, s.constantLike(x, maxAttr.getValueAsDouble()),
                  s.isUnsigned());
  return x;
}

//===----------------------------------------------------------------------===//
// The pattern
//===----------------------------------------------------------------------===//

bool acceptsElement(Elements kind, Type type) {
  switch (kind) {
  case Elements::Float:
    return isa<FloatType>(type);
  case Elements::Numeric:
    return isa<FloatType>(type) ||
           (isa<IntegerType>(type) && !type.isInteger(1));
  case Elements::Integer:
    return isa<IntegerType>(type);
  case Elements::Bool:
    return type.isInteger(1);
  case Elements::Any:
    return true;
  }
  return false;
}

StringRef describe(Elements kind) {
  switch (kind) {
  case Elements::Float:
    return "a float";
  case Elements::Numeric:
    return "a numeric (float or non-bool integer)";
  case Elements::Integer:
    return "an integer or bool";
  case Elements::Bool:
    return "a bool";
  case Elements::Any:
    return "any";
  }
  return "";
}

template <typename OpTy, Elements Kind>
struct ElementwisePattern : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    // The data operand whose type decides the element kind (`where`'s x).
    unsigned dataIndex = std::is_same_v<OpTy, WhereOp> ? 1 : 0;
    Type dataType = elementTypeOf(op->getOperand(dataIndex).getType());
    if (!acceptsElement(Kind, dataType))
      return op.emitOpError("expected ")
             << describe(Kind) << " element type, got " << dataType;
    auto resultType = convertTensorType(*this->getTypeConverter(),
                                        op->getResult(0).getType());
    SmallVector<Type> operandTypes;
    for (Value operand : op->getOperands())
      operandTypes.push_back(elementTypeOf(operand.getType()));
    Type resultElement = resultType.getElementType();
    Value result =
        createBroadcastGeneric(rewriter, loc, resultType, adaptor.getOperands(),
                               [&](OpBuilder &b, Location l, ValueRange args) {
                                 Scalar s{b, l, operandTypes, dataIndex};
                                 SmallVector<Value> promoted;
                                 for (Value arg : args)
                                   promoted.push_back(promoteHalf(b, l, arg));
                                 Value v = build(op, s, promoted);
                                 return demoteHalf(b, l, v, resultElement);
                               });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void lowering::populateElementwisePatterns(TypeConverter &typeConverter,
                                           RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  constexpr Elements F = Elements::Float, N = Elements::Numeric,
                     I = Elements::Integer, B = Elements::Bool,
                     A = Elements::Any;
  patterns.add<
      ElementwisePattern<AddOp, N>, ElementwisePattern<SubOp, N>,
      ElementwisePattern<MulOp, N>, ElementwisePattern<DivOp, N>,
      ElementwisePattern<PowOp, N>, ElementwisePattern<MinOp, N>,
      ElementwisePattern<MaxOp, N>, ElementwisePattern<ModOp, N>,
      ElementwisePattern<AndOp, I>, ElementwisePattern<OrOp, I>,
      ElementwisePattern<XorOp, I>, ElementwisePattern<EqualOp, A>,
      ElementwisePattern<LessOp, N>, ElementwisePattern<LessOrEqualOp, N>,
      ElementwisePattern<GreaterOp, N>, ElementwisePattern<GreaterOrEqualOp, N>,
      ElementwisePattern<PReluOp, N>, ElementwisePattern<WhereOp, A>>(
      typeConverter, ctx);
  patterns.add<
      ElementwisePattern<SqrtOp, F>, ElementwisePattern<ReciprocalOp, F>,
      ElementwisePattern<ExpOp, F>, ElementwisePattern<LogOp, F>,
      ElementwisePattern<ErfOp, F>, ElementwisePattern<TanhOp, F>,
      ElementwisePattern<SigmoidOp, F>, ElementwisePattern<ReluOp, N>,
      ElementwisePattern<NegOp, N>, ElementwisePattern<AbsOp, N>,
      ElementwisePattern<FloorOp, F>, ElementwisePattern<CeilOp, F>,
      ElementwisePattern<RoundOp, F>, ElementwisePattern<SignOp, N>,
      ElementwisePattern<NotOp, B>, ElementwisePattern<SinOp, F>,
      ElementwisePattern<CosOp, F>, ElementwisePattern<TanOp, F>,
      ElementwisePattern<AsinOp, F>, ElementwisePattern<AcosOp, F>,
      ElementwisePattern<AtanOp, F>, ElementwisePattern<SinhOp, F>,
      ElementwisePattern<CoshOp, F>, ElementwisePattern<AsinhOp, F>,
      ElementwisePattern<AcoshOp, F>, ElementwisePattern<AtanhOp, F>,
      ElementwisePattern<SoftplusOp, F>, ElementwisePattern<SoftsignOp, F>,
      ElementwisePattern<MishOp, F>, ElementwisePattern<HardSwishOp, F>,
      ElementwisePattern<LeakyReluOp, F>, ElementwisePattern<EluOp, F>,
      ElementwisePattern<CeluOp, F>, ElementwisePattern<ThresholdedReluOp, F>,
      ElementwisePattern<SeluOp, F>, ElementwisePattern<HardSigmoidOp, F>,
      ElementwisePattern<GeluOp, F>, ElementwisePattern<ClipOp, N>>(
      typeConverter, ctx);
  // Identity accepts anything, bool included.
  patterns.add<ElementwisePattern<IdentityOp, A>>(typeConverter, ctx);
}

} // namespace sparq
