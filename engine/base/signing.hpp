// Ed25519 signing keys (OpenSSL libcrypto), for the decision log's signed
// checkpoints (docs/decision-log.md, "Checkpoints"). A key's id is the first
// 16 hex digits of SHA-256 of its raw 32-byte public key: it names the key
// in a checkpoint and reveals nothing.
//
// Both classes are immutable once made: share them freely between threads.
// Every failure (a file that cannot be read, text that is not an Ed25519 key
// in PEM) throws std::runtime_error with a one-line, lowercase message.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace ethos {

class VerifyingKey {
 public:
  // An Ed25519 public key in PEM (`-----BEGIN PUBLIC KEY-----`).
  static VerifyingKey from_pem(std::string_view pem);
  static VerifyingKey load(const std::string& path);
  ~VerifyingKey();
  VerifyingKey(VerifyingKey&&) noexcept;
  VerifyingKey& operator=(VerifyingKey&&) noexcept;

  const std::string& id() const { return id_; }
  std::string pem() const;
  // True when `signature` (64 raw bytes) is this key's signature of `message`.
  bool verify(std::string_view message, std::string_view signature) const;

 private:
  struct Impl;
  explicit VerifyingKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string id_;
};

class SigningKey {
 public:
  // A new random key.
  static SigningKey generate();
  // An Ed25519 private key in PEM (`-----BEGIN PRIVATE KEY-----`, PKCS #8).
  static SigningKey from_pem(std::string_view pem);
  static SigningKey load(const std::string& path);
  ~SigningKey();
  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;

  const std::string& id() const { return id_; }  // the public key's id
  std::string private_pem() const;
  std::string public_pem() const;
  VerifyingKey verifying_key() const;
  // The 64-byte Ed25519 signature of `message`.
  std::string sign(std::string_view message) const;

 private:
  struct Impl;
  explicit SigningKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string id_;
};

}  // namespace ethos
