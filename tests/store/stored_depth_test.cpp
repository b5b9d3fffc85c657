// A stored request is written back out as JSON (`ethos show`, GET
// /v1/decisions/{id}, replay reports): one nested deeper than any request
// could be, which only a damaged log holds, is refused, not recursed into.
#include <catch2/catch.hpp>
#include <stdexcept>

#include <ethos/log/stored_request.hpp>

#include "support.hpp"

using namespace ethos;
using namespace ethos::testing;

TEST_CASE("expanding a stored request nested past the limit throws instead of crashing") {
  auto p = compile("module m \"M\"\nrule r: permit because \"b\" cite \"c\"\n");
  std::string deep = "{\"a\": " + std::string(200000, '[') + std::string(200000, ']') + "}";
  CHECK_THROWS_WITH(expand_stored_request(p->schema, deep),
                    Catch::Matchers::StartsWith("the stored request nests deeper than 1024 levels "
                                                "at $.a[0][0]"));
}
