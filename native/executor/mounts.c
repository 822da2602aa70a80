/*
 * Filesystem steps of the container init. Every target inside the rootfs is resolved with
 * openat2(RESOLVE_IN_ROOT): a symlink planted in an image (say /proc -> /etc, or a mount
 * destination pointing at ../../host) resolves inside the rootfs, never out of it. Mounts are
 * then made onto /proc/self/fd/N of the resolved O_PATH fd, so nothing is looked up twice.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>
#include "executor.h"

#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572

static int open_in_root(const char *path, int flags, unsigned long long extra)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | extra,
	};
	int fd;
	do
		fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
	while (fd < 0 && errno == EAGAIN);
	return fd;
}

static void fdpath(char *buf, size_t n, int fd)
{
	snprintf(buf, n, "/proc/self/fd/%d", fd);
}

/*
 * Create every missing component of `path` inside the rootfs (the last one as a directory or an
 * empty file) and return an O_PATH fd of it. Each prefix is resolved from the rootfs anew, so a
 * symlink met on the way is followed inside the rootfs like the kernel would from inside.
 */
static int mkdir_in_root_depth(const char *path, int kind, unsigned long long extra, int depth);

/* A dangling symlink on the way (say /evil -> /tmp/x): create its target, inside the rootfs. */
static int create_link_target(int parent, const char *name, const char *prefix, int depth)
{
	char target[PATH_MAX], full[PATH_MAX * 2];
	ssize_t n = readlinkat(parent, name, target, sizeof target - 1);
	if (n < 0)
		return -1;
	target[n] = 0;
	if (target[0] == '/')
		snprintf(full, sizeof full, "%s", target);
	else {
		/* relative to the directory holding the link: prefix minus its last component */
		const char *slash = strrchr(prefix, '/');
		int dl = slash ? (int)(slash - prefix) : 0;
		snprintf(full, sizeof full, "%.*s/%s", dl, prefix, target);
	}
	int fd = mkdir_in_root_depth(full, 0, 0, depth + 1);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int mkdir_in_root(const char *path, int kind, unsigned long long extra)
{
	return mkdir_in_root_depth(path, kind, extra, 0);
}

static int mkdir_in_root_depth(const char *path, int kind, unsigned long long extra, int depth)
{
	if (depth > 8) {
		errno = ELOOP;
		return -1;
	}
	char buf[PATH_MAX];
	size_t len = strlen(path);
	if (len >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, len + 1);

	int fd = open_in_root(path, O_PATH, extra);
	if (fd >= 0 || errno != ENOENT || kind == 2)
		return fd;

	int parent = open_in_root("/", O_PATH | O_DIRECTORY, 0);
	if (parent < 0)
		return -1;
	char *p = buf;
	while (*p == '/')
		p++;
	while (*p) {
		char *end = strchr(p, '/');
		int last;
		if (end)
			*end = 0;
		last = !end || !end[1 + strspn(end + 1, "/")];
		/* resolve the prefix buf[0..end] from the root */
		int next = open_in_root(buf, O_PATH, extra);
		if (next < 0 && errno == ENOENT) {
			int r;
			if (last && kind == 1) {
				r = openat(parent, p, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
				if (r >= 0)
					close(r);
			} else {
				r = mkdirat(parent, p, 0755);
			}
			if (r < 0 && errno != EEXIST) {
				close(parent);
				return -1;
			}
			next = open_in_root(buf, O_PATH, extra);
			if (next < 0 && errno == ENOENT && r < 0 && create_link_target(parent, p, buf, depth) == 0)
				next = open_in_root(buf, O_PATH, extra);
		}
		if (next < 0) {
			close(parent);
			return -1;
		}
		close(parent);
		parent = next;
		if (!end)
			break;
		*end = '/';
		p = end + 1;
		while (*p == '/')
			p++;
	}
	return parent;
}

/* Flags of an existing mount that an unprivileged remount may not clear (they are "locked"). */
static unsigned long locked_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (statvfs(path, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
	if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
	return f;
}

static int remount_bind(const char *target, unsigned long flags)
{
	unsigned long base = MS_BIND | MS_REMOUNT | (flags & ~(MS_BIND | MS_REC | MS_REMOUNT));
	if (mount(NULL, target, NULL, base, NULL) == 0)
		return 0;
	if (errno != EPERM)
		return -1;
	/* In a user namespace the source's nodev/nosuid/... are locked: keep them and retry. */
	return mount(NULL, target, NULL, base | locked_flags(target), NULL);
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *p)
{
	char *o = p;
	for (; *p; p++, o++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
			*o = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		} else
			*o = *p;
	}
	*o = 0;
}

/* The mount point holding `path`: the longest mount point in mountinfo that is a prefix of it. */
static int mount_point_of(const char *path, char *out, size_t n)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -1;
	char line[8192], best[PATH_MAX] = "";
	size_t best_len = 0;
	while (fgets(line, sizeof line, f)) {
		char *save, *tok = strtok_r(line, " ", &save);
		for (int i = 0; tok && i < 4; i++)
			tok = strtok_r(NULL, " ", &save); /* field 5: the mount point */
		if (!tok)
			continue;
		unescape(tok);
		size_t l = strlen(tok);
		int prefix = strcmp(tok, "/") == 0 ||
			     (strncmp(path, tok, l) == 0 && (path[l] == '/' || path[l] == 0));
		if (prefix && l >= best_len && l < sizeof best) {
			memcpy(best, tok, l + 1);
			best_len = l;
		}
	}
	fclose(f);
	if (!best_len || best_len >= n)
		return -1;
	memcpy(out, best, best_len + 1);
	return 0;
}

void do_rootfs(struct step *s)
{
	rootfs_path = s->f[0].str;
	if (s->nfields > 1 && s->f[1].num) {
		char mp[PATH_MAX];
		if (mount_point_of(rootfs_path, mp, sizeof mp) < 0 || mount(NULL, mp, NULL, MS_PRIVATE, NULL) < 0)
			fail(errno ? errno : ENOENT, 0);
	}
	if (mount(rootfs_path, rootfs_path, NULL, MS_BIND | MS_REC, NULL) < 0)
		fail(errno, 0);
	rootfd = open(rootfs_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		fail(errno, 0);
}

void do_propagation(struct step *s)
{
	if (mount(NULL, s->f[0].str, NULL, (unsigned long)s->f[1].num, NULL) < 0)
		fail(errno, 0);
}

void do_mount_step(struct step *s)
{
	const char *source = s->f[0].str, *dest = s->f[1].str, *fstype = s->f[2].str, *data = s->f[4].str;
	unsigned long flags = (unsigned long)s->f[3].num;
	int kind = (int)s->f[5].num;
	unsigned long long extra = s->f[6].num;
	unsigned long propagation = (unsigned long)s->f[7].num;
	unsigned long remount = (unsigned long)s->f[8].num;
	char target[64], from_fd[64];
	int is_bind = (flags & MS_BIND) != 0;

	if (is_bind && bind_source_fd >= 0) {
		/* opened by stage 0 as host root: the container's user may not be able to reach it */
		fdpath(from_fd, sizeof from_fd, bind_source_fd);
		source = from_fd;
	} else if (is_bind) {
		int src = open(source, O_PATH | O_CLOEXEC);
		if (src < 0)
			fail(errno, DETAIL_BIND_SOURCE);
		close(src);
	}
	int fd = mkdir_in_root(dest, kind, extra);
	if (fd < 0)
		fail(errno, 0);
	fdpath(target, sizeof target, fd);
	if (mount(source, target, *fstype ? fstype : NULL, flags, *data ? data : NULL) < 0)
		fail(errno, 0);
	close(fd);
	if (bind_source_fd >= 0) {
		close(bind_source_fd);
		bind_source_fd = -1;
	}

	/* Re-resolve: the fd pointed at the directory under the new mount, not at the mount. */
	if (remount || propagation) {
		fd = open_in_root(dest, O_PATH, extra);
		if (fd < 0)
			fail(errno, 0);
		fdpath(target, sizeof target, fd);
		if (remount && remount_bind(target, remount) < 0)
			fail(errno, 0);
		if (propagation && mount(NULL, target, NULL, propagation, NULL) < 0)
			fail(errno, 0);
		close(fd);
	}
}

/*
 * The recursive mount attributes (rro, rnosuid, rnoexec, ...): mount(2) can only change one
 * mount at a time, mount_setattr(2) changes a whole tree. Spelled out here because
 * <linux/mount.h> clashes with <sys/mount.h> on older libcs.
 */
struct berth_mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

void do_mount_setattr(struct step *s)
{
	struct berth_mount_attr attr = { .attr_set = s->f[1].num, .attr_clr = s->f[2].num };
	int fd = open_in_root(s->f[0].str, O_PATH, 0);
	if (fd < 0)
		fail(errno, 0);
	if (syscall(442 /* SYS_mount_setattr */, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
		fail(errno, 0);
	close(fd);
}

static int parent_in_root(const char *path, const char **base)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash || strlen(path) >= sizeof dir) {
		errno = EINVAL;
		return -1;
	}
	*base = slash + 1;
	size_t n = (size_t)(slash - path);
	memcpy(dir, path, n);
	dir[n] = 0;
	return mkdir_in_root(n ? dir : "/", 0, 0);
}

void do_symlink(struct step *s)
{
	const char *base;
	int dir = parent_in_root(s->f[1].str, &base);
	if (dir < 0)
		fail(errno, 0);
	/* O_PATH dirfds work with *at() calls only through an empty-path trick; reopen it. */
	char p[64];
	fdpath(p, sizeof p, dir);
	int d = open(p, O_DIRECTORY | O_CLOEXEC);
	if (d < 0 || (symlinkat(s->f[0].str, d, base) < 0 && errno != EEXIST))
		fail(errno, 0);
	close(d);
	close(dir);
}

void do_mknod(struct step *s)
{
	const char *base;
	int dir = parent_in_root(s->f[0].str, &base);
	char p[64];
	if (dir < 0)
		fail(errno, 0);
	fdpath(p, sizeof p, dir);
	int d = open(p, O_DIRECTORY | O_CLOEXEC);
	if (d < 0)
		fail(errno, 0);
	mode_t mode = (mode_t)s->f[1].num;
	dev_t dev = makedev((unsigned)s->f[2].num, (unsigned)s->f[3].num);
	/* An image may ship its own /dev/null etc.: replace it, the spec's device wins. */
	if (mknodat(d, base, mode, dev) < 0) {
		if (errno != EEXIST || unlinkat(d, base, 0) < 0 || mknodat(d, base, mode, dev) < 0)
			fail(errno, 0);
	}
	if (fchownat(d, base, (uid_t)s->f[4].num, (gid_t)s->f[5].num, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(d, base, mode & 07777, 0) < 0)
		fail(errno, 0);
	close(d);
	close(dir);
}

void do_bind_device(struct step *s)
{
	char target[64];
	int fd = mkdir_in_root(s->f[1].str, 1, 0);
	if (fd < 0)
		fail(errno, 0);
	fdpath(target, sizeof target, fd);
	if (mount(s->f[0].str, target, NULL, MS_BIND, NULL) < 0)
		fail(errno, 0);
	close(fd);
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape_mountinfo(char *p)
{
	char *o = p;
	for (; *p; p++, o++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
			*o = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		} else
			*o = *p;
	}
	*o = 0;
}

/*
 * --no-pivot leaves the old root under the moved rootfs, with the host's /proc and /sys still
 * in this mount namespace. The kernel lets a process in a new user namespace mount a fresh procfs
 * or sysfs if any full one is visible anywhere in its mount namespace, so a container could get
 * an unmasked /proc that way (pivot_root detaches the old root, so it cannot). Detach every full
 * proc/sysfs mount outside the rootfs first; one that cannot be detached is covered by an empty
 * tmpfs, which makes it "not fully visible". Deepest first, as mountinfo lists parents first.
 */
static void hide_host_proc_sys(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		fail(errno, 0);
	char *line = NULL, **points = NULL;
	size_t cap = 0, n = 0, rlen = strlen(rootfs_path);
	while (getline(&line, &cap, f) > 0) {
		char root[PATH_MAX], point[PATH_MAX], fstype[64];
		const char *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s", root, point) != 2 || sscanf(sep + 3, "%63s", fstype) != 1)
			continue;
		if (strcmp(root, "/") != 0 || (strcmp(fstype, "proc") != 0 && strcmp(fstype, "sysfs") != 0))
			continue;
		unescape_mountinfo(point);
		if (strncmp(point, rootfs_path, rlen) == 0 && (point[rlen] == '/' || point[rlen] == 0))
			continue;
		char **grown = realloc(points, (n + 1) * sizeof *points);
		if (!grown || !(grown[n] = strdup(point)))
			fail(ENOMEM, 0);
		points = grown;
		n++;
	}
	free(line);
	fclose(f);
	while (n-- > 0) {
		/* never let the detach travel to the host (the tree is a slave already; be sure) */
		if (mount(NULL, points[n], NULL, MS_SLAVE | MS_REC, NULL) < 0 && errno != ENOENT && errno != EINVAL)
			fail(errno, 0);
		if (umount2(points[n], MNT_DETACH) < 0) {
			if (errno == ENOENT)
				;
			else if ((errno != EINVAL && errno != EPERM) || mount("tmpfs", points[n], "tmpfs", MS_RDONLY, "size=0") < 0)
				fail(errno, 0);
		}
		free(points[n]);
	}
	free(points);
}

void do_pivot(struct step *s)
{
	if (s->f[0].num) {
		/* --no-pivot (e.g. on a ramdisk root, where pivot_root is refused): move + chroot. */
		hide_host_proc_sys();
		if (chdir(rootfs_path) < 0 || mount(rootfs_path, "/", NULL, MS_MOVE, NULL) < 0 ||
		    chroot(".") < 0 || chdir("/") < 0)
			fail(errno, 0);
		return;
	}
	int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	int newroot = open(rootfs_path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (oldroot < 0 || newroot < 0 || fchdir(newroot) < 0)
		fail(errno, 0);
	/* pivot_root(".", ".") stacks the old root on top of the new one: no temporary directory
	 * inside the rootfs is needed; the old root is then detached from where we stand. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		fail(errno, 0);
	if (fchdir(oldroot) < 0 || mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		fail(errno, 0);
	close(oldroot);
	close(newroot);
}

void do_mask(struct step *s)
{
	char target[64];
	struct stat st, null;
	int fd = open(s->f[0].str, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return;
		fail(errno, 0);
	}
	if (fstat(fd, &st) < 0)
		fail(errno, 0);
	fdpath(target, sizeof target, fd);
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", target, "tmpfs", MS_RDONLY, NULL) < 0)
			fail(errno, 0);
	} else {
		/* Mask with the real null device only (CVE-2025-31133: /dev/null swapped for a link). */
		int nfd = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 || fstat(nfd, &null) < 0 || !S_ISCHR(null.st_mode) ||
		    null.st_rdev != makedev(1, 3))
			fail(nfd < 0 ? errno : EINVAL, DETAIL_DEV_NULL);
		char src[64];
		fdpath(src, sizeof src, nfd);
		if (mount(src, target, NULL, MS_BIND, NULL) < 0)
			fail(errno, 0);
		close(nfd);
	}
	close(fd);
}

void do_readonly(struct step *s)
{
	char target[64];
	int fd = open(s->f[0].str, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return;
		fail(errno, 0);
	}
	fdpath(target, sizeof target, fd);
	if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0)
		fail(errno, 0);
	close(fd);
	fd = open(s->f[0].str, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		fail(errno, 0);
	fdpath(target, sizeof target, fd);
	/* Read-only, and otherwise the flags the path already has (as runc 1.1.5): adding nosuid,
	 * nodev, noexec would make it differ from the same container under runc. */
	if (remount_bind(target, MS_RDONLY | locked_flags(target)) < 0)
		fail(errno, 0);
	close(fd);
}

void do_root_readonly(void)
{
	if (remount_bind("/", MS_RDONLY) < 0)
		fail(errno, 0);
}
