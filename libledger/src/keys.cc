// keys.cc — Ed25519 signing keys and their key files.
#include "ledger/keys.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "crypto.h"

namespace ledger {
namespace {

constexpr std::string_view kKeyFilePrefix = "timebank-ed25519-seed:";
// A key file is one short line; anything much longer is not one of ours.
constexpr std::size_t kMaxKeyFileSize = 256;

void WipeSecrets(std::array<std::uint8_t, 32>* seed, std::array<std::uint8_t, 64>* secret) {
  crypto::Wipe(seed->data(), seed->size());
  crypto::Wipe(secret->data(), secret->size());
}

// Wipes a std::string that held secret material before it is freed.
void WipeString(std::string* s) {
  crypto::Wipe(s->data(), s->size());
  s->clear();
}

Status IoError(const std::string& what, const std::string& path) {
  return Status(Code::kIoError, what + " " + path + ": " + std::strerror(errno));
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("cannot write key file", path);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

// Reads at most kMaxKeyFileSize + 1 bytes, enough to tell an oversized file apart.
Status ReadSmallFile(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status(Code::kNotFound, "no key file " + path);
    return IoError("cannot open key file", path);
  }
  out->assign(kMaxKeyFileSize + 1, '\0');
  std::size_t got = 0;
  while (got < out->size()) {
    ssize_t n = ::read(fd, out->data() + got, out->size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = IoError("cannot read key file", path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  out->resize(got);
  return Status::Ok();
}

}  // namespace

SigningKey SigningKey::Generate() {
  crypto::InitCrypto();
  std::array<std::uint8_t, 32> seed;
  crypto::RandomBytes(seed.data(), seed.size());
  SigningKey key = FromSeed(seed);
  crypto::Wipe(seed.data(), seed.size());
  return key;
}

SigningKey SigningKey::FromSeed(const std::array<std::uint8_t, 32>& seed) {
  crypto::InitCrypto();
  SigningKey key;
  key.seed_ = seed;
  crypto::Ed25519FromSeed(key.seed_.data(), &key.public_, key.secret_.data());
  return key;
}

Result<SigningKey> SigningKey::LoadFile(const std::string& path) {
  std::string content;
  Status read = ReadSmallFile(path, &content);
  if (!read.ok()) {
    WipeString(&content);  // may hold part of a key read before the error
    return read;
  }
  std::string_view line = content;
  std::string seed;
  // Exactly "<prefix><base64 of 32 bytes>\n": one spelling, so a damaged file never loads.
  bool ok =
      line.size() <= kMaxKeyFileSize && line.starts_with(kKeyFilePrefix) && line.ends_with('\n') &&
      Base64Decode(line.substr(kKeyFilePrefix.size(), line.size() - kKeyFilePrefix.size() - 1),
                   &seed) &&
      seed.size() == 32;
  WipeString(&content);
  if (!ok) {
    WipeString(&seed);
    return Status(Code::kInvalidArgument, "not a timebank key file: " + path);
  }
  std::array<std::uint8_t, 32> seed_bytes;
  std::memcpy(seed_bytes.data(), seed.data(), seed_bytes.size());
  WipeString(&seed);
  SigningKey key = FromSeed(seed_bytes);
  crypto::Wipe(seed_bytes.data(), seed_bytes.size());
  return key;
}

SigningKey::SigningKey(SigningKey&& other) noexcept
    : seed_(other.seed_), secret_(other.secret_), public_(other.public_) {
  WipeSecrets(&other.seed_, &other.secret_);  // one live copy of a secret, not two
}

SigningKey& SigningKey::operator=(SigningKey&& other) noexcept {
  if (this != &other) {
    seed_ = other.seed_;
    secret_ = other.secret_;
    public_ = other.public_;
    WipeSecrets(&other.seed_, &other.secret_);
  }
  return *this;
}

SigningKey::~SigningKey() {
  WipeSecrets(&seed_, &secret_);
}

Status SigningKey::SaveFile(const std::string& path) const {
  // O_EXCL: never overwrite a key; 0600: only the owner may read the secret.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return Status(Code::kInvalidArgument, "key file " + path + " exists; not overwriting");
    }
    return IoError("cannot create key file", path);
  }
  std::string line = std::string(kKeyFilePrefix) +
                     Base64Encode({reinterpret_cast<const char*>(seed_.data()), seed_.size()}) +
                     "\n";
  Status status = WriteAll(fd, line, path);
  WipeString(&line);
  if (status.ok() && ::fsync(fd) != 0) status = IoError("cannot sync key file", path);
  if (::close(fd) != 0 && status.ok()) status = IoError("cannot close key file", path);
  if (!status.ok()) ::unlink(path.c_str());  // a partial key file must not be mistaken for one
  return status;
}

SignatureBytes SigningKey::Sign(std::string_view message) const {
  return crypto::Ed25519Sign(secret_.data(), message);
}

bool VerifySignature(const PublicKey& key, std::string_view message, const SignatureBytes& sig) {
  crypto::InitCrypto();
  return crypto::Ed25519Verify(key, message, sig);
}

}  // namespace ledger
