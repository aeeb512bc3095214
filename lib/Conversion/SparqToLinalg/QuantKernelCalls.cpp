//===- QuantKernelCalls.cpp - Lower integer ops to the runtime's kernels --===//
//
// sparq.qmatmul / sparq.qconv (formed by sparq-qdq-to-integer) and ONNX's
// matmul_integer, conv_integer (2-d), qlinear_matmul and qlinear_conv (2-d)
// become calls of the runtime's int8 kernels sparq_uk_qmatmul_i8 and
// sparq_uk_qconv2d_i8; sparq.sparse_qmatmul / sparq.sparse_qconv (a packed
// sparse int8 weight) become sparq_uk_sparse_qmatmul_i8 /
// sparq_uk_sparse_qconv2d_i8; sparq.qadd becomes sparq_uk_qadd_i8;
// sparq.matmul_nbits becomes sparq_uk_matmul_nbits_f32.
// The ONNX ops' patterns take precedence over the generic linalg lowering in
// Quantization.cpp, which stays the fallback for what the kernels do not
// take (other ranks, non-f32 scales, a runtime output zero point).
//
// Zero points cross as pointers to their tensors; a requantization
// multiplier a_scale * b_scale[n] / y_scale is folded in f32, in that order
// (as onnxruntime computes it), when the scales are constants, and computed
// by a small generic otherwise.
//
//===----------------------------------------------------------------------===//

#include "KernelCallBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace sparq::lowering;

namespace sparq {
namespace {

constexpr StringLiteral kQMatmulFn = "sparq_uk_qmatmul_i8";
constexpr StringLiteral kQConvFn = "sparq_uk_qconv2d_i8";
constexpr StringLiteral kNBitsFn = "sparq_uk_matmul_nbits_f32";
constexpr StringLiteral kSparseQMatmulFn = "sparq_uk_sparse_qmatmul_i8";
constexpr StringLiteral kSparseQConvFn = "sparq_uk_sparse_qconv2d_i8";
constexpr StringLiteral kQAddFn = "sparq_uk_qadd_i8";

// sparq_runtime.h: SPARQ_QTYPE_* and SPARQ_QOUT_*.
constexpr int64_t kTypeU8 = 0, kTypeS8 = 1;
constexpr int64_t kOutI32 = 0, kOutF32 = 1, kOutU8 = 2, kOutS8 = 3;

RankedTensorType typeOf(Value v) { return cast<RankedTensorType>(v.getType()); }

int64_t numElements(Value v) { return typeOf(v).getNumElements(); }

/// SPARQ_QTYPE_* of an 8-bit sparq (not converted) tensor, or -1.
int64_t byteTypeOf(Value original) {
  auto i = dyn_cast<IntegerType>(typeOf(original).getElementType());
  if (!i || i.getWidth() != 8 || i.isSigned())
    return -1;
  return i.isUnsigned() ? kTypeU8 : kTypeS8;
}

/// SPARQ_QOUT_* of a sparq result element type, or -1.
int64_t outKindOf(Type element) {
  if (element.isF32())
    return kOutF32;
  auto i = dyn_cast<IntegerType>(element);
  if (!i || i.isSigned())
    return -1;
  if (i.getWidth() == 32 && i.isSignless())
    return kOutI32;
  if (i.getWidth() == 8)
    return i.isUnsigned() ? kOutU8 : kOutS8;
  return -1;
}

bool isStatic(Value v) { return typeOf(v).hasStaticShape(); }

/// Whether `param` holds one element or `n` in a vector.
bool isScalarOrVector(Value param, int64_t n) {
  auto t = typeOf(param);
  return t.hasStaticShape() && (t.getNumElements() == 1 ||
                                (t.getRank() == 1 && t.getDimSize(0) == n));
}

/// The one element of a constant integer tensor of the sparq type, extended
/// as its signedness says.
std::optional<int64_t> constantScalar(Value original) {
  ElementsAttr attr;
  if (!matchPattern(original, m_Constant(&attr)) || attr.getNumElements() != 1)
    return std::nullopt;
  auto i = dyn_cast<IntegerType>(attr.getElementType());
  if (!i)
    return std::nullopt;
  APInt v = *attr.getValues<APInt>().begin();
  return i.isUnsigned() ? (int64_t)v.getZExtValue() : v.getSExtValue();
}

std::optional<SmallVector<float>> constantFloats(Value original) {
  ElementsAttr attr;
  if (!matchPattern(original, m_Constant(&attr)) ||
      !attr.getElementType().isF32())
    return std::nullopt;
  SmallVector<float> values;
  for (APFloat f : attr.getValues<APFloat>())
    values.push_back(f.convertToFloat());
  return values;
}

/// The requantization multiplier a * b[n] / y of f32 scale tensors (one or
/// n elements each) as a 1-d f32 tensor: a constant when all three are
/// constants, else computed by a generic.
Value buildMultiplier(ConversionPatternRewriter &rewriter, Location loc,
                      Value a, Value b, Value y, Value aConv, Value bConv,
                      Value yConv) {
  int64_t n = std::max({numElements(a), numElements(b), numElements(y)});
  auto type = RankedTensorType::get({n}, rewriter.getF32Type());
  auto as = constantFloats(a), bs = constantFloats(b), ys = constantFloats(y);
  if (as && bs && ys) {
    SmallVector<float> m;
    for (int64_t i = 0; i < n; ++i) {
      auto at = [&](const SmallVector<float> &v) {
        return v[v.size() == 1 ? 0 : i];
      };
      // f32 arithmetic, the product first, as onnxruntime.
      float product = at(*as) * at(*bs);
      m.push_back(product / at(*ys));
    }
    return arith::ConstantOp::create(rewriter, loc, type,
                                     DenseElementsAttr::get(type, ArrayRef(m)));
  }
  auto asVector = [&](Value v) {
    return reshapeTensor(
        rewriter, loc, v,
        RankedTensorType::get({numElements(v)}, rewriter.getF32Type()));
  };
  return createBroadcastGeneric(
      rewriter, loc, type, {asVector(aConv), asVector(bConv), asVector(yConv)},
      [](OpBuilder &b, Location l, ValueRange args) -> Value {
        Value product = arith::MulFOp::create(b, l, args[0], args[1]);
        return arith::DivFOp::create(b, l, product, args[2]);
      });
}

/// The epilogue of one kernel call.
struct Epilogue {
  int64_t outKind = kOutI32;
  Value biasI32, scale, biasF32; // converted tensors or null
  int64_t outZero = 0, qmin = 0, qmax = 0;
  Activation act = Activation::None;
  double actA = 0, actB = 0;
};

/// Storage range of an 8-bit output kind.
std::pair<int64_t, int64_t> storageRange(int64_t outKind) {
  if (outKind == kOutU8)
    return {0, 255};
  if (outKind == kOutS8)
    return {-128, 127};
  return {0, 0};
}

/// The runtime reads scale and biasF32 with one flag (one entry, or one per
/// output channel): when either has `channels` entries, the other is
/// broadcast to as many. Returns the flag.
int64_t alignPerChannel(OpBuilder &b, Location loc, Epilogue &e,
                        int64_t channels) {
  auto perChannel = [](Value v) { return v && numElements(v) > 1; };
  if (!perChannel(e.scale) && !perChannel(e.biasF32))
    return 0;
  auto vecType = RankedTensorType::get({channels}, b.getF32Type());
  for (Value *v : {&e.scale, &e.biasF32}) {
    if (!*v || perChannel(*v))
      continue;
    Value flat =
        reshapeTensor(b, loc, *v, RankedTensorType::get({1}, b.getF32Type()));
    *v = createBroadcastGeneric(
        b, loc, vecType, flat,
        [](OpBuilder &, Location, ValueRange args) { return args[0]; });
  }
  return 1;
}

/// Pointers to the epilogue's tensors (null where it has none), made before
/// the result buffer.
struct EpiloguePointers {
  Value biasI32, scale, biasF32;
};

EpiloguePointers epiloguePointers(KernelCallBuilder &kb, const Epilogue &e) {
  // Sequenced so the IR keeps the order bias, scale, f32 bias.
  Value biasI32 = kb.optionalPointer(e.biasI32);
  Value scale = kb.optionalPointer(e.scale);
  return {biasI32, scale, kb.optionalPointer(e.biasF32)};
}

/// The trailing arguments every integer kernel call shares: out_kind,
/// bias_i32, scale, scale_per_channel, bias_f32, out_zero, qmin, qmax, act,
/// act_a, act_b, then flags for sparq_uk_qmatmul_i8 / sparq_uk_qconv2d_i8
/// (the sparse int8 kernels take none).
void appendEpilogue(KernelCallBuilder &kb, SmallVectorImpl<Value> &args,
                    const Epilogue &e, const EpiloguePointers &p,
                    int64_t scalePerChannel,
                    std::optional<int64_t> flags = std::nullopt) {
  args.append({kb.i64(e.outKind), p.biasI32, p.scale, kb.i64(scalePerChannel),
               p.biasF32, kb.i64(e.outZero), kb.i64(e.qmin), kb.i64(e.qmax),
               kb.i64((int64_t)e.act), kb.f32(e.actA), kb.f32(e.actB)});
  if (flags)
    args.push_back(kb.i64(*flags));
}

/// Operands of one integer matmul call.
struct MatmulOperands {
  Value lhs, rhs, lhsZero, rhsZero; // converted
  Value lhsOrig, rhsOrig;           // sparq values
  bool transB = false;
};

/// The operands of qmatmul, matmul_integer or qlinear_matmul.
template <typename OpTy, typename Adaptor>
MatmulOperands matmulOperands(OpTy op, Adaptor adaptor, bool transB) {
  return {adaptor.getLhs(),
          adaptor.getRhs(),
          adaptor.getLhsZeroPoint(),
          adaptor.getRhsZeroPoint(),
          op.getLhs(),
          op.getRhs(),
          transB};
}

/// Whether the matmul kernel takes these operands: ranks >= 2, static, and
/// batch dims that are either all ones or the result's.
bool matmulFits(Value lhs, Value rhs, RankedTensorType result) {
  auto lt = typeOf(lhs), rt = typeOf(rhs);
  if (lt.getRank() < 2 || rt.getRank() < 2 || !lt.hasStaticShape() ||
      !rt.hasStaticShape() || !result.hasStaticShape())
    return false;
  ArrayRef<int64_t> outBatch = result.getShape().drop_back(2);
  for (RankedTensorType t : {lt, rt}) {
    ArrayRef<int64_t> b = t.getShape().drop_back(2);
    if (product(b) != 1 && b != outBatch)
      return false;
  }
  return true;
}

void emitQMatmul(ConversionPatternRewriter &rewriter, Operation *op,
                 const MatmulOperands &o, Epilogue e, RankedTensorType type) {
  auto lhsType = typeOf(o.lhs);
  int64_t rank = type.getRank();
  int64_t m = type.getDimSize(rank - 2), n = type.getDimSize(rank - 1);
  int64_t k = lhsType.getShape().back();
  ArrayRef<int64_t> outBatch = type.getShape().drop_back(2);
  KernelCallBuilder kb(rewriter, op);
  // matmulFits: the batch dims are all ones or the result's, so nothing is
  // materialized here.
  auto [lhs, strideA] = kb.batchOperand(o.lhs, outBatch, m * k);
  auto [rhs, strideB] = kb.batchOperand(o.rhs, outBatch, k * n);
  int64_t scalePerCol = alignPerChannel(rewriter, op->getLoc(), e, n);
  Value ctx = kb.context();
  Value pa = kb.pointerTo(lhs), pb = kb.pointerTo(rhs);
  Value pza = kb.pointerTo(o.lhsZero), pzb = kb.pointerTo(o.rhsZero);
  EpiloguePointers pe = epiloguePointers(kb, e);
  Value out = kb.allocResult(type);
  Value pc = kb.pointerToBuffer(out);
  SmallVector<Value> args{ctx,
                          pa,
                          pb,
                          pc,
                          kb.i64(product(outBatch)),
                          kb.i64(m),
                          kb.i64(n),
                          kb.i64(k),
                          kb.i64(strideA),
                          kb.i64(strideB),
                          kb.i64(m * n),
                          kb.i64(o.transB ? 1 : 0),
                          kb.i64(byteTypeOf(o.lhsOrig)),
                          kb.i64(byteTypeOf(o.rhsOrig)),
                          pza,
                          kb.i64(0),
                          pzb,
                          kb.i64(numElements(o.rhsZero) > 1 ? 1 : 0)};
  appendEpilogue(kb, args, e, pe, scalePerCol,
                 isConstantWeight(o.rhsOrig, o.rhs) ? 1 : 0);
  kb.call(kQMatmulFn, args);
  rewriter.replaceOp(op, kb.toTensor(out, type));
}

/// Operands of one integer conv call.
struct ConvOperands {
  Value input, weight, inputZero, weightZero; // converted
  Value inputOrig, weightOrig;                // sparq values
  ArrayRef<int64_t> strides, pads, dilations;
  int64_t group = 1;
};

/// The operands of qconv, conv_integer or qlinear_conv.
template <typename OpTy, typename Adaptor>
ConvOperands convOperands(OpTy op, Adaptor adaptor) {
  return {adaptor.getInput(),
          adaptor.getWeight(),
          adaptor.getInputZeroPoint(),
          adaptor.getWeightZeroPoint(),
          op.getInput(),
          op.getWeight(),
          op.getStrides(),
          op.getPads(),
          op.getDilations(),
          (int64_t)op.getGroup()};
}

bool convFits(Value input, Value weight, Value weightZero,
              RankedTensorType result) {
  return typeOf(input).getRank() == 4 && typeOf(weight).getRank() == 4 &&
         isStatic(input) && isStatic(weight) && result.hasStaticShape() &&
         isScalarOrVector(weightZero, result.getDimSize(1));
}

void emitQConv(ConversionPatternRewriter &rewriter, Operation *op,
               const ConvOperands &o, Epilogue e, RankedTensorType type) {
  int64_t scalePerChannel =
      alignPerChannel(rewriter, op->getLoc(), e, type.getDimSize(1));
  KernelCallBuilder kb(rewriter, op);
  Value ctx = kb.context();
  Value px = kb.pointerTo(o.input), pw = kb.pointerTo(o.weight);
  Value pzx = kb.pointerTo(o.inputZero), pzw = kb.pointerTo(o.weightZero);
  EpiloguePointers pe = epiloguePointers(kb, e);
  Value out = kb.allocResult(type);
  Value py = kb.pointerToBuffer(out);
  SmallVector<Value> args{ctx, px, pw, py};
  llvm::append_range(args,
                     kb.convGeometry(typeOf(o.input), typeOf(o.weight), type,
                                     o.strides, o.pads, o.dilations, o.group));
  args.append({kb.i64(byteTypeOf(o.inputOrig)),
               kb.i64(byteTypeOf(o.weightOrig)), pzx, pzw,
               kb.i64(numElements(o.weightZero) > 1 ? 1 : 0)});
  appendEpilogue(kb, args, e, pe, scalePerChannel,
                 isConstantWeight(o.weightOrig, o.weight) ? 1 : 0);
  kb.call(kQConvFn, args);
  rewriter.replaceOp(op, kb.toTensor(out, type));
}

/// The epilogue of a qconv / qmatmul kernel op.
template <typename OpTy, typename Adaptor>
Epilogue kernelEpilogue(OpTy op, Adaptor adaptor) {
  Epilogue e;
  e.outKind = outKindOf(op.getType().getElementType());
  e.biasI32 = adaptor.getBias();
  e.scale = adaptor.getScale();
  e.biasF32 = adaptor.getBiasF32();
  if (e.outKind == kOutU8 || e.outKind == kOutS8) {
    e.outZero = (int64_t)op.getOutZeroPoint();
    e.qmin = op.getQMinOrDefault();
    e.qmax = op.getQMaxOrDefault();
  }
  e.act = op.getActivation();
  e.actA = op.getActAlphaAttr().getValueAsDouble();
  e.actB = op.getActBetaAttr().getValueAsDouble();
  return e;
}

/// The requantizing epilogue of qlinear_matmul / qlinear_conv (scales a, b,
/// y as sparq values and converted): the result's zero point must be a
/// constant, the scales f32, a and y per-tensor and b with one or `n`
/// elements. The multiplier a * b[n] / y becomes the epilogue's scale.
std::optional<Epilogue> qlinearEpilogue(ConversionPatternRewriter &rewriter,
                                        Location loc, Type resultElement,
                                        Value yZero, ValueRange scales,
                                        ValueRange convertedScales, int64_t n) {
  std::optional<int64_t> zero = constantScalar(yZero);
  int64_t kind = outKindOf(resultElement);
  if (!zero || (kind != kOutU8 && kind != kOutS8))
    return std::nullopt;
  for (Value s : scales)
    if (!typeOf(s).getElementType().isF32() || !isScalarOrVector(s, n))
      return std::nullopt;
  if (numElements(scales[0]) != 1 || numElements(scales[2]) != 1)
    return std::nullopt;
  Epilogue e;
  e.outKind = kind;
  e.outZero = *zero;
  std::tie(e.qmin, e.qmax) = storageRange(kind);
  e.scale = buildMultiplier(rewriter, loc, scales[0], scales[1], scales[2],
                            convertedScales[0], convertedScales[1],
                            convertedScales[2]);
  return e;
}

/// Whether the kernel takes matmul_integer / qlinear_matmul's operands: the
/// shapes of matmulFits, a per-tensor lhs zero point and a per-tensor or
/// per-column rhs zero point.
template <typename OpTy> bool integerMatmulFits(OpTy op) {
  return matmulFits(op.getLhs(), op.getRhs(), op.getType()) &&
         numElements(op.getLhsZeroPoint()) == 1 &&
         isScalarOrVector(op.getRhsZeroPoint(), op.getType().getShape().back());
}

//===----------------------------------------------------------------------===//
// Kernel ops
//===----------------------------------------------------------------------===//

struct QMatMulCall : OpConversionPattern<QMatMulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(QMatMulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    if (!matmulFits(op.getLhs(), op.getRhs(), op.getType()))
      return op.emitOpError("the integer matmul kernel needs static operands "
                            "whose batch dims are the result's or all ones");
    emitQMatmul(rewriter, op, matmulOperands(op, adaptor, op.getTransB()),
                kernelEpilogue(op, adaptor), type);
    return success();
  }
};

struct SparseQMatMulCall : OpConversionPattern<SparseQMatMulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SparseQMatMulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    if (!type.hasStaticShape() || !isStatic(op.getLhs()))
      return op.emitOpError("the sparse int8 kernel needs static shapes");
    Epilogue e = kernelEpilogue(op, adaptor);
    int64_t n = op.getRows();
    int64_t scalePerCol = alignPerChannel(rewriter, op->getLoc(), e, n);
    KernelCallBuilder kb(rewriter, op);
    Value ctx = kb.context();
    Value pw = kb.pointerTo(adaptor.getPackedWeight());
    Value pa = kb.pointerTo(adaptor.getLhs());
    Value pza = kb.pointerTo(adaptor.getLhsZeroPoint());
    EpiloguePointers pe = epiloguePointers(kb, e);
    Value out = kb.allocResult(type);
    Value pc = kb.pointerToBuffer(out);
    SmallVector<Value> args{ctx,
                            pw,
                            pa,
                            pc,
                            kb.i64(type.getNumElements() / n),
                            kb.i64(byteTypeOf(op.getLhs())),
                            pza};
    appendEpilogue(kb, args, e, pe, scalePerCol);
    kb.call(kSparseQMatmulFn, args);
    rewriter.replaceOp(op, kb.toTensor(out, type));
    return success();
  }
};

struct SparseQConvCall : OpConversionPattern<SparseQConvOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SparseQConvOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    auto x = typeOf(op.getInput());
    if (!type.hasStaticShape() || !x.hasStaticShape())
      return op.emitOpError("the sparse int8 kernel needs static shapes");
    Epilogue e = kernelEpilogue(op, adaptor);
    int64_t scalePerChannel =
        alignPerChannel(rewriter, op->getLoc(), e, op.getRows());
    KernelCallBuilder kb(rewriter, op);
    Value ctx = kb.context();
    Value pw = kb.pointerTo(adaptor.getPackedWeight());
    Value px = kb.pointerTo(adaptor.getInput());
    Value pzx = kb.pointerTo(adaptor.getInputZeroPoint());
    EpiloguePointers pe = epiloguePointers(kb, e);
    Value out = kb.allocResult(type);
    Value py = kb.pointerToBuffer(out);
    SmallVector<Value> args{ctx,
                            pw,
                            px,
                            py,
                            kb.i64(x.getDimSize(0)),
                            kb.i64(x.getDimSize(1)),
                            kb.i64(x.getDimSize(2)),
                            kb.i64(x.getDimSize(3)),
                            kb.i64(type.getDimSize(2)),
                            kb.i64(type.getDimSize(3)),
                            kb.i64(op.getStrides()[0]),
                            kb.i64(op.getStrides()[1]),
                            kb.i64(byteTypeOf(op.getInput())),
                            pzx};
    appendEpilogue(kb, args, e, pe, scalePerChannel);
    kb.call(kSparseQConvFn, args);
    rewriter.replaceOp(op, kb.toTensor(out, type));
    return success();
  }
};

struct QConvCall : OpConversionPattern<QConvOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(QConvOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    emitQConv(rewriter, op, convOperands(op, adaptor),
              kernelEpilogue(op, adaptor), type);
    return success();
  }
};

struct QAddCall : OpConversionPattern<QAddOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(QAddOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    KernelCallBuilder kb(rewriter, op);
    Value ctx = kb.context();
    Value pa = kb.pointerTo(adaptor.getLhs());
    Value pb = kb.pointerTo(adaptor.getRhs());
    Value out = kb.allocResult(type);
    kb.call(kQAddFn,
            {ctx, pa, pb, kb.pointerToBuffer(out),
             kb.i64(type.getNumElements()), kb.i64(byteTypeOf(op.getLhs())),
             kb.f32(op.getLhsScale().convertToFloat()),
             kb.i64(op.getLhsZeroPoint()),
             kb.f32(op.getRhsScale().convertToFloat()),
             kb.i64(op.getRhsZeroPoint()),
             kb.f32(op.getOutScale().convertToFloat()),
             kb.i64(op.getOutZeroPoint()), kb.i64(op.getQMinOrDefault()),
             kb.i64(op.getQMaxOrDefault())});
    rewriter.replaceOp(op, kb.toTensor(out, type));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// ONNX's integer ops (preferred over Quantization.cpp's generic lowering)
//===----------------------------------------------------------------------===//

constexpr unsigned kKernelBenefit = 2;

struct MatMulIntegerCall : OpConversionPattern<MatMulIntegerOp> {
  MatMulIntegerCall(const TypeConverter &tc, MLIRContext *ctx)
      : OpConversionPattern(tc, ctx, kKernelBenefit) {}

  LogicalResult
  matchAndRewrite(MatMulIntegerOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!integerMatmulFits(op))
      return rewriter.notifyMatchFailure(op, "not a kernel-shaped matmul");
    emitQMatmul(rewriter, op, matmulOperands(op, adaptor, false), Epilogue(),
                convertTensorType(*getTypeConverter(), op.getType()));
    return success();
  }
};

struct ConvIntegerCall : OpConversionPattern<ConvIntegerOp> {
  ConvIntegerCall(const TypeConverter &tc, MLIRContext *ctx)
      : OpConversionPattern(tc, ctx, kKernelBenefit) {}

  LogicalResult
  matchAndRewrite(ConvIntegerOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!convFits(op.getInput(), op.getWeight(), op.getWeightZeroPoint(),
                  op.getType()))
      return rewriter.notifyMatchFailure(op, "not a static 2-d conv");
    emitQConv(rewriter, op, convOperands(op, adaptor), Epilogue(),
              convertTensorType(*getTypeConverter(), op.getType()));
    return success();
  }
};

struct QLinearMatMulCall : OpConversionPattern<QLinearMatMulOp> {
  QLinearMatMulCall(const TypeConverter &tc, MLIRContext *ctx)
      : OpConversionPattern(tc, ctx, kKernelBenefit) {}

  LogicalResult
  matchAndRewrite(QLinearMatMulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType = op.getType();
    if (!integerMatmulFits(op))
      return rewriter.notifyMatchFailure(op, "not a kernel-shaped matmul");
    std::optional<Epilogue> e = qlinearEpilogue(
        rewriter, op.getLoc(), resultType.getElementType(),
        op.getResultZeroPoint(),
        {op.getLhsScale(), op.getRhsScale(), op.getResultScale()},
        {adaptor.getLhsScale(), adaptor.getRhsScale(),
         adaptor.getResultScale()},
        resultType.getShape().back());
    if (!e)
      return rewriter.notifyMatchFailure(op, "parameters the kernel does not "
                                             "take");
    emitQMatmul(rewriter, op, matmulOperands(op, adaptor, false), *e,
                convertTensorType(*getTypeConverter(), resultType));
    return success();
  }
};

struct QLinearConvCall : OpConversionPattern<QLinearConvOp> {
  QLinearConvCall(const TypeConverter &tc, MLIRContext *ctx)
      : OpConversionPattern(tc, ctx, kKernelBenefit) {}

  LogicalResult
  matchAndRewrite(QLinearConvOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType = op.getType();
    if (!convFits(op.getInput(), op.getWeight(), op.getWeightZeroPoint(),
                  resultType))
      return rewriter.notifyMatchFailure(op, "not a static 2-d conv");
    std::optional<Epilogue> e = qlinearEpilogue(
        rewriter, op.getLoc(), resultType.getElementType(),
        op.getResultZeroPoint(),
        {op.getInputScale(), op.getWeightScale(), op.getResultScale()},
        {adaptor.getInputScale(), adaptor.getWeightScale(),
         adaptor.getResultScale()},
        resultType.getDimSize(1));
    if (!e)
      return rewriter.notifyMatchFailure(op, "parameters the kernel does not "
                                             "take");
    e->biasI32 = adaptor.getBias();
    emitQConv(rewriter, op, convOperands(op, adaptor), *e,
              convertTensorType(*getTypeConverter(), resultType));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Weight-only n-bit matmul
//===----------------------------------------------------------------------===//

struct MatMulNBitsCall : OpConversionPattern<MatMulNBitsOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(MatMulNBitsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    if (!type.hasStaticShape())
      return op.emitOpError("the n-bit matmul kernel needs static shapes");
    int64_t n = (int64_t)op.getN(), k = (int64_t)op.getK();
    KernelCallBuilder kb(rewriter, op);
    Value ctx = kb.context();
    Value px = kb.pointerTo(adaptor.getA());
    Value pw = kb.pointerTo(adaptor.getB());
    Value ps = kb.pointerTo(adaptor.getScales());
    Value pz = kb.optionalPointer(adaptor.getZeroPoints());
    Value pbias = kb.optionalPointer(adaptor.getBias());
    Value out = kb.allocResult(type);
    Value py = kb.pointerToBuffer(out);
    kb.call(kNBitsFn,
            {ctx, px, pw, ps, pz, pbias, py, kb.i64(type.getNumElements() / n),
             kb.i64(n), kb.i64(k), kb.i64((int64_t)op.getBits()),
             kb.i64((int64_t)op.getBlockSize()),
             kb.i64((int64_t)Activation::None), kb.f32(0), kb.f32(0)});
    rewriter.replaceOp(op, kb.toTensor(out, type));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// DynamicQuantizeLinear
//===----------------------------------------------------------------------===//

constexpr StringLiteral kDynamicQuantizeFn = "sparq_rt_dynamic_quantize_u8";

/// A static f32 -> u8 dynamic_quantize_linear becomes one runtime call (one
/// vector pass for the range, one for the values) instead of the generic
/// lowering's serial reductions; the arithmetic is the same.
struct DynamicQuantizeLinearCall
    : OpConversionPattern<DynamicQuantizeLinearOp> {
  DynamicQuantizeLinearCall(TypeConverter &converter, MLIRContext *context)
      : OpConversionPattern(converter, context, /*benefit=*/2) {}

  LogicalResult
  matchAndRewrite(DynamicQuantizeLinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto inType = typeOf(adaptor.getInput());
    auto yType =
        convertTensorType(*getTypeConverter(), op.getResult().getType());
    auto scaleType =
        convertTensorType(*getTypeConverter(), op.getScale().getType());
    auto zpType =
        convertTensorType(*getTypeConverter(), op.getZeroPoint().getType());
    if (!inType.hasStaticShape() || !inType.getElementType().isF32() ||
        !op.getResult().getType().getElementType().isUnsignedInteger(8) ||
        !scaleType.getElementType().isF32() || scaleType.getNumElements() != 1)
      return rewriter.notifyMatchFailure(op, "not a static f32 -> u8 form");
    KernelCallBuilder kb(rewriter, op);
    Value ctx = kb.context();
    Value px = kb.pointerTo(adaptor.getInput());
    Value y = kb.allocResult(yType);
    Value scale = kb.allocResult(scaleType);
    Value zp = kb.allocResult(zpType);
    kb.call(kDynamicQuantizeFn,
            {ctx, px, kb.i64(inType.getNumElements()), kb.pointerToBuffer(y),
             kb.pointerToBuffer(scale), kb.pointerToBuffer(zp)});
    rewriter.replaceOp(op,
                       {kb.toTensor(y, yType), kb.toTensor(scale, scaleType),
                        kb.toTensor(zp, zpType)});
    return success();
  }
};

} // namespace

void lowering::populateQuantKernelCallPatterns(TypeConverter &typeConverter,
                                               RewritePatternSet &patterns) {
  patterns.add<QMatMulCall, SparseQMatMulCall, SparseQConvCall, QConvCall,
               QAddCall, MatMulIntegerCall,
               ConvIntegerCall,
               QLinearMatMulCall, QLinearConvCall, MatMulNBitsCall,
               DynamicQuantizeLinearCall>(typeConverter, patterns.getContext());
}

} // namespace sparq
