//===- SparqAttrs.td - sparq attributes --------------------*- tablegen -*-===//
//
// Attributes of the sparq dialect: the sparsity encoding of weight tensors,
// the quantization descriptor for cases `!quant.uniform` cannot express
// (float8 storage, for instance) and the fused-epilogue activation kind.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_ATTRS_TD
#define SPARQ_ATTRS_TD

include "SparqDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/TensorEncoding.td"

class Sparq_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Sparq_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Sparq_SparsityKind : I32EnumAttr<"SparsityKind",
    "how a weight tensor is stored", [
      I32EnumAttrCase<"Dense", 0, "dense">,
      I32EnumAttrCase<"NM", 1, "nm">,
      I32EnumAttrCase<"Block", 2, "block">,
      I32EnumAttrCase<"Unstructured", 3, "unstructured">
    ]> {
  let cppNamespace = "::sparq";
  let genSpecializedAttr = 0;
}

def Sparq_SparsityAttr : Sparq_Attr<"Sparsity", "sparsity",
    [DeclareAttrInterfaceMethods<VerifiableTensorEncoding>]> {
  let summary = "sparsity encoding of a weight tensor";
  let description = [{
    Describes the zero pattern of a (usually constant) weight tensor and how
    it is stored:

    ```
    #sparq.sparsity<dense>
    #sparq.sparsity<nm 2:4, axis = 1, density = 0.5>
    #sparq.sparsity<block 4x1, density = 0.2>
    #sparq.sparsity<unstructured, density = 0.1>
    ```

    `nm N:M` means at most N non-zeros in every group of M consecutive
    elements along `axis` (the reduction dimension). `block RxC` means
    non-zeros come in dense R x C blocks over the last two dimensions.
    `density` is the measured fraction of non-zeros (1.0 when unknown).
  }];
  let parameters = (ins
    EnumParameter<Sparq_SparsityKind>:$kind,
    "int64_t":$n,
    "int64_t":$m,
    "int64_t":$blockRows,
    "int64_t":$blockCols,
    "int64_t":$axis,
    APFloatParameter<"measured density">:$density
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    double getDensityValue() const { return getDensity().convertToDouble(); }
    bool isDense() const { return getKind() == ::sparq::SparsityKind::Dense; }
  }];
}

def Sparq_QuantAttr : Sparq_Attr<"Quant", "quant"> {
  let summary = "quantization descriptor for cases !quant.uniform cannot hold";
  let description = [{
    Affine quantization `real = (stored - zero_point) * scale` with storage
    types that MLIR's quant types do not accept (float8 e4m3fn/e5m2), or
    per-group scales along `axis` with `block_size` elements per group.
    `axis = -1` means per-tensor. `scales` holds one value per tensor,
    channel or group; `zero_points`, when present, has the same shape and
    the storage element type.

    ```
    #sparq.quant<storage = f8E4M3FN, expressed = f32, axis = -1,
                 block_size = 0, scales = dense<0.5> : tensor<1xf32>>
    ```
  }];
  let parameters = (ins
    "::mlir::Type":$storage,
    "::mlir::Type":$expressed,
    "int64_t":$axis,
    "int64_t":$block_size,
    "::mlir::DenseElementsAttr":$scales,
    OptionalParameter<"::mlir::DenseElementsAttr">:$zero_points
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Sparq_Activation : I32EnumAttr<"Activation",
    "activation fused into a kernel epilogue", [
      I32EnumAttrCase<"None", 0, "none">,
      I32EnumAttrCase<"Relu", 1, "relu">,
      I32EnumAttrCase<"Clip", 2, "clip">,
      I32EnumAttrCase<"LeakyRelu", 3, "leaky_relu">,
      I32EnumAttrCase<"Sigmoid", 4, "sigmoid">,
      I32EnumAttrCase<"Tanh", 5, "tanh">,
      I32EnumAttrCase<"Gelu", 6, "gelu">,
      I32EnumAttrCase<"GeluTanh", 7, "gelu_tanh">,
      I32EnumAttrCase<"HardSigmoid", 8, "hard_sigmoid">,
      I32EnumAttrCase<"HardSwish", 9, "hard_swish">
    ]> {
  let cppNamespace = "::sparq";
  let genSpecializedAttr = 0;
}

def Sparq_ActivationAttr : EnumAttr<Sparq_Dialect, Sparq_Activation,
                                    "activation"> {
  let assemblyFormat = "`<` $value `>`";
}

#endif // SPARQ_ATTRS_TD
