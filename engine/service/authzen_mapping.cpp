#include <ethos/service/authzen_mapping.hpp>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace ethos {

namespace {

using nlohmann::json;

constexpr std::string_view kEntities[] = {"subject", "action", "resource", "context"};

std::vector<std::string> split_dots(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t dot = s.find('.', start);
    out.emplace_back(s.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

std::vector<std::string> string_list(const json& doc, const char* key) {
  std::vector<std::string> out;
  auto it = doc.find(key);
  if (it == doc.end()) return out;
  std::string path = std::string("$.") + key;
  if (!it->is_array()) throw AuthzenMappingError(path, "expected an array of strings");
  for (size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_string())
      throw AuthzenMappingError(path + "[" + std::to_string(i) + "]", "expected a string");
    out.push_back((*it)[i].get<std::string>());
  }
  return out;
}

AuthzenMapEntry read_entry(const json& e, const std::string& path, const Schema& schema) {
  if (!e.is_object()) throw AuthzenMappingError(path, "an entry is an object {\"to\", \"from\"}");
  for (const auto& [key, value] : e.items())
    if (key != "to" && key != "from" && key != "values")
      throw AuthzenMappingError(path + "." + key,
                                "unknown key `" + key + "`; an entry has to, from and values");
  AuthzenMapEntry entry;
  auto to = e.find("to");
  if (to == e.end() || !to->is_string())
    throw AuthzenMappingError(path + ".to", "`to` is required: a request attribute path");
  entry.to = to->get<std::string>();
  auto slot = schema.by_path.find(entry.to);
  if (slot == schema.by_path.end())
    throw AuthzenMappingError(path + ".to", "`" + entry.to + "` is not an attribute of the schema");
  entry.slot = slot->second;
  auto from = e.find("from");
  if (from == e.end() || !from->is_string())
    throw AuthzenMappingError(path + ".from", "`from` is required: a path in the evaluation");
  entry.from = from->get<std::string>();
  const Attribute& attr = schema.attributes[entry.slot];
  if (entry.from == "@request_id") {
    entry.request_id = true;
    if (attr.type.kind != ValueType::kString)
      throw AuthzenMappingError(path + ".to", "`@request_id` is a string; `" + entry.to + "` is " +
                                                  type_name(attr.type, schema));
  } else {
    entry.keys = split_dots(entry.from);
    bool known = std::find(std::begin(kEntities), std::end(kEntities), entry.keys.front()) !=
                 std::end(kEntities);
    bool empty_key = std::any_of(entry.keys.begin(), entry.keys.end(),
                                 [](const std::string& k) { return k.empty(); });
    if (!known || empty_key)
      throw AuthzenMappingError(path + ".from",
                                "`" + entry.from +
                                    "` must start with subject, action, resource or context "
                                    "(or be @request_id), with no empty segment");
  }
  if (auto values = e.find("values"); values != e.end()) {
    if (!values->is_object() || values->empty())
      throw AuthzenMappingError(path + ".values", "`values` is an object of string to string");
    for (const auto& [key, value] : values->items()) {
      if (!value.is_string())
        throw AuthzenMappingError(path + ".values." + key, "expected a string");
      entry.values.emplace_back(key, value.get<std::string>());
    }
  }
  return entry;
}

}  // namespace

AuthzenMapping load_authzen_mapping(std::string_view text, std::string file, const Schema& schema) {
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    throw AuthzenMappingError("$", std::string("malformed JSON: ") + e.what());
  }
  if (!doc.is_object()) throw AuthzenMappingError("$", "the mapping is a JSON object");
  auto version = doc.find("authzen_mapping");
  if (version == doc.end() || *version != 1)
    throw AuthzenMappingError("$.authzen_mapping", "expected `\"authzen_mapping\": 1`");
  AuthzenMapping m;
  m.file = std::move(file);
  if (auto d = doc.find("description"); d != doc.end() && d->is_string())
    m.description = d->get<std::string>();
  m.subject_types = string_list(doc, "subject_types");
  m.resource_types = string_list(doc, "resource_types");
  auto map = doc.find("map");
  if (map == doc.end() || !map->is_array() || map->empty())
    throw AuthzenMappingError("$.map", "`map` is a non-empty array of {\"to\", \"from\"}");
  for (size_t i = 0; i < map->size(); ++i) {
    std::string path = "$.map[" + std::to_string(i) + "]";
    AuthzenMapEntry entry = read_entry((*map)[i], path, schema);
    for (const auto& other : m.entries)
      if (other.to == entry.to)
        throw AuthzenMappingError(path + ".to", "`" + entry.to + "` is mapped twice");
    m.entries.push_back(std::move(entry));
  }
  // INVARIANT: every attribute a request must carry is fed by some entry, so
  // a well-formed evaluation can always be mapped.
  for (const Attribute& a : schema.attributes) {
    if (a.may_be_absent || a.type.kind == ValueType::kRecord) continue;
    if (!authzen_entry_for(m, a.path))
      throw AuthzenMappingError("$.map", "no entry feeds `" + a.path + "`, which every request " +
                                             "must carry (" + type_name(a.type, schema) + ")");
  }
  return m;
}

const std::string& AuthzenOrigins::of(std::string_view entity) const {
  if (entity == "subject") return subject;
  if (entity == "action") return action;
  if (entity == "resource") return resource;
  return context;
}

const AuthzenMapEntry* authzen_entry_for(const AuthzenMapping& mapping,
                                         std::string_view request_path) {
  const AuthzenMapEntry* best = nullptr;
  for (const auto& e : mapping.entries) {
    std::string_view to = e.to;
    if (request_path.substr(0, to.size()) != to) continue;
    if (request_path.size() > to.size() && request_path[to.size()] != '.' &&
        request_path[to.size()] != '[')
      continue;
    if (!best || to.size() > best->to.size()) best = &e;
  }
  return best;
}

std::string authzen_source_path(const AuthzenMapping& mapping, std::string_view request_path,
                                const AuthzenOrigins& origins) {
  const AuthzenMapEntry* e = authzen_entry_for(mapping, request_path);
  if (!e) return {};
  if (e->request_id) return "header X-Request-ID";
  std::string out = origins.of(e->keys.front());
  for (size_t i = 1; i < e->keys.size(); ++i) out += "." + e->keys[i];
  out += request_path.substr(e->to.size());
  return out;
}

}  // namespace ethos
