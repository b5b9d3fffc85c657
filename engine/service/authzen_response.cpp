// Rendering an ethos decision as an AuthZEN Decision.
#include <ethos/service/authzen_response.hpp>

#include <nlohmann/json.hpp>

namespace ethos {

namespace {

using nlohmann::json;

std::string json_string(std::string_view s) { return json(std::string(s)).dump(); }

// The fact paths of a rendered decision's "missing_facts" (plain attribute
// paths: no escapes in them).
std::vector<std::string> missing_facts(std::string_view decision) {
  std::vector<std::string> out;
  constexpr std::string_view kKey = R"("missing_facts":[)";
  size_t at = decision.rfind(kKey);
  if (at == std::string_view::npos) return out;
  size_t i = at + kKey.size();
  while (i < decision.size() && decision[i] == '"') {
    size_t end = decision.find('"', i + 1);
    if (end == std::string_view::npos) break;
    out.emplace_back(decision.substr(i + 1, end - i - 1));
    i = end + 1;
    if (i < decision.size() && decision[i] == ',') ++i;
  }
  return out;
}

}  // namespace

void append_authzen_decision(std::string& out, std::string_view decision, Outcome outcome,
                             const AuthzenMapping& m, const AuthzenOrigins& origins,
                             const std::vector<std::string>& ignored, const char* stopped_by) {
  while (!decision.empty() && decision.back() != '}') decision.remove_suffix(1);
  if (!decision.empty()) decision.remove_suffix(1);
  out += outcome == Outcome::kPermit ? R"({"decision":true,"context":)"
                                     : R"({"decision":false,"context":)";
  out += decision;
  out += R"(,"missing_properties":[)";
  bool first = true;
  for (const auto& fact : missing_facts(decision)) {
    if (!first) out += ',';
    first = false;
    std::string src = authzen_source_path(m, fact, origins);
    out += json_string(src.empty() ? fact : src);
  }
  out += R"(],"ignored_properties":[)";
  for (size_t i = 0; i < ignored.size(); ++i) {
    if (i) out += ',';
    out += json_string(ignored[i]);
  }
  out += ']';
  if (outcome == Outcome::kEscalate) {
    std::string whole(decision);
    whole += '}';
    json d = json::parse(whole, nullptr, false);
    json rules = json::array();
    if (!d.is_discarded())
      for (const auto& reason : d.value("reasons", json::array()))
        if (reason.value("effect", "") == "escalate") rules.push_back(reason.value("rule", ""));
    out += R"(,"escalation":{"message":"a person must decide before the AI is used","rules":)";
    out += rules.dump();
    out += '}';
  }
  if (stopped_by) {
    // As the specification's own example marks the evaluation that ended a batch.
    out += R"(,"code":"200","reason":)";
    out += json_string(stopped_by);
  }
  out += "}}";
}

}  // namespace ethos
