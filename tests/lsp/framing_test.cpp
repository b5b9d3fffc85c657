// The base protocol's reader, in process: headers, limits and resynchronising.
#include <catch2/catch.hpp>

#include <ethos/lsp/framing.hpp>

using ethos::lsp::MessageReader;
using ethos::lsp::ReadResult;
using Kind = ethos::lsp::ReadResult::Kind;

namespace {

// A reader over `input`, handing out at most `chunk` bytes per read.
MessageReader reader_of(const std::string& input, size_t chunk = 3, size_t max = 1024) {
  auto pos = std::make_shared<size_t>(0);
  return MessageReader(
      [input, pos, chunk](char* buf, size_t n) {
        size_t take = std::min({n, chunk, input.size() - *pos});
        input.copy(buf, take, *pos);
        *pos += take;
        return take;
      },
      max);
}

}  // namespace

TEST_CASE("messages split across reads come out whole") {
  auto r = reader_of(ethos::lsp::frame("{\"a\":1}") + ethos::lsp::frame("[]"), 1);
  ReadResult m = r.next();
  CHECK(m.kind == Kind::kMessage);
  CHECK(m.body == "{\"a\":1}");
  m = r.next();
  CHECK(m.body == "[]");
  CHECK(r.next().kind == Kind::kEnd);
}

TEST_CASE("header names are read in any case, with Content-Type ignored") {
  auto r = reader_of(
      "content-length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}");
  ReadResult m = r.next();
  CHECK(m.kind == Kind::kMessage);
  CHECK(m.body == "{}");
}

TEST_CASE("a bad header is reported and the reader finds the next message") {
  auto r = reader_of("Content-Length: -5\r\n\r\n{garbage}" + ethos::lsp::frame("{}"));
  ReadResult m = r.next();
  CHECK(m.kind == Kind::kBadHeader);
  CHECK(m.error == "`Content-Length` is not a byte count: `-5`");
  m = r.next();
  CHECK(m.kind == Kind::kMessage);
  CHECK(m.body == "{}");
}

TEST_CASE("a header line without a colon is a bad header") {
  auto r = reader_of("Content-Length 2\r\n\r\n{}");
  ReadResult m = r.next();
  CHECK(m.kind == Kind::kBadHeader);
  CHECK(m.error == "header line `Content-Length 2` has no `:`");
}

TEST_CASE("a body over the limit is skipped and the next message read") {
  auto r = reader_of(
      "Content-Length: 2000\r\n\r\n" + std::string(2000, 'x') + ethos::lsp::frame("{}"), 100);
  ReadResult m = r.next();
  CHECK(m.kind == Kind::kTooLarge);
  CHECK(m.error == "a message of 2000 bytes is over the limit of 1024 bytes");
  m = r.next();
  CHECK(m.kind == Kind::kMessage);
  CHECK(m.body == "{}");
}

TEST_CASE("a header block over 8 KiB is refused") {
  auto r = reader_of("X-Filler: " + std::string(10000, 'a'), 4096);
  ReadResult m = r.next();
  CHECK(m.kind == Kind::kBadHeader);
  CHECK(m.error == "the header is over 8192 bytes");
}

TEST_CASE("input that ends inside a body is the end, with a reason") {
  auto r = reader_of("Content-Length: 10\r\n\r\n{}");
  ReadResult m = r.next();
  CHECK(m.kind == Kind::kEnd);
  CHECK(m.error == "the input ended inside a message body");
}

TEST_CASE("a length too large for the machine is a bad header, not an overflow") {
  auto r = reader_of("Content-Length: 99999999999999999999999\r\n\r\n{}");
  CHECK(r.next().kind == Kind::kBadHeader);
}
