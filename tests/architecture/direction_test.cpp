// The engine's stages depend one way only (engine/CMakeLists.txt,
// docs/architecture.md): a file in engine/STAGE may include the headers of
// its own stage and of the stages below it, never of a stage above or beside.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include <unistd.h>
#include <algorithm>

namespace fs = std::filesystem;

namespace {

// The pipeline's order; stages of equal rank (authoring and log; service, api and lsp) are siblings
// and may not include each other.
const std::map<std::string, int> kRank = {
    {"base", 0},      {"syntax", 1}, {"graph", 2},   {"check", 3}, {"compile", 4}, {"eval", 5},
    {"authoring", 6}, {"log", 6},    {"service", 7}, {"api", 7},   {"lsp", 7},
};

// "engine/eval/decision.cpp:3 includes <ethos/log/...> (log is not below eval)" for each breach.
std::vector<std::string> direction_breaches(const fs::path& engine) {
  std::vector<std::string> out;
  const std::regex include(R"(^\s*#\s*include\s*[<"]ethos/([a-z_]+)/)");
  for (const auto& dir : fs::directory_iterator(engine)) {
    if (!dir.is_directory()) continue;
    const std::string stage = dir.path().filename().string();
    auto own = kRank.find(stage);
    if (own == kRank.end()) {
      out.push_back(stage + "/ is not a stage of the pipeline");
      continue;
    }
    for (const auto& file : fs::recursive_directory_iterator(dir.path())) {
      const auto ext = file.path().extension();
      if (ext != ".cpp" && ext != ".hpp") continue;
      std::ifstream in(file.path());
      std::string line;
      for (int n = 1; std::getline(in, line); ++n) {
        std::smatch m;
        if (!std::regex_search(line, m, include)) continue;
        const std::string target = m[1].str();
        auto it = kRank.find(target);
        const bool ok = it != kRank.end() && (target == stage || it->second < own->second);
        if (!ok)
          out.push_back(fs::relative(file.path(), engine.parent_path()).string() + ":" +
                        std::to_string(n) + " includes <ethos/" + target + "/...> (" + target +
                        " is not below " + stage + ")");
      }
    }
  }
  return out;
}

fs::path source_dir() {
  const char* dir = std::getenv("ETHOS_SOURCE_DIR");
  return dir ? fs::path(dir) : fs::current_path();
}

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

}  // namespace

TEST_CASE("no engine stage includes a header of a stage above or beside it") {
  const auto breaches = direction_breaches(source_dir() / "engine");
  for (const auto& b : breaches) UNSCOPED_INFO(b);
  CHECK(breaches.empty());
}

TEST_CASE("the direction check names a lower stage that includes a higher one") {
  const fs::path root =
      fs::temp_directory_path() / ("ethos-direction-" + std::to_string(::getpid()));
  write(root / "engine/eval/x.cpp",
        "#include <ethos/base/time.hpp>\n#include <ethos/log/sqlite.hpp>\n");
  write(root / "engine/log/y.cpp",
        "#include <ethos/eval/decision.hpp>\n#include <ethos/authoring/lint.hpp>\n");
  auto breaches = direction_breaches(root / "engine");
  fs::remove_all(root);
  std::sort(breaches.begin(), breaches.end());
  REQUIRE(breaches.size() == 2);
  CHECK(breaches[0] == "engine/eval/x.cpp:2 includes <ethos/log/...> (log is not below eval)");
  CHECK(breaches[1] ==
        "engine/log/y.cpp:2 includes <ethos/authoring/...> (authoring is not below log)");
}

TEST_CASE("the direction check refuses a folder that is not a stage") {
  const fs::path root =
      fs::temp_directory_path() / ("ethos-direction-x-" + std::to_string(::getpid()));
  write(root / "engine/misc/z.cpp", "\n");
  auto breaches = direction_breaches(root / "engine");
  fs::remove_all(root);
  REQUIRE(breaches.size() == 1);
  CHECK(breaches[0] == "misc/ is not a stage of the pipeline");
}
