//===- SparqQuantKernelOps.td - integer kernel ops ------------*- tablegen -*-===//
//
// Kernel-level integer ops formed by sparq-qdq-to-integer and lowered to the
// runtime's int8 kernels (sparq_uk_qmatmul_i8, sparq_uk_qconv2d_i8). Included
// by SparqOps.td.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_QUANT_KERNEL_OPS_TD
#define SPARQ_QUANT_KERNEL_OPS_TD

// The epilogue both ops share. With acc = sum (x - x_zero) * (w - w_zero) in
// i32 (no saturation) and bias the optional i32 `bias` (0 when absent), the
// result element type selects what is written:
//   i32:      acc + bias;
//   f32:      act(f32(acc + bias) * scale[n] + bias_f32[n]);
//   ui8 / i8: clamp(round_half_to_even(f32(acc + bias) * scale[n])
//             + out_zero_point, qmin, qmax), the product in f32.
// `scale` and `bias_f32` hold one element or one per output channel (conv)
// or column (matmul). qmin/qmax default to the storage range; a fused
// Relu/Clip narrows them. `activation` applies to f32 results only.
class Sparq_QuantKernelOp<string mnemonic>
    : Sparq_Op<mnemonic, [Pure, AttrSizedOperandSegments]> {
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The runtime's SPARQ_QOUT_* kind of the result element type.
    int64_t getOutKind();
    /// qmin / qmax, defaulted to the storage range of the result type.
    int64_t getQMinOrDefault();
    int64_t getQMaxOrDefault();
  }];
}

def Sparq_QConvOp : Sparq_QuantKernelOp<"qconv"> {
  let summary = "integer 2-d convolution kernel (NCHW) with a requantizing "
                "epilogue";
  let description = [{
    `input` [N, C, H, W] and `weight` [K, C/group, KH, KW] are 8-bit
    integers (i8 or ui8); `input_zero_point` holds one element of `input`'s
    type, `weight_zero_point` one or K of `weight`'s type. Padding
    contributes 0 to acc (it reads the input's zero point). The result is
    [N, K, OH, OW]; see the epilogue above.
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$weight,
                       AnyRankedTensor:$input_zero_point,
                       AnyRankedTensor:$weight_zero_point,
                       Optional<AnyRankedTensor>:$scale,
                       Optional<AnyRankedTensor>:$bias,
                       Optional<AnyRankedTensor>:$bias_f32,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<I64Attr, "1">:$group,
                       DefaultValuedAttr<I64Attr, "0">:$out_zero_point,
                       OptionalAttr<I64Attr>:$qmin,
                       OptionalAttr<I64Attr>:$qmax,
                       DefaultValuedAttr<Sparq_ActivationAttr,
                                         "::sparq::Activation::None">:$activation,
                       DefaultValuedAttr<F32Attr, "0.0">:$act_alpha,
                       DefaultValuedAttr<F32Attr, "0.0">:$act_beta);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `,` $weight `,` $input_zero_point `,` "
                       "$weight_zero_point (`scale` $scale^)? "
                       "(`bias` $bias^)? (`bias_f32` $bias_f32^)? attr-dict "
                       "`:` functional-type(operands, results)";
}

def Sparq_QMatMulOp : Sparq_QuantKernelOp<"qmatmul"> {
  let summary = "integer matrix product kernel with a requantizing epilogue";
  let description = [{
    `lhs` [..., M, K] and `rhs` [..., K, N] (or [..., N, K] when `trans_b`)
    are 8-bit integers (i8 or ui8) with numpy batch broadcasting;
    `lhs_zero_point` holds one element of `lhs`'s type, `rhs_zero_point` one
    or N of `rhs`'s type. The result is [..., M, N]; see the epilogue above.
  }];
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs,
                       AnyRankedTensor:$lhs_zero_point,
                       AnyRankedTensor:$rhs_zero_point,
                       Optional<AnyRankedTensor>:$scale,
                       Optional<AnyRankedTensor>:$bias,
                       Optional<AnyRankedTensor>:$bias_f32,
                       DefaultValuedAttr<BoolAttr, "false">:$trans_b,
                       DefaultValuedAttr<I64Attr, "0">:$out_zero_point,
                       OptionalAttr<I64Attr>:$qmin,
                       OptionalAttr<I64Attr>:$qmax,
                       DefaultValuedAttr<Sparq_ActivationAttr,
                                         "::sparq::Activation::None">:$activation,
                       DefaultValuedAttr<F32Attr, "0.0">:$act_alpha,
                       DefaultValuedAttr<F32Attr, "0.0">:$act_beta);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs `,` $lhs_zero_point `,` "
                       "$rhs_zero_point (`scale` $scale^)? (`bias` $bias^)? "
                       "(`bias_f32` $bias_f32^)? attr-dict `:` "
                       "functional-type(operands, results)";
}

def Sparq_SparseQMatMulOp : Sparq_QuantKernelOp<"sparse_qmatmul"> {
  let summary = "integer matrix product with a packed sparse int8 weight";
  let description = [{
    acc = sum_k (lhs - lhs_zero_point) * W[n][k] for W, a `rows` x `cols`
    symmetric i8 weight (zero point 0; rows = output columns) packed at
    compile time as SPARQ_SPARSE_BLOCK_I8 (1 x 4 blocks along cols plus row
    sums; sparq_sparse_format.h) in the 1-d i8 `packed_weight`. `lhs` is an
    8-bit [..., cols] with one zero point; the result is [..., rows]; see
    the epilogue above. `encoding` records the pattern and its measured
    density. Formed by `sparq-sparse-int8`, lowered to
    sparq_uk_sparse_qmatmul_i8.
  }];
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$packed_weight,
                       AnyRankedTensor:$lhs_zero_point,
                       Optional<AnyRankedTensor>:$scale,
                       Optional<AnyRankedTensor>:$bias,
                       Optional<AnyRankedTensor>:$bias_f32,
                       Sparq_SparsityAttr:$encoding, I64Attr:$rows,
                       I64Attr:$cols,
                       DefaultValuedAttr<I64Attr, "0">:$out_zero_point,
                       OptionalAttr<I64Attr>:$qmin,
                       OptionalAttr<I64Attr>:$qmax,
                       DefaultValuedAttr<Sparq_ActivationAttr,
                                         "::sparq::Activation::None">:$activation,
                       DefaultValuedAttr<F32Attr, "0.0">:$act_alpha,
                       DefaultValuedAttr<F32Attr, "0.0">:$act_beta);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$lhs `,` $packed_weight `,` $lhs_zero_point "
                       "(`scale` $scale^)? (`bias` $bias^)? "
                       "(`bias_f32` $bias_f32^)? attr-dict `:` "
                       "functional-type(operands, results)";
}

def Sparq_SparseQConvOp : Sparq_QuantKernelOp<"sparse_qconv"> {
  let summary = "integer 1x1 convolution with a packed sparse int8 weight";
  let description = [{
    A `sparq.qconv` with a 1 x 1 kernel, one group and no padding whose
    [rows, C, 1, 1] symmetric i8 weight (zero point 0) is packed like
    `sparq.sparse_qmatmul`'s (cols = C). `input` is [N, C, H, W] 8-bit with
    one zero point; the result is [N, rows, OH, OW] with OH = (H - 1) /
    strides[0] + 1 (likewise OW); see the epilogue above. Formed by
    `sparq-sparse-int8`, lowered to sparq_uk_sparse_qconv2d_i8.
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$packed_weight,
                       AnyRankedTensor:$input_zero_point,
                       Optional<AnyRankedTensor>:$scale,
                       Optional<AnyRankedTensor>:$bias,
                       Optional<AnyRankedTensor>:$bias_f32,
                       Sparq_SparsityAttr:$encoding, I64Attr:$rows,
                       DenseI64ArrayAttr:$strides,
                       DefaultValuedAttr<I64Attr, "0">:$out_zero_point,
                       OptionalAttr<I64Attr>:$qmin,
                       OptionalAttr<I64Attr>:$qmax,
                       DefaultValuedAttr<Sparq_ActivationAttr,
                                         "::sparq::Activation::None">:$activation,
                       DefaultValuedAttr<F32Attr, "0.0">:$act_alpha,
                       DefaultValuedAttr<F32Attr, "0.0">:$act_beta);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `,` $packed_weight `,` $input_zero_point "
                       "(`scale` $scale^)? (`bias` $bias^)? "
                       "(`bias_f32` $bias_f32^)? attr-dict `:` "
                       "functional-type(operands, results)";
}

def Sparq_QAddOp : Sparq_Op<"qadd", [Pure]> {
  let summary = "elementwise add of two 8-bit tensors, requantized";
  let description = [{
    The dequantize -> add -> quantize group of QDQ models (a residual add)
    on 8-bit values, with per-tensor parameters: for each element,
      a = f32(lhs - lhs_zero_point) * lhs_scale,
      b = f32(rhs - rhs_zero_point) * rhs_scale,
      result = clamp(round_half_to_even((a + b) / out_scale)
                     + out_zero_point, qmin, qmax),
    each step in f32 as written, i.e. exactly what the three ops compute.
    `lhs`, `rhs` and the result have the same static shape and the same
    8-bit element type; qmin/qmax default to the storage range (a fused
    Relu/Clip narrows them). Formed by sparq-qdq-to-integer, lowered to
    sparq_uk_qadd_i8.
  }];
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs,
                       F32Attr:$lhs_scale, I64Attr:$lhs_zero_point,
                       F32Attr:$rhs_scale, I64Attr:$rhs_zero_point,
                       F32Attr:$out_scale, I64Attr:$out_zero_point,
                       OptionalAttr<I64Attr>:$qmin,
                       OptionalAttr<I64Attr>:$qmax);
  let results = (outs AnyRankedTensor:$result);
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// qmin / qmax, defaulted to the storage range of the result type.
    int64_t getQMinOrDefault();
    int64_t getQMaxOrDefault();
  }];
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` "
                       "functional-type(operands, results)";
}

#endif // SPARQ_QUANT_KERNEL_OPS_TD
