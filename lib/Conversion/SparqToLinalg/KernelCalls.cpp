//===- KernelCalls.cpp - Lower f32 fused kernels to runtime microkernels --===//
//
// sparq.fused_matmul and sparq.fused_conv on f32 become calls to the
// runtime's packed, threaded microkernels (sparq_uk_matmul_f32,
// sparq_uk_conv2d_f32), sparq.attention a call to sparq_uk_attention_f32.
// Operands cross into memrefs with bufferization.to_buffer (identity
// layout, so they are contiguous row-major), the result is a fresh 64-byte
// aligned memref.alloc turned back into a tensor with bufferization.to_tensor
// restrict writable.
//
//===----------------------------------------------------------------------===//

#include "KernelCallBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace sparq::lowering;

namespace sparq {
namespace {

constexpr StringLiteral kMatmulFn = "sparq_uk_matmul_f32";
constexpr StringLiteral kConvFn = "sparq_uk_conv2d_f32";
constexpr StringLiteral kSparseMatmulFn = "sparq_uk_sparse_matmul_f32";
constexpr StringLiteral kSparseConvFn = "sparq_uk_sparse_conv2d_f32";
constexpr StringLiteral kAttentionFn = "sparq_uk_attention_f32";

struct FusedMatMulCall : OpConversionPattern<FusedMatMulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(FusedMatMulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    if (!type.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "not f32");
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    auto lhsType = cast<RankedTensorType>(lhs.getType());
    bool transB = op.getTransB();
    int64_t rank = type.getRank();
    ArrayRef<int64_t> outBatch = type.getShape().drop_back(2);
    int64_t m = type.getDimSize(rank - 2), n = type.getDimSize(rank - 1);
    int64_t k = lhsType.getShape().back();
    int64_t batch = product(outBatch);

    // Each operand's batch is either the full result batch or all ones
    // (broadcast, stride 0); anything else is materialized first.
    KernelCallBuilder kb(rewriter, op);
    auto [a, strideA] = kb.batchOperand(lhs, outBatch, m * k);
    auto [bMat, strideB] = kb.batchOperand(rhs, outBatch, k * n);

    Value ctx = kb.context();
    Value pa = kb.pointerTo(a);
    Value pb = kb.pointerTo(bMat);
    Value pbias = kb.optionalPointer(adaptor.getBias());
    Value pres = kb.residualPointer(adaptor.getResidual(), type);
    Value out = kb.allocResult(type);
    Value pc = kb.pointerToBuffer(out);
    int64_t flags = isConstantWeight(op.getRhs(), rhs) ? 1 : 0;
    SmallVector<Value> args{ctx,
                            pa,
                            pb,
                            pbias,
                            pres,
                            pc,
                            kb.i64(batch),
                            kb.i64(m),
                            kb.i64(n),
                            kb.i64(k),
                            kb.i64(strideA),
                            kb.i64(strideB),
                            kb.i64(m * n),
                            kb.i64(transB ? 1 : 0),
                            kb.i64(flags)};
    llvm::append_range(args, kb.activationArgs(op));
    kb.call(kMatmulFn, args);
    rewriter.replaceOp(op, kb.toTensor(out, type));
    return success();
  }
};

struct FusedConvCall : OpConversionPattern<FusedConvOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(FusedConvOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    if (!type.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "not f32");
    auto inputType = cast<RankedTensorType>(adaptor.getInput().getType());
    auto weightType = cast<RankedTensorType>(adaptor.getWeight().getType());
    if (inputType.getRank() != 4)
      return op.emitOpError("the conv2d microkernel needs rank-4 operands");
    ArrayRef<int64_t> strides = op.getStrides(), pads = op.getPads(),
                      dilations = op.getDilations();

    KernelCallBuilder kb(rewriter, op);
    Value ctx = kb.context();
    Value px = kb.pointerTo(adaptor.getInput());
    Value pw = kb.pointerTo(adaptor.getWeight());
    Value pbias = kb.optionalPointer(adaptor.getBias());
    Value pres = kb.residualPointer(adaptor.getResidual(), type);
    Value out = kb.allocResult(type);
    Value py = kb.pointerToBuffer(out);
    int64_t flags =
        isConstantWeight(op.getWeight(), adaptor.getWeight()) ? 1 : 0;
    SmallVector<Value> args{ctx, px, pw, pbias, pres, py};
    llvm::append_range(args,
                       kb.convGeometry(inputType, weightType, type, strides,
                                       pads, dilations, op.getGroup()));
    args.push_back(kb.i64(flags));
    llvm::append_range(args, kb.activationArgs(op));
    kb.call(kConvFn, args);
    rewriter.replaceOp(op, kb.toTensor(out, type));
    return success();
  }
};

/// sparq.sparse_matmul: the packed weight is a read-only byte blob; all
/// leading dims of lhs fold into M.
struct SparseMatMulCall : OpConversionPattern<SparseMatMulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SparseMatMulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    if (!type.getElementType().isF32() || !type.hasStaticShape())
      return op.emitOpError("sparse kernels need static f32 tensors");
    KernelCallBuilder kb(rewriter, op);
    Value ctx = kb.context();
    Value pw = kb.pointerTo(adaptor.getPackedWeight());
    Value px = kb.pointerTo(adaptor.getLhs());
    Value pbias = kb.optionalPointer(adaptor.getBias());
    Value pres = kb.residualPointer(adaptor.getResidual(), type);
    Value out = kb.allocResult(type);
    Value py = kb.pointerToBuffer(out);
    int64_t m = type.getNumElements() / op.getRows();
    SmallVector<Value> args{ctx, pw, px, pbias, pres, py, kb.i64(m)};
    llvm::append_range(args, kb.activationArgs(op));
    kb.call(kSparseMatmulFn, args);
    rewriter.replaceOp(op, kb.toTensor(out, type));
    return success();
  }
};

struct SparseConvCall : OpConversionPattern<SparseConvOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SparseConvOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    auto inputType = cast<RankedTensorType>(adaptor.getInput().getType());
    if (!type.getElementType().isF32() || !type.hasStaticShape())
      return op.emitOpError("sparse kernels need static f32 tensors");
    ArrayRef<int64_t> strides = op.getStrides(), pads = op.getPads(),
                      dilations = op.getDilations(),
                      kernel = op.getKernelShape();
    KernelCallBuilder kb(rewriter, op);
    Value ctx = kb.context();
    Value pw = kb.pointerTo(adaptor.getPackedWeight());
    Value px = kb.pointerTo(adaptor.getInput());
    Value pbias = kb.optionalPointer(adaptor.getBias());
    Value pres = kb.residualPointer(adaptor.getResidual(), type);
    Value out = kb.allocResult(type);
    Value py = kb.pointerToBuffer(out);
    SmallVector<Value> args{ctx,
                            pw,
                            px,
                            pbias,
                            pres,
                            py,
                            kb.i64(inputType.getDimSize(0)),
                            kb.i64(inputType.getDimSize(1)),
                            kb.i64(inputType.getDimSize(2)),
                            kb.i64(inputType.getDimSize(3)),
                            kb.i64(type.getDimSize(1)),
                            kb.i64(type.getDimSize(2)),
                            kb.i64(type.getDimSize(3)),
                            kb.i64(kernel[0]),
                            kb.i64(kernel[1]),
                            kb.i64(strides[0]),
                            kb.i64(strides[1]),
                            kb.i64(pads[0]),
                            kb.i64(pads[1]),
                            kb.i64(dilations[0]),
                            kb.i64(dilations[1])};
    llvm::append_range(args, kb.activationArgs(op));
    kb.call(kSparseConvFn, args);
    rewriter.replaceOp(op, kb.toTensor(out, type));
    return success();
  }
};

/// sparq.attention: q, k, v and the result in place ([B,S,H,D] /
/// [B,T,H,D]); each mask crosses with its four element strides over the
/// scores' [B, H, S, T] dims, 0 where it broadcasts.
struct AttentionCall : OpConversionPattern<AttentionOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(AttentionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = convertTensorType(*getTypeConverter(), op.getType());
    auto q = cast<RankedTensorType>(op.getQuery().getType());
    auto k = cast<RankedTensorType>(op.getKey().getType());
    KernelCallBuilder kb(rewriter, op);
    auto maskArgs = [&](Value mask, SmallVector<Value> &args) {
      if (!mask) {
        args.push_back(kb.null());
        for (int i = 0; i < 4; ++i)
          args.push_back(kb.i64(0));
        return;
      }
      ArrayRef<int64_t> shape =
          cast<RankedTensorType>(mask.getType()).getShape();
      args.push_back(kb.pointerTo(mask));
      int64_t stride = 1;
      SmallVector<int64_t, 4> strides(4);
      for (int i = 3; i >= 0; --i) {
        strides[i] = shape[i] == 1 ? 0 : stride;
        stride *= shape[i];
      }
      for (int64_t st : strides)
        args.push_back(kb.i64(st));
    };
    Value ctx = kb.context();
    Value pq = kb.pointerTo(adaptor.getQuery());
    Value pk = kb.pointerTo(adaptor.getKey());
    Value pv = kb.pointerTo(adaptor.getValue());
    Value out = kb.allocResult(type);
    SmallVector<Value> args{ctx,
                            pq,
                            pk,
                            pv,
                            kb.pointerToBuffer(out),
                            kb.i64(q.getDimSize(0)),
                            kb.i64(q.getDimSize(1)),
                            kb.i64(k.getDimSize(1)),
                            kb.i64(q.getDimSize(2)),
                            kb.i64(q.getDimSize(3)),
                            kb.f32(op.getScale().convertToFloat())};
    maskArgs(adaptor.getAddMask(), args);
    maskArgs(adaptor.getFillMask(), args);
    args.push_back(kb.f32(op.getFill().convertToFloat()));
    kb.call(kAttentionFn, args);
    rewriter.replaceOp(op, kb.toTensor(out, type));
    return success();
  }
};

} // namespace

void lowering::populateKernelCallPatterns(TypeConverter &typeConverter,
                                          RewritePatternSet &patterns) {
  patterns
      .add<FusedMatMulCall, FusedConvCall, SparseMatMulCall, SparseConvCall,
           AttentionCall>(
          typeConverter, patterns.getContext());
}

} // namespace sparq
