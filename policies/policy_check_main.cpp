// pullprint-policy-check FILE: validates a policy document.
// Exit 0: valid, a summary is printed. Exit 2: invalid, each error as
// file:line:column: message on stderr. Exit 1: usage.
#include <cstring>
#include <iostream>

#include "policies/check.h"

int main(int argc, char** argv) {
  if (argc != 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::cerr << "usage: pullprint-policy-check FILE\n"
                 "Validates a pullprint policy document (docs/policies.md).\n"
                 "Exit 0: valid (summary printed); 2: invalid (errors as file:line:column).\n";
    return pullprint::policies::kPolicyCheckUsage;
  }
  return pullprint::policies::runPolicyCheck(argv[1], std::cout, std::cerr);
}
