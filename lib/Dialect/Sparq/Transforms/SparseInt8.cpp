//===- SparseInt8.cpp - Sparse int8 weights for integer matmuls -----------===//
//
// Combines quantization with sparsity: a sparq.qmatmul (formed by
// sparq-qdq-to-integer) whose weight is a constant symmetric i8 matrix is
// measured for empty 1 x 4 blocks along its reduction dim and, when its
// block density is below the sparse int8 kernel's break-even for the call's
// activation rows, packed at compile time (SPARQ_SPARSE_BLOCK_I8 of
// sparq_sparse_format.h: block values, 16/32-bit block columns, row sums for
// the zero-point compensation) and turned into sparq.sparse_qmatmul, which
// lowers to sparq_uk_sparse_qmatmul_i8. The cost rule is in
// sparseInt8BreakEven; everything else stays on the dense int8 kernel.
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
  if (rows <= 1)
    return 0.07;
  if (rows <= 3)
    return 0.07;
  if (rows <= 8)
    return 0.05 * static_cast<double>(rows);
  return 0.45;
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

std::optional<Int8Weight> readInt8Weight(QMatMulOp op, std::string &why) {
  auto rhsType = cast<RankedTensorType>(op.getRhs().getType());
  auto lhsType = cast<RankedTensorType>(op.getLhs().getType());
  Attribute attr;
  if (rhsType.getRank() != 2 || !matchPattern(op.getRhs(), m_Constant(&attr))) {
    why = "the weight is not a 2-d constant";
    return std::nullopt;
  }
  if (!rhsType.getElementType().isSignlessInteger(8) ||
      !isZeroConstant(op.getRhsZeroPoint())) {
    why = "the weight is not symmetric int8 (zero point 0)";
    return std::nullopt;
  }
  if (!lhsType.hasStaticShape() || !op.getType().hasStaticShape()) {
    why = "dynamic shapes";
    return std::nullopt;
  }
  std::optional<std::vector<int8_t>> values = readI8Values(attr);
  if (!values) {
    why = "the weight's data is not available";
    return std::nullopt;
  }
  int64_t d0 = rhsType.getDimSize(0), d1 = rhsType.getDimSize(1);
  Int8Weight w;
  if (op.getTransB()) {
    w.rows = d0;
    w.cols = d1;
    w.values = std::move(*values);
  } else {
    // B is [K, N]: W[n][k] = B[k][n].
    w.rows = d1;
    w.cols = d0;
    w.values.resize(d0 * d1);
    for (int64_t k = 0; k < d0; ++k)
      for (int64_t n = 0; n < d1; ++n)
        w.values[n * d0 + k] = (*values)[k * d1 + n];
  }
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

struct SparqSparseInt8Pass
    : sparq::impl::SparqSparseInt8PassBase<SparqSparseInt8Pass> {
  using SparqSparseInt8PassBase::SparqSparseInt8PassBase;

  void runOnOperation() override {
    if (mode != "auto" && mode != "off" && mode != "force") {
      getOperation().emitError("sparq-sparse-int8: mode must be auto, off or "
                               "force, got '")
          << mode << "'";
      return signalPassFailure();
    }
    if (mode == "off")
      return;
    MLIRContext *context = &getContext();
    OpBuilder builder(context);
    SmallVector<QMatMulOp> ops;
    getOperation().walk([&](QMatMulOp op) { ops.push_back(op); });
    const SparsePattern pattern{SparseFormat::Block, 0, 0, 1, 4};
    for (QMatMulOp op : ops) {
      std::string why;
      std::optional<Int8Weight> w = readInt8Weight(op, why);
      if (!w) {
        op->setAttr("sparq.format_reason",
                    builder.getStringAttr("int8 kernel (dense): " + why));
        continue;
      }
      int64_t blocks = 0;
      for (int64_t r = 0; r < w->rows; ++r)
        for (int64_t b = 0; b < w->cols / 4; ++b)
          blocks += blockNonZero(*w, r, b);
      const double density = static_cast<double>(blocks) /
                             static_cast<double>(w->rows * w->cols / 4);
      auto lhsType = cast<RankedTensorType>(op.getLhs().getType());
      const int64_t rows = lhsType.getNumElements() / w->cols;
      const double breakEven = sparseInt8BreakEven(rows);
      const bool sparse =
          mode == "force" ? density < 1.0 : density <= breakEven;
      SparsityAttr encoding = sparsityAttrFor(context, pattern, density, 1);
      op->setAttr("sparq.sparsity", encoding);
      std::string reason;
      llvm::raw_string_ostream os(reason);
      os << llvm::format("1x4 block density %.3f ", density)
         << (sparse ? "<=" : ">")
         << llvm::format(" break-even %.2f at %ld rows", breakEven, (long)rows)
         << (mode == "force" ? " (forced)" : "");
      if (!sparse) {
        op->setAttr("sparq.format", builder.getStringAttr("dense"));
        op->setAttr("sparq.format_reason",
                    builder.getStringAttr("int8 kernel (dense): " + reason));
        continue;
      }
      std::vector<char> blob = packBlockI8(*w);
      builder.setInsertionPoint(op);
      Location loc = op.getLoc();
      auto blobType =
          RankedTensorType::get({(int64_t)blob.size()}, builder.getI8Type());
      auto packed =
          ConstantOp::create(builder, loc,
                             DenseResourceElementsAttr::get(
                                 blobType, "sparse_int8_weight",
                                 HeapAsmResourceBlob::allocateAndCopyWithAlign(
                                     ArrayRef<char>(blob), /*align=*/64)));
      auto replacement = SparseQMatMulOp::create(
          builder, loc, op.getType(), op.getLhs(), packed, op.getLhsZeroPoint(),
          op.getScale(), op.getBias(), op.getBiasF32(), encoding,
          builder.getI64IntegerAttr(w->rows),
          builder.getI64IntegerAttr(w->cols), op.getOutZeroPointAttr(),
          op.getQminAttr(), op.getQmaxAttr(), op.getActivationAttr(),
          op.getActAlphaAttr(), op.getActBetaAttr());
      for (NamedAttribute attr : op->getDiscardableAttrs())
        if (attr.getName().getValue().starts_with("sparq."))
          replacement->setAttr(attr.getName(), attr.getValue());
      replacement->setAttr("sparq.format",
                           builder.getStringAttr("block 1x4 int8"));
      replacement->setAttr(
          "sparq.format_reason",
          builder.getStringAttr("sparse int8 kernel: " + reason));
      replacement->setAttr("sparq.packed_bytes",
                           builder.getI64IntegerAttr(blob.size()));
      op->replaceAllUsesWith(replacement);
      op->erase();
    }
  }
};

} // namespace
