//===- NodeImporter.h - Shared state of the ONNX node importers -*- C++ -*-===//
//
// Internal to lib/Import. NodeContext is what every per-op importer works
// with: the node's operands, typed attribute accessors that report wrong or
// missing attributes, constant-operand readers, and a checked op builder that
// runs the sparq op's type inference before creating it (so an inference
// error becomes a diagnostic instead of a fatal error) and folds the result.
// Op families register their importers in an OpImporterRegistry.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_IMPORT_NODEIMPORTER_H
#define SPARQ_LIB_IMPORT_NODEIMPORTER_H

#include "sparq/Dialect/Sparq/IR/Sparq.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <onnx/onnx_pb.h>

#include <memory>

namespace sparq::onnx_import {

class InitializerLoader;

/// ONNX data types newer than the system's onnx headers know.
inline constexpr int32_t kOnnxFloat8E4M3FN = 17;
inline constexpr int32_t kOnnxFloat8E5M2 = 19;
inline constexpr int32_t kOnnxUint4 = 21;
inline constexpr int32_t kOnnxInt4 = 22;
inline constexpr int32_t kOnnxFloat4E2M1 = 23;
inline constexpr int32_t kOnnxUint2 = 25;
inline constexpr int32_t kOnnxInt2 = 26;

/// Maps an ONNX TensorProto data type to an MLIR element type; null when the
/// type is not supported (strings, complex, float8 other than e4m3fn and
/// e5m2, ...). INT4/UINT4/INT2/UINT2 become i4/ui4/i2/ui2, FLOAT4E2M1
/// f4E2M1FN.
mlir::Type convertElementType(mlir::MLIRContext *ctx, int32_t dataType);

/// 4 or 2 for the sub-byte types ONNX packs (several values per byte:
/// 2/4-bit integers, float4), else 0.
unsigned packedBits(mlir::Type type);

/// Human-readable name of an ONNX data type ("FLOAT", "STRING", ...).
std::string dataTypeName(int32_t dataType);

/// Multiplies the dims, failing on a negative dim or int64 overflow.
mlir::FailureOr<int64_t> checkedNumElements(llvm::ArrayRef<int64_t> dims);

/// Everything an op importer needs about the node being imported.
class NodeContext {
public:
  NodeContext(mlir::OpBuilder &builder, const onnx::NodeProto &node,
              mlir::Location loc, int64_t opset,
              llvm::StringMap<mlir::Value> &values,
              const llvm::StringSet<> &usedNames, InitializerLoader &loader)
      : builder(builder), node(node), loc(loc), opset(opset), values(values),
        usedNames(usedNames), loader(loader) {}

  mlir::OpBuilder &builder;
  const onnx::NodeProto &node;
  mlir::Location loc;
  /// The opset of the node's domain (ai.onnx, or com.microsoft's version).
  int64_t opset;
  /// True for a node of the com.microsoft domain.
  bool isContrib = false;

  mlir::MLIRContext *getContext() { return builder.getContext(); }

  /// Reports `reason` at the node's location and returns failure.
  mlir::LogicalResult fail(const llvm::Twine &reason);

  // Operands and results ----------------------------------------------------

  unsigned numInputs() const { return node.input_size(); }
  unsigned numOutputs() const { return node.output_size(); }
  /// True when input `i` is present (exists and has a non-empty name).
  bool hasInput(unsigned i) const;
  /// The value of input `i`, or null when it is absent.
  mlir::Value input(unsigned i) const;
  /// Fails unless the node has between `min` and `max` present inputs at the
  /// leading positions `0..min-1` (trailing ones may be absent).
  mlir::LogicalResult checkInputs(unsigned min, unsigned max);
  /// True when output `i` exists, is named and something consumes it.
  bool outputUsed(unsigned i) const;
  /// Fails when any output from `first` on is used.
  mlir::LogicalResult checkOutputsUnused(unsigned first, llvm::StringRef why);
  void setOutput(unsigned i, mlir::Value v);

  static mlir::RankedTensorType typeOf(mlir::Value v) {
    return llvm::cast<mlir::RankedTensorType>(v.getType());
  }

  // Attributes --------------------------------------------------------------

  const onnx::AttributeProto *attr(llvm::StringRef name) const;
  bool hasAttr(llvm::StringRef name) const { return attr(name) != nullptr; }
  /// Each accessor fails (with a diagnostic) on a wrong attribute type and,
  /// when no default is given, on a missing attribute.
  mlir::FailureOr<int64_t> intAttr(llvm::StringRef name,
                                   std::optional<int64_t> dflt);
  mlir::FailureOr<float> floatAttr(llvm::StringRef name,
                                   std::optional<float> dflt);
  mlir::FailureOr<std::string> stringAttr(llvm::StringRef name,
                                          std::optional<std::string> dflt);
  mlir::FailureOr<llvm::SmallVector<int64_t>>
  intsAttr(llvm::StringRef name,
           std::optional<llvm::SmallVector<int64_t>> dflt);
  mlir::FailureOr<llvm::SmallVector<float>> floatsAttr(llvm::StringRef name);
  /// Converts a TENSOR attribute (Constant's value, ConstantOfShape's value).
  mlir::FailureOr<mlir::ElementsAttr> tensorAttr(llvm::StringRef name);

  // Constant operands -------------------------------------------------------

  /// The constant feeding input `i` as a dense attribute, or null when it is
  /// not constant. Resource-backed constants (large initializers) are read
  /// too, through a copy of at most kMaxConstantInputBytes bytes.
  mlir::DenseElementsAttr constantInput(unsigned i) const;
  static constexpr int64_t kMaxConstantInputBytes = int64_t(16) << 20;
  /// Input `i` for a quantization parameter (scale, zero point): a
  /// resource-backed constant (a per-channel vector of more than
  /// InitializerLoader::kMaxDenseElements values) is re-created as a dense
  /// constant, which is what the graph passes read element by element
  /// (up to kMaxParamElements values; blocked parameters can be larger).
  mlir::Value paramInput(unsigned i);
  static constexpr int64_t kMaxParamElements = int64_t(1) << 16;
  /// Reads integer input `i` (a constant) as int64 values; `what` names the
  /// operand in the error.
  mlir::FailureOr<llvm::SmallVector<int64_t>>
  constIntsInput(unsigned i, llvm::StringRef what);
  /// Reads a constant single-element numeric input as a double.
  mlir::FailureOr<double> constScalarInput(unsigned i, llvm::StringRef what);

  // Axis helpers ------------------------------------------------------------

  /// Maps `axis` in [-rank, rank) to [0, rank); fails otherwise.
  mlir::FailureOr<int64_t> normalizeAxis(int64_t axis, int64_t rank,
                                         llvm::StringRef what);
  /// Normalizes, sorts and checks a list of axes for uniqueness.
  mlir::FailureOr<llvm::SmallVector<int64_t>>
  normalizeAxes(llvm::ArrayRef<int64_t> axes, int64_t rank,
                llvm::StringRef what);

  // Op construction ---------------------------------------------------------

  /// Builds an op whose result type is inferred. Inference errors and
  /// verifier errors become diagnostics; the result is folded when possible.
  template <typename OpTy, typename... Args>
  mlir::FailureOr<mlir::Value> create(Args &&...args) {
    mlir::OperationState state(loc, OpTy::getOperationName());
    if (mlir::failed(
            buildInferred<OpTy>(state, 1, std::forward<Args>(args)...)))
      return mlir::failure();
    return finish(state);
  }

  /// Like create, for an op with several results (not folded).
  template <typename OpTy, typename... Args>
  mlir::FailureOr<llvm::SmallVector<mlir::Value>>
  createMultiResult(unsigned numResults, Args &&...args) {
    mlir::OperationState state(loc, OpTy::getOperationName());
    if (mlir::failed(buildInferred<OpTy>(state, numResults,
                                         std::forward<Args>(args)...)))
      return mlir::failure();
    return finishMultiResult(state);
  }

  /// Builds an op whose result type is given (reshape, expand).
  template <typename OpTy, typename... Args>
  mlir::FailureOr<mlir::Value> createTyped(mlir::Type resultType,
                                           Args &&...args) {
    mlir::OperationState state(loc, OpTy::getOperationName());
    OpTy::build(builder, state, mlir::TypeRange(resultType),
                std::forward<Args>(args)...);
    return finish(state);
  }

  /// A sparq.reshape to `shape` (no-op when the type already matches).
  mlir::FailureOr<mlir::Value> reshape(mlir::Value v,
                                       llvm::ArrayRef<int64_t> shape);
  /// A sparq.constant holding `attr`.
  mlir::Value constant(mlir::ElementsAttr attr);
  /// A rank-0 constant of `elementType` holding `value`.
  mlir::Value scalarConstant(mlir::Type elementType, double value);

  // Attribute shorthands.
  mlir::DenseI64ArrayAttr i64Array(llvm::ArrayRef<int64_t> v) {
    return builder.getDenseI64ArrayAttr(v);
  }
  mlir::IntegerAttr i64(int64_t v) { return builder.getI64IntegerAttr(v); }
  mlir::FloatAttr f32(float v) { return builder.getF32FloatAttr(v); }
  mlir::BoolAttr boolean(bool v) { return builder.getBoolAttr(v); }

private:
  /// Fills `state` with the op's operands and attributes and its inferred
  /// result types (`numResults` placeholders are given to the builder).
  template <typename OpTy, typename... Args>
  mlir::LogicalResult buildInferred(mlir::OperationState &state,
                                    unsigned numResults, Args &&...args) {
    llvm::SmallVector<mlir::Type> placeholders(numResults,
                                               builder.getNoneType());
    OpTy::build(builder, state, mlir::TypeRange(placeholders),
                std::forward<Args>(args)...);
    state.types.clear();
    llvm::SmallVector<mlir::Type, 1> types;
    if (mlir::failed(OpTy::inferReturnTypes(
            getContext(), loc, mlir::ValueRange(state.operands),
            state.attributes.getDictionary(getContext()),
            state.getRawProperties(), state.regions, types)))
      return mlir::failure();
    state.addTypes(types);
    return mlir::success();
  }

  mlir::FailureOr<mlir::Value> finish(mlir::OperationState &state);
  mlir::FailureOr<llvm::SmallVector<mlir::Value>>
  finishMultiResult(mlir::OperationState &state);

  llvm::StringMap<mlir::Value> &values;
  const llvm::StringSet<> &usedNames;
  InitializerLoader &loader;
};

/// The explicit window of a Conv-like node (ConvInteger, QLinearConv too):
/// kernel_shape checked against the weight, auto_pad resolved into pads,
/// default strides/dilations filled in.
struct ConvWindow {
  llvm::SmallVector<int64_t> strides, pads, dilations;
  int64_t group = 1;
};

/// Reads the window attributes of a Conv-like node with input `x` and
/// weight `weight`.
mlir::FailureOr<ConvWindow> readConvWindow(NodeContext &n, mlir::Value x,
                                           mlir::Value weight);

/// Imports one node; outputs are recorded through NodeContext::setOutput.
using OpImporterFn = mlir::LogicalResult (*)(NodeContext &);
using OpImporterRegistry = llvm::StringMap<OpImporterFn>;

void registerElementwiseImporters(OpImporterRegistry &registry);
void registerNeuralNetImporters(OpImporterRegistry &registry);
void registerReductionImporters(OpImporterRegistry &registry);
void registerShapeImporters(OpImporterRegistry &registry);
void registerDataMovementImporters(OpImporterRegistry &registry);
void registerQuantizationImporters(OpImporterRegistry &registry);
/// com.microsoft ops (ContribOps.cpp).
void registerContribImporters(OpImporterRegistry &registry);

/// The registry of every supported ai.onnx op type.
const OpImporterRegistry &getOpImporters();
/// The registry of the supported com.microsoft op types.
const OpImporterRegistry &getContribOpImporters();

// Importers shared between the ai.onnx and com.microsoft registries
// (QuantizationOps.cpp).
mlir::LogicalResult importQuantizeLinear(NodeContext &n);
mlir::LogicalResult importDequantizeLinear(NodeContext &n);
/// Input `i` when present, else a constant zero of `elementType` and `shape`.
mlir::Value zeroPointOrZero(NodeContext &n, unsigned i, mlir::Type elementType,
                            llvm::ArrayRef<int64_t> shape);

} // namespace sparq::onnx_import

#endif // SPARQ_LIB_IMPORT_NODEIMPORTER_H
