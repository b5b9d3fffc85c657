// Shared by the fuzz targets: where the sources are, reading files, and a
// loud stop when a property fails (libFuzzer and the corpus replayer both
// report an abort as a crash, with the input that caused it).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include <ethos/check/policy.hpp>

namespace ethos::fuzz {

// The source tree: $ETHOS_SOURCE_DIR, else the one this binary was built from.
inline std::filesystem::path source_dir() {
  if (const char* env = std::getenv("ETHOS_SOURCE_DIR"); env && *env) return env;
  return ETHOS_SOURCE_DIR;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

[[noreturn]] inline void property_failed(const std::string& what) {
  std::fprintf(stderr, "ethos fuzz: property failed: %s\n", what.c_str());
  std::abort();
}

// A request every attribute of `schema` is set in (or, with `absent`, every
// optional one left out), from plain values: something to evaluate any
// policy that compiled against.
inline std::string plain_request(const Schema& schema, bool absent) {
  std::function<nlohmann::json(uint32_t)> value = [&](uint32_t slot) -> nlohmann::json {
    const Attribute& a = schema.attributes[slot];
    switch (a.type.kind) {
      case ValueType::kBool:
        return true;
      case ValueType::kInt:
        return 18;
      case ValueType::kString:
        return "phi";
      case ValueType::kTimestamp:
        return "2026-11-26T10:00:00Z";
      case ValueType::kDuration:
        return "30d";
      case ValueType::kSet:
        return nlohmann::json::array({"phi"});
      case ValueType::kEnum:
        return schema.enums[a.type.enum_id].empty() ? "" : schema.enums[a.type.enum_id].back();
      case ValueType::kRecord: {
        nlohmann::json o = nlohmann::json::object();
        for (uint32_t c : a.children)
          if (!(absent && schema.attributes[c].optional)) o[schema.attributes[c].name] = value(c);
        return o;
      }
      default:
        return nullptr;
    }
  };
  nlohmann::json doc = nlohmann::json::object();
  for (uint32_t slot : schema.top_level)
    if (!(absent && schema.attributes[slot].optional))
      doc[schema.attributes[slot].name] = value(slot);
  return doc.dump();
}

}  // namespace ethos::fuzz
