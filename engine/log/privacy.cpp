#include <ethos/log/privacy.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <ethos/base/hash.hpp>
#include <ethos/check/policy.hpp>
#include <ethos/eval/decision.hpp>  // append_json_string

namespace ethos {

namespace {

// Public on purpose: `--insecure-dev-key` is for demos and tests, and a log
// written with it says so (its key id is the id of this text).
constexpr std::string_view kInsecureDevSecret = "ethos insecure development key: protects nothing";

std::string trim_trailing_newlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

LogKey log_key_from_secret(std::string secret) {
  if (secret.size() < kMinLogKeyBytes)
    throw std::runtime_error("the log key is too short (" + std::to_string(secret.size()) +
                             " bytes, at least " + std::to_string(kMinLogKeyBytes) +
                             "): generate one with `openssl rand -hex 32`");
  LogKey k;
  k.id = "k-" + hmac_sha256_hex(secret, "ethos log key id").substr(0, 16);
  k.secret = std::move(secret);
  return k;
}

LogKey insecure_dev_log_key() {
  LogKey k = log_key_from_secret(std::string(kInsecureDevSecret));
  k.insecure_dev = true;
  return k;
}

LogKey load_log_key(const LogKeySource& source) {
  if (!source.file.empty()) {
    std::ifstream in(source.file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read the log key file `" + source.file + "`");
    std::stringstream ss;
    ss << in.rdbuf();
    return log_key_from_secret(trim_trailing_newlines(ss.str()));
  }
  if (const char* env = std::getenv("ETHOS_LOG_KEY"); env && *env)
    return log_key_from_secret(trim_trailing_newlines(env));
  if (source.insecure_dev_key) return insecure_dev_log_key();
  throw std::runtime_error(
      "no key to pseudonymise the decision log: give `--log-key-file <file>` or set "
      "ETHOS_LOG_KEY (for a throwaway log only: `--insecure-dev-key`)");
}

RequestPrivacy::RequestPrivacy(const Policy& policy, LogKey key)
    : policy_(policy), key_(std::move(key)) {
  const Schema& s = policy.schema;
  treatment_.assign(s.attributes.size(), Treatment::kKeep);
  // INVARIANT: a parent's slot precedes its children's (the checker adds
  // records before their fields), so one forward pass inherits treatments.
  for (uint32_t i = 0; i < s.attributes.size(); ++i) {
    const Attribute& a = s.attributes[i];
    Treatment t = a.parent >= 0 ? treatment_[static_cast<size_t>(a.parent)] : Treatment::kKeep;
    if (a.pseudonymize && t == Treatment::kKeep) t = Treatment::kPseudonymize;
    if (a.redact) t = Treatment::kRedact;
    if (t == Treatment::kPseudonymize && a.type.kind != ValueType::kString &&
        a.type.kind != ValueType::kSet && a.type.kind != ValueType::kRecord)
      t = Treatment::kRedact;  // a keyed hash cannot keep an int, a bool or a time
    treatment_[i] = t;
  }
  symbol_texts_.resize(policy.symbols.size());
  for (const auto& [text, id] : policy.symbols)
    if (id >= 0 && static_cast<size_t>(id) < symbol_texts_.size())
      symbol_texts_[static_cast<size_t>(id)] = text;
  // Sensitive: attributes whose *value* a rule reads (a presence test is
  // answered the same by the stored request) and that the log changes.
  std::vector<uint8_t> value_read(s.attributes.size(), 0);
  std::vector<uint8_t> seen(policy.nodes.size(), 0);
  std::vector<uint32_t> stack;
  for (const Rule& r : policy.rules) stack.push_back(r.condition);
  for (const Module& m : policy.modules)
    if (m.applies) stack.push_back(*m.applies);
  while (!stack.empty()) {
    uint32_t id = stack.back();
    stack.pop_back();
    if (id >= seen.size() || seen[id]) continue;
    seen[id] = 1;
    const IrNode& n = policy.nodes[id];
    // A presence test does not read the value: only an attribute itself counts.
    if (n.op == IrOp::kAttr)
      value_read[n.a] = 1;
    else if (n.op == IrOp::kDefine)
      stack.push_back(policy.defines[n.a].value);
    else
      for_each_child(policy, n, [&](uint32_t k) { stack.push_back(k); });
  }
  std::vector<uint32_t> sensitive;
  for (uint32_t slot = 0; slot < s.attributes.size(); ++slot)
    if (value_read[slot] && treatment_[slot] != Treatment::kKeep) sensitive.push_back(slot);
  for (uint32_t slot : sensitive) sensitive_reads_.push_back(s.attributes[slot].path);
}

std::string RequestPrivacy::pseudonym(std::string_view value) const {
  // One HMAC context per thread and key: the key schedule is done once.
  thread_local std::string key_id;
  thread_local std::unique_ptr<HmacSha256> hmac;
  thread_local std::string digest;
  if (!hmac || key_id != key_.id) {
    hmac = std::make_unique<HmacSha256>(key_.secret);
    key_id = key_.id;
  }
  hmac->hex(value, digest);
  std::string out = "ps-";
  out.append(digest, 0, 32);
  return out;
}

void RequestPrivacy::write(const BoundRequest& request, std::string& out,
                           std::string& request_id) const {
  out.clear();
  request_id = request.request_id;
  write_fields(request, policy_.schema.top_level, out, request_id);
}

void RequestPrivacy::write_fields(const BoundRequest& r, const std::vector<uint32_t>& fields,
                                  std::string& out, std::string& request_id) const {
  // Positional: one element per field, in schema order (stored_request.hpp).
  const Schema& s = policy_.schema;
  out += '[';
  bool first = true;
  for (uint32_t slot : fields) {
    if (!first) out += ',';
    first = false;
    const Attribute& a = s.attributes[slot];
    Treatment t = treatment_[slot];
    if (!r.present[slot]) {
      out += "null";  // absent (only optional attributes may be)
    } else if (a.type.kind == ValueType::kRecord) {
      write_fields(r, a.children, out, request_id);  // a redacted record's leaves are redacted
    } else if (t == Treatment::kRedact) {
      write_placeholder(slot, out);
    } else {
      write_value(r, slot, out);
    }
    if (static_cast<int32_t>(slot) == s.request_id_slot && t != Treatment::kKeep)
      request_id = t == Treatment::kPseudonymize ? pseudonym(r.request_id) : std::string();
  }
  out += ']';
}

void RequestPrivacy::write_value(const BoundRequest& r, uint32_t slot, std::string& out) const {
  const Attribute& a = policy_.schema.attributes[slot];
  const Value& v = r.values[slot];
  bool pseudo = treatment_[slot] == Treatment::kPseudonymize;
  switch (a.type.kind) {
    case ValueType::kBool:
      out += v.num ? '1' : '0';
      break;
    case ValueType::kInt:
    case ValueType::kDuration:
    case ValueType::kTimestamp:
    case ValueType::kEnum:
      out += std::to_string(v.num);
      break;
    case ValueType::kString:
      append_json_string(out, pseudo ? pseudonym(v.text) : v.text);
      break;
    case ValueType::kSet: {
      // Members sorted by text: a set has no order, and this makes the stored form canonical.
      const SetValue& sv = r.sets[v.set];
      thread_local std::vector<std::string> members;
      members.clear();
      for (int32_t sym : sv.symbols) members.emplace_back(symbol_texts_[static_cast<size_t>(sym)]);
      for (std::string_view o : sv.others) members.emplace_back(o);
      if (pseudo)
        for (auto& m : members) m = pseudonym(m);
      std::sort(members.begin(), members.end());
      members.erase(std::unique(members.begin(), members.end()), members.end());
      out += '[';
      for (size_t i = 0; i < members.size(); ++i) {
        if (i) out += ',';
        append_json_string(out, members[i]);
      }
      out += ']';
      break;
    }
    default:
      out += "null";
      break;
  }
}

void RequestPrivacy::write_placeholder(uint32_t slot, std::string& out) const {
  switch (policy_.schema.attributes[slot].type.kind) {
    case ValueType::kString:
      out += "\"\"";
      break;
    case ValueType::kSet:
      out += "[]";
      break;
    default:
      out += '0';
      break;  // false, 0, the first enum value, the epoch
  }
}

}  // namespace ethos
