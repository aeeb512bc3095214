//===- MemRefCopy.cpp - strided copies for generated code -----------------===//
//
// MLIR lowers a memref.copy between non-contiguous buffers (a padded
// pooling input, a strided slice) to a call of `memrefCopy` with two unranked
// descriptors. This is sparq's implementation of that entry point, so
// compiled models need no MLIR runtime library.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstring>

namespace {

/// The layout of a ranked memref descriptor: allocated and aligned
/// pointers, offset, then `rank` sizes and `rank` strides.
struct StridedDescriptor {
  char *allocated;
  char *aligned;
  int64_t offset;
  int64_t sizesAndStrides[1];
};

/// The unranked descriptor MLIR passes: rank plus a pointer to the ranked one.
struct UnrankedStridedMemRef {
  int64_t rank;
  StridedDescriptor *descriptor;
};

void copyStridedDim(int64_t dim, int64_t rank, const int64_t *sizes,
             const int64_t *srcStrides, const int64_t *dstStrides,
             const char *src, char *dst, int64_t elemSize) {
  int64_t size = sizes[dim];
  if (dim == rank - 1 && srcStrides[dim] == 1 && dstStrides[dim] == 1) {
    std::memcpy(dst, src, size * elemSize);
    return;
  }
  for (int64_t i = 0; i < size; ++i) {
    const char *s = src + i * srcStrides[dim] * elemSize;
    char *d = dst + i * dstStrides[dim] * elemSize;
    if (dim == rank - 1)
      std::memcpy(d, s, elemSize);
    else
      copyStridedDim(dim + 1, rank, sizes, srcStrides, dstStrides, s, d, elemSize);
  }
}

} // namespace

extern "C" __attribute__((visibility("default"))) void
memrefCopy(int64_t elemSize, UnrankedStridedMemRef *srcArg, UnrankedStridedMemRef *dstArg) {
  if (!srcArg || !dstArg || !srcArg->descriptor || !dstArg->descriptor ||
      srcArg->rank != dstArg->rank || elemSize <= 0)
    return;
  int64_t rank = srcArg->rank;
  StridedDescriptor *src = srcArg->descriptor, *dst = dstArg->descriptor;
  const char *srcBase = src->aligned + src->offset * elemSize;
  char *dstBase = dst->aligned + dst->offset * elemSize;
  if (rank == 0) {
    std::memcpy(dstBase, srcBase, elemSize);
    return;
  }
  const int64_t *sizes = src->sizesAndStrides;
  for (int64_t d = 0; d < rank; ++d)
    if (sizes[d] == 0)
      return;
  copyStridedDim(0, rank, sizes, src->sizesAndStrides + rank,
          dst->sizesAndStrides + rank, srcBase, dstBase, elemSize);
}
