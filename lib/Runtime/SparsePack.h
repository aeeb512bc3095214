//===- SparsePack.h - Reference packer and reader of sparse blobs -*- C++ -*-===//
//
// The runtime side of the packed sparse weight format of
// sparq_sparse_format.h: a reference packer that builds a blob of each format
// from a dense row-major matrix (used by the unit tests, the benchmark and
// the compiler's lit tests; the compiler has its own packer), and the checked
// reader the sparse micro-kernels use to view a blob before touching it.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_LIB_RUNTIME_SPARSEPACK_H
#define SPARQ_LIB_RUNTIME_SPARSEPACK_H

#include <cstdint>
#include <vector>

namespace sparq {
namespace rt {

/// Packs the non-zeros of a dense row-major [rows, cols] matrix as CSR.
/// indexBytes is 2 or 4, or 0 to pick 2 whenever cols <= 65536. Returns an
/// empty vector for invalid arguments.
std::vector<uint8_t> packSparseCsr(const float *dense, int64_t rows,
                                   int64_t cols, int indexBytes = 0);

/// Packs every R x C block holding a non-zero (rows % R == 0, cols % C ==
/// 0); all-zero blocks are dropped. Returns an empty vector for invalid
/// arguments.
std::vector<uint8_t> packSparseBlock(const float *dense, int64_t rows,
                                     int64_t cols, int64_t blockRows,
                                     int64_t blockCols, int indexBytes = 0);

/// Packs an N:M matrix (cols % M == 0, 1 <= N <= M <= 16). Returns an empty
/// vector when some group of M consecutive columns holds more than N
/// non-zeros, or for invalid arguments.
std::vector<uint8_t> packSparseNM(const float *dense, int64_t rows,
                                  int64_t cols, int64_t n, int64_t m);

/// Zeroes all but the n largest-magnitude entries of every group of m
/// consecutive columns, making a dense matrix packable by packSparseNM.
void pruneToNM(float *dense, int64_t rows, int64_t cols, int64_t n, int64_t m);

/// A validated view of a blob: pointers into it and the header fields.
struct SparseMatrix {
  uint32_t format = 0; ///< enum sparq_sparse_format
  int64_t rows = 0, cols = 0;
  int64_t blockRows = 1, blockCols = 1; ///< BLOCK: R, C; otherwise 1
  int64_t n = 0, m = 0;                 ///< NM only
  int indexBytes = 0;                   ///< CSR/BLOCK col width: 2 or 4
  const uint32_t *rowPtr = nullptr;     ///< CSR, BLOCK
  const void *col = nullptr;            ///< CSR/BLOCK indices, NM nibbles
  const float *values = nullptr;
  int64_t nnz = 0; ///< stored values
  /// CSR/BLOCK: column indices strictly increase along every (block) row,
  /// which lets kernels split rows by column range.
  bool sortedColumns = false;
};

/// Checks a blob completely (header, sizes against total_bytes, array
/// alignment, monotone row pointers, every index in range) and fills `out`.
/// The blob must be 4-byte aligned. Returns false for anything malformed;
/// a successfully read blob can be traversed without further checks.
bool readSparseBlob(const void *blob, SparseMatrix &out);

/// Packs the int8 matrix dense [rows, cols] (cols % 4 == 0) as
/// SPARQ_SPARSE_BLOCK_I8: every 1 x 4 block holding a non-zero, with the
/// row sums. indexBytes as for packSparseCsr. Returns an empty vector for
/// invalid arguments.
std::vector<uint8_t> packSparseBlockI8(const int8_t *dense, int64_t rows,
                                       int64_t cols, int indexBytes = 0);

/// A validated view of a SPARQ_SPARSE_BLOCK_I8 blob.
struct SparseMatrixI8 {
  int64_t rows = 0, cols = 0;
  int64_t blocks = 0;               ///< stored 1 x 4 blocks
  int indexBytes = 0;               ///< 2 or 4
  const uint32_t *rowPtr = nullptr; ///< rows + 1 block indices
  const void *col = nullptr;        ///< block-column index per block
  const int8_t *values = nullptr;   ///< 4 bytes per block
  const int32_t *rowSums = nullptr; ///< sum of each row's values
};

/// Checks a SPARQ_SPARSE_BLOCK_I8 blob completely (header, sizes, alignment,
/// monotone row pointers, block columns in range, row sums equal to the
/// values' sums) and fills `out`; false for anything malformed, including
/// blobs of the f32 formats (which readSparseBlob takes, and which in turn
/// rejects this one).
bool readSparseBlobI8(const void *blob, SparseMatrixI8 &out);

/// total_bytes of a blob's header, or 0 when the magic or version is wrong.
uint64_t sparseBlobBytes(const void *blob);

} // namespace rt
} // namespace sparq

#endif // SPARQ_LIB_RUNTIME_SPARSEPACK_H
