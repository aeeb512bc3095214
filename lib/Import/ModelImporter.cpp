//===- ModelImporter.cpp - ONNX ModelProto to a sparq module --------------===//
//
// Reads the ModelProto (memory-mapped, with a raised protobuf size limit),
// checks opsets and domains, turns graph inputs, initializers and outputs
// into a func.func signature and constants, sorts the nodes topologically
// and hands each node to its op importer. Every diagnostic raised while
// importing (ours, op inference, verifiers) is captured and re-emitted with
// a "<model>: node '<name>' (<op>): " prefix so it says where it comes from.
//
//===----------------------------------------------------------------------===//

#include "sparq/Import/OnnxImporter.h"

#include "Initializers.h"
#include "NodeImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/MemoryBuffer.h"

#include <google/protobuf/io/coded_stream.h>

#include <climits>
#include <deque>

using namespace mlir;
using namespace sparq;
using namespace sparq::onnx_import;

static constexpr int64_t kMinOpset = 7;
static constexpr int64_t kMaxOpset = 21;
/// Models of opsets kMaxOpset+1 .. kMaxOpsetChecked import when none of
/// their ops was redefined after kMaxOpset (kRedefinedAfterMax), or the op's
/// importer handles the newer definitions (kKnownThroughChecked).
static constexpr int64_t kMaxOpsetChecked = 28;
static constexpr const char *kContribDomain = "com.microsoft";

namespace {
struct Redefinition {
  const char *op;
  int64_t opset; // the first definition after kMaxOpset
};
} // namespace

/// The ops sparq imports that ONNX redefined in opsets 22..28, with the first
/// such opset (from onnx 1.23's schema history).
// clang-format off
static const Redefinition kRedefinedAfterMax[] = {
    {"Acos", 22}, {"Acosh", 22}, {"Asin", 22}, {"Asinh", 22}, {"Atan", 22},
    {"Atanh", 22}, {"AveragePool", 22}, {"Cast", 23}, {"Celu", 28},
    {"Constant", 23}, {"ConstantOfShape", 23}, {"Conv", 22}, {"Cos", 22},
    {"Cosh", 22}, {"Dropout", 22}, {"Elu", 22}, {"Flatten", 23},
    {"GlobalAveragePool", 22}, {"GlobalMaxPool", 22}, {"HardSigmoid", 22},
    {"HardSwish", 22}, {"Identity", 23}, {"MaxPool", 22}, {"Mish", 22},
    {"Mod", 28}, {"Pad", 23}, {"Range", 27}, {"ReduceLogSumExp", 28},
    {"Reshape", 23}, {"Round", 22}, {"Selu", 22}, {"Shape", 23}, {"Sin", 22},
    {"Sinh", 22}, {"Size", 23}, {"Softplus", 22}, {"Softsign", 22},
    {"Squeeze", 23}, {"Tan", 22}, {"ThresholdedRelu", 22}, {"Transpose", 23},
    {"Unsqueeze", 23},
};
// clang-format on

/// Ops whose importers know every definition up to kMaxOpsetChecked.
static const char *const kKnownThroughChecked[] = {"QuantizeLinear",
                                                   "DequantizeLinear"};

/// The element type a graph input or output of `type` has at the model's
/// boundary: sub-byte integers travel one value per byte (i8/ui8), float8
/// and float4 as f32 (exact), since the C ABI has no narrower dtypes.
static Type boundaryElementType(Type type) {
  MLIRContext *ctx = type.getContext();
  if (isa<Float8E4M3FNType, Float8E5M2Type, Float4E2M1FNType>(type))
    return Float32Type::get(ctx);
  if (packedBits(type))
    return IntegerType::get(ctx, 8,
                            type.isUnsignedInteger() ? IntegerType::Unsigned
                                                     : IntegerType::Signless);
  return type;
}

namespace {

/// Imports one ModelProto; all diagnostics are prefixed with `prefix`.
class ModelImporter {
public:
  ModelImporter(MLIRContext &ctx, llvm::StringRef path,
                const ImportOptions &options, std::string &prefix)
      : ctx(ctx), path(path.str()), options(options), prefix(prefix),
        builder(&ctx), loader(&ctx, path),
        fileLoc(FileLineColLoc::get(&ctx, path, 0, 0)) {}

  OwningOpRef<ModuleOp> run();

private:
  LogicalResult fail(const llvm::Twine &msg) {
    return emitError(fileLoc) << msg;
  }
  OwningOpRef<ModuleOp> failNull(const llvm::Twine &msg) {
    (void)fail(msg);
    return {};
  }
  LogicalResult readModel();
  LogicalResult checkOpsets();
  FailureOr<Type> inputType(const onnx::ValueInfoProto &info);
  LogicalResult sortNodes(llvm::SmallVectorImpl<int> &order);
  LogicalResult importNode(int index);
  LogicalResult checkNodeOpset(const onnx::NodeProto &node);
  FailureOr<Value> fromBoundary(Value arg, Type element);
  FailureOr<Value> toBoundary(Value v);
  std::string nodeLabel(int index) const;

  MLIRContext &ctx;
  std::string path;
  const ImportOptions &options;
  std::string &prefix;
  OpBuilder builder;
  InitializerLoader loader;
  Location fileLoc;
  onnx::ModelProto model;
  int64_t opset = 0;
  int64_t contribOpset = 0;
  llvm::StringMap<Value> values;
  llvm::StringSet<> usedNames;
};

} // namespace

LogicalResult ModelImporter::readModel() {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fail("cannot open ONNX model: " + buffer.getError().message());
  llvm::StringRef bytes = (*buffer)->getBuffer();
  if (bytes.size() > (size_t)INT_MAX)
    return fail("ONNX model is larger than 2 GiB; store large weights as "
                "external data");
  google::protobuf::io::CodedInputStream stream(
      reinterpret_cast<const uint8_t *>(bytes.data()), (int)bytes.size());
  stream.SetTotalBytesLimit(INT_MAX);
  stream.SetRecursionLimit(256);
  if (bytes.empty() || !model.ParseFromCodedStream(&stream) ||
      !stream.ConsumedEntireMessage())
    return fail("failed to parse ONNX model");
  if (!model.has_graph())
    return fail("ONNX model has no graph");
  return success();
}

static bool isDefaultDomain(llvm::StringRef domain) {
  return domain.empty() || domain == "ai.onnx";
}

LogicalResult ModelImporter::checkOpsets() {
  bool found = false;
  for (const onnx::OperatorSetIdProto &id : model.opset_import()) {
    if (id.domain() == kContribDomain)
      contribOpset = id.version();
    if (!isDefaultDomain(id.domain()))
      continue;
    found = true;
    opset = id.version();
  }
  if (!found) {
    // Models made only of other domains' nodes fail per node instead.
    for (const onnx::NodeProto &node : model.graph().node())
      if (isDefaultDomain(node.domain()))
        return fail("model imports no ai.onnx opset");
    return success();
  }
  if (opset < kMinOpset)
    return fail("ai.onnx opset " + llvm::Twine(opset) +
                " is unsupported (sparq supports opsets " +
                llvm::Twine(kMinOpset) + " to " + llvm::Twine(kMaxOpset) + ")");
  if (opset > kMaxOpsetChecked)
    return fail("ai.onnx opset " + llvm::Twine(opset) +
                " is newer than sparq knows (sparq supports opsets " +
                llvm::Twine(kMinOpset) + " to " + llvm::Twine(kMaxOpset) +
                ", and up to " + llvm::Twine(kMaxOpsetChecked) +
                " for ops unchanged since " + llvm::Twine(kMaxOpset) + ")");
  return success();
}

/// Past kMaxOpset, an op imports only if ONNX has not redefined it since
/// (or its importer knows the newer definitions).
LogicalResult ModelImporter::checkNodeOpset(const onnx::NodeProto &node) {
  if (opset <= kMaxOpset)
    return success();
  if (llvm::is_contained(kKnownThroughChecked, node.op_type()))
    return success();
  for (const Redefinition &r : kRedefinedAfterMax)
    if (node.op_type() == r.op && opset >= r.opset)
      return fail("ai.onnx opset " + llvm::Twine(opset) + " redefines " +
                  node.op_type() + " (in opset " + llvm::Twine(r.opset) +
                  "); sparq knows its definitions up to opset " +
                  llvm::Twine(kMaxOpset));
  return success();
}

FailureOr<Type> ModelImporter::inputType(const onnx::ValueInfoProto &info) {
  const std::string &name = info.name();
  if (!info.type().has_tensor_type())
    return fail("graph input '" + name + "' is not a tensor");
  const onnx::TypeProto::Tensor &tensorType = info.type().tensor_type();
  Type elementType = convertElementType(&ctx, tensorType.elem_type());
  if (!elementType)
    return fail("graph input '" + name + "' has unsupported element type " +
                dataTypeName(tensorType.elem_type()));
  elementType = boundaryElementType(elementType);
  llvm::SmallVector<int64_t> shape;
  auto override = options.inputShapes.find(name);
  if (override != options.inputShapes.end()) {
    shape = override->second;
    if (tensorType.has_shape() &&
        (int64_t)shape.size() != tensorType.shape().dim_size())
      return fail("shape override for graph input '" + name + "' has " +
                  llvm::Twine(shape.size()) + " dims but the input has rank " +
                  llvm::Twine(tensorType.shape().dim_size()));
    for (int64_t &d : shape) {
      if (d == -1)
        d = ShapedType::kDynamic;
      else if (d < 0)
        return fail("shape override for graph input '" + name +
                    "' has negative dim " + llvm::Twine(d));
    }
  } else {
    if (!tensorType.has_shape())
      return fail("graph input '" + name +
                  "' has no shape; give one with an input shape override");
    for (const onnx::TensorShapeProto::Dimension &dim :
         tensorType.shape().dim()) {
      if (dim.has_dim_value()) {
        if (dim.dim_value() < 0)
          return fail("graph input '" + name + "' has negative dim " +
                      llvm::Twine(dim.dim_value()));
        shape.push_back(dim.dim_value());
      } else {
        shape.push_back(ShapedType::kDynamic);
      }
    }
  }
  if (options.defaultDynamicDim) {
    if (*options.defaultDynamicDim < 0)
      return fail("the default dynamic dim must be non-negative");
    for (int64_t &d : shape)
      if (d == ShapedType::kDynamic)
        d = *options.defaultDynamicDim;
  }
  llvm::SmallVector<int64_t> staticDims;
  for (int64_t d : shape)
    if (d != ShapedType::kDynamic)
      staticDims.push_back(d);
  if (failed(checkedNumElements(staticDims)))
    return fail("graph input '" + name + "' has more elements than int64 holds");
  return Type(RankedTensorType::get(shape, elementType));
}

std::string ModelImporter::nodeLabel(int index) const {
  const onnx::NodeProto &node = model.graph().node(index);
  std::string name =
      node.name().empty() ? "#" + std::to_string(index) : node.name();
  return "node '" + name + "' (" + node.op_type() + ")";
}

/// Kahn's algorithm over the nodes, stable in file order. Undefined inputs
/// and cycles are errors that name a node.
LogicalResult ModelImporter::sortNodes(llvm::SmallVectorImpl<int> &order) {
  const onnx::GraphProto &graph = model.graph();
  int n = graph.node_size();
  llvm::StringMap<int> producer;
  for (int i = 0; i < n; ++i)
    for (const std::string &out : graph.node(i).output()) {
      if (out.empty())
        continue;
      if (values.count(out) || !producer.try_emplace(out, i).second) {
        prefix = path + ": " + nodeLabel(i) + ": ";
        return fail("output '" + out + "' is already defined");
      }
    }
  std::vector<llvm::SmallVector<int>> users(n);
  std::vector<int> pending(n, 0);
  for (int i = 0; i < n; ++i) {
    for (const std::string &in : graph.node(i).input()) {
      if (in.empty() || values.count(in))
        continue;
      auto it = producer.find(in);
      if (it == producer.end()) {
        prefix = path + ": " + nodeLabel(i) + ": ";
        return fail("input '" + in + "' is not defined by any node, "
                    "initializer or graph input");
      }
      users[it->second].push_back(i);
      ++pending[i];
    }
  }
  // A min-heap on the index keeps the original order where possible.
  std::vector<int> ready;
  auto push = [&](int i) {
    ready.push_back(i);
    std::push_heap(ready.begin(), ready.end(), std::greater<int>());
  };
  for (int i = 0; i < n; ++i)
    if (pending[i] == 0)
      push(i);
  while (!ready.empty()) {
    std::pop_heap(ready.begin(), ready.end(), std::greater<int>());
    int i = ready.back();
    ready.pop_back();
    order.push_back(i);
    for (int user : users[i])
      if (--pending[user] == 0)
        push(user);
  }
  if ((int)order.size() == n)
    return success();
  // Walk back through unsorted producers until a node repeats: it lies on a
  // cycle.
  int current = 0;
  while (pending[current] == 0)
    ++current;
  std::vector<bool> seen(n, false);
  while (!seen[current]) {
    seen[current] = true;
    for (const std::string &in : graph.node(current).input()) {
      auto it = producer.find(in);
      if (!in.empty() && it != producer.end() && pending[it->second] > 0) {
        current = it->second;
        break;
      }
    }
  }
  prefix = path + ": " + nodeLabel(current) + ": ";
  return fail("the graph has a cycle through this node");
}

LogicalResult ModelImporter::importNode(int index) {
  const onnx::NodeProto &node = model.graph().node(index);
  prefix = path + ": " + nodeLabel(index) + ": ";
  bool contrib = node.domain() == kContribDomain;
  if (!isDefaultDomain(node.domain()) && !contrib)
    return fail("unsupported op domain '" + node.domain() + "'");
  const OpImporterRegistry &registry =
      contrib ? getContribOpImporters() : getOpImporters();
  auto it = registry.find(node.op_type());
  if (it == registry.end())
    return fail(contrib ? "unsupported op of domain 'com.microsoft'"
                        : "unsupported op");
  if (contrib && contribOpset != 1)
    return fail("domain 'com.microsoft' must be imported at version 1, got " +
                llvm::Twine(contribOpset));
  if (!contrib && failed(checkNodeOpset(node)))
    return failure();
  std::string name =
      node.name().empty() ? "#" + std::to_string(index) : node.name();
  Location loc = NameLoc::get(StringAttr::get(&ctx, name), fileLoc);
  NodeContext context(builder, node, loc, contrib ? contribOpset : opset,
                      values, usedNames, loader);
  context.isContrib = contrib;
  if (failed(it->second(context)))
    return failure();
  for (unsigned i = 0; i < context.numOutputs(); ++i)
    if (context.outputUsed(i) && !values.count(node.output(i)))
      return emitError(loc) << "output " << i << " is used but was not produced";
  return success();
}

/// A graph input's value of ONNX element type `element`, from its argument
/// `arg` (of the boundary type): sub-byte integers are narrowed with a
/// cast, float8 converted exactly by a quantize_linear with scale 1.
FailureOr<Value> ModelImporter::fromBoundary(Value arg, Type element) {
  auto argType = cast<RankedTensorType>(arg.getType());
  if (argType.getElementType() == element)
    return arg;
  Location loc = arg.getLoc();
  auto type = RankedTensorType::get(argType.getShape(), element);
  if (isa<IntegerType>(element))
    return CastOp::create(builder, loc, type, arg, TypeAttr::get(element))
        .getResult();
  auto scalar = [&](Type t, Attribute value) {
    return ConstantOp::create(
               builder, loc,
               DenseElementsAttr::get(RankedTensorType::get({}, t), value))
        .getResult();
  };
  Value scale = scalar(builder.getF32Type(), builder.getF32FloatAttr(1.0f));
  Value zero = scalar(element, FloatAttr::get(element, 0.0));
  return QuantizeLinearOp::create(
             builder, loc, type, arg, scale, zero, builder.getI64IntegerAttr(1),
             builder.getI64IntegerAttr(0), builder.getBoolAttr(false))
      .getResult();
}

/// The inverse of fromBoundary for a graph output.
FailureOr<Value> ModelImporter::toBoundary(Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  Type element = type.getElementType();
  Type boundary = boundaryElementType(element);
  if (boundary == element)
    return v;
  Location loc = v.getLoc();
  auto resultType = RankedTensorType::get(type.getShape(), boundary);
  if (isa<IntegerType>(element))
    return CastOp::create(builder, loc, resultType, v, TypeAttr::get(boundary))
        .getResult();
  auto scalar = [&](Type t, Attribute value) {
    return ConstantOp::create(
               builder, loc,
               DenseElementsAttr::get(RankedTensorType::get({}, t), value))
        .getResult();
  };
  Value scale = scalar(boundary, builder.getF32FloatAttr(1.0f));
  Value zero = scalar(element, FloatAttr::get(element, 0.0));
  return DequantizeLinearOp::create(builder, loc, resultType, v, scale, zero,
                                    builder.getI64IntegerAttr(1),
                                    builder.getI64IntegerAttr(0))
      .getResult();
}

OwningOpRef<ModuleOp> ModelImporter::run() {
  prefix = path + ": ";
  if (failed(readModel()) || failed(checkOpsets()))
    return {};
  onnx::GraphProto &graph = *model.mutable_graph();

  // Graph inputs win over initializers of the same name.
  llvm::SmallVector<Type> argTypes;
  llvm::SmallVector<std::string> argNames;
  llvm::StringSet<> inputNames;
  for (const onnx::ValueInfoProto &info : graph.input()) {
    if (info.name().empty())
      return failNull("a graph input has no name");
    if (!inputNames.insert(info.name()).second)
      return failNull("graph input '" + info.name() + "' is declared twice");
    FailureOr<Type> type = inputType(info);
    if (failed(type))
      return {};
    argTypes.push_back(*type);
    argNames.push_back(info.name());
  }

  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  builder.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(builder, fileLoc, options.entryName,
                                   builder.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  for (auto [info, arg] : llvm::zip(graph.input(), entry->getArguments())) {
    Type element =
        convertElementType(&ctx, info.type().tensor_type().elem_type());
    FailureOr<Value> v = fromBoundary(arg, element);
    if (failed(v))
      return {};
    values[info.name()] = *v;
  }
  func.setAllArgAttrs(llvm::map_to_vector(argNames, [&](const std::string &n) {
    return Attribute(builder.getDictionaryAttr(
        builder.getNamedAttr("onnx.name", builder.getStringAttr(n))));
  }));

  for (onnx::TensorProto &init : *graph.mutable_initializer()) {
    if (inputNames.contains(init.name()))
      continue;
    if (init.name().empty())
      return failNull("an initializer has no name");
    if (values.count(init.name()))
      return failNull("initializer '" + init.name() + "' is defined twice");
    Location loc = NameLoc::get(builder.getStringAttr(init.name()), fileLoc);
    FailureOr<ElementsAttr> attr =
        loader.convert(init, "initializer '" + init.name() + "'", loc);
    if (failed(attr))
      return {};
    values[init.name()] = ConstantOp::create(builder, loc, *attr).getResult();
  }
  for (const onnx::SparseTensorProto &sparse : graph.sparse_initializer())
    return failNull("sparse initializer '" + sparse.values().name() +
                "' is unsupported");

  for (const onnx::NodeProto &node : graph.node())
    for (const std::string &in : node.input())
      usedNames.insert(in);
  for (const onnx::ValueInfoProto &out : graph.output())
    usedNames.insert(out.name());

  llvm::SmallVector<int> order;
  if (failed(sortNodes(order)))
    return {};
  for (int index : order)
    if (failed(importNode(index)))
      return {};
  prefix = path + ": ";

  llvm::SmallVector<Value> results;
  llvm::SmallVector<Attribute> resultAttrs;
  for (const onnx::ValueInfoProto &out : graph.output()) {
    Value v = values.lookup(out.name());
    if (!v)
      return failNull("graph output '" + out.name() + "' is not defined");
    FailureOr<Value> converted = toBoundary(v);
    if (failed(converted))
      return {};
    results.push_back(*converted);
    resultAttrs.push_back(builder.getDictionaryAttr(
        builder.getNamedAttr("onnx.name", builder.getStringAttr(out.name()))));
  }
  if (results.empty())
    return failNull("the graph has no outputs");
  builder.setInsertionPointToEnd(entry);
  func::ReturnOp::create(builder, fileLoc, results);
  func.setFunctionType(builder.getFunctionType(
      argTypes, llvm::map_to_vector(results, [](Value v) { return v.getType(); })));
  func.setAllResultAttrs(resultAttrs);

  // Drop constants nothing uses (unused initializers, folded-away inputs).
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*entry)))
    if (isa<ConstantOp>(op) && op.use_empty())
      op.erase();
  if (failed(mlir::verify(*module)))
    return {};
  return module;
}

OwningOpRef<ModuleOp> sparq::importOnnxModel(MLIRContext &context,
                                             llvm::StringRef path,
                                             const ImportOptions &options) {
  context.loadDialect<SparqDialect, func::FuncDialect>();
  struct Captured {
    Location loc;
    DiagnosticSeverity severity;
    std::string message;
  };
  std::vector<Captured> captured;
  std::string prefix;
  OwningOpRef<ModuleOp> module;
  {
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
      captured.push_back(
          {diag.getLocation(), diag.getSeverity(), prefix + diag.str()});
      return success();
    });
    ModelImporter importer(context, path, options, prefix);
    module = importer.run();
  }
  bool sawError = false;
  for (Captured &c : captured) {
    switch (c.severity) {
    case DiagnosticSeverity::Error:
      sawError = true;
      emitError(c.loc) << c.message;
      break;
    case DiagnosticSeverity::Warning:
      emitWarning(c.loc) << c.message;
      break;
    default:
      emitRemark(c.loc) << c.message;
      break;
    }
  }
  if (!module && !sawError)
    emitError(FileLineColLoc::get(&context, path, 0, 0))
        << path << ": failed to import the ONNX model";
  if (sawError)
    return {};
  return module;
}

const OpImporterRegistry &sparq::onnx_import::getContribOpImporters() {
  static const OpImporterRegistry registry = [] {
    OpImporterRegistry r;
    registerContribImporters(r);
    return r;
  }();
  return registry;
}

const OpImporterRegistry &sparq::onnx_import::getOpImporters() {
  static const OpImporterRegistry registry = [] {
    OpImporterRegistry r;
    registerElementwiseImporters(r);
    registerNeuralNetImporters(r);
    registerReductionImporters(r);
    registerShapeImporters(r);
    registerDataMovementImporters(r);
    registerQuantizationImporters(r);
    return r;
  }();
  return registry;
}
