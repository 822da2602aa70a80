// `berth exec` as a plan: join every namespace of the running container (by /proc/PID/ns),
// clone the new process there, put it in the container's cgroups, then the same process steps
// as the init (process.ts). No mounts: the container's filesystem is already there.
import type { Process, Spec } from "../spec/types.ts";
import { NAMESPACES } from "../linux.ts";
import { MODE } from "./ops.ts";
import { addProcessSteps, type SeccompNotify } from "./process.ts";
import type { Plan, Step } from "./types.ts";
import { addCgroupInto, addCgroupSelf, needsCgroupWait, type CgroupJoin } from "./cgroup-join.ts";

export interface ExecInput {
  spec: Spec;
  process: Process;
  initPid: number;
  detach: boolean;
  consoleSocket?: string;
  preserveFds?: number;
  /** The container's cgroups (or the --cgroup sub-cgroups) the process joins. */
  joins: CgroupJoin[];
  seccomp?: { filter: Uint8Array; flags: number; summary: string[]; notify?: SeccompNotify };
  /** the container's /etc/passwd (ProcessStepOptions.passwd: read only when HOME is missing) */
  passwd?: () => string | undefined;
}

// user first: joining the others needs capabilities in the user namespace that owns them;
// mount last among what shapes paths (all ns fds are opened before any setns anyway).
const JOIN_ORDER = ["user", "ipc", "uts", "network", "pid", "cgroup", "mount"] as const;

export function compileExecPlan(input: ExecInput): Plan {
  const steps: Step[] = [];
  const notes: string[] = [];
  const add = (op: Step["op"], args: Step["args"], text: string, field?: string) => steps.push({ op, args, text, field });
  const containerNs = new Set((input.spec.linux?.namespaces ?? []).map((n) => n.type));

  const agent = input.seccomp?.notify?.path;
  if (agent) add("agentConnect", { path: agent }, `connect to the seccomp agent at ${agent}`, "linux.seccomp.listenerPath");
  if (input.consoleSocket) add("consoleSocket", { path: input.consoleSocket }, `connect to console socket ${input.consoleSocket}`);
  for (const type of JOIN_ORDER) {
    if (!containerNs.has(type)) continue; // shared with the host: nothing to join
    const path = `/proc/${input.initPid}/ns/${NAMESPACES[type].proc}`;
    add("setns", { path, nstype: NAMESPACES[type].flag }, `join the container's ${type} namespace (${path})`);
  }
  add("clone", { flags: 0, mode: input.detach ? MODE.detach : MODE.foreground }, "clone the new process inside them");
  addCgroupInto(add, input.joins, "the process");
  // No mount namespace to join: the container's filesystem is where its init chrooted.
  if (!containerNs.has("mount")) add("chroot", { path: `/proc/${input.initPid}/root` }, "chroot into the container's root (it has no mount namespace)");
  addCgroupSelf(add, input.joins, "the process");
  if (needsCgroupWait(input.joins)) add("cgroupWait", {}, "wait until the parent has put the process in its cgroups");
  if (input.process.terminal) {
    add("console", { rows: input.process.consoleSize?.height ?? 0, cols: input.process.consoleSize?.width ?? 0, bindConsole: 0 },
      `create a pty in the container and make it the controlling terminal${input.consoleSocket ? " (master sent to the console socket)" : ""}`, "process.terminal");
  }
  addProcessSteps(add, notes, input.process, {
    seccomp: input.seccomp, preserveFds: input.preserveFds, passwd: input.passwd,
  });
  return { steps, notes };
}
