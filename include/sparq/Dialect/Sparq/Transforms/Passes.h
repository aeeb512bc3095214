//===- Passes.h - sparq graph passes --------------------------*- C++ -*-===//
//
// Declarations and registration of sparq's graph passes (generated from
// Passes.td).
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_DIALECT_SPARQ_TRANSFORMS_PASSES_H
#define SPARQ_DIALECT_SPARQ_TRANSFORMS_PASSES_H

#include "sparq/Dialect/Sparq/IR/Sparq.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace sparq {

#define GEN_PASS_DECL
#include "sparq/Dialect/Sparq/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "sparq/Dialect/Sparq/Transforms/Passes.h.inc"

/// The module's entry function with a body, or null after emitting an
/// error on the module (for the passes that work on the entry function).
mlir::func::FuncOp lookupEntryFunction(mlir::ModuleOp module,
                                       llvm::StringRef name);

} // namespace sparq

#endif // SPARQ_DIALECT_SPARQ_TRANSFORMS_PASSES_H
