#include <ethos/eval/request_split.hpp>

#include <array>
#include <cstring>

namespace ethos {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
// std::isspace in the C locale: what the stream's scan has always skipped.
bool is_c_space(char c) { return is_space(c) || c == '\v' || c == '\f'; }

// The closing quote of the string whose content starts at `i`, or npos. A
// quote closes it unless an odd run of backslashes escapes it; memchr jumps
// from quote to quote, since a stream of requests is mostly string bytes.
size_t string_end(std::string_view text, size_t i) {
  while (i < text.size()) {
    const void* q = std::memchr(text.data() + i, '"', text.size() - i);
    if (!q) return std::string_view::npos;
    const auto at = static_cast<size_t>(static_cast<const char*>(q) - text.data());
    size_t backslashes = 0;
    while (at - backslashes > i && text[at - backslashes - 1] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return at;
    i = at + 1;
  }
  return std::string_view::npos;
}

// The end (one past) of the JSON value that starts at `i`, or npos when the
// text ends inside it. An object or array ends at the bracket that closes it
// (brackets counted alike, strings and their escapes respected), a string at
// its closing quote, anything else (a number, a word) before the first byte
// for which `stops(c)` holds.
template <class Stops>
size_t value_end(std::string_view text, size_t i, Stops stops) {
  char first = text[i];
  if (first == '{' || first == '[') {
    // Only quotes and brackets matter between strings: skip the rest by table.
    static constexpr auto kMatters = [] {
      std::array<bool, 256> t{};
      for (unsigned char c : std::string_view("\"{}[]")) t[c] = true;
      return t;
    }();
    int depth = 0;
    for (; i < text.size(); ++i) {
      while (i < text.size() && !kMatters[static_cast<unsigned char>(text[i])]) ++i;
      if (i == text.size()) break;
      char c = text[i];
      if (c == '"') {
        i = string_end(text, i + 1);
        if (i == std::string_view::npos) return i;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return i + 1;
      }
    }
    return std::string_view::npos;
  }
  if (first == '"') {
    const size_t end = string_end(text, i + 1);
    return end == std::string_view::npos ? end : end + 1;
  }
  while (i < text.size() && !stops(text[i])) ++i;
  return i;
}

bool split_stream(std::string_view text, std::vector<std::string_view>& out, std::string& error) {
  size_t i = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;  // a UTF-8 byte order mark
  i = text.find_first_not_of(" \t\r\n", i);
  if (i == std::string_view::npos) {
    error = "no request found (empty input)";
    return false;
  }
  bool array = text[i] == '[';
  if (array) ++i;
  const size_t first = out.size();
  auto scalar_stops = [](char c) {
    return c == ',' || c == '[' || c == ']' || c == '{' || c == '}' || c == '"' || is_space(c);
  };
  while (true) {
    while (i < text.size() && (is_c_space(text[i]) || text[i] == ',')) ++i;
    if (i >= text.size()) break;
    char c = text[i];
    if (c == '}' || c == ']') {
      if (array && c == ']') {
        array = false;
        if (out.size() == first) {
          error = "the list holds no request";
          return false;
        }
        ++i;
        continue;
      }
      error = "unbalanced `" + std::string(1, c) + "` at byte " + std::to_string(i);
      out.resize(first);
      return false;
    }
    size_t end = value_end(text, i, scalar_stops);
    if (end == std::string_view::npos) {
      // Unterminated: pass the rest through so the binder reports where.
      out.push_back(text.substr(i));
      break;
    }
    out.push_back(text.substr(i, end - i));
    i = end;
  }
  return true;
}

bool split_batch(std::string_view text, std::vector<std::string_view>& out, std::string& error) {
  size_t i = text.find('[') + 1;
  const size_t first = out.size();
  auto skip_space = [&] {
    while (i < text.size() && is_space(text[i])) ++i;
  };
  auto fail = [&](const std::string& what) {
    error = "malformed JSON: " + what + " at byte " + std::to_string(i);
    out.resize(first);
    return false;
  };
  auto scalar_stops = [](char c) { return c == ',' || c == ']' || is_space(c); };
  skip_space();
  if (i < text.size() && text[i] == ']') {
    ++i;
  } else {
    for (;;) {
      skip_space();
      if (i >= text.size()) return fail("the batch ends before its `]`");
      size_t start = i;
      size_t end = value_end(text, i, scalar_stops);
      if (end == std::string_view::npos) {
        i = text.size();
        if (text[start] == '"') return fail("the batch ends inside a string");
        return fail("the batch ends inside request " + std::to_string(out.size() - first));
      }
      i = end;
      // A scalar is passed on: the binder will say that a request is an object.
      if (i == start) return fail("expected a request");
      out.push_back(text.substr(start, i - start));
      skip_space();
      if (i >= text.size()) return fail("the batch ends before its `]`");
      if (text[i] == ',') {
        ++i;
        continue;
      }
      if (text[i] == ']') {
        ++i;
        break;
      }
      return fail("expected `,` or `]` after request " + std::to_string(out.size() - first - 1));
    }
  }
  skip_space();
  if (i != text.size()) return fail("unexpected text after the batch's `]`");
  return true;
}

}  // namespace

bool split_requests(std::string_view text, RequestSplit how, std::vector<std::string_view>& out,
                    std::string& error) {
  return how == RequestSplit::kStream ? split_stream(text, out, error)
                                      : split_batch(text, out, error);
}

}  // namespace ethos
