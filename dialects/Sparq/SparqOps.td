//===- SparqOps.td - sparq graph and kernel ops ------------*- tablegen -*-===//
//
// Graph ops with ONNX semantics and the kernel-level ops the graph passes
// form. Every graph op infers its result type (static or dynamic dims) so the
// importer never computes shapes itself, and the inference doubles as the
// verifier.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_OPS_TD
#define SPARQ_OPS_TD

include "SparqDialect.td"
include "SparqAttrs.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

// Shared pieces -------------------------------------------------------------

// An op whose result types come from a C++ helper named `helper`, called as
// helper(location, adaptor, inferredTypes).
class Sparq_InferredOp<string mnemonic, string helper, list<Trait> traits = []>
    : Sparq_Op<mnemonic, traits # [Pure, InferTypeOpAdaptor]> {
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(::mlir::MLIRContext *,
        std::optional<::mlir::Location> loc, Adaptor adaptor,
        ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      return ::sparq::}] # helper # [{(loc, adaptor, types);
    }
  }];
}

class Sparq_UnaryOp<string mnemonic, list<Trait> traits = []>
    : Sparq_InferredOp<mnemonic, "inferSameAsFirstOperand", traits> {
  let summary = "elementwise " # mnemonic;
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

class Sparq_BinaryOp<string mnemonic, string helper = "inferBroadcastSameElement">
    : Sparq_InferredOp<mnemonic, helper> {
  let summary = "elementwise " # mnemonic # " with ONNX multidirectional broadcasting";
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

// Constants -----------------------------------------------------------------

def Sparq_ConstantOp : Sparq_Op<"constant", [ConstantLike, Pure,
                                             InferTypeOpAdaptor]> {
  let summary = "constant tensor (weights, Constant nodes, folded shapes)";
  let description = [{
    Weights imported from ONNX initializers are dense resources backed by the
    model file's bytes, so they are never copied while importing.
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(::mlir::MLIRContext *,
        std::optional<::mlir::Location>, Adaptor adaptor,
        ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      types.push_back(adaptor.getValue().getType());
      return ::mlir::success();
    }
  }];
}

// Elementwise binary --------------------------------------------------------

def Sparq_AddOp : Sparq_BinaryOp<"add">;
def Sparq_SubOp : Sparq_BinaryOp<"sub">;
def Sparq_MulOp : Sparq_BinaryOp<"mul">;
def Sparq_DivOp : Sparq_BinaryOp<"div">;
def Sparq_PowOp : Sparq_BinaryOp<"pow", "inferBroadcastLhsElement">;
def Sparq_MinOp : Sparq_BinaryOp<"min">;
def Sparq_MaxOp : Sparq_BinaryOp<"max">;
def Sparq_ModOp : Sparq_BinaryOp<"mod"> {
  let description = [{
    Integer remainder takes the divisor's sign unless `fmod` is set (then
    the dividend's, as C's fmod); floats always use fmod semantics.
  }];
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs,
                       DefaultValuedAttr<BoolAttr, "false">:$fmod);
}
def Sparq_AndOp : Sparq_BinaryOp<"and">;
def Sparq_OrOp : Sparq_BinaryOp<"or">;
def Sparq_XorOp : Sparq_BinaryOp<"xor">;
def Sparq_EqualOp : Sparq_BinaryOp<"equal", "inferBroadcastBool">;
def Sparq_LessOp : Sparq_BinaryOp<"less", "inferBroadcastBool">;
def Sparq_LessOrEqualOp : Sparq_BinaryOp<"less_or_equal", "inferBroadcastBool">;
def Sparq_GreaterOp : Sparq_BinaryOp<"greater", "inferBroadcastBool">;
def Sparq_GreaterOrEqualOp
    : Sparq_BinaryOp<"greater_or_equal", "inferBroadcastBool">;
def Sparq_PReluOp : Sparq_BinaryOp<"prelu", "inferBroadcastLhsElement">;

def Sparq_WhereOp : Sparq_InferredOp<"where", "inferWhere"> {
  let summary = "select with ONNX broadcasting";
  let arguments = (ins AnyRankedTensor:$condition, AnyRankedTensor:$x,
                       AnyRankedTensor:$y);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat =
      "$condition `,` $x `,` $y attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

// Elementwise unary ---------------------------------------------------------

foreach p = [["Sqrt", "sqrt"], ["Reciprocal", "reciprocal"], ["Exp", "exp"],
             ["Log", "log"], ["Erf", "erf"], ["Tanh", "tanh"],
             ["Sigmoid", "sigmoid"], ["Relu", "relu"], ["Neg", "neg"],
             ["Abs", "abs"], ["Floor", "floor"], ["Ceil", "ceil"],
             ["Round", "round"], ["Sign", "sign"], ["Not", "not"],
             ["Sin", "sin"], ["Cos", "cos"], ["Tan", "tan"], ["Asin", "asin"],
             ["Acos", "acos"], ["Atan", "atan"], ["Sinh", "sinh"],
             ["Cosh", "cosh"], ["Asinh", "asinh"], ["Acosh", "acosh"],
             ["Atanh", "atanh"], ["Softplus", "softplus"],
             ["Softsign", "softsign"], ["Mish", "mish"],
             ["HardSwish", "hard_swish"]] in
def Sparq_#p[0]#Op : Sparq_UnaryOp<p[1]>;

def Sparq_IdentityOp : Sparq_UnaryOp<"identity"> { let hasFolder = 1; }

def Sparq_LeakyReluOp : Sparq_UnaryOp<"leaky_relu"> {
  let arguments = (ins AnyRankedTensor:$input,
                       DefaultValuedAttr<F32Attr, "0.01">:$alpha);
}
def Sparq_EluOp : Sparq_UnaryOp<"elu"> {
  let arguments = (ins AnyRankedTensor:$input,
                       DefaultValuedAttr<F32Attr, "1.0">:$alpha);
}
def Sparq_CeluOp : Sparq_UnaryOp<"celu"> {
  let arguments = (ins AnyRankedTensor:$input,
                       DefaultValuedAttr<F32Attr, "1.0">:$alpha);
}
def Sparq_ThresholdedReluOp : Sparq_UnaryOp<"thresholded_relu"> {
  let arguments = (ins AnyRankedTensor:$input,
                       DefaultValuedAttr<F32Attr, "1.0">:$alpha);
}
def Sparq_SeluOp : Sparq_UnaryOp<"selu"> {
  let arguments = (ins AnyRankedTensor:$input,
                       DefaultValuedAttr<F32Attr, "1.67326319217681884765625">:$alpha,
                       DefaultValuedAttr<F32Attr, "1.05070102214813232421875">:$gamma);
}
def Sparq_HardSigmoidOp : Sparq_UnaryOp<"hard_sigmoid"> {
  let arguments = (ins AnyRankedTensor:$input,
                       DefaultValuedAttr<F32Attr, "0.2">:$alpha,
                       DefaultValuedAttr<F32Attr, "0.5">:$beta);
}
def Sparq_GeluOp : Sparq_UnaryOp<"gelu"> {
  let arguments = (ins AnyRankedTensor:$input,
                       DefaultValuedAttr<BoolAttr, "false">:$tanh_approximation);
}
def Sparq_ClipOp : Sparq_UnaryOp<"clip"> {
  let description = [{
    Clamps to [min, max]; an absent bound is unbounded. Bounds given to ONNX
    as runtime tensors are imported as sparq.max/sparq.min instead.
  }];
  let arguments = (ins AnyRankedTensor:$input, OptionalAttr<F64Attr>:$min,
                       OptionalAttr<F64Attr>:$max);
}

def Sparq_CastOp : Sparq_InferredOp<"cast", "inferCast"> {
  let summary = "element type conversion with ONNX Cast semantics";
  let arguments = (ins AnyRankedTensor:$input, TypeAttr:$to);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

// Contractions ----------------------------------------------------------------

def Sparq_MatMulOp : Sparq_InferredOp<"matmul", "inferMatMul"> {
  let summary = "numpy-style matrix product with batch broadcasting";
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def Sparq_GemmOp : Sparq_InferredOp<"gemm", "inferGemm"> {
  let summary = "alpha * op(A) * op(B) + beta * C";
  let arguments = (ins AnyRankedTensor:$a, AnyRankedTensor:$b,
                       Optional<AnyRankedTensor>:$c,
                       DefaultValuedAttr<F32Attr, "1.0">:$alpha,
                       DefaultValuedAttr<F32Attr, "1.0">:$beta,
                       DefaultValuedAttr<BoolAttr, "false">:$trans_a,
                       DefaultValuedAttr<BoolAttr, "false">:$trans_b);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat =
      "$a `,` $b (`,` $c^)? attr-dict `:` functional-type(operands, results)";
}

def Sparq_ConvOp : Sparq_InferredOp<"conv", "inferConv"> {
  let summary = "N-d convolution (NCHW) with explicit padding";
  let description = [{
    `pads` holds the begin paddings of every spatial dim followed by the end
    paddings, as in ONNX; `auto_pad` is resolved by the importer.
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$weight,
                       Optional<AnyRankedTensor>:$bias,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<I64Attr, "1">:$group);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `,` $weight (`,` $bias^)? attr-dict `:` "
                       "functional-type(operands, results)";
}

// Quantization ----------------------------------------------------------------
//
// ONNX's quantized ops, computed exactly: round half to even, saturation to
// the integer type, integer accumulation. A scale or zero point holds one
// element (per-tensor), is a 1-D tensor along one dim (per-axis, per-row or
// per-column as each op says), or for quantize/dequantize_linear is blocked.
// The importer materializes absent zero points as constant zeros, so every
// op takes all of its operands.

def Sparq_QuantizeLinearOp
    : Sparq_InferredOp<"quantize_linear", "inferQuantizeLinear"> {
  let summary = "saturate(round_half_to_even(input / scale) + zero_point)";
  let description = [{
    `scale` and `zero_point` are per-tensor, 1-D along the non-negative
    `axis` of `input`, or, when `block_size` > 0, blocked (ONNX opset 21):
    they have `input`'s rank, their `axis` dim is ceil(d / block_size) and
    every other dim equals `input`'s, so element i along the axis uses
    parameter i / block_size. The result has `zero_point`'s element type:
    an integer of 2, 4, 8 or 16 bits (signless = signed, or unsigned), or a
    float8/float4 type (f8E4M3FN, f8E5M2, f4E2M1FN: the result is
    x / scale + zero_point rounded to nearest even; `saturate` clamps values
    past the largest finite one to it instead of giving NaN (e4m3fn) or inf
    (e5m2); float4 always saturates). `input` and `scale` share one float
    element type.
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$scale,
                       AnyRankedTensor:$zero_point,
                       DefaultValuedAttr<I64Attr, "1">:$axis,
                       DefaultValuedAttr<I64Attr, "0">:$block_size,
                       DefaultValuedAttr<BoolAttr, "true">:$saturate);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `,` $scale `,` $zero_point attr-dict `:` "
                       "functional-type(operands, results)";
}

def Sparq_DequantizeLinearOp
    : Sparq_InferredOp<"dequantize_linear", "inferDequantizeLinear"> {
  let summary = "(input - zero_point) * scale";
  let description = [{
    `scale` and `zero_point` are per-tensor, 1-D along the non-negative
    `axis` of `input`, or blocked along it when `block_size` > 0 (see
    `sparq.quantize_linear`). `input` is an integer of 2, 4, 8, 16 or 32
    bits or a float8/float4 type (f8E4M3FN, f8E5M2, f4E2M1FN); `zero_point`
    has `input`'s element type and the result has `scale`'s float element
    type.
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$scale,
                       AnyRankedTensor:$zero_point,
                       DefaultValuedAttr<I64Attr, "1">:$axis,
                       DefaultValuedAttr<I64Attr, "0">:$block_size);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `,` $scale `,` $zero_point attr-dict `:` "
                       "functional-type(operands, results)";
}

def Sparq_DynamicQuantizeLinearOp
    : Sparq_InferredOp<"dynamic_quantize_linear",
                       "inferDynamicQuantizeLinear"> {
  let summary = "uint8 quantization with a scale and zero point from the data";
  let description = [{
    scale = (max(0, max(x)) - min(0, min(x))) / 255, zero_point =
    saturate(round_half_to_even(-min(0, min(x)) / scale)), result =
    saturate(round_half_to_even(x / scale) + zero_point), as ONNX's
    DynamicQuantizeLinear. `input` is f32; scale and zero point are rank 0.
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result, AnyRankedTensor:$scale,
                      AnyRankedTensor:$zero_point);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Sparq_MatMulIntegerOp
    : Sparq_InferredOp<"matmul_integer", "inferMatMulInteger"> {
  let summary = "(lhs - lhs_zero_point) * (rhs - rhs_zero_point), i32 result";
  let description = [{
    Numpy matmul of 8-bit integers accumulated in i32. `lhs_zero_point` is
    per-tensor; `rhs_zero_point` is per-tensor or per-column (N elements).
  }];
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs,
                       AnyRankedTensor:$lhs_zero_point,
                       AnyRankedTensor:$rhs_zero_point);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs `,` $lhs_zero_point `,` $rhs_zero_point "
                       "attr-dict `:` functional-type(operands, results)";
}

def Sparq_ConvIntegerOp
    : Sparq_InferredOp<"conv_integer", "inferConvInteger"> {
  let summary = "conv of (input - input_zero_point) and (weight - "
                "weight_zero_point), i32 result";
  let description = [{
    Like `sparq.conv` on 8-bit integers accumulated in i32. Padding reads the
    input's zero point. `input_zero_point` is per-tensor; `weight_zero_point`
    is per-tensor or per output channel.
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$weight,
                       AnyRankedTensor:$input_zero_point,
                       AnyRankedTensor:$weight_zero_point,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<I64Attr, "1">:$group);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `,` $weight `,` $input_zero_point `,` "
                       "$weight_zero_point attr-dict `:` "
                       "functional-type(operands, results)";
}

def Sparq_QLinearMatMulOp
    : Sparq_InferredOp<"qlinear_matmul", "inferQLinearMatMul"> {
  let summary = "quantized matmul with requantization";
  let description = [{
    acc = matmul_integer(lhs, rhs) in i32, then result =
    saturate(round_half_to_even(acc * (lhs_scale * rhs_scale / result_scale))
    + result_zero_point) with the multiplier computed in f32. `lhs` and
    `result` parameters are per-tensor; `rhs` ones per-tensor or per-column.
  }];
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$lhs_scale,
                       AnyRankedTensor:$lhs_zero_point, AnyRankedTensor:$rhs,
                       AnyRankedTensor:$rhs_scale,
                       AnyRankedTensor:$rhs_zero_point,
                       AnyRankedTensor:$result_scale,
                       AnyRankedTensor:$result_zero_point);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$lhs `,` $lhs_scale `,` $lhs_zero_point `,` $rhs `,` "
                       "$rhs_scale `,` $rhs_zero_point `,` $result_scale `,` "
                       "$result_zero_point attr-dict `:` "
                       "functional-type(operands, results)";
}

def Sparq_QLinearConvOp
    : Sparq_InferredOp<"qlinear_conv", "inferQLinearConv"> {
  let summary = "quantized convolution with an i32 bias and requantization";
  let description = [{
    acc = conv_integer(input, weight) + bias in i32, then requantized as
    `sparq.qlinear_matmul` does. `weight_scale` and `weight_zero_point` are
    per-tensor or per output channel; the rest are per-tensor.
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$input_scale,
                       AnyRankedTensor:$input_zero_point,
                       AnyRankedTensor:$weight, AnyRankedTensor:$weight_scale,
                       AnyRankedTensor:$weight_zero_point,
                       AnyRankedTensor:$result_scale,
                       AnyRankedTensor:$result_zero_point,
                       Optional<AnyRankedTensor>:$bias,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<I64Attr, "1">:$group);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `,` $input_scale `,` $input_zero_point `,` "
                       "$weight `,` $weight_scale `,` $weight_zero_point `,` "
                       "$result_scale `,` $result_zero_point "
                       "(`bias` $bias^)? attr-dict `:` "
                       "functional-type(operands, results)";
}

def Sparq_MatMulNBitsOp
    : Sparq_InferredOp<"matmul_nbits", "inferMatMulNBits",
                       [AttrSizedOperandSegments]> {
  let summary = "weight-only low-bit matmul: a * dequant(b)^T + bias";
  let description = [{
    com.microsoft MatMulNBits: `a` is f32 [..., k], the result f32 [..., n].
    `b` is ui8 [n, nBlocks, blobSize] with nBlocks = ceil(k / block_size)
    and blobSize = block_size * bits / 8: row j of the weight, block by
    block, 4-bit values two per byte with the even element in the low
    nibble. `scales` is f32 [n, nBlocks] (or flat [n * nBlocks]).
    `zero_points` is ui8, packed like `b` per row: [n, ceil(nBlocks * bits /
    8)] (or flat); absent means 2^(bits - 1). dequant(b)[j, i] =
    (q - zero) * scale of block i / block_size. `bias` is f32 [n]. Elements
    of the last block past k are ignored. Lowered to the runtime's
    sparq_uk_matmul_nbits_f32, which takes exactly this layout.
  }];
  let arguments = (ins AnyRankedTensor:$a, AnyRankedTensor:$b,
                       AnyRankedTensor:$scales,
                       Optional<AnyRankedTensor>:$zero_points,
                       Optional<AnyRankedTensor>:$bias,
                       I64Attr:$k, I64Attr:$n, I64Attr:$bits,
                       I64Attr:$block_size);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$a `,` $b `,` $scales (`zero_points` $zero_points^)? "
                       "(`bias` $bias^)? attr-dict `:` "
                       "functional-type(operands, results)";
}

// Kernel-level ops ------------------------------------------------------------

def Sparq_FusedConvOp : Sparq_InferredOp<"fused_conv", "inferFusedConv",
                                         [AttrSizedOperandSegments]> {
  let summary = "2-d convolution kernel with a fused epilogue";
  let description = [{
    Computes `activation(conv(input, weight) + bias + residual)`. Formed by
    `sparq-fuse-epilogues`; one op becomes one kernel.
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$weight,
                       Optional<AnyRankedTensor>:$bias,
                       Optional<AnyRankedTensor>:$residual,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<I64Attr, "1">:$group,
                       DefaultValuedAttr<Sparq_ActivationAttr,
                                         "::sparq::Activation::None">:$activation,
                       DefaultValuedAttr<F32Attr, "0.0">:$act_alpha,
                       DefaultValuedAttr<F32Attr, "0.0">:$act_beta);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `,` $weight (`bias` $bias^)? "
                       "(`residual` $residual^)? attr-dict `:` "
                       "functional-type(operands, results)";
}

def Sparq_FusedMatMulOp : Sparq_InferredOp<"fused_matmul", "inferFusedMatMul",
                                           [AttrSizedOperandSegments]> {
  let summary = "matrix product kernel with a fused epilogue";
  let description = [{
    Computes `activation(lhs * op(rhs) + bias + residual)` where `op` is a
    transpose of the last two dims when `trans_b` is set. `lhs` is [..., M, K];
    `rhs` is [..., K, N] (or [..., N, K]) and broadcasts over batch dims;
    `bias` has N elements.
  }];
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs,
                       Optional<AnyRankedTensor>:$bias,
                       Optional<AnyRankedTensor>:$residual,
                       DefaultValuedAttr<BoolAttr, "false">:$trans_b,
                       DefaultValuedAttr<Sparq_ActivationAttr,
                                         "::sparq::Activation::None">:$activation,
                       DefaultValuedAttr<F32Attr, "0.0">:$act_alpha,
                       DefaultValuedAttr<F32Attr, "0.0">:$act_beta);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs (`bias` $bias^)? "
                       "(`residual` $residual^)? attr-dict `:` "
                       "functional-type(operands, results)";
}

def Sparq_AttentionOp : Sparq_Op<"attention", [Pure, AttrSizedOperandSegments]> {
  let summary = "scaled dot-product attention over heads, fused";
  let description = [{
    Multi-head attention in the layout the projections produce, so that no
    head transpose is materialized: `query` is [B, S, H, D], `key` and
    `value` are [B, T, H, D], the result is [B, S, H, D]. For each batch b
    and head h:
      scores[s, t] = scale * sum_d query[b, s, h, d] * key[b, t, h, d]
      scores[s, t] += add_mask[b, h, s, t]                 (when given)
      scores[s, t] = fill_mask[b, h, s, t] ? fill : scores  (when given)
      result[b, s, h, :] = sum_t softmax_t(scores[s, :])[t] * value[b, t, h, :]
    Both masks are rank 4 with every dim 1 (broadcast) or the full size;
    `add_mask` is f32, `fill_mask` i1. Formed by sparq-fuse-attention from the
    transpose / matmul / scale / mask / softmax / matmul / transpose chain
    that exporters write.
  }];
  let arguments = (ins AnyRankedTensor:$query, AnyRankedTensor:$key,
                       AnyRankedTensor:$value,
                       Optional<AnyRankedTensor>:$add_mask,
                       Optional<AnyRankedTensor>:$fill_mask,
                       F32Attr:$scale,
                       DefaultValuedAttr<F32Attr, "0.0">:$fill);
  let results = (outs AnyRankedTensor:$result);
  let hasVerifier = 1;
  let assemblyFormat = "$query `,` $key `,` $value (`add_mask` $add_mask^)? "
                       "(`fill_mask` $fill_mask^)? attr-dict `:` "
                       "functional-type(operands, results)";
}

def Sparq_SparseMatMulOp : Sparq_Op<"sparse_matmul",
                                     [Pure, AttrSizedOperandSegments]> {
  let summary = "matrix product with a packed sparse weight and a fused epilogue";
  let description = [{
    Computes `activation(lhs * W^T + bias + residual)` where W is a
    `rows x cols` weight (rows = output features) packed at compile time in
    the layout of sparq_sparse_format.h; `encoding` records the pattern and
    its measured density. `lhs` is [..., cols]; the result is [..., rows].
    Formed by `sparq-pack-sparse-weights`.
  }];
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$packed_weight,
                       Optional<AnyRankedTensor>:$bias,
                       Optional<AnyRankedTensor>:$residual,
                       Sparq_SparsityAttr:$encoding, I64Attr:$rows,
                       I64Attr:$cols,
                       DefaultValuedAttr<Sparq_ActivationAttr,
                                         "::sparq::Activation::None">:$activation,
                       DefaultValuedAttr<F32Attr, "0.0">:$act_alpha,
                       DefaultValuedAttr<F32Attr, "0.0">:$act_beta);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$lhs `,` $packed_weight (`bias` $bias^)? "
                       "(`residual` $residual^)? attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

def Sparq_SparseConvOp : Sparq_Op<"sparse_conv",
                                  [Pure, AttrSizedOperandSegments]> {
  let summary = "2-d convolution with a packed sparse weight and a fused epilogue";
  let description = [{
    Like `sparq.fused_conv` (groups == 1) with the [K, C, KH, KW] weight
    packed as a sparse `rows = K` x `cols = C*KH*KW` matrix.
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$packed_weight,
                       Optional<AnyRankedTensor>:$bias,
                       Optional<AnyRankedTensor>:$residual,
                       Sparq_SparsityAttr:$encoding, I64Attr:$rows,
                       DenseI64ArrayAttr:$kernel_shape,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<Sparq_ActivationAttr,
                                         "::sparq::Activation::None">:$activation,
                       DefaultValuedAttr<F32Attr, "0.0">:$act_alpha,
                       DefaultValuedAttr<F32Attr, "0.0">:$act_beta);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `,` $packed_weight (`bias` $bias^)? "
                       "(`residual` $residual^)? attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

// Pooling and normalization ---------------------------------------------------

def Sparq_MaxPoolOp : Sparq_InferredOp<"max_pool", "inferPool"> {
  let summary = "max pooling (NCHW)";
  let arguments = (ins AnyRankedTensor:$input,
                       DenseI64ArrayAttr:$kernel_shape, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<BoolAttr, "false">:$ceil_mode);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Sparq_AveragePoolOp : Sparq_InferredOp<"average_pool", "inferPool"> {
  let summary = "average pooling (NCHW)";
  let arguments = (ins AnyRankedTensor:$input,
                       DenseI64ArrayAttr:$kernel_shape, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
                       DefaultValuedAttr<BoolAttr, "false">:$count_include_pad);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Sparq_GlobalAveragePoolOp
    : Sparq_InferredOp<"global_average_pool", "inferGlobalPool"> {
  let summary = "mean over all spatial dims, keeping them as size 1";
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Sparq_GlobalMaxPoolOp
    : Sparq_InferredOp<"global_max_pool", "inferGlobalPool"> {
  let summary = "max over all spatial dims, keeping them as size 1";
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Sparq_BatchNormOp : Sparq_InferredOp<"batch_norm", "inferSameAsFirstOperand"> {
  let summary = "inference-mode batch normalization over dim 1";
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$scale,
                       AnyRankedTensor:$bias, AnyRankedTensor:$mean,
                       AnyRankedTensor:$variance,
                       DefaultValuedAttr<F32Attr, "1e-5">:$epsilon);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `,` $scale `,` $bias `,` $mean `,` $variance "
                       "attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Sparq_LayerNormOp : Sparq_InferredOp<"layer_norm", "inferSameAsFirstOperand"> {
  let summary = "layer normalization over dims [axis, rank)";
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$scale,
                       Optional<AnyRankedTensor>:$bias,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       DefaultValuedAttr<F32Attr, "1e-5">:$epsilon);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `,` $scale (`,` $bias^)? attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

def Sparq_SoftmaxOp : Sparq_InferredOp<"softmax", "inferSameAsFirstOperand"> {
  let summary = "softmax along one axis (opset 13 semantics)";
  let arguments = (ins AnyRankedTensor:$input,
                       DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Sparq_LogSoftmaxOp : Sparq_InferredOp<"log_softmax", "inferSameAsFirstOperand"> {
  let summary = "log-softmax along one axis (opset 13 semantics)";
  let arguments = (ins AnyRankedTensor:$input,
                       DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

// Reductions ------------------------------------------------------------------

class Sparq_ReduceOp<string mnemonic>
    : Sparq_InferredOp<mnemonic, "inferReduce"> {
  let summary = mnemonic # " over the listed axes";
  let description = [{
    `axes` are non-negative and sorted; the importer resolves ONNX's empty
    axes and `noop_with_empty_axes`.
  }];
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$axes,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Sparq_ReduceSumOp : Sparq_ReduceOp<"reduce_sum">;
def Sparq_ReduceMeanOp : Sparq_ReduceOp<"reduce_mean">;
def Sparq_ReduceMaxOp : Sparq_ReduceOp<"reduce_max">;
def Sparq_ReduceMinOp : Sparq_ReduceOp<"reduce_min">;
def Sparq_ReduceProdOp : Sparq_ReduceOp<"reduce_prod">;
def Sparq_ReduceSumSquareOp : Sparq_ReduceOp<"reduce_sum_square">;
def Sparq_ReduceL1Op : Sparq_ReduceOp<"reduce_l1">;
def Sparq_ReduceL2Op : Sparq_ReduceOp<"reduce_l2">;
def Sparq_ReduceLogSumExpOp : Sparq_ReduceOp<"reduce_log_sum_exp">;

class Sparq_ArgReduceOp<string mnemonic>
    : Sparq_InferredOp<mnemonic, "inferArgReduce"> {
  let summary = mnemonic # " index along one axis (int64 result)";
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims,
                       DefaultValuedAttr<BoolAttr, "false">:$select_last_index);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}
def Sparq_ArgMaxOp : Sparq_ArgReduceOp<"arg_max">;
def Sparq_ArgMinOp : Sparq_ArgReduceOp<"arg_min">;

// Data movement ---------------------------------------------------------------

def Sparq_ReshapeOp : Sparq_Op<"reshape", [Pure]> {
  let summary = "reshape to the result type (ONNX Reshape/Flatten/Squeeze/Unsqueeze)";
  let description = [{
    The importer resolves ONNX's shape operand (0 and -1 entries) into the
    result type; the verifier checks element counts where they are static.
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Sparq_TransposeOp : Sparq_InferredOp<"transpose", "inferTranspose"> {
  let summary = "permute dimensions";
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

def Sparq_ConcatOp : Sparq_InferredOp<"concat", "inferConcat"> {
  let summary = "concatenate along a non-negative axis";
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs, I64Attr:$axis);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, results)";
  let hasFolder = 1;
}

def Sparq_SliceOp : Sparq_InferredOp<"slice", "inferSlice"> {
  let summary = "strided slice with one normalized start/end/step per dim";
  let description = [{
    `starts` are clamped, in-range indices; `ends` are clamped (and may be -1
    for a negative step running to the front); `steps` are non-zero. The
    importer normalizes ONNX's axes, negative indices and clamping.
  }];
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$starts,
                       DenseI64ArrayAttr:$ends, DenseI64ArrayAttr:$steps);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

def Sparq_GatherOp : Sparq_InferredOp<"gather", "inferGather"> {
  let summary = "ONNX Gather along a non-negative axis (negative indices wrap)";
  let arguments = (ins AnyRankedTensor:$data, AnyRankedTensor:$indices,
                       I64Attr:$axis);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat =
      "$data `,` $indices attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Sparq_ExpandOp : Sparq_Op<"expand", [Pure]> {
  let summary = "broadcast to the result type (ONNX Expand, Tile-free)";
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Sparq_TileOp : Sparq_InferredOp<"tile", "inferTile"> {
  let summary = "repeat the input along each dim";
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$repeats);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Sparq_ShapeOp : Sparq_InferredOp<"shape", "inferShape"> {
  let summary = "the input's shape as int64, dims [start, end)";
  let arguments = (ins AnyRankedTensor:$input,
                       DefaultValuedAttr<I64Attr, "0">:$start,
                       OptionalAttr<I64Attr>:$end);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

def Sparq_PadOp : Sparq_InferredOp<"pad", "inferPad"> {
  let summary = "pad with a constant, reflected or edge values";
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$pads,
                       DefaultValuedAttr<StrAttr, "\"constant\"">:$mode,
                       DefaultValuedAttr<F64Attr, "0.0">:$value);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Sparq_TriluOp : Sparq_InferredOp<"trilu", "inferSameAsFirstOperand"> {
  let summary = "keep the upper or lower triangle of the last two dims";
  let arguments = (ins AnyRankedTensor:$input,
                       DefaultValuedAttr<BoolAttr, "true">:$upper,
                       DefaultValuedAttr<I64Attr, "0">:$k);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

include "SparqQuantKernelOps.td"

#endif // SPARQ_OPS_TD
