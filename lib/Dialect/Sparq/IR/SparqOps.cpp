//===- SparqOps.cpp - sparq op type inference and verifiers ---------------===//
//
// Result-type inference for every graph op (it is also their shape
// verification) plus the remaining hand-written verifiers. Dynamic dims
// propagate as ShapedType::kDynamic.
//
//===----------------------------------------------------------------------===//

#include "ShapeInference.h"
#include "sparq/Dialect/Sparq/IR/Sparq.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace sparq;

static constexpr int64_t kDyn = ShapedType::kDynamic;

static RankedTensorType tensorOf(ArrayRef<int64_t> shape, Type elementType) {
  return RankedTensorType::get(shape, elementType);
}

static RankedTensorType rankedType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

LogicalResult sparq::broadcastShapes(ArrayRef<int64_t> lhs,
                                     ArrayRef<int64_t> rhs,
                                     SmallVectorImpl<int64_t> &result) {
  size_t rank = std::max(lhs.size(), rhs.size());
  result.assign(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t a = i < rank - lhs.size() ? 1 : lhs[i - (rank - lhs.size())];
    int64_t b = i < rank - rhs.size() ? 1 : rhs[i - (rank - rhs.size())];
    if (a == 1)
      result[i] = b;
    else if (b == 1)
      result[i] = a;
    else if (a == kDyn)
      result[i] = b;
    else if (b == kDyn || a == b)
      result[i] = a;
    else
      return failure();
  }
  return success();
}

LogicalResult sparq::detail::verifyPackedMatMulShapes(Operation *op,
                                                     Value lhsValue,
                                                     Value result,
                                                     int64_t rows,
                                                     int64_t cols) {
  auto lhs = cast<RankedTensorType>(lhsValue.getType());
  auto out = cast<RankedTensorType>(result.getType());
  if (lhs.getRank() < 1 || out.getRank() != lhs.getRank())
    return op->emitOpError("result rank must equal lhs rank");
  if (lhs.getShape().back() != cols)
    return op->emitOpError("lhs reduction dim ")
           << lhs.getShape().back() << " differs from cols " << cols;
  if (out.getShape().back() != rows ||
      out.getShape().drop_back() != lhs.getShape().drop_back())
    return op->emitOpError(
        "result must be lhs dims with the last replaced by rows");
  return success();
}

std::string sparq::detail::shapeStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (i)
      s += ",";
    s += d == kDyn ? std::string("?") : std::to_string(d);
  }
  return s + "]";
}

using sparq::detail::shapeStr;

//===----------------------------------------------------------------------===//
// Generic helpers (templated on the op adaptor)
//===----------------------------------------------------------------------===//

namespace sparq {

template <typename Adaptor>
static LogicalResult inferSameAsFirstOperand(std::optional<Location>,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  auto type = rankedType(adaptor.getOperands()[0]);
  types.push_back(tensorOf(type.getShape(), type.getElementType()));
  return success();
}

static LogicalResult inferBroadcast(std::optional<Location> loc,
                                    ValueRange operands, Type elementType,
                                    SmallVectorImpl<Type> &types) {
  SmallVector<int64_t> shape(rankedType(operands[0]).getShape());
  for (Value v : operands.drop_front()) {
    SmallVector<int64_t> next;
    if (failed(broadcastShapes(shape, rankedType(v).getShape(), next)))
      return emitOptionalError(loc, "operand shapes ", shapeStr(shape), " and ",
                               shapeStr(rankedType(v).getShape()),
                               " are not broadcast-compatible");
    shape = std::move(next);
  }
  types.push_back(tensorOf(shape, elementType));
  return success();
}

template <typename Adaptor>
static LogicalResult inferBroadcastSameElement(std::optional<Location> loc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &types) {
  Type lhs = rankedType(adaptor.getLhs()).getElementType();
  Type rhs = rankedType(adaptor.getRhs()).getElementType();
  if (lhs != rhs)
    return emitOptionalError(loc, "operand element types differ: ", lhs,
                             " vs ", rhs);
  return inferBroadcast(loc, adaptor.getOperands(), lhs, types);
}

template <typename Adaptor>
static LogicalResult inferBroadcastLhsElement(std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  return inferBroadcast(loc, adaptor.getOperands(),
                        rankedType(adaptor.getLhs()).getElementType(), types);
}

template <typename Adaptor>
static LogicalResult inferBroadcastBool(std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  Type lhs = rankedType(adaptor.getLhs()).getElementType();
  Type rhs = rankedType(adaptor.getRhs()).getElementType();
  if (lhs != rhs)
    return emitOptionalError(loc, "operand element types differ: ", lhs,
                             " vs ", rhs);
  MLIRContext *ctx = lhs.getContext();
  return inferBroadcast(loc, adaptor.getOperands(), IntegerType::get(ctx, 1),
                        types);
}

static LogicalResult inferWhere(std::optional<Location> loc,
                                WhereOp::Adaptor adaptor,
                                SmallVectorImpl<Type> &types) {
  if (!rankedType(adaptor.getCondition()).getElementType().isInteger(1))
    return emitOptionalError(loc, "condition must be a bool tensor");
  Type x = rankedType(adaptor.getX()).getElementType();
  if (x != rankedType(adaptor.getY()).getElementType())
    return emitOptionalError(loc, "x and y element types differ");
  return inferBroadcast(loc, adaptor.getOperands(), x, types);
}

static LogicalResult inferCast(std::optional<Location>, CastOp::Adaptor adaptor,
                               SmallVectorImpl<Type> &types) {
  types.push_back(
      tensorOf(rankedType(adaptor.getInput()).getShape(), adaptor.getTo()));
  return success();
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

// Numpy matmul: 1-D operands are promoted and the promoted dim is dropped.
LogicalResult detail::inferMatMulShapes(std::optional<Location> loc,
                                        RankedTensorType lhs,
                                        RankedTensorType rhs, bool transB,
                                        SmallVectorImpl<int64_t> &result) {
  if (lhs.getRank() == 0 || rhs.getRank() == 0)
    return emitOptionalError(loc, "matmul operands must have rank >= 1");
  SmallVector<int64_t> a(lhs.getShape()), b(rhs.getShape());
  bool lhsVec = a.size() == 1, rhsVec = b.size() == 1;
  if (lhsVec)
    a.insert(a.begin(), 1);
  if (rhsVec)
    b.push_back(1);
  if (transB)
    std::swap(b[b.size() - 1], b[b.size() - 2]);
  int64_t k1 = a.back(), k2 = b[b.size() - 2];
  if (k1 != kDyn && k2 != kDyn && k1 != k2)
    return emitOptionalError(loc, "contraction dims differ: lhs ",
                             shapeStr(lhs.getShape()), " rhs ",
                             shapeStr(rhs.getShape()));
  SmallVector<int64_t> batch;
  if (failed(broadcastShapes(ArrayRef<int64_t>(a).drop_back(2),
                             ArrayRef<int64_t>(b).drop_back(2), batch)))
    return emitOptionalError(loc, "matmul batch dims are not broadcastable: ",
                             shapeStr(lhs.getShape()), " and ",
                             shapeStr(rhs.getShape()));
  result = batch;
  if (!lhsVec)
    result.push_back(a[a.size() - 2]);
  if (!rhsVec)
    result.push_back(b.back());
  return success();
}

static LogicalResult checkSameElementType(std::optional<Location> loc,
                                          RankedTensorType lhs,
                                          RankedTensorType rhs) {
  if (lhs.getElementType() != rhs.getElementType())
    return emitOptionalError(loc, "operand element types differ: ",
                             lhs.getElementType(), " vs ",
                             rhs.getElementType());
  return success();
}

static LogicalResult inferMatMul(std::optional<Location> loc,
                                 MatMulOp::Adaptor adaptor,
                                 SmallVectorImpl<Type> &types) {
  auto lhs = rankedType(adaptor.getLhs());
  auto rhs = rankedType(adaptor.getRhs());
  SmallVector<int64_t> shape;
  if (failed(checkSameElementType(loc, lhs, rhs)) ||
      failed(detail::inferMatMulShapes(loc, lhs, rhs, /*transB=*/false,
                                       shape)))
    return failure();
  types.push_back(tensorOf(shape, lhs.getElementType()));
  return success();
}

static LogicalResult inferFusedMatMul(std::optional<Location> loc,
                                      FusedMatMulOp::Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  auto lhs = rankedType(adaptor.getLhs());
  auto rhs = rankedType(adaptor.getRhs());
  if (lhs.getRank() < 2 || rhs.getRank() < 2)
    return emitOptionalError(loc, "fused_matmul operands must have rank >= 2");
  SmallVector<int64_t> shape;
  if (failed(checkSameElementType(loc, lhs, rhs)) ||
      failed(detail::inferMatMulShapes(loc, lhs, rhs, adaptor.getTransB(),
                                       shape)))
    return failure();
  if (Value bias = adaptor.getBias()) {
    auto biasType = rankedType(bias);
    if (biasType.getRank() != 1 ||
        (biasType.getDimSize(0) != kDyn && shape.back() != kDyn &&
         biasType.getDimSize(0) != shape.back()))
      return emitOptionalError(loc, "bias must be a vector of N = ",
                               shape.back(), " elements");
  }
  types.push_back(tensorOf(shape, lhs.getElementType()));
  return success();
}

static LogicalResult inferGemm(std::optional<Location> loc,
                               GemmOp::Adaptor adaptor,
                               SmallVectorImpl<Type> &types) {
  auto a = rankedType(adaptor.getA());
  auto b = rankedType(adaptor.getB());
  if (a.getRank() != 2 || b.getRank() != 2)
    return emitOptionalError(loc, "gemm operands must be 2-D, got ",
                             shapeStr(a.getShape()), " and ",
                             shapeStr(b.getShape()));
  int64_t m = a.getDimSize(adaptor.getTransA() ? 1 : 0);
  int64_t k1 = a.getDimSize(adaptor.getTransA() ? 0 : 1);
  int64_t k2 = b.getDimSize(adaptor.getTransB() ? 1 : 0);
  int64_t n = b.getDimSize(adaptor.getTransB() ? 0 : 1);
  if (k1 != kDyn && k2 != kDyn && k1 != k2)
    return emitOptionalError(loc, "gemm contraction dims differ: ", k1, " vs ",
                             k2);
  SmallVector<int64_t> shape = {m, n};
  if (Value c = adaptor.getC()) {
    SmallVector<int64_t> ignored;
    if (rankedType(c).getRank() > 2 ||
        failed(broadcastShapes(shape, rankedType(c).getShape(), ignored)) ||
        ArrayRef<int64_t>(ignored) != ArrayRef<int64_t>(shape))
      return emitOptionalError(loc, "gemm C of shape ",
                               shapeStr(rankedType(c).getShape()),
                               " does not broadcast to ", shapeStr(shape));
  }
  types.push_back(tensorOf(shape, a.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

// Output size of a sliding window; kDyn in, kDyn out.
static int64_t windowOutput(int64_t in, int64_t kernel, int64_t stride,
                            int64_t padBegin, int64_t padEnd, int64_t dilation,
                            bool ceilMode) {
  if (in == kDyn)
    return kDyn;
  int64_t span = dilation * (kernel - 1) + 1;
  int64_t numerator = in + padBegin + padEnd - span;
  if (numerator < 0)
    return -1;
  int64_t out = ceilMode ? (numerator + stride - 1) / stride + 1
                         : numerator / stride + 1;
  // A window that would start inside the end padding is dropped.
  if (ceilMode && (out - 1) * stride >= in + padBegin)
    --out;
  return out;
}

static LogicalResult checkWindowAttrs(std::optional<Location> loc,
                                      int64_t spatial,
                                      ArrayRef<int64_t> strides,
                                      ArrayRef<int64_t> pads,
                                      ArrayRef<int64_t> dilations) {
  if ((int64_t)strides.size() != spatial)
    return emitOptionalError(loc, "expected ", spatial, " strides, got ",
                             strides.size());
  if ((int64_t)dilations.size() != spatial)
    return emitOptionalError(loc, "expected ", spatial, " dilations, got ",
                             dilations.size());
  if ((int64_t)pads.size() != 2 * spatial)
    return emitOptionalError(loc, "expected ", 2 * spatial, " pads, got ",
                             pads.size());
  for (int64_t s : strides)
    if (s <= 0)
      return emitOptionalError(loc, "strides must be positive, got ", s);
  for (int64_t d : dilations)
    if (d <= 0)
      return emitOptionalError(loc, "dilations must be positive, got ", d);
  for (int64_t p : pads)
    if (p < 0)
      return emitOptionalError(loc, "pads must be non-negative, got ", p);
  return success();
}

LogicalResult detail::inferConvShape(std::optional<Location> loc,
                                     Value input, Value weight, Value bias,
                                     ArrayRef<int64_t> strides,
                                     ArrayRef<int64_t> pads,
                                     ArrayRef<int64_t> dilations,
                                     int64_t group,
                                     SmallVectorImpl<int64_t> &result) {
  auto x = rankedType(input);
  auto w = rankedType(weight);
  if (x.getRank() < 3)
    return emitOptionalError(loc, "conv input must have rank >= 3, got ",
                             x.getRank());
  if (w.getRank() != x.getRank())
    return emitOptionalError(loc, "conv weight rank ", w.getRank(),
                             " differs from input rank ", x.getRank());
  int64_t spatial = x.getRank() - 2;
  if (failed(checkWindowAttrs(loc, spatial, strides, pads, dilations)))
    return failure();
  if (group <= 0)
    return emitOptionalError(loc, "group must be positive, got ", group);
  int64_t c = x.getDimSize(1), m = w.getDimSize(0), cg = w.getDimSize(1);
  if (m != kDyn && m % group != 0)
    return emitOptionalError(loc, "output channels ", m,
                             " are not divisible by group ", group);
  if (c != kDyn && cg != kDyn && c != cg * group)
    return emitOptionalError(loc, "input channels ", c,
                             " do not match weight channels ", cg, " x group ",
                             group);
  if (bias) {
    auto b = rankedType(bias);
    if (b.getRank() != 1 ||
        (b.getDimSize(0) != kDyn && m != kDyn && b.getDimSize(0) != m))
      return emitOptionalError(loc, "conv bias must be a vector of ", m,
                               " elements");
  }
  SmallVector<int64_t> shape = {x.getDimSize(0), m};
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t k = w.getDimSize(i + 2);
    int64_t out =
        k == kDyn ? kDyn
                  : windowOutput(x.getDimSize(i + 2), k, strides[i], pads[i],
                                 pads[i + spatial], dilations[i], false);
    if (out < 0 && out != kDyn)
      return emitOptionalError(loc, "conv kernel does not fit the input in "
                                    "spatial dim ",
                               i);
    shape.push_back(out);
  }
  result = shape;
  return success();
}

/// A float or integer convolution whose input, weight and result share one
/// element type.
template <typename Adaptor>
static LogicalResult inferSameTypeConv(std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  Type element = rankedType(adaptor.getInput()).getElementType();
  if (element != rankedType(adaptor.getWeight()).getElementType())
    return emitOptionalError(loc, "conv input and weight element types differ");
  SmallVector<int64_t> shape;
  if (failed(detail::inferConvShape(
          loc, adaptor.getInput(), adaptor.getWeight(), adaptor.getBias(),
          adaptor.getStrides(), adaptor.getPads(), adaptor.getDilations(),
          adaptor.getGroup(), shape)))
    return failure();
  types.push_back(tensorOf(shape, element));
  return success();
}

static LogicalResult inferConv(std::optional<Location> loc,
                               ConvOp::Adaptor adaptor,
                               SmallVectorImpl<Type> &types) {
  return inferSameTypeConv(loc, adaptor, types);
}

static LogicalResult inferFusedConv(std::optional<Location> loc,
                                    FusedConvOp::Adaptor adaptor,
                                    SmallVectorImpl<Type> &types) {
  if (failed(inferSameTypeConv(loc, adaptor, types)))
    return failure();
  if (rankedType(adaptor.getInput()).getRank() != 4)
    return emitOptionalError(loc, "fused_conv is 2-d (rank-4 operands)");
  if (Value residual = adaptor.getResidual())
    if (failed(verifyCompatibleShape(rankedType(residual), types.front())))
      return emitOptionalError(loc, "residual shape does not match result");
  return success();
}

template <typename Adaptor>
static LogicalResult inferPool(std::optional<Location> loc, Adaptor adaptor,
                               SmallVectorImpl<Type> &types) {
  auto x = rankedType(adaptor.getInput());
  int64_t spatial = x.getRank() - 2;
  if (spatial < 1)
    return emitOptionalError(loc, "pool input must have rank >= 3");
  ArrayRef<int64_t> kernel = adaptor.getKernelShape();
  if ((int64_t)kernel.size() != spatial)
    return emitOptionalError(loc, "expected ", spatial,
                             " kernel dims, got ", kernel.size());
  for (int64_t k : kernel)
    if (k <= 0)
      return emitOptionalError(loc, "kernel dims must be positive");
  if (failed(checkWindowAttrs(loc, spatial, adaptor.getStrides(),
                              adaptor.getPads(), adaptor.getDilations())))
    return failure();
  SmallVector<int64_t> shape = {x.getDimSize(0), x.getDimSize(1)};
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t out = windowOutput(
        x.getDimSize(i + 2), kernel[i], adaptor.getStrides()[i],
        adaptor.getPads()[i], adaptor.getPads()[i + spatial],
        adaptor.getDilations()[i], adaptor.getCeilMode());
    if (out < 0 && out != kDyn)
      return emitOptionalError(loc, "pool window does not fit the input");
    shape.push_back(out);
  }
  types.push_back(tensorOf(shape, x.getElementType()));
  return success();
}

template <typename Adaptor>
static LogicalResult inferGlobalPool(std::optional<Location> loc,
                                     Adaptor adaptor,
                                     SmallVectorImpl<Type> &types) {
  auto x = rankedType(adaptor.getInput());
  if (x.getRank() < 3)
    return emitOptionalError(loc, "global pool input must have rank >= 3");
  SmallVector<int64_t> shape(x.getShape());
  for (int64_t i = 2; i < x.getRank(); ++i)
    shape[i] = 1;
  types.push_back(tensorOf(shape, x.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

template <typename Adaptor>
static LogicalResult inferReduce(std::optional<Location> loc, Adaptor adaptor,
                                 SmallVectorImpl<Type> &types) {
  auto x = rankedType(adaptor.getInput());
  ArrayRef<int64_t> axes = adaptor.getAxes();
  for (auto [i, a] : llvm::enumerate(axes)) {
    if (a < 0 || a >= x.getRank())
      return emitOptionalError(loc, "reduction axis ", a,
                               " out of range for rank ", x.getRank());
    if (i > 0 && axes[i - 1] >= a)
      return emitOptionalError(loc, "reduction axes must be sorted and unique");
  }
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < x.getRank(); ++d) {
    if (!llvm::is_contained(axes, d))
      shape.push_back(x.getDimSize(d));
    else if (adaptor.getKeepdims())
      shape.push_back(1);
  }
  types.push_back(tensorOf(shape, x.getElementType()));
  return success();
}

template <typename Adaptor>
static LogicalResult inferArgReduce(std::optional<Location> loc,
                                    Adaptor adaptor,
                                    SmallVectorImpl<Type> &types) {
  auto x = rankedType(adaptor.getInput());
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= x.getRank())
    return emitOptionalError(loc, "axis ", axis, " out of range for rank ",
                             x.getRank());
  SmallVector<int64_t> shape(x.getShape());
  if (adaptor.getKeepdims())
    shape[axis] = 1;
  else
    shape.erase(shape.begin() + axis);
  types.push_back(tensorOf(shape, IntegerType::get(x.getContext(), 64)));
  return success();
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

static LogicalResult inferTranspose(std::optional<Location> loc,
                                    TransposeOp::Adaptor adaptor,
                                    SmallVectorImpl<Type> &types) {
  auto x = rankedType(adaptor.getInput());
  ArrayRef<int64_t> perm = adaptor.getPerm();
  if ((int64_t)perm.size() != x.getRank())
    return emitOptionalError(loc, "perm has ", perm.size(),
                             " entries for a rank-", x.getRank(), " input");
  SmallVector<bool> seen(perm.size(), false);
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= x.getRank() || seen[p])
      return emitOptionalError(loc, "perm is not a permutation");
    seen[p] = true;
    shape.push_back(x.getDimSize(p));
  }
  types.push_back(tensorOf(shape, x.getElementType()));
  return success();
}

static LogicalResult inferConcat(std::optional<Location> loc,
                                 ConcatOp::Adaptor adaptor,
                                 SmallVectorImpl<Type> &types) {
  if (adaptor.getInputs().empty())
    return emitOptionalError(loc, "concat needs at least one input");
  auto first = rankedType(adaptor.getInputs()[0]);
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= first.getRank())
    return emitOptionalError(loc, "concat axis ", axis,
                             " out of range for rank ", first.getRank());
  SmallVector<int64_t> shape(first.getShape());
  shape[axis] = 0;
  for (Value v : adaptor.getInputs()) {
    auto t = rankedType(v);
    if (t.getRank() != first.getRank() ||
        t.getElementType() != first.getElementType())
      return emitOptionalError(loc, "concat inputs differ in rank or type");
    for (int64_t d = 0; d < t.getRank(); ++d) {
      int64_t s = t.getDimSize(d);
      if (d == axis) {
        shape[d] = (shape[d] == kDyn || s == kDyn) ? kDyn : shape[d] + s;
      } else if (s != kDyn) {
        if (shape[d] == kDyn)
          shape[d] = s;
        else if (shape[d] != s)
          return emitOptionalError(loc, "concat inputs differ in dim ", d,
                                   ": ", shape[d], " vs ", s);
      }
    }
  }
  types.push_back(tensorOf(shape, first.getElementType()));
  return success();
}

static LogicalResult inferSlice(std::optional<Location> loc,
                                SliceOp::Adaptor adaptor,
                                SmallVectorImpl<Type> &types) {
  auto x = rankedType(adaptor.getInput());
  ArrayRef<int64_t> starts = adaptor.getStarts(), ends = adaptor.getEnds(),
                    steps = adaptor.getSteps();
  int64_t rank = x.getRank();
  if ((int64_t)starts.size() != rank || (int64_t)ends.size() != rank ||
      (int64_t)steps.size() != rank)
    return emitOptionalError(loc, "slice needs one start/end/step per dim");
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t step = steps[d];
    if (step == 0)
      return emitOptionalError(loc, "slice step must be non-zero");
    if (x.getDimSize(d) == kDyn) {
      shape.push_back(kDyn);
      continue;
    }
    int64_t span = step > 0 ? ends[d] - starts[d] : starts[d] - ends[d];
    int64_t absStep = step > 0 ? step : -step;
    shape.push_back(span <= 0 ? 0 : (span + absStep - 1) / absStep);
  }
  types.push_back(tensorOf(shape, x.getElementType()));
  return success();
}

static LogicalResult inferGather(std::optional<Location> loc,
                                 GatherOp::Adaptor adaptor,
                                 SmallVectorImpl<Type> &types) {
  auto data = rankedType(adaptor.getData());
  auto indices = rankedType(adaptor.getIndices());
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= data.getRank())
    return emitOptionalError(loc, "gather axis ", axis,
                             " out of range for rank ", data.getRank());
  if (!isa<IntegerType>(indices.getElementType()))
    return emitOptionalError(loc, "gather indices must be integers");
  SmallVector<int64_t> shape(data.getShape().take_front(axis));
  llvm::append_range(shape, indices.getShape());
  llvm::append_range(shape, data.getShape().drop_front(axis + 1));
  types.push_back(tensorOf(shape, data.getElementType()));
  return success();
}

static LogicalResult inferTile(std::optional<Location> loc,
                               TileOp::Adaptor adaptor,
                               SmallVectorImpl<Type> &types) {
  auto x = rankedType(adaptor.getInput());
  ArrayRef<int64_t> repeats = adaptor.getRepeats();
  if ((int64_t)repeats.size() != x.getRank())
    return emitOptionalError(loc, "tile needs one repeat per dim");
  SmallVector<int64_t> shape;
  for (auto [d, r] : llvm::zip(x.getShape(), repeats)) {
    if (r < 0)
      return emitOptionalError(loc, "tile repeats must be non-negative");
    shape.push_back(d == kDyn ? kDyn : d * r);
  }
  types.push_back(tensorOf(shape, x.getElementType()));
  return success();
}

static void clampShapeRange(int64_t rank, int64_t &start, int64_t &end) {
  if (start < 0)
    start += rank;
  if (end < 0)
    end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  if (end < start)
    end = start;
}

static LogicalResult inferShape(std::optional<Location>,
                                ShapeOp::Adaptor adaptor,
                                SmallVectorImpl<Type> &types) {
  auto x = rankedType(adaptor.getInput());
  int64_t start = adaptor.getStart();
  int64_t end = adaptor.getEnd() ? *adaptor.getEnd() : x.getRank();
  clampShapeRange(x.getRank(), start, end);
  types.push_back(
      tensorOf({end - start}, IntegerType::get(x.getContext(), 64)));
  return success();
}

static LogicalResult inferPad(std::optional<Location> loc,
                              PadOp::Adaptor adaptor,
                              SmallVectorImpl<Type> &types) {
  auto x = rankedType(adaptor.getInput());
  ArrayRef<int64_t> pads = adaptor.getPads();
  int64_t rank = x.getRank();
  if ((int64_t)pads.size() != 2 * rank)
    return emitOptionalError(loc, "pad needs ", 2 * rank, " pads, got ",
                             pads.size());
  StringRef mode = adaptor.getMode();
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    return emitOptionalError(loc, "unknown pad mode '", mode, "'");
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t s = x.getDimSize(d);
    if (s == kDyn) {
      shape.push_back(kDyn);
      continue;
    }
    int64_t out = s + pads[d] + pads[d + rank];
    if (out < 0)
      return emitOptionalError(loc, "negative pads remove more than dim ", d,
                               " holds");
    shape.push_back(out);
  }
  types.push_back(tensorOf(shape, x.getElementType()));
  return success();
}

} // namespace sparq

//===----------------------------------------------------------------------===//
// Hand-written verifiers
//===----------------------------------------------------------------------===//

static LogicalResult verifyAxis(Operation *op, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return op->emitOpError("axis ")
           << axis << " is out of range for a rank-" << rank << " input";
  return success();
}

LogicalResult BatchNormOp::verify() {
  auto x = rankedType(getInput());
  if (x.getRank() < 2)
    return emitOpError("input must have rank >= 2");
  int64_t c = x.getDimSize(1);
  for (Value v : {getScale(), getBias(), getMean(), getVariance()}) {
    auto t = rankedType(v);
    if (t.getRank() != 1 || (c != kDyn && t.getDimSize(0) != kDyn &&
                             t.getDimSize(0) != c))
      return emitOpError("scale, bias, mean and variance must be vectors of ")
             << c << " elements";
  }
  return success();
}

LogicalResult LayerNormOp::verify() {
  return verifyAxis(*this, getAxis(), rankedType(getInput()).getRank());
}

LogicalResult AttentionOp::verify() {
  auto q = rankedType(getQuery()), k = rankedType(getKey()),
       v = rankedType(getValue()), out = rankedType(getResult());
  for (auto t : {q, k, v, out})
    if (t.getRank() != 4 || !t.hasStaticShape() || !t.getElementType().isF32())
      return emitOpError("query, key, value and result must be static rank-4 "
                         "f32 tensors");
  if (k.getShape() != v.getShape())
    return emitOpError("key and value must have one shape, got ")
           << shapeStr(k.getShape()) << " and " << shapeStr(v.getShape());
  if (q.getDimSize(0) != k.getDimSize(0) || q.getDimSize(2) != k.getDimSize(2) ||
      q.getDimSize(3) != k.getDimSize(3))
    return emitOpError("query [B, S, H, D] and key [B, T, H, D] disagree: ")
           << shapeStr(q.getShape()) << " and " << shapeStr(k.getShape());
  if (out.getShape() != q.getShape())
    return emitOpError("result must have the query's shape");
  // The scores are [B, H, S, T]; each mask dim is 1 or that size.
  const int64_t full[4] = {q.getDimSize(0), q.getDimSize(2), q.getDimSize(1),
                           k.getDimSize(1)};
  for (auto [mask, what] : {std::pair(getAddMask(), "add_mask"),
                            std::pair(getFillMask(), "fill_mask")}) {
    if (!mask)
      continue;
    auto m = rankedType(mask);
    bool ok = m.getRank() == 4 && m.hasStaticShape();
    for (int64_t i = 0; ok && i < 4; ++i)
      ok = m.getDimSize(i) == 1 || m.getDimSize(i) == full[i];
    if (!ok)
      return emitOpError() << what << " must be rank 4 and broadcast to "
                           << shapeStr(full) << ", got "
                           << shapeStr(m.getShape());
  }
  if (getAddMask() && !rankedType(getAddMask()).getElementType().isF32())
    return emitOpError("add_mask must be f32");
  if (getFillMask() && !rankedType(getFillMask()).getElementType().isInteger(1))
    return emitOpError("fill_mask must be i1");
  return success();
}

LogicalResult SoftmaxOp::verify() {
  return verifyAxis(*this, getAxis(), rankedType(getInput()).getRank());
}

LogicalResult LogSoftmaxOp::verify() {
  return verifyAxis(*this, getAxis(), rankedType(getInput()).getRank());
}

LogicalResult ReshapeOp::verify() {
  auto in = rankedType(getInput());
  auto out = rankedType(getResult());
  if (in.getElementType() != out.getElementType())
    return emitOpError("element type must not change");
  if (in.hasStaticShape() && out.hasStaticShape() &&
      in.getNumElements() != out.getNumElements())
    return emitOpError("cannot reshape ")
           << shapeStr(in.getShape()) << " (" << in.getNumElements()
           << " elements) to " << shapeStr(out.getShape()) << " ("
           << out.getNumElements() << " elements)";
  return success();
}

LogicalResult ExpandOp::verify() {
  auto in = rankedType(getInput());
  auto out = rankedType(getResult());
  if (in.getElementType() != out.getElementType())
    return emitOpError("element type must not change");
  SmallVector<int64_t> shape;
  if (in.getRank() > out.getRank() ||
      failed(broadcastShapes(in.getShape(), out.getShape(), shape)) ||
      failed(verifyCompatibleShape(shape, out.getShape())))
    return emitOpError("cannot broadcast ")
           << shapeStr(in.getShape()) << " to " << shapeStr(out.getShape());
  return success();
}

static LogicalResult verifyPackedWeight(Operation *op, Value packed) {
  auto t = rankedType(packed);
  if (t.getRank() != 1 || !t.getElementType().isInteger(8))
    return op->emitOpError("packed_weight must be a 1-d i8 tensor");
  return success();
}

LogicalResult SparseMatMulOp::verify() {
  if (failed(verifyPackedWeight(*this, getPackedWeight())))
    return failure();
  return detail::verifyPackedMatMulShapes(*this, getLhs(), getResult(),
                                          getRows(), getCols());
}

LogicalResult SparseConvOp::verify() {
  if (failed(verifyPackedWeight(*this, getPackedWeight())))
    return failure();
  auto x = rankedType(getInput());
  auto out = rankedType(getResult());
  if (x.getRank() != 4 || out.getRank() != 4 || getKernelShape().size() != 2)
    return emitOpError("sparse_conv is 2-d (rank-4 operands, 2 kernel dims)");
  if (out.getDimSize(1) != (int64_t)getRows())
    return emitOpError("result channels must equal rows");
  return checkWindowAttrs(getLoc(), 2, getStrides(), getPads(),
                          getDilations());
}

#define GET_OP_CLASSES
#include "sparq/Dialect/Sparq/IR/SparqOps.cpp.inc"
