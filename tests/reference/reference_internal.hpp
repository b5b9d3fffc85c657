// Private to reference.cpp and request.cpp: the reference's values and the bound request.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "reference.hpp"

namespace ethos::reference {

using Wide = __int128;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

inline bool fits(Wide v) { return v >= kMin && v <= kMax; }

// A policy that checked clean cannot reach these; if one does, the
// reference (or the checker) is wrong, and the differential test says so.
[[noreturn]] inline void impossible(const std::string& what) {
  throw std::logic_error("reference: " + what);
}

// ---- values -----------------------------------------------------------------

// A value, or unknown. Lists are kept as written (their items are strings,
// ints or bare words); everything else is a plain value of its type.
struct Val {
  enum class K { kUnknown, kBool, kInt, kTime, kDur, kStr, kEnum, kWord, kSet, kList };
  K k = K::kUnknown;
  bool b = false;
  int64_t i = 0;
  std::string s;              // kStr text, kEnum value name, kWord text
  std::set<std::string> set;  // kSet members
  std::vector<Val> list;      // kList items

  bool known() const { return k != K::kUnknown; }
  static Val unknown() { return {}; }
  static Val boolean(bool v) {
    Val x;
    x.k = K::kBool;
    x.b = v;
    return x;
  }
  static Val number(K kind, int64_t v) {
    Val x;
    x.k = kind;
    x.i = v;
    return x;
  }
  static Val text(K kind, std::string v) {
    Val x;
    x.k = kind;
    x.s = std::move(v);
    return x;
  }
};

// ---- times (language.md: "Values" and request JSON) ----------------------------

// RFC 3339 ("2026-11-26T10:15:00Z", "...+02:00", optional fraction, which is
// dropped) or a date ("2026-03-01", midnight UTC). The date must exist.
std::optional<int64_t> parse_time(std::string_view s);

// ---- the bound request -------------------------------------------------------

struct Facts {
  std::map<std::string, Val> values;  // present leaf attributes
  std::set<std::string> present;      // present attributes, records included
  int64_t time = 0;
};

// Reads a request's JSON against the schema (request.cpp); on failure `err`
// says where and what is wrong, and false is returned.
bool bind_request(const Schema& schema, const std::string& text, Facts& facts, RefBindError& err);

}  // namespace ethos::reference
