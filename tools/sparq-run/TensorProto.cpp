//===- TensorProto.cpp - Reading ONNX TensorProto files for sparq-run -----===//
//
// Decodes a serialized onnx.TensorProto (the input_N.pb / output_N.pb files
// of ONNX backend test data) into a HostTensor, from raw_data or from any of
// the typed repeated fields, whichever the file uses.
//
//===----------------------------------------------------------------------===//

#include "HostTensor.h"

#include <onnx/onnx_pb.h>

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
  if (!mapOnnxType(proto.data_type(), dtype)) {
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
