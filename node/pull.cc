#include "pull.h"

#include <fmt/format.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <mutex>
#include <thread>

#include "api.h"

namespace timebank::api {

using ledger::Code;
using ledger::Hash;
using ledger::Result;
using ledger::Status;

std::pair<std::string, std::string> SplitUrl(const std::string& url) {
  const std::size_t scheme = url.find("://");
  const std::size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) return {url, ""};
  return {url.substr(0, slash), url.substr(slash)};
}

TileClient::TileClient(const std::string& base, const ledger::SigningKey* key)
    : base_(base), split_(SplitUrl(base)), key_(key) {
  if (base.rfind("file://", 0) == 0) {
    dir_ = base.substr(7);
  } else if (!base.empty() && base[0] == '/') {
    dir_ = base;
  } else {
    client_ = std::make_unique<httplib::Client>(split_.first);
    client_->set_connection_timeout(2, 0);
    client_->set_read_timeout(20, 0);
    client_->set_tcp_nodelay(true);
    client_->set_keep_alive(true);
  }
}

Result<std::string> TileClient::Get(const std::string& path) {
  if (!client_) {
    const std::string file = dir_ + path;
    std::ifstream in(file, std::ios::binary);
    if (!in) return Status(Code::kIoError, fmt::format("{}: cannot be read", file));
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return Status(Code::kIoError, fmt::format("{}: read error", file));
    return data;
  }
  const std::string target = split_.second + path;
  httplib::Headers h;
  if (key_) {
    const auto sig = SignRequest(*key_, "GET", target, UnixNow(), "");
    h = {{kKeyHeader, sig.key},
         {kTimeHeader, sig.time},
         {kNonceHeader, sig.nonce},
         {kSignatureHeader, sig.signature}};
  }
  auto res = client_->Get(target, h);
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

// Hashes [from, to) of tree level 8 * `level` from that level's hash tiles, where the
// tree has `nodes` complete nodes at that level (level 0: the leaf hashes of a tree of
// size `nodes`). Fetches tiles on four connections at once (the serving node reads each
// from its store; a new node catching up may ask for many).
Result<std::vector<Hash>> FetchTileHashes(TileClient& c, int level, std::uint64_t from,
                                          std::uint64_t to, std::uint64_t nodes) {
  if (from >= to) return std::vector<Hash>();
  const std::uint64_t first = from / 256, last = (to - 1) / 256;
  std::vector<Hash> out(to - from);
  constexpr int kConnections = 4;
  std::atomic<std::uint64_t> next{first};
  std::mutex mu;
  Status failed;
  auto work = [&](TileClient& client) {
    for (std::uint64_t tile; (tile = next.fetch_add(1)) <= last;) {
      auto data = client.Get(fmt::format("/tile/{}/", level) + TileSuffix(tile, nodes));
      const std::uint64_t width = std::min<std::uint64_t>(256, nodes - tile * 256);
      if (data.ok() && data->size() != width * 32)
        data = Status(Code::kCorruption, fmt::format("hash tile {}/{} has {} bytes, not {}", level,
                                                     tile, data->size(), width * 32));
      if (!data.ok()) {
        std::lock_guard lk(mu);
        failed = data.status();
        next = last + 1;
        return;
      }
      const std::uint64_t end = std::min(to - tile * 256, width);
      for (std::uint64_t i = std::max(from, tile * 256) - tile * 256; i < end; ++i)
        std::memcpy(out[tile * 256 + i - from].data(), data->data() + i * 32, 32);
    }
  };
  std::vector<std::unique_ptr<TileClient>> clients;
  clients.reserve(kConnections);
  std::vector<std::thread> threads;
  for (int k = 1; k < kConnections && first + k <= last; ++k) {
    clients.push_back(std::make_unique<TileClient>(c.base(), c.key()));
    threads.emplace_back([&, k] { work(*clients[k - 1]); });
  }
  work(c);
  for (auto& t : threads) t.join();
  if (!failed.ok()) return failed;
  return out;
}

Result<std::vector<Hash>> FetchLeafHashes(TileClient& c, std::uint64_t from, std::uint64_t to) {
  return FetchTileHashes(c, 0, from, to, to);
}

// ledger::TileCover of entries [from, to) of the tree of size `to`, from its tiles: leaf
// hashes (level-0 tiles) for the tiles of entries covered in part, and one level-8 hash
// (from level-1 tiles) for each whole tile — 32 bytes a tile instead of 32 an entry.
Result<std::vector<Hash>> FetchCover(TileClient& c, std::uint64_t from, std::uint64_t to) {
  const std::uint64_t head = std::min(to, (from + 255) / 256 * 256);
  const std::uint64_t tail = head + (to - head) / 256 * 256;
  std::vector<Hash> cover;
  cover.reserve(ledger::TileCoverSize(from, to));
  for (auto part : {FetchTileHashes(c, 0, from, head, to),
                    FetchTileHashes(c, 1, head / 256, tail / 256, to / 256),
                    FetchTileHashes(c, 0, tail, to, to)}) {
    if (!part.ok()) return part.status();
    cover.insert(cover.end(), part->begin(), part->end());
  }
  return cover;
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
  auto cover = FetchCover(c, from, cp->size);
  if (!cover.ok()) return cover.status();
  if (Status s = r.BeginReplication(*note, *cover); !s.ok()) {
    if (s.code() != Code::kCorruption) return s;
    // Bad bytes from the source, or a fork signed by the district? All its leaves decide.
    auto all = FetchLeafHashes(c, 0, cp->size);
    if (!all.ok()) return s;
    if (Status f = r.CheckFork(*note, *all); f.code() == Code::kEquivocation) return f;
    return s;
  }
  // Entry bundles, a batch of tiles at a time; the next batch is fetched (on a connection
  // of its own) while the rules replay the current one, so the network and the replay
  // overlap, and each Replicate is one large commit group.
  constexpr std::uint64_t kTilesPerBatch = 64;
  auto fetch = [&](TileClient& client,
                   std::uint64_t first_tile) -> Result<std::vector<std::string>> {
    std::vector<std::string> out;
    for (std::uint64_t tile = first_tile;
         tile < first_tile + kTilesPerBatch && tile * 256 < cp->size; ++tile) {
      auto data = client.Get("/tile/entries/" + TileSuffix(tile, cp->size));
      if (!data.ok()) return data.status();
      auto entries = ParseBundle(*data);
      if (!entries.ok()) return entries.status();
      const std::size_t skip = std::max(from, tile * 256) - tile * 256;
      const std::uint64_t want = std::min<std::uint64_t>(256, cp->size - tile * 256);
      if (entries->size() != want || skip > want)
        return Status(Code::kCorruption, fmt::format("entry bundle {} holds {} entries, not {}",
                                                     tile, entries->size(), want));
      for (std::size_t i = skip; i < entries->size(); ++i) out.push_back(std::move((*entries)[i]));
    }
    return out;
  };
  TileClient ahead(c.base(), c.key());
  std::uint64_t tile = from / 256;
  auto batch = fetch(c, tile);
  while (true) {
    if (!batch.ok()) return batch.status();
    const std::uint64_t next = tile + kTilesPerBatch;
    std::future<Result<std::vector<std::string>>> pending;
    if (next * 256 < cp->size)
      pending = std::async(std::launch::async, [&, next] { return fetch(ahead, next); });
    auto size = r.Replicate(*batch);
    if (!size.ok()) {
      if (pending.valid()) pending.wait();
      return size.status();
    }
    progress->pulled += batch->size();
    if (!pending.valid()) break;
    if (progress->after_batch && !progress->after_batch()) {
      pending.wait();
      return Status(Code::kClosed, "the copy stopped at " + std::to_string(r.Size()));
    }
    batch = pending.get();
    tile = next;
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

Result<std::uint64_t> ExportLog(TileClient& c, const std::string& dir) {
  auto note = c.Get("/checkpoint");
  if (!note.ok()) return note.status();
  // The size is the note's second line (the note is not checked here: whoever reads the
  // export verifies it with the district's key).
  const std::size_t a = note->find('\n'), b = a == std::string::npos ? a : note->find('\n', a + 1);
  std::uint64_t size = 0;
  const char* first = b == std::string::npos ? nullptr : note->data() + a + 1;
  if (!first || first == note->data() + b ||
      std::from_chars(first, note->data() + b, size).ptr != note->data() + b)
    return Status(Code::kCorruption, "the checkpoint served is not a checkpoint note");
  auto write = [&](const std::string& path, const std::string& data) -> Status {
    const std::filesystem::path file = std::filesystem::path(dir) / path.substr(1);
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.close();
    if (ec || !out)
      return Status(Code::kIoError, fmt::format("{}: cannot be written", file.string()));
    return Status::Ok();
  };
  // Tiles first, the checkpoint last: a reader never finds a checkpoint whose tiles are
  // not there yet.
  std::vector<std::string> paths;
  for (std::uint64_t tile = 0; tile * 256 < size; ++tile)
    paths.push_back("/tile/entries/" + TileSuffix(tile, size));
  // Level L tile N covers entries [N * 256^(L+1), ...); its width counts level-L nodes.
  std::uint64_t nodes = size;  // complete nodes at this level
  for (int level = 0; nodes > 0; ++level, nodes /= 256)
    for (std::uint64_t tile = 0; tile * 256 < nodes; ++tile)
      paths.push_back(fmt::format("/tile/{}/", level) + TileSuffix(tile, nodes));
  for (const auto& path : paths) {
    auto data = c.Get(path);
    if (!data.ok()) return data.status();
    if (Status s = write(path, *data); !s.ok()) return s;
  }
  if (Status s = write("/checkpoint", *note); !s.ok()) return s;
  return size;
}

}  // namespace timebank::api
