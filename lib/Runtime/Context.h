//===- Context.h - Execution context shared by the micro-kernels -*- C++
//-*-===//
//
// The part of a model object that the micro-kernels see through their `ctx`
// argument: the thread pool, per-thread packing scratch, the cache of packed
// constant weights, and a sticky error flag for failures inside kernels,
// which cannot return a status themselves.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_RUNTIME_CONTEXT_H
#define SPARQ_LIB_RUNTIME_CONTEXT_H

#include "ThreadPool.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace sparq {
namespace rt {

/// A 64-byte aligned, uninitialized heap buffer that only grows.
class AlignedBuffer {
public:
  AlignedBuffer() = default;
  ~AlignedBuffer();
  AlignedBuffer(const AlignedBuffer &) = delete;
  AlignedBuffer &operator=(const AlignedBuffer &) = delete;
  AlignedBuffer(AlignedBuffer &&other) noexcept;
  AlignedBuffer &operator=(AlignedBuffer &&other) noexcept;

  /// Makes the buffer hold at least `bytes`; returns null on allocation
  /// failure (the old contents are not preserved when it grows).
  void *reserve(size_t bytes);
  void *data() const { return ptr; }
  size_t size() const { return capacity; }

private:
  void *ptr = nullptr;
  size_t capacity = 0;
};

/// Scratch slots each thread owns for the duration of one kernel call.
enum class ScratchSlot {
  PackA = 0,
  PackB = 1,
  SharedB = 2,
  WinogradIn = 3,  ///< transformed input tiles (GEMM B operands)
  WinogradOut = 4, ///< products before the output transform
  SharedA = 5,     ///< a GEMM's A operand packed once for all its tasks
  QuantA = 6,      ///< integer GEMM: packed A and per-call operand tables
  QuantB = 7,      ///< integer GEMM: a task's packed B chunk
  QuantIm2col = 8, ///< integer conv: padded image / im2col rows; n-bit panels
  QuantSharedB = 9, ///< integer GEMM: a B packed once for all its tasks
  Count = 10
};

class Context {
public:
  explicit Context(int numThreads);
  ~Context();

  /// Restarts the pool with n threads (n <= 0: hardware concurrency).
  void setThreads(int n);
  int numThreads() const { return pool->numThreads(); }
  ThreadPool &threads() { return *pool; }

  /// Per-thread scratch of at least `floats` floats for the calling thread
  /// (by pool index); null on allocation failure, which is also recorded.
  float *scratch(ScratchSlot slot, size_t floats);

  /// Returns the cached packed copy for `key`, creating it with
  /// pack(dst) into a fresh buffer of `floats` floats when absent. Returns
  /// null (and records the failure) when the allocation fails.
  template <typename PackFn>
  const float *cachedPack(const std::vector<int64_t> &key, size_t floats,
                          PackFn &&pack) {
    std::lock_guard<std::mutex> lock(cacheMutex);
    auto it = packCache.find(key);
    if (it != packCache.end())
      return static_cast<const float *>(it->second.data());
    AlignedBuffer buf;
    float *dst = static_cast<float *>(buf.reserve(floats * sizeof(float)));
    if (!dst) {
      recordOutOfMemory();
      return nullptr;
    }
    pack(dst);
    return static_cast<const float *>(
        packCache.emplace(key, std::move(buf)).first->second.data());
  }
  size_t cachedPackCount() const;

  /// Sticky kernel failure flag; cleared by takeKernelError().
  void recordOutOfMemory() { kernelOutOfMemory.store(true); }
  bool takeKernelError() { return kernelOutOfMemory.exchange(false); }

private:
  std::unique_ptr<ThreadPool> pool;
  struct ThreadScratch {
    AlignedBuffer slots[static_cast<int>(ScratchSlot::Count)];
  };
  std::vector<ThreadScratch> perThread;
  mutable std::mutex cacheMutex;
  std::map<std::vector<int64_t>, AlignedBuffer> packCache;
  std::atomic<bool> kernelOutOfMemory{false};
};

} // namespace rt
} // namespace sparq

#endif // SPARQ_LIB_RUNTIME_CONTEXT_H
