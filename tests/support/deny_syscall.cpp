// deny-syscall: runs a command with one system call refused, the way a
// container's or a service manager's seccomp filter refuses it (Docker's
// default profile, systemd's SystemCallFilter=).
//
//   deny-syscall NAME ERRNO -- COMMAND [ARG...]
//
// NAME is a system call this tool knows (below); ERRNO is the number the
// call then fails with. The filter is the kernel's (seccomp, mode 2), and it
// holds for the command and everything it starts. Used by the tests of
// pullprintd's fallbacks (docs/testing.md).
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

#if defined(__x86_64__)
constexpr unsigned kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr unsigned kArch = AUDIT_ARCH_AARCH64;
#else
#error "deny-syscall: unknown architecture"
#endif

struct Known {
  const char* name;
  long nr;
};
constexpr Known kKnown[] = {{"syncfs", SYS_syncfs}};

int usage() {
  std::fprintf(stderr, "usage: deny-syscall NAME ERRNO -- COMMAND [ARG...]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5 || std::strcmp(argv[3], "--") != 0) return usage();
  long nr = -1;
  for (const Known& k : kKnown)
    if (std::strcmp(argv[1], k.name) == 0) nr = k.nr;
  if (nr < 0) {
    std::fprintf(stderr, "deny-syscall: unknown system call '%s'\n", argv[1]);
    return 2;
  }
  char* end = nullptr;
  const long err = std::strtol(argv[2], &end, 10);
  if (*end != '\0' || err <= 0 || err > 4095) return usage();

  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<unsigned>(nr), 0, 1),
      BPF_STMT(BPF_RET | BPF_K,
               SECCOMP_RET_ERRNO | (static_cast<unsigned>(err) & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
    std::fprintf(stderr, "deny-syscall: seccomp: %s\n", std::strerror(errno));
    return 1;
  }
  ::execvp(argv[4], argv + 4);
  std::fprintf(stderr, "deny-syscall: %s: %s\n", argv[4], std::strerror(errno));
  return 127;
}
