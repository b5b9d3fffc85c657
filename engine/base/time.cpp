#include <ethos/base/time.hpp>

#include <charconv>
#include <ctime>

namespace ethos {

namespace {
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}
}  // namespace

bool parse_timestamp(std::string_view s, int64_t& out) {
  int y, mo, d, h = 0, mi = 0, se = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return false;
  // The day must exist in its month: 2026-02-30 is no date (it would roll into March).
  static constexpr int kMonthDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
  if (d > kMonthDays[mo - 1] + (mo == 2 && leap ? 1 : 0)) return false;
  int64_t offset = 0;
  if (s.size() > 10) {
    if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, h) || s.size() < 19 ||
        s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se))
      return false;
    if (h > 23 || mi > 59 || se > 60) return false;
    size_t p = 19;
    if (p < s.size() && s[p] == '.') {
      const size_t fraction = ++p;
      while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) ++p;
      if (p == fraction) return false;  // RFC 3339: a fraction has at least one digit
    }
    if (p == s.size()) return false;  // a zone is required
    if (s[p] == 'Z' || s[p] == 'z') {
      if (p + 1 != s.size()) return false;
    } else if (s[p] == '+' || s[p] == '-') {
      int oh, om;
      if (p + 6 != s.size() || !digits(s, p + 1, 2, oh) || s[p + 3] != ':' ||
          !digits(s, p + 4, 2, om) || oh > 23 || om > 59)
        return false;
      offset = (oh * 3600 + om * 60) * (s[p] == '+' ? 1 : -1);
    } else {
      return false;
    }
  }
  out = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 +
        mi * 60 + se - offset;
  return true;
}

void append_timestamp(std::string& out, int64_t seconds) {
  // civil_from_days (H. Hinnant): no locale, no libc time zone lookups.
  int64_t days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
  int64_t secs = seconds - days * 86400;
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  const auto hh = static_cast<unsigned>(secs / 3600), mm = static_cast<unsigned>(secs / 60 % 60),
             ss = static_cast<unsigned>(secs % 60);
  if (y >= 0 && y <= 9999) {
    // The common case, YYYY-MM-DDTHH:MM:SSZ written digit by digit (this is on
    // the decision path).
    char buf[20] = "0000-00-00T00:00:00";
    auto two = [&](size_t at, unsigned v) {
      buf[at] = static_cast<char>('0' + v / 10);
      buf[at + 1] = static_cast<char>('0' + v % 10);
    };
    const auto yy = static_cast<unsigned>(y);
    two(0, yy / 100);
    two(2, yy % 100);
    two(5, m);
    two(8, d);
    two(11, hh);
    two(14, mm);
    two(17, ss);
    buf[19] = 'Z';
    out.append(buf, sizeof buf);
    return;
  }
  char buf[96];  // large enough for any int64 fields, so nothing is truncated
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02u:%02u:%02uZ", static_cast<long long>(y), m,
                d, hh, mm, ss);
  out += buf;
}

std::string format_timestamp(int64_t seconds) {
  std::string out;
  append_timestamp(out, seconds);
  return out;
}

std::string format_millis(int64_t ms) {
  const int64_t s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const auto frac = static_cast<unsigned>(ms - s * 1000);
  std::string t = format_timestamp(s);
  t.pop_back();  // the `Z`
  t += '.';
  t += static_cast<char>('0' + frac / 100);
  t += static_cast<char>('0' + frac / 10 % 10);
  t += static_cast<char>('0' + frac % 10);
  t += 'Z';
  return t;
}

bool parse_duration(std::string_view s, int64_t& out) {
  if (s.size() < 2) return false;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size() - 1, n);
  if (ec != std::errc() || p != s.data() + s.size() - 1 || n < 0) return false;
  switch (s.back()) {
    // Seconds beyond 64 bits are no duration (never a wrapped one).
    case 'w':
      return !__builtin_mul_overflow(n, int64_t{7 * 86400}, &out);
    case 'd':
      return !__builtin_mul_overflow(n, int64_t{86400}, &out);
    case 'h':
      return !__builtin_mul_overflow(n, int64_t{3600}, &out);
    case 'm':
      return !__builtin_mul_overflow(n, int64_t{60}, &out);
    case 's':
      out = n;
      return true;
    default:
      return false;
  }
}

}  // namespace ethos
