// Splitting a text that holds several requests into the texts of each one,
// before binding. The one splitter of requests: the command line reads a
// stream, the service a batch. Each element's own text is checked when it is
// bound, so that the binder says what is wrong with it (with its JSON path).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ethos {

enum class RequestSplit {
  // One request, a JSON array of them, JSON lines (NDJSON) or values one
  // after another, separated by space or commas. Every value is passed on,
  // an object or not; an unterminated one is passed on to the end of the
  // text, so that the binder says where it ends. Errors: an empty text,
  // an empty list, a `}` or `]` that closes nothing.
  kStream,
  // Exactly one JSON array (the text's first non-space byte is its `[`), with
  // its own punctuation checked: a comma between elements, the closing `]`,
  // nothing after it. An empty array gives no element and no error (the
  // caller says how many a batch must hold). Errors are "malformed JSON: ...
  // at byte N".
  kBatch,
};

// Appends to `out` the text of each request in `text` (views into `text`).
// On failure sets `error` (what is wrong, where) and returns false; `out`
// then holds no request.
bool split_requests(std::string_view text, RequestSplit how, std::vector<std::string_view>& out,
                    std::string& error);

}  // namespace ethos
