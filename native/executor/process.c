/*
 * Process steps of the container init: identity, privileges, limits, and the final exec.
 * The order is decided by the plan; see src/runtime/plan/compile.ts for why it is what it is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "executor.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

void do_loopback_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		fail(errno, 0);
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		fail(errno, 0);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		fail(errno, 0);
	close(s);
}

void do_write(struct step *s)
{
	int fd = open(s->f[0].str, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		fail(errno, 0);
	if (write(fd, s->f[1].str, s->f[1].len) != (ssize_t)s->f[1].len)
		fail(errno, 0);
	close(fd);
}

void do_rlimit(struct step *s)
{
	struct rlimit rl = { .rlim_cur = (rlim_t)s->f[1].num, .rlim_max = (rlim_t)s->f[2].num };
	if (setrlimit((int)s->f[0].num, &rl) < 0)
		fail(errno, 0);
}

/* Drop from the bounding set every capability not in the mask. Needs CAP_SETPCAP, so it comes
 * before the user switch and capset. */
void do_cap_bounding(struct step *s)
{
	uint64_t keep = s->f[0].num | (s->f[1].num << 32);
	for (int cap = 0; cap <= 63; cap++) {
		if (keep & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break; /* past the last capability this kernel knows */
			fail(errno, cap);
		}
	}
}

void do_user(struct step *s)
{
	uid_t uid = (uid_t)s->f[0].num;
	gid_t gid = (gid_t)s->f[1].num;
	size_t ngroups = s->f[2].len / 4;
	gid_t groups[NGROUPS_MAX];
	if (ngroups > NGROUPS_MAX)
		fail(EINVAL, 0);
	memcpy(groups, s->f[2].str, ngroups * 4);
	/* As runc: the process owns its terminal (the gid stays devpts's, e.g. tty). Only the pty
	 * we made: inherited stdio is the host's, and its owner is not ours to change. */
	struct stat st;
	if (pty_made && fstat(0, &st) == 0 && st.st_uid != uid && fchown(0, uid, (gid_t)-1) < 0 &&
	    errno != EINVAL && errno != EPERM)
		fail(errno, 0);
	/* setgroups is denied in a user namespace whose setgroups file says "deny". */
	if (s->f[3].num && setgroups(ngroups, groups) < 0)
		fail(errno, 0);
	/* Keep the permitted set across the uid change; capset below decides what remains. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		fail(errno, 0);
	if (setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		fail(errno, 0);
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
}

void do_caps(struct step *s)
{
	uint64_t eff = s->f[0].num, perm = s->f[1].num, inh = s->f[2].num, amb = s->f[3].num;
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2] = {
		{ .effective = (uint32_t)eff, .permitted = (uint32_t)perm, .inheritable = (uint32_t)inh },
		{ .effective = (uint32_t)(eff >> 32), .permitted = (uint32_t)(perm >> 32),
		  .inheritable = (uint32_t)(inh >> 32) },
	};
	if (syscall(SYS_capset, &hdr, data) < 0)
		fail(errno, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (int cap = 0; cap <= 63; cap++) {
		if (!(amb & (1ULL << cap)))
			continue;
		/* Ambient needs the cap in permitted and inheritable; the kernel refuses otherwise,
		 * and runc ignores that refusal too (the spec lists it, the kernel decides). */
		prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
	}
}

/*
 * Every fd above the preserved ones becomes close-on-exec (no host fd leaks into the container:
 * CVE-2024-21626). Done before the seccomp filter is loaded, because the profile need not allow
 * close_range (older Docker and runtime-tools profiles do not), and after it only exec may run.
 */
static int fds_marked;
static void mark_cloexec_from(unsigned first)
{
	if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0) {
		fds_marked = 1;
		return;
	}
	/* Kernels before 5.11 have no CLOSE_RANGE_CLOEXEC: walk /proc/self/fd instead. */
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		fail(errno, 0);
	int self = dirfd(d);
	for (struct dirent *e; (e = readdir(d));) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == self || (unsigned)fd < first)
			continue;
		int fl = fcntl(fd, F_GETFD);
		if (fl >= 0 && !(fl & FD_CLOEXEC) && fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
			fail(errno, 0);
	}
	closedir(d);
	fds_marked = 1;
}

/* After the filter, the init makes no syscall but execve when the filter is loaded last
 * (no_new_privs); without no_new_privs it is loaded early, and the profile must allow the rest
 * of the setup anyway, as with runc. */
static int seccomp_last;

void do_seccomp(struct step *s, int last, unsigned preserve)
{
	struct sock_fprog prog = {
		.len = (unsigned short)(s->f[0].len / sizeof(struct sock_filter)),
		.filter = (struct sock_filter *)s->f[0].str,
	};
	/* The filter bytes may be unaligned inside the plan buffer: copy them. */
	struct sock_filter *copy = malloc(s->f[0].len ? s->f[0].len : 1);
	if (!copy)
		fail(ENOMEM, 0);
	memcpy(copy, s->f[0].str, s->f[0].len);
	prog.filter = copy;
	mark_cloexec_from(3 + preserve);
	if (last) {
		seccomp_last = 1;
		prctl(PR_SET_PDEATHSIG, 0);
	}
	exec_progress(PROGRESS_SECCOMP);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned)s->f[1].num, &prog) < 0)
		fail(errno, 0);
	/* not freed: free() may call munmap, which the filter need not allow */
}

void do_cwd(struct step *s, int after_user)
{
	struct stat st;
	(void)after_user;
	if (chdir(s->f[0].str) == 0)
		return;
	int err = errno;
	if (err == ENOTDIR || (stat(s->f[0].str, &st) == 0 && !S_ISDIR(st.st_mode)))
		fail(ENOTDIR, DETAIL_CWD_NOT_DIR);
	fail(err, 0);
}

/* Split a NUL-separated string (argv, envp in the plan) into a NULL-terminated vector. */
char **split_nul(const char *buf, uint32_t len)
{
	size_t n = 0;
	for (uint32_t i = 0; i < len; i++)
		if (buf[i] == 0)
			n++;
	char **v = calloc(n + 2, sizeof(char *));
	if (!v)
		fail(ENOMEM, 0);
	size_t k = 0;
	for (uint32_t i = 0; i < len; i += strlen(buf + i) + 1)
		v[k++] = (char *)buf + i;
	v[k] = NULL;
	return v;
}

/*
 * Find the program as execvp would, in the container's $PATH (runc does the same): done before
 * `create` returns (OP_LOOKUP), so a missing program fails create, as docker expects. Reports
 * ENOENT with DETAIL_NOT_IN_PATH so the CLI can say "executable file not found in $PATH".
 */
static char resolved[PATH_MAX];

void do_lookup(struct step *s)
{
	const char *prog = s->f[0].str, *path = s->f[1].str;
	struct stat st;
	if (strchr(prog, '/')) {
		if (stat(prog, &st) < 0)
			fail(errno, 0);
		if (S_ISDIR(st.st_mode))
			fail(EACCES, 0);
		if (access(prog, X_OK) < 0) /* EPERM here is a seccomp profile, not the file */
			fail(errno, 0);
		snprintf(resolved, sizeof resolved, "%s", prog);
		return;
	}
	int saw_eacces = 0, other_err = 0;
	for (const char *p = path;;) {
		const char *colon = strchrnul(p, ':');
		size_t dl = (size_t)(colon - p);
		char full[PATH_MAX];
		if (dl + 2 + strlen(prog) < sizeof full) {
			if (dl == 0) /* an empty entry means the current directory */
				snprintf(full, sizeof full, "%s", prog);
			else
				snprintf(full, sizeof full, "%.*s/%s", (int)dl, p, prog);
			if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
				if (access(full, X_OK) == 0) {
					snprintf(resolved, sizeof resolved, "%s", full);
					return;
				}
				if (errno != EACCES && !other_err)
					other_err = errno;
				saw_eacces = 1;
			}
		}
		if (!*colon)
			break;
		p = colon + 1;
	}
	fail(other_err ? other_err : saw_eacces ? EACCES : ENOENT, other_err ? 0 : DETAIL_NOT_IN_PATH);
}

/*
 * argv and envp are split before any step runs: allocating may need brk/mmap, which neither a
 * tiny RLIMIT_AS nor the seccomp filter may allow by the time the exec step comes.
 */
static char **exec_argv, **exec_envp;

void prepare_exec(struct step *s)
{
	exec_argv = split_nul(s->f[0].str, s->f[0].len);
	exec_envp = split_nul(s->f[1].str, s->f[1].len);
}

/* The last step: exec what OP_LOOKUP found. */
void do_exec(struct step *s)
{
	if (!exec_argv || !exec_argv[0] || !resolved[0])
		fail(EINVAL, DETAIL_BAD_PLAN);
	if (!fds_marked)
		mark_cloexec_from(3 + (unsigned)s->f[2].num);
	if (!seccomp_last)
		prctl(PR_SET_PDEATHSIG, 0);
	exec_progress(PROGRESS_EXEC);
	execve(resolved, exec_argv, exec_envp);
	fail(errno, 0);
}
