// The sources table of policies/README.md says, for every declared source of
// the shipped pack, its jurisdiction, its dates, its confidence and every
// rule that cites it: this test keeps the table in step with the pack.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include <ethos/api/engine.hpp>

namespace fs = std::filesystem;

namespace {

fs::path source_dir() {
  const char* dir = std::getenv("ETHOS_SOURCE_DIR");
  return dir ? fs::path(dir) : fs::current_path();
}

// The cells of the README table row that starts with "| `id` |".
std::vector<std::string> row_of(const std::string& readme, const std::string& id) {
  const std::string head = "| `" + id + "` |";
  size_t at = readme.find("\n" + head);
  if (at == std::string::npos) return {};
  size_t end = readme.find('\n', at + 1);
  std::string line = readme.substr(at + 1, end - at - 1);
  std::vector<std::string> cells;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, '|')) {
    size_t b = cell.find_first_not_of(' '), e = cell.find_last_not_of(' ');
    cells.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
  }
  return cells;  // "", id, law, jurisdiction, from, until, confidence, cited by
}

}  // namespace

TEST_CASE(
    "the readme's sources table gives every source's jurisdiction, dates, confidence and citing "
    "rules") {
  const auto engine = ethos::api::Engine::load({(source_dir() / "policies").string()});
  const auto& policy = *engine.bundle().policy;
  std::ifstream f(source_dir() / "policies/README.md");
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string readme = ss.str();

  std::map<int32_t, std::set<std::string>> citing;
  for (const auto& r : policy.rules)
    for (const auto& c : r.citations)
      if (c.source >= 0) citing[c.source].insert(r.id);

  REQUIRE(policy.sources.size() >= 20);
  for (size_t i = 0; i < policy.sources.size(); ++i) {
    const auto& s = policy.sources[i];
    INFO("source " << s.id);
    const auto cells = row_of(readme, s.id);
    REQUIRE(cells.size() >= 8);
    CHECK(cells[3] == s.jurisdiction);
    CHECK(cells[4] == (s.from_text.empty() ? "—" : s.from_text));
    CHECK(cells[5] == (s.until_text.empty() ? "—" : s.until_text));
    CHECK(cells[6] == s.confidence);
    const auto& rules = citing[static_cast<int32_t>(i)];
    CHECK_FALSE(rules.empty());
    for (const auto& rule : rules) {
      INFO("cited by " << rule);
      CHECK(cells[7].find("`" + rule + "`") != std::string::npos);
    }
  }
}
