// SHA-256 and HMAC-SHA-256 (OpenSSL libcrypto), as lowercase hex: the one
// hashing API of ethos. The classes fetch the algorithm once and reuse their
// context, which makes a short message several times cheaper than fetching
// it per call: keep one per thread on hot paths (the decision log, token
// checks). The functions use a per-thread Sha256, or a fresh HmacSha256.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

namespace ethos {

// Lowercase hex of `n` bytes, appended to `out`.
void append_hex(std::string& out, const unsigned char* bytes, size_t n);
// The bytes that `hex` spells (either case), into `out`; false if it is not
// an even number of hex digits.
bool decode_hex(std::string_view hex, std::string& out);

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  // Lowercase hex of SHA-256(data), written to `out` (64 characters).
  void hex(std::string_view data, std::string& out);
  // The same of the parts one after another, without joining them first.
  void hex(std::initializer_list<std::string_view> parts, std::string& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class HmacSha256 {
 public:
  explicit HmacSha256(std::string_view key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;
  // Lowercase hex of HMAC-SHA-256(key, data), written to `out` (64 characters).
  void hex(std::string_view data, std::string& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One-shot forms of the above. Thread-safe.
std::string sha256_hex(std::string_view data);
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// Constant-time equality for secrets of equal length.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace ethos
