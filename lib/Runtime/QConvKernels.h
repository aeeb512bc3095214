//===- QConvKernels.h - Direct integer convolution kernels ------*- C++ -*-===//
//
// Micro-kernels of the direct (im2col-free) integer convolution path of
// sparq_uk_qconv2d_i8, and the interface between its entry (QConv.cpp) and
// driver (QConvDirect.cpp). The image is stored channels-interleaved, four
// channels per pixel ([C/4][phases][Hq][Wq][4]), so the 16 pixels of a B
// panel at one (channel quad, kh, kw) tap are 64 contiguous bytes: exactly
// one vpdpbusd operand (QConvDirectFn, image canonical s8); or, with the
// pixels as rows (QConvRowsFn, image canonical u8), each pixel's quad at a
// tap is one broadcast operand against packed weight panels. The kernels
// read the image at per-group byte offsets instead of from packed panels.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_RUNTIME_QCONVKERNELS_H
#define SPARQ_LIB_RUNTIME_QCONVKERNELS_H

#include <cstdint>

namespace sparq {
namespace rt {

class Context;
struct QGemmArgs;

/// Geometry of one sparq_uk_qconv2d_i8 call (NCHW, per image).
struct QConvShape {
  int64_t C, H, W, K, OH, OW, KH, KW, sH, sW, pT, pL, dH, dW, groups;
};

/// The direct path of sparq_uk_qconv2d_i8 for an ungrouped layer over N
/// images (QConvDirect.cpp): the channels-interleaved image read straight
/// by the kernels, as the GEMM's columns (QConvDirectFn) or, with
/// pixelRows, as its rows (QConvRowsFn); proto carries the epilogue tables
/// of the K channels.
void qconvDirectLayer(Context &ctx, const QConvShape &s, int64_t N,
                      const uint8_t *x8, const void *W, void *Y, int64_t xType,
                      int64_t wType, int32_t xzRaw, const int32_t *wzRaw,
                      const QGemmArgs &proto, int64_t flags, bool pixelRows);

/// Pixel panels per direct-kernel call, at most.
constexpr int kQcdMaxPanels = 3;
/// Columns of the raw tile the direct kernels write (its leading dimension).
constexpr int kQcdTileN = 16 * kQcdMaxPanels;

/// out[i * kQcdTileN + 16 * p + j] = sum_g sum_t a[g][i][t] *
///   img[boff[g] + 64 * p + 4 * j + t] for i < rows, p < panels, j < 16;
/// `a` is one qPackA panel (kQMR rows).
using QConvDirectFn = void (*)(int64_t kGroups, const uint8_t *a,
                               const int8_t *img, const int64_t *boff,
                               int32_t *out);

/// The direct kernel for `rows` (1..kQMR) rows and `panels`
/// (1..kQcdMaxPanels) panels, or null where the CPU lacks AVX-512 VNNI.
QConvDirectFn qconvDirectKernel(int rows, int panels);

/// The pixels-as-rows direct kernels: out[i * kQTileN + 16 * p + j] =
/// sum_g sum_t rows[i][boff[g] + t] * b_p[64 * g + 4 * j + t] for i < R,
/// j < 16 and p < 2 (b1 non-null) or p < 1: R output pixels, each a pointer
/// to its quad in the channels-interleaved image (canonical u8), times one
/// or two qPackB panels of 16 output channels.
using QConvRowsFn = void (*)(int64_t kGroups, const uint8_t *const *rows,
                             const int64_t *boff, const int8_t *b0,
                             const int8_t *b1, int32_t *out);

/// The pixels-as-rows kernel for `rows` (1..kQMR) pixels and one or two
/// panels, or null where the CPU lacks AVX-512 VNNI.
QConvRowsFn qconvRowsKernel(int rows, bool twoPanels);

/// The u8/s8 output stage of a pixels-as-rows tile, per channel j of its
/// 32 (zero past the live ones) and pixel i:
///   out = clamp(rne(float(raw - colTerm[j] - bZero[j] * rowSums[i]) *
///               scale[j]) + outZero, qmin, qmax),
/// with colTerm[j] = aZero * colAdj[j] - bias[j] in wrapping int32: the
/// QOutRow arithmetic, regrouped, so exactly requantizeScalar's result.
struct QConvRowsOut {
  const int32_t *rowSums;
  const int32_t *colTerm;
  const int32_t *bZero;
  const float *scale;
  int32_t outZero, qmin, qmax;
};

/// A pixels-as-rows kernel with that output stage fused: the bytes of
/// pixel i at out + i * kQTileN.
using QConvRowsQFn = void (*)(int64_t kGroups, const uint8_t *const *rows,
                              const int64_t *boff, const int8_t *b0,
                              const int8_t *b1, const QConvRowsOut &o,
                              uint8_t *out);
QConvRowsQFn qconvRowsKernelQ(int rows, bool twoPanels);

/// sums[j] (+)= the sum of the four bytes img[4j..4j+3], j < pixels, read
/// as s8 or (unsignedBytes) u8; `first` overwrites instead of adding.
void qconvQuadSums(const int8_t *img, int64_t pixels, int32_t *sums, bool first,
                   bool unsignedBytes = false);

/// out[j] = base + sum_t sums[soff[t] + j] (wrapping) for j below n
/// rounded up to 16 (out and the sums must have room for that).
void qconvColAdj(const int32_t *sums, const int64_t *soff, int64_t taps,
                 int64_t n, int32_t base, int32_t *out);

/// The output stage of a direct tile of `rows` rows (channels) by n <=
/// kQcdTileN columns, with one column zero point bZero (the image's):
/// acc = raw - aZero[r] * colAdj[j] - bZero * rowSums[r] + bias[r], then
/// int32, f32 (acc * scale[r]) or requantized u8/s8 (SPARQ_QOUT_*), row r
/// at out + r * kQcdTileN * 4. Exactly requantizeScalar. False (nothing
/// written) where the CPU lacks AVX-512.
bool qconvOutputTile(const int32_t *raw, int rows, int64_t n,
                     const int32_t *colAdj, const int32_t *rowSums,
                     const int32_t *aZero, int32_t bZero, const int32_t *bias,
                     const float *scale, int outKind, int32_t outZero,
                     int32_t qmin, int32_t qmax, uint8_t *out);

/// Whether sparq_uk_qconv2d_i8 may take the direct path (on the shapes
/// where it pays): on by default, SPARQ_QCONV_DIRECT=0 turns it off.
/// setQConvDirect(0) turns it off, (1) forces it on every shape it
/// supports (tests), and -1 restores the default.
bool qconvDirectEnabled();
void setQConvDirect(int on);

/// Whether the direct path runs with the output pixels as the GEMM rows
/// (QConvRowsFn) where that pays: setQConvDirectRows(0) never, (1) on every
/// ungrouped layer (tests), -1 the default.
void setQConvDirectRows(int on);

/// Whether sparq_uk_qconv2d_i8 runs ungrouped layers that do not take the
/// direct path with the output pixels as the GEMM rows (where that pays):
/// setQConvPixelRows(0) never, (1) always (tests), -1 the default.
void setQConvPixelRows(int on);

} // namespace rt
} // namespace sparq

#endif // SPARQ_LIB_RUNTIME_QCONVKERNELS_H
