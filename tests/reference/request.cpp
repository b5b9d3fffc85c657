// The reference's request binder: request JSON, checked against the schema, becomes Facts.
#include "reference_internal.hpp"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

namespace ethos::reference {
namespace {

using Json = nlohmann::ordered_json;  // document order, so the first error is the first in the text

// ---- times and durations (language.md: "Values" and request JSON) -------------

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int to_int(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

}  // namespace

// RFC 3339 ("2026-11-26T10:15:00Z", "...+02:00", optional fraction, which is
// dropped) or a date ("2026-03-01", midnight UTC). The date must exist.
std::optional<int64_t> parse_time(std::string_view s) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  if (!all_digits(s.substr(0, 4)) || !all_digits(s.substr(5, 2)) || !all_digits(s.substr(8, 2)))
    return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year{to_int(s.substr(0, 4))},
                                  std::chrono::month{static_cast<unsigned>(to_int(s.substr(5, 2)))},
                                  std::chrono::day{static_cast<unsigned>(to_int(s.substr(8, 2)))}};
  if (!ymd.ok()) return std::nullopt;
  int64_t days = std::chrono::sys_days{ymd}.time_since_epoch().count();
  int64_t seconds = days * 86400;
  if (s.size() == 10) return seconds;
  std::string_view rest = s.substr(10);
  if (rest.size() < 9 || (rest[0] != 'T' && rest[0] != 't' && rest[0] != ' ') || rest[3] != ':' ||
      rest[6] != ':')
    return std::nullopt;
  if (!all_digits(rest.substr(1, 2)) || !all_digits(rest.substr(4, 2)) ||
      !all_digits(rest.substr(7, 2)))
    return std::nullopt;
  int h = to_int(rest.substr(1, 2)), mi = to_int(rest.substr(4, 2)), se = to_int(rest.substr(7, 2));
  if (h > 23 || mi > 59 || se > 60) return std::nullopt;  // 60: a leap second
  rest = rest.substr(9);
  if (!rest.empty() && rest[0] == '.') {
    size_t n = 1;
    while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
    if (n == 1) return std::nullopt;  // RFC 3339: a fraction has at least one digit
    rest = rest.substr(n);
  }
  int64_t offset = 0;
  if (rest == "Z" || rest == "z") {
    offset = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' &&
             all_digits(rest.substr(1, 2)) && all_digits(rest.substr(4, 2))) {
    int oh = to_int(rest.substr(1, 2)), om = to_int(rest.substr(4, 2));
    if (oh > 23 || om > 59) return std::nullopt;
    offset = (oh * 3600 + om * 60) * (rest[0] == '+' ? 1 : -1);
  } else {
    return std::nullopt;  // a zone is required
  }
  return seconds + h * 3600 + mi * 60 + se - offset;
}

namespace {

// A request's duration string: digits then one unit (w, d, h, m, s).
std::optional<int64_t> parse_request_duration(std::string_view s) {
  if (s.size() < 2 || !all_digits(s.substr(0, s.size() - 1))) return std::nullopt;
  Wide unit = 0;
  switch (s.back()) {
    case 'w':
      unit = 7 * 86400;
      break;
    case 'd':
      unit = 86400;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'm':
      unit = 60;
      break;
    case 's':
      unit = 1;
      break;
    default:
      return std::nullopt;
  }
  Wide n = 0;
  for (char c : s.substr(0, s.size() - 1)) {
    n = n * 10 + (c - '0');
    if (n > kMax) return std::nullopt;
  }
  Wide v = n * unit;
  if (!fits(v)) return std::nullopt;
  return static_cast<int64_t>(v);
}

// ---- the bound request -------------------------------------------------------

std::string lowercase_type(const Attribute& a, const Schema& s) { return type_name(a.type, s); }

class Binder {
 public:
  explicit Binder(const Schema& s) : s_(s) {}

  bool bind(const std::string& text, Facts& facts, RefBindError& err) {
    Json doc;
    // A key named twice in one object is an error (nlohmann would keep the last).
    std::vector<std::set<std::string>> keys;
    std::vector<std::string> where{"$"};
    std::string duplicate;
    auto callback = [&](int, nlohmann::detail::parse_event_t event, Json& parsed) {
      using E = nlohmann::detail::parse_event_t;
      if (event == E::object_start) {
        keys.emplace_back();
        where.push_back(where.back());
      } else if (event == E::object_end) {
        keys.pop_back();
        where.pop_back();
      } else if (event == E::key && !keys.empty()) {
        std::string k = parsed.get<std::string>();
        where.back() = where[where.size() - 2] + "." + k;
        if (!keys.back().insert(k).second && duplicate.empty()) duplicate = where.back();
      }
      return true;
    };
    try {
      doc = Json::parse(text, callback);
    } catch (const Json::exception& e) {
      err = {"$", std::string("malformed JSON: ") + e.what()};
      return false;
    }
    if (!duplicate.empty()) {
      err = {duplicate, "duplicate field"};
      return false;
    }
    if (!doc.is_object()) {
      err = {"$", "a request is a JSON object"};
      return false;
    }
    facts_ = &facts;
    err_ = &err;
    if (!record(doc, s_.top_level, "$")) return false;
    facts.time = facts.values.at("time").i;
    return true;
  }

 private:
  bool fail(const std::string& path, std::string message) {
    *err_ = {path, std::move(message)};
    return false;
  }

  bool record(const Json& obj, const std::vector<uint32_t>& fields, const std::string& path) {
    for (const auto& [key, value] : obj.items()) {
      const Attribute* a = nullptr;
      for (uint32_t f : fields)
        if (s_.attributes[f].name == key) a = &s_.attributes[f];
      std::string at = path + "." + key;
      if (!a) return fail(at, "unknown field");
      if (!field(value, *a, at)) return false;
    }
    for (uint32_t f : fields) {
      const Attribute& a = s_.attributes[f];
      if (!a.optional && !facts_->present.count(a.path))
        return fail(path + "." + a.name, "missing required field");
    }
    return true;
  }

  bool field(const Json& v, const Attribute& a, const std::string& at) {
    if (v.is_null()) {
      if (a.optional) return true;  // absent
      return fail(at, "required, may not be null");
    }
    Val out;
    switch (a.type.kind) {
      case ValueType::kBool:
        if (!v.is_boolean()) return fail(at, "expected a boolean");
        out = Val::boolean(v.get<bool>());
        break;
      case ValueType::kInt:
        if (v.is_number_unsigned()) {
          if (v.get<uint64_t>() > static_cast<uint64_t>(kMax))
            return fail(at, "integer out of range");
          out = Val::number(Val::K::kInt, static_cast<int64_t>(v.get<uint64_t>()));
        } else if (v.is_number_integer()) {
          out = Val::number(Val::K::kInt, v.get<int64_t>());
        } else {
          return fail(at, "expected an integer");
        }
        // language.md, "Ranges": a value outside the field's range is refused.
        if (a.ranged && (out.i < a.lo || out.i > a.hi)) return fail(at, "outside the range");
        break;
      case ValueType::kString:
        if (!v.is_string()) return fail(at, "expected a string");
        out = Val::text(Val::K::kStr, v.get<std::string>());
        break;
      case ValueType::kEnum: {
        if (!v.is_string()) return fail(at, "expected a string");
        const auto& values = s_.enums[a.type.enum_id];
        std::string text = v.get<std::string>();
        if (std::find(values.begin(), values.end(), text) == values.end())
          return fail(at, "not a value of " + lowercase_type(a, s_));
        out = Val::text(Val::K::kEnum, text);
        break;
      }
      case ValueType::kTimestamp: {
        if (!v.is_string()) return fail(at, "expected a timestamp");
        auto t = parse_time(v.get<std::string>());
        if (!t) return fail(at, "not a timestamp");
        out = Val::number(Val::K::kTime, *t);
        break;
      }
      case ValueType::kDuration: {
        if (v.is_number_unsigned()) {
          if (v.get<uint64_t>() > static_cast<uint64_t>(kMax))
            return fail(at, "duration out of range");
          out = Val::number(Val::K::kDur, static_cast<int64_t>(v.get<uint64_t>()));
        } else if (v.is_number_integer()) {
          out = Val::number(Val::K::kDur, v.get<int64_t>());
        } else if (v.is_string()) {
          auto d = parse_request_duration(v.get<std::string>());
          if (!d) return fail(at, "not a duration");
          out = Val::number(Val::K::kDur, *d);
        } else {
          return fail(at, "expected a duration");
        }
        break;
      }
      case ValueType::kSet: {
        if (!v.is_array()) return fail(at, "expected an array of strings");
        out.k = Val::K::kSet;
        size_t i = 0;
        for (const auto& item : v) {
          if (!item.is_string())
            return fail(at + "[" + std::to_string(i) + "]", "expected a string");
          if (a.type.elem == ValueType::kEnum) {  // set<enum { ... }>
            const auto& values = s_.enums[a.type.enum_id];
            if (std::find(values.begin(), values.end(), item.get<std::string>()) == values.end())
              return fail(at + "[" + std::to_string(i) + "]", "not a value of the set's enum");
          }
          out.set.insert(item.get<std::string>());
          ++i;
        }
        break;
      }
      case ValueType::kRecord:
        if (!v.is_object()) return fail(at, "expected an object");
        facts_->present.insert(a.path);
        return record(v, a.children, at);
      default:
        impossible("unexpected schema type");
    }
    facts_->present.insert(a.path);
    facts_->values[a.path] = std::move(out);
    return true;
  }

  const Schema& s_;
  Facts* facts_ = nullptr;
  RefBindError* err_ = nullptr;
};

}  // namespace

bool bind_request(const Schema& schema, const std::string& text, Facts& facts, RefBindError& err) {
  return Binder(schema).bind(text, facts, err);
}

}  // namespace ethos::reference
