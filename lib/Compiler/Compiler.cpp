//===- Compiler.cpp - the driver behind sparq-compile ---------------------===//
//
// Runs import → graph passes → CPU lowering → LLVM code generation → link,
// stopping at the stage --emit names. Prints progress with timings, writes
// the per-layer report and never leaves a half-written output behind: every
// artifact is written to a temporary file and renamed at the end.
//
//===----------------------------------------------------------------------===//

#include "sparq/Compiler/Compiler.h"

#include "Calibration.h"
#include "CodeGen.h"
#include "CompileReport.h"
#include "ModelSignature.h"

#include "sparq/Dialect/Sparq/Transforms/QuantizeMode.h"
#include "sparq/Pipelines/Pipelines.h"
#include "sparq/Pipelines/Registration.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Timer.h"
#include "llvm/Support/ToolOutputFile.h"

#include <chrono>

using namespace mlir;
using namespace sparq;

namespace {

/// Prints "[sparq] stage ... (1.23 s)" lines when verbose.
class Progress {
public:
  Progress(bool verbose, llvm::raw_ostream &os) : verbose(verbose), os(os) {}
  void start() { begin = std::chrono::steady_clock::now(); }
  void done(const llvm::Twine &what) {
    if (!verbose)
      return;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                             begin)
                   .count();
    os << "[sparq] " << what << " (" << llvm::format("%.2f", s) << " s)\n";
    os.flush();
    start();
  }

private:
  bool verbose;
  llvm::raw_ostream &os;
  std::chrono::steady_clock::time_point begin;
};

/// Removes the registered temporary files unless they were committed.
class TempFiles {
public:
  ~TempFiles() {
    for (const std::string &path : paths)
      llvm::sys::fs::remove(path);
  }
  std::string make(llvm::StringRef finalPath, llvm::StringRef suffix) {
    llvm::SmallString<256> model(finalPath);
    model += ".tmp-%%%%%%";
    model += suffix;
    llvm::SmallString<256> path;
    llvm::sys::fs::createUniquePath(model, path, /*MakeAbsolute=*/false);
    paths.push_back(path.str().str());
    return paths.back();
  }
  /// Takes ownership (removal on exit) of an existing temporary file.
  std::string adopt(llvm::StringRef path) {
    paths.push_back(path.str());
    return paths.back();
  }
  bool commit(llvm::StringRef temp, llvm::StringRef finalPath,
              std::string &error) {
    if (std::error_code ec = llvm::sys::fs::rename(temp, finalPath)) {
      error = "cannot write '" + finalPath.str() + "': " + ec.message();
      return false;
    }
    return true;
  }

private:
  std::vector<std::string> paths;
};

bool writeText(llvm::StringRef path, llvm::StringRef text, std::string &error) {
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_Text);
  if (ec) {
    error = "cannot write '" + path.str() + "': " + ec.message();
    return false;
  }
  out.os() << text;
  out.keep();
  return true;
}

/// Prints MLIR either to stdout ("-") or atomically to a file.
bool printModule(ModuleOp module, llvm::StringRef outputPath, TempFiles &temps,
                 std::string &error) {
  if (outputPath == "-") {
    module.print(llvm::outs());
    return true;
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os);
  std::string temp = temps.make(outputPath, ".mlir");
  return writeText(temp, text, error) && temps.commit(temp, outputPath, error);
}

/// A directory removed with everything in it when the compile ends.
struct TempDir {
  std::string path;
  ~TempDir() {
    if (!path.empty())
      llvm::sys::fs::remove_directories(path);
  }
};

/// The CPU lowering of a graph-optimized module, in place.
LogicalResult lowerToLLVMDialect(ModuleOp module, func::FuncOp entry,
                                 llvm::StringRef entryName) {
  // Model inputs are the caller's buffers: bufferization must never write
  // into them.
  for (unsigned i = 0; i < entry.getNumArguments(); ++i)
    entry.setArgAttr(i, "bufferization.writable",
                     BoolAttr::get(module.getContext(), false));
  PassManager pm(module.getContext());
  CpuPipelineOptions cpuOptions;
  cpuOptions.entry = entryName.str();
  buildCpuLoweringPipeline(pm, cpuOptions);
  return pm.run(module);
}

/// Graph passes, lowering, code generation and link of an fp32 reference
/// model (the calibration/measurement twin of the model being compiled).
bool buildReferenceLibrary(ModuleOp module, const CompileOptions &options,
                           const GraphPipelineOptions &graphOptions,
                           bool instrument, std::vector<ProbedTensor> &probes,
                           ModelSignature &signature,
                           llvm::StringRef directory, std::string &libPath,
                           std::string &error) {
  const std::string &entryName = options.import.entryName;
  PassManager pm(module.getContext());
  buildGraphPipeline(pm, graphOptions);
  auto entry = module.lookupSymbol<func::FuncOp>(entryName);
  if (!entry || failed(pm.run(module))) {
    error = "graph passes failed on the fp32 reference model";
    return false;
  }
  if (instrument)
    probes = instrumentKernels(entry);
  signature = ModelSignature();
  if (failed(readSignature(entry, signature)) ||
      failed(lowerToLLVMDialect(module, entry, entryName))) {
    error = "lowering the fp32 reference model failed";
    return false;
  }
  if (auto arena = module->getAttrOfType<IntegerAttr>("sparq.arena_size"))
    signature.arenaBytes = arena.getInt();
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule = translateWithGlue(
      module, llvmContext, entryName, signature.inputs.size(),
      signature.outputs.size(), signatureText(signature), error);
  if (!llvmModule)
    return false;
  llvm::SmallString<256> obj(directory), lib(directory);
  llvm::sys::path::append(obj, "reference.o");
  llvm::sys::path::append(lib, "reference.so");
  TargetChoice target{options.cpu, options.features};
  if (!optimizeAndEmit(*llvmModule, target, obj, /*emitIR=*/false, error) ||
      !linkSharedLibrary(obj, options.runtimeLibrary, lib, error))
    return false;
  libPath = lib.str().str();
  return true;
}

} // namespace

int sparq::compileModel(const CompileOptions &options,
                        llvm::raw_ostream &errs) {
  auto fail = [&](const llvm::Twine &message) {
    errs << "error: " << message << "\n";
    return 1;
  };
  if (options.target != "cpu")
    return fail("target '" + options.target +
                "' is not supported yet (available: cpu)");
  if (options.outputPath.empty())
    return fail("no output path (-o)");
  if (options.outputPath == "-" && options.emit == EmitKind::So)
    return fail("--emit=so needs an output file, not '-'");

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllToLLVMIRTranslations(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  context.disableMultithreading();

  // Diagnostics: print errors as "error: <message>", which the importer
  // makes self-describing (file, node, op type); notes and warnings too.
  bool hadError = false;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error)
      hadError = true;
    const char *kind = diag.getSeverity() == DiagnosticSeverity::Error
                           ? "error"
                       : diag.getSeverity() == DiagnosticSeverity::Warning
                           ? "warning"
                           : "note";
    errs << kind << ": " << diag.str();
    std::string where;
    llvm::raw_string_ostream whereOs(where);
    diag.getLocation().print(whereOs);
    // Importer messages already name the file and node; other passes'
    // messages get the location (which carries the ONNX node name).
    if (where != "loc(unknown)" &&
        !llvm::StringRef(diag.str()).contains(options.inputPath))
      errs << " [at " << where << "]";
    errs << "\n";
    for (Diagnostic &note : diag.getNotes())
      errs << "note: " << note.str() << "\n";
    return success();
  });

  Progress progress(options.verbose, errs);
  TempFiles temps;
  std::string error;
  progress.start();

  OwningOpRef<ModuleOp> module =
      importOnnxModel(context, options.inputPath, options.import);
  if (!module) {
    if (!hadError)
      return fail("failed to import '" + options.inputPath + "'");
    return 1;
  }
  progress.done("imported " + options.inputPath);
  if (options.emit == EmitKind::Mlir)
    return printModule(*module, options.outputPath, temps, error)
               ? 0
               : fail(error);

  auto entry = module->lookupSymbol<func::FuncOp>(options.import.entryName);
  if (!entry)
    return fail("entry function '" + options.import.entryName + "' missing");
  ModelSignature signature;
  if (failed(readSignature(entry, signature)))
    return 1;

  GraphPipelineOptions graphOptions;
  graphOptions.prune = options.prune;
  graphOptions.pruneLayers = options.pruneLayers;
  graphOptions.sparsity = options.sparsity;
  graphOptions.sparseVectorBits =
      sparseVectorBits(TargetChoice{options.cpu, options.features});

  // Post-training quantization: check the options, then, with calibration
  // inputs, build and run the fp32 reference (instrumented for w8a8) to get
  // the activation ranges and the outputs the quantized model is measured
  // against.
  QuantizationSummary quantSummary;
  std::vector<CalibrationSample> samples;
  std::vector<std::vector<run::HostTensor>> referenceOutputs;
  TempDir calibrationDir;
  if (!options.calibrateDir.empty() && options.quantize.empty())
    return fail("--calibrate needs --quantize=w8|w4[:gN]|w8a8");
  if (!options.quantize.empty()) {
    std::optional<QuantizeMode> mode =
        parseQuantizeMode(options.quantize, error);
    if (!mode)
      return fail("--quantize: " + error);
    bool activations = mode->kind == QuantizeMode::Int8;
    if (activations && options.calibrateDir.empty())
      return fail("--quantize=w8a8 needs --calibrate=DIR (a directory of "
                  "calibration inputs: input_N.pb or test_data_set_*/)");
    if (options.calibrateMethod != "minmax" &&
        options.calibrateMethod != "percentile")
      return fail("--calibrate-method must be minmax or percentile, not '" +
                  options.calibrateMethod + "'");
    if (!(options.percentile > 50 && options.percentile <= 100))
      return fail("--calibrate-percentile must be in (50, 100]");
    if (options.noGraphPasses)
      return fail("--quantize needs the graph passes (drop --no-graph-passes)");
    quantSummary.mode = mode->str();
    graphOptions.quantize = quantSummary.mode;
    if (!options.calibrateDir.empty()) {
      if (!loadCalibrationSamples(options.calibrateDir, signature, samples,
                                  error))
        return fail(error);
      quantSummary.calibrationDir = options.calibrateDir;
      quantSummary.samples = samples.size();
      quantSummary.method = activations ? options.calibrateMethod : "none";
      quantSummary.percentile = options.percentile;
    }
    // The fp32 twin gives w8a8 its ranges and every mode the reference the
    // finished library is measured against.
    if (!samples.empty() && (activations || options.emit == EmitKind::So)) {
      llvm::SmallString<128> dir;
      if (llvm::sys::fs::createUniqueDirectory("sparq-calibration", dir))
        return fail("cannot create a temporary directory");
      calibrationDir.path = dir.str().str();
      OwningOpRef<ModuleOp> reference =
          importOnnxModel(context, options.inputPath, options.import);
      if (!reference)
        return 1;
      GraphPipelineOptions fp32Options;
      fp32Options.prune = options.prune;
      fp32Options.pruneLayers = options.pruneLayers;
      fp32Options.sparsity = options.sparsity;
      // The w8a8 kernel boundaries (residual adds split off) and range keys,
      // unquantized; dense kernels, so that every kernel can be probed.
      if (activations) {
        fp32Options.quantize = "w8a8-calibration";
        fp32Options.sparsity = "off";
      }
      std::vector<ProbedTensor> probes;
      ModelSignature referenceSignature;
      std::string referenceLib;
      if (!buildReferenceLibrary(*reference, options, fp32Options, activations,
                                 probes, referenceSignature,
                                 calibrationDir.path, referenceLib, error))
        return hadError ? 1 : fail(error);
      reference = nullptr;
      LoadedModel model;
      if (!model.load(referenceLib, error))
        return fail(error);
      RangeCollector ranges(options.calibrateMethod == "percentile",
                            samples.size());
      for (CalibrationSample &sample : samples) {
        std::vector<run::HostTensor> outputs;
        if (!model.run(sample.inputs, outputs, error))
          return fail(sample.source + ": " + error);
        for (const ProbedTensor &p : probes)
          for (const std::string &key : p.keys)
            ranges.add(key, p.isModelInput ? sample.inputs[p.index]
                                           : outputs[p.index]);
        outputs.resize(signature.outputs.size());
        referenceOutputs.push_back(std::move(outputs));
      }
      progress.done("ran the fp32 model on " + llvm::Twine(samples.size()) +
                    " calibration input(s) from " + options.calibrateDir);
      if (activations) {
        llvm::SmallString<256> rangesPath(calibrationDir.path);
        llvm::sys::path::append(rangesPath, "ranges.json");
        if (!writeText(rangesPath,
                       ranges.json(options.percentile), error))
          return fail(error);
        graphOptions.quantizeRanges = rangesPath.str().str();
      }
    }
  }

  if (!options.noGraphPasses) {
    PassManager pm(&context);
    buildGraphPipeline(pm, graphOptions);
    if (failed(pm.run(*module)))
      return hadError ? 1 : fail("graph passes failed");
    progress.done("graph passes");
  }

  CompileReport report = collectReport(*module, options.import.entryName);
  report.quantization = quantSummary;
  entry->removeAttr("sparq.quantization");
  // With calibration inputs, the report waits for the quantized model's
  // output error, measured on the finished library.
  bool measureOutputs = !samples.empty() && options.emit == EmitKind::So;
  auto writeReport = [&]() {
    if (options.reportPath.empty())
      return true;
    std::string temp = temps.make(options.reportPath, ".json");
    return writeText(temp, reportJson(report, options.inputPath), error) &&
           temps.commit(temp, options.reportPath, error);
  };
  if (!measureOutputs && !writeReport())
    return fail(error);
  if (options.emit == EmitKind::Sparq)
    return printModule(*module, options.outputPath, temps, error)
               ? 0
               : fail(error);

  if (failed(lowerToLLVMDialect(*module, entry, options.import.entryName)))
    return hadError ? 1 : fail("lowering to LLVM failed");
  if (auto arena = (*module)->getAttrOfType<IntegerAttr>("sparq.arena_size"))
    signature.arenaBytes = arena.getInt();
  progress.done("lowered to LLVM dialect (arena " +
                llvm::Twine(signature.arenaBytes / 1024) + " KiB)");
  if (options.emit == EmitKind::LlvmMlir)
    return printModule(*module, options.outputPath, temps, error)
               ? 0
               : fail(error);

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule = translateWithGlue(
      *module, llvmContext, options.import.entryName, signature.inputs.size(),
      signature.outputs.size(), signatureText(signature), error);
  if (!llvmModule)
    return fail(error);
  // The MLIR module (and the weights it references) is no longer needed.
  module = nullptr;

  TargetChoice target{options.cpu, options.features};
  bool emitIR = options.emit == EmitKind::Llvm;
  std::string finalPath = options.outputPath;
  std::string codePath;
  if (finalPath == "-") {
    llvm::SmallString<128> tmp;
    if (llvm::sys::fs::createTemporaryFile("sparq-code", emitIR ? "ll" : "o",
                                           tmp))
      return fail("cannot create a temporary file");
    codePath = temps.adopt(tmp.str());
  } else {
    codePath = temps.make(finalPath, emitIR ? ".ll" : ".o");
  }
  std::string cpuName;
  if (!optimizeAndEmit(*llvmModule, target, codePath, emitIR, error, &cpuName))
    return fail(error);
  progress.done("optimized and generated code for " + cpuName);
  if (emitIR || options.emit == EmitKind::Obj) {
    if (finalPath != "-")
      return temps.commit(codePath, finalPath, error) ? 0 : fail(error);
    auto code = llvm::MemoryBuffer::getFile(codePath, /*IsText=*/emitIR);
    if (!code)
      return fail("cannot read back '" + codePath + "'");
    llvm::outs() << (*code)->getBuffer();
    return 0;
  }

  std::string libPath = temps.make(finalPath, ".so");
  if (!linkSharedLibrary(codePath, options.runtimeLibrary, libPath, error))
    return fail(error);
  if (measureOutputs) {
    LoadedModel model;
    if (!model.load(libPath, error))
      return fail(error);
    OutputErrorMeter meter(signature);
    for (size_t i = 0; i < samples.size(); ++i) {
      std::vector<run::HostTensor> outputs;
      if (!model.run(samples[i].inputs, outputs, error))
        return fail(samples[i].source + ": " + error);
      meter.add(referenceOutputs[i], outputs);
    }
    for (const OutputError &e : meter.result())
      report.quantization.outputs.push_back(
          {e.name, e.relL2, e.maxAbs, e.top1});
    report.quantization.measured = true;
    if (!writeReport())
      return fail(error);
  }
  llvm::SmallString<256> headerPath(finalPath);
  llvm::sys::path::replace_extension(headerPath, ".h");
  std::string headerTemp = temps.make(headerPath, ".h");
  if (!writeText(headerTemp,
                 headerText(signature, options.inputPath,
                            llvm::sys::path::stem(finalPath)),
                 error) ||
      !temps.commit(libPath, finalPath, error) ||
      !temps.commit(headerTemp, headerPath, error))
    return fail(error);
  progress.done("linked " + finalPath);
  if (options.verbose) {
    printReportSummary(report, errs);
    printQuantizationSummary(report, errs);
  }
  return 0;
}
