#include <iostream>

#include <ethos/base/hash.hpp>
#include <ethos/eval/evaluator.hpp>
#include <ethos/eval/remedies.hpp>
#include <ethos/eval/request.hpp>
#include <ethos/eval/request_split.hpp>
#include "cli.hpp"
#include "log_cli.hpp"

namespace ethos::cli {

void add_eval(CLI::App& app) {
  struct Opts {
    std::string policies = "policies";
    std::vector<std::string> inputs;
    std::vector<std::string> params;
    uint32_t max_depth = kDefaultMaxDepth;
    bool json = false;
    bool exit_code = false;
    bool no_trace = false;
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
  cmd->add_flag("--no-trace", opts->no_trace, "Leave the per-rule trace out of --json output");
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
    BoundRequest bound;
    Decision d;
    bool bad = false;
    int worst = -1;  // 0 permit, 1 escalate, 2 deny
    std::vector<std::string> outputs;
    for (const auto& input : opts->inputs) {
      std::string text;
      if (!read_input(input, text)) {
        std::cerr << input << ": cannot read: no such file or directory\n";
        bad = true;
        continue;
      }
      std::string split_error;
      std::vector<std::string_view> texts;
      if (!split_requests(text, RequestSplit::kStream, texts, split_error)) {
        std::cerr << input << ": $: " << split_error << "\n";
        bad = true;
        continue;
      }
      const std::vector<std::string> requests(texts.begin(), texts.end());
      for (size_t k = 0; k < requests.size(); ++k) {
        BindError err;
        if (!binder.bind(requests[k], bound, err)) {
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
            std::cerr << "ethos: cannot record the decision, so it is not given: " << e.what()
                      << "\n";
            throw kInternal;
          }
        }
        int rank = d.outcome == Outcome::kPermit ? 0 : d.outcome == Outcome::kEscalate ? 1 : 2;
        worst = std::max(worst, rank);
        if (opts->json) {
          DecisionFormat fmt;
          fmt.bundle_hash = b.hash;
          fmt.decision_id = !recorded_id.empty()
                                ? recorded_id
                                : "d-" + sha256_hex(b.hash + "\n" + requests[k]).substr(0, 24);
          fmt.trace_mode = opts->no_trace ? TraceMode::kNone : TraceMode::kFull;
          outputs.push_back(decision_json(*b.policy, d, fmt));
          if (opts->remedies) {  // one more member before the closing brace
            RemedySearch found = find_remedies(b.policy, requests[k], d);
            outputs.back().insert(outputs.back().size() - 1,
                                  ",\"remedies\":" + remedies_json(*b.policy, found) +
                                      (found.cut_short ? ",\"remedies_cut_short\":true" : ""));
          }
        } else {
          std::cout << (input == "-" ? "" : input + "\n") << decision_text(*b.policy, d)
                    << (opts->remedies && d.outcome != Outcome::kPermit
                            ? remedies_text(*b.policy, find_remedies(b.policy, requests[k], d))
                            : "")
                    << (recorded_id.empty() ? "" : "  recorded as " + recorded_id + "\n") << "\n";
        }
      }
    }
    if (opts->json) {
      if (outputs.size() == 1) {
        std::cout << outputs[0] << "\n";
      } else {
        for (const auto& o : outputs) std::cout << o << "\n";
      }
    }
    if (bad) throw kBadRequest;
    if (opts->exit_code && worst == 2) throw kDeny;
    if (opts->exit_code && worst == 1) throw kEscalate;
  });
}

ETHOS_COMMAND(add_eval, 20);

}  // namespace ethos::cli
