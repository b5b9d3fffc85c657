// SHA-256 and HMAC-SHA-256 for the decision log's hot paths: the algorithm
// is fetched once and the context reused, which makes a short message
// several times cheaper than the one-shot functions of hash.hpp (same
// results). Not thread-safe: one object per thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace ethos {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  // Lowercase hex of SHA-256(data), written to `out` (64 characters).
  void hex(std::string_view data, std::string& out);

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

}  // namespace ethos
