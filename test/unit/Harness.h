//===- Harness.h - Minimal test harness of the runtime unit tests -*- C++
//-*-===//
//
// A few macros and counters so the runtime's unit tests need no external
// framework: each failed check prints one line, and the driver prints the
// final "unit: N passed, M failed" summary.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_TEST_UNIT_HARNESS_H
#define SPARQ_TEST_UNIT_HARNESS_H

#include <cstdio>
#include <string>

namespace sparq {
namespace unit {

struct Counters {
  long passed = 0;
  long failed = 0;
};
Counters &counters();

/// Records one check; prints `what` when it failed.
inline bool check(bool ok, const std::string &what) {
  if (ok) {
    ++counters().passed;
  } else {
    ++counters().failed;
    std::printf("FAIL: %s\n", what.c_str());
    std::fflush(stdout);
  }
  return ok;
}

// Test groups, defined in their own files.
void runKernelTests(int numThreads);
void runConvTests(int numThreads);
void runSparseTests(int numThreads);
void runQuantKernelTests(int numThreads);
void runSparseQTests(int numThreads);
void runPoolTests(int numThreads);
void runNormTests(int numThreads);
void runAbiTests();

} // namespace unit
} // namespace sparq

#endif // SPARQ_TEST_UNIT_HARNESS_H
