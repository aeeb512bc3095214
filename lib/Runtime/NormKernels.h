//===- NormKernels.h - ISA selection of layer_norm/softmax rows -*- C++ -*-===//
//
// sparq_uk_layer_norm_f32 and sparq_uk_softmax_f32 (NormKernels.cpp) have
// AVX-512, AVX2+FMA and portable row kernels; the best one the CPU supports
// is picked once per process. This header lets tests and benchmarks force a
// path and call the vector exp directly.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_RUNTIME_NORMKERNELS_H
#define SPARQ_LIB_RUNTIME_NORMKERNELS_H

#include <cstdint>

namespace sparq {
namespace rt {

enum class NormIsa { Generic = 0, Avx2 = 1, Avx512 = 2 };

/// Whether this CPU (and build) can run `isa`.
bool normIsaSupported(NormIsa isa);
/// The path the kernels take: the override when one is set and supported,
/// else the widest the CPU has (SPARQ_KERNELS=generic forces the portable
/// path).
NormIsa activeNormIsa();
/// Forces a path for tests and benchmarks; -1 restores the default.
void setNormIsaOverride(int isa);

/// y[i] = exp(x[i]) for i < n with the active path's exp (the one softmax
/// uses), for accuracy tests.
void normExpForTest(const float *x, float *y, int64_t n);

} // namespace rt
} // namespace sparq

#endif // SPARQ_LIB_RUNTIME_NORMKERNELS_H
