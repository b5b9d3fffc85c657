// The curl examples of docs/api.md work as written: every ```sh block runs,
// in order, in one bash script against a live server, and each curl line
// gets the status its trailing comment names (200 when it names none).
#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>
#include <sstream>

#include "server_fixture.hpp"
#include "support.hpp"

namespace {

// The ```sh blocks of a markdown text, as logical lines (continuations joined).
std::vector<std::string> sh_lines(const std::string& markdown) {
  std::vector<std::string> out;
  std::istringstream in(markdown);
  std::string line, pending;
  bool in_sh = false;
  while (std::getline(in, line)) {
    if (!in_sh) {
      in_sh = line == "```sh";
      continue;
    }
    if (line.rfind("```", 0) == 0) {
      in_sh = false;
      continue;
    }
    if (!line.empty() && line.back() == '\\') {
      pending += line.substr(0, line.size() - 1);
      continue;
    }
    pending += line;
    if (!pending.empty()) out.push_back(pending);
    pending.clear();
  }
  return out;
}

}  // namespace

TEST_CASE("every curl example in docs/api.md works as written", "[serve][docs]") {
  std::string doc = ethos::testing::slurp_file(ethos::testing::source_dir() + "/docs/api.md");
  std::vector<std::string> lines = sh_lines(doc);
  REQUIRE(lines.size() >= 15);
  ethos::testing::ServeProcess s;
  std::string work = s.dir() + "/work";
  std::filesystem::create_directories(work);
  std::filesystem::create_directory_symlink(ethos::testing::source_dir() + "/policies",
                                            work + "/policies");

  std::string script =
      "set -euo pipefail\n"
      "check() { local want=$1; shift; local got; got=$(\"$@\" -o \"$BODY\" -w '%{http_code}');\n"
      "  if [[ \"$got\" != \"$want\" ]]; then echo \"expected $want, got $got: $*\"; cat "
      "\"$BODY\"; exit 1; fi;\n"
      "  echo \"ok $want: $*\"; }\n";
  static const std::regex status_comment(R"(^(.*?)\s+#\s*(\d{3})\s*$)");
  size_t curls = 0;
  for (const auto& l : lines) {
    if (l.rfind("curl ", 0) == 0) {
      std::smatch m;
      std::string cmd = l, want = "200";
      if (std::regex_match(l, m, status_comment)) {
        cmd = m[1];
        want = m[2];
      }
      script += "check " + want + " " + cmd + "\n";
      ++curls;
    } else {
      script += l + "\n";
    }
  }
  CHECK(curls >= 15);
  std::string script_path = s.dir() + "/api.sh";
  ethos::testing::write_file(script_path, script);
  std::string cmd = "cd '" + work + "' && ETHOS_URL=http://127.0.0.1:" + std::to_string(s.port()) +
                    " DECIDER=" + s.decider + " AUDITOR=" + s.auditor + " ADMIN=" + s.admin +
                    " BODY='" + s.dir() + "/body' bash '" + script_path + "' > '" + s.dir() +
                    "/api.out' 2>&1";
  int rc = std::system(cmd.c_str());
  INFO(script);
  INFO(ethos::testing::slurp_file(s.dir() + "/api.out"));
  CHECK(rc == 0);
}
