//===- Quantize.cpp - Post-training quantization at compile time ----------===//
//
// sparq-quantize turns an fp32 model's kernels into quantized ones with no
// retraining:
//  - w8: every sparq.fused_matmul with a constant 2-d f32 weight becomes a
//    sparq.matmul_nbits with 8-bit weights, symmetric per output row (one
//    block per row);
//  - w4:gN: the same with asymmetric uint4 groups of N along the reduction
//    (min/max per group widened to include 0, a zero point per group),
//    packed in com.microsoft MatMulNBits layout;
//  - w8a8: every fused_conv / fused_matmul with a constant weight gets the
//    QDQ form onnxruntime's quantize_static writes: u8 asymmetric per-tensor
//    Q/DQ on its input and output (ranges calibrated by sparq-compile and
//    read from a JSON file), s8 symmetric per-channel DQ on its weight, and
//    an i32 bias with scale x_scale * w_scale. sparq-qdq-to-integer then
//    forms integer kernels from these groups.
// What happened to every kernel (parameters, weight error, or why it stayed
// f32) is recorded on the function as `sparq.quantization` for the report.
//
//===----------------------------------------------------------------------===//

#include "KernelWeights.h"

#include "sparq/Dialect/Sparq/IR/Sparq.h"
#include "sparq/Dialect/Sparq/IR/Weights.h"
#include "sparq/Dialect/Sparq/Transforms/Passes.h"
#include "sparq/Dialect/Sparq/Transforms/QuantizeMode.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>
#include <limits>

namespace sparq {
#define GEN_PASS_DEF_SPARQQUANTIZEPASS
#include "sparq/Dialect/Sparq/Transforms/Passes.h.inc"
} // namespace sparq

using namespace mlir;
using namespace sparq;

std::string QuantizeMode::str() const {
  switch (kind) {
  case WeightInt8:
    return "w8";
  case WeightInt4:
    return "w4:g" + std::to_string(groupSize);
  case Int8:
    return "w8a8";
  }
  return "";
}

std::optional<QuantizeMode> sparq::parseQuantizeMode(llvm::StringRef text,
                                                     std::string &error) {
  QuantizeMode mode;
  if (text == "w8") {
    mode.kind = QuantizeMode::WeightInt8;
    return mode;
  }
  if (text == "w8a8") {
    mode.kind = QuantizeMode::Int8;
    return mode;
  }
  if (text == "w4") {
    mode.kind = QuantizeMode::WeightInt4;
    mode.groupSize = 128;
    return mode;
  }
  int64_t group = 0;
  llvm::StringRef digits = text;
  if (digits.consume_front("w4:g") && !digits.getAsInteger(10, group) &&
      group >= 16 && llvm::isPowerOf2_64(group)) {
    mode.kind = QuantizeMode::WeightInt4;
    mode.groupSize = group;
    return mode;
  }
  error = "bad quantization mode '" + text.str() +
          "': expected w8, w4, w4:gN (N a power of two >= 16) or w8a8";
  return std::nullopt;
}

namespace {

/// Elements above which a new constant becomes a resource blob.
constexpr int64_t kResourceThreshold = 4096;

float roundHalfEven(double x) { return static_cast<float>(std::nearbyint(x)); }

template <typename T>
ElementsAttr makeIntConstant(RankedTensorType type, ArrayRef<T> values,
                             StringRef nameHint) {
  if (static_cast<int64_t>(values.size()) < kResourceThreshold)
    return DenseElementsAttr::get(type, values);
  return DenseResourceElementsAttr::get(
      type, nameHint, HeapAsmResourceBlob::allocateAndCopyInferAlign(values));
}

Value constant(OpBuilder &b, Location loc, ElementsAttr value) {
  return ConstantOp::create(b, loc, value);
}

/// Quantization facts of one weight, accumulated while quantizing.
struct WeightStats {
  double scaleMin = std::numeric_limits<double>::infinity();
  double scaleMax = -std::numeric_limits<double>::infinity();
  int64_t zeroMin = std::numeric_limits<int64_t>::max();
  int64_t zeroMax = std::numeric_limits<int64_t>::min();
  double errorSq = 0, refSq = 0;

  void scale(double s) {
    scaleMin = std::min(scaleMin, s);
    scaleMax = std::max(scaleMax, s);
  }
  void zero(int64_t z) {
    zeroMin = std::min(zeroMin, z);
    zeroMax = std::max(zeroMax, z);
  }
  void value(double w, double dequant) {
    errorSq += (dequant - w) * (dequant - w);
    refSq += w * w;
  }
  double relL2() const { return refSq > 0 ? std::sqrt(errorSq / refSq) : 0; }
};

/// One entry of `sparq.quantization`.
class LayerInfo {
public:
  LayerInfo(Operation *kernel) : builder(kernel->getContext()) {
    set("name", builder.getStringAttr(getNodeName(kernel->getLoc())));
    set("kind", builder.getStringAttr(kernel->getName().stripDialect()));
  }
  void set(StringRef key, Attribute value) { attrs.set(key, value); }
  void setF(StringRef key, double v) { set(key, builder.getF64FloatAttr(v)); }
  void setI(StringRef key, int64_t v) {
    set(key, builder.getI64IntegerAttr(v));
  }
  void setS(StringRef key, StringRef v) { set(key, builder.getStringAttr(v)); }
  void skipped(StringRef reason) {
    set("quantized", builder.getBoolAttr(false));
    setS("reason", reason);
  }
  void quantized(StringRef mode, int64_t bits, const WeightStats &stats) {
    set("quantized", builder.getBoolAttr(true));
    setS("mode", mode);
    setI("bits", bits);
    setF("scale_min", stats.scaleMin);
    setF("scale_max", stats.scaleMax);
    setI("zero_point_min", stats.zeroMin);
    setI("zero_point_max", stats.zeroMax);
    setF("weight_rel_l2", stats.relL2());
  }
  DictionaryAttr get() { return attrs.getDictionary(builder.getContext()); }

private:
  Builder builder;
  NamedAttrList attrs;
};

/// Re-applies a fused epilogue activation as a graph op.
Value applyActivation(OpBuilder &b, Location loc, Value x, Activation act,
                      float alpha, float beta) {
  switch (act) {
  case Activation::None:
    return x;
  case Activation::Relu:
    return ReluOp::create(b, loc, x);
  case Activation::Sigmoid:
    return SigmoidOp::create(b, loc, x);
  case Activation::Tanh:
    return TanhOp::create(b, loc, x);
  case Activation::HardSwish:
    return HardSwishOp::create(b, loc, x);
  case Activation::Gelu:
  case Activation::GeluTanh:
    return GeluOp::create(b, loc, x,
                          b.getBoolAttr(act == Activation::GeluTanh));
  case Activation::LeakyRelu:
    return LeakyReluOp::create(b, loc, x, b.getF32FloatAttr(alpha));
  case Activation::HardSigmoid:
    return HardSigmoidOp::create(b, loc, x, b.getF32FloatAttr(alpha),
                                 b.getF32FloatAttr(beta));
  case Activation::Clip:
    return ClipOp::create(
        b, loc, x, std::isinf(alpha) ? FloatAttr() : b.getF64FloatAttr(alpha),
        std::isinf(beta) ? FloatAttr() : b.getF64FloatAttr(beta));
  }
  return x;
}

//===----------------------------------------------------------------------===//
// Weight-only: fused_matmul -> matmul_nbits
//===----------------------------------------------------------------------===//

/// Quantizes W[n][k] into MatMulNBits blocks. 8 bits: symmetric per row,
/// stored with the implicit zero point 128. 4 bits: asymmetric per group
/// with explicit packed zero points.
struct NBitsWeight {
  int64_t bits, blockSize, nBlocks, blobSize;
  std::vector<uint8_t> packed, zeroPoints;
  std::vector<float> scales;
  WeightStats stats;
};

NBitsWeight quantizeNBits(const WeightMatrix &w, int64_t bits,
                          int64_t blockSize) {
  NBitsWeight q;
  q.bits = bits;
  q.blockSize = blockSize;
  q.nBlocks = llvm::divideCeil(w.cols, blockSize);
  q.blobSize = blockSize * bits / 8;
  const int64_t zpBytes = llvm::divideCeil(q.nBlocks * bits, 8);
  q.packed.assign(w.rows * q.nBlocks * q.blobSize, 0);
  q.scales.assign(w.rows * q.nBlocks, 0.0f);
  if (bits == 4)
    q.zeroPoints.assign(w.rows * zpBytes, 0);
  const int64_t qmax = bits == 8 ? 255 : 15;
  for (int64_t r = 0; r < w.rows; ++r) {
    for (int64_t blk = 0; blk < q.nBlocks; ++blk) {
      int64_t begin = blk * blockSize;
      int64_t end = std::min(w.cols, begin + blockSize);
      float scale;
      int64_t zero;
      if (bits == 8) {
        float amax = 0;
        for (int64_t c = begin; c < end; ++c)
          amax = std::max(amax, std::fabs(w.at(r, c)));
        scale = amax > 0 ? amax / 127.0f : 1.0f;
        zero = 128;
      } else {
        float lo = 0, hi = 0; // the range always includes 0
        for (int64_t c = begin; c < end; ++c) {
          lo = std::min(lo, w.at(r, c));
          hi = std::max(hi, w.at(r, c));
        }
        scale = hi > lo ? (hi - lo) / 15.0f : 1.0f;
        zero = static_cast<int64_t>(
            std::clamp(roundHalfEven(-lo / scale), 0.0f, 15.0f));
      }
      q.scales[r * q.nBlocks + blk] = scale;
      q.stats.scale(scale);
      q.stats.zero(zero);
      if (bits == 4) {
        uint8_t &byte = q.zeroPoints[r * zpBytes + blk / 2];
        byte |= static_cast<uint8_t>(zero << (blk % 2 ? 4 : 0));
      }
      uint8_t *blob = &q.packed[(r * q.nBlocks + blk) * q.blobSize];
      for (int64_t i = 0; i < blockSize; ++i) {
        int64_t c = begin + i;
        int64_t v = zero; // padding past k dequantizes to 0
        if (c < end) {
          float x = w.at(r, c);
          int64_t lo = bits == 8 ? 1 : 0; // 8-bit: symmetric [-127, 127]
          v = std::clamp<int64_t>(
              static_cast<int64_t>(roundHalfEven(x / scale)) + zero, lo, qmax);
          q.stats.value(x, static_cast<double>(v - zero) * scale);
        }
        if (bits == 8)
          blob[i] = static_cast<uint8_t>(v);
        else
          blob[i / 2] |= static_cast<uint8_t>(v << (i % 2 ? 4 : 0));
      }
    }
  }
  return q;
}

void quantizeWeightOnly(FusedMatMulOp op, const QuantizeMode &mode,
                        LayerInfo &info) {
  auto rhsType = cast<RankedTensorType>(op.getRhs().getType());
  std::optional<WeightMatrix> w;
  if (rhsType.getRank() == 2 && rhsType.getElementType().isF32())
    w = readKernelWeight(op);
  if (!w) {
    info.skipped(matchPattern(op.getRhs(), m_Constant())
                     ? "weight is not a 2-d f32 matrix"
                     : "weight is not a compile-time constant");
    return;
  }
  auto lhsType = cast<RankedTensorType>(op.getLhs().getType());
  if (!lhsType.getElementType().isF32()) {
    info.skipped("activation is not f32");
    return;
  }
  const int64_t n = w->rows, k = w->cols;
  int64_t bits = mode.kind == QuantizeMode::WeightInt8 ? 8 : 4;
  // w8: one block per row (the runtime takes any even block size); w4: a
  // group longer than the row is the row (same numbers, no padding bytes).
  int64_t evenK = k + (k & 1);
  int64_t blockSize = bits == 8 ? evenK : std::min(mode.groupSize, evenK);
  NBitsWeight q = quantizeNBits(*w, bits, blockSize);

  OpBuilder b(op);
  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  Type u8 = IntegerType::get(ctx, 8, IntegerType::Unsigned);
  std::string base = getNodeName(loc);
  Value packed =
      constant(b, loc,
               makeIntConstant<uint8_t>(
                   RankedTensorType::get({n, q.nBlocks, q.blobSize}, u8),
                   q.packed, base + ".qweight"));
  Value scales = constant(
      b, loc,
      makeF32Constant(RankedTensorType::get({n, q.nBlocks}, b.getF32Type()),
                      q.scales, base + ".scales"));
  Value zeros;
  if (bits == 4)
    zeros = constant(
        b, loc,
        makeIntConstant<uint8_t>(
            RankedTensorType::get(
                {n, static_cast<int64_t>(q.zeroPoints.size()) / n}, u8),
            q.zeroPoints, base + ".zero_points"));
  Value bias = op.getBias();
  Value lateBias;
  if (bias) {
    auto biasType = cast<RankedTensorType>(bias.getType());
    if (biasType.getRank() != 1 || biasType.getDimSize(0) != n) {
      lateBias = bias;
      bias = nullptr;
    }
  }
  Value result = MatMulNBitsOp::create(b, loc, op.getLhs(), packed, scales,
                                       zeros, bias, k, n, bits, blockSize);
  if (lateBias)
    result = AddOp::create(b, loc, result, lateBias);
  if (Value residual = op.getResidual())
    result = AddOp::create(b, loc, result, residual);
  result = applyActivation(b, loc, result, op.getActivation(),
                           op.getActAlpha().convertToFloat(),
                           op.getActBeta().convertToFloat());
  if (result.getType() != op.getResult().getType()) {
    // Should not happen (both follow [..., M, N]); keep the f32 kernel.
    result.getDefiningOp()->erase();
    info.skipped("result type mismatch");
    return;
  }
  op.getResult().replaceAllUsesWith(result);
  op.erase();
  info.quantized(bits == 8 ? "w8" : "w4", bits, q.stats);
  info.setI("group_size", blockSize);
  info.setS("granularity", bits == 8 ? "per output row" : "per group");
  info.setS("zero_points",
            bits == 8 ? "symmetric (implicit 128)" : "per group, packed uint4");
}

//===----------------------------------------------------------------------===//
// w8a8: QDQ around every kernel
//===----------------------------------------------------------------------===//

struct ActivationQuant {
  float scale = 1.0f;
  uint8_t zeroPoint = 0;
};

/// u8 asymmetric parameters for a calibrated range, which is widened to
/// include 0 so that zero (padding, ReLU) is exact.
ActivationQuant activationQuant(double lo, double hi) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  ActivationQuant q;
  q.scale = static_cast<float>((hi - lo) / 255.0);
  if (!(q.scale > 0) || !std::isfinite(q.scale))
    q.scale = 1.0f;
  q.zeroPoint = static_cast<uint8_t>(
      std::clamp(roundHalfEven(-lo / q.scale), 0.0f, 255.0f));
  return q;
}

using RangeMap = llvm::StringMap<std::pair<double, double>>;

/// Reads {"tensors": {"NODE:input": [min, max], ...}} from `path`.
LogicalResult readRanges(Operation *anchor, StringRef path, RangeMap &out) {
  auto fail = [&](const Twine &why) {
    return anchor->emitError()
           << "calibration ranges '" << path << "': " << why;
  };
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return fail(buffer.getError().message());
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*buffer)->getBuffer());
  if (!json)
    return fail(llvm::toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  const llvm::json::Object *tensors =
      root ? root->getObject("tensors") : nullptr;
  if (!tensors)
    return fail("expected an object with a \"tensors\" member");
  for (const auto &[key, value] : *tensors) {
    const llvm::json::Array *pair = value.getAsArray();
    std::optional<double> lo, hi;
    if (pair && pair->size() == 2) {
      lo = (*pair)[0].getAsNumber();
      hi = (*pair)[1].getAsNumber();
    }
    if (!lo || !hi || !(*lo <= *hi))
      return fail("entry '" + key.str() + "' is not [min, max]");
    out[key.str()] = {*lo, *hi};
  }
  return success();
}

class QdqBuilder {
public:
  explicit QdqBuilder(MLIRContext *ctx) : b(ctx) {}

  /// Quantize-dequantizes `v` once; every other use reads the DQ result.
  Value activation(Value v, ActivationQuant q) {
    auto it = done.find(v);
    if (it != done.end())
      return it->second;
    // The output of one kernel's Q/DQ feeding the next kernel is quantized
    // already (with the same range: it is the same tensor).
    if (dequantized.contains(v))
      return v;
    b.setInsertionPointAfterValue(v);
    Location loc = v.getLoc();
    MLIRContext *ctx = b.getContext();
    Value scale =
        constant(b, loc,
                 DenseElementsAttr::get(
                     RankedTensorType::get({}, b.getF32Type()), q.scale));
    Type u8 = IntegerType::get(ctx, 8, IntegerType::Unsigned);
    Value zero =
        constant(b, loc,
                 DenseElementsAttr::get(RankedTensorType::get({}, u8),
                                        ArrayRef<uint8_t>(q.zeroPoint)));
    auto quant = QuantizeLinearOp::create(b, loc, v, scale, zero);
    Value dequant = DequantizeLinearOp::create(b, loc, quant, scale, zero);
    v.replaceAllUsesExcept(dequant, quant);
    done[v] = dequant;
    dequantized.insert(dequant);
    return dequant;
  }

  OpBuilder b;
  DenseMap<Value, Value> done;
  DenseSet<Value> dequantized;
};

/// Per-channel s8 symmetric weight and i32 bias in QDQ form.
void quantizeKernelQdq(Operation *op, const std::string &name,
                       const RangeMap &ranges, QdqBuilder &qdq,
                       LayerInfo &info) {
  auto conv = dyn_cast<FusedConvOp>(op);
  auto mm = dyn_cast<FusedMatMulOp>(op);
  Value input = conv ? conv.getInput() : mm.getLhs();
  Value weight = conv ? conv.getWeight() : mm.getRhs();
  Value bias = conv ? conv.getBias() : mm.getBias();
  auto weightType = cast<RankedTensorType>(weight.getType());
  Attribute weightAttr;
  std::optional<SmallVector<float>> values;
  if (matchPattern(weight, m_Constant(&weightAttr)))
    values = readF32Values(weightAttr);
  if (!values) {
    info.skipped(weightAttr ? "weight is not an f32 constant"
                            : "weight is not a compile-time constant");
    return;
  }
  if (mm && weightType.getRank() != 2) {
    info.skipped("batched matmul weight");
    return;
  }
  if (!cast<RankedTensorType>(input.getType()).getElementType().isF32()) {
    info.skipped("activation is not f32");
    return;
  }
  auto inRange = ranges.find(name + ":input");
  auto outRange = ranges.find(name + ":output");
  if (inRange == ranges.end() || outRange == ranges.end()) {
    info.skipped("no calibrated range for its input or output");
    return;
  }

  // Output channels lie along dim 0 (conv [K, C/g, kh, kw], matmul [N, K])
  // or dim 1 (matmul [K, N]).
  int64_t axis = mm && !mm.getTransB() ? 1 : 0;
  int64_t channels = weightType.getDimSize(axis);
  int64_t numel = weightType.getNumElements();
  int64_t inner = axis == 0 ? numel / channels : 1;
  auto channelOf = [&](int64_t i) {
    return axis == 0 ? i / inner : i % channels;
  };
  std::vector<float> amax(channels, 0.0f);
  for (int64_t i = 0; i < numel; ++i)
    amax[channelOf(i)] = std::max(amax[channelOf(i)], std::fabs((*values)[i]));
  std::vector<float> scales(channels);
  WeightStats stats;
  for (int64_t c = 0; c < channels; ++c) {
    scales[c] = amax[c] > 0 ? amax[c] / 127.0f : 1.0f;
    stats.scale(scales[c]);
  }
  stats.zero(0);
  std::vector<int8_t> q(numel);
  for (int64_t i = 0; i < numel; ++i) {
    float s = scales[channelOf(i)];
    float v = std::clamp(roundHalfEven((*values)[i] / s), -127.0f, 127.0f);
    q[i] = static_cast<int8_t>(v);
    stats.value((*values)[i], v * s);
  }

  ActivationQuant xq =
      activationQuant(inRange->second.first, inRange->second.second);
  ActivationQuant yq =
      activationQuant(outRange->second.first, outRange->second.second);
  qdq.activation(input, xq);

  OpBuilder &b = qdq.b;
  b.setInsertionPoint(op);
  Location loc = op->getLoc();
  MLIRContext *ctx = op->getContext();
  Type i8 = IntegerType::get(ctx, 8), i32 = IntegerType::get(ctx, 32);
  auto channelType = [&](Type t) {
    return RankedTensorType::get({channels}, t);
  };
  Value wq = constant(
      b, loc,
      makeIntConstant<int8_t>(RankedTensorType::get(weightType.getShape(), i8),
                              q, name + ".qweight"));
  Value ws = constant(
      b, loc,
      makeF32Constant(channelType(b.getF32Type()), scales, name + ".wscale"));
  Value wz = constant(b, loc,
                      makeIntConstant<int8_t>(channelType(i8),
                                              std::vector<int8_t>(channels, 0),
                                              name + ".wzero"));
  Value wdq = DequantizeLinearOp::create(b, loc, wq, ws, wz, axis);

  Value bdq;
  Attribute biasAttr;
  std::optional<SmallVector<float>> biasValues;
  if (bias && matchPattern(bias, m_Constant(&biasAttr)))
    biasValues = readF32Values(biasAttr);
  auto biasType = bias ? cast<RankedTensorType>(bias.getType()) : nullptr;
  bool biasQuantized = false;
  if (biasValues && biasType.getRank() == 1 &&
      biasType.getDimSize(0) == channels) {
    std::vector<int32_t> bq(channels);
    std::vector<float> bs(channels);
    for (int64_t c = 0; c < channels; ++c) {
      bs[c] = xq.scale * scales[c];
      double v = std::nearbyint(static_cast<double>((*biasValues)[c]) / bs[c]);
      bq[c] = static_cast<int32_t>(std::clamp(v, -2147483648.0, 2147483647.0));
    }
    Value bqv = constant(
        b, loc,
        makeIntConstant<int32_t>(channelType(i32), bq, name + ".qbias"));
    Value bsv = constant(
        b, loc,
        makeF32Constant(channelType(b.getF32Type()), bs, name + ".bscale"));
    Value bzv =
        constant(b, loc,
                 makeIntConstant<int32_t>(channelType(i32),
                                          std::vector<int32_t>(channels, 0),
                                          name + ".bzero"));
    bdq = DequantizeLinearOp::create(b, loc, bqv, bsv, bzv, 0);
    biasQuantized = true;
  }
  if (conv) {
    conv.getWeightMutable().assign(wdq);
    if (bdq)
      conv.getBiasMutable().assign(bdq);
  } else {
    mm.getRhsMutable().assign(wdq);
    if (bdq)
      mm.getBiasMutable().assign(bdq);
  }
  qdq.activation(op->getResult(0), yq);

  info.quantized("w8a8", 8, stats);
  info.setS("granularity", "per output channel");
  info.setS("zero_points", "weights symmetric (0)");
  info.setF("input_scale", xq.scale);
  info.setI("input_zero_point", xq.zeroPoint);
  info.setF("input_min", inRange->second.first);
  info.setF("input_max", inRange->second.second);
  info.setF("output_scale", yq.scale);
  info.setI("output_zero_point", yq.zeroPoint);
  info.setS("bias", !bias           ? "none"
                    : biasQuantized ? "i32, scale x_scale * w_scale"
                                    : "f32 (not a constant vector)");
}

/// Moves a kernel's residual add (and the activation after it) out of the
/// epilogue, so that the kernel's own result can be quantized as
/// onnxruntime's QDQ form has it (Conv -> Q/DQ -> Add): integer kernels
/// have no residual input.
void splitResidualEpilogue(Operation *op) {
  auto conv = dyn_cast<FusedConvOp>(op);
  auto mm = dyn_cast<FusedMatMulOp>(op);
  Value residual = conv ? conv.getResidual() : mm.getResidual();
  if (!residual)
    return;
  OpBuilder b(op);
  Location loc = op->getLoc();
  Operation *kernel = b.clone(*op);
  Activation act;
  float alpha, beta;
  if (conv) {
    auto k = cast<FusedConvOp>(kernel);
    act = k.getActivation();
    alpha = k.getActAlpha().convertToFloat();
    beta = k.getActBeta().convertToFloat();
    k.getResidualMutable().clear();
    k.setActivation(Activation::None);
  } else {
    auto k = cast<FusedMatMulOp>(kernel);
    act = k.getActivation();
    alpha = k.getActAlpha().convertToFloat();
    beta = k.getActBeta().convertToFloat();
    k.getResidualMutable().clear();
    k.setActivation(Activation::None);
  }
  Value sum = AddOp::create(b, loc, kernel->getResult(0), residual);
  Value result = applyActivation(b, loc, sum, act, alpha, beta);
  op->getResult(0).replaceAllUsesWith(result);
  op->erase();
}

/// The mode sparq-compile runs on its fp32 calibration model: the graph
/// w8a8 quantizes, kernel boundaries included, with nothing quantized; each
/// kernel carries the key of its ranges as `kCalibrationKey`.
constexpr llvm::StringLiteral kCalibrationMode = "w8a8-calibration";
constexpr llvm::StringLiteral kCalibrationKey = "sparq.calibration_key";

/// The kernels of `func` in walk order with the key their calibrated ranges
/// are stored under: the ONNX node name, or NAME#INDEX (INDEX in walk
/// order; NAME "kernel" when empty) where the name is empty or shared.
SmallVector<std::pair<Operation *, std::string>>
kernelsWithKeys(func::FuncOp func) {
  SmallVector<std::pair<Operation *, std::string>> kernels;
  llvm::StringMap<int> uses;
  func.walk([&](Operation *op) {
    if (!isa<FusedMatMulOp, FusedConvOp>(op))
      return;
    kernels.push_back({op, getNodeName(op->getLoc())});
    ++uses[kernels.back().second];
  });
  for (auto [index, kernel] : llvm::enumerate(kernels)) {
    std::string &key = kernel.second;
    if (key.empty() || uses[key] > 1)
      key = (key.empty() ? "kernel" : key) + "#" + std::to_string(index);
  }
  return kernels;
}

struct QuantizePass : sparq::impl::SparqQuantizePassBase<QuantizePass> {
  using Base::Base;

  void runOnOperation() override {
    if (mode.empty())
      return;
    func::FuncOp func = getOperation();
    auto splitResiduals = [&] {
      SmallVector<Operation *> withResidual;
      func.walk([&](Operation *op) {
        if (isa<FusedMatMulOp, FusedConvOp>(op))
          withResidual.push_back(op);
      });
      for (Operation *op : withResidual)
        splitResidualEpilogue(op);
    };
    if (mode == kCalibrationMode) {
      splitResiduals();
      for (auto &[op, key] : kernelsWithKeys(func))
        op->setAttr(kCalibrationKey, StringAttr::get(&getContext(), key));
      return;
    }
    std::string error;
    std::optional<QuantizeMode> parsed = parseQuantizeMode(mode, error);
    if (!parsed) {
      func.emitError() << error;
      return signalPassFailure();
    }
    RangeMap rangeMap;
    if (parsed->kind == QuantizeMode::Int8) {
      if (ranges.empty()) {
        func.emitError() << "w8a8 needs calibrated activation ranges (option "
                            "ranges=FILE.json; sparq-compile --calibrate=DIR)";
        return signalPassFailure();
      }
      if (failed(readRanges(func, ranges, rangeMap)))
        return signalPassFailure();
      splitResiduals();
    }

    SmallVector<Attribute> layers;
    QdqBuilder qdq(&getContext());
    for (auto &[op, key] : kernelsWithKeys(func)) {
      LayerInfo info(op);
      if (parsed->kind == QuantizeMode::Int8) {
        if (key != getNodeName(op->getLoc()))
          info.setS("calibration_key", key);
        quantizeKernelQdq(op, key, rangeMap, qdq, info);
      } else if (auto mm = dyn_cast<FusedMatMulOp>(op)) {
        quantizeWeightOnly(mm, *parsed, info);
      } else {
        info.skipped("convolution: no weight-only conv kernel, kept f32");
      }
      layers.push_back(info.get());
    }
    func->setAttr("sparq.quantization", ArrayAttr::get(&getContext(), layers));
  }
};

} // namespace
