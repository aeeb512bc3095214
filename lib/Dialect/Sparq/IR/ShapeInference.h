//===- ShapeInference.h - Shape helpers shared by op inference -*- C++ -*-===//
//
// Internal to lib/Dialect/Sparq/IR. The matmul and convolution shape rules
// that several op families reuse (the float ops in SparqOps.cpp, the integer
// and quantized ops in QuantOps.cpp), and the inference entry points of the
// quantization ops, which the generated op classes call.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_DIALECT_SPARQ_IR_SHAPEINFERENCE_H
#define SPARQ_LIB_DIALECT_SPARQ_IR_SHAPEINFERENCE_H

#include "sparq/Dialect/Sparq/IR/Sparq.h"

#include <optional>
#include <string>

namespace sparq {
namespace detail {

/// "[2,?,4]".
std::string shapeStr(llvm::ArrayRef<int64_t> shape);

/// Numpy matmul shape of lhs x op(rhs) (op transposes the last two dims when
/// `transB`); element types are not checked.
llvm::LogicalResult inferMatMulShapes(std::optional<mlir::Location> loc,
                                      mlir::RankedTensorType lhs,
                                      mlir::RankedTensorType rhs, bool transB,
                                      llvm::SmallVectorImpl<int64_t> &result);

/// Result shape of an N-d NCHW convolution; checks the window attributes,
/// channels and groups and the bias length, not the element types.
llvm::LogicalResult
inferConvShape(std::optional<mlir::Location> loc, mlir::Value input,
               mlir::Value weight, mlir::Value bias,
               llvm::ArrayRef<int64_t> strides, llvm::ArrayRef<int64_t> pads,
               llvm::ArrayRef<int64_t> dilations, int64_t group,
               llvm::SmallVectorImpl<int64_t> &result);

/// The shapes of a matmul with a packed `rows` x `cols` weight (rows =
/// output features): lhs [..., cols] and result [..., rows], same rank and
/// leading dims. Reports on `op`.
llvm::LogicalResult verifyPackedMatMulShapes(mlir::Operation *op,
                                             mlir::Value lhs,
                                             mlir::Value result, int64_t rows,
                                             int64_t cols);

} // namespace detail

// Quantization ops (QuantOps.cpp).
llvm::LogicalResult
inferQuantizeLinear(std::optional<mlir::Location> loc,
                    QuantizeLinearOp::Adaptor adaptor,
                    llvm::SmallVectorImpl<mlir::Type> &types);
llvm::LogicalResult
inferDequantizeLinear(std::optional<mlir::Location> loc,
                      DequantizeLinearOp::Adaptor adaptor,
                      llvm::SmallVectorImpl<mlir::Type> &types);
llvm::LogicalResult
inferDynamicQuantizeLinear(std::optional<mlir::Location> loc,
                           DynamicQuantizeLinearOp::Adaptor adaptor,
                           llvm::SmallVectorImpl<mlir::Type> &types);
llvm::LogicalResult
inferMatMulInteger(std::optional<mlir::Location> loc,
                   MatMulIntegerOp::Adaptor adaptor,
                   llvm::SmallVectorImpl<mlir::Type> &types);
llvm::LogicalResult inferConvInteger(std::optional<mlir::Location> loc,
                                     ConvIntegerOp::Adaptor adaptor,
                                     llvm::SmallVectorImpl<mlir::Type> &types);
llvm::LogicalResult
inferQLinearMatMul(std::optional<mlir::Location> loc,
                   QLinearMatMulOp::Adaptor adaptor,
                   llvm::SmallVectorImpl<mlir::Type> &types);
llvm::LogicalResult inferQLinearConv(std::optional<mlir::Location> loc,
                                     QLinearConvOp::Adaptor adaptor,
                                     llvm::SmallVectorImpl<mlir::Type> &types);
llvm::LogicalResult inferMatMulNBits(std::optional<mlir::Location> loc,
                                     MatMulNBitsOp::Adaptor adaptor,
                                     llvm::SmallVectorImpl<mlir::Type> &types);

} // namespace sparq

#endif // SPARQ_LIB_DIALECT_SPARQ_IR_SHAPEINFERENCE_H
