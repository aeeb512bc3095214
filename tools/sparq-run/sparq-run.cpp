//===- sparq-run.cpp - Run, test and benchmark a compiled sparq model -----===//
//
// Loads a model shared object produced by sparq-compile through its C ABI
// (dlopen, no link-time dependency on the runtime) and runs it on inputs
// from .npy or ONNX TensorProto files, or on deterministic random data. It
// can check outputs against ONNX backend test data (test_data_set_K
// directories), save outputs as .npy, print them, and time repeated runs.
//
// Exit status: 0 success, 1 output mismatch, 2 usage, I/O or model errors.
//
//===----------------------------------------------------------------------===//

#include "HostTensor.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

using namespace sparq::run;
namespace fs = std::filesystem;

namespace {

/// A fatal problem: printed as "sparq-run: error: <message>".
struct ToolError {
  int exitCode;
  std::string message;
};

[[noreturn]] void fatal(const std::string &message, int code = 2) {
  throw ToolError{code, message};
}

const char *const kUsage =
    "usage: sparq-run MODEL.so [options]\n"
    "\n"
    "Runs a model compiled by sparq-compile.\n"
    "\n"
    "options:\n"
    "  --input NAME=FILE     input tensor from a .npy or ONNX TensorProto .pb\n"
    "                        file (repeatable); inputs not given get\n"
    "                        deterministic random data\n"
    "  --test-dir DIR        check against ONNX test data: "
    "DIR/test_data_set_K/\n"
    "                        {input_N.pb,output_N.pb} (DIR may also be one\n"
    "                        data set directory)\n"
    "  --rtol X, --atol X    tolerance |got-exp| <= atol + rtol*|exp|\n"
    "                        (defaults 1e-3 and 1e-7)\n"
    "  --save-outputs DIR    write DIR/output_N.npy for every output\n"
    "  --print               print outputs (default without --test-dir or\n"
    "                        --save-outputs)\n"
    "  --info                print the model's signature and exit\n"
    "  --threads N           worker threads (default: hardware concurrency)\n"
    "  --bench               time repeated runs (min/median/mean/p90 in ms)\n"
    "  --runs N              timed runs for --bench (default 20)\n"
    "  --warmup N            untimed runs before timing (default 3)\n"
    "  --json                with --bench, print a JSON summary as the last\n"
    "                        line of stdout\n"
    "  --seed N              seed of the random inputs (default 0)\n"
    "  --help                show this help\n";

//===----------------------------------------------------------------------===//
// The model's C API, resolved from the shared object
//===----------------------------------------------------------------------===//

struct ModelApi {
  void *handle = nullptr;
  decltype(&sparq_model_create) create = nullptr;
  decltype(&sparq_model_destroy) destroy = nullptr;
  decltype(&sparq_model_num_inputs) numInputs = nullptr;
  decltype(&sparq_model_num_outputs) numOutputs = nullptr;
  decltype(&sparq_model_input_info) inputInfo = nullptr;
  decltype(&sparq_model_output_info) outputInfo = nullptr;
  decltype(&sparq_model_run) run = nullptr;
  decltype(&sparq_model_last_error) modelError = nullptr;
  decltype(&sparq_last_error) lastError = nullptr;
  decltype(&sparq_model_num_threads) numThreads = nullptr;

  void load(const std::string &path) {
    // A bare file name would make dlopen search the library path.
    std::string target =
        path.find('/') == std::string::npos ? "./" + path : path;
    if (!fs::exists(target))
      fatal(path + ": no such file");
    handle = dlopen(target.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char *why = dlerror();
      fatal(std::string("cannot load model: ") + (why ? why : path));
    }
    resolve(create, "sparq_model_create", path);
    resolve(destroy, "sparq_model_destroy", path);
    resolve(numInputs, "sparq_model_num_inputs", path);
    resolve(numOutputs, "sparq_model_num_outputs", path);
    resolve(inputInfo, "sparq_model_input_info", path);
    resolve(outputInfo, "sparq_model_output_info", path);
    resolve(run, "sparq_model_run", path);
    resolve(modelError, "sparq_model_last_error", path);
    resolve(lastError, "sparq_last_error", path);
    resolve(numThreads, "sparq_model_num_threads", path);
  }

  template <typename Fn>
  void resolve(Fn &fn, const char *name, const std::string &path) {
    dlerror();
    void *sym = dlsym(handle, name);
    if (!sym)
      fatal(path + ": missing symbol " + name +
            " (is this a model built by sparq-compile?)");
    fn = reinterpret_cast<Fn>(sym);
  }
};

struct TensorInfo {
  std::string name;
  sparq_dtype dtype;
  std::vector<int64_t> shape;
};

struct Options {
  std::string modelPath;
  std::vector<std::string> inputs; ///< raw NAME=FILE specs
  std::string testDir, saveDir;
  double rtol = 1e-3, atol = 1e-7;
  bool print = false, bench = false, json = false, info = false;
  int threads = 0, runs = 20, warmup = 3;
  uint64_t seed = 0;
};

//===----------------------------------------------------------------------===//
// Command line
//===----------------------------------------------------------------------===//

long long parseIntOption(const std::string &opt, const std::string &v,
                         long long lo) {
  char *end = nullptr;
  errno = 0;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end || errno || x < lo)
    fatal("option " + opt + ": expected an integer >= " + std::to_string(lo) +
          ", got '" + v + "'");
  return x;
}

double parseDoubleOption(const std::string &opt, const std::string &v) {
  char *end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end || !(x >= 0))
    fatal("option " + opt + ": expected a non-negative number, got '" + v +
          "'");
  return x;
}

Options parseCommandLine(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool hasInline = false;
    if (arg.rfind("--", 0) == 0) {
      size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        hasInline = true;
      }
    }
    auto takeValue = [&]() -> std::string {
      if (hasInline)
        return value;
      if (i + 1 >= argc)
        fatal("option " + arg + " needs a value");
      return argv[++i];
    };
    auto noValue = [&] {
      if (hasInline)
        fatal("option " + arg + " takes no value");
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (arg == "--input" || arg == "-i") {
      std::string spec = takeValue();
      size_t eq = spec.find('=');
      if (eq == std::string::npos)
        fatal("--input expects NAME=FILE, got '" + spec + "'");
      o.inputs.push_back(spec);
    } else if (arg == "--test-dir") {
      o.testDir = takeValue();
    } else if (arg == "--save-outputs") {
      o.saveDir = takeValue();
    } else if (arg == "--rtol") {
      o.rtol = parseDoubleOption(arg, takeValue());
    } else if (arg == "--atol") {
      o.atol = parseDoubleOption(arg, takeValue());
    } else if (arg == "--threads") {
      o.threads = static_cast<int>(parseIntOption(arg, takeValue(), 0));
    } else if (arg == "--runs") {
      o.runs = static_cast<int>(parseIntOption(arg, takeValue(), 1));
    } else if (arg == "--warmup") {
      o.warmup = static_cast<int>(parseIntOption(arg, takeValue(), 0));
    } else if (arg == "--seed") {
      o.seed = static_cast<uint64_t>(parseIntOption(arg, takeValue(), 0));
    } else if (arg == "--print") {
      noValue();
      o.print = true;
    } else if (arg == "--bench") {
      noValue();
      o.bench = true;
    } else if (arg == "--json") {
      noValue();
      o.json = true;
    } else if (arg == "--info") {
      noValue();
      o.info = true;
    } else if (arg.rfind("-", 0) == 0 && arg.size() > 1) {
      fatal("unknown option '" + arg + "' (see --help)");
    } else if (o.modelPath.empty()) {
      o.modelPath = arg;
    } else {
      fatal("unexpected argument '" + arg + "' (only one model allowed)");
    }
  }
  if (o.modelPath.empty())
    fatal("no model given (usage: sparq-run MODEL.so [options]; see --help)");
  if (o.json && !o.bench)
    fatal("--json requires --bench");
  return o;
}

//===----------------------------------------------------------------------===//
// Inputs and outputs
//===----------------------------------------------------------------------===//

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

HostTensor loadTensorFile(const std::string &path) {
  HostTensor t;
  std::string error;
  bool ok = endsWith(path, ".pb") ? readTensorProto(path, t, error)
                                  : readNpy(path, t, error);
  if (!ok)
    fatal(error);
  return t;
}

/// Checks a tensor read from `path` against the signature entry.
void checkAgainstSignature(const char *role, const TensorInfo &info,
                           const HostTensor &t, const std::string &path) {
  std::string who = std::string(role) + " '" + info.name + "' (" + path + ")";
  if (t.dtype() != info.dtype)
    fatal(who + ": expected dtype " + dtypeName(info.dtype) + " but got " +
          dtypeName(t.dtype()));
  if (t.shape() != info.shape)
    fatal(who + ": expected shape " + formatShape(info.shape) + " but got " +
          formatShape(t.shape()));
}

HostTensor randomTensor(const TensorInfo &info, uint64_t seed) {
  HostTensor t(info.dtype, info.shape);
  uint64_t s = (seed + 1) * 0x9e3779b97f4a7c15ULL;
  auto next = [&s] {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  };
  char *p = static_cast<char *>(t.data());
  size_t sz = dtypeSize(info.dtype);
  for (int64_t i = 0; i < t.numElements(); ++i) {
    double u = static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0);
    float f = static_cast<float>(2.0 * u - 1.0);
    int64_t small = static_cast<int64_t>(next() % 10);
    char *dst = p + i * sz;
    switch (info.dtype) {
    case SPARQ_DTYPE_F32:
      std::memcpy(dst, &f, 4);
      break;
    case SPARQ_DTYPE_F64: {
      double d = 2.0 * u - 1.0;
      std::memcpy(dst, &d, 8);
      break;
    }
    case SPARQ_DTYPE_F16: {
      uint16_t h = floatToHalf(f);
      std::memcpy(dst, &h, 2);
      break;
    }
    case SPARQ_DTYPE_BF16: {
      uint16_t h = floatToBf16(f);
      std::memcpy(dst, &h, 2);
      break;
    }
    case SPARQ_DTYPE_BOOL:
      *dst = static_cast<char>(small & 1);
      break;
    default: // integers: small non-negative values
      std::memcpy(dst, &small, sz);
      break;
    }
  }
  return t;
}

std::vector<TensorInfo> describeTensors(const ModelApi &api,
                                        const sparq_model *m, bool inputs) {
  int32_t n = inputs ? api.numInputs(m) : api.numOutputs(m);
  std::vector<TensorInfo> list;
  for (int32_t i = 0; i < n; ++i) {
    const char *name = nullptr;
    sparq_dtype dtype;
    int32_t rank = 0;
    const int64_t *shape = nullptr;
    sparq_status s = inputs
                         ? api.inputInfo(m, i, &name, &dtype, &rank, &shape)
                         : api.outputInfo(m, i, &name, &dtype, &rank, &shape);
    if (s != SPARQ_OK)
      fatal(std::string("cannot query the model signature: ") +
            api.modelError(m));
    list.push_back(
        {name ? name : "", dtype, std::vector<int64_t>(shape, shape + rank)});
  }
  return list;
}

std::string quoteName(const std::string &name) { return "'" + name + "'"; }

//===----------------------------------------------------------------------===//
// Running and comparing
//===----------------------------------------------------------------------===//

struct Runner {
  const ModelApi &api;
  sparq_model *model;
  std::vector<TensorInfo> inputInfo, outputInfo;

  std::vector<HostTensor> allocateOutputs() const {
    std::vector<HostTensor> outs;
    for (const TensorInfo &o : outputInfo)
      outs.emplace_back(o.dtype, o.shape);
    return outs;
  }

  void run(std::vector<HostTensor> &ins, std::vector<HostTensor> &outs) {
    std::vector<sparq_tensor> in(ins.size()), out(outs.size());
    for (size_t i = 0; i < ins.size(); ++i)
      in[i] = {ins[i].data(), ins[i].dtype(),
               static_cast<int32_t>(ins[i].shape().size()),
               ins[i].shape().data()};
    for (size_t i = 0; i < outs.size(); ++i)
      out[i] = {outs[i].data(), outs[i].dtype(),
                static_cast<int32_t>(outs[i].shape().size()),
                outs[i].shape().data()};
    sparq_status s = api.run(model, in.data(), static_cast<int32_t>(in.size()),
                             out.data(), static_cast<int32_t>(out.size()));
    if (s != SPARQ_OK)
      fatal(std::string("model run failed: ") + api.modelError(model));
  }
};

struct Comparison {
  int64_t bad = 0;
  double maxDiff = 0;
  int64_t maxIndex = -1;
  double expectedAt = 0, gotAt = 0;
};

Comparison compareTensors(const HostTensor &got, const HostTensor &exp,
                          double rtol, double atol) {
  Comparison c;
  const int64_t n = exp.numElements();
  const bool isFloat = isFloatDtype(exp.dtype());
  for (int64_t i = 0; i < n; ++i) {
    double g = got.elementAsDouble(i), e = exp.elementAsDouble(i);
    bool ok;
    double diff;
    if (isFloat) {
      if (std::isnan(e) || std::isnan(g)) {
        ok = std::isnan(e) && std::isnan(g);
        diff = ok ? 0 : INFINITY;
      } else if (std::isinf(e) || std::isinf(g)) {
        ok = e == g;
        diff = ok ? 0 : INFINITY;
      } else {
        diff = std::fabs(g - e);
        ok = diff <= atol + rtol * std::fabs(e);
      }
    } else {
      ok = got.elementBits(i) == exp.elementBits(i);
      diff = std::fabs(g - e);
    }
    if (!ok) {
      ++c.bad;
      if (c.maxIndex < 0 || diff > c.maxDiff) {
        c.maxDiff = diff;
        c.maxIndex = i;
        c.expectedAt = e;
        c.gotAt = g;
      }
    }
  }
  return c;
}

/// The test data sets under dir, in numeric order.
std::vector<fs::path> findDataSets(const fs::path &dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    fatal(dir.string() + ": not a directory");
  std::vector<std::pair<long, fs::path>> sets;
  for (const auto &entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    const std::string prefix = "test_data_set_";
    if (entry.is_directory() && name.rfind(prefix, 0) == 0)
      sets.push_back(
          {std::strtol(name.c_str() + prefix.size(), nullptr, 10), entry});
  }
  std::sort(sets.begin(), sets.end());
  std::vector<fs::path> out;
  for (auto &s : sets)
    out.push_back(s.second);
  if (out.empty()) {
    if (fs::exists(dir / "input_0.pb") || fs::exists(dir / "output_0.pb"))
      out.push_back(dir);
    else
      fatal(dir.string() + ": no test_data_set_* directories and no "
                           "input_N.pb/output_N.pb files");
  }
  return out;
}

/// Runs every data set; returns the number of mismatching outputs.
int runTestDir(Runner &r, const Options &o, std::vector<HostTensor> &lastOuts) {
  int failures = 0, compared = 0;
  for (const fs::path &set : findDataSets(o.testDir)) {
    std::string setName = set.filename().string();
    std::vector<HostTensor> ins;
    for (size_t i = 0; i < r.inputInfo.size(); ++i) {
      fs::path p = set / ("input_" + std::to_string(i) + ".pb");
      if (!fs::exists(p))
        fatal(setName + ": missing " + p.filename().string() + " for input " +
              quoteName(r.inputInfo[i].name));
      ins.push_back(loadTensorFile(p.string()));
      checkAgainstSignature("input", r.inputInfo[i], ins.back(), p.string());
    }
    if (fs::exists(set /
                   ("input_" + std::to_string(r.inputInfo.size()) + ".pb")))
      fatal(setName + ": has more input_N.pb files than the model's " +
            std::to_string(r.inputInfo.size()) + " inputs");
    std::vector<HostTensor> outs = r.allocateOutputs();
    r.run(ins, outs);
    for (size_t i = 0;; ++i) {
      fs::path p = set / ("output_" + std::to_string(i) + ".pb");
      if (!fs::exists(p))
        break;
      if (i >= r.outputInfo.size())
        fatal(setName + ": " + p.filename().string() +
              " has no matching model output (the model has " +
              std::to_string(r.outputInfo.size()) + ")");
      const TensorInfo &info = r.outputInfo[i];
      HostTensor expected = loadTensorFile(p.string());
      std::string who = setName + ": output " + std::to_string(i) + " " +
                        quoteName(info.name);
      ++compared;
      if (expected.dtype() != info.dtype) {
        std::printf("%s mismatch: expected data has dtype %s but the model "
                    "produces %s\n",
                    who.c_str(), dtypeName(expected.dtype()),
                    dtypeName(info.dtype));
        ++failures;
        continue;
      }
      if (expected.shape() != info.shape) {
        std::printf("%s mismatch: expected data has shape %s but the model "
                    "produces %s\n",
                    who.c_str(), formatShape(expected.shape()).c_str(),
                    formatShape(info.shape).c_str());
        ++failures;
        continue;
      }
      Comparison c = compareTensors(outs[i], expected, o.rtol, o.atol);
      if (c.bad) {
        std::printf("%s mismatch: %lld of %lld elements out of tolerance, max "
                    "abs diff %.6g at index %lld (expected %.9g, got %.9g)\n",
                    who.c_str(), static_cast<long long>(c.bad),
                    static_cast<long long>(expected.numElements()), c.maxDiff,
                    static_cast<long long>(c.maxIndex), c.expectedAt, c.gotAt);
        ++failures;
      } else {
        std::printf("%s ok (%lld elements)\n", who.c_str(),
                    static_cast<long long>(expected.numElements()));
      }
    }
    lastOuts = std::move(outs);
  }
  if (compared == 0)
    fatal(o.testDir + ": no output_N.pb files to compare against");
  std::printf("%s: %d of %d outputs match\n", failures ? "FAILED" : "PASSED",
              compared - failures, compared);
  return failures;
}

void printOutputs(const Runner &r, const std::vector<HostTensor> &outs) {
  for (size_t i = 0; i < outs.size(); ++i) {
    const HostTensor &t = outs[i];
    std::printf("output %zu '%s': %s %s\n ", i, r.outputInfo[i].name.c_str(),
                dtypeName(t.dtype()), formatShape(t.shape()).c_str());
    int64_t n = std::min<int64_t>(t.numElements(), 8);
    for (int64_t k = 0; k < n; ++k)
      std::printf(" %.6g", t.elementAsDouble(k));
    if (t.numElements() > n)
      std::printf(" ... (%lld elements)",
                  static_cast<long long>(t.numElements()));
    std::printf("\n");
  }
}

void saveOutputs(const Runner &r, const std::vector<HostTensor> &outs,
                 const std::string &dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir))
    fatal(dir + ": cannot create directory");
  for (size_t i = 0; i < outs.size(); ++i) {
    std::string path =
        (fs::path(dir) / ("output_" + std::to_string(i) + ".npy")).string();
    std::string error;
    if (!writeNpy(path, outs[i], error))
      fatal(error);
  }
  std::fprintf(stderr, "sparq-run: wrote %zu output(s) to %s\n", outs.size(),
               dir.c_str());
}

std::string jsonEscape(const std::string &s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

void benchmark(Runner &r, const Options &o, std::vector<HostTensor> &ins,
               std::vector<HostTensor> &outs, int threads) {
  for (int i = 0; i < o.warmup; ++i)
    r.run(ins, outs);
  std::vector<double> ms;
  for (int i = 0; i < o.runs; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    r.run(ins, outs);
    auto t1 = std::chrono::steady_clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  size_t n = sorted.size();
  double median =
      n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  double mean = 0;
  for (double v : ms)
    mean += v;
  mean /= n;
  size_t p90Index = static_cast<size_t>(std::ceil(0.9 * n)) - 1;
  double p90 = sorted[std::min(p90Index, n - 1)];
  std::printf("bench: %d runs (%d warmup), %d threads\n", o.runs, o.warmup,
              threads);
  std::printf("  min %.3f ms  median %.3f ms  mean %.3f ms  p90 %.3f ms  max "
              "%.3f ms\n",
              sorted.front(), median, mean, p90, sorted.back());
  if (o.json)
    std::printf("{\"model\": \"%s\", \"runs\": %d, \"warmup\": %d, "
                "\"threads\": %d, \"min_ms\": %.6f, \"median_ms\": %.6f, "
                "\"mean_ms\": %.6f, \"p90_ms\": %.6f, \"max_ms\": %.6f}\n",
                jsonEscape(o.modelPath).c_str(), o.runs, o.warmup, threads,
                sorted.front(), median, mean, p90, sorted.back());
}

int runTool(int argc, char **argv) {
  Options o = parseCommandLine(argc, argv);
  ModelApi api;
  api.load(o.modelPath);
  sparq_model *model = nullptr;
  if (api.create(o.threads, &model) != SPARQ_OK || !model)
    fatal(o.modelPath + ": cannot create the model: " + api.lastError());
  struct Destroyer {
    const ModelApi &api;
    sparq_model *m;
    ~Destroyer() { api.destroy(m); }
  } destroyer{api, model};

  Runner r{api, model, describeTensors(api, model, true),
           describeTensors(api, model, false)};
  int threads = api.numThreads(model);

  if (o.info) {
    for (const TensorInfo &t : r.inputInfo)
      std::printf("input  '%s': %s %s\n", t.name.c_str(), dtypeName(t.dtype),
                  formatShape(t.shape).c_str());
    for (const TensorInfo &t : r.outputInfo)
      std::printf("output '%s': %s %s\n", t.name.c_str(), dtypeName(t.dtype),
                  formatShape(t.shape).c_str());
    return 0;
  }

  // Resolve --input NAME=FILE against the signature (names may hold '=').
  std::map<size_t, std::string> files;
  for (const std::string &s : o.inputs) {
    bool found = false;
    for (size_t eq = s.find('='); eq != std::string::npos && !found;
         eq = s.find('=', eq + 1)) {
      std::string name = s.substr(0, eq);
      for (size_t i = 0; i < r.inputInfo.size() && !found; ++i)
        if (r.inputInfo[i].name == name) {
          files[i] = s.substr(eq + 1);
          found = true;
        }
    }
    if (!found) {
      std::string known;
      for (const TensorInfo &t : r.inputInfo)
        known += (known.empty() ? "" : ", ") + quoteName(t.name);
      fatal("--input " + s +
            ": the model has no input of that name (inputs: " + known + ")");
    }
  }

  int status = 0;
  std::vector<HostTensor> outs;
  std::vector<HostTensor> ins;
  if (!o.testDir.empty()) {
    status = runTestDir(r, o, outs) ? 1 : 0;
  }
  if (o.testDir.empty() || o.bench) {
    for (size_t i = 0; i < r.inputInfo.size(); ++i) {
      auto it = files.find(i);
      if (it != files.end()) {
        ins.push_back(loadTensorFile(it->second));
        checkAgainstSignature("input", r.inputInfo[i], ins.back(), it->second);
      } else {
        ins.push_back(randomTensor(r.inputInfo[i], o.seed + i));
        std::fprintf(stderr,
                     "sparq-run: note: input '%s' not given, using random "
                     "%s %s data\n",
                     r.inputInfo[i].name.c_str(),
                     dtypeName(r.inputInfo[i].dtype),
                     formatShape(r.inputInfo[i].shape).c_str());
      }
    }
    if (o.testDir.empty()) {
      outs = r.allocateOutputs();
      r.run(ins, outs);
    }
  }
  if (!o.saveDir.empty())
    saveOutputs(r, outs, o.saveDir);
  if (o.print || (o.testDir.empty() && o.saveDir.empty() && !o.bench))
    printOutputs(r, outs);
  if (o.bench) {
    std::vector<HostTensor> benchOuts = r.allocateOutputs();
    benchmark(r, o, ins, benchOuts, threads);
  }
  return status;
}

} // namespace

int main(int argc, char **argv) {
  try {
    return runTool(argc, argv);
  } catch (const ToolError &e) {
    std::fflush(stdout);
    std::fprintf(stderr, "sparq-run: error: %s\n", e.message.c_str());
    return e.exitCode;
  } catch (const std::bad_alloc &) {
    std::fprintf(stderr, "sparq-run: error: out of memory\n");
    return 2;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "sparq-run: error: %s\n", e.what());
    return 2;
  }
}
