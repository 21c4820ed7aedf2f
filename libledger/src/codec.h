// codec.h — protobuf conversions shared inside the library (internal).
#pragma once

#include "entry.pb.h"
#include "ledger/entry.h"

namespace ledger {

Policy PolicyFromProto(const timebank::v1::Policy& p);

}  // namespace ledger
