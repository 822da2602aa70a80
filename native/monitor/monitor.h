// berth-monitor's pieces: options, a growable byte buffer, the json-file log, the exit record.
#pragma once
#include <stddef.h>
#include <sys/types.h>

struct opts {
  const char *exit_file, *pid_file, *log_file, *attach_socket, *console_socket;
  long long log_max_size;
  int log_max_files;
  int open_stdin, stdin_once, wait_attach;  // (not "stdin": musl defines it as a macro)
  int keep[16];
  int nkeep;
  int exec_fd;  // -1, or a sealed copy of PROGRAM to run instead of its path (see --exec-fd)
  int builtin_executor;  // PROGRAM is the executor built into this binary (--builtin-executor)
};

struct buf {
  unsigned char *data;
  size_t len, cap;
};

char **parse_opts(int argc, char **argv, struct opts *o);
void close_other_fds(const int *keep, int nkeep);
int recv_fd(int sock);  // native/executor/console.c
int executor_main(int argc, char **argv, char **envp);  // native/executor/main.c

int buf_append(struct buf *b, const void *data, size_t len);
void buf_consume(struct buf *b, size_t n);
void buf_free(struct buf *b);

int log_open(const char *path, long long max_size, int max_files);
void log_write(int stream, const char *data, size_t len);
void log_close(void);

void format_time(char *out, size_t size);
void format_exit_record(char *out, size_t size, int code, int sig, pid_t pid, int setup_failed, const char *error);
void write_exit_record(const char *path, int code, int sig, pid_t pid, int setup_failed, const char *error);
