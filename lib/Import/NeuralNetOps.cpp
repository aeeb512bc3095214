//===- NeuralNetOps.cpp - Importers of ONNX contraction/conv/norm ops -----===//
//
// MatMul, Gemm, Conv and pooling (auto_pad resolved into explicit pads,
// default strides/dilations filled in), batch and layer normalization in
// inference mode, and Softmax/LogSoftmax with the pre-opset-13 "coerce to
// 2-D" semantics emulated by reshapes.
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"

using namespace mlir;
using namespace sparq;
using namespace sparq::onnx_import;

static constexpr int64_t kDyn = ShapedType::kDynamic;

namespace {

/// Explicit window attributes of a conv or pool.
struct Window {
  SmallVector<int64_t> strides, pads, dilations;
};

/// Reads strides/pads/dilations/auto_pad for `spatial` dims. `kernel` holds
/// the kernel extent per spatial dim (kDyn when unknown) and `inputDims` the
/// input's spatial dims; both are only needed for SAME_* padding.
FailureOr<Window> resolveWindow(NodeContext &n, ArrayRef<int64_t> inputDims,
                                ArrayRef<int64_t> kernel, bool hasDilations) {
  int64_t spatial = inputDims.size();
  Window w;
  FailureOr<SmallVector<int64_t>> strides =
      n.intsAttr("strides", SmallVector<int64_t>(spatial, 1));
  FailureOr<SmallVector<int64_t>> dilations =
      hasDilations ? n.intsAttr("dilations", SmallVector<int64_t>(spatial, 1))
                   : FailureOr<SmallVector<int64_t>>(
                         SmallVector<int64_t>(spatial, 1));
  FailureOr<SmallVector<int64_t>> pads =
      n.intsAttr("pads", SmallVector<int64_t>(2 * spatial, 0));
  FailureOr<std::string> autoPad = n.stringAttr("auto_pad", "NOTSET");
  if (failed(strides) || failed(dilations) || failed(pads) || failed(autoPad))
    return failure();
  auto checkSize = [&](StringRef name, ArrayRef<int64_t> v,
                       int64_t expected) -> LogicalResult {
    if ((int64_t)v.size() != expected)
      return n.fail(name + " has " + Twine(v.size()) + " entries but the input "
                    "has " + Twine(spatial) + " spatial dims");
    return success();
  };
  if (failed(checkSize("strides", *strides, spatial)) ||
      failed(checkSize("dilations", *dilations, spatial)))
    return failure();
  for (int64_t s : *strides)
    if (s <= 0)
      return n.fail("strides must be positive, got " + Twine(s));
  for (int64_t d : *dilations)
    if (d <= 0)
      return n.fail("dilations must be positive, got " + Twine(d));
  w.strides = *strides;
  w.dilations = *dilations;
  StringRef mode = *autoPad;
  if (mode == "NOTSET" || mode.empty()) {
    if ((int64_t)pads->size() != 2 * spatial)
      return n.fail("pads has " + Twine(pads->size()) + " entries, expected " +
                    Twine(2 * spatial));
    for (int64_t p : *pads)
      if (p < 0)
        return n.fail("pads must be non-negative, got " + Twine(p));
    w.pads = *pads;
    return w;
  }
  if (mode == "VALID") {
    w.pads.assign(2 * spatial, 0);
    return w;
  }
  if (mode != "SAME_UPPER" && mode != "SAME_LOWER")
    return n.fail("unknown auto_pad '" + mode + "'");
  w.pads.assign(2 * spatial, 0);
  for (int64_t i = 0; i < spatial; ++i) {
    if (inputDims[i] == kDyn || kernel[i] == kDyn)
      return n.fail("auto_pad " + mode + " needs static spatial dims and "
                    "kernel sizes");
    int64_t out = (inputDims[i] + w.strides[i] - 1) / w.strides[i];
    int64_t span = w.dilations[i] * (kernel[i] - 1) + 1;
    int64_t total =
        std::max<int64_t>(0, (out - 1) * w.strides[i] + span - inputDims[i]);
    int64_t small = total / 2, large = total - small;
    w.pads[i] = mode == "SAME_UPPER" ? small : large;
    w.pads[i + spatial] = mode == "SAME_UPPER" ? large : small;
  }
  return w;
}

LogicalResult importMatMul(NodeContext &n) {
  if (failed(n.checkInputs(2, 2)))
    return failure();
  FailureOr<Value> r = n.create<MatMulOp>(n.input(0), n.input(1));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importGemm(NodeContext &n) {
  if (failed(n.checkInputs(2, 3)))
    return failure();
  FailureOr<float> alpha = n.floatAttr("alpha", 1.0f);
  FailureOr<float> beta = n.floatAttr("beta", 1.0f);
  FailureOr<int64_t> transA = n.intAttr("transA", 0);
  FailureOr<int64_t> transB = n.intAttr("transB", 0);
  if (failed(alpha) || failed(beta) || failed(transA) || failed(transB))
    return failure();
  Value a = n.input(0), b = n.input(1);
  if (NodeContext::typeOf(a).getRank() != 2 ||
      NodeContext::typeOf(b).getRank() != 2)
    return n.fail("Gemm operands A and B must be 2-D");
  FailureOr<Value> r =
      n.create<GemmOp>(a, b, n.input(2), n.f32(*alpha), n.f32(*beta),
                       n.boolean(*transA != 0), n.boolean(*transB != 0));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importConv(NodeContext &n) {
  if (failed(n.checkInputs(2, 3)))
    return failure();
  Value x = n.input(0), weight = n.input(1);
  FailureOr<ConvWindow> w = readConvWindow(n, x, weight);
  if (failed(w))
    return failure();
  FailureOr<Value> r =
      n.create<ConvOp>(x, weight, n.input(2), n.i64Array(w->strides),
                       n.i64Array(w->pads), n.i64Array(w->dilations),
                       n.i64(w->group));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

template <typename OpTy>
LogicalResult importPool(NodeContext &n) {
  constexpr bool isMax = std::is_same_v<OpTy, MaxPoolOp>;
  if (failed(n.checkInputs(1, 1)))
    return failure();
  if (isMax && failed(n.checkOutputsUnused(1, "MaxPool indices are "
                                              "unsupported")))
    return failure();
  Value x = n.input(0);
  RankedTensorType xType = NodeContext::typeOf(x);
  int64_t spatial = xType.getRank() - 2;
  if (spatial < 1)
    return n.fail("input must have rank >= 3, got " + Twine(xType.getRank()));
  FailureOr<SmallVector<int64_t>> kernel =
      n.intsAttr("kernel_shape", std::nullopt);
  if (failed(kernel))
    return failure();
  if ((int64_t)kernel->size() != spatial)
    return n.fail("kernel_shape has " + Twine(kernel->size()) +
                  " entries but the input has " + Twine(spatial) +
                  " spatial dims");
  for (int64_t k : *kernel)
    if (k <= 0)
      return n.fail("kernel_shape entries must be positive, got " + Twine(k));
  bool hasDilations = isMax ? n.opset >= 10 : n.opset >= 19;
  FailureOr<Window> w = resolveWindow(n, xType.getShape().drop_front(2),
                                      *kernel, hasDilations);
  FailureOr<int64_t> ceilMode = n.intAttr("ceil_mode", 0);
  if (failed(w) || failed(ceilMode))
    return failure();
  FailureOr<Value> r;
  if constexpr (isMax) {
    FailureOr<int64_t> storageOrder = n.intAttr("storage_order", 0);
    if (failed(storageOrder))
      return failure();
    r = n.create<MaxPoolOp>(x, n.i64Array(*kernel), n.i64Array(w->strides),
                            n.i64Array(w->pads), n.i64Array(w->dilations),
                            n.boolean(*ceilMode != 0));
  } else {
    FailureOr<int64_t> countPad = n.intAttr("count_include_pad", 0);
    if (failed(countPad))
      return failure();
    r = n.create<AveragePoolOp>(
        x, n.i64Array(*kernel), n.i64Array(w->strides), n.i64Array(w->pads),
        n.i64Array(w->dilations), n.boolean(*ceilMode != 0),
        n.boolean(*countPad != 0));
  }
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

template <typename OpTy>
LogicalResult importGlobalPool(NodeContext &n) {
  if (failed(n.checkInputs(1, 1)))
    return failure();
  FailureOr<Value> r = n.create<OpTy>(n.input(0));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importBatchNorm(NodeContext &n) {
  if (failed(n.checkInputs(5, 5)))
    return failure();
  if (failed(n.checkOutputsUnused(1, "training outputs are unsupported")))
    return failure();
  FailureOr<float> epsilon = n.floatAttr("epsilon", 1e-5f);
  if (failed(epsilon))
    return failure();
  if (n.opset < 9) {
    FailureOr<int64_t> spatialAttr = n.intAttr("spatial", 1);
    if (failed(spatialAttr))
      return failure();
    if (*spatialAttr != 1)
      return n.fail("spatial=0 (per-element statistics) is unsupported");
  }
  if (n.opset >= 14) {
    FailureOr<int64_t> training = n.intAttr("training_mode", 0);
    if (failed(training))
      return failure();
    if (*training != 0)
      return n.fail("training_mode=1 is unsupported (inference only)");
  }
  FailureOr<Value> r =
      n.create<BatchNormOp>(n.input(0), n.input(1), n.input(2), n.input(3),
                            n.input(4), n.f32(*epsilon));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importLayerNorm(NodeContext &n) {
  if (failed(n.checkInputs(2, 3)))
    return failure();
  if (failed(n.checkOutputsUnused(1, "mean and inverse std-dev outputs are "
                                     "unsupported")))
    return failure();
  FailureOr<int64_t> axis = n.intAttr("axis", -1);
  FailureOr<float> epsilon = n.floatAttr("epsilon", 1e-5f);
  if (failed(axis) || failed(epsilon))
    return failure();
  int64_t rank = NodeContext::typeOf(n.input(0)).getRank();
  FailureOr<int64_t> a = n.normalizeAxis(*axis, rank, "axis");
  if (failed(a))
    return failure();
  FailureOr<Value> r = n.create<LayerNormOp>(
      n.input(0), n.input(1), n.input(2), n.i64(*a), n.f32(*epsilon));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

/// Product of dims, kDyn when any is dynamic.
int64_t dimProduct(ArrayRef<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims) {
    if (d == kDyn)
      return kDyn;
    p *= d;
  }
  return p;
}

template <typename OpTy>
LogicalResult importSoftmax(NodeContext &n) {
  if (failed(n.checkInputs(1, 1)))
    return failure();
  Value x = n.input(0);
  RankedTensorType type = NodeContext::typeOf(x);
  int64_t rank = type.getRank();
  if (rank == 0)
    return n.fail("input must have rank >= 1");
  FailureOr<int64_t> axisAttr = n.intAttr("axis", n.opset >= 13 ? -1 : 1);
  if (failed(axisAttr))
    return failure();
  FailureOr<int64_t> axis = n.normalizeAxis(*axisAttr, rank, "axis");
  if (failed(axis))
    return failure();
  FailureOr<Value> r;
  if (n.opset >= 13 || *axis == rank - 1) {
    r = n.create<OpTy>(x, n.i64(n.opset >= 13 ? *axis : rank - 1));
  } else {
    // Before opset 13 the input is coerced to 2-D at `axis`.
    ArrayRef<int64_t> shape = type.getShape();
    SmallVector<int64_t> flat = {dimProduct(shape.take_front(*axis)),
                                 dimProduct(shape.drop_front(*axis))};
    if (llvm::count(shape, kDyn) > 0 && llvm::count(flat, kDyn) > 1)
      return n.fail("opset-" + Twine(n.opset) + " softmax over several "
                    "dynamic dims is unsupported");
    FailureOr<Value> flattened = n.reshape(x, flat);
    if (failed(flattened))
      return failure();
    FailureOr<Value> soft = n.create<OpTy>(*flattened, n.i64(1));
    if (failed(soft))
      return failure();
    r = n.reshape(*soft, shape);
  }
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

} // namespace

FailureOr<ConvWindow> sparq::onnx_import::readConvWindow(NodeContext &n,
                                                         Value x,
                                                         Value weight) {
  RankedTensorType xType = NodeContext::typeOf(x);
  RankedTensorType wType = NodeContext::typeOf(weight);
  int64_t spatial = xType.getRank() - 2;
  if (spatial < 1)
    return n.fail("input must have rank >= 3, got " + Twine(xType.getRank()));
  if (wType.getRank() != xType.getRank())
    return n.fail("weight has rank " + Twine(wType.getRank()) +
                  " but the input has rank " + Twine(xType.getRank()));
  SmallVector<int64_t> kernel(wType.getShape().drop_front(2));
  if (n.hasAttr("kernel_shape")) {
    FailureOr<SmallVector<int64_t>> ks = n.intsAttr("kernel_shape", {});
    if (failed(ks))
      return failure();
    if ((int64_t)ks->size() != spatial)
      return n.fail("kernel_shape has " + Twine(ks->size()) +
                    " entries but the weight has " + Twine(spatial) +
                    " spatial dims");
    for (int64_t i = 0; i < spatial; ++i) {
      if ((*ks)[i] <= 0)
        return n.fail("kernel_shape entries must be positive");
      if (kernel[i] != kDyn && kernel[i] != (*ks)[i])
        return n.fail("kernel_shape[" + Twine(i) + "] = " + Twine((*ks)[i]) +
                      " differs from the weight's dim " + Twine(kernel[i]));
      kernel[i] = (*ks)[i];
    }
  }
  FailureOr<int64_t> group = n.intAttr("group", 1);
  if (failed(group))
    return failure();
  if (*group <= 0)
    return n.fail("group must be positive, got " + Twine(*group));
  FailureOr<Window> w = resolveWindow(n, xType.getShape().drop_front(2),
                                      kernel, /*hasDilations=*/true);
  if (failed(w))
    return failure();
  return ConvWindow{w->strides, w->pads, w->dilations, *group};
}

void sparq::onnx_import::registerNeuralNetImporters(
    OpImporterRegistry &registry) {
  registry["MatMul"] = importMatMul;
  registry["Gemm"] = importGemm;
  registry["Conv"] = importConv;
  registry["MaxPool"] = importPool<MaxPoolOp>;
  registry["AveragePool"] = importPool<AveragePoolOp>;
  registry["GlobalAveragePool"] = importGlobalPool<GlobalAveragePoolOp>;
  registry["GlobalMaxPool"] = importGlobalPool<GlobalMaxPoolOp>;
  registry["BatchNormalization"] = importBatchNorm;
  registry["LayerNormalization"] = importLayerNorm;
  registry["Softmax"] = importSoftmax<SoftmaxOp>;
  registry["LogSoftmax"] = importSoftmax<LogSoftmaxOp>;
}
