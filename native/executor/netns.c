/*
 * A network namespace made ahead, while the plan is still on its way (berthd's early start:
 * `berth-executor CTL_FD --new-netns`). Making one costs 0.4 ms of kernel work here, the most of
 * the init's clone, and berthd is still building the spec and the plan when the executor is
 * ready: the namespace is then made on the other CPU instead of on the start's path.
 *
 * The plan decides, as always: stage 0 keeps the namespace only for a plan that asks for a new
 * network namespace and nothing that would change whom it belongs to (a user namespace, new or
 * joined, must own the network namespace made for it; a network namespace to join replaces it).
 * Otherwise stage 0 goes back to the host's before the plan's first step, and the one it made
 * goes with nobody holding it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "executor.h"

static int host_netns = -1;  /* the namespace we were started in, while we sit in our own */

void netns_premake(void)
{
	host_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (host_netns < 0)
		return;
	if (unshare(CLONE_NEWNET) < 0) {
		close(host_netns);
		host_netns = -1;
	}
}

static int keeps(const struct plan *pl, uint32_t clone_step, uint64_t flags)
{
	if (!(flags & CLONE_NEWNET) || (flags & CLONE_NEWUSER))
		return 0;
	for (uint32_t i = 0; i < pl->nsteps; i++) {
		const struct step *s = &pl->steps[i];
		if (i < clone_step && s->op == OP_SETNS && (s->f[1].num & (CLONE_NEWUSER | CLONE_NEWNET)))
			return 0;
		if (s->op == OP_UNSHARE && (s->f[0].num & (CLONE_NEWUSER | CLONE_NEWNET)))
			return 0;
	}
	return 1;
}

uint64_t netns_settle(const struct plan *pl, uint32_t clone_step, uint64_t flags)
{
	if (host_netns < 0)
		return flags;
	if (keeps(pl, clone_step, flags)) {
		flags &= ~(uint64_t)CLONE_NEWNET;  /* the init inherits the one we made */
	} else if (setns(host_netns, CLONE_NEWNET) < 0) {
		fail(errno, 0);
	}
	close(host_netns);
	host_netns = -1;
	return flags;
}
