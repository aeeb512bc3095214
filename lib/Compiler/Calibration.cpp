//===- Calibration.cpp - calibration data and error measurement -----------===//
//
// Calibration inputs, kernel instrumentation, running compiled models in
// process, range statistics and output error for post-training
// quantization in sparq-compile.
//
//===----------------------------------------------------------------------===//

#include "Calibration.h"

#include "sparq/Dialect/Sparq/IR/Sparq.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cmath>
#include <dlfcn.h>

using namespace mlir;
using namespace sparq;

//===----------------------------------------------------------------------===//
// Calibration inputs
//===----------------------------------------------------------------------===//

/// Reads DIR/input_N.{pb,npy} for every model input.
static bool loadSample(llvm::StringRef dir, const ModelSignature &signature,
                       CalibrationSample &sample, std::string &error) {
  sample.source = dir.str();
  for (size_t i = 0;; ++i) {
    std::string base = "input_" + std::to_string(i);
    llvm::SmallString<256> pb(dir), npy(dir);
    llvm::sys::path::append(pb, base + ".pb");
    llvm::sys::path::append(npy, base + ".npy");
    bool hasPb = llvm::sys::fs::exists(pb), hasNpy = llvm::sys::fs::exists(npy);
    if (i >= signature.inputs.size()) {
      if (hasPb || hasNpy) {
        error = (hasPb ? pb : npy).str().str() + ": the model has only " +
                std::to_string(signature.inputs.size()) + " input(s)";
        return false;
      }
      return true;
    }
    const TensorSignature &want = signature.inputs[i];
    if (!hasPb && !hasNpy) {
      error = pb.str().str() + ": missing (calibration input for '" +
              want.name + "')";
      return false;
    }
    std::string path = (hasPb ? pb : npy).str().str();
    run::HostTensor t;
    if (!(hasPb ? run::readTensorProto(path, t, error)
                : run::readNpy(path, t, error)))
      return false;
    std::vector<int64_t> shape(want.shape.begin(), want.shape.end());
    if (want.dtype != run::dtypeName(t.dtype())) {
      error = path + ": input '" + want.name + "' expects dtype " + want.dtype +
              " but the file holds " + run::dtypeName(t.dtype());
      return false;
    }
    if (t.shape() != shape) {
      error = path + ": input '" + want.name + "' expects shape " +
              run::formatShape(shape) + " but the file holds " +
              run::formatShape(t.shape());
      return false;
    }
    sample.inputs.push_back(std::move(t));
  }
}

bool sparq::loadCalibrationSamples(llvm::StringRef dir,
                                   const ModelSignature &signature,
                                   std::vector<CalibrationSample> &samples,
                                   std::string &error) {
  if (!llvm::sys::fs::is_directory(dir)) {
    error = "--calibrate: '" + dir.str() + "' is not a directory";
    return false;
  }
  std::vector<std::pair<long, std::string>> sets;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec)) {
    llvm::StringRef name = llvm::sys::path::filename(it->path());
    long index;
    if (llvm::sys::fs::is_directory(it->path()) &&
        name.consume_front("test_data_set_") && !name.getAsInteger(10, index))
      sets.push_back({index, it->path()});
  }
  std::sort(sets.begin(), sets.end());
  if (sets.empty()) {
    llvm::SmallString<256> pb(dir), npy(dir);
    llvm::sys::path::append(pb, "input_0.pb");
    llvm::sys::path::append(npy, "input_0.npy");
    if (llvm::sys::fs::exists(pb) || llvm::sys::fs::exists(npy))
      sets.push_back({0, dir.str()});
  }
  if (sets.empty()) {
    error = "--calibrate: no calibration inputs in '" + dir.str() +
            "' (expected input_N.pb files or test_data_set_*/input_N.pb)";
    return false;
  }
  for (auto &[index, path] : sets)
    if (!loadSample(path, signature, samples.emplace_back(), error))
      return false;
  return true;
}

//===----------------------------------------------------------------------===//
// Instrumentation
//===----------------------------------------------------------------------===//

std::vector<ProbedTensor> sparq::instrumentKernels(func::FuncOp entry) {
  std::vector<ProbedTensor> probes;
  llvm::DenseMap<Value, size_t> probeOf;
  SmallVector<Value> extra;
  Operation *ret = entry.getBody().back().getTerminator();
  // Values the model already returns are read from that output; a value is
  // never returned twice.
  llvm::DenseMap<Value, unsigned> returned;
  for (auto [i, v] : llvm::enumerate(ret->getOperands()))
    returned.try_emplace(v, i);
  auto probe = [&](Value v, std::string key) {
    auto [it, inserted] = probeOf.try_emplace(v, probes.size());
    if (!inserted) {
      probes[it->second].keys.push_back(key);
      return;
    }
    ProbedTensor p;
    p.keys.push_back(key);
    if (auto arg = dyn_cast<BlockArgument>(v);
        arg && arg.getOwner()->getParentOp() == entry) {
      p.isModelInput = true;
      p.index = arg.getArgNumber();
    } else if (auto it = returned.find(v); it != returned.end()) {
      p.index = it->second;
    } else {
      p.index = entry.getNumResults() + extra.size();
      extra.push_back(v);
    }
    probes.push_back(std::move(p));
  };
  entry.walk([&](Operation *op) {
    if (!isa<FusedConvOp, FusedMatMulOp>(op))
      return;
    // sparq-quantize's calibration mode names every kernel's ranges.
    auto key = op->getAttrOfType<StringAttr>("sparq.calibration_key");
    std::string name = key ? key.str() : getNodeName(op->getLoc());
    probe(op->getOperand(0), name + ":input");
    probe(op->getResult(0), name + ":output");
  });
  Builder b(entry.getContext());
  for (Value v : extra) {
    unsigned index = entry.getNumResults();
    ret->insertOperands(ret->getNumOperands(), v);
    const std::string &key = probes[probeOf[v]].keys.front();
    (void)entry.insertResult(
        index, v.getType(),
        b.getDictionaryAttr(b.getNamedAttr("onnx.name", b.getStringAttr(key))));
  }
  return probes;
}

//===----------------------------------------------------------------------===//
// Running a compiled model
//===----------------------------------------------------------------------===//

struct LoadedModel::Api {
  decltype(&sparq_model_create) create = nullptr;
  decltype(&sparq_model_destroy) destroy = nullptr;
  decltype(&sparq_model_num_outputs) numOutputs = nullptr;
  decltype(&sparq_model_output_info) outputInfo = nullptr;
  decltype(&sparq_model_run) run = nullptr;
  decltype(&sparq_model_last_error) modelError = nullptr;
  decltype(&sparq_last_error) lastError = nullptr;
  std::vector<std::pair<sparq_dtype, std::vector<int64_t>>> outputs;
};

LoadedModel::~LoadedModel() {
  if (api && model)
    api->destroy(static_cast<sparq_model *>(model));
  delete api;
  if (handle)
    dlclose(handle);
}

bool LoadedModel::load(const std::string &path, std::string &error) {
  // A bare file name would make dlopen search the library path.
  llvm::SmallString<256> absolute(path);
  llvm::sys::fs::make_absolute(absolute);
  handle = dlopen(absolute.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    error = "cannot load '" + path + "': " + (why ? why : "dlopen failed");
    return false;
  }
  api = new Api;
  bool ok = true;
  auto resolve = [&](auto &fn, const char *name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
        dlsym(handle, name));
    if (!fn && ok) {
      error = "'" + path + "' has no symbol " + name;
      ok = false;
    }
  };
  resolve(api->create, "sparq_model_create");
  resolve(api->destroy, "sparq_model_destroy");
  resolve(api->numOutputs, "sparq_model_num_outputs");
  resolve(api->outputInfo, "sparq_model_output_info");
  resolve(api->run, "sparq_model_run");
  resolve(api->modelError, "sparq_model_last_error");
  resolve(api->lastError, "sparq_last_error");
  if (!ok)
    return false;
  sparq_model *m = nullptr;
  if (api->create(0, &m) != SPARQ_OK || !m) {
    error = "cannot create the model in '" + path + "': " + api->lastError();
    return false;
  }
  model = m;
  for (int32_t i = 0, e = api->numOutputs(m); i < e; ++i) {
    sparq_dtype dtype;
    int32_t rank = 0;
    const int64_t *shape = nullptr;
    api->outputInfo(m, i, nullptr, &dtype, &rank, &shape);
    api->outputs.push_back({dtype, std::vector<int64_t>(shape, shape + rank)});
  }
  return true;
}

unsigned LoadedModel::numOutputs() const { return api->outputs.size(); }

bool LoadedModel::run(std::vector<run::HostTensor> &inputs,
                      std::vector<run::HostTensor> &outputs,
                      std::string &error) {
  outputs.clear();
  for (auto &[dtype, shape] : api->outputs)
    outputs.emplace_back(dtype, shape);
  auto describe = [](run::HostTensor &t) {
    return sparq_tensor{t.data(), t.dtype(),
                        static_cast<int32_t>(t.shape().size()),
                        t.shape().data()};
  };
  std::vector<sparq_tensor> in, out;
  for (run::HostTensor &t : inputs)
    in.push_back(describe(t));
  for (run::HostTensor &t : outputs)
    out.push_back(describe(t));
  auto *m = static_cast<sparq_model *>(model);
  if (api->run(m, in.data(), in.size(), out.data(), out.size()) != SPARQ_OK) {
    error = std::string("model run failed: ") + api->modelError(m);
    return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Range statistics
//===----------------------------------------------------------------------===//

/// Values kept per tensor (over all samples) for percentiles; larger
/// tensors are subsampled with a fixed stride.
static constexpr int64_t kPercentileBudget = 1 << 18;

void RangeCollector::add(const std::string &key, const run::HostTensor &t) {
  Stats &s = stats[key];
  int64_t n = t.numElements();
  int64_t stride =
      percentile ? std::max<int64_t>(1, n * samples / kPercentileBudget) : 0;
  for (int64_t i = 0; i < n; ++i) {
    double v = t.elementAsDouble(i);
    if (!std::isfinite(v))
      continue;
    if (!s.seen) {
      s.lo = s.hi = v;
      s.seen = true;
    }
    s.lo = std::min(s.lo, v);
    s.hi = std::max(s.hi, v);
    if (percentile && i % stride == 0)
      s.values.push_back(static_cast<float>(v));
  }
}

std::string RangeCollector::json(double percentileValue) const {
  llvm::json::Object tensors;
  for (const auto &entry : stats) {
    const Stats &s = entry.getValue();
    double lo = s.lo, hi = s.hi;
    if (percentile && !s.values.empty()) {
      std::vector<float> v = s.values;
      auto at = [&](double q) {
        size_t k = static_cast<size_t>(
            std::llround(q * static_cast<double>(v.size() - 1)));
        std::nth_element(v.begin(), v.begin() + k, v.end());
        return static_cast<double>(v[k]);
      };
      lo = at(1.0 - percentileValue / 100.0);
      hi = at(percentileValue / 100.0);
    }
    tensors[entry.getKey()] = llvm::json::Array{lo, hi};
  }
  llvm::json::Object root{{"method", percentile ? "percentile" : "minmax"},
                          {"samples", samples},
                          {"tensors", std::move(tensors)}};
  if (percentile)
    root["percentile"] = percentileValue;
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
  return text;
}

//===----------------------------------------------------------------------===//
// Output error
//===----------------------------------------------------------------------===//

OutputErrorMeter::OutputErrorMeter(const ModelSignature &signature) {
  for (const TensorSignature &t : signature.outputs)
    names.push_back(t.name);
  acc.resize(names.size());
}

void OutputErrorMeter::add(const std::vector<run::HostTensor> &reference,
                           const std::vector<run::HostTensor> &quantized) {
  for (size_t o = 0; o < acc.size(); ++o) {
    const run::HostTensor &f = reference[o], &q = quantized[o];
    Acc &a = acc[o];
    int64_t n = f.numElements();
    for (int64_t i = 0; i < n; ++i) {
      double d = q.elementAsDouble(i) - f.elementAsDouble(i);
      a.diffSq += d * d;
      a.refSq += f.elementAsDouble(i) * f.elementAsDouble(i);
      a.maxAbs = std::max(a.maxAbs, std::fabs(d));
    }
    int64_t last = f.shape().empty() ? 1 : f.shape().back();
    if (last <= 1)
      continue;
    for (int64_t r = 0; r < n / last; ++r) {
      int64_t bestF = 0, bestQ = 0;
      for (int64_t c = 1; c < last; ++c) {
        if (f.elementAsDouble(r * last + c) >
            f.elementAsDouble(r * last + bestF))
          bestF = c;
        if (q.elementAsDouble(r * last + c) >
            q.elementAsDouble(r * last + bestQ))
          bestQ = c;
      }
      a.agree += bestF == bestQ;
      ++a.rows;
    }
  }
}

std::vector<OutputError> OutputErrorMeter::result() const {
  std::vector<OutputError> out;
  for (size_t o = 0; o < acc.size(); ++o) {
    const Acc &a = acc[o];
    OutputError e;
    e.name = names[o];
    e.relL2 = a.refSq > 0 ? std::sqrt(a.diffSq / a.refSq) : std::sqrt(a.diffSq);
    e.maxAbs = a.maxAbs;
    e.rows = a.rows;
    if (a.rows)
      e.top1 = static_cast<double>(a.agree) / a.rows;
    out.push_back(e);
  }
  return out;
}
