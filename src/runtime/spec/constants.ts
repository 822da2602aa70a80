// Names the OCI runtime spec (v1.2, Linux) lets config.json use, with the kernel numbers
// they stand for where one exists. The validator checks names against these tables; the
// code that applies a config (capabilities, rlimits, namespaces) can use the numbers.
import { CAPABILITIES as LINUX_CAPABILITIES, NAMESPACES, RLIMITS as LINUX_RLIMITS } from "../linux.ts";

// The kernel's tables live once, in ../linux.ts; these are views of them keyed by name.

/** Linux capabilities, CAP_CHOWN (0) .. CAP_CHECKPOINT_RESTORE (40): the 41 known to Linux 5.9+ / 6.x. */
export const CAPABILITIES: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(LINUX_CAPABILITIES.map((name, bit) => [name, bit])),
);

/** setrlimit(2) resources and their numbers on Linux (x86_64 and the generic ABI). */
export const RLIMITS: Readonly<Record<string, number>> = Object.freeze({ ...LINUX_RLIMITS });

/** Namespace types of linux.namespaces[].type, with their CLONE_NEW* flags. */
export const NAMESPACE_TYPES: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(Object.entries(NAMESPACES).map(([type, ns]) => [type, ns.flag])),
);

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
