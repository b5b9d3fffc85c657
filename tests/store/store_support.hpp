// Helpers for the decision-log tests: a small policy over the test schema
// whose decisions cover every outcome, and a way to record a run of them.
#pragma once

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <ethos/base/time.hpp>
#include <ethos/compile/bundle.hpp>
#include <ethos/eval/evaluator.hpp>
#include <ethos/eval/request.hpp>
#include <ethos/log/decision_log.hpp>
#include "support.hpp"

namespace ethos::testing {

// Rules over kTestSchema: a deny, an escalate, a permit with an obligation,
// an advice, an override, an unknown (missing fact), and a param to change.
inline const char* kStorePolicy = R"ethos(module care "Care"
param max_retention_days: int = 30
param max_audit_age_days: int = 365
obligation clinician_review "a clinician reviews the output"

rule baa_required:
  forbid when data.categories has "phi" and not vendor.baa_signed
  because "phi needs a business associate agreement" cite "HIPAA 45 CFR 164.502(e)"

rule retention_is_short:
  forbid when vendor.retention_days > max_retention_days
  because "the vendor keeps data too long" cite "committee"

rule opted_out:
  forbid when patient.opted_out
  because "the patient opted out" cite "APA 3.10"

rule crisis_reviewed:
  permit when risk.self_harm
  overrides opted_out
  because "a crisis overrides the opt-out" cite "HIPAA 45 CFR 164.512(j)"

rule minors_need_permission:
  escalate when patient.age < 18 and not patient.guardian_permission
  because "a minor needs a guardian's permission" cite "HIPAA 45 CFR 164.502(g)"

rule audited_tools_only:
  forbid when audit.last is present and days_since(audit.last) > max_audit_age_days
  because "the audit is out of date" cite "45 CFR 92.210"

rule reviewed_use:
  require clinician_review when data.identifiability == identified
  because "identified data is reviewed" cite "APA 9.02"

rule deidentified_use:
  permit when data.identifiability == deidentified
  because "de-identified data may be used" cite "HIPAA 45 CFR 164.514"

rule foreign_advice:
  advise when jurisdiction.country != "US"
  because "outside the US other rules apply" cite "committee"
)ethos";

inline std::shared_ptr<Bundle> store_bundle(const std::string& policy = kStorePolicy,
                                            const CheckOptions& options = {}) {
  Diagnostics diags;
  auto b = std::make_shared<Bundle>(
      load_bundle_texts({{"schema.ethos", kTestSchema}, {"policy.ethos", policy}}, diags, options));
  INFO(render_all(b->sources, diags));
  REQUIRE(b->policy != nullptr);
  return b;
}

// The i-th request of a varied run: every outcome in turn, a unique request
// id, a patient id and a free-text note (the privacy tests look for both).
// `time`: the request's time instead of request()'s (seconds since the epoch).
inline std::string nth_request(size_t i, std::optional<int64_t> time = std::nullopt) {
  nlohmann::json patch = {{"request_id", "r-" + std::to_string(i)},
                          {"patient",
                           {{"id", "patient-secret-" + std::to_string(i % 7)},
                            {"note", "free text about patient " + std::to_string(i)}}}};
  if (time) patch["time"] = format_timestamp(*time);
  switch (i % 6) {
    case 0:
      break;  // permit with an obligation
    case 1:
      patch["vendor"]["baa_signed"] = false;
      break;  // deny
    case 2:
      patch["patient"]["age"] = 15, patch["patient"]["guardian_permission"] = false;
      break;  // escalate
    case 3:
      patch["patient"]["age"] = 16, patch["patient"]["guardian_permission"] = nullptr;
      break;  // unknown
    case 4:
      patch["patient"]["opted_out"] = true, patch["risk"]["self_harm"] = true;
      break;  // an override
    default:  // advice, de-identified
      patch["jurisdiction"] = {{"country", "DE"}, {"state", nullptr}};
      patch["data"]["identifiability"] = "deidentified";
  }
  return request(patch.dump());
}

inline LogOptions writer_options() {
  LogOptions o;
  o.key = log_key_from_secret("a test key of at least sixteen bytes");
  return o;
}

// Binds, evaluates and records `n` requests (nth_request(first..)); returns their ids.
// With `seconds_apart`, request i is made at kRunStart + i * seconds_apart.
inline constexpr int64_t kRunStart = 1795687200;  // 2026-11-26T10:00:00Z, request()'s time
inline std::vector<std::string> record_run(DecisionLog& log, const Bundle& b, size_t n,
                                           size_t first = 0, int64_t seconds_apart = 0) {
  RequestBinder binder(*b.policy);
  Evaluator ev(b.policy);
  std::vector<std::string> ids;
  std::vector<DecisionLog::Ticket> tickets;
  BoundRequest bound;
  Decision d;
  for (size_t i = first; i < first + n; ++i) {
    BindError err;
    std::string json = seconds_apart
                           ? nth_request(i, kRunStart + static_cast<int64_t>(i) * seconds_apart)
                           : nth_request(i);
    INFO(json << "\n" << err.path << ": " << err.message);
    REQUIRE(binder.bind(json, bound, err));
    ev.evaluate(bound, d);
    tickets.push_back(log.submit(b, bound, d));
  }
  for (const auto& t : tickets) {
    log.wait(t);
    ids.push_back(t.decision_id);
  }
  return ids;
}

inline std::string slurp_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::string log_path(const std::string& dir, const char* name = "decisions.db") {
  return dir + "/" + name;
}

}  // namespace ethos::testing
