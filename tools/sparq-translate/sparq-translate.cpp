//===- sparq-translate.cpp - ONNX to sparq MLIR translation driver --------===//
//
// `sparq-translate --import-onnx MODEL.onnx [-o OUT.mlir]
// [--input-shape=NAME:1x3x224x224] [--default-dim=N]` imports an ONNX model
// and prints the module. Import errors are printed as
// "error: <model>: node '<name>' (<op>): <reason>" and make it exit 1.
//
//===----------------------------------------------------------------------===//

#include "sparq/Dialect/Sparq/IR/Sparq.h"
#include "sparq/Import/OnnxImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

static cl::opt<bool> importOnnx("import-onnx",
                                cl::desc("Import an ONNX model (required)"));
static cl::opt<std::string> inputPath(cl::Positional, cl::desc("<model.onnx>"),
                                      cl::Required);
static cl::opt<std::string> outputPath("o", cl::desc("Output file"),
                                       cl::value_desc("filename"),
                                       cl::init("-"));
static cl::list<std::string>
    inputShapes("input-shape",
                cl::desc("Override an input's shape: NAME:1x3x224x224 "
                         "(-1 or ? keeps a dim dynamic)"),
                cl::value_desc("name:dims"));
static cl::opt<int64_t>
    defaultDim("default-dim",
               cl::desc("Pin every remaining dynamic input dim to N"),
               cl::init(-1));
static cl::opt<std::string> entryName("entry", cl::desc("Entry function name"),
                                      cl::init("main"));
static cl::opt<bool> genericForm("mlir-print-op-generic",
                                 cl::desc("Print the generic op form"));
static cl::opt<int64_t> elideResources(
    "elide-resources-larger-than",
    cl::desc("print weights larger than this many bytes as an elided "
             "placeholder (0: print everything)"),
    cl::init(0));

/// Parses NAME:D1xD2x... (a scalar is NAME:).
static bool parseShape(StringRef spec, sparq::ImportOptions &options) {
  auto [name, dims] = spec.rsplit(':');
  if (name.empty() || name == spec)
    return false;
  SmallVector<int64_t> shape;
  SmallVector<StringRef> parts;
  if (!dims.empty())
    dims.split(parts, 'x');
  for (StringRef part : parts) {
    int64_t d;
    if (part == "?" || part == "-1")
      d = -1;
    else if (part.getAsInteger(10, d) || d < 0)
      return false;
    shape.push_back(d);
  }
  options.inputShapes[name] = shape;
  return true;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "sparq ONNX translation driver\n");
  if (!importOnnx) {
    errs() << "sparq-translate: pass --import-onnx\n";
    return 1;
  }
  sparq::ImportOptions options;
  options.entryName = entryName;
  for (const std::string &spec : inputShapes)
    if (!parseShape(spec, options)) {
      errs() << "sparq-translate: bad --input-shape '" << spec
             << "' (expected NAME:1x3x224x224)\n";
      return 1;
    }
  if (defaultDim >= 0)
    options.defaultDynamicDim = defaultDim;

  mlir::DialectRegistry registry;
  registry.insert<sparq::SparqDialect, mlir::func::FuncDialect,
                  mlir::quant::QuantDialect>();
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  mlir::ScopedDiagnosticHandler handler(&context, [](mlir::Diagnostic &diag) {
    StringRef kind = diag.getSeverity() == mlir::DiagnosticSeverity::Error
                         ? "error"
                     : diag.getSeverity() == mlir::DiagnosticSeverity::Warning
                         ? "warning"
                         : "note";
    errs() << kind << ": " << diag.str() << "\n";
    return mlir::success();
  });

  mlir::OwningOpRef<mlir::ModuleOp> module =
      sparq::importOnnxModel(context, inputPath, options);
  if (!module)
    return 1;

  std::string error;
  std::unique_ptr<ToolOutputFile> output =
      mlir::openOutputFile(outputPath, &error);
  if (!output) {
    errs() << "sparq-translate: " << error << "\n";
    return 1;
  }
  mlir::OpPrintingFlags flags;
  if (genericForm)
    flags.printGenericOpForm();
  if (elideResources > 0)
    flags.elideLargeResourceString(elideResources);
  module->print(output->os(), flags);
  output->os() << "\n";
  output->keep();
  return 0;
}
