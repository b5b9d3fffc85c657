// The embedding API: load a policy bundle once, ask it for decisions with
// typed answers, record them in the decision log and replay them.
//
//   auto engine = ethos::api::Engine::load({"policies"});
//   ethos::api::Decision d = engine.evaluate(request_json);
//   if (d.outcome == ethos::Outcome::kPermit) { ... carry out d.obligations ... }
//
// An Engine is immutable and safe to share between threads: evaluate() may
// be called from any number of threads at once (each thread keeps its own
// parser and evaluator scratch space, made on its first call). Errors are
// exceptions: PolicyError when the bundle does not compile (with the rendered
// diagnostics), RequestError when a request does not fit the schema (with
// the JSON path). docs/embedding.md describes it.
#pragma once

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <ethos/check/check.hpp>
#include <ethos/compile/bundle.hpp>
#include <ethos/eval/decision.hpp>
#include <ethos/log/decision_log.hpp>
#include <ethos/log/replay.hpp>
#include <ethos/syntax/effect.hpp>

namespace ethos::api {

// ---- the typed decision ----------------------------------------------------

// A declared source a reason cites, in force where and when the request was made.
struct SourceCitation {
  std::string id;            // "il_wopr"
  std::string section;       // "20(b)", or empty for the whole source
  std::string jurisdiction;  // "US-IL"
  std::string from, until;   // in force from / until, as declared (empty: open)
  std::string confidence;
};

struct Reason {
  std::string rule;  // "privacy.baa_required"
  Effect effect = Effect::kForbid;
  bool unknown = false;  // it could not be ruled out (a fact it needs is missing)
  std::string because;
  std::vector<std::string> citations;
  std::string concern;
  std::string severity;
  std::string confidence;  // "verified", "secondary", ...
  // For a rule that cites declared sources: those in force here and now
  // (nullopt for a rule that cites strings only).
  std::optional<std::vector<SourceCitation>> sources;
};

struct Obligation {
  std::string id;        // "clinician_review"
  std::string text;      // what the app must do
  std::string rule;      // the rule that requires it
  bool unknown = false;  // that rule could not be ruled out (a fact it needs is missing)
};

struct Override {
  std::string rule;           // the rule that was set aside
  std::string overridden_by;  // the rule that set it aside
};

struct TraceEntry {
  std::string rule;
  RuleStatus status = RuleStatus::kNotFired;
};

struct Decision {
  Outcome outcome = Outcome::kDeny;
  std::string decision_id;  // the log's id once recorded; otherwise derived from bundle and request
  std::string request_id;
  int64_t time = 0;  // the request's time, seconds since the epoch
  std::string bundle_hash;
  std::vector<Reason> reasons;
  std::vector<Obligation> obligations;
  std::vector<Reason> advice;              // advise rules that fired
  std::vector<std::string> missing_facts;  // attribute paths that could change the outcome
  std::vector<Override> overridden;
  // Per the TraceMode asked for: kFull every rule; kCompact the rules that
  // fired, were unknown or were overridden, with counts of the rest; kNone nothing.
  TraceMode trace_mode = TraceMode::kCompact;
  std::vector<TraceEntry> trace;    // in declaration order
  size_t trace_not_fired = 0;       // kCompact: rules not listed that ended not_fired
  size_t trace_not_applicable = 0;  // and not_applicable
  std::string default_module;       // when no rule decided: the module whose default applied

  bool permitted() const { return outcome == Outcome::kPermit; }
};

// ---- errors ------------------------------------------------------------------

// The bundle does not compile; what() is the rendered diagnostics.
class PolicyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A request does not fit the schema (or is not JSON).
class RequestError : public std::runtime_error {
 public:
  RequestError(std::string path, const std::string& message, std::string invariant = {})
      : std::runtime_error(path + ": " + message),
        path_(std::move(path)),
        invariant_(std::move(invariant)) {}
  const std::string& path() const { return path_; }  // "$.patient.age"
  // The id of the schema's invariant the request breaks (its `because` is in
  // what()); empty when the request does not fit the schema's types or ranges.
  const std::string& invariant() const { return invariant_; }

 private:
  std::string path_;
  std::string invariant_;
};

// ---- requests ------------------------------------------------------------------

// Builds a request field by field, by dotted path:
//   RequestBuilder().set("request_id", "r-1").set("patient.age", 34)
//                   .set("data.categories", {"phi"}).json()
class RequestBuilder {
 public:
  RequestBuilder();
  ~RequestBuilder();
  RequestBuilder(const RequestBuilder&);
  RequestBuilder& operator=(const RequestBuilder&);

  RequestBuilder& set(std::string_view path, bool value);
  RequestBuilder& set(std::string_view path, int64_t value);
  RequestBuilder& set(std::string_view path, int value) { return set(path, int64_t{value}); }
  RequestBuilder& set(std::string_view path, std::string_view value);
  RequestBuilder& set(std::string_view path, const char* value) {
    return set(path, std::string_view(value));
  }
  RequestBuilder& set(std::string_view path, const std::vector<std::string>& members);
  RequestBuilder& set(std::string_view path, std::initializer_list<std::string_view> members);
  // The request as JSON text.
  std::string json() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---- the engine ----------------------------------------------------------------

struct EvaluateOptions {
  // kFull: every rule's status; kCompact: the rules that fired, were unknown
  // or were overridden, and how many of the rest ended not_fired or
  // not_applicable (docs/decision-format.md, "The trace"); kNone: no trace.
  TraceMode trace = TraceMode::kCompact;
};

class Engine {
 public:
  // Loads every *.ethos file under `paths` (files or directories). Throws PolicyError.
  static Engine load(const std::vector<std::string>& paths, const CheckOptions& options = {});
  // Builds a bundle from named texts, e.g. {{"schema.ethos", "..."}, {"p.ethos", "..."}}.
  static Engine load_texts(std::vector<std::pair<std::string, std::string>> files,
                           const CheckOptions& options = {});
  // Rebuilds the exact bundle a decision log stored (DecisionLog::bundle_text).
  static Engine load_canonical(std::string_view canonical_text);

  const std::string& bundle_hash() const;
  const Bundle& bundle() const;

  // Decides one request (a JSON object). Throws RequestError.
  Decision evaluate(std::string_view request_json, const EvaluateOptions& options = {}) const;
  Decision evaluate(const RequestBuilder& request, const EvaluateOptions& options = {}) const;
  // Decides a request held as a JSON value with a dump() to text, such as an
  // nlohmann::json: written out and decided as the text overload decides it.
  // A template, so that this header does not include nlohmann/json.
  template <class Json>
  requires requires(const Json& j) {
    { j.dump() } -> std::convertible_to<std::string>;
  }
  Decision evaluate(const Json& request, const EvaluateOptions& options = {}) const {
    const std::string text = request.dump();
    return evaluate(std::string_view(text), options);
  }

  // Decides and records in `log` (which needs a key): returns once the
  // decision is durably recorded, with the log's decision id. Throws
  // RequestError, or sql::StoreError when it cannot be recorded: never act
  // on a decision that was not returned.
  Decision record(DecisionLog& log, std::string_view request_json,
                  const EvaluateOptions& options = {}) const;

  // Re-runs the decisions of `log` under their own bundles (`against` empty)
  // or under this engine's bundle (an impact report).
  ReplayReport replay(const DecisionLog& log, bool against_this_engine,
                      const LogFilter& filter = {}) const;

 public:
  struct State;  // the loaded bundle (engine.cpp)

 private:
  explicit Engine(std::shared_ptr<const State> state);
  std::shared_ptr<const State> state_;
};

// The decision as JSON, in the shape of docs/decision-format.md (the keys a
// typed Decision holds; `trace` in the shape of its trace_mode, absent for kNone).
std::string to_json(const Decision& decision);

}  // namespace ethos::api
