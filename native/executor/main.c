/*
 * berth-executor: performs a plan computed by Berth's TypeScript. It decides nothing.
 *
 *   berth-executor CTL_FD
 *
 * CTL_FD is a socket to the TypeScript side. The executor reads the plan from it (u32 length,
 * then the plan), then reports back with 16-byte records (see executor.h). Two processes:
 *
 *   stage 0  the process TypeScript spawned, in the host namespaces. It joins namespaces given by
 *            path, clones the container init into new ones, writes uid/gid maps and cgroup
 *            membership for it, then either stays as a monitor (foreground `run`: relays the
 *            terminal, forwards signals, exits with the container's status) or exits (detach,
 *            create).
 *   stage 1  the container init. It waits for stage 0's "go", performs its steps in plan order
 *            (mounts, pivot_root, console, hostname, sysctls, masks, rlimits, user, capabilities,
 *            no_new_privs, seccomp, cwd) and execs the container process.
 *
 * Any failure is reported as (step index, errno, detail): TypeScript knows what each step meant
 * and writes the message a human reads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "executor.h"

int ctl_fd = -1;
int cur_step = -1;
int rootfd = -1;
int bind_source_fd = -1;
const char *rootfs_path;
int console_sock = -1;
int agent_sock = -1;
int fifo_fd = -1;
int sync_fd = -1;
int fifo_report_fd = -1;
int host_proc = -1; /* the host's /proc, opened before any setns */

/* See executor.h: the init's position, shared with stage 0 (MAP_SHARED survives the clone). */
volatile int32_t *progress; /* [0] step index, [1] phase (0 or PROGRESS_*) */
void exec_progress(int where)
{
	if (progress)
		progress[1] = where;
	/* After `start`, nobody reads the control socket: tell `start` through the exec fifo. */
	if (fifo_report_fd >= 0 && where == PROGRESS_SECCOMP)
		report(REPORT_PHASE, cur_step, 0, where);
}


enum mode { MODE_FOREGROUND = 0, MODE_DETACH = 1, MODE_CREATE = 2 };

int read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += r;
	}
	return 0;
}

/*
 * Stage 0 sends the init single bytes: 'G' (go), 'C' (cgroups joined), 'A' (pty size set). 'C'
 * may arrive while the init waits for 'A', so what arrived early is remembered.
 */
/* A connected unix stream socket to the path in field f; a failure is the current step's. */
static int connect_unix(const struct field *f, int detail)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (f->len >= sizeof addr.sun_path)
		fail(ENAMETOOLONG, 0);
	memcpy(addr.sun_path, f->str, f->len + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
		fail(errno, detail);
	return fd;
}

static int got_cgroups;
void wait_for_parent(char want)
{
	if (want == 'C' && got_cgroups)
		return;
	for (;;) {
		char c;
		if (read_full(sync_fd, &c, 1) < 0)
			_exit(1); /* stage 0 failed and has reported why */
		if (c == want)
			return;
		if (c == 'C')
			got_cgroups = 1;
		else
			fail(EPROTO, DETAIL_BAD_PLAN);
	}
}

/* BERTH_TRACE=1: each step's start time (wall clock, ms, as berth's BERTH_TRACE=abs prints it),
 * to the executor's own stderr (kept before the container's stdio replaces it), to explain
 * where setup time goes. */
static int tracing, trace_fd = 2;
void trace_step(const char *who, int i, int op)
{
	if (!tracing)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	dprintf(trace_fd, "berth trace: executor %s step %d op %d @%lld.%03ld\n", who, i, op,
		(long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, (ts.tv_nsec / 1000) % 1000);
}

static void send_rec(int fd, const int32_t *rec)
{
	ssize_t r;
	do {
		r = send(fd, rec, 16, MSG_NOSIGNAL); /* the reader may be gone: no SIGPIPE */
		if (r < 0 && errno != EINTR && errno != EPIPE)
			r = write(fd, rec, 16); /* a fifo, or a seccomp profile without sendto */
	} while (r < 0 && errno == EINTR);
}

void report(int kind, int step, int err, int value)
{
	int32_t rec[4] = { kind, step, err, value };
	if (fifo_report_fd >= 0)
		send_rec(fifo_report_fd, rec);
	send_rec(ctl_fd, rec);
}

void fail(int err, int detail)
{
	report(REPORT_ERROR, cur_step, err, detail);
	_exit(1);
}


static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, data, len);
	int saved = errno;
	close(fd);
	errno = saved;
	return w == (ssize_t)len ? 0 : -1;
}

/* Already running from a sealed memfd (our own re-exec, or berthd's copy via berth-monitor
 * --exec-fd): the kernel says so, an environment variable could lie. */
static int running_sealed(void)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int seals = fcntl(fd, F_GET_SEALS), need = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
	close(fd);
	return seals >= 0 && (seals & need) == need;
}

/*
 * CVE-2019-5736: a container process that can reach this binary (via /proc/PID/exe of a process
 * still running it) could overwrite it on the host. So run from a sealed, anonymous copy: writes
 * to it are impossible, and there is no path back to the file on disk.
 */
static void run_from_sealed_copy(char **argv, char **envp)
{
	if (running_sealed())
		return;
	int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int mfd = memfd_create("berth-executor", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	struct stat st;
	if (self < 0 || mfd < 0 || fstat(self, &st) < 0)
		goto out;
	for (off_t done = 0; done < st.st_size;) {
		ssize_t n = sendfile(mfd, self, NULL, st.st_size - done);
		if (n <= 0)
			goto out;
		done += n;
	}
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		goto out;
	close(self);
	extern char **environ;
	fexecve(mfd, argv, environ);
out:
	/* Refuse to run unprotected rather than silently skipping the protection. */
	(void)envp;
	fprintf(stderr, "berth-executor: cannot run from a sealed copy of itself: %s\n", strerror(errno));
	_exit(125);
}

/*
 * Everything stage 0 opens by host path is opened before it joins any namespace: after joining
 * the container's mount namespace, /proc/PID/ns/... and /sys/fs/cgroup/... would resolve in the
 * container's view (berth exec). fds are kept per step index.
 */
int *step_fd;

/* clone3's argument block (linux/sched.h, which clashes with glibc's sched.h). */
struct clone3_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
#define CLONE_INTO_CGROUP_FLAG 0x200000000ULL
#ifndef SYS_clone3
#define SYS_clone3 435
#endif

/* Whether the clone placed the child in the OP_CGROUP_INTO cgroup already. */
static int cloned_into_cgroup;

/* Clones the init (or exec'd process). With a v2 cgroup to join, clone3 creates it inside
 * (no cgroup.procs write, so no wait on the kernel's global fork lock); any clone3 failure
 * (ENOSYS on old kernels, EPERM from a seccomp filter, E2BIG...) falls back to plain clone and
 * a cgroup.procs write after it, which then reports a real cgroup error. */
static pid_t clone_init(struct plan *pl, uint32_t clone_step, uint64_t flags)
{
	for (uint32_t j = clone_step + 1; j < pl->nsteps; j++) {
		if (pl->steps[j].op != OP_CGROUP_INTO)
			continue;
		struct clone3_args ca;
		memset(&ca, 0, sizeof ca);
		ca.flags = flags | CLONE_INTO_CGROUP_FLAG;
		ca.exit_signal = SIGCHLD;
		ca.cgroup = (uint64_t)step_fd[j];
		long r = syscall(SYS_clone3, &ca, sizeof ca);
		if (r >= 0) {
			if (r > 0)
				cloned_into_cgroup = 1;
			return (pid_t)r;
		}
		break;
	}
	return (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

/* The host paths the plan's steps use, opened while we still see the host's filesystem. With
 * an OP_AWAIT_GO step the cgroups are opened later, on berth's word (they may not exist yet). */
static void open_paths(struct plan *pl, int cgroups)
{
	for (uint32_t i = 0; i < pl->nsteps; i++) {
		struct step *s = &pl->steps[i];
		cur_step = (int)i;
		if (s->op == OP_SETNS && !cgroups)
			step_fd[i] = open(s->f[0].str, O_RDONLY | O_CLOEXEC);
		else if (s->op == OP_CGROUP_SELF && cgroups)
			step_fd[i] = open(s->f[0].str, O_WRONLY | O_CLOEXEC);
		else if (s->op == OP_CGROUP_INTO && cgroups)
			step_fd[i] = open(s->f[0].str, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		else
			continue;
		if (step_fd[i] < 0)
			fail(errno, 0);
	}
}

static int has_op(struct plan *pl, int op)
{
	for (uint32_t i = 0; i < pl->nsteps; i++)
		if (pl->steps[i].op == op)
			return 1;
	return 0;
}

static void open_host_paths(struct plan *pl)
{
	step_fd = calloc(pl->nsteps ? pl->nsteps : 1, sizeof(int));
	if (!step_fd)
		fail(ENOMEM, 0);
	for (uint32_t i = 0; i < pl->nsteps; i++)
		step_fd[i] = -1;
	host_proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	open_paths(pl, 0);
	if (!has_op(pl, OP_AWAIT_GO))
		open_paths(pl, 1);
}

static void stage0_pre_clone(struct plan *pl, struct step *s)
{
	switch (s->op) {
	case OP_NETNS_AHEAD:
		if (unshare(CLONE_NEWNET) < 0)
			fail(errno, 0);
		break;
	case OP_AWAIT_GO: {
		/* EOF: berth gave up (its cgroups failed); it reports that itself. */
		char go;
		ssize_t r;
		while ((r = read(ctl_fd, &go, 1)) < 0 && errno == EINTR)
			;
		if (r != 1 || go != 'G')
			_exit(1);
		int step = cur_step;
		open_paths(pl, 1);
		cur_step = step;
		break;
	}
	case OP_SETNS:
		if (setns(step_fd[cur_step], (int)s->f[1].num) < 0)
			fail(errno, 0);
		close(step_fd[cur_step]);
		step_fd[cur_step] = -1;
		break;
	case OP_CONSOLE_SOCKET:
		console_sock = connect_unix(&s->f[0], 0);
		break;
	case OP_AGENT_CONNECT:
		/* the seccomp agent, reached from the host's mount namespace (before any setns) */
		agent_sock = connect_unix(&s->f[0], DETAIL_AGENT);
		break;
	case OP_OPEN_FIFO:
		/* create's exec fifo: `berth start` writes a byte into it to let the init go on. */
		if (mkfifo(s->f[0].str, 0600) < 0 && errno != EEXIST)
			fail(errno, 0);
		/* Read-write: never blocks, and the init keeps a reader open (it inherits this fd),
		 * opened here as root, before the container's user is set. `start` opens it write-only
		 * non-blocking: ENXIO then means the init died. */
		fifo_fd = open(s->f[0].str, O_RDWR | O_CLOEXEC);
		if (fifo_fd < 0)
			fail(errno, 0);
		break;
	default:
		fail(EINVAL, DETAIL_BAD_PLAN);
	}
}

static void stage0_after_clone(struct step *s, pid_t child)
{
	char path[64];
	switch (s->op) {
	case OP_UID_MAP:
	case OP_GID_MAP:
	case OP_SETGROUPS:
		snprintf(path, sizeof path, "/proc/%d/%s", child,
			 s->op == OP_UID_MAP ? "uid_map" : s->op == OP_GID_MAP ? "gid_map" : "setgroups");
		if (write_file(path, s->f[0].str, s->f[0].len) < 0)
			fail(errno, 0);
		break;
	case OP_OOM_SCORE_ADJ:
		snprintf(path, sizeof path, "/proc/%d/oom_score_adj", child);
		if (write_file(path, s->f[0].str, s->f[0].len) < 0)
			fail(errno, 0);
		break;
	case OP_CGROUP_INTO: {
		/* The clone put the child there already, unless clone3 was not to be had. */
		if (!cloned_into_cgroup) {
			char pid[16];
			int n = snprintf(pid, sizeof pid, "%d", child);
			int fd = openat(step_fd[cur_step], "cgroup.procs", O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, pid, (size_t)n) != n)
				fail(errno, 0);
			close(fd);
		}
		close(step_fd[cur_step]);
		step_fd[cur_step] = -1;
		break;
	}
	case OP_BIND_SOURCE: {
		/* As host root, in the init's (still untouched) mount namespace, so the fd's mount is one
		 * the init may bind from; then back to our own namespace and directory. */
		static int own_mnt = -1, own_cwd = -1;
		if (own_mnt < 0 && ((own_mnt = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC)) < 0 ||
				    (own_cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0))
			fail(errno, 0);
		snprintf(path, sizeof path, "/proc/%d/ns/mnt", child);
		int ns = open(path, O_RDONLY | O_CLOEXEC);
		if (ns < 0 || setns(ns, CLONE_NEWNS) < 0)
			fail(errno, 0);
		close(ns);
		int fd = open(s->f[0].str, O_PATH | O_CLOEXEC), saved = errno;
		if (setns(own_mnt, CLONE_NEWNS) < 0 || fchdir(own_cwd) < 0)
			fail(errno, 0);
		if (fd < 0)
			fail(saved, DETAIL_BIND_SOURCE);
		if (send_fd(sync_fd, fd, "F") < 0)
			fail(errno, 0);
		close(fd);
		break;
	}
	default:
		break;
	}
}

int is_parent_op(int op)
{
	return op == OP_UID_MAP || op == OP_GID_MAP || op == OP_SETGROUPS || op == OP_CGROUP_INTO ||
	       op == OP_OOM_SCORE_ADJ;
}

/* Parent ops the init needs before it may start at all (it cannot act in its user namespace
 * before its maps exist). A fallback cgroup.procs write comes later: it can take an RCU grace
 * period, and the init does its mounts meanwhile, until OP_CGROUP_WAIT. */
static int is_early_parent_op(int op)
{
	return op == OP_UID_MAP || op == OP_GID_MAP || op == OP_SETGROUPS || op == OP_BIND_SOURCE;
}

/*
 * The child's end of the sync socket closed: it exec'd, or it died. A dying child is still our
 * (unreaped) child and still has its pre-exec name; then say where it died and of what.
 */
static int died_before_exec(pid_t child)
{
	char path[32], comm[32] = "";
	snprintf(path, sizeof path, "%d/comm", child);
	int fd = host_proc >= 0 ? openat(host_proc, path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, comm, sizeof comm - 1);
	close(fd);
	if (n <= 0 || strncmp(comm, INIT_COMM "\n", sizeof INIT_COMM) != 0)
		return 0;
	int status;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return 0;
	report(REPORT_DIED, progress ? progress[0] : -1, progress ? progress[1] : 0, status);
	return 1;
}

/* Built into berth-monitor (BERTH_EXECUTOR_BUILTIN), this is called in the monitor's child instead
 * of exec'ing a program of its own: one exec less per start. */
#ifdef BERTH_EXECUTOR_BUILTIN
int executor_main(int argc, char **argv, char **envp)
#else
int main(int argc, char **argv, char **envp)
#endif
{
	if (argc != 2) {
		fprintf(stderr, "usage: berth-executor CTL_FD\n"
				"Performs a plan computed by berth; not meant to be run by hand.\n");
		return 2;
	}
	run_from_sealed_copy(argv, envp);
	/* Until berth has recorded the container (OP_COMMIT), its death ends us, and the init
	 * with us (its own PDEATHSIG, or EOF on the sync socket at the latest at OP_COMMIT). */
	pid_t berth = getppid();
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != berth)
		_exit(1);
	const char *trace = getenv("BERTH_TRACE");
	tracing = trace != NULL && trace[0] != 0;
	if (tracing)
		trace_fd = trace[0] == '/' ? open(trace, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)
					   : fcntl(2, F_DUPFD_CLOEXEC, 3);
	trace_step("start", -1, 0);
	ctl_fd = atoi(argv[1]);
	if (fcntl(ctl_fd, F_SETFD, FD_CLOEXEC) < 0)
		return 2;
	/* Bun hands us a non-blocking socket; we want plain blocking I/O. */
	fcntl(ctl_fd, F_SETFL, fcntl(ctl_fd, F_GETFL) & ~O_NONBLOCK);

	uint32_t len;
	if (read_full(ctl_fd, &len, 4) < 0 || len > (64u << 20))
		fail(EINVAL, DETAIL_BAD_PLAN);
	unsigned char *buf = malloc(len);
	struct plan pl;
	if (!buf || read_full(ctl_fd, buf, len) < 0 || plan_parse(buf, len, &pl) < 0)
		fail(EINVAL, DETAIL_BAD_PLAN);

	trace_step("plan read", -1, 0);
	open_host_paths(&pl);
	uint32_t i = 0;
	for (; i < pl.nsteps && pl.steps[i].op != OP_CLONE; i++) {
		cur_step = (int)i;
		stage0_pre_clone(&pl, &pl.steps[i]);
	}
	if (i == pl.nsteps)
		fail(EINVAL, DETAIL_BAD_PLAN);
	cur_step = (int)i;
	uint64_t flags = pl.steps[i].f[0].num;
	int mode = (int)pl.steps[i].f[1].num;

	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		fail(errno, 0);
	void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (page != MAP_FAILED) {
		progress = page;
		progress[0] = -1;
	}

	/* Block the signals we forward before cloning, so none is lost between clone and signalfd. */
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);

	trace_step("clone", (int)i, OP_CLONE);
	pid_t child = clone_init(&pl, i, flags);
	if (child < 0)
		fail(errno, 0);
	if (child == 0) {
		close(sp[0]);
		sync_fd = sp[1];
		stage1(&pl, i + 1);
	}
	close(sp[1]);
	sync_fd = sp[0];

	for (uint32_t j = i + 1; j < pl.nsteps; j++) {
		cur_step = (int)j;
		if (is_early_parent_op(pl.steps[j].op))
			stage0_after_clone(&pl.steps[j], child);
	}
	if (console_sock >= 0)
		close(console_sock); /* the child holds its own copy */
	report(REPORT_PID, -1, 0, child);
	char go = 'G';
	if (write(sync_fd, &go, 1) != 1)
		fail(errno, 0);
	for (uint32_t j = i + 1; j < pl.nsteps; j++) {
		cur_step = (int)j;
		if (is_parent_op(pl.steps[j].op) && !is_early_parent_op(pl.steps[j].op)) {
			trace_step("parent", (int)j, pl.steps[j].op);
			stage0_after_clone(&pl.steps[j], child);
		}
	}
	go = 'C';
	trace_step("cgroups joined", -1, 0);
	if (write(sync_fd, &go, 1) != 1)
		fail(errno, 0);

	/* Wait for the child to exec (EOF: its end is close-on-exec), to send us the pty master, or
	 * (create) to report it is set up and waiting on the exec fifo. */
	int master = -1;
	for (;;) {
		char msg;
		ssize_t r = read(sync_fd, &msg, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (msg == 'P') {
			master = recv_fd(sync_fd);
			struct winsize ws;
			if (master >= 0 && isatty(0) && ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
				ioctl(master, TIOCSWINSZ, &ws);
			char ack = 'A';
			if (write(sync_fd, &ack, 1) != 1)
				fail(errno, 0);
		} else if (msg == 'S') {
			int lfd = recv_fd(sync_fd);
			send_to_agent(&pl, child, lfd);
			close(lfd);
			char ack = 'N';
			if (write(sync_fd, &ack, 1) != 1)
				fail(errno, 0);
		} else if (msg == 'K') {
			/* The init is at its point of no return: berth records it (state.json) first. */
			char ok = 0;
			report(REPORT_COMMIT, -1, 0, child);
			if (read_full(ctl_fd, &ok, 1) < 0 || ok != 'M') {
				kill(child, SIGKILL); /* berth died or gave up: the container must not live on */
				_exit(1);
			}
			prctl(PR_SET_PDEATHSIG, 0); /* recorded: a foreground monitor may outlive berth */
			if (write(sync_fd, &ok, 1) != 1)
				fail(errno, 0);
		} else if (msg == 'R') {
			report(REPORT_READY, -1, 0, child);
			if (mode == MODE_CREATE)
				_exit(0);
		}
	}
	if (died_before_exec(child))
		_exit(1);
	report(REPORT_STARTED, -1, 0, child);
	if (mode != MODE_FOREGROUND)
		_exit(0);
	close(ctl_fd);
	int status = master >= 0 ? relay_and_wait(child, master) : wait_forwarding(child);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
