// The scoring half of a task family: reads untrusted model text against a Task record alone (any
// process, any time after generation). Paired with the family's Generator in tasks/registry/.
#pragma once
#include <string_view>

#include "schemas/verity.pb.h"

namespace verity {

class Verifier {
 public:
  virtual ~Verifier() = default;
  // Scores a completion. Must not throw, hang or use unbounded memory for any completion.
  virtual pb::Score verify(const pb::Task& task, std::string_view completion) const = 0;
};

}  // namespace verity
