// `ethos report`: the audit report for a time range, as one self-contained
// HTML file a committee can file (inline SVG charts, no script), and as PDF
// printed by headless Chromium (docs/console.md, "The audit report").
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <ethos/base/time.hpp>
#include <ethos/log/replay.hpp>
#include "cli.hpp"
#include "log_cli.hpp"
#include "report_svg.hpp"

extern char** environ;

namespace ethos::cli {

namespace {

constexpr char kStyle[] = R"css(
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #1b1f23; max-width: 820px; margin: 2em auto; font-size: 14px; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #d8dee4; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .3em .5em; border-bottom: 1px solid #d8dee4; vertical-align: top; }
th { color: #5f6b76; font-weight: 600; } code { font-family: "DejaVu Sans Mono", monospace; font-size: .9em; word-break: break-all; }
.muted { color: #5f6b76; } .ok { color: #2e7d32; font-weight: 700; } .bad { color: #c62828; font-weight: 700; }
svg.chart { width: 100%; height: auto; margin: .5em 0; } svg .title { font-size: 13px; font-weight: 600; }
svg .tick { font-size: 11px; fill: #444; } svg .grid { stroke: #e1e7ed; }
@media print { body { margin: 0; } h2 { break-after: avoid; } svg { break-inside: avoid; } }
)css";

std::string period_text(const LogFilter& f) {
  std::string from = f.from ? format_timestamp(*f.from) : "the first decision";
  std::string to = f.to ? format_timestamp(*f.to) : "the last decision";
  return from + " to " + to;
}

// Runs a program and waits; its output goes to /dev/null. The exit status, or -1.
int run_quietly(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string because_of(const Policy* policy, const std::string& rule) {
  if (!policy) return {};
  auto it = policy->rule_by_id.find(rule);
  return it == policy->rule_by_id.end() ? std::string() : policy->rules[it->second].because;
}

}  // namespace

void add_report(CLI::App& app) {
  struct Opts {
    std::string db, from, to, candidate, output, pdf, chromium = "chromium";
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("report", "Write the audit report of a time range (HTML, PDF)");
  cmd->add_option("db", opts->db, kLogLocationHelp)->required();
  cmd->add_option("--from", opts->from, "First decision time (2026-11-01 or RFC 3339)");
  cmd->add_option("--to", opts->to, "Last decision time (a date means its whole day)");
  cmd->add_option("--candidate", opts->candidate,
                  "A candidate policy directory: add an impact summary against it");
  cmd->add_option("-o,--output", opts->output, "The HTML file to write")->required();
  cmd->add_option("--pdf", opts->pdf, "Also print it to this PDF through headless Chromium");
  cmd->add_option("--chromium", opts->chromium, "The Chromium program (default: chromium)");
  cmd->footer(
      "Example:\n  ethos report decisions.db --from 2026-11-01 --to 2026-11-30 -o report.html "
      "--pdf report.pdf\n"
      "Exit: 0 written (whether or not the chain verified: the report says), 1 the candidate has "
      "errors, 64 bad options, 70 the log, the file or Chromium failed.");
  cmd->callback([opts] {
    LogFilter f;
    for (auto [text, into, end_of_day] :
         {std::tuple{&opts->from, &f.from, false}, std::tuple{&opts->to, &f.to, true}}) {
      if (text->empty()) continue;
      int64_t t = 0;
      if (!parse_timestamp(*text, t)) {
        std::cerr << "ethos: `" << *text
                  << "` is not a time like 2026-11-26 or 2026-11-26T10:15:00Z\n";
        throw kUsage;
      }
      if (end_of_day && text->size() == 10) t += 86400 - 1;
      *into = t;
    }
    std::optional<Bundle> candidate;
    if (!opts->candidate.empty()) {
      candidate = load_and_report({opts->candidate}, {});
      if (!candidate->policy) throw kPolicyError;
    }
    auto log = open_log_for_reading(opts->db);
    LogSummary s;
    VerifyReport v;
    ReplayReport impact;
    std::shared_ptr<const Policy> latest;
    try {
      s = log->summarize(f, 86400, 10);
      v = log->verify();
      if (!s.bundles.empty()) {
        Diagnostics diags;
        if (auto text = log->bundle_text(s.bundles.back().first))
          latest = load_bundle_canonical(*text, diags).policy;
      }
      if (candidate) {
        ReplayOptions ro;
        ro.filter = f;
        ro.against = &*candidate;
        impact = replay(*log, ro);
      }
    } catch (const std::exception& e) {
      std::cerr << "ethos: " << e.what() << "\n";
      throw kInternal;
    }
    uint64_t total = s.permit + s.deny + s.escalate;
    std::string h =
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>ethos audit report</title><style>";
    h += kStyle;
    h += "</style></head><body>\n<h1>Audit report</h1>\n<p class=\"muted\">Decisions from " +
         html_escape(period_text(f)) + " in <code>" +
         html_escape(std::filesystem::path(opts->db).filename().string()) + "</code>; written " +
         html_escape(format_timestamp(std::chrono::duration_cast<std::chrono::seconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count())) +
         " by ethos report.</p>\n";
    h += "<h2>Decisions by "
         "outcome</h2>\n<table><tr><th>outcome</th><th>decisions</th><th>share</th></tr>";
    for (auto [name, n] : {std::pair{"permit", s.permit}, std::pair{"deny", s.deny},
                           std::pair{"escalate", s.escalate}}) {
      char share[16];
      std::snprintf(share, sizeof share, "%.1f%%",
                    total ? 100.0 * static_cast<double>(n) / static_cast<double>(total) : 0.0);
      h += "<tr><td>" + std::string(name) + "</td><td>" + std::to_string(n) + "</td><td>" + share +
           "</td></tr>";
    }
    h += "<tr><th>all</th><th>" + std::to_string(total) + "</th><th></th></tr></table>\n";
    std::vector<int64_t> times;
    TimeSeries permit{"permit", "#2e7d32", {}}, deny{"deny", "#c62828", {}},
        escalate{"escalate", "#ef6c00", {}};
    for (const auto& b : s.buckets) {
      times.push_back(b.start);
      permit.values.push_back(b.permit);
      deny.values.push_back(b.deny);
      escalate.values.push_back(b.escalate);
    }
    h += svg_time_lines(times, {permit, deny, escalate}, "Decisions per day by outcome") + "\n";

    h += "<h2>Integrity of the log</h2>\n";
    if (v.ok())
      h += "<p class=\"ok\">Chain verified: yes.</p><p>All " + std::to_string(v.decisions) +
           " decisions and " + std::to_string(v.bundles) +
           " bundles of the log are in an unbroken hash chain: none altered, removed or "
           "reordered.</p>";
    else
      h += "<p class=\"bad\">Chain verified: no.</p><p>" + html_escape(v.first_break->message) +
           "</p>";
    h += "<p>Head: <code>" + html_escape(v.head) +
         "</code>. Checkpoint: none; this log has no signed checkpoints, so keep this head "
         "elsewhere: a later report must show it at the same row.</p>\n";

    h += "<h2>Policy bundles in force</h2>\n<table><tr><th>bundle</th><th>first decision in "
         "the period</th></tr>";
    for (const auto& [hash, first] : s.bundles)
      h += "<tr><td><code>" + html_escape(hash) + "</code></td><td>" +
           html_escape(format_timestamp(first)) + "</td></tr>";
    h += "</table>\n";
    if (s.bundles.size() > 1)
      h += "<p>The policy changed " + std::to_string(s.bundles.size() - 1) +
           " time(s) in the period.</p>\n";

    h += "<h2>Rules that decided most often</h2>\n" +
         svg_rank_bars(s.top_rules, "#c62828", "Decisions per rule (top 10)") +
         "\n<table><tr><th>rule</th><th>decisions</th><th>because</th></tr>";
    for (const auto& [rule, n] : s.top_rules)
      h += "<tr><td><code>" + html_escape(rule) + "</code></td><td>" + std::to_string(n) +
           "</td><td>" + html_escape(because_of(latest.get(), rule)) + "</td></tr>";
    h += "</table>\n<h2>Missing facts</h2>\n<p>Facts the apps did not send, which kept a rule "
         "unknown and the decision from being a permit.</p>\n" +
         svg_rank_bars(s.top_missing, "#ef6c00", "Decisions per missing fact (top 10)") + "\n";

    if (candidate) {
      h += "<h2>Impact of the candidate policy</h2>\n<p>Candidate bundle <code>" +
           html_escape(candidate->hash) + "</code>: " + std::to_string(impact.changed) + " of " +
           std::to_string(impact.replayed) + " decisions would change, " +
           std::to_string(impact.outcome_changed) + " of them in outcome; " +
           std::to_string(impact.not_bound) + " requests do not fit its schema.</p>\n";
      h += "<table><tr><th>from</th><th>to</th><th>decisions</th></tr>";
      for (const auto& [k, n] : impact.transitions)
        h += "<tr><td>" + html_escape(k.first) + "</td><td>" + html_escape(k.second) + "</td><td>" +
             std::to_string(n) + "</td></tr>";
      h += "</table>\n";
      std::vector<std::pair<std::string, uint64_t>> rules(impact.rules.begin(), impact.rules.end());
      std::sort(rules.begin(), rules.end(),
                [](const auto& a, const auto& b) { return a.second > b.second; });
      if (rules.size() > 10) rules.resize(10);
      h += svg_rank_bars(rules, "#1565c0", "Changed decisions per responsible rule") + "\n";
    }
    h += "</body></html>\n";
    {
      std::ofstream out(opts->output, std::ios::binary);
      if (!(out << h)) {
        std::cerr << "ethos: cannot write `" << opts->output << "`\n";
        throw kInternal;
      }
    }
    std::cerr << "wrote " << opts->output << "\n";
    if (!opts->pdf.empty()) {
      namespace fs = std::filesystem;
      std::string profile = (fs::temp_directory_path() / "ethos-report-XXXXXX").string();
      if (!mkdtemp(profile.data())) {
        std::cerr << "ethos: cannot make a temporary directory for Chromium\n";
        throw kInternal;
      }
      std::error_code stale;
      fs::remove(opts->pdf, stale);  // so that only Chromium's own output counts
      int rc = run_quietly({opts->chromium, "--headless", "--no-sandbox", "--disable-gpu",
                            "--no-first-run", "--disable-background-networking",
                            "--disable-component-update", "--disable-sync",
                            "--user-data-dir=" + profile, "--no-pdf-header-footer",
                            "--print-to-pdf=" + fs::absolute(opts->pdf).string(),
                            "file://" + fs::absolute(opts->output).string()});
      std::error_code ec;
      fs::remove_all(profile, ec);
      if (rc != 0 || !fs::exists(opts->pdf)) {
        std::cerr << "ethos: Chromium could not print `" << opts->pdf << "` (exit " << rc
                  << "); is it installed (apt-get install chromium)?\n";
        throw kInternal;
      }
      std::cerr << "wrote " << opts->pdf << "\n";
    }
  });
}

ETHOS_COMMAND(add_report, 75);

}  // namespace ethos::cli
