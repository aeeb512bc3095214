//===- Patterns.h - sparq to linalg lowering internals --------*- C++ -*-===//
//
// Private declarations shared by the files of the sparq-to-linalg lowering:
// one populate function per op family and the builder helpers the families
// have in common (broadcast maps, element casts, identity values).
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_CONVERSION_SPARQTOLINALG_PATTERNS_H
#define SPARQ_LIB_CONVERSION_SPARQTOLINALG_PATTERNS_H

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Transforms/DialectConversion.h"
#include "sparq/Dialect/Sparq/IR/Sparq.h"

namespace sparq {
namespace lowering {

//===----------------------------------------------------------------------===//
// Op families
//===----------------------------------------------------------------------===//

void populateElementwisePatterns(mlir::TypeConverter &typeConverter,
                                 mlir::RewritePatternSet &patterns);
void populateCastPatterns(mlir::TypeConverter &typeConverter,
                          mlir::RewritePatternSet &patterns);
void populateReductionPatterns(mlir::TypeConverter &typeConverter,
                               mlir::RewritePatternSet &patterns);
void populateNormalizationPatterns(mlir::TypeConverter &typeConverter,
                                   mlir::RewritePatternSet &patterns);
void populatePoolingPatterns(mlir::TypeConverter &typeConverter,
                             mlir::RewritePatternSet &patterns);
void populateContractionPatterns(mlir::TypeConverter &typeConverter,
                                 mlir::RewritePatternSet &patterns);
void populateConvolutionPatterns(mlir::TypeConverter &typeConverter,
                                 mlir::RewritePatternSet &patterns);
void populateKernelCallPatterns(mlir::TypeConverter &typeConverter,
                                mlir::RewritePatternSet &patterns);
void populateDataMovementPatterns(mlir::TypeConverter &typeConverter,
                                  mlir::RewritePatternSet &patterns);
void populateIndexingPatterns(mlir::TypeConverter &typeConverter,
                              mlir::RewritePatternSet &patterns);
void populateQuantizationPatterns(mlir::TypeConverter &typeConverter,
                                  mlir::RewritePatternSet &patterns);
void populateQuantKernelCallPatterns(mlir::TypeConverter &typeConverter,
                                     mlir::RewritePatternSet &patterns);

//===----------------------------------------------------------------------===//
// Shared helpers (BuilderUtils.cpp)
//===----------------------------------------------------------------------===//

/// Element type of a shaped type, or the type itself for scalars.
mlir::Type elementTypeOf(mlir::Type type);

/// True when `type` (or its element type) is an unsigned integer (uiN).
bool isUnsignedInteger(mlir::Type type);

/// The ranked tensor type `type` converts to (uiN elements become iN).
mlir::RankedTensorType convertTensorType(const mlir::TypeConverter &converter,
                                         mlir::Type type);

/// `tensor.empty` of a static type.
mlir::Value createEmptyTensor(mlir::OpBuilder &b, mlir::Location loc,
                              mlir::RankedTensorType type);

/// `linalg.fill` of a fresh tensor with `value`.
mlir::Value createFilledTensor(mlir::OpBuilder &b, mlir::Location loc,
                               mlir::RankedTensorType type, mlir::Value value);

/// Indexing map reading an operand of shape `in` inside a loop nest over the
/// broadcast shape `out` (ONNX multidirectional rules: missing leading dims
/// are dropped, size-1 dims read index 0).
mlir::AffineMap getBroadcastMap(llvm::ArrayRef<int64_t> in,
                                llvm::ArrayRef<int64_t> out,
                                mlir::MLIRContext *ctx);

/// `n` parallel iterators.
llvm::SmallVector<mlir::utils::IteratorType> getParallelIterators(unsigned n);

/// A scalar constant of `type` (float or integer) holding `value`.
mlir::Value createScalarConstant(mlir::OpBuilder &b, mlir::Location loc,
                                 mlir::Type type, double value);

/// An index constant.
mlir::Value createIndexConstant(mlir::OpBuilder &b, mlir::Location loc,
                                int64_t value);

/// The identity of max (lowest value: -inf, INT_MIN, 0 for unsigned) or of
/// min (highest value) for a signless element type with the given
/// signedness.
mlir::Value createLowestValue(mlir::OpBuilder &b, mlir::Location loc,
                              mlir::Type type, bool isUnsigned);
mlir::Value createHighestValue(mlir::OpBuilder &b, mlir::Location loc,
                               mlir::Type type, bool isUnsigned);

/// Converts scalar `value` from element type `srcType` to `dstType` with ONNX
/// Cast semantics. Both types are the original (possibly unsigned) sparq
/// element types; `value` and the result are signless.
mlir::Value castScalar(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::Value value, mlir::Type srcType,
                       mlir::Type dstType);

/// True for f16 and bf16, which are computed in f32.
bool isHalfFloat(mlir::Type type);

/// Extends f16/bf16 to f32; other values are returned unchanged.
mlir::Value promoteHalf(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::Value value);

/// Truncates an f32 value back to `type` when `type` is f16/bf16.
mlir::Value demoteHalf(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::Value value, mlir::Type type);

/// max/min of two scalars; floats propagate NaN.
mlir::Value createMax(mlir::OpBuilder &b, mlir::Location loc, mlir::Value lhs,
                      mlir::Value rhs, bool isUnsigned);
mlir::Value createMin(mlir::OpBuilder &b, mlir::Location loc, mlir::Value lhs,
                      mlir::Value rhs, bool isUnsigned);

/// Builds a parallel linalg.generic computing a tensor of `resultType` from
/// `inputs` read through broadcast maps; `body` maps the scalar block
/// arguments (one per input) to the result scalar.
mlir::Value createBroadcastGeneric(
    mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType resultType,
    mlir::ValueRange inputs,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                   mlir::ValueRange)>
        body);

/// Builds a parallel linalg.generic with no inputs producing `resultType`;
/// `body` gets the loop indices (linalg.index) and returns the element.
mlir::Value createIndexedGeneric(
    mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType resultType,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                   mlir::ValueRange)>
        body);

/// The map of a tensor holding the kept (non-`axes`) dims of a rank-`rank`
/// loop nest.
mlir::AffineMap getReducedMap(int64_t rank, llvm::ArrayRef<int64_t> axes,
                              mlir::MLIRContext *ctx);

/// Reduction iterators on `axes`, parallel elsewhere.
llvm::SmallVector<mlir::utils::IteratorType>
getReductionIterators(int64_t rank, llvm::ArrayRef<int64_t> axes);

/// Reduces `input` over `axes` into a tensor of the kept dims whose element
/// type is `init`'s, starting from `init`. `extra` tensors (of the kept dims)
/// are read alongside; `combine` gets (element, extras..., accumulator) and
/// returns the new accumulator.
mlir::Value
reduceGeneric(mlir::OpBuilder &b, mlir::Location loc, mlir::Value input,
              llvm::ArrayRef<int64_t> axes, mlir::Value init,
              mlir::ValueRange extra,
              llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                             mlir::ValueRange)>
                  combine);

/// `value` padded with the scalar `padValue` (non-negative pads; a
/// gathering generic); returns `value` itself when every pad is 0.
mlir::Value padTensor(mlir::OpBuilder &b, mlir::Location loc, mlir::Value value,
                      llvm::ArrayRef<int64_t> low, llvm::ArrayRef<int64_t> high,
                      mlir::Value padValue);

/// Collapses or expands `value` to `type` (same element count, any static
/// shapes including rank 0) with tensor.collapse_shape/expand_shape.
mlir::Value reshapeTensor(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::Value value, mlir::RankedTensorType type);

//===----------------------------------------------------------------------===//
// Contraction and convolution builders shared by the plain ops, the fused
// kernels' non-f32 fallback and the kernel calls (Contractions.cpp,
// Convolution.cpp)
//===----------------------------------------------------------------------===//

/// lhs [..., M, K] (or [..., K, M] with transA) times rhs [..., K, N] (or
/// [..., N, K] with transB), batch dims broadcast ONNX-style, both ranks
/// >= 2, accumulated into a tensor of `resultType` (f16/bf16 in f32).
mlir::Value buildMatmul(mlir::OpBuilder &b, mlir::Location loc, mlir::Value lhs,
                        mlir::Value rhs, bool transA, bool transB,
                        mlir::RankedTensorType resultType);

/// Numpy matmul of two operands of rank >= 1 (1-D ones are promoted to
/// matrices and the promoted dims dropped again) into `resultType`.
mlir::Value buildNumpyMatmul(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::Value lhs, mlir::Value rhs,
                             mlir::RankedTensorType resultType);

/// Direct N-d convolution (NC[spatial] input, [K, C/group, kernel...]
/// weight) with explicit begin/end pads, strides, dilations and groups.
mlir::Value buildConvolution(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::Value input, mlir::Value weight,
                             llvm::ArrayRef<int64_t> strides,
                             llvm::ArrayRef<int64_t> pads,
                             llvm::ArrayRef<int64_t> dilations, int64_t group,
                             mlir::RankedTensorType resultType);

/// Returns true when the fused activation can be applied to `elementType`.
bool supportsActivation(Activation activation, mlir::Type elementType);

/// act(acc + bias + residual) as one generic; `bias` (optional) is 1-D and
/// indexes result dim `biasDim`; `residual` (optional) has the result shape.
mlir::Value applyEpilogue(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::Value acc, mlir::Value bias, int64_t biasDim,
                          mlir::Value residual, Activation activation,
                          double alpha, double beta,
                          mlir::RankedTensorType resultType);

} // namespace lowering
} // namespace sparq

#endif // SPARQ_LIB_CONVERSION_SPARQTOLINALG_PATTERNS_H
