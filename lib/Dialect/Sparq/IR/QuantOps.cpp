//===- QuantOps.cpp - Type inference of the quantization ops --------------===//
//
// Result-type inference (and with it the verification) of sparq's
// quantization ops: element types of the quantized storage, scales and zero
// points, and where a scale or zero point may be per-tensor (one element) or
// 1-D along a dim (per-axis, per-column, per output channel).
//
//===----------------------------------------------------------------------===//

#include "ShapeInference.h"

#include "mlir/IR/Diagnostics.h"

using namespace mlir;
using namespace sparq;
using sparq::detail::shapeStr;

static constexpr int64_t kDyn = ShapedType::kDynamic;

static RankedTensorType rankedType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// An integer type of one of `widths` bits (signless or unsigned).
static bool isIntegerOfWidth(Type type, ArrayRef<unsigned> widths) {
  auto intType = dyn_cast<IntegerType>(type);
  return intType && !intType.isSigned() &&
         llvm::is_contained(widths, intType.getWidth());
}

/// The small float storage types ONNX quantizes to (float8, float4).
static bool isFloat8Storage(Type type) {
  return isa<Float8E4M3FNType, Float8E5M2Type, Float4E2M1FNType>(type);
}

static bool isPerTensor(RankedTensorType type) {
  return type.getRank() <= 1 && type.hasStaticShape() &&
         type.getNumElements() == 1;
}

/// Checks that `param` (named `what`) holds one element or, when `dim` is
/// given, is 1-D with as many elements as `dim` (a dim of size `size`,
/// described by `dimWhat`).
static LogicalResult checkParamShape(std::optional<Location> loc, Value param,
                                     StringRef what,
                                     std::optional<int64_t> size,
                                     StringRef dimWhat) {
  auto type = rankedType(param);
  if (isPerTensor(type))
    return success();
  if (!size)
    return emitOptionalError(loc, what, " must hold one element, got shape ",
                             shapeStr(type.getShape()));
  if (type.getRank() != 1 || (type.getDimSize(0) != kDyn && *size != kDyn &&
                              type.getDimSize(0) != *size))
    return emitOptionalError(loc, what, " must hold one element or have shape ",
                             shapeStr({*size}), " (one per ", dimWhat,
                             "), got ", shapeStr(type.getShape()));
  return success();
}

/// "8 or 16", "4, 8 or 16".
static std::string widthsStr(ArrayRef<unsigned> widths) {
  std::string text;
  for (auto [i, w] : llvm::enumerate(widths)) {
    if (i)
      text += i + 1 == widths.size() ? " or " : ", ";
    text += std::to_string(w);
  }
  return text;
}

/// A scale and zero point pair: float scale, integer zero point of one of
/// `widths` bits, compatible shapes (checked by checkParamShape each).
static LogicalResult checkScaleAndZeroPoint(
    std::optional<Location> loc, Value scale, Value zeroPoint, StringRef prefix,
    ArrayRef<unsigned> widths, std::optional<int64_t> size, StringRef dimWhat) {
  std::string scaleName = (prefix + "scale").str();
  std::string zpName = (prefix + "zero_point").str();
  if (!isa<FloatType>(rankedType(scale).getElementType()))
    return emitOptionalError(loc, scaleName, " must be a float tensor");
  Type zpElement = rankedType(zeroPoint).getElementType();
  if (!isIntegerOfWidth(zpElement, widths))
    return emitOptionalError(loc, zpName, " must be an integer tensor of ",
                             widthsStr(widths), " bits, got ", zpElement);
  if (failed(checkParamShape(loc, scale, scaleName, size, dimWhat)) ||
      failed(checkParamShape(loc, zeroPoint, zpName, size, dimWhat)))
    return failure();
  auto s = rankedType(scale), z = rankedType(zeroPoint);
  if (!isPerTensor(s) && isPerTensor(z) != isPerTensor(s))
    return emitOptionalError(loc, scaleName, " and ", zpName,
                             " must both be per-tensor or both per-axis");
  return success();
}

/// The size of dim `axis` of `type` when `scale` is not per-tensor; checks
/// the axis.
static FailureOr<std::optional<int64_t>> axisSize(std::optional<Location> loc,
                                                  RankedTensorType type,
                                                  Value scale, int64_t axis) {
  if (isPerTensor(rankedType(scale)))
    return std::optional<int64_t>();
  if (axis < 0 || axis >= type.getRank())
    return emitOptionalError(loc, "axis ", axis, " is out of range for a rank-",
                             type.getRank(), " input");
  return std::optional<int64_t>(type.getDimSize(axis));
}

/// Checks that `zeroPoint` has the element type of the quantized `operand`.
static LogicalResult checkZeroPointType(std::optional<Location> loc,
                                        Value operand, Value zeroPoint,
                                        StringRef what) {
  Type element = rankedType(operand).getElementType();
  if (rankedType(zeroPoint).getElementType() != element)
    return emitOptionalError(loc, what,
                             "zero_point must have the element type ", element,
                             " of ", what.drop_back());
  return success();
}

static LogicalResult checkQuantizedOperand(std::optional<Location> loc,
                                           Value operand, StringRef what) {
  Type element = rankedType(operand).getElementType();
  if (!isIntegerOfWidth(element, {8}))
    return emitOptionalError(loc, what,
                             " must be an 8-bit integer tensor, got ", element);
  return success();
}

/// Checks the scale and zero point of a quantize_linear / dequantize_linear
/// on `x`: float scale, `zeroPoint` of a quantized storage type (integers of
/// `widths` bits, or float8), and per-tensor, per-axis or (block_size > 0)
/// blocked shapes.
static LogicalResult checkLinearQuantParams(std::optional<Location> loc,
                                            RankedTensorType x, Value scale,
                                            Value zeroPoint, int64_t axis,
                                            int64_t blockSize,
                                            ArrayRef<unsigned> widths) {
  if (blockSize < 0)
    return emitOptionalError(loc, "block_size must be non-negative, got ",
                             blockSize);
  Type zpElement = rankedType(zeroPoint).getElementType();
  if (!isFloat8Storage(zpElement) && !isIntegerOfWidth(zpElement, widths))
    return emitOptionalError(loc, "zero_point must be an integer tensor of ",
                             widthsStr(widths),
                             " bits or a float8/float4 (f8E4M3FN, f8E5M2, "
                             "f4E2M1FN) tensor, "
                             "got ",
                             zpElement);
  if (!isa<FloatType>(rankedType(scale).getElementType()))
    return emitOptionalError(loc, "scale must be a float tensor");
  if (blockSize == 0) {
    FailureOr<std::optional<int64_t>> size = axisSize(loc, x, scale, axis);
    if (failed(size) ||
        failed(checkParamShape(loc, scale, "scale", *size,
                               "element along the axis")) ||
        failed(checkParamShape(loc, zeroPoint, "zero_point", *size,
                               "element along the axis")))
      return failure();
    auto s = rankedType(scale), z = rankedType(zeroPoint);
    if (!isPerTensor(s) && isPerTensor(z) != isPerTensor(s))
      return emitOptionalError(
          loc, "scale and zero_point must both be per-tensor or both per-axis");
    return success();
  }
  // Blocked: the parameters have the input's rank; the axis dim holds one
  // entry per block, the others match the input.
  if (axis < 0 || axis >= x.getRank())
    return emitOptionalError(loc, "axis ", axis, " is out of range for a rank-",
                             x.getRank(), " input");
  auto s = rankedType(scale);
  SmallVector<int64_t> expected(x.getShape());
  if (expected[axis] != kDyn)
    expected[axis] = llvm::divideCeil(expected[axis], blockSize);
  auto compatible = [&](RankedTensorType t) {
    if (t.getRank() != x.getRank())
      return false;
    for (auto [d, e] : llvm::zip(t.getShape(), expected))
      if (d != kDyn && e != kDyn && d != e)
        return false;
    return true;
  };
  if (!compatible(s))
    return emitOptionalError(
        loc, "blocked scale must have shape ", shapeStr(expected),
        " (the input's, with ceil(d / ", blockSize, ") along axis ", axis,
        "), got ", shapeStr(s.getShape()));
  if (rankedType(zeroPoint).getShape() != s.getShape())
    return emitOptionalError(loc,
                             "blocked zero_point must have the scale's "
                             "shape ",
                             shapeStr(s.getShape()), ", got ",
                             shapeStr(rankedType(zeroPoint).getShape()));
  return success();
}

LogicalResult sparq::inferQuantizeLinear(std::optional<Location> loc,
                                         QuantizeLinearOp::Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto x = rankedType(adaptor.getInput());
  if (!isa<FloatType>(x.getElementType()))
    return emitOptionalError(loc, "input must be a float tensor");
  if (rankedType(adaptor.getScale()).getElementType() != x.getElementType())
    return emitOptionalError(loc, "scale must have the input's element type");
  if (failed(checkLinearQuantParams(loc, x, adaptor.getScale(),
                                    adaptor.getZeroPoint(), adaptor.getAxis(),
                                    adaptor.getBlockSize(), {2, 4, 8, 16})))
    return failure();
  types.push_back(RankedTensorType::get(
      x.getShape(), rankedType(adaptor.getZeroPoint()).getElementType()));
  return success();
}

LogicalResult sparq::inferDequantizeLinear(std::optional<Location> loc,
                                           DequantizeLinearOp::Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  auto x = rankedType(adaptor.getInput());
  if (!isFloat8Storage(x.getElementType()) &&
      !isIntegerOfWidth(x.getElementType(), {2, 4, 8, 16, 32}))
    return emitOptionalError(loc,
                             "input must be a 2-, 4-, 8-, 16- or 32-bit "
                             "integer or a float8/float4 tensor, got ",
                             x.getElementType());
  if (failed(checkLinearQuantParams(
          loc, x, adaptor.getScale(), adaptor.getZeroPoint(), adaptor.getAxis(),
          adaptor.getBlockSize(), {2, 4, 8, 16, 32})) ||
      failed(checkZeroPointType(loc, adaptor.getInput(), adaptor.getZeroPoint(),
                                "input_")))
    return failure();
  types.push_back(RankedTensorType::get(
      x.getShape(), rankedType(adaptor.getScale()).getElementType()));
  return success();
}

LogicalResult
sparq::inferDynamicQuantizeLinear(std::optional<Location> loc,
                                  DynamicQuantizeLinearOp::Adaptor adaptor,
                                  SmallVectorImpl<Type> &types) {
  auto x = rankedType(adaptor.getInput());
  if (!x.getElementType().isF32())
    return emitOptionalError(loc, "input must be an f32 tensor");
  MLIRContext *ctx = x.getContext();
  Type u8 = IntegerType::get(ctx, 8, IntegerType::Unsigned);
  types.push_back(RankedTensorType::get(x.getShape(), u8));
  types.push_back(RankedTensorType::get({}, x.getElementType()));
  types.push_back(RankedTensorType::get({}, u8));
  return success();
}

LogicalResult sparq::inferMatMulInteger(std::optional<Location> loc,
                                        MatMulIntegerOp::Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  auto lhs = rankedType(adaptor.getLhs());
  auto rhs = rankedType(adaptor.getRhs());
  SmallVector<int64_t> shape;
  if (failed(checkQuantizedOperand(loc, adaptor.getLhs(), "lhs")) ||
      failed(checkQuantizedOperand(loc, adaptor.getRhs(), "rhs")) ||
      failed(checkZeroPointType(loc, adaptor.getLhs(),
                                adaptor.getLhsZeroPoint(), "lhs_")) ||
      failed(checkZeroPointType(loc, adaptor.getRhs(),
                                adaptor.getRhsZeroPoint(), "rhs_")) ||
      failed(detail::inferMatMulShapes(loc, lhs, rhs, false, shape)))
    return failure();
  std::optional<int64_t> columns;
  if (rhs.getRank() >= 2)
    columns = rhs.getShape().back();
  if (failed(checkParamShape(loc, adaptor.getLhsZeroPoint(), "lhs_zero_point",
                             std::nullopt, "")) ||
      failed(checkParamShape(loc, adaptor.getRhsZeroPoint(), "rhs_zero_point",
                             columns, "column of rhs")))
    return failure();
  types.push_back(
      RankedTensorType::get(shape, IntegerType::get(lhs.getContext(), 32)));
  return success();
}

LogicalResult sparq::inferConvInteger(std::optional<Location> loc,
                                      ConvIntegerOp::Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  SmallVector<int64_t> shape;
  if (failed(checkQuantizedOperand(loc, adaptor.getInput(), "input")) ||
      failed(checkQuantizedOperand(loc, adaptor.getWeight(), "weight")) ||
      failed(checkZeroPointType(loc, adaptor.getInput(),
                                adaptor.getInputZeroPoint(), "input_")) ||
      failed(checkZeroPointType(loc, adaptor.getWeight(),
                                adaptor.getWeightZeroPoint(), "weight_")) ||
      failed(detail::inferConvShape(
          loc, adaptor.getInput(), adaptor.getWeight(), Value(),
          adaptor.getStrides(), adaptor.getPads(), adaptor.getDilations(),
          adaptor.getGroup(), shape)))
    return failure();
  int64_t channels = rankedType(adaptor.getWeight()).getDimSize(0);
  if (failed(checkParamShape(loc, adaptor.getInputZeroPoint(),
                             "input_zero_point", std::nullopt, "")) ||
      failed(checkParamShape(loc, adaptor.getWeightZeroPoint(),
                             "weight_zero_point", channels, "output channel")))
    return failure();
  types.push_back(RankedTensorType::get(
      shape, IntegerType::get(adaptor.getInput().getContext(), 32)));
  return success();
}

/// The requantized result's parameters: per-tensor, a float scale of the
/// operands' scale type and an 8-bit zero point that sets the result type.
static FailureOr<Type> checkRequantization(std::optional<Location> loc,
                                           Value operandScale, Value scale,
                                           Value zeroPoint) {
  if (failed(checkScaleAndZeroPoint(loc, scale, zeroPoint, "result_", {8},
                                    std::nullopt, "")))
    return failure();
  if (rankedType(scale).getElementType() !=
      rankedType(operandScale).getElementType())
    return emitOptionalError(loc, "all scales must have one element type");
  return rankedType(zeroPoint).getElementType();
}

/// The result of a QLinear op: both input scales share one element type,
/// the result parameters pass checkRequantization, and the result has
/// `shape` with the result zero point's element type.
static LogicalResult inferRequantizedResult(std::optional<Location> loc,
                                            Value lhsScale, Value rhsScale,
                                            Value resultScale,
                                            Value resultZeroPoint,
                                            ArrayRef<int64_t> shape,
                                            SmallVectorImpl<Type> &types) {
  if (rankedType(rhsScale).getElementType() !=
      rankedType(lhsScale).getElementType())
    return emitOptionalError(loc, "all scales must have one element type");
  FailureOr<Type> element =
      checkRequantization(loc, lhsScale, resultScale, resultZeroPoint);
  if (failed(element))
    return failure();
  types.push_back(RankedTensorType::get(shape, *element));
  return success();
}

LogicalResult sparq::inferQLinearMatMul(std::optional<Location> loc,
                                        QLinearMatMulOp::Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  auto lhs = rankedType(adaptor.getLhs());
  auto rhs = rankedType(adaptor.getRhs());
  SmallVector<int64_t> shape;
  if (failed(checkQuantizedOperand(loc, adaptor.getLhs(), "lhs")) ||
      failed(checkQuantizedOperand(loc, adaptor.getRhs(), "rhs")) ||
      failed(detail::inferMatMulShapes(loc, lhs, rhs, false, shape)))
    return failure();
  std::optional<int64_t> columns;
  if (rhs.getRank() >= 2)
    columns = rhs.getShape().back();
  if (failed(checkScaleAndZeroPoint(loc, adaptor.getLhsScale(),
                                    adaptor.getLhsZeroPoint(), "lhs_", {8},
                                    std::nullopt, "")) ||
      failed(checkScaleAndZeroPoint(loc, adaptor.getRhsScale(),
                                    adaptor.getRhsZeroPoint(), "rhs_", {8},
                                    columns, "column of rhs")) ||
      failed(checkZeroPointType(loc, adaptor.getLhs(),
                                adaptor.getLhsZeroPoint(), "lhs_")) ||
      failed(checkZeroPointType(loc, adaptor.getRhs(),
                                adaptor.getRhsZeroPoint(), "rhs_")))
    return failure();
  return inferRequantizedResult(loc, adaptor.getLhsScale(),
                                adaptor.getRhsScale(), adaptor.getResultScale(),
                                adaptor.getResultZeroPoint(), shape, types);
}

LogicalResult sparq::inferQLinearConv(std::optional<Location> loc,
                                      QLinearConvOp::Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  SmallVector<int64_t> shape;
  if (failed(checkQuantizedOperand(loc, adaptor.getInput(), "input")) ||
      failed(checkQuantizedOperand(loc, adaptor.getWeight(), "weight")) ||
      failed(detail::inferConvShape(
          loc, adaptor.getInput(), adaptor.getWeight(), adaptor.getBias(),
          adaptor.getStrides(), adaptor.getPads(), adaptor.getDilations(),
          adaptor.getGroup(), shape)))
    return failure();
  int64_t channels = rankedType(adaptor.getWeight()).getDimSize(0);
  if (failed(checkScaleAndZeroPoint(loc, adaptor.getInputScale(),
                                    adaptor.getInputZeroPoint(), "input_", {8},
                                    std::nullopt, "")) ||
      failed(checkScaleAndZeroPoint(loc, adaptor.getWeightScale(),
                                    adaptor.getWeightZeroPoint(), "weight_",
                                    {8}, channels, "output channel")) ||
      failed(checkZeroPointType(loc, adaptor.getInput(),
                                adaptor.getInputZeroPoint(), "input_")) ||
      failed(checkZeroPointType(loc, adaptor.getWeight(),
                                adaptor.getWeightZeroPoint(), "weight_")))
    return failure();
  if (Value bias = adaptor.getBias())
    if (!rankedType(bias).getElementType().isSignlessInteger(32))
      return emitOptionalError(loc, "bias must be an i32 tensor");
  return inferRequantizedResult(
      loc, adaptor.getInputScale(), adaptor.getWeightScale(),
      adaptor.getResultScale(), adaptor.getResultZeroPoint(), shape, types);
}

LogicalResult sparq::inferMatMulNBits(std::optional<Location> loc,
                                      MatMulNBitsOp::Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  int64_t k = adaptor.getK(), n = adaptor.getN();
  int64_t bits = adaptor.getBits(), blockSize = adaptor.getBlockSize();
  if (k < 1 || n < 1)
    return emitOptionalError(loc, "k and n must be positive, got k = ", k,
                             " and n = ", n);
  if (bits != 4 && bits != 8)
    return emitOptionalError(loc, "bits must be 4 or 8, got ", bits);
  if (blockSize < 2 || blockSize % 2 != 0)
    return emitOptionalError(
        loc, "block_size must be a positive even number, got ", blockSize);
  int64_t blocks = llvm::divideCeil(k, blockSize);
  int64_t blobSize = blockSize * bits / 8;
  int64_t zeroBytes = llvm::divideCeil(blocks * bits, 8);

  auto a = rankedType(adaptor.getA());
  if (!a.getElementType().isF32())
    return emitOptionalError(loc, "a must be an f32 tensor, got ",
                             a.getElementType());
  if (a.getRank() < 1 ||
      (a.getShape().back() != kDyn && a.getShape().back() != k))
    return emitOptionalError(loc, "a must have shape [..., ", k, "] (k = ", k,
                             "), got ", shapeStr(a.getShape()));
  Type u8 = IntegerType::get(a.getContext(), 8, IntegerType::Unsigned);
  auto b = rankedType(adaptor.getB());
  SmallVector<int64_t> bShape = {n, blocks, blobSize};
  if (b.getElementType() != u8 || b.getShape() != ArrayRef(bShape))
    return emitOptionalError(loc, "b must be a ui8 tensor of shape ",
                             shapeStr(bShape),
                             " ([n, ceil(k / block_size), "
                             "block_size * bits / 8]), got ",
                             b);
  // A parameter laid out as [n, perRow] or flat.
  auto checkRows = [&](Value v, StringRef what, Type element,
                       int64_t perRow) -> LogicalResult {
    auto t = rankedType(v);
    bool shapeOk = t.hasStaticShape() &&
                   ((t.getRank() == 2 && t.getDimSize(0) == n &&
                     t.getDimSize(1) == perRow) ||
                    (t.getRank() == 1 && t.getDimSize(0) == n * perRow));
    if (t.getElementType() != element || !shapeOk)
      return emitOptionalError(loc, what, " must be a ", element,
                               " tensor of shape ", shapeStr({n, perRow}),
                               " or ", shapeStr({n * perRow}), ", got ", t);
    return success();
  };
  if (failed(
          checkRows(adaptor.getScales(), "scales", a.getElementType(), blocks)))
    return failure();
  if (Value zp = adaptor.getZeroPoints())
    if (failed(checkRows(zp, "zero_points", u8, zeroBytes)))
      return failure();
  if (Value bias = adaptor.getBias()) {
    auto t = rankedType(bias);
    if (t.getElementType() != a.getElementType() || t.getRank() != 1 ||
        t.getDimSize(0) != n)
      return emitOptionalError(loc, "bias must be an f32 tensor of shape ",
                               shapeStr({n}), ", got ", t);
  }
  SmallVector<int64_t> shape(a.getShape());
  shape.back() = n;
  types.push_back(RankedTensorType::get(shape, a.getElementType()));
  return success();
}
