//===- SparqFolders.cpp - constant folding of sparq ops --------------------===//
//
// Folders evaluate ops whose operands are small constants. This is what turns
// the shape arithmetic exporters emit (Shape -> Gather -> Unsqueeze -> Concat
// -> Reshape) into static shapes at import time, through createOrFold. Large
// tensors (weights) are never folded here; weight transforms are graph passes.
//
//===----------------------------------------------------------------------===//

#include "sparq/Dialect/Sparq/IR/Sparq.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/APInt.h"

#include <cmath>

using namespace mlir;
using namespace sparq;

/// Folding is limited to tensors of at most this many elements.
static constexpr int64_t kMaxFoldElements = 1 << 16;

/// Returns the operand's value when it is a small, dense constant.
static DenseElementsAttr smallConstant(Attribute attr) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense || dense.getNumElements() > kMaxFoldElements)
    return {};
  return dense;
}

static RankedTensorType resultType(Operation *op) {
  return cast<RankedTensorType>(op->getResult(0).getType());
}

/// Index of the operand element feeding result element `linear` under
/// multidirectional broadcasting.
static int64_t broadcastSource(int64_t linear, ArrayRef<int64_t> outShape,
                               ArrayRef<int64_t> inShape) {
  int64_t src = 0, stride = 1;
  int64_t offset = outShape.size() - inShape.size();
  for (int64_t d = outShape.size() - 1; d >= 0; --d) {
    int64_t coord = linear % outShape[d];
    linear /= outShape[d];
    if (d < offset)
      continue;
    int64_t inDim = inShape[d - offset];
    if (inDim != 1)
      src += coord * stride;
    stride *= inDim;
  }
  return src;
}

namespace {
/// Scalar view of one element: integer ops use APInt with the type's
/// signedness, float ops use APFloat.
struct ScalarFn {
  std::function<std::optional<APInt>(const APInt &, const APInt &, bool)> ints;
  std::function<std::optional<APFloat>(const APFloat &, const APFloat &)>
      floats;
  bool boolResult = false;
};
} // namespace

static OpFoldResult foldBinary(Operation *op, Attribute lhsAttr,
                               Attribute rhsAttr, const ScalarFn &fn) {
  DenseElementsAttr lhs = smallConstant(lhsAttr), rhs = smallConstant(rhsAttr);
  RankedTensorType outType = resultType(op);
  if (!lhs || !rhs || !outType.hasStaticShape() ||
      outType.getNumElements() > kMaxFoldElements)
    return {};
  Type elementType = lhs.getElementType();
  ArrayRef<int64_t> outShape = outType.getShape();
  ArrayRef<int64_t> lShape = lhs.getType().getShape();
  ArrayRef<int64_t> rShape = rhs.getType().getShape();
  int64_t n = outType.getNumElements();
  if (auto intType = dyn_cast<IntegerType>(elementType)) {
    if (!fn.ints)
      return {};
    bool isUnsigned = intType.isUnsigned() || intType.getWidth() == 1;
    auto lv = llvm::to_vector(lhs.getValues<APInt>());
    auto rv = llvm::to_vector(rhs.getValues<APInt>());
    SmallVector<APInt> out;
    out.reserve(n);
    for (int64_t i = 0; i < n; ++i) {
      std::optional<APInt> r =
          fn.ints(lv[broadcastSource(i, outShape, lShape)],
                  rv[broadcastSource(i, outShape, rShape)], isUnsigned);
      if (!r)
        return {};
      out.push_back(*r);
    }
    return DenseElementsAttr::get(outType, out);
  }
  if (isa<FloatType>(elementType)) {
    if (!fn.floats)
      return {};
    auto lv = llvm::to_vector(lhs.getValues<APFloat>());
    auto rv = llvm::to_vector(rhs.getValues<APFloat>());
    SmallVector<APFloat> out;
    SmallVector<APInt> bools;
    for (int64_t i = 0; i < n; ++i) {
      std::optional<APFloat> r =
          fn.floats(lv[broadcastSource(i, outShape, lShape)],
                    rv[broadcastSource(i, outShape, rShape)]);
      if (!r)
        return {};
      if (fn.boolResult)
        bools.push_back(APInt(1, r->isNonZero() ? 1 : 0));
      else
        out.push_back(*r);
    }
    if (fn.boolResult)
      return DenseElementsAttr::get(outType, bools);
    return DenseElementsAttr::get(outType, out);
  }
  return {};
}

static APInt boolInt(bool b) { return APInt(1, b ? 1 : 0); }
static APFloat boolFloat(bool b) { return APFloat(b ? 1.0f : 0.0f); }

template <typename IntOp, typename FloatOp>
static ScalarFn arith(IntOp intOp, FloatOp floatOp) {
  ScalarFn fn;
  fn.ints = intOp;
  fn.floats = floatOp;
  return fn;
}

static ScalarFn compare(std::function<bool(int)> pred) {
  ScalarFn fn;
  fn.ints = [pred](const APInt &a, const APInt &b, bool isUnsigned) {
    int c = isUnsigned ? (a.ult(b) ? -1 : (a == b ? 0 : 1))
                       : (a.slt(b) ? -1 : (a == b ? 0 : 1));
    return std::optional<APInt>(boolInt(pred(c)));
  };
  fn.floats = [pred](const APFloat &a, const APFloat &b) {
    APFloat::cmpResult r = a.compare(b);
    if (r == APFloat::cmpUnordered)
      return std::optional<APFloat>(boolFloat(false));
    int c = r == APFloat::cmpLessThan ? -1 : (r == APFloat::cmpEqual ? 0 : 1);
    return std::optional<APFloat>(boolFloat(pred(c)));
  };
  fn.boolResult = true;
  return fn;
}

using OptInt = std::optional<APInt>;
using OptFloat = std::optional<APFloat>;

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      *this, adaptor.getLhs(), adaptor.getRhs(),
      arith([](const APInt &a, const APInt &b, bool) -> OptInt { return a + b; },
            [](APFloat a, const APFloat &b) -> OptFloat {
              a.add(b, APFloat::rmNearestTiesToEven);
              return a;
            }));
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      *this, adaptor.getLhs(), adaptor.getRhs(),
      arith([](const APInt &a, const APInt &b, bool) -> OptInt { return a - b; },
            [](APFloat a, const APFloat &b) -> OptFloat {
              a.subtract(b, APFloat::rmNearestTiesToEven);
              return a;
            }));
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      *this, adaptor.getLhs(), adaptor.getRhs(),
      arith([](const APInt &a, const APInt &b, bool) -> OptInt { return a * b; },
            [](APFloat a, const APFloat &b) -> OptFloat {
              a.multiply(b, APFloat::rmNearestTiesToEven);
              return a;
            }));
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      *this, adaptor.getLhs(), adaptor.getRhs(),
      arith(
          [](const APInt &a, const APInt &b, bool isUnsigned) -> OptInt {
            if (b.isZero())
              return std::nullopt;
            return isUnsigned ? a.udiv(b) : a.sdiv(b);
          },
          [](APFloat a, const APFloat &b) -> OptFloat {
            a.divide(b, APFloat::rmNearestTiesToEven);
            return a;
          }));
}

OpFoldResult MinOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      *this, adaptor.getLhs(), adaptor.getRhs(),
      arith(
          [](const APInt &a, const APInt &b, bool isUnsigned) -> OptInt {
            return isUnsigned ? (a.ult(b) ? a : b) : (a.slt(b) ? a : b);
          },
          [](const APFloat &a, const APFloat &b) -> OptFloat {
            return llvm::minimum(a, b);
          }));
}

OpFoldResult MaxOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      *this, adaptor.getLhs(), adaptor.getRhs(),
      arith(
          [](const APInt &a, const APInt &b, bool isUnsigned) -> OptInt {
            return isUnsigned ? (a.ugt(b) ? a : b) : (a.sgt(b) ? a : b);
          },
          [](const APFloat &a, const APFloat &b) -> OptFloat {
            return llvm::maximum(a, b);
          }));
}

// Folding these is rarely useful for shapes; they lower instead.
OpFoldResult PowOp::fold(FoldAdaptor) { return {}; }
OpFoldResult ModOp::fold(FoldAdaptor) { return {}; }
OpFoldResult PReluOp::fold(FoldAdaptor) { return {}; }

OpFoldResult AndOp::fold(FoldAdaptor adaptor) {
  return foldBinary(*this, adaptor.getLhs(), adaptor.getRhs(),
                    arith([](const APInt &a, const APInt &b,
                             bool) -> OptInt { return a & b; },
                          nullptr));
}

OpFoldResult OrOp::fold(FoldAdaptor adaptor) {
  return foldBinary(*this, adaptor.getLhs(), adaptor.getRhs(),
                    arith([](const APInt &a, const APInt &b,
                             bool) -> OptInt { return a | b; },
                          nullptr));
}

OpFoldResult XorOp::fold(FoldAdaptor adaptor) {
  return foldBinary(*this, adaptor.getLhs(), adaptor.getRhs(),
                    arith([](const APInt &a, const APInt &b,
                             bool) -> OptInt { return a ^ b; },
                          nullptr));
}

OpFoldResult EqualOp::fold(FoldAdaptor adaptor) {
  return foldBinary(*this, adaptor.getLhs(), adaptor.getRhs(),
                    compare([](int c) { return c == 0; }));
}
OpFoldResult LessOp::fold(FoldAdaptor adaptor) {
  return foldBinary(*this, adaptor.getLhs(), adaptor.getRhs(),
                    compare([](int c) { return c < 0; }));
}
OpFoldResult LessOrEqualOp::fold(FoldAdaptor adaptor) {
  return foldBinary(*this, adaptor.getLhs(), adaptor.getRhs(),
                    compare([](int c) { return c <= 0; }));
}
OpFoldResult GreaterOp::fold(FoldAdaptor adaptor) {
  return foldBinary(*this, adaptor.getLhs(), adaptor.getRhs(),
                    compare([](int c) { return c > 0; }));
}
OpFoldResult GreaterOrEqualOp::fold(FoldAdaptor adaptor) {
  return foldBinary(*this, adaptor.getLhs(), adaptor.getRhs(),
                    compare([](int c) { return c >= 0; }));
}

//===----------------------------------------------------------------------===//
// Ops that move data around
//===----------------------------------------------------------------------===//

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

OpFoldResult IdentityOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput()))
    if (getType().hasStaticShape())
      return dense.reshape(getType());
  return {};
}

/// Gathers `source` element by element: out[i] = source[index(i)].
static DenseElementsAttr gatherElements(DenseElementsAttr source,
                                        RankedTensorType outType,
                                        function_ref<int64_t(int64_t)> index) {
  int64_t n = outType.getNumElements();
  if (source.isSplat())
    return DenseElementsAttr::get(outType, source.getSplatValue<Attribute>());
  auto values = llvm::to_vector(source.getValues<Attribute>());
  SmallVector<Attribute> out;
  out.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    int64_t src = index(i);
    if (src < 0 || src >= (int64_t)values.size())
      return {};
    out.push_back(values[src]);
  }
  return DenseElementsAttr::get(outType, out);
}

static bool foldableOutput(RankedTensorType type) {
  return type.hasStaticShape() && type.getNumElements() <= kMaxFoldElements;
}

OpFoldResult ExpandOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  DenseElementsAttr in = smallConstant(adaptor.getInput());
  if (!in || !foldableOutput(getType()))
    return {};
  ArrayRef<int64_t> outShape = getType().getShape();
  ArrayRef<int64_t> inShape = in.getType().getShape();
  return gatherElements(in, getType(), [&](int64_t i) {
    return broadcastSource(i, outShape, inShape);
  });
}

/// Row-major strides of a static shape.
static SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = (int64_t)shape.size() - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  ArrayRef<int64_t> perm = getPerm();
  if (llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())))
    return getInput();
  DenseElementsAttr in = smallConstant(adaptor.getInput());
  if (!in || !foldableOutput(getType()))
    return {};
  ArrayRef<int64_t> outShape = getType().getShape();
  SmallVector<int64_t> inStrides = stridesOf(in.getType().getShape());
  return gatherElements(in, getType(), [&](int64_t i) {
    int64_t src = 0;
    for (int64_t d = outShape.size() - 1; d >= 0; --d) {
      src += (i % outShape[d]) * inStrides[perm[d]];
      i /= outShape[d];
    }
    return src;
  });
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType() &&
      llvm::all_of(getStarts(), [](int64_t s) { return s == 0; }) &&
      llvm::all_of(getSteps(), [](int64_t s) { return s == 1; }))
    return getInput();
  DenseElementsAttr in = smallConstant(adaptor.getInput());
  if (!in || !foldableOutput(getType()))
    return {};
  ArrayRef<int64_t> outShape = getType().getShape();
  SmallVector<int64_t> inStrides = stridesOf(in.getType().getShape());
  ArrayRef<int64_t> starts = getStarts(), steps = getSteps();
  return gatherElements(in, getType(), [&](int64_t i) {
    int64_t src = 0;
    for (int64_t d = outShape.size() - 1; d >= 0; --d) {
      src += (starts[d] + (i % outShape[d]) * steps[d]) * inStrides[d];
      i /= outShape[d];
    }
    return src;
  });
}

OpFoldResult ConcatOp::fold(FoldAdaptor adaptor) {
  if (getInputs().size() == 1 && getInputs()[0].getType() == getType())
    return getInputs()[0];
  if (!foldableOutput(getType()))
    return {};
  SmallVector<DenseElementsAttr> parts;
  for (Attribute a : adaptor.getInputs()) {
    DenseElementsAttr d = smallConstant(a);
    if (!d)
      return {};
    parts.push_back(d);
  }
  int64_t axis = getAxis();
  ArrayRef<int64_t> outShape = getType().getShape();
  // outer = product of dims before axis; each part contributes a chunk of
  // (its axis size * inner) elements per outer index.
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= outShape[d];
  SmallVector<Attribute> out;
  SmallVector<SmallVector<Attribute>> values;
  for (DenseElementsAttr p : parts)
    values.push_back(llvm::to_vector(p.getValues<Attribute>()));
  for (int64_t o = 0; o < outer; ++o)
    for (auto [p, vals] : llvm::zip(parts, values)) {
      int64_t chunk = p.getNumElements() / std::max<int64_t>(outer, 1);
      for (int64_t j = 0; j < chunk; ++j)
        out.push_back(vals[o * chunk + j]);
    }
  return DenseElementsAttr::get(getType(), out);
}

OpFoldResult GatherOp::fold(FoldAdaptor adaptor) {
  DenseElementsAttr data = smallConstant(adaptor.getData());
  DenseElementsAttr indices = smallConstant(adaptor.getIndices());
  if (!data || !indices || !foldableOutput(getType()))
    return {};
  int64_t axis = getAxis();
  ArrayRef<int64_t> dataShape = data.getType().getShape();
  int64_t axisDim = dataShape[axis];
  int64_t inner = 1;
  for (int64_t d = axis + 1; d < (int64_t)dataShape.size(); ++d)
    inner *= dataShape[d];
  SmallVector<int64_t> idx;
  for (const APInt &v : indices.getValues<APInt>()) {
    int64_t i = v.getSExtValue();
    if (i < 0)
      i += axisDim;
    if (i < 0 || i >= axisDim)
      return {};
    idx.push_back(i);
  }
  int64_t numIdx = idx.size();
  return gatherElements(data, getType(), [&](int64_t i) {
    int64_t in = i % inner;
    int64_t rest = i / inner;
    int64_t k = rest % numIdx;
    int64_t outer = rest / numIdx;
    return (outer * axisDim + idx[k]) * inner + in;
  });
}

OpFoldResult ShapeOp::fold(FoldAdaptor) {
  auto in = cast<RankedTensorType>(getInput().getType());
  int64_t n = getType().getDimSize(0);
  int64_t start = getStart();
  if (start < 0)
    start += in.getRank();
  start = std::clamp<int64_t>(start, 0, in.getRank());
  SmallVector<APInt> dims;
  for (int64_t d = start; d < start + n; ++d) {
    if (in.isDynamicDim(d))
      return {};
    dims.push_back(APInt(64, in.getDimSize(d)));
  }
  return DenseElementsAttr::get(getType(), dims);
}

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  DenseElementsAttr in = smallConstant(adaptor.getInput());
  if (!in)
    return {};
  Type from = in.getElementType(), to = getType().getElementType();
  SmallVector<Attribute> out;
  for (Attribute a : in.getValues<Attribute>()) {
    // Go through double / int64, which is exact for shape math.
    if (auto i = dyn_cast<IntegerAttr>(a)) {
      bool isUnsigned = from.isUnsignedInteger() || from.isInteger(1);
      int64_t v = isUnsigned ? (int64_t)i.getValue().getZExtValue()
                             : i.getValue().getSExtValue();
      if (auto intTo = dyn_cast<IntegerType>(to))
        out.push_back(IntegerAttr::get(
            to, intTo.getWidth() == 1 ? APInt(1, v != 0)
                                      : APInt(intTo.getWidth(), v, true, true)));
      else if (isa<FloatType>(to))
        out.push_back(FloatAttr::get(to, (double)v));
      else
        return {};
    } else if (auto f = dyn_cast<FloatAttr>(a)) {
      double v = f.getValueAsDouble();
      if (auto intTo = dyn_cast<IntegerType>(to)) {
        if (!std::isfinite(v))
          return {};
        out.push_back(IntegerAttr::get(
            to, intTo.getWidth() == 1
                    ? APInt(1, v != 0.0)
                    : APInt(intTo.getWidth(), (int64_t)std::trunc(v), true,
                            true)));
      } else if (isa<FloatType>(to)) {
        out.push_back(FloatAttr::get(to, v));
      } else {
        return {};
      }
    } else {
      return {};
    }
  }
  return DenseElementsAttr::get(getType(), out);
}

OpFoldResult WhereOp::fold(FoldAdaptor adaptor) {
  DenseElementsAttr cond = smallConstant(adaptor.getCondition());
  DenseElementsAttr x = smallConstant(adaptor.getX());
  DenseElementsAttr y = smallConstant(adaptor.getY());
  if (!cond || !x || !y || !foldableOutput(getType()))
    return {};
  ArrayRef<int64_t> outShape = getType().getShape();
  auto c = llvm::to_vector(cond.getValues<bool>());
  auto xv = llvm::to_vector(x.getValues<Attribute>());
  auto yv = llvm::to_vector(y.getValues<Attribute>());
  SmallVector<Attribute> out;
  for (int64_t i = 0, e = getType().getNumElements(); i < e; ++i)
    out.push_back(c[broadcastSource(i, outShape, cond.getType().getShape())]
                      ? xv[broadcastSource(i, outShape, x.getType().getShape())]
                      : yv[broadcastSource(i, outShape,
                                           y.getType().getShape())]);
  return DenseElementsAttr::get(getType(), out);
}
