//===- OnnxImporter.h - ONNX model importer API -----------------*- C++ -*-===//
//
// Entry point of the ONNX importer: reads a ModelProto (plain or with
// external data) and builds a module holding one func.func of sparq graph
// ops. Errors are reported through the context's diagnostic engine and name
// the node, op type and reason; the importer never asserts on its input.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_IMPORT_ONNXIMPORTER_H
#define SPARQ_IMPORT_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>

namespace mlir {
class MLIRContext;
} // namespace mlir

namespace sparq {

struct ImportOptions {
  /// Input shape overrides by graph input name (-1 keeps a dim dynamic).
  llvm::StringMap<llvm::SmallVector<int64_t>> inputShapes;
  /// When set, every dynamic input dim left is pinned to this value (what an
  /// AOT compile wants); otherwise dims stay dynamic (`?`).
  std::optional<int64_t> defaultDynamicDim;
  std::string entryName = "main";
};

/// Imports the ONNX model at `path`. Errors go to the context's diagnostic
/// engine; returns null on failure. Never asserts on bad input.
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxModel(mlir::MLIRContext &context, llvm::StringRef path,
                const ImportOptions &options);

} // namespace sparq

#endif // SPARQ_IMPORT_ONNXIMPORTER_H
