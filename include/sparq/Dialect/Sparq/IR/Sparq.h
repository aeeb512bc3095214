//===- Sparq.h - sparq dialect declarations -------------------*- C++ -*-===//
//
// Public C++ declarations of the sparq dialect: the dialect class, its
// attributes (sparsity encoding, quantization descriptor, activation) and its
// graph and kernel ops.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_DIALECT_SPARQ_IR_SPARQ_H
#define SPARQ_DIALECT_SPARQ_IR_SPARQ_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TensorEncoding.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "sparq/Dialect/Sparq/IR/SparqDialect.h.inc"
#include "sparq/Dialect/Sparq/IR/SparqEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "sparq/Dialect/Sparq/IR/SparqAttrs.h.inc"

#define GET_OP_CLASSES
#include "sparq/Dialect/Sparq/IR/SparqOps.h.inc"

namespace sparq {

/// Computes the ONNX multidirectional broadcast of two shapes. Dynamic dims
/// (ShapedType::kDynamic) broadcast against 1 and against each other. Returns
/// failure when two static dims differ and neither is 1.
llvm::LogicalResult broadcastShapes(llvm::ArrayRef<int64_t> lhs,
                                    llvm::ArrayRef<int64_t> rhs,
                                    llvm::SmallVectorImpl<int64_t> &result);

/// The ONNX node name carried by an op's location (the innermost NameLoc),
/// or an empty string.
std::string getNodeName(mlir::Location loc);

} // namespace sparq

#endif // SPARQ_DIALECT_SPARQ_IR_SPARQ_H
