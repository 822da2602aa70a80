// The steps that turn the init (or an exec'd process) into the configured process: limits,
// identity, privileges, seccomp, cwd, exec. Shared by `run`/`create` and `exec`.
//
// Order: the bounding set is dropped while CAP_SETPCAP is still held; the user changes keeping
// capabilities; capset sets the final sets. Seccomp is loaded as late as possible with
// no_new_privs (the filter need not allow the runtime's own calls); without it, loading needs
// CAP_SYS_ADMIN, so it comes before the capabilities are dropped. runc does the same.
import type { Process } from "../spec/types.ts";
import { CAPABILITIES, RLIMITS } from "../linux.ts";
import { configError } from "../errors.ts";
import type { Step } from "./types.ts";

type Add = (op: Step["op"], args: Step["args"], text: string, field?: string) => void;

export function capMask(names: string[] | undefined, field: string): bigint {
  let mask = 0n;
  (names ?? []).forEach((name, i) => {
    const bit = CAPABILITIES.indexOf(name as (typeof CAPABILITIES)[number]);
    if (bit < 0) throw configError(`${field}[${i}]`, `unknown capability "${name}"`);
    mask |= 1n << BigInt(bit);
  });
  return mask;
}

// A capability's word in a plan's text ("chown" for CAP_CHOWN), worked out once.
const CAP_WORDS = CAPABILITIES.map((n) => n.slice(4).toLowerCase());

function capNames(mask: bigint): string {
  let out = "";
  // Two 32-bit halves: a bit test on a number, not a BigInt shift per capability.
  const lo = Number(mask & 0xffffffffn), hi = Number((mask >> 32n) & 0xffffffffn);
  for (let i = 0; i < CAP_WORDS.length; i++) {
    if (((i < 32 ? lo >>> i : hi >>> (i - 32)) & 1) === 1) out += out ? `,${CAP_WORDS[i]}` : CAP_WORDS[i];
  }
  return out || "(none)";
}

export function homeFor(uid: number, passwd: string | undefined): string {
  for (const line of (passwd ?? "").split("\n")) {
    const f = line.split(":");
    if (f.length >= 6 && Number(f[2]) === uid) return f[5] || "/";
  }
  return "/";
}

/** What the container gets when its env has no PATH (as runc and execvp assume). */
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const U64_MAX = (1n << 64n) - 1n;
function rlimitValue(v: number): bigint {
  // JSON cannot carry 2^64-1 exactly: anything at or above 2^63 means "unlimited".
  return v >= 2 ** 63 ? U64_MAX : BigInt(Math.trunc(v));
}

/** Where the seccomp listener fd goes (SCMP_ACT_NOTIFY): the agent's socket and the message,
 *  cut where stage 0 writes the init's pid (head + pid + mid + pid + tail). */
export interface SeccompNotify {
  path: string;
  head: string;
  mid: string;
  tail: string;
}

export interface ProcessStepOptions {
  seccomp?: { filter: Uint8Array; flags: number; summary: string[]; notify?: SeccompNotify };
  preserveFds?: number;
  /** the container's /etc/passwd, to find HOME when the env has none (read only then) */
  passwd?: () => string | undefined;
  /** steps that go right before the seccomp filter (when no_new_privs) and exec */
  beforeExec?: () => void;
  /** JSON path prefix of the process in errors ("process") */
  field?: string;
}

export function addProcessSteps(add: Add, notes: string[], proc: Process, o: ProcessStepOptions): void {
  const f = o.field ?? "process";
  if (!proc.args?.length) throw configError(`${f}.args`, "no command to run: args is empty");
  (proc.rlimits ?? []).forEach((r, i) => {
    const res = RLIMITS[r.type];
    if (res === undefined) throw configError(`${f}.rlimits[${i}].type`, `unknown rlimit "${r.type}"`);
    add("rlimit", { resource: res, soft: rlimitValue(r.soft), hard: rlimitValue(r.hard) }, `setrlimit ${r.type} soft=${r.soft} hard=${r.hard}`, `${f}.rlimits[${i}]`);
  });
  const caps = proc.capabilities ?? {};
  const bounding = capMask(caps.bounding, `${f}.capabilities.bounding`);
  const eff = capMask(caps.effective, `${f}.capabilities.effective`);
  const perm = capMask(caps.permitted, `${f}.capabilities.permitted`);
  const inh = capMask(caps.inheritable, `${f}.capabilities.inheritable`);
  const amb = capMask(caps.ambient, `${f}.capabilities.ambient`);
  const seccompStep = () => {
    if (!o.seccomp) return;
    const n = o.seccomp.notify;
    if (n) {
      add("seccompNotify", { filter: o.seccomp.filter, flags: o.seccomp.flags, path: n.path, head: n.head, mid: n.mid, tail: n.tail },
        `load seccomp filter (${o.seccomp.filter.length / 8} BPF instructions) with a listener, sent to the agent at ${n.path}`, "linux.seccomp");
    } else {
      add("seccomp", { filter: o.seccomp.filter, flags: o.seccomp.flags },
        `load seccomp filter (${o.seccomp.filter.length / 8} BPF instructions)`, "linux.seccomp");
    }
    for (const s of o.seccomp.summary) notes.push(`seccomp: ${s}`);
  };
  if (!proc.noNewPrivileges) seccompStep();
  add("capBounding", { keepLo: Number(bounding & 0xffffffffn), keepHi: Number(bounding >> 32n) },
    `capability bounding set: ${capNames(bounding)}`, `${f}.capabilities.bounding`);
  const user = proc.user ?? { uid: 0, gid: 0 };
  const groups = new Uint8Array(4 * (user.additionalGids?.length ?? 0));
  (user.additionalGids ?? []).forEach((g, i) => new DataView(groups.buffer).setUint32(4 * i, g, true));
  add("user", { uid: user.uid, gid: user.gid, groups, setgroups: 1 },
    `set uid ${user.uid}, gid ${user.gid}, additional gids [${(user.additionalGids ?? []).join(",")}]`, `${f}.user`);
  add("caps", { effective: eff, permitted: perm, inheritable: inh, ambient: amb },
    `capabilities: effective=${capNames(eff)} permitted=${capNames(perm)} inheritable=${capNames(inh)} ambient=${capNames(amb)}`, `${f}.capabilities`);
  if (proc.noNewPrivileges) add("noNewPrivs", {}, "set no_new_privs", `${f}.noNewPrivileges`);
  add("umask", { mask: user.umask ?? 0o022 }, `umask ${(user.umask ?? 0o022).toString(8).padStart(4, "0")}`, `${f}.user.umask`);
  add("cwd", { path: proc.cwd }, `chdir to ${proc.cwd}`, `${f}.cwd`);
  const pathVar = (proc.env ?? []).findLast((e) => e.startsWith("PATH="))?.slice(5) ?? DEFAULT_PATH;
  add("lookup", { argv0: proc.args[0], path: pathVar }, `find ${JSON.stringify(proc.args[0])}${proc.args[0].includes("/") ? "" : ` in $PATH (${pathVar})`}`, `${f}.args`);
  // A listener fd goes through stage 0, which `create` lets exit once the init waits on its
  // fifo: load a notifying filter before that wait (runc loads every filter there).
  const beforeFifo = !!o.seccomp?.notify;
  if (proc.noNewPrivileges && beforeFifo) seccompStep();
  // The point of no return: berth records the container before it may outlive berth.
  add("commit", {}, "wait until berth has recorded the process (if berth dies first, so does it)");
  o.beforeExec?.();
  if (proc.noNewPrivileges && !beforeFifo) seccompStep();

  const env = [...(proc.env ?? [])];
  if (!env.some((e) => e.startsWith("HOME="))) env.push(`HOME=${homeFor(user.uid, o.passwd?.())}`);
  add("exec", {
    argv: proc.args.join("\0") + "\0",
    envp: env.length ? env.join("\0") + "\0" : "",
    preserveFds: o.preserveFds ?? 0,
  }, `exec ${JSON.stringify(proc.args)}`, `${f}.args`);
}
