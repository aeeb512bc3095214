//===- NodeContext.cpp - Operands, attributes and op building for nodes ---===//
//
// The helpers every op importer shares: checked attribute accessors (wrong
// type, missing, wrong length all become diagnostics), constant-operand
// readers, axis normalization, and the final step of building an op (verify,
// then fold so shape arithmetic collapses into constants at import time).
//
//===----------------------------------------------------------------------===//

#include "Initializers.h"
#include "NodeImporter.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace sparq;
using namespace sparq::onnx_import;

LogicalResult NodeContext::fail(const llvm::Twine &reason) {
  return emitError(loc) << reason;
}

//===----------------------------------------------------------------------===//
// Operands and results
//===----------------------------------------------------------------------===//

bool NodeContext::hasInput(unsigned i) const {
  return i < numInputs() && !node.input(i).empty();
}

Value NodeContext::input(unsigned i) const {
  if (!hasInput(i))
    return {};
  return values.lookup(node.input(i));
}

LogicalResult NodeContext::checkInputs(unsigned min, unsigned max) {
  unsigned present = 0;
  for (unsigned i = 0; i < numInputs(); ++i)
    if (hasInput(i))
      present = i + 1;
  for (unsigned i = 0; i < min; ++i)
    if (!hasInput(i))
      return fail("expected at least " + llvm::Twine(min) +
                  " inputs, input " + llvm::Twine(i) + " is missing");
  if (present > max)
    return fail("expected at most " + llvm::Twine(max) + " inputs, got " +
                llvm::Twine(present));
  return success();
}

bool NodeContext::outputUsed(unsigned i) const {
  return i < numOutputs() && !node.output(i).empty() &&
         usedNames.contains(node.output(i));
}

LogicalResult NodeContext::checkOutputsUnused(unsigned first,
                                              llvm::StringRef why) {
  for (unsigned i = first; i < numOutputs(); ++i)
    if (outputUsed(i))
      return fail("output " + llvm::Twine(i) + " ('" + node.output(i) +
                  "') is used but " + why);
  return success();
}

void NodeContext::setOutput(unsigned i, Value v) {
  if (i < numOutputs() && !node.output(i).empty())
    values[node.output(i)] = v;
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

const onnx::AttributeProto *NodeContext::attr(llvm::StringRef name) const {
  for (const onnx::AttributeProto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

/// True when `a` holds the given kind. Attributes without a type tag (very
/// old exporters) are accepted when the matching field is set.
static bool isKind(const onnx::AttributeProto &a,
                   onnx::AttributeProto::AttributeType kind, bool fieldSet) {
  if (a.type() == onnx::AttributeProto::UNDEFINED)
    return fieldSet;
  return a.type() == kind;
}

static std::string kindName(const onnx::AttributeProto &a) {
  return onnx::AttributeProto_AttributeType_Name(a.type());
}

FailureOr<int64_t> NodeContext::intAttr(llvm::StringRef name,
                                        std::optional<int64_t> dflt) {
  const onnx::AttributeProto *a = attr(name);
  if (!a) {
    if (dflt)
      return *dflt;
    return fail("missing required attribute '" + name + "'");
  }
  if (!isKind(*a, onnx::AttributeProto::INT, a->has_i()))
    return fail("attribute '" + name + "' must be an INT, got " +
                kindName(*a));
  return a->i();
}

FailureOr<float> NodeContext::floatAttr(llvm::StringRef name,
                                        std::optional<float> dflt) {
  const onnx::AttributeProto *a = attr(name);
  if (!a) {
    if (dflt)
      return *dflt;
    return fail("missing required attribute '" + name + "'");
  }
  if (!isKind(*a, onnx::AttributeProto::FLOAT, a->has_f()))
    return fail("attribute '" + name + "' must be a FLOAT, got " +
                kindName(*a));
  return a->f();
}

FailureOr<std::string>
NodeContext::stringAttr(llvm::StringRef name, std::optional<std::string> dflt) {
  const onnx::AttributeProto *a = attr(name);
  if (!a) {
    if (dflt)
      return *dflt;
    return fail("missing required attribute '" + name + "'");
  }
  if (!isKind(*a, onnx::AttributeProto::STRING, a->has_s()))
    return fail("attribute '" + name + "' must be a STRING, got " +
                kindName(*a));
  return a->s();
}

FailureOr<llvm::SmallVector<int64_t>>
NodeContext::intsAttr(llvm::StringRef name,
                      std::optional<llvm::SmallVector<int64_t>> dflt) {
  const onnx::AttributeProto *a = attr(name);
  if (!a) {
    if (dflt)
      return *dflt;
    return fail("missing required attribute '" + name + "'");
  }
  if (!isKind(*a, onnx::AttributeProto::INTS, a->ints_size() > 0))
    return fail("attribute '" + name + "' must be INTS, got " + kindName(*a));
  return llvm::SmallVector<int64_t>(a->ints().begin(), a->ints().end());
}

FailureOr<llvm::SmallVector<float>>
NodeContext::floatsAttr(llvm::StringRef name) {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return fail("missing required attribute '" + name + "'");
  if (!isKind(*a, onnx::AttributeProto::FLOATS, a->floats_size() > 0))
    return fail("attribute '" + name + "' must be FLOATS, got " +
                kindName(*a));
  return llvm::SmallVector<float>(a->floats().begin(), a->floats().end());
}

FailureOr<ElementsAttr> NodeContext::tensorAttr(llvm::StringRef name) {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return fail("missing required attribute '" + name + "'");
  if (!isKind(*a, onnx::AttributeProto::TENSOR, a->has_t()))
    return fail("attribute '" + name + "' must be a TENSOR, got " +
                kindName(*a));
  // The importer owns the ModelProto; taking the tensor's raw bytes over
  // (instead of copying them) is what InitializerLoader::convert does.
  auto &tensor = const_cast<onnx::TensorProto &>(a->t());
  return loader.convert(tensor, ("attribute '" + name + "'").str(), loc);
}

//===----------------------------------------------------------------------===//
// Constant operands
//===----------------------------------------------------------------------===//

DenseElementsAttr NodeContext::constantInput(unsigned i) const {
  Value v = input(i);
  ElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return {};
  if (auto dense = dyn_cast<DenseElementsAttr>(attr))
    return dense;
  // Initializers above InitializerLoader::kMaxDenseElements are dense
  // resources; parameter operands (zero points, shapes, axes) of that size
  // are read through a dense copy of their bytes. Weights are never read
  // here, but the copy is bounded all the same.
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!resource)
    return {};
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  auto type = cast<ShapedType>(resource.getType());
  if (!blob || !type.hasStaticShape() ||
      !type.getElementType().isIntOrFloat() ||
      type.getElementType().getIntOrFloatBitWidth() % 8 != 0)
    return {};
  ArrayRef<char> bytes = blob->getData();
  int64_t width = type.getElementType().getIntOrFloatBitWidth() / 8;
  if ((int64_t)bytes.size() != type.getNumElements() * width ||
      (int64_t)bytes.size() > kMaxConstantInputBytes)
    return {};
  return DenseElementsAttr::getFromRawBuffer(type, bytes);
}

Value NodeContext::paramInput(unsigned i) {
  Value v = input(i);
  if (!v || !matchPattern(v, m_Constant()))
    return v;
  ElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)) || isa<DenseElementsAttr>(attr) ||
      attr.getNumElements() > kMaxParamElements)
    return v;
  if (DenseElementsAttr dense = constantInput(i))
    return constant(dense);
  return v;
}

FailureOr<llvm::SmallVector<int64_t>>
NodeContext::constIntsInput(unsigned i, llvm::StringRef what) {
  Value v = input(i);
  if (!v)
    return fail("missing input '" + what + "'");
  if (!isa<IntegerType>(typeOf(v).getElementType()))
    return fail("input '" + what + "' must be an integer tensor");
  DenseElementsAttr attr = constantInput(i);
  if (!attr)
    return fail("input '" + what +
                "' must be a constant (computed values are unsupported)");
  if (typeOf(v).getRank() > 1)
    return fail("input '" + what + "' must be a scalar or 1-D tensor");
  bool isUnsigned = typeOf(v).getElementType().isUnsignedInteger();
  llvm::SmallVector<int64_t> result;
  for (const llvm::APInt &value : attr.getValues<llvm::APInt>())
    result.push_back(isUnsigned ? (int64_t)value.getZExtValue()
                                : value.getSExtValue());
  return result;
}

FailureOr<double> NodeContext::constScalarInput(unsigned i,
                                                llvm::StringRef what) {
  DenseElementsAttr attr = constantInput(i);
  if (!attr)
    return fail("input '" + what +
                "' must be a constant (computed values are unsupported)");
  if (attr.getNumElements() != 1)
    return fail("input '" + what + "' must hold exactly one value");
  Type et = attr.getElementType();
  if (isa<FloatType>(et))
    return (*attr.getValues<llvm::APFloat>().begin()).convertToDouble();
  if (auto it = dyn_cast<IntegerType>(et)) {
    llvm::APInt value = *attr.getValues<llvm::APInt>().begin();
    return it.isUnsigned() || it.getWidth() == 1
               ? (double)value.getZExtValue()
               : (double)value.getSExtValue();
  }
  return fail("input '" + what + "' has an unsupported element type");
}

//===----------------------------------------------------------------------===//
// Axes
//===----------------------------------------------------------------------===//

FailureOr<int64_t> NodeContext::normalizeAxis(int64_t axis, int64_t rank,
                                              llvm::StringRef what) {
  if (axis < -rank || axis >= rank)
    return fail(what + " " + llvm::Twine(axis) + " is out of range for rank " +
                llvm::Twine(rank));
  return axis < 0 ? axis + rank : axis;
}

FailureOr<llvm::SmallVector<int64_t>>
NodeContext::normalizeAxes(llvm::ArrayRef<int64_t> axes, int64_t rank,
                           llvm::StringRef what) {
  llvm::SmallVector<int64_t> result;
  for (int64_t axis : axes) {
    FailureOr<int64_t> a = normalizeAxis(axis, rank, what);
    if (failed(a))
      return failure();
    result.push_back(*a);
  }
  llvm::sort(result);
  if (std::adjacent_find(result.begin(), result.end()) != result.end())
    return fail(what + " contains a repeated axis");
  return result;
}

//===----------------------------------------------------------------------===//
// Op construction
//===----------------------------------------------------------------------===//

FailureOr<Value> NodeContext::finish(OperationState &state) {
  Operation *op = builder.create(state);
  if (failed(mlir::verify(op, /*verifyRecursively=*/false))) {
    op->erase();
    return failure();
  }
  llvm::SmallVector<Value, 1> folded;
  if (!isa<ConstantOp>(op) && succeeded(builder.tryFold(op, folded)) &&
      folded.size() == 1 && folded[0] != op->getResult(0)) {
    op->erase();
    return folded[0];
  }
  return op->getResult(0);
}

FailureOr<llvm::SmallVector<Value>>
NodeContext::finishMultiResult(OperationState &state) {
  Operation *op = builder.create(state);
  if (failed(mlir::verify(op, /*verifyRecursively=*/false))) {
    op->erase();
    return failure();
  }
  return llvm::SmallVector<Value>(op->getResults());
}

FailureOr<Value> NodeContext::reshape(Value v, llvm::ArrayRef<int64_t> shape) {
  RankedTensorType type = typeOf(v);
  if (type.getShape() == shape)
    return v;
  return createTyped<ReshapeOp>(
      RankedTensorType::get(shape, type.getElementType()), v);
}

Value NodeContext::constant(ElementsAttr attr) {
  return ConstantOp::create(builder, loc, attr).getResult();
}

Value NodeContext::scalarConstant(Type elementType, double value) {
  auto type = RankedTensorType::get({}, elementType);
  Attribute element;
  if (auto ft = dyn_cast<FloatType>(elementType))
    element = builder.getFloatAttr(ft, value);
  else
    element = builder.getIntegerAttr(elementType, (int64_t)value);
  return constant(DenseElementsAttr::get(type, element));
}
