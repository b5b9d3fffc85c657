// SHA-256 and HMAC-SHA-256 (OpenSSL libcrypto), as lowercase hex.
#pragma once

#include <string>
#include <string_view>

namespace ethos {

std::string sha256_hex(std::string_view data);
std::string hmac_sha256_hex(std::string_view key, std::string_view data);
// Constant-time equality for secrets of equal length.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace ethos
