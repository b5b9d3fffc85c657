#include <ethos/base/signing.hpp>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <ethos/base/hash.hpp>

namespace ethos {

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

std::string read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read the " + std::string(what) + " `" + path + "`");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Bio memory_bio(std::string_view text) {
  Bio b(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!b) throw std::runtime_error("out of memory reading a key");
  return b;
}

std::string bio_text(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return std::string(data, static_cast<size_t>(n));
}

void require_ed25519(const Pkey& k, const char* what) {
  if (!k) throw std::runtime_error(std::string("not ") + what + " in PEM");
  if (EVP_PKEY_get_base_id(k.get()) != EVP_PKEY_ED25519)
    throw std::runtime_error(std::string("not an ed25519 key: ") + what +
                             " must be made by `ethos key new`");
}

// The first 16 hex digits of SHA-256 of the raw public key.
std::string key_id(EVP_PKEY* k) {
  unsigned char raw[32];
  size_t n = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(k, raw, &n) != 1 || n != sizeof raw)
    throw std::runtime_error("cannot read the ed25519 public key");
  return sha256_hex(std::string_view(reinterpret_cast<const char*>(raw), n)).substr(0, 16);
}

std::string public_pem_of(EVP_PKEY* k) {
  Bio b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_PUBKEY(b.get(), k) != 1)
    throw std::runtime_error("cannot write the public key");
  return bio_text(b.get());
}

}  // namespace

struct VerifyingKey::Impl {
  Pkey key;
};

VerifyingKey::VerifyingKey(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)), id_(key_id(impl_->key.get())) {}
VerifyingKey::~VerifyingKey() = default;
VerifyingKey::VerifyingKey(VerifyingKey&&) noexcept = default;
VerifyingKey& VerifyingKey::operator=(VerifyingKey&&) noexcept = default;

VerifyingKey VerifyingKey::from_pem(std::string_view pem) {
  Bio b = memory_bio(pem);
  Pkey k(PEM_read_bio_PUBKEY(b.get(), nullptr, nullptr, nullptr));
  require_ed25519(k, "a public key");
  auto impl = std::make_unique<Impl>();
  impl->key = std::move(k);
  return VerifyingKey(std::move(impl));
}

VerifyingKey VerifyingKey::load(const std::string& path) {
  try {
    return from_pem(read_file(path, "public key"));
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    if (what.rfind("cannot read the public key", 0) == 0) throw;
    throw std::runtime_error("`" + path + "`: " + what);
  }
}

std::string VerifyingKey::pem() const { return public_pem_of(impl_->key.get()); }

bool VerifyingKey::verify(std::string_view message, std::string_view signature) const {
  if (signature.size() != 64) return false;
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, impl_->key.get()) != 1)
    throw std::runtime_error("cannot verify an ed25519 signature");
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

struct SigningKey::Impl {
  Pkey key;
};

SigningKey::SigningKey(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)), id_(key_id(impl_->key.get())) {}
SigningKey::~SigningKey() = default;
SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;

SigningKey SigningKey::generate() {
  auto impl = std::make_unique<Impl>();
  impl->key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!impl->key) throw std::runtime_error("cannot make an ed25519 key");
  return SigningKey(std::move(impl));
}

SigningKey SigningKey::from_pem(std::string_view pem) {
  Bio b = memory_bio(pem);
  Pkey k(PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr));
  require_ed25519(k, "a private key");
  auto impl = std::make_unique<Impl>();
  impl->key = std::move(k);
  return SigningKey(std::move(impl));
}

SigningKey SigningKey::load(const std::string& path) {
  try {
    return from_pem(read_file(path, "signing key"));
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    if (what.rfind("cannot read the signing key", 0) == 0) throw;
    throw std::runtime_error("`" + path + "`: " + what);
  }
}

std::string SigningKey::private_pem() const {
  Bio b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_PrivateKey(b.get(), impl_->key.get(), nullptr, nullptr, 0, nullptr,
                                     nullptr) != 1)
    throw std::runtime_error("cannot write the private key");
  return bio_text(b.get());
}

std::string SigningKey::public_pem() const { return public_pem_of(impl_->key.get()); }

VerifyingKey SigningKey::verifying_key() const { return VerifyingKey::from_pem(public_pem()); }

std::string SigningKey::sign(std::string_view message) const {
  MdCtx ctx(EVP_MD_CTX_new());
  std::string sig(64, '\0');
  size_t n = sig.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, impl_->key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &n,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      n != 64)
    throw std::runtime_error("cannot make an ed25519 signature");
  return sig;
}

}  // namespace ethos
