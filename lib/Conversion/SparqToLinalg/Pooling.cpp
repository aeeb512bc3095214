//===- Pooling.cpp - Lower sparq max_pool and average_pool ----------------===//
//
// N-d windowed pooling over NC[spatial...] inputs. A 2-d max pool over f32,
// u8 or s8 becomes a call of the runtime's vectorized, threaded
// sparq_uk_max_pool2d (which clips windows at the input's borders, so
// nothing is padded; OH/OW carry ceil_mode). Every other pool is linalg: the
// input is padded (-inf / lowest for max, 0 for average) up to what the last
// window reads, which covers ceil_mode; the window loops range over an empty
// tensor of the kernel's shape. Average divisors depend only on the output
// position and the static shapes, so they are folded into a constant tensor.
//
//===----------------------------------------------------------------------===//

#include "KernelCallBuilder.h"
#include "sparq/Dialect/Sparq/IR/Sparq.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace sparq::lowering;

namespace sparq {
namespace {

struct Window {
  SmallVector<int64_t> kernel, strides, dilations, padBegin, padEnd;
  /// Padding actually applied at the end (>= padEnd under ceil_mode).
  SmallVector<int64_t> padEndApplied;
};

template <typename OpTy>
Window getWindow(OpTy op, RankedTensorType inputType,
                 RankedTensorType resultType) {
  Window w;
  int64_t spatial = inputType.getRank() - 2;
  w.kernel.assign(op.getKernelShape().begin(), op.getKernelShape().end());
  w.strides.assign(op.getStrides().begin(), op.getStrides().end());
  w.dilations.assign(op.getDilations().begin(), op.getDilations().end());
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t in = inputType.getDimSize(i + 2);
    int64_t out = resultType.getDimSize(i + 2);
    w.padBegin.push_back(op.getPads()[i]);
    w.padEnd.push_back(op.getPads()[i + spatial]);
    int64_t needed = (out - 1) * w.strides[i] +
                     w.dilations[i] * (w.kernel[i] - 1) + 1 - in -
                     w.padBegin[i];
    w.padEndApplied.push_back(std::max<int64_t>(w.padEnd[i], needed));
  }
  return w;
}

/// Builds the window generic: `combine(element, accumulator)` over the
/// padded input, into `init` of the result shape.
Value buildWindowGeneric(
    OpBuilder &b, Location loc, Value padded, const Window &w, Value init,
    function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  MLIRContext *ctx = b.getContext();
  auto initType = cast<RankedTensorType>(init.getType());
  int64_t spatial = w.kernel.size();
  int64_t loops = 2 + 2 * spatial;
  // Loops: n, c, k_1..k_s, o_1..o_s. The window taps are outer and the
  // output positions inner, so the innermost loop walks a row of outputs
  // (contiguous stores, strided loads) and vectorizes, instead of reducing
  // a handful of taps into one accumulator in memory.
  SmallVector<AffineExpr> inExprs = {getAffineDimExpr(0, ctx),
                                     getAffineDimExpr(1, ctx)};
  SmallVector<AffineExpr> windowExprs;
  SmallVector<AffineExpr> outExprs = {getAffineDimExpr(0, ctx),
                                      getAffineDimExpr(1, ctx)};
  for (int64_t i = 0; i < spatial; ++i) {
    AffineExpr k = getAffineDimExpr(2 + i, ctx);
    AffineExpr o = getAffineDimExpr(2 + spatial + i, ctx);
    inExprs.push_back(o * w.strides[i] + k * w.dilations[i]);
    windowExprs.push_back(k);
    outExprs.push_back(o);
  }
  SmallVector<AffineMap> maps = {AffineMap::get(loops, 0, inExprs, ctx),
                                 AffineMap::get(loops, 0, windowExprs, ctx),
                                 AffineMap::get(loops, 0, outExprs, ctx)};
  SmallVector<utils::IteratorType> iterators(2, utils::IteratorType::parallel);
  iterators.append(spatial, utils::IteratorType::reduction);
  iterators.append(spatial, utils::IteratorType::parallel);
  Value window =
      tensor::EmptyOp::create(b, loc, w.kernel, initType.getElementType());
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{initType}, ValueRange{padded, window}, init, maps,
      iterators, "", "", [&](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(nb, nl, combine(nb, nl, args[0], args[2]));
      });
  return generic.getResult(0);
}

constexpr StringLiteral kMaxPoolFn = "sparq_uk_max_pool2d";

// sparq_runtime.h: sparq_dtype codes of the max-pool kernel's types.
constexpr int64_t kDtypeF32 = 1, kDtypeI8 = 5, kDtypeU8 = 9;

/// The sparq_dtype code sparq_uk_max_pool2d takes for `element` (a sparq,
/// not converted, element type), or -1 where it has no kernel.
int64_t maxPoolKernelType(Type element) {
  if (element.isF32())
    return kDtypeF32;
  if (!element.isInteger(8))
    return -1;
  return isUnsignedInteger(element) ? kDtypeU8 : kDtypeI8;
}

/// sparq_uk_max_pool2d(ctx, X, Y, elemType, N, C, H, W, OH, OW, KH, KW,
/// strides, pads (top, left), dilations) into a fresh aligned buffer.
Value emitMaxPoolCall(MaxPoolOp op, Value input, RankedTensorType type,
                      int64_t elemType, ConversionPatternRewriter &rewriter) {
  auto inputType = cast<RankedTensorType>(input.getType());
  ArrayRef<int64_t> kernel = op.getKernelShape(), strides = op.getStrides(),
                    pads = op.getPads(), dilations = op.getDilations();
  KernelCallBuilder kb(rewriter, op);
  Value ctx = kb.context();
  Value px = kb.pointerTo(input);
  Value out = kb.allocResult(type);
  Value py = kb.pointerToBuffer(out);
  kb.call(kMaxPoolFn,
          {ctx, px, py, kb.i64(elemType), kb.i64(inputType.getDimSize(0)),
           kb.i64(inputType.getDimSize(1)), kb.i64(inputType.getDimSize(2)),
           kb.i64(inputType.getDimSize(3)), kb.i64(type.getDimSize(2)),
           kb.i64(type.getDimSize(3)), kb.i64(kernel[0]), kb.i64(kernel[1]),
           kb.i64(strides[0]), kb.i64(strides[1]), kb.i64(pads[0]),
           kb.i64(pads[1]), kb.i64(dilations[0]), kb.i64(dilations[1])});
  return kb.toTensor(out, type);
}

struct MaxPoolLowering : OpConversionPattern<MaxPoolOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(MaxPoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    Type element = type.getElementType();
    if (element.isInteger(1))
      return op.emitOpError("max_pool over bool is not supported");
    int64_t kernelType = maxPoolKernelType(
        cast<RankedTensorType>(op.getInput().getType()).getElementType());
    if (inputType.getRank() == 4 && kernelType >= 0 &&
        inputType.hasStaticShape() && type.hasStaticShape()) {
      rewriter.replaceOp(
          op, emitMaxPoolCall(op, input, type, kernelType, rewriter));
      return success();
    }
    bool isUnsigned = isUnsignedInteger(op.getInput().getType());
    Window w = getWindow(op, inputType, type);
    Value lowest = createLowestValue(rewriter, loc, element, isUnsigned);
    SmallVector<int64_t> low = {0, 0}, high = {0, 0};
    llvm::append_range(low, w.padBegin);
    llvm::append_range(high, w.padEndApplied);
    Value padded = padTensor(rewriter, loc, input, low, high, lowest);
    Value init = createFilledTensor(rewriter, loc, type, lowest);
    Value result =
        buildWindowGeneric(rewriter, loc, padded, w, init,
                           [&](OpBuilder &b, Location l, Value x, Value acc) {
                             return createMax(b, l, x, acc, isUnsigned);
                           });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct AveragePoolLowering : OpConversionPattern<AveragePoolOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(AveragePoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    Type element = type.getElementType();
    if (!isa<FloatType>(element))
      return op.emitOpError("expected a float element type, got ") << element;
    Type acc = isHalfFloat(element) ? rewriter.getF32Type() : element;
    Window w = getWindow(op, inputType, type);
    int64_t spatial = w.kernel.size();
    bool includePad = op.getCountIncludePad();

    Value zero = createScalarConstant(rewriter, loc, element, 0);
    SmallVector<int64_t> low = {0, 0}, high = {0, 0};
    llvm::append_range(low, w.padBegin);
    llvm::append_range(high, w.padEndApplied);
    Value padded = padTensor(rewriter, loc, input, low, high, zero);
    auto accType = RankedTensorType::get(type.getShape(), acc);
    Value init = createFilledTensor(
        rewriter, loc, accType, createScalarConstant(rewriter, loc, acc, 0));
    Value sums = buildWindowGeneric(
        rewriter, loc, padded, w, init,
        [&](OpBuilder &b, Location l, Value x, Value a) {
          return arith::AddFOp::create(b, l, promoteHalf(b, l, x), a)
              .getResult();
        });

    // Divisors per output position: the product over spatial dims of the
    // number of window taps inside the input (or inside the declared pads).
    SmallVector<SmallVector<double>> perDim(spatial);
    SmallVector<int64_t> outShape;
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t in = inputType.getDimSize(i + 2);
      int64_t out = type.getDimSize(i + 2);
      outShape.push_back(out);
      int64_t lo = includePad ? -w.padBegin[i] : 0;
      int64_t hi = includePad ? in + w.padEnd[i] : in;
      for (int64_t o = 0; o < out; ++o) {
        int64_t count = 0;
        for (int64_t k = 0; k < w.kernel[i]; ++k) {
          int64_t pos = o * w.strides[i] - w.padBegin[i] + k * w.dilations[i];
          count += pos >= lo && pos < hi;
        }
        perDim[i].push_back((double)std::max<int64_t>(count, 1));
      }
    }
    int64_t total = 1;
    for (int64_t o : outShape)
      total *= o;
    SmallVector<APFloat> divisors;
    auto accFloat = cast<FloatType>(acc);
    for (int64_t flat = 0; flat < total; ++flat) {
      double product = 1;
      int64_t rest = flat;
      for (int64_t i = spatial - 1; i >= 0; --i) {
        product *= perDim[i][rest % outShape[i]];
        rest /= outShape[i];
      }
      APFloat value(product);
      bool lost;
      value.convert(accFloat.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                    &lost);
      divisors.push_back(value);
    }
    auto divisorType = RankedTensorType::get(outShape, acc);
    Value divisorTensor = arith::ConstantOp::create(
        rewriter, loc, DenseElementsAttr::get(divisorType, divisors));
    Value result = createBroadcastGeneric(
        rewriter, loc, type, ValueRange{sums, divisorTensor},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value v = arith::DivFOp::create(b, l, args[0], args[1]);
          return demoteHalf(b, l, v, element);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void lowering::populatePoolingPatterns(TypeConverter &typeConverter,
                                       RewritePatternSet &patterns) {
  patterns.add<MaxPoolLowering, AveragePoolLowering>(typeConverter,
                                                     patterns.getContext());
}

} // namespace sparq
