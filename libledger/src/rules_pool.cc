// The public pool (公益池): elders' requests, queued by need level and answered in
// order when the policy says so (pool_in_order). Grants themselves are transfers
// (engine.cc, Apply(Transfer)); this file keeps the queues.
#include <algorithm>
#include <cstring>

#include "rules.h"

namespace ledger {

// A queue link as stored (16 bytes, written only by Enqueue/Dequeue) back to an id.
static EntryId IdFromLink(const std::string& link) {
  EntryId id{};
  std::memcpy(id.data(), link.data(), std::min(link.size(), id.size()));
  return id;
}

Result<st::PoolQueue> Rules::LoadQueue() {
  st::PoolQueue q;
  auto found = Load(std::string(keys::kPoolQueue), &q);
  if (!found.ok()) return found.status();
  while (q.head_size() < 4) q.add_head();
  while (q.tail_size() < 4) q.add_tail();
  return q;
}

Status Rules::Enqueue(const EntryId& id, st::PoolRequest req) {
  auto q = LoadQueue();
  if (!q.ok()) return q.status();
  const int level = static_cast<int>(req.need());
  const std::string self(keys::View(id));
  if (const std::string tail = q->tail(level); !tail.empty()) {
    const EntryId tail_id = IdFromLink(tail);
    st::PoolRequest last;
    auto found = Load(keys::PoolRequest(tail_id), &last);
    if (!found.ok()) return found.status();
    if (!*found) return Err(Code::kCorruption, "a pool queue's tail is missing");
    last.set_next(self);
    Store(keys::PoolRequest(tail_id), last);
    req.set_prev(tail);
  } else {
    q->set_head(level, self);
  }
  q->set_tail(level, self);
  req.set_open(true);
  Store(keys::PoolRequest(id), req);
  Store(std::string(keys::kPoolQueue), *q);
  return Status::Ok();
}

Status Rules::Dequeue(const EntryId& id, st::PoolRequest* req) {
  auto found = Load(keys::PoolRequest(id), req);
  if (!found.ok()) return found.status();
  if (!*found) return Err(Code::kNotFound, fmt::format("no pool request with id {}", ToHex(id)));
  if (!req->open())
    return Err(Code::kAlreadyReversed,
               fmt::format("pool request {} was already answered or cancelled", ToHex(id)));
  auto q = LoadQueue();
  if (!q.ok()) return q.status();
  const int level = static_cast<int>(req->need());
  // Relink the neighbours (or the queue's ends) around it.
  auto relink = [&](const std::string& neighbour, bool set_next, const std::string& to) -> Status {
    const EntryId nid = IdFromLink(neighbour);
    st::PoolRequest n;
    auto has = Load(keys::PoolRequest(nid), &n);
    if (!has.ok()) return has.status();
    if (!*has) return Err(Code::kCorruption, "a pool queue link is missing");
    set_next ? n.set_next(to) : n.set_prev(to);
    Store(keys::PoolRequest(nid), n);
    return Status::Ok();
  };
  if (req->prev().empty())
    q->set_head(level, req->next());
  else if (Status s = relink(req->prev(), true, req->next()); !s.ok())
    return s;
  if (req->next().empty())
    q->set_tail(level, req->prev());
  else if (Status s = relink(req->next(), false, req->prev()); !s.ok())
    return s;
  req->set_open(false);
  req->clear_prev();
  req->clear_next();
  Store(keys::PoolRequest(id), *req);
  Store(std::string(keys::kPoolQueue), *q);
  return Status::Ok();
}

Status Rules::Apply(const PoolRequest& r) {
  if (Status s = CheckSigner(Role::kRegistrar); !s.ok()) return s;
  if (Status s = CheckMinutes(r.minutes, "requested minutes"); !s.ok()) return s;
  if (r.reason.size() > 500)
    return Err(Code::kMalformedEntry, "a request's reason is at most 500 bytes");
  auto a = LocalAccount(r.account, "applicant");
  if (!a.ok()) return a.status();
  if (a->kind() != kPersonAcct)
    return Err(
        Code::kAccountKindRestricted,
        fmt::format("pool requests are for people; {} is not a person's account", r.account));
  if (policy_->pool_min_need > 0 && a->need() < policy_->pool_min_need)
    return Err(Code::kPoolNotEligible,
               fmt::format("account {} has need level {}; policy v{} grants from level {}",
                           r.account, a->need(), policy_->version, policy_->pool_min_need));
  st::PoolRequest req;
  req.set_account(r.account);
  req.set_minutes(r.minutes);
  req.set_need(a->need());
  return Enqueue(e_.body.id, std::move(req));
}

Status Rules::AnswerRequest(const Transfer& t) {
  if (t.request_id == EntryId{}) {
    if (!policy_->pool_in_order) return Status::Ok();
    return Err(
        Code::kMalformedEntry,
        fmt::format("policy v{} grants from the pool only in answer to a request (request_id)",
                    policy_->version));
  }
  st::PoolRequest req;
  auto found = Load(keys::PoolRequest(t.request_id), &req);
  if (!found.ok()) return found.status();
  if (!*found)
    return Err(Code::kNotFound, fmt::format("no pool request with id {}", ToHex(t.request_id)));
  if (req.open() && req.account() != t.to)
    return Err(Code::kInvalidArgument, fmt::format("pool request {} is for {}, not {}",
                                                   ToHex(t.request_id), req.account(), t.to));
  if (req.open() && t.minutes > req.minutes())
    return Err(Code::kInvalidAmount,
               fmt::format("the grant of {} exceeds the {} requested", FormatHours(t.minutes),
                           FormatHours(req.minutes())));
  if (req.open() && policy_->pool_in_order) {
    auto q = LoadQueue();
    if (!q.ok()) return q.status();
    for (int level = 3; level >= 0; --level) {
      if (q->head(level).empty()) continue;
      if (q->head(level) == keys::View(t.request_id)) break;
      const EntryId first = IdFromLink(q->head(level));
      st::PoolRequest f;
      auto has = Load(keys::PoolRequest(first), &f);
      if (!has.ok()) return has.status();
      return Err(Code::kPoolOrder,
                 fmt::format("request {} of {} (need level {}) comes first under policy v{}",
                             ToHex(first), f.account(), level, policy_->version));
    }
  }
  return Dequeue(t.request_id, &req);
}

}  // namespace ledger
