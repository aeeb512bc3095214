/*===- sparq_sparse_format.h - packed sparse weight layout ---------*- C -*-===*
 *
 * The byte layout of a sparse weight matrix packed by the compiler at
 * compile time (sparq-pack-sparse-weights) and read by the runtime's sparse
 * micro-kernels. Both sides include this header, so it is the contract.
 *
 * A packed weight describes a matrix W of `rows` x `cols` floats, where rows
 * are output features (output channels, Linear out_features) and cols the
 * reduction dimension (in_features, or C*KH*KW of a convolution). All
 * offsets are in bytes from the start of the blob; every array starts at a
 * multiple of 16 bytes. The blob is stored as an i8 constant in the model.
 *
 * Formats:
 *  - SPARQ_SPARSE_CSR (unstructured): row_ptr[rows + 1] (uint32, index into
 *    col/values), col[nnz] (uint16 when cols <= 65536, else uint32; see
 *    index_bytes), values[nnz] (float).
 *  - SPARQ_SPARSE_BLOCK (R x C dense blocks, R = block_rows along rows, C =
 *    block_cols along cols; rows % R == 0 and cols % C == 0): row_ptr[rows/R
 *    + 1] (uint32, index of the first block of each block row), col[nblocks]
 *    (uint16/uint32 block-column index, i.e. first col / C), values[nblocks *
 *    R * C] (float, each block row-major).
 *  - SPARQ_SPARSE_NM (N:M along cols; cols % M == 0): for every row and every
 *    group of M consecutive cols exactly N slots: values[rows * (cols/M) *
 *    N] (float; unused slots hold 0) and col[rows * (cols/M) * N], the
 *    position (0..M-1) of each slot inside its group, packed 4 bits per
 *    entry (two per byte, low nibble first), M <= 16.
 *  - SPARQ_SPARSE_BLOCK_I8 (int8 weights in 1 x 4 blocks along cols, for
 *    the integer kernel sparq_uk_sparse_qmatmul_i8; block_rows = 1,
 *    block_cols = 4, cols % 4 == 0): row_ptr[rows + 1] (uint32, index of the
 *    first block of each row), col[nblocks] (uint16/uint32 block-column
 *    index, i.e. first col / 4), values[nblocks * 4] (int8, the symmetric
 *    weight with zero point 0; nnz = nblocks * 4), then row_sums[rows]
 *    (int32, the sum of each row's values: the zero-point compensation) at
 *    the first multiple of 16 past the values. One block is one 4-byte
 *    operand of vpdpbusd. Only sparq_uk_sparse_qmatmul_i8 reads this
 *    format; the f32 kernels reject it.
 *
 *===----------------------------------------------------------------------===*/

#ifndef SPARQ_RUNTIME_SPARQ_SPARSE_FORMAT_H
#define SPARQ_RUNTIME_SPARQ_SPARSE_FORMAT_H

#include <stdint.h>

#define SPARQ_SPARSE_MAGIC 0x53505153u /* "SQPS" little-endian */
#define SPARQ_SPARSE_VERSION 1u

enum sparq_sparse_format {
  SPARQ_SPARSE_CSR = 1,
  SPARQ_SPARSE_BLOCK = 2,
  SPARQ_SPARSE_NM = 3,
  SPARQ_SPARSE_BLOCK_I8 = 4
};

typedef struct sparq_sparse_header {
  uint32_t magic;       /* SPARQ_SPARSE_MAGIC */
  uint32_t version;     /* SPARQ_SPARSE_VERSION */
  uint32_t format;      /* enum sparq_sparse_format */
  uint32_t index_bytes; /* 2 or 4 (CSR, BLOCK, BLOCK_I8 col arrays); 0 for
                           NM */
  uint32_t rows;
  uint32_t cols;
  uint32_t block_rows; /* BLOCK: R; BLOCK_I8: 1; otherwise 1 */
  uint32_t block_cols; /* BLOCK: C; BLOCK_I8: 4; otherwise 1 */
  uint32_t n;          /* NM: N; otherwise 0 */
  uint32_t m;          /* NM: M; otherwise 0 */
  uint64_t nnz;        /* stored values (CSR: non-zeros; BLOCK: blocks*R*C;
                          NM: rows*(cols/M)*N; BLOCK_I8: blocks*4) */
  uint64_t row_ptr_offset; /* CSR, BLOCK, BLOCK_I8 */
  uint64_t col_offset;     /* CSR, BLOCK, NM, BLOCK_I8 */
  uint64_t values_offset;
  uint64_t total_bytes;    /* size of the whole blob */
} sparq_sparse_header;

#endif /* SPARQ_RUNTIME_SPARQ_SPARSE_FORMAT_H */
