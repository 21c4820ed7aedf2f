// Crash test: nothing acknowledged is lost across kill -9.
//
// A child process (crash_child) appends in a loop and reports each acknowledged entry;
// the parent kills it with SIGKILL at a random moment, reopens the ledger, and checks
// that every reported entry is present at its reported index, that the tree verifies
// and that the stored state equals a rebuild from the log. 25 rounds on one directory.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "district.h"

using namespace ledger;
using namespace ledger::testing;

#ifndef TIMEBANK_CRASH_CHILD
#error "TIMEBANK_CRASH_CHILD must name the crash_child binary"
#endif

namespace {

struct Child {
  pid_t pid = -1;
  int out = -1;
};

Child Spawn(const std::string& dir, const std::vector<std::string>& accounts) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  std::vector<std::string> args = {TIMEBANK_CRASH_CHILD, dir};
  args.insert(args.end(), accounts.begin(), accounts.end());
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  return {pid, fds[0]};
}

// Reads what the child printed until `deadline`; complete lines only.
void ReadUntil(int fd, std::chrono::steady_clock::time_point deadline, std::string* buf) {
  char chunk[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return;
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n <= 0) return;
    buf->append(chunk, n);
  }
}

}  // namespace

TEST_CASE("entries acknowledged before kill -9 survive it") {
  TempDir dir;
  std::vector<std::string> accounts;
  {
    District d(dir.path());
    for (int i = 0; i < 20; ++i) accounts.push_back(d.OpenPerson(1960 + i));
  }
  std::mt19937 rng(20261122);
  std::map<std::string, std::uint64_t> acknowledged;  // id hex -> index
  int rounds_with_progress = 0;
  for (int round = 0; round < 25; ++round) {
    Child c = Spawn(dir.path(), accounts);
    // Wait until it has opened the ledger (maybe recovering) and acknowledged something,
    // however slow the machine (sanitizers), then let it run a random while and kill it.
    std::string out;
    const auto started = std::chrono::steady_clock::now();
    while (out.find('\n') == std::string::npos &&
           std::chrono::steady_clock::now() - started < std::chrono::seconds(30))
      ReadUntil(c.out, std::chrono::steady_clock::now() + std::chrono::milliseconds(20), &out);
    const auto run_for = std::chrono::milliseconds(rng() % 200);
    ReadUntil(c.out, std::chrono::steady_clock::now() + run_for, &out);
    REQUIRE(kill(c.pid, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(c.pid, &status, 0) == c.pid);
    CHECK_MESSAGE((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL),
                  "the child died on its own: ", status);
    ReadUntil(c.out, std::chrono::steady_clock::now() + std::chrono::milliseconds(50),
              &out);  // what was flushed
    close(c.out);
    std::istringstream lines(out);
    std::string line;
    std::size_t got = 0;
    while (std::getline(lines, line)) {
      if (lines.eof()) break;  // a torn last line was never fully reported
      std::istringstream f(line);
      std::string id;
      std::uint64_t index;
      if (f >> id >> index) {
        acknowledged[id] = index;
        ++got;
      }
    }
    if (got > 0) ++rounds_with_progress;

    District d(dir.path());
    for (const auto& [hex, index] : acknowledged) {
      EntryId id;
      REQUIRE(FromHex(hex, &id));
      auto found = d.ledger().FindEntry(id);
      REQUIRE_MESSAGE(found.ok(), "round ", round, ": acknowledged entry ", hex, " is lost");
      CHECK(*found == index);
    }
    // The tree verifies: the newest entry is provably in the signed head.
    const Checkpoint cp = d.ledger().CurrentCheckpoint();
    auto last = d.ledger().GetEntry(cp.size - 1);
    REQUIRE(last.ok());
    auto proof = d.ledger().ProveInclusion(cp.size - 1, cp.size);
    REQUIRE(proof.ok());
    CHECK(VerifyInclusion(LeafHash(*last), *proof, cp.root).ok());
    if (round % 6 == 5 || round == 24) {  // a full replay is costly; every few rounds
      auto audit = d.ledger().Audit();
      REQUIRE_MESSAGE(audit.ok(), "round ", round, ": ", audit.status().ToString());
      CHECK(audit->root == cp.root);
    }
  }
  CHECK(rounds_with_progress == 25);
  MESSAGE(acknowledged.size(), " acknowledged entries survived 25 kills");
}
