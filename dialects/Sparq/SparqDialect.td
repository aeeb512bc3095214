//===- SparqDialect.td - sparq dialect definition ----------*- tablegen -*-===//
//
// The sparq dialect models ONNX graphs whose weights may be sparse or
// quantized. Sparsity and quantization live in types and attributes so that
// every pass sees them.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_DIALECT_TD
#define SPARQ_DIALECT_TD

include "mlir/IR/OpBase.td"

def Sparq_Dialect : Dialect {
  let name = "sparq";
  let cppNamespace = "::sparq";
  let summary = "Graph and kernel ops for sparse and quantized neural networks";
  let description = [{
    Graph-level ops follow ONNX semantics (multidirectional broadcasting,
    ONNX attribute meanings) with result types inferred by the ops, including
    dynamic dimensions. Kernel-level ops (`sparq.fused_conv`,
    `sparq.fused_matmul`) are formed by the graph passes and carry a fused
    epilogue; the lowering consumes them.
  }];
  let dependentDialects = ["::mlir::quant::QuantDialect"];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
}

class Sparq_Op<string mnemonic, list<Trait> traits = []>
    : Op<Sparq_Dialect, mnemonic, traits>;

#endif // SPARQ_DIALECT_TD
