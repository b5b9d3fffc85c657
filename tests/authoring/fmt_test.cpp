// `ethos fmt`: the canonical layout, comments kept where they were,
// idempotence and meaning preservation over every policy in the repository.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include <ethos/authoring/format.hpp>
#include <ethos/syntax/parser.hpp>
#include "plan.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace ethos;
using namespace ethos::testing;

namespace {

std::string fmt(const std::string& text) {
  std::string out;
  Diagnostics diags;
  SourceSet sources;
  sources.files.emplace_back("input.ethos", text);
  bool ok = format_file(sources, 0, out, diags);
  INFO(render_all(sources, diags));
  REQUIRE(ok);
  return out;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Every .ethos file of the repository (build directories and .git left out).
std::vector<fs::path> repository_policies() {
  std::vector<fs::path> out;
  fs::path root = source_dir();
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    std::string name = it->path().filename().string();
    if (it->is_directory() && (name.rfind("build", 0) == 0 || name == ".git")) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && it->path().extension() == ".ethos") out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> comment_texts(const std::string& text) {
  SourceSet s;
  s.files.emplace_back("x.ethos", text);
  Diagnostics d;
  ast::File f = parse_file(s, 0, d);
  std::vector<std::string> out;
  for (const auto& c : f.comments) out.push_back(c.text);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("fmt lays out a messy policy in the canonical style") {
  const std::string in = R"(// header comment

// second paragraph of the header
module m "A module"   // trailing on the module line
  default deny
  concern privacy
  applies when jurisdiction.country == "US" // only the US

param   limit : int = 30 // days
define long_one = data.categories has_any ["phi", "psychotherapy_notes"] and data.identifiability != deidentified and vendor.baa_signed
define short_one =
   risk.self_harm
obligation o "do it"
rule r: forbid
  cite "A source with a long name, section 1", "Another source with a long name, section 2", "A third"
  because "x"
  // about the condition
  when patient.age < limit   // young
       and (risk.self_harm or // either
            vendor.baa_signed)
  severity high
rule p: require o when (vendor.retention_days * 2) - 1 > 3 + 4 because "y" cite "Z" tags "t1","t2"
  overrides r
)";
  const std::string want = R"(// header comment

// second paragraph of the header
module m "A module"                          // trailing on the module line
  applies when jurisdiction.country == "US"  // only the US
  concern privacy
  default deny

param limit: int = 30  // days
define long_one =
  data.categories has_any ["phi", "psychotherapy_notes"]
  and data.identifiability != deidentified
  and vendor.baa_signed
define short_one = risk.self_harm
obligation o "do it"

rule r:
  forbid
  // about the condition
  when patient.age < limit  // young
       and (risk.self_harm  // either
            or vendor.baa_signed)
  because "x"
  cite "A source with a long name, section 1",
       "Another source with a long name, section 2",
       "A third"
  severity high

rule p:
  require o
  when (vendor.retention_days * 2) - 1 > 3 + 4
  overrides r
  because "y"
  cite "Z"
  tags "t1", "t2"
)";
  CHECK(fmt(in) == want);
  CHECK(fmt(want) == want);
}

TEST_CASE("fmt keeps comments inside schema records and aligns trailing ones") {
  const std::string in = R"(schema request { request_id: string
  time: timestamp // now
  // who
  patient: { id: string @pseudonymize, age: int @fixed   // years
    opted_out: bool,
    guardian_permission: bool? }

  data: { categories: set<string>
    identifiability: enum { identified, limited, deidentified } // how identifiable
    // nothing below
  }
  audit: { last: timestamp? }?
  empty: {}
}
)";
  const std::string want = R"(schema request {
  request_id: string
  time: timestamp    // now
  // who
  patient: {
    id: string @pseudonymize
    age: int @fixed  // years
    opted_out: bool
    guardian_permission: bool?
  }

  data: {
    categories: set<string>
    identifiability: enum { identified, limited, deidentified }  // how identifiable
    // nothing below
  }
  audit: {
    last: timestamp?
  }?
  empty: {}
}
)";
  CHECK(fmt(in) == want);
  CHECK(fmt(want) == want);
}

TEST_CASE(
    "fmt keeps committee test statements in order and breaks long lists under the first item") {
  const std::string in = R"(test "a" { given "x.json"   // base
  set vendor.baa_signed = false set data.categories = ["phi", "psychotherapy_notes"]
  unset consent.date
  // expectations
  expect deny expect rules privacy.baa_required, privacy.psychotherapy_notes_need_authorization, privacy.another_rule_with_a_long_name
  expect missing consent.date }
)";
  const std::string want = R"(test "a" {
  given "x.json"  // base
  set vendor.baa_signed = false
  set data.categories = ["phi", "psychotherapy_notes"]
  unset consent.date
  // expectations
  expect deny
  expect rules privacy.baa_required,
               privacy.psychotherapy_notes_need_authorization,
               privacy.another_rule_with_a_long_name
  expect missing consent.date
}
)";
  CHECK(fmt(in) == want);
}

TEST_CASE("fmt fills a long literal list between brackets under the start of the comparison") {
  const std::string in =
      "module m\nrule r: forbid when data.categories has_any [\"name\", "
      "\"geographic_subdivision\", \"date\", "
      "\"phone\", \"fax\", \"email\", \"ssn\", \"medical_record_number\", \"health_plan_number\"] "
      "and "
      "risk.self_harm because \"b\" cite \"c\"\n";
  const std::string want = R"(module m

rule r:
  forbid
  when data.categories has_any [
         "name", "geographic_subdivision", "date", "phone", "fax", "email", "ssn",
         "medical_record_number", "health_plan_number"
       ]
       and risk.self_harm
  because "b"
  cite "c"
)";
  CHECK(fmt(in) == want);
  CHECK(fmt(want) == want);
}

TEST_CASE("fmt keeps the parentheses a reader wrote and adds the ones the grammar needs") {
  std::string out =
      fmt("module m\ndefine a = (risk.self_harm and vendor.baa_signed) or ((patient.age < 18))\n"
          "define b = not (patient.age in [1, 2]) and (days_since(consent.date) > 3)\n");
  CHECK(out ==
        "module m\n\ndefine a = (risk.self_harm and vendor.baa_signed) or (patient.age < 18)\n"
        "define b = not (patient.age in [1, 2]) and (days_since(consent.date) > 3)\n");
}

TEST_CASE("fmt refuses a file with syntax errors and one with a clause written twice") {
  std::string out;
  Diagnostics diags;
  CHECK_FALSE(format_text("bad.ethos", "module m\nrule r: forbid when\n", out, diags));
  CHECK(diags.has_errors());
  Diagnostics diags2;
  CHECK_FALSE(format_text("dup.ethos",
                          "module m\nrule r: forbid because \"a\" because \"b\" cite \"c\"\n", out,
                          diags2));
  CHECK(render_all(SourceSet{}, diags2).find("written twice") != std::string::npos);
}

TEST_CASE("formatting every policy in the repository is idempotent and keeps every comment") {
  auto files = repository_policies();
  REQUIRE(files.size() >= 10);
  for (const auto& path : files) {
    INFO(path.string());
    std::string text = slurp(path);
    std::string once = fmt(text);
    CHECK(fmt(once) == once);
    CHECK(comment_texts(once).size() == comment_texts(text).size());
    // The same syntax tree: the formatter's own check, repeated here from the outside.
    SourceSet a, b;
    a.files.emplace_back("a.ethos", text);
    b.files.emplace_back("b.ethos", once);
    Diagnostics da, db;
    CHECK(same_syntax(parse_file(a, 0, da), parse_file(b, 0, db)));
  }
}

TEST_CASE("the formatted pack compiles to the same plan and decides every example the same") {
  fs::path root = fs::path(source_dir()) / "policies";
  std::vector<std::pair<std::string, std::string>> before, after;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    if (!it->is_regular_file() || it->path().extension() != ".ethos") continue;
    std::string rel = fs::relative(it->path(), root).generic_string();
    std::string text = slurp(it->path());
    before.emplace_back(rel, text);
    after.emplace_back(rel, fmt(text));
  }
  Diagnostics d1, d2;
  Bundle b1 = load_bundle_texts(before, d1), b2 = load_bundle_texts(after, d2);
  REQUIRE(b1.policy);
  REQUIRE(b2.policy);
  CHECK(plan(*b1.policy) == plan(*b2.policy));
  // Decisions over every example and single-fact variations of it.
  RequestBinder bind1(*b1.policy), bind2(*b2.policy);
  Evaluator ev1(b1.policy), ev2(b2.policy);
  size_t compared = 0;
  for (const auto& entry : fs::directory_iterator(root / "examples")) {
    if (entry.path().extension() != ".json") continue;
    nlohmann::json base = nlohmann::json::parse(slurp(entry.path()));
    std::vector<std::string> variants{base.dump()};
    for (auto& [record, fields] : base.items()) {
      if (!fields.is_object()) continue;
      for (auto& [name, value] : fields.items()) {
        nlohmann::json v = base;
        if (value.is_boolean())
          v[record][name] = !value.get<bool>();
        else if (value.is_number_integer())
          v[record][name] = value.get<int64_t>() + 400;
        else
          continue;
        variants.push_back(v.dump());
      }
    }
    for (const auto& json : variants) {
      BoundRequest r1, r2;
      BindError e1, e2;
      // A variant outside a range or breaking an invariant: both refuse it alike.
      const bool bound1 = bind1.bind(json, r1, e1);
      REQUIRE(bound1 == bind2.bind(json, r2, e2));
      if (!bound1) {
        CHECK(e1.message == e2.message);
        continue;
      }
      DecisionFormat f;
      CHECK(decision_json(*b1.policy, ev1.evaluate(r1), f) ==
            decision_json(*b2.policy, ev2.evaluate(r2), f));
      ++compared;
    }
  }
  CHECK(compared > 100);
}

TEST_CASE("ethos fmt --check exits 1 with a diff, -w rewrites, and a formatted file passes") {
  std::string dir = temp_dir();
  std::string file = dir + "/p.ethos";
  std::ofstream(file) << "module m\nrule r: forbid when risk.self_harm because \"b\" cite \"c\"\n";
  auto check = run_ethos({"fmt", "--check", dir});
  CHECK(check.exit_code == 1);
  CHECK(check.out.find("+rule r:") != std::string::npos);
  CHECK(check.out.find("-rule r: forbid when risk.self_harm") != std::string::npos);
  CHECK(check.err.find("not formatted") != std::string::npos);
  auto write = run_ethos({"fmt", "-w", dir});
  CHECK(write.exit_code == 0);
  CHECK(slurp(file) ==
        "module m\n\nrule r:\n  forbid\n  when risk.self_harm\n  because \"b\"\n  cite \"c\"\n");
  CHECK(run_ethos({"fmt", "--check", dir}).exit_code == 0);
  auto stdin_run = run_ethos({"fmt", "-"}, "module   m\n");
  CHECK(stdin_run.exit_code == 0);
  CHECK(stdin_run.out == "module m\n");
  CHECK(run_ethos({"fmt", "--check", "-w", dir}).exit_code == 64);
  fs::remove_all(dir);
}

TEST_CASE("a set<enum> keeps its values, flat when they fit and one line each when not") {
  std::string flat =
      "schema request {\n  request_id: string\n  time: timestamp\n  s: set<enum { a, b }>\n}\n";
  CHECK(fmt(flat) == flat);
  std::string longer =
      "schema request {\n  request_id: string\n  time: timestamp\n  s: set<enum "
      "{ documentation, summarization, administrative, scheduling, billing, "
      "therapeutic_communication, treatment_planning, diagnosis }>\n}\n";
  std::string once = fmt(longer);
  CHECK(fmt(once) == once);
  CHECK(once.find("set<enum {\n") != std::string::npos);
  CHECK(once.find("}>\n") != std::string::npos);
}
