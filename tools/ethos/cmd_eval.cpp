#include <iostream>

#include <ethos/base/hash.hpp>
#include <ethos/eval/evaluator.hpp>
#include <ethos/eval/remedies.hpp>
#include <ethos/eval/request.hpp>
#include <ethos/eval/request_split.hpp>
#include "cli.hpp"
#include "log_cli.hpp"

namespace ethos::cli {
namespace {

// Where `--json` decisions go: one buffer, written out when it fills, so a
// stream of requests costs what the engine costs; after each decision when
// standard output is a terminal or with --flush, so that a person or a
// program reading line by line sees each one as soon as it is made.
class DecisionOutput {
 public:
  explicit DecisionOutput(bool each) : each_(each) { buffer_.reserve(kChunk + 8192); }
  DecisionOutput(const DecisionOutput&) = delete;
  DecisionOutput& operator=(const DecisionOutput&) = delete;
  // Writes what is buffered, also when a later decision fails (those before it were made).
  ~DecisionOutput() { flush(); }
  // The decision is appended here, then end_decision().
  std::string& buffer() { return buffer_; }
  void end_decision() {
    buffer_ += '\n';
    if (each_ || buffer_.size() >= kChunk) flush();
  }
  void flush() {
    if (buffer_.empty()) return;
    std::cout.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    std::cout.flush();
    buffer_.clear();
  }

 private:
  static constexpr size_t kChunk = 1 << 16;
  bool each_;
  std::string buffer_;
};

}  // namespace

void add_eval(CLI::App& app) {
  struct Opts {
    std::string policies = "policies";
    std::vector<std::string> inputs;
    std::vector<std::string> params;
    uint32_t max_depth = kDefaultMaxDepth;
    bool json = false;
    bool exit_code = false;
    std::string trace = "compact";
    bool no_trace = false;
    bool flush = false;
    bool remedies = false;
    RecordOptions record;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("eval", "Decide requests: permit, deny or escalate, with reasons");
  cmd->add_option("--policies", opts->policies, "Policy directory (default: policies)");
  cmd->add_option("requests", opts->inputs,
                  "Request files (JSON object, array or JSON lines), or - for stdin")
      ->required();
  cmd->add_option("--param", opts->params, "Override a param: module.name=value");
  add_max_depth_option(cmd, opts->max_depth);
  cmd->add_flag("--json", opts->json, "Decisions as JSON (one object; JSON lines for several)");
  cmd->add_flag("--exit-code", opts->exit_code,
                "Exit 0 permit, 2 deny, 3 escalate (the strictest decision)");
  cmd->add_option("--trace", opts->trace,
                  "The trace in --json output: compact (the rules that fired, were unknown or "
                  "were overridden, and counts of the rest), full (every rule) or none (default "
                  "compact)")
      ->check(CLI::IsMember({"full", "compact", "none"}));
  cmd->add_flag("--no-trace", opts->no_trace,
                "Leave the trace out of --json output (--trace none)");
  cmd->add_flag("--flush", opts->flush,
                "With --json: write each decision as soon as it is made (the default when "
                "standard output is a terminal; otherwise the output is buffered)");
  cmd->add_flag("--remedies", opts->remedies,
                "For a deny or escalate, the smallest changes of facts that would make it a permit "
                "(each verified)");
  add_record_options(cmd, opts->record);
  cmd->footer(
      "Example:\n  ethos eval --policies policies policies/examples/01-*.json\n"
      "Exit: 0 decided (or permit with --exit-code), 1 policy errors, 2 deny and 3 escalate with\n"
      "--exit-code, 4 a request could not be read or bound, 64 --record without a key, 70 a "
      "decision\n"
      "could not be recorded (it is then not printed).");
  cmd->callback([opts] {
    CheckOptions options;
    options.max_depth = opts->max_depth;
    if (!parse_params(opts->params, options)) throw kUsage;
    Bundle b = load_and_report({opts->policies}, options);
    if (!b.policy) throw kPolicyError;
    auto log = open_log_for_recording(opts->record);
    RequestBinder binder(*b.policy);
    Evaluator evaluator(b.policy);
    // Made once for the run and reused by every decision, as are the buffers below.
    const DecisionWriter writer(*b.policy);
    DecisionFormat fmt;
    fmt.bundle_hash = b.hash;
    if (!parse_trace_mode(opts->trace, fmt.trace_mode)) throw kUsage;
    if (opts->no_trace) fmt.trace_mode = TraceMode::kNone;
    DecisionOutput output(opts->flush || stdout_is_tty());
    Sha256 sha;
    std::string id_hex;
    BoundRequest bound;
    Decision d;
    bool bad = false;
    int worst = -1;  // 0 permit, 1 escalate, 2 deny
    InputText text;
    std::vector<std::string_view> requests;
    for (const auto& input : opts->inputs) {
      if (!text.open(input)) {
        std::cerr << input << ": cannot read: no such file or directory\n";
        bad = true;
        continue;
      }
      std::string split_error;
      requests.clear();
      if (!split_requests(text.text(), RequestSplit::kStream, requests, split_error)) {
        std::cerr << input << ": $: " << split_error << "\n";
        bad = true;
        continue;
      }
      for (size_t k = 0; k < requests.size(); ++k) {
        const std::string_view request = requests[k];
        BindError err;
        if (!binder.bind(request, bound, err)) {
          output.flush();  // the decisions before it come first
          std::cerr << input << (requests.size() > 1 ? "[" + std::to_string(k) + "]" : "") << ": "
                    << err.path << ": " << err.message << "\n";
          bad = true;
          continue;
        }
        evaluator.evaluate(bound, d);
        std::string recorded_id;
        if (log) {
          try {
            recorded_id = log->record(b, bound, d);
          } catch (const sql::StoreError& e) {
            output.flush();
            std::cerr << "ethos: cannot record the decision, so it is not given: " << e.what()
                      << "\n";
            throw kInternal;
          }
        }
        int rank = d.outcome == Outcome::kPermit ? 0 : d.outcome == Outcome::kEscalate ? 1 : 2;
        worst = std::max(worst, rank);
        if (opts->json) {
          if (!recorded_id.empty()) {
            fmt.decision_id = recorded_id;
          } else {  // derived from the bundle and the request text, as the service does
            sha.hex({b.hash, "\n", request}, id_hex);
            fmt.decision_id.assign("d-");
            fmt.decision_id.append(id_hex, 0, 24);
          }
          std::string& out = output.buffer();
          writer.write(d, fmt, out);
          if (opts->remedies) {  // one more member before the closing brace
            RemedySearch found = find_remedies(b.policy, request, d);
            out.pop_back();
            out += ",\"remedies\":" + remedies_json(*b.policy, found) +
                   (found.cut_short ? ",\"remedies_cut_short\":true" : "") + "}";
          }
          output.end_decision();
        } else {
          std::cout << (input == "-" ? "" : input + "\n") << decision_text(*b.policy, d)
                    << (opts->remedies && d.outcome != Outcome::kPermit
                            ? remedies_text(*b.policy, find_remedies(b.policy, request, d))
                            : "")
                    << (recorded_id.empty() ? "" : "  recorded as " + recorded_id + "\n") << "\n";
        }
      }
    }
    output.flush();
    if (bad) throw kBadRequest;
    if (opts->exit_code && worst == 2) throw kDeny;
    if (opts->exit_code && worst == 1) throw kEscalate;
  });
}

ETHOS_COMMAND(add_eval, 20);

}  // namespace ethos::cli
