#include "policies/check.h"

#include "policies/policy.h"

namespace pullprint::policies {

int runPolicyCheck(const std::filesystem::path& file, std::ostream& out, std::ostream& err) {
  auto policy = loadPolicyFile(file);
  if (!policy) {
    err << policy.status().message() << '\n';
    return kPolicyCheckInvalid;
  }
  out << summarizePolicy(*policy) << "OK\n";
  return kPolicyCheckOk;
}

}  // namespace pullprint::policies
