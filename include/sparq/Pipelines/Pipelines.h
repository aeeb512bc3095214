//===- Pipelines.h - sparq pass pipelines ---------------------*- C++ -*-===//
//
// The pass pipelines sparq-compile runs, exposed so sparq-opt can reproduce
// them with --pass-pipeline or the registered pipeline names.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_PIPELINES_PIPELINES_H
#define SPARQ_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace sparq {

/// Options of the graph-level pipeline.
struct GraphPipelineOptions
    : public mlir::PassPipelineOptions<GraphPipelineOptions> {
  PassOptions::Option<bool> fuse{*this, "fuse",
                                 llvm::cl::desc("form fused kernel ops"),
                                 llvm::cl::init(true)};
  PassOptions::Option<std::string> prune{
      *this, "prune",
      llvm::cl::desc("magnitude-prune every kernel: unstructured:S, nm:N:M "
                     "or block:RxC:S"),
      llvm::cl::init("")};
  PassOptions::ListOption<std::string> pruneLayers{
      *this, "prune-layers",
      llvm::cl::desc("per-layer pruning overrides REGEX=SPEC")};
  PassOptions::Option<std::string> sparsity{
      *this, "sparsity",
      llvm::cl::desc("sparse kernel selection: auto, off or force"),
      llvm::cl::init("auto")};
  PassOptions::Option<int> sparseVectorBits{
      *this, "sparse-vector-bits",
      llvm::cl::desc("vector width the sparse cost model assumes: 256, 512, "
                     "or 0 for the host CPU"),
      llvm::cl::init(0)};
  PassOptions::Option<std::string> quantize{
      *this, "quantize",
      llvm::cl::desc("post-training quantization: w8, w4:gN or w8a8"),
      llvm::cl::init("")};
  PassOptions::Option<std::string> quantizeRanges{
      *this, "quantize-ranges",
      llvm::cl::desc("calibrated activation ranges (JSON) for w8a8"),
      llvm::cl::init("")};
};

/// Options of the CPU lowering pipeline.
struct CpuPipelineOptions
    : public mlir::PassPipelineOptions<CpuPipelineOptions> {
  PassOptions::Option<std::string> entry{
      *this, "entry", llvm::cl::desc("name of the entry function"),
      llvm::cl::init("main")};
};

/// sparq graph passes: canonicalization and constant folding, batch-norm
/// folding, kernel formation with epilogue fusion, then the sparsity passes
/// (optional pruning, analysis, per-layer format choice, packing).
void buildGraphPipeline(mlir::OpPassManager &pm,
                        const GraphPipelineOptions &options);

/// Lowering of a graph-optimized sparq module to the LLVM dialect for CPUs:
/// sparq → linalg/tensor + kernel calls → elementwise fusion → one-shot
/// bufferization → static memory plan → loops → LLVM dialect. The entry
/// function ends up taking bare pointers (inputs, outputs, arena).
void buildCpuLoweringPipeline(mlir::OpPassManager &pm,
                              const CpuPipelineOptions &options);

/// Registers `sparq-graph-pipeline` and `sparq-cpu-lowering-pipeline`.
void registerPipelines();

} // namespace sparq

#endif // SPARQ_PIPELINES_PIPELINES_H
