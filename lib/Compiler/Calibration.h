//===- Calibration.h - calibration data and error measurement -*- C++ -*-===//
//
// What sparq-compile's post-training quantization needs at compile time:
// reading calibration inputs (ONNX test-data layout), instrumenting an fp32
// module so that every kernel's input and output become extra results,
// loading and running a compiled model through its C ABI, per-tensor range
// statistics (min/max or percentile) written as the JSON sparq-quantize
// reads, and the error of a quantized model's outputs against fp32.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_COMPILER_CALIBRATION_H
#define SPARQ_LIB_COMPILER_CALIBRATION_H

#include "ModelSignature.h"

#include "HostTensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringMap.h"

#include <string>
#include <vector>

namespace sparq {

/// One calibration sample: the model's inputs in signature order.
struct CalibrationSample {
  std::string source; // the directory it came from
  std::vector<run::HostTensor> inputs;
};

/// Reads DIR/input_N.pb (one sample) or DIR/test_data_set_*/input_N.pb
/// (one per set, numeric order); .npy files are accepted in place of .pb.
/// Every sample must hold exactly the model's inputs with the signature's
/// dtypes and shapes; errors name the file.
bool loadCalibrationSamples(llvm::StringRef dir,
                            const ModelSignature &signature,
                            std::vector<CalibrationSample> &samples,
                            std::string &error);

/// Where an instrumented kernel tensor can be read after a run.
struct ProbedTensor {
  std::vector<std::string> keys; // NODE:input / NODE:output
  bool isModelInput = false;     // then `index` is the input's index
  unsigned index = 0;            // else the result index
};

/// Makes the input and output of every sparq.fused_conv / fused_matmul an
/// extra result of `entry` (named after the first key) unless it is a
/// model input; returns where each key's data will be.
std::vector<ProbedTensor> instrumentKernels(mlir::func::FuncOp entry);

/// A compiled model loaded with dlopen and driven through its C ABI.
class LoadedModel {
public:
  LoadedModel() = default;
  LoadedModel(const LoadedModel &) = delete;
  LoadedModel &operator=(const LoadedModel &) = delete;
  ~LoadedModel();

  bool load(const std::string &path, std::string &error);
  /// Runs one sample; `outputs` are allocated from the model's signature.
  bool run(std::vector<run::HostTensor> &inputs,
           std::vector<run::HostTensor> &outputs, std::string &error);
  unsigned numOutputs() const;

private:
  struct Api;
  Api *api = nullptr;
  void *handle = nullptr;
  void *model = nullptr;
};

/// Per-tensor range statistics over all calibration samples.
class RangeCollector {
public:
  /// `samples`: how many samples will be added (bounds the values kept
  /// per tensor for percentiles).
  RangeCollector(bool percentile, int64_t samples)
      : percentile(percentile), samples(samples) {}
  void add(const std::string &key, const run::HostTensor &tensor);
  /// {"method": ..., "samples": N, "tensors": {"KEY": [lo, hi], ...}}.
  std::string json(double percentileValue) const;

private:
  struct Stats {
    double lo = 0, hi = 0;
    bool seen = false;
    std::vector<float> values; // percentile only (subsampled)
  };
  bool percentile;
  int64_t samples;
  llvm::StringMap<Stats> stats;
};

/// The error of one output over all samples.
struct OutputError {
  std::string name;
  double relL2 = 0;  // ||q - f|| / ||f|| over every element of every sample
  double maxAbs = 0; // max |q - f|
  double top1 = -1;  // fraction of rows whose argmax agrees (last dim > 1)
  int64_t rows = 0;
};

/// Accumulates per-output error statistics sample by sample.
class OutputErrorMeter {
public:
  explicit OutputErrorMeter(const ModelSignature &signature);
  void add(const std::vector<run::HostTensor> &reference,
           const std::vector<run::HostTensor> &quantized);
  std::vector<OutputError> result() const;

private:
  struct Acc {
    double diffSq = 0, refSq = 0, maxAbs = 0;
    int64_t agree = 0, rows = 0;
  };
  std::vector<std::string> names;
  std::vector<Acc> acc;
};

} // namespace sparq

#endif // SPARQ_LIB_COMPILER_CALIBRATION_H
