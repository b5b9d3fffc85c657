#include <ethos/lsp/framing.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace ethos::lsp {

namespace {

constexpr std::string_view kLengthHeader = "content-length";

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 60)) out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  return out;
}

// The body length of a header block, or an error.
bool parse_headers(std::string_view block, size_t& length, std::string& error) {
  bool have_length = false;
  while (!block.empty()) {
    size_t eol = block.find("\r\n");
    std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol == std::string_view::npos ? block.size() : eol + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      error = "header line `" + shown(line) + "` has no `:`";
      return false;
    }
    std::string_view name = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
    if (!iequal(name, kLengthHeader)) continue;  // Content-Type and others: not needed
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
      error = "`Content-Length` is not a byte count: `" + shown(value) + "`";
      return false;
    }
    have_length = true;
  }
  if (!have_length) error = "the header has no `Content-Length`";
  return have_length;
}

}  // namespace

MessageReader::MessageReader(ReadFn read, size_t max_body)
    : read_(std::move(read)), max_body_(max_body) {}

bool MessageReader::fill() {
  if (eof_) return false;
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {  // drop what was consumed
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  char chunk[65536];
  size_t n = read_(chunk, sizeof chunk);
  if (n == 0) {
    eof_ = true;
    return false;
  }
  buf_.append(chunk, n);
  return true;
}

void MessageReader::resync() {
  for (;;) {
    std::string_view rest(buf_.data() + pos_, buf_.size() - pos_);
    for (size_t i = 0; i + kLengthHeader.size() <= rest.size(); ++i) {
      // Anywhere, not only at a line start: the unread body of the bad message
      // runs straight into the next header.
      if (iequal(rest.substr(i, kLengthHeader.size()), kLengthHeader)) {
        pos_ += i;
        return;
      }
    }
    // Keep a tail that may be the start of the header split across reads.
    size_t keep = std::min(rest.size(), kLengthHeader.size());
    pos_ = buf_.size() - keep;
    if (!fill()) {
      pos_ = buf_.size();
      return;
    }
  }
}

ReadResult MessageReader::next() {
  ReadResult r;
  // After a bad header, skip to the next one now, not before the caller has
  // answered the bad one: finding it may wait for more input.
  if (resync_) {
    resync_ = false;
    resync();
  }
  size_t end = std::string::npos;
  for (;;) {
    end = buf_.find("\r\n\r\n", pos_);
    if (end != std::string::npos) break;
    if (buf_.size() - pos_ > kMaxHeaderBytes) {
      r.kind = ReadResult::Kind::kBadHeader;
      r.error = "the header is over " + std::to_string(kMaxHeaderBytes) + " bytes";
      pos_ = buf_.size();
      resync_ = true;
      return r;
    }
    if (!fill()) {
      std::string_view rest(buf_.data() + pos_, buf_.size() - pos_);
      r.kind = ReadResult::Kind::kEnd;
      if (rest.find_first_not_of(" \t\r\n") != std::string_view::npos)
        r.error = "the input ended inside a message header";
      pos_ = buf_.size();
      return r;
    }
  }
  if (end - pos_ > kMaxHeaderBytes) {
    r.kind = ReadResult::Kind::kBadHeader;
    r.error = "the header is over " + std::to_string(kMaxHeaderBytes) + " bytes";
    pos_ = end + 4;
    resync_ = true;
    return r;
  }
  size_t length = 0;
  std::string error;
  // Blank lines between messages are tolerated: skip leading CR/LF.
  size_t start = pos_;
  while (start < end && (buf_[start] == '\r' || buf_[start] == '\n')) ++start;
  if (!parse_headers(std::string_view(buf_).substr(start, end - start), length, error)) {
    r.kind = ReadResult::Kind::kBadHeader;
    r.error = std::move(error);
    pos_ = end + 4;
    resync_ = true;
    return r;
  }
  pos_ = end + 4;
  if (length > max_body_) {
    r.kind = ReadResult::Kind::kTooLarge;
    r.error = "a message of " + std::to_string(length) + " bytes is over the limit of " +
              std::to_string(max_body_) + " bytes";
    size_t left = length;
    for (;;) {
      size_t take = std::min(left, buf_.size() - pos_);
      pos_ += take;
      left -= take;
      if (left == 0 || !fill()) break;
    }
    return r;
  }
  while (buf_.size() - pos_ < length) {
    if (!fill()) {
      r.kind = ReadResult::Kind::kEnd;
      r.error = "the input ended inside a message body";
      pos_ = buf_.size();
      return r;
    }
  }
  r.kind = ReadResult::Kind::kMessage;
  r.body = buf_.substr(pos_, length);
  pos_ += length;
  return r;
}

std::string frame(std::string_view body) {
  std::string out = "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out += body;
  return out;
}

}  // namespace ethos::lsp
