// Options, fds, buffers and the exit record of berth-monitor.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "monitor.h"

static int usage(const char *msg) {
  fprintf(stderr, "berth-monitor: %s\nusage: berth-monitor --exit-file F --pid-file P --attach-socket S [--log-file L --log-max-size N --log-max-files K] [--console-socket C] [--stdin] [--stdin-once] [--wait-attach] [--keep-fd N]... [--exec-fd N | --builtin-executor] -- PROGRAM [ARGS...]\n", msg);
  return 0;
}

char **parse_opts(int argc, char **argv, struct opts *o) {
  memset(o, 0, sizeof *o);
  o->log_max_files = 1;
  int i;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--")) {
      i++;
      break;
    }
#define VAL(name, field) \
    if (!strcmp(a, name)) { if (!v) { usage(name " needs a value"); return NULL; } o->field = v; i++; continue; }
    VAL("--exit-file", exit_file)
    VAL("--pid-file", pid_file)
    VAL("--log-file", log_file)
    VAL("--attach-socket", attach_socket)
    VAL("--console-socket", console_socket)
#undef VAL
    if (!strcmp(a, "--log-max-size") && v) { o->log_max_size = atoll(v); i++; continue; }
    if (!strcmp(a, "--log-max-files") && v) { o->log_max_files = atoi(v) > 0 ? atoi(v) : 1; i++; continue; }
    if (!strcmp(a, "--keep-fd") && v) {
      if (o->nkeep == 16) { usage("too many --keep-fd"); return NULL; }
      o->keep[o->nkeep++] = atoi(v);
      i++;
      continue;
    }
    // berthd keeps one sealed copy of the executor and hands it over: running it saves the
    // executor copying itself into a sealed memfd on every start (CVE-2019-5736).
    if (!strcmp(a, "--exec-fd") && v) { o->exec_fd = atoi(v); i++; continue; }
    // PROGRAM is the executor's argv, and the executor is built into this binary: the child
    // runs it without an exec of its own (berthd then runs this monitor from a sealed copy).
    if (!strcmp(a, "--builtin-executor")) { o->builtin_executor = 1; continue; }
    if (!strcmp(a, "--stdin")) { o->open_stdin = 1; continue; }
    if (!strcmp(a, "--stdin-once")) { o->stdin_once = 1; continue; }
    if (!strcmp(a, "--wait-attach")) { o->wait_attach = 1; continue; }
    usage("unknown option");
    return NULL;
  }
  if (!o->exit_file || !o->pid_file || !o->attach_socket) { usage("--exit-file, --pid-file and --attach-socket are required"); return NULL; }
  if (i >= argc) { usage("no PROGRAM after --"); return NULL; }
  if (o->log_file && !*o->log_file) o->log_file = NULL;
  return argv + i;
}

// Everything berthd's process had open stays out of the monitor, but for the fds it hands to PROGRAM.
void close_other_fds(const int *keep, int nkeep) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) return;
  int self = dirfd(d);
  struct dirent *e;
  while ((e = readdir(d))) {
    int fd = atoi(e->d_name);
    if (fd <= 2 || fd == self || e->d_name[0] == '.') continue;
    int kept = 0;
    for (int i = 0; i < nkeep; i++) kept |= keep[i] == fd;
    if (!kept) close(fd);
  }
  closedir(d);
}

int buf_append(struct buf *b, const void *data, size_t len) {
  if (b->len + len > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + len) cap *= 2;
    unsigned char *p = realloc(b->data, cap);
    if (!p) return -1;
    b->data = p;
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, len);
  b->len += len;
  return 0;
}

void buf_consume(struct buf *b, size_t n) {
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
}

void buf_free(struct buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

// RFC 3339 with nanoseconds, UTC, as docker's json-file writes it.
void format_time(char *out, size_t size) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, size - n, ".%09ldZ", ts.tv_nsec);
}

void format_exit_record(char *out, size_t size, int code, int sig, pid_t pid, int setup_failed, const char *error) {
  char t[64];
  format_time(t, sizeof t);
  int n = snprintf(out, size, "{\"exitCode\":%d,\"signal\":", code);
  n += sig ? snprintf(out + n, size - n, "%d", sig) : snprintf(out + n, size - n, "null");
  n += snprintf(out + n, size - n, ",\"pid\":%d,\"finishedAt\":\"%s\"%s", (int)pid, t, setup_failed ? ",\"setupFailed\":true" : "");
  if (error) {
    n += snprintf(out + n, size - n, ",\"error\":\"");
    for (const char *p = error; *p && n < (int)size - 4; p++) out[n++] = (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) ? '?' : *p;
    n += snprintf(out + n, size - n, "\"");
  }
  snprintf(out + n, size - n, "}\n");
}

// tmp + fsync + rename: berthd reads either nothing or the whole record, even after a crash.
void write_exit_record(const char *path, int code, int sig, pid_t pid, int setup_failed, const char *error) {
  if (!path) return;
  char rec[512], tmp[4096];
  format_exit_record(rec, sizeof rec, code, sig, pid, setup_failed, error);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  ssize_t w = write(fd, rec, strlen(rec));
  fsync(fd);
  close(fd);
  if (w == (ssize_t)strlen(rec)) rename(tmp, path);
  else unlink(tmp);
}
