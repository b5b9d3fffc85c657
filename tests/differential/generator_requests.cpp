// Random requests for a generated policy: valid ones, and ones with exactly one defect.
#include "generator_values.hpp"

namespace ethos::differential {
namespace {

const std::vector<std::string> kOtherStrings = {"zeta", "omega", "ALPHA", "alpha "};

// ---- requests ----

nlohmann::ordered_json value_of(const Model& m, const Field& f, Rng& r) {
  switch (f.type.t) {
    case T::kBool:
      return r.chance(0.5);
    case T::kInt:
      return r.chance(0.8) ? r.pick(kSmallInts) : r.pick(kInts);
    case T::kStr:
      return r.chance(0.8) ? r.pick(m.strings) : r.pick(kOtherStrings);
    case T::kEnum:
      return r.pick(m.enums[static_cast<size_t>(f.type.e)]);
    case T::kTime: {
      static const std::vector<std::string> extremes = {
          "0001-01-01",           "9999-12-31T23:59:59Z", "1970-01-01T00:00:00Z",
          "1969-12-31T23:59:59Z", "2016-12-31T23:59:60Z", "2024-02-29"};
      if (r.chance(0.05)) return r.pick(extremes);
      static const std::vector<int64_t> days = {-1000, -400, -366, -365, -364, -31, -30,
                                                -29,   -1,   0,    1,    29,   30,  31};
      static const std::vector<int64_t> secs = {0, 0, 0, 1, 3599, 43200, 86399};
      return format_time(kBaseTime + r.pick(days) * 86400 + r.pick(secs),
                         static_cast<int>(r.below(7)));
    }
    case T::kDur: {
      static const std::vector<int64_t> ints = {
          0, 59, 60, 3600, 86400, 30 * 86400, 365 * 86400, -86400, kMax, kMin, 4611686018427387904};
      static const std::vector<std::string> texts = {
          "30d", "12h", "15m", "45s", "2w", "0d", "106751991167300d", "007d"};
      if (r.chance(0.5))
        return r.chance(0.85) ? r.pick(std::vector<int64_t>(ints.begin(), ints.begin() + 8))
                              : r.pick(ints);
      return r.pick(texts);
    }
    case T::kSet: {
      auto out = nlohmann::ordered_json::array();
      size_t n = r.below(5);
      for (size_t i = 0; i < n; ++i)
        out.push_back(r.chance(0.8) ? r.pick(m.strings) : r.pick(kOtherStrings));
      return out;
    }
    case T::kRecord: {
      auto out = nlohmann::ordered_json::object();
      for (const auto& k : f.fields) {
        if (k.optional && r.chance(0.3)) {
          if (r.chance(0.5)) out[k.name] = nullptr;
          continue;
        }
        out[k.name] = value_of(m, k, r);
      }
      return out;
    }
  }
  return nullptr;
}

}  // namespace

nlohmann::ordered_json generate_request(const Model& m, Rng& rng) {
  Field top;
  top.type = {T::kRecord};
  top.fields = m.schema;
  auto out = value_of(m, top, rng);
  // The request's own time is mostly near the base so that comparisons go both ways.
  if (rng.chance(0.9))
    out["time"] = format_time(kBaseTime + static_cast<int64_t>(rng.below(3)) * 86400, 0);
  out["request_id"] = "req-" + std::to_string(rng.below(1000));
  return out;
}

std::string generate_bad_request(const Model& m, Rng& rng, std::string& path) {
  auto doc = generate_request(m, rng);
  size_t kind = rng.below(10);
  if (kind == 0) {
    static const std::vector<std::string> texts = {
        "", "[]", "null", "{", "{\"request_id\": }", "\"x\"", "42", "{\"a\":1,}"};
    path = "$";
    return rng.pick(texts);
  }
  // A present attribute (its records present too) to spoil.
  struct Spot {
    nlohmann::ordered_json* parent;
    const Attr* attr;
    std::string key;
  };
  std::vector<Spot> spots;
  for (const auto& a : m.attrs) {
    nlohmann::ordered_json* cur = &doc;
    std::string rest = a.path;
    bool ok = true;
    while (rest.find('.') != std::string::npos) {
      std::string head = rest.substr(0, rest.find('.'));
      rest = rest.substr(rest.find('.') + 1);
      if (!cur->contains(head) || !(*cur)[head].is_object()) {
        ok = false;
        break;
      }
      cur = &(*cur)[head];
    }
    if (ok) spots.push_back({cur, &a, rest});
  }
  const Spot& s = rng.pick(spots);
  nlohmann::ordered_json& parent = *s.parent;
  path = "$." + s.attr->path;
  std::string parent_path = path.substr(0, path.size() - s.key.size() - 1);
  bool here = parent.contains(s.key) && !parent[s.key].is_null();
  switch (kind) {
    case 1:
      parent["unknown_fact"] = 1;
      path = parent_path + ".unknown_fact";
      break;
    case 2:
      if (s.attr->optional) return generate_bad_request(m, rng, path);
      if (rng.chance(0.5))
        parent.erase(s.key);
      else
        parent[s.key] = nullptr;
      break;
    case 3: {
      // A JSON value of the wrong kind.
      switch (s.attr->type.t) {
        case T::kBool:
          parent[s.key] = "true";
          break;
        case T::kInt:
          parent[s.key] =
              rng.chance(0.5) ? nlohmann::ordered_json(1.5) : nlohmann::ordered_json("5");
          break;
        case T::kStr:
          parent[s.key] = 5;
          break;
        case T::kEnum:
          parent[s.key] = true;
          break;
        case T::kTime:
          parent[s.key] = 1795687200;
          break;
        case T::kDur:
          parent[s.key] =
              rng.chance(0.5) ? nlohmann::ordered_json(2.5) : nlohmann::ordered_json(false);
          break;
        case T::kSet:
          if (rng.chance(0.5)) {
            parent[s.key] = nlohmann::ordered_json::array({"alpha", 1});
            path += "[1]";
          } else {
            parent[s.key] = "alpha";
          }
          break;
        case T::kRecord:
          parent[s.key] = nlohmann::ordered_json::array();
          break;
      }
      break;
    }
    case 4:
    case 5:
    case 6: {
      static const std::vector<std::string> times = {"2026-02-30",
                                                     "2026-02-29",
                                                     "2025-04-31",
                                                     "2026-13-01",
                                                     "2026-00-10",
                                                     "2026-11-26T24:00:00Z",
                                                     "2026-11-26T10:60:00Z",
                                                     "2026-11-26T10:15:00",
                                                     "2026-11-26T10:15:00+24:00",
                                                     "2026-11-26T10:15:00+02:60",
                                                     "2026-11-26T10:15:00.Z",
                                                     "26-11-2026",
                                                     "2026-1-1",
                                                     "2026-11-26T10:15Z",
                                                     "2026-11-26x",
                                                     "2026-11-26T10:15:00+0200"};
      static const std::vector<std::string> durations = {"5x",
                                                         "-5d",
                                                         "d",
                                                         "99999999999999999999d",
                                                         "999999999999999999w",
                                                         "15250284452472w",
                                                         "106751991167301d",
                                                         "2562047788015216h",
                                                         "153722867280912931m",
                                                         "5 d",
                                                         "+5d",
                                                         "5.5d",
                                                         ""};
      if (s.attr->type.t == T::kTime)
        parent[s.key] = rng.pick(times);
      else if (s.attr->type.t == T::kDur)
        parent[s.key] = rng.pick(durations);
      else if (s.attr->type.t == T::kEnum)
        parent[s.key] = "not_a_value";
      else if (s.attr->type.t == T::kInt)
        parent[s.key] = nlohmann::ordered_json(9223372036854775808ull);
      else
        return generate_bad_request(m, rng, path);
      break;
    }
    default:
      if (!here || s.attr->type.t != T::kRecord) return generate_bad_request(m, rng, path);
      parent[s.key]["unknown_fact"] = true;
      path += ".unknown_fact";
      break;
  }
  return doc.dump();
}

}  // namespace ethos::differential
