#include <ethos/base/digest.hpp>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <stdexcept>

namespace ethos {

namespace {

void to_hex(const unsigned char* p, size_t n, std::string& out) {
  static const char* digits = "0123456789abcdef";
  out.resize(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
}

}  // namespace

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

void Sha256::hex(std::string_view data, std::string& out) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestInit_ex2(impl_->ctx, impl_->md, nullptr) != 1 ||
      EVP_DigestUpdate(impl_->ctx, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(impl_->ctx, md, &len) != 1)
    throw std::runtime_error("sha-256 failed");
  to_hex(md, len, out);
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
  to_hex(md, len, out);
}

}  // namespace ethos
