//===- DataMovementOps.cpp - Importers of ONNX data movement ops ----------===//
//
// Transpose, Concat, Gather, Tile, Trilu, Pad (attributes before opset 11,
// inputs after, axes from opset 18), Slice (attributes before opset 10) and
// Split (one sparq.slice per output). ONNX's negative indices, clamping and
// optional axes are normalized here into full-rank sparq attributes.
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"

#include <climits>

using namespace mlir;
using namespace sparq;
using namespace sparq::onnx_import;

static constexpr int64_t kDyn = ShapedType::kDynamic;

namespace {

LogicalResult importTranspose(NodeContext &n) {
  if (failed(n.checkInputs(1, 1)))
    return failure();
  Value x = n.input(0);
  int64_t rank = NodeContext::typeOf(x).getRank();
  SmallVector<int64_t> reversed;
  for (int64_t d = rank - 1; d >= 0; --d)
    reversed.push_back(d);
  FailureOr<SmallVector<int64_t>> perm = n.intsAttr("perm", reversed);
  if (failed(perm))
    return failure();
  if ((int64_t)perm->size() != rank)
    return n.fail("perm has " + Twine(perm->size()) + " entries for a rank-" +
                  Twine(rank) + " input");
  SmallVector<bool> seen(rank, false);
  for (int64_t p : *perm) {
    if (p < 0 || p >= rank || seen[p])
      return n.fail("perm is not a permutation of [0, " + Twine(rank) + ")");
    seen[p] = true;
  }
  FailureOr<Value> r = n.create<TransposeOp>(x, n.i64Array(*perm));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importConcat(NodeContext &n) {
  SmallVector<Value> inputs;
  for (unsigned i = 0; i < n.numInputs(); ++i) {
    if (!n.hasInput(i))
      return n.fail("input " + Twine(i) + " is empty");
    inputs.push_back(n.input(i));
  }
  if (inputs.empty())
    return n.fail("expected at least one input");
  FailureOr<int64_t> axis = n.intAttr("axis", std::nullopt);
  if (failed(axis))
    return failure();
  FailureOr<int64_t> a = n.normalizeAxis(
      *axis, NodeContext::typeOf(inputs[0]).getRank(), "axis");
  if (failed(a))
    return failure();
  FailureOr<Value> r = n.create<ConcatOp>(ValueRange(inputs), n.i64(*a));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importGather(NodeContext &n) {
  if (failed(n.checkInputs(2, 2)))
    return failure();
  FailureOr<int64_t> axis = n.intAttr("axis", 0);
  if (failed(axis))
    return failure();
  FailureOr<int64_t> a = n.normalizeAxis(
      *axis, NodeContext::typeOf(n.input(0)).getRank(), "axis");
  if (failed(a))
    return failure();
  FailureOr<Value> r = n.create<GatherOp>(n.input(0), n.input(1), n.i64(*a));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importTile(NodeContext &n) {
  if (failed(n.checkInputs(2, 2)))
    return failure();
  FailureOr<SmallVector<int64_t>> repeats = n.constIntsInput(1, "repeats");
  if (failed(repeats))
    return failure();
  int64_t rank = NodeContext::typeOf(n.input(0)).getRank();
  if ((int64_t)repeats->size() != rank)
    return n.fail("repeats has " + Twine(repeats->size()) +
                  " entries for a rank-" + Twine(rank) + " input");
  for (int64_t r : *repeats)
    if (r < 0)
      return n.fail("repeats must be non-negative, got " + Twine(r));
  SmallVector<int64_t> outDims;
  for (auto [d, r] : llvm::zip(NodeContext::typeOf(n.input(0)).getShape(),
                               *repeats))
    if (d != kDyn)
      outDims.push_back(d), outDims.push_back(r);
  if (failed(checkedNumElements(outDims)))
    return n.fail("the tiled shape has more elements than int64 holds");
  FailureOr<Value> r = n.create<TileOp>(n.input(0), n.i64Array(*repeats));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importTrilu(NodeContext &n) {
  if (failed(n.checkInputs(1, 2)))
    return failure();
  FailureOr<int64_t> upper = n.intAttr("upper", 1);
  if (failed(upper))
    return failure();
  int64_t k = 0;
  if (n.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> kv = n.constIntsInput(1, "k");
    if (failed(kv))
      return failure();
    if (kv->size() != 1)
      return n.fail("k must hold exactly one value");
    k = (*kv)[0];
  }
  if (NodeContext::typeOf(n.input(0)).getRank() < 2)
    return n.fail("input must have rank >= 2");
  FailureOr<Value> r =
      n.create<TriluOp>(n.input(0), n.boolean(*upper != 0), n.i64(k));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importPad(NodeContext &n) {
  Value x;
  SmallVector<int64_t> pads;
  double value = 0.0;
  FailureOr<std::string> mode = n.stringAttr("mode", "constant");
  if (failed(mode))
    return failure();
  if (*mode != "constant" && *mode != "reflect" && *mode != "edge")
    return n.fail("pad mode '" + *mode + "' is unsupported");
  if (n.opset < 11) {
    if (failed(n.checkInputs(1, 1)))
      return failure();
    x = n.input(0);
    FailureOr<SmallVector<int64_t>> p = n.intsAttr("pads", std::nullopt);
    FailureOr<float> v = n.floatAttr("value", 0.0f);
    if (failed(p) || failed(v))
      return failure();
    pads = *p;
    value = *v;
  } else {
    if (failed(n.checkInputs(2, n.opset >= 18 ? 4 : 3)))
      return failure();
    x = n.input(0);
    FailureOr<SmallVector<int64_t>> p = n.constIntsInput(1, "pads");
    if (failed(p))
      return failure();
    pads = *p;
    if (n.hasInput(2)) {
      FailureOr<double> v = n.constScalarInput(2, "constant_value");
      if (failed(v))
        return failure();
      value = *v;
    }
    if (n.hasInput(3)) {
      int64_t rank = NodeContext::typeOf(x).getRank();
      FailureOr<SmallVector<int64_t>> axes = n.constIntsInput(3, "axes");
      if (failed(axes))
        return failure();
      if (pads.size() != 2 * axes->size())
        return n.fail("pads has " + Twine(pads.size()) + " entries for " +
                      Twine(axes->size()) + " axes");
      SmallVector<int64_t> full(2 * rank, 0);
      SmallVector<bool> seen(rank, false);
      for (auto [i, axis] : llvm::enumerate(*axes)) {
        FailureOr<int64_t> a = n.normalizeAxis(axis, rank, "axes");
        if (failed(a))
          return failure();
        if (seen[*a])
          return n.fail("axes contains a repeated axis");
        seen[*a] = true;
        full[*a] = pads[i];
        full[*a + rank] = pads[i + axes->size()];
      }
      pads = full;
    }
  }
  int64_t rank = NodeContext::typeOf(x).getRank();
  if ((int64_t)pads.size() != 2 * rank)
    return n.fail("pads has " + Twine(pads.size()) + " entries, expected " +
                  Twine(2 * rank));
  FailureOr<Value> r = n.create<PadOp>(x, n.i64Array(pads),
                                       n.builder.getStringAttr(*mode),
                                       n.builder.getF64FloatAttr(value));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

/// Full-rank slice parameters, starting as the identity slice.
struct SliceParams {
  SmallVector<int64_t> starts, ends, steps;
  explicit SliceParams(ArrayRef<int64_t> shape) {
    for (int64_t d : shape) {
      starts.push_back(0);
      ends.push_back(d == kDyn ? INT64_MAX : d);
      steps.push_back(1);
    }
  }
};

/// Applies ONNX's negative-index and clamping rules for one axis.
LogicalResult normalizeSliceAxis(NodeContext &n, int64_t dim, int64_t start,
                                 int64_t end, int64_t step, int64_t &outStart,
                                 int64_t &outEnd) {
  if (step == 0)
    return n.fail("slice steps must be non-zero");
  if (dim == kDyn) {
    if (start < 0 || end < 0 || step < 0)
      return n.fail("negative slice indices or steps on a dynamic dim are "
                    "unsupported");
    outStart = start;
    outEnd = end;
    return success();
  }
  if (start < 0)
    start += dim;
  if (end < 0)
    end += dim;
  if (step > 0) {
    outStart = std::clamp<int64_t>(start, 0, dim);
    outEnd = std::clamp<int64_t>(end, 0, dim);
  } else {
    outStart = std::clamp<int64_t>(start, 0, dim - 1);
    outEnd = std::clamp<int64_t>(end, -1, dim - 1);
  }
  return success();
}

LogicalResult importSlice(NodeContext &n) {
  SmallVector<int64_t> starts, ends, axes, steps;
  if (n.opset < 10) {
    if (failed(n.checkInputs(1, 1)))
      return failure();
    FailureOr<SmallVector<int64_t>> s = n.intsAttr("starts", std::nullopt);
    FailureOr<SmallVector<int64_t>> e = n.intsAttr("ends", std::nullopt);
    FailureOr<SmallVector<int64_t>> a = n.intsAttr("axes", SmallVector<int64_t>{});
    if (failed(s) || failed(e) || failed(a))
      return failure();
    starts = *s, ends = *e, axes = *a;
  } else {
    if (failed(n.checkInputs(3, 5)))
      return failure();
    FailureOr<SmallVector<int64_t>> s = n.constIntsInput(1, "starts");
    if (failed(s))
      return failure();
    FailureOr<SmallVector<int64_t>> e = n.constIntsInput(2, "ends");
    if (failed(e))
      return failure();
    starts = *s, ends = *e;
    if (n.hasInput(3)) {
      FailureOr<SmallVector<int64_t>> a = n.constIntsInput(3, "axes");
      if (failed(a))
        return failure();
      axes = *a;
    }
    if (n.hasInput(4)) {
      FailureOr<SmallVector<int64_t>> st = n.constIntsInput(4, "steps");
      if (failed(st))
        return failure();
      steps = *st;
    }
  }
  Value x = n.input(0);
  ArrayRef<int64_t> shape = NodeContext::typeOf(x).getShape();
  int64_t rank = shape.size();
  if (starts.size() != ends.size())
    return n.fail("starts has " + Twine(starts.size()) + " entries but ends "
                  "has " + Twine(ends.size()));
  if (axes.empty())
    for (int64_t i = 0; i < (int64_t)starts.size(); ++i)
      axes.push_back(i);
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size())
    return n.fail("starts, ends, axes and steps must have the same length");
  SliceParams params(shape);
  SmallVector<bool> seen(rank, false);
  for (size_t i = 0; i < axes.size(); ++i) {
    FailureOr<int64_t> axis = n.normalizeAxis(axes[i], rank, "axes");
    if (failed(axis))
      return failure();
    if (seen[*axis])
      return n.fail("axes contains a repeated axis");
    seen[*axis] = true;
    if (failed(normalizeSliceAxis(n, shape[*axis], starts[i], ends[i],
                                  steps[i], params.starts[*axis],
                                  params.ends[*axis])))
      return failure();
    params.steps[*axis] = steps[i];
  }
  FailureOr<Value> r =
      n.create<SliceOp>(x, n.i64Array(params.starts), n.i64Array(params.ends),
                        n.i64Array(params.steps));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importSplit(NodeContext &n) {
  bool splitAsInput = n.opset >= 13;
  if (failed(n.checkInputs(1, splitAsInput ? 2 : 1)))
    return failure();
  Value x = n.input(0);
  ArrayRef<int64_t> shape = NodeContext::typeOf(x).getShape();
  FailureOr<int64_t> axisAttr = n.intAttr("axis", 0);
  if (failed(axisAttr))
    return failure();
  FailureOr<int64_t> axis =
      n.normalizeAxis(*axisAttr, shape.size(), "axis");
  if (failed(axis))
    return failure();
  int64_t numOutputs = n.numOutputs();
  if (numOutputs == 0)
    return n.fail("expected at least one output");
  SmallVector<int64_t> sizes;
  if (splitAsInput && n.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> s = n.constIntsInput(1, "split");
    if (failed(s))
      return failure();
    sizes = *s;
  } else if (!splitAsInput && n.hasAttr("split")) {
    FailureOr<SmallVector<int64_t>> s = n.intsAttr("split", std::nullopt);
    if (failed(s))
      return failure();
    sizes = *s;
  }
  int64_t dim = shape[*axis];
  if (sizes.empty()) {
    if (n.opset >= 18 && n.hasAttr("num_outputs")) {
      FailureOr<int64_t> num = n.intAttr("num_outputs", std::nullopt);
      if (failed(num))
        return failure();
      if (*num != numOutputs)
        return n.fail("num_outputs is " + Twine(*num) + " but the node has " +
                      Twine(numOutputs) + " outputs");
    }
    if (dim == kDyn)
      return n.fail("splitting a dynamic dim is unsupported");
    int64_t chunk = (dim + numOutputs - 1) / numOutputs;
    if (n.opset < 18 && dim % numOutputs != 0)
      return n.fail("dim " + Twine(dim) + " does not split evenly into " +
                    Twine(numOutputs) + " outputs");
    for (int64_t i = 0, left = dim; i < numOutputs; ++i) {
      sizes.push_back(std::min(chunk, left));
      left -= sizes.back();
    }
  }
  if ((int64_t)sizes.size() != numOutputs)
    return n.fail("split has " + Twine(sizes.size()) + " entries but the node "
                  "has " + Twine(numOutputs) + " outputs");
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0)
      return n.fail("split sizes must be non-negative, got " + Twine(s));
    if (llvm::AddOverflow(total, s, total))
      return n.fail("split sizes overflow int64");
  }
  if (dim != kDyn && total != dim)
    return n.fail("split sizes sum to " + Twine(total) + " but the dim is " +
                  Twine(dim));
  int64_t offset = 0;
  for (int64_t i = 0; i < numOutputs; ++i) {
    SliceParams params(shape);
    params.starts[*axis] = offset;
    params.ends[*axis] = offset + sizes[i];
    offset += sizes[i];
    if (!n.outputUsed(i))
      continue;
    FailureOr<Value> r = n.create<SliceOp>(x, n.i64Array(params.starts),
                                           n.i64Array(params.ends),
                                           n.i64Array(params.steps));
    if (failed(r))
      return failure();
    n.setOutput(i, *r);
  }
  return success();
}

} // namespace

void sparq::onnx_import::registerDataMovementImporters(
    OpImporterRegistry &registry) {
  registry["Transpose"] = importTranspose;
  registry["Concat"] = importConcat;
  registry["Gather"] = importGather;
  registry["Tile"] = importTile;
  registry["Trilu"] = importTrilu;
  registry["Pad"] = importPad;
  registry["Slice"] = importSlice;
  registry["Split"] = importSplit;
}
