//===- ContribOps.cpp - Importers of onnxruntime's com.microsoft ops ------===//
//
// The com.microsoft (version 1) ops that onnxruntime's quantization tools
// write: QuantizeLinear / DequantizeLinear (the ai.onnx importers), the
// QLinear element ops (QLinearAdd, QLinearMul, QLinearSigmoid,
// QLinearLeakyRelu, QLinearSoftmax, QLinearGlobalAveragePool,
// QLinearConcat) decomposed into dequantize -> f32 op -> quantize as
// onnxruntime computes them in float, DynamicQuantizeMatMul and
// MatMulIntegerToFloat (integer matmul, then the f32 scale and bias), QGemm
// (as the dequantize -> gemm -> quantize group that sparq-qdq-to-integer
// makes an integer kernel), and MatMulNBits (sparq.matmul_nbits). Forms
// sparq does not compute (float zero points, g_idx, other bit widths,
// non-f32 activations) are errors that name the node.
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"

#include <type_traits>

using namespace mlir;
using namespace sparq;
using namespace sparq::onnx_import;

namespace {

Type elementTypeOf(Value v) { return NodeContext::typeOf(v).getElementType(); }

std::string typeName(Type type) {
  std::string name;
  llvm::raw_string_ostream os(name);
  type.print(os);
  return name;
}

bool isPerTensor(Value v) {
  RankedTensorType type = NodeContext::typeOf(v);
  return type.getRank() <= 1 && type.hasStaticShape() &&
         type.getNumElements() == 1;
}

/// Checks a quantized operand (int8 or uint8) and its per-tensor f32 scale
/// and optional zero point (inputs `x`, `scale`, `zp` of the node).
LogicalResult checkQuantized(NodeContext &n, unsigned x, unsigned scale,
                             unsigned zp, StringRef what) {
  auto type = dyn_cast<IntegerType>(elementTypeOf(n.input(x)));
  if (!type || type.getWidth() != 8)
    return n.fail(what + " must be int8 or uint8, got " +
                  typeName(elementTypeOf(n.input(x))));
  if (!elementTypeOf(n.input(scale)).isF32() || !isPerTensor(n.input(scale)))
    return n.fail(what + "'s scale must be one f32 value");
  if (n.hasInput(zp)) {
    Value z = n.input(zp);
    if (elementTypeOf(z) != type || !isPerTensor(z))
      return n.fail(what + "'s zero point must be one " + typeName(type) +
                    " value");
  }
  return success();
}

/// The per-tensor zero point at input `zp` (absent: a zero of `type`).
Value zeroPoint(NodeContext &n, unsigned zp, Type type) {
  return zeroPointOrZero(n, zp, type, {});
}

FailureOr<Value> dequantize(NodeContext &n, unsigned x, unsigned scale,
                            unsigned zp) {
  Value input = n.input(x);
  return n.create<DequantizeLinearOp>(input, n.input(scale),
                                      zeroPoint(n, zp, elementTypeOf(input)),
                                      n.i64(1), n.i64(0));
}

/// Quantizes the f32 `v` with per-tensor `scale` and zero point input `zp`
/// (absent: zero) to `type`.
FailureOr<Value> quantize(NodeContext &n, Value v, unsigned scale, unsigned zp,
                          Type type) {
  return n.create<QuantizeLinearOp>(v, n.input(scale), zeroPoint(n, zp, type),
                                    n.i64(1), n.i64(0), n.boolean(true));
}

/// The storage type of a result quantized with zero point input `zp`: the
/// zero point's type, or (absent) `dflt`.
Type resultType(NodeContext &n, unsigned zp, Type dflt) {
  return n.hasInput(zp) ? elementTypeOf(n.input(zp)) : dflt;
}

/// QLinearAdd in onnxruntime's x86 (AVX2) arithmetic: with rA = A_scale /
/// C_scale, rB = B_scale / C_scale and fixed = C_zp - (rA * A_zp + rB *
/// B_zp) in f32, C = saturate(rne(fma(A, rA, fma(B, rB, fixed)))) on the
/// stored integers (a one-element operand is added to `fixed` unfused, in
/// f32, first). Each fused multiply-add is computed in f64 (the product of
/// an 8-bit integer and an f32 is exact there) and rounded once to f32.
/// Dequantize -> add -> quantize rounds differently and is a step off on
/// some elements, which grows through chains of QOperator ops.
LogicalResult importQLinearAddAsOnnxruntime(NodeContext &n, Type type) {
  Type f32 = n.builder.getF32Type(), f64 = n.builder.getF64Type();
  auto cast = [&](Value v, Type to) {
    return n.create<CastOp>(v, TypeAttr::get(to));
  };
  FailureOr<Value> ratioA = n.create<DivOp>(n.input(1), n.input(6));
  FailureOr<Value> ratioB = n.create<DivOp>(n.input(4), n.input(6));
  FailureOr<Value> zeroA = cast(zeroPoint(n, 2, type), f32);
  FailureOr<Value> zeroB = cast(zeroPoint(n, 5, type), f32);
  FailureOr<Value> zeroC = cast(zeroPoint(n, 7, type), f32);
  if (failed(ratioA) || failed(ratioB) || failed(zeroA) || failed(zeroB) ||
      failed(zeroC))
    return failure();
  FailureOr<Value> offA = n.create<MulOp>(*ratioA, *zeroA);
  FailureOr<Value> offB = n.create<MulOp>(*ratioB, *zeroB);
  if (failed(offA) || failed(offB))
    return failure();
  FailureOr<Value> offsets = n.create<AddOp>(*offA, *offB);
  if (failed(offsets))
    return failure();
  FailureOr<Value> fixed = n.create<SubOp>(*zeroC, *offsets);
  if (failed(fixed))
    return failure();
  // fma(x, ratio, addend) for an 8-bit x and f32 ratio and addend.
  auto fma = [&](Value x, Value ratio, Value addend) -> FailureOr<Value> {
    FailureOr<Value> x64 = cast(x, f64), r64 = cast(ratio, f64),
                     a64 = cast(addend, f64);
    if (failed(x64) || failed(r64) || failed(a64))
      return failure();
    FailureOr<Value> product = n.create<MulOp>(*x64, *r64);
    if (failed(product))
      return failure();
    FailureOr<Value> sum = n.create<AddOp>(*product, *a64);
    if (failed(sum))
      return failure();
    return cast(*sum, f32);
  };
  // A single-element operand is folded into the fixed part first, in f32
  // (onnxruntime's scalar-operand kernels).
  auto scalarPart = [&](Value x, Value ratio) -> FailureOr<Value> {
    FailureOr<Value> x32 = cast(x, f32);
    if (failed(x32))
      return failure();
    FailureOr<Value> product = n.create<MulOp>(*x32, ratio);
    if (failed(product))
      return failure();
    return n.create<AddOp>(*fixed, *product);
  };
  Value a = n.input(0), b = n.input(3);
  bool scalarA = NodeContext::typeOf(a).hasStaticShape() &&
                 NodeContext::typeOf(a).getNumElements() == 1;
  bool scalarB = NodeContext::typeOf(b).hasStaticShape() &&
                 NodeContext::typeOf(b).getNumElements() == 1;
  FailureOr<Value> sum;
  if (scalarB && !scalarA) {
    FailureOr<Value> partB = scalarPart(b, *ratioB);
    if (failed(partB))
      return failure();
    sum = fma(a, *ratioA, *partB);
  } else if (scalarA && !scalarB) {
    FailureOr<Value> partA = scalarPart(a, *ratioA);
    if (failed(partA))
      return failure();
    sum = fma(b, *ratioB, *partA);
  } else {
    FailureOr<Value> partB = fma(b, *ratioB, *fixed);
    if (failed(partB))
      return failure();
    sum = fma(a, *ratioA, *partB);
  }
  if (failed(sum))
    return failure();
  FailureOr<Value> r = n.create<QuantizeLinearOp>(
      *sum, n.scalarConstant(f32, 1.0), n.scalarConstant(type, 0), n.i64(1),
      n.i64(0), n.boolean(true));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

/// QLinearAdd / QLinearMul: A, A_scale, A_zp?, B, B_scale, B_zp?, C_scale,
/// C_zp?.
template <typename OpTy> LogicalResult importQLinearBinary(NodeContext &n) {
  if (failed(n.checkInputs(7, 8)) || failed(checkQuantized(n, 0, 1, 2, "A")) ||
      failed(checkQuantized(n, 3, 4, 5, "B")))
    return failure();
  Type type = elementTypeOf(n.input(0));
  if (elementTypeOf(n.input(3)) != type)
    return n.fail("A and B must have one element type");
  if (!elementTypeOf(n.input(6)).isF32() || !isPerTensor(n.input(6)))
    return n.fail("C_scale must be one f32 value");
  if (n.hasInput(7) &&
      (resultType(n, 7, type) != type || !isPerTensor(n.input(7))))
    return n.fail("C_zero_point must be one " + typeName(type) + " value");
  if constexpr (std::is_same_v<OpTy, AddOp>)
    return importQLinearAddAsOnnxruntime(n, type);
  FailureOr<Value> a = dequantize(n, 0, 1, 2);
  FailureOr<Value> b = dequantize(n, 3, 4, 5);
  if (failed(a) || failed(b))
    return failure();
  FailureOr<Value> c = n.create<OpTy>(*a, *b);
  if (failed(c))
    return failure();
  FailureOr<Value> r = quantize(n, *c, 6, 7, type);
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

/// QLinearSigmoid / QLinearLeakyRelu: X, X_scale, X_zp?, Y_scale, Y_zp?.
template <typename BuildFn>
LogicalResult importQLinearUnary(NodeContext &n, BuildFn build) {
  if (failed(n.checkInputs(4, 5)) || failed(checkQuantized(n, 0, 1, 2, "X")))
    return failure();
  Type type = elementTypeOf(n.input(0));
  if (!elementTypeOf(n.input(3)).isF32() || !isPerTensor(n.input(3)))
    return n.fail("Y_scale must be one f32 value");
  if (n.hasInput(4) &&
      (resultType(n, 4, type) != type || !isPerTensor(n.input(4))))
    return n.fail("Y_zero_point must be one " + typeName(type) + " value");
  FailureOr<Value> x = dequantize(n, 0, 1, 2);
  if (failed(x))
    return failure();
  FailureOr<Value> y = build(*x);
  if (failed(y))
    return failure();
  FailureOr<Value> r = quantize(n, *y, 3, 4, type);
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importQLinearSigmoid(NodeContext &n) {
  return importQLinearUnary(n, [&](Value x) { return n.create<SigmoidOp>(x); });
}

LogicalResult importQLinearLeakyRelu(NodeContext &n) {
  FailureOr<float> alpha = n.floatAttr("alpha", 0.01f);
  if (failed(alpha))
    return failure();
  return importQLinearUnary(
      n, [&](Value x) { return n.create<LeakyReluOp>(x, n.f32(*alpha)); });
}

/// QLinearSoftmax: X, X_scale, x_zero_point?, y_scale, y_zero_point?;
/// `axis` (default -1) with the Softmax semantics of `opset` (before 13 the
/// input is coerced to 2-D at axis, supported when axis is the last dim).
/// onnxruntime computes it with a table of exponentials; sparq computes
/// dequantize -> f32 softmax -> quantize.
LogicalResult importQLinearSoftmax(NodeContext &n) {
  FailureOr<int64_t> axisAttr = n.intAttr("axis", -1);
  FailureOr<int64_t> opset = n.intAttr("opset", std::nullopt);
  if (failed(axisAttr) || failed(opset) || !n.hasInput(0))
    return failure();
  int64_t rank = NodeContext::typeOf(n.input(0)).getRank();
  FailureOr<int64_t> axis = n.normalizeAxis(*axisAttr, rank, "axis");
  if (failed(axis))
    return failure();
  if (*opset < 13 && *axis != rank - 1)
    return n.fail("opset-" + Twine(*opset) +
                  " softmax semantics over several dims (axis " +
                  Twine(*axisAttr) + " of rank " + Twine(rank) +
                  ") are unsupported");
  return importQLinearUnary(
      n, [&](Value x) { return n.create<SoftmaxOp>(x, n.i64(*axis)); });
}

/// QLinearGlobalAveragePool: X, x_scale, x_zp, y_scale, y_zp; channels_last
/// puts the channels last (NHWC) instead of second.
LogicalResult importQLinearGlobalAveragePool(NodeContext &n) {
  if (failed(n.checkInputs(5, 5)) || failed(checkQuantized(n, 0, 1, 2, "X")))
    return failure();
  Type type = elementTypeOf(n.input(0));
  if (!elementTypeOf(n.input(3)).isF32() || !isPerTensor(n.input(3)) ||
      resultType(n, 4, type) != type || !isPerTensor(n.input(4)))
    return n.fail("y_scale and y_zero_point must be one f32 and one " +
                  typeName(type) + " value");
  FailureOr<int64_t> channelsLast = n.intAttr("channels_last", 0);
  if (failed(channelsLast))
    return failure();
  int64_t rank = NodeContext::typeOf(n.input(0)).getRank();
  if (rank < 3)
    return n.fail("X must have rank 3 or more, got " + Twine(rank));
  FailureOr<Value> x = dequantize(n, 0, 1, 2);
  if (failed(x))
    return failure();
  Value v = *x;
  // NHWC -> NCHW and back around the pool.
  SmallVector<int64_t> toFirst = {0, rank - 1}, toLast = {0};
  for (int64_t d = 1; d < rank - 1; ++d) {
    toFirst.push_back(d);
    toLast.push_back(d + 1);
  }
  toLast.push_back(1);
  if (*channelsLast) {
    FailureOr<Value> t = n.create<TransposeOp>(v, n.i64Array(toFirst));
    if (failed(t))
      return failure();
    v = *t;
  }
  FailureOr<Value> pooled = n.create<GlobalAveragePoolOp>(v);
  if (failed(pooled))
    return failure();
  v = *pooled;
  if (*channelsLast) {
    FailureOr<Value> t = n.create<TransposeOp>(v, n.i64Array(toLast));
    if (failed(t))
      return failure();
    v = *t;
  }
  FailureOr<Value> r = quantize(n, v, 3, 4, type);
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

/// QLinearConcat: Y_scale, Y_zero_point, then (X, X_scale, X_zero_point)
/// for each input.
LogicalResult importQLinearConcat(NodeContext &n) {
  unsigned count = n.numInputs();
  if (count < 5 || (count - 2) % 3 != 0)
    return n.fail("expected Y_scale, Y_zero_point and triples of (X, "
                  "X_scale, X_zero_point), got " +
                  Twine(count) + " inputs");
  for (unsigned i = 0; i < count; ++i)
    if (!n.hasInput(i))
      return n.fail("input " + Twine(i) + " is missing");
  Type type = elementTypeOf(n.input(1));
  if (!elementTypeOf(n.input(0)).isF32() || !isPerTensor(n.input(0)) ||
      !isPerTensor(n.input(1)) || !isa<IntegerType>(type) ||
      type.getIntOrFloatBitWidth() != 8)
    return n.fail("Y_scale and Y_zero_point must be one f32 and one int8 or "
                  "uint8 value");
  SmallVector<Value> parts;
  for (unsigned i = 2; i < count; i += 3) {
    std::string what = "input " + std::to_string((i - 2) / 3);
    if (failed(checkQuantized(n, i, i + 1, i + 2, what)))
      return failure();
    if (elementTypeOf(n.input(i)) != type)
      return n.fail(what + " must have Y_zero_point's type " + typeName(type));
    FailureOr<Value> x = dequantize(n, i, i + 1, i + 2);
    if (failed(x))
      return failure();
    parts.push_back(*x);
  }
  FailureOr<int64_t> axis = n.intAttr("axis", std::nullopt);
  if (failed(axis))
    return failure();
  FailureOr<int64_t> normalized =
      n.normalizeAxis(*axis, NodeContext::typeOf(parts[0]).getRank(), "axis");
  if (failed(normalized))
    return failure();
  FailureOr<Value> joined = n.create<ConcatOp>(parts, n.i64(*normalized));
  if (failed(joined))
    return failure();
  FailureOr<Value> r = quantize(n, *joined, 0, 1, type);
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

/// acc (i32) * (aScale * bScale) + bias, in f32; `bScale` is per-tensor or
/// per column (the last dim of acc).
FailureOr<Value> scaleAccumulator(NodeContext &n, Value acc, Value aScale,
                                  Value bScale, Value bias) {
  Type f32 = n.builder.getF32Type();
  if (!elementTypeOf(aScale).isF32() || !elementTypeOf(bScale).isF32())
    return n.fail("the scales must be f32");
  int64_t columns = NodeContext::typeOf(acc).getShape().back();
  if (!isPerTensor(bScale) &&
      (NodeContext::typeOf(bScale).getRank() != 1 ||
       NodeContext::typeOf(bScale).getDimSize(0) != columns))
    return n.fail("b_scale must hold one value or one per column of B (" +
                  Twine(columns) + ")");
  FailureOr<Value> multiplier = n.create<MulOp>(aScale, bScale);
  FailureOr<Value> real = n.create<CastOp>(acc, TypeAttr::get(f32));
  if (failed(multiplier) || failed(real))
    return failure();
  FailureOr<Value> y = n.create<MulOp>(*real, *multiplier);
  if (failed(y) || !bias)
    return y;
  if (!elementTypeOf(bias).isF32())
    return n.fail("bias must be f32");
  return n.create<AddOp>(*y, bias);
}

/// DynamicQuantizeMatMul: A (f32), B (int8/uint8), b_scale, b_zero_point?,
/// bias?. A is quantized to uint8 as DynamicQuantizeLinear does.
LogicalResult importDynamicQuantizeMatMul(NodeContext &n) {
  if (failed(n.checkInputs(3, 5)))
    return failure();
  Value a = n.input(0), b = n.input(1);
  if (!elementTypeOf(a).isF32())
    return n.fail("A must be f32, got " + typeName(elementTypeOf(a)));
  auto bType = dyn_cast<IntegerType>(elementTypeOf(b));
  if (!bType || bType.getWidth() != 8)
    return n.fail("B must be int8 or uint8, got " + typeName(elementTypeOf(b)));
  FailureOr<SmallVector<Value>> q =
      n.createMultiResult<DynamicQuantizeLinearOp>(3, a);
  if (failed(q))
    return failure();
  FailureOr<Value> acc = n.create<MatMulIntegerOp>(
      (*q)[0], b, (*q)[2], zeroPointOrZero(n, 3, bType, {}));
  if (failed(acc))
    return failure();
  FailureOr<Value> y =
      scaleAccumulator(n, *acc, (*q)[1], n.paramInput(2), n.input(4));
  if (failed(y))
    return failure();
  n.setOutput(0, *y);
  return success();
}

/// MatMulIntegerToFloat: A, B, a_scale, b_scale, a_zero_point?,
/// b_zero_point?, bias?.
LogicalResult importMatMulIntegerToFloat(NodeContext &n) {
  if (failed(n.checkInputs(4, 7)))
    return failure();
  Value a = n.input(0), b = n.input(1);
  for (auto [v, what] : {std::pair(a, "A"), std::pair(b, "B")}) {
    auto type = dyn_cast<IntegerType>(elementTypeOf(v));
    if (!type || type.getWidth() != 8)
      return n.fail(Twine(what) + " must be int8 or uint8, got " +
                    typeName(elementTypeOf(v)));
  }
  if (!isPerTensor(n.input(2)))
    return n.fail("a_scale must hold one value");
  if (n.hasInput(4) && !isPerTensor(n.input(4)))
    return n.fail("a_zero_point must hold one value");
  FailureOr<Value> acc = n.create<MatMulIntegerOp>(
      a, b, zeroPointOrZero(n, 4, elementTypeOf(a), {}),
      zeroPointOrZero(n, 5, elementTypeOf(b), {}));
  if (failed(acc))
    return failure();
  FailureOr<Value> y =
      scaleAccumulator(n, *acc, n.input(2), n.paramInput(3), n.input(6));
  if (failed(y))
    return failure();
  n.setOutput(0, *y);
  return success();
}

/// QGemm: A, a_scale, a_zero_point?, B, b_scale, b_zero_point?, C?,
/// y_scale?, y_zero_point?; attributes alpha, transA, transB. onnxruntime
/// computes acc = (A - a_zp)(B - b_zp) + C in int32 (C: int32, broadcast to
/// [M, N]), then acc * (alpha * a_scale * b_scale[n]) [/ y_scale] as f32,
/// and with y_zero_point rounds half to even, adds it and saturates to its
/// type. It is imported as the QDQ group sparq-qdq-to-integer turns into an
/// integer kernel: dequantize(A) with scale alpha * a_scale, dequantize(B)
/// per tensor or per column, gemm with the bias dequantize(C) at scale
/// alpha * a_scale * b_scale (zero point 0), then quantize_linear (with
/// y_zero_point), a division by y_scale (y_scale alone) or nothing.
LogicalResult importQGemm(NodeContext &n) {
  if (failed(n.checkInputs(5, 9)))
    return failure();
  FailureOr<float> alpha = n.floatAttr("alpha", 1.0f);
  FailureOr<int64_t> transA = n.intAttr("transA", 0);
  FailureOr<int64_t> transB = n.intAttr("transB", 0);
  if (failed(alpha) || failed(transA) || failed(transB))
    return failure();
  Value a = n.input(0), b = n.input(3);
  if (failed(checkQuantized(n, 0, 1, 2, "A")))
    return failure();
  auto bType = dyn_cast<IntegerType>(elementTypeOf(b));
  if (!bType || bType.getWidth() != 8)
    return n.fail("B must be int8 or uint8, got " + typeName(elementTypeOf(b)));
  RankedTensorType aShape = NodeContext::typeOf(a),
                   bShape = NodeContext::typeOf(b);
  if (aShape.getRank() != 2 || bShape.getRank() != 2)
    return n.fail("A and B must be 2-D");
  int64_t m = aShape.getDimSize(*transA ? 1 : 0);
  int64_t columns = bShape.getDimSize(*transB ? 0 : 1);
  if (ShapedType::isDynamic(columns))
    return n.fail("B's column count must be static");
  Value bScale = n.paramInput(4);
  if (!elementTypeOf(bScale).isF32())
    return n.fail("b_scale must be f32");
  bool perColumn = !isPerTensor(bScale);
  if (perColumn && (NodeContext::typeOf(bScale).getRank() != 1 ||
                    NodeContext::typeOf(bScale).getDimSize(0) != columns))
    return n.fail("b_scale must hold one value or one per column of B (" +
                  Twine(columns) + ")");
  if (n.hasInput(5)) {
    Value z = n.input(5);
    if (elementTypeOf(z) != bType ||
        NodeContext::typeOf(z).getNumElements() !=
            NodeContext::typeOf(bScale).getNumElements() ||
        NodeContext::typeOf(z).getRank() > 1)
      return n.fail("b_zero_point must be " + typeName(bType) +
                    " with b_scale's shape");
  }
  Value c = n.input(6);
  if (c && (!elementTypeOf(c).isSignlessInteger(32) ||
            NodeContext::typeOf(c).getRank() > 2))
    return n.fail("C must be an int32 tensor of rank 2 or less");
  Value yScale = n.input(7);
  if (yScale && (!elementTypeOf(yScale).isF32() || !isPerTensor(yScale)))
    return n.fail("y_scale must be one f32 value");
  if (n.hasInput(8) && !yScale)
    return n.fail("y_zero_point needs y_scale");
  if (n.hasInput(8)) {
    auto yType = dyn_cast<IntegerType>(elementTypeOf(n.input(8)));
    if (!yType || yType.getWidth() != 8 || !isPerTensor(n.input(8)))
      return n.fail("y_zero_point must be one int8 or uint8 value");
  }

  // A (transposed on its 8-bit values) dequantized with alpha * a_scale.
  Value aScale = n.input(1);
  if (*alpha != 1.0f) {
    FailureOr<Value> scaled = n.create<MulOp>(
        n.scalarConstant(n.builder.getF32Type(), *alpha), aScale);
    if (failed(scaled))
      return failure();
    aScale = *scaled;
  }
  if (*transA) {
    FailureOr<Value> t = n.create<TransposeOp>(a, n.i64Array({1, 0}));
    if (failed(t))
      return failure();
    a = *t;
  }
  FailureOr<Value> realA = n.create<DequantizeLinearOp>(
      a, aScale, zeroPoint(n, 2, elementTypeOf(a)), n.i64(1), n.i64(0));
  FailureOr<Value> realB = n.create<DequantizeLinearOp>(
      b, bScale,
      zeroPointOrZero(n, 5, bType, NodeContext::typeOf(bScale).getShape()),
      n.i64(*transB ? 0 : 1), n.i64(0));
  if (failed(realA) || failed(realB))
    return failure();

  // C at scale alpha * a_scale * b_scale and zero point 0; a per-column
  // scale needs C's last dim to be the columns.
  Value bias;
  if (c) {
    FailureOr<Value> cScale = n.create<MulOp>(aScale, bScale);
    if (failed(cScale))
      return failure();
    RankedTensorType cType = NodeContext::typeOf(c);
    int64_t axis = 0;
    if (perColumn) {
      if (cType.getRank() == 0 || cType.getShape().back() != columns) {
        SmallVector<int64_t> shape = {columns};
        if (cType.getRank() == 2) {
          if (ShapedType::isDynamic(m))
            return n.fail("C of shape [M, 1] needs a static M");
          shape = {m, columns};
        }
        FailureOr<Value> wide = n.createTyped<ExpandOp>(
            RankedTensorType::get(shape, cType.getElementType()), c);
        if (failed(wide))
          return failure();
        c = *wide;
        cType = NodeContext::typeOf(c);
      }
      axis = cType.getRank() - 1;
    }
    FailureOr<Value> realC = n.create<DequantizeLinearOp>(
        c, *cScale,
        zeroPointOrZero(n, ~0u, cType.getElementType(),
                        NodeContext::typeOf(*cScale).getShape()),
        n.i64(axis), n.i64(0));
    if (failed(realC))
      return failure();
    bias = *realC;
  }
  FailureOr<Value> y =
      n.create<GemmOp>(*realA, *realB, bias, n.f32(1.0f), n.f32(1.0f),
                       n.boolean(false), n.boolean(*transB != 0));
  if (failed(y))
    return failure();
  Value result = *y;
  if (n.hasInput(8)) {
    FailureOr<Value> q = quantize(n, result, 7, 8, elementTypeOf(n.input(8)));
    if (failed(q))
      return failure();
    result = *q;
  } else if (yScale) {
    FailureOr<Value> d = n.create<DivOp>(result, yScale);
    if (failed(d))
      return failure();
    result = *d;
  }
  n.setOutput(0, result);
  return success();
}

/// MatMulNBits: A, B, scales, zero_points?, g_idx?, bias? with attributes
/// K, N, bits, block_size (accuracy_level only tunes onnxruntime's kernel).
LogicalResult importMatMulNBits(NodeContext &n) {
  if (failed(n.checkInputs(3, 6)))
    return failure();
  FailureOr<int64_t> k = n.intAttr("K", std::nullopt);
  FailureOr<int64_t> nCols = n.intAttr("N", std::nullopt);
  FailureOr<int64_t> bits = n.intAttr("bits", 4);
  FailureOr<int64_t> blockSize = n.intAttr("block_size", std::nullopt);
  FailureOr<int64_t> prepacked = n.intAttr("weight_prepacked", 0);
  if (failed(k) || failed(nCols) || failed(bits) || failed(blockSize) ||
      failed(prepacked))
    return failure();
  if (*bits != 4 && *bits != 8)
    return n.fail("bits = " + Twine(*bits) + " is unsupported (4 and 8 are)");
  if (*prepacked != 0)
    return n.fail("prepacked weights (weight_prepacked = 1) are unsupported");
  if (n.hasInput(4))
    return n.fail("g_idx (act-order group indices) is unsupported");
  Value a = n.input(0);
  if (!elementTypeOf(a).isF32())
    return n.fail("A must be f32, got " + typeName(elementTypeOf(a)) +
                  " (float16/bfloat16 activations are unsupported)");
  if (!elementTypeOf(n.input(2)).isF32())
    return n.fail("scales must be f32, got " +
                  typeName(elementTypeOf(n.input(2))));
  Value zeroPoints = n.input(3);
  if (zeroPoints && !elementTypeOf(zeroPoints).isUnsignedInteger(8))
    return n.fail("zero_points of type " + typeName(elementTypeOf(zeroPoints)) +
                  " are unsupported (packed uint8 zero points are)");
  FailureOr<Value> r = n.create<MatMulNBitsOp>(
      a, n.input(1), n.input(2), zeroPoints, n.input(5), n.i64(*k),
      n.i64(*nCols), n.i64(*bits), n.i64(*blockSize));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

} // namespace

void sparq::onnx_import::registerContribImporters(
    OpImporterRegistry &registry) {
  registry["QuantizeLinear"] = importQuantizeLinear;
  registry["DequantizeLinear"] = importDequantizeLinear;
  registry["QLinearAdd"] = importQLinearBinary<AddOp>;
  registry["QLinearMul"] = importQLinearBinary<MulOp>;
  registry["QLinearSigmoid"] = importQLinearSigmoid;
  registry["QLinearLeakyRelu"] = importQLinearLeakyRelu;
  registry["QLinearGlobalAveragePool"] = importQLinearGlobalAveragePool;
  registry["QLinearConcat"] = importQLinearConcat;
  registry["DynamicQuantizeMatMul"] = importDynamicQuantizeMatMul;
  registry["MatMulIntegerToFloat"] = importMatMulIntegerToFloat;
  registry["MatMulNBits"] = importMatMulNBits;
  registry["QGemm"] = importQGemm;
  registry["QLinearSoftmax"] = importQLinearSoftmax;
}
