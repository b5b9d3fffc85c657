#include <ethos/log/checkpoint.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include <ethos/base/hash.hpp>
#include <ethos/base/time.hpp>
#include <ethos/log/log_entry.hpp>

namespace ethos {

std::string checkpoint_message(const Checkpoint& c) {
  std::string out = "ethos-checkpoint 1\n";
  append_hashed_field(out, "chain", c.chain);
  append_hashed_field(out, "seq", std::to_string(c.seq));
  append_hashed_field(out, "head", c.head);
  append_hashed_field(out, "time", format_timestamp(c.time));
  append_hashed_field(out, "log_key_id", c.log_key_id);
  append_hashed_field(out, "key_id", c.key_id);
  return out;
}

void sign_checkpoint(Checkpoint& c, const SigningKey& key) {
  c.key_id = key.id();
  std::string sig = key.sign(checkpoint_message(c));
  c.signature.clear();
  append_hex(c.signature, reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
}

bool checkpoint_signature_ok(const Checkpoint& c, const VerifyingKey& key) {
  if (c.key_id != key.id()) return false;
  std::string sig;
  if (!decode_hex(c.signature, sig)) return false;
  return key.verify(checkpoint_message(c), sig);
}

std::string checkpoint_json(const Checkpoint& c) {
  nlohmann::ordered_json j = {{"chain", c.chain},
                              {"seq", c.seq},
                              {"head", c.head},
                              {"time", format_timestamp(c.time)},
                              {"log_key_id", c.log_key_id},
                              {"key_id", c.key_id},
                              {"signature", c.signature}};
  return j.dump();
}

bool parse_checkpoint_json(std::string_view line, Checkpoint& out, std::string& error) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    error = "not a checkpoint: expected one JSON object";
    return false;
  }
  auto text = [&](const char* name, std::string& into) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string()) {
      error = std::string("`") + name + "` must be a string";
      return false;
    }
    into = it->get<std::string>();
    return true;
  };
  std::string time;
  if (!text("chain", out.chain) || !text("head", out.head) || !text("time", time) ||
      !text("log_key_id", out.log_key_id) || !text("key_id", out.key_id) ||
      !text("signature", out.signature))
    return false;
  auto seq = j.find("seq");
  if (seq == j.end() || !seq->is_number_integer() || seq->get<int64_t>() < 0) {
    error = "`seq` must be an integer, 0 or more";
    return false;
  }
  out.seq = seq->get<int64_t>();
  if (!parse_timestamp(time, out.time)) {
    error = "`time` is not an RFC 3339 time: `" + time + "`";
    return false;
  }
  return true;
}

std::vector<SourcedCheckpoint> read_anchor_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read the checkpoints file `" + path + "`");
  std::vector<SourcedCheckpoint> out;
  std::string line, error;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    SourcedCheckpoint c;
    if (!parse_checkpoint_json(line, c.checkpoint, error))
      throw std::runtime_error(path + ":" + std::to_string(n) + ": " + error);
    c.where = path + ":" + std::to_string(n);
    out.push_back(std::move(c));
  }
  return out;
}

void append_anchor(const std::string& path, const Checkpoint& c) {
  std::string line = checkpoint_json(c) + "\n";
  if (path == "-") {
    std::cout << line << std::flush;
    return;
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    throw std::runtime_error("cannot open the anchor file `" + path + "`: " + std::strerror(errno));
  size_t done = 0;
  while (done < line.size()) {
    ssize_t w = ::write(fd, line.data() + done, line.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int err = errno;
      ::close(fd);
      throw std::runtime_error("cannot write the anchor file `" + path +
                               "`: " + std::strerror(err));
    }
    done += static_cast<size_t>(w);
  }
  int synced = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (synced != 0)
    throw std::runtime_error("cannot sync the anchor file `" + path + "`: " + std::strerror(err));
}

}  // namespace ethos
