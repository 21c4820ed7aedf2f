// ledger/types.h — small value types shared by the whole API.
//
// Threading: plain values; safe to copy and share.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "ledger/status.h"

namespace ledger {

// Amounts are integer minutes, never floating point. 90 minutes display as "1.5 h".
using Minutes = std::int64_t;

// A SHA-256 digest: Merkle tree nodes, leaf hashes, commitments.
using Hash = std::array<std::uint8_t, 32>;
// An Ed25519 public key (RFC 8032), 32 bytes.
using PublicKey = std::array<std::uint8_t, 32>;
// An Ed25519 signature, 64 bytes.
using SignatureBytes = std::array<std::uint8_t, 64>;
// A client-chosen 128-bit entry id: the idempotency key of an entry.
using EntryId = std::array<std::uint8_t, 16>;

// Lower-case hexadecimal of any byte string.
std::string ToHex(std::string_view bytes);
template <std::size_t N>
std::string ToHex(const std::array<std::uint8_t, N>& a) {
  return ToHex(std::string_view(reinterpret_cast<const char*>(a.data()), N));
}
// Parses exactly N bytes of hex (either case) into `out`; false on any other input.
bool FromHex(std::string_view hex, std::uint8_t* out, std::size_t n);
template <std::size_t N>
bool FromHex(std::string_view hex, std::array<std::uint8_t, N>* out) {
  return FromHex(hex, out->data(), N);
}

// Standard base64 (RFC 4648 §4, with padding), as used by signed notes.
std::string Base64Encode(std::string_view bytes);
// Strict decode; false for bad characters or padding.
bool Base64Decode(std::string_view text, std::string* out);

// Minutes as hours for people: 90 -> "1.5 h", 60 -> "1 h", -30 -> "-0.5 h", 20 -> "0.33 h".
std::string FormatHours(Minutes minutes);

// A fresh random entry id (from the OS CSPRNG).
EntryId NewEntryId();

// Account numbers.
//
// A person's or group's account number is 15 decimal digits:
//   district code (6, GB/T 2260) + serial (8) + check digit (1, Luhn over the first 14).
// e.g. "510104000000011". Each district issues its own serials.
// System accounts of a district are written "<district>.issuance", "<district>.pool",
// "<district>.held" and "<district>.redeemed".
// kInterdistrict holds hours in transit between districts (docs/federation.md §2): credits
// written here for accounts of other districts, and — negative — credits of other
// districts' logs that this district's accounts received at a sync.
enum class SystemAccount { kIssuance, kPool, kHeld, kRedeemed, kInterdistrict };

// Checks an account number (person/group form or system form); returns the district code.
Result<std::string> ParseAccountDistrict(std::string_view account);
// Builds the 15-digit number for `serial` in `district` (6 digits), computing its check digit.
Result<std::string> MakeAccountNumber(std::string_view district, std::uint64_t serial);
// "<district>.pool" etc.
std::string SystemAccountId(std::string_view district, SystemAccount which);
bool IsSystemAccount(std::string_view account);
// True when `code` is six decimal digits.
bool IsDistrictCode(std::string_view code);

}  // namespace ledger
