//===- TensorProto.cpp - Reading ONNX TensorProto files for sparq-run -----===//
//
// Decodes a serialized onnx.TensorProto (the input_N.pb / output_N.pb files
// of ONNX backend test data) into a HostTensor, from raw_data or from any of
// the typed repeated fields, whichever the file uses. Packed 2/4-bit
// integers become one value per byte (i8/u8) and float8/float4 become f32, the
// forms a compiled model takes and returns them in.
//
//===----------------------------------------------------------------------===//

#include "HostTensor.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace sparq::run;

namespace {

bool mapOnnxType(int t, sparq_dtype &out) {
  switch (t) {
  case onnx::TensorProto::FLOAT:
    out = SPARQ_DTYPE_F32;
    return true;
  case onnx::TensorProto::DOUBLE:
    out = SPARQ_DTYPE_F64;
    return true;
  case onnx::TensorProto::FLOAT16:
    out = SPARQ_DTYPE_F16;
    return true;
  case onnx::TensorProto::BFLOAT16:
    out = SPARQ_DTYPE_BF16;
    return true;
  case onnx::TensorProto::INT8:
    out = SPARQ_DTYPE_I8;
    return true;
  case onnx::TensorProto::INT16:
    out = SPARQ_DTYPE_I16;
    return true;
  case onnx::TensorProto::INT32:
    out = SPARQ_DTYPE_I32;
    return true;
  case onnx::TensorProto::INT64:
    out = SPARQ_DTYPE_I64;
    return true;
  case onnx::TensorProto::UINT8:
    out = SPARQ_DTYPE_U8;
    return true;
  case onnx::TensorProto::UINT16:
    out = SPARQ_DTYPE_U16;
    return true;
  case onnx::TensorProto::UINT32:
    out = SPARQ_DTYPE_U32;
    return true;
  case onnx::TensorProto::UINT64:
    out = SPARQ_DTYPE_U64;
    return true;
  case onnx::TensorProto::BOOL:
    out = SPARQ_DTYPE_BOOL;
    return true;
  default:
    return false;
  }
}

// ONNX data types newer than the system's onnx headers know. sparq models
// take and return them one value per byte (2/4-bit integers, as i8/u8) or
// as f32 (float8, float4: exact), so they are read in those forms.
constexpr int kFloat8E4M3FN = 17, kFloat8E5M2 = 19, kUint4 = 21, kInt4 = 22,
              kFloat4E2M1 = 23, kUint2 = 25, kInt2 = 26;

/// Bits per value of a packed sub-byte integer type (0 for other types).
unsigned packedBits(int t) {
  if (t == kUint4 || t == kInt4 || t == kFloat4E2M1)
    return 4;
  if (t == kUint2 || t == kInt2)
    return 2;
  return 0;
}

bool isSmallFloat(int t) {
  return t == kFloat8E4M3FN || t == kFloat8E5M2 || t == kFloat4E2M1;
}

/// The f32 value of float8 (e4m3fn, e5m2) or float4 (e2m1) bits.
float decodeSmallFloat(uint8_t bits, int type) {
  int width = type == kFloat4E2M1 ? 4 : 8;
  int manBits = type == kFloat8E4M3FN ? 3 : type == kFloat8E5M2 ? 2 : 1;
  int bias = type == kFloat8E4M3FN ? 7 : type == kFloat8E5M2 ? 15 : 1;
  int magnitude = bits & ((1 << (width - 1)) - 1);
  int exp = magnitude >> manBits, man = bits & ((1 << manBits) - 1);
  int maxExp = (1 << (width - 1 - manBits)) - 1;
  float sign = (bits >> (width - 1)) & 1 ? -1.0f : 1.0f;
  if (type == kFloat8E4M3FN && exp == maxExp && man == (1 << manBits) - 1)
    return std::nanf("");
  if (type == kFloat8E5M2 && exp == maxExp)
    return man ? std::nanf("") : sign * INFINITY;
  if (exp == 0)
    return sign * std::ldexp((float)man, 1 - bias - manBits);
  return sign * std::ldexp(1.0f + (float)man / (1 << manBits), exp - bias);
}

/// Reads the packed bytes (raw_data, or one byte per int32_data entry) or
/// float8 bytes of a tensor; false when their count is wrong.
bool storageBytes(const onnx::TensorProto &proto, size_t expected,
                  std::vector<uint8_t> &bytes) {
  if (proto.has_raw_data())
    bytes.assign(proto.raw_data().begin(), proto.raw_data().end());
  else
    for (int32_t v : proto.int32_data())
      bytes.push_back(static_cast<uint8_t>(v));
  return bytes.size() == expected;
}

/// Stores the low dtypeSize bytes of each value (little-endian narrowing).
template <typename Repeated>
void storeNarrowed(const Repeated &values, HostTensor &t) {
  size_t sz = dtypeSize(t.dtype());
  char *dst = static_cast<char *>(t.data());
  for (int i = 0; i < values.size(); ++i) {
    auto v = values.Get(i);
    std::memcpy(dst + i * sz, &v, sz);
  }
}

} // namespace

bool sparq::run::readTensorProto(const std::string &path, HostTensor &out,
                                 std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open file";
    return false;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::string bytes = buf.str();
  onnx::TensorProto proto;
  if (!proto.ParseFromString(bytes)) {
    error = path + ": not a valid onnx TensorProto";
    return false;
  }
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    error = path + ": tensors with external data are not supported";
    return false;
  }
  sparq_dtype dtype;
  int dataType = proto.data_type();
  unsigned bits = packedBits(dataType);
  if (bits)
    dtype = dataType == kFloat4E2M1                    ? SPARQ_DTYPE_F32
            : (dataType == kInt4 || dataType == kInt2) ? SPARQ_DTYPE_I8
                                                       : SPARQ_DTYPE_U8;
  else if (isSmallFloat(dataType))
    dtype = SPARQ_DTYPE_F32;
  else if (!mapOnnxType(dataType, dtype)) {
    error = path + ": unsupported TensorProto data_type " +
            std::to_string(proto.data_type());
    return false;
  }
  std::vector<int64_t> shape(proto.dims().begin(), proto.dims().end());
  for (int64_t d : shape)
    if (d < 0) {
      error = path + ": negative dimension in " + formatShape(shape);
      return false;
    }
  try {
    out = HostTensor(dtype, shape);
  } catch (const std::exception &) {
    error = path + ": tensor too large";
    return false;
  }
  const int64_t n = out.numElements();
  auto countError = [&](int64_t got) {
    error = path + ": shape " + formatShape(shape) + " needs " +
            std::to_string(n) + " elements but the file holds " +
            std::to_string(got);
    return false;
  };
  if (bits || isSmallFloat(dataType)) {
    unsigned perByte = bits ? 8 / bits : 1;
    size_t expected = (n + perByte - 1) / perByte;
    std::vector<uint8_t> bytes;
    if (!storageBytes(proto, expected, bytes)) {
      error = path + ": shape " + formatShape(shape) + " needs " +
              std::to_string(expected) + " bytes but the file holds " +
              std::to_string(bytes.size());
      return false;
    }
    for (int64_t i = 0; i < n; ++i) {
      uint8_t byte = bytes[i / perByte];
      int v =
          bits ? (byte >> ((i % perByte) * bits)) & ((1 << bits) - 1) : byte;
      if (isSmallFloat(dataType)) {
        static_cast<float *>(out.data())[i] = decodeSmallFloat(v, dataType);
        continue;
      }
      if (dtype == SPARQ_DTYPE_I8 && (v >> (bits - 1)))
        v -= 1 << bits;
      static_cast<int8_t *>(out.data())[i] = static_cast<int8_t>(v);
    }
    return true;
  }
  if (proto.has_raw_data()) {
    if (proto.raw_data().size() != out.numBytes())
      return countError(
          static_cast<int64_t>(proto.raw_data().size() / dtypeSize(dtype)));
    std::memcpy(out.data(), proto.raw_data().data(), out.numBytes());
    return true;
  }
  switch (dtype) {
  case SPARQ_DTYPE_F32:
    if (proto.float_data_size() != n)
      return countError(proto.float_data_size());
    storeNarrowed(proto.float_data(), out);
    return true;
  case SPARQ_DTYPE_F64:
    if (proto.double_data_size() != n)
      return countError(proto.double_data_size());
    storeNarrowed(proto.double_data(), out);
    return true;
  case SPARQ_DTYPE_I64:
    if (proto.int64_data_size() != n)
      return countError(proto.int64_data_size());
    storeNarrowed(proto.int64_data(), out);
    return true;
  case SPARQ_DTYPE_U32:
  case SPARQ_DTYPE_U64:
    if (proto.uint64_data_size() != n)
      return countError(proto.uint64_data_size());
    storeNarrowed(proto.uint64_data(), out);
    return true;
  default:
    // int32_data carries i8/i16/i32/u8/u16/bool and the bits of f16/bf16.
    if (proto.int32_data_size() != n)
      return countError(proto.int32_data_size());
    storeNarrowed(proto.int32_data(), out);
    return true;
  }
}
