#include <ethos/log/stored_request.hpp>

#include <simdjson.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include <ethos/base/time.hpp>
#include <ethos/check/policy.hpp>

namespace ethos {

bool is_keyed(std::string_view stored) {
  size_t i = stored.find_first_not_of(" \t\r\n");
  return i != std::string_view::npos && stored[i] == '{';
}

bool same_layout(const Schema& a, const Schema& b) {
  if (a.attributes.size() != b.attributes.size() || a.top_level != b.top_level) return false;
  for (size_t i = 0; i < a.attributes.size(); ++i) {
    const Attribute& x = a.attributes[i];
    const Attribute& y = b.attributes[i];
    if (x.path != y.path || x.type.kind != y.type.kind || x.optional != y.optional ||
        x.children != y.children)
      return false;
    if (x.type.kind == ValueType::kEnum && a.enums[x.type.enum_id] != b.enums[y.type.enum_id])
      return false;
  }
  return a.request_id_slot == b.request_id_slot && a.time_slot == b.time_slot;
}

struct StoredRequestBinder::Impl {
  const Policy& policy;
  simdjson::dom::parser parser;
  std::string error;
  // Logs written before the positional form (schema version 1's first
  // release) stored the request as ordinary keyed JSON: bound as a request.
  std::unique_ptr<RequestBinder> keyed;
  explicit Impl(const Policy& p) : policy(p) {}

  bool fail(const Attribute* a, const char* what) {
    error = std::string("stored request: ") + what + (a ? " at `" + a->path + "`" : std::string());
    return false;
  }

  static std::string_view keep(BoundRequest& out, std::string_view s) {
    // INVARIANT: the arena was reserved for the whole stored text, so views stay valid.
    size_t at = out.arena.size();
    out.arena.append(s);
    return {out.arena.data() + at, s.size()};
  }

  bool fields(simdjson::dom::element e, const std::vector<uint32_t>& slots, const Attribute* record,
              BoundRequest& out) {
    simdjson::dom::array arr;
    if (e.get_array().get(arr) || arr.size() != slots.size())
      return fail(record, "does not match the schema");
    size_t i = 0;
    for (simdjson::dom::element v : arr) {
      if (!value(v, slots[i++], out)) return false;
    }
    return true;
  }

  bool value(simdjson::dom::element v, uint32_t slot, BoundRequest& out) {
    const Attribute& a = policy.schema.attributes[slot];
    if (v.is_null()) {
      if (!a.optional) return fail(&a, "a required attribute is null");
      return true;
    }
    Value& val = out.values[slot];
    switch (a.type.kind) {
      case ValueType::kRecord:
        out.present[slot] = 1;
        return fields(v, a.children, &a, out);
      case ValueType::kBool:
      case ValueType::kInt:
      case ValueType::kTimestamp:
      case ValueType::kDuration:
      case ValueType::kEnum: {
        int64_t n = 0;
        if (v.get_int64().get(n)) return fail(&a, "expected an integer");
        if (a.type.kind == ValueType::kEnum &&
            (n < 0 || static_cast<size_t>(n) >= policy.schema.enums[a.type.enum_id].size()))
          return fail(&a, "enum index out of range");
        val.num = n;
        break;
      }
      case ValueType::kString: {
        std::string_view s;
        if (v.get_string().get(s)) return fail(&a, "expected a string");
        val.text = keep(out, s);
        val.num = policy.symbol(s);
        break;
      }
      case ValueType::kSet: {
        simdjson::dom::array arr;
        if (v.get_array().get(arr)) return fail(&a, "expected an array");
        SetValue sv;
        for (simdjson::dom::element m : arr) {
          std::string_view s;
          if (m.get_string().get(s)) return fail(&a, "expected strings");
          int32_t sym = policy.symbol(s);
          if (sym >= 0)
            sv.symbols.push_back(sym);
          else
            sv.others.push_back(keep(out, s));
        }
        std::sort(sv.symbols.begin(), sv.symbols.end());
        val.set = static_cast<uint32_t>(out.sets.size());
        out.sets.push_back(std::move(sv));
        break;
      }
      default:
        return fail(&a, "unsupported type");
    }
    out.present[slot] = 1;
    return true;
  }
};

StoredRequestBinder::StoredRequestBinder(const Policy& policy)
    : impl_(std::make_unique<Impl>(policy)) {}
StoredRequestBinder::~StoredRequestBinder() = default;

bool StoredRequestBinder::bind(std::string_view stored, BoundRequest& out, std::string& error) {
  const Policy& p = impl_->policy;
  size_t n = p.schema.attributes.size();
  out.reset(n, stored.size());
  if (is_keyed(stored)) {
    if (!impl_->keyed) impl_->keyed = std::make_unique<RequestBinder>(p);
    BindError e;
    if (impl_->keyed->bind(stored, out, e)) return true;
    error = "stored request: " + e.path + ": " + e.message;
    return false;
  }
  simdjson::dom::element doc;
  if (impl_->parser.parse(stored.data(), stored.size(), true).get(doc)) {
    error = "stored request: malformed JSON";
    return false;
  }
  if (!impl_->fields(doc, p.schema.top_level, nullptr, out)) {
    error = std::move(impl_->error);
    return false;
  }
  if (p.schema.request_id_slot >= 0)
    out.request_id = std::string(out.values[static_cast<size_t>(p.schema.request_id_slot)].text);
  if (p.schema.time_slot >= 0) out.time = out.values[static_cast<size_t>(p.schema.time_slot)].num;
  return true;
}

namespace {

nlohmann::ordered_json expand_fields(const Schema& s, const nlohmann::json& arr,
                                     const std::vector<uint32_t>& slots) {
  if (!arr.is_array() || arr.size() != slots.size())
    throw std::runtime_error("the stored request does not match its bundle's schema");
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (size_t i = 0; i < slots.size(); ++i) {
    const Attribute& a = s.attributes[slots[i]];
    const nlohmann::json& v = arr[i];
    if (v.is_null()) continue;
    switch (a.type.kind) {
      case ValueType::kRecord:
        out[a.name] = expand_fields(s, v, a.children);
        break;
      case ValueType::kBool:
        out[a.name] = v.get<int64_t>() != 0;
        break;
      case ValueType::kTimestamp:
        out[a.name] = format_timestamp(v.get<int64_t>());
        break;
      case ValueType::kEnum: {
        auto idx = v.get<int64_t>();
        const auto& names = s.enums[a.type.enum_id];
        if (idx < 0 || static_cast<size_t>(idx) >= names.size())
          throw std::runtime_error("enum index out of range at `" + a.path + "`");
        out[a.name] = names[static_cast<size_t>(idx)];
        break;
      }
      default:
        out[a.name] = v;
        break;  // int, duration, string, set
    }
  }
  return out;
}

}  // namespace

std::string expand_stored_request(const Schema& schema, std::string_view stored, bool pretty) {
  // Only a damaged log holds a request deeper than any schema; dump() would
  // recurse through all of it.
  if (auto deep = json_too_deep(stored, kMaxMaxDepth))
    throw std::runtime_error("the stored request nests deeper than " +
                             std::to_string(kMaxMaxDepth) + " levels at " + *deep);
  auto parsed = nlohmann::json::parse(stored);
  if (parsed.is_object()) return parsed.dump(pretty ? 2 : -1);  // the earlier keyed form
  return expand_fields(schema, parsed, schema.top_level).dump(pretty ? 2 : -1);
}

}  // namespace ethos
