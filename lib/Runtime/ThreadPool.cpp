//===- ThreadPool.cpp - Persistent worker pool of the runtime -------------===//
//
// Implementation of the runtime's thread pool. A parallel loop is published
// by storing its parameters and incrementing a generation counter; workers
// spin on the counter for a short while before falling back to a condition
// variable. Chunks are claimed from a shared atomic counter, so uneven work
// balances itself. The caller takes part in the loop and then waits for the
// workers that joined it.
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"

#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SPARQ_CPU_RELAX() _mm_pause()
#else
#define SPARQ_CPU_RELAX() ((void)0)
#endif

using namespace sparq::rt;

namespace {
thread_local int tlsThreadIndex = 0;
thread_local bool tlsInParallel = false;
// ~50-100 us of polling: covers the gap between back-to-back kernels
// without burning much CPU when the machine is oversubscribed.
constexpr int kSpinIterations = 2000;
} // namespace

int sparq::rt::hardwareThreads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

ThreadPool::ThreadPool(int numThreads) {
  if (numThreads < 1)
    numThreads = 1;
  workers.reserve(numThreads - 1);
  for (int i = 1; i < numThreads; ++i)
    workers.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
    generation.fetch_add(1, std::memory_order_release);
  }
  wake.notify_all();
  for (std::thread &t : workers)
    t.join();
}

int ThreadPool::currentThreadIndex() { return tlsThreadIndex; }

void ThreadPool::runChunks() {
  const int64_t numChunks = (loopN + loopGrain - 1) / loopGrain;
  for (;;) {
    int64_t c = nextChunk.fetch_add(1, std::memory_order_relaxed);
    if (c >= numChunks)
      break;
    int64_t b = c * loopGrain;
    int64_t e = b + loopGrain < loopN ? b + loopGrain : loopN;
    loopFn(loopClosure, b, e);
  }
}

void ThreadPool::workerLoop(int index) {
  tlsThreadIndex = index;
  tlsInParallel = true;
  uint64_t seen = 0;
  for (;;) {
    // Spin a little for the next loop, then sleep.
    uint64_t gen = generation.load(std::memory_order_acquire);
    for (int spin = 0; gen == seen && spin < kSpinIterations; ++spin) {
      SPARQ_CPU_RELAX();
      gen = generation.load(std::memory_order_acquire);
    }
    if (gen == seen) {
      std::unique_lock<std::mutex> lock(mutex);
      wake.wait(lock, [&] {
        return generation.load(std::memory_order_acquire) != seen;
      });
      gen = generation.load(std::memory_order_acquire);
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (stopping)
        return;
      // Register under the lock: the caller never rewrites the loop state
      // while a registered worker may still read it.
      seen = generation.load(std::memory_order_acquire);
      activeWorkers.fetch_add(1, std::memory_order_acq_rel);
    }
    runChunks();
    if (activeWorkers.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex);
      done.notify_all();
    }
  }
}

void ThreadPool::parallelFor(int64_t n, int64_t grain, RangeFn fn,
                             void *closure) {
  if (n <= 0)
    return;
  if (grain < 1)
    grain = 1;
  if (workers.empty() || tlsInParallel || n <= grain) {
    fn(closure, 0, n);
    return;
  }
  {
    std::unique_lock<std::mutex> lock(mutex);
    // A worker that woke up late for the previous loop may still be leaving.
    done.wait(lock, [&] {
      return activeWorkers.load(std::memory_order_acquire) == 0;
    });
    loopFn = fn;
    loopClosure = closure;
    loopN = n;
    loopGrain = grain;
    nextChunk.store(0, std::memory_order_relaxed);
    generation.fetch_add(1, std::memory_order_release);
  }
  wake.notify_all();
  tlsInParallel = true;
  runChunks();
  tlsInParallel = false;
  // All chunks are claimed; wait for workers still executing one. A worker
  // that registers after this point finds no chunk left and leaves at once.
  for (int spin = 0; activeWorkers.load(std::memory_order_acquire) != 0;
       ++spin) {
    if (spin < kSpinIterations) {
      SPARQ_CPU_RELAX();
      continue;
    }
    std::unique_lock<std::mutex> lock(mutex);
    done.wait(lock, [&] {
      return activeWorkers.load(std::memory_order_acquire) == 0;
    });
    break;
  }
}
