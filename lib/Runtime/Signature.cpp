//===- Signature.cpp - Parser of the embedded model signature -------------===//
//
// Line-oriented parser of the signature text. Unknown leading keywords are
// skipped so that newer compilers can add information without breaking older
// runtimes; structural errors (bad numbers, missing fields) are reported.
//
//===----------------------------------------------------------------------===//

#include "Signature.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

using namespace sparq::rt;

namespace {

const char *const kDtypeNames[] = {nullptr, "f32", "f64", "f16", "bf16",
                                   "i8",    "i16", "i32", "i64", "u8",
                                   "u16",   "u32", "u64", "bool"};

/// Splits off the next space-separated token of `line` starting at `pos`.
bool nextToken(const std::string &line, size_t &pos, std::string &tok) {
  while (pos < line.size() && line[pos] == ' ')
    ++pos;
  if (pos >= line.size())
    return false;
  size_t end = line.find(' ', pos);
  if (end == std::string::npos)
    end = line.size();
  tok = line.substr(pos, end - pos);
  pos = end;
  return true;
}

bool parseInt(const std::string &tok, int64_t &v) {
  if (tok.empty())
    return false;
  errno = 0;
  char *end = nullptr;
  long long x = std::strtoll(tok.c_str(), &end, 10);
  if (errno != 0 || *end != '\0')
    return false;
  v = x;
  return true;
}

std::string unescapeName(const std::string &s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      char c = s[i + 1];
      if (c == 'n') {
        out.push_back('\n');
        ++i;
        continue;
      }
      if (c == '\\') {
        out.push_back('\\');
        ++i;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

bool parseTensorLine(const std::string &line, size_t pos, TensorSpec &spec,
                     std::string &why) {
  std::string tok;
  if (!nextToken(line, pos, tok) || !parseDtypeName(tok, spec.dtype)) {
    why = "unknown dtype '" + tok + "'";
    return false;
  }
  int64_t rank = 0;
  if (!nextToken(line, pos, tok) || !parseInt(tok, rank) || rank < 0 ||
      rank > 64) {
    why = "bad rank '" + tok + "'";
    return false;
  }
  spec.shape.clear();
  for (int64_t i = 0; i < rank; ++i) {
    int64_t d = 0;
    if (!nextToken(line, pos, tok) || !parseInt(tok, d) || d < 0) {
      why = "bad dimension '" + tok + "'";
      return false;
    }
    spec.shape.push_back(d);
  }
  // The name is everything after the single separating space.
  if (pos < line.size() && line[pos] == ' ')
    ++pos;
  spec.name = unescapeName(pos < line.size() ? line.substr(pos) : "");
  return true;
}

} // namespace

int64_t TensorSpec::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

bool sparq::rt::parseDtypeName(const std::string &s, sparq_dtype &out) {
  for (int i = 1; i <= SPARQ_DTYPE_BOOL; ++i) {
    if (s == kDtypeNames[i]) {
      out = static_cast<sparq_dtype>(i);
      return true;
    }
  }
  return false;
}

std::string sparq::rt::formatShape(const int64_t *dims, int64_t rank) {
  std::string s = "[";
  for (int64_t i = 0; i < rank; ++i) {
    if (i)
      s += ",";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

bool sparq::rt::parseSignature(const char *text, Signature &out,
                               std::string &error) {
  out = Signature();
  if (!text) {
    error = "model signature is missing";
    return false;
  }
  const char *p = text;
  int lineNo = 0;
  bool sawHeader = false;
  while (*p) {
    const char *nl = std::strchr(p, '\n');
    size_t len = nl ? static_cast<size_t>(nl - p) : std::strlen(p);
    std::string line(p, len);
    p += len + (nl ? 1 : 0);
    ++lineNo;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    size_t pos = 0;
    std::string key;
    if (!nextToken(line, pos, key))
      continue;
    auto fail = [&](const std::string &why) {
      error =
          "bad model signature, line " + std::to_string(lineNo) + ": " + why;
      return false;
    };
    if (!sawHeader) {
      std::string v;
      int64_t version = 0;
      if (key != "sparq-signature" || !nextToken(line, pos, v) ||
          !parseInt(v, version))
        return fail("expected 'sparq-signature <version>'");
      if (version != 1)
        return fail("unsupported signature version " + std::to_string(version));
      out.version = static_cast<int>(version);
      sawHeader = true;
      continue;
    }
    if (key == "arena") {
      std::string v;
      if (!nextToken(line, pos, v) || !parseInt(v, out.arenaBytes) ||
          out.arenaBytes < 0)
        return fail("bad arena size");
    } else if (key == "input" || key == "output") {
      TensorSpec spec;
      std::string why;
      if (!parseTensorLine(line, pos, spec, why))
        return fail(why);
      (key == "input" ? out.inputs : out.outputs).push_back(std::move(spec));
    }
    // Any other keyword is a newer extension: ignore it.
  }
  if (!sawHeader) {
    error = "bad model signature: missing 'sparq-signature' header";
    return false;
  }
  return true;
}
