#include "decision.hpp"

#include "check.hpp"

namespace ethos {

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kPermit: return "permit";
    case Outcome::kDeny: return "deny";
    case Outcome::kEscalate: return "escalate";
  }
  return "deny";
}

const char* rule_status_name(RuleStatus s) {
  switch (s) {
    case RuleStatus::kNotApplicable: return "not_applicable";
    case RuleStatus::kNotFired: return "not_fired";
    case RuleStatus::kFired: return "fired";
    case RuleStatus::kUnknown: return "unknown";
    case RuleStatus::kOverridden: return "overridden";
  }
  return "unknown";
}

namespace {

// A small JSON writer: decisions are written on the hot path, so no DOM.
class Json {
 public:
  explicit Json(bool pretty) : pretty_(pretty) {}
  std::string take() { return std::move(out_); }

  void open(char c) {
    value_start();
    out_ += c;
    ++depth_;
    first_ = true;
  }
  void close(char c) {
    --depth_;
    if (!first_) newline();
    out_ += c;
    first_ = false;
  }
  void key(std::string_view k) {
    if (!first_) out_ += ',';
    newline();
    str(k);
    out_ += pretty_ ? ": " : ":";
    after_key_ = true;
  }
  void string(std::string_view s) {
    value_start();
    str(s);
  }
  void number(int64_t n) {
    value_start();
    out_ += std::to_string(n);
  }
  void boolean(bool b) {
    value_start();
    out_ += b ? "true" : "false";
  }
  void strings(const std::vector<std::string>& v) {
    open('[');
    for (const auto& s : v) string(s);
    close(']');
  }

 private:
  void value_start() {
    if (after_key_) {
      after_key_ = false;
      first_ = false;
      return;
    }
    if (depth_ > 0) {
      if (!first_) out_ += ',';
      newline();
    }
    first_ = false;
  }
  void newline() {
    if (!pretty_) return;
    out_ += '\n';
    out_.append(static_cast<size_t>(depth_) * 2, ' ');
  }
  void str(std::string_view s) {
    out_ += '"';
    for (char c : s) {
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\r': out_ += "\\r"; break;
        case '\t': out_ += "\\t"; break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out_ += buf;
          } else {
            out_ += c;
          }
      }
    }
    out_ += '"';
  }

  std::string out_;
  bool pretty_;
  int depth_ = 0;
  bool first_ = true;
  bool after_key_ = false;
};

void rule_object(Json& j, const Policy& p, uint32_t i, RuleStatus st) {
  const Rule& r = p.rules[i];
  j.open('{');
  j.key("rule");
  j.string(r.id);
  j.key("effect");
  j.string(effect_name(r.effect));
  j.key("status");
  j.string(rule_status_name(st));
  j.key("because");
  j.string(r.because);
  j.key("cite");
  j.strings(r.cites);
  if (!r.concern.empty()) {
    j.key("concern");
    j.string(r.concern);
  }
  if (!r.severity.empty()) {
    j.key("severity");
    j.string(r.severity);
  }
  j.key("confidence");
  j.string(r.confidence);
  j.close('}');
}

}  // namespace

std::string decision_json(const Policy& p, const Decision& d, const DecisionFormat& fmt) {
  Json j(fmt.pretty);
  j.open('{');
  if (!fmt.decision_id.empty()) {
    j.key("decision_id");
    j.string(fmt.decision_id);
  }
  j.key("request_id");
  j.string(d.request_id);
  j.key("time");
  j.string(format_timestamp(d.time));
  j.key("outcome");
  j.string(outcome_name(d.outcome));
  if (!fmt.bundle_hash.empty()) {
    j.key("bundle");
    j.string(fmt.bundle_hash);
  }
  j.key("reasons");
  j.open('[');
  for (uint32_t i : d.reasons) rule_object(j, p, i, d.trace[i]);
  j.close(']');
  if (d.reasons.empty()) {
    j.key("default");
    j.string(d.default_module >= 0 ? p.modules[static_cast<size_t>(d.default_module)].name + ": default permit"
                                   : "no rule permits this request: default deny");
  }
  j.key("obligations");
  j.open('[');
  for (const auto& [o, r] : d.obligations) {
    j.open('{');
    j.key("id");
    j.string(p.obligations[o].name);
    j.key("text");
    j.string(p.obligations[o].text);
    j.key("rule");
    j.string(p.rules[r].id);
    j.key("status");
    j.string(rule_status_name(d.trace[r]));
    j.close('}');
  }
  j.close(']');
  j.key("advice");
  j.open('[');
  for (uint32_t i : d.advice) rule_object(j, p, i, d.trace[i]);
  j.close(']');
  j.key("overridden");
  j.open('[');
  for (const auto& [r, by] : d.overridden) {
    j.open('{');
    j.key("rule");
    j.string(p.rules[r].id);
    j.key("by");
    j.string(p.rules[by].id);
    j.close('}');
  }
  j.close(']');
  j.key("missing_facts");
  j.open('[');
  for (uint32_t slot : d.missing) j.string(p.schema.attributes[slot].path);
  j.close(']');
  if (fmt.trace) {
    j.key("trace");
    j.open('{');
    for (uint32_t i = 0; i < p.rules.size(); ++i) {
      j.key(p.rules[i].id);
      j.string(rule_status_name(d.trace[i]));
    }
    j.close('}');
  }
  j.close('}');
  return j.take();
}

std::string decision_text(const Policy& p, const Decision& d) {
  std::string out;
  std::string outcome = outcome_name(d.outcome);
  for (auto& c : outcome) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  out += outcome + "  " + d.request_id + "  (" + format_timestamp(d.time) + ")\n";
  if (d.reasons.empty()) {
    out += d.default_module >= 0
               ? "  no rule decided; module `" + p.modules[static_cast<size_t>(d.default_module)].name + "` permits by default\n"
               : "  no rule permits this request (default deny)\n";
  } else {
    out += "  because:\n";
  }
  for (uint32_t i : d.reasons) {
    const Rule& r = p.rules[i];
    out += "  - " + r.id + " [" + effect_name(r.effect) + (d.trace[i] == RuleStatus::kUnknown ? ", could not be ruled out" : "") + "]\n";
    out += "      " + r.because + "\n";
    out += "      cite: ";
    for (size_t k = 0; k < r.cites.size(); ++k) out += (k ? "; " : "") + r.cites[k];
    if (r.confidence != "verified") out += "  (" + r.confidence + " source)";
    out += "\n";
  }
  if (!d.obligations.empty()) {
    out += "  obligations:\n";
    for (const auto& [o, r] : d.obligations)
      out += "  - " + p.obligations[o].text + "  (" + p.obligations[o].name + ", from " + p.rules[r].id + ")\n";
  }
  if (!d.advice.empty()) {
    out += "  advice:\n";
    for (uint32_t i : d.advice) {
      out += "  - " + p.rules[i].because + "  (" + p.rules[i].id + "; ";
      for (size_t k = 0; k < p.rules[i].cites.size(); ++k) out += (k ? "; " : "") + p.rules[i].cites[k];
      out += ")\n";
    }
  }
  if (!d.overridden.empty()) {
    out += "  exceptions applied:\n";
    for (const auto& [r, by] : d.overridden) out += "  - " + p.rules[r].id + " overridden by " + p.rules[by].id + "\n";
  }
  if (!d.missing.empty()) {
    out += "  missing facts (provide them to decide):";
    for (uint32_t slot : d.missing) out += " " + p.schema.attributes[slot].path;
    out += "\n";
  }
  return out;
}

}  // namespace ethos
