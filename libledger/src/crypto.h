// crypto.h — the only place libledger talks to libsodium (internal).
//
// Threading: all functions are safe to call concurrently once InitCrypto() has run
// (the Ledger and every public entry point call it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "ledger/types.h"

namespace ledger::crypto {

// Initialises libsodium once; aborts the process if the library cannot start (no RNG).
void InitCrypto();

Hash Sha256(std::string_view data);
// SHA-256 over the concatenation of parts, without copying them together.
Hash Sha256(std::initializer_list<std::string_view> parts);

// Ed25519 over `message` (the whole message; no prehash).
bool Ed25519Verify(const PublicKey& key, std::string_view message, const SignatureBytes& sig);
// Key pair from a 32-byte seed; `secret` receives libsodium's 64-byte secret key.
void Ed25519FromSeed(const std::uint8_t seed[32], PublicKey* pub, std::uint8_t secret[64]);
SignatureBytes Ed25519Sign(const std::uint8_t secret[64], std::string_view message);

void RandomBytes(std::uint8_t* out, std::size_t n);
// Wipes a secret in a way the compiler may not optimise away.
void Wipe(void* p, std::size_t n);
// Constant-time equality for secrets and MACs.
bool EqualConstantTime(const std::uint8_t* a, const std::uint8_t* b, std::size_t n);

inline std::string_view AsView(const Hash& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
}

}  // namespace ledger::crypto
