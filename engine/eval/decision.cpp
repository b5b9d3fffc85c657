#include <ethos/eval/decision.hpp>

#include <algorithm>

#include <nlohmann/json.hpp>

#include <ethos/base/time.hpp>
#include <ethos/check/policy.hpp>

namespace ethos {

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kPermit:
      return "permit";
    case Outcome::kDeny:
      return "deny";
    case Outcome::kEscalate:
      return "escalate";
  }
  return "deny";
}

const char* rule_status_name(RuleStatus s) {
  switch (s) {
    case RuleStatus::kNotApplicable:
      return "not_applicable";
    case RuleStatus::kNotFired:
      return "not_fired";
    case RuleStatus::kFired:
      return "fired";
    case RuleStatus::kUnknown:
      return "unknown";
    case RuleStatus::kOverridden:
      return "overridden";
  }
  return "unknown";
}

const char* trace_mode_name(TraceMode m) {
  switch (m) {
    case TraceMode::kFull:
      return "full";
    case TraceMode::kCompact:
      return "compact";
    case TraceMode::kNone:
      return "none";
  }
  return "compact";
}

bool parse_trace_mode(std::string_view text, TraceMode& out) {
  for (TraceMode m : {TraceMode::kFull, TraceMode::kCompact, TraceMode::kNone})
    if (text == trace_mode_name(m)) {
      out = m;
      return true;
    }
  return false;
}

TraceSummarizer::TraceSummarizer(const Policy& policy) : policy_(policy) {
  for (uint8_t st : policy.index.excluded_status)
    excluded_not_applicable_ += st == static_cast<uint8_t>(RuleStatus::kNotApplicable);
}

void TraceSummarizer::summarize(const Decision& d, CompactTrace& out) const {
  out.rules.clear();
  out.not_fired = out.not_applicable = 0;
  auto listed = [](RuleStatus st) {
    return st == RuleStatus::kFired || st == RuleStatus::kUnknown || st == RuleStatus::kOverridden;
  };
  const auto& excluded = policy_.index.excluded_status;
  if (d.trace_policy != &policy_ || excluded.size() != d.trace.size()) {
    for (size_t i = 0; i < d.trace.size(); ++i) {
      if (listed(d.trace[i])) out.rules.push_back(static_cast<uint32_t>(i));
      out.not_applicable += d.trace[i] == RuleStatus::kNotApplicable;
    }
    out.not_fired = d.trace.size() - out.rules.size() - out.not_applicable;
    return;
  }
  // INVARIANT: a rule the evaluator did not evaluate has its excluded status
  // (evaluator.cpp), never fired, unknown or overridden; `evaluated` names
  // each rule once.
  size_t not_applicable = excluded_not_applicable_;
  for (uint32_t i : d.evaluated) {
    const RuleStatus st = d.trace[i];
    if (listed(st)) out.rules.push_back(i);
    not_applicable -= excluded[i] == static_cast<uint8_t>(RuleStatus::kNotApplicable);
    not_applicable += st == RuleStatus::kNotApplicable;
  }
  // The evaluator lists them in rank order; the trace is in declaration order.
  std::sort(out.rules.begin(), out.rules.end());
  out.not_applicable = not_applicable;
  out.not_fired = d.trace.size() - out.rules.size() - not_applicable;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

namespace {
constexpr int kStatuses = 5;  // RuleStatus values
static_assert(static_cast<int>(RuleStatus::kOverridden) == kStatuses - 1);

// rule_status_name without a strlen on the decision path.
std::string_view status_text(RuleStatus s) {
  static const std::string_view names[kStatuses] = {"not_applicable", "not_fired", "fired",
                                                    "unknown", "overridden"};
  return names[static_cast<size_t>(s)];
}

std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}
}  // namespace

DecisionWriter::DecisionWriter(const Policy& p) : policy_(p), summarizer_(p) {
  for (const Rule& r : p.rules) {
    std::string id = json_string(r.id);
    rule_id_.push_back(id);
    for (int st = 0; st < kStatuses; ++st)
      trace_entry_.push_back("," + id + ":\"" + rule_status_name(static_cast<RuleStatus>(st)) +
                             "\"");
    reason_head_.push_back("{\"rule\":" + id + ",\"effect\":\"" + effect_name(r.effect) +
                           "\",\"status\":\"");
    std::string because = "\",\"because\":" + json_string(r.because);
    std::string rest;
    if (!r.concern.empty()) rest += ",\"concern\":" + json_string(r.concern);
    if (!r.severity.empty()) rest += ",\"severity\":" + json_string(r.severity);
    rest += ",\"confidence\":" + json_string(r.confidence) + "}";
    bool declared = false;
    for (const auto& c : r.citations) declared = declared || c.source >= 0;
    if (declared) {
      // Cites only what is in force where and when: written per decision.
      reason_tail_.push_back(std::move(because));
      reason_rest_.push_back(std::move(rest));
      continue;
    }
    std::string tail = because + ",\"cite\":[";
    for (size_t k = 0; k < r.cites.size(); ++k) tail += (k ? "," : "") + json_string(r.cites[k]);
    tail += "]";
    reason_tail_.push_back(tail + rest);
    reason_rest_.emplace_back();
  }
  for (const Obligation& o : p.obligations)
    obligation_head_.push_back("{\"id\":" + json_string(o.name) +
                               ",\"text\":" + json_string(o.text) + ",\"rule\":");
  for (const Attribute& a : p.schema.attributes) attribute_.push_back(json_string(a.path));
  for (const Module& m : p.modules)
    module_default_.push_back(json_string(m.name + ": default permit"));
}

void DecisionWriter::write_citations(const Rule& r, const Decision& d, std::string& out) const {
  const auto cites = policy_.citations_in_force(r, d.time, d.place);
  out += ",\"cite\":[";
  for (size_t k = 0; k < cites.size(); ++k) {
    if (k) out += ',';
    append_json_string(out, cites[k]->text);
  }
  out += "],\"sources\":[";
  bool first = true;
  for (const Citation* c : cites) {
    if (c->source < 0) continue;
    const Source& s = policy_.sources[static_cast<size_t>(c->source)];
    out += first ? "{\"id\":" : ",{\"id\":";
    first = false;
    append_json_string(out, s.id);
    out += ",\"section\":";
    append_json_string(out, c->section);
    out += ",\"jurisdiction\":";
    append_json_string(out, s.jurisdiction);
    if (!s.from_text.empty()) {
      out += ",\"from\":";
      append_json_string(out, s.from_text);
    }
    if (!s.until_text.empty()) {
      out += ",\"until\":";
      append_json_string(out, s.until_text);
    }
    out += ",\"confidence\":";
    append_json_string(out, s.confidence);
    out += '}';
  }
  out += ']';
}

void DecisionWriter::write_compact_trace(const Decision& d, std::string& out) const {
  // Per thread, so that a shared writer stays immutable and a reused one allocates nothing.
  thread_local CompactTrace trace;
  summarizer_.summarize(d, trace);
  out += ",\"trace\":{";
  for (RuleStatus st : {RuleStatus::kFired, RuleStatus::kUnknown, RuleStatus::kOverridden}) {
    if (st != RuleStatus::kFired) out += "],";
    out += '"';
    out += status_text(st);
    out += "\":[";
    bool first = true;
    for (uint32_t i : trace.rules) {
      if (d.trace[i] != st) continue;
      if (!first) out += ',';
      first = false;
      out += rule_id_[i];
    }
  }
  out += "],\"not_fired\":";
  out += std::to_string(trace.not_fired);
  out += ",\"not_applicable\":";
  out += std::to_string(trace.not_applicable);
  out += '}';
}

std::string DecisionWriter::write(const Decision& d, const DecisionFormat& fmt) const {
  std::string out;
  write(d, fmt, out);
  return out;
}

void DecisionWriter::write(const Decision& d, const DecisionFormat& fmt, std::string& out) const {
  if (fmt.pretty) {
    DecisionFormat compact = fmt;
    compact.pretty = false;
    out += nlohmann::json::parse(write(d, compact)).dump(2);
    return;
  }
  const size_t start = out.size();
  const size_t rules = trace_entry_.size() / kStatuses;
  out.reserve(start + 1024 + (fmt.trace_mode == TraceMode::kFull ? rules * 48 : 0));
  out += '{';
  if (!fmt.decision_id.empty()) {
    out += "\"decision_id\":";
    append_json_string(out, fmt.decision_id);
    out += ',';
  }
  out += "\"request_id\":";
  append_json_string(out, d.request_id);
  out += ",\"time\":\"";
  append_timestamp(out, d.time);
  out += "\",\"outcome\":\"";
  out += outcome_name(d.outcome);
  out += '"';
  if (!fmt.bundle_hash.empty()) {
    out += ",\"bundle\":";
    append_json_string(out, fmt.bundle_hash);
  }
  auto rule_object = [&](uint32_t i) {
    out += reason_head_[i];
    out += status_text(d.trace[i]);
    out += reason_tail_[i];
    if (!reason_rest_[i].empty()) {
      write_citations(policy_.rules[i], d, out);
      out += reason_rest_[i];
    }
  };
  out += ",\"reasons\":[";
  for (size_t k = 0; k < d.reasons.size(); ++k) {
    if (k) out += ',';
    rule_object(d.reasons[k]);
  }
  out += ']';
  if (d.reasons.empty()) {
    out += ",\"default\":";
    if (d.default_module >= 0)
      out += module_default_[static_cast<size_t>(d.default_module)];
    else
      out += "\"no rule permits this request: default deny\"";
  }
  out += ",\"obligations\":[";
  for (size_t k = 0; k < d.obligations.size(); ++k) {
    const auto& [o, r] = d.obligations[k];
    if (k) out += ',';
    out += obligation_head_[o];
    out += rule_id_[r];
    out += ",\"status\":\"";
    out += status_text(d.trace[r]);
    out += "\"}";
  }
  out += "],\"advice\":[";
  for (size_t k = 0; k < d.advice.size(); ++k) {
    if (k) out += ',';
    rule_object(d.advice[k]);
  }
  out += "],\"overridden\":[";
  for (size_t k = 0; k < d.overridden.size(); ++k) {
    if (k) out += ',';
    out += "{\"rule\":";
    out += rule_id_[d.overridden[k].first];
    out += ",\"by\":";
    out += rule_id_[d.overridden[k].second];
    out += '}';
  }
  out += "],\"missing_facts\":[";
  for (size_t k = 0; k < d.missing.size(); ++k) {
    if (k) out += ',';
    out += attribute_[d.missing[k]];
  }
  out += ']';
  auto trace_entry = [&](size_t i, bool first) {
    const std::string& e = trace_entry_[i * kStatuses + static_cast<size_t>(d.trace[i])];
    out.append(e.data() + (first ? 1 : 0), e.size() - (first ? 1 : 0));
  };
  if (fmt.trace_mode == TraceMode::kFull) {
    out += ",\"trace\":{";
    for (size_t i = 0; i < rules; ++i) trace_entry(i, i == 0);
    out += '}';
  } else if (fmt.trace_mode == TraceMode::kCompact) {
    write_compact_trace(d, out);
  }
  out += '}';
}

std::string decision_json(const Policy& p, const Decision& d, const DecisionFormat& fmt) {
  return DecisionWriter(p).write(d, fmt);
}

std::string decision_text(const Policy& p, const Decision& d) {
  std::string out;
  std::string outcome = outcome_name(d.outcome);
  for (auto& c : outcome) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  out += outcome + "  " + d.request_id + "  (" + format_timestamp(d.time) + ")\n";
  if (d.reasons.empty()) {
    out += d.default_module >= 0 ? "  no rule decided; module `" +
                                       p.modules[static_cast<size_t>(d.default_module)].name +
                                       "` permits by default\n"
                                 : "  no rule permits this request (default deny)\n";
  } else {
    out += "  because:\n";
  }
  for (uint32_t i : d.reasons) {
    const Rule& r = p.rules[i];
    out += "  - " + r.id + " [" + effect_name(r.effect) +
           (d.trace[i] == RuleStatus::kUnknown ? ", could not be ruled out" : "") + "]\n";
    out += "      " + r.because + "\n";
    out += "      cite: ";
    const auto cites = p.citations_in_force(r, d.time, d.place);
    for (size_t k = 0; k < cites.size(); ++k) out += (k ? "; " : "") + cites[k]->text;
    if (r.confidence != "verified") out += "  (" + r.confidence + " source)";
    out += "\n";
  }
  if (!d.obligations.empty()) {
    out += "  obligations:\n";
    for (const auto& [o, r] : d.obligations)
      out += "  - " + p.obligations[o].text + "  (" + p.obligations[o].name + ", from " +
             p.rules[r].id + ")\n";
  }
  if (!d.advice.empty()) {
    out += "  advice:\n";
    for (uint32_t i : d.advice) {
      out += "  - " + p.rules[i].because + "  (" + p.rules[i].id + "; ";
      const auto cites = p.citations_in_force(p.rules[i], d.time, d.place);
      for (size_t k = 0; k < cites.size(); ++k) out += (k ? "; " : "") + cites[k]->text;
      out += ")\n";
    }
  }
  if (!d.overridden.empty()) {
    out += "  exceptions applied:\n";
    for (const auto& [r, by] : d.overridden)
      out += "  - " + p.rules[r].id + " overridden by " + p.rules[by].id + "\n";
  }
  if (!d.missing.empty()) {
    out += "  missing facts (provide them to decide):";
    for (uint32_t slot : d.missing) out += " " + p.schema.attributes[slot].path;
    out += "\n";
  }
  return out;
}

}  // namespace ethos
