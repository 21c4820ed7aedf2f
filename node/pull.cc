#include "pull.h"

#include <fmt/format.h>

#include <chrono>
#include <cstring>

#include "api.h"

namespace timebank::api {

using ledger::Code;
using ledger::Hash;
using ledger::Result;
using ledger::Status;

namespace {

std::int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::pair<std::string, std::string> SplitUrl(const std::string& url) {
  const std::size_t scheme = url.find("://");
  const std::size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) return {url, ""};
  return {url.substr(0, slash), url.substr(slash)};
}

TileClient::TileClient(const std::string& base, const ledger::SigningKey* key)
    : base_(base), split_(SplitUrl(base)), client_(split_.first), key_(key) {
  client_.set_connection_timeout(2, 0);
  client_.set_read_timeout(20, 0);
  client_.set_tcp_nodelay(true);
  client_.set_keep_alive(true);
}

Result<std::string> TileClient::Get(const std::string& path) {
  const std::string target = split_.second + path;
  httplib::Headers h;
  if (key_) {
    const auto sig = SignRequest(*key_, "GET", target, Now(), "");
    h = {{kKeyHeader, sig.key},
         {kTimeHeader, sig.time},
         {kNonceHeader, sig.nonce},
         {kSignatureHeader, sig.signature}};
  }
  auto res = client_.Get(target, h);
  if (!res)
    return Status(Code::kIoError,
                  fmt::format("{}{}: {}", split_.first, target, httplib::to_string(res.error())));
  if (res->status != 200)
    return Status(Code::kIoError, fmt::format("{}{}: HTTP {} {}", split_.first, target, res->status,
                                              res->body.substr(0, 200)));
  return std::move(res->body);
}

namespace {

std::string TileSuffix(std::uint64_t tile, std::uint64_t size) {
  const std::uint64_t width = std::min<std::uint64_t>(256, size - tile * 256);
  return TilePath(tile) + (width < 256 ? fmt::format(".p/{}", width) : "");
}

// The leaf hashes of entries [from, to) from level-0 hash tiles of the tree of size `to`.
Result<std::vector<Hash>> FetchLeafHashes(TileClient& c, std::uint64_t from, std::uint64_t to) {
  std::vector<Hash> out;
  out.reserve(to - from);
  for (std::uint64_t tile = from / 256; tile * 256 < to; ++tile) {
    auto data = c.Get("/tile/0/" + TileSuffix(tile, to));
    if (!data.ok()) return data.status();
    const std::uint64_t width = std::min<std::uint64_t>(256, to - tile * 256);
    if (data->size() != width * 32)
      return Status(Code::kCorruption, fmt::format("hash tile {} has {} bytes, not {}", tile,
                                                   data->size(), width * 32));
    for (std::uint64_t i = std::max(from, tile * 256) - tile * 256; i < width; ++i) {
      Hash h;
      std::memcpy(h.data(), data->data() + i * 32, 32);
      out.push_back(h);
    }
  }
  return out;
}

// Entry bundle bytes -> entries (each a big-endian uint16 length and its bytes).
Result<std::vector<std::string>> ParseBundle(std::string_view data) {
  std::vector<std::string> out;
  while (!data.empty()) {
    if (data.size() < 2) return Status(Code::kCorruption, "an entry bundle is cut short");
    const std::size_t n =
        (static_cast<std::uint8_t>(data[0]) << 8) | static_cast<std::uint8_t>(data[1]);
    if (data.size() - 2 < n) return Status(Code::kCorruption, "an entry bundle is cut short");
    out.emplace_back(data.substr(2, n));
    data.remove_prefix(2 + n);
  }
  return out;
}

}  // namespace

Status PullLog(TileClient& c, const ledger::NoteVerifier& verifier, ledger::Ledger& r,
               PullProgress* progress) {
  auto note = c.Get("/checkpoint");
  if (!note.ok()) return note.status();
  auto cp = ledger::OpenCheckpoint(*note, verifier);
  if (!cp.ok())
    return Status(cp.code(), "the checkpoint served does not verify: " + cp.status().message());
  progress->checkpoint_size = cp->size;
  const std::uint64_t from = r.Size();
  if (cp->size <= from) return r.BeginReplication(*note, {});
  auto leaves = FetchLeafHashes(c, from, cp->size);
  if (!leaves.ok()) return leaves.status();
  if (Status s = r.BeginReplication(*note, *leaves); !s.ok()) {
    if (s.code() != Code::kCorruption) return s;
    // Bad bytes from the source, or a fork signed by the district? All its leaves decide.
    auto all = FetchLeafHashes(c, 0, cp->size);
    if (!all.ok()) return s;
    if (Status f = r.CheckFork(*note, *all); f.code() == Code::kEquivocation) return f;
    return s;
  }
  for (std::uint64_t tile = from / 256; tile * 256 < cp->size; ++tile) {
    auto data = c.Get("/tile/entries/" + TileSuffix(tile, cp->size));
    if (!data.ok()) return data.status();
    auto entries = ParseBundle(*data);
    if (!entries.ok()) return entries.status();
    const std::size_t skip = std::max(from, tile * 256) - tile * 256;
    if (entries->size() < skip) return Status(Code::kCorruption, "an entry bundle is too short");
    auto size = r.Replicate(std::span<const std::string>(*entries).subspan(skip));
    if (!size.ok()) return size.status();
    progress->pulled += entries->size() - skip;
  }
  return Status::Ok();
}

std::string TilePath(std::uint64_t index) {
  std::string digits = fmt::format("{}", index);
  while (digits.size() % 3 != 0) digits.insert(0, "0");
  std::string out;
  for (std::size_t i = 0; i < digits.size(); i += 3) {
    if (i + 3 < digits.size()) out += 'x';
    out += digits.substr(i, 3);
    if (i + 3 < digits.size()) out += '/';
  }
  return out;
}

}  // namespace timebank::api
