//===- Pipelines.cpp - sparq pass pipelines -------------------------------===//
//
// Assembles the graph and CPU lowering pipelines from sparq's and upstream
// passes. The choice of strategies (which kernels, which formats) lives in
// the passes; this file only orders them.
//
//===----------------------------------------------------------------------===//

#include "sparq/Pipelines/Pipelines.h"

#include "sparq/Conversion/Passes.h"
#include "sparq/Dialect/Sparq/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void sparq::buildGraphPipeline(OpPassManager &pm,
                               const GraphPipelineOptions &options) {
  pm.addPass(createCanonicalizerPass());
  if (options.fuse) {
    pm.addNestedPass<func::FuncOp>(createSparqFoldBatchNormPass());
    pm.addNestedPass<func::FuncOp>(createSparqFuseEpiloguesPass());
    pm.addNestedPass<func::FuncOp>(createSparqFuseAttentionPass());
  }
  if (!options.quantize.empty()) {
    SparqQuantizePassOptions quantize;
    quantize.mode = options.quantize;
    quantize.ranges = options.quantizeRanges;
    pm.addNestedPass<func::FuncOp>(createSparqQuantizePass(quantize));
  }
  pm.addNestedPass<func::FuncOp>(createSparqQdqToIntegerPass());
  if (!options.prune.empty() || !options.pruneLayers.empty()) {
    SparqPrunePassOptions prune;
    prune.spec = options.prune;
    prune.layers.assign(options.pruneLayers.begin(),
                        options.pruneLayers.end());
    pm.addNestedPass<func::FuncOp>(createSparqPrunePass(prune));
  }
  pm.addNestedPass<func::FuncOp>(createSparqSparsityAnalysisPass());
  SparqSelectSparseFormatPassOptions select;
  select.mode = options.sparsity;
  select.vectorBits = options.sparseVectorBits;
  pm.addNestedPass<func::FuncOp>(createSparqSelectSparseFormatPass(select));
  pm.addNestedPass<func::FuncOp>(createSparqPackSparseWeightsPass());
  SparqSparseInt8PassOptions sparseInt8;
  sparseInt8.mode = options.sparsity;
  pm.addNestedPass<func::FuncOp>(createSparqSparseInt8Pass(sparseInt8));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void sparq::buildCpuLoweringPipeline(OpPassManager &pm,
                                     const CpuPipelineOptions &options) {
  pm.addPass(createConvertSparqToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createLinalgElementwiseOpFusionPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // CSE merges the pointer chains through which runtime calls read their
  // tensor operands; each call gets its own again, so that One-Shot
  // Bufferize sees every read where its call is.
  pm.addNestedPass<func::FuncOp>(createSparqLocalizeCallOperandsPass());

  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  pm.addPass(createCanonicalizerPass());

  SparqPlanMemoryPassOptions plan;
  plan.entryName = options.entry;
  pm.addPass(createSparqPlanMemoryPass(plan));

  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  SparqParallelizeLoopsPassOptions parallelize;
  parallelize.entryName = options.entry;
  pm.addPass(createSparqParallelizeLoopsPass(parallelize));
  pm.addPass(createLowerAffinePass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSparqApproximateMathPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  ConvertFuncToLLVMPassOptions funcToLLVM;
  funcToLLVM.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(funcToLLVM));
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

void sparq::registerPipelines() {
  PassPipelineRegistration<GraphPipelineOptions>(
      "sparq-graph-pipeline",
      "sparq graph passes: folding, batch-norm folding, kernel formation",
      buildGraphPipeline);
  PassPipelineRegistration<CpuPipelineOptions>(
      "sparq-cpu-lowering-pipeline",
      "lower graph-optimized sparq IR to the LLVM dialect for CPUs",
      buildCpuLoweringPipeline);
}
