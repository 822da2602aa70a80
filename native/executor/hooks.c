/*
 * OCI hooks the init runs itself: createContainer (in the container's namespaces, before
 * pivot_root) and startContainer (after `start`, just before the container process). Each gets
 * the container's state JSON on stdin, which berth sends at the hook point.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "executor.h"

static char *hook_state;
static uint32_t hook_state_len;

void do_hook_point(void)
{
	uint32_t len;
	report(REPORT_HOOKS, cur_step, 0, getpid());
	if (read_full(ctl_fd, &len, 4) < 0 || len == 0xffffffffu)
		_exit(1); /* berth's own hooks failed; it reports why */
	hook_state = malloc(len + 1);
	if (!hook_state || read_full(ctl_fd, hook_state, len) < 0)
		_exit(1);
	hook_state_len = len;
}

void do_run_hook(struct step *s)
{
	char **argv = split_nul(s->f[1].str, s->f[1].len);
	char **envp = split_nul(s->f[2].str, s->f[2].len);
	long timeout_ms = (long)s->f[3].num * 1000;
	int in[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		fail(errno, 0);
	pid_t pid = fork();
	if (pid < 0)
		fail(errno, 0);
	if (pid == 0) {
		dup2(in[0], 0);
		/* runc's cwd for the hook (createContainer: the rootfs); a missing one is not fatal */
		if (s->f[4].str[0] && chdir(s->f[4].str) < 0) {
		}
		syscall(SYS_close_range, 3, ~0U, 0);
		execve(s->f[0].str, argv[0] ? argv : (char *[]){ (char *)s->f[0].str, NULL }, envp);
		_exit(127);
	}
	close(in[0]);
	signal(SIGPIPE, SIG_IGN); /* a hook that does not read its stdin is fine */
	if (hook_state_len && write(in[1], hook_state, hook_state_len) < 0 && errno != EPIPE) {
		/* the hook exited early; its status tells */
	}
	close(in[1]);
	signal(SIGPIPE, SIG_DFL);

	int status;
	struct timespec tick = { 0, 1000000 };
	for (long waited = 0;; waited++) {
		pid_t r = waitpid(pid, &status, timeout_ms ? WNOHANG : 0);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			fail(errno, 0);
		if (timeout_ms && waited >= timeout_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fail(ETIMEDOUT, DETAIL_HOOK_TIMEOUT);
		}
		if (timeout_ms)
			nanosleep(&tick, NULL);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status), DETAIL_HOOK_STATUS);
	free(argv);
	free(envp);
}
