//===- ModelSignature.h - the I/O signature of a compiled model -*- C++ -*-===//
//
// The entry function's inputs and outputs (names, dtypes, shapes), read from
// the sparq-level module, and what is derived from them: the signature text
// embedded in the shared library and the generated C header.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_COMPILER_MODELSIGNATURE_H
#define SPARQ_LIB_COMPILER_MODELSIGNATURE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/SmallVector.h"

#include <string>

namespace sparq {

struct TensorSignature {
  std::string name;
  std::string dtype; // f32, i64, u8, bool, ...
  llvm::SmallVector<int64_t> shape;
};

struct ModelSignature {
  llvm::SmallVector<TensorSignature> inputs;
  llvm::SmallVector<TensorSignature> outputs;
  int64_t arenaBytes = 0;
};

/// Reads the entry function's signature. Fails (with a diagnostic on the
/// function) when a type has no runtime dtype or a dim is dynamic.
mlir::LogicalResult readSignature(mlir::func::FuncOp entry,
                                  ModelSignature &signature);

/// The text stored in `sparq_model_signature` (see sparq_runtime.h).
std::string signatureText(const ModelSignature &signature);

/// The generated C header for a model compiled from `sourcePath`.
std::string headerText(const ModelSignature &signature,
                       llvm::StringRef sourcePath, llvm::StringRef guardName);

} // namespace sparq

#endif // SPARQ_LIB_COMPILER_MODELSIGNATURE_H
