// Bearer tokens for the decision service (docs/api.md, "Tokens").
//
// A token is a random secret ("ethos_" + 64 hex digits) shown once when it is
// made; the tokens file keeps only its SHA-256, with a name, a role and the
// time it was made. Authentication hashes the presented secret and compares
// it with every stored hash in constant time.
//
// Roles are disjoint: a `decider` may ask for decisions; an `auditor` may read
// the log, verify the chain and replay; an `admin` may reload the policy.
// Every role may read the active policy and the metrics.
//
// Thread-safety: a TokenStore is a value. Share a const one freely; the
// service swaps in a new one when the file changes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ethos {

enum class Role : uint8_t { kDecider, kAuditor, kAdmin };
const char* role_name(Role r);
std::optional<Role> parse_role(std::string_view name);

struct TokenRecord {
  std::string name;  // unique in the file: [A-Za-z0-9._-], at most 64 characters
  Role role = Role::kDecider;
  int64_t created = 0;  // seconds since the epoch (wall clock when made)
  std::string sha256;   // lowercase hex of SHA-256(secret)
};

class TokenStore {
 public:
  // Reads a tokens file. A file that does not exist is an empty store when
  // `missing_ok`; otherwise, and for a malformed file, throws
  // std::runtime_error with a one-line, lowercase message.
  static TokenStore load(const std::string& path, bool missing_ok = false);
  // Writes the file atomically (a temporary file renamed over it), mode 0600.
  void save(const std::string& path) const;

  // Makes a token; returns its secret, which is stored nowhere. Throws
  // std::invalid_argument for a bad or duplicate name.
  std::string add(const std::string& name, Role role, int64_t now);
  // Removes the token named `name`; false when there is none.
  bool revoke(std::string_view name);
  // A name not yet used: "<role>-<n>".
  std::string unused_name(Role role) const;

  const std::vector<TokenRecord>& tokens() const { return tokens_; }

  // The token whose secret this is, or null. Every stored hash is compared,
  // each in constant time.
  const TokenRecord* authenticate(std::string_view secret) const;

 private:
  std::vector<TokenRecord> tokens_;
};

// A fresh secret from the operating system's random source.
std::string new_token_secret();
bool valid_token_name(std::string_view name);

}  // namespace ethos
