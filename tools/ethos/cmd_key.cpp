// `ethos key`: the Ed25519 key that signs the decision log's checkpoints
// (docs/deploy.md, "Checkpoint keys"). Not the key that pseudonymises it.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include <ethos/base/signing.hpp>
#include "cli.hpp"

namespace ethos::cli {

namespace {

// Writes `text` to a new file with `mode`; refuses to overwrite one.
void write_new_file(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    std::cerr << "ethos: key new: cannot create `" << path << "`: " << std::strerror(errno)
              << (errno == EEXIST ? " (a key is never overwritten; remove it first)" : "") << "\n";
    throw errno == EEXIST ? kUsage : kInternal;
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t w = ::write(fd, text.data() + done, text.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      std::cerr << "ethos: key new: cannot write `" << path << "`: " << std::strerror(errno)
                << "\n";
      ::close(fd);
      throw kInternal;
    }
    done += static_cast<size_t>(w);
  }
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void add_key(CLI::App& app) {
  auto* key = app.add_subcommand(
      "key", "Make and read the Ed25519 key that signs the decision log's checkpoints");
  key->require_subcommand(1);

  auto out = std::make_shared<std::string>();
  auto* make = key->add_subcommand(
      "new", "Make a signing key: FILE (private, mode 0600) and FILE.pub (public)");
  make->add_option("--out", *out, "The private key's file; the public key goes to FILE.pub")
      ->required();
  make->footer(
      "Example:\n  ethos key new --out /etc/ethos/checkpoint.key\n"
      "Prints the key id and the public key. Give FILE to `ethos serve --checkpoint-key`, and\n"
      "FILE.pub to whoever runs `ethos verify --public-key`.\n"
      "Exit: 0 made, 64 FILE exists, 70 it cannot be written.");
  make->callback([out] {
    SigningKey k = SigningKey::generate();
    std::string pub = k.public_pem();
    write_new_file(*out, k.private_pem(), 0600);
    write_new_file(*out + ".pub", pub, 0644);
    std::cout << "key id " << k.id() << "\n" << pub;
  });

  auto file = std::make_shared<std::string>();
  auto* show = key->add_subcommand(
      "show-public", "Print the key id and public key of a signing key (private or public)");
  show->add_option("file", *file, "A key made by `ethos key new` (FILE or FILE.pub)")->required();
  show->footer("Exit: 0 printed, 64 not a key, 70 it cannot be read.");
  show->callback([file] {
    std::ifstream in(*file, std::ios::binary);
    if (!in) {
      std::cerr << "ethos: key show-public: cannot read `" << *file << "`\n";
      throw kInternal;
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    try {
      if (text.find("PRIVATE KEY") != std::string::npos) {
        SigningKey k = SigningKey::from_pem(text);
        std::cout << "key id " << k.id() << "\n" << k.public_pem();
      } else {
        VerifyingKey k = VerifyingKey::from_pem(text);
        std::cout << "key id " << k.id() << "\n" << k.pem();
      }
    } catch (const std::exception& e) {
      std::cerr << "ethos: key show-public: `" << *file << "`: " << e.what() << "\n";
      throw kUsage;
    }
  });
}

ETHOS_COMMAND(add_key, 88);

}  // namespace ethos::cli
