// Replay: under their own bundle recorded decisions reproduce exactly; under
// a candidate bundle the impact report counts and explains the changes.
#include <catch2/catch.hpp>
#include <set>

#include <ethos/log/log_entry.hpp>
#include <ethos/log/replay.hpp>
#include <ethos/log/sqlite.hpp>
#include "store_support.hpp"

using namespace ethos;
using namespace ethos::testing;
using Catch::Matchers::Contains;

namespace {

LogOptions reader() {
  LogOptions o;
  o.read_only = true;
  return o;
}

std::string bind_and_record(DecisionLog& log, const Bundle& b, const std::string& json) {
  RequestBinder binder(*b.policy);
  BoundRequest bound;
  BindError err;
  INFO(err.path << ": " << err.message);
  REQUIRE(binder.bind(json, bound, err));
  return log.record(b, bound, Evaluator(b.policy).evaluate(bound));
}

// The log of tests/store/fixtures/log-before-compact-trace.sql, made into a file in `dir`.
std::string log_before_compact_trace(const std::string& dir) {
  const std::string sql =
      slurp_file(source_dir() + "/tests/store/fixtures/log-before-compact-trace.sql");
  REQUIRE(!sql.empty());
  const std::string path = log_path(dir);
  sql::Database(path, sql::OpenMode::kReadWrite).exec(sql);
  return path;
}

}  // namespace

TEST_CASE("a log written before the compact trace replays exactly under its own bundle") {
  std::string dir = temp_dir();
  DecisionLog log(log_before_compact_trace(dir), reader());
  auto r = replay(log, {});
  CHECK(r.replayed == 12);
  CHECK(r.reproduced == 12);
  CHECK(r.differences.empty());
  // Its rows keep every rule's status, so each renders in full and compact.
  auto b = store_bundle();
  const DecisionWriter writer(*b->policy);
  size_t rows = 0;
  log.scan({}, [&](const LogEntry& e) {
    ++rows;
    CHECK(e.bundle == b->hash);
    Decision d = decode_decision(*b->policy, e);
    DecisionFormat fmt;
    fmt.trace_mode = TraceMode::kFull;
    auto full = nlohmann::ordered_json::parse(writer.write(d, fmt));
    fmt.trace_mode = TraceMode::kCompact;
    auto compact = nlohmann::ordered_json::parse(writer.write(d, fmt));
    CHECK(full.at("trace").size() == b->policy->rules.size());
    CHECK(compact.at("trace") == compact_trace_of(full.at("trace")));
    return true;
  });
  CHECK(rows == 12);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a log written before the compact trace gives the impact report it gave then") {
  // What the ethos of the fixture reported: `ethos replay <log> --against <the pack>
  // --param care.max_audit_age_days=90 --json`.
  std::string dir = temp_dir();
  DecisionLog log(log_before_compact_trace(dir), reader());
  auto candidate = store_bundle(kStorePolicy, CheckOptions{{{"care.max_audit_age_days", "90"}}});
  ReplayOptions o;
  o.against = candidate.get();
  auto r = replay(log, o);
  CHECK(r.replayed == 12);
  CHECK(r.reproduced == 6);
  CHECK(r.changed == 6);
  CHECK(r.outcome_changed == 5);
  CHECK(r.not_bound == 0);
  using T = std::pair<std::string, std::string>;
  CHECK(r.transitions == std::map<T, uint64_t>{{{"deny", "deny"}, 1},
                                               {{"escalate", "deny"}, 2},
                                               {{"permit", "deny"}, 3}});
  CHECK(r.rules == std::map<std::string, uint64_t>{{"care.audited_tools_only", 6}});
  REQUIRE(r.changes.size() == 6);
  const std::vector<std::string> ids = {"d-01a23c0648ea917dab67c1a5", "d-01a23c064949917dab67c1a6",
                                        "d-01a23c06494a917dab67c1a7", "d-01a23c06494d917dab67c1a8",
                                        "d-01a23c064951917dab67c1a9", "d-01a23c06498d917dab67c1aa"};
  for (size_t k = 0; k < ids.size(); ++k) {
    INFO(k);
    CHECK(r.changes[k].decision_id == ids[k]);
    CHECK(r.changes[k].request_id == "r-" + std::to_string(k));
    CHECK(r.changes[k].to == "deny");
    CHECK(r.changes[k].reasons_changed);
    CHECK_FALSE(r.changes[k].obligations_changed);
    CHECK(r.changes[k].rules == std::vector<std::string>{"care.audited_tools_only"});
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("every recorded decision replays exactly under its own bundle") {
  std::string dir = temp_dir(), path = log_path(dir);
  auto b = store_bundle();
  {
    DecisionLog log(path, writer_options());
    record_run(log, *b, 60);
  }
  DecisionLog log(path, reader());
  std::set<std::string> outcomes;
  log.scan({}, [&](const LogEntry& e) {
    outcomes.insert(e.decision.outcome);
    return true;
  });
  CHECK(outcomes == std::set<std::string>{"deny", "escalate", "permit"});
  auto r = replay(log, {});
  CHECK(r.replayed == 60);
  CHECK(r.reproduced == 60);
  CHECK(r.differences.empty());
  std::filesystem::remove_all(dir);
}

TEST_CASE("the shipped pack's example decisions replay exactly under their own bundle") {
  std::string dir = temp_dir(), path = log_path(dir);
  Diagnostics diags;
  Bundle pack = load_bundle({source_dir() + "/policies"}, diags);
  REQUIRE(pack.policy);
  size_t n = 0;
  {
    DecisionLog log(path, writer_options());
    for (const auto& f : std::filesystem::directory_iterator(source_dir() + "/policies/examples"))
      if (f.path().extension() == ".json") {
        bind_and_record(log, pack, slurp_file(f.path().string()));
        ++n;
      }
  }
  REQUIRE(n >= 10);
  DecisionLog log(path, reader());
  auto r = replay(log, {});
  CHECK(r.replayed == n);
  CHECK(r.reproduced_all());
  std::filesystem::remove_all(dir);
}

TEST_CASE("a decision read back from the log knows where it was made, so it cites the same laws") {
  std::string dir = temp_dir(), path = log_path(dir);
  Diagnostics diags;
  Bundle pack = load_bundle({source_dir() + "/policies"}, diags);
  REQUIRE(pack.policy);
  // An Illinois request (a state law), a Massachusetts one (federal law
  // only) and a German one (EU law).
  const std::vector<std::string> examples = {"05-illinois-therapy-chatbot.json",
                                             "02-consumer-chatbot-identifiable-notes.json",
                                             "10-eu-no-article-9-basis.json"};
  std::vector<std::pair<std::string, Place>> made;
  {
    DecisionLog log(path, writer_options());
    for (const auto& name : examples) {
      RequestBinder binder(*pack.policy);
      BoundRequest bound;
      BindError err;
      REQUIRE(binder.bind(slurp_file(source_dir() + "/policies/examples/" + name), bound, err));
      Decision d = Evaluator(pack.policy).evaluate(bound);
      made.emplace_back(log.record(pack, bound, d), d.place);
    }
  }
  DecisionLog log(path, reader());
  for (const auto& [id, place] : made) {
    INFO(id << " made in " << place.country << "-" << place.state << (place.eu ? " (EU)" : ""));
    const Decision back = decode_decision(*pack.policy, *log.find(id));
    CHECK(back.place.country == place.country);
    CHECK(back.place.state == place.state);
    CHECK(back.place.eu == place.eu);
    CHECK_FALSE(back.place.country.empty());
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("decisions recorded under two bundles each replay under their own") {
  std::string dir = temp_dir(), path = log_path(dir);
  auto current = store_bundle();
  auto stricter = store_bundle(kStorePolicy, CheckOptions{{{"care.max_audit_age_days", "90"}}});
  REQUIRE(current->hash != stricter->hash);
  {
    DecisionLog log(path, writer_options());
    record_run(log, *current, 12);
    record_run(log, *stricter, 12, 12);
  }
  DecisionLog log(path, reader());
  CHECK(log.verify().bundles == 2);
  auto r = replay(log, {});
  CHECK(r.reproduced == 24);
  CHECK(r.reproduced_all());
  std::filesystem::remove_all(dir);
}

TEST_CASE("replay reports a decision whose recorded outcome no longer matches its bundle") {
  std::string dir = temp_dir(), path = log_path(dir);
  auto b = store_bundle();
  std::vector<std::string> ids;
  {
    DecisionLog log(path, writer_options());
    ids = record_run(log, *b, 6);
  }
  {
    sql::Database raw(path, sql::OpenMode::kReadWrite);
    raw.exec("UPDATE decisions SET outcome = 'permit' WHERE id = '" + ids[1] + "'");  // a deny
  }
  DecisionLog log(path, reader());
  auto r = replay(log, {});
  CHECK(r.reproduced == 5);
  REQUIRE(r.differences.size() == 1);
  CHECK(r.differences[0].decision_id == ids[1]);
  CHECK(r.differences[0].fields == "outcome");
  CHECK(r.differences[0].recorded == "permit");
  CHECK(r.differences[0].replayed == "deny");
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "the impact report of a stricter audit age counts each transition and names the responsible "
    "rule") {
  std::string dir = temp_dir(), path = log_path(dir);
  auto b = store_bundle();
  std::string old_audit =
      request(R"({"request_id":"a","audit":{"last":"2026-06-01"}})");  // 178 days
  std::string new_audit =
      request(R"({"request_id":"b","audit":{"last":"2026-10-01"}})");  // 56 days
  std::string denied =
      request(R"({"request_id":"c","audit":{"last":"2026-06-01"},"vendor":{"baa_signed":false}})");
  std::string minor = request(
      R"({"request_id":"d","audit":{"last":"2026-06-01"},"patient":{"age":15,"guardian_permission":false}})");
  std::string a, bb, c, d;
  {
    DecisionLog log(path, writer_options());
    a = bind_and_record(log, *b, old_audit);
    bb = bind_and_record(log, *b, new_audit);
    c = bind_and_record(log, *b, denied);
    d = bind_and_record(log, *b, minor);
  }
  auto candidate = store_bundle(kStorePolicy, CheckOptions{{{"care.max_audit_age_days", "90"}}});
  DecisionLog log(path, reader());
  ReplayOptions o;
  o.against = candidate.get();
  auto r = replay(log, o);
  CHECK(r.against);
  CHECK(r.candidate_bundle == candidate->hash);
  CHECK(r.replayed == 4);
  CHECK(r.reproduced == 1);  // the recent audit is unaffected
  CHECK(r.changed == 3);
  CHECK(r.outcome_changed == 2);
  using T = std::pair<std::string, std::string>;
  CHECK(r.transitions == std::map<T, uint64_t>{{{"permit", "deny"}, 1},
                                               {{"deny", "deny"}, 1},
                                               {{"escalate", "deny"}, 1}});
  CHECK(r.rules == std::map<std::string, uint64_t>{{"care.audited_tools_only", 3}});
  REQUIRE(r.changes.size() == 3);
  CHECK(r.changes[0].decision_id == a);
  CHECK(r.changes[0].request_id == "a");
  CHECK(r.changes[0].from == "permit");
  CHECK(r.changes[0].to == "deny");
  CHECK(r.changes[0].rules == std::vector<std::string>{"care.audited_tools_only"});
  CHECK(r.changes[1].decision_id == c);
  CHECK(r.changes[1].reasons_changed);
  CHECK(r.changes[2].decision_id == d);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the impact report of an identical candidate changes nothing") {
  std::string dir = temp_dir(), path = log_path(dir);
  auto b = store_bundle();
  {
    DecisionLog log(path, writer_options());
    record_run(log, *b, 18);
  }
  DecisionLog log(path, reader());
  ReplayOptions o;
  o.against = b.get();
  auto r = replay(log, o);
  CHECK(r.replayed == 18);
  CHECK(r.reproduced == 18);
  CHECK(r.changed == 0);
  CHECK(r.transitions.empty());
  std::filesystem::remove_all(dir);
}

TEST_CASE("ethos eval --record, log, show, verify and replay work end to end") {
  std::string dir = temp_dir(), path = log_path(dir);
  std::string pack = source_dir() + "/policies";
  std::vector<std::string> args = {"eval", "--policies",         pack,    "--record",
                                   path,   "--insecure-dev-key", "--json"};
  size_t n = 0;
  for (const auto& f : std::filesystem::directory_iterator(pack + "/examples"))
    if (f.path().extension() == ".json") args.push_back(f.path().string()), ++n;
  auto eval = run_ethos(args);
  INFO(eval.err);
  REQUIRE(eval.exit_code == 0);
  // The printed decision ids are the log's own.
  std::string first_id;
  {
    std::istringstream lines(eval.out);
    std::string line;
    std::getline(lines, line);
    first_id = nlohmann::json::parse(line)["decision_id"];
  }
  auto log = run_ethos({"log", path});
  CHECK(log.exit_code == 0);
  CHECK_THAT(log.out, Contains(std::to_string(n) + " decisions"));
  CHECK_THAT(log.out, Contains(first_id));
  auto denied = run_ethos({"log", path, "--outcome", "deny", "--json"});
  CHECK(denied.exit_code == 0);
  std::istringstream denied_lines(denied.out);
  for (std::string line; std::getline(denied_lines, line);)
    CHECK(nlohmann::json::parse(line)["outcome"] == "deny");
  auto show = run_ethos({"show", path, first_id});
  CHECK(show.exit_code == 0);
  CHECK_THAT(show.out, Contains("policy   sha256:"));
  CHECK_THAT(show.out, Contains("cite: "));
  CHECK(run_ethos({"show", path, "d-000000000000000000000000"}).exit_code == 1);
  auto verify = run_ethos({"verify", path});
  CHECK(verify.exit_code == 0);
  auto replayed = run_ethos({"replay", path});
  CHECK(replayed.exit_code == 0);
  CHECK_THAT(replayed.out, Contains("every decision reproduced exactly"));
  auto impact = run_ethos(
      {"replay", path, "--against", pack, "--param", "bias.bias_audit_max_age_days=30", "--json"});
  INFO(impact.err);
  CHECK(impact.exit_code == 0);
  auto j = nlohmann::json::parse(impact.out);
  CHECK(j["replayed"] == n);
  CHECK(j["mode"] == "against");
  // The document of POST /v1/replay (replay_report_json), not a shape of its own.
  CHECK(j["ok"] == true);
  CHECK(j["changes_truncated"] == false);
  CHECK(j["differences"].is_array());
  REQUIRE(j["transitions"].is_array());
  CHECK_FALSE(j["transitions"].empty());  // a 30-day audit age changes some decisions
  for (const auto& t : j["transitions"]) {
    CHECK(t.contains("from"));
    CHECK(t.contains("to"));
    CHECK(t["decisions"].is_number_unsigned());
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "a candidate whose schema differs gets the stored requests spelled out and bound as requests") {
  std::string dir = temp_dir(), path = log_path(dir);
  auto b = store_bundle();
  {
    DecisionLog log(path, writer_options());
    record_run(log, *b, 12);
  }
  auto with_schema = [&](const std::string& extra_field) {
    std::string schema = kTestSchema;
    schema.insert(schema.find("  risk: {"), extra_field);
    Diagnostics diags;
    auto c = std::make_shared<Bundle>(
        load_bundle_texts({{"schema.ethos", schema}, {"policy.ethos", kStorePolicy}}, diags));
    INFO(render_all(c->sources, diags));
    REQUIRE(c->policy);
    return c;
  };
  DecisionLog log(path, reader());
  {
    // A new optional fact: every recorded request still binds; nothing changes.
    auto c = with_schema("  tool: { name: string? }?\n");
    ReplayOptions o;
    o.against = c.get();
    auto r = replay(log, o);
    CHECK(r.replayed == 12);
    CHECK(r.reproduced == 12);
    CHECK(r.not_bound == 0);
  }
  {
    // A new required fact: the recorded requests lack it.
    auto c = with_schema("  tool: { name: string }\n");
    ReplayOptions o;
    o.against = c.get();
    auto r = replay(log, o);
    CHECK(r.not_bound == 12);
    REQUIRE_FALSE(r.not_bound_examples.empty());
    CHECK_THAT(r.not_bound_examples[0].second, Contains("tool"));
  }
  std::filesystem::remove_all(dir);
}
