// berth-monitor: the parent of one container's init (or of one exec'd process), as conmon is for
// podman. It runs PROGRAM (the executor's stage 0) with the container's stdio, becomes the init's
// parent when stage 0 exits (child subreaper), writes the json-file log, serves attach on a unix
// socket, forwards signals, and records the exit status atomically. berthd only talks to it; it
// decides nothing. One poll loop, fixed buffers, no allocation per byte.
//
// Frames both ways carry docker's 8-byte header: [type][0][0][0][length u32 BE] payload.
//   client -> monitor: 0 stdin bytes, 1 stdin EOF, 2 resize (rows u16 BE, cols u16 BE)
//   monitor -> client: 1 stdout, 2 stderr, 3 exit (the exit record as JSON), then close
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "monitor.h"
#include "../fork-here.h"

extern char **environ;

#define MAX_CLIENTS 64
#define MAX_KEEP 16
#define CLIENT_OUT_MAX (1 << 20)
#define STDIN_BUF_MAX (1 << 20)
#define READ_CHUNK 32768

struct client {
  int fd;
  int stdin_user;   // sent stdin or EOF: its leaving ends stdin with --stdin-once
  unsigned char in[8 + 65536];
  size_t in_len;
  struct buf out;   // what the socket could not take yet
};

static struct opts o;
static struct client clients[MAX_CLIENTS];
static int nclients, ever_attached;
static int attach_fd = -1, console_listen_fd = -1, master_fd = -1;
static int out_fd = -1, err_fd = -1, in_fd = -1;  // our ends: container stdout/stderr, stdin
static int master_hup;  // every slave of the pty closed: stop polling it (it would spin) until exit
static struct buf stdin_pending;
static int stdin_close_pending;
static pid_t program_pid, init_pid;
static struct timespec program_exit_time;  // when stage 0 exited: how long we wait for the pid file
static struct { pid_t pid; int status; } reaped[64];
static int nreaped;

static void die(const char *what) {
  // Nobody reads our stderr; the exit file is where berthd looks.
  char msg[256];
  snprintf(msg, sizeof msg, "monitor: %s: %s", what, strerror(errno));
  write_exit_record(o.exit_file, 255, 0, 0, 1, msg);
  _exit(1);
}

static int listen_unix(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) die("socket");
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path) {
    errno = ENAMETOOLONG;
    die(path);
  }
  strcpy(sa.sun_path, path);
  unlink(path);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die(path);
  chmod(path, 0600);
  if (listen(fd, 16) < 0) die("listen");
  return fd;
}

static void client_drop(int i) {
  struct client *c = &clients[i];
  close(c->fd);
  buf_free(&c->out);
  if (c->stdin_user && o.stdin_once) stdin_close_pending = 1;
  clients[i] = clients[--nclients];
}

// Queue or send bytes to a client; a client that falls 1 MiB behind is dropped, so a slow
// reader never blocks the container or the other clients.
static int client_send(struct client *c, const void *data, size_t len) {
  if (c->out.len == 0) {
    ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n == (ssize_t)len) return 0;
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
      n = 0;
    }
    data = (const char *)data + n;
    len -= n;
  }
  if (c->out.len + len > CLIENT_OUT_MAX) return -1;
  return buf_append(&c->out, data, len);
}

static void broadcast(int type, const void *data, size_t len) {
  unsigned char h[8] = {(unsigned char)type, 0, 0, 0, (unsigned char)(len >> 24), (unsigned char)(len >> 16),
                        (unsigned char)(len >> 8), (unsigned char)len};
  for (int i = 0; i < nclients; i++) {
    if (client_send(&clients[i], h, 8) < 0 || client_send(&clients[i], data, len) < 0) {
      client_drop(i);
      i--;
    }
  }
}

static void output(int stream, const char *data, size_t len) {
  log_write(stream, data, len);
  broadcast(stream, data, len);
}

// Reads what is there; returns 0 at EOF (or a hung-up pty), 1 otherwise.
static int pump(int fd, int stream) {
  static char chunk[READ_CHUNK];
  for (int rounds = 0; rounds < 8; rounds++) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n > 0) {
      output(stream, chunk, n);
      continue;
    }
    if (n == 0) return 0;
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return 1;
    return 0;  // EIO: the pty's last slave closed
  }
  return 1;
}

static void flush_stdin(void) {
  int fd = master_fd >= 0 ? master_fd : in_fd;
  if (fd < 0) {
    stdin_pending.len = 0;
    return;
  }
  while (stdin_pending.len) {
    ssize_t n = write(fd, stdin_pending.data, stdin_pending.len);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      stdin_pending.len = 0;  // the reader is gone
      break;
    }
    buf_consume(&stdin_pending, n);
  }
  if (stdin_close_pending && in_fd >= 0 && master_fd < 0) {
    close(in_fd);
    in_fd = -1;
  }
}

static void on_client_frame(struct client *c, int type, const unsigned char *p, size_t len) {
  if (type == 0) {
    c->stdin_user = 1;
    if (stdin_pending.len + len <= STDIN_BUF_MAX) buf_append(&stdin_pending, p, len);
    flush_stdin();
  } else if (type == 1) {
    c->stdin_user = 1;
    stdin_close_pending = 1;
    flush_stdin();
  } else if (type == 2 && len == 4 && master_fd >= 0) {
    struct winsize ws = {.ws_row = (unsigned short)(p[0] << 8 | p[1]), .ws_col = (unsigned short)(p[2] << 8 | p[3])};
    ioctl(master_fd, TIOCSWINSZ, &ws);
  }
}

static int client_read(struct client *c) {
  ssize_t n = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
  if (n == 0) return -1;
  if (n < 0) return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
  c->in_len += n;
  size_t off = 0;
  while (c->in_len - off >= 8) {
    uint32_t len = (uint32_t)c->in[off + 4] << 24 | (uint32_t)c->in[off + 5] << 16 | (uint32_t)c->in[off + 6] << 8 | c->in[off + 7];
    if (len > sizeof c->in - 8) return -1;  // protocol error
    if (c->in_len - off < 8 + len) break;
    on_client_frame(c, c->in[off], c->in + off + 8, len);
    off += 8 + len;
  }
  memmove(c->in, c->in + off, c->in_len - off);
  c->in_len -= off;
  return 0;
}

static void accept_clients(void) {
  for (;;) {
    int fd = accept4(attach_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    if (nclients == MAX_CLIENTS) {
      close(fd);
      continue;
    }
    struct client *c = &clients[nclients++];
    memset(c, 0, sizeof *c - sizeof c->in);  // the input buffer needs no clearing
    c->in_len = 0;
    c->fd = fd;
    ever_attached = 1;
  }
}

static void accept_console(void) {
  int fd = accept4(console_listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0) return;
  int master = recv_fd(fd);
  close(fd);
  if (master < 0) return;
  master_fd = master;
  fcntl(master_fd, F_SETFL, fcntl(master_fd, F_GETFL) | O_NONBLOCK);
  close(console_listen_fd);
  console_listen_fd = -1;
  unlink(o.console_socket);
  flush_stdin();
}

static int status_code(int st) {
  return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 255;
}

static pid_t read_pid_file(void) {
  char b[32] = {0};
  int fd = open(o.pid_file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, b, sizeof b - 1);
  close(fd);
  return n > 0 ? (pid_t)atoi(b) : 0;
}

static void finish(int st) {
  // --wait-attach: a process that ended before its client connected still has its output for it.
  if (o.wait_attach && !ever_attached && poll(&(struct pollfd){.fd = attach_fd, .events = POLLIN}, 1, 5000) > 0) accept_clients();
  // Whatever the container wrote before it died is in the pipes or the pty: take it all.
  if (out_fd >= 0) while (pump(out_fd, 1) == 1 && poll(&(struct pollfd){.fd = out_fd, .events = POLLIN}, 1, 0) > 0) {}
  if (err_fd >= 0) while (pump(err_fd, 2) == 1 && poll(&(struct pollfd){.fd = err_fd, .events = POLLIN}, 1, 0) > 0) {}
  if (master_fd >= 0) while (pump(master_fd, 1) == 1 && poll(&(struct pollfd){.fd = master_fd, .events = POLLIN}, 1, 0) > 0) {}
  log_close();
  char rec[512];
  int code = status_code(st);
  int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
  format_exit_record(rec, sizeof rec, code, sig, init_pid, 0, NULL);
  write_exit_record(o.exit_file, code, sig, init_pid, 0, NULL);
  broadcast(3, rec, strlen(rec));
  // Give each client a moment to take its queued output, then close.
  for (int i = 0; i < nclients; i++) {
    struct client *c = &clients[i];
    for (int tries = 0; c->out.len && tries < 100; tries++) {
      ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) buf_consume(&c->out, n);
      else if (n < 0 && errno != EAGAIN) break;
      else poll(&(struct pollfd){.fd = c->fd, .events = POLLOUT}, 1, 10);
    }
    close(c->fd);
  }
  unlink(o.attach_socket);
  if (o.console_socket) unlink(o.console_socket);
  _exit(0);
}

// Our attach socket as we made it. A monitor that gives up (its executor got no plan: berthd
// died, or gave up on the start) may find its run dir already remade for a new start, with a new
// monitor's socket there: it leaves that start's files alone.
static struct stat own_socket;

static int files_still_ours(void) {
  struct stat st;
  return stat(o.attach_socket, &st) == 0 && st.st_ino == own_socket.st_ino && st.st_dev == own_socket.st_dev;
}

// No container process came: record the failed setup and go (leaving a newer start's files be).
static void exit_setup_failed(int code, const char *error) {
  if (files_still_ours()) {
    write_exit_record(o.exit_file, code, 0, 0, 1, error);
    broadcast(3, "{\"setupFailed\":true}", 20);
    unlink(o.attach_socket);
    if (o.console_socket) unlink(o.console_socket);
  }
  _exit(0);
}

static void reap(void) {
  int st;
  pid_t p;
  while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
    if (p == program_pid) {
      program_pid = -1;
      if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
        // Setup failed: the runtime reported why to berthd; here only the status.
        exit_setup_failed(status_code(st), NULL);
      }
      clock_gettime(CLOCK_MONOTONIC, &program_exit_time);
      continue;
    }
    if (init_pid > 0 && p == init_pid) finish(st);
    if (nreaped < 64) {
      reaped[nreaped].pid = p;
      reaped[nreaped++].status = st;
    }
  }
}

// Stage 0 exited cleanly but no pid file came: the runtime gave up on this container (its
// create failed after stage 0, or berthd died before writing it). With no child left to wait
// for, 2 s is plenty; with one, 30 s, as the contract says.
static void give_up_without_init_now(void);
static void give_up_without_init(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  double waited = (now.tv_sec - program_exit_time.tv_sec) + (now.tv_nsec - program_exit_time.tv_nsec) / 1e9;
  siginfo_t si = {0};
  int children = waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0;
  if (waited < (children ? 30 : 2)) return;
  give_up_without_init_now();
}

static void give_up_without_init_now(void) {
  exit_setup_failed(255, "no container process: the runtime did not report one");
}

static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

int main(int argc, char **argv) {
  // Run as the executor (the executor's own re-exec from a sealed copy of this binary, when the
  // monitor itself was not run from one): a multi-call binary, by the name in argv[0].
  const char *name = argc > 0 ? strrchr(argv[0], '/') : NULL;
  if (argc > 0 && !strcmp(name ? name + 1 : argv[0], "berth-executor")) return executor_main(argc, argv, environ);
  o.exec_fd = -1;
  // Run from berthd's sealed copy, the kernel names us after the memfd ("memfd:berth-mon").
  prctl(PR_SET_NAME, "berth-monitor");
  char **program = parse_opts(argc, argv, &o);
  if (!program) return 2;
  if (getpid() != getsid(0)) setsid();
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  close_other_fds(o.keep, o.nkeep);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) die("/dev/null");
  dup2(null, 0), dup2(null, 1), dup2(null, 2);

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++) sigaddset(&mask, forwarded[i]);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  signal(SIGPIPE, SIG_IGN);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) die("signalfd");

  attach_fd = listen_unix(o.attach_socket);
  if (stat(o.attach_socket, &own_socket) < 0) die(o.attach_socket);
  if (o.console_socket) console_listen_fd = listen_unix(o.console_socket);

  int child_in = null, child_out = null, child_err = null;
  if (!o.console_socket) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) die("pipe");
    out_fd = p[0], child_out = p[1];
    if (pipe2(p, O_CLOEXEC) < 0) die("pipe");
    err_fd = p[0], child_err = p[1];
    if (o.open_stdin) {
      if (pipe2(p, O_CLOEXEC) < 0) die("pipe");
      child_in = p[0], in_fd = p[1];
      fcntl(in_fd, F_SETFL, O_NONBLOCK);
    }
    fcntl(out_fd, F_SETFL, O_NONBLOCK);
    fcntl(err_fd, F_SETFL, O_NONBLOCK);
  }

  program_pid = fork_here();  // (the executor starts on this CPU: fork-here.h says why)
  if (program_pid < 0) die("fork");
  if (program_pid == 0) {
    sigprocmask(SIG_UNBLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_DFL);
    // dup2 clears close-on-exec on the copies: the container gets exactly these as 0, 1, 2.
    if (dup2(child_in, 0) < 0 || dup2(child_out, 1) < 0 || dup2(child_err, 2) < 0) _exit(127);
    if (o.builtin_executor) {
      prctl(PR_SET_NAME, "berth-executor");
      int n = 0;
      while (program[n]) n++;
      _exit(executor_main(n, program, environ));
    }
    if (o.exec_fd >= 0) {
      // Close-on-exec: the program runs from it but does not keep it open.
      fcntl(o.exec_fd, F_SETFD, FD_CLOEXEC);
      syscall(SYS_execveat, o.exec_fd, "", program, environ, AT_EMPTY_PATH);
    }
    execvp(program[0], program);
    _exit(127);
  }
  // The log is made while the program starts, not before: creating a file on the data root is
  // the slowest step here, and nothing is read from the pipes until the loop below.
  if (o.log_file && log_open(o.log_file, o.log_max_size, o.log_max_files) < 0) {
    int e = errno;
    kill(program_pid, SIGKILL);  // its runtime sees the control socket close and undoes the start
    errno = e;
    die(o.log_file);
  }
  if (child_out != null) close(child_out);
  if (child_err != null) close(child_err);
  if (child_in != null) close(child_in);
  for (int i = 0; i < o.nkeep; i++) close(o.keep[i]);  // the executor has its copy

  struct pollfd pfd[8 + MAX_CLIENTS];
  for (;;) {
    if (program_pid < 0 && init_pid == 0) {
      init_pid = read_pid_file();
      for (int i = 0; init_pid > 0 && i < nreaped; i++) {
        if (reaped[i].pid == init_pid) finish(reaped[i].status);
      }
      if (init_pid == 0) give_up_without_init();
    }
    int n = 0;
    pfd[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
    pfd[n++] = (struct pollfd){.fd = attach_fd, .events = POLLIN};
    pfd[n++] = (struct pollfd){.fd = console_listen_fd, .events = console_listen_fd >= 0 ? POLLIN : 0};
    // --wait-attach: output stays in the pipes (and the process waits) until someone listens.
    int reading = !o.wait_attach || ever_attached;
    pfd[n++] = (struct pollfd){.fd = reading ? out_fd : -1, .events = POLLIN};
    pfd[n++] = (struct pollfd){.fd = reading ? err_fd : -1, .events = POLLIN};
    pfd[n++] = (struct pollfd){.fd = reading && !master_hup ? master_fd : -1, .events = POLLIN};
    int stdin_fd = master_fd >= 0 ? master_fd : in_fd;
    pfd[n++] = (struct pollfd){.fd = stdin_pending.len ? stdin_fd : -1, .events = POLLOUT};
    int base = n;
    for (int i = 0; i < nclients; i++) {
      pfd[n++] = (struct pollfd){.fd = clients[i].fd, .events = POLLIN | (clients[i].out.len ? POLLOUT : 0)};
    }
    int timeout = (program_pid < 0 && init_pid == 0) ? 5 : -1;
    if (poll(pfd, n, timeout) < 0 && errno != EINTR) die("poll");

    if (pfd[0].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGCHLD) continue;
        if (init_pid > 0) kill(init_pid, si.ssi_signo);
        else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) give_up_without_init_now();
      }
      reap();
    }
    if (pfd[1].revents) accept_clients();
    if (pfd[2].revents) accept_console();
    if (pfd[3].revents && !pump(out_fd, 1)) close(out_fd), out_fd = -1;
    if (pfd[4].revents && !pump(err_fd, 2)) close(err_fd), err_fd = -1;
    if (pfd[5].revents && !pump(master_fd, 1)) master_hup = 1;  // keep the master for the final drain
    if (pfd[6].revents) flush_stdin();
    for (int i = nclients - 1; i >= 0; i--) {
      struct pollfd *p = &pfd[base + i];
      if (p->fd != clients[i].fd) continue;
      int bad = 0;
      if (p->revents & POLLOUT) {
        ssize_t w = send(clients[i].fd, clients[i].out.data, clients[i].out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) buf_consume(&clients[i].out, w);
        else if (w < 0 && errno != EAGAIN) bad = 1;
      }
      if (!bad && (p->revents & (POLLIN | POLLHUP | POLLERR))) bad = client_read(&clients[i]) < 0;
      if (bad) client_drop(i);
    }
    if (stdin_close_pending) flush_stdin();
  }
}
