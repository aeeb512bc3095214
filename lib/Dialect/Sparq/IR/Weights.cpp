//===- Weights.cpp - reading and creating constant weight data ------------===//
//
// Implementation of the weight access helpers used by graph passes.
//
//===----------------------------------------------------------------------===//

#include "sparq/Dialect/Sparq/IR/Weights.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;

/// Resources are used above this many elements.
static constexpr int64_t kResourceThreshold = 4096;

std::optional<SmallVector<float>> sparq::readF32Values(Attribute attr) {
  auto elements = dyn_cast_or_null<ElementsAttr>(attr);
  if (!elements || !elements.getElementType().isF32())
    return std::nullopt;
  int64_t n = elements.getNumElements();
  if (auto dense = dyn_cast<DenseElementsAttr>(elements)) {
    if (dense.isSplat())
      return SmallVector<float>(n, dense.getSplatValue<float>());
    auto values = dense.getValues<float>();
    return SmallVector<float>(values.begin(), values.end());
  }
  if (auto resource = dyn_cast<DenseF32ResourceElementsAttr>(elements)) {
    std::optional<ArrayRef<float>> data = resource.tryGetAsArrayRef();
    if (!data || (int64_t)data->size() != n)
      return std::nullopt;
    return SmallVector<float>(data->begin(), data->end());
  }
  return std::nullopt;
}

ElementsAttr sparq::makeF32Constant(RankedTensorType type,
                                    ArrayRef<float> values,
                                    StringRef nameHint) {
  if ((int64_t)values.size() < kResourceThreshold)
    return DenseElementsAttr::get(type, values);
  return DenseResourceElementsAttr::get(
      type, nameHint, HeapAsmResourceBlob::allocateAndCopyInferAlign(values));
}
