// The Language Server Protocol's base protocol: JSON-RPC messages framed by
// a `Content-Length` header (LSP 3.17, "Base Protocol"). The reader takes
// bytes from any source and never trusts them: a header block without a
// valid length, a body over the size limit and the end of input are results,
// never exceptions, and the reader resynchronises on the next header.
// Not thread-safe: one reader per input.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace ethos::lsp {

// The largest body the server reads (bytes); a larger one is skipped unread.
inline constexpr size_t kDefaultMaxMessageBytes = size_t{64} << 20;
// The largest header block (all header lines of one message).
inline constexpr size_t kMaxHeaderBytes = 8192;

struct ReadResult {
  enum class Kind {
    kMessage,    // `body` holds one message's bytes (not yet parsed as JSON)
    kEnd,        // the input ended (between messages, or inside one: `error` says so)
    kBadHeader,  // the header block was not valid; `error` says why
    kTooLarge,   // Content-Length over the limit; the body was skipped, `error` says so
  };
  Kind kind = Kind::kEnd;
  std::string body;
  std::string error;
};

class MessageReader {
 public:
  // `read` fills up to `n` bytes of `buf` and returns how many it read (0 at the end).
  using ReadFn = std::function<size_t(char* buf, size_t n)>;
  explicit MessageReader(ReadFn read, size_t max_body = kDefaultMaxMessageBytes);
  ReadResult next();

 private:
  bool fill();  // reads more input into buf_; false at the end
  // Drops input up to the next `Content-Length` header.
  void resync();

  ReadFn read_;
  size_t max_body_;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
  bool resync_ = false;  // a bad header was reported: skip to the next one first
};

// A body with its header: `Content-Length: N\r\n\r\n` then the body.
std::string frame(std::string_view body);

}  // namespace ethos::lsp
