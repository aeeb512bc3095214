//===- SparqDialect.cpp - sparq dialect registration ----------------------===//
//
// Registers the sparq ops and attributes and materializes folded constants
// as sparq.constant.
//
//===----------------------------------------------------------------------===//

#include "sparq/Dialect/Sparq/IR/Sparq.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace sparq;

#include "sparq/Dialect/Sparq/IR/SparqDialect.cpp.inc"

void SparqDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "sparq/Dialect/Sparq/IR/SparqOps.cpp.inc"
      >();
  registerAttributes();
}

Operation *SparqDialect::materializeConstant(OpBuilder &builder,
                                             Attribute value, Type type,
                                             Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, elements);
}

std::string sparq::getNodeName(Location loc) {
  std::string name;
  loc->walk([&](Location l) {
    if (auto named = dyn_cast<NameLoc>(l)) {
      name = named.getName().str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return name;
}
