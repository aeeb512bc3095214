//===- Signature.h - Parser of the embedded model signature -----*- C++ -*-===//
//
// Every compiled model carries a textual description of its interface
// (sparq_model_signature): format version, arena size, and the dtype, shape
// and name of each graph input and output. This parses it into a Signature.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_RUNTIME_SIGNATURE_H
#define SPARQ_LIB_RUNTIME_SIGNATURE_H

#include "sparq/Runtime/sparq_runtime.h"

#include <cstdint>
#include <string>
#include <vector>

namespace sparq {
namespace rt {

struct TensorSpec {
  std::string name;
  sparq_dtype dtype = SPARQ_DTYPE_F32;
  std::vector<int64_t> shape;
  int64_t numElements() const;
};

struct Signature {
  int version = 0;
  int64_t arenaBytes = 0;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
};

/// Parses `text`; on failure returns false and describes the problem in
/// `error` (with the offending line number).
bool parseSignature(const char *text, Signature &out, std::string &error);

/// Maps a signature dtype spelling ("f32", ...) to the enum; false if unknown.
bool parseDtypeName(const std::string &s, sparq_dtype &out);

/// Formats a shape as "[1,3,224,224]".
std::string formatShape(const int64_t *dims, int64_t rank);

} // namespace rt
} // namespace sparq

#endif // SPARQ_LIB_RUNTIME_SIGNATURE_H
