//===- CompileReport.cpp - what the compiler decided per layer ------------===//
//
// Builds the per-layer report from the graph-optimized sparq module.
//
//===----------------------------------------------------------------------===//

#include "CompileReport.h"

#include "sparq/Dialect/Sparq/IR/Sparq.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/JSON.h"

using namespace mlir;
using namespace sparq;

static std::string shapeOf(Value v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << v.getType();
  return s;
}

static void describeWeight(Value weight, LayerReport &layer) {
  auto type = cast<RankedTensorType>(weight.getType());
  layer.weightBytes =
      type.getNumElements() * ((type.getElementTypeBitWidth() + 7) / 8);
  Attribute attr;
  if (!matchPattern(weight, m_Constant(&attr)))
    return;
  // The density comes from sparq-sparsity-analysis (describeSparsity);
  // weights are not scanned a second time here.
  layer.constantWeight = true;
}

/// Reads the sparsity passes' annotations.
static void describeSparsity(Operation *op, LayerReport &layer) {
  if (auto attr = op->getAttrOfType<SparsityAttr>("sparq.sparsity")) {
    layer.density = attr.getDensityValue();
    std::string text;
    llvm::raw_string_ostream os(text);
    os << Attribute(attr);
    layer.pattern = text;
  }
  if (auto f = op->getAttrOfType<StringAttr>("sparq.format"))
    layer.format = f.str();
  if (auto r = op->getAttrOfType<StringAttr>("sparq.format_reason"))
    layer.formatReason = r.str();
  if (auto p = op->getAttrOfType<StringAttr>("sparq.pruned"))
    layer.pruned = p.str();
  if (auto b = op->getAttrOfType<IntegerAttr>("sparq.packed_bytes"))
    layer.packedBytes = b.getInt();
}

template <typename KernelOp>
static void describeEpilogue(KernelOp op, LayerReport &layer) {
  if (op.getBias())
    layer.fused.push_back("bias");
  if (op.getResidual())
    layer.fused.push_back("residual");
  if (op.getActivation() != Activation::None)
    layer.fused.push_back(stringifyActivation(op.getActivation()).str());
}

static llvm::json::Value toJson(Attribute attr) {
  if (auto s = dyn_cast<StringAttr>(attr))
    return s.str();
  if (auto b = dyn_cast<BoolAttr>(attr))
    return b.getValue();
  if (auto i = dyn_cast<IntegerAttr>(attr))
    return i.getInt();
  if (auto f = dyn_cast<FloatAttr>(attr))
    return f.getValueAsDouble();
  return nullptr;
}

/// Merges sparq-quantize's per-kernel record (`sparq.quantization` on the
/// function, keyed by ONNX node name) into the layers. Kernels that later
/// passes turned into ops the report does not list get a layer of their own.
static void attachQuantization(func::FuncOp entry, CompileReport &report) {
  auto records = entry->getAttrOfType<ArrayAttr>("sparq.quantization");
  if (!records)
    return;
  for (auto record : records.getAsRange<DictionaryAttr>()) {
    llvm::json::Object object;
    for (NamedAttribute a : record)
      if (a.getName() != "name" && a.getName() != "kind")
        object[a.getName().str()] = toJson(a.getValue());
    auto name = record.getAs<StringAttr>("name");
    auto kind = record.getAs<StringAttr>("kind");
    std::string nameStr = name ? name.str() : "";
    auto it = llvm::find_if(report.layers, [&](const LayerReport &l) {
      return l.name == nameStr && l.quantization.kind() ==
                                      llvm::json::Value::Null;
    });
    if (it == report.layers.end()) {
      LayerReport layer;
      layer.name = nameStr;
      layer.kind = kind ? kind.str() : "kernel";
      report.layers.push_back(std::move(layer));
      it = std::prev(report.layers.end());
    }
    it->quantization = std::move(object);
  }
}

CompileReport sparq::collectReport(ModuleOp module, llvm::StringRef entryName) {
  CompileReport report;
  auto entry = module.lookupSymbol<func::FuncOp>(entryName);
  if (!entry)
    return report;
  entry.walk([&](Operation *op) {
    if (op->getDialect() && op->getDialect()->getNamespace() == "sparq")
      ++report.opCount;
    if (isa<QAddOp>(op))
      report.integerAdds.push_back(getNodeName(op->getLoc()));
    LayerReport layer;
    layer.name = getNodeName(op->getLoc());
    if (auto conv = dyn_cast<FusedConvOp>(op)) {
      layer.kind = "fused_conv";
      layer.shapes = shapeOf(conv.getInput()) + " * " +
                     shapeOf(conv.getWeight()) + " -> " +
                     shapeOf(conv.getResult());
      describeWeight(conv.getWeight(), layer);
      describeEpilogue(conv, layer);
      auto w = cast<RankedTensorType>(conv.getWeight().getType());
      auto y = cast<RankedTensorType>(conv.getResult().getType());
      layer.flops = 2.0 * y.getNumElements() * (w.getNumElements() /
                                                w.getDimSize(0));
    } else if (auto mm = dyn_cast<FusedMatMulOp>(op)) {
      layer.kind = "fused_matmul";
      layer.shapes = shapeOf(mm.getLhs()) + " * " + shapeOf(mm.getRhs()) +
                     " -> " + shapeOf(mm.getResult());
      describeWeight(mm.getRhs(), layer);
      describeEpilogue(mm, layer);
      auto a = cast<RankedTensorType>(mm.getLhs().getType());
      auto y = cast<RankedTensorType>(mm.getResult().getType());
      layer.flops = 2.0 * y.getNumElements() * a.getShape().back();
    } else if (auto sp = dyn_cast<SparseMatMulOp>(op)) {
      layer.kind = "sparse_matmul";
      layer.shapes = shapeOf(sp.getLhs()) + " * W[" +
                     std::to_string(sp.getRows()) + "x" +
                     std::to_string(sp.getCols()) + "] -> " +
                     shapeOf(sp.getResult());
      layer.constantWeight = true;
      layer.weightBytes = 4 * sp.getRows() * sp.getCols();
      describeEpilogue(sp, layer);
      auto y = cast<RankedTensorType>(sp.getResult().getType());
      layer.flops = 2.0 * y.getNumElements() * sp.getCols();
    } else if (auto sc = dyn_cast<SparseConvOp>(op)) {
      layer.kind = "sparse_conv";
      layer.shapes = shapeOf(sc.getInput()) + " -> " + shapeOf(sc.getResult());
      layer.constantWeight = true;
      auto x = cast<RankedTensorType>(sc.getInput().getType());
      ArrayRef<int64_t> k = sc.getKernelShape();
      int64_t cols = x.getDimSize(1) * k[0] * k[1];
      layer.weightBytes = 4 * sc.getRows() * cols;
      describeEpilogue(sc, layer);
      auto y = cast<RankedTensorType>(sc.getResult().getType());
      layer.flops = 2.0 * y.getNumElements() * cols;
    } else if (auto sq = dyn_cast<SparseQMatMulOp>(op)) {
      // An int8 kernel over a packed sparse int8 weight (sparq-sparse-int8).
      layer.kind = "sparse_qmatmul";
      layer.shapes = shapeOf(sq.getLhs()) + " * W[" +
                     std::to_string(sq.getRows()) + "x" +
                     std::to_string(sq.getCols()) + "] int8 -> " +
                     shapeOf(sq.getResult());
      layer.constantWeight = true;
      layer.weightBytes = 4 * sq.getRows() * sq.getCols();
      if (sq.getBias())
        layer.fused.push_back("bias");
      if (sq.getActivation() != Activation::None)
        layer.fused.push_back(stringifyActivation(sq.getActivation()).str());
      auto y = cast<RankedTensorType>(sq.getResult().getType());
      layer.flops = 2.0 * y.getNumElements() * sq.getCols();
    } else if (auto sc = dyn_cast<SparseQConvOp>(op)) {
      // A 1x1 int8 convolution over a packed sparse int8 weight.
      layer.kind = "sparse_qconv";
      auto x = cast<RankedTensorType>(sc.getInput().getType());
      layer.shapes = shapeOf(sc.getInput()) + " * W[" +
                     std::to_string(sc.getRows()) + "x" +
                     std::to_string(x.getDimSize(1)) + "x1x1] int8 -> " +
                     shapeOf(sc.getResult());
      layer.constantWeight = true;
      layer.weightBytes = 4 * sc.getRows() * x.getDimSize(1);
      if (sc.getBias())
        layer.fused.push_back("bias");
      if (sc.getActivation() != Activation::None)
        layer.fused.push_back(stringifyActivation(sc.getActivation()).str());
      auto y = cast<RankedTensorType>(sc.getResult().getType());
      layer.flops = 2.0 * y.getNumElements() * x.getDimSize(1);
    } else if (auto nb = dyn_cast<MatMulNBitsOp>(op)) {
      layer.kind = "matmul_nbits";
      layer.shapes = shapeOf(nb.getA()) + " * W[" +
                     std::to_string(nb.getN()) + "x" +
                     std::to_string(nb.getK()) + "] " +
                     std::to_string(nb.getBits()) + "-bit -> " +
                     shapeOf(nb.getResult());
      layer.constantWeight = true;
      layer.formatReason = "int" + std::to_string(nb.getBits()) +
                           " weight-only kernel (dense)";
      layer.weightBytes = 4 * nb.getN() * nb.getK();
      layer.packedBytes = 0;
      for (Value v : {nb.getB(), nb.getScales(), nb.getZeroPoints()})
        if (v) {
          auto t = cast<RankedTensorType>(v.getType());
          layer.packedBytes +=
              t.getNumElements() * ((t.getElementTypeBitWidth() + 7) / 8);
        }
      if (nb.getBias())
        layer.fused.push_back("bias");
      auto y = cast<RankedTensorType>(nb.getResult().getType());
      layer.flops = 2.0 * y.getNumElements() * nb.getK();
    } else if (isa<QConvOp, QMatMulOp>(op)) {
      // Integer kernels (sparq-qdq-to-integer): 8-bit weights.
      bool isConv = isa<QConvOp>(op);
      layer.kind = op->getName().stripDialect().str();
      Value x = op->getOperand(0), w = op->getOperand(1);
      layer.shapes = shapeOf(x) + " * " + shapeOf(w) + " -> " +
                     shapeOf(op->getResult(0));
      auto wType = cast<RankedTensorType>(w.getType());
      auto y = cast<RankedTensorType>(op->getResult(0).getType());
      layer.constantWeight = matchPattern(w, m_Constant());
      layer.formatReason = "int8 kernel";
      layer.weightBytes = 4 * wType.getNumElements();
      layer.packedBytes = wType.getNumElements();
      int64_t reduction =
          isConv ? wType.getNumElements() / wType.getDimSize(0)
                 : cast<RankedTensorType>(x.getType()).getShape().back();
      layer.flops = 2.0 * y.getNumElements() * reduction;
      auto act = op->getAttrOfType<ActivationAttr>("activation");
      if (isConv ? bool(cast<QConvOp>(op).getBias())
                 : bool(cast<QMatMulOp>(op).getBias()))
        layer.fused.push_back("bias");
      if (act && act.getValue() != Activation::None)
        layer.fused.push_back(stringifyActivation(act.getValue()).str());
    } else if (isa<ConvOp, MatMulOp, GemmOp>(op)) {
      layer.kind = op->getName().stripDialect().str();
      layer.shapes = shapeOf(op->getResult(0));
      describeWeight(op->getOperand(1), layer);
    } else {
      return;
    }
    describeSparsity(op, layer);
    report.layers.push_back(std::move(layer));
  });
  attachQuantization(entry, report);
  return report;
}

/// The runtime micro-kernel a layer kind runs as. Kernels are shared code
/// in the runtime (specialized by their packed weights, not by generated
/// code): fully unrolled per-layer code measured no faster on the
/// development CPU (benchmarks/sparse_unrolled_probe.py), so no layer
/// carries code of its own and layer_code_bytes is 0.
static llvm::StringRef runtimeKernel(llvm::StringRef kind) {
  return llvm::StringSwitch<llvm::StringRef>(kind)
      .Case("fused_conv", "sparq_uk_conv2d_f32")
      .Case("fused_matmul", "sparq_uk_matmul_f32")
      .Case("sparse_conv", "sparq_uk_sparse_conv2d_f32")
      .Case("sparse_matmul", "sparq_uk_sparse_matmul_f32")
      .Case("matmul_nbits", "sparq_uk_matmul_nbits_f32")
      .Case("qconv", "sparq_uk_qconv2d_i8")
      .Case("qmatmul", "sparq_uk_qmatmul_i8")
      .Case("sparse_qmatmul", "sparq_uk_sparse_qmatmul_i8")
      .Case("sparse_qconv", "sparq_uk_sparse_qconv2d_i8")
      .Default("generated loops");
}

std::string sparq::reportJson(const CompileReport &report,
                              llvm::StringRef source) {
  llvm::json::Array layers;
  for (const LayerReport &l : report.layers) {
    llvm::json::Array fused;
    for (const std::string &f : l.fused)
      fused.push_back(f);
    layers.push_back(llvm::json::Object{
        {"name", l.name},
        {"kind", l.kind},
        {"shapes", l.shapes},
        {"format", l.format},
        {"format_reason",
         !l.formatReason.empty() ? l.formatReason
         : l.constantWeight      ? "dense kernel"
                                 : "weight is not a compile-time constant"},
        {"pattern", l.pattern},
        {"pruned", l.pruned.empty() ? llvm::json::Value(nullptr)
                                    : llvm::json::Value(l.pruned)},
        {"density", l.density},
        {"fused", std::move(fused)},
        {"flops", l.flops},
        {"weight_bytes_dense", l.weightBytes},
        {"weight_bytes", l.packedBytes >= 0 ? l.packedBytes : l.weightBytes},
        {"quantization", l.quantization},
        {"kernel", runtimeKernel(l.kind)},
        {"layer_code_bytes", 0},
    });
  }
  llvm::json::Object root{{"source", source.str()},
                          {"sparq_ops", report.opCount},
                          {"layers", std::move(layers)}};
  if (!report.integerAdds.empty()) {
    llvm::json::Array adds;
    for (const std::string &name : report.integerAdds)
      adds.push_back(name);
    root["integer_adds"] = std::move(adds);
  }
  const QuantizationSummary &q = report.quantization;
  if (!q.mode.empty()) {
    int64_t quantized = 0, kernels = 0;
    for (const LayerReport &l : report.layers)
      if (const llvm::json::Object *o = l.quantization.getAsObject()) {
        ++kernels;
        quantized += o->getBoolean("quantized").value_or(false);
      }
    llvm::json::Object summary{{"mode", q.mode},
                               {"quantized_layers", quantized},
                               {"kernels", kernels}};
    if (!q.calibrationDir.empty()) {
      llvm::json::Object calibration{{"dir", q.calibrationDir},
                                     {"samples", q.samples},
                                     {"method", q.method}};
      if (q.method == "percentile")
        calibration["percentile"] = q.percentile;
      summary["calibration"] = std::move(calibration);
    }
    if (q.measured) {
      llvm::json::Array outputs;
      for (const QuantOutputError &e : q.outputs)
        outputs.push_back(llvm::json::Object{
            {"name", e.name},
            {"rel_l2", e.relL2},
            {"max_abs", e.maxAbs},
            {"top1_agreement", e.top1 >= 0 ? llvm::json::Value(e.top1)
                                           : llvm::json::Value(nullptr)}});
      summary["output_error"] = std::move(outputs);
    }
    root["quantization"] = std::move(summary);
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
  return text;
}

void sparq::printReportSummary(const CompileReport &report,
                               llvm::raw_ostream &os) {
  double flops = 0;
  int64_t dense = 0, stored = 0, fusedOps = 0, sparse = 0, pruned = 0;
  for (const LayerReport &l : report.layers) {
    flops += l.flops;
    dense += l.weightBytes;
    stored += l.packedBytes >= 0 ? l.packedBytes : l.weightBytes;
    fusedOps += l.fused.size();
    sparse += l.format != "dense";
    pruned += !l.pruned.empty();
  }
  os << "[sparq] summary: " << report.layers.size() << " kernels, "
     << llvm::format("%.2f", flops / 1e9) << " GFLOP (dense), "
     << fusedOps << " epilogue ops fused; weights "
     << llvm::format("%.1f", stored / 1048576.0) << " MiB = "
     << llvm::format("%.0f", dense ? 100.0 * stored / dense : 100.0)
     << "% of dense bytes; " << sparse << " of " << report.layers.size()
     << " layers sparse";
  if (pruned)
    os << ", " << pruned << " pruned";
  if (!report.integerAdds.empty())
    os << "; " << report.integerAdds.size() << " residual adds in 8-bit";
  os << "\n";
}

void sparq::printQuantizationSummary(const CompileReport &report,
                                     llvm::raw_ostream &os) {
  const QuantizationSummary &q = report.quantization;
  if (q.mode.empty())
    return;
  int64_t quantized = 0, kernels = 0;
  for (const LayerReport &l : report.layers)
    if (const llvm::json::Object *o = l.quantization.getAsObject()) {
      ++kernels;
      quantized += o->getBoolean("quantized").value_or(false);
    }
  os << "[sparq] quantized " << quantized << " of " << kernels << " layers ("
     << q.mode << ")";
  if (q.measured && !q.outputs.empty()) {
    double worst = 0;
    for (const QuantOutputError &e : q.outputs)
      worst = std::max(worst, e.relL2);
    os << "; output rel L2 vs fp32 on " << q.samples << " calibration input"
       << (q.samples == 1 ? "" : "s");
    if (q.outputs.size() > 1)
      os << " (worst of " << q.outputs.size() << " outputs)";
    os << ": " << llvm::format("%.1e", worst);
    if (q.outputs.size() == 1 && q.outputs[0].top1 >= 0)
      os << ", top-1 agreement " << llvm::format("%.1f", 100 * q.outputs[0].top1)
         << "%";
  }
  os << "\n";
}
