//===- Weights.h - reading and creating constant weight data --*- C++ -*-===//
//
// Helpers for passes that transform weights at compile time: read the
// values of a dense or dense-resource constant, and build a new constant
// (a resource blob for large tensors, so the IR never prints megabytes).
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_DIALECT_SPARQ_IR_WEIGHTS_H
#define SPARQ_DIALECT_SPARQ_IR_WEIGHTS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>

namespace sparq {

/// Returns the f32 values of `attr` (dense, splat or dense resource), or
/// std::nullopt when it is not an f32 constant whose data is available.
std::optional<llvm::SmallVector<float>> readF32Values(mlir::Attribute attr);

/// Builds an f32 constant of `type` holding `values`. Tensors of more than
/// a few thousand elements become dense resources named after `nameHint`.
mlir::ElementsAttr makeF32Constant(mlir::RankedTensorType type,
                                   llvm::ArrayRef<float> values,
                                   llvm::StringRef nameHint);

} // namespace sparq

#endif // SPARQ_DIALECT_SPARQ_IR_WEIGHTS_H
