// Account numbers, amounts for display, entry ids.
#include <fmt/format.h>

#include "crypto.h"
#include "ledger/types.h"

namespace ledger {
namespace {

bool AllDigits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return !s.empty();
}

// Luhn check digit over `digits` (the digit that makes the whole string pass Luhn).
int LuhnCheckDigit(std::string_view digits) {
  int sum = 0;
  bool dbl = true;  // the rightmost payload digit is doubled once the check digit is appended
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (dbl) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
    dbl = !dbl;
  }
  return (10 - sum % 10) % 10;
}

constexpr std::string_view kSystemNames[] = {"issuance", "pool", "held", "redeemed",
                                             "interdistrict"};

}  // namespace

bool IsDistrictCode(std::string_view code) {
  return code.size() == 6 && AllDigits(code);
}

Result<std::string> ParseAccountDistrict(std::string_view account) {
  if (account.size() > 7 && account[6] == '.') {
    std::string_view district = account.substr(0, 6), name = account.substr(7);
    if (IsDistrictCode(district))
      for (auto n : kSystemNames)
        if (name == n) return std::string(district);
    return Status(
        Code::kBadAccountNumber,
        fmt::format(
            "'{}' is not a system account (district.issuance|pool|held|redeemed|interdistrict)",
            account));
  }
  if (account.size() != 15 || !AllDigits(account))
    return Status(Code::kBadAccountNumber,
                  fmt::format("account number '{}' must be 15 digits", account));
  if (LuhnCheckDigit(account.substr(0, 14)) != account[14] - '0')
    return Status(Code::kBadAccountNumber,
                  fmt::format("account number '{}' has a wrong check digit", account));
  return std::string(account.substr(0, 6));
}

Result<std::string> MakeAccountNumber(std::string_view district, std::uint64_t serial) {
  if (!IsDistrictCode(district))
    return Status(Code::kInvalidArgument, fmt::format("district '{}' must be 6 digits", district));
  if (serial > 99'999'999)
    return Status(Code::kInvalidArgument, fmt::format("serial {} has more than 8 digits", serial));
  std::string s = fmt::format("{}{:08d}", district, serial);
  s.push_back(static_cast<char>('0' + LuhnCheckDigit(s)));
  return s;
}

std::string SystemAccountId(std::string_view district, SystemAccount which) {
  std::string id(district);  // on the rules' path for most entries: no format string
  id += '.';
  id += kSystemNames[static_cast<int>(which)];
  return id;
}

bool IsSystemAccount(std::string_view account) {
  return account.size() > 7 && account[6] == '.';
}

std::string FormatHours(Minutes minutes) {
  const bool neg = minutes < 0;
  const std::uint64_t m = neg ? 0 - static_cast<std::uint64_t>(minutes) : minutes;
  // Hours with up to two decimals, rounded half up, trailing zeros dropped.
  const std::uint64_t hundredths = (m * 100 + 30) / 60;
  std::string s = fmt::format("{}{}", neg ? "-" : "", hundredths / 100);
  if (hundredths % 100 != 0) {
    std::string frac = fmt::format("{:02d}", hundredths % 100);
    if (frac.back() == '0') frac.pop_back();
    s += "." + frac;
  }
  return s + " h";
}

EntryId NewEntryId() {
  crypto::InitCrypto();
  EntryId id;
  crypto::RandomBytes(id.data(), id.size());
  return id;
}

}  // namespace ledger
