// `ethos replay`: re-runs recorded decisions under their own bundle (they
// must reproduce) or under candidate policies (an impact report).
#include <iostream>
#include <nlohmann/json.hpp>

#include <ethos/base/time.hpp>
#include <ethos/check/check.hpp>
#include <ethos/log/replay.hpp>
#include "cli.hpp"
#include "log_cli.hpp"

namespace ethos::cli {

namespace {

std::string transition_name(const std::string& from, const std::string& to) {
  return from + " → " + to;
}

void print_text(const ReplayReport& r, const std::string& candidate, size_t max_listed) {
  double rate = r.seconds > 0 ? static_cast<double>(r.replayed) / r.seconds : 0.0;
  if (!r.against) {
    std::printf("replayed %llu decision%s under their own bundles in %.3f s (%.0f decisions/s)\n",
                static_cast<unsigned long long>(r.replayed), r.replayed == 1 ? "" : "s", r.seconds,
                rate);
    if (r.reproduced_all()) {
      std::printf("ok: every decision reproduced exactly\n");
      return;
    }
    std::printf("%zu decision%s did not reproduce:\n", r.differences.size(),
                r.differences.size() == 1 ? "" : "s");
    size_t listed = 0;
    for (const auto& d : r.differences) {
      if (listed++ >= max_listed) break;
      std::printf("  %s (row %lld): %s differ%s\n    recorded: %s\n    replayed: %s\n",
                  d.decision_id.c_str(), static_cast<long long>(d.seq), d.fields.c_str(),
                  d.fields.find(',') == std::string::npos ? "s" : "", d.recorded.c_str(),
                  d.replayed.c_str());
      if (!d.note.empty()) std::printf("    note: %s\n", d.note.c_str());
    }
    return;
  }
  std::printf("impact of `%s` (%s) on %llu recorded decision%s (%.3f s, %.0f decisions/s)\n",
              candidate.c_str(), r.candidate_bundle.c_str(),
              static_cast<unsigned long long>(r.replayed), r.replayed == 1 ? "" : "s", r.seconds,
              rate);
  std::printf("  %llu would change (%llu in outcome), %llu unchanged",
              static_cast<unsigned long long>(r.changed),
              static_cast<unsigned long long>(r.outcome_changed),
              static_cast<unsigned long long>(r.reproduced));
  if (r.not_bound)
    std::printf(", %llu no longer valid requests", static_cast<unsigned long long>(r.not_bound));
  std::printf("\n");
  if (!r.transitions.empty()) {
    std::printf("\ntransitions:\n");
    for (const auto& [t, n] : r.transitions)
      std::printf("  %-22s %6llu%s\n", transition_name(t.first, t.second).c_str(),
                  static_cast<unsigned long long>(n),
                  t.first == t.second ? "   (same outcome; reasons or obligations change)" : "");
  }
  if (!r.rules.empty()) {
    std::printf("\nrules responsible:\n");
    for (const auto& [rule, n] : r.rules)
      std::printf("  %-70s %6llu\n", rule.c_str(), static_cast<unsigned long long>(n));
  }
  if (!r.changes.empty()) {
    std::printf("\nchanged decisions:\n");
    size_t listed = 0;
    for (const auto& c : r.changes) {
      if (listed++ >= max_listed) {
        std::printf("  ... and %zu more (--limit-list to see them)\n",
                    r.changes.size() - max_listed);
        break;
      }
      std::string rules;
      for (const auto& x : c.rules) rules += (rules.empty() ? "" : ", ") + x;
      std::printf("  %s  %-20s  %s  %-20s  %s\n", c.decision_id.c_str(), c.request_id.c_str(),
                  format_timestamp(c.time).c_str(), transition_name(c.from, c.to).c_str(),
                  rules.empty() ? "(a default)" : rules.c_str());
    }
  }
  for (const auto& [id, err] : r.not_bound_examples)
    std::printf("  not valid under the candidate schema: %s: %s\n", id.c_str(), err.c_str());
}

}  // namespace

void add_replay(CLI::App& app) {
  struct Opts {
    std::string db;
    std::string against;
    std::vector<std::string> params;
    std::string from, to, outcome, rule, request;
    size_t max_listed = 50;
    bool json = false;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand(
      "replay", "Re-run recorded decisions: under their own policy, or a candidate");
  cmd->add_option("db", opts->db, kLogLocationHelp)->required();
  cmd->add_option("--against", opts->against,
                  "Candidate policy directory: report what would change");
  cmd->add_option("--param", opts->params,
                  "With --against: override a param of the candidate (module.name=value)");
  cmd->add_option("--from", opts->from, "Only decisions at or after this time");
  cmd->add_option("--to", opts->to, "Only decisions at or before this time");
  cmd->add_option("--outcome", opts->outcome, "Only decisions with this outcome")
      ->check(CLI::IsMember({"permit", "deny", "escalate"}));
  cmd->add_option("--rule", opts->rule, "Only decisions this rule took part in");
  cmd->add_option("--request", opts->request, "Only decisions for this request id");
  cmd->add_option("--limit-list", opts->max_listed,
                  "List at most this many decisions (default 50)");
  cmd->add_flag("--json", opts->json, "One JSON object");
  cmd->footer(
      "Examples:\n  ethos replay decisions.db\n  ethos replay decisions.db --against "
      "policies-next/\n"
      "Exit: 0 every decision reproduced (or, with --against, the report was printed), 1 a "
      "decision\n"
      "did not reproduce under its own bundle or the candidate has errors, 70 the log cannot be "
      "read.");
  cmd->callback([opts, cmd] {
    ReplayOptions options;
    int64_t t = 0;
    if (!opts->from.empty()) {
      if (!parse_timestamp(opts->from, t))
        throw CLI::ValidationError("--from", "not a time: " + opts->from);
      options.filter.from = t;
    }
    if (!opts->to.empty()) {
      if (!parse_timestamp(opts->to, t))
        throw CLI::ValidationError("--to", "not a time: " + opts->to);
      options.filter.to = opts->to.size() == 10 ? t + 86399 : t;
    }
    if (!opts->outcome.empty()) options.filter.outcome = opts->outcome;
    if (!opts->rule.empty()) options.filter.rule = opts->rule;
    if (!opts->request.empty()) options.filter.request_id = opts->request;
    Bundle candidate;
    if (!opts->against.empty()) {
      CheckOptions check;
      if (!parse_params(opts->params, check)) throw kUsage;
      candidate = load_and_report({opts->against}, check);
      if (!candidate.policy) throw kPolicyError;
      options.against = &candidate;
    } else if (!opts->params.empty()) {
      std::cerr << "ethos: --param needs --against (a recorded decision always replays under its "
                   "own params)\n";
      throw kUsage;
    }
    auto log = open_log_for_reading(opts->db);
    ReplayReport r;
    try {
      ProgressBar bar("replaying");
      options.progress = [&](uint64_t done, uint64_t total) { bar.update(done, total); };
      r = replay(*log, options);
    } catch (const sql::StoreError& e) {
      std::cerr << "ethos: " << e.what() << "\n";
      throw kInternal;
    }
    // JSON lists every change unless asked otherwise; text keeps to the limit.
    if (opts->json)
      std::cout << nlohmann::json::parse(replay_report_json(r, cmd->count("--limit-list")
                                                                   ? opts->max_listed
                                                                   : SIZE_MAX))
                       .dump(2)
                << "\n";
    else
      print_text(r, opts->against, opts->max_listed);
    if (!r.against && !r.reproduced_all()) throw kPolicyError;
  });
}

ETHOS_COMMAND(add_replay, 65);

}  // namespace ethos::cli
