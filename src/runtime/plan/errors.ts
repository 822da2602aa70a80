// (step index, errno, detail) from the executor -> one message a human can act on.
import { BerthError } from "../errors.ts";
import { errnoMessage, errnoName } from "../errno.ts";
import { SIGNALS } from "../linux.ts";
import type { Plan } from "./types.ts";

export const DETAIL = { none: 0, notInPath: 1, notProcfs: 2, badPlan: 3, bindSource: 4, devNull: 5, cwdNotDir: 6, hookStatus: 7, hookTimeout: 8, agent: 20 };

const E = { EPERM: 1, ENOENT: 2, EACCES: 13, EBUSY: 16, ENOTDIR: 20, EINVAL: 22, ENOSPC: 28, EROFS: 30, ELOOP: 40, EXDEV: 18 };

function hintFor(op: string, errno: number, text: string): string | undefined {
  if (op === "mount" && errno === E.ENOENT) return "the source does not exist, or the destination could not be created in the rootfs";
  if (op === "mount" && errno === E.EPERM) return "the kernel refused the mount: inside a user namespace some filesystems and flags cannot be mounted";
  if (op === "mount" && errno === E.EXDEV) return "the destination resolves outside the rootfs (a symlink in the image?)";
  if (op === "mount" && errno === E.ELOOP) return "the destination is a symlink, which is not allowed here";
  if (op === "mountSetattr" && errno === 38) return "recursive mount options (rro, rnosuid, ...) need mount_setattr(2): Linux 5.12 or later";
  if (op === "pivot" && errno === E.EINVAL) return "pivot_root is not possible on this root filesystem (e.g. a ramdisk): use --no-pivot";
  if (op === "cgroupInto" || op === "cgroupSelf") return "the cgroup could not take the process: check the cgroup limits (pids.max, cpuset) and that it still exists";
  if (op === "setns") return "the namespace path is wrong or the process owning it is gone";
  if (op === "sethostname" && errno === E.EPERM) return "setting the hostname needs a uts namespace of the container's own";
  if (op === "seccomp" && errno === E.EINVAL) return "the kernel rejected the seccomp filter or one of its flags";
  if (op === "seccomp" && errno === E.EACCES) return "loading seccomp without no_new_privs needs CAP_SYS_ADMIN";
  if (op === "rlimit" && errno === E.EPERM) return "raising a hard limit above the current one needs CAP_SYS_RESOURCE";
  if (op === "user" && errno === E.EINVAL) return "the uid or gid is not mapped in the container's user namespace";
  if (op === "write" && errno === E.ENOENT) return "this kernel has no such sysctl";
  if (op === "write" && errno === E.EROFS) return "/proc/sys is read-only at this point";
  if (op === "clone" && errno === E.EINVAL) return "this kernel does not support one of the namespaces asked for";
  if (op === "clone" && errno === E.ENOSPC) return "too many namespaces of one kind (user.max_* sysctls)";
  if (op === "netnsAhead" && errno === E.ENOSPC) return "too many network namespaces (the user.max_net_namespaces sysctl)";
  void text;
  return undefined;
}

export function stepError(plan: Plan, step: number, errno: number, detail: number): BerthError {
  const s = plan.steps[step];
  const en = errnoName(errno);
  const msg = errnoMessage(errno);
  if (!s) {
    if (detail === DETAIL.badPlan) return new BerthError("the executor could not read the plan (berth and its executor do not match: run npm install)", { phase: "executor" });
    return new BerthError(`setup failed: ${msg}`, { phase: "executor", errno: en });
  }
  const field = s.field;
  if (s.op === "exec" || s.op === "lookup") {
    const argv0 = s.op === "lookup" ? String(s.args.argv0) : String(s.args.argv).split("\0")[0];
    // Keep runc's wording: the docker CLI maps these phrases to exit codes 126 and 127.
    if (detail === DETAIL.notInPath && errno === E.ENOENT) {
      return new BerthError(`exec: "${argv0}": executable file not found in $PATH`, { phase: "start", field, errno: en, hint: "check process.args[0] and the PATH in process.env" });
    }
    return new BerthError(`exec: "${argv0}": ${errno === E.ENOENT ? "stat " + argv0 + ": " : ""}${msg}`, {
      phase: "start", field, errno: en,
      hint: errno === E.EPERM && plan.steps.some((x) => x?.op === "seccomp") ? `the seccomp profile denies a syscall needed to ${s.op === "lookup" ? "find the program (access, faccessat, faccessat2, newfstatat)" : "start it (execve)"}` :
        errno === E.EACCES ? "the file is not executable, or a directory on the way is not searchable" :
        errno === E.ENOENT ? "the file (or its interpreter, for a script) does not exist in the container" : undefined,
    });
  }
  if (s.op === "runHook") {
    const kind = field?.split(".")[1]?.split("[")[0] ?? "hook";
    if (detail === DETAIL.hookTimeout) return new BerthError(`${kind} hook ${s.args.path} timed out after ${s.args.timeout}s and was killed`, { phase: "hooks", field });
    if (detail === DETAIL.hookStatus) {
      const why = errno > 128 ? `was killed by signal ${errno - 128}` : errno === 127 ? "exited with status 127 (not found or not executable?)" : `exited with status ${errno}`;
      return new BerthError(`${kind} hook ${s.args.path} ${why}`, { phase: "hooks", field });
    }
  }
  if (s.op === "cwd") {
    const reason = detail === DETAIL.cwdNotDir ? "not a directory" : msg;
    return new BerthError(`chdir to cwd ${JSON.stringify(String(s.args.path))} set in config.json failed: ${reason}`, { phase: "cwd", field, errno: en });
  }
  if ((s.op === "seccompNotify" || s.op === "agentConnect") && detail === DETAIL.agent) {
    return new BerthError(`cannot hand the seccomp listener to the agent at ${s.args.path}: ${msg}`, {
      phase: "seccomp", field: "linux.seccomp.listenerPath", errno: en, hint: "start the seccomp agent first; it must listen on that unix socket",
    });
  }
  if (s.op === "bindSource" && detail === DETAIL.bindSource) {
    return new BerthError(`bind source ${s.args.path}: ${msg}`, { phase: "mount", field, errno: en });
  }
  if (s.op === "mount" && detail === DETAIL.bindSource) {
    return new BerthError(`${s.text}: bind source ${s.args.source}: ${msg}`, { phase: "mount", field: field ? `${field}.source` : undefined, errno: en });
  }
  if (s.op === "mask" && detail === DETAIL.devNull) {
    return new BerthError(`${s.text}: /dev/null in the container is not the null device`, { phase: "mask", field, errno: en, hint: "the image replaced /dev/null; refusing to use it" });
  }
  return new BerthError(`${s.text}: ${msg}`, { phase: s.op, field, errno: en, hint: hintFor(s.op, errno, s.text) });
}

/** Where the init was (executor.h PROGRESS_*) when it died. */
export const PHASE = { setup: 0, seccomp: -2, exec: -3 } as const;

const signalName = (n: number) => Object.entries(SIGNALS).find(([, v]) => v === n)?.[0] ?? `signal ${n}`;

/**
 * The init died without reporting an error, before its exec took place: a seccomp action that
 * kills, or a limit the init itself could not live with. One line: which phase, which signal,
 * what likely caused it.
 */
export function diedError(plan: Pick<Plan, "steps">, step: number, phase: number, status: number): BerthError {
  const sig = status & 0x7f;
  const s = plan.steps[step];
  const at = `at step ${step}${s ? ` (${s.text})` : ""}`;
  const where = phase === PHASE.exec ? "in exec"
    : phase === PHASE.seccomp ? (s?.op === "seccomp" ? "after loading the seccomp filter, before exec" : `${at}, after loading the seccomp filter`)
    : `during setup, ${at}`;
  const how = sig ? `was killed by ${signalName(sig)}` : `exited with status ${(status >> 8) & 0xff}`;
  const name = sig ? signalName(sig) : undefined;
  const hint = name === "SIGSYS" ? "the seccomp profile kills a syscall the runtime or the program's start-up makes (its defaultAction or a rule is SCMP_ACT_KILL/TRAP): allow it, or answer with SCMP_ACT_ERRNO"
    : name === "SIGSEGV" || name === "SIGKILL" || name === "SIGBUS" ? "a process.rlimits memory limit (RLIMIT_AS, RLIMIT_DATA, RLIMIT_STACK) too small to start the program"
    : undefined;
  return new BerthError(`the container process ${how} ${where}`, { phase: "start", field: s?.field, hint });
}
