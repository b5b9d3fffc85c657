// SHA-256 (ethos/base/hash.hpp): the one hashing API.
#include <catch2/catch.hpp>

#include <ethos/base/hash.hpp>

TEST_CASE("sha-256 of parts is the sha-256 of the parts joined") {
  ethos::Sha256 sha;
  std::string joined, parts;
  sha.hex("sha256:abc\n{\"request_id\":\"r-1\"}", joined);
  sha.hex({"sha256:abc", "\n", "{\"request_id\":\"r-1\"}"}, parts);
  CHECK(parts == joined);
  CHECK(parts.size() == 64);
  // The well-known digest of "abc" (FIPS 180-2, appendix B.1), split anywhere.
  sha.hex({"a", "", "bc"}, parts);
  CHECK(parts == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
