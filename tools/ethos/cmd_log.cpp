// `ethos log` lists recorded decisions; `ethos show` prints one in full.
#include <iostream>
#include <nlohmann/json.hpp>

#include <ethos/base/time.hpp>
#include <ethos/check/policy.hpp>
#include <ethos/log/stored_request.hpp>
#include "cli.hpp"
#include "log_cli.hpp"

namespace ethos::cli {

namespace {

bool parse_time_bound(const std::string& text, bool end_of_day, int64_t& out) {
  if (!parse_timestamp(text, out)) return false;
  if (end_of_day && text.size() == 10) out += 86399;  // a date alone: up to its last second
  return true;
}

nlohmann::ordered_json pairs(const std::string& stored, const char* first, const char* second) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& p : nlohmann::ordered_json::parse(stored))
    out.push_back({{first, p.at(0)}, {second, p.at(1)}});
  return out;
}

nlohmann::ordered_json entry_json(const LogEntry& e) {
  nlohmann::ordered_json j = {
      {"decision_id", e.id},
      {"seq", e.seq},
      {"request_id", e.request_id},
      {"time", format_timestamp(e.time)},
      {"recorded_at", format_millis(e.recorded_at)},
      {"outcome", e.decision.outcome},
      {"bundle", e.bundle},
      {"reasons", nlohmann::ordered_json::parse(e.decision.reasons)},
      {"obligations", pairs(e.decision.obligations, "id", "rule")},
      {"advice", nlohmann::ordered_json::parse(e.decision.advice)},
      {"overridden", pairs(e.decision.overridden, "rule", "by")},
      {"missing_facts", nlohmann::ordered_json::parse(e.decision.missing_facts)}};
  if (!e.chain.empty()) j["chain"] = e.chain;  // the node that recorded it (PostgreSQL)
  return j;
}

std::string first_reason(const LogEntry& e) {
  auto reasons = nlohmann::json::parse(e.decision.reasons);
  if (reasons.empty())
    return e.decision.default_module.empty()
               ? "(default deny)"
               : "(" + e.decision.default_module + ": default permit)";
  std::string s = reasons[0].get<std::string>();
  if (reasons.size() > 1) s += " (+" + std::to_string(reasons.size() - 1) + ")";
  return s;
}

}  // namespace

void add_log(CLI::App& app) {
  struct Opts {
    std::string db;
    std::string from, to, outcome, rule, request;
    size_t limit = 0;
    bool json = false;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("log", "List recorded decisions, with filters");
  cmd->add_option("db", opts->db, kLogLocationHelp);
  CLI::App* copy = add_log_copy(cmd);
  cmd->add_option("--from", opts->from, "Decisions at or after this time (2026-11-01 or RFC 3339)");
  cmd->add_option("--to", opts->to,
                  "Decisions at or before this time (a date alone includes that whole day)");
  cmd->add_option("--outcome", opts->outcome, "permit, deny or escalate")
      ->check(CLI::IsMember({"permit", "deny", "escalate"}));
  cmd->add_option("--rule", opts->rule,
                  "Decisions this rule took part in (reason, obligation, advice, override)");
  cmd->add_option("--request", opts->request, "Decisions for this request id (as stored)");
  cmd->add_option("--limit", opts->limit, "At most this many decisions (oldest first)");
  cmd->add_flag("--json", opts->json, "One JSON object per line");
  cmd->footer(
      "Example:\n  ethos log decisions.db --outcome deny --from 2026-11-01\n"
      "Exit: 0 listed (possibly nothing), 64 bad options, 70 the log cannot be read.");
  cmd->callback([opts, copy] {
    if (copy->parsed()) return;
    if (opts->db.empty()) {
      std::cerr << "ethos: log: the decision log is required (`ethos log decisions.db`)\n";
      throw kUsage;
    }
    LogFilter f;
    int64_t t = 0;
    if (!opts->from.empty()) {
      if (!parse_time_bound(opts->from, false, t)) {
        std::cerr << "ethos: --from: `" << opts->from
                  << "` is not a time (2026-11-01 or 2026-11-01T10:00:00Z)\n";
        throw kUsage;
      }
      f.from = t;
    }
    if (!opts->to.empty()) {
      if (!parse_time_bound(opts->to, true, t)) {
        std::cerr << "ethos: --to: `" << opts->to
                  << "` is not a time (2026-11-30 or 2026-11-30T18:00:00Z)\n";
        throw kUsage;
      }
      f.to = t;
    }
    if (!opts->outcome.empty()) f.outcome = opts->outcome;
    if (!opts->rule.empty()) f.rule = opts->rule;
    if (!opts->request.empty()) f.request_id = opts->request;
    f.limit = opts->limit;
    auto log = open_log_for_reading(opts->db);
    size_t n = 0;
    try {
      if (!opts->json)
        std::printf("%-20s  %-26s  %-20s  %-8s  %s\n", "TIME", "DECISION", "REQUEST", "OUTCOME",
                    "DECIDED BY");
      log->scan(f, [&](const LogEntry& e) {
        ++n;
        try {
          if (opts->json) {
            std::cout << entry_json(e).dump() << "\n";
          } else {
            std::printf("%-20s  %-26s  %-20s  %-8s  %s\n", format_timestamp(e.time).c_str(),
                        e.id.c_str(), e.request_id.c_str(), e.decision.outcome.c_str(),
                        first_reason(e).c_str());
          }
        } catch (const nlohmann::json::exception&) {
          // A row edited outside ethos: name it rather than die on it.
          std::cout << std::flush;
          std::cerr << "ethos: `" << opts->db << "`: decision `" << e.id << "` (row " << e.seq
                    << ") is damaged: its stored decision is not the JSON ethos wrote\n"
                    << "help: `ethos verify " << opts->db << "` names the first damaged row\n";
          throw kInternal;
        }
        return true;
      });
    } catch (const sql::StoreError& e) {
      std::cerr << "ethos: " << e.what() << "\n";
      throw kInternal;
    }
    if (!opts->json) std::printf("%zu decision%s\n", n, n == 1 ? "" : "s");
  });
}

void add_show(CLI::App& app) {
  struct Opts {
    std::string db;
    std::string id;
    bool json = false;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd =
      app.add_subcommand("show", "Print one recorded decision in full, with its policy version");
  cmd->add_option("db", opts->db, kLogLocationHelp)->required();
  cmd->add_option("decision-id", opts->id, "The decision's id (d-...)")->required();
  cmd->add_flag("--json", opts->json,
                "As JSON: the decision (docs/decision-format.md), the request, the chain");
  cmd->footer(
      "Example:\n  ethos show decisions.db d-2f3c1e0a9b8d7c6e5f4a3b2c\n"
      "Exit: 0 shown, 1 no such decision, 70 the log cannot be read.");
  cmd->callback([opts] {
    auto log = open_log_for_reading(opts->db);
    std::optional<LogEntry> e;
    std::optional<std::string> text;
    try {
      e = log->find(opts->id);
      if (e) text = log->bundle_text(e->bundle);
    } catch (const sql::StoreError& err) {
      std::cerr << "ethos: " << err.what() << "\n";
      throw kInternal;
    }
    if (!e) {
      std::cerr << "ethos: no decision `" << opts->id << "` in `" << opts->db << "`\n";
      throw kPolicyError;
    }
    Diagnostics diags;
    Bundle b = text ? load_bundle_canonical(*text, diags) : Bundle{};
    std::optional<Decision> d;
    std::string problem;
    if (!b.policy) {
      problem = text ? "its bundle no longer compiles" : "its bundle is missing from the log";
    } else {
      try {
        d = decode_decision(*b.policy, *e);
      } catch (const std::exception& ex) {
        problem = ex.what();
      }
    }
    // The stored request is positional (stored_request.hpp): spell it out with its schema.
    nlohmann::ordered_json request;
    try {
      request = nlohmann::ordered_json::parse(
          b.policy ? expand_stored_request(b.policy->schema, e->request) : e->request);
    } catch (const std::exception&) {
      request = e->request;
    }
    if (opts->json) {
      nlohmann::ordered_json j;
      if (d) {
        DecisionFormat fmt;
        fmt.decision_id = e->id;
        fmt.bundle_hash = e->bundle;
        j["decision"] = nlohmann::ordered_json::parse(decision_json(*b.policy, *d, fmt));
      } else {
        j["decision"] = entry_json(*e);
        j["problem"] = problem;
      }
      j["recorded_at"] = format_millis(e->recorded_at);
      j["seq"] = e->seq;
      j["request"] = request;
      j["prev_hash"] = e->prev_hash;
      j["hash"] = e->hash;
      std::cout << j.dump(2) << "\n";
      return;
    }
    std::cout << "decision " << e->id << "  (row " << e->seq << " of the log)\n";
    std::cout << "recorded " << format_millis(e->recorded_at) << "\n";
    std::cout << "policy   " << e->bundle;
    if (b.policy) {
      std::cout << "  (";
      size_t files = 0;
      for (const auto& f : b.sources.files) std::cout << (files++ ? ", " : "") << f.path();
      std::cout << ")";
    }
    std::cout << "\n\n";
    if (d) {
      std::cout << decision_text(*b.policy, *d);
    } else {
      std::cout << "(cannot render in full: " << problem << ")\n" << entry_json(*e).dump(2) << "\n";
    }
    std::cout << "\nrequest as recorded (pseudonymised and redacted):\n" << request.dump(2) << "\n";
    std::cout << "\nchain: previous " << e->prev_hash << "\n       this     " << e->hash << "\n";
  });
}

ETHOS_COMMAND(add_log, 50);
ETHOS_COMMAND(add_show, 55);

}  // namespace ethos::cli
