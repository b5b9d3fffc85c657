// Request JSON past the nesting limit, and the errors that name their own
// path: the binder's two paths (the scanner and simdjson) agree on each.
#include <catch2/catch.hpp>

#include "support.hpp"

using namespace ethos;
using namespace ethos::testing;

namespace {

std::string repeat(const std::string& s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

const char* kPolicy = "module m \"M\"\nrule r: permit because \"b\" cite \"c\"\n";

std::shared_ptr<const Policy> policy_with_limit(uint32_t max_depth) {
  Diagnostics diags;
  CheckOptions options;
  options.max_depth = max_depth;
  Bundle b =
      load_bundle_texts({{"schema.ethos", kTestSchema}, {"policy.ethos", kPolicy}}, diags, options);
  INFO(render_all(b.sources, diags));
  REQUIRE(b.policy != nullptr);
  return b.policy;
}

// Binds with both of the binder's paths; they must agree. Returns the error.
BindError bind_both(const Policy& p, const std::string& json, bool expect_ok = false) {
  BindError errors[2];
  int k = 0;
  for (auto path : {RequestBinder::Path::kFastThenFull, RequestBinder::Path::kFullOnly}) {
    RequestBinder binder(p, path);
    BoundRequest out;
    bool ok = binder.bind(json, out, errors[k]);
    INFO(errors[k].path.substr(0, 200) << ": " << errors[k].message);
    CHECK(ok == expect_ok);
    ++k;
  }
  CHECK(errors[0].path == errors[1].path);
  CHECK(errors[0].message == errors[1].message);
  return errors[0];
}

// A request `levels` objects deep: `{... "patient": {... "x": {"x": ... 1}}}`,
// the request being level 1 and patient level 2.
std::string deep_object(size_t levels) {
  std::string r = request(R"({"patient": {"x": 12345}})");
  return r.replace(r.find("12345"), 5,
                   repeat(R"({"x": )", levels - 2) + "1" + repeat("}", levels - 2));
}

std::string path_of_level(size_t level) {  // in deep_object()
  return "$.patient" + repeat(".x", level - 2);
}

}  // namespace

TEST_CASE(
    "a request 256 levels deep is read, and one 257 deep is refused at the level past the limit") {
  auto p = compile(kPolicy);
  // 256 deep: read, then refused for what it says (patient has no field `x`).
  BindError at_limit = bind_both(*p, deep_object(256));
  CHECK(at_limit.path == "$.patient.x");
  CHECK(at_limit.message.rfind("unknown field `x`", 0) == 0);

  BindError past = bind_both(*p, deep_object(257));
  CHECK(past.path == path_of_level(257));
  CHECK(past.message == "JSON nests deeper than 256 levels");
}

TEST_CASE("requests 100,000 levels deep get the depth error, not a crash") {
  auto p = compile(kPolicy);
  BindError arrays = bind_both(*p, repeat("[", 100000) + repeat("]", 100000));
  CHECK(arrays.path == "$" + repeat("[0]", 256));
  CHECK(arrays.message == "JSON nests deeper than 256 levels");
  BindError objects = bind_both(*p, repeat(R"({"a":)", 100000) + "1" + repeat("}", 100000));
  CHECK(objects.path == "$" + repeat(".a", 256));
  // Unclosed, as a truncated upload would be: still the depth, found first.
  BindError open =
      bind_both(*p, R"({"request_id": "r", "data": {"categories": )" + repeat("[", 100000));
  CHECK(open.message == "JSON nests deeper than 256 levels");
}

TEST_CASE("the request limit is the policy's own (CheckOptions::max_depth)") {
  auto p = policy_with_limit(4);
  // The schema's records are 2 deep; a set inside one is level 3.
  bind_both(*p, request(), true);
  BindError e = bind_both(*p, request(R"({"patient": {"x": {"y": {"z": {"w": 1}}}}})"));
  CHECK(e.path == "$.patient.x.y.z");
  CHECK(e.message == "JSON nests deeper than 4 levels");
}

TEST_CASE("json_too_deep names the first object or array past the limit") {
  CHECK(json_too_deep(R"({"a": [{"b": [[1]]}]})", 3) == std::optional<std::string>("$.a[0].b"));
  CHECK(json_too_deep(R"({"a": [1, 2, [3]], "b": {"c": [[]]}})", 3) ==
        std::optional<std::string>("$.b.c[0]"));
  CHECK(json_too_deep(R"({"a": [{"b": [[1]]}]})", 5) == std::nullopt);
  CHECK(json_too_deep(repeat("[", 100000), 256) == "$" + repeat("[0]", 256));
}

TEST_CASE("a number out of range names its own JSON path") {
  auto p = compile(kPolicy);
  std::string r = request(R"({"patient": {"age": 12345}})");
  BindError age = bind_both(*p, r.replace(r.find("12345"), 5, "1e309"));
  CHECK(age.path == "$.patient.age");
  CHECK(age.message == "malformed JSON: number overflow parsing '1e309'");
  std::string cats = request(R"({"data": {"categories": ["phi", "X"]}})");
  BindError element = bind_both(*p, cats.replace(cats.find("\"X\""), 3, "-1e400"));
  CHECK(element.path == "$.data.categories[1]");
}

TEST_CASE("a request that starts with a UTF-8 byte order mark binds") {
  auto p = compile(kPolicy);
  BindError none = bind_both(*p, "\xEF\xBB\xBF" + request(), true);
  CHECK(none.message.empty());
}
