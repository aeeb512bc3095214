//===- SparqAttrs.cpp - sparq attribute parsing and verification ----------===//
//
// Custom syntax and verifiers of the sparsity encoding and the quantization
// descriptor, and the enum definitions.
//
//===----------------------------------------------------------------------===//

#include "sparq/Dialect/Sparq/IR/Sparq.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace sparq;

#include "sparq/Dialect/Sparq/IR/SparqEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "sparq/Dialect/Sparq/IR/SparqAttrs.cpp.inc"

void SparqDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "sparq/Dialect/Sparq/IR/SparqAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// SparsityAttr
//===----------------------------------------------------------------------===//

// Syntax: `<` kind [pattern] (`,` key `=` value)* `>` where the pattern is
// `N:M` for nm and `RxC` for block.
Attribute SparsityAttr::parse(AsmParser &parser, Type) {
  if (parser.parseLess())
    return {};
  StringRef kindName;
  SMLoc kindLoc = parser.getCurrentLocation();
  if (parser.parseKeyword(&kindName))
    return {};
  std::optional<SparsityKind> kind = symbolizeSparsityKind(kindName);
  if (!kind) {
    parser.emitError(kindLoc, "unknown sparsity kind '")
        << kindName << "', expected dense, nm, block or unstructured";
    return {};
  }
  int64_t n = 0, m = 0, rows = 0, cols = 0, axis = -1;
  double density = 1.0;
  if (*kind == SparsityKind::NM) {
    if (parser.parseInteger(n) || parser.parseColon() || parser.parseInteger(m))
      return {};
  } else if (*kind == SparsityKind::Block) {
    // `4x1` lexes as an integer followed by the keyword `x1`.
    SmallVector<int64_t, 2> dims;
    if (parser.parseDimensionList(dims, /*allowDynamic=*/false,
                                  /*withTrailingX=*/false))
      return {};
    if (dims.size() != 2) {
      parser.emitError(parser.getCurrentLocation(),
                       "block sparsity expects a RxC block shape");
      return {};
    }
    rows = dims[0];
    cols = dims[1];
  }
  while (succeeded(parser.parseOptionalComma())) {
    StringRef key;
    SMLoc keyLoc = parser.getCurrentLocation();
    if (parser.parseKeyword(&key) || parser.parseEqual())
      return {};
    if (key == "axis") {
      if (parser.parseInteger(axis))
        return {};
    } else if (key == "density") {
      if (parser.parseFloat(density))
        return {};
    } else {
      parser.emitError(keyLoc, "unknown sparsity parameter '") << key << "'";
      return {};
    }
  }
  if (parser.parseGreater())
    return {};
  return parser.getChecked<SparsityAttr>(parser.getContext(), *kind, n, m,
                                         rows, cols, axis, APFloat(density));
}

void SparsityAttr::print(AsmPrinter &printer) const {
  printer << "<" << stringifySparsityKind(getKind());
  if (getKind() == SparsityKind::NM)
    printer << " " << getN() << ":" << getM();
  else if (getKind() == SparsityKind::Block)
    printer << " " << getBlockRows() << "x" << getBlockCols();
  if (getAxis() != -1)
    printer << ", axis = " << getAxis();
  if (getKind() != SparsityKind::Dense || getDensityValue() != 1.0)
    printer << ", density = " << getDensityValue();
  printer << ">";
}

LogicalResult
SparsityAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                     SparsityKind kind, int64_t n, int64_t m, int64_t rows,
                     int64_t cols, int64_t axis, APFloat density) {
  double d = density.convertToDouble();
  if (!(d >= 0.0 && d <= 1.0))
    return emitError() << "density must be in [0, 1], got " << d;
  if (axis < -1)
    return emitError() << "axis must be -1 (unset) or non-negative, got "
                       << axis;
  if (kind == SparsityKind::NM && (m <= 0 || n <= 0 || n > m))
    return emitError() << "N:M sparsity needs 0 < N <= M, got " << n << ":"
                       << m;
  if (kind == SparsityKind::Block && (rows <= 0 || cols <= 0))
    return emitError() << "block sparsity needs positive block dims, got "
                       << rows << "x" << cols;
  return success();
}

LogicalResult SparsityAttr::verifyEncoding(
    ArrayRef<int64_t> shape, Type elementType,
    function_ref<InFlightDiagnostic()> emitError) const {
  int64_t rank = shape.size();
  if (getAxis() >= rank)
    return emitError() << "sparsity axis " << getAxis()
                       << " is out of range for a rank-" << rank << " tensor";
  if (getKind() == SparsityKind::NM) {
    int64_t axis = getAxis() >= 0 ? getAxis() : rank - 1;
    if (rank == 0)
      return emitError() << "N:M sparsity needs a ranked, non-scalar tensor";
    if (!ShapedType::isDynamic(shape[axis]) && shape[axis] % getM() != 0)
      return emitError() << "N:M sparsity needs dim " << axis << " ("
                         << shape[axis] << ") to be a multiple of M = "
                         << getM();
  }
  if (getKind() == SparsityKind::Block && rank < 2)
    return emitError() << "block sparsity needs a tensor of rank >= 2";
  return success();
}

//===----------------------------------------------------------------------===//
// QuantAttr
//===----------------------------------------------------------------------===//

LogicalResult QuantAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                Type storage, Type expressed, int64_t axis,
                                int64_t blockSize, DenseElementsAttr scales,
                                DenseElementsAttr zeroPoints) {
  if (!isa<IntegerType, FloatType>(storage))
    return emitError() << "storage type must be an integer or float type, got "
                       << storage;
  if (!isa<FloatType>(expressed))
    return emitError() << "expressed type must be a float type, got "
                       << expressed;
  if (axis < -1)
    return emitError() << "axis must be -1 (per-tensor) or non-negative";
  if (blockSize < 0)
    return emitError() << "block_size must be non-negative";
  if (blockSize > 0 && axis < 0)
    return emitError() << "blocked quantization needs an axis";
  if (!scales || !isa<FloatType>(scales.getElementType()))
    return emitError() << "scales must be a float elements attribute";
  if (axis == -1 && scales.getNumElements() != 1)
    return emitError() << "per-tensor quantization needs exactly one scale, got "
                       << scales.getNumElements();
  if (zeroPoints) {
    if (zeroPoints.getType().getShape() !=
        scales.getType().getShape())
      return emitError() << "zero_points must have the shape of scales";
    if (zeroPoints.getElementType() != storage)
      return emitError() << "zero_points must have the storage type "
                         << storage;
  }
  return success();
}
