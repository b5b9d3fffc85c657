// Random well-typed policies and random requests, from a seed. A policy is
// kept as a small model (not only as text) so that a failing case can be
// shrunk: rules, clauses and subexpressions are removed one at a time.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ethos::differential {

// A small deterministic generator (std distributions differ between library versions).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull) {}
  uint64_t next();
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }

 private:
  uint64_t state_;
};

enum class T : uint8_t { kBool, kInt, kStr, kTime, kDur, kSet, kEnum, kRecord };

// A type; enums are told apart by `e` (each enum declaration is its own type).
struct Type {
  T t = T::kBool;
  int e = -1;
  bool operator==(const Type&) const = default;
};

// An expression of the generated policy, rendered fully parenthesised.
struct Expr {
  enum class Kind : uint8_t { kAtom, kNot, kBinary, kNary, kCall, kPostfix, kList };
  Kind kind = Kind::kAtom;
  Type type;
  std::string text;  // atom text, operator, function or postfix
  std::vector<Expr> kids;
  bool word = false;  // a bare enum value or a list of them: only valid against a typed side
};
std::string render(const Expr& e);

struct Field {
  std::string name;
  Type type;
  bool optional = false;
  std::vector<Field> fields;  // records
};

struct Attr {
  std::string path;
  Type type;
  bool optional = false;       // written with `?`
  bool may_be_absent = false;  // it or a record around it is optional
};

struct Define {
  std::string name;
  int module = 0;
  Type type;
  Expr value;
};

struct Param {
  std::string name;
  int module = 0;
  Type type;
  std::string literal;  // as written after `=`
};

struct Rule {
  std::string name;
  int module = 0;
  std::string effect;      // permit, forbid, escalate, advise, require
  std::string obligation;  // for require
  std::optional<Expr> when, unless;
  std::vector<int> overrides;      // rule indices
  std::vector<std::string> extra;  // extra clauses (severity, concern, tags, confidence)
  bool deleted = false;
};

struct Module {
  std::string name;
  std::optional<Expr> applies;
  std::string default_effect;  // "", "permit" or "deny"
  std::string concern;
  int file = 0;
  // Declarations in written order: ('r', rule), ('d', define), ('p', param), ('o', obligation).
  std::vector<std::pair<char, int>> order;
};

struct Model {
  std::vector<Field> schema;
  std::vector<Attr> attrs;                      // every attribute, records included
  std::vector<std::vector<std::string>> enums;  // by Type::e
  std::vector<std::string> strings;             // string literals the policy may use
  std::vector<Module> modules;
  std::vector<Define> defines;
  std::vector<Param> params;
  std::vector<Rule> rules;
  std::vector<std::pair<std::string, int>> obligations;  // (name, module)
  std::vector<std::string> files;                        // file names by Module::file
  std::string schema_file;                               // the file that holds the schema
  std::map<std::string, std::string> param_values;       // deployment overrides
};

// A random policy from `seed`. It is meant to check clean; the caller verifies.
Model generate_policy(uint64_t seed);
// The bundle's files (name, text).
std::vector<std::pair<std::string, std::string>> render_files(const Model& m);

// A valid request for the model's schema (absent optional facts included).
nlohmann::ordered_json generate_request(const Model& m, Rng& rng);
// A request with exactly one defect; `path` receives the JSON path at fault
// (empty when the whole text is at fault). Returned as text: some defects are not JSON.
std::string generate_bad_request(const Model& m, Rng& rng, std::string& path);

}  // namespace ethos::differential
