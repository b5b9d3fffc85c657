// The request as the decision log stores it: the bound values in schema
// order, written by RequestPrivacy (privacy.hpp) and read back here.
//
// The stored form is positional JSON, defined by the schema of the bundle
// that made the decision: the top-level attributes' values as an array in
// declaration order, a record as a nested array of its fields, `null` for an
// absent attribute; bool as 0/1, int, timestamp (unix seconds) and duration
// (seconds) as integers, an enum as the index of its value, a string as a
// string, a set as a sorted array of strings. It is about a fifth of the
// request's JSON, which is what lets the log keep up with the evaluator.
//
//   ["r-2026-000101",1795688100,["US","MA",0,3],...]
//
// expand_stored_request() turns it back into an ordinary request for people
// (`ethos show`) and for a candidate bundle whose schema differs.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <ethos/check/policy.hpp>
#include <ethos/eval/request.hpp>

namespace ethos {

// True when `stored` is in the keyed form that logs used before the
// positional one (an ordinary request JSON object). Both are read.
bool is_keyed(std::string_view stored);

// True when requests bound to `a` and `b` have the same slots: the same
// attributes, in the same order, with the same types, optionality and enum
// values. Then a stored request written under `a` binds directly under `b`.
bool same_layout(const Schema& a, const Schema& b);

// Binds stored requests directly (no keyed JSON) to a policy whose schema
// has the same layout as the one they were written under. One per thread.
class StoredRequestBinder {
 public:
  explicit StoredRequestBinder(const Policy& policy);
  ~StoredRequestBinder();
  StoredRequestBinder(const StoredRequestBinder&) = delete;
  StoredRequestBinder& operator=(const StoredRequestBinder&) = delete;

  // False, with a one-line reason, when `stored` does not fit the schema.
  bool bind(std::string_view stored, BoundRequest& out, std::string& error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The stored request as an ordinary request JSON object (keys in schema
// order; pseudonyms and redaction placeholders as stored). `schema` must be
// the one it was written under. Throws std::runtime_error when it does not fit.
std::string expand_stored_request(const Schema& schema, std::string_view stored,
                                  bool pretty = false);

}  // namespace ethos
