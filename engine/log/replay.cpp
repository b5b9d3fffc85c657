#include <ethos/log/replay.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include <ethos/base/time.hpp>
#include <ethos/check/policy.hpp>
#include <ethos/eval/evaluator.hpp>
#include <ethos/eval/request.hpp>
#include <ethos/log/stored_request.hpp>

namespace ethos {

namespace {

// A bundle ready to decide: rebuilt from the log, or the candidate.
struct Decider {
  std::shared_ptr<const Bundle> bundle;
  std::unique_ptr<RequestBinder> binder;        // ordinary requests (expanded, other schema)
  std::unique_ptr<StoredRequestBinder> stored;  // stored requests of the same layout
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
    stored = std::make_unique<StoredRequestBinder>(*bundle->policy);
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

namespace {

// Replays a run of rows; one per thread, each with its own connection,
// bundles, binders and evaluators (only the candidate's Policy is shared).
class Worker {
 public:
  Worker(const DecisionLog& log, const Bundle* against) : log_(log) {
    if (against) {
      // Non-owning: the caller keeps the candidate alive for the call.
      candidate_ =
          std::make_shared<Decider>(std::shared_ptr<const Bundle>(against, [](const Bundle*) {}));
      if (!candidate_->error.empty())
        throw std::invalid_argument("the candidate bundle has errors");
    }
  }

  ReplayReport out;

  void visit(const LogEntry& e) {
    ++out.replayed;
    Decider* recorded_by = recorded_decider(e.bundle);
    Decider* dec = candidate_ ? candidate_.get() : recorded_by;
    if (!dec->error.empty() || (candidate_ && !recorded_by->error.empty())) {
      out.differences.push_back({e.id,
                                 e.seq,
                                 "bundle",
                                 e.bundle,
                                 dec->error.empty() ? recorded_by->error : dec->error,
                                 {}});
      return;
    }
    // The stored request binds directly when the schema is laid out as the
    // one it was written under; otherwise it goes through ordinary JSON.
    bool direct = dec == recorded_by || same_layout_as(recorded_by);
    bool bound_ok = false;
    bool refused = false;  // it binds, but breaks a range or an invariant of the schema
    std::string error;
    if (direct) {
      bound_ok = dec->stored->bind(e.request, bound, error);
      if (bound_ok && !check_request(*dec->bundle->policy, bound, bind_error)) {
        bound_ok = false;
        refused = true;
        error = bind_error.path + ": " + bind_error.message;
      }
    } else {
      try {
        expanded = expand_stored_request(recorded_by->bundle->policy->schema, e.request);
        bound_ok = dec->binder->bind(expanded, bound, bind_error);
        if (!bound_ok) error = bind_error.path + ": " + bind_error.message;
      } catch (const std::exception& ex) {
        error = ex.what();
      }
    }
    if (!bound_ok) {
      if (candidate_ && (!direct || refused)) {
        ++out.not_bound;
        if (out.not_bound_examples.size() < 10) out.not_bound_examples.emplace_back(e.id, error);
      } else {
        out.differences.push_back({e.id, e.seq, "request", {}, error, {}});
      }
      return;
    }
    dec->evaluator->evaluate(bound, d);
    encode_decision(*dec->bundle->policy, d, enc);
    const EncodedDecision& old = e.decision;

    if (!candidate_) {
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
        ++out.reproduced;
      } else {
        std::string note;
        if (!dec->sensitive.empty())
          note = "rules of this bundle read " + join(dec->sensitive) +
                 ", which the log pseudonymises or redacts";
        out.differences.push_back({e.id, e.seq, join(fields), rec, rep, note});
      }
      return;
    }

    bool outcome_changed = old.outcome != enc.outcome;
    bool reasons_changed = old.reasons != enc.reasons;
    bool obligations_changed = old.obligations != enc.obligations;
    if (!outcome_changed && !reasons_changed && !obligations_changed) {
      ++out.reproduced;
      return;
    }
    ++out.changed;
    if (outcome_changed) ++out.outcome_changed;
    ImpactChange c{e.id, e.seq,           e.request_id,       e.time, old.outcome, enc.outcome,
                   {},   reasons_changed, obligations_changed};
    // Responsible: a rule among either side's reasons or obligations whose status changed.
    std::vector<std::string> involved = ids(old.reasons);
    for (auto& r : ids(enc.reasons)) involved.push_back(std::move(r));
    if (obligations_changed) {
      for (auto& r : ids(old.obligations)) involved.push_back(std::move(r));
      for (auto& r : ids(enc.obligations)) involved.push_back(std::move(r));
    }
    std::sort(involved.begin(), involved.end());
    involved.erase(std::unique(involved.begin(), involved.end()), involved.end());
    Decider* before = recorded_by;
    for (const auto& r : involved)
      if (status_of(before, old.trace, r) != status_of(candidate_.get(), enc.trace, r))
        c.rules.push_back(r);
    for (const auto& r : c.rules) ++out.rules[r];
    ++out.transitions[{c.from, c.to}];
    out.changes.push_back(std::move(c));
    return;
  }

 private:
  Decider* recorded_decider(const std::string& hash) {
    auto it = recorded_.find(hash);
    if (it == recorded_.end()) it = recorded_.emplace(hash, load_recorded(log_, hash)).first;
    return it->second.get();
  }
  // Does the candidate's schema have the layout of this recorded bundle's?
  bool same_layout_as(const Decider* recorded_by) {
    auto it = layout_cache_.find(recorded_by);
    if (it == layout_cache_.end())
      it = layout_cache_
               .emplace(recorded_by, same_layout(recorded_by->bundle->policy->schema,
                                                 candidate_->bundle->policy->schema))
               .first;
    return it->second;
  }

  const DecisionLog& log_;
  std::shared_ptr<Decider> candidate_;
  std::unordered_map<std::string, std::shared_ptr<Decider>> recorded_;
  std::unordered_map<const Decider*, bool> layout_cache_;
  BoundRequest bound;
  BindError bind_error;
  std::string expanded;
  Decision d;
  EncodedDecision enc;
};

void merge(ReplayReport& into, ReplayReport&& part) {
  into.replayed += part.replayed;
  into.reproduced += part.reproduced;
  into.changed += part.changed;
  into.outcome_changed += part.outcome_changed;
  into.not_bound += part.not_bound;
  for (auto& x : part.differences) into.differences.push_back(std::move(x));
  for (auto& x : part.changes) into.changes.push_back(std::move(x));
  for (auto& x : part.not_bound_examples)
    if (into.not_bound_examples.size() < 10) into.not_bound_examples.push_back(std::move(x));
  for (const auto& [k, n] : part.transitions) into.transitions[k] += n;
  for (const auto& [k, n] : part.rules) into.rules[k] += n;
}

}  // namespace

ReplayReport replay(const DecisionLog& log, const ReplayOptions& options) {
  auto t0 = std::chrono::steady_clock::now();
  auto [first, last] = log.seq_range(options.filter);
  uint64_t total = first ? log.count(options.filter) : 0;
  size_t threads = options.threads
                       ? options.threads
                       : std::min(8u, std::max(1u, std::thread::hardware_concurrency()));
  // Below a few thousand rows a second connection and bundle compile cost more than they save.
  if (total < 4096 * threads || options.filter.limit) threads = 1;
  std::vector<LogFilter> ranges;
  for (size_t i = 0; i < threads; ++i) {
    LogFilter f = options.filter;
    int64_t span = last - first + 1;
    f.after_seq = std::max(
        f.after_seq, first - 1 + span * static_cast<int64_t>(i) / static_cast<int64_t>(threads));
    int64_t upto = first - 1 + span * static_cast<int64_t>(i + 1) / static_cast<int64_t>(threads);
    f.before_seq = f.before_seq ? std::min(f.before_seq, upto + 1) : upto + 1;
    if (threads == 1) f = options.filter;
    ranges.push_back(f);
  }
  std::atomic<uint64_t> done{0};
  std::vector<ReplayReport> parts(threads);
  std::vector<std::exception_ptr> errors(threads);
  auto run = [&](size_t i) {
    try {
      // Other threads read through their own connection to the same file.
      std::unique_ptr<DecisionLog> own;
      if (i > 0) {
        LogOptions ro;
        ro.read_only = true;
        own = std::make_unique<DecisionLog>(log.path(), ro);
      }
      const DecisionLog& src = own ? *own : log;
      Worker w(src, options.against);
      src.scan(ranges[i], [&](const LogEntry& e) {
        w.visit(e);
        uint64_t n = done.fetch_add(1, std::memory_order_relaxed) + 1;
        if (i == 0 && options.progress && n % 4096 < threads) options.progress(n, total);
        return true;
      });
      parts[i] = std::move(w.out);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (size_t i = 1; i < threads; ++i) pool.emplace_back(run, i);
  run(0);
  for (auto& t : pool) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  ReplayReport report;
  report.against = options.against != nullptr;
  if (options.against) report.candidate_bundle = options.against->hash;
  for (auto& p : parts) merge(report, std::move(p));
  // Threads saw ranges in order, so each part is in chain order; keep the whole so.
  auto by_seq = [](const auto& a, const auto& b) { return a.seq < b.seq; };
  std::stable_sort(report.differences.begin(), report.differences.end(), by_seq);
  std::stable_sort(report.changes.begin(), report.changes.end(), by_seq);
  if (options.progress) options.progress(report.replayed, std::max(total, report.replayed));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

std::string replay_report_json(const ReplayReport& rep, size_t max_changes) {
  using json = nlohmann::json;
  json doc;
  doc["mode"] = rep.against ? "against" : "own";
  doc["candidate_bundle"] = rep.against ? json(rep.candidate_bundle) : json(nullptr);
  doc["replayed"] = rep.replayed;
  doc["reproduced"] = rep.reproduced;
  doc["ok"] = rep.against ? true : rep.reproduced_all();
  json diffs = json::array();
  for (const auto& d : rep.differences)
    diffs.push_back({{"decision_id", d.decision_id},
                     {"seq", d.seq},
                     {"fields", d.fields},
                     {"recorded", d.recorded},
                     {"replayed", d.replayed},
                     {"note", d.note}});
  doc["differences"] = diffs;
  if (rep.against) {
    doc["changed"] = rep.changed;
    doc["outcome_changed"] = rep.outcome_changed;
    doc["not_bound"] = rep.not_bound;
    json nb = json::array();
    for (const auto& [id, error] : rep.not_bound_examples)
      nb.push_back({{"decision_id", id}, {"error", error}});
    doc["not_bound_examples"] = nb;
    json tr = json::array();
    for (const auto& [k, n] : rep.transitions)
      tr.push_back({{"from", k.first}, {"to", k.second}, {"decisions", n}});
    doc["transitions"] = tr;
    json rules = json::array();
    for (const auto& [rule, n] : rep.rules) rules.push_back({{"rule", rule}, {"decisions", n}});
    doc["rules"] = rules;
    json changes = json::array();
    for (size_t i = 0; i < rep.changes.size() && i < max_changes; ++i) {
      const auto& c = rep.changes[i];
      changes.push_back({{"decision_id", c.decision_id},
                         {"request_id", c.request_id},
                         {"time", format_timestamp(c.time)},
                         {"from", c.from},
                         {"to", c.to},
                         {"rules", c.rules},
                         {"reasons_changed", c.reasons_changed},
                         {"obligations_changed", c.obligations_changed}});
    }
    doc["changes"] = changes;
    doc["changes_truncated"] = rep.changes.size() > max_changes;
    // Every change (not only the listed ones) by the day of its decision.
    std::map<int64_t, uint64_t> days;
    for (const auto& c : rep.changes) ++days[c.time - ((c.time % 86400) + 86400) % 86400];
    json by_day = json::array();
    for (const auto& [day, n] : days)
      by_day.push_back({{"day", format_timestamp(day).substr(0, 10)}, {"decisions", n}});
    doc["changes_by_day"] = by_day;
  }
  doc["seconds"] = rep.seconds;
  doc["decisions_per_sec"] =
      rep.seconds > 0 ? static_cast<double>(rep.replayed) / rep.seconds : 0.0;
  return doc.dump();
}

}  // namespace ethos
