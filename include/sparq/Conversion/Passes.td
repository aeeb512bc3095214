//===- Passes.td - sparq conversion passes -----------------*- tablegen -*-===//
//
// Conversions out of the sparq dialect.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_CONVERSION_PASSES_TD
#define SPARQ_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertSparqToLinalgPass : Pass<"convert-sparq-to-linalg", "::mlir::ModuleOp"> {
  let summary = "Lower sparq graph and kernel ops to linalg/tensor/arith and runtime kernel calls";
  let description = [{
    Elementwise, reduction, normalization and data-movement ops become
    linalg ops on tensors (linalg.generic, linalg.fill, tensor.expand_shape,
    tensor.extract_slice, ...) so that upstream elementwise fusion and
    one-shot bufferization apply. Kernel ops (`sparq.fused_conv`,
    `sparq.fused_matmul`) become calls into the runtime's packed, threaded
    microkernels (`sparq_uk_*`) between `bufferization.to_buffer` and
    `bufferization.to_tensor restrict`. Anything that cannot be lowered is
    reported on the op and the pass fails.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::LLVM::LLVMDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

#endif // SPARQ_CONVERSION_PASSES_TD
