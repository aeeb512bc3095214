//===- ThreadPool.h - Persistent worker pool of the runtime ------*- C++
//-*-===//
//
// A fixed pool of (n - 1) worker threads that, together with the calling
// thread, executes parallel loops. Workers spin briefly after each loop so
// that back-to-back kernels (the common case inside one model run) do not
// pay a futex wake-up, then sleep on a condition variable.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_RUNTIME_THREADPOOL_H
#define SPARQ_LIB_RUNTIME_THREADPOOL_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace sparq {
namespace rt {

/// Callback of a parallel loop: processes iterations [begin, end).
using RangeFn = void (*)(void *closure, int64_t begin, int64_t end);

class ThreadPool {
public:
  /// Starts numThreads - 1 workers (numThreads >= 1).
  explicit ThreadPool(int numThreads);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  int numThreads() const { return static_cast<int>(workers.size()) + 1; }

  /// Calls fn(closure, b, e) over [0, n) in chunks of `grain` iterations,
  /// distributed dynamically over all threads; returns when all are done.
  /// Runs serially when called from inside a parallel loop.
  void parallelFor(int64_t n, int64_t grain, RangeFn fn, void *closure);

  /// Convenience overload for a C++ callable taking (begin, end).
  template <typename F> void parallelFor(int64_t n, int64_t grain, F &&f) {
    parallelFor(
        n, grain,
        [](void *c, int64_t b, int64_t e) { (*static_cast<F *>(c))(b, e); },
        &f);
  }

  /// Index of the calling thread within the running loop (0 = caller).
  static int currentThreadIndex();

private:
  void workerLoop(int index);
  void runChunks();

  std::vector<std::thread> workers;
  std::mutex mutex;
  std::condition_variable wake;
  std::condition_variable done;
  bool stopping = false;

  // State of the loop in flight, published by bumping `generation`.
  std::atomic<uint64_t> generation{0};
  std::atomic<int64_t> nextChunk{0};
  std::atomic<int> activeWorkers{0};
  RangeFn loopFn = nullptr;
  void *loopClosure = nullptr;
  int64_t loopN = 0;
  int64_t loopGrain = 1;
};

/// Hardware concurrency, at least 1.
int hardwareThreads();

} // namespace rt
} // namespace sparq

#endif // SPARQ_LIB_RUNTIME_THREADPOOL_H
