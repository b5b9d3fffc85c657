// `ethos bench` says what it is doing on stderr (a generated pack of 100,000
// rules takes minutes): with --progress or when stderr is a terminal, so
// that a script's output is unchanged.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support.hpp"

using namespace ethos::testing;
using Catch::Matchers::Contains;

TEST_CASE("bench --progress names each stage on stderr as it starts") {
  auto r = run_ethos({"bench", "--synthetic", "20", "-n", "50", "--json", "--progress"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.err, Contains("] generating a pack of 20 rules\n"));
  CHECK_THAT(r.err, Contains("] compiling it\n"));
  CHECK_THAT(r.err, Contains("] binding "));
  CHECK_THAT(r.err, Contains("] running 50 decisions from bound requests\n"));
  CHECK_THAT(r.err, Contains("] running 50 decisions from JSON text\n"));
  CHECK_THAT(r.err, Contains("] done\n"));
  CHECK(r.err.find("generating") < r.err.find("compiling"));
  CHECK(r.err.find("compiling") < r.err.find("running"));
  CHECK(nlohmann::json::parse(r.out)["rules"] == 20);
}

TEST_CASE("bench writes nothing on stderr without --progress when stderr is not a terminal") {
  auto r = run_ethos({"bench", "--synthetic", "20", "-n", "50", "--json"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(nlohmann::json::parse(r.out)["rules"] == 20);
}
