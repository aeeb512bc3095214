//===- QuantizationOps.cpp - Importers of ONNX's quantized ops ------------===//
//
// QuantizeLinear, DequantizeLinear (opsets 10 to 28; com.microsoft's
// versions share these importers), DynamicQuantizeLinear, MatMulInteger,
// ConvInteger, QLinearMatMul and QLinearConv. Absent zero points become
// constant zeros of the right type; per-axis and blocked parameters get a
// normalized axis; 2-, 4-, 8- and 16-bit integers and float8 e4m3fn/e5m2
// are quantized and dequantized; what sparq cannot compute exactly (int32
// quantization input, other float8/float4 types, a precision attribute
// other than the scale's) is rejected with an error that names the node.
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"

using namespace mlir;
using namespace sparq;
using namespace sparq::onnx_import;

namespace {

bool isPerTensor(Value param) {
  RankedTensorType type = NodeContext::typeOf(param);
  return type.getRank() <= 1 && type.hasStaticShape() &&
         type.getNumElements() == 1;
}

std::string typeName(Type type) {
  std::string name;
  llvm::raw_string_ostream os(name);
  type.print(os);
  return name;
}

Type elementTypeOf(Value v) { return NodeContext::typeOf(v).getElementType(); }

/// float8 e4m3fn/e5m2 and float4 e2m1.
bool isSmallFloat(Type type) {
  return isa<Float8E4M3FNType, Float8E5M2Type, Float4E2M1FNType>(type);
}

/// Fails on 8-bit-only inputs of another type, naming the operand.
LogicalResult checkEightBit(NodeContext &n, Value v, StringRef what) {
  auto type = dyn_cast<IntegerType>(elementTypeOf(v));
  if (!type || type.getWidth() != 8)
    return n.fail(what + " must be int8 or uint8, got " +
                  typeName(elementTypeOf(v)));
  return success();
}

/// The block size of a blocked Q/DQ node (opset 21+; 0 = not blocked).
FailureOr<int64_t> blockSizeOf(NodeContext &n) {
  if (n.isContrib || n.opset < 21)
    return 0;
  FailureOr<int64_t> blockSize = n.intAttr("block_size", 0);
  if (failed(blockSize))
    return failure();
  if (*blockSize < 0)
    return n.fail("block_size must be non-negative, got " + Twine(*blockSize));
  return *blockSize;
}

/// The non-negative axis of a per-axis or blocked scale; the attribute
/// (opset 13+ and com.microsoft, default 1) is only read when the scale is
/// not per-tensor.
FailureOr<int64_t> quantAxis(NodeContext &n, Value x, Value scale,
                             int64_t blockSize) {
  if (blockSize == 0 && isPerTensor(scale))
    return 1;
  if (!n.isContrib && n.opset < 13)
    return n.fail("per-axis quantization needs opset 13 or newer (the scale "
                  "must hold one element)");
  FailureOr<int64_t> axis = n.intAttr("axis", 1);
  if (failed(axis))
    return failure();
  int64_t rank = NodeContext::typeOf(x).getRank();
  FailureOr<int64_t> normalized = n.normalizeAxis(*axis, rank, "axis");
  if (failed(normalized))
    return failure();
  if (blockSize == 0 && NodeContext::typeOf(scale).getRank() != 1)
    return n.fail("a per-axis scale must be 1-D, got rank " +
                  Twine(NodeContext::typeOf(scale).getRank()) +
                  " (a scale of the input's rank needs block_size)");
  return *normalized;
}

/// Quantized storage sparq computes with: 2-, 4-, 8- and 16-bit integers,
/// float8 e4m3fn and e5m2, float4 e2m1.
bool isSupportedStorage(Type type, bool allowInt32) {
  if (isSmallFloat(type))
    return true;
  auto intType = dyn_cast<IntegerType>(type);
  if (!intType)
    return false;
  unsigned w = intType.getWidth();
  return w == 2 || w == 4 || w == 8 || w == 16 || (allowInt32 && w == 32);
}

/// The quantized storage type of QuantizeLinear: the zero point's type, or
/// opset 21's output_dtype, or uint8.
FailureOr<Type> quantizedType(NodeContext &n) {
  MLIRContext *ctx = n.getContext();
  Type type = IntegerType::get(ctx, 8, IntegerType::Unsigned);
  bool fromAttr = false;
  if (!n.isContrib && n.opset >= 21 && n.hasAttr("output_dtype")) {
    FailureOr<int64_t> dtype = n.intAttr("output_dtype", 0);
    if (failed(dtype))
      return failure();
    if (*dtype != 0) {
      Type converted = convertElementType(ctx, *dtype);
      if (!converted || !isSupportedStorage(converted, false))
        return n.fail(
            "output_dtype " + dataTypeName(*dtype) +
            " is unsupported (int2, uint2, int4, uint4, int8, "
            "uint8, int16, uint16, float8e4m3fn, float8e5m2 and float4e2m1 "
            "are)");
      type = converted;
      fromAttr = true;
    }
  }
  if (Value zp = n.input(2)) {
    Type zpType = elementTypeOf(zp);
    if (fromAttr && zpType != type)
      return n.fail("output_dtype differs from the zero point's type");
    type = zpType;
  }
  if (!isSupportedStorage(type, false))
    return n.fail(
        "quantization to " + typeName(type) +
        " is unsupported (int2, uint2, int4, uint4, int8, uint8, "
        "int16, uint16, float8e4m3fn, float8e5m2 and float4e2m1 are)");
  return type;
}

/// Opset 23's precision attribute: only the scale's own precision (the
/// default) is supported.
LogicalResult checkPrecision(NodeContext &n, Type scaleType) {
  if (n.isContrib || n.opset < 23 || !n.hasAttr("precision"))
    return success();
  FailureOr<int64_t> precision = n.intAttr("precision", 0);
  if (failed(precision))
    return failure();
  if (*precision != 0 &&
      convertElementType(n.getContext(), *precision) != scaleType)
    return n.fail("precision " + dataTypeName(*precision) +
                  " differs from the scale's type, which is unsupported");
  return success();
}

/// A cast of `v` to element type `to` (no-op when it already has it).
FailureOr<Value> castTo(NodeContext &n, Value v, Type to) {
  if (elementTypeOf(v) == to)
    return v;
  return n.create<CastOp>(v, TypeAttr::get(to));
}

} // namespace

Value sparq::onnx_import::zeroPointOrZero(NodeContext &n, unsigned i,
                                          Type elementType,
                                          ArrayRef<int64_t> shape) {
  if (Value zp = n.paramInput(i))
    return zp;
  auto type = RankedTensorType::get(shape, elementType);
  if (isa<FloatType>(elementType))
    return n.constant(
        DenseElementsAttr::get(type, FloatAttr::get(elementType, 0.0)));
  return n.constant(
      DenseElementsAttr::get(type, n.builder.getIntegerAttr(elementType, 0)));
}

LogicalResult sparq::onnx_import::importQuantizeLinear(NodeContext &n) {
  if (failed(n.checkInputs(2, 3)))
    return failure();
  Value x = n.input(0), scale = n.paramInput(1);
  if (!isa<FloatType>(elementTypeOf(x)))
    return n.fail("quantizing a " + typeName(elementTypeOf(x)) +
                  " input is unsupported (float inputs are)");
  if (!isa<FloatType>(elementTypeOf(scale)))
    return n.fail("y_scale must be a float tensor, got " +
                  typeName(elementTypeOf(scale)));
  FailureOr<Type> type = quantizedType(n);
  FailureOr<int64_t> blockSize = blockSizeOf(n);
  if (failed(type) || failed(blockSize) ||
      failed(checkPrecision(n, elementTypeOf(scale))))
    return failure();
  FailureOr<int64_t> axis = quantAxis(n, x, scale, *blockSize);
  if (failed(axis))
    return failure();
  // saturate (opset 19+) only matters for float8.
  bool saturate = true;
  if (!n.isContrib && n.opset >= 19) {
    FailureOr<int64_t> attr = n.intAttr("saturate", 1);
    if (failed(attr))
      return failure();
    saturate = *attr != 0;
  }
  // x and the scale share one type; a scale of another float type (f16
  // scale of an f32 input) is converted exactly as ONNX computes in the
  // scale's precision only for equal types.
  FailureOr<Value> castScale = castTo(n, scale, elementTypeOf(x));
  if (failed(castScale))
    return failure();
  FailureOr<Value> r = n.create<QuantizeLinearOp>(
      x, *castScale,
      zeroPointOrZero(n, 2, *type, NodeContext::typeOf(scale).getShape()),
      n.i64(*axis), n.i64(*blockSize), n.boolean(saturate));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

namespace {

/// True when input `i` is a constant holding only zeros.
bool isConstantZero(NodeContext &n, unsigned i) {
  DenseElementsAttr attr = n.constantInput(i);
  return attr && llvm::all_of(attr.getValues<llvm::APInt>(),
                              [](const llvm::APInt &v) { return v.isZero(); });
}

} // namespace

LogicalResult sparq::onnx_import::importDequantizeLinear(NodeContext &n) {
  if (failed(n.checkInputs(2, 3)))
    return failure();
  Value x = n.input(0), scale = n.paramInput(1);
  Type element = elementTypeOf(x);
  if (!isSupportedStorage(element, /*allowInt32=*/true))
    return n.fail("dequantizing a " + typeName(element) +
                  " input is unsupported (2-, 4-, 8-, 16- and 32-bit "
                  "integers, float8e4m3fn, float8e5m2 and float4e2m1 are)");
  if (!isa<FloatType>(elementTypeOf(scale)))
    return n.fail("x_scale must be a float tensor, got " +
                  typeName(elementTypeOf(scale)));
  if (element.isInteger(32) && n.hasInput(2) && !isConstantZero(n, 2))
    return n.fail("an int32 input needs an absent or constant zero "
                  "x_zero_point");
  if (n.hasInput(2) && elementTypeOf(n.input(2)) != element)
    return n.fail("x_zero_point must have x's type " + typeName(element) +
                  ", got " + typeName(elementTypeOf(n.input(2))));
  FailureOr<int64_t> blockSize = blockSizeOf(n);
  if (failed(blockSize))
    return failure();
  FailureOr<int64_t> axis = quantAxis(n, x, scale, *blockSize);
  if (failed(axis))
    return failure();
  // Opset 23's output_dtype: the result's (and the product's) type.
  if (!n.isContrib && n.opset >= 23 && n.hasAttr("output_dtype")) {
    FailureOr<int64_t> dtype = n.intAttr("output_dtype", 0);
    if (failed(dtype))
      return failure();
    if (*dtype != 0) {
      Type out = convertElementType(n.getContext(), *dtype);
      if (!out || !isa<FloatType>(out) || isSmallFloat(out))
        return n.fail("output_dtype " + dataTypeName(*dtype) +
                      " is unsupported (float, float16 and bfloat16 are)");
      FailureOr<Value> castScale = castTo(n, scale, out);
      if (failed(castScale))
        return failure();
      scale = *castScale;
    }
  }
  FailureOr<Value> r = n.create<DequantizeLinearOp>(
      x, scale,
      zeroPointOrZero(n, 2, element, NodeContext::typeOf(scale).getShape()),
      n.i64(*axis), n.i64(*blockSize));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

namespace {

LogicalResult importDynamicQuantizeLinear(NodeContext &n) {
  if (failed(n.checkInputs(1, 1)))
    return failure();
  Value x = n.input(0);
  if (!elementTypeOf(x).isF32())
    return n.fail("the input must be float32");
  FailureOr<SmallVector<Value>> r =
      n.createMultiResult<DynamicQuantizeLinearOp>(3, x);
  if (failed(r))
    return failure();
  for (auto [i, v] : llvm::enumerate(*r))
    n.setOutput(i, v);
  return success();
}

/// Input `i`, or a per-tensor zero of `operand`'s element type.
Value zeroPointOf(NodeContext &n, unsigned i, Value operand) {
  return zeroPointOrZero(n, i, elementTypeOf(operand), {});
}

LogicalResult importMatMulInteger(NodeContext &n) {
  if (failed(n.checkInputs(2, 4)))
    return failure();
  Value a = n.input(0), b = n.input(1);
  if (failed(checkEightBit(n, a, "A")) || failed(checkEightBit(n, b, "B")))
    return failure();
  if (n.hasInput(2) && !isPerTensor(n.input(2)))
    return n.fail("a per-row a_zero_point is unsupported");
  Value zeroA = zeroPointOf(n, 2, a);
  Value zeroB = zeroPointOf(n, 3, b);
  FailureOr<Value> r = n.create<MatMulIntegerOp>(a, b, zeroA, zeroB);
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importConvInteger(NodeContext &n) {
  if (failed(n.checkInputs(2, 4)))
    return failure();
  Value x = n.input(0), w = n.input(1);
  if (failed(checkEightBit(n, x, "x")) || failed(checkEightBit(n, w, "w")))
    return failure();
  FailureOr<ConvWindow> window = readConvWindow(n, x, w);
  if (failed(window))
    return failure();
  Value zeroX = zeroPointOf(n, 2, x);
  Value zeroW = zeroPointOf(n, 3, w);
  FailureOr<Value> r = n.create<ConvIntegerOp>(
      x, w, zeroX, zeroW, n.i64Array(window->strides), n.i64Array(window->pads),
      n.i64Array(window->dilations), n.i64(window->group));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importQLinearMatMul(NodeContext &n) {
  if (failed(n.checkInputs(8, 8)))
    return failure();
  if (failed(checkEightBit(n, n.input(0), "a")) ||
      failed(checkEightBit(n, n.input(3), "b")) ||
      failed(checkEightBit(n, n.input(7), "y_zero_point")))
    return failure();
  FailureOr<Value> r = n.create<QLinearMatMulOp>(
      n.input(0), n.paramInput(1), n.paramInput(2), n.input(3), n.paramInput(4),
      n.paramInput(5), n.paramInput(6), n.paramInput(7));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importQLinearConv(NodeContext &n) {
  if (failed(n.checkInputs(8, 9)))
    return failure();
  Value x = n.input(0), w = n.input(3);
  if (failed(checkEightBit(n, x, "x")) || failed(checkEightBit(n, w, "w")) ||
      failed(checkEightBit(n, n.input(7), "y_zero_point")))
    return failure();
  FailureOr<ConvWindow> window = readConvWindow(n, x, w);
  if (failed(window))
    return failure();
  FailureOr<Value> r = n.create<QLinearConvOp>(
      x, n.paramInput(1), n.paramInput(2), w, n.paramInput(4), n.paramInput(5),
      n.paramInput(6), n.paramInput(7), n.input(8), n.i64Array(window->strides),
      n.i64Array(window->pads), n.i64Array(window->dilations),
      n.i64(window->group));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

} // namespace

void sparq::onnx_import::registerQuantizationImporters(
    OpImporterRegistry &registry) {
  registry["QuantizeLinear"] = importQuantizeLinear;
  registry["DequantizeLinear"] = importDequantizeLinear;
  registry["DynamicQuantizeLinear"] = importDynamicQuantizeLinear;
  registry["MatMulInteger"] = importMatMulInteger;
  registry["ConvInteger"] = importConvInteger;
  registry["QLinearMatMul"] = importQLinearMatMul;
  registry["QLinearConv"] = importQLinearConv;
}
