//===- CodeGen.h - LLVM code generation for compiled models ---*- C++ -*-===//
//
// From the LLVM dialect module to an optimized object file for the chosen
// CPU, plus the ABI glue (entry wrapper and signature text) around the
// generated entry function, and the final link into a shared library.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_COMPILER_CODEGEN_H
#define SPARQ_LIB_COMPILER_CODEGEN_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

#include <memory>
#include <string>

namespace sparq {

struct TargetChoice {
  std::string cpu;      // "host" or an LLVM CPU name
  std::string features; // extra features, comma separated
};

/// Translates `module` (LLVM dialect) to LLVM IR, renames the entry function
/// to an internal symbol and adds `sparq_model_entry` and
/// `sparq_model_signature`. `numInputs`/`numOutputs` give the entry's
/// pointer-argument layout (inputs, outputs, arena).
std::unique_ptr<llvm::Module>
translateWithGlue(mlir::ModuleOp module, llvm::LLVMContext &context,
                  llvm::StringRef entryName, unsigned numInputs,
                  unsigned numOutputs, llvm::StringRef signature,
                  std::string &error);

/// Sets the target, runs the O3 pipeline and writes an object file (or the
/// optimized IR as text when `emitIR`). Returns false with `error` set.
/// Vector width (256 or 512) of the runtime sparse kernel set `target`'s
/// features select, for the sparse cost model; 0 for the host CPU.
int sparseVectorBits(const TargetChoice &target);

bool optimizeAndEmit(llvm::Module &module, const TargetChoice &target,
                     llvm::StringRef outputPath, bool emitIR,
                     std::string &error, std::string *cpuDescription = nullptr);

/// Links `objectPath` with the static runtime into the shared library
/// `outputPath`. Returns false with `error` set (including the linker's
/// output).
bool linkSharedLibrary(llvm::StringRef objectPath,
                       llvm::StringRef runtimeLibrary,
                       llvm::StringRef outputPath, std::string &error);

} // namespace sparq

#endif // SPARQ_LIB_COMPILER_CODEGEN_H
