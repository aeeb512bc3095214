//===- Registration.cpp - register everything sparq uses ------------------===//
//
// Dialects, interface models and passes that sparq's tools need, in one place.
//
//===----------------------------------------------------------------------===//

#include "sparq/Pipelines/Registration.h"

#include "sparq/Conversion/Passes.h"
#include "sparq/Dialect/Sparq/IR/Sparq.h"
#include "sparq/Dialect/Sparq/Transforms/Passes.h"
#include "sparq/Pipelines/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"

void sparq::registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<SparqDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
}

void sparq::registerAllPasses() {
  mlir::registerAllPasses();
  registerSparqTransformsPasses();
  registerSparqConversionPasses();
  registerPipelines();
}
