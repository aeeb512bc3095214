//===- AbiTests.cpp - Tests of the C ABI and of sparq-run -----------------===//
//
// Loads the hand-written fake model (fake_model.c linked with the runtime
// like a compiled model) through dlopen and exercises the public API:
// signature queries, runs, shape/dtype/count mismatches, NULL handling and
// destruction. Then drives sparq-run on the same library: --input with a
// .npy file, --save-outputs, --bench --json and error exits.
//
//===----------------------------------------------------------------------===//

#include "Harness.h"

#include "sparq/Runtime/sparq_runtime.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

using namespace sparq::unit;

namespace {

struct Api {
  decltype(&sparq_model_create) create;
  decltype(&sparq_model_destroy) destroy;
  decltype(&sparq_model_num_inputs) numInputs;
  decltype(&sparq_model_num_outputs) numOutputs;
  decltype(&sparq_model_input_info) inputInfo;
  decltype(&sparq_model_output_info) outputInfo;
  decltype(&sparq_model_run) run;
  decltype(&sparq_model_last_error) modelError;
  decltype(&sparq_last_error) lastError;
  decltype(&sparq_model_set_threads) setThreads;
  decltype(&sparq_dtype_size) dtypeSize;
  decltype(&sparq_dtype_name) dtypeName;
};

template <typename Fn> bool resolve(void *lib, const char *name, Fn &fn) {
  fn = reinterpret_cast<Fn>(dlsym(lib, name));
  return check(fn != nullptr, std::string("fake model exports ") + name);
}

bool contains(const std::string &s, const std::string &part) {
  return s.find(part) != std::string::npos;
}

/// Writes a little-endian float32 .npy file.
void writeFloatNpy(const std::string &path, const std::vector<int64_t> &shape,
                   const std::vector<float> &data) {
  std::string dims;
  for (int64_t d : shape)
    dims += std::to_string(d) + ", ";
  if (shape.size() > 1)
    dims.erase(dims.size() - 2);
  else if (shape.size() == 1)
    dims.pop_back();
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  while ((10 + header.size() + 1) % 64)
    header += ' ';
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  f.write("\x93NUMPY\x01\x00", 8);
  char len[2] = {static_cast<char>(header.size() & 0xff),
                 static_cast<char>(header.size() >> 8)};
  f.write(len, 2);
  f << header;
  f.write(reinterpret_cast<const char *>(data.data()), data.size() * 4);
}

/// Reads back the float payload of a .npy written by sparq-run.
bool readFloatNpyPayload(const std::string &path, std::string &header,
                         std::vector<float> &data) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    return false;
  std::stringstream ss;
  ss << f.rdbuf();
  std::string bytes = ss.str();
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    return false;
  size_t hlen = static_cast<unsigned char>(bytes[8]) |
                (static_cast<unsigned char>(bytes[9]) << 8);
  if (bytes.size() < 10 + hlen)
    return false;
  header = bytes.substr(10, hlen);
  size_t n = (bytes.size() - 10 - hlen) / 4;
  data.resize(n);
  std::memcpy(data.data(), bytes.data() + 10 + hlen, n * 4);
  return true;
}

/// Serializes a float onnx.TensorProto by hand (protobuf wire format):
/// dims (field 1), data_type (2) = FLOAT, and either raw_data (9) or a
/// packed float_data (4).
std::string floatTensorProto(const std::vector<int64_t> &dims,
                             const std::vector<float> &values, bool raw) {
  std::string out;
  auto varint = [&out](uint64_t v) {
    while (v >= 0x80) {
      out.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
  };
  for (int64_t d : dims) {
    varint((1 << 3) | 0);
    varint(static_cast<uint64_t>(d));
  }
  varint((2 << 3) | 0);
  varint(1);
  varint(((raw ? 9 : 4) << 3) | 2);
  varint(values.size() * 4);
  out.append(reinterpret_cast<const char *>(values.data()), values.size() * 4);
  return out;
}

void writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream f(path, std::ios::binary);
  f << bytes;
}

struct CommandResult {
  int exitCode = -1;
  std::string output;
};

CommandResult runCommand(const std::string &cmd) {
  CommandResult r;
  FILE *p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p)
    return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
    r.output.append(buf, n);
  int status = pclose(p);
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

void testModelApi(const Api &api) {
  check(api.create(1, nullptr) == SPARQ_ERR_INVALID_ARGUMENT,
        "create with NULL out pointer is rejected");
  sparq_model *m = nullptr;
  if (!check(api.create(2, &m) == SPARQ_OK && m, "create fake model"))
    return;
  check(api.numInputs(m) == 2 && api.numOutputs(m) == 1,
        "signature counts (unknown keyword line ignored)");
  check(api.numInputs(nullptr) == -1, "num_inputs(NULL) == -1");
  const char *name = nullptr;
  sparq_dtype dtype;
  int32_t rank = -1;
  const int64_t *shape = nullptr;
  check(api.inputInfo(m, 0, &name, &dtype, &rank, &shape) == SPARQ_OK &&
            std::string(name) == "x" && dtype == SPARQ_DTYPE_F32 && rank == 2 &&
            shape[0] == 2 && shape[1] == 3,
        "input 0 info");
  check(api.inputInfo(m, 1, &name, nullptr, &rank, nullptr) == SPARQ_OK &&
            std::string(name) == "the scale" && rank == 0,
        "scalar input with a spaced name");
  check(api.outputInfo(m, 0, &name, &dtype, &rank, &shape) == SPARQ_OK &&
            std::string(name) == "y" && rank == 2,
        "output 0 info");
  check(api.inputInfo(m, 2, &name, &dtype, &rank, &shape) ==
            SPARQ_ERR_INVALID_ARGUMENT,
        "input index out of range");
  check(api.outputInfo(nullptr, 0, &name, &dtype, &rank, &shape) ==
            SPARQ_ERR_INVALID_ARGUMENT,
        "output_info(NULL)");

  float x[6] = {1, 2, 3, 4, 5, 6}, scale = 0.5f, y[6] = {};
  int64_t xShape[2] = {2, 3}, yShape[2] = {2, 3};
  sparq_tensor ins[2] = {{x, SPARQ_DTYPE_F32, 2, xShape},
                         {&scale, SPARQ_DTYPE_F32, 0, nullptr}};
  sparq_tensor outs[1] = {{y, SPARQ_DTYPE_F32, 2, yShape}};
  bool ok = api.run(m, ins, 2, outs, 1) == SPARQ_OK;
  for (int i = 0; i < 6; ++i)
    ok = ok && std::fabs(y[i] - (x[i] * 0.5f + 1.f)) < 1e-6f;
  check(ok, "run computes y = x * scale + 1");
  check(std::string(api.modelError(m)).empty(), "no error after success");

  int64_t badShape[2] = {3, 3};
  sparq_tensor badIns[2] = {{x, SPARQ_DTYPE_F32, 2, badShape}, ins[1]};
  check(api.run(m, badIns, 2, outs, 1) == SPARQ_ERR_SHAPE_MISMATCH,
        "shape mismatch is detected");
  check(std::string(api.modelError(m)) ==
            "input 'x': expected shape [2,3] but got [3,3]",
        std::string("shape mismatch message: ") + api.modelError(m));
  int64_t rank3[3] = {2, 3, 1};
  badIns[0] = {x, SPARQ_DTYPE_F32, 3, rank3};
  check(api.run(m, badIns, 2, outs, 1) == SPARQ_ERR_SHAPE_MISMATCH,
        "rank mismatch is detected");
  badIns[0] = {x, SPARQ_DTYPE_I32, 2, xShape};
  check(api.run(m, badIns, 2, outs, 1) == SPARQ_ERR_DTYPE_MISMATCH &&
            contains(api.modelError(m), "input 'x'") &&
            contains(api.modelError(m), "f32") &&
            contains(api.modelError(m), "i32"),
        std::string("dtype mismatch: ") + api.modelError(m));
  badIns[0] = {x, static_cast<sparq_dtype>(99), 2, xShape};
  check(api.run(m, badIns, 2, outs, 1) == SPARQ_ERR_DTYPE_MISMATCH,
        "unknown dtype value is rejected");
  sparq_tensor badOut[1] = {{y, SPARQ_DTYPE_F32, 1, yShape}};
  check(api.run(m, ins, 2, badOut, 1) == SPARQ_ERR_SHAPE_MISMATCH &&
            contains(api.modelError(m), "output 'y'"),
        "output shape mismatch names the output");
  check(api.run(m, ins, 1, outs, 1) == SPARQ_ERR_INVALID_ARGUMENT,
        "wrong input count");
  check(api.run(m, ins, 2, outs, 0) == SPARQ_ERR_INVALID_ARGUMENT,
        "wrong output count");
  check(api.run(m, nullptr, 2, outs, 1) == SPARQ_ERR_INVALID_ARGUMENT,
        "NULL input array");
  badIns[0] = {nullptr, SPARQ_DTYPE_F32, 2, xShape};
  check(api.run(m, badIns, 2, outs, 1) == SPARQ_ERR_INVALID_ARGUMENT,
        "NULL data pointer");
  badIns[0] = {x, SPARQ_DTYPE_F32, 2, nullptr};
  check(api.run(m, badIns, 2, outs, 1) == SPARQ_ERR_INVALID_ARGUMENT,
        "NULL shape pointer");
  check(api.run(nullptr, ins, 2, outs, 1) == SPARQ_ERR_INVALID_ARGUMENT &&
            contains(api.lastError(), "NULL"),
        "run(NULL model) sets the thread error");
  check(api.setThreads(m, 1) == SPARQ_OK &&
            api.run(m, ins, 2, outs, 1) == SPARQ_OK,
        "set_threads then run");
  check(api.setThreads(nullptr, 1) == SPARQ_ERR_INVALID_ARGUMENT,
        "set_threads(NULL)");
  check(api.dtypeSize(SPARQ_DTYPE_BF16) == 2 &&
            api.dtypeSize(SPARQ_DTYPE_I64) == 8 &&
            api.dtypeSize(static_cast<sparq_dtype>(0)) == 0,
        "dtype sizes");
  check(std::string(api.dtypeName(SPARQ_DTYPE_BOOL)) == "bool" &&
            std::string(api.dtypeName(static_cast<sparq_dtype>(42))) ==
                "unknown",
        "dtype names");
  api.destroy(m);
  api.destroy(nullptr);
  check(true, "destroy (and destroy(NULL)) return");

  // Many create/destroy cycles with threads: no hang, no crash.
  bool cycles = true;
  for (int i = 0; i < 50 && cycles; ++i) {
    sparq_model *t = nullptr;
    cycles = api.create(2, &t) == SPARQ_OK &&
             api.run(t, ins, 2, outs, 1) == SPARQ_OK;
    api.destroy(t);
  }
  check(cycles, "50 create/run/destroy cycles");
}

void testSparqRun(const std::string &tool, const std::string &lib) {
  std::string dir = SPARQ_UNIT_TMP_DIR;
  std::string npy = dir + "/abi_x.npy", outDir = dir + "/abi_outputs";
  std::vector<float> x = {1, -2, 3, -4, 5, -6};
  writeFloatNpy(npy, {2, 3}, x);
  std::vector<float> scale = {2.f};
  writeFloatNpy(dir + "/abi_scale.npy", {}, scale);
  std::string base = "'" + tool + "' '" + lib + "'";

  CommandResult r =
      runCommand(base + " --input x=" + npy + " '--input=the scale=" + dir +
                 "/abi_scale.npy' --save-outputs " + outDir + " --threads 2");
  check(r.exitCode == 0,
        "sparq-run --input/--save-outputs exits 0: " + r.output);
  std::string header;
  std::vector<float> y;
  bool ok = readFloatNpyPayload(outDir + "/output_0.npy", header, y) &&
            y.size() == 6 && contains(header, "'<f4'") &&
            contains(header, "(2, 3)");
  for (size_t i = 0; ok && i < 6; ++i)
    ok = std::fabs(y[i] - (x[i] * 2.f + 1.f)) < 1e-6f;
  check(ok, "sparq-run saved output_0.npy with y = 2x + 1");

  r = runCommand(base + " --bench --runs 5 --warmup 1 --json");
  std::string last = r.output;
  while (!last.empty() && last.back() == '\n')
    last.pop_back();
  last = last.substr(last.rfind('\n') + 1);
  check(r.exitCode == 0 && last.front() == '{' && contains(last, "median_ms") &&
            contains(last, "\"runs\": 5") && contains(last, "threads"),
        "sparq-run --bench --json ends with a JSON line: " + last);

  // ONNX backend test layout: one matching and one mismatching data set.
  std::string td = dir + "/abi_testdata";
  std::vector<float> expect(6), wrong(6);
  for (int i = 0; i < 6; ++i)
    expect[i] = wrong[i] = x[i] * 3.f + 1.f;
  wrong[4] += 0.5f;
  for (int set = 0; set < 2; ++set) {
    std::string sd = td + "/test_data_set_" + std::to_string(set);
    runCommand("mkdir -p '" + sd + "'");
    writeFile(sd + "/input_0.pb", floatTensorProto({2, 3}, x, true));
    writeFile(sd + "/input_1.pb", floatTensorProto({}, {3.f}, false));
    writeFile(sd + "/output_0.pb",
              floatTensorProto({2, 3}, set ? wrong : expect, set == 0));
  }
  r = runCommand(base + " --test-dir " + td + "/test_data_set_0");
  check(r.exitCode == 0 && contains(r.output, "ok"),
        "sparq-run --test-dir passes on matching data: " + r.output);
  r = runCommand(base + " --test-dir " + td);
  check(r.exitCode == 1 &&
            contains(r.output, "test_data_set_1: output 0 'y' mismatch: 1 of "
                               "6 elements out of tolerance") &&
            contains(r.output, "at index 4"),
        "sparq-run --test-dir reports a mismatch: " + r.output);
  r = runCommand(base + " --test-dir " + td + " --atol 0.6");
  check(r.exitCode == 0, "sparq-run --atol widens the tolerance");

  r = runCommand(base + " --input x=" + dir + "/abi_scale.npy");
  check(r.exitCode == 2 && contains(r.output, "sparq-run: error:") &&
            contains(r.output, "'x'") && contains(r.output, "shape"),
        "sparq-run rejects a wrongly shaped input: " + r.output);
  r = runCommand(base + " --input x=" + dir + "/missing.npy");
  check(r.exitCode == 2 && contains(r.output, "missing.npy"),
        "sparq-run names a missing input file");
  r = runCommand("'" + tool + "' " + dir + "/no_such_model.so");
  check(r.exitCode == 2 && contains(r.output, "no_such_model.so"),
        "sparq-run names a missing model");
  r = runCommand(base + " --bogus");
  check(r.exitCode == 2 && contains(r.output, "--bogus"),
        "sparq-run rejects unknown options");
  r = runCommand(base);
  check(r.exitCode == 0 && contains(r.output, "output 0 'y'"),
        "sparq-run prints outputs by default");
}

} // namespace

void sparq::unit::runAbiTests() {
  const char *path = SPARQ_FAKE_MODEL_PATH;
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!check(lib != nullptr,
             std::string("dlopen fake model: ") + (lib ? "" : dlerror())))
    return;
  Api api{};
  bool ok = resolve(lib, "sparq_model_create", api.create) &&
            resolve(lib, "sparq_model_destroy", api.destroy) &&
            resolve(lib, "sparq_model_num_inputs", api.numInputs) &&
            resolve(lib, "sparq_model_num_outputs", api.numOutputs) &&
            resolve(lib, "sparq_model_input_info", api.inputInfo) &&
            resolve(lib, "sparq_model_output_info", api.outputInfo) &&
            resolve(lib, "sparq_model_run", api.run) &&
            resolve(lib, "sparq_model_last_error", api.modelError) &&
            resolve(lib, "sparq_last_error", api.lastError) &&
            resolve(lib, "sparq_model_set_threads", api.setThreads) &&
            resolve(lib, "sparq_dtype_size", api.dtypeSize) &&
            resolve(lib, "sparq_dtype_name", api.dtypeName);
  if (ok)
    testModelApi(api);
  check(dlsym(lib, "_ZN5sparq2rt4gemmERNS0_7ContextERKNS0_8GemmArgsE") ==
            nullptr,
        "runtime internals are hidden in the model library");
  std::string tool = SPARQ_RUN_TOOL_PATH;
  if (!tool.empty())
    testSparqRun(tool, path);
  else
    std::printf("note: sparq-run not built; skipping its tests\n");
  dlclose(lib);
}
