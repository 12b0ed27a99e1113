// seccomp_unit: runs a command under the seccomp filter systemd 252 builds
// for deploy/pgcdc.service, so that scripts/check-hardening.sh can run pgcdc
// under it where no systemd manages services:
//
//   SystemCallFilter= + SystemCallErrorNumber=EPERM   the allow list in
//     "allowed.h" (system call numbers, generated from systemd-analyze
//     syscall-filter); anything else fails with EPERM
//   SystemCallArchitectures=native   other ABIs (i386, x32) kill the process
//   MemoryDenyWriteExecute=yes   mmap() writable and executable,
//     mprotect()/pkey_mprotect() to executable, shmat(SHM_EXEC): EPERM
//   RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX   socket() of another
//     family: EAFNOSUPPORT
//   RestrictNamespaces=yes   clone()/unshare() with CLONE_NEW*, setns():
//     EPERM; clone3() (whose flags a filter cannot read): ENOSYS, so that
//     the C library falls back to clone()
//   LockPersonality=yes   personality() other than PER_LINUX or a query
//   RestrictRealtime=yes   sched_setscheduler() to SCHED_FIFO/RR/DEADLINE
//
// usage: seccomp_unit PROGRAM [ARG...]   (sets no_new_privs, loads the
// filter, execs PROGRAM)
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static const int kAllowed[] = {
#include "allowed.h"
};

static struct sock_filter prog[4096];
static unsigned short n;

static void Add(struct sock_filter f) { prog[n++] = f; }
static void Stmt(unsigned short code, unsigned k) {
  Add((struct sock_filter)BPF_STMT(code, k));
}
static void Jump(unsigned short code, unsigned k, unsigned char jt,
                 unsigned char jf) {
  Add((struct sock_filter)BPF_JUMP(code, k, jt, jf));
}
static void LoadNr(void) {
  Stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
}
// The low 32 bits of argument i (little-endian).
static void LoadArg(int i) {
  Stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args) + 8 * i);
}
// If the system call is `nr` and (argument `arg` & `mask`) != 0: fail with
// `error`. The accumulator holds the number again afterwards.
static void DenyIfAnyBit(int nr, int arg, unsigned mask, int error) {
  Jump(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 3);
  LoadArg(arg);
  Jump(BPF_JMP | BPF_JSET | BPF_K, mask, 0, 1);
  Stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | error);
  LoadNr();
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: seccomp_unit PROGRAM [ARG...]\n");
    return 2;
  }
  const unsigned kNamespaces = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS |
                               CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
                               CLONE_NEWNET;
  Stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  Jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
  Stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
  LoadNr();
  Jump(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1);  // x32
  Stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);

  // MemoryDenyWriteExecute: mmap() with PROT_WRITE and PROT_EXEC together.
  Jump(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, 0, 5);
  LoadArg(2);
  Stmt(BPF_ALU | BPF_AND | BPF_K, PROT_WRITE | PROT_EXEC);
  Jump(BPF_JMP | BPF_JEQ | BPF_K, PROT_WRITE | PROT_EXEC, 0, 1);
  Stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
  LoadNr();
  DenyIfAnyBit(__NR_mprotect, 2, PROT_EXEC, EPERM);
  DenyIfAnyBit(__NR_pkey_mprotect, 2, PROT_EXEC, EPERM);
  DenyIfAnyBit(__NR_shmat, 2, SHM_EXEC, EPERM);

  // RestrictAddressFamilies.
  Jump(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 6);
  LoadArg(0);
  Jump(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 3, 0);
  Jump(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 2, 0);
  Jump(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 1, 0);
  Stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EAFNOSUPPORT);
  Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  LoadNr();

  // RestrictNamespaces.
  DenyIfAnyBit(__NR_clone, 0, kNamespaces, EPERM);
  DenyIfAnyBit(__NR_unshare, 0, kNamespaces | CLONE_NEWTIME, EPERM);
  Jump(BPF_JMP | BPF_JEQ | BPF_K, __NR_setns, 0, 1);
  Stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
  Jump(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1);
  Stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);

  // LockPersonality: PER_LINUX (0) or the query 0xffffffff.
  Jump(BPF_JMP | BPF_JEQ | BPF_K, __NR_personality, 0, 5);
  LoadArg(0);
  Jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, 0);
  Jump(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, 1, 0);
  Stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
  LoadNr();

  // RestrictRealtime: sched_setscheduler(pid, policy, param).
  Jump(BPF_JMP | BPF_JEQ | BPF_K, __NR_sched_setscheduler, 0, 7);
  LoadArg(1);
  Stmt(BPF_ALU | BPF_AND | BPF_K, ~(unsigned)SCHED_RESET_ON_FORK);
  Jump(BPF_JMP | BPF_JEQ | BPF_K, SCHED_FIFO, 2, 0);
  Jump(BPF_JMP | BPF_JEQ | BPF_K, SCHED_RR, 1, 0);
  Jump(BPF_JMP | BPF_JEQ | BPF_K, SCHED_DEADLINE, 0, 1);
  Stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
  LoadNr();

  // SystemCallFilter: the allow list, else SystemCallErrorNumber.
  for (size_t i = 0; i < sizeof(kAllowed) / sizeof(kAllowed[0]); ++i) {
    Jump(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)kAllowed[i], 0, 1);
    Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  }
  Stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);

  struct sock_fprog fprog = {.len = n, .filter = prog};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0) {
    perror("seccomp_unit: cannot load the filter");
    return 1;
  }
  execv(argv[1], argv + 1);
  perror("seccomp_unit: execv");
  return 127;
}
