//===- Registration.h - register everything sparq uses -------*- C++ -*-===//
//
// One place that registers sparq's dialects, passes and pipelines together
// with the upstream ones they lower through; used by every tool.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_PIPELINES_REGISTRATION_H
#define SPARQ_PIPELINES_REGISTRATION_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace sparq {

/// Adds the sparq dialect, the upstream dialects the pipelines produce and
/// their interface implementations (bufferization, inlining, LLVM IR
/// translation) to `registry`.
void registerAllDialects(mlir::DialectRegistry &registry);

/// Registers sparq's passes and pipelines and the upstream passes.
void registerAllPasses();

} // namespace sparq

#endif // SPARQ_PIPELINES_REGISTRATION_H
