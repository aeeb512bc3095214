//===- BenchClock.h - Timing helpers of the kernel benchmarks -----*- C++ -*-===//
//
// The clock and the median-of-samples timer that sparq-sparse-bench and
// sparq-sparseq-bench share. Not part of the unit tests.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_TEST_UNIT_BENCHCLOCK_H
#define SPARQ_TEST_UNIT_BENCHCLOCK_H

#include <algorithm>
#include <chrono>
#include <ctime>
#include <functional>
#include <vector>

namespace sparq {
namespace bench {

/// Seconds on a clock: wall time, or (cpuClock, meant for one thread) the
/// calling thread's CPU time, which other processes on a busy machine do
/// not inflate.
inline double now(bool cpuClock) {
  if (cpuClock) {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
  }
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Median per-call seconds of fn over `samples` samples of at least
/// `minSample` seconds each, after a warm-up call that fills the caches.
inline double medianSeconds(const std::function<void()> &fn, bool cpuClock,
                            double minSample, int samples) {
  fn();
  int reps = 1;
  for (;;) {
    double t0 = now(cpuClock);
    for (int i = 0; i < reps; ++i)
      fn();
    if (now(cpuClock) - t0 >= minSample)
      break;
    reps *= 2;
  }
  std::vector<double> t;
  for (int s = 0; s < samples; ++s) {
    double t0 = now(cpuClock);
    for (int i = 0; i < reps; ++i)
      fn();
    t.push_back((now(cpuClock) - t0) / reps);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

} // namespace bench
} // namespace sparq

#endif // SPARQ_TEST_UNIT_BENCHCLOCK_H
