//===- SelectSparseFormat.cpp - Per-layer dense/sparse choice -------------===//
//
// The cost model (SparsityModel.cpp) estimates each kernel dense and in the
// sparse formats its measured pattern allows; the fastest wins, and sparse
// only when it is clearly faster, so sparsity never slows a layer down by
// the model's estimate. The reason is recorded for the compile report.
//
//===----------------------------------------------------------------------===//

#include "KernelWeights.h"

#include "sparq/Dialect/Sparq/Transforms/Passes.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/Format.h"

#include <algorithm>

namespace sparq {
#define GEN_PASS_DEF_SPARQSELECTSPARSEFORMATPASS
#include "sparq/Dialect/Sparq/Transforms/Passes.h.inc"
} // namespace sparq

using namespace mlir;
using namespace sparq;

namespace {

/// Sparse formats a weight with this measured attribute can use.
SmallVector<SparsePattern> candidates(SparsityAttr attr, Operation *op) {
  SmallVector<SparsePattern> out;
  SparsePattern csr;
  csr.format = SparseFormat::Csr;
  out.push_back(csr);
  if (attr.getKind() == SparsityKind::Block) {
    SparsePattern block;
    block.format = SparseFormat::Block;
    block.blockRows = attr.getBlockRows();
    block.blockCols = attr.getBlockCols();
    out.push_back(block);
  }
  if (attr.getKind() == SparsityKind::NM) {
    SparsePattern p;
    p.format = SparseFormat::NM;
    p.n = attr.getN();
    p.m = attr.getM();
    out.push_back(p);
  } else if (auto fit = op->getAttrOfType<StringAttr>("sparq.nm_fit")) {
    if (std::optional<SparsePattern> p = SparsePattern::parse(fit.getValue()))
      out.push_back(*p);
  }
  return out;
}

// The direct kernel reads its activations at scattered offsets of the
// padded image instead of from a packed L1 tile. With 256-bit kernels (tiles
// of at most 32 positions) it measured about 1.3x the matrix kernel's time
// per stored weight on ResNet-18's 3x3 layers (bench_sparse.py
// --all-layers). The 512-bit CSR tiles span 64 positions and read aligned
// rows where the padding allows; there the direct path runs at the matrix
// kernel's rate (26-28 multiply-adds per ns on one Zen 4 thread over the
// 56x56 .. 7x7 layers, counting the computed wrap-around columns).
constexpr double kDirectCost256 = 1.3;
constexpr double kDirectCost512 = 1.0;
// The 512-bit set's row-strip tiles (CSR convolutions on maps at least 12
// wide: V <= 8 output rows x 16 columns, input windows copied into L1 per
// reduction chunk) run below the matrix kernel's time per stored weight:
// 0.62-0.77x on ResNet-18's stride-1 3x3 layers at 80% (56x56 .. 14x14,
// two threads, after the window copies); 0.75 keeps the 56x56 layer's
// measured time.
constexpr double kStripCost512 = 0.75;
/// Convolution-specific costs the matrix model does not see: dense 3x3
/// stride-1 convolutions run as Winograd (fewer multiply-adds, but 36
/// transformed weights per 3x3 filter streamed from memory, which bounds
/// layers with many channels on small maps); the sparse kernel reads k x k
/// inputs directly from zero-padded phase planes of the image (CSR and
/// R x 1 blocks; rowLen - OW wasted columns per output row), and strided
/// 1 x 1 ones pay an im2col copy (as the dense GEMM path does when Winograd
/// does not apply).
struct ConvCosts {
  double denseScale = 1.0;
  double denseExtraMicros = 0.0;
  /// Lower bound of the dense time (Winograd's weight streaming).
  double denseFloorMicros = 0.0;
  double sparseExtraMicros = 0.0;
  /// The direct path, for the formats it serves.
  bool direct = false;
  double directScale = 1.0;
  double directExtraMicros = 0.0;
  double directCost = kDirectCost256;
  /// CSR on the row-strip tiles instead (512-bit, maps at least 12 wide).
  bool strip = false;
  double stripScale = 1.0;
  double stripExtraMicros = 0.0;

  bool usesDirect(const SparsePattern &p) const {
    return direct && (p.format == SparseFormat::Csr ||
                      (p.format == SparseFormat::Block && p.blockCols == 1));
  }
  double denseMicros(double matrixMicros) const {
    return std::max(matrixMicros * denseScale + denseExtraMicros,
                    denseFloorMicros);
  }
  double sparseMicros(const SparsePattern &p, double matrixMicros) const {
    if (strip && p.format == SparseFormat::Csr)
      return matrixMicros * stripScale * kStripCost512 + stripExtraMicros;
    if (usesDirect(p))
      return matrixMicros * directScale *
                 (p.format == SparseFormat::Csr ? directCost : kDirectCost256) +
             directExtraMicros;
    return matrixMicros + sparseExtraMicros;
  }
};

// im2col copies about 6 floats per ns on two threads; the padded copy of
// the direct path is a row-wise memcpy, about 4x faster (a strided phase
// plane is an element-wise copy, like im2col).
constexpr double kIm2colFloatsPerMicro = 6000.0;
constexpr double kPadCopyFloatsPerMicro = 24000.0;
// Winograd's transformed weights stream at about 40 GB/s on two threads
// (ResNet-18's 512-channel 7x7 layer: 37.7 MB in 0.8-1.2 ms).
constexpr double kWinogradWeightBytesPerMicro = 40000.0;
// The strip windows are copied at about 20 floats per ns on two threads
// (masked vector loads; ResNet-18's 56x56 layer: 0.86 M floats, 0.04 ms).
constexpr double kStripWindowFloatsPerMicro = 20000.0;

ConvCosts convCosts(Operation *op, const WeightMatrix &w, int64_t batchRows,
                    const SparseTarget &target) {
  ConvCosts costs;
  auto conv = dyn_cast<FusedConvOp>(op);
  if (!conv)
    return costs;
  auto weight = cast<RankedTensorType>(conv.getWeight().getType());
  auto result = cast<RankedTensorType>(conv.getType());
  int64_t kh = weight.getDimSize(2), kw = weight.getDimSize(3);
  bool unitStride = llvm::all_of(conv.getStrides(),
                                 [](int64_t s) { return s == 1; });
  bool unitDilation = llvm::all_of(conv.getDilations(),
                                   [](int64_t d) { return d == 1; });
  bool noPad = llvm::all_of(conv.getPads(), [](int64_t p) { return p == 0; });
  bool pointwise = kh == 1 && kw == 1 && unitStride && noPad;
  double im2col =
      pointwise ? 0.0 : (double)w.cols * batchRows / kIm2colFloatsPerMicro;
  costs.sparseExtraMicros = im2col;
  int64_t inChannels = w.cols / (kh * kw);
  bool winograd = kh == 3 && kw == 3 && unitStride && unitDilation &&
                  inChannels >= 16 && w.rows >= 16;
  if (winograd) {
    costs.denseScale = batchRows >= 196 ? 1.0 / 2.2 : 1.0 / 1.7;
    costs.denseFloorMicros = 36.0 * 4.0 * (double)w.rows * inChannels /
                             kWinogradWeightBytesPerMicro;
  } else {
    costs.denseExtraMicros = im2col;
  }
  ArrayRef<int64_t> strides = conv.getStrides();
  int64_t sh = strides.size() == 2 ? strides[0] : 1;
  int64_t sw = strides.size() == 2 ? strides[1] : 1;
  // The runtime's direct path: every k x k convolution with strides up to
  // 4 (SparseKernels.cpp); 1 x 1 ones are pointwise or im2col.
  if ((kh > 1 || kw > 1) && sh <= 4 && sw <= 4 && result.hasStaticShape() &&
      result.getRank() == 4) {
    int64_t oh = result.getDimSize(2), ow = result.getDimSize(3);
    ArrayRef<int64_t> dil = conv.getDilations();
    int64_t dh = dil.size() == 2 ? dil[0] : 1, dw = dil.size() == 2 ? dil[1] : 1;
    int64_t hq = oh + dh * (kh - 1) / sh, wq = ow + dw * (kw - 1) / sw;
    int64_t shifts = dw * (kw - 1) / sw + 1;
    // Phases (of sh x sw) some tap reads.
    llvm::SmallDenseSet<int64_t, 16> phases;
    for (int64_t i = 0; i < kh; ++i)
      for (int64_t j = 0; j < kw; ++j)
        phases.insert((i * dh % sh) * sw + j * dw % sw);
    // The 512-bit set's aligned mode (rows padded to 16, one plane copy per
    // horizontal shift) where the padding costs at most 1/8.
    int64_t wqa = (wq + 15) / 16 * 16;
    bool aligned = target.vectorBits >= 512 && wqa * 8 <= wq * 9;
    int64_t rowLen = aligned ? wqa : wq;
    double planeFloats = (double)result.getDimSize(0) * inChannels *
                         phases.size() * hq * rowLen;
    costs.direct = true;
    costs.directScale = (double)rowLen / (double)ow;
    costs.directExtraMicros =
        planeFloats * (aligned ? shifts : 1) /
        (unitStride ? kPadCopyFloatsPerMicro : kIm2colFloatsPerMicro);
    costs.directCost =
        target.vectorBits >= 512 ? kDirectCost512 : kDirectCost256;
    // The row-strip tiles (SparseKernels.cpp, sparseConvStrips): 16-column
    // strips where they waste at most 1/3 of the lanes, V = ceil(oh /
    // ceil(oh / 8)) rows per tile, each tile's window of row phases x kw x
    // (V + dh (kh - 1) / sh) rows of 16 per input channel copied once per
    // unit (units split the output channels, as on two threads, while there
    // are fewer than 8).
    int64_t strips = (ow + 15) / 16;
    if (target.vectorBits >= 512 && strips * 16 * 3 <= ow * 4) {
      llvm::SmallDenseSet<int64_t, 4> rowPhases;
      for (int64_t i = 0; i < kh; ++i)
        rowPhases.insert(i * dh % sh);
      int64_t rowTiles = (oh + 7) / 8;
      int64_t v = (oh + rowTiles - 1) / rowTiles;
      int64_t tiles = rowTiles * strips * result.getDimSize(0);
      int64_t groups = (w.rows + 7) / 8, splits = 1;
      while (tiles * splits < 8 && splits * 2 <= groups)
        splits *= 2;
      double windowFloats = (double)tiles * splits * inChannels *
                            rowPhases.size() * kw * (v + dh * (kh - 1) / sh) *
                            16;
      costs.strip = true;
      costs.stripScale = (double)(strips * 16) / (double)ow;
      costs.stripExtraMicros = windowFloats / kStripWindowFloatsPerMicro;
    }
  }
  return costs;
}

struct SparqSelectSparseFormatPass
    : sparq::impl::SparqSelectSparseFormatPassBase<
          SparqSelectSparseFormatPass> {
  using Base::Base;

  void runOnOperation() override {
    if (mode != "auto" && mode != "off" && mode != "force") {
      getOperation().emitError("sparq-select-sparse-format: mode must be "
                               "auto, off or force, got '")
          << mode << "'";
      return signalPassFailure();
    }
    if (vectorBits != 0 && vectorBits != 256 && vectorBits != 512) {
      getOperation().emitError("sparq-select-sparse-format: vector-bits must "
                               "be 0, 256 or 512, got ")
          << static_cast<int>(vectorBits);
      return signalPassFailure();
    }
    SparseTarget target = hostSparseTarget();
    if (vectorBits != 0)
      target.vectorBits = vectorBits;
    MLIRContext *context = &getContext();
    getOperation().walk([&](Operation *op) {
      auto attr = op->getAttrOfType<SparsityAttr>("sparq.sparsity");
      if (!attr)
        return;
      auto record = [&](StringRef format, const Twine &reason) {
        op->setAttr("sparq.format", StringAttr::get(context, format));
        op->setAttr("sparq.format_reason",
                    StringAttr::get(context, reason.str()));
      };
      if (attr.isDense())
        return record("dense", "weight has no zeros to exploit");
      if (mode == "off")
        return record("dense", "sparse kernels disabled (--sparsity=off)");
      std::optional<WeightMatrix> w = readKernelWeight(op);
      if (!w)
        return record("dense", "weight is not a constant matrix");
      int64_t batch = kernelBatchRows(op);
      ConvCosts conv = convCosts(op, *w, batch, target);
      double dense = conv.denseMicros(
          estimateDenseMicros(w->rows, w->cols, batch, target));
      std::optional<SparsePattern> best;
      double bestMicros = 0;
      for (const SparsePattern &p : candidates(attr, op)) {
        double t =
            conv.sparseMicros(p, estimateSparseMicros(*w, p, batch, target));
        if (!best || t < bestMicros) {
          best = p;
          bestMicros = t;
        }
      }
      std::string numbers;
      llvm::raw_string_ostream os(numbers);
      os << "density " << llvm::format("%.3f", attr.getDensityValue())
         << ", " << batch << " rows/call: estimated dense "
         << llvm::format("%.1f", dense) << " us, " << best->str() << " "
         << llvm::format("%.1f", bestMicros) << " us";
      if (conv.strip && best->format == SparseFormat::Csr)
        os << " (direct convolution, row strips)";
      else if (conv.usesDirect(*best))
        os << " (direct convolution)";
      else if (isa<FusedConvOp>(op))
        os << " (im2col)";
      os << " [" << target.vectorBits << "-bit sparse kernels]";
      if (mode == "force")
        return record(best->str(), "forced; " + os.str());
      if (bestMicros < 0.9 * dense)
        return record(best->str(), os.str());
      record("dense", "sparse not faster: " + os.str());
    });
  }
};

} // namespace
