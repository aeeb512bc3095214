//===- QuantizeMode.h - post-training quantization modes ------*- C++ -*-===//
//
// The modes of sparq-quantize (--quantize=w8 | w4[:gN] | w8a8), parsed in
// one place for the pass and for sparq-compile's early option check.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_DIALECT_SPARQ_TRANSFORMS_QUANTIZEMODE_H
#define SPARQ_DIALECT_SPARQ_TRANSFORMS_QUANTIZEMODE_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>

namespace sparq {

struct QuantizeMode {
  enum Kind {
    WeightInt8, // w8: per-output-channel symmetric int8, weight-only
    WeightInt4, // w4:gN: group-wise asymmetric uint4, weight-only
    Int8,       // w8a8: s8 per-channel weights, u8 per-tensor activations
  };
  Kind kind = WeightInt8;
  /// Elements per group along the reduction (w4 only).
  int64_t groupSize = 0;
  /// "w8", "w4:g128" or "w8a8".
  std::string str() const;
};

/// Parses "w8", "w4" (group 128), "w4:gN" (N a power of two >= 16) or
/// "w8a8". On failure returns std::nullopt and sets `error`.
std::optional<QuantizeMode> parseQuantizeMode(llvm::StringRef text,
                                              std::string &error);

} // namespace sparq

#endif // SPARQ_DIALECT_SPARQ_TRANSFORMS_QUANTIZEMODE_H
