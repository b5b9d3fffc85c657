// `ethos eval` and `ethos bench` on requests that break the shipped schema's
// ranges and invariants: refused with the bad-input exit code and the path.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support.hpp"

using Catch::Matchers::Contains;
using ethos::testing::run_ethos;
using ethos::testing::source_dir;
using ethos::testing::temp_dir;
using nlohmann::json;

namespace {

// The permit example with `patch` merged in, written to a file.
std::string request_file(const std::string& patch) {
  std::ifstream in(source_dir() + "/policies/examples/01-session-summary-enterprise-baa.json");
  json r = json::parse(in);
  r.merge_patch(json::parse(patch));
  std::string path = temp_dir() + "/request.json";
  std::ofstream(path) << r.dump();
  return path;
}

}  // namespace

TEST_CASE("ethos eval refuses an age outside its range with exit 4 and the path") {
  auto r = run_ethos({"eval", "--policies", source_dir() + "/policies",
                      request_file(R"({"patient": {"age": -3}})")});
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.err,
             Contains(": $.patient.age: `-3` is outside the range of `patient.age`, 0..130"));
  CHECK(r.out.find("PERMIT") == std::string::npos);
}

TEST_CASE("ethos eval refuses a request that breaks an invariant with exit 4 and its reason") {
  auto r = run_ethos({"eval", "--policies", source_dir() + "/policies",
                      request_file(R"({"patient": {"populations": ["child"]}})")});
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.err, Contains(": $: the request breaks invariant `a_child_is_under_18`: "));
  auto ok = run_ethos({"eval", "--policies", source_dir() + "/policies",
                       request_file(R"({"patient": {"populations": ["child"], "age": 15}})")});
  CHECK(ok.exit_code != 4);
}

TEST_CASE("ethos bench refuses an input request that breaks an invariant") {
  auto r = run_ethos({"bench", "--policies", source_dir() + "/policies", "-n", "10",
                      request_file(R"({"data": {"identifiability": "deidentified"}})")});
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.err, Contains("deidentified_data_holds_no_direct_identifier"));
}
