//===- Context.cpp - Execution context shared by the micro-kernels --------===//
//
// Aligned scratch buffers, per-thread scratch lookup and pool management of
// the runtime context. The packed-weight cache lives in the header because
// its packing callback is a template.
//
//===----------------------------------------------------------------------===//

#include "Context.h"

#include <cstdlib>
#include <utility>

using namespace sparq::rt;

AlignedBuffer::~AlignedBuffer() { std::free(ptr); }

AlignedBuffer::AlignedBuffer(AlignedBuffer &&other) noexcept
    : ptr(other.ptr), capacity(other.capacity) {
  other.ptr = nullptr;
  other.capacity = 0;
}

AlignedBuffer &AlignedBuffer::operator=(AlignedBuffer &&other) noexcept {
  if (this != &other) {
    std::free(ptr);
    ptr = std::exchange(other.ptr, nullptr);
    capacity = std::exchange(other.capacity, 0);
  }
  return *this;
}

void *AlignedBuffer::reserve(size_t bytes) {
  if (bytes <= capacity && ptr)
    return ptr;
  std::free(ptr);
  ptr = nullptr;
  capacity = 0;
  // Round up so posix_memalign never sees 0 and tails can be over-read.
  size_t rounded = (bytes + 127) & ~size_t(63);
  void *p = nullptr;
  if (posix_memalign(&p, 64, rounded) != 0)
    return nullptr;
  ptr = p;
  capacity = rounded;
  return ptr;
}

Context::Context(int numThreads) { setThreads(numThreads); }

Context::~Context() = default;

void Context::setThreads(int n) {
  if (n <= 0)
    n = hardwareThreads();
  pool.reset();
  pool = std::make_unique<ThreadPool>(n);
  perThread.clear();
  perThread.resize(n);
}

float *Context::scratch(ScratchSlot slot, size_t floats) {
  size_t index = static_cast<size_t>(ThreadPool::currentThreadIndex());
  if (index >= perThread.size())
    index = 0;
  void *p = perThread[index].slots[static_cast<int>(slot)].reserve(
      floats * sizeof(float));
  if (!p)
    recordOutOfMemory();
  return static_cast<float *>(p);
}

size_t Context::cachedPackCount() const {
  std::lock_guard<std::mutex> lock(cacheMutex);
  return packCache.size();
}
