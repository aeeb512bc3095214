//===- Convolution.cpp - Lower sparq.conv to a direct linalg convolution --===//
//
// Plain sparq.conv (1-d, 3-d, non-f32, ... whatever the kernel formation
// left) and sparq.fused_conv on element types the microkernel does not take
// become a zero-padded input, a grouped direct-convolution generic over
// [N, G, K/G, out...] and, when needed, an epilogue generic.
//
//===----------------------------------------------------------------------===//

#include "Patterns.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace sparq::lowering;

namespace sparq {

/// Splits dim `dim` of `value` into [outer, size/outer].
static Value splitDim(OpBuilder &b, Location loc, Value value, int64_t dim,
                      int64_t outer) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[dim] /= outer;
  shape.insert(shape.begin() + dim, outer);
  SmallVector<ReassociationIndices> reassociation;
  for (int64_t d = 0, e = type.getRank(); d < e; ++d) {
    if (d < dim)
      reassociation.push_back({d});
    else if (d == dim)
      reassociation.push_back({d, d + 1});
    else
      reassociation.push_back({d + 1});
  }
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), value,
      reassociation);
}

Value lowering::buildConvolution(OpBuilder &b, Location loc, Value input,
                                 Value weight, ArrayRef<int64_t> strides,
                                 ArrayRef<int64_t> pads,
                                 ArrayRef<int64_t> dilations, int64_t group,
                                 RankedTensorType resultType) {
  MLIRContext *ctx = b.getContext();
  auto inputType = cast<RankedTensorType>(input.getType());
  int64_t spatial = inputType.getRank() - 2;
  Type element = resultType.getElementType();
  Type acc = isHalfFloat(element) ? b.getF32Type() : element;

  SmallVector<int64_t> low = {0, 0}, high = {0, 0};
  llvm::append_range(low, pads.take_front(spatial));
  llvm::append_range(high, pads.drop_front(spatial));
  Value padded = padTensor(b, loc, input, low, high,
                           createScalarConstant(b, loc, element, 0));
  Value groupedInput = splitDim(b, loc, padded, 1, group);
  Value groupedWeight = splitDim(b, loc, weight, 0, group);

  // Loops: n, g, kg, o_1..o_s, c, k_1..k_s.
  int64_t loops = 4 + 2 * spatial;
  auto dim = [&](int64_t d) { return getAffineDimExpr(d, ctx); };
  SmallVector<AffineExpr> inExprs = {dim(0), dim(1), dim(3 + spatial)};
  SmallVector<AffineExpr> wExprs = {dim(1), dim(2), dim(3 + spatial)};
  SmallVector<AffineExpr> outExprs = {dim(0), dim(1), dim(2)};
  for (int64_t i = 0; i < spatial; ++i) {
    AffineExpr o = dim(3 + i), k = dim(4 + spatial + i);
    inExprs.push_back(o * strides[i] + k * dilations[i]);
    wExprs.push_back(k);
    outExprs.push_back(o);
  }
  SmallVector<AffineMap> maps = {AffineMap::get(loops, 0, inExprs, ctx),
                                 AffineMap::get(loops, 0, wExprs, ctx),
                                 AffineMap::get(loops, 0, outExprs, ctx)};
  SmallVector<utils::IteratorType> iterators(3 + spatial,
                                             utils::IteratorType::parallel);
  iterators.append(1 + spatial, utils::IteratorType::reduction);

  SmallVector<int64_t> accShape(resultType.getShape());
  accShape[1] /= group;
  accShape.insert(accShape.begin() + 1, group);
  auto accType = RankedTensorType::get(accShape, acc);
  Value init =
      createFilledTensor(b, loc, accType, createScalarConstant(b, loc, acc, 0));
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{accType}, ValueRange{groupedInput, groupedWeight}, init,
      maps, iterators, "", "",
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value x = promoteHalf(nb, nl, args[0]);
        Value w = promoteHalf(nb, nl, args[1]);
        Value sum;
        if (isa<FloatType>(acc))
          sum = arith::AddFOp::create(nb, nl, args[2],
                                      arith::MulFOp::create(nb, nl, x, w));
        else
          sum = arith::AddIOp::create(nb, nl, args[2],
                                      arith::MulIOp::create(nb, nl, x, w));
        linalg::YieldOp::create(nb, nl, sum);
      });
  SmallVector<ReassociationIndices> reassociation = {{0}, {1, 2}};
  for (int64_t i = 0; i < spatial; ++i)
    reassociation.push_back({3 + i});
  Value result = tensor::CollapseShapeOp::create(
      b, loc, RankedTensorType::get(resultType.getShape(), acc),
      generic.getResult(0), reassociation);
  if (acc != element)
    result = createBroadcastGeneric(
        b, loc, resultType, result,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          return demoteHalf(nb, nl, args[0], element);
        });
  return result;
}

namespace {

struct ConvLowering : OpConversionPattern<ConvOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ConvOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    if (type.getElementType().isInteger(1))
      return op.emitOpError("conv over bool is not supported");
    Value result = buildConvolution(
        rewriter, loc, adaptor.getInput(), adaptor.getWeight(), op.getStrides(),
        op.getPads(), op.getDilations(), op.getGroup(), type);
    if (Value bias = adaptor.getBias())
      result = applyEpilogue(rewriter, loc, result, bias, 1, Value(),
                             Activation::None, 0, 0, type);
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct FusedConvFallback : OpConversionPattern<FusedConvOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(FusedConvOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    Type element = type.getElementType();
    if (element.isF32())
      return rewriter.notifyMatchFailure(op, "f32 goes to the microkernel");
    if (element.isInteger(1) ||
        !supportsActivation(op.getActivation(), element))
      return op.emitOpError("fused activation is not supported on ") << element;
    Location loc = op.getLoc();
    Value conv = buildConvolution(
        rewriter, loc, adaptor.getInput(), adaptor.getWeight(), op.getStrides(),
        op.getPads(), op.getDilations(), op.getGroup(), type);
    Value result = applyEpilogue(rewriter, loc, conv, adaptor.getBias(), 1,
                                 adaptor.getResidual(), op.getActivation(),
                                 op.getActAlphaAttr().getValueAsDouble(),
                                 op.getActBetaAttr().getValueAsDouble(), type);
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void lowering::populateConvolutionPatterns(TypeConverter &typeConverter,
                                           RewritePatternSet &patterns) {
  patterns.add<ConvLowering, FusedConvFallback>(typeConverter,
                                                patterns.getContext());
}

} // namespace sparq
