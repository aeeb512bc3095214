//===- CodeGen.cpp - LLVM code generation for compiled models -------------===//
//
// LLVM IR translation with the ABI glue, optimization and object emission
// for the host (or a chosen) CPU, and the link into model.so.
//
//===----------------------------------------------------------------------===//

#include "CodeGen.h"

#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

using namespace sparq;

std::unique_ptr<llvm::Module>
sparq::translateWithGlue(mlir::ModuleOp module, llvm::LLVMContext &context,
                         llvm::StringRef entryName, unsigned numInputs,
                         unsigned numOutputs, llvm::StringRef signature,
                         std::string &error) {
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(module, context, "sparq_model");
  if (!llvmModule) {
    error = "translation to LLVM IR failed";
    return nullptr;
  }
  llvm::Function *entry = llvmModule->getFunction(entryName);
  if (!entry) {
    error = "entry function '" + entryName.str() + "' missing after lowering";
    return nullptr;
  }
  unsigned expected = numInputs + numOutputs + 1;
  if (entry->arg_size() != expected) {
    error = "entry function takes " + std::to_string(entry->arg_size()) +
            " arguments, expected " + std::to_string(expected) +
            " (inputs, outputs, arena)";
    return nullptr;
  }
  entry->setName("sparq_main");
  entry->setLinkage(llvm::GlobalValue::InternalLinkage);

  llvm::IRBuilder<> b(context);
  llvm::Type *ptr = b.getPtrTy();
  auto *wrapperType = llvm::FunctionType::get(b.getVoidTy(),
                                              {ptr, ptr, ptr, ptr}, false);
  auto *wrapper = llvm::Function::Create(
      wrapperType, llvm::GlobalValue::ExternalLinkage, "sparq_model_entry",
      *llvmModule);
  wrapper->setVisibility(llvm::GlobalValue::DefaultVisibility);
  llvm::Argument *arena = wrapper->getArg(1);
  llvm::Argument *inputs = wrapper->getArg(2);
  llvm::Argument *outputs = wrapper->getArg(3);
  b.SetInsertPoint(llvm::BasicBlock::Create(context, "entry", wrapper));
  llvm::SmallVector<llvm::Value *> args;
  auto loadPointer = [&](llvm::Value *array, unsigned i) {
    llvm::Value *slot = b.CreateConstInBoundsGEP1_64(ptr, array, i);
    return b.CreateLoad(ptr, slot);
  };
  for (unsigned i = 0; i < numInputs; ++i)
    args.push_back(loadPointer(inputs, i));
  for (unsigned i = 0; i < numOutputs; ++i)
    args.push_back(loadPointer(outputs, i));
  args.push_back(arena);
  b.CreateCall(entry, args);
  b.CreateRetVoid();

  llvm::Constant *text =
      llvm::ConstantDataArray::getString(context, signature, true);
  auto *global = new llvm::GlobalVariable(
      *llvmModule, text->getType(), /*isConstant=*/true,
      llvm::GlobalValue::ExternalLinkage, text, "sparq_model_signature");
  global->setVisibility(llvm::GlobalValue::DefaultVisibility);

  if (llvm::verifyModule(*llvmModule, &llvm::errs())) {
    error = "generated LLVM IR does not verify";
    return nullptr;
  }
  return llvmModule;
}

static std::string hostFeatures() {
  std::string features;
  for (const auto &f : llvm::sys::getHostCPUFeatures()) {
    if (!features.empty())
      features += ",";
    features += (f.second ? "+" : "-") + f.first().str();
  }
  return features;
}

int sparq::sparseVectorBits(const TargetChoice &target) {
  bool host = target.cpu.empty() || target.cpu == "host";
  if (host && target.features.empty())
    return 0; // the cost model reads the host CPU itself
  llvm::InitializeNativeTarget();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!llvmTarget)
    return 256;
  std::string cpu = host ? llvm::sys::getHostCPUName().str() : target.cpu;
  std::string features = host ? hostFeatures() : "";
  if (!target.features.empty())
    features += (features.empty() ? "" : ",") + target.features;
  std::unique_ptr<llvm::MCSubtargetInfo> info(
      llvmTarget->createMCSubtargetInfo(triple, cpu, features));
  // What the runtime's AVX-512 sparse kernel set requires.
  return info && info->checkFeatures(
                     "+avx512f,+avx512bw,+avx512dq,+avx512vl,+bmi2")
             ? 512
             : 256;
}

bool sparq::optimizeAndEmit(llvm::Module &module, const TargetChoice &target,
                            llvm::StringRef outputPath, bool emitIR,
                            std::string &error, std::string *cpuDescription) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!llvmTarget)
    return false;
  bool host = target.cpu.empty() || target.cpu == "host";
  std::string cpu = host ? llvm::sys::getHostCPUName().str() : target.cpu;
  std::string features = host ? hostFeatures() : "";
  if (!target.features.empty())
    features += (features.empty() ? "" : ",") + target.features;
  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> machine(
      llvmTarget->createTargetMachine(triple, cpu, features, targetOptions,
                                      llvm::Reloc::PIC_, std::nullopt,
                                      llvm::CodeGenOptLevel::Aggressive));
  if (!machine) {
    error = "cannot create a target machine for cpu '" + cpu + "'";
    return false;
  }
  if (cpuDescription)
    *cpuDescription = cpu;
  module.setTargetTriple(triple);
  module.setDataLayout(machine->createDataLayout());
  for (llvm::Function &f : module) {
    if (f.isDeclaration())
      continue;
    f.addFnAttr("target-cpu", cpu);
    if (!features.empty())
      f.addFnAttr("target-features", features);
  }

  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  llvm::PassBuilder passBuilder(machine.get(), tuning);
  passBuilder.registerModuleAnalyses(mam);
  passBuilder.registerCGSCCAnalyses(cgam);
  passBuilder.registerFunctionAnalyses(fam);
  passBuilder.registerLoopAnalyses(lam);
  passBuilder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm =
      passBuilder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  mpm.run(module, mam);

  std::error_code ec;
  llvm::ToolOutputFile out(outputPath, ec,
                           emitIR ? llvm::sys::fs::OF_Text
                                  : llvm::sys::fs::OF_None);
  if (ec) {
    error = "cannot write '" + outputPath.str() + "': " + ec.message();
    return false;
  }
  if (emitIR) {
    module.print(out.os(), nullptr);
  } else {
    llvm::legacy::PassManager codegen;
    if (machine->addPassesToEmitFile(codegen, out.os(), nullptr,
                                     llvm::CodeGenFileType::ObjectFile)) {
      error = "the target cannot emit object files";
      return false;
    }
    codegen.run(module);
  }
  out.keep();
  return true;
}

bool sparq::linkSharedLibrary(llvm::StringRef objectPath,
                              llvm::StringRef runtimeLibrary,
                              llvm::StringRef outputPath, std::string &error) {
  if (!llvm::sys::fs::exists(runtimeLibrary)) {
    error = "runtime library '" + runtimeLibrary.str() +
            "' not found (pass --runtime-lib=PATH)";
    return false;
  }
  llvm::ErrorOr<std::string> linker = llvm::sys::findProgramByName("c++");
  if (!linker)
    linker = llvm::sys::findProgramByName("g++");
  if (!linker) {
    error = "no C++ linker driver (c++ or g++) on PATH";
    return false;
  }
  llvm::SmallString<128> logPath;
  if (llvm::sys::fs::createTemporaryFile("sparq-link", "log", logPath)) {
    error = "cannot create a temporary file for the linker log";
    return false;
  }
  std::vector<llvm::StringRef> args = {
      *linker, "-shared", "-o", outputPath, objectPath,
      "-Wl,--whole-archive", runtimeLibrary, "-Wl,--no-whole-archive",
      "-Wl,-Bsymbolic", "-lpthread", "-lm"};
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, logPath.str(),
                                                logPath.str()};
  std::string execError;
  int rc = llvm::sys::ExecuteAndWait(*linker, args, std::nullopt, redirects,
                                     /*SecondsToWait=*/300, 0, &execError);
  if (rc != 0) {
    error = "linking failed (" + (execError.empty() ? "exit code " +
                                      std::to_string(rc) : execError) + ")";
    if (auto log = llvm::MemoryBuffer::getFile(logPath))
      error += ":\n" + (*log)->getBuffer().str();
  }
  llvm::sys::fs::remove(logPath);
  return rc == 0;
}
