// nameThisThread: gives the calling thread a name that `top -H`, `ps -L`,
// /proc/PID/task/*/comm and perf show ("pp-commit", "pp-analysis", ...), so
// an operator can see which part of pullprintd uses the CPU.
// Linux allows 15 characters; longer names are cut.
#pragma once

#include <pthread.h>

#include <string>

namespace pullprint {

inline void nameThisThread(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace pullprint
