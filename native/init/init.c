// berth-init: the init `docker run --init` puts in front of a container's command (mounted at
// /sbin/docker-init, as dockerd mounts tini there). As pid 1 it runs the command as its child,
// passes on every signal it gets, reaps every orphan that ends up under it, and exits as the
// command did (128+N after signal N). Static, so it runs in any image.
//
//   berth-init [--] command [args...]
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int first = 1;
  if (first < argc && strcmp(argv[first], "--") == 0) first++;
  if (first >= argc) {
    fprintf(stderr, "berth-init: usage: berth-init [--] command [args...]\n");
    return 2;
  }
  // Every signal waits in the mask for sigwaitinfo below; the child gets the old mask back.
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);

  pid_t child = fork();
  if (child < 0) {
    perror("berth-init: fork");
    return 1;
  }
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    execvp(argv[first], &argv[first]);
    fprintf(stderr, "berth-init: exec %s: %s\n", argv[first], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }

  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig < 0) continue; // EINTR
    if (sig != SIGCHLD) {
      // Job-control stops make no sense for pid 1; everything else is the command's to handle.
      if (sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU) kill(child, sig);
      continue;
    }
    for (;;) {
      int status;
      pid_t p = waitpid(-1, &status, WNOHANG);
      if (p <= 0) break;
      if (p != child) continue; // an orphan reaped
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    }
  }
}
