// berth-spawner: starts processes for berthd, so that berthd's event loop never waits in vfork
// for a child to exec (Bun's spawn is vfork + exec), and so that the sockets it hands a child
// are berthd's own to close (Bun kept the end of each spawn's socketpair open for good). A
// request is a message; the answer comes when it is ready, and berthd carries on meanwhile.
//
// One request per SOCK_SEQPACKET message on fd 3, its fds attached (SCM_RIGHTS):
//   u32 id, u32 nfds, i32 exec, then argv as NUL-terminated strings
// The child gets /dev/null as stdin, stdout and stderr, the attached fds as 3, 4, ..., nothing
// else, default signal handling, and this process's environment; it is not in a session of its
// own (the monitor makes its own). It runs argv[0], or with exec >= 0 the program in attached fd
// number `exec` (berthd's sealed copy of the monitor), which it does not keep open.
// Answers, 16 bytes each: u32 kind, u32 id, i32 pid, i32 value
//   1 started (value 0) | 2 exec failed (value errno; the child is gone) | 3 exited (value the
//   wait status, as waitpid gives it)
// When berthd goes away (EOF), this exits; the children it started live on, reparented.
// Small and boring on purpose: no allocation after start, one poll loop.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../fork-here.h"

#define MAX_FDS 8
#define MAX_ARGS 128
#define MAX_MSG 65536
#define MAX_PENDING 256

enum { STARTED = 1, EXEC_FAILED = 2, EXITED = 3 };

extern char **environ;

// The scheduler's time slice (sched_setattr's sched_runtime for SCHED_OTHER, Linux 6.12+): ours is
// the shortest, so that a request preempts berthd on its CPU at once rather than waiting up to
// a whole slice behind it (a socket's wakeup puts us on the sender's CPU); the fork takes a
// fraction of it. Each child goes back to the default before exec. Older kernels ignore it.
struct slice_attr { uint32_t size, policy; uint64_t flags; int32_t nice; uint32_t priority; uint64_t runtime, deadline, period; };
static void set_slice(uint64_t ns) {
  struct slice_attr a = { .size = sizeof a, .runtime = ns };
  syscall(SYS_sched_setattr, 0, &a, 0);
}

// A child whose exec has not been settled yet: its error pipe's read end.
static struct { uint32_t id; pid_t pid; int fd; } pending[MAX_PENDING];
static int npending;
static int sock = 3;

static void answer(uint32_t kind, uint32_t id, int32_t pid, int32_t value) {
  int32_t m[4] = { (int32_t)kind, (int32_t)id, pid, value };
  // berthd reads as fast as we write; a full buffer means it is gone or stuck: dropping is not
  // an option for exit reports, so this one blocks (the socket is blocking).
  while (send(sock, m, sizeof m, MSG_NOSIGNAL) < 0 && errno == EINTR) {}
}

static void child(char **argv, const int *fds, int nfds, int exec, int errfd, const sigset_t *old) {
  // The error pipe and every received fd first move above the targets, so that placing one
  // cannot clobber another.
  int high[MAX_FDS];
  errfd = fcntl(errfd, F_DUPFD_CLOEXEC, 64);
  if (errfd < 0) _exit(127);
  for (int i = 0; i < nfds; i++) {
    high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 64);
    if (high[i] < 0) goto fail;
  }
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) goto fail;
  for (int t = 0; t < 3; t++) if (dup2(null, t) < 0) goto fail;
  for (int i = 0; i < nfds; i++) if (dup2(high[i], 3 + i) < 0) goto fail;
  // Everything above shuts at exec, the error pipe too: its closing tells the exec worked.
  if (syscall(SYS_close_range, 3 + nfds, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) < 0) {
    for (int fd = 3 + nfds; fd < 1024; fd++) if (fd != errfd) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  for (int s = 1; s < 65; s++) signal(s, SIG_DFL);
  sigprocmask(SIG_SETMASK, old, NULL);
  set_slice(0);
  if (exec >= 0) {
    // Close-on-exec: the program runs from it (an ELF binary needs no path) but does not keep it.
    if (fcntl(3 + exec, F_SETFD, FD_CLOEXEC) < 0) goto fail;
    syscall(SYS_execveat, 3 + exec, "", argv, environ, AT_EMPTY_PATH);
  } else {
    execve(argv[0], argv, environ);
  }
fail:;
  int e = errno;
  while (write(errfd, &e, sizeof e) < 0 && errno == EINTR) {}
  _exit(127);
}

static void start(unsigned char *msg, ssize_t len, int *fds, int nfds, const sigset_t *old) {
  if (len < 4) goto out;  // no id to answer to
  uint32_t id, want;
  int32_t exec;
  memcpy(&id, msg, 4);
  if (len < 12) {
    answer(EXEC_FAILED, id, 0, EINVAL);
    goto out;
  }
  memcpy(&want, msg + 4, 4);
  memcpy(&exec, msg + 8, 4);
  if ((int)want != nfds || exec < -1 || exec >= nfds) {
    answer(EXEC_FAILED, id, 0, EBADF);
    goto out;
  }
  char *argv[MAX_ARGS + 1];
  int argc = 0;
  for (ssize_t i = 12; i < len && argc < MAX_ARGS;) {
    char *s = (char *)msg + i;
    size_t n = strnlen(s, (size_t)(len - i));
    if (i + (ssize_t)n >= len) break;  // not terminated: ignore the tail
    argv[argc++] = s;
    i += (ssize_t)n + 1;
  }
  argv[argc] = NULL;
  if (!argc) {
    answer(EXEC_FAILED, id, 0, EINVAL);
    goto out;
  }
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) {
    answer(EXEC_FAILED, id, 0, errno);
    goto out;
  }
  pid_t pid = fork_here();  // (fork-here.h says why)
  if (pid == 0) {
    close(p[0]);
    child(argv, fds, nfds, exec, p[1], old);
  }
  close(p[1]);
  if (pid < 0) {
    answer(EXEC_FAILED, id, 0, errno);
    close(p[0]);
    goto out;
  }
  pending[npending].id = id;
  pending[npending].pid = pid;
  pending[npending].fd = p[0];
  npending++;
out:
  for (int i = 0; i < nfds; i++) close(fds[i]);
}

static void settle(int i) {
  int e = 0;
  ssize_t n;
  while ((n = read(pending[i].fd, &e, sizeof e)) < 0 && errno == EINTR) {}
  if (n == sizeof e) answer(EXEC_FAILED, pending[i].id, pending[i].pid, e);
  else answer(STARTED, pending[i].id, pending[i].pid, 0);
  close(pending[i].fd);
  pending[i] = pending[--npending];
}

int main(void) {
  sigset_t mask, old;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, &old);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) {
    perror("berth-spawner: signalfd");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  fcntl(sock, F_SETFD, FD_CLOEXEC);
  set_slice(100 * 1000);
  static unsigned char msg[MAX_MSG];
  for (;;) {
    struct pollfd pf[2 + MAX_PENDING];
    // With every slot taken, new requests wait in the socket until a child has exec'd.
    pf[0] = (struct pollfd){ .fd = sock, .events = npending < MAX_PENDING ? POLLIN : 0 };
    pf[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
    for (int i = 0; i < npending; i++) pf[2 + i] = (struct pollfd){ .fd = pending[i].fd, .events = POLLIN };
    int np = npending;
    if (poll(pf, 2 + np, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    // Exec results before exits, so berthd hears "started" before "exited" of the same child.
    for (int i = np - 1; i >= 0; i--) if (pf[2 + i].revents) settle(i);
    if (pf[1].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == sizeof si) {}
      int status;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < npending; i++) if (pending[i].pid == pid) settle(i);
        answer(EXITED, 0, pid, status);
      }
    }
    if (pf[0].revents && npending < MAX_PENDING) {
      union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)]; } ctl;
      struct iovec iov = { msg, sizeof msg };
      struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
      ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return 0;  // berthd is gone
      int fds[MAX_FDS], nfds = 0;
      for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int j = 0; j < k; j++) {
          int fd;
          memcpy(&fd, CMSG_DATA(c) + j * sizeof(int), sizeof fd);
          if (nfds < MAX_FDS) fds[nfds++] = fd; else close(fd);
        }
      }
      if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        for (int i = 0; i < nfds; i++) close(fds[i]);
        uint32_t id = 0;
        if (n >= 4) memcpy(&id, msg, 4);
        answer(EXEC_FAILED, id, 0, E2BIG);
        continue;
      }
      start(msg, n, fds, nfds, &old);
    }
  }
}
