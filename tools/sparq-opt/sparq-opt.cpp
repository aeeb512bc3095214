//===- sparq-opt.cpp - sparq pass driver ----------------------------------===//
//
// The *-opt driver of sparq: every sparq dialect, pass and pipeline plus the
// upstream dialects and passes they lower through are registered, so lit
// tests and `--pass-pipeline=...` reproduce exactly what sparq-compile runs.
//
//===----------------------------------------------------------------------===//

#include "sparq/Pipelines/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  sparq::registerAllDialects(registry);
  sparq::registerAllPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "sparq optimizer driver\n", registry));
}
