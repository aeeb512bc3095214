//===- Indexing.cpp - Lower sparq slice, gather and pad -------------------===//
//
// Data movement that needs index arithmetic: slice (a gathering generic),
// gather (indices wrapped for negatives and clamped so nothing is read out of
// bounds) and pad (constant, reflect and edge modes, negative pads included).
//
//===----------------------------------------------------------------------===//

#include "Patterns.h"
#include "sparq/Dialect/Sparq/IR/Sparq.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace sparq::lowering;

namespace sparq {
namespace {

Value clampIndex(OpBuilder &b, Location loc, Value index, int64_t size) {
  Value zero = createIndexConstant(b, loc, 0);
  Value last = createIndexConstant(b, loc, std::max<int64_t>(size - 1, 0));
  Value lo = arith::MaxSIOp::create(b, loc, index, zero);
  return arith::MinSIOp::create(b, loc, lo, last);
}

struct SliceLowering : OpConversionPattern<SliceOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SliceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    auto inputType = cast<RankedTensorType>(adaptor.getInput().getType());
    ArrayRef<int64_t> starts = op.getStarts(), steps = op.getSteps();
    // Every step sign goes through one gathering generic: a
    // tensor.extract_slice whose result escapes (a function result, a kernel
    // operand) would bufferize to a strided memref copy needing the
    // memrefCopy runtime helper, and a copying generic over it folds away.
    if (type.getNumElements() == 0) {
      rewriter.replaceOp(op, createEmptyTensor(rewriter, loc, type));
      return success();
    }
    Value input = adaptor.getInput();
    Value result = createIndexedGeneric(
        rewriter, loc, type, [&](OpBuilder &b, Location l, ValueRange ivs) {
          SmallVector<Value> indices;
          for (auto [d, iv] : llvm::enumerate(ivs)) {
            Value scaled = arith::MulIOp::create(
                b, l, iv, createIndexConstant(b, l, steps[d]));
            Value index = arith::AddIOp::create(
                b, l, scaled, createIndexConstant(b, l, starts[d]));
            indices.push_back(clampIndex(b, l, index, inputType.getDimSize(d)));
          }
          return tensor::ExtractOp::create(b, l, input, indices).getResult();
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct GatherLowering : OpConversionPattern<GatherOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(GatherOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = getContext();
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    Value data = adaptor.getData(), indices = adaptor.getIndices();
    auto dataType = cast<RankedTensorType>(data.getType());
    auto indicesType = cast<RankedTensorType>(indices.getType());
    bool unsignedIndices = isUnsignedInteger(op.getIndices().getType());
    int64_t axis = op.getAxis();
    int64_t q = indicesType.getRank();
    int64_t rank = type.getRank();
    int64_t axisSize = dataType.getDimSize(axis);
    if (axisSize == 0 && type.getNumElements() != 0)
      return op.emitOpError("gather from an empty axis");

    SmallVector<AffineExpr> indexExprs;
    for (int64_t d = 0; d < q; ++d)
      indexExprs.push_back(getAffineDimExpr(axis + d, ctx));
    SmallVector<AffineMap> maps = {
        AffineMap::get(rank, 0, indexExprs, ctx),
        AffineMap::getMultiDimIdentityMap(rank, ctx)};
    Value init = createEmptyTensor(rewriter, loc, type);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, indices, init, maps,
        getParallelIterators(rank), "", "",
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value raw = args[0];
          Value index =
              unsignedIndices
                  ? arith::IndexCastUIOp::create(b, l, b.getIndexType(), raw)
                        .getResult()
                  : arith::IndexCastOp::create(b, l, b.getIndexType(), raw)
                        .getResult();
          Value size = createIndexConstant(b, l, axisSize);
          if (!unsignedIndices) {
            Value negative =
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, index,
                                      createIndexConstant(b, l, 0));
            Value wrapped = arith::AddIOp::create(b, l, index, size);
            index = arith::SelectOp::create(b, l, negative, wrapped, index);
          }
          index = clampIndex(b, l, index, axisSize);
          SmallVector<Value> dataIndices;
          for (int64_t d = 0; d < axis; ++d)
            dataIndices.push_back(linalg::IndexOp::create(b, l, d));
          dataIndices.push_back(index);
          for (int64_t d = axis + 1; d < dataType.getRank(); ++d)
            dataIndices.push_back(linalg::IndexOp::create(b, l, d - 1 + q));
          Value element = tensor::ExtractOp::create(b, l, data, dataIndices);
          linalg::YieldOp::create(b, l, element);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct PadLowering : OpConversionPattern<PadOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(PadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    int64_t rank = inputType.getRank();
    ArrayRef<int64_t> pads = op.getPads();
    StringRef mode = op.getMode();
    if (mode != "constant" && inputType.getNumElements() == 0 &&
        type.getNumElements() != 0)
      return op.emitOpError("cannot ") << mode << "-pad an empty tensor";
    Type elementType = type.getElementType();
    double padValue = op.getValueAttr().getValueAsDouble();
    Value result = createIndexedGeneric(
        rewriter, loc, type, [&](OpBuilder &b, Location l, ValueRange ivs) {
          SmallVector<Value> indices;
          Value inside;
          for (int64_t d = 0; d < rank; ++d) {
            int64_t size = inputType.getDimSize(d);
            Value src = arith::SubIOp::create(
                b, l, ivs[d], createIndexConstant(b, l, pads[d]));
            if (mode == "reflect" && size > 1) {
              // Fold -i to i and (size-1)+i to (size-1)-i.
              Value zero = createIndexConstant(b, l, 0);
              Value neg = arith::SubIOp::create(b, l, zero, src);
              src = arith::MaxSIOp::create(b, l, src, neg);
              Value twice = createIndexConstant(b, l, 2 * (size - 1));
              Value mirrored = arith::SubIOp::create(b, l, twice, src);
              src = arith::MinSIOp::create(b, l, src, mirrored);
            } else if (mode == "constant") {
              Value geZero =
                  arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, src,
                                        createIndexConstant(b, l, 0));
              Value ltSize =
                  arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, src,
                                        createIndexConstant(b, l, size));
              Value in = arith::AndIOp::create(b, l, geZero, ltSize);
              inside = inside ? arith::AndIOp::create(b, l, inside, in) : in;
            }
            indices.push_back(clampIndex(b, l, src, size));
          }
          if (inputType.getNumElements() == 0)
            return createScalarConstant(b, l, elementType, padValue);
          Value element = tensor::ExtractOp::create(b, l, input, indices);
          if (!inside)
            return element;
          Value fill = createScalarConstant(b, l, elementType, padValue);
          return arith::SelectOp::create(b, l, inside, element, fill)
              .getResult();
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void lowering::populateIndexingPatterns(TypeConverter &typeConverter,
                                        RewritePatternSet &patterns) {
  patterns.add<SliceLowering, GatherLowering, PadLowering>(
      typeConverter, patterns.getContext());
}

} // namespace sparq
