//===- QKernelsGeneric.cpp - Portable integer GEMM kernels ----------------===//
//
// The scalar kernel set of QGemm.h: the reference every vector path must
// match bit for bit, and the path of CPUs without AVX2. Integer arithmetic
// wraps (it is done in uint32), so intermediate terms of the zero-point
// compensation may overflow while the final int32 stays exact.
//
//===----------------------------------------------------------------------===//

#include "QGemm.h"

#include "sparq/Runtime/sparq_runtime.h"

#include <cmath>

using namespace sparq::rt;

int32_t sparq::rt::requantizeScalar(int32_t acc, float scale, int32_t outZero,
                                    int32_t qmin, int32_t qmax) {
  // Clamping before rounding equals clamping after it (the bounds are
  // integers and rounding is monotone) and keeps huge values in range.
  float lo = static_cast<float>(qmin - outZero);
  float hi = static_cast<float>(qmax - outZero);
  float f = static_cast<float>(acc) * scale;
  f = f < lo ? lo : (f > hi ? hi : f);
  return static_cast<int32_t>(std::nearbyint(f)) + outZero;
}

namespace {

template <int R, bool Two>
void qMicroKernelGeneric(int64_t kGroups, const uint8_t *a, const int8_t *b0,
                         const int8_t *b1, int32_t *out) {
  constexpr int cols = Two ? kQTileN : kQNR;
  int32_t acc[R][cols] = {};
  for (int64_t g = 0; g < kGroups; ++g) {
    const uint8_t *ag = a + g * kQMR * 4;
    for (int i = 0; i < R; ++i)
      for (int j = 0; j < cols; ++j) {
        const int8_t *bg = (j < kQNR ? b0 : b1) + g * kQNR * 4 + (j % kQNR) * 4;
        int32_t s = 0;
        for (int t = 0; t < 4; ++t)
          s += int32_t(ag[i * 4 + t]) * int32_t(bg[t]);
        acc[i][j] += s;
      }
  }
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < cols; ++j)
      out[i * kQTileN + j] = acc[i][j];
}

void qOutputRowGeneric(const int32_t *raw, int64_t n, const QOutRow &row,
                       void *dst) {
  const uint32_t za = static_cast<uint32_t>(row.aZero);
  const uint32_t rs = static_cast<uint32_t>(row.rowSum);
  for (int64_t j = 0; j < n; ++j) {
    int64_t c = row.chanPerCol ? j : 0;
    uint32_t acc = static_cast<uint32_t>(raw[j]) -
                   za * static_cast<uint32_t>(row.colAdj[j]) -
                   static_cast<uint32_t>(row.bZero[j]) * rs +
                   static_cast<uint32_t>(row.biasI32[c]);
    int32_t v = static_cast<int32_t>(acc);
    switch (row.outKind) {
    case SPARQ_QOUT_I32:
      static_cast<int32_t *>(dst)[j] = v;
      break;
    case SPARQ_QOUT_F32:
      static_cast<float *>(dst)[j] = static_cast<float>(v) * row.scale[c];
      break;
    case SPARQ_QOUT_U8:
      static_cast<uint8_t *>(dst)[j] = static_cast<uint8_t>(
          requantizeScalar(v, row.scale[c], row.outZero, row.qmin, row.qmax));
      break;
    default:
      static_cast<int8_t *>(dst)[j] = static_cast<int8_t>(
          requantizeScalar(v, row.scale[c], row.outZero, row.qmin, row.qmax));
      break;
    }
  }
}

template <bool Two> QKernelSet::QMicroKernelRow genericMicroRow() {
  return {nullptr,
          qMicroKernelGeneric<1, Two>,
          qMicroKernelGeneric<2, Two>,
          qMicroKernelGeneric<3, Two>,
          qMicroKernelGeneric<4, Two>,
          qMicroKernelGeneric<5, Two>,
          qMicroKernelGeneric<6, Two>,
          qMicroKernelGeneric<7, Two>,
          qMicroKernelGeneric<8, Two>};
}

} // namespace

const QKernelSet &sparq::rt::genericQKernelSet() {
  static const QKernelSet set = {
      {genericMicroRow<false>(), genericMicroRow<true>()},
      qOutputRowGeneric,
      "generic"};
  return set;
}
