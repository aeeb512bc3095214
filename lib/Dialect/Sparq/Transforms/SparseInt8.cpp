//===- SparseInt8.cpp - Sparse int8 weights for integer kernels -----------===//
//
// Combines quantization with sparsity: a sparq.qmatmul or a 1x1 sparq.qconv
// (formed by sparq-qdq-to-integer) whose weight is a constant symmetric i8
// matrix is measured for empty 1 x 4 blocks along its reduction dim and,
// when its block density is below the sparse int8 kernel's break-even for
// the call's activation rows (output pixels per image for a convolution),
// packed at compile time (SPARQ_SPARSE_BLOCK_I8 of sparq_sparse_format.h:
// block values, 16/32-bit block columns, row sums for the zero-point
// compensation) and turned into sparq.sparse_qmatmul / sparq.sparse_qconv,
// which lower to sparq_uk_sparse_qmatmul_i8 / sparq_uk_sparse_qconv2d_i8.
// The cost rules are sparseInt8BreakEven / sparseInt8ConvBreakEven;
// everything else stays on the dense int8 kernels.
//
//===----------------------------------------------------------------------===//

#include "KernelWeights.h"

#include "sparq/Dialect/Sparq/IR/Sparq.h"
#include "sparq/Dialect/Sparq/Transforms/Passes.h"
#include "sparq/Runtime/sparq_sparse_format.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/Format.h"

#include <cstring>

namespace sparq {
#define GEN_PASS_DEF_SPARQSPARSEINT8PASS
#include "sparq/Dialect/Sparq/Transforms/Passes.h.inc"
} // namespace sparq

using namespace mlir;
using namespace sparq;

namespace {

/// The highest 1 x 4 block density at which the sparse int8 kernel is
/// expected to beat the dense one for `rows` activation rows per call.
/// Measured with sparq-sparseq-bench (768x768 and 3072x768, one thread,
/// AVX-512 VNNI on Zen 4; AVX2's break-evens are higher, so this is the
/// conservative choice for both): at 16 and 128 rows sparse breaks even
/// at 51-53 % density, at 8 rows near 47 %, at 4 rows near 19 %, at 2 rows
/// near 8 % and at 1 row near 9 %: the dense GEMV is fast enough that only
/// very sparse weights win.
double sparseInt8BreakEven(int64_t rows) {
  if (rows <= 3)
    return 0.07;
  if (rows <= 8)
    return 0.05 * static_cast<double>(rows);
  return 0.45;
}

/// The same for a 1x1 convolution with `channels` input channels, against
/// the dense int8 convolution (sparq-sparseq-bench --conv, MobileNetV2's
/// 1x1 layers, one thread, VNNI): every output channel pays an output
/// stage per 64 pixels, so convolutions with few input channels stay dense
/// (C = 16..96: 0.5-1.06x at 10-20 % density); C = 144 and 192 break even
/// near 25 %; from C = 320 near 40-50 %.
double sparseInt8ConvBreakEven(int64_t channels) {
  if (channels < 128)
    return 0.0;
  if (channels < 256)
    return 0.20;
  return 0.40;
}

/// The int8 values of a constant (dense or dense resource), row-major.
std::optional<std::vector<int8_t>> readI8Values(Attribute attr) {
  auto elements = dyn_cast_or_null<ElementsAttr>(attr);
  if (!elements || !elements.getElementType().isSignlessInteger(8))
    return std::nullopt;
  int64_t n = elements.getNumElements();
  if (auto dense = dyn_cast<DenseIntElementsAttr>(elements)) {
    std::vector<int8_t> v;
    v.reserve(n);
    for (const APInt &x : dense.getValues<APInt>())
      v.push_back(static_cast<int8_t>(x.getSExtValue()));
    return v;
  }
  if (auto resource = dyn_cast<DenseI8ResourceElementsAttr>(elements)) {
    std::optional<ArrayRef<int8_t>> data = resource.tryGetAsArrayRef();
    if (!data || (int64_t)data->size() != n)
      return std::nullopt;
    return std::vector<int8_t>(data->begin(), data->end());
  }
  return std::nullopt;
}

/// Whether every element of a constant integer tensor is zero.
bool isZeroConstant(Value v) {
  ElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return false;
  if (auto dense = dyn_cast<DenseIntElementsAttr>(attr))
    return llvm::all_of(dense.getValues<APInt>(),
                        [](const APInt &x) { return x.isZero(); });
  return false;
}

/// The weight of a qmatmul as W[n][k] (rows = output columns), when it is
/// what the sparse int8 kernel takes; else a reason why not.
struct Int8Weight {
  int64_t rows = 0, cols = 0;
  std::vector<int8_t> values;
};

/// The values of a constant, symmetric (zero point 0) i8 weight of a kernel
/// with static input and result shapes; none, with `why` set, otherwise.
std::optional<std::vector<int8_t>> symmetricInt8Values(Value weight,
                                                       Value zeroPoint,
                                                       Value input,
                                                       Value result,
                                                       std::string &why) {
  Attribute attr;
  if (!matchPattern(weight, m_Constant(&attr))) {
    why = "the weight is not a constant";
    return std::nullopt;
  }
  if (!cast<RankedTensorType>(weight.getType())
           .getElementType()
           .isSignlessInteger(8) ||
      !isZeroConstant(zeroPoint)) {
    why = "the weight is not symmetric int8 (zero point 0)";
    return std::nullopt;
  }
  if (!cast<RankedTensorType>(input.getType()).hasStaticShape() ||
      !cast<RankedTensorType>(result.getType()).hasStaticShape()) {
    why = "dynamic shapes";
    return std::nullopt;
  }
  std::optional<std::vector<int8_t>> values = readI8Values(attr);
  if (!values)
    why = "the weight's data is not available";
  return values;
}

std::optional<Int8Weight> readInt8Weight(QMatMulOp op, std::string &why) {
  auto rhsType = cast<RankedTensorType>(op.getRhs().getType());
  if (rhsType.getRank() != 2) {
    why = "the weight is not a 2-d constant";
    return std::nullopt;
  }
  std::optional<std::vector<int8_t>> values = symmetricInt8Values(
      op.getRhs(), op.getRhsZeroPoint(), op.getLhs(), op.getResult(), why);
  if (!values)
    return std::nullopt;
  Int8Weight w;
  outputMajorWeight<int8_t>(*values, rhsType.getDimSize(0),
                            rhsType.getDimSize(1), op.getTransB(), w.rows,
                            w.cols, w.values);
  if (w.cols % 4 != 0) {
    why = "the reduction dim is not a multiple of 4";
    return std::nullopt;
  }
  if (w.rows > UINT32_MAX || w.cols > UINT32_MAX) {
    why = "the weight is too large";
    return std::nullopt;
  }
  return w;
}

/// The [K, C, 1, 1] weight of a 1x1, ungrouped, unpadded qconv as W[k][c].
std::optional<Int8Weight> readInt8Weight(QConvOp op, std::string &why) {
  auto wType = cast<RankedTensorType>(op.getWeight().getType());
  if (op.getGroup() != 1 || wType.getRank() != 4 || wType.getDimSize(2) != 1 ||
      wType.getDimSize(3) != 1 ||
      llvm::any_of(op.getPads(), [](int64_t p) { return p != 0; })) {
    why = "only 1x1 convolutions without groups or padding go sparse";
    return std::nullopt;
  }
  std::optional<std::vector<int8_t>> values =
      symmetricInt8Values(op.getWeight(), op.getWeightZeroPoint(),
                          op.getInput(), op.getResult(), why);
  if (!values)
    return std::nullopt;
  Int8Weight w;
  w.rows = wType.getDimSize(0);
  w.cols = wType.getDimSize(1);
  w.values = std::move(*values);
  if (w.cols % 4 != 0) {
    why = "the input channels are not a multiple of 4";
    return std::nullopt;
  }
  return w;
}

bool blockNonZero(const Int8Weight &w, int64_t r, int64_t b) {
  const int8_t *p = w.values.data() + r * w.cols + 4 * b;
  return p[0] || p[1] || p[2] || p[3];
}

/// Packs w as SPARQ_SPARSE_BLOCK_I8: header, row pointers, block columns,
/// block values, row sums, each at a multiple of 16 bytes.
std::vector<char> packBlockI8(const Int8Weight &w) {
  const int64_t blockCols = w.cols / 4;
  std::vector<uint32_t> rowPtr = {0}, col;
  std::vector<int8_t> values;
  std::vector<int32_t> sums;
  for (int64_t r = 0; r < w.rows; ++r) {
    int32_t sum = 0;
    for (int64_t b = 0; b < blockCols; ++b) {
      if (!blockNonZero(w, r, b))
        continue;
      col.push_back((uint32_t)b);
      for (int t = 0; t < 4; ++t) {
        values.push_back(w.values[r * w.cols + 4 * b + t]);
        sum += values.back();
      }
    }
    rowPtr.push_back((uint32_t)col.size());
    sums.push_back(sum);
  }
  const bool wide = blockCols > 65536;
  sparq_sparse_header h;
  std::memset(&h, 0, sizeof(h));
  h.magic = SPARQ_SPARSE_MAGIC;
  h.version = SPARQ_SPARSE_VERSION;
  h.format = SPARQ_SPARSE_BLOCK_I8;
  h.index_bytes = wide ? 4 : 2;
  h.rows = (uint32_t)w.rows;
  h.cols = (uint32_t)w.cols;
  h.block_rows = 1;
  h.block_cols = 4;
  h.nnz = values.size();
  auto align16 = [](uint64_t x) { return (x + 15) & ~uint64_t(15); };
  uint64_t off = align16(sizeof(h));
  h.row_ptr_offset = off;
  off = align16(off + rowPtr.size() * 4);
  h.col_offset = off;
  off = align16(off + col.size() * (wide ? 4 : 2));
  h.values_offset = off;
  const uint64_t sumsOffset = align16(off + values.size());
  h.total_bytes = align16(sumsOffset + sums.size() * 4);
  std::vector<char> blob(h.total_bytes, 0);
  std::memcpy(blob.data(), &h, sizeof(h));
  std::memcpy(blob.data() + h.row_ptr_offset, rowPtr.data(), rowPtr.size() * 4);
  for (size_t i = 0; i < col.size(); ++i) {
    if (wide) {
      std::memcpy(blob.data() + h.col_offset + 4 * i, &col[i], 4);
    } else {
      uint16_t c = (uint16_t)col[i];
      std::memcpy(blob.data() + h.col_offset + 2 * i, &c, 2);
    }
  }
  std::memcpy(blob.data() + h.values_offset, values.data(), values.size());
  std::memcpy(blob.data() + sumsOffset, sums.data(), sums.size() * 4);
  return blob;
}

/// The i8 blob constant holding `blob`, before `op`.
Value createBlobConstant(OpBuilder &builder, Operation *op,
                         const std::vector<char> &blob) {
  builder.setInsertionPoint(op);
  auto blobType =
      RankedTensorType::get({(int64_t)blob.size()}, builder.getI8Type());
  return ConstantOp::create(
      builder, op->getLoc(),
      DenseResourceElementsAttr::get(
          blobType, "sparse_int8_weight",
          HeapAsmResourceBlob::allocateAndCopyWithAlign(ArrayRef<char>(blob),
                                                        /*align=*/64)));
}

struct SparqSparseInt8Pass
    : sparq::impl::SparqSparseInt8PassBase<SparqSparseInt8Pass> {
  using SparqSparseInt8PassBase::SparqSparseInt8PassBase;

  /// Measures w, records the measurement and the decision on op (against
  /// `breakEven`, described by `where` in the reason), and returns the
  /// encoding when op should go sparse.
  std::optional<SparsityAttr> decide(Operation *op, const Int8Weight &w,
                                     double breakEven, llvm::StringRef where,
                                     std::string &reason) {
    OpBuilder builder(op->getContext());
    int64_t blocks = 0;
    for (int64_t r = 0; r < w.rows; ++r)
      for (int64_t b = 0; b < w.cols / 4; ++b)
        blocks += blockNonZero(w, r, b);
    const double density =
        static_cast<double>(blocks) / static_cast<double>(w.rows * w.cols / 4);
    const bool sparse = mode == "force" ? density < 1.0 : density <= breakEven;
    const SparsePattern pattern{SparseFormat::Block, 0, 0, 1, 4};
    SparsityAttr encoding =
        sparsityAttrFor(op->getContext(), pattern, density, 1);
    op->setAttr("sparq.sparsity", encoding);
    llvm::raw_string_ostream os(reason);
    os << llvm::format("1x4 block density %.3f ", density)
       << (sparse ? "<=" : ">") << llvm::format(" break-even %.2f ", breakEven)
       << where << (mode == "force" ? " (forced)" : "");
    if (!sparse) {
      op->setAttr("sparq.format", builder.getStringAttr("dense"));
      op->setAttr("sparq.format_reason",
                  builder.getStringAttr("int8 kernel (dense): " + reason));
      return std::nullopt;
    }
    return encoding;
  }

  /// Moves op's annotations to its sparse replacement and erases op.
  void replace(Operation *op, Operation *replacement, const std::string &reason,
               size_t blobBytes) {
    OpBuilder builder(op->getContext());
    for (NamedAttribute attr : op->getDiscardableAttrs())
      if (attr.getName().getValue().starts_with("sparq."))
        replacement->setAttr(attr.getName(), attr.getValue());
    replacement->setAttr("sparq.format",
                         builder.getStringAttr("block 1x4 int8"));
    replacement->setAttr(
        "sparq.format_reason",
        builder.getStringAttr("sparse int8 kernel: " + reason));
    replacement->setAttr("sparq.packed_bytes",
                         builder.getI64IntegerAttr(blobBytes));
    op->replaceAllUsesWith(replacement);
    op->erase();
  }

  template <typename OpTy>
  bool readOrExplain(OpTy op, std::optional<Int8Weight> &w) {
    std::string why;
    w = readInt8Weight(op, why);
    if (!w)
      op->setAttr(
          "sparq.format_reason",
          StringAttr::get(op->getContext(), "int8 kernel (dense): " + why));
    return w.has_value();
  }

  void runOnOperation() override {
    if (mode != "auto" && mode != "off" && mode != "force") {
      getOperation().emitError("sparq-sparse-int8: mode must be auto, off or "
                               "force, got '")
          << mode << "'";
      return signalPassFailure();
    }
    if (mode == "off")
      return;
    OpBuilder builder(&getContext());
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<QMatMulOp, QConvOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      std::optional<Int8Weight> w;
      std::string reason;
      if (auto mm = dyn_cast<QMatMulOp>(op)) {
        if (!readOrExplain(mm, w))
          continue;
        auto lhsType = cast<RankedTensorType>(mm.getLhs().getType());
        const int64_t rows = lhsType.getNumElements() / w->cols;
        std::optional<SparsityAttr> encoding =
            decide(op, *w, sparseInt8BreakEven(rows),
                   "at " + std::to_string(rows) + " rows", reason);
        if (!encoding)
          continue;
        std::vector<char> blob = packBlockI8(*w);
        Value packed = createBlobConstant(builder, op, blob);
        auto replacement = SparseQMatMulOp::create(
            builder, op->getLoc(), mm.getType(), mm.getLhs(), packed,
            mm.getLhsZeroPoint(), mm.getScale(), mm.getBias(), mm.getBiasF32(),
            *encoding, builder.getI64IntegerAttr(w->rows),
            builder.getI64IntegerAttr(w->cols), mm.getOutZeroPointAttr(),
            mm.getQminAttr(), mm.getQmaxAttr(), mm.getActivationAttr(),
            mm.getActAlphaAttr(), mm.getActBetaAttr());
        replace(op, replacement, reason, blob.size());
        continue;
      }
      auto conv = cast<QConvOp>(op);
      if (!readOrExplain(conv, w))
        continue;
      std::optional<SparsityAttr> encoding =
          decide(op, *w, sparseInt8ConvBreakEven(w->cols),
                 "with " + std::to_string(w->cols) + " input channels", reason);
      if (!encoding)
        continue;
      std::vector<char> blob = packBlockI8(*w);
      Value packed = createBlobConstant(builder, op, blob);
      auto replacement = SparseQConvOp::create(
          builder, op->getLoc(), conv.getType(), conv.getInput(), packed,
          conv.getInputZeroPoint(), conv.getScale(), conv.getBias(),
          conv.getBiasF32(), *encoding, builder.getI64IntegerAttr(w->rows),
          conv.getStridesAttr(), conv.getOutZeroPointAttr(), conv.getQminAttr(),
          conv.getQmaxAttr(), conv.getActivationAttr(), conv.getActAlphaAttr(),
          conv.getActBetaAttr());
      replace(op, replacement, reason, blob.size());
    }
  }
};

} // namespace
