// Reads: entries, accounts, history, checkpoints, proofs, tiles, private records.
#include <fmt/format.h>
#include <rocksdb/iterator.h>

#include <algorithm>
#include <cstring>

#include "codec.h"
#include "crypto.h"
#include "engine.h"
#include "keyspace.h"
#include "ledger_impl.h"
#include "state.pb.h"

namespace ledger {

std::uint64_t LedgerImpl::Size() const {
  std::lock_guard lk(tree_mu_);
  return frontier_.size();
}

std::string LedgerImpl::District() const {
  std::lock_guard lk(tree_mu_);
  return district_;
}

Result<std::string> LedgerImpl::GetEntry(std::uint64_t index) {
  if (index >= Size())
    return Status(Code::kNotFound,
                  fmt::format("entry {} is beyond the log's size {}", index, Size()));
  auto v = Get(keys::Entry(index));
  if (!v.ok()) return v.status();
  if (!v->has_value() || (*v)->size() < 32)
    return Status(Code::kCorruption, fmt::format("entry {} is missing", index));
  return (*v)->substr(32);
}

Result<std::uint64_t> LedgerImpl::FindEntry(const EntryId& id) {
  auto v = Get(keys::Ref(id));
  if (!v.ok()) return v.status();
  if (!v->has_value())
    return Status(Code::kNotFound, fmt::format("no entry with id {}", ToHex(id)));
  timebank::state::EntryRef ref;
  if (!ref.ParseFromString(**v)) return Status(Code::kCorruption, "entry reference does not parse");
  return ref.index();
}

namespace {

// Reads at one pinned snapshot.
class PinnedReader : public StateReader {
 public:
  PinnedReader(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log_cf, rocksdb::ReadOptions ro)
      : db_(db), log_cf_(log_cf), ro_(ro) {}
  Result<std::optional<std::string>> Read(const std::string& key) override {
    std::string value;
    rocksdb::Status s =
        db_->Get(ro_, keys::InLogFamily(key) ? log_cf_ : db_->DefaultColumnFamily(), key, &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return Status(Code::kIoError, s.ToString());
    return std::optional<std::string>(std::move(value));
  }

 private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* log_cf_;
  rocksdb::ReadOptions ro_;
};

Result<timebank::state::Account> LoadAccount(StateReader& state, const std::string& account) {
  if (auto d = ParseAccountDistrict(account); !d.ok()) return d.status();
  auto v = state.Read(keys::Account(account));
  if (!v.ok()) return v.status();
  if (!v->has_value())
    return Status(Code::kUnknownAccount, fmt::format("account {} is not registered here", account));
  timebank::state::Account a;
  if (!a.ParseFromString(**v)) return Status(Code::kCorruption, "account record does not parse");
  return a;
}

}  // namespace

Result<AccountInfo> LedgerImpl::GetAccount(const std::string& account) {
  auto loaded = LoadAccount(state_reader_, account);
  if (!loaded.ok()) return loaded.status();
  const timebank::state::Account& a = *loaded;
  AccountInfo out;
  out.account = account;
  out.type = a.kind() == 0   ? AccountType::kPerson
             : a.kind() == 1 ? AccountType::kGroup
                             : AccountType::kSystem;
  out.balance = a.balance();
  out.served = a.served();
  out.birth_year = a.birth_year();
  out.hardship = a.hardship();
  out.need = a.need();
  out.street = a.street();
  out.community = a.community();
  out.has_owner_key = a.owner_key().size() == out.owner_key.size();
  if (out.has_owner_key) std::memcpy(out.owner_key.data(), a.owner_key().data(), 32);
  out.opened_at = a.opened_at();
  out.moved_to = a.moved_to();
  out.moved_at = a.moved_at();
  return out;
}

Result<DistrictInfo> LedgerImpl::GetDistrictInfo() {
  auto raw = state_reader_.Read(std::string(keys::kLogInfo));
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return Status(Code::kNotFound, "the log has no genesis yet");
  timebank::state::LogInfo info;
  if (!info.ParseFromString(**raw) || info.root_key().size() != 32 || info.log_key().size() != 32)
    return Status(Code::kCorruption, "log info does not parse");
  DistrictInfo out{info.district(), info.name(), info.city(), info.origin(), {}, {}};
  std::memcpy(out.root_key.data(), info.root_key().data(), 32);
  std::memcpy(out.log_key.data(), info.log_key().data(), 32);
  return out;
}

Result<std::vector<EntryId>> LedgerImpl::ExpiredHolds(std::int64_t now, std::size_t limit) {
  std::shared_ptr<const rocksdb::Snapshot> pin;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(state_reader_.ReadAt(&pin)));
  std::vector<std::pair<std::uint64_t, EntryId>> found;
  const EntryId none{};
  const std::string prefix = keys::Hold(none).substr(0, 2);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    timebank::state::Hold h;
    if (it->key().size() != prefix.size() + 16 ||
        !h.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())))
      return Status(Code::kCorruption, "a hold record does not parse");
    if (h.status() != 0 || h.expires_at() > now) continue;
    // A hold served by a peer may be claimed up to its expiry and the claim reach here
    // later: it is released only after the claim window (rules: HoldExpire).
    if (!h.serving_district().empty() && h.expires_at() + kClaimWindowSeconds > now) continue;
    EntryId id;
    std::memcpy(id.data(), it->key().data() + prefix.size(), 16);
    found.emplace_back(h.index(), id);
  }
  if (!it->status().ok())
    return Status(Code::kIoError, "scanning holds: " + it->status().ToString());
  std::sort(found.begin(), found.end());
  std::vector<EntryId> out;
  for (std::size_t i = 0; i < found.size() && i < limit; ++i) out.push_back(found[i].second);
  return out;
}

Result<KeyInfo> LedgerImpl::LookupKey(const PublicKey& key) {
  KeyInfo out;
  auto facts = GetDistrictInfo();
  if (!facts.ok()) return facts.status();
  if (facts->root_key == key) {
    out.root = true;
    return out;
  }
  auto raw = state_reader_.Read(keys::Operator(key));
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return out;
  timebank::state::Operator op;
  if (!op.ParseFromString(**raw))
    return Status(Code::kCorruption, "operator record does not parse");
  out.label = op.label();
  if (op.revoked()) return out;
  for (int r = static_cast<int>(Role::kRegistrar); r <= static_cast<int>(Role::kAuditor); ++r)
    if (op.roles() & (1u << r)) out.roles.push_back(static_cast<Role>(r));
  return out;
}

Result<Minutes> LedgerImpl::Balance(const std::string& account) {
  auto a = GetAccount(account);
  if (!a.ok()) return a.status();
  return a->balance;
}

Result<HistoryPage> LedgerImpl::History(const std::string& account,
                                        std::optional<std::uint64_t> from, std::size_t limit) {
  if (limit == 0 || limit > 1000)
    return Status(Code::kInvalidArgument, "history page size must be 1..1000");
  // One durable view for the whole walk: the account record (not the cache, which may
  // run ahead of it) and every entry and reference it leads to.
  std::shared_ptr<const rocksdb::Snapshot> pin;
  PinnedReader view(db_.get(), log_cf_, state_reader_.ReadAt(&pin));
  auto loaded = LoadAccount(view, account);
  if (!loaded.ok()) return loaded.status();
  const timebank::state::Account& a = *loaded;
  // Walk the account's chain from its newest entry: entry -> its id -> its reference,
  // whose posting for this account links the previous entry.
  HistoryPage page;
  if (from && *from >= a.last_entry())
    return Status(Code::kInvalidArgument,
                  fmt::format("entry {} is not in the history of {}", *from, account));
  for (std::uint64_t link = from ? *from + 1 : a.last_entry(); link != 0;) {
    const std::uint64_t index = link - 1;
    if (page.items.size() == limit) {
      page.next = index;
      break;
    }
    auto stored = view.Read(keys::Entry(index));
    if (!stored.ok()) return stored.status();
    if (!stored->has_value() || (*stored)->size() < 32)
      return Status(Code::kCorruption, fmt::format("entry {} is missing", index));
    auto decoded = DecodeEntry(std::string_view(**stored).substr(32));
    if (!decoded.ok())
      return Status(Code::kCorruption,
                    fmt::format("entry {}: {}", index, decoded.status().message()));
    auto ref_raw = view.Read(keys::Ref(decoded->body.id));
    if (!ref_raw.ok()) return ref_raw.status();
    timebank::state::EntryRef ref;
    if (!ref_raw->has_value() || !ref.ParseFromString(**ref_raw))
      return Status(Code::kCorruption, fmt::format("entry {} has no reference record", index));
    Minutes delta = 0;
    std::optional<std::uint64_t> prev;
    for (const auto& p : ref.postings())
      if (p.account() == account) {
        delta += p.delta();
        if (!prev) prev = p.prev();
      }
    if (!prev)
      return Status(page.items.empty() ? Code::kInvalidArgument : Code::kCorruption,
                    fmt::format("entry {} is not in the history of {}", index, account));
    link = *prev;
    page.items.push_back({index, delta});
  }
  return page;
}

Result<Policy> LedgerImpl::CurrentPolicy() {
  auto v = Get(std::string(keys::kPolicy));
  if (!v.ok()) return v.status();
  if (!v->has_value()) return Status(Code::kNotFound, "the log has no genesis yet");
  timebank::v1::Policy p;
  if (!p.ParseFromString(**v)) return Status(Code::kCorruption, "policy record does not parse");
  return PolicyFromProto(p);
}

Checkpoint LedgerImpl::CurrentCheckpoint() const {
  std::lock_guard lk(tree_mu_);
  return Checkpoint{origin_, frontier_.size(), frontier_.Root(), {}};
}

Result<std::string> LedgerImpl::SignedCheckpoint() {
  if (replica_) {  // the district's own note, as replicated
    auto note = Get(std::string(keys::kPeerNote));
    if (!note.ok()) return note.status();
    if (!note->has_value())
      return Status(Code::kNotFound, "no checkpoint of the district has been replicated yet");
    return **note;
  }
  std::lock_guard lk(tree_mu_);
  if (origin_.empty()) return Status(Code::kNoGenesis, "the log has no genesis yet");
  if (cached_note_size_ != frontier_.size()) {
    const Checkpoint cp{origin_, frontier_.size(), frontier_.Root(), {}};
    cached_note_ = SignNote(FormatCheckpointBody(cp), origin_, *options_.log_key);
    cached_note_size_ = frontier_.size();
  }
  return cached_note_;
}

Result<std::string> LedgerImpl::VerifierKey() const {
  if (replica_) return options_.replica_verifier;
  std::lock_guard lk(tree_mu_);
  if (origin_.empty()) return Status(Code::kNoGenesis, "the log has no genesis yet");
  return FormatVerifierKey(origin_, options_.log_key->public_key());
}

Result<InclusionProof> LedgerImpl::ProveInclusion(std::uint64_t index, std::uint64_t tree_size) {
  if (tree_size > Size() || index >= tree_size)
    return Status(
        Code::kInvalidArgument,
        fmt::format("no entry {} in a tree of size {} (log size {})", index, tree_size, Size()));
  auto path = merkle::InclusionPath(index, tree_size, Nodes());
  if (!path.ok()) return path.status();
  return InclusionProof{index, tree_size, std::move(path).value()};
}

Result<ConsistencyProof> LedgerImpl::ProveConsistency(std::uint64_t old_size,
                                                      std::uint64_t new_size) {
  if (old_size > new_size || new_size > Size())
    return Status(Code::kInvalidArgument, fmt::format("cannot prove {} -> {} on a log of size {}",
                                                      old_size, new_size, Size()));
  auto path = merkle::ConsistencyPath(old_size, new_size, Nodes());
  if (!path.ok()) return path.status();
  return ConsistencyProof{old_size, new_size, std::move(path).value()};
}

Result<Hash> LedgerImpl::RootAt(std::uint64_t tree_size) {
  if (tree_size > Size())
    return Status(Code::kInvalidArgument,
                  fmt::format("tree size {} is beyond the log's size {}", tree_size, Size()));
  if (tree_size == 0) return EmptyTreeRoot();
  return merkle::RangeHash(0, tree_size, Nodes());
}

Result<std::string> LedgerImpl::HashTile(int level, std::uint64_t index, int width) {
  if (level < 0 || level > 7 || width < 1 || width > 256 || index > (UINT64_MAX >> 9))
    return Status(Code::kInvalidArgument, "tile level must be 0..7 and width 1..256");
  const int tree_level = 8 * level;
  const std::uint64_t first = index * 256, last = first + width;  // node indices [first, last)
  if (tree_level >= 64 || (last << tree_level) >> tree_level != last ||
      (last << tree_level) > Size())
    return Status(Code::kNotFound, fmt::format("tile {}/{} of width {} is not in the tree yet",
                                               level, index, width));
  std::string out;
  out.reserve(32 * width);
  auto read = Nodes();
  for (std::uint64_t i = first; i < last; ++i) {
    auto h = read(tree_level, i);
    if (!h.ok()) return h.status();
    out.append(crypto::AsView(*h));
  }
  return out;
}

Result<std::string> LedgerImpl::EntryBundle(std::uint64_t index, int width) {
  if (width < 1 || width > 256 || index > (UINT64_MAX >> 9))
    return Status(Code::kInvalidArgument, "bundle width must be 1..256");
  const std::uint64_t first = index * 256;
  if (first + width > Size())
    return Status(Code::kNotFound,
                  fmt::format("entry bundle {} of width {} is not in the log yet", index, width));
  // One scan of the log family: the entries' keys ascend with their index.
  std::string out;
  std::shared_ptr<const rocksdb::Snapshot> pin;
  rocksdb::ReadOptions ro = state_reader_.ReadAt(&pin);
  const std::string last = keys::Entry(first + width);
  const rocksdb::Slice upper(last);
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_cf_));
  std::uint64_t i = first;
  for (it->Seek(keys::Entry(first)); it->Valid(); it->Next(), ++i) {
    const rocksdb::Slice v = it->value();
    if (it->key() != rocksdb::Slice(keys::Entry(i)) || v.size() < 32)
      return Status(Code::kCorruption, fmt::format("entry {} is missing", i));
    const std::size_t n = v.size() - 32;  // after the stored leaf hash
    if (n > 0xFFFF) return Status(Code::kCorruption, "entry too large for a bundle");
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
    out.append(v.data() + 32, n);
  }
  if (!it->status().ok())
    return Status(Code::kIoError, "reading an entry bundle: " + it->status().ToString());
  if (i != first + width) return Status(Code::kCorruption, fmt::format("entry {} is missing", i));
  return out;
}

Status LedgerImpl::PutRealName(const std::string& account, const RealNameRecord& record,
                               const std::string& salt) {
  auto loaded = LoadAccount(state_reader_, account);
  if (!loaded.ok()) return loaded.status();
  const timebank::state::Account& a = *loaded;
  const Hash c = RealNameCommitment(record, salt);
  if (a.commitment().size() != 32 ||
      !crypto::EqualConstantTime(c.data(),
                                 reinterpret_cast<const std::uint8_t*>(a.commitment().data()), 32))
    return Status(Code::kInvalidArgument,
                  fmt::format("the record does not match the commitment in account {}'s open entry",
                              account));
  std::string value;
  for (const std::string* f : {&record.name, &record.id_number, &record.phone, &salt}) {
    keys::PutBE64(&value, f->size());
    value.append(*f);
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = db_->Put(wo, private_cf_, keys::Account(account), value);
  if (!s.ok()) return Status(Code::kIoError, s.ToString());
  return Status::Ok();
}

Result<RealNameRecord> LedgerImpl::GetRealName(const std::string& account) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), private_cf_, keys::Account(account), &value);
  if (s.IsNotFound())
    return Status(Code::kNotFound, fmt::format("no real-name record for {}", account));
  if (!s.ok()) return Status(Code::kIoError, s.ToString());
  std::string fields[4];
  std::string_view rest = value;
  for (auto& f : fields) {
    if (rest.size() < 8) return Status(Code::kCorruption, "real-name record is truncated");
    const std::uint64_t n = keys::GetBE64(rest);
    rest.remove_prefix(8);
    if (rest.size() < n) return Status(Code::kCorruption, "real-name record is truncated");
    f = std::string(rest.substr(0, n));
    rest.remove_prefix(n);
  }
  return RealNameRecord{fields[0], fields[1], fields[2]};
}

Status LedgerImpl::DeleteRealName(const std::string& account) {
  if (auto r = GetRealName(account); !r.ok()) return r.status();
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = db_->Delete(wo, private_cf_, keys::Account(account));
  if (!s.ok()) return Status(Code::kIoError, s.ToString());
  return Status::Ok();
}

Status LedgerImpl::ScanByIndex(std::string (*key)(std::uint64_t), std::uint64_t from,
                               std::uint64_t to,
                               const std::function<bool(std::uint64_t, std::string_view)>& each) {
  to = std::min(to, Size());
  if (from >= to) return Status::Ok();
  std::shared_ptr<const rocksdb::Snapshot> pin;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(state_reader_.ReadAt(&pin)));
  const std::string end = key(to);
  for (it->Seek(key(from)); it->Valid() && it->key().compare(end) < 0; it->Next()) {
    if (it->key().size() < end.size() ||
        !each(keys::GetBE64(it->key().ToStringView().substr(2)), it->value().ToStringView()))
      return Status(Code::kCorruption, fmt::format("a {} record does not parse",
                                                   it->key().ToStringView().substr(0, 2)));
  }
  if (!it->status().ok()) return Status(Code::kIoError, it->status().ToString());
  return Status::Ok();
}

Result<std::vector<TransitCredit>> LedgerImpl::TransitCredits(std::uint64_t from,
                                                              std::uint64_t to) {
  std::vector<TransitCredit> out;
  Status s = ScanByIndex(&keys::Transit, from, to, [&](std::uint64_t index, std::string_view v) {
    timebank::state::Transit t;
    if (!t.ParseFromArray(v.data(), static_cast<int>(v.size()))) return false;
    TransitCredit c{index, t.account(), t.minutes(), t.served(), t.to_district(), {}};
    if (c.to_district.empty()) {
      auto home = ParseAccountDistrict(c.account);
      if (home.ok()) c.to_district = *home;
    }
    if (t.has_migrated()) t.migrated().SerializeToString(&c.migrated);
    out.push_back(std::move(c));
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<KeyChange>> LedgerImpl::KeyChanges(std::uint64_t from, std::uint64_t to) {
  std::vector<KeyChange> out;
  Status s = ScanByIndex(&keys::KeyChange, from, to, [&](std::uint64_t index, std::string_view v) {
    timebank::state::KeyChange k;
    if (!k.ParseFromArray(v.data(), static_cast<int>(v.size())) || k.key().size() != 32)
      return false;
    KeyChange c;
    c.index = index;
    std::memcpy(c.key.data(), k.key().data(), 32);
    c.roles = k.roles();
    c.revoked = k.revoked();
    out.push_back(c);
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<HoldEvent>> LedgerImpl::HoldEvents(std::uint64_t from, std::uint64_t to) {
  std::vector<HoldEvent> out;
  Status s = ScanByIndex(&keys::HoldEvent, from, to, [&](std::uint64_t index, std::string_view v) {
    timebank::state::HoldEvent e;
    if (!e.ParseFromArray(v.data(), static_cast<int>(v.size())) || e.hold_id().size() != 16)
      return false;
    HoldEvent h;
    h.index = index;
    std::memcpy(h.hold_id.data(), e.hold_id().data(), 16);
    h.account = e.account();
    h.minutes = e.minutes();
    h.expires_at = e.expires_at();
    h.serving_district = e.serving_district();
    h.closed = e.closed();
    out.push_back(std::move(h));
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<ClaimEvent>> LedgerImpl::Claims(std::uint64_t from, std::uint64_t to) {
  std::vector<ClaimEvent> out;
  Status s = ScanByIndex(&keys::Claim, from, to, [&](std::uint64_t index, std::string_view v) {
    timebank::state::ClaimRecord c;
    if (!c.ParseFromArray(v.data(), static_cast<int>(v.size())) || c.hold_id().size() != 16)
      return false;
    ClaimEvent e;
    e.index = index;
    e.home = c.home();
    std::memcpy(e.hold_id.data(), c.hold_id().data(), 16);
    e.minutes = c.minutes();
    out.push_back(std::move(e));
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<SetAsideInfo>> LedgerImpl::SetAsides(const std::string& account,
                                                        std::size_t limit) {
  std::shared_ptr<const rocksdb::Snapshot> pin;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(state_reader_.ReadAt(&pin)));
  std::vector<SetAsideInfo> out;
  const std::string prefix = "A:";
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix) && out.size() < limit;
       it->Next()) {
    timebank::state::SetAside a;
    const std::string_view key = it->key().ToStringView();
    if (key.size() != prefix.size() + 6 + 16 ||
        !a.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())))
      return Status(Code::kCorruption, "a set-aside record does not parse");
    if (!account.empty() && a.account() != account) continue;
    SetAsideInfo s;
    s.home = std::string(key.substr(2, 6));
    std::memcpy(s.hold_id.data(), key.data() + 8, 16);
    s.account = a.account();
    s.minutes = a.minutes();
    s.expires_at = a.expires_at();
    s.claimed = a.claimed();
    s.closed = a.closed();
    out.push_back(std::move(s));
  }
  if (!it->status().ok()) return Status(Code::kIoError, it->status().ToString());
  return out;
}

Result<std::uint64_t> LedgerImpl::SyncedSize(const std::string& district) {
  auto s = SyncOf(district);
  if (!s.ok()) return s.status();
  return s->size;
}

Result<PeerSync> LedgerImpl::SyncOf(const std::string& district) {
  auto v = Get(keys::SyncOf(district));
  if (!v.ok()) return v.status();
  PeerSync out;
  if (!v->has_value()) return out;
  timebank::state::SyncState s;
  if (!s.ParseFromString(**v) || (!s.root().empty() && s.root().size() != 32))
    return Status(Code::kCorruption, "a sync record does not parse");
  out.size = s.size();
  if (!s.root().empty()) std::memcpy(out.root.data(), s.root().data(), 32);
  out.parked = s.parked();
  out.unpaid_claims = s.unpaid_claims();
  return out;
}

Result<ClearingFigures> LedgerImpl::Clearing(std::int64_t from_day, std::int64_t to_day) {
  if (from_day > to_day || from_day < 0)
    return Status(Code::kInvalidArgument,
                  fmt::format("a clearing period runs from a day to a later one, not {} to {}",
                              from_day, to_day));
  auto info = GetDistrictInfo();
  if (!info.ok()) return info.status();
  ClearingFigures out;
  std::shared_ptr<const rocksdb::Snapshot> pin;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(state_reader_.ReadAt(&pin)));
  const std::string start = keys::ClearingDay(0), end = keys::ClearingDay(to_day);
  // Liability sums every day before the period's end; the flows only the period's days.
  for (it->Seek(start); it->Valid() && it->key().compare(end) < 0; it->Next()) {
    timebank::state::ClearingDay d;
    if (it->key().size() != end.size() ||
        !d.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())))
      return Status(Code::kCorruption, "a clearing record does not parse");
    out.liability += d.liability_change();
    if (static_cast<std::int64_t>(keys::GetBE64(it->key().ToStringView().substr(2))) < from_day)
      continue;
    out.issued += d.issued();
    for (const auto& r : d.redeemed())
      out.redeemed[r.district().empty() ? info->district : r.district()] += r.minutes();
  }
  if (!it->status().ok()) return Status(Code::kIoError, it->status().ToString());
  return out;
}

}  // namespace ledger
