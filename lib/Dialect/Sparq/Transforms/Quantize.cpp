//===- Quantize.cpp - (being implemented) -----------------------------------===//

#include "sparq/Dialect/Sparq/Transforms/Passes.h"

namespace sparq {
#define GEN_PASS_DEF_SPARQQUANTIZEPASS
#include "sparq/Dialect/Sparq/Transforms/Passes.h.inc"
} // namespace sparq

using namespace mlir;

namespace {
struct QuantizePass : sparq::impl::SparqQuantizePassBase<QuantizePass> {
  using Base::Base;
  void runOnOperation() override {}
};
} // namespace
