//===- Initializers.cpp - ONNX TensorProto to MLIR constants --------------===//
//
// Decodes TensorProtos from typed fields, raw_data or external files. Large
// tensors become DenseResourceElementsAttr blobs that point straight into
// the model's bytes: embedded raw_data is swapped out of the proto and owned
// by the blob, external files are memory-mapped once and kept alive by every
// blob that points into them. Only misaligned bytes and typed fields (which
// need converting anyway) are copied.
//
//===----------------------------------------------------------------------===//

#include "Initializers.h"
#include "NodeImporter.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/Path.h"

#include <cstring>

using namespace mlir;
using namespace sparq::onnx_import;

Type sparq::onnx_import::convertElementType(MLIRContext *ctx,
                                            int32_t dataType) {
  using TP = onnx::TensorProto;
  Builder b(ctx);
  switch (dataType) {
  case TP::FLOAT:
    return b.getF32Type();
  case TP::DOUBLE:
    return b.getF64Type();
  case TP::FLOAT16:
    return b.getF16Type();
  case TP::BFLOAT16:
    return b.getBF16Type();
  case TP::INT8:
    return b.getIntegerType(8);
  case TP::INT16:
    return b.getIntegerType(16);
  case TP::INT32:
    return b.getIntegerType(32);
  case TP::INT64:
    return b.getIntegerType(64);
  case TP::UINT8:
    return b.getIntegerType(8, /*isSigned=*/false);
  case TP::UINT16:
    return b.getIntegerType(16, /*isSigned=*/false);
  case TP::UINT32:
    return b.getIntegerType(32, /*isSigned=*/false);
  case TP::UINT64:
    return b.getIntegerType(64, /*isSigned=*/false);
  case TP::BOOL:
    return b.getI1Type();
  case kOnnxInt4:
    return b.getIntegerType(4);
  case kOnnxUint4:
    return b.getIntegerType(4, /*isSigned=*/false);
  case kOnnxInt2:
    return b.getIntegerType(2);
  case kOnnxUint2:
    return b.getIntegerType(2, /*isSigned=*/false);
  case kOnnxFloat8E4M3FN:
    return b.getType<Float8E4M3FNType>();
  case kOnnxFloat8E5M2:
    return b.getType<Float8E5M2Type>();
  case kOnnxFloat4E2M1:
    return b.getType<Float4E2M1FNType>();
  default:
    return {};
  }
}

unsigned sparq::onnx_import::packedBits(Type type) {
  if (isa<Float4E2M1FNType>(type))
    return 4;
  auto intType = dyn_cast<IntegerType>(type);
  if (intType && (intType.getWidth() == 4 || intType.getWidth() == 2))
    return intType.getWidth();
  return 0;
}

std::string sparq::onnx_import::dataTypeName(int32_t dataType) {
  static const llvm::StringMap<int32_t> newer = {
      {"FLOAT8E4M3FN", kOnnxFloat8E4M3FN},
      {"FLOAT8E4M3FNUZ", 18},
      {"FLOAT8E5M2", kOnnxFloat8E5M2},
      {"FLOAT8E5M2FNUZ", 20},
      {"UINT4", kOnnxUint4},
      {"INT4", kOnnxInt4},
      {"FLOAT4E2M1", kOnnxFloat4E2M1},
      {"FLOAT8E8M0", 24},
      {"UINT2", kOnnxUint2},
      {"INT2", kOnnxInt2},
      {"FLOAT6E2M3", 27},
      {"FLOAT6E3M2", 28}};
  for (const auto &entry : newer)
    if (entry.second == dataType)
      return entry.first().str();
  if (onnx::TensorProto_DataType_IsValid(dataType))
    return onnx::TensorProto_DataType_Name(
        static_cast<onnx::TensorProto_DataType>(dataType));
  return "data type " + std::to_string(dataType);
}

FailureOr<int64_t>
sparq::onnx_import::checkedNumElements(llvm::ArrayRef<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0 || llvm::MulOverflow(n, d, n))
      return failure();
  }
  return n;
}

/// Storage bytes of one element as ONNX lays it out (bool is one byte).
static int64_t storageBytes(Type type) {
  if (type.isInteger(1))
    return 1;
  return type.getIntOrFloatBitWidth() / 8;
}

/// Unpacks 2- or 4-bit values (packed low bits first, as ONNX stores them)
/// into one byte per element, sign-extended when `isSigned`.
static void unpackSubByte(llvm::ArrayRef<char> packed, int64_t numElements,
                          unsigned bits, bool isSigned,
                          std::vector<char> &out) {
  out.resize(numElements);
  unsigned perByte = 8 / bits;
  unsigned mask = (1u << bits) - 1;
  for (int64_t i = 0; i < numElements; ++i) {
    unsigned byte = static_cast<uint8_t>(packed[i / perByte]);
    unsigned v = (byte >> ((i % perByte) * bits)) & mask;
    int value = (int)v;
    if (isSigned && (v >> (bits - 1)))
      value -= 1 << bits;
    out[i] = static_cast<char>(value);
  }
}

/// Unpacks the typed repeated field matching the tensor's data type into
/// little-endian storage bytes. Returns the number of values found.
static int64_t unpackTypedFields(const onnx::TensorProto &t, int64_t width,
                                 std::vector<char> &out) {
  using TP = onnx::TensorProto;
  auto append = [&](const void *src, size_t bytes) {
    const char *p = static_cast<const char *>(src);
    out.insert(out.end(), p, p + bytes);
  };
  switch (t.data_type()) {
  case TP::FLOAT:
    append(t.float_data().data(), t.float_data_size() * sizeof(float));
    return t.float_data_size();
  case TP::DOUBLE:
    append(t.double_data().data(), t.double_data_size() * sizeof(double));
    return t.double_data_size();
  case TP::INT64:
    append(t.int64_data().data(), t.int64_data_size() * sizeof(int64_t));
    return t.int64_data_size();
  case TP::UINT32:
    for (uint64_t v : t.uint64_data()) {
      uint32_t narrow = static_cast<uint32_t>(v);
      append(&narrow, sizeof(narrow));
    }
    return t.uint64_data_size();
  case TP::UINT64:
    append(t.uint64_data().data(), t.uint64_data_size() * sizeof(uint64_t));
    return t.uint64_data_size();
  default:
    // INT32 and every narrower type (including float16/bfloat16 bits and
    // bool) are stored one value per int32 entry.
    for (int32_t v : t.int32_data()) {
      uint32_t bits = static_cast<uint32_t>(v);
      append(&bits, width);
    }
    return t.int32_data_size();
  }
}

std::shared_ptr<llvm::MemoryBuffer>
InitializerLoader::mapFile(llvm::StringRef realPath) {
  auto it = mappedFiles.find(realPath);
  if (it != mappedFiles.end())
    return it->second;
  auto buffer = llvm::MemoryBuffer::getFile(realPath, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false,
                                            /*IsVolatile=*/false);
  if (!buffer)
    return nullptr;
  std::shared_ptr<llvm::MemoryBuffer> shared(std::move(*buffer));
  mappedFiles[realPath] = shared;
  return shared;
}

LogicalResult InitializerLoader::readExternal(
    const onnx::TensorProto &tensor, llvm::StringRef what, Location loc,
    llvm::ArrayRef<char> &bytes,
    std::shared_ptr<llvm::MemoryBuffer> &owner) {
  std::string location;
  std::optional<int64_t> offset, length;
  for (const onnx::StringStringEntryProto &entry : tensor.external_data()) {
    llvm::StringRef key = entry.key(), value = entry.value();
    if (key == "location") {
      location = value.str();
    } else if (key == "offset" || key == "length") {
      int64_t parsed;
      if (value.getAsInteger(10, parsed) || parsed < 0)
        return emitError(loc) << what << ": external data " << key << " '"
                              << value << "' is not a non-negative integer";
      (key == "offset" ? offset : length) = parsed;
    }
  }
  if (location.empty())
    return emitError(loc) << what << ": external data has no location";
  namespace path = llvm::sys::path;
  if (path::is_absolute(location) ||
      path::is_absolute(location, path::Style::windows))
    return emitError(loc) << what << ": external data path '" << location
                          << "' is absolute; it must be relative to the "
                             "model's folder";

  llvm::SmallString<256> modelDir(path::parent_path(modelPath));
  if (modelDir.empty())
    modelDir = ".";
  llvm::SmallString<256> realDir, realFile, joined(modelDir);
  path::append(joined, location);
  if (llvm::sys::fs::real_path(modelDir, realDir))
    return emitError(loc) << what << ": cannot resolve the model folder '"
                          << modelDir << "'";
  if (llvm::sys::fs::real_path(joined, realFile))
    return emitError(loc) << what << ": external data file '" << location
                          << "' does not exist";
  llvm::StringRef fileRef = realFile, dirRef = realDir;
  if (!fileRef.starts_with(dirRef) || fileRef.size() <= dirRef.size() ||
      !path::is_separator(fileRef[dirRef.size()]))
    return emitError(loc) << what << ": external data path '" << location
                          << "' escapes the model's folder";
  if (llvm::sys::fs::is_directory(realFile))
    return emitError(loc) << what << ": external data path '" << location
                          << "' is a directory";

  owner = mapFile(realFile);
  if (!owner)
    return emitError(loc) << what << ": cannot read external data file '"
                          << location << "'";
  int64_t fileSize = owner->getBufferSize();
  int64_t begin = offset.value_or(0);
  if (begin > fileSize)
    return emitError(loc) << what << ": external data offset " << begin
                          << " is past the end of '" << location << "' ("
                          << fileSize << " bytes)";
  int64_t size = length.value_or(fileSize - begin);
  if (size > fileSize - begin)
    return emitError(loc) << what << ": external data range [" << begin
                          << ", " << begin << "+" << size
                          << ") is past the end of '" << location << "' ("
                          << fileSize << " bytes)";
  bytes = llvm::ArrayRef<char>(owner->getBufferStart() + begin, size);
  return success();
}

FailureOr<ElementsAttr> InitializerLoader::convert(onnx::TensorProto &tensor,
                                                   llvm::StringRef what,
                                                   Location loc) {
  if (tensor.has_segment())
    return emitError(loc) << what << ": segmented tensors are unsupported";
  Type elementType = convertElementType(ctx, tensor.data_type());
  if (!elementType)
    return emitError(loc) << what << ": element type "
                          << dataTypeName(tensor.data_type())
                          << " is unsupported";
  llvm::SmallVector<int64_t> dims(tensor.dims().begin(), tensor.dims().end());
  for (int64_t d : dims)
    if (d < 0)
      return emitError(loc) << what << ": dim " << d << " is negative";
  FailureOr<int64_t> numElements = checkedNumElements(dims);
  if (unsigned bits = packedBits(elementType)) {
    if (failed(numElements))
      return emitError(loc) << what << ": element count overflows int64";
    return convertPacked(tensor, what, loc, elementType, bits, dims,
                         *numElements);
  }
  int64_t width = storageBytes(elementType);
  int64_t expectedBytes;
  if (failed(numElements) ||
      llvm::MulOverflow(*numElements, width, expectedBytes))
    return emitError(loc) << what << ": element count overflows int64";
  auto type = RankedTensorType::get(dims, elementType);

  // Locate the bytes and what keeps them alive.
  llvm::ArrayRef<char> bytes;
  std::shared_ptr<llvm::MemoryBuffer> mapping;
  std::shared_ptr<std::string> ownedRaw;
  std::vector<char> unpacked;
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    if (failed(readExternal(tensor, what, loc, bytes, mapping)))
      return failure();
  } else if (tensor.has_raw_data()) {
    ownedRaw = std::make_shared<std::string>();
    ownedRaw->swap(*tensor.mutable_raw_data());
    bytes = llvm::ArrayRef<char>(ownedRaw->data(), ownedRaw->size());
  } else {
    int64_t count = unpackTypedFields(tensor, width, unpacked);
    if (count != *numElements)
      return emitError(loc) << what << ": has " << count << " values for "
                            << *numElements << " elements";
    bytes = llvm::ArrayRef<char>(unpacked.data(), unpacked.size());
  }
  if ((int64_t)bytes.size() != expectedBytes) {
    std::string typeName;
    llvm::raw_string_ostream os(typeName);
    elementType.print(os);
    return emitError(loc) << what << ": holds " << bytes.size()
                          << " bytes but " << *numElements << " elements of "
                          << typeName << " need " << expectedBytes;
  }

  // Small tensors (and bool, which MLIR stores bit-packed) are dense.
  if (elementType.isInteger(1)) {
    if (*numElements > (int64_t(1) << 28))
      return emitError(loc) << what << ": bool tensor is too large";
    llvm::SmallVector<bool> values;
    values.reserve(bytes.size());
    for (char c : bytes)
      values.push_back(c != 0);
    return ElementsAttr(DenseElementsAttr::get(type, llvm::ArrayRef(values)));
  }
  if (*numElements <= kMaxDenseElements)
    return ElementsAttr(DenseElementsAttr::getFromRawBuffer(type, bytes));

  AsmResourceBlob blob;
  bool aligned = reinterpret_cast<uintptr_t>(bytes.data()) % width == 0;
  if (ownedRaw && aligned) {
    blob = AsmResourceBlob(
        bytes, width, [keep = ownedRaw](void *, size_t, size_t) {},
        /*dataIsMutable=*/false);
  } else if (mapping && aligned) {
    blob = AsmResourceBlob(
        bytes, width, [keep = mapping](void *, size_t, size_t) {},
        /*dataIsMutable=*/false);
  } else {
    blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, width);
  }
  std::string blobName = tensor.name().empty() ? "tensor" : tensor.name();
  return ElementsAttr(
      DenseResourceElementsAttr::get(type, blobName, std::move(blob)));
}

FailureOr<ElementsAttr> InitializerLoader::convertPacked(
    onnx::TensorProto &tensor, llvm::StringRef what, Location loc,
    Type elementType, unsigned bits, llvm::ArrayRef<int64_t> dims,
    int64_t numElements) {
  // The packed bytes: raw_data, external data, or one packed byte per
  // int32_data entry.
  int64_t packedBytes = llvm::divideCeil(numElements, 8 / bits);
  llvm::ArrayRef<char> bytes;
  std::shared_ptr<llvm::MemoryBuffer> mapping;
  std::vector<char> fromFields;
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    if (failed(readExternal(tensor, what, loc, bytes, mapping)))
      return failure();
  } else if (tensor.has_raw_data()) {
    bytes = llvm::ArrayRef<char>(tensor.raw_data().data(),
                                 tensor.raw_data().size());
  } else {
    for (int32_t v : tensor.int32_data())
      fromFields.push_back(static_cast<char>(v));
    bytes = fromFields;
  }
  if ((int64_t)bytes.size() != packedBytes)
    return emitError(loc) << what << ": holds " << bytes.size() << " bytes but "
                          << numElements << " packed " << bits
                          << "-bit elements need " << packedBytes;
  if (numElements > (int64_t(1) << 30))
    return emitError(loc) << what << ": " << bits << "-bit tensor is too large";
  // MLIR stores sub-byte integers one per byte; keep them dense (the
  // lowering reads them as constants of their own width).
  std::vector<char> unpacked;
  unpackSubByte(bytes, numElements, bits, elementType.isSignlessInteger(),
                unpacked);
  auto type = RankedTensorType::get(dims, elementType);
  return ElementsAttr(DenseElementsAttr::getFromRawBuffer(
      type, llvm::ArrayRef<char>(unpacked.data(), unpacked.size())));
}
