// Seccomp actions: OCI names → the 32-bit value a filter returns (SECCOMP_RET_*).
//
// The kernel looks at the top 16 bits (SECCOMP_RET_ACTION_FULL) to pick the action and
// hands the low 16 bits (SECCOMP_RET_DATA) to it: the errno for ERRNO, the message for
// a ptrace tracer for TRACE.

import { configError } from "../errors.ts";

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

export const EPERM = 1;
export const ENOSYS = 38;
/** Largest errno the kernel will pass back (include/linux/err.h MAX_ERRNO). */
export const MAX_ERRNO = 4095;

export type ActionKind = "ALLOW" | "ERRNO" | "KILL_THREAD" | "KILL_PROCESS" | "TRAP" | "TRACE" | "LOG" | "NOTIFY";

export interface Action {
  kind: ActionKind;
  /** errno for ERRNO, tracer data for TRACE, 0 otherwise. */
  data: number;
  /** The u32 the filter returns. */
  ret: number;
}

const ACTION_NAMES: Record<string, ActionKind> = {
  SCMP_ACT_ALLOW: "ALLOW",
  SCMP_ACT_ERRNO: "ERRNO",
  // libseccomp's SCMP_ACT_KILL predates KILL_PROCESS and has always meant "kill the thread".
  SCMP_ACT_KILL: "KILL_THREAD",
  SCMP_ACT_KILL_THREAD: "KILL_THREAD",
  SCMP_ACT_KILL_PROCESS: "KILL_PROCESS",
  SCMP_ACT_TRAP: "TRAP",
  SCMP_ACT_TRACE: "TRACE",
  SCMP_ACT_LOG: "LOG",
  SCMP_ACT_NOTIFY: "NOTIFY",
};

export const KNOWN_ACTIONS = Object.keys(ACTION_NAMES);

export function makeAction(kind: ActionKind, data = 0): Action {
  let ret: number;
  switch (kind) {
    case "ALLOW":
      ret = SECCOMP_RET_ALLOW;
      break;
    case "ERRNO":
      ret = (SECCOMP_RET_ERRNO | (data & SECCOMP_RET_DATA)) >>> 0;
      break;
    case "KILL_THREAD":
      ret = SECCOMP_RET_KILL_THREAD;
      break;
    case "KILL_PROCESS":
      ret = SECCOMP_RET_KILL_PROCESS;
      break;
    case "TRAP":
      ret = SECCOMP_RET_TRAP;
      break;
    case "TRACE":
      ret = (SECCOMP_RET_TRACE | (data & SECCOMP_RET_DATA)) >>> 0;
      break;
    case "LOG":
      ret = SECCOMP_RET_LOG;
      break;
    case "NOTIFY":
      ret = SECCOMP_RET_USER_NOTIF;
      break;
  }
  const usesData = kind === "ERRNO" || kind === "TRACE";
  return { kind, data: usesData ? data : 0, ret };
}

/**
 * Parses an OCI action name plus its optional errnoRet.
 *
 * Per the runtime spec, errnoRet defaults to EPERM and is only meaningful for
 * SCMP_ACT_ERRNO and SCMP_ACT_TRACE ("When the action doesn't support an errno, the
 * runtime MUST print an error and fail"). For TRACE it becomes the data a tracer reads
 * with PTRACE_GETEVENTMSG; with no tracer attached the kernel fails the call with ENOSYS.
 */
export function parseAction(name: unknown, errnoRet: unknown, field: string, errnoField: string): Action {
  if (name === undefined || name === null || name === "") {
    throw configError(field, "seccomp action is missing", `set it to one of ${KNOWN_ACTIONS.join(", ")}`);
  }
  if (typeof name !== "string") {
    throw configError(field, `seccomp action must be a string, got ${typeName(name)}`);
  }
  const kind = Object.hasOwn(ACTION_NAMES, name) ? ACTION_NAMES[name] : undefined;
  if (kind === undefined) {
    throw configError(field, `unknown seccomp action ${JSON.stringify(name)}`, `use one of ${KNOWN_ACTIONS.join(", ")}`);
  }
  const usesData = kind === "ERRNO" || kind === "TRACE";
  if (errnoRet === undefined || errnoRet === null) return makeAction(kind, usesData ? EPERM : 0);
  if (!usesData) {
    throw configError(
      errnoField,
      `errnoRet is set but ${name} does not return an errno`,
      "errnoRet only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE; remove it",
    );
  }
  if (typeof errnoRet !== "number" || !Number.isInteger(errnoRet) || errnoRet < 0 || errnoRet > MAX_ERRNO) {
    throw configError(
      errnoField,
      `errnoRet must be an integer from 0 to ${MAX_ERRNO}, got ${JSON.stringify(errnoRet) ?? typeName(errnoRet)}`,
    );
  }
  return makeAction(kind, errnoRet);
}

/** Actions that let the call run (or leave the decision to a tracer or seccomp agent): no ENOSYS rewriting behind them. */
export function isPermissive(a: Action): boolean {
  return a.kind === "ALLOW" || a.kind === "LOG" || a.kind === "TRACE" || a.kind === "NOTIFY";
}

// errno names for summaries; anything else prints as a number.
const ERRNO_NAMES = [
  "", "EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "ENXIO", "E2BIG", "ENOEXEC", "EBADF", "ECHILD",
  "EAGAIN", "ENOMEM", "EACCES", "EFAULT", "ENOTBLK", "EBUSY", "EEXIST", "EXDEV", "ENODEV", "ENOTDIR",
  "EISDIR", "EINVAL", "ENFILE", "EMFILE", "ENOTTY", "ETXTBSY", "EFBIG", "ENOSPC", "ESPIPE", "EROFS",
  "EMLINK", "EPIPE", "EDOM", "ERANGE", "EDEADLK", "ENAMETOOLONG", "ENOLCK", "ENOSYS", "ENOTEMPTY", "ELOOP",
];

export function errnoName(n: number): string {
  return ERRNO_NAMES[n] || String(n);
}

/** "ALLOW", "ERRNO(EPERM)", "TRACE(1)", ... */
export function describeAction(a: Action): string {
  if (a.kind === "ERRNO") return `ERRNO(${errnoName(a.data)})`;
  if (a.kind === "TRACE") return `TRACE(${a.data})`;
  return a.kind;
}

export function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}
