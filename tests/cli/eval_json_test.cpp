// `ethos eval --json`: the trace it carries (compact by default, full on
// request), and a stream of requests written as one decision per line.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support.hpp"

using namespace ethos::testing;
using ojson = nlohmann::ordered_json;

namespace {

std::string pack() { return source_dir() + "/policies"; }
std::string example(const std::string& name) { return pack() + "/examples/" + name; }

std::vector<ojson> lines_of(const std::string& out) {
  std::vector<ojson> decisions;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) decisions.push_back(ojson::parse(line));
  return decisions;
}

// Every shipped example, one per line (a JSON string holds no raw newline).
std::string examples_ndjson(size_t* count) {
  std::string out;
  *count = 0;
  for (const auto& e : std::filesystem::directory_iterator(pack() + "/examples")) {
    if (e.path().extension() != ".json") continue;
    std::ifstream in(e.path());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::erase(text, '\n');
    out += text + "\n";
    ++*count;
  }
  return out;
}

}  // namespace

TEST_CASE(
    "ethos eval --json carries the compact trace by default and every rule with --trace "
    "full") {
  const std::string request = example("12-imminent-threat-disclosure.json");
  auto compact = run_ethos({"eval", "--json", "--policies", pack(), request});
  auto full = run_ethos({"eval", "--json", "--trace", "full", "--policies", pack(), request});
  INFO(compact.err << full.err);
  REQUIRE(compact.exit_code == 0);
  REQUIRE(full.exit_code == 0);
  ojson c = ojson::parse(compact.out), f = ojson::parse(full.out);
  CHECK(f.at("trace").size() > 50);  // the shipped pack's every rule
  for (const auto& [rule, status] : f.at("trace").items()) CHECK(status.is_string());
  CHECK(c.at("trace") == compact_trace_of(f.at("trace")));
  CHECK(!c.at("trace").at("overridden").empty());  // the disclosure overrides confidentiality
  // Only the trace differs.
  c.erase("trace");
  f.erase("trace");
  CHECK(c == f);
  auto none = run_ethos({"eval", "--json", "--trace", "none", "--policies", pack(), request});
  CHECK(!ojson::parse(none.out).contains("trace"));
  auto bad = run_ethos({"eval", "--json", "--trace", "most", "--policies", pack(), request});
  CHECK(bad.exit_code != 0);
  CHECK(bad.out.empty());
}

TEST_CASE("ethos eval --json writes a stream of requests as one decision per line, in order") {
  size_t count = 0;
  const std::string one_pass = examples_ndjson(&count);
  REQUIRE(count >= 25);
  std::string stream;
  for (int pass = 0; pass < 40; ++pass) stream += one_pass;  // past the output buffer's size
  auto r = run_ethos({"eval", "--json", "--policies", pack(), "-"}, stream);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto decisions = lines_of(r.out);
  REQUIRE(decisions.size() == 40 * count);
  auto expected = lines_of(run_ethos({"eval", "--json", "--policies", pack(), "-"}, one_pass).out);
  REQUIRE(expected.size() == count);
  for (size_t k = 0; k < decisions.size(); ++k) {
    INFO("line " << k);
    CHECK(decisions[k] == expected[k % count]);
  }
}

TEST_CASE("ethos eval --json --flush writes the same decisions as the buffered output") {
  size_t count = 0;
  const std::string stream = examples_ndjson(&count);
  auto buffered = run_ethos({"eval", "--json", "--policies", pack(), "-"}, stream);
  auto flushed = run_ethos({"eval", "--json", "--flush", "--policies", pack(), "-"}, stream);
  REQUIRE(buffered.exit_code == 0);
  REQUIRE(flushed.exit_code == 0);
  CHECK(flushed.out == buffered.out);
}

TEST_CASE("ethos eval --json writes the decisions before a bad request and names it") {
  std::ifstream in(example("01-session-summary-enterprise-baa.json"));
  std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::erase(good, '\n');
  auto r = run_ethos({"eval", "--json", "--policies", pack(), "-"},
                     good + "\n" + R"({"request_id": 7})" + "\n" + good + "\n");
  CHECK(r.exit_code == 4);
  CHECK(lines_of(r.out).size() == 2);
  CHECK_THAT(r.err, Catch::Matchers::Contains("-[1]: "));
}

TEST_CASE("a default decision on a 10,000-rule pack is sized by the rules that decided it") {
  const std::string dir = temp_dir() + "/pack";
  auto made =
      run_ethos({"bench", "--synthetic", "10000", "--seed", "1", "-n", "1", "--write", dir});
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  // The first 200 of its requests.
  std::ifstream in(dir + "/requests.jsonl");
  std::string requests;
  std::string line;
  for (int k = 0; k < 200 && std::getline(in, line); ++k) requests += line + "\n";
  auto compact = run_ethos({"eval", "--json", "--policies", dir, "-"}, requests);
  auto full = run_ethos({"eval", "--json", "--trace", "full", "--policies", dir, "-"}, requests);
  INFO(compact.err);
  REQUIRE(compact.exit_code == 0);
  auto c = lines_of(compact.out), f = lines_of(full.out);
  REQUIRE(c.size() == 200);
  REQUIRE(f.size() == 200);
  std::istringstream text(compact.out);
  for (size_t k = 0; k < c.size(); ++k) {
    std::getline(text, line);
    const ojson& trace = c[k].at("trace");
    INFO("request " << k << ": " << trace.dump());
    CHECK(trace == compact_trace_of(f[k].at("trace")));
    CHECK(f[k].at("trace").size() == 10000);
    // What it lists is what decided; the 10,000 rules are two counts.
    const size_t listed =
        trace.at("fired").size() + trace.at("unknown").size() + trace.at("overridden").size();
    CHECK(listed + trace.at("not_fired").get<size_t>() + trace.at("not_applicable").get<size_t>() ==
          10000);
    CHECK(listed <= 60);  // at most the ~40 rules of the request's region, and their overrides
    // The whole decision: a fixed part, then each listed rule and reason.
    size_t bound = 1024;
    for (const char* status : {"fired", "unknown", "overridden"})
      for (const auto& rule : trace.at(status)) bound += rule.get<std::string>().size() + 3;
    for (const char* part : {"reasons", "obligations", "advice", "overridden"})
      bound += c[k].at(part).dump().size();
    CHECK(line.size() <= bound);
    CHECK(line.size() * 20 < ojson(f[k]).dump().size());
  }
  std::filesystem::remove_all(dir);
}
