// Compiled policy: what the evaluator walks (private to policies/).
//
// Everything that costs something to match is prepared at parse time:
//   - names (queues, users, user groups, printers, printer groups) are
//     interned to small integer ids; a job's names are looked up once per
//     evaluation, then each rule compares integers;
//   - globs and CIDR sets are deduplicated across rules; the evaluator
//     memoises each one's answer for the job, so 200 rules sharing
//     "*.xlsx" match the document name once; the job's address is parsed
//     once per evaluation (network_set.h);
//   - each rule carries a bit mask of the attributes it sets, so the
//     evaluator skips rules that could no longer change the decision.
//
// Invariants: ids index the interners they came from; glob/cidr indexes are
// < globs.size() / cidr_sets.size(); id lists are sorted and non-empty when
// the scope is present.
// Thread contract: immutable after the parser built it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "policies/glob.h"
#include "policies/network_set.h"
#include "policies/policy.h"

namespace pullprint::policies::detail {

using Id = std::int32_t;
inline constexpr Id kNoId = -1;

// Heterogeneous lookup (find(string_view) without building a std::string).
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class Interner {
 public:
  Id intern(const std::string& s) {
    auto [it, inserted] = ids_.try_emplace(s, static_cast<Id>(ids_.size()));
    return it->second;
  }
  Id find(std::string_view s) const {
    if (ids_.empty()) return kNoId;
    auto it = ids_.find(s);
    return it == ids_.end() ? kNoId : it->second;
  }
  std::size_t size() const { return ids_.size(); }

 private:
  std::unordered_map<std::string, Id, StringHash, std::equal_to<>> ids_;
};

// Attributes a rule can set (one bit each) and the deny action.
enum ActionBit : std::uint8_t {
  kActSides = 1 << 0,
  kActColor = 1 << 1,
  kActMaxCopies = 1 << 2,
  kActHoldTimeout = 1 << 3,
  kActPrinterGroup = 1 << 4,
  kActDirect = 1 << 5,
  kActDeny = 1 << 6,
};

struct CompiledRule {
  // Scope. Stages: bit 0 submit, bit 1 release.
  std::uint8_t stages = 3;
  std::int8_t color = -1;  // -1 any, 0 wants monochrome, 1 wants colour
  std::int64_t min_pages = -1, max_pages = -1, min_copies = -1;  // -1: no bound
  std::vector<Id> queues, users, user_groups, printers, printer_groups;
  std::vector<std::int32_t> formats;         // indexes into CompiledPolicy::globs
  std::vector<std::int32_t> document_names;  // indexes into CompiledPolicy::globs
  std::int32_t sources = -1;                 // index into CompiledPolicy::cidr_sets

  // Actions.
  std::uint8_t actions = 0;  // ActionBit mask
};

struct CompiledPolicy {
  Interner queues, users, groups, printers, printer_groups;
  std::vector<Glob> globs;
  std::vector<NetworkSet> cidr_sets;
  std::vector<CompiledRule> rules;  // parallel to Policy::rules()
  std::uint8_t all_actions = 0;     // union over rules
};

}  // namespace pullprint::policies::detail
