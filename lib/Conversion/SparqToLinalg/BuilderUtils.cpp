//===- BuilderUtils.cpp - Helpers shared by the sparq lowering ------------===//
//
// Builder helpers used by every op family of the sparq-to-linalg lowering:
// broadcast indexing maps, empty/filled tensors, scalar constants and
// identities, ONNX element casts, f16/bf16 promotion and static reshapes.
//
//===----------------------------------------------------------------------===//

#include "Patterns.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"

using namespace mlir;

namespace sparq {
namespace lowering {

Type elementTypeOf(Type type) {
  if (auto shaped = dyn_cast<ShapedType>(type))
    return shaped.getElementType();
  return type;
}

bool isUnsignedInteger(Type type) {
  auto intType = dyn_cast<IntegerType>(elementTypeOf(type));
  return intType && intType.isUnsigned();
}

bool isHalfFloat(Type type) { return type.isF16() || type.isBF16(); }

RankedTensorType convertTensorType(const TypeConverter &converter, Type type) {
  return cast<RankedTensorType>(converter.convertType(type));
}

Value createEmptyTensor(OpBuilder &b, Location loc, RankedTensorType type) {
  return tensor::EmptyOp::create(b, loc, type.getShape(),
                                 type.getElementType());
}

Value createFilledTensor(OpBuilder &b, Location loc, RankedTensorType type,
                         Value value) {
  Value empty = createEmptyTensor(b, loc, type);
  return linalg::FillOp::create(b, loc, ValueRange{value}, ValueRange{empty})
      .getResult(0);
}

AffineMap getBroadcastMap(ArrayRef<int64_t> in, ArrayRef<int64_t> out,
                          MLIRContext *ctx) {
  int64_t lead = (int64_t)out.size() - (int64_t)in.size();
  assert(lead >= 0 && "operand has a higher rank than the result");
  SmallVector<AffineExpr> exprs;
  for (auto [d, size] : llvm::enumerate(in)) {
    int64_t outDim = lead + (int64_t)d;
    if (size == 1 && out[outDim] != 1)
      exprs.push_back(getAffineConstantExpr(0, ctx));
    else
      exprs.push_back(getAffineDimExpr(outDim, ctx));
  }
  return AffineMap::get(out.size(), 0, exprs, ctx);
}

SmallVector<utils::IteratorType> getParallelIterators(unsigned n) {
  return SmallVector<utils::IteratorType>(n, utils::IteratorType::parallel);
}

Value createScalarConstant(OpBuilder &b, Location loc, Type type,
                           double value) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(floatType, value));
  if (type.isIndex())
    return arith::ConstantIndexOp::create(b, loc, (int64_t)value);
  auto intType = cast<IntegerType>(type);
  APInt bits(intType.getWidth(), (uint64_t)(int64_t)value, /*isSigned=*/true,
             /*implicitTrunc=*/true);
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(intType, bits));
}

Value createIndexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

static Value createExtremeValue(OpBuilder &b, Location loc, Type type,
                                bool isUnsigned, bool lowest) {
  if (auto floatType = dyn_cast<FloatType>(type)) {
    APFloat inf = APFloat::getInf(floatType.getFloatSemantics(), lowest);
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(floatType, inf));
  }
  auto intType = cast<IntegerType>(type);
  unsigned width = intType.getWidth();
  APInt bits;
  if (width == 1)
    bits = lowest ? APInt(1, 0) : APInt(1, 1);
  else if (isUnsigned)
    bits = lowest ? APInt::getMinValue(width) : APInt::getMaxValue(width);
  else
    bits = lowest ? APInt::getSignedMinValue(width)
                  : APInt::getSignedMaxValue(width);
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(intType, bits));
}

Value createLowestValue(OpBuilder &b, Location loc, Type type,
                        bool isUnsigned) {
  return createExtremeValue(b, loc, type, isUnsigned, /*lowest=*/true);
}

Value createHighestValue(OpBuilder &b, Location loc, Type type,
                         bool isUnsigned) {
  return createExtremeValue(b, loc, type, isUnsigned, /*lowest=*/false);
}

static Type signless(Type type) {
  if (auto intType = dyn_cast<IntegerType>(type))
    return IntegerType::get(type.getContext(), intType.getWidth());
  return type;
}

Value castScalar(OpBuilder &b, Location loc, Value value, Type srcType,
                 Type dstType) {
  Type src = signless(srcType), dst = signless(dstType);
  if (src == dst)
    return value;
  bool srcUnsigned = isUnsignedInteger(srcType);
  bool dstUnsigned = isUnsignedInteger(dstType);
  auto srcFloat = dyn_cast<FloatType>(src);
  auto dstFloat = dyn_cast<FloatType>(dst);
  // To bool: value != 0.
  if (dst.isInteger(1)) {
    if (srcFloat) {
      Value zero = createScalarConstant(b, loc, src, 0.0);
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, value,
                                   zero);
    }
    Value zero = createScalarConstant(b, loc, src, 0.0);
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, value, zero);
  }
  if (srcFloat && dstFloat) {
    if (srcFloat.getWidth() < dstFloat.getWidth())
      return arith::ExtFOp::create(b, loc, dst, value);
    if (srcFloat.getWidth() > dstFloat.getWidth())
      return arith::TruncFOp::create(b, loc, dst, value);
    // f16 <-> bf16: go through f32.
    Value wide = arith::ExtFOp::create(b, loc, b.getF32Type(), value);
    return arith::TruncFOp::create(b, loc, dst, wide);
  }
  if (srcFloat) {
    if (dstUnsigned)
      return arith::FPToUIOp::create(b, loc, dst, value);
    return arith::FPToSIOp::create(b, loc, dst, value);
  }
  // Integer (or bool) source; bool counts as unsigned (0/1).
  bool fromUnsigned = srcUnsigned || src.isInteger(1);
  if (dstFloat) {
    if (fromUnsigned)
      return arith::UIToFPOp::create(b, loc, dst, value);
    return arith::SIToFPOp::create(b, loc, dst, value);
  }
  unsigned srcWidth = src.getIntOrFloatBitWidth();
  unsigned dstWidth = dst.getIntOrFloatBitWidth();
  if (srcWidth < dstWidth) {
    if (fromUnsigned)
      return arith::ExtUIOp::create(b, loc, dst, value);
    return arith::ExtSIOp::create(b, loc, dst, value);
  }
  if (srcWidth > dstWidth)
    return arith::TruncIOp::create(b, loc, dst, value);
  return value;
}

Value promoteHalf(OpBuilder &b, Location loc, Value value) {
  if (!isHalfFloat(value.getType()))
    return value;
  return arith::ExtFOp::create(b, loc, b.getF32Type(), value);
}

Value demoteHalf(OpBuilder &b, Location loc, Value value, Type type) {
  if (!isHalfFloat(type) || value.getType() == type)
    return value;
  return arith::TruncFOp::create(b, loc, type, value);
}

Value createMax(OpBuilder &b, Location loc, Value lhs, Value rhs,
                bool isUnsigned) {
  if (isa<FloatType>(lhs.getType()))
    return arith::MaximumFOp::create(b, loc, lhs, rhs);
  if (isUnsigned || lhs.getType().isInteger(1))
    return arith::MaxUIOp::create(b, loc, lhs, rhs);
  return arith::MaxSIOp::create(b, loc, lhs, rhs);
}

Value createMin(OpBuilder &b, Location loc, Value lhs, Value rhs,
                bool isUnsigned) {
  if (isa<FloatType>(lhs.getType()))
    return arith::MinimumFOp::create(b, loc, lhs, rhs);
  if (isUnsigned || lhs.getType().isInteger(1))
    return arith::MinUIOp::create(b, loc, lhs, rhs);
  return arith::MinSIOp::create(b, loc, lhs, rhs);
}

Value createBroadcastGeneric(
    OpBuilder &b, Location loc, RankedTensorType resultType, ValueRange inputs,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  MLIRContext *ctx = b.getContext();
  ArrayRef<int64_t> outShape = resultType.getShape();
  SmallVector<AffineMap> maps;
  for (Value input : inputs)
    maps.push_back(getBroadcastMap(
        cast<RankedTensorType>(input.getType()).getShape(), outShape, ctx));
  maps.push_back(AffineMap::getMultiDimIdentityMap(outShape.size(), ctx));
  Value init = createEmptyTensor(b, loc, resultType);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps,
      getParallelIterators(outShape.size()), /*doc=*/"", /*libraryCall=*/"",
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        Value result = body(nested, nestedLoc, args.drop_back());
        linalg::YieldOp::create(nested, nestedLoc, result);
      });
  return generic.getResult(0);
}

Value createIndexedGeneric(
    OpBuilder &b, Location loc, RankedTensorType resultType,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  MLIRContext *ctx = b.getContext();
  unsigned rank = resultType.getRank();
  Value init = createEmptyTensor(b, loc, resultType);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, ValueRange{}, ValueRange{init},
      {AffineMap::getMultiDimIdentityMap(rank, ctx)},
      getParallelIterators(rank), /*doc=*/"", /*libraryCall=*/"",
      [&](OpBuilder &nested, Location nestedLoc, ValueRange) {
        SmallVector<Value> indices;
        for (unsigned d = 0; d < rank; ++d)
          indices.push_back(linalg::IndexOp::create(nested, nestedLoc, d));
        Value result = body(nested, nestedLoc, indices);
        linalg::YieldOp::create(nested, nestedLoc, result);
      });
  return generic.getResult(0);
}

Value padTensor(OpBuilder &b, Location loc, Value value, ArrayRef<int64_t> low,
                ArrayRef<int64_t> high, Value padValue) {
  if (llvm::all_of(low, [](int64_t p) { return p == 0; }) &&
      llvm::all_of(high, [](int64_t p) { return p == 0; }))
    return value;
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < type.getRank(); ++d)
    shape.push_back(type.getDimSize(d) + low[d] + high[d]);
  // A gathering generic rather than tensor.pad: tensor.pad bufferizes to a
  // copy into a strided subview, which needs the memrefCopy runtime helper.
  auto padded = RankedTensorType::get(shape, type.getElementType());
  return createIndexedGeneric(
      b, loc, padded, [&](OpBuilder &nb, Location nl, ValueRange ivs) {
        SmallVector<Value> indices;
        Value inside;
        Value zero = createIndexConstant(nb, nl, 0);
        for (int64_t d = 0; d < type.getRank(); ++d) {
          int64_t size = type.getDimSize(d);
          if (low[d] == 0 && high[d] == 0) {
            indices.push_back(ivs[d]);
            continue;
          }
          Value src = arith::SubIOp::create(
              nb, nl, ivs[d], createIndexConstant(nb, nl, low[d]));
          Value geZero = arith::CmpIOp::create(
              nb, nl, arith::CmpIPredicate::sge, src, zero);
          Value ltSize =
              arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt, src,
                                    createIndexConstant(nb, nl, size));
          Value in = arith::AndIOp::create(nb, nl, geZero, ltSize);
          inside = inside ? arith::AndIOp::create(nb, nl, inside, in) : in;
          Value lo = arith::MaxSIOp::create(nb, nl, src, zero);
          indices.push_back(arith::MinSIOp::create(
              nb, nl, lo,
              createIndexConstant(nb, nl, std::max<int64_t>(size - 1, 0))));
        }
        if (type.getNumElements() == 0)
          return padValue;
        Value element = tensor::ExtractOp::create(nb, nl, value, indices);
        if (!inside)
          return element;
        return arith::SelectOp::create(nb, nl, inside, element, padValue)
            .getResult();
      });
}

Value reshapeTensor(OpBuilder &b, Location loc, Value value,
                    RankedTensorType type) {
  auto srcType = cast<RankedTensorType>(value.getType());
  if (srcType == type)
    return value;
  int64_t srcRank = srcType.getRank(), dstRank = type.getRank();
  // Rank 0 on either side: every dim of the other side is 1.
  if (srcRank == 0)
    return tensor::ExpandShapeOp::create(b, loc, type, value,
                                         ArrayRef<ReassociationIndices>{});
  if (dstRank == 0)
    return tensor::CollapseShapeOp::create(b, loc, type, value,
                                           ArrayRef<ReassociationIndices>{});
  if (srcRank > dstRank) {
    if (auto reassoc = getReassociationIndicesForCollapse(srcType.getShape(),
                                                          type.getShape()))
      return tensor::CollapseShapeOp::create(b, loc, type, value, *reassoc);
  } else if (srcRank < dstRank) {
    if (auto reassoc = getReassociationIndicesForCollapse(type.getShape(),
                                                          srcType.getShape()))
      return tensor::ExpandShapeOp::create(b, loc, type, value, *reassoc);
  }
  // General case: through a 1-D tensor.
  Value flat = value;
  if (srcRank != 1) {
    ReassociationIndices all;
    for (int64_t d = 0; d < srcRank; ++d)
      all.push_back(d);
    auto flatType = RankedTensorType::get({srcType.getNumElements()},
                                          srcType.getElementType());
    flat = tensor::CollapseShapeOp::create(b, loc, flatType, value,
                                           ArrayRef<ReassociationIndices>{all});
  }
  if (dstRank == 1)
    return flat;
  ReassociationIndices all;
  for (int64_t d = 0; d < dstRank; ++d)
    all.push_back(d);
  return tensor::ExpandShapeOp::create(b, loc, type, flat,
                                       ArrayRef<ReassociationIndices>{all});
}

} // namespace lowering
} // namespace sparq
