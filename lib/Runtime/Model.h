//===- Model.h - The runtime's model object ---------------------*- C++ -*-===//
//
// Definition of the opaque sparq_model of the C ABI: the parsed signature,
// the scratch arena, the execution context handed to micro-kernels, and the
// per-model error message. Model objects are created from a signature text
// and an entry function, which lets tests build models without a compiled
// object.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_RUNTIME_MODEL_H
#define SPARQ_LIB_RUNTIME_MODEL_H

#include "Context.h"
#include "Signature.h"

#include <mutex>
#include <string>
#include <vector>

namespace sparq {
namespace rt {

using ModelEntryFn = void (*)(void *ctx, void *arena, void **inputs,
                              void **outputs);

/// Records the calling thread's last error message.
void setThreadError(const std::string &message);
const char *threadError();

/// Returns the execution context behind a micro-kernel's `ctx` argument, or
/// a shared single-threaded fallback context when ctx is null.
Context &contextFromHandle(void *ctx);

} // namespace rt
} // namespace sparq

struct sparq_model {
  sparq_model(int numThreads) : context(numThreads) {}

  uint64_t magic = kMagic;
  sparq::rt::Context context;
  sparq::rt::Signature signature;
  sparq::rt::ModelEntryFn entry = nullptr;
  sparq::rt::AlignedBuffer arena;
  std::vector<void *> inputPtrs, outputPtrs;
  std::mutex runMutex;
  std::string lastError;

  static constexpr uint64_t kMagic = 0x7370617271'6d6f64ULL; // "sparqmod"
};

namespace sparq {
namespace rt {

/// Builds a model from a signature text and entry function; on failure
/// returns the status and sets the thread error.
sparq_status createModel(const char *signatureText, ModelEntryFn entry,
                         int numThreads, sparq_model **out);

} // namespace rt
} // namespace sparq

#endif // SPARQ_LIB_RUNTIME_MODEL_H
