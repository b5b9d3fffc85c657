#include <ethos/log/log_entry.hpp>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include <ethos/base/hash.hpp>
#include <ethos/log/privacy.hpp>
#include <ethos/log/stored_request.hpp>

namespace ethos {

namespace {

void rule_list(const Policy& p, const std::vector<uint32_t>& rules, std::string& out) {
  out.clear();
  out += '[';
  for (size_t i = 0; i < rules.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, p.rules[rules[i]].id);
  }
  out += ']';
}

RuleStatus status_from_char(char c) {
  switch (c) {
    case 'F':
      return RuleStatus::kFired;
    case '.':
      return RuleStatus::kNotFired;
    case '?':
      return RuleStatus::kUnknown;
    case 'o':
      return RuleStatus::kOverridden;
    case '-':
      return RuleStatus::kNotApplicable;
    default:
      throw std::runtime_error(std::string("unknown trace status `") + c + "`");
  }
}

uint32_t rule_index(const Policy& p, const std::string& id) {
  auto it = p.rule_by_id.find(id);
  if (it == p.rule_by_id.end()) throw std::runtime_error("the bundle has no rule `" + id + "`");
  return it->second;
}

}  // namespace

void append_hashed_field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ' ';
  out += std::to_string(value.size());
  out += '\n';
  out += value;
  out += '\n';
}

char trace_char(RuleStatus s) {
  switch (s) {
    case RuleStatus::kFired:
      return 'F';
    case RuleStatus::kNotFired:
      return '.';
    case RuleStatus::kUnknown:
      return '?';
    case RuleStatus::kOverridden:
      return 'o';
    case RuleStatus::kNotApplicable:
      return '-';
  }
  return '?';
}

void encode_decision(const Policy& p, const Decision& d, EncodedDecision& out) {
  out.outcome = outcome_name(d.outcome);
  out.default_module.clear();
  if (d.reasons.empty() && d.default_module >= 0)
    out.default_module = p.modules[static_cast<size_t>(d.default_module)].name;
  rule_list(p, d.reasons, out.reasons);
  out.obligations.clear();
  out.obligations += '[';
  for (size_t i = 0; i < d.obligations.size(); ++i) {
    if (i) out.obligations += ',';
    out.obligations += '[';
    append_json_string(out.obligations, p.obligations[d.obligations[i].first].name);
    out.obligations += ',';
    append_json_string(out.obligations, p.rules[d.obligations[i].second].id);
    out.obligations += ']';
  }
  out.obligations += ']';
  rule_list(p, d.advice, out.advice);
  out.overridden.clear();
  out.overridden += '[';
  for (size_t i = 0; i < d.overridden.size(); ++i) {
    if (i) out.overridden += ',';
    out.overridden += '[';
    append_json_string(out.overridden, p.rules[d.overridden[i].first].id);
    out.overridden += ',';
    append_json_string(out.overridden, p.rules[d.overridden[i].second].id);
    out.overridden += ']';
  }
  out.overridden += ']';
  out.missing_facts.clear();
  out.missing_facts += '[';
  for (size_t i = 0; i < d.missing.size(); ++i) {
    if (i) out.missing_facts += ',';
    append_json_string(out.missing_facts, p.schema.attributes[d.missing[i]].path);
  }
  out.missing_facts += ']';
  out.trace.resize(d.trace.size());
  for (size_t i = 0; i < d.trace.size(); ++i) out.trace[i] = trace_char(d.trace[i]);
}

void canonical_row(const LogEntry& e, std::string& out) {
  out.clear();
  out.reserve(256 + e.request.size() + e.decision.trace.size() + e.decision.reasons.size() +
              e.decision.obligations.size());
  out += "ethos-decision 1\n";
  append_hashed_field(out, "id", e.id);
  append_hashed_field(out, "request_id", e.request_id);
  append_hashed_field(out, "time", std::to_string(e.time));
  append_hashed_field(out, "recorded_at", std::to_string(e.recorded_at));
  append_hashed_field(out, "outcome", e.decision.outcome);
  append_hashed_field(out, "bundle", e.bundle);
  append_hashed_field(out, "default", e.decision.default_module);
  append_hashed_field(out, "request", e.request);
  append_hashed_field(out, "reasons", e.decision.reasons);
  append_hashed_field(out, "obligations", e.decision.obligations);
  append_hashed_field(out, "advice", e.decision.advice);
  append_hashed_field(out, "overridden", e.decision.overridden);
  append_hashed_field(out, "missing_facts", e.decision.missing_facts);
  append_hashed_field(out, "trace", e.decision.trace);
}

std::string content_hash(const LogEntry& e) {
  thread_local std::string buf;
  thread_local Sha256 sha;
  canonical_row(e, buf);
  std::string out;
  sha.hex(buf, out);
  return out;
}

std::string chain_hash(std::string_view prev_hash, std::string_view content) {
  thread_local std::string buf;
  thread_local Sha256 sha;
  buf.clear();
  buf += "ethos-chain 1\n";
  buf += prev_hash;
  buf += '\n';
  buf += content;
  buf += '\n';
  std::string out;
  sha.hex(buf, out);
  return out;
}

namespace {

// Where the decision was made, read back from the stored request (the
// jurisdiction facts are stored as they were given), so that a decision
// decoded from the log cites the declared sources in force there, as the
// decision did when it was made. A request that cannot be read gives no
// place: its decision then lists only the sources that apply everywhere.
Place place_of(const Policy& p, const LogEntry& e) {
  Place place;
  if (p.sources.empty() || e.request.empty()) return place;
  nlohmann::json r;
  try {
    r = nlohmann::json::parse(expand_stored_request(p.schema, e.request));
  } catch (const std::exception&) {
    return place;
  }
  auto at = [&](int32_t slot) -> const nlohmann::json* {
    if (slot < 0) return nullptr;
    const std::string& path = p.schema.attributes[static_cast<size_t>(slot)].path;
    const nlohmann::json* j = &r;
    for (size_t start = 0; start <= path.size();) {
      size_t dot = path.find('.', start);
      if (dot == std::string::npos) dot = path.size();
      if (!j->is_object()) return nullptr;
      auto it = j->find(path.substr(start, dot - start));
      if (it == j->end()) return nullptr;
      j = &*it;
      start = dot + 1;
    }
    return j;
  };
  if (const auto* c = at(p.country_slot); c && c->is_string())
    place.country = c->get<std::string>();
  if (const auto* s = at(p.state_slot); s && s->is_string()) place.state = s->get<std::string>();
  if (const auto* eu = at(p.eu_slot); eu && (eu->is_boolean() || eu->is_number()))
    place.eu = eu->is_boolean() ? eu->get<bool>() : eu->get<int64_t>() != 0;
  return place;
}

Decision decode_columns(const Policy& p, const LogEntry& e) {
  Decision d;
  const EncodedDecision& x = e.decision;
  d.request_id = e.request_id;
  d.time = e.time;
  d.place = place_of(p, e);
  if (x.outcome == "permit")
    d.outcome = Outcome::kPermit;
  else if (x.outcome == "escalate")
    d.outcome = Outcome::kEscalate;
  else if (x.outcome == "deny")
    d.outcome = Outcome::kDeny;
  else
    throw std::runtime_error("unknown outcome `" + x.outcome + "`");
  if (x.trace.size() != p.rules.size())
    throw std::runtime_error("the trace has " + std::to_string(x.trace.size()) +
                             " rules, the bundle " + std::to_string(p.rules.size()));
  for (char c : x.trace) d.trace.push_back(status_from_char(c));
  for (const auto& id : nlohmann::json::parse(x.reasons)) d.reasons.push_back(rule_index(p, id));
  for (const auto& id : nlohmann::json::parse(x.advice)) d.advice.push_back(rule_index(p, id));
  for (const auto& pair : nlohmann::json::parse(x.obligations)) {
    auto it = p.obligation_by_name.find(pair.at(0).get<std::string>());
    if (it == p.obligation_by_name.end())
      throw std::runtime_error("the bundle has no obligation `" + pair.at(0).get<std::string>() +
                               "`");
    d.obligations.emplace_back(it->second, rule_index(p, pair.at(1)));
  }
  for (const auto& pair : nlohmann::json::parse(x.overridden))
    d.overridden.emplace_back(rule_index(p, pair.at(0)), rule_index(p, pair.at(1)));
  for (const auto& path : nlohmann::json::parse(x.missing_facts)) {
    auto it = p.schema.by_path.find(path.get<std::string>());
    if (it == p.schema.by_path.end())
      throw std::runtime_error("the schema has no attribute `" + path.get<std::string>() + "`");
    d.missing.push_back(it->second);
  }
  d.default_module = -1;
  for (size_t m = 0; m < p.modules.size(); ++m)
    if (!x.default_module.empty() && p.modules[m].name == x.default_module)
      d.default_module = static_cast<int32_t>(m);
  return d;
}

}  // namespace

Decision decode_decision(const Policy& p, const LogEntry& e) {
  try {
    return decode_columns(p, e);
  } catch (const nlohmann::json::exception& ex) {
    // A column that is not the JSON the log writes (found by the decision_log fuzzer).
    throw std::runtime_error("decision `" + e.id + "`: a stored column is not valid: " + ex.what());
  }
}

}  // namespace ethos
