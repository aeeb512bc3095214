//===- Initializers.h - ONNX TensorProto to MLIR constants ------*- C++ -*-===//
//
// Internal to lib/Import. Converts TensorProtos (initializers, Constant node
// values) in any storage form into ElementsAttrs: small tensors become
// DenseElementsAttr so folders can read them; large ones become dense
// resources that point into the model's bytes (embedded raw_data is taken
// over, external data is memory-mapped) without copying.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_IMPORT_INITIALIZERS_H
#define SPARQ_LIB_IMPORT_INITIALIZERS_H

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MemoryBuffer.h"

#include <onnx/onnx_pb.h>

#include <memory>
#include <string>

namespace sparq::onnx_import {

class InitializerLoader {
public:
  /// `modelPath` locates external data files (they must stay inside the
  /// model's folder).
  InitializerLoader(mlir::MLIRContext *ctx, llvm::StringRef modelPath)
      : ctx(ctx), modelPath(modelPath.str()) {}

  /// Tensors with at most this many elements become DenseElementsAttr.
  static constexpr int64_t kMaxDenseElements = 1024;

  /// Converts `tensor`; `what` names it in errors ("initializer 'w'").
  /// Embedded raw_data is moved out of the proto, not copied.
  mlir::FailureOr<mlir::ElementsAttr>
  convert(onnx::TensorProto &tensor, llvm::StringRef what, mlir::Location loc);

private:
  /// Converts a tensor of 2/4-bit integers or float4 (packed in the proto)
  /// into a
  /// dense attribute holding one element per byte.
  mlir::FailureOr<mlir::ElementsAttr>
  convertPacked(onnx::TensorProto &tensor, llvm::StringRef what,
                mlir::Location loc, mlir::Type elementType, unsigned bits,
                llvm::ArrayRef<int64_t> dims, int64_t numElements);
  /// Bytes of the tensor's external data, kept alive by `owner`.
  mlir::LogicalResult
  readExternal(const onnx::TensorProto &tensor, llvm::StringRef what,
               mlir::Location loc, llvm::ArrayRef<char> &bytes,
               std::shared_ptr<llvm::MemoryBuffer> &owner);
  /// The memory-mapped file at the resolved path (mapped once).
  std::shared_ptr<llvm::MemoryBuffer> mapFile(llvm::StringRef realPath);

  mlir::MLIRContext *ctx;
  std::string modelPath;
  llvm::StringMap<std::shared_ptr<llvm::MemoryBuffer>> mappedFiles;
};

} // namespace sparq::onnx_import

#endif // SPARQ_LIB_IMPORT_INITIALIZERS_H
