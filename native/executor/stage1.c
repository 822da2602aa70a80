/*
 * Stage 1: the container init's side of the plan. Cloned by stage 0 (main.c) into the new
 * namespaces, it waits for stage 0's go, then performs its steps in plan order: mounts,
 * pivot_root, devices, hostname, sysctls, masks, limits, user, capabilities, seccomp, and the
 * exec that ends it. Any failure is reported (report/fail) as the current step's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "executor.h"

/* One byte from stage 0, with the fd it carries if any (SCM_RIGHTS rides on that byte). */
static int recv_tagged(int sock, char *tag)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = tag, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	ssize_t r;
	do
		r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r != 1)
		_exit(1); /* stage 0 failed and has reported why */
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	int fd = -1;
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof fd);
	return fd;
}

void stage1(struct plan *pl, uint32_t first)
{
	char go;
	/* Signals blocked by stage 0 for its signalfd must not stay blocked in the container. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Dispositions inherited as "ignored" (Bun ignores SIGPIPE) survive execve: reset them. */
	for (int sig = 1; sig < _NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGKILL); /* until exec: if stage 0 dies mid-setup, so do we */
	if (agent_sock >= 0)
		close(agent_sock); /* stage 0 talks to the agent */
	/* The host fds stage 0 opened (namespaces, cgroup dirs) are its business, not ours; the v1
	 * tasks files are ours to write. */
	for (uint32_t i = 0; i < pl->nsteps; i++)
		if (step_fd[i] >= 0 && pl->steps[i].op != OP_CGROUP_SELF) {
			close(step_fd[i]);
			step_fd[i] = -1;
		}
	if (host_proc >= 0)
		close(host_proc);
	/* Before 'G', stage 0 hands over the bind sources it opened for us, in plan order. */
	uint32_t next_src = first;
	for (;;) {
		int fd = recv_tagged(sync_fd, &go);
		if (go == 'G')
			break;
		while (next_src < pl->nsteps && pl->steps[next_src].op != OP_BIND_SOURCE)
			next_src++;
		if (go != 'F' || fd < 0 || next_src == pl->nsteps)
			_exit(1);
		step_fd[next_src++] = fd;
	}
	prctl(PR_SET_DUMPABLE, 0);
	prctl(PR_SET_NAME, INIT_COMM);
	for (uint32_t i = first; i < pl->nsteps; i++)
		if (pl->steps[i].op == OP_EXEC)
			prepare_exec(&pl->steps[i]);

	int cwd_step = -1;
	for (uint32_t i = first; i < pl->nsteps; i++) {
		struct step *s = &pl->steps[i];
		cur_step = (int)i;
		if (is_parent_op(s->op))
			continue;
		if (progress)
			progress[0] = (int32_t)i;
		trace_step("init", (int)i, s->op);
		switch (s->op) {
		case OP_CGROUP_SELF:
			if (write(step_fd[i], "0", 1) != 1)
				fail(errno, 0);
			close(step_fd[i]);
			step_fd[i] = -1;
			break;
		case OP_CGROUP_WAIT:
			wait_for_parent('C');
			break;
		case OP_HOOK_POINT: do_hook_point(); break;
		case OP_RUN_HOOK: do_run_hook(s); break;
		case OP_UNSHARE:
			if (unshare((int)s->f[0].num) < 0)
				fail(errno, 0);
			break;
		case OP_BECOME_ROOT:
			if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
				fail(errno, 0);
			break;
		case OP_LOOPBACK_UP: do_loopback_up(); break;
		case OP_PROPAGATION: do_propagation(s); break;
		case OP_ROOTFS: do_rootfs(s); break;
		case OP_MOUNT: do_mount_step(s); break;
		case OP_BIND_SOURCE:
			bind_source_fd = step_fd[i];
			step_fd[i] = -1;
			break;
		case OP_SYMLINK: do_symlink(s); break;
		case OP_MOUNT_SETATTR: do_mount_setattr(s); break;
		case OP_MKNOD: do_mknod(s); break;
		case OP_BIND_DEVICE: do_bind_device(s); break;
		case OP_PIVOT: do_pivot(s); break;
		case OP_CHROOT:
			/* In the caller's mount namespace nothing may be moved or detached: chroot only. */
			if (chdir(s->f[0].str) < 0 || chroot(".") < 0 || chdir("/") < 0)
				fail(errno, 0);
			break;
		case OP_CONSOLE: do_console(s); break;
		case OP_SETHOSTNAME:
			if (sethostname(s->f[0].str, s->f[0].len) < 0)
				fail(errno, 0);
			break;
		case OP_SETDOMAINNAME:
			if (setdomainname(s->f[0].str, s->f[0].len) < 0)
				fail(errno, 0);
			break;
		case OP_WRITE: do_write(s); break;
		case OP_MASK: do_mask(s); break;
		case OP_READONLY: do_readonly(s); break;
		case OP_ROOT_READONLY: do_root_readonly(); break;
		case OP_RLIMIT: do_rlimit(s); break;
		case OP_CAP_BOUNDING: do_cap_bounding(s); break;
		case OP_USER:
			do_user(s);
			if (cwd_step >= 0) { /* cwd was not reachable as root (e.g. root_squash NFS): retry */
				cur_step = cwd_step;
				do_cwd(&pl->steps[cwd_step], 1);
				cur_step = (int)i;
				cwd_step = -1;
			}
			break;
		case OP_CAPS: do_caps(s); break;
		case OP_NO_NEW_PRIVS:
			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
				fail(errno, 0);
			break;
		case OP_SECCOMP: {
			unsigned preserve = 0;
			for (uint32_t j = i + 1; j < pl->nsteps; j++)
				if (pl->steps[j].op == OP_EXEC)
					preserve = (unsigned)pl->steps[j].f[2].num;
			do_seccomp(s, i + 1 < pl->nsteps && pl->steps[i + 1].op == OP_EXEC, preserve);
			break;
		}
		case OP_SECCOMP_NOTIFY: do_seccomp_notify(s); break;
		case OP_UMASK: umask((mode_t)s->f[0].num); break;
		case OP_CWD:
			if (chdir(s->f[0].str) < 0) {
				if (errno == EACCES)
					cwd_step = (int)i;
				else
					do_cwd(s, 1);
			}
			break;
		case OP_WAIT_FIFO: {
			char byte = 'R';
			int fd = fifo_fd;
			/* Tell stage 0 we are set up; it reports READY and exits, which must not kill us. */
			prctl(PR_SET_PDEATHSIG, 0);
			if (write(sync_fd, &byte, 1) < 0)
				_exit(1);
			ssize_t r;
			do
				r = read(fd, &byte, 1);
			while (r < 0 && errno == EINTR);
			if (r != 1)
				fail(r < 0 ? errno : EPIPE, 0);
			/* Kept open (close-on-exec): `start` reads what happens next from it, and its
			 * end of file when we exec or die. */
			fifo_report_fd = fd;
			report(REPORT_PHASE, cur_step, 0, 0); /* the byte is ours: `start` may read now */
			break;
		}
		case OP_COMMIT: {
			/* From here on the container may outlive berth (it waits on the fifo, or execs):
			 * berth must have written its state first. If berth died, stage 0 kills us, or
			 * we see its end of the socket close: either way nothing is left running. */
			char k = 'K';
			if (write(sync_fd, &k, 1) != 1)
				_exit(1);
			wait_for_parent('M');
			break;
		}
		case OP_LOOKUP: do_lookup(s); break;
		case OP_EXEC: do_exec(s);
		default: fail(EINVAL, DETAIL_BAD_PLAN);
		}
	}
	fail(EINVAL, DETAIL_BAD_PLAN); /* a plan must end with OP_EXEC */
}
