#include <ethos/service/console_api.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include <ethos/base/text.hpp>
#include <ethos/base/time.hpp>
#include <ethos/check/policy_graph.hpp>
#include <ethos/eval/remedies.hpp>
#include <ethos/graph/graphviz.hpp>

namespace ethos {

namespace {

using json = nlohmann::json;

// The JSON dump that never throws on bytes that are not UTF-8 (policy text may hold them).
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Reply malformed(const json::exception& e) {
  std::string what = e.what();
  auto pos = what.find("parse error");
  return error_reply(ErrorCode::kMalformedJson,
                     "malformed JSON: " + (pos == std::string::npos ? what : what.substr(pos)),
                     "$");
}

json schema_json(const Schema& schema) {
  json attrs = json::array();
  for (const auto& a : schema.attributes) {
    json j = {{"path", a.path},
              {"type", type_name(a.type, schema)},
              {"kind", a.type.kind == ValueType::kRecord ? "record" : "value"},
              {"optional", a.may_be_absent},
              {"fixed", a.fixed}};
    // An enum, or a set of enum values: the values a form may offer.
    bool enum_values = a.type.kind == ValueType::kEnum ||
                       (a.type.kind == ValueType::kSet && a.type.elem == ValueType::kEnum);
    if (enum_values && a.type.enum_id < schema.enums.size())
      j["values"] = schema.enums[a.type.enum_id];
    attrs.push_back(std::move(j));
  }
  return attrs;
}

// Example requests shipped beside the policy: <dir>/examples/*.json.
json examples_json(const std::vector<std::string>& roots) {
  namespace fs = std::filesystem;
  json out = json::array();
  constexpr size_t kMaxExamples = 64;
  constexpr std::uintmax_t kMaxSize = 64 * 1024;
  for (const auto& root : roots) {
    std::error_code ec;
    fs::path dir = fs::path(root) / "examples";
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".json" && e.is_regular_file(ec) && e.file_size(ec) <= kMaxSize)
        files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      if (out.size() >= kMaxExamples) break;
      std::ifstream in(f, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      json request = json::parse(ss.str(), nullptr, false);
      if (request.is_discarded() || !request.is_object()) continue;
      out.push_back({{"name", f.filename().string()}, {"request", std::move(request)}});
    }
  }
  return out;
}

}  // namespace

ConsoleApi::ConsoleApi(Service& service) : service_(service) {}
ConsoleApi::~ConsoleApi() = default;

Reply ConsoleApi::bundle(std::string_view hash) const {
  auto active = service_.active();
  std::optional<std::string> text;
  if (active->bundle.hash == hash) {
    text = active->bundle.canonical_text;
  } else if (service_.recording()) {
    try {
      text = service_.log()->bundle_text(hash);
    } catch (const std::exception& e) {
      return error_reply(ErrorCode::kInternal, std::string("cannot read the log: ") + e.what());
    }
  }
  if (!text)
    return error_reply(ErrorCode::kNotFound,
                       "no bundle `" + std::string(hash) + "` is active or in the log", "hash");
  json doc = {{"hash", std::string(hash)}, {"text", *text}};
  return Reply{200, dump(doc), ErrorCode::kNone};
}

Reply ConsoleApi::playground_start() const {
  auto active = service_.active();
  const Bundle& b = active->bundle;
  json files = json::array();
  for (const auto& f : b.sources.files)
    files.push_back({{"name", f.path()}, {"text", f.text()}});  // relative to the policy directory
  json doc = {{"bundle", b.hash},
              {"files", std::move(files)},
              {"schema", schema_json(b.policy->schema)},
              {"examples", examples_json(service_.options().policy_paths)}};
  return Reply{200, dump(doc), ErrorCode::kNone};
}

Reply ConsoleApi::playground(std::string_view body) const {
  json req;
  try {
    req = json::parse(body);
  } catch (const json::exception& e) {
    return malformed(e);
  }
  auto bad = [](const std::string& message, const std::string& path) {
    return error_reply(ErrorCode::kInvalidRequest, message, path);
  };
  if (!req.is_object()) return bad("a playground request is a JSON object", "$");
  std::vector<std::pair<std::string, std::string>> files;
  std::optional<std::string> request;
  bool remedies = false;
  for (auto it = req.begin(); it != req.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    if (key == "files") {
      if (!v.is_object() || v.empty())
        return bad("`files` maps file names to policy text", "$.files");
      for (auto f = v.begin(); f != v.end(); ++f) {
        if (!f.value().is_string())
          return bad("a policy file's text is a string", "$.files." + f.key());
        files.emplace_back(f.key(), f.value().get<std::string>());
      }
    } else if (key == "request") {
      if (v.is_string())
        request = v.get<std::string>();
      else if (v.is_object())
        request = v.dump();
      else if (!v.is_null())
        return bad("`request` is a request object, or its JSON text", "$.request");
    } else if (key == "remedies") {
      if (!v.is_boolean()) return bad("`remedies` is true or false", "$.remedies");
      remedies = v.get<bool>();
    } else {
      return bad("unknown field `" + key + "`; expected files, request or remedies", "$." + key);
    }
  }
  if (files.empty()) return bad("`files` is required", "$.files");
  Diagnostics diags;
  Bundle b = load_bundle_texts(std::move(files), diags, service_.options().check);
  diags.sort();
  std::string out = R"({"ok":)";
  out += b.policy ? "true" : "false";
  out += R"(,"errors":)" + std::to_string(diags.error_count());
  out += R"(,"warnings":)" + std::to_string(diags.warning_count());
  out += R"(,"diagnostics":)" + diagnostics_json(b.sources, diags);
  out += R"(,"rendered":)";
  append_json_string(out, diags.items().empty() ? std::string() : render_all(b.sources, diags));
  out += R"(,"bundle":)";
  if (b.policy)
    append_json_string(out, b.hash);
  else
    out += "null";
  out += R"(,"bind_error":)";
  std::string decision = "null";
  if (b.policy && request) {
    RequestBinder binder(*b.policy);
    BoundRequest bound;
    BindError err;
    if (!binder.bind(*request, bound, err)) {
      json e = {{"path", err.path}, {"message", err.message}};
      if (!err.invariant.empty()) e["invariant"] = err.invariant;
      out += dump(e);
    } else {
      out += "null";
      Evaluator evaluator(b.policy);
      Decision d;
      evaluator.evaluate(bound, d);
      DecisionFormat fmt;
      fmt.bundle_hash = b.hash;
      fmt.trace_mode = TraceMode::kFull;
      decision = decision_json(*b.policy, d, fmt);
      if (remedies) {
        RemedySearch found = find_remedies(b.policy, *request, d);
        decision.pop_back();
        decision += R"(,"remedies":)";
        decision += remedies_json(*b.policy, found);
        decision += R"(,"remedies_text":)";
        append_json_string(decision, remedies_text(*b.policy, found));
        if (found.cut_short) decision += R"(,"remedies_cut_short":true)";
        decision += '}';
      }
    }
  } else {
    out += "null";
  }
  out += R"(,"decision":)" + decision + '}';
  return Reply{200, std::move(out), ErrorCode::kNone};
}

Reply ConsoleApi::graph(const QueryParams& query) const {
  std::string module;
  for (const auto& [key, value] : query) {
    if (key == "module")
      module = value;
    else
      return error_reply(ErrorCode::kBadQuery,
                         "unknown query parameter `" + key + "`; expected module", "query." + key);
  }
  auto active = service_.active();
  std::string key = active->bundle.hash + "\n" + module;
  {
    std::lock_guard lk(graph_mu_);
    auto it = graph_cache_.find(key);
    if (it != graph_cache_.end()) return Reply{200, it->second, ErrorCode::kNone};
  }
  PolicyDotOptions po;
  po.module = module;
  po.title = module.empty() ? "all modules" : "module " + module;
  po.rule_url = "#/policy/rule/";
  auto dot = policy_dot(*active->bundle.policy, po);
  if (!dot)
    return error_reply(ErrorCode::kNotFound, "no module `" + module + "` in the active policy",
                       "query.module");
  std::string error;
  auto svg = graphviz_svg(*dot, error);
  if (!svg) return error_reply(ErrorCode::kInternal, error);
  std::lock_guard lk(graph_mu_);
  if (graph_cache_.size() > 64) graph_cache_.clear();
  graph_cache_[key] = *svg;
  return Reply{200, std::move(*svg), ErrorCode::kNone};
}

Reply ConsoleApi::statistics(const QueryParams& query) const {
  if (!service_.recording())
    return error_reply(ErrorCode::kNotFound, "this service keeps no decision log");
  LogFilter f;
  int64_t bucket = 86400;
  size_t top = 10;
  for (const auto& [key, value] : query) {
    std::string path = "query." + key;
    std::optional<Reply> bad;
    if (read_log_filter_param(key, value, f, bad)) {
      if (bad) return std::move(*bad);
    } else if (key == "bucket") {
      if (value == "hour")
        bucket = 3600;
      else if (value == "day")
        bucket = 86400;
      else if (value == "week")
        bucket = 7 * 86400;
      else
        return error_reply(ErrorCode::kBadQuery,
                           "`bucket` is hour, day or week, got `" + value + "`", path);
    } else if (key == "top") {
      int64_t n = 0;
      if (!parse_int(value, n) || n < 1 || n > 100)
        return error_reply(ErrorCode::kBadQuery,
                           "`top` is an integer from 1 to 100, got `" + value + "`", path);
      top = static_cast<size_t>(n);
    } else {
      return error_reply(ErrorCode::kBadQuery,
                         "unknown query parameter `" + key +
                             "`; expected from, to, outcome, rule, module, missing, request_id, "
                             "bucket or top",
                         path);
    }
  }
  LogSummary s;
  try {
    s = service_.log()->summarize(f, bucket, top);
  } catch (const std::exception& e) {
    return error_reply(ErrorCode::kInternal, std::string("cannot read the log: ") + e.what());
  }
  json buckets = json::array();
  for (const auto& b : s.buckets)
    buckets.push_back({{"start", format_timestamp(b.start)},
                       {"t", b.start},
                       {"permit", b.permit},
                       {"deny", b.deny},
                       {"escalate", b.escalate}});
  auto pairs = [](const std::vector<std::pair<std::string, uint64_t>>& v, const char* name) {
    json a = json::array();
    for (const auto& [k, n] : v) a.push_back({{name, k}, {"decisions", n}});
    return a;
  };
  json bundles = json::array();
  for (const auto& [hash, first] : s.bundles)
    bundles.push_back({{"bundle", hash}, {"first_decision", format_timestamp(first)}});
  json doc = {{"bucket_seconds", bucket},
              {"totals", {{"permit", s.permit}, {"deny", s.deny}, {"escalate", s.escalate}}},
              {"buckets", std::move(buckets)},
              {"top_rules", pairs(s.top_rules, "rule")},
              {"top_missing", pairs(s.top_missing, "fact")},
              {"bundles", std::move(bundles)}};
  return Reply{200, dump(doc), ErrorCode::kNone};
}

Reply ConsoleApi::start_verify() {
  if (!service_.recording())
    return error_reply(ErrorCode::kNotFound, "this service keeps no decision log");
  Service& service = service_;
  return jobs_.start("verify", [&service](const ConsoleJobs::Progress& progress) {
    return service.verify(progress);
  });
}

Reply ConsoleApi::start_impact(std::string body) {
  if (!service_.recording())
    return error_reply(ErrorCode::kNotFound, "this service keeps no decision log");
  // Malformed bodies are refused at once rather than by a job that fails.
  std::string_view trimmed = body;
  while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\n'))
    trimmed.remove_prefix(1);
  if (!trimmed.empty() && !json::accept(body))
    return error_reply(ErrorCode::kMalformedJson, "malformed JSON: the body is not JSON", "$");
  Service& service = service_;
  return jobs_.start("impact",
                     [&service, body = std::move(body)](const ConsoleJobs::Progress& progress) {
                       return service.replay(body, progress);
                     });
}

}  // namespace ethos
