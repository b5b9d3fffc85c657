// Private to the check stage: the Checker, whose passes check*.cpp define.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <ethos/check/check.hpp>

namespace ethos::check_internal {

// The words the language fixes.
inline const std::vector<std::string> kConcerns = {"standards", "privacy", "consent",
                                                   "agency",    "bias",    "safety"};
inline const std::vector<std::string> kSeverities = {"low", "medium", "high", "critical"};
inline const std::vector<std::string> kConfidences = {"verified", "secondary", "unverified"};
inline const std::vector<std::string> kAnnotations = {"fixed", "pseudonymize", "redact"};
inline const std::vector<std::string> kFunctions = {"days_since"};

inline std::string quoted(std::string_view s) { return "`" + std::string(s) + "`"; }

class Checker {
 public:
  Checker(const SourceSet& sources, const std::vector<ast::File>& files, Diagnostics& diags,
          const CheckOptions& options)
      : sources_(sources), files_(files), diags_(diags), options_(options) {}

  std::shared_ptr<Policy> run();

 private:
  // ---- schema ----
  void build_schema();
  void add_fields(const ast::TypeExpr& record, int32_t parent, const std::string& prefix,
                  bool absent);
  Type schema_type(const ast::TypeExpr& t);
  // A field's `in lo..hi` (check_invariants.cpp).
  void check_range(const ast::Field& f, Attribute& a);

  // ---- declarations ----
  struct ModuleScope {
    StringMap<uint32_t> params;   // short name -> index
    StringMap<uint32_t> defines;  // short name -> index
    StringMap<uint32_t> rules;    // short name -> index
  };
  void collect_declarations();
  void duplicate(const char* what, const ast::Located& name, Span first);
  void check_word(const ast::Located& w, const std::vector<std::string>& allowed, const char* what);

  // ---- params ----
  void check_params();
  // A literal of the given type (params, test assignments).
  uint32_t lower_literal(const ast::Expr& e, const Type& t, const std::string& what);

  // ---- IR building ----
  uint32_t push(IrNode n);
  uint32_t error_node();
  uint32_t constant(ValueType t, int64_t v, uint16_t enum_id = 0);
  int32_t intern(const std::string& s);
  uint32_t string_constant(const std::string& s);
  uint32_t list_constant(const ast::Expr& e, ValueType elem, uint16_t enum_id);
  uint32_t node2(IrOp op, ValueType result, uint32_t a, uint32_t b,
                 ValueType operand = ValueType::kBool);
  Type type_of(uint32_t node) const;

  // ---- name resolution ----
  enum class NameKind { kNone, kAttribute, kParam, kDefine };
  struct Resolved {
    NameKind kind = NameKind::kNone;
    uint32_t index = 0;
  };
  Resolved resolve(const std::string& text) const;
  std::vector<std::string> name_candidates() const;
  void unknown_name(const ast::Expr& e);

  // ---- expression lowering (typed) ----
  uint32_t lower(const ast::Expr& e);
  uint32_t lower_bool(const ast::Expr& e, const char* context);
  void note_read(uint32_t slot);
  uint32_t lower_name(const ast::Expr& e);
  uint32_t lower_call(const ast::Expr& e);
  uint32_t lower_arith(const ast::Expr& e);
  // An operand that may be a bare enum value, given the other side's type.
  uint32_t lower_against(const ast::Expr& e, const Type& other);
  bool is_plain_word(const ast::Expr& e) const;
  uint32_t lower_compare(const ast::Expr& e);
  bool members_of(const Type& set, const ast::Expr& e);

  // ---- defines: ordered by the graph, cycles named ----
  void order_and_type_defines();

  // ---- modules and rules ----
  void check_modules();
  void check_rules();
  void order_rules();
  void compute_reads();
  // Defines referenced directly by the IR tree at `root`.
  std::vector<uint32_t> define_refs(uint32_t root) const;
  // The depth of the tree at `root` with every define reference counted as
  // its define's depth; kTooDeep when it uses a define over the limit.
  uint32_t inlined_depth(uint32_t root) const;
  static constexpr uint32_t kTooDeep = UINT32_MAX;
  static constexpr uint32_t kTreeLevelsPerLevel = 4;

  // ---- sources (check_sources.cpp) ----
  struct Reach {
    std::optional<std::set<std::string>> countries, states;  // nullopt: not limited
    bool eu = false;
  };
  void collect_source(const ast::Source& s);
  void bind_jurisdiction_slots();
  Reach reach_of(uint32_t module, uint32_t condition) const;
  static bool covers(const Source& s, const Reach& reach);
  // Resolves the rule's citations into `r` and returns its condition, limited
  // to the dates of the sources that support it where it can fire.
  uint32_t cite_sources(const ast::Rule& ar, Rule& r, uint32_t condition);
  void report_unused_sources();

  // ---- invariants (check_invariants.cpp) ----
  void check_invariants();
  std::optional<Citation> citation(const ast::Cite& c);

  // ---- committee tests ----
  void check_tests();
  void report_unused();

  const SourceSet& sources_;
  const std::vector<ast::File>& files_;
  Diagnostics& diags_;
  const CheckOptions& options_;
  std::shared_ptr<Policy> p_;
  Span schema_span_{};
  bool no_schema_ = false;

  std::vector<const ast::Module*> ast_modules_;
  std::vector<const ast::Param*> ast_params_;
  std::vector<const ast::Define*> ast_defines_;
  std::vector<const ast::Rule*> ast_rules_;
  std::vector<const ast::Test*> tests_;
  std::vector<const ast::Invariant*> ast_invariants_;
  // While checking an invariant: names resolve to request attributes only.
  bool facts_only_ = false;
  std::vector<ModuleScope> scopes_;
  StringMap<uint32_t> module_by_name_;
  std::vector<bool> param_used_, define_used_, obligation_used_, source_used_;
  std::set<std::string> used_overrides_;
  uint32_t cur_module_ = 0;
  std::vector<uint32_t> reads_;
  std::vector<std::vector<uint32_t>> define_reads_, rule_reads_;
  std::vector<uint32_t> define_depth_;  // inlined_depth of each define's value
  std::vector<uint32_t> define_order_;  // defines, each after those it uses
  std::vector<std::pair<uint32_t, std::vector<uint32_t>>> module_reads_;
};

}  // namespace ethos::check_internal
