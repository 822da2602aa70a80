/*
 * Seccomp user notification (SCMP_ACT_NOTIFY). The init loads its filter asking the kernel for a
 * listener fd and hands it to stage 0, which connected to the agent's socket (listenerPath) from the
 * host before joining any namespace, and now sends it the container process state JSON with the fd
 * (SCM_RIGHTS), the way the runtime spec describes. The init waits until that is done, so the
 * agent holds the fd before the container's first notified syscall.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "executor.h"

void do_seccomp_notify(struct step *s)
{
	struct sock_filter *copy = malloc(s->f[0].len ? s->f[0].len : 1);
	if (!copy)
		fail(ENOMEM, 0);
	memcpy(copy, s->f[0].str, s->f[0].len); /* the plan buffer may be unaligned */
	struct sock_fprog prog = { .len = (unsigned short)(s->f[0].len / sizeof(struct sock_filter)), .filter = copy };
	int lfd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			       (unsigned)s->f[1].num | SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (lfd < 0)
		fail(errno, 0);
	/* From here on only write/sendmsg/read, which a notifying rule may not name (profile.ts). */
	char tag = 'S';
	if (write(sync_fd, &tag, 1) != 1 || send_fd(sync_fd, lfd, "s") < 0)
		fail(errno, 0);
	wait_for_parent('N');
	close(lfd);
	free(copy);
}

/* Stage 0: the init sent its listener fd; pass it on to the agent with the state. */
void send_to_agent(struct plan *pl, pid_t child, int lfd)
{
	struct step *s = NULL;
	for (uint32_t i = 0; i < pl->nsteps; i++)
		if (pl->steps[i].op == OP_SECCOMP_NOTIFY) {
			s = &pl->steps[i];
			cur_step = (int)i;
		}
	if (!s || lfd < 0)
		fail(EPROTO, DETAIL_BAD_PLAN);
	int sock = agent_sock; /* connected before any setns (OP_AGENT_CONNECT) */
	if (sock < 0)
		fail(EPROTO, DETAIL_BAD_PLAN);
	size_t cap = s->f[3].len + s->f[4].len + s->f[5].len + 32;
	char *msg = malloc(cap);
	if (!msg)
		fail(ENOMEM, 0);
	int n = snprintf(msg, cap, "%s%d%s%d%s", s->f[3].str, child, s->f[4].str, child, s->f[5].str);
	if (n < 0 || (size_t)n >= cap)
		fail(EINVAL, DETAIL_BAD_PLAN);
	/* send_fd takes a C string: the message is one, JSON has no NUL */
	if (send_fd(sock, lfd, msg) < 0)
		fail(errno, DETAIL_AGENT);
	free(msg);
	close(sock);
	agent_sock = -1;
}
