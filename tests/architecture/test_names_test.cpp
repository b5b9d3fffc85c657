// ctest runs each Catch2 test by its name (catch_discover_tests), and the
// names pass through CMake lists. A `;` in a name splits it into two entries,
// neither of which matches the test; CMake does not split a list inside square
// brackets, so a name with `[` or `]` merges the names after it into one entry
// that matches none. Either way those tests never ran, and ctest said they
// passed: this hid 44 tests once. Test names keep `;`, `[` and `]` out; each
// entry also runs with --warn NoTests (tests/CMakeLists.txt), so an entry that
// runs nothing fails.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"

namespace fs = std::filesystem;

namespace {

// "tests/engine/x_test.cpp:12: NAME" for each test name holding `;`, `[` or `]`.
std::vector<std::string> unsplittable_names(const fs::path& tests) {
  std::vector<std::string> out;
  const std::regex test_case(R"re((?:TEST_CASE|TEMPLATE_TEST_CASE)\s*\(\s*"((?:[^"\\]|\\.)*)")re");
  for (const auto& file : fs::recursive_directory_iterator(tests)) {
    if (file.path().extension() != ".cpp") continue;
    std::ifstream in(file.path());
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      std::smatch m;
      if (std::regex_search(line, m, test_case) &&
          m[1].str().find_first_of(";[]") != std::string::npos)
        out.push_back(fs::relative(file.path(), tests.parent_path()).string() + ":" +
                      std::to_string(n) + ": " + m[1].str());
    }
  }
  return out;
}

}  // namespace

TEST_CASE(
    "no test name holds a semicolon or a square bracket, which would keep tests from running") {
  const auto found = unsplittable_names(fs::path(ethos::testing::source_dir()) / "tests");
  std::ostringstream list;
  for (const auto& f : found) list << f << "\n";
  INFO(list.str());
  CHECK(found.empty());
}
