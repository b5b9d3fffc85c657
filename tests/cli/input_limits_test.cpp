// The ethos binary on input that is deep, empty or not a request: it never
// crashes, never reports success for nothing decided, and names the place.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support.hpp"

using namespace ethos::testing;
using Catch::Matchers::Contains;

namespace {

std::string pack() { return source_dir() + "/policies"; }

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string example(const std::string& name) { return slurp(pack() + "/examples/" + name); }
const char* kPermit = "01-session-summary-enterprise-baa.json";
const char* kDeny = "02-consumer-chatbot-identifiable-notes.json";

std::string repeat(const std::string& s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

std::string write_file(const std::string& dir, const std::string& name, const std::string& text) {
  std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// One line per request: the example with the line breaks of its layout removed.
std::string one_line(const std::string& json) { return nlohmann::json::parse(json).dump(); }

std::string policy_dir(const std::string& policy) {
  std::string dir = temp_dir();
  write_file(dir, "schema.ethos", kTestSchema);
  write_file(dir, "policy.ethos", policy);
  return dir;
}

std::string rule_when(const std::string& cond) {
  return "module m \"M\"\nrule a: forbid when " + cond + " because \"x\" cite \"y\"\n";
}

// The first line of stderr (long source lines follow it).
std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

}  // namespace

TEST_CASE("ethos eval exits 4 on a request file that holds a JSON string") {
  std::string f = write_file(temp_dir(), "r.json", "\"permit me\"");
  auto r = run_ethos({"eval", "--exit-code", "--policies", pack(), f});
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.err, Contains("r.json: $: a request is a JSON object"));
  CHECK(r.out.empty());
}

TEST_CASE("ethos eval exits 4 on a request file that holds an empty list") {
  std::string f = write_file(temp_dir(), "r.json", "[ ]");
  auto r = run_ethos({"eval", "--exit-code", "--policies", pack(), f});
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.err, Contains("r.json: $: the list holds no request"));
}

TEST_CASE("ethos eval names the element of a list that is not an object and exits 4") {
  std::string f = write_file(temp_dir(), "r.json", "[" + example(kPermit) + ", \"x\"]");
  auto r = run_ethos({"eval", "--exit-code", "--policies", pack(), f});
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.err, Contains("r.json[1]: $: a request is a JSON object"));
}

TEST_CASE("ethos eval reads NDJSON, one request per line") {
  std::string f = write_file(temp_dir(), "r.ndjson",
                             one_line(example(kPermit)) + "\n" + one_line(example(kDeny)) + "\n");
  auto r = run_ethos({"eval", "--json", "--policies", pack(), f});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::istringstream lines(r.out);
  std::string line;
  std::vector<std::string> outcomes;
  while (std::getline(lines, line)) outcomes.push_back(nlohmann::json::parse(line)["outcome"]);
  CHECK(outcomes == std::vector<std::string>{"permit", "deny"});
}

TEST_CASE("ethos bench reads NDJSON, one request per line") {
  std::string f = write_file(temp_dir(), "r.ndjson",
                             one_line(example(kPermit)) + "\n" + one_line(example(kDeny)) + "\n");
  auto r = run_ethos({"bench", "--json", "-n", "100", "--policies", pack(), f});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["requests"] == 2);
}

TEST_CASE("ethos bench exits 4 with the file and the path on input that holds no request") {
  std::string dir = temp_dir();
  for (const auto& [text, message] :
       {std::pair<std::string, std::string>{"[]", "$: the list holds no request"},
        {"\"x\"", "$: a request is a JSON object"}}) {
    auto r =
        run_ethos({"bench", "-n", "100", "--policies", pack(), write_file(dir, "r.json", text)});
    INFO(text);
    CHECK(r.exit_code == 4);
    CHECK_THAT(r.err, Contains("r.json: " + message));
  }
}

TEST_CASE("ethos eval accepts a request file that starts with a UTF-8 byte order mark") {
  std::string f = write_file(temp_dir(), "r.json", "\xEF\xBB\xBF[" + example(kPermit) + "]");
  auto r = run_ethos({"eval", "--exit-code", "--policies", pack(), f});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("PERMIT"));
}

TEST_CASE("every command that reads policy text answers deep nesting with a diagnostic") {
  std::string request = write_file(temp_dir(), "r.json", example(kPermit));
  for (const std::string& cond : {repeat("(", 100000) + "patient.opted_out" + repeat(")", 100000),
                                  repeat("not ", 100000) + "patient.opted_out"}) {
    std::string dir = policy_dir(rule_when(cond));
    for (const std::vector<std::string>& args :
         std::vector<std::vector<std::string>>{{"check", dir},
                                               {"fmt", "--check", dir},
                                               {"lint", dir},
                                               {"graph", dir},
                                               {"test", dir},
                                               {"eval", "--policies", dir, request}}) {
      auto r = run_ethos(args);
      INFO(args[0] << ": " << first_line(r.err));
      CHECK(r.exit_code == 1);
      CHECK_THAT(first_line(r.err),
                 Contains("policy.ethos:2:") &&
                     Contains(": error: expression nests deeper than 256 levels"));
    }
  }
}

TEST_CASE("ethos eval names the JSON path and the limit of a request nested too deep") {
  std::string f =
      write_file(temp_dir(), "r.json", repeat("{\"a\": ", 100000) + "1" + repeat("}", 100000));
  auto r = run_ethos({"eval", "--policies", pack(), f});
  CHECK(r.exit_code == 4);
  CHECK(r.err == "" + f + ": $" + repeat(".a", 256) + ": JSON nests deeper than 256 levels\n");
}

TEST_CASE("the --max-depth option sets one limit for policy text and requests") {
  std::string dir =
      policy_dir(rule_when(repeat("(", 300) + "patient.opted_out" + repeat(")", 300)));
  CHECK(run_ethos({"check", dir}).exit_code == 1);
  CHECK(run_ethos({"check", "--max-depth", "300", dir}).exit_code == 0);
  std::string plain = policy_dir(rule_when("patient.opted_out"));
  std::string f = write_file(temp_dir(), "r.json", repeat("{\"a\": ", 5) + "1" + repeat("}", 5));
  CHECK_THAT(run_ethos({"eval", "--max-depth", "4", "--policies", plain, f}).err,
             Contains("r.json: $.a.a.a.a: JSON nests deeper than 4 levels"));
  CHECK(run_ethos({"check", "--max-depth", "5000", dir}).exit_code == 64);
}

TEST_CASE("ethos test names a given request nested too deep instead of crashing") {
  std::string dir = policy_dir(rule_when("patient.opted_out") +
                               "test \"deep\" {\n  given \"deep.json\"\n  expect permit\n}\n");
  write_file(dir, "deep.json", repeat("[", 100000) + repeat("]", 100000));
  auto r = run_ethos({"test", dir});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out + r.err, Contains("the given request `deep.json` nests deeper than 256 levels "
                                     "at $" +
                                     repeat("[0]", 256)));
}
