//===- CompileReport.cpp - what the compiler decided per layer ------------===//
//
// Builds the per-layer report from the graph-optimized sparq module.
//
//===----------------------------------------------------------------------===//

#include "CompileReport.h"

#include "sparq/Dialect/Sparq/IR/Sparq.h"
#include "sparq/Dialect/Sparq/IR/Weights.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/JSON.h"

using namespace mlir;
using namespace sparq;

static std::string nodeName(Location loc) {
  std::string name;
  loc->walk([&](Location l) {
    if (auto named = dyn_cast<NameLoc>(l)) {
      name = named.getName().str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return name;
}

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
  layer.constantWeight = true;
  if (auto values = readF32Values(attr)) {
    int64_t nonZero = 0;
    for (float v : *values)
      nonZero += v != 0.0f;
    layer.density = values->empty() ? 1.0 : (double)nonZero / values->size();
  }
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

CompileReport sparq::collectReport(ModuleOp module, llvm::StringRef entryName) {
  CompileReport report;
  auto entry = module.lookupSymbol<func::FuncOp>(entryName);
  if (!entry)
    return report;
  entry.walk([&](Operation *op) {
    if (op->getDialect() && op->getDialect()->getNamespace() == "sparq")
      ++report.opCount;
    LayerReport layer;
    layer.name = nodeName(op->getLoc());
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
    } else if (isa<ConvOp, MatMulOp, GemmOp>(op)) {
      layer.kind = op->getName().stripDialect().str();
      layer.shapes = shapeOf(op->getResult(0));
      describeWeight(op->getOperand(1), layer);
    } else {
      return;
    }
    report.layers.push_back(std::move(layer));
  });
  return report;
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
        {"format_reason", l.constantWeight
                              ? "dense kernel (sparse kernels not enabled)"
                              : "weight is not a compile-time constant"},
        {"density", l.density},
        {"fused", std::move(fused)},
        {"flops", l.flops},
        {"weight_bytes_dense", l.weightBytes},
        {"weight_bytes", l.weightBytes},
    });
  }
  llvm::json::Object root{{"source", source.str()},
                          {"sparq_ops", report.opCount},
                          {"layers", std::move(layers)}};
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
  return text;
}

void sparq::printReportSummary(const CompileReport &report,
                               llvm::raw_ostream &os) {
  double flops = 0;
  int64_t bytes = 0, fusedOps = 0;
  for (const LayerReport &l : report.layers) {
    flops += l.flops;
    bytes += l.weightBytes;
    fusedOps += l.fused.size();
  }
  os << "[sparq] summary: " << report.layers.size() << " kernels ("
     << llvm::format("%.2f", flops / 1e9) << " GFLOP, "
     << llvm::format("%.1f", bytes / 1048576.0) << " MiB of weights, all dense), "
     << fusedOps << " epilogue ops fused\n";
}
