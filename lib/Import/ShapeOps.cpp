//===- ShapeOps.cpp - Importers of ONNX shape and constant ops ------------===//
//
// Ops that only change or report shapes (Reshape, Flatten, Squeeze,
// Unsqueeze, Expand, Shape, Size, Identity, Dropout) and ops that produce
// constants (Constant, ConstantOfShape, Range). The importer resolves ONNX's
// shape operands (0/-1 entries, axes) into explicit result types.
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"

#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;
using namespace sparq;
using namespace sparq::onnx_import;

static constexpr int64_t kDyn = ShapedType::kDynamic;

namespace {

/// Element count limit for constants the importer materializes itself.
constexpr int64_t kMaxMaterializedElements = int64_t(1) << 26;

LogicalResult importReshape(NodeContext &n) {
  if (failed(n.checkInputs(2, 2)))
    return failure();
  Value x = n.input(0);
  RankedTensorType type = NodeContext::typeOf(x);
  FailureOr<SmallVector<int64_t>> requested = n.constIntsInput(1, "shape");
  FailureOr<int64_t> allowZero = n.intAttr("allowzero", 0);
  if (failed(requested) || failed(allowZero))
    return failure();
  SmallVector<int64_t> shape;
  int64_t inferred = -1;
  for (auto [i, d] : llvm::enumerate(*requested)) {
    if (d == 0 && *allowZero == 0) {
      if ((int64_t)i >= type.getRank())
        return n.fail("shape entry " + Twine(i) + " is 0 (copy) but the "
                      "input has rank " + Twine(type.getRank()));
      shape.push_back(type.getDimSize(i));
    } else if (d == -1) {
      if (inferred >= 0)
        return n.fail("shape has more than one -1 entry");
      inferred = i;
      shape.push_back(kDyn);
    } else if (d < 0) {
      return n.fail("shape entry " + Twine(i) + " is negative (" + Twine(d) +
                    ")");
    } else {
      shape.push_back(d);
    }
  }
  if (*allowZero != 0 && inferred >= 0 && llvm::is_contained(*requested, 0))
    return n.fail("shape has both 0 and -1 entries with allowzero=1");
  int64_t known = 1;
  bool knownStatic = true;
  for (auto [i, d] : llvm::enumerate(shape)) {
    if ((int64_t)i == inferred)
      continue;
    if (d == kDyn)
      knownStatic = false;
    else if (llvm::MulOverflow(known, d, known))
      return n.fail("shape has more elements than int64 holds");
  }
  if (inferred >= 0 && knownStatic && type.hasStaticShape()) {
    int64_t total = type.getNumElements();
    if (known == 0 || total % known != 0)
      return n.fail("cannot reshape " + Twine(total) +
                    " elements: the -1 dim does not divide evenly");
    shape[inferred] = total / known;
  }
  if (knownStatic && inferred < 0 && type.hasStaticShape() &&
      known != type.getNumElements())
    return n.fail("cannot reshape " + Twine(type.getNumElements()) +
                  " elements into " + Twine(known));
  FailureOr<Value> r = n.reshape(x, shape);
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

/// Product of dims; kDyn when any is dynamic.
int64_t product(ArrayRef<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims) {
    if (d == kDyn)
      return kDyn;
    p *= d;
  }
  return p;
}

LogicalResult importFlatten(NodeContext &n) {
  if (failed(n.checkInputs(1, 1)))
    return failure();
  Value x = n.input(0);
  ArrayRef<int64_t> shape = NodeContext::typeOf(x).getShape();
  int64_t rank = shape.size();
  FailureOr<int64_t> axis = n.intAttr("axis", 1);
  if (failed(axis))
    return failure();
  if (*axis < -rank || *axis > rank)
    return n.fail("axis " + Twine(*axis) + " is out of range for rank " +
                  Twine(rank));
  int64_t a = *axis < 0 ? *axis + rank : *axis;
  SmallVector<int64_t> flat = {product(shape.take_front(a)),
                               product(shape.drop_front(a))};
  if (flat[0] == kDyn && flat[1] == kDyn)
    return n.fail("flattening dynamic dims on both sides of the axis is "
                  "unsupported");
  FailureOr<Value> r = n.reshape(x, flat);
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

/// Reads the axes of Squeeze/Unsqueeze: an attribute before opset 13, an
/// (optional for Squeeze) constant input from then on.
FailureOr<SmallVector<int64_t>> squeezeAxes(NodeContext &n, bool required,
                                            bool &present) {
  present = false;
  if (n.opset < 13) {
    if (failed(n.checkInputs(1, 1)))
      return failure();
    if (!n.hasAttr("axes")) {
      if (required)
        return n.fail("missing required attribute 'axes'");
      return SmallVector<int64_t>{};
    }
    present = true;
    return n.intsAttr("axes", std::nullopt);
  }
  if (failed(n.checkInputs(required ? 2 : 1, 2)))
    return failure();
  if (!n.hasInput(1))
    return SmallVector<int64_t>{};
  present = true;
  return n.constIntsInput(1, "axes");
}

LogicalResult importSqueeze(NodeContext &n) {
  bool present;
  FailureOr<SmallVector<int64_t>> axes = squeezeAxes(n, false, present);
  if (failed(axes))
    return failure();
  Value x = n.input(0);
  ArrayRef<int64_t> shape = NodeContext::typeOf(x).getShape();
  int64_t rank = shape.size();
  SmallVector<int64_t> drop;
  if (!present) {
    for (int64_t d = 0; d < rank; ++d) {
      if (shape[d] == kDyn)
        return n.fail("squeezing without axes needs static dims");
      if (shape[d] == 1)
        drop.push_back(d);
    }
  } else {
    FailureOr<SmallVector<int64_t>> norm = n.normalizeAxes(*axes, rank, "axes");
    if (failed(norm))
      return failure();
    for (int64_t d : *norm)
      if (shape[d] != 1 && shape[d] != kDyn)
        return n.fail("cannot squeeze dim " + Twine(d) + " of size " +
                      Twine(shape[d]));
    drop = *norm;
  }
  SmallVector<int64_t> result;
  for (int64_t d = 0; d < rank; ++d)
    if (!llvm::is_contained(drop, d))
      result.push_back(shape[d]);
  FailureOr<Value> r = n.reshape(x, result);
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importUnsqueeze(NodeContext &n) {
  bool present;
  FailureOr<SmallVector<int64_t>> axes = squeezeAxes(n, true, present);
  if (failed(axes))
    return failure();
  Value x = n.input(0);
  ArrayRef<int64_t> shape = NodeContext::typeOf(x).getShape();
  int64_t outRank = shape.size() + axes->size();
  FailureOr<SmallVector<int64_t>> norm =
      n.normalizeAxes(*axes, outRank, "axes");
  if (failed(norm))
    return failure();
  SmallVector<int64_t> result;
  unsigned next = 0;
  for (int64_t d = 0; d < outRank; ++d)
    result.push_back(llvm::is_contained(*norm, d) ? 1 : shape[next++]);
  FailureOr<Value> r = n.reshape(x, result);
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importExpand(NodeContext &n) {
  if (failed(n.checkInputs(2, 2)))
    return failure();
  Value x = n.input(0);
  FailureOr<SmallVector<int64_t>> target = n.constIntsInput(1, "shape");
  if (failed(target))
    return failure();
  for (int64_t d : *target)
    if (d < 0)
      return n.fail("shape entry " + Twine(d) + " is negative");
  RankedTensorType type = NodeContext::typeOf(x);
  SmallVector<int64_t> shape;
  if (failed(broadcastShapes(type.getShape(), *target, shape)))
    return n.fail("cannot broadcast the input to the requested shape");
  if (failed(checkedNumElements(llvm::to_vector(llvm::make_filter_range(
          shape, [](int64_t d) { return d != kDyn; })))))
    return n.fail("the expanded shape has more elements than int64 holds");
  FailureOr<Value> r = shape == type.getShape()
                           ? FailureOr<Value>(x)
                           : n.createTyped<ExpandOp>(
                                 RankedTensorType::get(shape,
                                                       type.getElementType()),
                                 x);
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importShape(NodeContext &n) {
  if (failed(n.checkInputs(1, 1)))
    return failure();
  FailureOr<int64_t> start = n.intAttr("start", 0);
  if (failed(start))
    return failure();
  IntegerAttr end;
  if (n.hasAttr("end")) {
    FailureOr<int64_t> e = n.intAttr("end", std::nullopt);
    if (failed(e))
      return failure();
    end = n.i64(*e);
  }
  FailureOr<Value> r = n.create<ShapeOp>(n.input(0), n.i64(*start), end);
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importSize(NodeContext &n) {
  if (failed(n.checkInputs(1, 1)))
    return failure();
  RankedTensorType type = NodeContext::typeOf(n.input(0));
  if (!type.hasStaticShape())
    return n.fail("Size of a tensor with dynamic dims is unsupported");
  n.setOutput(0, n.scalarConstant(n.builder.getI64Type(),
                                  (double)type.getNumElements()));
  return success();
}

LogicalResult importIdentity(NodeContext &n) {
  if (failed(n.checkInputs(1, 1)))
    return failure();
  n.setOutput(0, n.input(0));
  return success();
}

LogicalResult importDropout(NodeContext &n) {
  if (failed(n.checkInputs(1, n.opset >= 12 ? 3 : 1)))
    return failure();
  if (failed(n.checkOutputsUnused(1, "the dropout mask is unsupported")))
    return failure();
  if (n.hasInput(2)) {
    FailureOr<double> training = n.constScalarInput(2, "training_mode");
    if (failed(training))
      return failure();
    if (*training != 0)
      return n.fail("training_mode=true is unsupported (inference only)");
  }
  n.setOutput(0, n.input(0));
  return success();
}

LogicalResult importConstant(NodeContext &n) {
  if (failed(n.checkInputs(0, 0)))
    return failure();
  if (n.node.attribute_size() != 1)
    return n.fail("expected exactly one value attribute, got " +
                  Twine(n.node.attribute_size()));
  const onnx::AttributeProto &a = n.node.attribute(0);
  StringRef name = a.name();
  Builder &b = n.builder;
  ElementsAttr value;
  if (name == "value") {
    FailureOr<ElementsAttr> t = n.tensorAttr("value");
    if (failed(t))
      return failure();
    value = *t;
  } else if (name == "value_float") {
    FailureOr<float> f = n.floatAttr(name, std::nullopt);
    if (failed(f))
      return failure();
    value = DenseElementsAttr::get(RankedTensorType::get({}, b.getF32Type()),
                                   *f);
  } else if (name == "value_floats") {
    FailureOr<SmallVector<float>> f = n.floatsAttr(name);
    if (failed(f))
      return failure();
    value = DenseElementsAttr::get(
        RankedTensorType::get({(int64_t)f->size()}, b.getF32Type()),
        ArrayRef<float>(*f));
  } else if (name == "value_int") {
    FailureOr<int64_t> i = n.intAttr(name, std::nullopt);
    if (failed(i))
      return failure();
    value = DenseElementsAttr::get(RankedTensorType::get({}, b.getI64Type()),
                                   *i);
  } else if (name == "value_ints") {
    FailureOr<SmallVector<int64_t>> i = n.intsAttr(name, std::nullopt);
    if (failed(i))
      return failure();
    value = DenseElementsAttr::get(
        RankedTensorType::get({(int64_t)i->size()}, b.getI64Type()),
        ArrayRef<int64_t>(*i));
  } else if (name == "sparse_value") {
    return n.fail("sparse_value constants are unsupported");
  } else if (name == "value_string" || name == "value_strings") {
    return n.fail("string constants are unsupported");
  } else {
    return n.fail("unknown attribute '" + name + "'");
  }
  n.setOutput(0, n.constant(value));
  return success();
}

LogicalResult importConstantOfShape(NodeContext &n) {
  if (failed(n.checkInputs(1, 1)))
    return failure();
  FailureOr<SmallVector<int64_t>> shape = n.constIntsInput(0, "shape");
  if (failed(shape))
    return failure();
  for (int64_t d : *shape)
    if (d < 0)
      return n.fail("shape entry " + Twine(d) + " is negative");
  if (failed(checkedNumElements(*shape)))
    return n.fail("shape has more elements than int64 holds");
  Attribute element = n.builder.getF32FloatAttr(0.0f);
  if (n.hasAttr("value")) {
    FailureOr<ElementsAttr> v = n.tensorAttr("value");
    if (failed(v))
      return failure();
    auto dense = dyn_cast<DenseElementsAttr>(*v);
    if (!dense || dense.getNumElements() != 1)
      return n.fail("attribute 'value' must hold exactly one element");
    element = *dense.getValues<Attribute>().begin();
  }
  Type et = cast<TypedAttr>(element).getType();
  auto type = RankedTensorType::get(*shape, et);
  n.setOutput(0, n.constant(DenseElementsAttr::get(type, element)));
  return success();
}

LogicalResult importRange(NodeContext &n) {
  if (failed(n.checkInputs(3, 3)))
    return failure();
  Type et = NodeContext::typeOf(n.input(0)).getElementType();
  for (unsigned i = 0; i < 3; ++i)
    if (!n.constantInput(i))
      return n.fail("start, limit and delta must be constants (dynamic "
                    "ranges are unsupported)");
  FailureOr<double> start = n.constScalarInput(0, "start");
  FailureOr<double> limit = n.constScalarInput(1, "limit");
  FailureOr<double> delta = n.constScalarInput(2, "delta");
  if (failed(start) || failed(limit) || failed(delta))
    return failure();
  if (*delta == 0)
    return n.fail("delta must be non-zero");
  double count = std::ceil((*limit - *start) / *delta);
  if (!(count <= (double)kMaxMaterializedElements))
    return n.fail("the range has too many elements");
  int64_t size = std::max<int64_t>(0, (int64_t)count);
  auto type = RankedTensorType::get({size}, et);
  SmallVector<Attribute> elements;
  for (int64_t i = 0; i < size; ++i) {
    if (auto ft = dyn_cast<FloatType>(et)) {
      elements.push_back(n.builder.getFloatAttr(ft, *start + i * *delta));
    } else if (isa<IntegerType>(et)) {
      elements.push_back(n.builder.getIntegerAttr(
          et, (int64_t)*start + i * (int64_t)*delta));
    } else {
      return n.fail("unsupported element type");
    }
  }
  n.setOutput(0, n.constant(DenseElementsAttr::get(type, elements)));
  return success();
}

} // namespace

void sparq::onnx_import::registerShapeImporters(OpImporterRegistry &registry) {
  registry["Reshape"] = importReshape;
  registry["Flatten"] = importFlatten;
  registry["Squeeze"] = importSqueeze;
  registry["Unsqueeze"] = importUnsqueeze;
  registry["Expand"] = importExpand;
  registry["Shape"] = importShape;
  registry["Size"] = importSize;
  registry["Identity"] = importIdentity;
  registry["Dropout"] = importDropout;
  registry["Constant"] = importConstant;
  registry["ConstantOfShape"] = importConstantOfShape;
  registry["Range"] = importRange;
}
