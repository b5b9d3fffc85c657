// Fuzz target `lsp`: any bytes as the input of the language server's message
// reader (engine/lsp/framing.hpp), read in chunks whose size the first byte
// picks. Every result must be a message, a bad header, a message over the
// limit or the end, never a crash or a hang; a message is never over the
// limit; and a message framed again reads back as the same bytes.
#include <cstdint>
#include <string>

#include <ethos/lsp/framing.hpp>
#include "fuzz_support.hpp"

using namespace ethos;

namespace {

constexpr size_t kMaxBody = 4096;

lsp::MessageReader reader_of(std::string_view input, size_t chunk, size_t* pos) {
  return lsp::MessageReader(
      [input, chunk, pos](char* buf, size_t n) {
        size_t take = std::min({n, chunk, input.size() - *pos});
        input.copy(buf, take, *pos);
        *pos += take;
        return take;
      },
      kMaxBody);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t chunk = 1 + data[0] % 64;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t pos = 0;
  auto reader = reader_of(input, chunk, &pos);
  // Each result consumes input or ends it, so this many rounds always suffice.
  for (size_t rounds = 0; rounds <= input.size() + 1; ++rounds) {
    lsp::ReadResult r = reader.next();
    if (r.kind == lsp::ReadResult::Kind::kEnd) return 0;
    if (r.kind == lsp::ReadResult::Kind::kMessage) {
      if (r.body.size() > kMaxBody) fuzz::property_failed("a message over the limit was read");
      std::string again = lsp::frame(r.body);
      size_t p2 = 0;
      auto echo = reader_of(again, chunk, &p2);
      lsp::ReadResult back = echo.next();
      if (back.kind != lsp::ReadResult::Kind::kMessage || back.body != r.body)
        fuzz::property_failed("a framed message did not read back as itself");
    } else if (r.error.empty()) {
      fuzz::property_failed("a refused message without a reason");
    }
  }
  fuzz::property_failed("the reader did not reach the end of its input");
}
