/*
 * The plan: what TypeScript decided, as a flat list of steps the executor performs in order.
 *
 * Wire format (little-endian), written by src/runtime/plan/encode.ts:
 *   "BRTP" u32 version u32 nsteps
 *   step  := u16 op, u16 nfields, field*
 *   field := u8 'i' u64                      an integer
 *          | u8 's' u32 len bytes[len] 0     a byte string (NUL-terminated for convenience)
 *
 * The op numbers below must match OP in src/runtime/plan/ops.ts.
 */
#ifndef BERTH_PLAN_H
#define BERTH_PLAN_H

#include <stdint.h>
#include <stddef.h>

#define PLAN_MAGIC "BRTP"
#define PLAN_VERSION 1
#define PLAN_MAX_FIELDS 12

enum op {
	/* stage 0: host side, before the clone */
	OP_SETNS = 1,          /* s:path i:nstype                      join an existing namespace */
	OP_CONSOLE_SOCKET = 2, /* s:path                               connect; the pty master goes there */
	OP_OPEN_FIFO = 3,      /* s:path                               O_PATH fd kept for OP_WAIT_FIFO */
	OP_AGENT_CONNECT = 5,  /* s:path                               the seccomp agent (listenerPath) */
	OP_NETNS_AHEAD = 58,   /* stage 0 unshares the network namespace; the clone leaves it out */
	OP_AWAIT_GO = 59,      /* read berth's 'G' (the cgroups are made), then open them */
	OP_CLONE = 4,          /* i:flags i:mode                       mode: 0 foreground, 1 detach, 2 create */

	/* stage 0: parent side, after the clone, before the child may go on */
	OP_UID_MAP = 10,       /* s:map */
	OP_GID_MAP = 11,       /* s:map */
	OP_SETGROUPS = 12,     /* s:"deny"|"allow" */
	OP_CGROUP_INTO = 57,   /* s:dir of a v2 cgroup   clone3(CLONE_INTO_CGROUP) into it; where clone3
	                          fails, stage 0 writes the pid to its cgroup.procs instead */
	OP_OOM_SCORE_ADJ = 14, /* s:value                              written from outside, as runc does */

	/* stage 1: the container init */
	OP_UNSHARE = 20,       /* i:flags */
	OP_BECOME_ROOT = 21,   /* setresuid/gid(0) inside a new user namespace */
	OP_LOOPBACK_UP = 22,
	OP_PROPAGATION = 23,   /* s:target i:flags */
	OP_ROOTFS = 24,        /* s:path i:parent-private                            bind it onto itself; mounts resolve inside it */
	OP_MOUNT = 25,         /* s:source s:dest s:fstype i:flags s:data i:mkdir(0 dir,1 file,2 none)
	                          i:extra-resolve i:propagation i:bind-remount-flags */
	OP_SYMLINK = 26,       /* s:target s:linkpath(in rootfs) */
	OP_MKNOD = 27,         /* s:path i:mode i:major i:minor i:uid i:gid */
	OP_BIND_DEVICE = 28,   /* s:hostpath s:dest                    userns: devices are bind mounted */
	OP_PIVOT = 29,         /* i:nopivot */
	OP_CONSOLE = 30,       /* i:rows i:cols i:bind-on-/dev/console */
	OP_SETHOSTNAME = 31,   /* s:name */
	OP_SETDOMAINNAME = 32, /* s:name */
	OP_WRITE = 33,         /* s:path s:value                       sysctl */
	OP_MASK = 34,          /* s:path */
	OP_READONLY = 35,      /* s:path */
	OP_ROOT_READONLY = 36,
	OP_RLIMIT = 37,        /* i:resource i:soft i:hard */
	OP_CAP_BOUNDING = 38,  /* i:mask(lo) i:mask(hi)             keep these, drop the rest */
	OP_USER = 39,          /* i:uid i:gid s:groups(u32 le array) i:setgroups(0/1) */
	OP_CAPS = 40,          /* i:effective i:permitted i:inheritable i:ambient (64-bit masks) */
	OP_NO_NEW_PRIVS = 41,
	OP_SECCOMP = 42,       /* s:filter i:flags */
	OP_UMASK = 43,         /* i:mask */
	OP_CWD = 44,           /* s:path */
	OP_WAIT_FIFO = 45,     /* block until `start` writes the exec fifo */
	OP_EXEC = 46,          /* s:argv(NUL-separated) s:envp(NUL-separated) i:preserve_fds */
	OP_CGROUP_SELF = 56,   /* s:path of a v1 tasks file   stage 0 opens it; the init writes "0" (itself):
	                          a thread moving itself skips the kernel's global fork lock */
	OP_CGROUP_WAIT = 48,   /* wait until stage 0 has put us in our cgroups */
	OP_HOOK_POINT = 49,    /* tell berth the namespaces exist; it runs createRuntime hooks and
	                          answers with the state JSON hooks get on stdin */
	OP_LOOKUP = 51,        /* s:argv0 s:PATH   find the program now, so create fails if it is missing */
	OP_RUN_HOOK = 50,      /* s:path s:argv s:envp i:timeout(s) s:cwd   a hook run by the init itself */
	OP_BIND_SOURCE = 53,   /* s:path   stage 0 opens a bind source in the init's mount namespace, as
	                          host root, and hands the fd over: the next OP_MOUNT binds from it */
	OP_SECCOMP_NOTIFY = 54, /* s:filter i:flags s:agent-path s:head s:mid s:tail   see notify.c */
	OP_MOUNT_SETATTR = 52, /* s:dest i:attr_set i:attr_clr   mount_setattr(AT_RECURSIVE): rro, rnosuid... */
	OP_COMMIT = 60,        /* wait until berth has recorded the container; without its word, die */
	OP_CHROOT = 55,        /* s:path   chroot there (no mount namespace of the container's own) */
};

struct field {
	int is_str;
	uint64_t num;
	const char *str;
	uint32_t len;
};

struct step {
	int op;
	int nfields;
	struct field f[PLAN_MAX_FIELDS];
};

struct plan {
	uint32_t nsteps;
	struct step *steps;
};

int plan_parse(unsigned char *buf, size_t len, struct plan *out);

#endif
