//===- QuantizationOps.cpp - Importers of ONNX's quantized ops ------------===//
//
// QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, MatMulInteger,
// ConvInteger, QLinearMatMul and QLinearConv for opsets 10 to 21. Absent
// zero points become constant zeros of the right type, per-axis parameters
// get a normalized axis, and what sparq cannot compute exactly yet (blocked
// quantization, 4-bit and float8 types, int32 quantization input) is
// rejected with an error that names the node.
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

/// Input `i` when present, else a constant zero of `elementType` and `shape`
/// (a scale's shape keeps per-axis parameters per-axis).
Value zeroPointOrZero(NodeContext &n, unsigned i, Type elementType,
                      ArrayRef<int64_t> shape) {
  if (Value zp = n.input(i))
    return zp;
  return n.constant(
      DenseElementsAttr::get(RankedTensorType::get(shape, elementType),
                             n.builder.getIntegerAttr(elementType, 0)));
}

Type elementTypeOf(Value v) { return NodeContext::typeOf(v).getElementType(); }

/// Fails on 8-bit-only inputs of another type, naming the operand.
LogicalResult checkEightBit(NodeContext &n, Value v, StringRef what) {
  auto type = dyn_cast<IntegerType>(elementTypeOf(v));
  if (!type || type.getWidth() != 8)
    return n.fail(what + " must be int8 or uint8, got " +
                  typeName(elementTypeOf(v)));
  return success();
}

/// The non-negative axis of a per-axis scale; the attribute (opset 13+,
/// default 1) is only read when the scale is not per-tensor.
FailureOr<int64_t> quantAxis(NodeContext &n, Value x, Value scale) {
  if (isPerTensor(scale))
    return 1;
  if (n.opset < 13)
    return n.fail("per-axis quantization needs opset 13 or newer (the scale "
                  "must hold one element)");
  FailureOr<int64_t> axis = n.intAttr("axis", 1);
  if (failed(axis))
    return failure();
  return n.normalizeAxis(*axis, NodeContext::typeOf(x).getRank(), "axis");
}

/// Opset 21's block_size: only 0 (no blocking) is supported.
LogicalResult checkNotBlocked(NodeContext &n) {
  if (n.opset < 21)
    return success();
  FailureOr<int64_t> blockSize = n.intAttr("block_size", 0);
  if (failed(blockSize))
    return failure();
  if (*blockSize != 0)
    return n.fail("blocked quantization (block_size " + Twine(*blockSize) +
                  ") is unsupported");
  return success();
}

/// The quantized storage type of QuantizeLinear: the zero point's type, or
/// opset 21's output_dtype, or uint8.
FailureOr<Type> quantizedType(NodeContext &n) {
  MLIRContext *ctx = n.getContext();
  Type type = IntegerType::get(ctx, 8, IntegerType::Unsigned);
  if (n.opset >= 21 && n.hasAttr("output_dtype")) {
    FailureOr<int64_t> dtype = n.intAttr("output_dtype", 0);
    if (failed(dtype))
      return failure();
    if (*dtype != 0) {
      Type converted = convertElementType(ctx, *dtype);
      if (!converted)
        return n.fail("output_dtype " + dataTypeName(*dtype) +
                      " is unsupported");
      type = converted;
    }
  }
  if (Value zp = n.input(2)) {
    Type zpType = elementTypeOf(zp);
    if (n.opset >= 21 && n.hasAttr("output_dtype") && zpType != type)
      return n.fail("output_dtype differs from the zero point's type");
    type = zpType;
  }
  auto intType = dyn_cast<IntegerType>(type);
  if (!intType || (intType.getWidth() != 8 && intType.getWidth() != 16))
    return n.fail("quantization to " + typeName(type) +
                  " is unsupported (int8, uint8, int16 and uint16 are)");
  return type;
}

LogicalResult importQuantizeLinear(NodeContext &n) {
  if (failed(n.checkInputs(2, 3)) || failed(checkNotBlocked(n)))
    return failure();
  Value x = n.input(0), scale = n.input(1);
  if (!isa<FloatType>(elementTypeOf(x)))
    return n.fail("quantizing a " + typeName(elementTypeOf(x)) +
                  " input is unsupported (float inputs are)");
  FailureOr<Type> type = quantizedType(n);
  FailureOr<int64_t> axis = quantAxis(n, x, scale);
  if (failed(type) || failed(axis))
    return failure();
  FailureOr<Value> r = n.create<QuantizeLinearOp>(
      x, scale,
      zeroPointOrZero(n, 2, *type, NodeContext::typeOf(scale).getShape()),
      n.i64(*axis));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

/// True when input `i` is a constant holding only zeros.
bool isConstantZero(NodeContext &n, unsigned i) {
  DenseElementsAttr attr = n.constantInput(i);
  return attr && llvm::all_of(attr.getValues<llvm::APInt>(),
                              [](const llvm::APInt &v) { return v.isZero(); });
}

LogicalResult importDequantizeLinear(NodeContext &n) {
  if (failed(n.checkInputs(2, 3)) || failed(checkNotBlocked(n)))
    return failure();
  Value x = n.input(0), scale = n.input(1);
  Type element = elementTypeOf(x);
  auto intType = dyn_cast<IntegerType>(element);
  if (!intType || (intType.getWidth() != 8 && intType.getWidth() != 16 &&
                   intType.getWidth() != 32))
    return n.fail("dequantizing a " + typeName(element) +
                  " input is unsupported (8-, 16- and 32-bit integers are)");
  if (intType.getWidth() == 32 && n.hasInput(2) && !isConstantZero(n, 2))
    return n.fail("an int32 input needs an absent or constant zero "
                  "x_zero_point");
  FailureOr<int64_t> axis = quantAxis(n, x, scale);
  if (failed(axis))
    return failure();
  FailureOr<Value> r = n.create<DequantizeLinearOp>(
      x, scale,
      zeroPointOrZero(n, 2, element, NodeContext::typeOf(scale).getShape()),
      n.i64(*axis));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

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
  FailureOr<Value> r =
      n.create<QLinearMatMulOp>(n.input(0), n.input(1), n.input(2), n.input(3),
                                n.input(4), n.input(5), n.input(6), n.input(7));
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
      x, n.input(1), n.input(2), w, n.input(4), n.input(5), n.input(6),
      n.input(7), n.input(8), n.i64Array(window->strides),
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
