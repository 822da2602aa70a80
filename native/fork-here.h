/* fork_here: fork so that the child starts on this CPU.
 *
 * With few CPUs, a forked child is often queued behind a busy process on the other CPU (berthd,
 * making a container's cgroups) and waits there a millisecond or more, while this CPU goes idle
 * as soon as the parent sleeps (the monitor in its poll loop, the spawner waiting for the exec).
 * Forked while the parent is bound to the CPU it runs on, the child is queued here; right after
 * the fork parent and child each go back to the CPUs they were allowed (the child before it runs
 * anything else, so what it execs or clones is never bound). Any failure: a plain fork. */
#ifndef BERTH_FORK_HERE_H
#define BERTH_FORK_HERE_H
#include <sched.h>
#include <string.h>
#include <unistd.h>

static inline pid_t fork_here(void)
{
	cpu_set_t allowed, here;
	int pinned = 0, cpu = sched_getcpu();
	if (cpu >= 0 && cpu < CPU_SETSIZE && sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
		CPU_ZERO(&here);
		CPU_SET(cpu, &here);
		pinned = sched_setaffinity(0, sizeof here, &here) == 0;
	}
	pid_t pid = fork();
	if (pinned && sched_setaffinity(0, sizeof allowed, &allowed) < 0) {
		/* (the allowed CPUs changed meanwhile: all of them, as the kernel and cpusets allow) */
		memset(&allowed, 0xff, sizeof allowed);
		sched_setaffinity(0, sizeof allowed, &allowed);
	}
	return pid;
}
#endif
