// `ethos report` and `ethos graph --module` (docs/console.md).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support.hpp"

using namespace ethos::testing;
using Catch::Matchers::Contains;

namespace {

std::string pack() { return source_dir() + "/policies"; }

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The example requests beside the pack, one request per file.
std::vector<std::string> example_files() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(pack() + "/examples"))
    if (e.path().extension() == ".json") files.push_back(e.path().string());
  return files;
}

// A log of the example decisions (one per file), recorded with a fixed key.
std::string example_log(const std::string& dir) {
  std::ofstream(dir + "/log.key") << std::string(64, '7');
  std::vector<std::string> args = {"eval",          "--policies",     pack(),          "--record",
                                   dir + "/log.db", "--log-key-file", dir + "/log.key"};
  for (const auto& f : example_files()) args.push_back(f);
  REQUIRE(run_ethos(args).exit_code == 0);
  return dir + "/log.db";
}

}  // namespace

TEST_CASE("ethos report writes one HTML file with the counts, the verified chain and the charts") {
  std::string dir = temp_dir();
  std::string log = example_log(dir);
  auto r = run_ethos({"report", log, "-o", dir + "/report.html"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::string html = read(dir + "/report.html");
  CHECK_THAT(html, Contains("Chain verified: yes."));
  CHECK_THAT(html,
             Contains("<tr><th>all</th><th>" + std::to_string(example_files().size()) + "</th>"));
  CHECK_THAT(html, Contains("<svg class=\"chart\""));
  CHECK_THAT(html, Contains("Policy bundles in force"));
  // Self-contained: no script and nothing fetched from elsewhere.
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("src=") == std::string::npos);
  CHECK(html.find("href=") == std::string::npos);
}

TEST_CASE("ethos report --candidate summarises the decisions a changed rule would change") {
  std::string dir = temp_dir();
  std::string log = example_log(dir);
  std::filesystem::copy(pack(), dir + "/candidate", std::filesystem::copy_options::recursive);
  std::string privacy = read(dir + "/candidate/privacy.ethos");
  std::string from = "when identifiable_health_data and vendor.trains_on_inputs";
  REQUIRE(privacy.find(from) != std::string::npos);
  privacy.replace(privacy.find(from), from.size(), "when false and vendor.trains_on_inputs");
  std::ofstream(dir + "/candidate/privacy.ethos") << privacy;
  auto r = run_ethos({"report", log, "--candidate", dir + "/candidate", "-o", dir + "/r.html"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  // Only the example whose vendor trains on identifiable inputs changes.
  CHECK_THAT(read(dir + "/r.html"), Contains("1 of " + std::to_string(example_files().size()) +
                                             " decisions would change"));
}

TEST_CASE("ethos report --pdf prints the report through headless Chromium") {
  std::string dir = temp_dir();
  std::string log = example_log(dir);
  auto r = run_ethos({"report", log, "-o", dir + "/r.html", "--pdf", dir + "/r.pdf"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(read(dir + "/r.pdf").rfind("%PDF-", 0) == 0);
}

TEST_CASE("ethos report refuses a time that is not one") {
  auto r = run_ethos({"report", "x.db", "--from", "yesterday", "-o", temp_dir() + "/r.html"});
  CHECK(r.exit_code == 64);
  CHECK_THAT(r.err, Contains("`yesterday` is not a time"));
}

TEST_CASE("ethos graph --module draws that module in its box, with a legend, and no other rules") {
  auto r = run_ethos({"graph", pack(), "--module", "us_il"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("subgraph cluster_legend"));
  CHECK_THAT(r.out, Contains("label=\"module us_il\""));
  CHECK_THAT(r.out, Contains("us_il.illinois_therapy_is_conducted_by_a_licensed_professional"));
  CHECK(r.out.find("privacy.baa_required") == std::string::npos);
  auto bad = run_ethos({"graph", pack(), "--module", "nosuch"});
  CHECK(bad.exit_code == 64);
  CHECK_THAT(bad.err, Contains("no module `nosuch`"));
}
