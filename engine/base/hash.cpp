#include <ethos/base/hash.hpp>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <stdexcept>

namespace ethos {

void append_hex(std::string& out, const unsigned char* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  const size_t at = out.size();
  out.resize(at + n * 2);
  for (size_t i = 0; i < n; ++i) {
    out[at + 2 * i] = kDigits[bytes[i] >> 4];
    out[at + 2 * i + 1] = kDigits[bytes[i] & 15];
  }
}

bool decode_hex(std::string_view hex, std::string& out) {
  auto digit = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  out.clear();
  if (hex.size() % 2) return false;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
  }
  return true;
}

struct Sha256::Impl {
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Impl() {
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
  }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  if (!impl_->md || !impl_->ctx) throw std::runtime_error("sha-256 is not available");
}
Sha256::~Sha256() = default;

void Sha256::hex(std::string_view data, std::string& out) { hex({data}, out); }

void Sha256::hex(std::initializer_list<std::string_view> parts, std::string& out) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  bool ok = EVP_DigestInit_ex2(impl_->ctx, impl_->md, nullptr) == 1;
  for (std::string_view part : parts)
    ok = ok && EVP_DigestUpdate(impl_->ctx, part.data(), part.size()) == 1;
  if (!ok || EVP_DigestFinal_ex(impl_->ctx, md, &len) != 1)
    throw std::runtime_error("sha-256 failed");
  out.clear();
  append_hex(out, md, len);
}

struct HmacSha256::Impl {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = mac ? EVP_MAC_CTX_new(mac) : nullptr;
  ~Impl() {
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
  }
};

HmacSha256::HmacSha256(std::string_view key) : impl_(std::make_unique<Impl>()) {
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  if (!impl_->ctx || EVP_MAC_init(impl_->ctx, reinterpret_cast<const unsigned char*>(key.data()),
                                  key.size(), params) != 1)
    throw std::runtime_error("hmac-sha-256 is not available");
}
HmacSha256::~HmacSha256() = default;

void HmacSha256::hex(std::string_view data, std::string& out) {
  unsigned char md[EVP_MAX_MD_SIZE];
  size_t len = 0;
  // A null key re-initialises with the key given at construction.
  if (EVP_MAC_init(impl_->ctx, nullptr, 0, nullptr) != 1 ||
      EVP_MAC_update(impl_->ctx, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1 ||
      EVP_MAC_final(impl_->ctx, md, &len, sizeof md) != 1)
    throw std::runtime_error("hmac-sha-256 failed");
  out.clear();
  append_hex(out, md, len);
}

std::string sha256_hex(std::string_view data) {
  thread_local Sha256 sha;
  std::string out;
  sha.hex(data, out);
  return out;
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  std::string out;
  HmacSha256(key).hex(data, out);
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace ethos
