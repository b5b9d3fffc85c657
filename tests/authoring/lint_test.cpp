// `ethos lint`: each finding pinned on a small policy, its witness run
// through the evaluator, and the solver's claims of impossibility checked
// against many random requests.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include <ethos/authoring/lint.hpp>
#include "support.hpp"

using namespace ethos;
using namespace ethos::testing;

namespace {

struct Linted {
  Bundle bundle;
  LintReport report;
};

Linted lint_policy(const std::string& policy) {
  Diagnostics diags;
  Linted l;
  l.bundle = load_bundle_texts({{"schema.ethos", kTestSchema}, {"policy.ethos", policy}}, diags);
  INFO(render_all(l.bundle.sources, diags));
  REQUIRE(l.bundle.policy != nullptr);
  l.report = lint(l.bundle);
  return l;
}

const Finding* find(const LintReport& r, FindingKind kind, const std::string& subject = "") {
  for (const auto& f : r.findings)
    if (f.kind == kind && (subject.empty() || (!f.rules.empty() && f.rules[0] == subject)))
      return &f;
  return nullptr;
}

size_t count(const LintReport& r, FindingKind kind) {
  return static_cast<size_t>(std::count_if(r.findings.begin(), r.findings.end(),
                                           [&](const Finding& f) { return f.kind == kind; }));
}

// The finding's witness, bound against the schema and evaluated by the real evaluator.
Decision run_witness(const Linted& l, const Finding& f) {
  INFO(f.message);
  REQUIRE_FALSE(f.witness.empty());
  return decide(l.bundle.policy, f.witness);
}

RuleStatus status(const Linted& l, const Decision& d, const std::string& id) {
  const Rule* r = l.bundle.policy->find_rule(id);
  REQUIRE(r != nullptr);
  return d.trace[static_cast<size_t>(r - l.bundle.policy->rules.data())];
}

const char* kTail = " because \"b\" cite \"c\"\n";

std::string rule(const std::string& name, const std::string& effect, const std::string& cond) {
  return "rule " + name + ": " + effect + (cond.empty() ? "" : " when " + cond) + kTail;
}

}  // namespace

TEST_CASE("lint proves that a rule with contradictory bounds can never fire") {
  auto l = lint_policy("module m \"m\"\n" +
                       rule("teen", "forbid", "patient.age < 18 and patient.age >= 21") +
                       rule("ok", "forbid", "patient.age < 18 and patient.age >= 16"));
  const Finding* f = find(l.report, FindingKind::kNeverFires, "m.teen");
  REQUIRE(f != nullptr);
  CHECK(f->severity == Severity::kError);
  CHECK(f->proof.find("`patient.age < 18`") != std::string::npos);
  CHECK(f->proof.find("`patient.age >= 21`") != std::string::npos);
  CHECK(f->span.line == 2);
  CHECK(find(l.report, FindingKind::kNeverFires, "m.ok") == nullptr);
  CHECK(l.report.errors() == 1);
}

TEST_CASE("lint proves never-firing through enum domains, unless, guards, presence and days") {
  auto l = lint_policy(
      "module m \"m\"\n" +
      rule("enum_clash", "forbid",
           "data.identifiability == identified and data.identifiability == limited") +
      "rule self_excepted: forbid when risk.self_harm unless risk.self_harm" + kTail +
      rule("absent_and_true", "forbid",
           "patient.guardian_permission is missing and patient.guardian_permission") +
      rule("days", "forbid", "days_since(consent.date) > 30 and days_since(consent.date) < 10") +
      rule("sets", "forbid",
           "data.categories has_all [\"a\"] and not (data.categories has_any [\"a\", \"b\"])") +
      "module eu \"eu\"\n  applies when jurisdiction.eu\n" +
      rule("outside", "forbid", "not jurisdiction.eu"));
  for (const char* id :
       {"m.enum_clash", "m.self_excepted", "m.absent_and_true", "m.days", "m.sets", "eu.outside"}) {
    INFO(id);
    const Finding* f = find(l.report, FindingKind::kNeverFires, id);
    REQUIRE(f != nullptr);
    CHECK_FALSE(f->proof.empty());
  }
  const Finding* guard = find(l.report, FindingKind::kNeverFires, "eu.outside");
  CHECK(guard->proof.find("`jurisdiction.eu`") != std::string::npos);
}

TEST_CASE("lint never claims that a satisfiable rule cannot fire") {
  const char* conditions[] = {
      "patient.guardian_permission is missing and not patient.opted_out",
      "days_since(consent.date) > 30 and consent.date > \"2026-01-01\"",
      "consent.date + 30 days < now",
      "data.categories has_all [\"a\", \"b\"] and not (data.categories has \"c\")",
      "jurisdiction.country == \"US\" and jurisdiction.state != \"IL\"",
      "audit.last is present and audit is present",
      "vendor.trains_on_inputs == false",
      "not (vendor.retention_days > 30) and vendor.retention_days >= 30",
      "jurisdiction.state in [\"IL\", \"TX\"] and jurisdiction.state != \"IL\"",
      "patient.note is present and patient.note != \"\"",
      "consent.form in [written, verbal] and consent.form != written",
  };
  std::string policy = "module m \"m\"\n";
  for (size_t i = 0; i < std::size(conditions); ++i)
    policy += rule("r" + std::to_string(i), "forbid", conditions[i]);
  auto l = lint_policy(policy);
  CHECK(count(l.report, FindingKind::kNeverFires) == 0);
  CHECK(l.report.undecided == 0);
}

TEST_CASE("lint finds a permit that a forbid always shadows, and shows it with a witness") {
  auto l = lint_policy("module m \"m\"\n" + rule("allowed", "permit", "vendor.baa_signed") +
                       rule("blocked", "forbid", "vendor.baa_signed or risk.self_harm") +
                       rule("fine", "permit", "patient.opted_out"));
  const Finding* f = find(l.report, FindingKind::kShadowed, "m.allowed");
  REQUIRE(f != nullptr);
  CHECK(f->severity == Severity::kError);
  REQUIRE(f->rules.size() == 2);
  CHECK(f->rules[1] == "m.blocked");
  Decision d = run_witness(l, *f);
  CHECK(status(l, d, "m.allowed") == RuleStatus::kFired);
  CHECK(status(l, d, "m.blocked") == RuleStatus::kFired);
  CHECK(d.outcome == Outcome::kDeny);
  CHECK(f->checked.find("ethos decided deny") != std::string::npos);
  CHECK(find(l.report, FindingKind::kShadowed, "m.fine") == nullptr);
}

TEST_CASE("lint counts an unknown forbid as shadowing: missing facts fail closed") {
  auto l = lint_policy("module m \"m\"\n" +
                       rule("only_when_unknown", "permit", "vendor.trains_on_inputs is missing") +
                       rule("no_training", "forbid", "vendor.trains_on_inputs"));
  const Finding* f = find(l.report, FindingKind::kShadowed, "m.only_when_unknown");
  REQUIRE(f != nullptr);
  Decision d = run_witness(l, *f);
  CHECK(status(l, d, "m.no_training") == RuleStatus::kUnknown);
  CHECK(d.outcome == Outcome::kDeny);
}

TEST_CASE(
    "a require rule shadowed only by an escalation is a warning: its obligation still reaches the "
    "app") {
  auto l = lint_policy("module m \"m\"\nobligation page \"page someone\"\n" +
                       rule("page_on_risk", "require page", "risk.self_harm") +
                       rule("escalate_risk", "escalate", "risk.self_harm"));
  const Finding* f = find(l.report, FindingKind::kShadowed, "m.page_on_risk");
  REQUIRE(f != nullptr);
  CHECK(f->severity == Severity::kWarning);
  Decision d = run_witness(l, *f);
  CHECK(d.outcome == Outcome::kEscalate);
  CHECK(d.obligations.size() == 1);
}

TEST_CASE("lint finds a rule that is overridden whenever it fires") {
  auto l = lint_policy("module m \"m\"\n" + rule("x", "forbid", "risk.self_harm") +
                       "rule y: permit when risk.self_harm overrides x" + kTail +
                       rule("z", "forbid", "patient.opted_out") +
                       "rule w: permit when patient.opted_out and vendor.baa_signed overrides z" +
                       kTail);
  const Finding* f = find(l.report, FindingKind::kAlwaysOverridden, "m.x");
  REQUIRE(f != nullptr);
  CHECK(f->rules == std::vector<std::string>{"m.x", "m.y"});
  Decision d = run_witness(l, *f);
  CHECK(status(l, d, "m.x") == RuleStatus::kOverridden);
  CHECK(find(l.report, FindingKind::kAlwaysOverridden, "m.z") == nullptr);
}

TEST_CASE("lint finds a redundant rule and rules with the same conditions") {
  auto l = lint_policy("module m \"m\"\n" + rule("sixty", "forbid", "vendor.retention_days > 60") +
                       rule("thirty", "forbid", "vendor.retention_days > 30") +
                       rule("c", "escalate", "risk.self_harm and patient.opted_out") +
                       rule("d", "escalate", "patient.opted_out and risk.self_harm"));
  const Finding* f = find(l.report, FindingKind::kRedundant, "m.sixty");
  REQUIRE(f != nullptr);
  CHECK(f->severity == Severity::kWarning);
  CHECK(f->rules[1] == "m.thirty");
  Decision d = run_witness(l, *f);
  CHECK(status(l, d, "m.sixty") == RuleStatus::kFired);
  CHECK(status(l, d, "m.thirty") == RuleStatus::kFired);
  CHECK(find(l.report, FindingKind::kRedundant, "m.thirty") == nullptr);
  const Finding* same = find(l.report, FindingKind::kRedundant, "m.c");
  REQUIRE(same != nullptr);
  CHECK(same->message.find("exactly the same conditions") != std::string::npos);
  CHECK(find(l.report, FindingKind::kRedundant, "m.d") == nullptr);  // reported once
}

TEST_CASE("lint finds an exception whose target can never fire with it") {
  auto l = lint_policy(
      "module m \"m\"\n" + rule("minors", "forbid", "patient.age < 18") +
      "rule adults: permit when patient.age >= 18 overrides minors" + kTail +
      rule("risk", "forbid", "risk.self_harm") +
      "rule judged: permit when risk.self_harm and vendor.baa_signed overrides risk" + kTail);
  const Finding* f = find(l.report, FindingKind::kDeadException, "m.adults");
  REQUIRE(f != nullptr);
  CHECK(f->rules == std::vector<std::string>{"m.adults", "m.minors"});
  CHECK(f->proof.find("`patient.age >= 18`") != std::string::npos);
  Decision d = run_witness(l, *f);
  CHECK(status(l, d, "m.adults") == RuleStatus::kFired);
  CHECK(status(l, d, "m.minors") == RuleStatus::kNotFired);
  CHECK(find(l.report, FindingKind::kDeadException, "m.judged") == nullptr);
}

TEST_CASE(
    "lint reports unused defines, params, obligations and attributes, exempting identifiers") {
  auto l = lint_policy(
      "module m \"m\"\nparam unused_limit: int = 3\ndefine unused_define = risk.self_harm\n"
      "obligation unused_obligation \"x\"\n" +
      rule("r", "forbid", "patient.age < 18 and vendor.baa_signed"));
  CHECK(count(l.report, FindingKind::kUnusedDefine) == 1);
  CHECK(count(l.report, FindingKind::kUnusedParam) == 1);
  CHECK(count(l.report, FindingKind::kUnusedObligation) == 1);
  std::vector<std::string> attrs;
  for (const auto& f : l.report.findings)
    if (f.kind == FindingKind::kUnusedAttribute) attrs.push_back(f.message);
  auto has = [&](const std::string& path) {
    return std::any_of(attrs.begin(), attrs.end(), [&](const std::string& m) {
      return m.find("`" + path + "`") != std::string::npos;
    });
  };
  CHECK(has("audit"));  // the whole record, once
  CHECK_FALSE(has("audit.last"));
  CHECK(has("risk"));
  CHECK(has("patient.opted_out"));
  CHECK_FALSE(has("patient.id"));  // @pseudonymize: exists for the log
  CHECK_FALSE(has("request_id"));
  CHECK_FALSE(has("time"));
  CHECK_FALSE(has("patient.age"));
  CHECK(l.report.errors() == 0);
}

TEST_CASE("lint notes enum values that no rule tells apart") {
  auto l = lint_policy(
      "module m \"m\"\n" +
      rule("r", "forbid",
           "consent.form == written and data.identifiability in [identified, limited]"));
  std::vector<std::string> notes;
  for (const auto& f : l.report.findings)
    if (f.kind == FindingKind::kIndistinctEnumValues) {
      CHECK(f.severity == Severity::kNote);
      notes.push_back(f.message);
    }
  REQUIRE(notes.size() == 2);
  auto noted = [&](const std::string& text) {
    return std::any_of(notes.begin(), notes.end(),
                       [&](const std::string& m) { return m.find(text) != std::string::npos; });
  };
  CHECK(noted("`verbal` and `none` of `consent.form`"));
  CHECK(noted("`identified` and `limited` of `data.identifiability`"));
}

TEST_CASE("ethos lint exits 1 on errors, 0 on warnings, and --json carries every witness") {
  std::string dir = temp_dir();
  std::ofstream(dir + "/schema.ethos") << kTestSchema;
  std::ofstream(dir + "/p.ethos") << "module m \"m\"\n" + rule("a", "permit", "vendor.baa_signed") +
                                         rule("b", "forbid", "vendor.baa_signed");
  auto r = run_ethos({"lint", dir});
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("error: rule `m.a` can never make a permit") != std::string::npos);
  CHECK(r.out.find("witness: a request with `vendor.baa_signed` = true") != std::string::npos);
  auto j = run_ethos({"lint", "--json", dir});
  CHECK(j.exit_code == 1);
  auto doc = nlohmann::json::parse(j.out);
  bool seen = false;
  for (const auto& f : doc["findings"]) {
    if (f["kind"] != "shadowed") continue;
    seen = true;
    CHECK(f["rules"][0]["id"] == "m.a");
    CHECK(f["rules"][0]["line"] == 2);
    CHECK(f["witness"]["vendor"]["baa_signed"] == true);
  }
  CHECK(seen);
  CHECK(doc["summary"]["errors"] == 1);
  std::ofstream(dir + "/p.ethos", std::ios::trunc)
      << "module m \"m\"\n" + rule("a", "forbid", "vendor.baa_signed");
  auto w = run_ethos({"lint", dir});
  CHECK(w.exit_code == 0);
  CHECK(w.out.find("0 errors") != std::string::npos);
}

// ---- soundness: random policies, random requests ---------------------------------

namespace {

const char* kAtoms[] = {
    "patient.age < 18",
    "patient.age >= 21",
    "patient.age == 30",
    "patient.age != 30",
    "patient.opted_out",
    "patient.guardian_permission",
    "patient.guardian_permission is missing",
    "data.categories has \"phi\"",
    "data.categories has_any [\"phi\", \"x\"]",
    "data.categories has_all [\"phi\", \"x\"]",
    "data.identifiability == identified",
    "data.identifiability in [limited, deidentified]",
    "vendor.retention_days > 30",
    "vendor.retention_days <= 0",
    "vendor.trains_on_inputs",
    "consent.date is present",
    "days_since(consent.date) > 30",
    "days_since(consent.date) <= 0",
    "consent.date < \"2026-01-01\"",
    "consent.form == none",
    "audit.last is missing",
    "audit is present",
    "jurisdiction.state == \"IL\"",
    "jurisdiction.country in [\"US\", \"CA\"]",
    "risk.self_harm",
    "consent.date + 30 days < now",
    "now > \"2026-06-01\"",
};

std::string random_condition(std::mt19937& rng, int depth) {
  std::uniform_int_distribution<size_t> atom(0, std::size(kAtoms) - 1);
  std::uniform_int_distribution<int> pick(0, 9);
  int k = pick(rng);
  if (depth == 0 || k < 3) return std::string(kAtoms[atom(rng)]);
  if (k < 5) return "not (" + random_condition(rng, depth - 1) + ")";
  return "(" + random_condition(rng, depth - 1) + (k < 8 ? " and " : " or ") +
         random_condition(rng, depth - 1) + ")";
}

std::string random_request(std::mt19937& rng) {
  auto coin = [&](int pct) { return std::uniform_int_distribution<int>(0, 99)(rng) < pct; };
  auto one = [&](std::vector<nlohmann::json> v) {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
  };
  nlohmann::json r = nlohmann::json::parse(request());
  r["time"] = one({"2026-01-01T00:00:00Z", "2026-11-26T10:00:00Z", "2025-03-01T00:00:00Z"});
  r["patient"]["age"] = one({0, 16, 17, 18, 20, 21, 30, 31, 70});
  r["patient"]["opted_out"] = coin(50);
  if (coin(30))
    r["patient"].erase("guardian_permission");
  else
    r["patient"]["guardian_permission"] = coin(50);
  r["data"]["categories"] =
      one({nlohmann::json::array(), {"phi"}, {"x"}, {"phi", "x"}, {"y"}, {"phi", "y"}});
  r["data"]["identifiability"] = one({"identified", "limited", "deidentified"});
  r["vendor"]["retention_days"] = one({-1, 0, 1, 30, 31, 90});
  if (coin(30))
    r["vendor"].erase("trains_on_inputs");
  else
    r["vendor"]["trains_on_inputs"] = coin(50);
  if (coin(30))
    r["consent"].erase("date");
  else
    r["consent"]["date"] =
        one({"2025-12-01", "2026-01-01", "2026-10-30", "2026-11-26", "2024-01-01"});
  r["consent"]["form"] = one({"written", "verbal", "none"});
  if (coin(25))
    r.erase("audit");
  else if (coin(30))
    r["audit"] = nlohmann::json::object();
  r["jurisdiction"]["country"] = one({"US", "CA", "DE"});
  if (coin(30))
    r["jurisdiction"].erase("state");
  else
    r["jurisdiction"]["state"] = one({"IL", "TX"});
  r["risk"]["self_harm"] = coin(50);
  return r.dump();
}

}  // namespace

TEST_CASE("lint's claims of impossibility hold on thousands of random requests") {
  std::mt19937 rng(20261126);
  std::vector<std::string> requests;
  for (int i = 0; i < 400; ++i) requests.push_back(random_request(rng));
  size_t claims = 0, witnesses = 0;
  for (int round = 0; round < 120; ++round) {
    std::string policy = "module m \"m\"\n";
    const char* effects[] = {"forbid", "permit", "escalate", "forbid", "permit"};
    for (int i = 0; i < 5; ++i)
      policy += rule("r" + std::to_string(i), effects[i], random_condition(rng, 2));
    Diagnostics diags;
    Bundle b = load_bundle_texts({{"schema.ethos", kTestSchema}, {"policy.ethos", policy}}, diags);
    if (!b.policy) continue;  // e.g. a comparison the checker rejects
    LintReport report = lint(b);
    CHECK(report.undecided == 0);
    RequestBinder binder(*b.policy);
    Evaluator ev(b.policy);
    auto index = [&](const std::string& id) {
      return static_cast<size_t>(b.policy->find_rule(id) - b.policy->rules.data());
    };
    for (const Finding& f : report.findings) {
      if (!f.witness.empty()) {
        ++witnesses;
        BoundRequest req;
        BindError err;
        CHECK(binder.bind(f.witness, req, err));
      }
      if (f.kind != FindingKind::kNeverFires && f.kind != FindingKind::kShadowed &&
          f.kind != FindingKind::kRedundant)
        continue;
      ++claims;
      for (const auto& json : requests) {
        BoundRequest req;
        BindError err;
        REQUIRE(binder.bind(json, req, err));
        Decision d = ev.evaluate(req);
        size_t a = index(f.rules[0]);
        INFO(policy << "\n" << f.message << "\n" << json);
        if (f.kind == FindingKind::kNeverFires) CHECK(d.trace[a] != RuleStatus::kFired);
        if (f.kind == FindingKind::kShadowed)
          CHECK_FALSE((d.trace[a] == RuleStatus::kFired && d.outcome == Outcome::kPermit));
        if (f.kind == FindingKind::kRedundant) {
          size_t c = index(f.rules[1]);
          auto active = [&](size_t r) {
            return d.trace[r] == RuleStatus::kFired ||
                   (b.policy->rules[r].effect != Effect::kPermit &&
                    d.trace[r] == RuleStatus::kUnknown);
          };
          CHECK((!active(a) || active(c)));
        }
      }
    }
  }
  CHECK(claims > 20);
  CHECK(witnesses > 20);
}
