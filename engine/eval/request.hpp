// Binding a request (JSON text) to the schema's slots, in one pass.
// A BoundRequest is what the evaluator reads: no string lookups remain.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <ethos/check/policy.hpp>

namespace ethos {

// The value of one slot. Which member is meaningful depends on the slot's type:
// num holds bool/int/timestamp/duration/enum index, or a string's symbol id
// (-1 when the policy never mentions the string); text holds a string's text;
// set indexes BoundRequest::sets.
struct Value {
  int64_t num = 0;
  std::string_view text;
  uint32_t set = 0;
};

struct SetValue {
  std::vector<int32_t> symbols;          // sorted, the policy's symbols
  std::vector<std::string_view> others;  // members the policy never mentions
};

// A request bound to a policy's schema. Movable, not copyable (views into its arena).
struct BoundRequest {
  std::vector<Value> values;     // by slot
  std::vector<uint8_t> present;  // by slot
  std::vector<SetValue> sets;
  std::string arena;  // backing store for every text view
  std::string request_id;
  int64_t time = 0;

  // Empties it for `slots` attributes, with room for `text_bytes` of text so
  // that views into the arena stay valid while binding. Both binders start here.
  void reset(size_t slots, size_t text_bytes) {
    values.assign(slots, Value{});
    present.assign(slots, 0);
    sets.clear();
    arena.clear();
    arena.reserve(text_bytes);
    request_id.clear();
    time = 0;
  }

  BoundRequest() = default;
  BoundRequest(BoundRequest&&) = default;
  BoundRequest& operator=(BoundRequest&&) = default;
  BoundRequest(const BoundRequest&) = delete;
  BoundRequest& operator=(const BoundRequest&) = delete;
};

struct BindError {
  std::string path;     // JSON path, e.g. `$.patient.age`
  std::string message;  // lowercase, one line
  // Set when the request fits the schema's types but breaks one of its
  // invariants: the invariant's id (the message holds its `because`).
  std::string invariant;
};

// Whether a bound request keeps the schema's ranges and invariants
// (Policy::invariants): false with `error` naming the first broken one.
// RequestBinder::bind() checks both itself; this is for requests bound by
// other means (stored requests in a replay).
bool check_request(const Policy& policy, const BoundRequest& request, BindError& error);

// The JSON path (`$.a.b[2]`) of the first object or array in `json` nested
// deeper than `max_depth` levels, the outermost value being level 1; nullopt
// when none is. Reads without recursion, so any depth is safe; malformed text
// is read up to its first error.
std::optional<std::string> json_too_deep(std::string_view json, uint32_t max_depth);

// Binds JSON requests to one policy. Holds a reusable parser: use one per
// thread. The policy must outlive the binder.
//
// Two paths bind the same requests to the same result: a scanner that binds
// as it reads, for requests in the common form (no escapes, ASCII text,
// integers, each field known, named once, required ones there), and simdjson
// followed by a walk of the document, which takes every other request and
// names the error of a bad one. The first gives up on anything else, so
// errors always come from the second.
class RequestBinder {
 public:
  enum class Path { kFastThenFull, kFullOnly };
  explicit RequestBinder(const Policy& policy, Path path = Path::kFastThenFull);
  ~RequestBinder();
  RequestBinder(const RequestBinder&) = delete;
  RequestBinder& operator=(const RequestBinder&) = delete;

  // True on success; otherwise `error` names the JSON path and the problem.
  // A request that breaks the schema's ranges or invariants is refused too
  // (docs/language.md, "Ranges and invariants").
  // A request nested deeper than the policy's limit (Policy::max_depth) is
  // refused at the path of the first object or array past it; a leading
  // UTF-8 byte order mark is skipped.
  bool bind(std::string_view json, BoundRequest& out, BindError& error);
  // Whether the last successful bind() took the scanner's path (for tests).
  bool last_was_fast() const;

 private:
  bool finish(BoundRequest& out, BindError& error) const;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ethos
