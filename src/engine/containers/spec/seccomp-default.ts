// Docker's default seccomp policy, in Berth's own words: deny by default (EPERM), allow the
// ordinary syscalls, and open more of them only when the container holds the capability that makes
// them meaningful (mount with CAP_SYS_ADMIN, ptrace-family with CAP_SYS_PTRACE, ...), as moby's
// profiles/seccomp/default.json does. The profile is written in docker's profile format
// (includes/excludes by capability), and `resolveProfile` turns it into the OCI seccomp section
// for one container's capability set; user profiles (`--security-opt seccomp=<json>`) go through
// the same resolver. x86 only: Berth is an x86_64 runtime, so arm/s390/ppc-only groups are absent.
import type { Seccomp, SeccompArg } from "../../../runtime/spec/types.ts";

/** One rule of a docker-format profile. */
export interface DockerSyscall {
  name?: string;
  names?: string[];
  action: string;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  comment?: string;
  includes?: { caps?: string[]; arches?: string[]; minKernel?: string };
  excludes?: { caps?: string[]; arches?: string[]; minKernel?: string };
}

export interface DockerProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] }[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: DockerSyscall[];
}

const ALWAYS: string[] = [
  "_llseek", "_newselect", "accept", "accept4", "access", "adjtimex", "alarm", "arch_prctl", "bind",
  "brk", "capget", "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime",
  "clock_adjtime64", "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64",
  "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range",
  "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
  "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve",
  "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64",
  "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32",
  "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork",
  "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync",
  "ftruncate", "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
  "futex_wake", "futimesat", "get_robust_list", "get_thread_area", "getcpu", "getcwd", "getdents",
  "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
  "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid",
  "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit",
  "getrusage", "getsid", "getsockname", "getsockopt", "gettid", "gettimeofday", "getuid",
  "getuid32", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
  "io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "io_setup",
  "io_submit", "ioctl", "ioprio_get", "ioprio_set", "ipc", "kill", "landlock_add_rule",
  "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link",
  "linkat", "listen", "listxattr", "llistxattr", "lremovexattr", "lseek", "lsetxattr", "lstat",
  "lstat64", "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat",
  "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "modify_ldt", "mprotect",
  "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
  "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap", "mseal", "msgctl", "msgget",
  "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap", "name_to_handle_at", "nanosleep",
  "newfstatat", "open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe",
  "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl",
  "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6", "pselect6_time64",
  "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv",
  "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename",
  "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
  "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
  "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_get_priority_max", "sched_get_priority_min",
  "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_getscheduler",
  "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
  "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget",
  "semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg",
  "sendmsg", "sendto", "set_robust_list", "set_thread_area", "set_tid_address", "setfsgid",
  "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32",
  "setitimer", "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32",
  "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit", "setsid", "setsockopt",
  "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack",
  "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair", "splice", "stat",
  "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range",
  "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun",
  "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create",
  "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill",
  "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime",
  "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid",
  "write", "writev",
];

/** The namespace flags of clone(2): without CAP_SYS_ADMIN a container may not make namespaces. */
const CLONE_NAMESPACE_FLAGS = 0x7e020000; // NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
const ENOSYS = 38;
const allow = (names: string[], caps?: string[]): DockerSyscall =>
  ({ names, action: "SCMP_ACT_ALLOW", ...(caps ? { includes: { caps } } : {}) });

export const DEFAULT_PROFILE: DockerProfile = {
  defaultAction: "SCMP_ACT_ERRNO",
  defaultErrnoRet: 1,
  archMap: [{ architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] }],
  syscalls: [
    allow(ALWAYS),
    // Tracing one's own children is safe since kernel 4.8 (seccomp is re-checked after ptrace).
    allow(["process_vm_readv", "process_vm_writev", "ptrace"]),
    // AF_VSOCK reaches the hypervisor: not from a container.
    { names: ["socket"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 40, op: "SCMP_CMP_NE" }] },
    // personality(2) only for the harmless personas: PER_LINUX, PER_LINUX32, UNAME26 variants, query.
    ...[0x0, 0x8, 0x20000, 0x20008, 0xffffffff].map((value): DockerSyscall => ({
      names: ["personality"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value, op: "SCMP_CMP_EQ" }],
    })),
    allow(["open_by_handle_at"], ["CAP_DAC_READ_SEARCH"]),
    allow([
      "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie", "mount",
      "mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl", "quotactl_fd", "setdomainname",
      "sethostname", "setns", "syslog", "umount", "umount2", "unshare",
    ], ["CAP_SYS_ADMIN"]),
    {
      names: ["clone"], action: "SCMP_ACT_ALLOW", excludes: { caps: ["CAP_SYS_ADMIN"] },
      args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, op: "SCMP_CMP_MASKED_EQ" }],
    },
    // clone3 passes its flags in memory, out of seccomp's reach: ENOSYS makes libc fall back to clone.
    { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: ENOSYS, excludes: { caps: ["CAP_SYS_ADMIN"] } },
    allow(["reboot"], ["CAP_SYS_BOOT"]),
    allow(["chroot"], ["CAP_SYS_CHROOT"]),
    allow(["delete_module", "init_module", "finit_module"], ["CAP_SYS_MODULE"]),
    allow(["acct"], ["CAP_SYS_PACCT"]),
    allow(["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"], ["CAP_SYS_PTRACE"]),
    allow(["iopl", "ioperm"], ["CAP_SYS_RAWIO"]),
    allow(["settimeofday", "stime", "clock_settime", "clock_settime64"], ["CAP_SYS_TIME"]),
    allow(["vhangup"], ["CAP_SYS_TTY_CONFIG"]),
    allow(["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"], ["CAP_SYS_NICE"]),
    allow(["syslog"], ["CAP_SYSLOG"]),
    allow(["bpf"], ["CAP_BPF"]),
    allow(["perf_event_open"], ["CAP_PERFMON"]),
  ],
};

const HOST_ARCH = "SCMP_ARCH_X86_64";

// docker's arch names in includes/excludes are Go's (amd64, 386) or libseccomp's.
const HOST_ARCH_NAMES = new Set(["amd64", "x32", "386", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);

/**
 * The OCI seccomp section of a docker-format profile for a container holding `caps`: rules whose
 * includes/excludes do not match are dropped, and archMap becomes the architectures list (the
 * host's architecture and its sub-architectures), as dockerd does.
 */
export function resolveProfile(p: DockerProfile, caps: readonly string[]): Seccomp {
  const have = new Set(caps);
  const out: Seccomp = { defaultAction: p.defaultAction };
  if (p.defaultErrnoRet !== undefined) out.defaultErrnoRet = p.defaultErrnoRet;
  if (p.architectures?.length) out.architectures = [...p.architectures];
  else if (p.archMap?.length) {
    const m = p.archMap.find((a) => a.architecture === HOST_ARCH);
    if (m) out.architectures = [m.architecture, ...(m.subArchitectures ?? [])];
  }
  if (p.flags?.length) out.flags = [...p.flags];
  if (p.listenerPath) out.listenerPath = p.listenerPath;
  if (p.listenerMetadata) out.listenerMetadata = p.listenerMetadata;
  out.syscalls = [];
  for (const s of p.syscalls ?? []) {
    const inc = s.includes ?? {}, exc = s.excludes ?? {};
    if (inc.caps?.length && !inc.caps.every((c) => have.has(c))) continue;
    if (exc.caps?.length && exc.caps.some((c) => have.has(c))) continue;
    if (inc.arches?.length && !inc.arches.some((a) => HOST_ARCH_NAMES.has(a))) continue;
    if (exc.arches?.length && exc.arches.some((a) => HOST_ARCH_NAMES.has(a))) continue;
    const names = s.names?.length ? s.names : s.name ? [s.name] : [];
    if (!names.length) continue;
    out.syscalls.push({
      names: [...names], action: s.action,
      ...(s.errnoRet !== undefined ? { errnoRet: s.errnoRet } : {}),
      ...(s.args?.length ? { args: s.args.map((a) => ({ ...a })) } : {}),
    });
  }
  return out;
}
