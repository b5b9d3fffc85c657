// Binding a request (JSON text) to the schema's slots, in one pass.
// A BoundRequest is what the evaluator reads: no string lookups remain.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policy.hpp"

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
};

// Binds JSON requests to one policy. Holds a reusable parser: use one per
// thread. The policy must outlive the binder.
class RequestBinder {
 public:
  explicit RequestBinder(const Policy& policy);
  ~RequestBinder();
  RequestBinder(const RequestBinder&) = delete;
  RequestBinder& operator=(const RequestBinder&) = delete;

  // True on success; otherwise `error` names the JSON path and the problem.
  bool bind(std::string_view json, BoundRequest& out, BindError& error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ethos
