// entry_text.h — EntryBody as readable "field <path> <value>" lines, and back.
//
// The text form of schema/vectors/entries.txt (public API only). Every field of the body
// and of its kind message is listed, in field-number order, defaults included:
//
//   <path>   the proto field names joined by '.', repeated fields with [i]:
//            id, district, time, community, genesis.policy.services[0].category, ...
//   <value>  integers in decimal; bool as true/false; enums by their proto value name
//            (ROLE_RECORDER); bytes as lower-case hex, "-" when empty; strings in double
//            quotes, UTF-8, verbatim (the vectors' strings hold no '"', '\' or newline).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ledger/entry.h"
#include "ledger/status.h"

namespace ledger::testing {

// One (path, value) pair per field of `body`, in field-number order.
std::vector<std::pair<std::string, std::string>> BodyFields(const EntryBody& body);

// The inverse of BodyFields: every field of the kind (named by `kind`, the proto field
// name as KindName returns it) must be present exactly once and no other field may be.
// Errors: kInvalidArgument saying which field is missing, unknown or unparsable.
Result<EntryBody> BodyFromFields(const std::string& kind,
                                 const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace ledger::testing
