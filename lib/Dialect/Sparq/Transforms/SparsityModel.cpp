//===- SparsityModel.cpp - weight sparsity patterns, pruning, formats -----===//
//
// Pattern measurement, magnitude pruning, the dense-vs-sparse cost model and
// the packer of sparq_sparse_format.h.
//
//===----------------------------------------------------------------------===//

#include "sparq/Dialect/Sparq/Transforms/SparsityModel.h"

#include "sparq/Runtime/sparq_sparse_format.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <numeric>

using namespace sparq;

std::string SparsePattern::str() const {
  switch (format) {
  case SparseFormat::Dense:
    return "dense";
  case SparseFormat::Csr:
    return "csr";
  case SparseFormat::Block:
    return "block " + std::to_string(blockRows) + "x" +
           std::to_string(blockCols);
  case SparseFormat::NM:
    return "nm " + std::to_string(n) + ":" + std::to_string(m);
  }
  return "?";
}

std::optional<SparsePattern> SparsePattern::parse(llvm::StringRef text) {
  SparsePattern p;
  if (text == "dense")
    return p;
  if (text == "csr") {
    p.format = SparseFormat::Csr;
    return p;
  }
  if (text.consume_front("block ")) {
    auto [r, c] = text.split('x');
    p.format = SparseFormat::Block;
    if (r.getAsInteger(10, p.blockRows) || c.getAsInteger(10, p.blockCols))
      return std::nullopt;
    return p;
  }
  if (text.consume_front("nm ")) {
    auto [n, m] = text.split(':');
    p.format = SparseFormat::NM;
    if (n.getAsInteger(10, p.n) || m.getAsInteger(10, p.m))
      return std::nullopt;
    return p;
  }
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Analysis
//===----------------------------------------------------------------------===//

static int64_t nonZeroBlocks(const WeightMatrix &w, int64_t br, int64_t bc) {
  int64_t count = 0;
  for (int64_t r0 = 0; r0 < w.rows; r0 += br)
    for (int64_t c0 = 0; c0 < w.cols; c0 += bc) {
      bool any = false;
      for (int64_t r = r0; r < r0 + br && !any; ++r)
        for (int64_t c = c0; c < c0 + bc && !any; ++c)
          any = w.at(r, c) != 0.0f;
      count += any;
    }
  return count;
}

static bool fitsNM(const WeightMatrix &w, int64_t n, int64_t m) {
  if (w.cols % m)
    return false;
  for (int64_t r = 0; r < w.rows; ++r)
    for (int64_t g = 0; g < w.cols; g += m) {
      int64_t nz = 0;
      for (int64_t c = g; c < g + m; ++c)
        nz += w.at(r, c) != 0.0f;
      if (nz > n)
        return false;
    }
  return true;
}

PatternReport sparq::analyzeWeight(const WeightMatrix &w) {
  PatternReport report;
  int64_t total = w.rows * w.cols;
  int64_t nz = 0;
  for (float v : w.values)
    nz += v != 0.0f;
  report.density = total ? (double)nz / total : 1.0;
  report.detected.format =
      report.density >= 0.999 ? SparseFormat::Dense : SparseFormat::Csr;
  if (report.detected.format == SparseFormat::Dense)
    return report;

  // N:M along the reduction dim, sparsest first.
  static const int64_t nmCandidates[][2] = {{1, 4}, {2, 8}, {2, 4}, {4, 8}};
  for (auto [n, m] : nmCandidates) {
    if (fitsNM(w, n, m)) {
      SparsePattern p;
      p.format = SparseFormat::NM;
      p.n = n;
      p.m = m;
      report.nm = p;
      break;
    }
  }
  // Blocks: the largest block whose non-zero blocks hold at most ~5% fill.
  static const int64_t blockCandidates[][2] = {
      {4, 4}, {16, 1}, {8, 1}, {4, 1}, {1, 4}};
  for (auto [br, bc] : blockCandidates) {
    if (w.rows % br || w.cols % bc)
      continue;
    double stored = (double)nonZeroBlocks(w, br, bc) * br * bc / total;
    if (stored <= report.density * 1.05 + 1e-9) {
      SparsePattern p;
      p.format = SparseFormat::Block;
      p.blockRows = br;
      p.blockCols = bc;
      report.block = p;
      report.blockDensity = stored;
      break;
    }
  }
  if (report.block)
    report.detected = *report.block;
  else if (report.nm)
    report.detected = *report.nm;
  return report;
}

//===----------------------------------------------------------------------===//
// Pruning
//===----------------------------------------------------------------------===//

std::optional<PruneSpec> sparq::parsePruneSpec(llvm::StringRef text,
                                               std::string &error) {
  PruneSpec spec;
  spec.text = text.str();
  llvm::SmallVector<llvm::StringRef> parts;
  text.split(parts, ':');
  auto fraction = [&](llvm::StringRef s, double &out) {
    if (s.getAsDouble(out) || out < 0.0 || out >= 1.0) {
      error = "sparsity '" + s.str() + "' must be a fraction in [0, 1)";
      return false;
    }
    return true;
  };
  if (parts[0] == "unstructured" && parts.size() == 2) {
    spec.pattern.format = SparseFormat::Csr;
    if (!fraction(parts[1], spec.sparsity))
      return std::nullopt;
    return spec;
  }
  if (parts[0] == "nm" && parts.size() == 3) {
    spec.pattern.format = SparseFormat::NM;
    if (parts[1].getAsInteger(10, spec.pattern.n) ||
        parts[2].getAsInteger(10, spec.pattern.m) || spec.pattern.n <= 0 ||
        spec.pattern.m > 16 || spec.pattern.n > spec.pattern.m) {
      error = "bad N:M in '" + text.str() + "' (need 0 < N <= M <= 16)";
      return std::nullopt;
    }
    spec.sparsity = 1.0 - (double)spec.pattern.n / spec.pattern.m;
    return spec;
  }
  if (parts[0] == "block" && parts.size() == 3) {
    spec.pattern.format = SparseFormat::Block;
    auto [r, c] = parts[1].split('x');
    if (r.getAsInteger(10, spec.pattern.blockRows) ||
        c.getAsInteger(10, spec.pattern.blockCols) ||
        spec.pattern.blockRows <= 0 || spec.pattern.blockCols <= 0) {
      error = "bad block shape '" + parts[1].str() + "', expected RxC";
      return std::nullopt;
    }
    if (!fraction(parts[2], spec.sparsity))
      return std::nullopt;
    return spec;
  }
  error = "bad prune spec '" + text.str() +
          "', expected unstructured:S, nm:N:M or block:RxC:S";
  return std::nullopt;
}

bool sparq::pruneWeight(WeightMatrix &w, const PruneSpec &spec,
                        std::string &error) {
  const SparsePattern &p = spec.pattern;
  if (p.format == SparseFormat::Csr) {
    int64_t total = w.values.size();
    int64_t remove = (int64_t)std::llround(spec.sparsity * total);
    if (remove <= 0)
      return true;
    std::vector<int64_t> order(total);
    std::iota(order.begin(), order.end(), 0);
    std::nth_element(order.begin(), order.begin() + (remove - 1), order.end(),
                     [&](int64_t a, int64_t b) {
                       return std::fabs(w.values[a]) < std::fabs(w.values[b]);
                     });
    for (int64_t i = 0; i < remove; ++i)
      w.values[order[i]] = 0.0f;
    return true;
  }
  if (p.format == SparseFormat::NM) {
    if (w.cols % p.m) {
      error = "reduction size " + std::to_string(w.cols) +
              " is not a multiple of M = " + std::to_string(p.m);
      return false;
    }
    std::vector<int64_t> idx(p.m);
    for (int64_t r = 0; r < w.rows; ++r)
      for (int64_t g = 0; g < w.cols; g += p.m) {
        std::iota(idx.begin(), idx.end(), g);
        std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) {
          return std::fabs(w.at(r, a)) > std::fabs(w.at(r, b));
        });
        for (int64_t i = p.n; i < p.m; ++i)
          w.values[r * w.cols + idx[i]] = 0.0f;
      }
    return true;
  }
  if (p.format == SparseFormat::Block) {
    int64_t br = p.blockRows, bc = p.blockCols;
    if (w.rows % br || w.cols % bc) {
      error = "weight " + std::to_string(w.rows) + "x" +
              std::to_string(w.cols) + " is not divisible into " +
              std::to_string(br) + "x" + std::to_string(bc) + " blocks";
      return false;
    }
    int64_t blockCols = w.cols / bc, numBlocks = (w.rows / br) * blockCols;
    std::vector<double> norm(numBlocks, 0.0);
    for (int64_t r = 0; r < w.rows; ++r)
      for (int64_t c = 0; c < w.cols; ++c)
        norm[(r / br) * blockCols + c / bc] += std::fabs(w.at(r, c));
    int64_t remove = (int64_t)std::llround(spec.sparsity * numBlocks);
    if (remove <= 0)
      return true;
    std::vector<int64_t> order(numBlocks);
    std::iota(order.begin(), order.end(), 0);
    std::nth_element(order.begin(), order.begin() + (remove - 1), order.end(),
                     [&](int64_t a, int64_t b) { return norm[a] < norm[b]; });
    for (int64_t i = 0; i < remove; ++i) {
      int64_t b = order[i];
      int64_t r0 = (b / blockCols) * br, c0 = (b % blockCols) * bc;
      for (int64_t r = r0; r < r0 + br; ++r)
        for (int64_t c = c0; c < c0 + bc; ++c)
          w.values[r * w.cols + c] = 0.0f;
    }
    return true;
  }
  error = "nothing to prune for a dense pattern";
  return false;
}

//===----------------------------------------------------------------------===//
// Cost model
//===----------------------------------------------------------------------===//

// Rates of the runtime kernels in multiply-adds per nanosecond, fitted to
// sparq-sparse-bench and sparq-kernel-bench on the development machine (AMD
// Zen 4, one thread) at 1 and at >= 16 activation rows per call; two
// threads scale them by kThreadScale. Times are overhead + MACs / rate.
// Sparse rates count stored values (block and N:M fill included).
namespace {
struct KernelRate {
  double singleRow; // rows per call == 1 (GEMV-like, memory bound)
  double manyRows;  // rows per call >= 16
};
/// The rates of one sparse kernel set.
struct SparseRates {
  KernelRate csr, blockSmall, block4, block8, nm;
};
// Dense kernels: AVX2 on both targets (a zmm FMA has the peak of two ymm
// FMAs on Zen 4).
constexpr KernelRate kDenseRate{15.2, 53.8};
// AVX2+FMA sparse set.
constexpr SparseRates kAvx2Rates = {
    /*csr=*/{2.73, 19.5},
    // Blocks of 1-3 rows (2x1, 1xC): no batch-1 vector kernel, so one row
    // runs an 8-wide tile (sparq-sparse-bench, 2x1).
    /*blockSmall=*/{3.3, 36.0},
    /*block4=*/{11.9, 40.0}, // 4x1 .. 7x1
    /*block8=*/{17.3, 37.1}, // 8x1, 16x1
    /*nm=*/{10.1, 22.2}};
// AVX-512 sparse set (sparq-sparse-bench 1 --set=avx512, medians of the
// per-shape rates at M = 1 and 16, rounded down 5-10 % so that a layer is
// only made sparse where it measured faster): the zmm tiles raise CSR, the
// blocks and N:M at M >= 16; at M = 1 CSR and blocks run the same vector
// kernels as AVX2, N:M (2:4) a permute kernel instead of the row kernel.
constexpr SparseRates kAvx512Rates = {
    /*csr=*/{2.73, 27.0},
    /*blockSmall=*/{3.3, 35.0},
    /*block4=*/{11.9, 46.0},
    /*block8=*/{17.3, 48.0},
    /*nm=*/{10.0, 32.0}};
constexpr double kThreadScale = 1.8;
constexpr double kOverheadMicros = 1.0;

const SparseRates &ratesFor(const sparq::SparseTarget &target) {
  return target.vectorBits >= 512 ? kAvx512Rates : kAvx2Rates;
}

double rateAt(const KernelRate &r, int64_t rows) {
  if (rows >= 16)
    return r.manyRows;
  // Geometric interpolation between 1 and 16 rows.
  double t = std::log2((double)std::max<int64_t>(rows, 1)) / 4.0;
  return r.singleRow * std::pow(r.manyRows / r.singleRow, t);
}

double micros(const KernelRate &r, double macs, int64_t rows) {
  return kOverheadMicros + macs / (rateAt(r, rows) * kThreadScale) / 1000.0;
}
} // namespace

sparq::SparseTarget sparq::hostSparseTarget() {
  SparseTarget target;
  if (const char *cap = std::getenv("SPARQ_SPARSE_ISA"))
    if (std::strcmp(cap, "avx2") == 0 || std::strcmp(cap, "generic") == 0)
      return target;
  llvm::StringMap<bool, llvm::MallocAllocator> features =
      llvm::sys::getHostCPUFeatures();
  auto has = [&](llvm::StringRef name) { return features.lookup(name); };
  if (has("avx512f") && has("avx512bw") && has("avx512dq") &&
      has("avx512vl") && has("bmi2"))
    target.vectorBits = 512;
  return target;
}

int64_t sparq::storedValues(const WeightMatrix &w, const SparsePattern &p) {
  switch (p.format) {
  case SparseFormat::Dense:
    return w.rows * w.cols;
  case SparseFormat::Csr: {
    int64_t nz = 0;
    for (float v : w.values)
      nz += v != 0.0f;
    return nz;
  }
  case SparseFormat::Block:
    if (w.rows % p.blockRows || w.cols % p.blockCols)
      return w.rows * w.cols;
    return nonZeroBlocks(w, p.blockRows, p.blockCols) * p.blockRows *
           p.blockCols;
  case SparseFormat::NM:
    return w.rows * (w.cols / p.m) * p.n;
  }
  return w.rows * w.cols;
}

double sparq::estimateDenseMicros(int64_t rows, int64_t cols,
                                  int64_t batchRows,
                                  const SparseTarget & /*target*/) {
  return micros(kDenseRate, (double)rows * cols * batchRows, batchRows);
}

double sparq::estimateSparseMicros(const WeightMatrix &w,
                                   const SparsePattern &p, int64_t batchRows,
                                   const SparseTarget &target) {
  const SparseRates &rates = ratesFor(target);
  double macs = (double)storedValues(w, p) * batchRows;
  switch (p.format) {
  case SparseFormat::Dense:
    return estimateDenseMicros(w.rows, w.cols, batchRows, target);
  case SparseFormat::Csr:
    return micros(rates.csr, macs, batchRows);
  case SparseFormat::Block:
    return micros(p.blockRows >= 8   ? rates.block8
                  : p.blockRows >= 4 ? rates.block4
                                     : rates.blockSmall,
                  macs, batchRows);
  case SparseFormat::NM:
    return micros(rates.nm, macs, batchRows);
  }
  return 0;
}

//===----------------------------------------------------------------------===//
// Packing
//===----------------------------------------------------------------------===//

namespace {
/// Appends arrays at 16-byte aligned offsets.
class BlobWriter {
public:
  BlobWriter() { bytes.resize(sizeof(sparq_sparse_header), 0); }
  template <typename T> uint64_t append(const std::vector<T> &data) {
    size_t offset = (bytes.size() + 15) / 16 * 16;
    bytes.resize(offset + data.size() * sizeof(T), 0);
    if (!data.empty())
      std::memcpy(bytes.data() + offset, data.data(), data.size() * sizeof(T));
    return offset;
  }
  std::vector<char> finish(sparq_sparse_header header) {
    bytes.resize((bytes.size() + 15) / 16 * 16, 0);
    header.total_bytes = bytes.size();
    std::memcpy(bytes.data(), &header, sizeof(header));
    return std::move(bytes);
  }

private:
  std::vector<char> bytes;
};

template <typename Index>
uint64_t appendIndices(BlobWriter &writer, const std::vector<uint32_t> &idx) {
  std::vector<Index> narrow(idx.begin(), idx.end());
  return writer.append(narrow);
}
} // namespace

bool sparq::packWeight(const WeightMatrix &w, const SparsePattern &p,
                       std::vector<char> &blob, std::string &error) {
  sparq_sparse_header h{};
  h.magic = SPARQ_SPARSE_MAGIC;
  h.version = SPARQ_SPARSE_VERSION;
  h.rows = (uint32_t)w.rows;
  h.cols = (uint32_t)w.cols;
  h.block_rows = h.block_cols = 1;
  BlobWriter writer;
  bool wideIndex = w.cols > 65536;
  if (p.format == SparseFormat::Csr || p.format == SparseFormat::Block) {
    int64_t br = p.format == SparseFormat::Block ? p.blockRows : 1;
    int64_t bc = p.format == SparseFormat::Block ? p.blockCols : 1;
    if (w.rows % br || w.cols % bc) {
      error = "weight is not divisible into blocks";
      return false;
    }
    std::vector<uint32_t> rowPtr = {0}, col;
    std::vector<float> values;
    for (int64_t r0 = 0; r0 < w.rows; r0 += br) {
      for (int64_t c0 = 0; c0 < w.cols; c0 += bc) {
        bool any = false;
        for (int64_t r = r0; r < r0 + br && !any; ++r)
          for (int64_t c = c0; c < c0 + bc && !any; ++c)
            any = w.at(r, c) != 0.0f;
        if (!any)
          continue;
        col.push_back((uint32_t)(c0 / bc));
        for (int64_t r = r0; r < r0 + br; ++r)
          for (int64_t c = c0; c < c0 + bc; ++c)
            values.push_back(w.at(r, c));
      }
      rowPtr.push_back((uint32_t)col.size());
    }
    h.format = p.format == SparseFormat::Block ? SPARQ_SPARSE_BLOCK
                                                : SPARQ_SPARSE_CSR;
    h.block_rows = (uint32_t)br;
    h.block_cols = (uint32_t)bc;
    h.index_bytes = wideIndex ? 4 : 2;
    h.nnz = values.size();
    h.row_ptr_offset = writer.append(rowPtr);
    h.col_offset = wideIndex ? appendIndices<uint32_t>(writer, col)
                             : appendIndices<uint16_t>(writer, col);
    h.values_offset = writer.append(values);
    blob = writer.finish(h);
    return true;
  }
  if (p.format == SparseFormat::NM) {
    if (p.m <= 0 || p.m > 16 || p.n <= 0 || p.n > p.m || w.cols % p.m) {
      error = "bad N:M pattern for this weight";
      return false;
    }
    int64_t groups = w.cols / p.m;
    std::vector<float> values;
    std::vector<uint8_t> positions;
    values.reserve(w.rows * groups * p.n);
    for (int64_t r = 0; r < w.rows; ++r)
      for (int64_t g = 0; g < groups; ++g) {
        llvm::SmallVector<int64_t, 16> slots;
        for (int64_t j = 0; j < p.m; ++j)
          if (w.at(r, g * p.m + j) != 0.0f)
            slots.push_back(j);
        if ((int64_t)slots.size() > p.n) {
          error = "row " + std::to_string(r) + " has more than " +
                  std::to_string(p.n) + " non-zeros in a group of " +
                  std::to_string(p.m);
          return false;
        }
        // Pad with zero-valued slots at distinct unused positions.
        for (int64_t j = 0; (int64_t)slots.size() < p.n && j < p.m; ++j)
          if (!llvm::is_contained(slots, j))
            slots.push_back(j);
        llvm::sort(slots);
        for (int64_t j : slots) {
          values.push_back(w.at(r, g * p.m + j));
          positions.push_back((uint8_t)j);
        }
      }
    std::vector<uint8_t> nibbles((positions.size() + 1) / 2, 0);
    for (size_t i = 0; i < positions.size(); ++i)
      nibbles[i / 2] |= (uint8_t)(positions[i] << ((i % 2) * 4));
    h.format = SPARQ_SPARSE_NM;
    h.n = (uint32_t)p.n;
    h.m = (uint32_t)p.m;
    h.index_bytes = 0;
    h.nnz = values.size();
    h.col_offset = writer.append(nibbles);
    h.values_offset = writer.append(values);
    blob = writer.finish(h);
    return true;
  }
  error = "dense weights are not packed";
  return false;
}
