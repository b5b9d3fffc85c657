#include <ethos/service/tokens.hpp>

#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include <ethos/base/hash.hpp>
#include <ethos/base/time.hpp>
#include <ethos/check/policy.hpp>

namespace ethos {

namespace {

constexpr const char* kFormat = "ethos-tokens 1";
constexpr std::string_view kSecretPrefix = "ethos_";

std::runtime_error file_error(const std::string& path, const std::string& what) {
  return std::runtime_error("tokens file `" + path + "`: " + what);
}

bool is_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

const char* role_name(Role r) {
  switch (r) {
    case Role::kDecider:
      return "decider";
    case Role::kAuditor:
      return "auditor";
    case Role::kAdmin:
      return "admin";
  }
  return "decider";
}

std::optional<Role> parse_role(std::string_view name) {
  if (name == "decider") return Role::kDecider;
  if (name == "auditor") return Role::kAuditor;
  if (name == "admin") return Role::kAdmin;
  return std::nullopt;
}

bool valid_token_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string new_token_secret() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    throw std::runtime_error("cannot read the random source to make a token");
  std::string out(kSecretPrefix);
  append_hex(out, bytes, sizeof bytes);
  return out;
}

TokenStore TokenStore::load(const std::string& path, bool missing_ok) {
  TokenStore store;
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    if (missing_ok && !std::filesystem::exists(path)) return store;
    throw file_error(path, "cannot read: " + std::string(std::strerror(errno)));
  }
  std::stringstream ss;
  ss << f.rdbuf();
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception&) {
    throw file_error(path, "not valid JSON");
  }
  if (!doc.is_object() || doc.value("format", "") != kFormat || !doc.contains("tokens") ||
      !doc["tokens"].is_array())
    throw file_error(path,
                     std::string("not an ethos tokens file (expected format `") + kFormat + "`)");
  size_t i = 0;
  for (const auto& t : doc["tokens"]) {
    std::string where = "token " + std::to_string(i++);
    if (!t.is_object() || !t.contains("name") || !t["name"].is_string() || !t.contains("role") ||
        !t["role"].is_string() || !t.contains("sha256") || !t["sha256"].is_string() ||
        !t.contains("created") || !t["created"].is_string())
      throw file_error(path, where + ": needs string fields `name`, `role`, `created`, `sha256`");
    TokenRecord r;
    r.name = t["name"].get<std::string>();
    auto role = parse_role(t["role"].get<std::string>());
    if (!role)
      throw file_error(path, where + ": unknown role `" + t["role"].get<std::string>() + "`");
    r.role = *role;
    if (!parse_timestamp(t["created"].get<std::string>(), r.created))
      throw file_error(path, where + ": `created` is not a timestamp");
    r.sha256 = t["sha256"].get<std::string>();
    if (!is_hex64(r.sha256)) throw file_error(path, where + ": `sha256` is not 64 hex digits");
    if (!valid_token_name(r.name)) throw file_error(path, where + ": bad name `" + r.name + "`");
    for (const auto& other : store.tokens_)
      if (other.name == r.name) throw file_error(path, "duplicate token name `" + r.name + "`");
    store.tokens_.push_back(std::move(r));
  }
  return store;
}

void TokenStore::save(const std::string& path) const {
  nlohmann::json doc;
  doc["format"] = kFormat;
  doc["tokens"] = nlohmann::json::array();
  for (const auto& t : tokens_)
    doc["tokens"].push_back({{"name", t.name},
                             {"role", role_name(t.role)},
                             {"created", format_timestamp(t.created)},
                             {"sha256", t.sha256}});
  std::string text = doc.dump(2) + "\n";
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw file_error(path, "cannot write: " + std::string(std::strerror(errno)));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw file_error(path, "cannot write: " + std::string(std::strerror(e)));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw file_error(path, "cannot write: " + std::string(std::strerror(errno)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw file_error(path, "cannot replace: " + std::string(std::strerror(e)));
  }
}

std::string TokenStore::add(const std::string& name, Role role, int64_t now) {
  if (!valid_token_name(name))
    throw std::invalid_argument("a token name is 1-64 letters, digits, `.`, `_` or `-`, got `" +
                                name + "`");
  for (const auto& t : tokens_)
    if (t.name == name) throw std::invalid_argument("a token named `" + name + "` already exists");
  std::string secret = new_token_secret();
  tokens_.push_back({name, role, now, sha256_hex(secret)});
  return secret;
}

bool TokenStore::revoke(std::string_view name) {
  for (auto it = tokens_.begin(); it != tokens_.end(); ++it)
    if (it->name == name) {
      tokens_.erase(it);
      return true;
    }
  return false;
}

std::string TokenStore::unused_name(Role role) const {
  for (size_t n = 1;; ++n) {
    std::string name = std::string(role_name(role)) + "-" + std::to_string(n);
    bool used = false;
    for (const auto& t : tokens_) used = used || t.name == name;
    if (!used) return name;
  }
}

const TokenRecord* TokenStore::authenticate(std::string_view secret) const {
  if (secret.empty()) return nullptr;
  // Every request is authenticated: the digest with the algorithm fetched
  // once per thread (digest.hpp), not once per call.
  thread_local Sha256 sha;
  thread_local std::string digest;
  sha.hex(secret, digest);
  const TokenRecord* found = nullptr;
  // Compare with every stored hash (no early exit): the time taken does not
  // depend on which token, if any, matched.
  for (const auto& t : tokens_)
    if (constant_time_equal(digest, t.sha256)) found = &t;
  return found;
}

}  // namespace ethos
