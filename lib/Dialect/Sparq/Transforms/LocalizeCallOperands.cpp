//===- LocalizeCallOperands.cpp - One to_buffer per runtime-call operand --===//
//
// Runtime kernel calls read their tensor operands through a chain
//   bufferization.to_buffer -> memref.extract_aligned_pointer_as_index
//     -> arith.index_cast -> llvm.inttoptr -> func.call
// built right before the call. CSE merges identical chains, so a second call
// reading the same tensor would take its pointer from the first call's
// to_buffer. One-Shot Bufferize sees a tensor's reads only through
// to_buffer, so it would then believe the tensor dead after the first call
// and could let a later op write its buffer in place before the second call
// runs. This pass, run after CSE and before bufferization, gives every call
// operand a fresh copy of its chain right before the call (and erases the
// originals), so that each read is where its call is.
//
//===----------------------------------------------------------------------===//

#include "sparq/Dialect/Sparq/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

namespace sparq {
#define GEN_PASS_DEF_SPARQLOCALIZECALLOPERANDSPASS
#include "sparq/Dialect/Sparq/Transforms/Passes.h.inc"
} // namespace sparq

using namespace mlir;

namespace {

/// The to_buffer -> extract -> index_cast -> inttoptr chain ending in `v`,
/// root first; empty when `v` is not such a chain.
SmallVector<Operation *, 4> pointerChain(Value v) {
  auto toPtr = v.getDefiningOp<LLVM::IntToPtrOp>();
  if (!toPtr)
    return {};
  auto cast = toPtr.getArg().getDefiningOp<arith::IndexCastOp>();
  if (!cast)
    return {};
  auto extract =
      cast.getIn().getDefiningOp<memref::ExtractAlignedPointerAsIndexOp>();
  if (!extract)
    return {};
  auto toBuffer = extract.getSource().getDefiningOp<bufferization::ToBufferOp>();
  if (!toBuffer)
    return {};
  return {toBuffer, extract, cast, toPtr};
}

struct SparqLocalizeCallOperandsPass
    : sparq::impl::SparqLocalizeCallOperandsPassBase<
          SparqLocalizeCallOperandsPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<func::CallOp> calls;
    getOperation().walk([&](func::CallOp call) { calls.push_back(call); });
    SmallVector<Operation *> originals;
    for (func::CallOp call : calls) {
      for (OpOperand &operand : call->getOpOperands()) {
        SmallVector<Operation *, 4> chain = pointerChain(operand.get());
        if (chain.empty())
          continue;
        // A fresh chain right before the call; the original goes once no
        // other call uses it.
        OpBuilder b(call);
        IRMapping map;
        Operation *last = nullptr;
        for (Operation *op : chain)
          last = b.clone(*op, map);
        operand.set(last->getResult(0));
        originals.append(chain.rbegin(), chain.rend());
      }
    }
    llvm::SetVector<Operation *> dead(originals.begin(), originals.end());
    for (Operation *op : dead)
      if (op->use_empty())
        op->erase();
  }
};

} // namespace
