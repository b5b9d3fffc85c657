#include <ethos/api/engine.hpp>

#include <algorithm>
#include <initializer_list>
#include <nlohmann/json.hpp>

#include <ethos/base/hash.hpp>
#include <ethos/base/time.hpp>
#include <ethos/eval/evaluator.hpp>
#include <ethos/eval/request.hpp>

namespace ethos::api {

// ---- the engine's state and each thread's scratch space ----------------------

struct Engine::State {
  Bundle bundle;
};

namespace {

// What one thread needs to decide under one bundle: made on the thread's
// first call for that bundle, reused after.
struct Scratch {
  std::shared_ptr<const Policy> policy;  // keeps the binder's policy alive
  RequestBinder binder;
  Evaluator evaluator;
  BoundRequest request;
  ethos::Decision decision;
  TraceSummarizer summarizer;
  CompactTrace compact;
  explicit Scratch(std::shared_ptr<const Policy> p)
      : policy(std::move(p)), binder(*policy), evaluator(policy), summarizer(*policy) {}
};

Scratch& scratch_for(const std::shared_ptr<const Policy>& policy) {
  thread_local std::unique_ptr<Scratch> scratch;
  if (!scratch || scratch->policy != policy) scratch = std::make_unique<Scratch>(policy);
  return *scratch;
}

Reason reason_of(const Policy& p, uint32_t rule, RuleStatus status, const ethos::Decision& d) {
  const Rule& r = p.rules[rule];
  Reason out{r.id,       r.effect,     status == RuleStatus::kUnknown,
             r.because,  {},           r.concern,
             r.severity, r.confidence, std::nullopt};
  bool declared = false;
  std::vector<SourceCitation> sources;
  for (const auto& c : r.citations) declared = declared || c.source >= 0;
  for (const Citation* c : p.citations_in_force(r, d.time, d.place)) {
    out.citations.push_back(c->text);
    if (c->source < 0) continue;
    const Source& s = p.sources[static_cast<size_t>(c->source)];
    sources.push_back({s.id, c->section, s.jurisdiction, s.from_text, s.until_text, s.confidence});
  }
  if (declared) out.sources = std::move(sources);
  return out;
}

Decision typed(const Policy& p, Scratch& s, const std::string& bundle_hash, TraceMode trace) {
  const ethos::Decision& d = s.decision;
  Decision out;
  out.outcome = d.outcome;
  out.request_id = d.request_id;
  out.time = d.time;
  out.bundle_hash = bundle_hash;
  for (uint32_t r : d.reasons) out.reasons.push_back(reason_of(p, r, d.trace[r], d));
  for (auto [o, r] : d.obligations)
    out.obligations.push_back({p.obligations[o].name, p.obligations[o].text, p.rules[r].id,
                               d.trace[r] == RuleStatus::kUnknown});
  for (uint32_t r : d.advice) out.advice.push_back(reason_of(p, r, RuleStatus::kFired, d));
  for (uint32_t slot : d.missing) out.missing_facts.push_back(p.schema.attributes[slot].path);
  for (auto [r, by] : d.overridden) out.overridden.push_back({p.rules[r].id, p.rules[by].id});
  if (d.default_module >= 0)
    out.default_module = p.modules[static_cast<size_t>(d.default_module)].name;
  out.trace_mode = trace;
  if (trace == TraceMode::kFull) {
    for (uint32_t r = 0; r < p.rules.size(); ++r) out.trace.push_back({p.rules[r].id, d.trace[r]});
  } else if (trace == TraceMode::kCompact) {
    s.summarizer.summarize(d, s.compact);
    for (uint32_t r : s.compact.rules) out.trace.push_back({p.rules[r].id, d.trace[r]});
    out.trace_not_fired = s.compact.not_fired;
    out.trace_not_applicable = s.compact.not_applicable;
  }
  return out;
}

std::shared_ptr<const Engine::State> built(Bundle b, const Diagnostics& diags) {
  if (!b.policy) throw PolicyError(render_all(b.sources, diags));
  return std::make_shared<const Engine::State>(Engine::State{std::move(b)});
}

}  // namespace

Engine::Engine(std::shared_ptr<const State> state) : state_(std::move(state)) {}

Engine Engine::load(const std::vector<std::string>& paths, const CheckOptions& options) {
  Diagnostics diags;
  Bundle b = load_bundle(paths, diags, options);
  return Engine(built(std::move(b), diags));
}

Engine Engine::load_texts(std::vector<std::pair<std::string, std::string>> files,
                          const CheckOptions& options) {
  Diagnostics diags;
  Bundle b = load_bundle_texts(std::move(files), diags, options);
  return Engine(built(std::move(b), diags));
}

Engine Engine::load_canonical(std::string_view canonical_text) {
  Diagnostics diags;
  Bundle b = load_bundle_canonical(canonical_text, diags);
  return Engine(built(std::move(b), diags));
}

const std::string& Engine::bundle_hash() const { return state_->bundle.hash; }
const Bundle& Engine::bundle() const { return state_->bundle; }

Decision Engine::evaluate(std::string_view request_json, const EvaluateOptions& options) const {
  const Bundle& b = state_->bundle;
  Scratch& s = scratch_for(b.policy);
  BindError error;
  if (!s.binder.bind(request_json, s.request, error))
    throw RequestError(error.path, error.message, error.invariant);
  s.evaluator.evaluate(s.request, s.decision);
  Decision out = typed(*b.policy, s, b.hash, options.trace);
  // Not recorded: the id is derived from the bundle and the request, as `ethos eval` does.
  std::string seed = b.hash;
  seed += '\n';
  seed += request_json;
  out.decision_id = "d-" + sha256_hex(seed).substr(0, 24);
  return out;
}

Decision Engine::evaluate(const RequestBuilder& request, const EvaluateOptions& options) const {
  return evaluate(request.json(), options);
}

Decision Engine::record(DecisionLog& log, std::string_view request_json,
                        const EvaluateOptions& options) const {
  const Bundle& b = state_->bundle;
  Scratch& s = scratch_for(b.policy);
  BindError error;
  if (!s.binder.bind(request_json, s.request, error))
    throw RequestError(error.path, error.message, error.invariant);
  s.evaluator.evaluate(s.request, s.decision);
  std::string id = log.record(b, s.request, s.decision);
  Decision out = typed(*b.policy, s, b.hash, options.trace);
  out.decision_id = std::move(id);
  return out;
}

ReplayReport Engine::replay(const DecisionLog& log, bool against_this_engine,
                            const LogFilter& filter) const {
  ReplayOptions options;
  options.filter = filter;
  if (against_this_engine) options.against = &state_->bundle;
  return ethos::replay(log, options);
}

// ---- JSON ------------------------------------------------------------------------

namespace {
nlohmann::json reason_json(const Reason& r) {
  nlohmann::json j = {{"rule", r.rule},
                      {"effect", effect_name(r.effect)},
                      {"status", r.unknown ? "unknown" : "fired"},
                      {"because", r.because},
                      {"cite", r.citations},
                      {"concern", r.concern},
                      {"severity", r.severity},
                      {"confidence", r.confidence}};
  if (r.sources) {
    j["sources"] = nlohmann::json::array();
    for (const auto& s : *r.sources) {
      nlohmann::json o = {{"id", s.id},
                          {"section", s.section},
                          {"jurisdiction", s.jurisdiction},
                          {"confidence", s.confidence}};
      if (!s.from.empty()) o["from"] = s.from;
      if (!s.until.empty()) o["until"] = s.until;
      j["sources"].push_back(std::move(o));
    }
  }
  return j;
}
}  // namespace

std::string to_json(const Decision& d) {
  nlohmann::json j;
  j["decision_id"] = d.decision_id;
  j["request_id"] = d.request_id;
  j["time"] = format_timestamp(d.time);
  j["outcome"] = outcome_name(d.outcome);
  j["bundle"] = d.bundle_hash;
  j["reasons"] = nlohmann::json::array();
  for (const auto& r : d.reasons) j["reasons"].push_back(reason_json(r));
  j["obligations"] = nlohmann::json::array();
  for (const auto& o : d.obligations)
    j["obligations"].push_back({{"id", o.id},
                                {"text", o.text},
                                {"rule", o.rule},
                                {"status", o.unknown ? "unknown" : "fired"}});
  j["advice"] = nlohmann::json::array();
  for (const auto& a : d.advice) j["advice"].push_back(reason_json(a));
  j["missing_facts"] = d.missing_facts;
  j["overridden"] = nlohmann::json::array();
  for (const auto& o : d.overridden)
    j["overridden"].push_back({{"rule", o.rule}, {"by", o.overridden_by}});
  if (!d.default_module.empty()) j["default"] = d.default_module;
  if (d.trace_mode == TraceMode::kFull) {
    j["trace"] = nlohmann::json::object();
    for (const auto& t : d.trace) j["trace"][t.rule] = rule_status_name(t.status);
  } else if (d.trace_mode == TraceMode::kCompact) {
    nlohmann::json& t = j["trace"];
    for (RuleStatus st : {RuleStatus::kFired, RuleStatus::kUnknown, RuleStatus::kOverridden}) {
      nlohmann::json& rules = t[rule_status_name(st)] = nlohmann::json::array();
      for (const auto& e : d.trace)
        if (e.status == st) rules.push_back(e.rule);
    }
    t["not_fired"] = d.trace_not_fired;
    t["not_applicable"] = d.trace_not_applicable;
  }
  return j.dump();
}

// ---- the request builder -------------------------------------------------------

struct RequestBuilder::Impl {
  nlohmann::json request = nlohmann::json::object();
  nlohmann::json& at(std::string_view path) {
    nlohmann::json* node = &request;
    size_t start = 0;
    while (true) {
      size_t dot = path.find('.', start);
      std::string key(
          path.substr(start, dot == std::string_view::npos ? path.size() - start : dot - start));
      if (!node->is_object()) *node = nlohmann::json::object();
      node = &(*node)[key];
      if (dot == std::string_view::npos) return *node;
      start = dot + 1;
    }
  }
};

RequestBuilder::RequestBuilder() : impl_(std::make_unique<Impl>()) {}
RequestBuilder::~RequestBuilder() = default;
RequestBuilder::RequestBuilder(const RequestBuilder& o) : impl_(std::make_unique<Impl>(*o.impl_)) {}
RequestBuilder& RequestBuilder::operator=(const RequestBuilder& o) {
  if (this != &o) impl_ = std::make_unique<Impl>(*o.impl_);
  return *this;
}

RequestBuilder& RequestBuilder::set(std::string_view path, bool value) {
  impl_->at(path) = value;
  return *this;
}
RequestBuilder& RequestBuilder::set(std::string_view path, int64_t value) {
  impl_->at(path) = value;
  return *this;
}
RequestBuilder& RequestBuilder::set(std::string_view path, std::string_view value) {
  impl_->at(path) = std::string(value);
  return *this;
}
RequestBuilder& RequestBuilder::set(std::string_view path,
                                    const std::vector<std::string>& members) {
  impl_->at(path) = members;
  return *this;
}
RequestBuilder& RequestBuilder::set(std::string_view path,
                                    std::initializer_list<std::string_view> members) {
  auto& node = impl_->at(path);
  node = nlohmann::json::array();
  for (auto m : members) node.push_back(std::string(m));
  return *this;
}
std::string RequestBuilder::json() const { return impl_->request.dump(); }

}  // namespace ethos::api
