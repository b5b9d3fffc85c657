// Helpers shared by the tests: build a bundle from inline text, bind and
// evaluate a request, run the ethos binary.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include <ethos/compile/bundle.hpp>
#include <ethos/eval/decision.hpp>
#include <ethos/eval/evaluator.hpp>
#include <ethos/eval/request.hpp>

namespace ethos::testing {

// A small schema most semantic tests use (see support.cpp).
extern const char* kTestSchema;

// Compiles `policy` (one file, named policy.ethos) with kTestSchema (schema.ethos).
// Fails the current test with the rendered diagnostics if it does not compile.
std::shared_ptr<const Policy> compile(const std::string& policy);
// The rendered diagnostics of compiling these files (empty when clean).
std::string diagnose(const std::vector<std::pair<std::string, std::string>>& files);
std::string diagnose_policy(const std::string& policy);  // with kTestSchema

// Binds and evaluates. Fails the test if the request does not bind.
Decision decide(const std::shared_ptr<const Policy>& policy, const std::string& request_json);
// A valid request for kTestSchema with `overrides` merged in (a JSON object text).
std::string request(const std::string& patch = "{}");

std::vector<std::string> reason_ids(const Policy& p, const Decision& d);
std::vector<std::string> missing_paths(const Policy& p, const Decision& d);

// The compact trace (decision-format.md, "The trace") that a full trace
// (every rule's status, parsed in its order) summarises: what a default
// decision must carry, key for key and in order.
nlohmann::ordered_json compact_trace_of(const nlohmann::ordered_json& full_trace);

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// Runs the ethos binary (ETHOS_BIN) with arguments, optional stdin text.
RunResult run_ethos(const std::vector<std::string>& args, const std::string& stdin_text = "");
std::string source_dir();
std::string temp_dir();  // a fresh directory for this test

}  // namespace ethos::testing
