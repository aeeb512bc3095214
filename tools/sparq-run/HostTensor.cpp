//===- HostTensor.cpp - Tensors held by sparq-run -------------------------===//
//
// Storage and element access of HostTensor, float16/bfloat16 conversions,
// and the .npy reader and writer.
//
//===----------------------------------------------------------------------===//

#include "HostTensor.h"

#include <cstring>
#include <fstream>
#include <sstream>

using namespace sparq::run;

size_t sparq::run::dtypeSize(sparq_dtype d) {
  switch (d) {
  case SPARQ_DTYPE_F64:
  case SPARQ_DTYPE_I64:
  case SPARQ_DTYPE_U64:
    return 8;
  case SPARQ_DTYPE_F32:
  case SPARQ_DTYPE_I32:
  case SPARQ_DTYPE_U32:
    return 4;
  case SPARQ_DTYPE_F16:
  case SPARQ_DTYPE_BF16:
  case SPARQ_DTYPE_I16:
  case SPARQ_DTYPE_U16:
    return 2;
  case SPARQ_DTYPE_I8:
  case SPARQ_DTYPE_U8:
  case SPARQ_DTYPE_BOOL:
    return 1;
  }
  return 0;
}

const char *sparq::run::dtypeName(sparq_dtype d) {
  static const char *const names[] = {"unknown", "f32", "f64", "f16", "bf16",
                                      "i8",      "i16", "i32", "i64", "u8",
                                      "u16",     "u32", "u64", "bool"};
  int i = static_cast<int>(d);
  return i >= 1 && i <= SPARQ_DTYPE_BOOL ? names[i] : names[0];
}

bool sparq::run::isFloatDtype(sparq_dtype d) {
  return d == SPARQ_DTYPE_F32 || d == SPARQ_DTYPE_F64 || d == SPARQ_DTYPE_F16 ||
         d == SPARQ_DTYPE_BF16;
}

std::string sparq::run::formatShape(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

HostTensor::HostTensor(sparq_dtype dtype, std::vector<int64_t> shape)
    : type(dtype), dims(std::move(shape)) {
  size_t bytes = (numBytes() + 63) / 64 * 64;
  void *p = nullptr;
  if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0)
    throw std::bad_alloc();
  std::memset(p, 0, bytes ? bytes : 64);
  storage.reset(p);
}

int64_t HostTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

uint64_t HostTensor::elementBits(int64_t i) const {
  size_t sz = dtypeSize(type);
  uint64_t v = 0;
  std::memcpy(&v, static_cast<const char *>(data()) + i * sz, sz);
  return v;
}

double HostTensor::elementAsDouble(int64_t i) const {
  const char *p = static_cast<const char *>(data()) + i * dtypeSize(type);
  auto load = [p](auto v) {
    std::memcpy(&v, p, sizeof(v));
    return v;
  };
  switch (type) {
  case SPARQ_DTYPE_F32:
    return load(float());
  case SPARQ_DTYPE_F64:
    return load(double());
  case SPARQ_DTYPE_F16:
    return halfToFloat(load(uint16_t()));
  case SPARQ_DTYPE_BF16:
    return bf16ToFloat(load(uint16_t()));
  case SPARQ_DTYPE_I8:
    return load(int8_t());
  case SPARQ_DTYPE_I16:
    return load(int16_t());
  case SPARQ_DTYPE_I32:
    return load(int32_t());
  case SPARQ_DTYPE_I64:
    return static_cast<double>(load(int64_t()));
  case SPARQ_DTYPE_U8:
  case SPARQ_DTYPE_BOOL:
    return load(uint8_t());
  case SPARQ_DTYPE_U16:
    return load(uint16_t());
  case SPARQ_DTYPE_U32:
    return load(uint32_t());
  case SPARQ_DTYPE_U64:
    return static_cast<double>(load(uint64_t()));
  }
  return 0;
}

float sparq::run::halfToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {
    // Subnormal half: normalize.
    int shift = 0;
    while (!(mant & 0x400u)) {
      mant <<= 1;
      ++shift;
    }
    mant &= 0x3ffu;
    bits = sign | ((113 - shift) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t sparq::run::floatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) // inf or nan
    return sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0u);
  if (absx >= 0x477ff000u) // rounds to >= 65520: overflow to inf
    return sign | 0x7c00u;
  if (absx < 0x38800000u) { // below the smallest normal half
    if (absx < 0x33000000u)
      return sign;
    uint32_t mant = (absx & 0x7fffffu) | 0x800000u;
    // value = mant * 2^(e-150); a half subnormal counts units of 2^-24.
    int shift = 125 - static_cast<int>(absx >> 23);
    uint32_t half = mant >> (shift + 1);
    uint32_t rem = mant & ((1u << (shift + 1)) - 1);
    uint32_t mid = 1u << shift;
    if (rem > mid || (rem == mid && (half & 1)))
      ++half;
    return sign | static_cast<uint16_t>(half);
  }
  uint32_t bits = absx - 0x38000000u; // rebias exponent 127 -> 15
  uint32_t half = bits >> 13;
  uint32_t rem = bits & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1)))
    ++half;
  return sign | static_cast<uint16_t>(half);
}

float sparq::run::bf16ToFloat(uint16_t b) {
  uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t sparq::run::floatToBf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((x >> 16) | 0x40u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}

//===----------------------------------------------------------------------===//
// .npy files
//===----------------------------------------------------------------------===//

namespace {

struct NpyType {
  const char *descr;
  sparq_dtype dtype;
};
const NpyType kNpyTypes[] = {
    {"<f4", SPARQ_DTYPE_F32}, {"<f8", SPARQ_DTYPE_F64},
    {"<f2", SPARQ_DTYPE_F16}, {"|i1", SPARQ_DTYPE_I8},
    {"<i2", SPARQ_DTYPE_I16}, {"<i4", SPARQ_DTYPE_I32},
    {"<i8", SPARQ_DTYPE_I64}, {"|u1", SPARQ_DTYPE_U8},
    {"<u2", SPARQ_DTYPE_U16}, {"<u4", SPARQ_DTYPE_U32},
    {"<u8", SPARQ_DTYPE_U64}, {"|b1", SPARQ_DTYPE_BOOL},
};

/// Finds the value text following 'key': in a Python dict literal.
bool findDictValue(const std::string &header, const std::string &key,
                   std::string &value) {
  size_t k = header.find("'" + key + "'");
  if (k == std::string::npos)
    return false;
  size_t colon = header.find(':', k);
  if (colon == std::string::npos)
    return false;
  size_t v = header.find_first_not_of(" ", colon + 1);
  if (v == std::string::npos)
    return false;
  size_t end;
  if (header[v] == '\'') {
    end = header.find('\'', v + 1);
    if (end == std::string::npos)
      return false;
    value = header.substr(v + 1, end - v - 1);
  } else if (header[v] == '(') {
    end = header.find(')', v);
    if (end == std::string::npos)
      return false;
    value = header.substr(v + 1, end - v - 1);
  } else {
    end = header.find_first_of(",}", v);
    value = header.substr(v, end == std::string::npos ? std::string::npos
                                                      : end - v);
    while (!value.empty() && value.back() == ' ')
      value.pop_back();
  }
  return true;
}

} // namespace

bool sparq::run::readNpy(const std::string &path, HostTensor &out,
                         std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open file";
    return false;
  }
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    error = path + ": not a .npy file (bad magic)";
    return false;
  }
  uint32_t headerLen = 0;
  int major = static_cast<unsigned char>(magic[6]);
  if (major == 1) {
    unsigned char b[2];
    if (!in.read(reinterpret_cast<char *>(b), 2)) {
      error = path + ": truncated .npy header";
      return false;
    }
    headerLen = b[0] | (b[1] << 8);
  } else if (major == 2 || major == 3) {
    unsigned char b[4];
    if (!in.read(reinterpret_cast<char *>(b), 4)) {
      error = path + ": truncated .npy header";
      return false;
    }
    headerLen = b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24);
  } else {
    error = path + ": unsupported .npy version " + std::to_string(major);
    return false;
  }
  if (headerLen > (1u << 24)) {
    error = path + ": .npy header too large";
    return false;
  }
  std::string header(headerLen, '\0');
  if (!in.read(&header[0], headerLen)) {
    error = path + ": truncated .npy header";
    return false;
  }
  std::string descr, fortran, shapeText;
  if (!findDictValue(header, "descr", descr) ||
      !findDictValue(header, "fortran_order", fortran) ||
      !findDictValue(header, "shape", shapeText)) {
    error = path + ": malformed .npy header";
    return false;
  }
  if (fortran != "False") {
    error = path + ": fortran_order arrays are not supported (save a "
                   "C-contiguous array)";
    return false;
  }
  if (descr == "<b1")
    descr = "|b1";
  if (descr == "<i1")
    descr = "|i1";
  if (descr == "<u1")
    descr = "|u1";
  const NpyType *type = nullptr;
  for (const NpyType &t : kNpyTypes)
    if (descr == t.descr)
      type = &t;
  if (!type) {
    error = path + ": unsupported dtype '" + descr +
            "' (need little-endian f2/f4/f8, i1-i8, u1-u8 or b1)";
    return false;
  }
  std::vector<int64_t> shape;
  std::stringstream ss(shapeText);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t b = item.find_first_not_of(" L");
    if (b == std::string::npos)
      continue;
    char *end = nullptr;
    long long d = std::strtoll(item.c_str() + b, &end, 10);
    if (end == item.c_str() + b || d < 0) {
      error = path + ": bad shape '(" + shapeText + ")'";
      return false;
    }
    shape.push_back(d);
  }
  try {
    out = HostTensor(type->dtype, shape);
  } catch (const std::exception &) {
    error = path + ": tensor too large";
    return false;
  }
  if (out.numBytes() &&
      !in.read(static_cast<char *>(out.data()), out.numBytes())) {
    error = path + ": file holds fewer bytes than shape " + formatShape(shape) +
            " needs";
    return false;
  }
  return true;
}

bool sparq::run::writeNpy(const std::string &path, const HostTensor &t,
                          std::string &error) {
  const char *descr = nullptr;
  for (const NpyType &n : kNpyTypes)
    if (n.dtype == t.dtype())
      descr = n.descr;
  if (!descr) {
    error = path + ": dtype " + std::string(dtypeName(t.dtype())) +
            " has no .npy equivalent";
    return false;
  }
  // Spelled like numpy: (), (5,), (2, 3).
  std::string shape = "(";
  for (size_t i = 0; i < t.shape().size(); ++i)
    shape += (i ? ", " : "") + std::to_string(t.shape()[i]);
  shape += t.shape().size() == 1 ? ",)" : ")";
  std::string header = std::string("{'descr': '") + descr +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad so that magic + length + header is a multiple of 64 bytes.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::ofstream outFile(path, std::ios::binary);
  if (!outFile) {
    error = path + ": cannot create file";
    return false;
  }
  unsigned char pre[10] = {0x93,
                           'N',
                           'U',
                           'M',
                           'P',
                           'Y',
                           1,
                           0,
                           static_cast<unsigned char>(header.size() & 0xff),
                           static_cast<unsigned char>(header.size() >> 8)};
  outFile.write(reinterpret_cast<const char *>(pre), 10);
  outFile.write(header.data(), header.size());
  outFile.write(static_cast<const char *>(t.data()), t.numBytes());
  if (!outFile) {
    error = path + ": write failed";
    return false;
  }
  return true;
}
