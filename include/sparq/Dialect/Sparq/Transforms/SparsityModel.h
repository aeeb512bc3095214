//===- SparsityModel.h - weight sparsity patterns, pruning, formats -*- C++ -*-===//
//
// The data side of sparq's sparsity support, kept apart from the passes that
// apply it: a weight is viewed as a matrix W[rows][cols] (rows = output
// features, cols = the reduction dimension); this header measures its zero
// pattern, magnitude-prunes it, estimates dense and sparse kernel times and
// packs it into the layout of sparq_sparse_format.h.
//
//===----------------------------------------------------------------------===//

#ifndef SPARQ_DIALECT_SPARQ_TRANSFORMS_SPARSITYMODEL_H
#define SPARQ_DIALECT_SPARQ_TRANSFORMS_SPARSITYMODEL_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sparq {

/// A dense row-major weight matrix (rows = outputs, cols = reduction).
struct WeightMatrix {
  int64_t rows = 0, cols = 0;
  std::vector<float> values;
  float at(int64_t r, int64_t c) const { return values[r * cols + c]; }
};

enum class SparseFormat { Dense, Csr, Block, NM };

/// A sparsity pattern: the format plus its parameters.
struct SparsePattern {
  SparseFormat format = SparseFormat::Dense;
  int64_t n = 0, m = 0;                 // NM
  int64_t blockRows = 1, blockCols = 1; // Block
  std::string str() const;              // "csr", "nm 2:4", "block 4x1"
  /// Parses what str() prints.
  static std::optional<SparsePattern> parse(llvm::StringRef text);
};

/// Measured facts about one weight.
struct PatternReport {
  double density = 1.0;
  /// The sparsest N:M pattern every group satisfies, if any.
  std::optional<SparsePattern> nm;
  /// The largest block shape whose non-zero blocks add (almost) no fill.
  std::optional<SparsePattern> block;
  double blockDensity = 1.0; // fraction of stored values for `block`
  /// The best structural description: block, else N:M, else unstructured.
  SparsePattern detected;
};

PatternReport analyzeWeight(const WeightMatrix &w);

/// A pruning request: "unstructured:0.9", "nm:2:4", "block:4x1:0.8" (the
/// number is the fraction of weights or blocks removed).
struct PruneSpec {
  SparsePattern pattern;
  double sparsity = 0.0;
  std::string text;
};
std::optional<PruneSpec> parsePruneSpec(llvm::StringRef text,
                                        std::string &error);

/// Magnitude-prunes `w` in place; fails (returns false) when the pattern
/// does not divide the matrix.
bool pruneWeight(WeightMatrix &w, const PruneSpec &spec, std::string &error);

/// What the cost model needs to know of the CPU a model is compiled for:
/// the vector width of the runtime's sparse kernel set (256: AVX2+FMA,
/// 512: AVX-512 F/BW/DQ/VL, whose tile kernels are faster per stored
/// weight). The dense kernels are the same on both.
struct SparseTarget {
  int vectorBits = 256;
};

/// The target of the machine the compiler runs on: 512 when its CPU has
/// AVX-512 F, BW, DQ, VL and BMI2 (what the runtime's AVX-512 set checks),
/// else 256. SPARQ_SPARSE_ISA=avx2|generic in the environment caps it at
/// 256, as it caps the runtime's choice.
SparseTarget hostSparseTarget();

/// Estimated microseconds for one call with `batchRows` activation rows on
/// `target` (default: the AVX2 kernels).
double estimateDenseMicros(int64_t rows, int64_t cols, int64_t batchRows,
                           const SparseTarget &target = SparseTarget());
double estimateSparseMicros(const WeightMatrix &w, const SparsePattern &p,
                            int64_t batchRows,
                            const SparseTarget &target = SparseTarget());

/// Number of values a format stores for `w` (including block/N:M fill).
int64_t storedValues(const WeightMatrix &w, const SparsePattern &p);

/// Packs `w` in format `p` (sparq_sparse_format.h). Fails for Dense or when
/// `w` does not satisfy the pattern (N:M groups with more than N non-zeros).
bool packWeight(const WeightMatrix &w, const SparsePattern &p,
                std::vector<char> &blob, std::string &error);

} // namespace sparq

#endif // SPARQ_DIALECT_SPARQ_TRANSFORMS_SPARSITYMODEL_H
