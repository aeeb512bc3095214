//===- SparqToLinalg.h - sparq to linalg conversion -----------*- C++ -*-===//
//
// Entry points of the lowering from sparq ops to linalg/tensor/arith plus
// runtime microkernel calls.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_CONVERSION_SPARQTOLINALG_SPARQTOLINALG_H
#define SPARQ_CONVERSION_SPARQTOLINALG_SPARQTOLINALG_H

#include "mlir/Pass/Pass.h"
#include "mlir/Transforms/DialectConversion.h"

namespace sparq {

#define GEN_PASS_DECL_CONVERTSPARQTOLINALGPASS
#include "sparq/Conversion/Passes.h.inc"

/// Adds the patterns lowering every sparq op to `patterns`.
void populateSparqToLinalgPatterns(mlir::TypeConverter &typeConverter,
                                   mlir::RewritePatternSet &patterns);

} // namespace sparq

#endif // SPARQ_CONVERSION_SPARQTOLINALG_SPARQTOLINALG_H
