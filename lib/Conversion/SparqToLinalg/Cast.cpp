//===- Cast.cpp - Lower sparq constants, casts and shapes -----------------===//
//
// `sparq.constant` becomes `arith.constant` (resource-backed weights stay
// resources, reinterpreted as signless when they were unsigned),
// `sparq.cast` becomes an elementwise linalg.generic with ONNX Cast
// semantics, and `sparq.shape` of a static tensor becomes a constant.
//
//===----------------------------------------------------------------------===//

#include "Patterns.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "sparq/Dialect/Sparq/IR/Sparq.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace sparq::lowering;

namespace sparq {
namespace {

struct ConstantLowering : OpConversionPattern<ConstantOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ConstantOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ElementsAttr value = op.getValue();
    auto type = convertTensorType(*getTypeConverter(), value.getType());
    TypedAttr converted;
    if (type == value.getType()) {
      converted = cast<TypedAttr>(value);
    } else if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
      converted = dense.bitcast(type.getElementType());
    } else if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
      // Share the blob handle: the weights are never copied.
      converted = DenseResourceElementsAttr::get(type, resource.getRawHandle());
    } else {
      return op.emitOpError("unsupported constant attribute kind for "
                            "unsigned element type ")
             << value.getElementType();
    }
    // Weights become 1-d globals viewed with their shape: LLVM then holds
    // each as one flat data array instead of nested arrays of constants,
    // which made code generation of large models slow.
    auto resource = dyn_cast<DenseResourceElementsAttr>(converted);
    if (resource && type.getRank() > 1) {
      auto flatType =
          RankedTensorType::get({type.getNumElements()}, type.getElementType());
      Value flat = arith::ConstantOp::create(
          rewriter, op.getLoc(), flatType,
          DenseResourceElementsAttr::get(flatType, resource.getRawHandle()));
      SmallVector<ReassociationIndices> all(1);
      for (int64_t d = 0; d < type.getRank(); ++d)
        all[0].push_back(d);
      rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, type, flat, all);
      return success();
    }
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, type, converted);
    return success();
  }
};

struct CastLowering : OpConversionPattern<CastOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(CastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type srcType = elementTypeOf(op.getInput().getType());
    Type dstType = elementTypeOf(op.getType());
    auto isSupported = [](Type t) { return isa<FloatType, IntegerType>(t); };
    if (!isSupported(srcType) || !isSupported(dstType))
      return op.emitOpError("cast from ")
             << srcType << " to " << dstType << " is not supported";
    auto resultType = convertTensorType(*getTypeConverter(), op.getType());
    Value result = createBroadcastGeneric(
        rewriter, op.getLoc(), resultType, adaptor.getInput(),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          return castScalar(b, loc, args[0], srcType, dstType);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ShapeLowering : OpConversionPattern<ShapeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ShapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    int64_t rank = inputType.getRank();
    int64_t start = op.getStart();
    int64_t end = op.getEnd() ? *op.getEnd() : rank;
    if (start < 0)
      start += rank;
    if (end < 0)
      end += rank;
    start = std::clamp<int64_t>(start, 0, rank);
    end = std::clamp<int64_t>(end, start, rank);
    SmallVector<int64_t> dims(inputType.getShape().slice(start, end - start));
    auto type = cast<RankedTensorType>(op.getType());
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        op, type, DenseIntElementsAttr::get(type, dims));
    return success();
  }
};

} // namespace

void lowering::populateCastPatterns(TypeConverter &typeConverter,
                                    RewritePatternSet &patterns) {
  patterns.add<ConstantLowering, CastLowering, ShapeLowering>(
      typeConverter, patterns.getContext());
}

} // namespace sparq
