//===- UnitTests.cpp - Driver of the runtime unit tests -------------------===//
//
// Runs every test group of the runtime (GEMM, convolution, sparse kernels,
// activations, C ABI through a dlopen'ed model, sparq-run) with one and two
// threads, and prints the summary line the build's test step looks for.
//
//===----------------------------------------------------------------------===//

#include "Harness.h"

using namespace sparq::unit;

Counters &sparq::unit::counters() {
  static Counters c;
  return c;
}

int main() {
  for (int threads : {1, 2}) {
    runKernelTests(threads);
    runConvTests(threads);
    runSparseTests(threads);
    runQuantKernelTests(threads);
    runSparseQTests(threads);
    runPoolTests(threads);
    runNormTests(threads);
  }
  runAbiTests();
  std::printf("unit: %ld passed, %ld failed\n", counters().passed,
              counters().failed);
  return counters().failed == 0 ? 0 : 1;
}
