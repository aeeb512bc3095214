//===- Passes.h - sparq conversion passes ---------------------*- C++ -*-===//
//
// Declarations and registration of the conversions out of sparq.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_CONVERSION_PASSES_H
#define SPARQ_CONVERSION_PASSES_H

#include "sparq/Conversion/SparqToLinalg/SparqToLinalg.h"

namespace sparq {

#define GEN_PASS_REGISTRATION
#include "sparq/Conversion/Passes.h.inc"

} // namespace sparq

#endif // SPARQ_CONVERSION_PASSES_H
