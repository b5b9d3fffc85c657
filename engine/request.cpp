#include "request.hpp"

#include <simdjson.h>
#include <algorithm>
#include <nlohmann/json.hpp>

#include "check.hpp"

namespace ethos {

struct RequestBinder::Impl {
  const Policy& policy;
  simdjson::dom::parser parser;
  std::string path;  // the JSON path being bound, built as we descend
  // Which attributes this bind has met (seen[slot] == generation): a field
  // named twice is refused, since JSON readers disagree on which one counts.
  std::vector<uint32_t> seen;
  uint32_t generation = 0;
  explicit Impl(const Policy& p) : policy(p) {}

  std::string_view keep(BoundRequest& out, std::string_view s) {
    // INVARIANT: arena capacity >= total string bytes of the input, so views stay valid.
    size_t at = out.arena.size();
    out.arena.append(s);
    return {out.arena.data() + at, s.size()};
  }

  bool fail(BindError& err, std::string message) {
    err.path = path.empty() ? "$" : "$" + path;
    err.message = std::move(message);
    return false;
  }

  static const char* json_type(simdjson::dom::element_type t) {
    using T = simdjson::dom::element_type;
    switch (t) {
      case T::ARRAY:
        return "an array";
      case T::OBJECT:
        return "an object";
      case T::INT64:
      case T::UINT64:
        return "an integer";
      case T::DOUBLE:
        return "a number";
      case T::STRING:
        return "a string";
      case T::BOOL:
        return "a boolean";
      case T::NULL_VALUE:
        return "null";
    }
    return "a value";
  }

  bool bind_record(simdjson::dom::object obj, int32_t record, BoundRequest& out, BindError& err) {
    const Schema& s = policy.schema;
    const std::vector<uint32_t>& fields =
        record < 0 ? s.top_level : s.attributes[static_cast<size_t>(record)].children;
    size_t base = path.size();
    size_t next = 0;  // apps usually send fields in schema order: try the next one first
    for (auto field : obj) {
      std::string_view key = field.key;
      uint32_t slot = UINT32_MAX;
      if (next < fields.size() && s.attributes[fields[next]].name == key) {
        slot = fields[next++];
      } else {
        for (size_t k = 0; k < fields.size(); ++k)
          if (s.attributes[fields[k]].name == key) {
            slot = fields[k];
            next = k + 1;
            break;
          }
      }
      path.resize(base);
      path += '.';
      path += key;
      if (slot == UINT32_MAX) {
        std::vector<std::string> names;
        for (uint32_t f : fields) names.push_back(s.attributes[f].name);
        std::string c = closest(key, names);
        return fail(err, "unknown field `" + std::string(key) + "`" +
                             (c.empty() ? std::string() : "; did you mean `" + c + "`?"));
      }
      if (seen[slot] == generation)
        return fail(err, "duplicate field `" + std::string(key) +
                             "`: a field may appear once (JSON readers disagree on which counts)");
      seen[slot] = generation;
      if (!bind_value(field.value, slot, out, err)) return false;
    }
    path.resize(base);
    for (uint32_t f : fields) {
      const Attribute& a = s.attributes[f];
      if (!out.present[f] && !a.optional) {
        path += '.';
        path += a.name;
        return fail(err, "missing required field `" + a.name + "` (" + type_name(a.type, s) + ")");
      }
    }
    return true;
  }

  bool bind_value(simdjson::dom::element v, uint32_t slot, BoundRequest& out, BindError& err) {
    const Attribute& a = policy.schema.attributes[slot];
    using T = simdjson::dom::element_type;
    T t = v.type();
    if (t == T::NULL_VALUE) {
      if (a.optional) return true;  // absent: conditions that need it are unknown
      return fail(err, "`" + a.path + "` is required and may not be null");
    }
    auto expected = [&](const char* what) {
      return fail(err, std::string("expected ") + what + ", found " + json_type(t));
    };
    Value& val = out.values[slot];
    switch (a.type.kind) {
      case ValueType::kBool:
        if (t != T::BOOL) return expected("a boolean");
        val.num = bool(v.get_bool()) ? 1 : 0;
        break;
      case ValueType::kInt:
        if (t == T::INT64)
          val.num = int64_t(v.get_int64());
        else if (t == T::UINT64)
          return fail(err, "integer out of range");
        else
          return expected("an integer");
        break;
      case ValueType::kString: {
        if (t != T::STRING) return expected("a string");
        std::string_view sv = v.get_string();
        val.text = keep(out, sv);
        val.num = policy.symbol(sv);
        break;
      }
      case ValueType::kEnum: {
        if (t != T::STRING) return expected("a string");
        std::string_view sv = v.get_string();
        int32_t idx = policy.schema.enum_index(a.type.enum_id, sv);
        if (idx < 0) {
          const auto& vals = policy.schema.enums[a.type.enum_id];
          std::string list;
          for (size_t i = 0; i < vals.size(); ++i) list += (i ? ", " : "") + ("`" + vals[i] + "`");
          return fail(err, "`" + std::string(sv) + "` is not one of " + list);
        }
        val.num = idx;
        break;
      }
      case ValueType::kTimestamp: {
        if (t != T::STRING) return expected("a timestamp string such as \"2026-11-26T10:15:00Z\"");
        std::string_view sv = v.get_string();
        if (!parse_timestamp(sv, val.num))
          return fail(err, "`" + std::string(sv) +
                               "` is not a timestamp (RFC 3339, e.g. \"2026-11-26T10:15:00Z\", or "
                               "a date \"2026-11-26\")");
        break;
      }
      case ValueType::kDuration: {
        if (t == T::INT64) {
          val.num = int64_t(v.get_int64());
        } else if (t == T::STRING) {
          std::string_view sv = v.get_string();
          if (!parse_duration(sv, val.num))
            return fail(err,
                        "`" + std::string(sv) +
                            "` is not a duration (seconds, or \"30d\", \"12h\", \"15m\", \"45s\")");
        } else {
          return expected("a duration (seconds or a string such as \"30d\")");
        }
        break;
      }
      case ValueType::kSet: {
        if (t != T::ARRAY) return expected("an array of strings");
        SetValue sv;
        size_t base = path.size();
        size_t i = 0;
        for (auto item : simdjson::dom::array(v)) {
          if (item.type() != T::STRING) {
            path += "[" + std::to_string(i) + "]";
            t = item.type();
            return expected("a string");
          }
          std::string_view s = item.get_string();
          int32_t sym = policy.symbol(s);
          if (sym >= 0)
            sv.symbols.push_back(sym);
          else
            sv.others.push_back(keep(out, s));
          ++i;
        }
        path.resize(base);
        std::sort(sv.symbols.begin(), sv.symbols.end());
        val.set = static_cast<uint32_t>(out.sets.size());
        out.sets.push_back(std::move(sv));
        break;
      }
      case ValueType::kRecord: {
        if (t != T::OBJECT) return expected("an object");
        out.present[slot] = 1;
        return bind_record(simdjson::dom::object(v), static_cast<int32_t>(slot), out, err);
      }
      default:
        return fail(err, "unsupported type");
    }
    out.present[slot] = 1;
    return true;
  }
};

RequestBinder::RequestBinder(const Policy& policy) : impl_(std::make_unique<Impl>(policy)) {}
RequestBinder::~RequestBinder() = default;

bool RequestBinder::bind(std::string_view json, BoundRequest& out, BindError& error) {
  const Policy& p = impl_->policy;
  size_t n = p.schema.attributes.size();
  out.reset(n, json.size());
  impl_->path.clear();
  if (impl_->seen.size() != n) impl_->seen.assign(n, 0);
  if (++impl_->generation == 0) {
    std::fill(impl_->seen.begin(), impl_->seen.end(), 0);
    impl_->generation = 1;
  }
  simdjson::dom::element doc;
  auto code = impl_->parser.parse(json.data(), json.size(), true).get(doc);
  if (code) {
    // simdjson does not say where; nlohmann does, and this is the slow path anyway.
    std::string where;
    try {
      auto parsed = nlohmann::json::parse(json);
      (void)parsed;
    } catch (const nlohmann::json::parse_error& e) {
      where = e.what();
      auto pos = where.find("parse error");
      if (pos != std::string::npos) where = where.substr(pos);
    } catch (const nlohmann::json::exception& e) {
      // e.g. out_of_range for a number beyond a double's range (1e400).
      where = e.what();
      auto pos = where.find("] ");
      if (pos != std::string::npos) where = where.substr(pos + 2);
    }
    error.path = "$";
    error.message =
        "malformed JSON: " + (where.empty() ? std::string(simdjson::error_message(code)) : where);
    return false;
  }
  if (doc.type() != simdjson::dom::element_type::OBJECT) {
    error.path = "$";
    error.message = "a request is a JSON object";
    return false;
  }
  if (!impl_->bind_record(simdjson::dom::object(doc), -1, out, error)) return false;
  if (p.schema.request_id_slot >= 0)
    out.request_id = std::string(out.values[static_cast<size_t>(p.schema.request_id_slot)].text);
  if (p.schema.time_slot >= 0) out.time = out.values[static_cast<size_t>(p.schema.time_slot)].num;
  return true;
}

}  // namespace ethos
