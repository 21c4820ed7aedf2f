// ledger/keys.h — Ed25519 keys for operators, account owners and the log itself.
//
// Threading: a const SigningKey is safe to share between threads (Sign is const).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "ledger/status.h"
#include "ledger/types.h"

namespace ledger {

// An Ed25519 private key. Move-only; the secret is wiped on destruction.
class SigningKey {
 public:
  // A new key from the OS CSPRNG.
  static SigningKey Generate();
  // The key whose RFC 8032 seed is these 32 bytes (deterministic; for tests and vectors).
  static SigningKey FromSeed(const std::array<std::uint8_t, 32>& seed);
  // Reads a key file written by SaveFile. Errors: kNotFound, kIoError, kInvalidArgument.
  static Result<SigningKey> LoadFile(const std::string& path);

  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  ~SigningKey();

  // Writes the key as one line "timebank-ed25519-seed:<base64 seed>" to a new file with
  // mode 0600. Refuses to overwrite an existing file (kInvalidArgument).
  Status SaveFile(const std::string& path) const;

  const PublicKey& public_key() const { return public_; }
  SignatureBytes Sign(std::string_view message) const;

 private:
  SigningKey() = default;
  std::array<std::uint8_t, 32> seed_{};
  std::array<std::uint8_t, 64> secret_{};
  PublicKey public_{};
};

// Ed25519 verification of a detached signature over `message`.
bool VerifySignature(const PublicKey& key, std::string_view message, const SignatureBytes& sig);

}  // namespace ledger
