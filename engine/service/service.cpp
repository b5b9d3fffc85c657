#include <ethos/service/service.hpp>

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>

#include <ethos/base/text.hpp>
#include <ethos/base/time.hpp>
#include <ethos/check/check.hpp>
#include <ethos/log/log_entry.hpp>
#include <ethos/log/replay.hpp>
#include <ethos/log/stored_request.hpp>
#include <ethos/service/service_internal.hpp>

namespace ethos {

namespace {

using json = nlohmann::json;
using service_internal::is_space;
using service_internal::steady_ms;

int64_t wall_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void append_raw_or(std::string& out, std::string_view raw, std::string_view fallback) {
  out += raw.empty() ? fallback : raw;
}

}  // namespace

// ---- Service -------------------------------------------------------------------

Service::Service(ServiceOptions options) : options_(std::move(options)) {
  Diagnostics diags;
  Bundle b = load_bundle(options_.policy_paths, diags, options_.check);
  diags.sort();
  if (!b.policy) throw ServiceStartError(render_all(b.sources, diags));
  active_ = build(std::move(b), 1);
  generation_.store(1, std::memory_order_release);
  if (!options_.log_path.empty())
    log_ = std::make_unique<DecisionLog>(options_.log_path, options_.log);
  if (log_ && log_->damage())
    spdlog::error(
        "the decision log is damaged: every decision will be answered 503 until it is restored: "
        "{}",
        *log_->damage());
}

Service::~Service() {
  try {
    if (log_) log_->flush();
  } catch (...) {
    // The callers whose decisions failed were told (503); nothing more to do here.
  }
}

std::shared_ptr<const ServiceBundle> Service::active() const {
  std::lock_guard lk(active_mu_);
  return active_;
}

std::shared_ptr<const ServiceBundle> Service::build(Bundle bundle, uint64_t generation) const {
  auto sb = std::make_shared<ServiceBundle>();
  sb->bundle = std::move(bundle);
  sb->writer = std::make_unique<DecisionWriter>(*sb->bundle.policy);
  sb->generation = generation;
  sb->loaded_at = wall_seconds();
  const Policy& p = *sb->bundle.policy;
  json doc;
  doc["bundle"] = sb->bundle.hash;
  doc["loaded_at"] = format_timestamp(sb->loaded_at);
  doc["generation"] = generation;
  json modules = json::array();
  for (const auto& m : p.modules) {
    json rules = json::array();
    for (uint32_t r : m.rules) rules.push_back(p.rules[r].id);
    modules.push_back({{"name", m.name},
                       {"title", m.title},
                       {"concern", m.concern},
                       {"default", m.default_permit ? "permit" : "deny"},
                       {"rules", rules}});
  }
  doc["modules"] = modules;
  json rules = json::array();
  for (const auto& r : p.rules) {
    json rule = {{"id", r.id},
                 {"module", p.modules[r.module].name},
                 {"effect", effect_name(r.effect)},
                 {"because", r.because},
                 {"cite", r.cites},
                 {"concern", r.concern},
                 {"severity", r.severity.empty() ? json(nullptr) : json(r.severity)},
                 {"confidence", r.confidence},
                 {"tags", r.tags}};
    if (r.obligation >= 0) {
      const Obligation& o = p.obligations[static_cast<size_t>(r.obligation)];
      rule["obligation"] = {{"id", o.name}, {"text", o.text}};
    } else {
      rule["obligation"] = nullptr;
    }
    json overrides = json::array();
    for (uint32_t o : r.overrides) overrides.push_back(p.rules[o].id);
    rule["overrides"] = overrides;
    rules.push_back(std::move(rule));
  }
  doc["rules"] = rules;
  json params = json::array();
  for (const auto& prm : p.params) {
    auto it = options_.check.params.find(prm.id);
    params.push_back({{"id", prm.id},
                      {"value", it != options_.check.params.end() ? it->second : prm.written},
                      {"deployment", it != options_.check.params.end()}});
  }
  doc["params"] = params;
  sb->policy_json = doc.dump();
  return sb;
}

Reply Service::policy() const {
  Reply r;
  r.body = active()->policy_json;
  return r;
}

Reply Service::reload() {
  std::lock_guard guard(reload_mu_);
  Diagnostics diags;
  Bundle b = load_bundle(options_.policy_paths, diags, options_.check);
  diags.sort();
  auto current = active();
  if (!b.policy) {
    metrics_.reloaded(false);
    metrics_.error(ErrorCode::kPolicyErrors);
    std::string path;
    for (const auto& d : diags.items())
      if (d.severity == Severity::kError) {
        if (d.span.file < b.sources.files.size()) path = b.sources.files[d.span.file].path();
        break;
      }
    std::string message =
        std::to_string(diags.error_count()) + " error" + (diags.error_count() == 1 ? "" : "s") +
        " in the policy; the active bundle " + current->bundle.hash + " keeps serving";
    std::string body = error_json(ErrorCode::kPolicyErrors, message, path);
    body.pop_back();  // reopen the top-level object to add the diagnostics
    body += R"(,"diagnostics":)";
    body += diagnostics_json(b.sources, diags);
    body += R"(,"rendered":)";
    append_json_string(body, render_all(b.sources, diags));
    body += '}';
    return Reply{422, std::move(body), ErrorCode::kPolicyErrors};
  }
  json doc;
  doc["previous"] = current->bundle.hash;
  doc["bundle"] = b.hash;
  doc["changed"] = b.hash != current->bundle.hash;
  doc["warnings"] = diags.warning_count();
  doc["rules"] = b.policy->rules.size();
  doc["modules"] = b.policy->modules.size();
  if (b.hash != current->bundle.hash) {
    auto next = build(std::move(b), current->generation + 1);
    {
      std::lock_guard lk(active_mu_);
      active_ = next;
    }
    generation_.store(next->generation, std::memory_order_release);
  }
  doc["generation"] = generation_.load(std::memory_order_acquire);
  metrics_.reloaded(true);
  return Reply{200, doc.dump(), ErrorCode::kNone};
}

std::shared_ptr<const ServiceBundle> Service::bundle_for(const std::string& hash) const {
  auto current = active();
  if (current->bundle.hash == hash) return current;
  std::lock_guard lk(past_mu_);
  for (const auto& b : past_)
    if (b->bundle.hash == hash) return b;
  auto text = log_->bundle_text(hash);
  if (!text) return nullptr;
  Diagnostics diags;
  Bundle b = load_bundle_canonical(*text, diags);
  if (!b.policy) return nullptr;
  auto sb = build(std::move(b), 0);
  if (past_.size() >= 8) past_.erase(past_.begin());
  past_.push_back(sb);
  return sb;
}

Reply Service::require_log() const {
  if (log_) return {};
  return error_reply(ErrorCode::kNotFound, "this service keeps no decision log");
}

Reply Service::decision(std::string_view id) const {
  if (!log_) return require_log();
  try {
    auto e = log_->find(id);
    if (!e)
      return error_reply(ErrorCode::kNotFound, "no decision `" + std::string(id) + "` in the log",
                         "id");
    auto sb = bundle_for(e->bundle);
    if (!sb)
      return error_reply(ErrorCode::kInternal, "the bundle " + e->bundle + " of decision `" +
                                                   e->id + "` cannot be rebuilt");
    Decision d = decode_decision(*sb->bundle.policy, *e);
    DecisionFormat fmt;
    fmt.decision_id = e->id;
    fmt.bundle_hash = e->bundle;
    fmt.trace_mode = TraceMode::kFull;
    Reply r;
    std::string& out = r.body;
    out = R"({"decision":)";
    sb->writer->write(d, fmt, out);
    out += R"(,"request":)";
    // The log keeps the request positionally (stored_request.hpp): spell it out.
    std::string request;
    try {
      request = expand_stored_request(sb->bundle.policy->schema, e->request);
    } catch (const std::exception&) {
      request = e->request;
    }
    append_raw_or(out, request, "null");
    out += R"(,"seq":)" + std::to_string(e->seq);
    out += R"(,"recorded_at":")" + format_millis(e->recorded_at) + '"';
    out += R"(,"prev_hash":")" + e->prev_hash + '"';
    out += R"(,"hash":")" + e->hash + "\"}";
    return r;
  } catch (const std::exception& e) {
    return error_reply(ErrorCode::kInternal, std::string("cannot read the log: ") + e.what());
  }
}

bool read_log_filter_param(const std::string& key, const std::string& value, LogFilter& filter,
                           std::optional<Reply>& error) {
  std::string path = "query." + key;
  if (key == "from" || key == "to") {
    int64_t t = 0;
    if (parse_timestamp(value, t))
      (key == "from" ? filter.from : filter.to) = t;
    else
      error = error_reply(
          ErrorCode::kBadQuery,
          "`" + key + "` is a time like 2026-11-26T10:15:00Z or 2026-11-26, got `" + value + "`",
          path);
  } else if (key == "outcome") {
    if (value == "permit" || value == "deny" || value == "escalate")
      filter.outcome = value;
    else
      error = error_reply(ErrorCode::kBadQuery,
                          "`outcome` is permit, deny or escalate, got `" + value + "`", path);
  } else if (key == "rule") {
    filter.rule = value;
  } else if (key == "module") {
    filter.module = value;
  } else if (key == "missing") {
    filter.missing = value;
  } else if (key == "request_id") {
    filter.request_id = value;
  } else {
    return false;
  }
  return true;
}

Reply Service::decisions(const QueryParams& query) const {
  if (!log_) return require_log();
  LogFilter f;
  size_t limit = 100;
  std::optional<int64_t> cursor;
  for (const auto& [key, value] : query) {
    std::string path = "query." + key;
    std::optional<Reply> bad;
    if (read_log_filter_param(key, value, f, bad)) {
      if (bad) return std::move(*bad);
    } else if (key == "order") {
      if (value != "oldest" && value != "newest")
        return error_reply(ErrorCode::kBadQuery, "`order` is oldest or newest, got `" + value + "`",
                           path);
      f.newest_first = value == "newest";
    } else if (key == "limit") {
      int64_t n = 0;
      if (!parse_int(value, n) || n < 1 || n > 1000)
        return error_reply(ErrorCode::kBadQuery,
                           "`limit` is an integer from 1 to 1000, got `" + value + "`", path);
      limit = static_cast<size_t>(n);
    } else if (key == "cursor") {
      int64_t n = 0;
      if (!parse_int(value, n) || n < 0)
        return error_reply(ErrorCode::kBadQuery,
                           "`cursor` is the `next_cursor` of a previous page, got `" + value + "`",
                           path);
      cursor = n;
    } else {
      return error_reply(ErrorCode::kBadQuery,
                         "unknown query parameter `" + key +
                             "`; expected from, to, outcome, rule, module, missing, request_id, "
                             "order, limit or cursor",
                         path);
    }
  }
  Reply r;
  std::string& out = r.body;
  out = R"({"decisions":[)";
  size_t rows = 0;
  int64_t last_seq = 0;
  // Keyset paging in windows of the chain (seq is dense: docs/api.md): each
  // window is a range of the primary key, so a page costs at most
  // kMaxExamined rows however rare the filter, and a cursor resumes where
  // the search stopped.
  constexpr int64_t kWindow = 20000;
  constexpr int64_t kMaxExamined = 200000;
  int64_t examined = 0;
  std::optional<int64_t> next;
  try {
    auto [first, last] = log_->seq_range();
    bool newest = f.newest_first;
    // oldest: rows > pos; newest: rows < pos.
    int64_t pos = cursor ? *cursor : (newest ? last + 1 : 0);
    auto visit = [&](const LogEntry& e) {
      if (rows++) out += ',';
      out += R"({"decision_id":)";
      append_json_string(out, e.id);
      out += R"(,"seq":)" + std::to_string(e.seq);
      out += R"(,"request_id":)";
      append_json_string(out, e.request_id);
      out += R"(,"time":")" + format_timestamp(e.time) + '"';
      out += R"(,"recorded_at":")" + format_millis(e.recorded_at) + '"';
      out += R"(,"outcome":)";
      append_json_string(out, e.decision.outcome);
      out += R"(,"bundle":)";
      append_json_string(out, e.bundle);
      out += R"(,"default":)";
      if (e.decision.default_module.empty())
        out += "null";
      else
        append_json_string(out, e.decision.default_module);
      out += R"(,"reasons":)";
      append_raw_or(out, e.decision.reasons, "[]");
      out += R"(,"obligations":)";
      append_raw_or(out, e.decision.obligations, "[]");
      out += R"(,"advice":)";
      append_raw_or(out, e.decision.advice, "[]");
      out += R"(,"overridden":)";
      append_raw_or(out, e.decision.overridden, "[]");
      out += R"(,"missing_facts":)";
      append_raw_or(out, e.decision.missing_facts, "[]");
      out += '}';
      last_seq = e.seq;
      return true;
    };
    while (first > 0) {
      if (newest ? pos <= first : pos >= last) break;  // the search reached the end
      if (rows == limit) {
        next = last_seq;
        break;
      }
      if (examined >= kMaxExamined) {
        next = pos;
        break;
      }
      LogFilter w = f;
      w.limit = limit - rows;
      int64_t lo = newest ? std::max(first, pos - kWindow) : pos + 1;
      int64_t hi = newest ? pos - 1 : std::min(last, pos + kWindow);
      w.after_seq = lo - 1;
      w.before_seq = hi + 1;
      log_->scan(w, visit);
      examined += hi - lo + 1;
      pos = newest ? lo : hi;
      if (rows == limit) {
        // Resume after the last row returned, which may lie inside the window.
        next = last_seq;
        if (newest ? last_seq <= first : last_seq >= last) next.reset();
        break;
      }
    }
  } catch (const std::exception& e) {
    return error_reply(ErrorCode::kInternal, std::string("cannot read the log: ") + e.what());
  }
  out += R"(],"next_cursor":)";
  if (next)
    out += '"' + std::to_string(*next) + '"';
  else
    out += "null";
  out += R"(,"examined":)" + std::to_string(examined);
  out += '}';
  return r;
}

Reply Service::replay(std::string_view body, const Progress& progress) const {
  if (!log_) return require_log();
  json req;
  std::string_view trimmed = body;
  while (!trimmed.empty() && is_space(trimmed.front())) trimmed.remove_prefix(1);
  if (trimmed.empty()) {
    req = json::object();
  } else {
    try {
      req = json::parse(body);
    } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e400
      std::string what = e.what();
      auto pos = what.find("parse error");
      return error_reply(ErrorCode::kMalformedJson,
                         "malformed JSON: " + (pos == std::string::npos ? what : what.substr(pos)),
                         "$");
    }
  }
  if (!req.is_object())
    return error_reply(ErrorCode::kInvalidRequest, "a replay request is a JSON object", "$");
  ReplayOptions ro;
  size_t changes_limit = 100;
  std::optional<Bundle> candidate;
  auto bad = [](const std::string& message, const std::string& path) {
    return error_reply(ErrorCode::kInvalidRequest, message, path);
  };
  for (auto it = req.begin(); it != req.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    std::string path = "$." + key;
    if (key == "from" || key == "to") {
      int64_t t = 0;
      if (!v.is_string() || !parse_timestamp(v.get<std::string>(), t))
        return bad("`" + key + "` is a time like \"2026-11-26T10:15:00Z\"", path);
      (key == "from" ? ro.filter.from : ro.filter.to) = t;
    } else if (key == "outcome") {
      if (!v.is_string() || (v != "permit" && v != "deny" && v != "escalate"))
        return bad("`outcome` is \"permit\", \"deny\" or \"escalate\"", path);
      ro.filter.outcome = v.get<std::string>();
    } else if (key == "rule" || key == "request_id") {
      if (!v.is_string()) return bad("`" + key + "` is a string", path);
      (key == "rule" ? ro.filter.rule : ro.filter.request_id) = v.get<std::string>();
    } else if (key == "decision_id") {
      if (!v.is_string()) return bad("`decision_id` is a string", path);
      std::optional<LogEntry> e;
      try {
        e = log_->find(v.get<std::string>());
      } catch (const std::exception& ex) {
        return error_reply(ErrorCode::kInternal, std::string("cannot read the log: ") + ex.what());
      }
      if (!e)
        return error_reply(ErrorCode::kNotFound,
                           "no decision `" + v.get<std::string>() + "` in the log", path);
      ro.filter.after_seq = e->seq - 1;
      ro.filter.before_seq = e->seq + 1;
    } else if (key == "bundle") {
      // A bundle recorded in the log, as the candidate.
      if (!v.is_string()) return bad("`bundle` is a bundle hash, \"sha256:...\"", path);
      std::optional<std::string> text;
      try {
        text = log_->bundle_text(v.get<std::string>());
      } catch (const std::exception& ex) {
        return error_reply(ErrorCode::kInternal, std::string("cannot read the log: ") + ex.what());
      }
      if (!text)
        return error_reply(ErrorCode::kNotFound,
                           "no bundle `" + v.get<std::string>() + "` in the log", path);
      Diagnostics diags;
      Bundle b = load_bundle_canonical(*text, diags);
      if (!b.policy)
        return error_reply(ErrorCode::kInternal,
                           "the bundle " + v.get<std::string>() + " cannot be rebuilt", path);
      candidate = std::move(b);
    } else if (key == "limit" || key == "changes_limit") {
      if (!v.is_number_unsigned()) return bad("`" + key + "` is a non-negative integer", path);
      if (key == "limit")
        ro.filter.limit = v.get<size_t>();
      else
        changes_limit = v.get<size_t>();
    } else if (key == "against") {
      if (!v.is_object())
        return bad("`against` is {\"files\": {\"name.ethos\": \"text\", ...}}", path);
      std::vector<std::pair<std::string, std::string>> files;
      CheckOptions check = options_.check;
      for (auto a = v.begin(); a != v.end(); ++a) {
        std::string apath = path + "." + a.key();
        if (a.key() == "files") {
          if (!a.value().is_object() || a.value().empty())
            return bad("`files` maps file names to policy text", apath);
          for (auto f = a.value().begin(); f != a.value().end(); ++f) {
            if (!f.value().is_string())
              return bad("a policy file's text is a string", apath + "." + f.key());
            files.emplace_back(f.key(), f.value().get<std::string>());
          }
        } else if (a.key() == "params") {
          if (!a.value().is_object())
            return bad("`params` maps `module.name` to a value's text", apath);
          for (auto pr = a.value().begin(); pr != a.value().end(); ++pr) {
            if (!pr.value().is_string())
              return bad("a param value is its literal text, e.g. \"14\"", apath + "." + pr.key());
            check.params[pr.key()] = pr.value().get<std::string>();
          }
        } else {
          return bad("unknown field `" + a.key() + "`; expected files or params", apath);
        }
      }
      if (files.empty()) return bad("`against` needs `files`", path);
      Diagnostics diags;
      Bundle b = load_bundle_texts(std::move(files), diags, check);
      diags.sort();
      if (!b.policy) {
        std::string body_out = error_json(
            ErrorCode::kPolicyErrors,
            std::to_string(diags.error_count()) + " error(s) in the candidate policy", path);
        body_out.pop_back();
        body_out += R"(,"diagnostics":)" + diagnostics_json(b.sources, diags);
        body_out += R"(,"rendered":)";
        append_json_string(body_out, render_all(b.sources, diags));
        body_out += '}';
        return Reply{422, std::move(body_out), ErrorCode::kPolicyErrors};
      }
      candidate = std::move(b);
    } else {
      return bad(
          "unknown field `" + key +
              "`; expected against, bundle, decision_id, from, to, outcome, rule, request_id, "
              "limit or changes_limit",
          path);
    }
  }
  if (candidate) ro.against = &*candidate;
  ro.progress = progress;
  ReplayReport rep;
  try {
    rep = ethos::replay(*log_, ro);
  } catch (const std::exception& e) {
    return error_reply(ErrorCode::kInternal, std::string("cannot replay: ") + e.what());
  }
  return Reply{200, replay_report_json(rep, changes_limit), ErrorCode::kNone};
}

Reply Service::verify(const Progress& progress) const {
  if (!log_) return require_log();
  VerifyReport v;
  size_t checkpoints = 0;
  try {
    v = log_->verify(progress);
    // Then the stored checkpoints (decision-log.md, "Checkpoints"): the one
    // at the lowest row that the log no longer holds. Their signatures are
    // checked when this service holds the key that made them.
    const auto& signer = options_.log.checkpoints.key;
    std::optional<VerifyingKey> key;
    if (signer) key.emplace(signer->verifying_key());
    std::optional<ChainBreak> first;
    for (const auto& c : log_->checkpoints()) {
      ++checkpoints;
      bool by_us = key && key->id() == c.key_id;
      auto b = log_->check(c, by_us ? &*key : nullptr, "the log's checkpoints table");
      if (b && (!first || b->seq < first->seq)) first = std::move(b);
    }
    if (!v.first_break) v.first_break = std::move(first);
  } catch (const std::exception& e) {
    return error_reply(ErrorCode::kInternal, std::string("cannot read the log: ") + e.what());
  }
  json doc;
  doc["ok"] = v.ok();
  doc["decisions"] = v.decisions;
  doc["bundles"] = v.bundles;
  doc["head"] = v.head;
  doc["checkpoints_checked"] = checkpoints;
  doc["chains"] = json::array();  // one per node in a PostgreSQL log
  for (const auto& c : v.chains)
    doc["chains"].push_back({{"chain", c.chain}, {"decisions", c.decisions}, {"head", c.head}});
  if (v.first_break) {
    const ChainBreak& b = *v.first_break;
    doc["first_break"] = {{"kind", chain_break_name(b.kind)},
                          {"seq", b.seq},
                          {"decision_id", b.decision_id},
                          {"message", b.message}};
  } else {
    doc["first_break"] = nullptr;
  }
  return Reply{200, doc.dump(), ErrorCode::kNone};
}

Reply Service::log_head() const {
  if (!log_) return require_log();
  json doc;
  try {
    const auto& signer = options_.log.checkpoints.key;
    std::optional<VerifyingKey> key;
    if (signer) key.emplace(signer->verifying_key());
    auto latest = log_->latest_checkpoints();
    auto checkpoint_json_of = [](const Checkpoint& c) { return json::parse(checkpoint_json(c)); };
    doc["chains"] = json::array();
    for (const auto& tip : log_->tips()) {
      json chain = {{"chain", tip.chain}, {"seq", tip.seq}, {"head", tip.hash}};
      chain["checkpoint"] = nullptr;
      for (const auto& c : latest) {
        if (c.chain != tip.chain) continue;
        json cp = checkpoint_json_of(c);
        // The signature is checked when this service holds the key that made it.
        bool by_us = key && key->id() == c.key_id;
        auto brk = log_->check(c, by_us ? &*key : nullptr, "the log's checkpoints table");
        cp["signature_check"] = !by_us ? "not checked"
                                : brk && brk->kind == ChainBreak::Kind::kCheckpointInvalid
                                    ? "invalid"
                                    : "verified";
        cp["matches"] = !brk;
        cp["problem"] = brk ? json(brk->message) : json(nullptr);
        cp["rows_since"] = tip.seq >= c.seq ? tip.seq - c.seq : 0;
        chain["checkpoint"] = std::move(cp);
      }
      doc["chains"].push_back(std::move(chain));
    }
    // The newest checkpoint of all, and the head of its chain.
    doc["checkpoint"] = nullptr;
    const json* first = doc["chains"].empty() ? nullptr : &doc["chains"][0];
    const json* newest = first;
    for (const auto& c : doc["chains"])
      if (!c["checkpoint"].is_null() && (newest == nullptr || newest->at("checkpoint").is_null() ||
                                         c["checkpoint"]["time"].get<std::string>() >=
                                             newest->at("checkpoint")["time"].get<std::string>()))
        newest = &c;
    doc["seq"] = newest ? newest->at("seq") : json(0);
    doc["head"] = newest ? newest->at("head") : json(std::string(kGenesisHash));
    if (newest) doc["checkpoint"] = newest->at("checkpoint");
    doc["checkpointing"] = signer != nullptr;
    doc["damage"] = log_->damage() ? json(*log_->damage()) : json(nullptr);
  } catch (const std::exception& e) {
    return error_reply(ErrorCode::kInternal, std::string("cannot read the log: ") + e.what());
  }
  return Reply{200, doc.dump(), ErrorCode::kNone};
}

Reply Service::ready() const {
  if (draining_.load(std::memory_order_relaxed))
    return error_reply(ErrorCode::kShuttingDown, "the service is shutting down");
  if (log_ && log_->damage())
    return error_reply(
        ErrorCode::kLogUnavailable,
        "the decision log is damaged and decisions are not recorded: " + *log_->damage());
  int64_t failed = log_failed_at_ms_.load(std::memory_order_relaxed);
  if (log_ && failed != 0 && steady_ms() - failed < kNotReadyAfterLogFailureMs)
    return error_reply(ErrorCode::kLogUnavailable,
                       "a decision could not be recorded in the last " +
                           std::to_string(kNotReadyAfterLogFailureMs / 1000) + " s");
  std::string out = R"({"status":"ready","bundle":")" + active()->bundle.hash + R"(","recording":)";
  out += log_ ? "true}" : "false}";
  return Reply{200, std::move(out), ErrorCode::kNone};
}

void Service::drain() {
  draining_.store(true, std::memory_order_relaxed);
  if (!log_) return;
  try {
    log_->flush();
  } catch (const std::exception&) {
    // Every decision is waited for by the decide() call that made it, so a
    // failed commit was already answered with 503 (and counted). Only a
    // failure that no caller saw is an error here.
    if (log_failed_at_ms_.load(std::memory_order_relaxed) == 0) throw;
  }
}

std::string Service::metrics_text() const {
  std::string out;
  out.reserve(8192);
  metrics_.render(out);
  auto sb = active();
  out += "# HELP ethos_policy_info The active policy bundle.\n# TYPE ethos_policy_info gauge\n";
  out += "ethos_policy_info{bundle=\"" + sb->bundle.hash + "\"} 1\n";
  out += "# HELP ethos_policy_generation Bundles loaded since start (1 = the first).\n";
  out += "# TYPE ethos_policy_generation gauge\n";
  out += "ethos_policy_generation " + std::to_string(sb->generation) + "\n";
  if (log_) {
    auto st = log_->stats();
    out += "# HELP ethos_log_committed_total Decisions committed to the log by this process.\n";
    out += "# TYPE ethos_log_committed_total counter\n";
    out += "ethos_log_committed_total " + std::to_string(st.committed) + "\n";
    out += "# HELP ethos_log_transactions_total Group commits (transactions) of the log writer.\n";
    out += "# TYPE ethos_log_transactions_total counter\n";
    out += "ethos_log_transactions_total " + std::to_string(st.transactions) + "\n";
  }
  out +=
      "# HELP ethos_ready 1 when the service is ready for decisions.\n# TYPE ethos_ready gauge\n";
  out += std::string("ethos_ready ") + (ready().status == 200 ? "1" : "0") + "\n";
  return out;
}

}  // namespace ethos
