#include "synthetic.hpp"

#include <random>

namespace ethos::cli {
namespace {

constexpr size_t kRulesPerModule = 20;
constexpr int kCategories = 12;
constexpr int kVendors = 40;
constexpr int kPurposes = 8;

const char* kSchema = R"(// A generated schema for scaling benchmarks (ethos bench --synthetic).
schema request {
  request_id: string
  time: timestamp
  jurisdiction: { region: string @fixed, eu: bool @fixed }
  purpose: {
    category: enum { p0, p1, p2, p3, p4, p5, p6, p7 }
    patient_facing: bool
  }
  vendor: { name: string, baa: bool, retention_days: int, trains: bool? }
  data: { categories: set<string>, identified: bool }
  consent: { date: timestamp?, given: bool }
  patient: { id: string @pseudonymize, age: int @fixed, opted_out: bool }
  risk: { score: int }
}
)";

}  // namespace

SyntheticPack make_synthetic_pack(size_t rules, uint64_t seed, size_t request_count) {
  SyntheticPack pack;
  std::mt19937_64 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  size_t modules = (rules + kRulesPerModule - 1) / kRulesPerModule;
  size_t regions = std::max<size_t>(1, (modules + 1) / 2);
  pack.files.emplace_back("schema.ethos", kSchema);
  std::string text;
  text.reserve(rules * 220);
  size_t made = 0;
  for (size_t m = 0; m < modules; ++m) {
    text +=
        "module region" + std::to_string(m) + " \"generated module " + std::to_string(m) + "\"\n";
    text += "  applies when jurisdiction.region == \"R" + std::to_string(m / 2) + "\"\n";
    text += "obligation review_" + std::to_string(m) +
            " \"a clinician reviews the output (module " + std::to_string(m) + ")\"\n";
    size_t first = made;
    for (size_t r = 0; r < kRulesPerModule && made < rules; ++r, ++made) {
      static const char* effects[] = {"forbid",   "forbid", "permit",
                                      "escalate", "advise", "require"};
      std::string effect = effects[pick(6)];
      if (r == 0) effect = "require";  // every module's obligation is used
      if (effect == "require") effect += " review_" + std::to_string(m);
      std::string cond;
      switch (pick(7)) {
        case 0:
          cond = "vendor.retention_days > " + std::to_string(pick(90));
          break;
        case 1:
          cond = "data.categories has \"cat" + std::to_string(pick(kCategories)) +
                 "\" and not vendor.baa";
          break;
        case 2:
          cond =
              "data.identified and vendor.name == \"vendor" + std::to_string(pick(kVendors)) + "\"";
          break;
        case 3:
          cond = "consent.date + " + std::to_string(30 + pick(700)) + " days < now";
          break;
        case 4:
          cond = "patient.age < " + std::to_string(12 + pick(10)) + " and not consent.given";
          break;
        case 5:
          cond = "purpose.category in [p" + std::to_string(pick(kPurposes)) + ", p" +
                 std::to_string(pick(kPurposes)) + "] and purpose.patient_facing";
          break;
        default:
          cond = "risk.score >= " + std::to_string(50 + pick(50)) + " or vendor.trains";
          break;
      }
      text += "rule r" + std::to_string(made) + ": " + effect + "\n  when " + cond + "\n";
      if (r > 0 && pick(10) == 0)
        text += "  overrides r" +
                std::to_string(first + static_cast<size_t>(pick(static_cast<int>(r)))) + "\n";
      text += "  because \"generated rule " + std::to_string(made) +
              "\"\n  cite \"synthetic benchmark\"\n";
    }
    if (text.size() > (1u << 20) || m + 1 == modules) {
      pack.files.emplace_back("modules_" + std::to_string(pack.files.size()) + ".ethos",
                              std::move(text));
      text.clear();
    }
  }
  pack.rules = made;
  pack.modules = modules;
  for (size_t i = 0; i < request_count; ++i) {
    std::string cats;
    int n = 1 + pick(3);
    for (int k = 0; k < n; ++k)
      cats += std::string(k ? "," : "") + "\"cat" + std::to_string(pick(kCategories)) + "\"";
    std::string req =
        "{\"request_id\":\"s-" + std::to_string(i) +
        "\",\"time\":\"2026-11-26T10:00:00Z\","
        "\"jurisdiction\":{\"region\":\"R" +
        std::to_string(static_cast<size_t>(rng() % regions)) +
        "\",\"eu\":false},"
        "\"purpose\":{\"category\":\"p" +
        std::to_string(pick(kPurposes)) + "\",\"patient_facing\":" + (pick(2) ? "true" : "false") +
        "},"
        "\"vendor\":{\"name\":\"vendor" +
        std::to_string(pick(kVendors)) + "\",\"baa\":" + (pick(3) ? "true" : "false") +
        ",\"retention_days\":" + std::to_string(pick(120)) + (pick(4) ? ",\"trains\":false" : "") +
        "},"
        "\"data\":{\"categories\":[" +
        cats + "],\"identified\":" + (pick(2) ? "true" : "false") +
        "},"
        "\"consent\":{" +
        (pick(5) ? "\"date\":\"2026-0" + std::to_string(1 + pick(9)) + "-01\"," : "") +
        "\"given\":" + (pick(4) ? "true" : "false") +
        "},"
        "\"patient\":{\"id\":\"p-" +
        std::to_string(i) + "\",\"age\":" + std::to_string(10 + pick(70)) +
        ",\"opted_out\":false},"
        "\"risk\":{\"score\":" +
        std::to_string(pick(100)) + "}}";
    pack.requests.push_back(std::move(req));
  }
  return pack;
}

}  // namespace ethos::cli
