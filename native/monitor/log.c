// The json-file log: one {"log","stream","time"} line per line of output, as docker writes it,
// rotated by size (<log>.1 is the newest rotated file).
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor.h"

static int log_fd = -1;
static const char *log_path;
static long long max_size, cur_size;
static int max_files;
static char line[65536 * 6 + 256];  // worst case: every byte escaped as \u00XX

int log_open(const char *path, long long size, int files) {
  log_path = path;
  max_size = size;
  max_files = files;
  log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log_fd < 0) return -1;
  struct stat st;
  cur_size = fstat(log_fd, &st) == 0 ? st.st_size : 0;
  return 0;
}

static void rotate(void) {
  char from[4096], to[4096];
  if (max_files > 1) {
    for (int i = max_files - 1; i >= 1; i--) {
      if (i == 1) snprintf(from, sizeof from, "%s", log_path);
      else snprintf(from, sizeof from, "%s.%d", log_path, i - 1);
      snprintf(to, sizeof to, "%s.%d", log_path, i);
      rename(from, to);
    }
    close(log_fd);
    log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  } else if (ftruncate(log_fd, 0) < 0) {
    return;
  }
  cur_size = 0;
}

// Length of a valid UTF-8 sequence at p (1..4), or 0 when it is not one.
static int utf8_len(const unsigned char *p, size_t left) {
  int n = p[0] < 0xc2 ? 0 : p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : p[0] < 0xf5 ? 4 : 0;
  if (!n || (size_t)n > left) return 0;
  for (int i = 1; i < n; i++) if ((p[i] & 0xc0) != 0x80) return 0;
  return n;
}

static void entry(int stream, const unsigned char *d, size_t len) {
  char t[64];
  format_time(t, sizeof t);
  size_t n = 0;
  n += snprintf(line, sizeof line, "{\"log\":\"");
  for (size_t i = 0; i < len; i++) {
    unsigned char c = d[i];
    if (c == '"' || c == '\\') line[n++] = '\\', line[n++] = c;
    else if (c == '\n') line[n++] = '\\', line[n++] = 'n';
    else if (c == '\r') line[n++] = '\\', line[n++] = 'r';
    else if (c == '\t') line[n++] = '\\', line[n++] = 't';
    else if (c < 0x20 || c == 0x7f) n += snprintf(line + n, 8, "\\u%04x", c);
    else if (c < 0x80) line[n++] = c;
    else {
      int u = utf8_len(d + i, len - i);
      if (u) {
        memcpy(line + n, d + i, u);
        n += u;
        i += u - 1;
      } else n += snprintf(line + n, 8, "\\ufffd");
    }
  }
  n += snprintf(line + n, sizeof line - n, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream == 2 ? "stderr" : "stdout", t);
  if (max_size > 0 && cur_size > 0 && cur_size + (long long)n > max_size) rotate();
  if (log_fd < 0) return;
  ssize_t w = write(log_fd, line, n);
  if (w > 0) cur_size += w;
}

void log_write(int stream, const char *data, size_t len) {
  if (log_fd < 0) return;
  const unsigned char *p = (const unsigned char *)data;
  while (len) {
    const unsigned char *nl = memchr(p, '\n', len);
    size_t n = nl ? (size_t)(nl - p) + 1 : len;
    if (n > 65536) n = 65536;  // one entry per 64 KiB of a line without newlines
    entry(stream, p, n);
    p += n;
    len -= n;
  }
}

void log_close(void) {
  if (log_fd >= 0) close(log_fd);
  log_fd = -1;
}
