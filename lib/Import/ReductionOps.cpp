//===- ReductionOps.cpp - Importers of ONNX reductions and arg-reductions -===//
//
// Reduce* ops take their axes from an attribute (ReduceSum before opset 13,
// the others before opset 18) or from an optional constant input later.
// Empty axes reduce everything unless noop_with_empty_axes makes the op an
// identity. ArgMax/ArgMin normalize their axis.
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"

using namespace mlir;
using namespace sparq;
using namespace sparq::onnx_import;

namespace {

/// `axesInputOpset` is the first opset where axes are an input.
template <typename OpTy>
LogicalResult importReduce(NodeContext &n, int64_t axesInputOpset) {
  bool axesAsInput = n.opset >= axesInputOpset;
  if (failed(n.checkInputs(1, axesAsInput ? 2 : 1)))
    return failure();
  Value x = n.input(0);
  int64_t rank = NodeContext::typeOf(x).getRank();
  FailureOr<int64_t> keepdims = n.intAttr("keepdims", 1);
  FailureOr<int64_t> noop = n.intAttr("noop_with_empty_axes", 0);
  if (failed(keepdims) || failed(noop))
    return failure();
  SmallVector<int64_t> axes;
  if (axesAsInput) {
    if (n.hasInput(1)) {
      FailureOr<SmallVector<int64_t>> v = n.constIntsInput(1, "axes");
      if (failed(v))
        return failure();
      axes = *v;
    }
  } else {
    FailureOr<SmallVector<int64_t>> v = n.intsAttr("axes", SmallVector<int64_t>{});
    if (failed(v))
      return failure();
    axes = *v;
  }
  if (axes.empty()) {
    if (*noop != 0) {
      n.setOutput(0, x);
      return success();
    }
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  }
  FailureOr<SmallVector<int64_t>> normalized =
      n.normalizeAxes(axes, rank, "axes");
  if (failed(normalized))
    return failure();
  FailureOr<Value> r =
      n.create<OpTy>(x, n.i64Array(*normalized), n.boolean(*keepdims != 0));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

template <typename OpTy>
LogicalResult importArgReduce(NodeContext &n) {
  if (failed(n.checkInputs(1, 1)))
    return failure();
  Value x = n.input(0);
  FailureOr<int64_t> axis = n.intAttr("axis", 0);
  FailureOr<int64_t> keepdims = n.intAttr("keepdims", 1);
  FailureOr<int64_t> selectLast = n.intAttr("select_last_index", 0);
  if (failed(axis) || failed(keepdims) || failed(selectLast))
    return failure();
  FailureOr<int64_t> a =
      n.normalizeAxis(*axis, NodeContext::typeOf(x).getRank(), "axis");
  if (failed(a))
    return failure();
  FailureOr<Value> r = n.create<OpTy>(x, n.i64(*a), n.boolean(*keepdims != 0),
                                      n.boolean(*selectLast != 0));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

} // namespace

void sparq::onnx_import::registerReductionImporters(
    OpImporterRegistry &registry) {
  registry["ReduceSum"] = [](NodeContext &n) {
    return importReduce<ReduceSumOp>(n, 13);
  };
  registry["ReduceMean"] = [](NodeContext &n) {
    return importReduce<ReduceMeanOp>(n, 18);
  };
  registry["ReduceMax"] = [](NodeContext &n) {
    return importReduce<ReduceMaxOp>(n, 18);
  };
  registry["ReduceMin"] = [](NodeContext &n) {
    return importReduce<ReduceMinOp>(n, 18);
  };
  registry["ReduceProd"] = [](NodeContext &n) {
    return importReduce<ReduceProdOp>(n, 18);
  };
  registry["ReduceSumSquare"] = [](NodeContext &n) {
    return importReduce<ReduceSumSquareOp>(n, 18);
  };
  registry["ReduceL1"] = [](NodeContext &n) {
    return importReduce<ReduceL1Op>(n, 18);
  };
  registry["ReduceL2"] = [](NodeContext &n) {
    return importReduce<ReduceL2Op>(n, 18);
  };
  registry["ReduceLogSumExp"] = [](NodeContext &n) {
    return importReduce<ReduceLogSumExpOp>(n, 18);
  };
  registry["ArgMax"] = importArgReduce<ArgMaxOp>;
  registry["ArgMin"] = importArgReduce<ArgMinOp>;
}
