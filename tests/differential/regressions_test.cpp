// One test per bug that the differential test or the fuzzers found, named
// for the behaviour it pins. Each was written before its fix and failed.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <ethos/log/log_entry.hpp>
#include "support.hpp"

using namespace ethos;
using namespace ethos::testing;
using V = std::vector<std::string>;

namespace {

const std::string kCite = " because \"b\" cite \"c\"";

// A schema with a duration and a timestamp to bind against.
const char* kTimeSchema = R"(schema request {
  request_id: string
  time: timestamp
  since: timestamp?
  window: duration?
  count: int
}
)";

std::shared_ptr<const Policy> compile_with(const std::string& schema, const std::string& policy) {
  Diagnostics diags;
  Bundle b = load_bundle_texts({{"schema.ethos", schema}, {"policy.ethos", policy}}, diags);
  INFO(render_all(b.sources, diags));
  REQUIRE(b.policy != nullptr);
  return b.policy;
}

// True when the request binds; otherwise `path` names where it failed.
bool binds(const Policy& p, const std::string& json, std::string* path = nullptr) {
  RequestBinder binder(p);
  BoundRequest out;
  BindError err;
  bool ok = binder.bind(json, out, err);
  if (path) *path = err.path;
  return ok;
}

std::string time_request(const std::string& extra) {
  return R"({"request_id":"r","time":"2026-11-26T10:00:00Z","count":1)" + extra + "}";
}

}  // namespace

TEST_CASE("an advise rule that fires is advice, not a reason, when no rule decides") {
  // Found by the differential test: with nothing deciding, the engine listed
  // fired advise rules among the reasons of the default deny (or default permit).
  auto p = compile("module m \"M\"\nrule a: advise" + kCite);
  auto d = decide(p, request());
  CHECK(d.outcome == Outcome::kDeny);
  CHECK(d.reasons.empty());
  CHECK(d.advice.size() == 1);

  auto q = compile("module m \"M\" default permit\nrule a: advise" + kCite);
  auto e = decide(q, request());
  CHECK(e.outcome == Outcome::kPermit);
  CHECK(e.default_module == 0);
  CHECK(e.reasons.empty());
  CHECK(e.advice.size() == 1);
}

TEST_CASE("a rule its own guard excludes is not_applicable when its module does not apply") {
  // Found by the differential test on the shipped pack (eu.ethos): the rule
  // index skipped a rule by its own, more selective guard and reported it
  // not_fired, although its module's `applies when` was false.
  auto p = compile(
      "module m \"M\" applies when jurisdiction.eu\n"
      "rule r: forbid when data.identifiability == deidentified" +
      kCite);
  auto d = decide(p, request(R"({"jurisdiction":{"eu":false}})"));
  REQUIRE(d.trace.size() == 1);
  CHECK(d.trace[0] == RuleStatus::kNotApplicable);
  auto e = decide(p, request(R"({"jurisdiction":{"eu":true}})"));
  CHECK(e.trace[0] == RuleStatus::kNotFired);
}

TEST_CASE("a duration string beyond 64-bit seconds is rejected, not wrapped") {
  // Found by the differential test: "999999999999999999w" overflowed
  // (undefined behaviour) and bound to some wrapped number of seconds.
  auto p =
      compile_with(kTimeSchema, "module m \"M\"\nrule r: permit when window > 0 seconds" + kCite);
  std::string path;
  for (const char* text : {"999999999999999999w", "15250284452472w", "106751991167301d",
                           "2562047788015216h", "153722867280912931m"}) {
    INFO(text);
    CHECK_FALSE(binds(*p, time_request(std::string(R"(,"window":")") + text + "\""), &path));
    CHECK(path == "$.window");
  }
  CHECK(binds(*p, time_request(R"(,"window":"106751991167300d")")));  // the largest that fits
}

TEST_CASE("a timestamp with a day its month does not have is rejected") {
  // Found by the differential test: "2026-02-30" bound as 2026-03-02.
  auto p = compile_with(kTimeSchema, "module m \"M\"\nrule r: permit when since < now" + kCite);
  std::string path;
  for (const char* text :
       {"2026-02-30", "2026-02-29", "2025-04-31", "2100-02-29", "2026-06-31T10:00:00Z"}) {
    INFO(text);
    CHECK_FALSE(binds(*p, time_request(std::string(R"(,"since":")") + text + "\""), &path));
    CHECK(path == "$.since");
  }
  for (const char* text : {"2024-02-29", "2000-02-29", "2026-01-31", "2026-12-31T23:59:59Z"}) {
    INFO(text);
    CHECK(binds(*p, time_request(std::string(R"(,"since":")") + text + "\"")));
  }
}

TEST_CASE("a timestamp with an offset beyond 23:59 or an empty fraction is rejected") {
  // Found by the differential test: "+02:60", "+24:00" and "10:15:00.Z" were accepted.
  auto p = compile_with(kTimeSchema, "module m \"M\"\nrule r: permit when since < now" + kCite);
  for (const char* text : {"2026-11-26T10:15:00+02:60", "2026-11-26T10:15:00+24:00",
                           "2026-11-26T10:15:00-99:00", "2026-11-26T10:15:00.Z"}) {
    INFO(text);
    CHECK_FALSE(binds(*p, time_request(std::string(R"(,"since":")") + text + "\"")));
  }
  CHECK(binds(*p, time_request(R"(,"since":"2026-11-26T10:15:00+23:59")")));
  CHECK(binds(*p, time_request(R"(,"since":"2026-11-26T10:15:00.5Z")")));
}

TEST_CASE("an int compared with a list is compared in all its 64 bits") {
  // Found by the differential test: list values and the int were cut to 32
  // bits, so `1 in [4294967297]` and `4294967297 in [1]` were true.
  auto p = compile_with(kTimeSchema,
                        "module m \"M\"\n"
                        "rule wide_list: forbid when count in [4294967297, 17]" +
                            kCite + "\nrule narrow_list: escalate when count in [1]" + kCite +
                            "\nrule narrow_expr: advise when (count + 0) in [1]" + kCite +
                            "\nrule empty_list: advise when count in []" + kCite);
  auto trace = [&](const std::string& count) {
    RequestBinder binder(*p);
    BoundRequest bound;
    BindError err;
    REQUIRE(binder.bind(R"({"request_id":"r","time":"2026-11-26T10:00:00Z","count":)" + count + "}",
                        bound, err));
    Evaluator ev(p);
    auto d = ev.evaluate(bound);
    std::vector<std::string> out;
    for (auto s : d.trace) out.push_back(rule_status_name(s));
    return out;
  };
  CHECK(trace("1") == V{"not_fired", "fired", "fired", "not_fired"});
  CHECK(trace("4294967297") == V{"fired", "not_fired", "not_fired", "not_fired"});
  CHECK(trace("17") == V{"fired", "not_fired", "not_fired", "not_fired"});
  CHECK(trace("-9223372036854775807") == V{"not_fired", "not_fired", "not_fired", "not_fired"});
  CHECK(trace("8589934593") ==
        V{"not_fired", "not_fired", "not_fired", "not_fired"});  // 2^33 + 1: 1 in 32 bits
}

TEST_CASE("days_since whose seconds overflow is unknown, not wrapped") {
  // Found by the differential test: `time - t` overflowed (undefined
  // behaviour) when t was far in the past, e.g. now minus a huge duration.
  auto p = compile_with(kTimeSchema,
                        "module m \"M\"\n"
                        "rule r: forbid when days_since(since - window) > 0" +
                            kCite + "\nrule ok: permit" + kCite);
  RequestBinder binder(*p);
  BoundRequest bound;
  BindError err;
  // since - window still fits in 64 bits; time - (since - window) does not.
  REQUIRE(binder.bind(time_request(R"(,"since":"2026-11-26","window":9223372036854775807)"), bound,
                      err));
  Evaluator ev(p);
  auto d = ev.evaluate(bound);
  REQUIRE(d.trace.size() == 2);
  CHECK(d.trace[0] == RuleStatus::kUnknown);
  CHECK(d.outcome == Outcome::kDeny);  // an unknown forbid fails closed
}

TEST_CASE("diagnostics about bytes that are not UTF-8 still render as JSON") {
  // Found by the policy fuzzer: diagnostics_json threw nlohmann's type_error
  // (invalid UTF-8) when a message quoted the offending bytes, so
  // `ethos check --json` crashed on such a file. A message may also cut a
  // multi-byte character, since it quotes at most 20 bytes.
  for (std::string text :
       {std::string("rule \xff\xfe: forbid"),
        std::string("module m \"M\"\nrule r: forbid when \xc3"),
        std::string("module m \"M\"\n\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
                    "\xe2\x82\xac\xe2\x82\xac x")}) {
    Diagnostics diags;
    Bundle b = load_bundle_texts({{"policy.ethos", text}}, diags);
    REQUIRE(diags.has_errors());
    std::string json;
    REQUIRE_NOTHROW(json = diagnostics_json(b.sources, diags));
    CHECK_NOTHROW(nlohmann::json::parse(json));
  }
}

TEST_CASE("a policy file that is not valid UTF-8 is an error") {
  // Found by the policy fuzzer: a `because` with a stray byte compiled, and
  // every decision citing it was invalid JSON (the pretty form threw).
  std::string bad = "module m \"M\"\nrule r: permit because \"caf\xe9\" cite \"c\"\n";
  Diagnostics diags;
  Bundle b = load_bundle_texts({{"schema.ethos", kTestSchema}, {"policy.ethos", bad}}, diags);
  CHECK(b.policy == nullptr);
  std::string text = render_all(b.sources, diags);
  CHECK(text.find("policy.ethos:2:") != std::string::npos);
  CHECK(text.find("not valid UTF-8") != std::string::npos);
  // Valid multi-byte text is fine.
  CHECK(diagnose_policy(
            "module m \"M\"\nrule r: permit because \"caf\xc3\xa9 \xe2\x82\xac\" cite \"c\"\n")
            .empty());
}

TEST_CASE(
    "a request with a number beyond a double's range is a bind error at its path, not an "
    "exception") {
  // Found by the request fuzzer: simdjson refuses 1e400, and the slow path
  // that asks nlohmann where the text goes wrong let its out_of_range
  // escape (only parse_error was caught): `ethos eval` died on terminate.
  // The error names the number's own path (it was `$` until issue 17).
  auto p =
      compile_with(kTimeSchema, "module m \"M\"\nrule r: permit when count > 0" + kCite + "\n");
  std::string path;
  bool ok = true;
  REQUIRE_NOTHROW(ok = binds(*p, time_request(R"(,"window":1e400)"), &path));
  CHECK_FALSE(ok);
  CHECK(path == "$.window");
  REQUIRE_NOTHROW(ok = binds(*p, R"({"request_id":"r","count":1e400,)", &path));
  CHECK_FALSE(ok);
}

TEST_CASE("a canonical bundle whose file length is not a number is refused with a diagnostic") {
  // Found by the canonical and decision_log fuzzers: the length in a
  // `file <name> <length>` header went through std::stoul, whose
  // invalid_argument escaped load_bundle_canonical (and ethos verify/replay
  // of a log holding such a bundle text).
  for (std::string text : {std::string("ethos-bundle 1\nfile a.ethos x\nmodule m \"M\"\n"),
                           std::string("ethos-bundle 1\nfile a.ethos -1\nmodule m \"M\"\n"),
                           std::string("ethos-bundle 1\nfile a.ethos 99999999999999999999999\nm\n"),
                           std::string("ethos-bundle 1\nfile a.ethos 18446744073709551615\nm\n")}) {
    Diagnostics diags;
    Bundle b;
    REQUIRE_NOTHROW(b = load_bundle_canonical(text, diags));
    CHECK(b.policy == nullptr);
    CHECK(diags.has_errors());
  }
}

TEST_CASE("a request that names a field twice is refused at the second one") {
  // Found by the request fuzzer: with `consent` twice, the engine bound the
  // first and the reference (nlohmann) kept the last. JSON readers disagree
  // on which one counts, so an app and its auditor could read different
  // requests; both evaluators now refuse it.
  auto p =
      compile_with(kTimeSchema, "module m \"M\"\nrule r: permit when count > 0" + kCite + "\n");
  std::string path;
  CHECK_FALSE(binds(*p, time_request(R"(,"count":2)"), &path));
  CHECK(path == "$.count");
  CHECK_FALSE(binds(*p, time_request(R"(,"window":null,"window":"1d")"), &path));
  CHECK(path == "$.window");
  CHECK(binds(*p, time_request(R"(,"window":"1d")")));
  // The same binder, used again, does not remember the last request's fields.
  RequestBinder binder(*p);
  BoundRequest out;
  BindError err;
  CHECK(binder.bind(time_request(""), out, err));
  CHECK(binder.bind(time_request(""), out, err));
  CHECK_FALSE(binder.bind(time_request(R"(,"count":3)"), out, err));
  CHECK(err.message.find("duplicate field `count`") != std::string::npos);
}

TEST_CASE("a recorded decision whose stored columns are not the log's JSON is a runtime_error") {
  // Found by the decision_log fuzzer: decode_decision let nlohmann's
  // parse_error and type_error escape, where its contract (and every caller)
  // expects std::runtime_error naming the decision.
  auto p =
      compile_with(kTimeSchema, "module m \"M\"\nrule r: forbid when count > 0" + kCite + "\n");
  RequestBinder binder(*p);
  BoundRequest bound;
  BindError err;
  REQUIRE(binder.bind(time_request(""), bound, err));
  Evaluator ev(p);
  LogEntry good;
  good.id = "d-000000000000000000000001";
  encode_decision(*p, ev.evaluate(bound), good.decision);
  REQUIRE_NOTHROW(decode_decision(*p, good));
  auto corrupt = [&](std::string EncodedDecision::*column, const char* text) {
    LogEntry e = good;
    e.decision.*column = text;
    INFO(text);
    CHECK_THROWS_AS(decode_decision(*p, e), std::runtime_error);
  };
  corrupt(&EncodedDecision::reasons, "[");
  corrupt(&EncodedDecision::advice, "[1]");
  corrupt(&EncodedDecision::obligations, "[[1]]");
  corrupt(&EncodedDecision::overridden, "7");
  corrupt(&EncodedDecision::missing_facts, "[1]");
}
