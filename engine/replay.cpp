#include "replay.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "evaluator.hpp"
#include "request.hpp"

namespace ethos {

namespace {

// A bundle ready to decide: rebuilt from the log, or the candidate.
struct Decider {
  std::shared_ptr<const Bundle> bundle;
  std::unique_ptr<RequestBinder> binder;
  std::unique_ptr<Evaluator> evaluator;
  std::string error;                   // why it cannot decide (does not compile, ...)
  std::vector<std::string> sensitive;  // attributes rules read that the log does not keep as is
  StringMap<uint32_t> rule_index;      // for status lookups by id

  explicit Decider(std::shared_ptr<const Bundle> b) : bundle(std::move(b)) {
    if (!bundle->policy) {
      error = "the bundle does not compile";
      return;
    }
    binder = std::make_unique<RequestBinder>(*bundle->policy);
    evaluator = std::make_unique<Evaluator>(bundle->policy);
    sensitive = RequestPrivacy(*bundle->policy, insecure_dev_log_key()).sensitive_reads();
  }
};

std::shared_ptr<Decider> load_recorded(const DecisionLog& log, const std::string& hash) {
  auto text = log.bundle_text(hash);
  auto b = std::make_shared<Bundle>();
  if (!text) {
    auto d = std::make_shared<Decider>(b);
    d->error = "the bundle is not in the log";
    return d;
  }
  Diagnostics diags;
  *b = load_bundle_canonical(*text, diags);
  auto d = std::make_shared<Decider>(b);
  if (!d->error.empty()) {
    for (const auto& item : diags.items())
      if (item.severity == Severity::kError) {
        d->error += ": " + item.message;
        break;
      }
  } else if (b->hash != hash) {
    d->error = "the stored bundle text no longer has hash `" + hash + "`";
    d->binder.reset();
  }
  return d;
}

char status_of(const Decider* d, const std::string& trace, const std::string& rule) {
  if (!d || !d->bundle->policy) return 0;
  auto it = d->bundle->policy->rule_by_id.find(rule);
  if (it == d->bundle->policy->rule_by_id.end() || it->second >= trace.size())
    return 0;  // no such rule
  return trace[it->second];
}

std::vector<std::string> ids(const std::string& json_array) {
  std::vector<std::string> out;
  for (const auto& v : nlohmann::json::parse(json_array)) {
    if (v.is_array())
      out.push_back(v.back().get<std::string>());  // [obligation, rule] -> rule
    else
      out.push_back(v.get<std::string>());
  }
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

ReplayReport replay(const DecisionLog& log, const ReplayOptions& options) {
  auto t0 = std::chrono::steady_clock::now();
  ReplayReport report;
  report.against = options.against != nullptr;
  std::shared_ptr<Decider> candidate;
  if (options.against) {
    // Non-owning: the caller keeps the candidate alive for the call.
    candidate = std::make_shared<Decider>(
        std::shared_ptr<const Bundle>(options.against, [](const Bundle*) {}));
    report.candidate_bundle = options.against->hash;
    if (!candidate->error.empty()) throw std::invalid_argument("the candidate bundle has errors");
  }
  std::unordered_map<std::string, std::shared_ptr<Decider>> recorded;
  auto recorded_decider = [&](const std::string& hash) -> Decider* {
    auto it = recorded.find(hash);
    if (it == recorded.end()) it = recorded.emplace(hash, load_recorded(log, hash)).first;
    return it->second.get();
  };
  uint64_t total = options.progress ? log.count(options.filter) : 0;
  BoundRequest bound;
  BindError bind_error;
  Decision d;
  EncodedDecision enc;

  log.scan(options.filter, [&](const LogEntry& e) {
    ++report.replayed;
    if (options.progress && report.replayed % 4096 == 0) options.progress(report.replayed, total);
    Decider* dec = candidate ? candidate.get() : recorded_decider(e.bundle);
    if (!dec->error.empty()) {
      report.differences.push_back({e.id, e.seq, "bundle", e.bundle, dec->error, {}});
      return true;
    }
    if (!dec->binder->bind(e.request, bound, bind_error)) {
      if (candidate) {
        ++report.not_bound;
        if (report.not_bound_examples.size() < 10)
          report.not_bound_examples.emplace_back(e.id, bind_error.path + ": " + bind_error.message);
      } else {
        report.differences.push_back(
            {e.id, e.seq, "request", {}, bind_error.path + ": " + bind_error.message, {}});
      }
      return true;
    }
    dec->evaluator->evaluate(bound, d);
    encode_decision(*dec->bundle->policy, d, enc);
    const EncodedDecision& old = e.decision;

    if (!candidate) {
      std::vector<std::string> fields;
      std::string rec, rep;
      auto cmp = [&](const char* name, const std::string& a, const std::string& b) {
        if (a == b) return;
        if (fields.empty()) rec = a, rep = b;
        fields.emplace_back(name);
      };
      cmp("outcome", old.outcome, enc.outcome);
      cmp("reasons", old.reasons, enc.reasons);
      cmp("default", old.default_module, enc.default_module);
      cmp("obligations", old.obligations, enc.obligations);
      cmp("advice", old.advice, enc.advice);
      cmp("overridden", old.overridden, enc.overridden);
      cmp("missing_facts", old.missing_facts, enc.missing_facts);
      cmp("trace", old.trace, enc.trace);
      cmp("request_id", e.request_id, d.request_id);
      cmp("time", std::to_string(e.time), std::to_string(d.time));
      if (fields.empty()) {
        ++report.reproduced;
      } else {
        std::string note;
        if (!dec->sensitive.empty())
          note = "rules of this bundle read " + join(dec->sensitive) +
                 ", which the log pseudonymises or redacts";
        report.differences.push_back({e.id, e.seq, join(fields), rec, rep, note});
      }
      return true;
    }

    bool outcome_changed = old.outcome != enc.outcome;
    bool reasons_changed = old.reasons != enc.reasons;
    bool obligations_changed = old.obligations != enc.obligations;
    if (!outcome_changed && !reasons_changed && !obligations_changed) {
      ++report.reproduced;
      return true;
    }
    ++report.changed;
    if (outcome_changed) ++report.outcome_changed;
    ImpactChange c{e.id,        e.request_id, e.time,          old.outcome,
                   enc.outcome, {},           reasons_changed, obligations_changed};
    // Responsible: a rule among either side's reasons or obligations whose status changed.
    std::vector<std::string> involved = ids(old.reasons);
    for (auto& r : ids(enc.reasons)) involved.push_back(std::move(r));
    if (obligations_changed) {
      for (auto& r : ids(old.obligations)) involved.push_back(std::move(r));
      for (auto& r : ids(enc.obligations)) involved.push_back(std::move(r));
    }
    std::sort(involved.begin(), involved.end());
    involved.erase(std::unique(involved.begin(), involved.end()), involved.end());
    Decider* before = recorded_decider(e.bundle);
    for (const auto& r : involved)
      if (status_of(before, old.trace, r) != status_of(candidate.get(), enc.trace, r))
        c.rules.push_back(r);
    for (const auto& r : c.rules) ++report.rules[r];
    ++report.transitions[{c.from, c.to}];
    report.changes.push_back(std::move(c));
    return true;
  });
  if (options.progress) options.progress(report.replayed, std::max(total, report.replayed));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace ethos
