// The trace a decision's JSON carries (docs/decision-format.md, "The trace"):
// compact by default, sized by the rules that decided; full on request.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support.hpp"

using namespace ethos;
using namespace ethos::testing;
using ojson = nlohmann::ordered_json;

namespace {

const std::string kCite = " because \"b\" cite \"c\"";

// One rule of each status for request(): `m.opted_out` not_fired,
// `m.needs_guardian` unknown (no guardian_permission), `m.allow_on_signal`
// overridden by `m.stop_on_signal`, which fired, `m.retention` fired, and both
// rules of module `nv` not_applicable (the request is from IL).
std::shared_ptr<const Policy> one_of_each() {
  Diagnostics diags;
  Bundle b = load_bundle_texts(
      {{"schema.ethos", kTestSchema},
       {"m.ethos", "module m \"M\"\nrule opted_out: forbid when patient.opted_out" + kCite +
                       "\nrule needs_guardian: escalate when not patient.guardian_permission" +
                       kCite + "\nrule allow_on_signal: permit when risk.self_harm" + kCite +
                       "\nrule stop_on_signal: forbid when risk.self_harm overrides "
                       "allow_on_signal" +
                       kCite + "\nrule retention: forbid when vendor.retention_days > 30" + kCite +
                       "\n"},
       {"nv.ethos", "module nv \"NV\" applies when jurisdiction.state == \"NV\"\nrule a: forbid" +
                        kCite + "\nrule b: forbid when patient.opted_out" + kCite + "\n"}},
      diags);
  INFO(render_all(b.sources, diags));
  REQUIRE(b.policy != nullptr);
  return b.policy;
}

const char* kOneOfEach =
    R"({"patient":{"guardian_permission":null},"risk":{"self_harm":true},
        "vendor":{"retention_days":90}})";

ojson written(const Policy& p, const Decision& d, TraceMode mode) {
  DecisionFormat fmt;
  fmt.trace_mode = mode;
  return ojson::parse(DecisionWriter(p).write(d, fmt));
}

}  // namespace

TEST_CASE(
    "the compact trace lists the rules that fired, were unknown or were overridden and "
    "counts the rest") {
  auto p = one_of_each();
  Decision d = decide(p, request(kOneOfEach));
  ojson j = written(*p, d, TraceMode::kCompact);
  CHECK(j.at("trace").dump() ==
        R"({"fired":["m.stop_on_signal","m.retention"],"unknown":["m.needs_guardian"],)"
        R"("overridden":["m.allow_on_signal"],"not_fired":1,"not_applicable":2})");
}

TEST_CASE("a decision's JSON carries the compact trace unless the full one is asked for") {
  auto p = one_of_each();
  Decision d = decide(p, request(kOneOfEach));
  CHECK(DecisionFormat{}.trace_mode == TraceMode::kCompact);
  ojson full = written(*p, d, TraceMode::kFull);
  CHECK(full.at("trace").size() == p->rules.size());
  CHECK(full.at("trace").at("nv.a") == "not_applicable");
  CHECK(written(*p, d, TraceMode::kCompact).at("trace") == compact_trace_of(full.at("trace")));
  CHECK(!written(*p, d, TraceMode::kNone).contains("trace"));
  // Everything but the trace is the same in every mode.
  ojson compact = written(*p, d, TraceMode::kCompact);
  full.erase("trace");
  compact.erase("trace");
  CHECK(compact == full);
}

TEST_CASE("a decision read back from the log gets the same compact trace as the evaluator's") {
  auto p = one_of_each();
  Decision d = decide(p, request(kOneOfEach));
  Decision decoded = d;  // as decode_decision() makes it: a trace, but no record of what ran
  decoded.evaluated.clear();
  decoded.trace_policy = nullptr;
  CHECK(written(*p, decoded, TraceMode::kCompact) == written(*p, d, TraceMode::kCompact));
}

TEST_CASE("a reused decision's compact trace counts only its own decision") {
  auto p = one_of_each();
  RequestBinder binder(*p);
  Evaluator evaluator(p);
  BoundRequest bound;
  BindError err;
  Decision d;
  REQUIRE(binder.bind(request(kOneOfEach), bound, err));
  evaluator.evaluate(bound, d);
  REQUIRE(binder.bind(request(R"({"jurisdiction":{"state":"NV"}})"), bound, err));
  evaluator.evaluate(bound, d);
  ojson trace = written(*p, d, TraceMode::kCompact).at("trace");
  CHECK(trace == compact_trace_of(written(*p, d, TraceMode::kFull).at("trace")));
  CHECK(trace.at("fired") == ojson::array({"nv.a"}));
  CHECK(trace.at("not_applicable") == 0);
}

TEST_CASE("every shipped example's compact trace summarises its full trace") {
  Diagnostics diags;
  Bundle b = load_bundle({source_dir() + "/policies"}, diags);
  REQUIRE(b.policy != nullptr);
  size_t examples = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(source_dir() + "/policies/examples")) {
    if (entry.path().extension() != ".json") continue;
    ++examples;
    std::ifstream in(entry.path());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Decision d = decide(b.policy, text);
    INFO(entry.path().filename().string());
    ojson full = written(*b.policy, d, TraceMode::kFull);
    ojson compact = written(*b.policy, d, TraceMode::kCompact);
    CHECK(compact.at("trace") == compact_trace_of(full.at("trace")));
    CHECK(compact.at("trace").at("fired").size() + compact.at("trace").at("unknown").size() >=
          compact.at("reasons").size());
  }
  CHECK(examples >= 25);
}

TEST_CASE("trace modes are named full, compact and none") {
  for (TraceMode m : {TraceMode::kFull, TraceMode::kCompact, TraceMode::kNone}) {
    TraceMode parsed = TraceMode::kNone;
    CHECK(parse_trace_mode(trace_mode_name(m), parsed));
    CHECK(parsed == m);
  }
  TraceMode untouched = TraceMode::kFull;
  CHECK(!parse_trace_mode("most", untouched));
  CHECK(untouched == TraceMode::kFull);
}
