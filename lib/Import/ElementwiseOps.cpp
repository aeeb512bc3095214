//===- ElementwiseOps.cpp - Importers of ONNX elementwise ops -------------===//
//
// Unary math and activations, broadcasting binary ops, the variadic
// Sum/Mean/Min/Max (chains of binary ops), comparisons and logic, Where,
// Clip (attribute bounds before opset 11, optional inputs after), Cast, Mod
// and Gelu.
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"

using namespace mlir;
using namespace sparq;
using namespace sparq::onnx_import;

namespace {

template <typename OpTy>
LogicalResult importUnary(NodeContext &n) {
  if (failed(n.checkInputs(1, 1)))
    return failure();
  FailureOr<Value> r = n.create<OpTy>(n.input(0));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

template <typename OpTy>
LogicalResult importBinary(NodeContext &n) {
  if (failed(n.checkInputs(2, 2)))
    return failure();
  FailureOr<Value> r = n.create<OpTy>(n.input(0), n.input(1));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

/// Folds the present inputs left to right with OpTy (Sum, Min, Max).
template <typename OpTy>
FailureOr<Value> chain(NodeContext &n) {
  if (n.numInputs() == 0 || !n.hasInput(0))
    return n.fail("expected at least one input");
  Value acc = n.input(0);
  for (unsigned i = 1; i < n.numInputs(); ++i) {
    if (!n.hasInput(i))
      return n.fail("input " + llvm::Twine(i) + " is empty");
    FailureOr<Value> next = n.create<OpTy>(acc, n.input(i));
    if (failed(next))
      return failure();
    acc = *next;
  }
  return acc;
}

template <typename OpTy>
LogicalResult importVariadic(NodeContext &n) {
  FailureOr<Value> r = chain<OpTy>(n);
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importMean(NodeContext &n) {
  FailureOr<Value> sum = chain<AddOp>(n);
  if (failed(sum))
    return failure();
  Type et = NodeContext::typeOf(*sum).getElementType();
  if (!isa<FloatType>(et))
    return n.fail("Mean needs a floating-point element type");
  FailureOr<Value> r =
      n.create<DivOp>(*sum, n.scalarConstant(et, (double)n.numInputs()));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

/// Unary activations with one float attribute `alpha`.
template <typename OpTy>
LogicalResult importAlphaUnary(NodeContext &n, float dflt) {
  if (failed(n.checkInputs(1, 1)))
    return failure();
  FailureOr<float> alpha = n.floatAttr("alpha", dflt);
  if (failed(alpha))
    return failure();
  FailureOr<Value> r = n.create<OpTy>(n.input(0), n.f32(*alpha));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importSelu(NodeContext &n) {
  if (failed(n.checkInputs(1, 1)))
    return failure();
  FailureOr<float> alpha = n.floatAttr("alpha", 1.67326319217681884765625f);
  FailureOr<float> gamma = n.floatAttr("gamma", 1.05070102214813232421875f);
  if (failed(alpha) || failed(gamma))
    return failure();
  FailureOr<Value> r =
      n.create<SeluOp>(n.input(0), n.f32(*alpha), n.f32(*gamma));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importHardSigmoid(NodeContext &n) {
  if (failed(n.checkInputs(1, 1)))
    return failure();
  FailureOr<float> alpha = n.floatAttr("alpha", 0.2f);
  FailureOr<float> beta = n.floatAttr("beta", 0.5f);
  if (failed(alpha) || failed(beta))
    return failure();
  FailureOr<Value> r =
      n.create<HardSigmoidOp>(n.input(0), n.f32(*alpha), n.f32(*beta));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importGelu(NodeContext &n) {
  if (n.opset < 20)
    return n.fail("Gelu is an ai.onnx op from opset 20 on (the model imports "
                  "opset " + Twine(n.opset) + ")");
  if (failed(n.checkInputs(1, 1)))
    return failure();
  FailureOr<std::string> approximate = n.stringAttr("approximate", "none");
  if (failed(approximate))
    return failure();
  if (*approximate != "none" && *approximate != "tanh")
    return n.fail("attribute 'approximate' must be \"none\" or \"tanh\", got \"" +
                  *approximate + "\"");
  FailureOr<Value> r =
      n.create<GeluOp>(n.input(0), n.boolean(*approximate == "tanh"));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importClip(NodeContext &n) {
  Value x;
  std::optional<double> lo, hi;
  Value loTensor, hiTensor;
  if (n.opset < 11) {
    if (failed(n.checkInputs(1, 1)))
      return failure();
    x = n.input(0);
    if (n.hasAttr("min")) {
      FailureOr<float> v = n.floatAttr("min", std::nullopt);
      if (failed(v))
        return failure();
      lo = *v;
    }
    if (n.hasAttr("max")) {
      FailureOr<float> v = n.floatAttr("max", std::nullopt);
      if (failed(v))
        return failure();
      hi = *v;
    }
  } else {
    if (failed(n.checkInputs(1, 3)))
      return failure();
    x = n.input(0);
    for (unsigned i : {1u, 2u}) {
      if (!n.hasInput(i))
        continue;
      Value bound = n.input(i);
      if (NodeContext::typeOf(bound).getNumElements() != 1 &&
          NodeContext::typeOf(bound).hasStaticShape())
        return n.fail(llvm::Twine(i == 1 ? "min" : "max") +
                      " must be a scalar");
      if (n.constantInput(i)) {
        FailureOr<double> v = n.constScalarInput(i, i == 1 ? "min" : "max");
        if (failed(v))
          return failure();
        (i == 1 ? lo : hi) = *v;
      } else {
        (i == 1 ? loTensor : hiTensor) = bound;
      }
    }
  }
  // ONNX clips as min(max(x, lo), hi): apply the lower bound first.
  auto f64 = [&](std::optional<double> v) {
    return v ? n.builder.getF64FloatAttr(*v) : FloatAttr();
  };
  Value result = x;
  if (!loTensor && !hiTensor) {
    FailureOr<Value> r = n.create<ClipOp>(x, f64(lo), f64(hi));
    if (failed(r))
      return failure();
    n.setOutput(0, *r);
    return success();
  }
  FailureOr<Value> r = x;
  if (lo)
    r = n.create<ClipOp>(result, f64(lo), FloatAttr());
  else if (loTensor)
    r = n.create<MaxOp>(result, loTensor);
  if (failed(r))
    return failure();
  result = *r;
  if (hi)
    r = n.create<ClipOp>(result, FloatAttr(), f64(hi));
  else if (hiTensor)
    r = n.create<MinOp>(result, hiTensor);
  if (failed(r))
    return failure();
  result = *r;
  n.setOutput(0, result);
  return success();
}

LogicalResult importCast(NodeContext &n) {
  if (failed(n.checkInputs(1, 1)))
    return failure();
  FailureOr<int64_t> to = n.intAttr("to", std::nullopt);
  if (failed(to))
    return failure();
  Type type = convertElementType(n.getContext(), (int32_t)*to);
  if (!type || *to != (int32_t)*to)
    return n.fail("cast to " + dataTypeName((int32_t)*to) + " is unsupported");
  FailureOr<Value> r = n.create<CastOp>(n.input(0), TypeAttr::get(type));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importMod(NodeContext &n) {
  if (failed(n.checkInputs(2, 2)))
    return failure();
  FailureOr<int64_t> fmod = n.intAttr("fmod", 0);
  if (failed(fmod))
    return failure();
  Type et = NodeContext::typeOf(n.input(0)).getElementType();
  bool isFloat = isa<FloatType>(et);
  if (isFloat && *fmod != 1)
    return n.fail("floating-point Mod requires fmod=1");
  if (*fmod != 0 && *fmod != 1)
    return n.fail("fmod must be 0 or 1");
  FailureOr<Value> r = n.create<ModOp>(n.input(0), n.input(1), *fmod == 1);
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

LogicalResult importWhere(NodeContext &n) {
  if (failed(n.checkInputs(3, 3)))
    return failure();
  FailureOr<Value> r = n.create<WhereOp>(n.input(0), n.input(1), n.input(2));
  if (failed(r))
    return failure();
  n.setOutput(0, *r);
  return success();
}

} // namespace

void sparq::onnx_import::registerElementwiseImporters(
    OpImporterRegistry &registry) {
  registry["Add"] = importBinary<AddOp>;
  registry["Sub"] = importBinary<SubOp>;
  registry["Mul"] = importBinary<MulOp>;
  registry["Div"] = importBinary<DivOp>;
  registry["Pow"] = importBinary<PowOp>;
  registry["PRelu"] = importBinary<PReluOp>;
  registry["Equal"] = importBinary<EqualOp>;
  registry["Less"] = importBinary<LessOp>;
  registry["LessOrEqual"] = importBinary<LessOrEqualOp>;
  registry["Greater"] = importBinary<GreaterOp>;
  registry["GreaterOrEqual"] = importBinary<GreaterOrEqualOp>;
  registry["And"] = importBinary<AndOp>;
  registry["Or"] = importBinary<OrOp>;
  registry["Xor"] = importBinary<XorOp>;
  registry["Mod"] = importMod;
  registry["Where"] = importWhere;
  registry["Sum"] = importVariadic<AddOp>;
  registry["Min"] = importVariadic<MinOp>;
  registry["Max"] = importVariadic<MaxOp>;
  registry["Mean"] = importMean;

  registry["Sqrt"] = importUnary<SqrtOp>;
  registry["Reciprocal"] = importUnary<ReciprocalOp>;
  registry["Exp"] = importUnary<ExpOp>;
  registry["Log"] = importUnary<LogOp>;
  registry["Erf"] = importUnary<ErfOp>;
  registry["Tanh"] = importUnary<TanhOp>;
  registry["Sigmoid"] = importUnary<SigmoidOp>;
  registry["Relu"] = importUnary<ReluOp>;
  registry["Neg"] = importUnary<NegOp>;
  registry["Abs"] = importUnary<AbsOp>;
  registry["Floor"] = importUnary<FloorOp>;
  registry["Ceil"] = importUnary<CeilOp>;
  registry["Round"] = importUnary<RoundOp>;
  registry["Sign"] = importUnary<SignOp>;
  registry["Not"] = importUnary<NotOp>;
  registry["Sin"] = importUnary<SinOp>;
  registry["Cos"] = importUnary<CosOp>;
  registry["Tan"] = importUnary<TanOp>;
  registry["Asin"] = importUnary<AsinOp>;
  registry["Acos"] = importUnary<AcosOp>;
  registry["Atan"] = importUnary<AtanOp>;
  registry["Sinh"] = importUnary<SinhOp>;
  registry["Cosh"] = importUnary<CoshOp>;
  registry["Asinh"] = importUnary<AsinhOp>;
  registry["Acosh"] = importUnary<AcoshOp>;
  registry["Atanh"] = importUnary<AtanhOp>;
  registry["Softplus"] = importUnary<SoftplusOp>;
  registry["Softsign"] = importUnary<SoftsignOp>;
  registry["Mish"] = importUnary<MishOp>;
  registry["HardSwish"] = importUnary<HardSwishOp>;

  registry["LeakyRelu"] = [](NodeContext &n) {
    return importAlphaUnary<LeakyReluOp>(n, 0.01f);
  };
  registry["Elu"] = [](NodeContext &n) {
    return importAlphaUnary<EluOp>(n, 1.0f);
  };
  registry["Celu"] = [](NodeContext &n) {
    return importAlphaUnary<CeluOp>(n, 1.0f);
  };
  registry["ThresholdedRelu"] = [](NodeContext &n) {
    return importAlphaUnary<ThresholdedReluOp>(n, 1.0f);
  };
  registry["Selu"] = importSelu;
  registry["HardSigmoid"] = importHardSigmoid;
  registry["Gelu"] = importGelu;
  registry["Clip"] = importClip;
  registry["Cast"] = importCast;
}
