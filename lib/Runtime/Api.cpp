//===- Api.cpp - The public C API of compiled models ----------------------===//
//
// Implements the sparq_model_* functions of sparq_runtime.h. The model's
// entry point and signature come from the compiled object linked next to the
// runtime; they are referenced weakly so that the runtime library can also be
// linked into programs without a model (such as its unit tests), where
// sparq_model_create then reports that no model is present.
//
// Every entry point validates its arguments and reports failures through a
// status code plus a message; nothing here trusts a caller's pointer or
// shape without checking it first.
//
//===----------------------------------------------------------------------===//

#include "sparq/Runtime/sparq_runtime.h"

#include "Model.h"

#include <cstring>
#include <string>

extern "C" {
__attribute__((weak)) void sparq_model_entry(void *ctx, void *arena,
                                             void **inputs, void **outputs);
__attribute__((weak)) extern const char sparq_model_signature[];
}

using namespace sparq::rt;

namespace {

/// The model whose entry function runs on this thread (see
/// sparq_rt_current_context).
thread_local sparq_model *currentModel = nullptr;

const char *const kDtypeSpellings[] = {"unknown", "f32", "f64", "f16", "bf16",
                                       "i8",      "i16", "i32", "i64", "u8",
                                       "u16",     "u32", "u64", "bool"};

bool isKnownDtype(int d) {
  return d >= SPARQ_DTYPE_F32 && d <= SPARQ_DTYPE_BOOL;
}

bool isModel(const sparq_model *m) {
  return m && m->magic == sparq_model::kMagic;
}

sparq_status fail(sparq_model *m, sparq_status status, const std::string &msg) {
  if (m)
    m->lastError = msg;
  setThreadError(msg);
  return status;
}

sparq_status describe(const sparq_model *m, bool input, int32_t i,
                      const char **name, sparq_dtype *dtype, int32_t *rank,
                      const int64_t **shape) {
  const char *fn = input ? "sparq_model_input_info" : "sparq_model_output_info";
  if (!isModel(m)) {
    setThreadError(std::string(fn) + ": model is NULL");
    return SPARQ_ERR_INVALID_ARGUMENT;
  }
  const auto &list = input ? m->signature.inputs : m->signature.outputs;
  if (i < 0 || static_cast<size_t>(i) >= list.size()) {
    setThreadError(std::string(fn) + ": index " + std::to_string(i) +
                   " out of range [0, " + std::to_string(list.size()) + ")");
    return SPARQ_ERR_INVALID_ARGUMENT;
  }
  const TensorSpec &spec = list[i];
  if (name)
    *name = spec.name.c_str();
  if (dtype)
    *dtype = spec.dtype;
  if (rank)
    *rank = static_cast<int32_t>(spec.shape.size());
  if (shape)
    *shape = spec.shape.data();
  return SPARQ_OK;
}

/// Checks one caller tensor against its signature entry; fills `ptr`.
sparq_status checkTensor(sparq_model *m, const char *role,
                         const TensorSpec &spec, const sparq_tensor &t,
                         void *&ptr) {
  std::string who = std::string(role) + " '" + spec.name + "'";
  if (!isKnownDtype(t.dtype) || t.dtype != spec.dtype)
    return fail(m, SPARQ_ERR_DTYPE_MISMATCH,
                who + ": expected dtype " + sparq_dtype_name(spec.dtype) +
                    " but got " + sparq_dtype_name(t.dtype));
  if (t.rank < 0 || (t.rank > 0 && !t.shape))
    return fail(m, SPARQ_ERR_INVALID_ARGUMENT,
                who + ": shape pointer is NULL for rank " +
                    std::to_string(t.rank));
  int64_t rank = static_cast<int64_t>(spec.shape.size());
  bool same = t.rank == rank;
  for (int64_t d = 0; same && d < rank; ++d)
    same = t.shape[d] == spec.shape[d];
  if (!same)
    return fail(m, SPARQ_ERR_SHAPE_MISMATCH,
                who + ": expected shape " +
                    formatShape(spec.shape.data(), rank) + " but got " +
                    formatShape(t.shape, t.rank));
  if (!t.data && spec.numElements() != 0)
    return fail(m, SPARQ_ERR_INVALID_ARGUMENT, who + ": data pointer is NULL");
  ptr = t.data;
  return SPARQ_OK;
}

} // namespace

extern "C" {

SPARQ_API sparq_status sparq_model_create(int32_t num_threads,
                                          sparq_model **out) {
  if (out)
    *out = nullptr;
  if (!sparq_model_entry || !sparq_model_signature) {
    setThreadError("no compiled model is linked with this runtime "
                   "(sparq_model_entry/sparq_model_signature missing)");
    return SPARQ_ERR_INTERNAL;
  }
  return createModel(sparq_model_signature, sparq_model_entry, num_threads,
                     out);
}

SPARQ_API void sparq_model_destroy(sparq_model *m) {
  if (!isModel(m))
    return;
  m->magic = 0;
  delete m;
}

SPARQ_API int32_t sparq_model_num_inputs(const sparq_model *m) {
  return isModel(m) ? static_cast<int32_t>(m->signature.inputs.size()) : -1;
}

SPARQ_API int32_t sparq_model_num_outputs(const sparq_model *m) {
  return isModel(m) ? static_cast<int32_t>(m->signature.outputs.size()) : -1;
}

SPARQ_API sparq_status sparq_model_input_info(const sparq_model *m, int32_t i,
                                              const char **name,
                                              sparq_dtype *dtype, int32_t *rank,
                                              const int64_t **shape) {
  return describe(m, true, i, name, dtype, rank, shape);
}

SPARQ_API sparq_status sparq_model_output_info(const sparq_model *m, int32_t i,
                                               const char **name,
                                               sparq_dtype *dtype,
                                               int32_t *rank,
                                               const int64_t **shape) {
  return describe(m, false, i, name, dtype, rank, shape);
}

SPARQ_API int64_t sparq_model_arena_size(const sparq_model *m) {
  return isModel(m) ? m->signature.arenaBytes : -1;
}

SPARQ_API sparq_status sparq_model_set_threads(sparq_model *m, int32_t n) {
  if (!isModel(m))
    return fail(nullptr, SPARQ_ERR_INVALID_ARGUMENT,
                "sparq_model_set_threads: model is NULL");
  std::lock_guard<std::mutex> lock(m->runMutex);
  try {
    m->context.setThreads(n);
  } catch (const std::exception &e) {
    return fail(m, SPARQ_ERR_INTERNAL,
                std::string("cannot start worker threads: ") + e.what());
  }
  return SPARQ_OK;
}

SPARQ_API int32_t sparq_model_num_threads(const sparq_model *m) {
  return isModel(m) ? m->context.numThreads() : -1;
}

SPARQ_API sparq_status sparq_model_run(sparq_model *m,
                                       const sparq_tensor *inputs,
                                       int32_t num_inputs,
                                       sparq_tensor *outputs,
                                       int32_t num_outputs) {
  if (!isModel(m))
    return fail(nullptr, SPARQ_ERR_INVALID_ARGUMENT,
                "sparq_model_run: model is NULL");
  std::lock_guard<std::mutex> lock(m->runMutex);
  const Signature &sig = m->signature;
  if (num_inputs < 0 || static_cast<size_t>(num_inputs) != sig.inputs.size())
    return fail(m, SPARQ_ERR_INVALID_ARGUMENT,
                "expected " + std::to_string(sig.inputs.size()) +
                    " inputs but got " + std::to_string(num_inputs));
  if (num_outputs < 0 || static_cast<size_t>(num_outputs) != sig.outputs.size())
    return fail(m, SPARQ_ERR_INVALID_ARGUMENT,
                "expected " + std::to_string(sig.outputs.size()) +
                    " outputs but got " + std::to_string(num_outputs));
  if ((num_inputs > 0 && !inputs) || (num_outputs > 0 && !outputs))
    return fail(m, SPARQ_ERR_INVALID_ARGUMENT,
                "sparq_model_run: tensor array is NULL");
  for (int32_t i = 0; i < num_inputs; ++i) {
    sparq_status s =
        checkTensor(m, "input", sig.inputs[i], inputs[i], m->inputPtrs[i]);
    if (s != SPARQ_OK)
      return s;
  }
  for (int32_t i = 0; i < num_outputs; ++i) {
    sparq_status s =
        checkTensor(m, "output", sig.outputs[i], outputs[i], m->outputPtrs[i]);
    if (s != SPARQ_OK)
      return s;
  }
  if (!m->entry)
    return fail(m, SPARQ_ERR_INTERNAL, "model has no entry function");
  m->context.takeKernelError();
  // Generated code asks for the running model (its thread pool and weight
  // cache) through sparq_rt_current_context().
  sparq_model *previous = currentModel;
  currentModel = m;
  m->entry(m, m->arena.data(), m->inputPtrs.data(), m->outputPtrs.data());
  currentModel = previous;
  if (m->context.takeKernelError())
    return fail(m, SPARQ_ERR_OUT_OF_MEMORY,
                "out of memory inside a kernel; outputs are not valid");
  m->lastError.clear();
  return SPARQ_OK;
}

SPARQ_API const char *sparq_model_last_error(const sparq_model *m) {
  return isModel(m) ? m->lastError.c_str() : threadError();
}

SPARQ_API const char *sparq_last_error(void) { return threadError(); }

SPARQ_API size_t sparq_dtype_size(sparq_dtype dtype) {
  switch (dtype) {
  case SPARQ_DTYPE_F64:
  case SPARQ_DTYPE_I64:
  case SPARQ_DTYPE_U64:
    return 8;
  case SPARQ_DTYPE_F32:
  case SPARQ_DTYPE_I32:
  case SPARQ_DTYPE_U32:
    return 4;
  case SPARQ_DTYPE_F16:
  case SPARQ_DTYPE_BF16:
  case SPARQ_DTYPE_I16:
  case SPARQ_DTYPE_U16:
    return 2;
  case SPARQ_DTYPE_I8:
  case SPARQ_DTYPE_U8:
  case SPARQ_DTYPE_BOOL:
    return 1;
  }
  return 0;
}

SPARQ_API const char *sparq_dtype_name(sparq_dtype dtype) {
  int d = static_cast<int>(dtype);
  return isKnownDtype(d) ? kDtypeSpellings[d] : kDtypeSpellings[0];
}

SPARQ_API int32_t sparq_abi_version(void) { return 1; }

SPARQ_API void sparq_rt_parallel_for(void *ctx, int64_t n,
                                     void (*fn)(void *closure, int64_t begin,
                                                int64_t end),
                                     void *closure) {
  if (!fn || n <= 0)
    return;
  Context &c = contextFromHandle(ctx);
  int64_t grain = n / (4 * static_cast<int64_t>(c.numThreads()));
  c.threads().parallelFor(n, grain < 1 ? 1 : grain, fn, closure);
}

} // extern "C"

SPARQ_API void *sparq_rt_current_context(void) { return currentModel; }
