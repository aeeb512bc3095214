//===- KernelCallBuilder.h - Emit runtime micro-kernel calls ---*- C++ -*-===//
//
// Shared by the lowerings that turn kernel ops into calls of the runtime's
// C ABI (KernelCalls.cpp, QuantKernelCalls.cpp): declares the callee once per
// module, crosses tensors into contiguous memrefs and raw pointers, and
// allocates the 64-byte aligned result buffer.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_CONVERSION_SPARQTOLINALG_KERNELCALLBUILDER_H
#define SPARQ_LIB_CONVERSION_SPARQTOLINALG_KERNELCALLBUILDER_H

#include "Patterns.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"

namespace sparq {
namespace lowering {

constexpr llvm::StringLiteral kContextFn = "sparq_rt_current_context";

inline int64_t product(llvm::ArrayRef<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims)
    p *= d;
  return p;
}

/// Emits the calls of one kernel: pointers, scalars and the runtime call.
class KernelCallBuilder {
public:
  KernelCallBuilder(mlir::ConversionPatternRewriter &rewriter,
                    mlir::Operation *op)
      : rewriter(rewriter), loc(op->getLoc()),
        module(op->getParentOfType<mlir::ModuleOp>()),
        ptrType(mlir::LLVM::LLVMPointerType::get(op->getContext())) {}

  /// Declares `name` (once per module) with the given argument types and no
  /// results, or with one pointer result when `returnsPtr`.
  void declare(llvm::StringRef name, llvm::ArrayRef<mlir::Type> argTypes,
               bool returnsPtr) {
    if (mlir::SymbolTable::lookupSymbolIn(module, name))
      return;
    mlir::OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(module.getBody());
    llvm::SmallVector<mlir::Type> results;
    if (returnsPtr)
      results.push_back(ptrType);
    auto fn = mlir::func::FuncOp::create(
        rewriter, loc, name, rewriter.getFunctionType(argTypes, results));
    fn.setPrivate();
  }

  mlir::Value context() {
    declare(kContextFn, {}, /*returnsPtr=*/true);
    return mlir::func::CallOp::create(rewriter, loc, kContextFn,
                                      mlir::TypeRange{ptrType},
                                      mlir::ValueRange{})
        .getResult(0);
  }

  /// A read-only pointer to the contiguous data of `tensor`.
  mlir::Value pointerTo(mlir::Value tensor) {
    auto type = llvm::cast<mlir::RankedTensorType>(tensor.getType());
    auto memrefType =
        mlir::MemRefType::get(type.getShape(), type.getElementType());
    mlir::Value buffer = mlir::bufferization::ToBufferOp::create(
        rewriter, loc, memrefType, tensor, /*read_only=*/true);
    return pointerToBuffer(buffer);
  }

  mlir::Value pointerToBuffer(mlir::Value buffer) {
    mlir::Value index = mlir::memref::ExtractAlignedPointerAsIndexOp::create(
        rewriter, loc, buffer);
    mlir::Value i64 = mlir::arith::IndexCastOp::create(
        rewriter, loc, rewriter.getI64Type(), index);
    return mlir::LLVM::IntToPtrOp::create(rewriter, loc, ptrType, i64);
  }

  mlir::Value null() {
    return mlir::LLVM::ZeroOp::create(rewriter, loc, ptrType);
  }

  /// pointerTo(tensor), or null for an absent optional operand.
  mlir::Value optionalPointer(mlir::Value tensor) {
    return tensor ? pointerTo(tensor) : null();
  }

  /// The trailing (act, actA, actB) arguments of the f32 kernels, from a
  /// kernel op's activation attributes.
  template <typename KernelOp>
  llvm::SmallVector<mlir::Value, 3> activationArgs(KernelOp op) {
    return {i64((int64_t)op.getActivation()),
            f32(op.getActAlphaAttr().getValueAsDouble()),
            f32(op.getActBetaAttr().getValueAsDouble())};
  }

  /// A pointer to the residual laid out like the result (broadcast first
  /// when its shape differs), or null without one.
  mlir::Value residualPointer(mlir::Value residual,
                              mlir::RankedTensorType resultType) {
    if (!residual)
      return null();
    if (llvm::cast<mlir::RankedTensorType>(residual.getType()).getShape() !=
        resultType.getShape())
      residual =
          createBroadcastGeneric(rewriter, loc, resultType, residual,
                                 [](mlir::OpBuilder &, mlir::Location,
                                    mlir::ValueRange args) { return args[0]; });
    return pointerTo(residual);
  }

  /// `v`, a matrix or a batch of matrices (`matrix` elements each), as an
  /// operand of a call over the batch dims `outBatch`, with its batch
  /// stride: a single matrix is broadcast (stride 0, or `matrix` for a batch
  /// of one), batch dims equal to `outBatch` are strided over, and any other
  /// batch dims are materialized to `outBatch` first.
  std::pair<mlir::Value, int64_t> batchOperand(mlir::Value v,
                                               llvm::ArrayRef<int64_t> outBatch,
                                               int64_t matrix) {
    auto t = llvm::cast<mlir::RankedTensorType>(v.getType());
    llvm::ArrayRef<int64_t> b = t.getShape().drop_back(2);
    if (product(b) == 1)
      return {v, product(outBatch) == 1 ? matrix : 0};
    if (b == outBatch)
      return {v, matrix};
    llvm::SmallVector<int64_t> full(outBatch);
    llvm::append_range(full, t.getShape().take_back(2));
    auto fullType = mlir::RankedTensorType::get(full, t.getElementType());
    mlir::Value expanded =
        createBroadcastGeneric(rewriter, loc, fullType, v,
                               [](mlir::OpBuilder &, mlir::Location,
                                  mlir::ValueRange args) { return args[0]; });
    return {expanded, matrix};
  }

  /// The geometry arguments of a 2-d conv call, as the runtime's conv
  /// kernels take them: N, C, H, W of the input, K, OH, OW of the result,
  /// KH, KW, strides, pads (top, left), dilations, group.
  llvm::SmallVector<mlir::Value, 16>
  convGeometry(mlir::RankedTensorType input, mlir::RankedTensorType weight,
               mlir::RankedTensorType result, llvm::ArrayRef<int64_t> strides,
               llvm::ArrayRef<int64_t> pads, llvm::ArrayRef<int64_t> dilations,
               int64_t group) {
    return {i64(input.getDimSize(0)),
            i64(input.getDimSize(1)),
            i64(input.getDimSize(2)),
            i64(input.getDimSize(3)),
            i64(result.getDimSize(1)),
            i64(result.getDimSize(2)),
            i64(result.getDimSize(3)),
            i64(weight.getDimSize(2)),
            i64(weight.getDimSize(3)),
            i64(strides[0]),
            i64(strides[1]),
            i64(pads[0]),
            i64(pads[1]),
            i64(dilations[0]),
            i64(dilations[1]),
            i64(group)};
  }

  mlir::Value i64(int64_t v) {
    return mlir::arith::ConstantOp::create(rewriter, loc,
                                           rewriter.getI64IntegerAttr(v));
  }
  mlir::Value f32(double v) {
    return mlir::arith::ConstantOp::create(rewriter, loc,
                                           rewriter.getF32FloatAttr((float)v));
  }

  mlir::Value allocResult(mlir::RankedTensorType type) {
    auto memrefType =
        mlir::MemRefType::get(type.getShape(), type.getElementType());
    return mlir::memref::AllocOp::create(rewriter, loc, memrefType,
                                         rewriter.getI64IntegerAttr(64));
  }

  mlir::Value toTensor(mlir::Value buffer, mlir::RankedTensorType type) {
    return mlir::bufferization::ToTensorOp::create(rewriter, loc, type, buffer,
                                                   /*restrict=*/true,
                                                   /*writable=*/true);
  }

  void call(llvm::StringRef name, llvm::ArrayRef<mlir::Value> args) {
    llvm::SmallVector<mlir::Type> types;
    for (mlir::Value a : args)
      types.push_back(a.getType());
    declare(name, types, /*returnsPtr=*/false);
    mlir::func::CallOp::create(rewriter, loc, name, mlir::TypeRange{}, args);
  }

  mlir::ConversionPatternRewriter &rewriter;
  mlir::Location loc;
  mlir::ModuleOp module;
  mlir::Type ptrType;
};

/// Whether `value` is a compile-time constant (flags bit 0).
inline bool isConstantWeight(mlir::Value original, mlir::Value converted) {
  mlir::Operation *def = original.getDefiningOp();
  if (def && llvm::isa<sparq::ConstantOp, mlir::arith::ConstantOp>(def))
    return true;
  mlir::Operation *convertedDef = converted.getDefiningOp();
  return convertedDef && llvm::isa<mlir::arith::ConstantOp>(convertedDef);
}

} // namespace lowering
} // namespace sparq

#endif // SPARQ_LIB_CONVERSION_SPARQTOLINALG_KERNELCALLBUILDER_H
