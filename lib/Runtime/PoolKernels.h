//===- PoolKernels.h - ISA selection of the max-pool kernel -----*- C++ -*-===//
//
// sparq_uk_max_pool2d (PoolKernels.cpp) has an AVX2 row kernel and a
// portable one; the best one the CPU supports is picked once per process.
// This header lets tests and benchmarks force either path.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_RUNTIME_POOLKERNELS_H
#define SPARQ_LIB_RUNTIME_POOLKERNELS_H

namespace sparq {
namespace rt {

enum class PoolIsa { Generic = 0, Avx2 = 1 };

/// Whether this CPU (and build) can run `isa`.
bool poolIsaSupported(PoolIsa isa);
/// The path sparq_uk_max_pool2d takes: the override when one is set and
/// supported, else AVX2 where the CPU has it (SPARQ_KERNELS=generic forces
/// the portable path).
PoolIsa activePoolIsa();
/// Forces a path for tests and benchmarks; -1 restores the default.
void setPoolIsaOverride(int isa);

} // namespace rt
} // namespace sparq

#endif // SPARQ_LIB_RUNTIME_POOLKERNELS_H
