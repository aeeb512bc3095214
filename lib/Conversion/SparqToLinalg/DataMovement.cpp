//===- DataMovement.cpp - Lower sparq layout ops to tensor/linalg ---------===//
//
// Ops that only move data without index arithmetic: reshape (collapse /
// expand_shape), transpose (linalg.transpose), concat (one generic picking
// the input of each element), expand (broadcast generic), tile (broadcast into
// an interleaved shape, then collapse) and trilu (masking generic).
//
//===----------------------------------------------------------------------===//

#include "Patterns.h"
#include "sparq/Dialect/Sparq/IR/Sparq.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <functional>

using namespace mlir;
using namespace sparq::lowering;

namespace sparq {
namespace {

struct ReshapeLowering : OpConversionPattern<ReshapeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ReshapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    rewriter.replaceOp(
        op, reshapeTensor(rewriter, op.getLoc(), adaptor.getInput(), type));
    return success();
  }
};

struct TransposeLowering : OpConversionPattern<TransposeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    Value init = createEmptyTensor(rewriter, op.getLoc(), type);
    auto transpose = linalg::TransposeOp::create(
        rewriter, op.getLoc(), adaptor.getInput(), init, op.getPerm());
    rewriter.replaceOp(op, transpose->getResults());
    return success();
  }
};

struct ConcatLowering : OpConversionPattern<ConcatOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ConcatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    int64_t axis = op.getAxis();
    // Non-empty inputs with their offsets along `axis`.
    SmallVector<std::pair<Value, int64_t>> parts;
    int64_t offset = 0;
    for (Value input : adaptor.getInputs()) {
      int64_t size = cast<RankedTensorType>(input.getType()).getDimSize(axis);
      if (size != 0)
        parts.push_back({input, offset});
      offset += size;
    }
    if (parts.empty()) {
      rewriter.replaceOp(op, createEmptyTensor(rewriter, loc, type));
      return success();
    }
    // One generic; an scf.if chain picks the input holding each element, so
    // every element is read once. (insert_slice into an empty tensor would
    // bufferize to strided copies that need the memrefCopy helper.)
    Value result = createIndexedGeneric(
        rewriter, loc, type, [&](OpBuilder &b, Location l, ValueRange ivs) {
          std::function<Value(OpBuilder &, size_t)> pick =
              [&](OpBuilder &nb, size_t i) -> Value {
            auto read = [&](OpBuilder &rb) -> Value {
              SmallVector<Value> indices(ivs.begin(), ivs.end());
              indices[axis] = arith::SubIOp::create(
                  rb, l, ivs[axis],
                  createIndexConstant(rb, l, parts[i].second));
              return tensor::ExtractOp::create(rb, l, parts[i].first, indices);
            };
            if (i + 1 == parts.size())
              return read(nb);
            Value before = arith::CmpIOp::create(
                nb, l, arith::CmpIPredicate::slt, ivs[axis],
                createIndexConstant(nb, l, parts[i + 1].second));
            auto ifOp = scf::IfOp::create(
                nb, l, before,
                [&](OpBuilder &tb, Location tl) {
                  scf::YieldOp::create(tb, tl, read(tb));
                },
                [&](OpBuilder &eb, Location el) {
                  scf::YieldOp::create(eb, el, pick(eb, i + 1));
                });
            return ifOp.getResult(0);
          };
          return pick(b, 0);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ExpandLowering : OpConversionPattern<ExpandOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ExpandOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    Value result = createBroadcastGeneric(
        rewriter, op.getLoc(), type, adaptor.getInput(),
        [](OpBuilder &, Location, ValueRange args) { return args[0]; });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// tile(x, r) = collapse(broadcast(x) to [r0, s0, r1, s1, ...]).
struct TileLowering : OpConversionPattern<TileOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(TileOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = getContext();
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    auto inputType = cast<RankedTensorType>(adaptor.getInput().getType());
    int64_t rank = inputType.getRank();
    SmallVector<int64_t> interleaved;
    SmallVector<AffineExpr> inputExprs;
    SmallVector<ReassociationIndices> reassociation;
    for (int64_t d = 0; d < rank; ++d) {
      interleaved.push_back(op.getRepeats()[d]);
      interleaved.push_back(inputType.getDimSize(d));
      inputExprs.push_back(getAffineDimExpr(2 * d + 1, ctx));
      reassociation.push_back({2 * d, 2 * d + 1});
    }
    auto wideType =
        RankedTensorType::get(interleaved, inputType.getElementType());
    Value init = createEmptyTensor(rewriter, loc, wideType);
    SmallVector<AffineMap> maps = {
        AffineMap::get(2 * rank, 0, inputExprs, ctx),
        AffineMap::getMultiDimIdentityMap(2 * rank, ctx)};
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{wideType}, adaptor.getInput(), init, maps,
        getParallelIterators(2 * rank), "", "",
        [](OpBuilder &b, Location l, ValueRange args) {
          linalg::YieldOp::create(b, l, args[0]);
        });
    Value result = generic.getResult(0);
    if (rank > 0)
      result = tensor::CollapseShapeOp::create(rewriter, loc, type, result,
                                               reassociation);
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Keeps x[..., i, j] where j - i >= k (upper) or j - i <= k (lower).
struct TriluLowering : OpConversionPattern<TriluOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(TriluOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    int64_t rank = type.getRank();
    if (rank < 2)
      return op.emitOpError("expected rank >= 2, got ") << rank;
    bool upper = op.getUpper();
    int64_t k = op.getK();
    Value result = createBroadcastGeneric(
        rewriter, op.getLoc(), type, adaptor.getInput(),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          Value i = linalg::IndexOp::create(b, loc, rank - 2);
          Value j = linalg::IndexOp::create(b, loc, rank - 1);
          Value diff = arith::SubIOp::create(b, loc, j, i);
          Value kValue = createIndexConstant(b, loc, k);
          Value keep = arith::CmpIOp::create(b, loc,
                                             upper ? arith::CmpIPredicate::sge
                                                   : arith::CmpIPredicate::sle,
                                             diff, kValue);
          Value zero = createScalarConstant(b, loc, args[0].getType(), 0);
          return arith::SelectOp::create(b, loc, keep, args[0], zero)
              .getResult();
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void lowering::populateDataMovementPatterns(TypeConverter &typeConverter,
                                            RewritePatternSet &patterns) {
  patterns.add<ReshapeLowering, TransposeLowering, ConcatLowering,
               ExpandLowering, TileLowering, TriluLowering>(
      typeConverter, patterns.getContext());
}

} // namespace sparq
