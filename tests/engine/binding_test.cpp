// Binding request JSON to the schema: every error names the JSON path.
#include <catch2/catch.hpp>

#include <ethos/base/time.hpp>

#include "support.hpp"

using namespace ethos;
using namespace ethos::testing;

namespace {
BindError bind_error(const std::string& json) {
  auto p = compile("module m \"M\"\nrule r: permit because \"b\" cite \"c\"\n");
  RequestBinder binder(*p);
  BoundRequest out;
  BindError err;
  bool ok = binder.bind(json, out, err);
  INFO(json);
  CHECK_FALSE(ok);
  return err;
}
}  // namespace

TEST_CASE("a type mismatch names the JSON path") {
  auto e = bind_error(request(R"({"patient":{"age":"forty"}})"));
  CHECK(e.path == "$.patient.age");
  CHECK(e.message == "expected an integer, found a string");
}

TEST_CASE("a value outside an enum names the path and the allowed values") {
  auto e = bind_error(request(R"({"data":{"identifiability":"anonymous"}})"));
  CHECK(e.path == "$.data.identifiability");
  CHECK(e.message == "`anonymous` is not one of `identified`, `limited`, `deidentified`");
}

TEST_CASE("an unknown top-level field is an error with a suggestion") {
  auto e = bind_error(request(R"({"vendr":{}})"));
  CHECK(e.path == "$.vendr");
  CHECK(e.message == "unknown field `vendr`; did you mean `vendor`?");
}

TEST_CASE("a missing required attribute is an error") {
  auto e = bind_error(R"({"request_id":"r","time":"2026-01-01"})");
  CHECK(e.path == "$.jurisdiction");
  CHECK(e.message == "missing required field `jurisdiction` (record)");
}

TEST_CASE("null for a required attribute is an error") {
  std::string req = request();
  req.replace(req.find("\"age\":40"), 8, "\"age\":null");
  auto e = bind_error(req);
  CHECK(e.path == "$.patient.age");
  CHECK(e.message == "`patient.age` is required and may not be null");
}

TEST_CASE("a set element that is not a string names its index") {
  auto e = bind_error(request(R"({"data":{"categories":["phi", 3]}})"));
  CHECK(e.path == "$.data.categories[1]");
}

TEST_CASE("a malformed timestamp is an error") {
  auto e = bind_error(request(R"({"time":"yesterday"})"));
  CHECK(e.path == "$.time");
  CHECK_THAT(e.message, Catch::Matchers::StartsWith("`yesterday` is not a timestamp"));
}

TEST_CASE("malformed JSON is an error at the root saying where") {
  auto e = bind_error(R"({"request_id": "r", )");
  CHECK(e.path == "$");
  CHECK_THAT(e.message, Catch::Matchers::StartsWith("malformed JSON: parse error"));
}

TEST_CASE("a request that is not an object is an error") {
  auto e = bind_error("[1,2]");
  CHECK(e.message == "a request is a JSON object");
}

TEST_CASE("a missing optional attribute binds as absent") {
  auto p = compile("module m \"M\"\nrule r: permit because \"b\" cite \"c\"\n");
  RequestBinder binder(*p);
  BoundRequest out;
  BindError err;
  REQUIRE(binder.bind(request(R"({"patient":{"guardian_permission":null}})"), out, err));
  CHECK(out.present[p->schema.by_path.at("patient.guardian_permission")] == 0);
  CHECK(out.present[p->schema.by_path.at("patient.age")] == 1);
}

TEST_CASE("timestamps accept dates, UTC and offsets") {
  int64_t a, b, c;
  REQUIRE(parse_timestamp("2026-11-26", a));
  REQUIRE(parse_timestamp("2026-11-26T00:00:00Z", b));
  REQUIRE(parse_timestamp("2026-11-26T02:00:00+02:00", c));
  CHECK(a == b);
  CHECK(b == c);
  CHECK(format_timestamp(a) == "2026-11-26T00:00:00Z");
  CHECK_FALSE(parse_timestamp("2026-13-01", a));
  CHECK_FALSE(parse_timestamp("2026-11-26T10:00:00", a));  // a zone is required
}

TEST_CASE("a request in the common form binds through the fast path") {
  auto p = compile("module m \"M\"\nrule r: permit because \"b\" cite \"c\"\n");
  RequestBinder binder(*p);
  BoundRequest out;
  BindError err;
  REQUIRE(binder.bind(request(), out, err));
  CHECK(binder.last_was_fast());
}

TEST_CASE("an escaped string leaves the fast path and binds the same") {
  auto p = compile("module m \"M\"\nrule r: permit because \"b\" cite \"c\"\n");
  RequestBinder binder(*p);
  RequestBinder full(*p, RequestBinder::Path::kFullOnly);
  const std::string json = request(R"({"patient":{"note":"line one\nline \"two\""}})");
  BoundRequest a, b;
  BindError err;
  REQUIRE(binder.bind(json, a, err));
  CHECK_FALSE(binder.last_was_fast());
  REQUIRE(full.bind(json, b, err));
  const uint32_t slot = p->schema.by_path.at("patient.note");
  CHECK(a.values[slot].text == "line one\nline \"two\"");
  CHECK(a.values[slot].text == b.values[slot].text);
}

TEST_CASE("an error found by the fast path is named by the full path") {
  auto p = compile("module m \"M\"\nrule r: permit because \"b\" cite \"c\"\n");
  RequestBinder binder(*p);
  BoundRequest out;
  BindError err;
  // A fraction where an integer belongs: the scanner gives up, simdjson names it.
  REQUIRE_FALSE(binder.bind(request(R"({"patient":{"age":34.5}})"), out, err));
  CHECK(err.path == "$.patient.age");
  CHECK(err.message == "expected an integer, found a number");
}
