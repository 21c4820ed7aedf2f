// A minimal user of the installed libledger: opens a ledger in a temporary directory,
// appends a genesis entry and prints the log's signed checkpoint. Exit 0 on success.
#include <ledger/checkpoint.h>
#include <ledger/entry.h>
#include <ledger/keys.h>
#include <ledger/ledger.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

namespace {

int Fail(const std::string& what, const ledger::Status& s) {
  std::cerr << "consumer: " << what << ": " << s.ToString() << "\n";
  return 1;
}

}  // namespace

int main() {
  std::string dir = (std::filesystem::temp_directory_path() / "ledger-consumer-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) {
    std::cerr << "consumer: mkdtemp failed\n";
    return 1;
  }
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{dir};

  const ledger::SigningKey root = ledger::SigningKey::Generate();
  auto log_key = std::make_shared<const ledger::SigningKey>(ledger::SigningKey::Generate());
  const std::string origin = "timebank.example/510104";

  ledger::Options options;
  options.log_key = log_key;
  auto opened = ledger::Ledger::Open(options, dir + "/ledger");
  if (!opened.ok()) return Fail("open", opened.status());
  std::unique_ptr<ledger::Ledger> log = std::move(opened).value();

  ledger::Policy policy;
  policy.version = 1;
  policy.services = {{"meals", 1000}};
  const ledger::EntryBody body{ledger::NewEntryId(), "510104",
                               std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count(),
                               "",
                               ledger::Genesis{"锦江区时间银行", "510100", root.public_key(),
                                               log_key->public_key(), origin, policy}};
  auto appended = log->Append(ledger::MakeEntry(body, {&root}));
  if (!appended.ok()) return Fail("append", appended.status());

  auto note = log->SignedCheckpoint();
  if (!note.ok()) return Fail("checkpoint", note.status());
  auto vkey = log->VerifierKey();
  if (!vkey.ok()) return Fail("verifier key", vkey.status());
  auto verifier = ledger::ParseVerifierKey(*vkey);
  if (!verifier.ok()) return Fail("verifier key", verifier.status());
  auto checkpoint = ledger::OpenCheckpoint(*note, *verifier);
  if (!checkpoint.ok()) return Fail("verify checkpoint", checkpoint.status());
  if (checkpoint->size != 1 || appended->index != 0) {
    std::cerr << "consumer: expected a log of one entry\n";
    return 1;
  }
  std::cout << *note;
  return 0;
}
