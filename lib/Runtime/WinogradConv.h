//===- WinogradConv.h - Winograd 3x3 convolution ----------------*- C++ -*-===//
//
// Winograd minimal-filtering convolution F(m x m, 3 x 3), m = 2 or 4, for
// 3x3, stride-1, undilated, ungrouped convolutions with constant weights.
// The caller (the conv2d micro-kernel) decides when to use it; this header
// exposes the tile-size heuristic and the kernel itself.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_RUNTIME_WINOGRADCONV_H
#define SPARQ_LIB_RUNTIME_WINOGRADCONV_H

#include "Kernels.h"

#include <cstdint>

namespace sparq {
namespace rt {

class Context;

/// A stride-1, undilated 3x3 convolution (NCHW), groups == 1.
struct WinogradProblem {
  int64_t N, C, H, W, K, OH, OW, padTop, padLeft;
};

/// Output tile size m to use for `p` (2 or 4), or 0 when the direct GEMM
/// path is expected to be faster or Winograd is unavailable on this CPU.
int chooseWinogradTile(const WinogradProblem &p);

/// Forces the tile size chosen by chooseWinogradTile, for tests and
/// benchmarks: -1 restores the heuristic, 0 disables Winograd, 2 or 4 force
/// that tile (where the CPU supports it).
void setWinogradTileOverride(int m);

/// Y = epilogue(conv(X, W)) with Winograd tile m (from chooseWinogradTile).
/// W is [K, C, 3, 3] and constant: its transform is cached in ctx. Returns
/// false, doing nothing, when it cannot run (allocation failure is recorded
/// in ctx as well).
bool winogradConv3x3(Context &ctx, int m, const float *X, const float *W,
                     const Epilogue &epi, float *Y, const WinogradProblem &p);

} // namespace rt
} // namespace sparq

#endif // SPARQ_LIB_RUNTIME_WINOGRADCONV_H
