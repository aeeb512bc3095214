//===- QuantKernelCalls.cpp - (being implemented) -------------------------===//

#include "KernelCallBuilder.h"

using namespace mlir;

void sparq::lowering::populateQuantKernelCallPatterns(
    TypeConverter &typeConverter, RewritePatternSet &patterns) {}
