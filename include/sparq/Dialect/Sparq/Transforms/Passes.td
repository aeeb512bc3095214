//===- Passes.td - sparq graph passes ----------------------*- tablegen -*-===//
//
// Every graph-level pass of sparq, declared once. Pass flags live in the
// `sparq-` namespace.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_DIALECT_SPARQ_TRANSFORMS_PASSES_TD
#define SPARQ_DIALECT_SPARQ_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def SparqFoldBatchNormPass : Pass<"sparq-fold-batch-norm", "::mlir::func::FuncOp"> {
  let summary = "Fold inference batch normalization into a preceding convolution";
  let description = [{
    Rewrites `batch_norm(conv(x, W, b))` with constant parameters into
    `conv(x, W', b')` with `W' = W * s` and `b' = (b - mean) * s + beta`
    where `s = gamma / sqrt(var + eps)`. The new weights are computed at
    compile time.
  }];
  let dependentDialects = ["::sparq::SparqDialect"];
}

def SparqFuseEpiloguesPass : Pass<"sparq-fuse-epilogues", "::mlir::func::FuncOp"> {
  let summary = "Form kernel ops with bias, residual and activation fused";
  let description = [{
    Turns `sparq.conv` (2-d) into `sparq.fused_conv`, and `sparq.matmul` /
    `sparq.gemm` into `sparq.fused_matmul`, then absorbs a following bias add,
    residual add and activation (relu, clip, leaky_relu, sigmoid, tanh, gelu,
    hard_sigmoid, hard_swish) into the kernel's epilogue when the kernel
    result has no other user.
  }];
  let dependentDialects = ["::sparq::SparqDialect"];
}

def SparqPlanMemoryPass : Pass<"sparq-plan-memory", "::mlir::ModuleOp"> {
  let summary = "Place every intermediate buffer in one arena by liveness";
  let description = [{
    Runs after bufferization. Every statically shaped `memref.alloc` in the
    entry function becomes a `memref.view` into a single arena argument,
    with offsets chosen so buffers whose live ranges overlap never share
    bytes. The arena size is recorded as the `sparq.arena_size` attribute on
    the module, so the runtime allocates it once and steady-state inference
    performs no allocation.
  }];
  let options = [
    Option<"entryName", "entry", "std::string", /*default=*/"\"main\"",
           "name of the entry function">,
    Option<"alignment", "alignment", "int64_t", /*default=*/"64",
           "byte alignment of every buffer in the arena">
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def SparqApproximateMathPass : Pass<"sparq-approximate-math"> {
  let summary = "Replace f32 transcendental math ops by vectorizable polynomials";
  let description = [{
    Rewrites f32 `math` ops (tanh, erf, exp, expm1, log, log1p, log2, sin,
    cos, atan, asin, acos, ...) into the polynomial approximations of MLIR's
    math dialect, so elementwise loops stay free of scalar libm calls and
    LLVM can vectorize them. The approximations are accurate to a few ulp
    in f32; f64 math keeps calling libm.
  }];
  let options = [
    ListOption<"functions", "functions", "std::string",
               "math functions to approximate (default: all supported)">
  ];
  let dependentDialects = ["::mlir::math::MathDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::vector::VectorDialect"];
}

#endif // SPARQ_DIALECT_SPARQ_TRANSFORMS_PASSES_TD
