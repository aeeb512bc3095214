//===- FuseAttention.cpp - Scaled dot-product attention as one op ---------===//
//
// Exporters write multi-head attention as a chain of graph ops:
//
//   q_t = transpose(q, [0,2,1,3])        q: [B, S, H, D] -> [B, H, S, D]
//   k_t = transpose(k, [0,2,3,1])        k: [B, T, H, D] -> [B, H, D, T]
//         (or [0,2,1,3] with a trans_b matmul)
//   v_t = transpose(v, [0,2,1,3])
//   s   = matmul(q_t, k_t)               [B, H, S, T]
//   s   = s / c  or  s * c               (optional, c a scalar constant)
//   s   = s + mask                       (optional additive mask)
//   s   = where(cond, fill, s)           (optional masked fill, fill a scalar)
//   p   = softmax(s, axis = -1)
//   o   = transpose(matmul(p, v_t), [0,2,1,3])   -> [B, S, H, D]
//
// This pass replaces the chain, when every intermediate has the one use the
// chain gives it, with sparq.attention on q, k and v as the projections
// produced them. The runtime kernel then reads the heads in place and never
// materializes the transposes or the [B, H, S, T] scores in memory.
//
//===----------------------------------------------------------------------===//

#include "sparq/Dialect/Sparq/Transforms/Passes.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace sparq {
#define GEN_PASS_DEF_SPARQFUSEATTENTIONPASS
#include "sparq/Dialect/Sparq/Transforms/Passes.h.inc"
} // namespace sparq

using namespace mlir;
using namespace sparq;

namespace {

RankedTensorType typeOf(Value v) { return cast<RankedTensorType>(v.getType()); }

/// `v`'s defining op of type OpTy when `v` has no other use.
template <typename OpTy> OpTy soleUse(Value v) {
  if (!v.hasOneUse())
    return OpTy();
  return v.getDefiningOp<OpTy>();
}

/// The input of `v` = transpose(x, perm) when that transpose is used only
/// here.
Value transposedFrom(Value v, ArrayRef<int64_t> perm) {
  auto t = soleUse<TransposeOp>(v);
  if (!t || t.getPerm() != perm)
    return Value();
  return t.getInput();
}

/// A matrix product with nothing fused into it.
bool isPlainMatMul(FusedMatMulOp op) {
  return !op.getBias() && !op.getResidual() &&
         op.getActivation() == Activation::None;
}

/// The one f32 element of a constant (any shape of one element).
std::optional<float> scalarConstant(Value v) {
  ElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)) || !attr.getElementType().isF32() ||
      attr.getNumElements() != 1)
    return std::nullopt;
  return (*attr.getValues<APFloat>().begin()).convertToFloat();
}

/// A rank-4 static mask whose dims are 1 or those of the scores.
bool broadcastsTo(Value mask, ArrayRef<int64_t> scores) {
  auto t = typeOf(mask);
  if (t.getRank() != 4 || !t.hasStaticShape())
    return false;
  for (int64_t i = 0; i < 4; ++i)
    if (t.getDimSize(i) != 1 && t.getDimSize(i) != scores[i])
      return false;
  return true;
}

struct FuseAttentionChain : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TransposeOp out,
                                PatternRewriter &rewriter) const override {
    const SmallVector<int64_t> heads = {0, 2, 1, 3};
    if (out.getPerm() != ArrayRef<int64_t>(heads))
      return rewriter.notifyMatchFailure(out, "not a head transpose");
    auto pv = soleUse<FusedMatMulOp>(out.getInput());
    if (!pv || !isPlainMatMul(pv) || pv.getTransB())
      return rewriter.notifyMatchFailure(out, "not after a plain matmul");
    auto softmax = soleUse<SoftmaxOp>(pv.getLhs());
    Value v = transposedFrom(pv.getRhs(), heads);
    if (!softmax || !v)
      return rewriter.notifyMatchFailure(out, "not softmax(scores) x v");
    auto scoresType = typeOf(softmax.getResult());
    if (scoresType.getRank() != 4 ||
        (softmax.getAxis() != 3 && softmax.getAxis() != -1))
      return rewriter.notifyMatchFailure(out, "softmax not over the keys");
    ArrayRef<int64_t> scores = scoresType.getShape();

    // Peel, from the softmax back: masked fill, additive mask, scale.
    Value s = softmax.getInput();
    Value fillMask, addMask;
    float fill = 0.0f, scale = 1.0f;
    if (auto where = soleUse<WhereOp>(s)) {
      std::optional<float> f = scalarConstant(where.getX());
      if (!f || !broadcastsTo(where.getCondition(), scores) ||
          typeOf(where.getY()).getShape() != scores)
        return rewriter.notifyMatchFailure(out, "unsupported masked fill");
      fillMask = where.getCondition();
      fill = *f;
      s = where.getY();
    }
    if (auto add = soleUse<AddOp>(s)) {
      for (int i = 0; i < 2 && !addMask; ++i) {
        Value mask = add->getOperand(1 - i);
        if (typeOf(add->getOperand(i)).getShape() == scores &&
            typeOf(mask).getElementType().isF32() &&
            broadcastsTo(mask, scores)) {
          addMask = mask;
          s = add->getOperand(i);
        }
      }
      if (!addMask)
        return rewriter.notifyMatchFailure(out, "unsupported additive mask");
    }
    if (auto div = soleUse<DivOp>(s)) {
      std::optional<float> c = scalarConstant(div.getRhs());
      if (!c || *c == 0.0f)
        return rewriter.notifyMatchFailure(out, "scale is not a constant");
      scale = 1.0f / *c;
      s = div.getLhs();
    } else if (auto mul = soleUse<MulOp>(s)) {
      std::optional<float> c = scalarConstant(mul.getRhs());
      Value other = mul.getLhs();
      if (!c) {
        c = scalarConstant(mul.getLhs());
        other = mul.getRhs();
      }
      if (!c)
        return rewriter.notifyMatchFailure(out, "scale is not a constant");
      scale = *c;
      s = other;
    }

    auto qk = soleUse<FusedMatMulOp>(s);
    if (!qk || !isPlainMatMul(qk) || qk.getType() != scoresType)
      return rewriter.notifyMatchFailure(out, "scores are not q x k");
    Value q = transposedFrom(qk.getLhs(), heads);
    Value k = qk.getTransB() ? transposedFrom(qk.getRhs(), heads)
                             : transposedFrom(qk.getRhs(), {0, 2, 3, 1});
    if (!q || !k)
      return rewriter.notifyMatchFailure(out, "q or k is not a head split");
    auto qType = typeOf(q), kType = typeOf(k), vType = typeOf(v);
    for (auto t : {qType, kType, vType})
      if (t.getRank() != 4 || !t.hasStaticShape() || !t.getElementType().isF32())
        return rewriter.notifyMatchFailure(out, "not static f32 heads");
    if (kType != vType || out.getType() != qType)
      return rewriter.notifyMatchFailure(out, "head shapes disagree");

    auto attention = AttentionOp::create(
        rewriter, out.getLoc(), qType, q, k, v, addMask, fillMask,
        rewriter.getF32FloatAttr(scale), rewriter.getF32FloatAttr(fill));
    rewriter.replaceOp(out, attention.getResult());
    return success();
  }
};

struct SparqFuseAttentionPass
    : sparq::impl::SparqFuseAttentionPassBase<SparqFuseAttentionPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAttentionChain>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
