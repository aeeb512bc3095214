//===- Reductions.cpp - Lower sparq reductions to linalg.generic ----------===//
//
// reduce_* (sum, mean, max, min, prod, sum_square, l1, l2, log_sum_exp),
// arg_max/arg_min and the global pools. Each reduction is a linalg.generic
// with reduction iterators into a tensor filled with the combiner's identity
// (so empty reductions give ONNX's 0, 1, -inf, ...), followed where needed by
// an elementwise finisher. f16/bf16 accumulate in f32.
//
//===----------------------------------------------------------------------===//

#include "Patterns.h"
#include "sparq/Dialect/Sparq/IR/Sparq.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <functional>

using namespace mlir;
using namespace sparq::lowering;

namespace sparq {
namespace {

enum class ReduceKind {
  Sum,
  Mean,
  Max,
  Min,
  Prod,
  SumSquare,
  L1,
  L2,
  LogSumExp
};

Value applyElementwise(
    OpBuilder &b, Location loc, Value input, Type elementType,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body,
    ValueRange extra = {}) {
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<Value> inputs = {input};
  llvm::append_range(inputs, extra);
  return createBroadcastGeneric(
      b, loc, RankedTensorType::get(type.getShape(), elementType), inputs,
      body);
}

/// The accumulating add of a sum reduction. Float adds carry `reassoc` so
/// that LLVM's loop vectorizer may keep partial sums in vector lanes.
Value addValues(OpBuilder &b, Location loc, Value x, Value y) {
  if (isa<FloatType>(x.getType()))
    return arith::AddFOp::create(b, loc, x, y, arith::FastMathFlags::reassoc);
  return arith::AddIOp::create(b, loc, x, y);
}
Value mulValues(OpBuilder &b, Location loc, Value x, Value y) {
  if (isa<FloatType>(x.getType()))
    return arith::MulFOp::create(b, loc, x, y);
  return arith::MulIOp::create(b, loc, x, y);
}

/// The full lowering of one reduction; returns a tensor of `resultType`.
Value lowerReduction(OpBuilder &b, Location loc, Value input, bool isUnsigned,
                     ArrayRef<int64_t> axes, ReduceKind kind,
                     RankedTensorType resultType) {
  auto inputType = cast<RankedTensorType>(input.getType());
  Type element = inputType.getElementType();
  Type accElement = isHalfFloat(element) ? b.getF32Type() : element;
  int64_t count = 1;
  for (int64_t a : axes)
    count *= inputType.getDimSize(a);

  auto promote = [&](OpBuilder &nb, Location nl, Value v) {
    return promoteHalf(nb, nl, v);
  };
  Value reduced;
  switch (kind) {
  case ReduceKind::Max:
  case ReduceKind::Min: {
    bool isMax = kind == ReduceKind::Max;
    Value init = isMax ? createLowestValue(b, loc, accElement, isUnsigned)
                       : createHighestValue(b, loc, accElement, isUnsigned);
    reduced =
        reduceGeneric(b, loc, input, axes, init, {},
                      [&](OpBuilder &nb, Location nl, ValueRange args) {
                        Value x = promote(nb, nl, args[0]);
                        return isMax
                                   ? createMax(nb, nl, x, args[1], isUnsigned)
                                   : createMin(nb, nl, x, args[1], isUnsigned);
                      });
    break;
  }
  case ReduceKind::Prod:
    reduced = reduceGeneric(
        b, loc, input, axes, createScalarConstant(b, loc, accElement, 1), {},
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          return mulValues(nb, nl, promote(nb, nl, args[0]), args[1]);
        });
    break;
  case ReduceKind::LogSumExp: {
    Value maxInit = createLowestValue(b, loc, accElement, false);
    Value maxima = reduceGeneric(
        b, loc, input, axes, maxInit, {},
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          return createMax(nb, nl, promote(nb, nl, args[0]), args[1], false);
        });
    // Shift by the max, or by 0 where the max is infinite.
    Value shift = applyElementwise(
        b, loc, maxima, accElement,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value m = args[0];
          Value inf = createHighestValue(nb, nl, accElement, false);
          Value finite =
              arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::ULT,
                                    math::AbsFOp::create(nb, nl, m), inf);
          Value zero = createScalarConstant(nb, nl, accElement, 0);
          return arith::SelectOp::create(nb, nl, finite, m, zero).getResult();
        });
    Value sums = reduceGeneric(
        b, loc, input, axes, createScalarConstant(b, loc, accElement, 0), shift,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value x = promote(nb, nl, args[0]);
          Value e = math::ExpOp::create(
              nb, nl, arith::SubFOp::create(nb, nl, x, args[1]));
          return arith::AddFOp::create(nb, nl, e, args[2],
                                       arith::FastMathFlags::reassoc)
              .getResult();
        });
    reduced = applyElementwise(
        b, loc, sums, accElement,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value l = math::LogOp::create(nb, nl, args[0]);
          return arith::AddFOp::create(nb, nl, l, args[1]).getResult();
        },
        shift);
    break;
  }
  default: {
    reduced = reduceGeneric(
        b, loc, input, axes, createScalarConstant(b, loc, accElement, 0), {},
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value x = promote(nb, nl, args[0]);
          if (kind == ReduceKind::SumSquare || kind == ReduceKind::L2)
            x = mulValues(nb, nl, x, x);
          else if (kind == ReduceKind::L1)
            x = isa<FloatType>(x.getType())
                    ? math::AbsFOp::create(nb, nl, x).getResult()
                : isUnsigned ? x
                             : math::AbsIOp::create(nb, nl, x).getResult();
          return addValues(nb, nl, x, args[1]);
        });
    if (kind == ReduceKind::Mean) {
      reduced = applyElementwise(
          b, loc, reduced, accElement,
          [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
            Value n = createScalarConstant(nb, nl, accElement, (double)count);
            if (isa<FloatType>(accElement))
              return arith::DivFOp::create(nb, nl, args[0], n);
            if (isUnsigned)
              return arith::DivUIOp::create(nb, nl, args[0], n);
            return arith::DivSIOp::create(nb, nl, args[0], n);
          });
    } else if (kind == ReduceKind::L2) {
      reduced = applyElementwise(
          b, loc, reduced, accElement,
          [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
            if (isa<FloatType>(accElement))
              return math::SqrtOp::create(nb, nl, args[0]);
            // Integers: sqrt in f64, truncated.
            Type f64 = nb.getF64Type();
            Value wide = castScalar(nb, nl, args[0], accElement, f64);
            Value root = math::SqrtOp::create(nb, nl, wide);
            return castScalar(nb, nl, root, f64, accElement);
          });
    }
    break;
  }
  }
  if (accElement != element)
    reduced =
        applyElementwise(b, loc, reduced, element,
                         [&](OpBuilder &nb, Location nl, ValueRange args) {
                           return demoteHalf(nb, nl, args[0], element);
                         });
  return reshapeTensor(b, loc, reduced, resultType);
}

template <typename OpTy, ReduceKind Kind>
struct ReduceLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type element = elementTypeOf(op.getInput().getType());
    if (element.isInteger(1))
      return op.emitOpError("reductions over bool are not supported");
    bool needsFloat = Kind == ReduceKind::LogSumExp;
    if (needsFloat && !isa<FloatType>(element))
      return op.emitOpError("expected a float element type, got ") << element;
    auto type = convertTensorType(*this->getTypeConverter(), op.getType());
    Value result =
        lowerReduction(rewriter, op.getLoc(), adaptor.getInput(),
                       isUnsignedInteger(element), op.getAxes(), Kind, type);
    rewriter.replaceOp(op, result);
    return success();
  }
};

template <typename OpTy, ReduceKind Kind>
struct GlobalPoolLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type element = elementTypeOf(op.getInput().getType());
    if (Kind == ReduceKind::Mean && !isa<FloatType>(element))
      return op.emitOpError("expected a float element type, got ") << element;
    auto type = convertTensorType(*this->getTypeConverter(), op.getType());
    SmallVector<int64_t> axes;
    for (int64_t d = 2; d < type.getRank(); ++d)
      axes.push_back(d);
    Value result = lowerReduction(rewriter, op.getLoc(), adaptor.getInput(),
                                  isUnsignedInteger(element), axes, Kind, type);
    rewriter.replaceOp(op, result);
    return success();
  }
};

template <typename OpTy, bool IsMax>
struct ArgReduceLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = this->getContext();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    Type element = inputType.getElementType();
    bool isUnsigned = isUnsignedInteger(op.getInput().getType());
    Type accElement = isHalfFloat(element) ? rewriter.getF32Type() : element;
    int64_t rank = inputType.getRank();
    int64_t axis = op.getAxis();
    if (inputType.getDimSize(axis) == 0)
      return op.emitOpError("arg reduction over an empty axis");
    bool last = op.getSelectLastIndex();
    auto type = convertTensorType(*this->getTypeConverter(), op.getType());

    SmallVector<int64_t> kept;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis)
        kept.push_back(inputType.getDimSize(d));
    Type i64 = rewriter.getI64Type();
    Value valueInit =
        IsMax ? createLowestValue(rewriter, loc, accElement, isUnsigned)
              : createHighestValue(rewriter, loc, accElement, isUnsigned);
    Value values = createFilledTensor(
        rewriter, loc, RankedTensorType::get(kept, accElement), valueInit);
    Value indices =
        createFilledTensor(rewriter, loc, RankedTensorType::get(kept, i64),
                           createScalarConstant(rewriter, loc, i64, 0));
    AffineMap reduced = getReducedMap(rank, {axis}, ctx);
    SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(rank, ctx),
                                   reduced, reduced};
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{values.getType(), indices.getType()}, input,
        ValueRange{values, indices}, maps, getReductionIterators(rank, {axis}),
        "", "", [&](OpBuilder &b, Location l, ValueRange args) {
          Value x = promoteHalf(b, l, args[0]);
          Value best = args[1], bestIndex = args[2];
          Value better;
          if (isa<FloatType>(accElement)) {
            auto pred = IsMax ? (last ? arith::CmpFPredicate::OGE
                                      : arith::CmpFPredicate::OGT)
                              : (last ? arith::CmpFPredicate::OLE
                                      : arith::CmpFPredicate::OLT);
            better = arith::CmpFOp::create(b, l, pred, x, best);
          } else {
            arith::CmpIPredicate pred;
            if (IsMax)
              pred = isUnsigned ? (last ? arith::CmpIPredicate::uge
                                        : arith::CmpIPredicate::ugt)
                                : (last ? arith::CmpIPredicate::sge
                                        : arith::CmpIPredicate::sgt);
            else
              pred = isUnsigned ? (last ? arith::CmpIPredicate::ule
                                        : arith::CmpIPredicate::ult)
                                : (last ? arith::CmpIPredicate::sle
                                        : arith::CmpIPredicate::slt);
            better = arith::CmpIOp::create(b, l, pred, x, best);
          }
          Value index = arith::IndexCastOp::create(
              b, l, i64, linalg::IndexOp::create(b, l, axis));
          Value newBest = arith::SelectOp::create(b, l, better, x, best);
          Value newIndex =
              arith::SelectOp::create(b, l, better, index, bestIndex);
          linalg::YieldOp::create(b, l, ValueRange{newBest, newIndex});
        });
    rewriter.replaceOp(
        op, reshapeTensor(rewriter, loc, generic.getResult(1), type));
    return success();
  }
};

} // namespace

/// Maps of a reduction over `axes` of a rank-`rank` input: identity for the
/// input and the kept dims for the result.
AffineMap lowering::getReducedMap(int64_t rank, ArrayRef<int64_t> axes,
                                  MLIRContext *ctx) {
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < rank; ++d)
    if (!llvm::is_contained(axes, d))
      exprs.push_back(getAffineDimExpr(d, ctx));
  return AffineMap::get(rank, 0, exprs, ctx);
}

SmallVector<utils::IteratorType>
lowering::getReductionIterators(int64_t rank, ArrayRef<int64_t> axes) {
  SmallVector<utils::IteratorType> iterators;
  for (int64_t d = 0; d < rank; ++d)
    iterators.push_back(llvm::is_contained(axes, d)
                            ? utils::IteratorType::reduction
                            : utils::IteratorType::parallel);
  return iterators;
}

namespace {

/// Reduces `input` over `axes` into a tensor of the kept dims with the
/// accumulator in an SSA value: a tensor.generate over the kept dims whose
/// body runs an scf.for nest over the reduced dims (in increasing order)
/// carrying the accumulator and reading `input` with tensor.extract. A
/// reduction generic instead accumulates in its output buffer, which LLVM
/// cannot always prove disjoint from the input (both live in the arena), so
/// it loads and stores it every iteration and may not vectorize. (Not a
/// parallel linalg.generic: elementwise fusion would inline it into its
/// consumers and redo the whole reduction per element.) `extra` tensors of
/// the kept dims are read alongside; `step` gets (element, extras...,
/// accumulator). Static shapes.
Value loopReduce(OpBuilder &b, Location loc, Value input,
                 ArrayRef<int64_t> axes, Value init, ValueRange extra,
                 function_ref<Value(OpBuilder &, Location, ValueRange)> step) {
  auto inputType = cast<RankedTensorType>(input.getType());
  int64_t rank = inputType.getRank();
  SmallVector<int64_t> keptShape, keptDims;
  for (int64_t d = 0; d < rank; ++d) {
    if (llvm::is_contained(axes, d))
      continue;
    keptShape.push_back(inputType.getDimSize(d));
    keptDims.push_back(d);
  }
  SmallVector<int64_t> sortedAxes(axes);
  llvm::sort(sortedAxes);
  auto accType = RankedTensorType::get(keptShape, init.getType());
  auto generate = tensor::GenerateOp::create(
      b, loc, accType, ValueRange{},
      [&](OpBuilder &nb, Location nl, ValueRange kept) {
        SmallVector<Value> extras;
        for (Value e : extra)
          extras.push_back(tensor::ExtractOp::create(nb, nl, e, kept));
        SmallVector<Value> indices(rank);
        for (auto [i, d] : llvm::enumerate(keptDims))
          indices[d] = kept[i];
        Value zero = arith::ConstantIndexOp::create(nb, nl, 0);
        Value one = arith::ConstantIndexOp::create(nb, nl, 1);
        std::function<Value(OpBuilder &, Location, size_t, Value)> nest =
            [&](OpBuilder &lb, Location ll, size_t level, Value acc) -> Value {
          if (level == sortedAxes.size()) {
            Value x = tensor::ExtractOp::create(lb, ll, input, indices);
            SmallVector<Value> stepArgs = {x};
            llvm::append_range(stepArgs, extras);
            stepArgs.push_back(acc);
            return step(lb, ll, stepArgs);
          }
          int64_t d = sortedAxes[level];
          Value ub = arith::ConstantIndexOp::create(lb, ll,
                                                    inputType.getDimSize(d));
          auto loop = scf::ForOp::create(
              lb, ll, zero, ub, one, ValueRange{acc},
              [&](OpBuilder &fb, Location fl, Value iv, ValueRange iter) {
                indices[d] = iv;
                scf::YieldOp::create(fb, fl, nest(fb, fl, level + 1, iter[0]));
              });
          return loop.getResult(0);
        };
        tensor::YieldOp::create(nb, nl, nest(nb, nl, 0, init));
      });
  return generate.getResult();
}

} // namespace

/// Reduces `input` over `axes` into a tensor of the kept dims, starting from
/// `init`. `extra` tensors (of the kept dims) are read alongside; `combine`
/// gets (element, extras..., accumulator). Reductions over trailing dims
/// (contiguous rows) use loopReduce; others a reduction generic, whose inner
/// loop then runs over a kept dim and vectorizes as an elementwise loop.
Value lowering::reduceGeneric(
    OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> axes, Value init,
    ValueRange extra,
    function_ref<Value(OpBuilder &, Location, ValueRange)> combine) {
  MLIRContext *ctx = b.getContext();
  auto inputType = cast<RankedTensorType>(input.getType());
  int64_t rank = inputType.getRank();
  SmallVector<int64_t> sortedAxes(axes);
  llvm::sort(sortedAxes);
  bool trailing = !sortedAxes.empty();
  for (auto [i, a] : llvm::enumerate(sortedAxes))
    trailing &= a == rank - (int64_t)sortedAxes.size() + (int64_t)i;
  if (trailing && inputType.hasStaticShape())
    return loopReduce(b, loc, input, axes, init, extra, combine);
  SmallVector<int64_t> keptShape;
  for (int64_t d = 0; d < rank; ++d)
    if (!llvm::is_contained(axes, d))
      keptShape.push_back(inputType.getDimSize(d));
  auto accType = RankedTensorType::get(keptShape, init.getType());
  Value acc = createFilledTensor(b, loc, accType, init);
  AffineMap reduced = getReducedMap(rank, axes, ctx);
  SmallVector<Value> inputs = {input};
  llvm::append_range(inputs, extra);
  SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(rank, ctx)};
  maps.append(extra.size() + 1, reduced);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{accType}, inputs, acc, maps,
      getReductionIterators(rank, axes), "", "",
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(nb, nl, combine(nb, nl, args));
      });
  return generic.getResult(0);
}

void lowering::populateReductionPatterns(TypeConverter &typeConverter,
                                         RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<ReduceLowering<ReduceSumOp, ReduceKind::Sum>,
               ReduceLowering<ReduceMeanOp, ReduceKind::Mean>,
               ReduceLowering<ReduceMaxOp, ReduceKind::Max>,
               ReduceLowering<ReduceMinOp, ReduceKind::Min>,
               ReduceLowering<ReduceProdOp, ReduceKind::Prod>,
               ReduceLowering<ReduceSumSquareOp, ReduceKind::SumSquare>,
               ReduceLowering<ReduceL1Op, ReduceKind::L1>,
               ReduceLowering<ReduceL2Op, ReduceKind::L2>,
               ReduceLowering<ReduceLogSumExpOp, ReduceKind::LogSumExp>,
               GlobalPoolLowering<GlobalAveragePoolOp, ReduceKind::Mean>,
               GlobalPoolLowering<GlobalMaxPoolOp, ReduceKind::Max>,
               ArgReduceLowering<ArgMaxOp, true>,
               ArgReduceLowering<ArgMinOp, false>>(typeConverter, ctx);
}

} // namespace sparq
