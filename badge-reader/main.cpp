// pullprint-badge: the release-station agent. See docs/badge-reader.md.
//
//   pullprint-badge --config /etc/pullprint/badge.toml
//   pullprint-badge --server https://print.example.org:8631 --station lib-1
//                   --secret-file /etc/pullprint/badge.secret --printer lib-1
//
// Exit status: 0 after SIGTERM/SIGINT, 2 for a configuration error.
// SIGHUP is noted and ignored (nothing is reloaded): a closed terminal or a
// stray `systemctl reload` must not end card release at a printer, and
// systemd's Restart=on-failure would not start it again after a SIGHUP.
#include <signal.h>

#include <cstdio>
#include <thread>

#include "badge-reader/agent.h"

using namespace pullprint::badge;

int main(int argc, char** argv) {
  AgentConfig config;
  std::string error;
  bool help = false;
  if (!parseAgentConfig(argc, argv, &config, &error, &help)) {
    if (help) {
      std::fputs(kAgentUsage, stdout);
      return 0;
    }
    std::fprintf(stderr, "pullprint-badge: %s\n%s", error.c_str(), kAgentUsage);
    return 2;
  }

  // Signals are taken by a thread of their own (sigwait), which stops the agent.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Agent agent(config);
  std::thread signals([&] {
    int sig = 0;
    while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
      std::fputs(
          "pullprint-badge: SIGHUP ignored: nothing is reloaded; restart the agent to apply a "
          "changed configuration\n",
          stderr);
      std::fflush(stderr);
    }
    agent.stop();
  });
  agent.run();
  pthread_kill(signals.native_handle(), SIGTERM);  // no-op if it already returned
  signals.join();
  return 0;
}
