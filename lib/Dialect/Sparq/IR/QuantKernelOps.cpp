//===- QuantKernelOps.cpp - Verifiers of the integer kernel ops -----------===//
//
// sparq.qconv, sparq.qmatmul, sparq.sparse_qmatmul, sparq.sparse_qconv and
// sparq.qadd:
// the 8-bit operands and their zero points,
// the result shape (as the float kernels infer it), the result element type
// that selects the runtime's output kind, and the requantization epilogue's
// parameters.
//
//===----------------------------------------------------------------------===//

#include "ShapeInference.h"
#include "sparq/Dialect/Sparq/IR/Sparq.h"

#include "mlir/IR/Diagnostics.h"

#include <cmath>

using namespace mlir;
using namespace sparq;
using sparq::detail::shapeStr;

namespace {

RankedTensorType rankedType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

bool isByte(Type t) {
  auto i = dyn_cast<IntegerType>(t);
  return i && i.getWidth() == 8 && !i.isSigned();
}

/// Output kinds of the runtime ABI (sparq_runtime.h, SPARQ_QOUT_*).
enum OutKind : int64_t { kI32 = 0, kF32 = 1, kU8 = 2, kS8 = 3 };

int64_t outKindOf(Type element) {
  if (element.isF32())
    return kF32;
  if (auto i = dyn_cast<IntegerType>(element)) {
    if (i.getWidth() == 32 && i.isSignless())
      return kI32;
    if (i.getWidth() == 8 && i.isUnsigned())
      return kU8;
    if (i.getWidth() == 8 && i.isSignless())
      return kS8;
  }
  return -1;
}

/// Checks what both kernel ops share: operand and zero-point element types,
/// the epilogue operands against `channels` output channels/columns, the
/// clamp range and the activation.
template <typename OpTy>
LogicalResult verifyQuantKernel(OpTy op, Value x, Value w, Value xZero,
                                Value wZero, int64_t channels) {
  for (auto [v, zp, what] :
       {std::tuple(x, xZero, "input"), std::tuple(w, wZero, "weight")}) {
    Type element = rankedType(v).getElementType();
    if (!isByte(element))
      return op.emitOpError()
             << what << " must be an 8-bit integer tensor, got " << element;
    if (rankedType(zp).getElementType() != element)
      return op.emitOpError()
             << what << " zero point must have the element type " << element;
  }
  auto perChannel = [&](Value v) {
    auto t = rankedType(v);
    if (!t.hasStaticShape())
      return false;
    return t.getNumElements() == 1 ||
           (t.getRank() == 1 && t.getDimSize(0) == channels);
  };
  if (rankedType(xZero).getNumElements() != 1)
    return op.emitOpError("input zero point must hold one element");
  if (!perChannel(wZero))
    return op.emitOpError()
           << "weight zero point must hold one or " << channels << " elements";
  int64_t kind = outKindOf(op.getType().getElementType());
  if (kind < 0)
    return op.emitOpError("result must be i32, f32, ui8 or i8, got ")
           << op.getType().getElementType();
  if (Value scale = op.getScale()) {
    if (!rankedType(scale).getElementType().isF32() || !perChannel(scale))
      return op.emitOpError()
             << "scale must be f32 with one or " << channels << " elements";
  } else if (kind != kI32) {
    return op.emitOpError("a scale is required unless the result is i32");
  }
  if (Value bias = op.getBias()) {
    auto t = rankedType(bias);
    if (!t.getElementType().isSignlessInteger(32) || t.getRank() != 1 ||
        t.getDimSize(0) != channels)
      return op.emitOpError()
             << "bias must be i32 with " << channels << " elements";
  }
  if (Value bias = op.getBiasF32()) {
    if (kind != kF32)
      return op.emitOpError("bias_f32 needs an f32 result");
    if (!rankedType(bias).getElementType().isF32() || !perChannel(bias))
      return op.emitOpError()
             << "bias_f32 must be f32 with one or " << channels << " elements";
  }
  if (kind != kF32 && op.getActivation() != Activation::None)
    return op.emitOpError("an activation needs an f32 result; integer "
                          "results clamp to [qmin, qmax]");
  if (kind == kU8 || kind == kS8) {
    int64_t lo = kind == kU8 ? 0 : -128, hi = kind == kU8 ? 255 : 127;
    int64_t qmin = op.getQMinOrDefault(), qmax = op.getQMaxOrDefault();
    if (qmin < lo || qmax > hi || qmin > qmax)
      return op.emitOpError()
             << "[qmin, qmax] = [" << qmin << ", " << qmax
             << "] must be a non-empty part of [" << lo << ", " << hi << "]";
    int64_t zp = (int64_t)op.getOutZeroPoint();
    if (zp < lo || zp > hi)
      return op.emitOpError("out_zero_point is outside the result's range");
  } else if (op.getQmin() || op.getQmax() || op.getOutZeroPoint() != 0) {
    return op.emitOpError(
        "qmin, qmax and out_zero_point apply to 8-bit results only");
  }
  return success();
}

template <typename OpTy> int64_t qminOrDefault(OpTy op) {
  if (std::optional<int64_t> v = op.getQmin())
    return *v;
  return outKindOf(op.getType().getElementType()) == kU8 ? 0 : -128;
}

template <typename OpTy> int64_t qmaxOrDefault(OpTy op) {
  if (std::optional<int64_t> v = op.getQmax())
    return *v;
  return outKindOf(op.getType().getElementType()) == kU8 ? 255 : 127;
}

} // namespace

int64_t QConvOp::getOutKind() { return outKindOf(getType().getElementType()); }
int64_t QConvOp::getQMinOrDefault() { return qminOrDefault(*this); }
int64_t QConvOp::getQMaxOrDefault() { return qmaxOrDefault(*this); }
int64_t QMatMulOp::getOutKind() {
  return outKindOf(getType().getElementType());
}
int64_t QMatMulOp::getQMinOrDefault() { return qminOrDefault(*this); }
int64_t QMatMulOp::getQMaxOrDefault() { return qmaxOrDefault(*this); }
int64_t SparseQMatMulOp::getOutKind() {
  return outKindOf(getType().getElementType());
}
int64_t SparseQMatMulOp::getQMinOrDefault() { return qminOrDefault(*this); }
int64_t SparseQMatMulOp::getQMaxOrDefault() { return qmaxOrDefault(*this); }
int64_t SparseQConvOp::getOutKind() {
  return outKindOf(getType().getElementType());
}
int64_t SparseQConvOp::getQMinOrDefault() { return qminOrDefault(*this); }
int64_t SparseQConvOp::getQMaxOrDefault() { return qmaxOrDefault(*this); }

LogicalResult QConvOp::verify() {
  auto input = rankedType(getInput());
  auto weight = rankedType(getWeight());
  if (input.getRank() != 4 || weight.getRank() != 4)
    return emitOpError("qconv is a 2-d convolution: input and weight must "
                       "have rank 4");
  SmallVector<int64_t> shape;
  if (failed(detail::inferConvShape(getLoc(), getInput(), getWeight(), Value(),
                                    getStrides(), getPads(), getDilations(),
                                    getGroup(), shape)))
    return failure();
  if (ArrayRef<int64_t>(shape) != getType().getShape())
    return emitOpError() << "result shape must be " << shapeStr(shape)
                         << ", got " << shapeStr(getType().getShape());
  return verifyQuantKernel(*this, getInput(), getWeight(), getInputZeroPoint(),
                           getWeightZeroPoint(), weight.getDimSize(0));
}

LogicalResult QMatMulOp::verify() {
  auto lhs = rankedType(getLhs());
  auto rhs = rankedType(getRhs());
  if (lhs.getRank() < 2 || rhs.getRank() < 2)
    return emitOpError("qmatmul operands must have rank >= 2");
  SmallVector<int64_t> shape;
  if (failed(detail::inferMatMulShapes(getLoc(), lhs, rhs, getTransB(), shape)))
    return failure();
  if (ArrayRef<int64_t>(shape) != getType().getShape())
    return emitOpError() << "result shape must be " << shapeStr(shape)
                         << ", got " << shapeStr(getType().getShape());
  return verifyQuantKernel(*this, getLhs(), getRhs(), getLhsZeroPoint(),
                           getRhsZeroPoint(), shape.back());
}

LogicalResult SparseQMatMulOp::verify() {
  auto packed = rankedType(getPackedWeight());
  if (packed.getRank() != 1 || !packed.getElementType().isInteger(8))
    return emitOpError("packed_weight must be a 1-d i8 tensor");
  if (failed(detail::verifyPackedMatMulShapes(*this, getLhs(), getResult(),
                                              getRows(), getCols())))
    return failure();
  // No weight operand: the packed weight is symmetric i8, so the lhs stands
  // in for the weight's checks.
  return verifyQuantKernel(*this, getLhs(), getLhs(), getLhsZeroPoint(),
                           getLhsZeroPoint(), getRows());
}

LogicalResult SparseQConvOp::verify() {
  auto packed = rankedType(getPackedWeight());
  if (packed.getRank() != 1 || !packed.getElementType().isInteger(8))
    return emitOpError("packed_weight must be a 1-d i8 tensor");
  auto x = rankedType(getInput());
  auto out = rankedType(getResult());
  if (x.getRank() != 4 || out.getRank() != 4 || getStrides().size() != 2)
    return emitOpError("sparse_qconv is 2-d: rank-4 input and result, two "
                       "strides");
  for (int64_t s : getStrides())
    if (s <= 0)
      return emitOpError("strides must be positive");
  if (x.hasStaticShape() && out.hasStaticShape()) {
    SmallVector<int64_t> shape = {x.getDimSize(0), (int64_t)getRows(),
                                  (x.getDimSize(2) - 1) / getStrides()[0] + 1,
                                  (x.getDimSize(3) - 1) / getStrides()[1] + 1};
    if (ArrayRef<int64_t>(shape) != out.getShape())
      return emitOpError() << "result shape must be " << shapeStr(shape)
                           << ", got " << shapeStr(out.getShape());
  }
  // As for sparse_qmatmul, the input stands in for the weight's checks.
  return verifyQuantKernel(*this, getInput(), getInput(), getInputZeroPoint(),
                           getInputZeroPoint(), getRows());
}

int64_t QAddOp::getQMinOrDefault() { return qminOrDefault(*this); }
int64_t QAddOp::getQMaxOrDefault() { return qmaxOrDefault(*this); }

LogicalResult QAddOp::verify() {
  auto lhs = rankedType(getLhs()), rhs = rankedType(getRhs());
  auto out = rankedType(getResult());
  Type element = out.getElementType();
  int64_t kind = outKindOf(element);
  if (kind != kU8 && kind != kS8)
    return emitOpError("result must be an 8-bit integer tensor, got ")
           << element;
  if (lhs.getElementType() != element || rhs.getElementType() != element)
    return emitOpError("lhs, rhs and result must share one 8-bit element type");
  if (!lhs.hasStaticShape() || lhs.getShape() != rhs.getShape() ||
      lhs.getShape() != out.getShape())
    return emitOpError("lhs, rhs and result must have one static shape, got ")
           << shapeStr(lhs.getShape()) << ", " << shapeStr(rhs.getShape())
           << " and " << shapeStr(out.getShape());
  for (float s : {getLhsScale().convertToFloat(),
                  getRhsScale().convertToFloat(),
                  getOutScale().convertToFloat()})
    if (!(s > 0.0f) || !std::isfinite(s))
      return emitOpError("scales must be positive and finite");
  int64_t lo = kind == kU8 ? 0 : -128, hi = kind == kU8 ? 255 : 127;
  for (int64_t zp : {(int64_t)getLhsZeroPoint(), (int64_t)getRhsZeroPoint(),
                     (int64_t)getOutZeroPoint()})
    if (zp < lo || zp > hi)
      return emitOpError("zero points must lie in the element type's range");
  int64_t qmin = getQMinOrDefault(), qmax = getQMaxOrDefault();
  if (qmin < lo || qmax > hi || qmin > qmax)
    return emitOpError() << "[qmin, qmax] = [" << qmin << ", " << qmax
                         << "] must be a non-empty part of [" << lo << ", "
                         << hi << "]";
  return success();
}
