// Names the OCI runtime spec (v1.2, Linux) lets config.json use, with the kernel numbers
// they stand for where one exists. The validator checks names against these tables; the
// code that applies a config (capabilities, rlimits, namespaces) can use the numbers.

/** Linux capabilities, CAP_CHOWN (0) .. CAP_CHECKPOINT_RESTORE (40): the 41 known to Linux 5.9+ / 6.x. */
export const CAPABILITIES: Readonly<Record<string, number>> = Object.freeze({
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
});

/** setrlimit(2) resources and their numbers on Linux (x86_64 and the generic ABI). */
export const RLIMITS: Readonly<Record<string, number>> = Object.freeze({
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
});

/** Namespace types of linux.namespaces[].type, with their CLONE_NEW* flags. */
export const NAMESPACE_TYPES: Readonly<Record<string, number>> = Object.freeze({
  pid: 0x20000000, // CLONE_NEWPID
  network: 0x40000000, // CLONE_NEWNET
  mount: 0x00020000, // CLONE_NEWNS
  ipc: 0x08000000, // CLONE_NEWIPC
  uts: 0x04000000, // CLONE_NEWUTS
  user: 0x10000000, // CLONE_NEWUSER
  cgroup: 0x02000000, // CLONE_NEWCGROUP
  time: 0x00000080, // CLONE_NEWTIME
});

/** linux.rootfsPropagation values. */
export const ROOTFS_PROPAGATIONS: readonly string[] = Object.freeze([
  "private",
  "rprivate",
  "shared",
  "rshared",
  "slave",
  "rslave",
  "unbindable",
  "runbindable",
]);

/** linux.devices[].type: character, block, unbuffered character, FIFO. */
export const DEVICE_TYPES: readonly string[] = Object.freeze(["c", "b", "u", "p"]);

/** linux.resources.devices[].type: all, character, block. */
export const DEVICE_CGROUP_TYPES: readonly string[] = Object.freeze(["a", "c", "b"]);

/** hooks keys, in the order the lifecycle runs them (prestart is deprecated but still valid). */
export const HOOK_KINDS: readonly string[] = Object.freeze([
  "prestart",
  "createRuntime",
  "createContainer",
  "startContainer",
  "poststart",
  "poststop",
]);

/** process.ioPriority.class values. */
export const IOPRIO_CLASSES: readonly string[] = Object.freeze(["IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"]);

/** process.scheduler.policy values. */
export const SCHED_POLICIES: readonly string[] = Object.freeze([
  "SCHED_OTHER",
  "SCHED_FIFO",
  "SCHED_RR",
  "SCHED_BATCH",
  "SCHED_ISO",
  "SCHED_IDLE",
  "SCHED_DEADLINE",
]);

/** process.scheduler.flags values. */
export const SCHED_FLAGS: readonly string[] = Object.freeze([
  "SCHED_FLAG_RESET_ON_FORK",
  "SCHED_FLAG_RECLAIM",
  "SCHED_FLAG_DL_OVERRUN",
  "SCHED_FLAG_KEEP_POLICY",
  "SCHED_FLAG_KEEP_PARAMS",
  "SCHED_FLAG_UTIL_CLAMP_MIN",
  "SCHED_FLAG_UTIL_CLAMP_MAX",
]);

/** linux.personality.domain values. */
export const PERSONALITY_DOMAINS: readonly string[] = Object.freeze(["LINUX", "LINUX32"]);

/** linux.timeOffsets keys: the clocks a time namespace can offset. */
export const TIME_OFFSET_CLOCKS: readonly string[] = Object.freeze(["boottime", "monotonic"]);
