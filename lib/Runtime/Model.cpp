//===- Model.cpp - The runtime's model object -----------------------------===//
//
// Creation of model objects from a signature and an entry function, the
// thread-local error channel, and the mapping from a kernel's opaque ctx to
// its execution context.
//
//===----------------------------------------------------------------------===//

#include "Model.h"

#include <new>

using namespace sparq::rt;

namespace {
thread_local std::string tlsError;
} // namespace

void sparq::rt::setThreadError(const std::string &message) {
  tlsError = message;
}

const char *sparq::rt::threadError() { return tlsError.c_str(); }

Context &sparq::rt::contextFromHandle(void *ctx) {
  if (ctx)
    return static_cast<sparq_model *>(ctx)->context;
  static Context fallback(1);
  return fallback;
}

sparq_status sparq::rt::createModel(const char *signatureText,
                                    ModelEntryFn entry, int numThreads,
                                    sparq_model **out) {
  if (!out) {
    setThreadError("sparq_model_create: output pointer is NULL");
    return SPARQ_ERR_INVALID_ARGUMENT;
  }
  *out = nullptr;
  Signature sig;
  std::string why;
  if (!parseSignature(signatureText, sig, why)) {
    setThreadError(why);
    return SPARQ_ERR_INTERNAL;
  }
  sparq_model *m = nullptr;
  try {
    m = new sparq_model(numThreads);
    m->signature = std::move(sig);
    m->entry = entry;
    m->inputPtrs.assign(m->signature.inputs.size(), nullptr);
    m->outputPtrs.assign(m->signature.outputs.size(), nullptr);
  } catch (const std::bad_alloc &) {
    delete m;
    setThreadError("out of memory while creating the model");
    return SPARQ_ERR_OUT_OF_MEMORY;
  } catch (const std::exception &e) {
    delete m;
    setThreadError(std::string("cannot create the model: ") + e.what());
    return SPARQ_ERR_INTERNAL;
  }
  // The arena is allocated once; runs never allocate.
  int64_t arenaBytes = m->signature.arenaBytes;
  if (!m->arena.reserve(static_cast<size_t>(arenaBytes))) {
    delete m;
    setThreadError("out of memory allocating a " + std::to_string(arenaBytes) +
                   "-byte arena");
    return SPARQ_ERR_OUT_OF_MEMORY;
  }
  *out = m;
  return SPARQ_OK;
}
