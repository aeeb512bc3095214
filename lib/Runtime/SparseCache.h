//===- SparseCache.h - Validated views of packed sparse blobs ----*- C++ -*-===//
//
// The sparse micro-kernels validate a packed weight (sparq_sparse_format.h)
// once per model and address and keep the validated view in the model's
// packed-weight cache, so that steady-state calls cost one cache lookup.
// One implementation serves the f32 (SparseMatrix) and the int8
// (SparseMatrixI8) kernels, and both split their parallel loops by
// sparseGrain.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_RUNTIME_SPARSECACHE_H
#define SPARQ_LIB_RUNTIME_SPARSECACHE_H

#include "Context.h"

#include "sparq/Runtime/sparq_sparse_format.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace sparq {
namespace rt {

/// Number of chunks a parallel loop over `units` should use: a few per
/// thread for balance, or one when the work is too small to split.
inline int64_t sparseGrain(int64_t units, int threads, double macs) {
  if (threads <= 1 || macs < 64.0 * 1024)
    return std::max<int64_t>(units, 1);
  return std::max<int64_t>(1, units / (4 * threads));
}

/// The view of the blob at w that read(blob, view) fills, validated on
/// first use and cached under viewTag (a misaligned blob is first copied
/// once, under copyTag); null when the header or read() rejects the blob,
/// or memory ran out.
template <typename Matrix>
const Matrix *cachedSparseView(Context &context, const void *w,
                               int64_t viewTag, int64_t copyTag,
                               bool (*read)(const void *, Matrix &)) {
  sparq_sparse_header h;
  std::memcpy(&h, w, sizeof(h));
  if (h.magic != SPARQ_SPARSE_MAGIC || h.version != SPARQ_SPARSE_VERSION ||
      h.total_bytes < sizeof(h) || h.total_bytes > (uint64_t(1) << 40))
    return nullptr;
  // The whole header is part of the key so that a different blob later
  // placed at the same address (tests) is not mistaken for the cached one.
  std::vector<int64_t> key = {viewTag,
                              reinterpret_cast<int64_t>(w),
                              int64_t(h.format) << 32 | h.index_bytes,
                              int64_t(h.rows) << 32 | h.cols,
                              int64_t(h.block_rows) << 32 | h.block_cols,
                              int64_t(h.n) << 32 | h.m,
                              int64_t(h.nnz),
                              int64_t(h.row_ptr_offset),
                              int64_t(h.col_offset),
                              int64_t(h.values_offset),
                              int64_t(h.total_bytes)};
  const void *blob = w;
  if (reinterpret_cast<uintptr_t>(w) % 4 != 0) {
    // Blobs are emitted aligned; copy a misaligned one once.
    key[0] = copyTag;
    size_t bytes = static_cast<size_t>(h.total_bytes);
    blob = context.cachedPack(key, (bytes + 3) / 4,
                              [&](float *dst) { std::memcpy(dst, w, bytes); });
    if (!blob)
      return nullptr;
    key[0] = viewTag;
  }
  struct Cached {
    uint32_t valid;
    Matrix matrix;
  };
  constexpr size_t viewFloats = (sizeof(Cached) + 3) / 4;
  const float *cached = context.cachedPack(key, viewFloats, [&](float *dst) {
    Cached view;
    view.valid = read(blob, view.matrix) ? 1 : 0;
    std::memcpy(dst, &view, sizeof(view));
  });
  if (!cached)
    return nullptr;
  const auto *view = reinterpret_cast<const Cached *>(cached);
  return view->valid ? &view->matrix : nullptr;
}

} // namespace rt
} // namespace sparq

#endif // SPARQ_LIB_RUNTIME_SPARSECACHE_H
