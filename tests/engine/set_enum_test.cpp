// set<enum { ... }>: a set whose members must be among its values, refused
// at binding when they are not, and checked in the rules that test it.
#include <catch2/catch.hpp>

#include "support.hpp"

using namespace ethos;
using namespace ethos::testing;
using Catch::Matchers::Contains;

namespace {

const char* kSchema = R"(schema request {
  request_id: string
  time: timestamp
  purpose: { categories: set<enum { notes, diagnosis, billing }> }
}
)";

std::shared_ptr<const Policy> build(const std::string& policy) {
  std::vector<std::pair<std::string, std::string>> files = {{"schema.ethos", kSchema},
                                                            {"policy.ethos", policy}};
  Diagnostics diags;
  Bundle b = load_bundle_texts(files, diags);
  INFO(diagnose(files));
  REQUIRE(b.policy);
  return b.policy;
}

const char* kPolicy =
    "module m \"M\"\n"
    "rule base: permit because \"b\" cite \"c\"\n"
    "rule dx: forbid when purpose.categories has \"diagnosis\" because \"b\" cite \"c\"\n";

std::string req(const std::string& categories) {
  return R"({"request_id": "r", "time": "2026-01-01", "purpose": {"categories": )" + categories +
         "}}";
}

}  // namespace

TEST_CASE("a set<enum> member outside its values is refused with its path") {
  auto p = build(kPolicy);
  RequestBinder binder(*p);
  BoundRequest out;
  BindError err;
  CHECK_FALSE(binder.bind(req(R"(["notes", "diagnsis"])"), out, err));
  CHECK(err.path == "$.purpose.categories[1]");
  CHECK(err.message == "`diagnsis` is not one of `notes`, `diagnosis`, `billing`");
}

TEST_CASE("a set<enum> with known members binds, and every member is checked") {
  auto p = build(kPolicy);
  CHECK(decide(p, req(R"(["notes"])")).outcome == Outcome::kPermit);
  CHECK(decide(p, req(R"(["notes", "diagnosis"])")).outcome == Outcome::kDeny);
  CHECK(decide(p, req("[]")).outcome == Outcome::kPermit);
}

TEST_CASE("a rule testing a set<enum> for a string that is not a value is an error") {
  auto out = diagnose({{"schema.ethos", kSchema},
                       {"policy.ethos",
                        "module m \"M\"\nrule r: forbid when purpose.categories has \"diagnsis\" "
                        "because \"b\" cite \"c\"\n"}});
  CHECK_THAT(out, Contains("error: `diagnsis` is not a value of `set<enum { notes, diagnosis, "
                           "billing }>`"));
  CHECK_THAT(out, Contains("did you mean `diagnosis`?"));
  auto list = diagnose({{"schema.ethos", kSchema},
                        {"policy.ethos",
                         "module m \"M\"\nrule r: forbid when purpose.categories has_any "
                         "[\"notes\", \"biling\"] because \"b\" cite \"c\"\n"}});
  CHECK_THAT(list, Contains("error: `biling` is not a value of"));
  CHECK_THAT(list, Contains("did you mean `billing`?"));
}

TEST_CASE("set<int> is a syntax error that names both forms") {
  auto out = diagnose({{"schema.ethos",
                        "schema request {\n  request_id: string\n  time: "
                        "timestamp\n  s: set<int>\n}\n"}});
  CHECK_THAT(out, Contains("expected `string` or `enum { ... }` inside `set<...>`"));
}
