// district.h — a district ledger with its keys, for tests and benchmarks.
//
// Builds signed entries the way a client would (public API only) and keeps a fixed
// clock so that age and day rules are deterministic.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "ledger/entry.h"
#include "ledger/keys.h"
#include "ledger/ledger.h"

namespace ledger::testing {

// 2026-11-22 12:00:00 UTC.
inline constexpr std::int64_t kNoon = 1795348800;

// A service of `minutes` by `volunteer`, given an hour before noon.
inline Deposit Serve(const std::string& volunteer, Minutes minutes,
                     std::string category = "meals") {
  return Deposit{volunteer, "", std::move(category), minutes, kNoon - 3600, ""};
}

// The size of the largest file under `dir` (tests that cap how far files may grow).
std::uintmax_t LargestFile(const std::string& dir);

// A temporary directory removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Seeds are fixed so that test runs are reproducible.
inline SigningKey KeyFromByte(std::uint8_t b) {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(b);
  return SigningKey::FromSeed(seed);
}

Policy DefaultPolicy();  // the Chinese city defaults used across the tests

class District {
 public:
  // Opens a ledger at `dir` and, when it is empty, appends genesis + one operator with
  // registrar, recorder and redeemer roles.
  // `peers`: other districts' logs, for sync entries; `key_seed`: the first of the three
  // key seeds (root, log, operator), so that districts of one test have keys of their own.
  explicit District(const std::string& dir, std::string code = "510104",
                    Policy policy = DefaultPolicy(), std::shared_ptr<PeerLogs> peers = nullptr,
                    std::uint8_t key_seed = 1);

  Ledger& ledger() { return *ledger_; }
  std::shared_ptr<Ledger> shared() { return ledger_; }
  const std::string& code() const { return code_; }
  // `tune`: changes to the options the ledger is opened with (tests of its limits).
  void Reopen(const std::function<void(Options&)>& tune = {});
  void Close() { ledger_.reset(); }

  EntryBody Body(EntryKind kind) const;
  std::string Sign(const EntryBody& body, const SigningKey* signer = nullptr,
                   const SigningKey* owner = nullptr) const;
  Result<Appended> Submit(EntryKind kind, const SigningKey* signer = nullptr,
                          const SigningKey* owner = nullptr);
  // Registers a person (or group) and returns the new account number; CHECKs success.
  std::string OpenPerson(std::uint32_t birth_year, std::uint32_t need = 0, bool hardship = false,
                         const SigningKey* owner = nullptr);
  std::string OpenGroup();
  std::string NextAccountNumber();
  std::string Pool() const { return SystemAccountId(code_, SystemAccount::kPool); }
  std::string Issuance() const { return SystemAccountId(code_, SystemAccount::kIssuance); }
  Minutes BalanceOf(const std::string& account);

  std::int64_t now = kNoon;
  SigningKey root;
  std::shared_ptr<const SigningKey> log_key;
  SigningKey op;  // registrar + recorder + redeemer

 private:
  std::string dir_;
  std::string code_;
  std::shared_ptr<PeerLogs> peers_;
  std::shared_ptr<Ledger> ledger_;
  std::uint64_t serial_ = 0;
};

}  // namespace ledger::testing
