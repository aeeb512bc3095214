//===- SparsePack.cpp - Reference packer and reader of sparse blobs -------===//
//
// Builds packed sparse blobs from dense matrices and validates blobs for the
// kernels. The reader trusts nothing in a blob: every size is checked against
// total_bytes with overflow-safe arithmetic, and every stored index (row
// pointers, column indices, N:M positions) is checked once, so that the
// kernels' inner loops need no bounds checks.
//
//===----------------------------------------------------------------------===//

#include "SparsePack.h"

#include "sparq/Runtime/sparq_sparse_format.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace sparq::rt;

namespace {

uint64_t sparseAlign16(uint64_t x) { return (x + 15) & ~uint64_t(15); }

/// Lays out header + row_ptr + col + values and returns the blob with the
/// header filled in; the caller writes the arrays.
std::vector<uint8_t> sparseAllocateBlob(sparq_sparse_header h,
                                        uint64_t rowPtrCount,
                                        uint64_t colBytes) {
  uint64_t off = sparseAlign16(sizeof(sparq_sparse_header));
  h.row_ptr_offset = rowPtrCount ? off : 0;
  off = sparseAlign16(off + rowPtrCount * 4);
  h.col_offset = off;
  off = sparseAlign16(off + colBytes);
  h.values_offset = off;
  off = sparseAlign16(off + h.nnz * 4);
  h.total_bytes = off;
  std::vector<uint8_t> blob(off, 0);
  std::memcpy(blob.data(), &h, sizeof(h));
  return blob;
}

sparq_sparse_header sparseBaseHeader(uint32_t format, int64_t rows,
                                     int64_t cols) {
  sparq_sparse_header h;
  std::memset(&h, 0, sizeof(h));
  h.magic = SPARQ_SPARSE_MAGIC;
  h.version = SPARQ_SPARSE_VERSION;
  h.format = format;
  h.rows = static_cast<uint32_t>(rows);
  h.cols = static_cast<uint32_t>(cols);
  h.block_rows = 1;
  h.block_cols = 1;
  return h;
}

bool sparseDimsOk(const float *dense, int64_t rows, int64_t cols) {
  return dense && rows > 0 && cols > 0 && rows <= UINT32_MAX &&
         cols <= UINT32_MAX;
}

int sparseIndexBytes(int requested, int64_t maxIndexPlusOne) {
  if (requested == 0)
    return maxIndexPlusOne <= 65536 ? 2 : 4;
  if (requested == 2 && maxIndexPlusOne > 65536)
    return 0;
  return requested == 2 || requested == 4 ? requested : 0;
}

void sparseStoreIndex(uint8_t *col, int indexBytes, uint64_t i,
                      uint32_t value) {
  if (indexBytes == 2) {
    uint16_t v = static_cast<uint16_t>(value);
    std::memcpy(col + i * 2, &v, 2);
  } else {
    std::memcpy(col + i * 4, &value, 4);
  }
}

/// True when [offset, offset + bytes) lies inside a blob of `total` bytes
/// and offset is 16-byte aligned.
bool sparseRangeOk(uint64_t offset, uint64_t count, uint64_t elemBytes,
                   uint64_t total) {
  if (offset % 16 != 0 || offset < sizeof(sparq_sparse_header) ||
      offset > total)
    return false;
  if (count > (total - offset) / elemBytes)
    return false;
  return true;
}

/// Checks that every index is below `limit`; sets `sorted` when they also
/// strictly increase within every row.
template <typename IndexT>
bool sparseIndicesBelow(const void *col, const uint32_t *rowPtr,
                        uint64_t rowCount, uint64_t limit, bool &sorted) {
  const IndexT *c = static_cast<const IndexT *>(col);
  IndexT maxSeen = 0;
  sorted = true;
  for (uint64_t r = 0; r < rowCount; ++r)
    for (uint64_t i = rowPtr[r]; i < rowPtr[r + 1]; ++i) {
      maxSeen = std::max(maxSeen, c[i]);
      if (i > rowPtr[r] && c[i] <= c[i - 1])
        sorted = false;
    }
  return rowPtr[rowCount] == 0 || uint64_t(maxSeen) < limit;
}

} // namespace

std::vector<uint8_t> sparq::rt::packSparseCsr(const float *dense, int64_t rows,
                                              int64_t cols, int indexBytes) {
  if (!sparseDimsOk(dense, rows, cols))
    return {};
  indexBytes = sparseIndexBytes(indexBytes, cols);
  if (!indexBytes)
    return {};
  sparq_sparse_header h = sparseBaseHeader(SPARQ_SPARSE_CSR, rows, cols);
  h.index_bytes = indexBytes;
  uint64_t nnz = 0;
  for (int64_t i = 0; i < rows * cols; ++i)
    nnz += dense[i] != 0.f;
  h.nnz = nnz;
  std::vector<uint8_t> blob = sparseAllocateBlob(h, rows + 1, nnz * indexBytes);
  std::memcpy(&h, blob.data(), sizeof(h));
  uint32_t *rowPtr = reinterpret_cast<uint32_t *>(blob.data() + h.row_ptr_offset);
  uint8_t *col = blob.data() + h.col_offset;
  float *values = reinterpret_cast<float *>(blob.data() + h.values_offset);
  uint64_t e = 0;
  for (int64_t r = 0; r < rows; ++r) {
    rowPtr[r] = static_cast<uint32_t>(e);
    for (int64_t c = 0; c < cols; ++c) {
      float v = dense[r * cols + c];
      if (v == 0.f)
        continue;
      sparseStoreIndex(col, indexBytes, e, static_cast<uint32_t>(c));
      values[e++] = v;
    }
  }
  rowPtr[rows] = static_cast<uint32_t>(e);
  return blob;
}

std::vector<uint8_t> sparq::rt::packSparseBlock(const float *dense,
                                                int64_t rows, int64_t cols,
                                                int64_t blockRows,
                                                int64_t blockCols,
                                                int indexBytes) {
  if (!sparseDimsOk(dense, rows, cols) || blockRows <= 0 || blockCols <= 0 ||
      rows % blockRows != 0 || cols % blockCols != 0)
    return {};
  const int64_t R = blockRows, C = blockCols;
  const int64_t blockRowCount = rows / R, blockColCount = cols / C;
  indexBytes = sparseIndexBytes(indexBytes, blockColCount);
  if (!indexBytes)
    return {};
  auto blockNonZero = [&](int64_t br, int64_t bc) {
    for (int64_t r = 0; r < R; ++r)
      for (int64_t c = 0; c < C; ++c)
        if (dense[(br * R + r) * cols + bc * C + c] != 0.f)
          return true;
    return false;
  };
  uint64_t blocks = 0;
  for (int64_t br = 0; br < blockRowCount; ++br)
    for (int64_t bc = 0; bc < blockColCount; ++bc)
      blocks += blockNonZero(br, bc);
  sparq_sparse_header h = sparseBaseHeader(SPARQ_SPARSE_BLOCK, rows, cols);
  h.index_bytes = indexBytes;
  h.block_rows = static_cast<uint32_t>(R);
  h.block_cols = static_cast<uint32_t>(C);
  h.nnz = blocks * R * C;
  std::vector<uint8_t> blob =
      sparseAllocateBlob(h, blockRowCount + 1, blocks * indexBytes);
  std::memcpy(&h, blob.data(), sizeof(h));
  uint32_t *rowPtr = reinterpret_cast<uint32_t *>(blob.data() + h.row_ptr_offset);
  uint8_t *col = blob.data() + h.col_offset;
  float *values = reinterpret_cast<float *>(blob.data() + h.values_offset);
  uint64_t b = 0;
  for (int64_t br = 0; br < blockRowCount; ++br) {
    rowPtr[br] = static_cast<uint32_t>(b);
    for (int64_t bc = 0; bc < blockColCount; ++bc) {
      if (!blockNonZero(br, bc))
        continue;
      sparseStoreIndex(col, indexBytes, b, static_cast<uint32_t>(bc));
      float *v = values + b * R * C;
      for (int64_t r = 0; r < R; ++r)
        for (int64_t c = 0; c < C; ++c)
          v[r * C + c] = dense[(br * R + r) * cols + bc * C + c];
      ++b;
    }
  }
  rowPtr[blockRowCount] = static_cast<uint32_t>(b);
  return blob;
}

std::vector<uint8_t> sparq::rt::packSparseNM(const float *dense, int64_t rows,
                                             int64_t cols, int64_t n,
                                             int64_t m) {
  if (!sparseDimsOk(dense, rows, cols) || n < 1 || m < n || m > 16 ||
      cols % m != 0)
    return {};
  const int64_t groups = cols / m;
  sparq_sparse_header h = sparseBaseHeader(SPARQ_SPARSE_NM, rows, cols);
  h.n = static_cast<uint32_t>(n);
  h.m = static_cast<uint32_t>(m);
  h.nnz = static_cast<uint64_t>(rows) * groups * n;
  std::vector<uint8_t> blob = sparseAllocateBlob(h, 0, (h.nnz + 1) / 2);
  std::memcpy(&h, blob.data(), sizeof(h));
  uint8_t *nibbles = blob.data() + h.col_offset;
  float *values = reinterpret_cast<float *>(blob.data() + h.values_offset);
  uint64_t e = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < groups; ++g) {
      const float *src = dense + r * cols + g * m;
      int64_t used = 0;
      for (int64_t p = 0; p < m; ++p) {
        if (src[p] == 0.f)
          continue;
        if (used == n)
          return {};
        values[e + used] = src[p];
        nibbles[(e + used) / 2] |= static_cast<uint8_t>(p << (4 * ((e + used) & 1)));
        ++used;
      }
      // Unused slots: value 0 at position 0 (already zero-filled).
      e += n;
    }
  return blob;
}

void sparq::rt::pruneToNM(float *dense, int64_t rows, int64_t cols, int64_t n,
                          int64_t m) {
  if (!dense || n < 0 || m <= 0 || m > 16 || cols % m != 0)
    return;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < cols / m; ++g) {
      float *grp = dense + r * cols + g * m;
      int order[16];
      for (int p = 0; p < m; ++p)
        order[p] = p;
      std::stable_sort(order, order + m, [&](int a, int b) {
        return std::fabs(grp[a]) > std::fabs(grp[b]);
      });
      for (int64_t p = n; p < m; ++p)
        grp[order[p]] = 0.f;
    }
}

std::vector<uint8_t> sparq::rt::packSparseBlockI8(const int8_t *dense,
                                                  int64_t rows, int64_t cols,
                                                  int indexBytes) {
  if (!dense || rows <= 0 || cols <= 0 || rows > UINT32_MAX ||
      cols > UINT32_MAX || cols % 4 != 0)
    return {};
  const int64_t blockCols = cols / 4;
  indexBytes = sparseIndexBytes(indexBytes, blockCols);
  if (!indexBytes)
    return {};
  auto blockNonZero = [&](int64_t r, int64_t bc) {
    const int8_t *p = dense + r * cols + bc * 4;
    return p[0] != 0 || p[1] != 0 || p[2] != 0 || p[3] != 0;
  };
  uint64_t blocks = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t bc = 0; bc < blockCols; ++bc)
      blocks += blockNonZero(r, bc);
  sparq_sparse_header h = sparseBaseHeader(SPARQ_SPARSE_BLOCK_I8, rows, cols);
  h.index_bytes = indexBytes;
  h.block_cols = 4;
  h.nnz = blocks * 4;
  // Laid out by hand: int8 values, then the row sums.
  uint64_t off = sparseAlign16(sizeof(sparq_sparse_header));
  h.row_ptr_offset = off;
  off = sparseAlign16(off + (rows + 1) * 4);
  h.col_offset = off;
  off = sparseAlign16(off + blocks * indexBytes);
  h.values_offset = off;
  const uint64_t sumsOffset = sparseAlign16(off + h.nnz);
  h.total_bytes = sparseAlign16(sumsOffset + rows * 4);
  std::vector<uint8_t> blob(h.total_bytes, 0);
  std::memcpy(blob.data(), &h, sizeof(h));
  uint32_t *rowPtr =
      reinterpret_cast<uint32_t *>(blob.data() + h.row_ptr_offset);
  uint8_t *col = blob.data() + h.col_offset;
  int8_t *values = reinterpret_cast<int8_t *>(blob.data() + h.values_offset);
  int32_t *sums = reinterpret_cast<int32_t *>(blob.data() + sumsOffset);
  uint64_t b = 0;
  for (int64_t r = 0; r < rows; ++r) {
    rowPtr[r] = static_cast<uint32_t>(b);
    int32_t sum = 0;
    for (int64_t bc = 0; bc < blockCols; ++bc) {
      if (!blockNonZero(r, bc))
        continue;
      sparseStoreIndex(col, indexBytes, b, static_cast<uint32_t>(bc));
      for (int t = 0; t < 4; ++t) {
        values[b * 4 + t] = dense[r * cols + bc * 4 + t];
        sum += values[b * 4 + t];
      }
      ++b;
    }
    sums[r] = sum;
  }
  rowPtr[rows] = static_cast<uint32_t>(b);
  return blob;
}

bool sparq::rt::readSparseBlobI8(const void *blob, SparseMatrixI8 &out) {
  if (!blob || reinterpret_cast<uintptr_t>(blob) % 4 != 0)
    return false;
  sparq_sparse_header h;
  std::memcpy(&h, blob, sizeof(h));
  if (h.magic != SPARQ_SPARSE_MAGIC || h.version != SPARQ_SPARSE_VERSION ||
      h.format != SPARQ_SPARSE_BLOCK_I8 || h.total_bytes < sizeof(h) ||
      h.rows == 0 || h.cols == 0 || h.block_rows != 1 || h.block_cols != 4 ||
      h.cols % 4 != 0 || (h.index_bytes != 2 && h.index_bytes != 4) ||
      h.nnz % 4 != 0)
    return false;
  const uint8_t *base = static_cast<const uint8_t *>(blob);
  const uint64_t total = h.total_bytes;
  if (!sparseRangeOk(h.row_ptr_offset, uint64_t(h.rows) + 1, 4, total))
    return false;
  const uint32_t *rowPtr =
      reinterpret_cast<const uint32_t *>(base + h.row_ptr_offset);
  if (rowPtr[0] != 0)
    return false;
  for (uint64_t r = 0; r < h.rows; ++r)
    if (rowPtr[r + 1] < rowPtr[r])
      return false;
  const uint64_t blocks = rowPtr[h.rows];
  if (blocks * 4 != h.nnz ||
      !sparseRangeOk(h.col_offset, blocks, h.index_bytes, total) ||
      !sparseRangeOk(h.values_offset, h.nnz, 1, total))
    return false;
  const uint64_t sumsOffset = sparseAlign16(h.values_offset + h.nnz);
  if (!sparseRangeOk(sumsOffset, h.rows, 4, total))
    return false;
  const void *col = base + h.col_offset;
  bool sorted = false;
  const uint64_t blockCols = h.cols / 4;
  bool inRange = h.index_bytes == 2
                     ? sparseIndicesBelow<uint16_t>(col, rowPtr, h.rows,
                                                    blockCols, sorted)
                     : sparseIndicesBelow<uint32_t>(col, rowPtr, h.rows,
                                                    blockCols, sorted);
  if (!inRange)
    return false;
  const int8_t *values =
      reinterpret_cast<const int8_t *>(base + h.values_offset);
  const int32_t *sums = reinterpret_cast<const int32_t *>(base + sumsOffset);
  for (uint64_t r = 0; r < h.rows; ++r) {
    int32_t sum = 0;
    for (uint64_t v = uint64_t(rowPtr[r]) * 4; v < uint64_t(rowPtr[r + 1]) * 4;
         ++v)
      sum += values[v];
    if (sum != sums[r])
      return false;
  }
  SparseMatrixI8 s;
  s.rows = h.rows;
  s.cols = h.cols;
  s.blocks = static_cast<int64_t>(blocks);
  s.indexBytes = static_cast<int>(h.index_bytes);
  s.rowPtr = rowPtr;
  s.col = col;
  s.values = values;
  s.rowSums = sums;
  out = s;
  return true;
}

uint64_t sparq::rt::sparseBlobBytes(const void *blob) {
  if (!blob)
    return 0;
  sparq_sparse_header h;
  std::memcpy(&h, blob, sizeof(h));
  if (h.magic != SPARQ_SPARSE_MAGIC || h.version != SPARQ_SPARSE_VERSION)
    return 0;
  return h.total_bytes;
}

bool sparq::rt::readSparseBlob(const void *blob, SparseMatrix &out) {
  if (!blob || reinterpret_cast<uintptr_t>(blob) % 4 != 0)
    return false;
  sparq_sparse_header h;
  std::memcpy(&h, blob, sizeof(h));
  if (h.magic != SPARQ_SPARSE_MAGIC || h.version != SPARQ_SPARSE_VERSION ||
      h.total_bytes < sizeof(h) || h.rows == 0 || h.cols == 0)
    return false;
  const uint8_t *base = static_cast<const uint8_t *>(blob);
  const uint64_t total = h.total_bytes;
  SparseMatrix s;
  s.format = h.format;
  s.rows = h.rows;
  s.cols = h.cols;
  s.nnz = static_cast<int64_t>(std::min<uint64_t>(h.nnz, INT64_MAX));
  if (!sparseRangeOk(h.values_offset, h.nnz, 4, total))
    return false;
  s.values = reinterpret_cast<const float *>(base + h.values_offset);

  if (h.format == SPARQ_SPARSE_NM) {
    if (h.n < 1 || h.m < h.n || h.m > 16 || h.cols % h.m != 0)
      return false;
    unsigned __int128 slots128 =
        (unsigned __int128)h.rows * (h.cols / h.m) * h.n;
    if (slots128 != h.nnz)
      return false;
    uint64_t slots = h.nnz;
    if ( !sparseRangeOk(h.col_offset, (slots + 1) / 2, 1, total))
      return false;
    const uint8_t *nib = base + h.col_offset;
    for (uint64_t e = 0; e < slots; ++e)
      if (((nib[e >> 1] >> ((e & 1) * 4)) & 15u) >= h.m)
        return false;
    s.n = h.n;
    s.m = h.m;
    s.col = nib;
    out = s;
    return true;
  }

  if (h.format != SPARQ_SPARSE_CSR && h.format != SPARQ_SPARSE_BLOCK)
    return false;
  uint64_t R = 1, C = 1;
  if (h.format == SPARQ_SPARSE_BLOCK) {
    R = h.block_rows;
    C = h.block_cols;
    if (R == 0 || C == 0 || h.rows % R != 0 || h.cols % C != 0)
      return false;
  }
  if (h.index_bytes != 2 && h.index_bytes != 4)
    return false;
  const uint64_t blockRowCount = h.rows / R, blockColCount = h.cols / C;
  if (!sparseRangeOk(h.row_ptr_offset, blockRowCount + 1, 4, total))
    return false;
  const uint32_t *rowPtr =
      reinterpret_cast<const uint32_t *>(base + h.row_ptr_offset);
  if (rowPtr[0] != 0)
    return false;
  for (uint64_t r = 0; r < blockRowCount; ++r)
    if (rowPtr[r + 1] < rowPtr[r])
      return false;
  const uint64_t entries = rowPtr[blockRowCount];
  if ((unsigned __int128)entries * R * C != h.nnz ||
      !sparseRangeOk(h.col_offset, entries, h.index_bytes, total))
    return false;
  const void *col = base + h.col_offset;
  bool sorted = false;
  bool inRange = h.index_bytes == 2
                     ? sparseIndicesBelow<uint16_t>(col, rowPtr, blockRowCount,
                                                    blockColCount, sorted)
                     : sparseIndicesBelow<uint32_t>(col, rowPtr, blockRowCount,
                                                    blockColCount, sorted);
  if (!inRange)
    return false;
  s.sortedColumns = sorted;
  s.blockRows = static_cast<int64_t>(R);
  s.blockCols = static_cast<int64_t>(C);
  s.indexBytes = static_cast<int>(h.index_bytes);
  s.rowPtr = rowPtr;
  s.col = col;
  out = s;
  return true;
}
