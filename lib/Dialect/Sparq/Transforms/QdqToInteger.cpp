//===- QdqToInteger.cpp - (being implemented) -----------------------------------===//

#include "sparq/Dialect/Sparq/Transforms/Passes.h"

namespace sparq {
#define GEN_PASS_DEF_SPARQQDQTOINTEGERPASS
#include "sparq/Dialect/Sparq/Transforms/Passes.h.inc"
} // namespace sparq

using namespace mlir;

namespace {
struct QdqToIntegerPass : sparq::impl::SparqQdqToIntegerPassBase<QdqToIntegerPass> {
  using Base::Base;
  void runOnOperation() override {}
};
} // namespace
