//===- HostTensor.h - Tensors held by sparq-run ------------------*- C++
//-*-===//
//
// The dense host tensor sparq-run feeds to and reads from a model, plus the
// element conversions it needs (half/bfloat16, to double for comparisons)
// and the file readers/writers for .npy and ONNX TensorProto (.pb) files.
// Readers report problems through an error string rather than exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_TOOLS_SPARQRUN_HOSTTENSOR_H
#define SPARQ_TOOLS_SPARQRUN_HOSTTENSOR_H

#include "sparq/Runtime/sparq_runtime.h"

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace sparq {
namespace run {

/// Element size in bytes of a dtype (0 if unknown); mirrors the runtime's.
size_t dtypeSize(sparq_dtype d);
const char *dtypeName(sparq_dtype d);
bool isFloatDtype(sparq_dtype d);

/// A 64-byte aligned, dense, row-major tensor.
class HostTensor {
public:
  HostTensor() = default;
  HostTensor(sparq_dtype dtype, std::vector<int64_t> shape);

  sparq_dtype dtype() const { return type; }
  const std::vector<int64_t> &shape() const { return dims; }
  int64_t numElements() const;
  size_t numBytes() const { return numElements() * dtypeSize(type); }
  void *data() { return storage.get(); }
  const void *data() const { return storage.get(); }

  /// Element i converted to double (integers exactly up to 2^53).
  double elementAsDouble(int64_t i) const;
  /// Raw element bits, for exact integer comparison.
  uint64_t elementBits(int64_t i) const;

private:
  struct FreeDeleter {
    void operator()(void *p) const { std::free(p); }
  };
  sparq_dtype type = SPARQ_DTYPE_F32;
  std::vector<int64_t> dims;
  std::unique_ptr<void, FreeDeleter> storage;
};

float halfToFloat(uint16_t h);
uint16_t floatToHalf(float f);
float bf16ToFloat(uint16_t b);
uint16_t floatToBf16(float f);

std::string formatShape(const std::vector<int64_t> &shape);

/// Reads a .npy file (v1/v2/v3 headers, little-endian, C order).
bool readNpy(const std::string &path, HostTensor &out, std::string &error);
/// Writes a v1.0 .npy file.
bool writeNpy(const std::string &path, const HostTensor &t, std::string &error);
/// Reads a serialized onnx.TensorProto.
bool readTensorProto(const std::string &path, HostTensor &out,
                     std::string &error);

} // namespace run
} // namespace sparq

#endif // SPARQ_TOOLS_SPARQRUN_HOSTTENSOR_H
