// The AuthZEN mapping a policy pack declares (`authzen.json` beside the
// schema; docs/api.md, "AuthZEN"): which property of an AuthZEN evaluation
// (subject, action, resource, context) fills which attribute of the pack's
// request schema. A loaded mapping is checked against the schema it serves
// and is immutable: share it freely between threads.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <ethos/check/policy.hpp>

namespace ethos {

// A mapping file that cannot serve the schema: `path` is the JSON path in
// the file (`$.map[3].to`), what() says why.
class AuthzenMappingError : public std::runtime_error {
 public:
  AuthzenMappingError(std::string where, const std::string& message)
      : std::runtime_error(message), path(std::move(where)) {}
  std::string path;
};

// One line of the mapping: the value at `from` in an evaluation goes to the
// request attribute `to`. A record attribute takes an object whose keys are
// the record's fields (keys the schema does not know are ignored and
// reported). `values`, when given, translates a string (e.g. an action
// name) and refuses any string it does not list.
struct AuthzenMapEntry {
  std::string to;                 // "patient", "patient.id"
  std::string from;               // "resource.properties.patient", or "@request_id"
  std::vector<std::string> keys;  // `from` split at its dots
  std::vector<std::pair<std::string, std::string>> values;
  uint32_t slot = 0;        // `to` in the schema
  bool request_id = false;  // `from` is "@request_id": the X-Request-ID header, or a generated id
};

struct AuthzenMapping {
  static constexpr const char* kFileName = "authzen.json";
  std::string file;
  std::string description;
  std::vector<std::string> subject_types;   // empty: any type
  std::vector<std::string> resource_types;  // empty: any type
  std::vector<AuthzenMapEntry> entries;
};

// Reads a mapping file's text and checks it against `schema`: every `to` is
// a schema attribute named once, every `from` starts at subject, action,
// resource or context, and every attribute a request must carry is fed by
// some entry. Throws AuthzenMappingError.
AuthzenMapping load_authzen_mapping(std::string_view text, std::string file, const Schema& schema);

// Where the four entities of one evaluation come from, as JSON paths of the
// AuthZEN body: "$.subject", or "$.evaluations[2].subject" in a batch. An
// entity taken from the batch's defaults keeps its top-level path.
struct AuthzenOrigins {
  std::string subject = "$.subject";
  std::string action = "$.action";
  std::string resource = "$.resource";
  std::string context = "$.context";
  const std::string& of(std::string_view entity) const;
};

// The entry that feeds the request attribute at `request_path` (a binder
// path without its `$`/`$[k]` head: "patient.age", "data.categories[1]"):
// the one whose `to` is the longest prefix of it; null when none does.
const AuthzenMapEntry* authzen_entry_for(const AuthzenMapping& mapping,
                                         std::string_view request_path);

// The AuthZEN property that feeds the request attribute at `request_path`:
// "$.resource.properties.patient.age" for "patient.age"; "header
// X-Request-ID" for the request id; empty when no entry feeds it.
std::string authzen_source_path(const AuthzenMapping& mapping, std::string_view request_path,
                                const AuthzenOrigins& origins);

}  // namespace ethos
