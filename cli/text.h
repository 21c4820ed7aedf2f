// text.h — what the CLI says to people, in English and Chinese.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ledger/types.h"

namespace timebank::cli {

enum class Lang { kEn, kZh };

// --lang, else LANG/LC_ALL (zh* -> Chinese), else English.
Lang PickLang(const std::string& flag);

// A phrase by key ("balance", "served", ...); the key itself when unknown.
std::string_view T(Lang lang, std::string_view key);

// "12.5 h" / "12.5 小时".
std::string Hours(Lang lang, ledger::Minutes minutes);

// Label/value rows, labels padded to one column (by display width, CJK counting double).
std::string Rows(const std::vector<std::pair<std::string, std::string>>& rows);

// Display width of UTF-8 text in a terminal (CJK characters count 2).
std::size_t DisplayWidth(std::string_view s);

}  // namespace timebank::cli
