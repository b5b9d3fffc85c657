// ethos-load: a small closed-loop HTTP load client for `ethos serve`
// (docs/performance.md, "Service"). Each connection keeps one request in
// flight over keep-alive; each thread drives its connections with epoll.
// It counts every answer, checks that no decision id comes back twice, and
// reports decisions/s with latency percentiles.
//
//   ethos-load --port 8181 --token-file decider.token --connections 16 --seconds 10
//       policies/examples/*.json
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  std::vector<int> ports{8181};  // connections go to each in turn (one per node)
  std::string path = "/v1/decide";
  std::string token;
  std::string token_file;
  size_t connections = 16;
  size_t threads = 1;
  double seconds = 10;
  double warmup = 1;
  size_t batch = 1;
  bool unique_request_ids = false;
  std::string ids_out;
  bool json = false;
  std::vector<std::string> files;
};

struct Stats {
  uint64_t responses = 0;
  uint64_t in_window = 0;   // responses that arrived within the measured window
  uint64_t unanswered = 0;  // requests still without an answer when the client gave up
  uint64_t decisions = 0;
  std::map<int, uint64_t> by_status;
  uint64_t connection_errors = 0;
  std::vector<uint32_t> latency_us;  // measured phase only
  std::vector<std::string> ids;
};

// A request as sent: the HTTP text, and where in it each request_id ends
// with a 12-digit serial that --unique-request-ids fills in per send.
struct Request {
  std::string text;
  std::vector<size_t> serials;
};
constexpr size_t kSerialDigits = 12;
std::atomic<uint64_t> g_serial{0};

struct Conn {
  int fd = -1;
  std::string own;                   // a copy with its serials filled in (--unique-request-ids)
  const std::string* out = nullptr;  // the request being sent: the template itself, or `own`
  std::string in;
  size_t sent = 0;
  size_t body_index = 0;
  Clock::time_point started;
  bool busy = false;
};

int connect_to(const Options& o, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    return -1;
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Parses one complete response at the start of `in`. Returns its length, or
// 0 when more bytes are needed.
size_t parse_response(const std::string& in, int& status, bool& close, std::string_view& body) {
  size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  if (in.size() < 12) return 0;
  status = std::atoi(in.c_str() + 9);
  size_t length = 0;
  close = false;
  size_t pos = in.find("\r\n") + 2;
  while (pos < end) {
    size_t eol = in.find("\r\n", pos);
    std::string_view line(in.data() + pos, eol - pos);
    auto starts = [&](std::string_view name) {
      if (line.size() < name.size()) return false;
      for (size_t i = 0; i < name.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
      return true;
    };
    if (starts("content-length:")) length = std::strtoul(line.data() + 15, nullptr, 10);
    if (starts("connection:") && line.find("close") != std::string_view::npos) close = true;
    pos = eol + 2;
  }
  size_t total = end + 4 + length;
  if (in.size() < total) return 0;
  body = std::string_view(in.data() + end + 4, length);
  return total;
}

void collect_ids(std::string_view body, std::vector<std::string>& ids, uint64_t& decisions) {
  constexpr std::string_view key = "\"decision_id\":\"";
  size_t pos = 0;
  while ((pos = body.find(key, pos)) != std::string_view::npos) {
    pos += key.size();
    size_t end = body.find('"', pos);
    ids.emplace_back(body.substr(pos, end - pos));
    ++decisions;
    pos = end;
  }
}

void run_thread(const Options& o, const std::vector<Request>& requests, size_t first_conn,
                size_t nconn, Clock::time_point measure_from, Clock::time_point until, Stats& st) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  std::vector<Conn> conns(nconn);
  size_t next_body = 0;
  auto open_conn = [&](size_t i) {
    Conn& c = conns[i];
    c.fd = connect_to(o, o.ports[(first_conn + i) % o.ports.size()]);
    c.in.clear();
    c.sent = 0;
    c.busy = false;
    if (c.fd < 0) {
      ++st.connection_errors;
      return false;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    return true;
  };
  auto start_request = [&](size_t i) {
    Conn& c = conns[i];
    c.body_index = next_body++ % requests.size();
    const Request& r = requests[c.body_index];
    c.out = &r.text;
    if (!r.serials.empty()) {
      c.own = r.text;
      for (size_t at : r.serials) {
        uint64_t n = g_serial.fetch_add(1, std::memory_order_relaxed);
        for (size_t d = kSerialDigits; d-- > 0; n /= 10)
          c.own[at + d] = static_cast<char>('0' + n % 10);
      }
      c.out = &c.own;
    }
    c.sent = 0;
    c.busy = true;
    c.started = Clock::now();
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
  };
  auto close_conn = [&](size_t i) {
    epoll_ctl(ep, EPOLL_CTL_DEL, conns[i].fd, nullptr);
    ::close(conns[i].fd);
    conns[i].fd = -1;
  };
  for (size_t i = 0; i < nconn; ++i)
    if (open_conn(i)) start_request(i);
  std::vector<epoll_event> events(nconn + 1);
  char buf[65536];
  size_t open = nconn;
  // After the window, answers still due get this long before they count as lost.
  const auto give_up = until + std::chrono::seconds(30);
  while (open > 0) {
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
    auto tick = Clock::now();
    bool stopping = tick >= until;
    if (tick >= give_up) {
      for (size_t i = 0; i < nconn; ++i)
        if (conns[i].fd >= 0) {
          if (conns[i].busy) ++st.unanswered;
          close_conn(i);
        }
      break;
    }
    for (int k = 0; k < n; ++k) {
      size_t i = events[static_cast<size_t>(k)].data.u64;
      Conn& c = conns[i];
      if (c.fd < 0) continue;
      const std::string& req = *c.out;
      if (c.busy && c.sent < req.size() && (events[static_cast<size_t>(k)].events & EPOLLOUT)) {
        ssize_t w = ::send(c.fd, req.data() + c.sent, req.size() - c.sent, MSG_NOSIGNAL);
        if (w > 0) c.sent += static_cast<size_t>(w);
        if (c.sent == req.size()) {
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.u64 = i;
          epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        }
      }
      if (events[static_cast<size_t>(k)].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        bool closed = false;
        for (;;) {
          ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
          if (r > 0) {
            c.in.append(buf, static_cast<size_t>(r));
            continue;
          }
          if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) closed = true;
          break;
        }
        int status = 0;
        bool server_close = false;
        std::string_view body;
        size_t used = parse_response(c.in, status, server_close, body);
        if (used > 0) {
          auto now = Clock::now();
          ++st.responses;
          ++st.by_status[status];
          if (status == 200) collect_ids(body, st.ids, st.decisions);
          if (now >= measure_from && now <= until) ++st.in_window;
          if (c.started >= measure_from)
            st.latency_us.push_back(static_cast<uint32_t>(
                std::chrono::duration_cast<std::chrono::microseconds>(now - c.started).count()));
          c.in.erase(0, used);
          c.busy = false;
          if (server_close || closed) {
            close_conn(i);
            --open;
            if (!stopping && open_conn(i)) {
              ++open;
              start_request(i);
            }
          } else if (!stopping) {
            start_request(i);
          } else {
            close_conn(i);
            --open;
          }
        } else if (closed) {
          // The server closed with a request in flight: it was never answered.
          if (c.busy) ++st.connection_errors;
          close_conn(i);
          --open;
          if (!stopping && open_conn(i)) {
            ++open;
            start_request(i);
          }
        }
      }
    }
    if (stopping) {
      for (size_t i = 0; i < nconn; ++i)
        if (conns[i].fd >= 0 && !conns[i].busy) {
          close_conn(i);
          --open;
        }
    }
  }
  ::close(ep);
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read `" + path + "`");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "ethos-load: closed-loop HTTP load for `ethos serve` (keep-alive, one request in flight per "
      "connection)"};
  app.add_option("--host", o.host, "IPv4 address (default 127.0.0.1)");
  app.add_option("--port", o.ports,
                 "Port (default 8181); once per node to spread the connections over several "
                 "servers in turn");
  app.add_option("--path", o.path, "Endpoint (default /v1/decide)");
  app.add_option("--token", o.token, "Bearer token");
  app.add_option("--token-file", o.token_file, "File holding the bearer token");
  app.add_option("-c,--connections", o.connections, "Connections (default 16)");
  app.add_option("-t,--threads", o.threads, "Client threads (default 1)");
  app.add_option("-d,--seconds", o.seconds, "Measured seconds (default 10)");
  app.add_option("--warmup", o.warmup, "Seconds before measuring (default 1)");
  app.add_option("--batch", o.batch,
                 "Requests per call, sent as a JSON array (default 1: one object)");
  app.add_flag("--unique-request-ids", o.unique_request_ids,
               "Give every request sent a request_id of its own (the file's id + a serial), as "
               "real traffic has: the log's request_id index then grows at random places");
  app.add_option("--ids-out", o.ids_out, "Write every decision id received, one per line");
  app.add_flag("--json", o.json, "One JSON object");
  app.add_option("requests", o.files, "Request files (JSON objects), used in turn")->required();
  CLI11_PARSE(app, argc, argv);

  std::vector<std::string> bodies;
  try {
    if (!o.token_file.empty()) {
      o.token = slurp(o.token_file);
      while (!o.token.empty() && std::isspace(static_cast<unsigned char>(o.token.back())))
        o.token.pop_back();
    }
    for (const auto& f : o.files) bodies.push_back(slurp(f));
  } catch (const std::exception& e) {
    std::cerr << "ethos-load: " << e.what() << "\n";
    return 64;
  }
  std::vector<Request> requests;
  for (size_t i = 0; i < bodies.size(); ++i) {
    std::string body;
    if (o.batch <= 1) {
      body = bodies[i];
    } else {
      body = "[";
      for (size_t k = 0; k < o.batch; ++k) body += (k ? "," : "") + bodies[(i + k) % bodies.size()];
      body += "]";
    }
    std::vector<size_t> serials;  // offsets in `body`
    if (o.unique_request_ids) {
      // After each "request_id": "<id>, insert "-" and the serial's digits.
      constexpr std::string_view key = "\"request_id\"";
      for (size_t pos = body.find(key); pos != std::string::npos; pos = body.find(key, pos)) {
        size_t q = body.find('"', body.find(':', pos + key.size()) + 1);
        size_t end = q == std::string::npos ? q : body.find('"', q + 1);
        if (end == std::string::npos) break;
        body.insert(end, "-" + std::string(kSerialDigits, '0'));
        serials.push_back(end + 1);
        pos = end + 1 + kSerialDigits;
      }
    }
    std::string head =
        "POST " + o.path + " HTTP/1.1\r\nHost: " + o.host + ":" + std::to_string(o.ports.front()) +
        "\r\nAuthorization: Bearer " + o.token +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\n\r\n";
    for (auto& at : serials) at += head.size();
    requests.push_back({head + body, std::move(serials)});
  }

  size_t threads = std::max<size_t>(1, std::min(o.threads, o.connections));
  std::vector<Stats> stats(threads);
  auto start = Clock::now();
  auto measure_from =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.warmup));
  auto until = measure_from + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(o.seconds));
  std::vector<std::thread> pool;
  size_t first = 0;
  for (size_t t = 0; t < threads; ++t) {
    size_t n = o.connections / threads + (t < o.connections % threads ? 1 : 0);
    pool.emplace_back(
        [&, t, n, first] { run_thread(o, requests, first, n, measure_from, until, stats[t]); });
    first += n;
  }
  for (auto& t : pool) t.join();
  // The rate counts the answers that arrived within the measured window and
  // divides by the window, not by the time the last answer took to arrive
  // (with more connections than the server serves at once, that tail can be
  // long, and dividing by it understated the rate).
  double window = std::chrono::duration<double>(until - measure_from).count();
  double tail = std::chrono::duration<double>(Clock::now() - until).count();

  Stats all;
  for (auto& s : stats) {
    all.responses += s.responses;
    all.in_window += s.in_window;
    all.unanswered += s.unanswered;
    all.decisions += s.decisions;
    all.connection_errors += s.connection_errors;
    for (auto [k, v] : s.by_status) all.by_status[k] += v;
    all.latency_us.insert(all.latency_us.end(), s.latency_us.begin(), s.latency_us.end());
    for (auto& id : s.ids) all.ids.push_back(std::move(id));
  }
  std::vector<std::string> sorted = all.ids;
  std::sort(sorted.begin(), sorted.end());
  uint64_t duplicates = 0;
  for (size_t i = 1; i < sorted.size(); ++i) duplicates += sorted[i] == sorted[i - 1];
  if (!o.ids_out.empty()) {
    std::ofstream f(o.ids_out);
    for (const auto& id : all.ids) f << id << "\n";
  }
  std::sort(all.latency_us.begin(), all.latency_us.end());
  auto pct = [&](double q) -> double {
    if (all.latency_us.empty()) return 0;
    size_t i = std::min(all.latency_us.size() - 1,
                        static_cast<size_t>(q * static_cast<double>(all.latency_us.size())));
    return all.latency_us[i] / 1000.0;
  };
  double rps = static_cast<double>(all.in_window) / window;
  double dps = rps * static_cast<double>(std::max<size_t>(o.batch, 1));
  uint64_t errors = all.connection_errors + all.unanswered;
  for (auto [k, v] : all.by_status)
    if (k != 200) errors += v;
  if (o.json) {
    std::cout << "{\"connections\":" << o.connections << ",\"threads\":" << threads
              << ",\"batch\":" << o.batch << ",\"seconds\":" << window
              << ",\"tail_seconds\":" << tail << ",\"responses\":" << all.responses
              << ",\"decisions\":" << all.decisions << ",\"requests_per_s\":" << rps
              << ",\"decisions_per_s\":" << dps << ",\"p50_ms\":" << pct(0.5)
              << ",\"p90_ms\":" << pct(0.9) << ",\"p99_ms\":" << pct(0.99)
              << ",\"p999_ms\":" << pct(0.999)
              << ",\"max_ms\":" << (all.latency_us.empty() ? 0 : all.latency_us.back() / 1000.0)
              << ",\"errors\":" << errors << ",\"connection_errors\":" << all.connection_errors
              << ",\"unanswered\":" << all.unanswered << ",\"duplicate_ids\":" << duplicates
              << "}\n";
  } else {
    std::printf(
        "%zu connections, %zu thread(s), batch %zu, %.1f s measured (+%.1f s warm-up, %.2f s for "
        "the last answers)\n",
        o.connections, threads, o.batch, window, o.warmup, tail);
    std::printf(
        "responses %llu (decisions %llu), errors %llu, connection errors %llu, unanswered %llu, "
        "duplicate ids %llu\n",
        static_cast<unsigned long long>(all.responses),
        static_cast<unsigned long long>(all.decisions), static_cast<unsigned long long>(errors),
        static_cast<unsigned long long>(all.connection_errors),
        static_cast<unsigned long long>(all.unanswered),
        static_cast<unsigned long long>(duplicates));
    for (auto [k, v] : all.by_status)
      std::printf("  status %d: %llu\n", k, static_cast<unsigned long long>(v));
    std::printf("%.0f requests/s, %.0f decisions/s\n", rps, dps);
    std::printf("latency ms: p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n", pct(0.5),
                pct(0.9), pct(0.99), pct(0.999),
                all.latency_us.empty() ? 0.0 : all.latency_us.back() / 1000.0);
  }
  return errors == 0 && duplicates == 0 ? 0 : 1;
}
