#include "crypto.h"

#include <sodium.h>

#include <cstdlib>
#include <mutex>

namespace ledger::crypto {

void InitCrypto() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) std::abort();  // no usable RNG: nothing safe can be done
  });
}

Hash Sha256(std::string_view data) {
  Hash h;
  crypto_hash_sha256(h.data(), reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return h;
}

Hash Sha256(std::initializer_list<std::string_view> parts) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  for (auto p : parts)
    crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(p.data()), p.size());
  Hash h;
  crypto_hash_sha256_final(&st, h.data());
  return h;
}

bool Ed25519Verify(const PublicKey& key, std::string_view message, const SignatureBytes& sig) {
  return crypto_sign_verify_detached(sig.data(),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), key.data()) == 0;
}

void Ed25519FromSeed(const std::uint8_t seed[32], PublicKey* pub, std::uint8_t secret[64]) {
  crypto_sign_seed_keypair(pub->data(), secret, seed);
}

SignatureBytes Ed25519Sign(const std::uint8_t secret[64], std::string_view message) {
  SignatureBytes sig;
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), secret);
  return sig;
}

void RandomBytes(std::uint8_t* out, std::size_t n) { randombytes_buf(out, n); }

void Wipe(void* p, std::size_t n) { sodium_memzero(p, n); }

bool EqualConstantTime(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) {
  return sodium_memcmp(a, b, n) == 0;
}

}  // namespace ledger::crypto
