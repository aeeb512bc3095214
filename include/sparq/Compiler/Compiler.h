//===- Compiler.h - the driver behind sparq-compile -----------*- C++ -*-===//
//
// Runs the whole flow for one model: import, graph passes, lowering, LLVM
// code generation for the chosen CPU, linking into a shared library and the
// generated C header. Every stage can be the last one (--emit).
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_COMPILER_COMPILER_H
#define SPARQ_COMPILER_COMPILER_H

#include "sparq/Import/OnnxImporter.h"

#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace sparq {

enum class EmitKind {
  Mlir,     // the imported sparq module
  Sparq,    // after the graph passes (kernel ops formed)
  LlvmMlir, // the LLVM dialect module
  Llvm,     // LLVM IR after optimization
  Obj,      // relocatable object
  So,       // shared library + C header
};

struct CompileOptions {
  std::string inputPath;
  std::string outputPath;
  EmitKind emit = EmitKind::So;
  std::string target = "cpu";
  /// CPU name for code generation; "host" detects the running CPU.
  std::string cpu = "host";
  /// Extra target features (+avx2,-avx512f); empty means the CPU's own.
  std::string features;
  ImportOptions import;
  /// Where to write the per-layer JSON report; empty for none.
  std::string reportPath;
  /// Static runtime archive linked into the shared library.
  std::string runtimeLibrary;
  /// Print progress and the summary to stderr.
  bool verbose = true;
  /// Skip the graph passes (debugging aid).
  bool noGraphPasses = false;
  /// Compile-time pruning (--prune) and per-layer overrides (--prune-layer).
  std::string prune;
  std::vector<std::string> pruneLayers;
  /// Sparse kernel selection: auto, off or force.
  std::string sparsity = "auto";
  /// Post-training quantization (--quantize): w8, w4, w4:gN, w8a8 or empty.
  std::string quantize;
  /// Calibration inputs (--calibrate=DIR): required for w8a8, optional for
  /// the weight-only modes (then only the output error is measured).
  std::string calibrateDir;
  /// Activation range estimate: minmax or percentile (of `percentile`).
  std::string calibrateMethod = "minmax";
  double percentile = 99.99;
};

/// Compiles one model. Diagnostics go to `errs`. Returns 0 on success and
/// 1 on a compile error (nothing is left at the output path then).
int compileModel(const CompileOptions &options, llvm::raw_ostream &errs);

} // namespace sparq

#endif // SPARQ_COMPILER_COMPILER_H
