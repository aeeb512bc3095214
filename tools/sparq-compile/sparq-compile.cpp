//===- sparq-compile.cpp - ahead-of-time compiler driver ------------------===//
//
// `sparq-compile MODEL.onnx -o OUT.so` compiles an ONNX model into a shared
// library with a C ABI plus OUT.h. See --help for the stages and options.
//
//===----------------------------------------------------------------------===//

#include "sparq/Compiler/Compiler.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;

static cl::OptionCategory category("sparq-compile options");

static cl::opt<std::string> inputPath(cl::Positional, cl::desc("<model.onnx>"),
                                      cl::Required, cl::cat(category));
static cl::opt<std::string> outputPath("o", cl::desc("output path"),
                                       cl::value_desc("file"), cl::Required,
                                       cl::cat(category));
static cl::opt<sparq::EmitKind> emit(
    "emit", cl::desc("stage to stop after"), cl::init(sparq::EmitKind::So),
    cl::values(
        clEnumValN(sparq::EmitKind::Mlir, "mlir", "imported sparq MLIR"),
        clEnumValN(sparq::EmitKind::Sparq, "sparq",
                   "sparq MLIR after the graph passes"),
        clEnumValN(sparq::EmitKind::LlvmMlir, "llvm-mlir",
                   "MLIR in the LLVM dialect"),
        clEnumValN(sparq::EmitKind::Llvm, "llvm", "optimized LLVM IR"),
        clEnumValN(sparq::EmitKind::Obj, "obj", "object file"),
        clEnumValN(sparq::EmitKind::So, "so",
                   "shared library plus C header (default)")),
    cl::cat(category));
static cl::opt<std::string> target("target", cl::desc("cpu (default) or cuda"),
                                   cl::init("cpu"), cl::cat(category));
static cl::opt<std::string>
    mcpu("mcpu", cl::desc("CPU to generate code for (default: host)"),
         cl::init("host"), cl::cat(category));
static cl::opt<std::string>
    mattr("mattr", cl::desc("extra target features, e.g. +avx2,-avx512f"),
          cl::init(""), cl::cat(category));
static cl::list<std::string> inputShapes(
    "input-shape",
    cl::desc("pin an input's shape: NAME:1x3x224x224 (repeatable; ? keeps a "
             "dim dynamic)"),
    cl::cat(category));
static cl::opt<int64_t> defaultDim(
    "default-dim",
    cl::desc("value for dynamic dims not pinned by --input-shape (default 1; "
             "--emit=mlir keeps them dynamic unless given)"),
    cl::init(-1), cl::cat(category));
static cl::opt<std::string> reportPath("report",
                                       cl::desc("write the per-layer JSON report"),
                                       cl::value_desc("file.json"),
                                       cl::cat(category));
static cl::opt<std::string>
    runtimeLib("runtime-lib", cl::desc("static runtime archive to link"),
               cl::init(""), cl::cat(category));
static cl::opt<bool> quiet("quiet", cl::desc("no progress output"),
                           cl::cat(category));
static cl::alias quietShort("q", cl::aliasopt(quiet));
static cl::opt<std::string> prune(
    "prune",
    cl::desc("magnitude-prune every kernel weight: unstructured:S (S = "
             "fraction removed), nm:N:M, block:RxC:S"),
    cl::init(""), cl::cat(category));
static cl::list<std::string> pruneLayer(
    "prune-layer",
    cl::desc("per-layer pruning by ONNX node name: REGEX=SPEC or REGEX=none "
             "(repeatable; first match wins over --prune)"),
    cl::cat(category));
static cl::opt<std::string> sparsity(
    "sparsity",
    cl::desc("sparse kernels: auto (cost model, default), off, force"),
    cl::init("auto"), cl::cat(category));
static cl::opt<std::string> quantize(
    "quantize",
    cl::desc("post-training quantization: w8 (int8 weight-only, per output "
             "channel), w4[:gN] (uint4 weight-only, groups of N = 128 by "
             "default), w8a8 (int8 weights and activations; needs "
             "--calibrate)"),
    cl::init(""), cl::cat(category));
static cl::opt<std::string> calibrate(
    "calibrate",
    cl::desc("calibration inputs: DIR/input_N.pb or DIR/test_data_set_*/"
             "input_N.pb; the report then gives the output error vs fp32"),
    cl::value_desc("dir"), cl::init(""), cl::cat(category));
static cl::opt<std::string> calibrateMethod(
    "calibrate-method",
    cl::desc("activation ranges for w8a8: minmax (default) or percentile"),
    cl::init("minmax"), cl::cat(category));
static cl::opt<double> calibratePercentile(
    "calibrate-percentile",
    cl::desc("percentile for --calibrate-method=percentile (default 99.99)"),
    cl::init(99.99), cl::cat(category));
static cl::opt<bool> noGraphPasses("no-graph-passes",
                                   cl::desc("skip the graph passes"),
                                   cl::cat(category));

static bool parseShape(StringRef spec, sparq::ImportOptions &options,
                       std::string &error) {
  size_t colon = spec.rfind(':');
  if (colon == StringRef::npos || colon == 0) {
    error = "bad --input-shape '" + spec.str() + "', expected NAME:1x3x224x224";
    return false;
  }
  StringRef name = spec.take_front(colon), dims = spec.drop_front(colon + 1);
  SmallVector<int64_t> shape;
  SmallVector<StringRef> parts;
  if (!dims.empty())
    dims.split(parts, 'x');
  for (StringRef p : parts) {
    int64_t d;
    if (p == "?") {
      shape.push_back(-1);
    } else if (p.getAsInteger(10, d) || d < 0) {
      error = "bad dim '" + p.str() + "' in --input-shape '" + spec.str() + "'";
      return false;
    } else {
      shape.push_back(d);
    }
  }
  options.inputShapes[name] = shape;
  return true;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "sparq ahead-of-time compiler: ONNX model -> shared library + C header\n\n"
      "  sparq-compile model.onnx -o model.so [--report=model.json]\n");

  auto errorOut = [](const Twine &message) {
    WithColor::error(errs(), "sparq-compile") << message << "\n";
    return 1;
  };
  if (!sys::fs::exists(inputPath))
    return errorOut("'" + inputPath + "': no such file");
  if (sys::fs::is_directory(inputPath))
    return errorOut("'" + inputPath + "' is a directory, expected a model file");

  sparq::CompileOptions options;
  options.inputPath = inputPath;
  options.outputPath = outputPath;
  options.emit = emit;
  options.target = target;
  options.cpu = mcpu;
  options.features = mattr;
  options.reportPath = reportPath;
  options.verbose = !quiet;
  options.noGraphPasses = noGraphPasses;
  options.prune = prune;
  options.pruneLayers.assign(pruneLayer.begin(), pruneLayer.end());
  options.sparsity = sparsity;
  options.quantize = quantize;
  options.calibrateDir = calibrate;
  options.calibrateMethod = calibrateMethod;
  options.percentile = calibratePercentile;
  if (sparsity != "auto" && sparsity != "off" && sparsity != "force")
    return errorOut("--sparsity must be auto, off or force");
  for (const std::string &spec : inputShapes) {
    std::string error;
    if (!parseShape(spec, options.import, error))
      return errorOut(error);
  }
  if (defaultDim >= 0)
    options.import.defaultDynamicDim = defaultDim;
  else if (emit != sparq::EmitKind::Mlir)
    options.import.defaultDynamicDim = 1;

  options.runtimeLibrary = runtimeLib;
  if (options.runtimeLibrary.empty()) {
    std::string exe = sys::fs::getMainExecutable(argv[0], (void *)&main);
    SmallString<256> lib(sys::path::parent_path(sys::path::parent_path(exe)));
    sys::path::append(lib, "lib", "libsparq_runtime_static.a");
    options.runtimeLibrary = lib.str().str();
  }
  int rc = sparq::compileModel(options, errs());
  if (rc != 0)
    errs() << "sparq-compile: compilation of '" << inputPath << "' failed\n";
  return rc;
}
