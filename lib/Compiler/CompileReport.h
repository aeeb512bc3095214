//===- CompileReport.h - what the compiler decided per layer --*- C++ -*-===//
//
// Collects, after the graph passes, one entry per kernel (convolution or
// matrix product): its shapes, fused epilogue, weight format and measured
// density, estimated FLOPs and weight bytes. Rendered as the --report JSON
// and as the summary sparq-compile prints.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_COMPILER_COMPILEREPORT_H
#define SPARQ_LIB_COMPILER_COMPILEREPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace sparq {

struct LayerReport {
  std::string name;   // ONNX node name (from the location)
  std::string kind;   // fused_conv, fused_matmul, conv, matmul, ...
  std::string shapes; // operand and result shapes
  std::vector<std::string> fused; // bias, residual, activation
  std::string format = "dense";
  std::string formatReason;
  std::string pattern = "dense"; // detected zero pattern
  std::string pruned;            // pruning spec applied, if any
  double density = 1.0; // measured fraction of non-zero weights
  bool constantWeight = false;
  double flops = 0;
  int64_t weightBytes = 0;      // dense bytes
  int64_t packedBytes = -1;     // bytes actually stored, when packed
  /// What sparq-quantize did (an object), or null without --quantize.
  llvm::json::Value quantization = nullptr;
};

/// One model output's error against fp32 on the calibration inputs.
struct QuantOutputError {
  std::string name;
  double relL2 = 0, maxAbs = 0;
  double top1 = -1; // < 0: not applicable (last dim 1)
};

/// The model-level part of --quantize.
struct QuantizationSummary {
  std::string mode; // empty: no quantization
  std::string calibrationDir, method;
  double percentile = 0;
  int64_t samples = 0;
  bool measured = false; // output error measured on the samples
  std::vector<QuantOutputError> outputs;
};

struct CompileReport {
  std::vector<LayerReport> layers;
  int64_t opCount = 0;
  /// ONNX nodes of the requantizing adds that run on 8-bit values
  /// (sparq.qadd, formed from QDQ dequantize -> add -> quantize).
  std::vector<std::string> integerAdds;
  QuantizationSummary quantization;
};

CompileReport collectReport(mlir::ModuleOp module, llvm::StringRef entryName);
std::string reportJson(const CompileReport &report, llvm::StringRef source);
void printReportSummary(const CompileReport &report, llvm::raw_ostream &os);
/// "quantized 12 of 14 layers (w4:g128); output rel L2 vs fp32 on 8
/// calibration inputs: 3.1e-03".
void printQuantizationSummary(const CompileReport &report,
                              llvm::raw_ostream &os);

} // namespace sparq

#endif // SPARQ_LIB_COMPILER_COMPILEREPORT_H
