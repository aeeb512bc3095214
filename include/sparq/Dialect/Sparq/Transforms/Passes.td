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
    result has no other user. It also recognizes the decompositions that
    exporters write for GELU (erf and tanh forms, then fused like the
    gelu activation) and for LayerNorm over the last axis (torch and HF
    forms, becoming sparq.layer_norm).
  }];
  let dependentDialects = ["::sparq::SparqDialect"];
}

def SparqFuseAttentionPass : Pass<"sparq-fuse-attention", "::mlir::func::FuncOp"> {
  let summary = "Fuse multi-head scaled dot-product attention into one op";
  let description = [{
    Replaces the head-split transposes, q x k^T, scale, additive mask,
    masked fill, softmax, x v and head-merge transpose that exporters write
    with one `sparq.attention` on the projections' [B, S, H, D] tensors,
    when every intermediate has no other use. Runs after
    sparq-fuse-epilogues (the matmuls are plain sparq.fused_matmul ops).
  }];
  let dependentDialects = ["::sparq::SparqDialect"];
}

def SparqLocalizeCallOperandsPass
    : Pass<"sparq-localize-call-operands", "::mlir::func::FuncOp"> {
  let summary = "Give each runtime call its own to_buffer of a shared operand";
  let description = [{
    After CSE, calls that read the same tensor share one to_buffer ->
    extract_aligned_pointer_as_index -> index_cast -> inttoptr chain, so
    One-Shot Bufferize would see the read only at the first call. This
    pass gives every call operand its own copy of the chain right before
    the call (erasing the originals), so each read is where its call is.
    Run right before bufferization.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

def SparqPrunePass : Pass<"sparq-prune", "::mlir::func::FuncOp"> {
  let summary = "Magnitude-prune constant kernel weights at compile time";
  let description = [{
    Zeroes the smallest-magnitude weights of every fused_matmul/fused_conv
    with a constant f32 weight: `unstructured:S` removes the fraction S of
    weights, `nm:N:M` keeps the N largest of every M along the reduction
    dim, `block:RxC:S` removes the fraction S of RxC blocks (R outputs x C
    reduction elements) with the smallest L1 norm. `layers` entries
    `REGEX=SPEC` override the spec for kernels whose ONNX node name matches
    (first match wins; SPEC `none` leaves a layer alone). Pruned kernels get
    a `sparq.pruned` attribute naming the spec.
  }];
  let options = [
    Option<"spec", "spec", "std::string", /*default=*/"\"\"",
           "pruning for every layer (empty: only the `layers` overrides)">,
    ListOption<"layers", "layers", "std::string",
               "per-layer overrides REGEX=SPEC">
  ];
  let dependentDialects = ["::sparq::SparqDialect"];
}

def SparqSparsityAnalysisPass
    : Pass<"sparq-sparsity-analysis", "::mlir::func::FuncOp"> {
  let summary = "Measure the zero pattern of every constant kernel weight";
  let description = [{
    For each fused_matmul/fused_conv with a constant f32 weight, records in
    a `sparq.sparsity` attribute (#sparq.sparsity) its density and best
    structural fit: R x C blocks with no fill, else the sparsest N:M pattern
    (1:4, 2:8, 2:4, 4:8) along the reduction dim, else unstructured. Works
    on weights pruned by any tool, since zeros are all it looks at.
  }];
  let dependentDialects = ["::sparq::SparqDialect"];
}

def SparqSelectSparseFormatPass
    : Pass<"sparq-select-sparse-format", "::mlir::func::FuncOp"> {
  let summary = "Choose dense or a sparse format per kernel with a cost model";
  let description = [{
    Estimates each analyzed kernel's time as dense and in every sparse
    format its weight allows (CSR, its block shape, its N:M pattern) from
    the shape, the measured pattern and the activation rows per call, and
    records the fastest as `sparq.format` with the reason in
    `sparq.format_reason`. A sparse format is only chosen when it is
    estimated at least 10% faster than dense. `mode=off` keeps everything
    dense; `mode=force` picks the best sparse format for every sparse
    weight regardless of the estimate. `vector-bits` is the vector width
    of the target's sparse kernels (256: AVX2, 512: AVX-512; 0: the CPU
    the compiler runs on), which sets the kernel rates the model uses.
  }];
  let options = [
    Option<"mode", "mode", "std::string", /*default=*/"\"auto\"",
           "auto, off or force">,
    Option<"vectorBits", "vector-bits", "int", /*default=*/"0",
           "sparse kernel vector width: 256, 512, or 0 for the host CPU">
  ];
  let dependentDialects = ["::sparq::SparqDialect"];
}

def SparqPackSparseWeightsPass
    : Pass<"sparq-pack-sparse-weights", "::mlir::func::FuncOp"> {
  let summary = "Pack sparse weights and form sparse kernel ops";
  let description = [{
    Kernels whose `sparq.format` is sparse get their weight packed at
    compile time (values plus compact indices: 16-bit column indices or
    block offsets, 4-bit N:M positions; see sparq_sparse_format.h) into an
    i8 constant, and become sparq.sparse_matmul / sparq.sparse_conv.
  }];
  let dependentDialects = ["::sparq::SparqDialect"];
}

def SparqSparseInt8Pass : Pass<"sparq-sparse-int8", "::mlir::func::FuncOp"> {
  let summary = "Pack sparse int8 weights: sparse_qmatmul, sparse_qconv";
  let description = [{
    For every sparq.qmatmul (from sparq-qdq-to-integer) whose weight is a
    2-d constant i8 tensor with zero point 0 (symmetric, per-tensor or
    per-column scales: what onnxruntime's quantize_static writes), and every
    1x1 sparq.qconv without groups or padding with such a weight, whose
    reduction dim is a multiple of 4, measures the density of its non-zero
    1 x 4 blocks along the reduction dim and records it as `sparq.sparsity`.
    When the density is at most the measured break-even of the sparse int8
    kernel against the dense one for the call's activation rows, the weight
    is packed as SPARQ_SPARSE_BLOCK_I8 (sparq_sparse_format.h) into an i8
    constant and the op becomes sparq.sparse_qmatmul / sparq.sparse_qconv
    (a convolution's break-even depends on its input channels instead of
    the activation rows). `mode=off` changes
    nothing; `mode=force` packs every eligible weight with an empty block.
  }];
  let options = [
    Option<"mode", "mode", "std::string", /*default=*/"\"auto\"",
           "auto, off or force">
  ];
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

def SparqParallelizeLoopsPass : Pass<"sparq-parallelize-loops", "::mlir::ModuleOp"> {
  let summary = "Run large scf.parallel loop nests on the runtime's thread pool";
  let description = [{
    Runs after linalg ops became loops (`scf.parallel` for parallel
    dimensions, `scf.for` for reductions). Every outermost `scf.parallel` in
    the entry function with static bounds whose estimated work (scalar
    iterations times body ops) reaches `min-work` is outlined into a private
    function `@<entry>_par_<N>(closure, begin, end)` that runs the
    iterations [begin, end) of its leading parallel dimensions, linearized;
    the remaining dimensions become `scf.for` loops inside. The loop itself
    is replaced by a call to the runtime's `sparq_rt_parallel_for` with a
    closure on the caller's stack holding the captured buffers (as aligned
    pointers, rebuilt into statically shaped memrefs in the outlined
    function) and scalars. Smaller loops and loops elsewhere stay serial.
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", /*default=*/"32768",
           "estimated scalar iterations x body ops below which a loop nest "
           "stays serial">,
    Option<"entryName", "entry", "std::string", /*default=*/"\"main\"",
           "name of the entry function">
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def SparqQuantizePass : Pass<"sparq-quantize", "::mlir::func::FuncOp"> {
  let summary = "Post-training quantization of an fp32 model at compile time";
  let description = [{
    `mode` selects the scheme:
    - `w8`: every sparq.fused_matmul with a constant 2-d f32 weight becomes
      a sparq.matmul_nbits with 8-bit weights, symmetric per output row
      (one block per row); the epilogue (bias, residual, activation) is kept.
    - `w4` or `w4:gN` (N a power of two >= 16, default 128): the same with
      asymmetric uint4 groups of N along the reduction, min/max per group
      (widened to include 0), zero points per group; the last group is
      padded with zeros when N does not divide K.
    - `w8a8`: QDQ form as onnxruntime's quantize_static writes it: u8
      asymmetric per-tensor quantize/dequantize on every fused_conv /
      fused_matmul input and output, with ranges read from `ranges`, a JSON
      file `{"tensors": {"NODE:input": [min, max], "NODE:output": [...]}}`
      (NODE is the kernel's ONNX node name); s8 symmetric per-channel
      dequantized weights; i32 bias with scale x_scale * w_scale. A fused
      residual add (and the activation after it) moves out of the kernel
      into graph ops, so NODE:output is the kernel's own result, as in
      onnxruntime's Conv -> Q/DQ -> Add.
    - `w8a8-calibration`: only that residual split, for the fp32 model
      sparq-compile instruments to calibrate the ranges.
    Convolutions stay f32 in the weight-only modes. Every kernel's outcome
    (parameters, weight error as rel L2, or why it was kept) is recorded on
    the function as the `sparq.quantization` array for the compile report.
  }];
  let options = [
    Option<"mode", "mode", "std::string", /*default=*/"\"\"",
           "w8, w4:g128 or w8a8">,
    Option<"ranges", "ranges", "std::string", /*default=*/"\"\"",
           "JSON file of calibrated activation ranges (w8a8)">
  ];
  let dependentDialects = ["::sparq::SparqDialect"];
}

def SparqQdqToIntegerPass
    : Pass<"sparq-qdq-to-integer", "::mlir::func::FuncOp"> {
  let summary = "Rewrite DequantizeLinear -> op -> QuantizeLinear groups to "
                "integer kernels";
  let description = [{
    Runs after sparq-fuse-epilogues. A sparq.fused_conv (2-d) or
    sparq.fused_matmul whose input is a per-tensor dequantize_linear of 8-bit
    values and whose weight is a dequantize_linear of 8-bit values (per-tensor,
    or per output channel for constant weights), with constant scales,
    becomes sparq.qconv / sparq.qmatmul:
      - with an 8-bit result when its only user is a per-tensor
        quantize_linear (multiplier x_scale * w_scale[n] / y_scale in f32, a
        dequantized i32 bias with scale x_scale * w_scale taken as i32, a
        fused Relu/Clip as a narrowed [qmin, qmax]), so chains of quantized
        layers stay 8-bit;
      - with an f32 result otherwise (float bias, other activations, float
        consumers).
    onnxruntime quantize_dynamic's matmul_integer -> cast -> mul(scale)
    [-> add(bias)] becomes one f32-result sparq.qmatmul, and max_pool /
    reshape / transpose between a dequantize and a quantize with equal
    per-tensor parameters run on the 8-bit values. Each kernel formed carries
    a `sparq.quantized` string describing it (e.g. "u8s8->u8 per-channel").
  }];
  let dependentDialects = ["::sparq::SparqDialect"];
}

#endif // SPARQ_DIALECT_SPARQ_TRANSFORMS_PASSES_TD
