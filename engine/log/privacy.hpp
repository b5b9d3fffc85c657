// Privacy of the decision log itself: the key that pseudonymises, and the
// request as the log keeps it (docs/decision-log.md, "Privacy").
//
// - `@pseudonymize` strings (and members of sets of strings) are replaced by
//   "ps-" + the first 32 hex digits of HMAC-SHA-256(key, value): still a
//   string, so the stored request binds and replays; equal values give equal
//   pseudonyms under one key, so an auditor can follow one patient.
//   `@pseudonymize` on a record applies to the strings inside it; on any
//   other type a value cannot keep its type, so it is redacted instead.
// - `@redact` values are dropped; only their presence is kept: a present
//   value is stored as its type's zero value ("", 0, false, the first enum
//   value, the epoch, []), an absent one stays absent (null). So the stored request
//   still binds, and a rule that only tests `is present` / `is missing`
//   replays exactly.
//
// A rule that reads the *value* of such an attribute sees the pseudonym or
// the placeholder on replay; its decision may then not reproduce.
// RequestPrivacy lists those attributes (`sensitive_reads`) so that the log
// can warn when a bundle is first recorded and replay can explain a
// difference.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ethos/check/policy.hpp>
#include <ethos/eval/request.hpp>

namespace ethos {

// The secret that keys pseudonyms, and its public fingerprint.
struct LogKey {
  std::string secret;
  std::string id;             // "k-" + 16 hex digits: names the key, reveals nothing
  bool insecure_dev = false;  // the well-known development key
};

// Where the key comes from, in this order: `file` (its contents, without a
// trailing newline), the environment variable ETHOS_LOG_KEY, and only when
// `insecure_dev_key` is set, a fixed development key that protects nothing.
struct LogKeySource {
  std::string file;
  bool insecure_dev_key = false;
};

inline constexpr size_t kMinLogKeyBytes = 16;

// Throws std::runtime_error with a one-line, lowercase message when there is
// no key, the file cannot be read, or the key is shorter than kMinLogKeyBytes.
LogKey load_log_key(const LogKeySource& source);
LogKey log_key_from_secret(std::string secret);
LogKey insecure_dev_log_key();

// Writes a bound request as the log stores it: the positional form of
// stored_request.hpp, with the privacy rules above. Canonical: one request
// has one stored form.
// Immutable once built: share it between threads. The policy must outlive it.
class RequestPrivacy {
 public:
  RequestPrivacy(const Policy& policy, LogKey key);

  // `out` receives the JSON; `request_id` the request id as stored (a
  // pseudonym if the schema pseudonymises it).
  void write(const BoundRequest& request, std::string& out, std::string& request_id) const;

  // Attributes whose value a rule reads (not only their presence) and whose
  // stored value differs from the evaluated one, by path.
  const std::vector<std::string>& sensitive_reads() const { return sensitive_reads_; }
  std::string pseudonym(std::string_view value) const;

 private:
  enum class Treatment : uint8_t { kKeep, kPseudonymize, kRedact };
  void write_fields(const BoundRequest& r, const std::vector<uint32_t>& fields, std::string& out,
                    std::string& request_id) const;
  void write_value(const BoundRequest& r, uint32_t slot, std::string& out) const;
  void write_placeholder(uint32_t slot, std::string& out) const;

  const Policy& policy_;
  LogKey key_;
  std::vector<Treatment> treatment_;            // by slot
  std::vector<std::string_view> symbol_texts_;  // by symbol id
  std::vector<std::string> sensitive_reads_;
};

}  // namespace ethos
