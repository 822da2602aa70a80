/* Shared state of the executor. It is single-threaded and short-lived: globals keep it simple. */
#ifndef BERTH_EXECUTOR_H
#define BERTH_EXECUTOR_H

#include "plan.h"

/* Records sent to TypeScript on the control socket: 16 bytes each, written atomically. */
enum report_kind {
	REPORT_PID = 1,     /* value: host pid of the container init */
	REPORT_ERROR = 2,   /* step, err, value (op-specific detail) */
	REPORT_STARTED = 3, /* the container process was exec'd (or setup ended, see ERROR) */
	REPORT_READY = 4,   /* create: the init is set up and waits on the exec fifo */
	REPORT_HOOKS = 5,   /* the init waits for berth to run createRuntime hooks */
	REPORT_COMMIT = 6,  /* the init is at its point of no return: berth records it, answers 'M' */
	REPORT_DIED = 7,    /* the init died before exec: step, phase (PROGRESS_*), wait status */
	REPORT_PHASE = 8,   /* after `start`: step, 0, PROGRESS_* (on the exec fifo) */
};

/* Error detail codes sent in REPORT_ERROR.value, decoded by src/runtime/plan/errors.ts. */
enum detail {
	DETAIL_NONE = 0,
	DETAIL_NOT_IN_PATH = 1,   /* OP_EXEC: no such executable in $PATH */
	DETAIL_NOT_PROCFS = 2,    /* OP_MASK/OP_MOUNT: target is not on the expected filesystem */
	DETAIL_BAD_PLAN = 3,
	DETAIL_BIND_SOURCE = 4,   /* OP_MOUNT: the bind source could not be opened */
	DETAIL_DEV_NULL = 5,      /* OP_MASK: /dev/null is not the null device */
	DETAIL_CWD_NOT_DIR = 6,
	DETAIL_HOOK_STATUS = 7,   /* OP_RUN_HOOK: err is 0, the hook's wait status is in the high bits */
	DETAIL_HOOK_TIMEOUT = 8,
	DETAIL_AGENT = 20,        /* OP_SECCOMP_NOTIFY: the seccomp agent's socket failed */
};

extern int ctl_fd;          /* control socket to TypeScript */
extern int cur_step;        /* index of the step being performed, for error reports */
extern int rootfd;          /* O_PATH fd of the container rootfs (after OP_ROOTFS) */
extern int bind_source_fd;  /* from OP_BIND_SOURCE, for the next OP_MOUNT; or -1 */
extern const char *rootfs_path;
extern int agent_sock;      /* OP_AGENT_CONNECT: the seccomp agent's socket, or -1 */
extern int console_sock;    /* --console-socket connection, or -1 */
extern int fifo_fd;         /* O_PATH fd of exec.fifo, or -1 */
extern int sync_fd;
extern int fifo_report_fd;  /* create: the exec fifo once `start` opened it, for its reports */         /* child's end of the stage 0 <-> stage 1 socket */

/*
 * Where the init is, in a page shared with stage 0 (written without a syscall, so even after the
 * seccomp filter): if the init dies before exec, stage 0 can say at which step and phase.
 */
enum { PROGRESS_SECCOMP = -2, PROGRESS_EXEC = -3 };
void exec_progress(int where);

/* main.c: stage 0's state that stage 1 starts from */
extern int *step_fd;        /* per step: an fd stage 0 opened for it on the host, or -1 */
extern int host_proc;       /* the host's /proc, opened before any setns */
extern volatile int32_t *progress; /* shared page: [0] step index, [1] phase (0 or PROGRESS_*) */
int is_parent_op(int op);   /* a step stage 0 performs (maps, cgroup, oom_score_adj) */
void trace_step(const char *who, int i, int op);

/* The init's name until it execs: a '/' never appears in a name exec gives (a file's basename),
 * so a process still called this has not exec'd. */
#define INIT_COMM "berth/init"

/* stage1.c */
void stage1(struct plan *pl, uint32_t first) __attribute__((noreturn));

void report(int kind, int step, int err, int value);
int read_full(int fd, void *buf, size_t n); /* all n bytes, or -1 (EOF or error) */
void fail(int err, int detail) __attribute__((noreturn));
void wait_for_parent(char want);

/* mounts.c */
void do_mount_step(struct step *s);
void do_rootfs(struct step *s);
void do_symlink(struct step *s);
void do_mount_setattr(struct step *s);
void do_mknod(struct step *s);
void do_bind_device(struct step *s);
void do_pivot(struct step *s);
void do_mask(struct step *s);
void do_readonly(struct step *s);
void do_root_readonly(void);
void do_propagation(struct step *s);

/* process.c */
char **split_nul(const char *buf, uint32_t len);
void do_loopback_up(void);
void do_cap_bounding(struct step *s);
void do_user(struct step *s);
void do_caps(struct step *s);
void do_seccomp(struct step *s, int last, unsigned preserve);
void do_seccomp_notify(struct step *s);
void send_to_agent(struct plan *pl, pid_t child, int lfd);
void do_cwd(struct step *s, int after_user);
void do_lookup(struct step *s);
void prepare_exec(struct step *s);
void do_exec(struct step *s) __attribute__((noreturn));
void do_write(struct step *s);
void do_rlimit(struct step *s);

/* hooks.c */
void do_hook_point(void);
void do_run_hook(struct step *s);

/* console.c */
void do_console(struct step *s);
extern int pty_made;        /* do_console made the pty our stdio: do_user gives it to the user */
int send_fd(int sock, int fd, const char *name);
int recv_fd(int sock);
int relay_and_wait(pid_t child, int master); /* returns the wait status */
int wait_forwarding(pid_t child);

#endif
