//===- SparqToLinalg.cpp - Lower sparq ops to linalg and kernel calls -----===//
//
// The convert-sparq-to-linalg pass: the type conversion (uiN tensors become
// signless iN, in function signatures too), the conversion target and the
// assembly of the per-family patterns. The patterns themselves live in one
// file per op family.
//
//===----------------------------------------------------------------------===//

#include "sparq/Conversion/SparqToLinalg/SparqToLinalg.h"
#include "Patterns.h"
#include "sparq/Dialect/Sparq/IR/Sparq.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace sparq {
#define GEN_PASS_DEF_CONVERTSPARQTOLINALGPASS
#include "sparq/Conversion/Passes.h.inc"
} // namespace sparq

using namespace mlir;

namespace {

/// uiN becomes iN, alone or as a tensor element; float8 and float4 (which
/// LLVM cannot hold) become their i8/i4 bits, decoded by the quantization
/// lowering;
/// everything else is kept.
class SignlessTypeConverter : public TypeConverter {
public:
  SignlessTypeConverter() {
    addConversion([](Type type) { return type; });
    addConversion([](IntegerType type) -> Type {
      if (type.isUnsigned())
        return IntegerType::get(type.getContext(), type.getWidth());
      return type;
    });
    addConversion([](FloatType type) -> Type {
      if (isa<Float8E4M3FNType, Float8E5M2Type, Float4E2M1FNType>(type))
        return IntegerType::get(type.getContext(), type.getWidth());
      return type;
    });
    addConversion([this](RankedTensorType type) -> Type {
      Type element = convertType(type.getElementType());
      return RankedTensorType::get(type.getShape(), element);
    });
    auto materialize = [](OpBuilder &b, Type type, ValueRange inputs,
                          Location loc) -> Value {
      return UnrealizedConversionCastOp::create(b, loc, type, inputs)
          .getResult(0);
    };
    addSourceMaterialization(materialize);
    addTargetMaterialization(materialize);
  }
};

/// Rejects sparq ops whose tensors have dynamic dims before anything is
/// rewritten; the compiler pins dims before this lowering.
LogicalResult checkStaticShapes(ModuleOp module) {
  bool failed = false;
  module.walk([&](Operation *op) {
    if (!isa<sparq::SparqDialect>(op->getDialect()))
      return;
    auto isDynamic = [](Type type) {
      auto shaped = dyn_cast<ShapedType>(type);
      return shaped && !shaped.hasStaticShape();
    };
    if (llvm::any_of(op->getOperandTypes(), isDynamic) ||
        llvm::any_of(op->getResultTypes(), isDynamic)) {
      op->emitOpError("dynamic dims are not supported by the CPU lowering");
      failed = true;
    }
  });
  return failure(failed);
}

struct ConvertSparqToLinalgPass
    : sparq::impl::ConvertSparqToLinalgPassBase<ConvertSparqToLinalgPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(checkStaticShapes(module)))
      return signalPassFailure();

    MLIRContext *ctx = &getContext();
    SignlessTypeConverter typeConverter;
    ConversionTarget target(*ctx);
    target.addIllegalDialect<sparq::SparqDialect>();
    target.addLegalDialect<
        arith::ArithDialect, bufferization::BufferizationDialect,
        linalg::LinalgDialect, LLVM::LLVMDialect, math::MathDialect,
        memref::MemRefDialect, scf::SCFDialect, tensor::TensorDialect>();
    target.addLegalOp<ModuleOp>();
    target.addDynamicallyLegalOp<func::FuncOp>([&](func::FuncOp op) {
      return typeConverter.isSignatureLegal(op.getFunctionType()) &&
             typeConverter.isLegal(&op.getBody());
    });
    target.addDynamicallyLegalOp<func::ReturnOp, func::CallOp>(
        [&](Operation *op) { return typeConverter.isLegal(op); });

    // Patterns report definite "unsupported" cases on the op themselves;
    // the driver's generic "failed to legalize" that follows adds nothing.
    bool reported = false;
    ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &diag) {
      if (diag.getSeverity() != DiagnosticSeverity::Error)
        return failure();
      if (reported &&
          StringRef(diag.str()).starts_with("failed to legalize operation"))
        return success();
      reported = true;
      return failure();
    });

    RewritePatternSet patterns(ctx);
    sparq::populateSparqToLinalgPatterns(typeConverter, patterns);
    populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(
        patterns, typeConverter);
    populateReturnOpTypeConversionPattern(patterns, typeConverter);
    populateCallOpTypeConversionPattern(patterns, typeConverter);
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace

void sparq::populateSparqToLinalgPatterns(TypeConverter &typeConverter,
                                          RewritePatternSet &patterns) {
  lowering::populateElementwisePatterns(typeConverter, patterns);
  lowering::populateCastPatterns(typeConverter, patterns);
  lowering::populateReductionPatterns(typeConverter, patterns);
  lowering::populateNormalizationPatterns(typeConverter, patterns);
  lowering::populatePoolingPatterns(typeConverter, patterns);
  lowering::populateContractionPatterns(typeConverter, patterns);
  lowering::populateConvolutionPatterns(typeConverter, patterns);
  lowering::populateKernelCallPatterns(typeConverter, patterns);
  lowering::populateDataMovementPatterns(typeConverter, patterns);
  lowering::populateIndexingPatterns(typeConverter, patterns);
  lowering::populateQuantizationPatterns(typeConverter, patterns);
  lowering::populateQuantKernelCallPatterns(typeConverter, patterns);
}
