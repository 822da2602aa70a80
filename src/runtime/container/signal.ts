// Which processes berth may signal. The invariant (ARCHITECTURE.md, "What berth signals"):
//   - never pid <= 1, a non-integer, berth itself or its parent. Inside a pid namespace the
//     kernel lists tasks outside it as pid 0 in cgroup.procs, and kill(0) would hit berth's own
//     process group; a corrupt state.json must not turn into kill(1).
//   - the init, while it is the same process (pid and start time, state/status.ts);
//   - with a pid namespace of its own: processes in that namespace (found through the
//     container's cgroups) — killing the init kills the rest;
//   - otherwise processes in a cgroup berth created for the container (or below it), and, in a
//     cgroup the container joined, only those that also share the container's own mount
//     namespace (directly in it, or in a child cgroup that did not exist when it joined).
import fs from "node:fs";
import type { Spec } from "../spec/types.ts";
import type { ContainerState } from "../state/index.ts";
import { initAlive } from "../state/status.ts";

/** The parts of a container's state that identify its processes. */
export type Owner = Pick<ContainerState, "pid" | "pidStartTime" | "ns">;

export function mayEverSignal(pid: number): boolean {
  return Number.isInteger(pid) && pid > 1 && pid !== process.pid && pid !== process.ppid;
}

/** "dev:ino" of /proc/<pid>/ns/<type>, or undefined when the process is gone. */
export function nsId(pid: number | "self", type: string): string | undefined {
  try {
    const st = fs.statSync(`/proc/${pid}/ns/${type}`);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/** The namespaces of a just-started init that the container made itself (not joined by path). */
export function initNamespaces(pid: number, spec: Spec): ContainerState["ns"] {
  const out: NonNullable<ContainerState["ns"]> = {};
  const own = (t: string) => (spec.linux?.namespaces ?? []).some((n) => n.type === t && !n.path);
  for (const [type, key, file] of [["pid", "pid", "pid"], ["mount", "mnt", "mnt"]] as const) {
    if (!own(type)) continue;
    const id = nsId(pid, file);
    if (id && id !== nsId("self", file)) out[key] = id;
  }
  return out;
}

/**
 * The container's processes among the candidates read from its cgroups (cgroups/manager.ts
 * candidatePids). Without an owner (a create that failed before its init was known) only
 * processes in cgroups berth created count.
 */
export function containerPids(owner: Owner | undefined, c: { owned: number[]; joined: number[] }): number[] {
  const out = new Set<number>();
  if (owner && mayEverSignal(owner.pid) && initAlive(owner as ContainerState)) out.add(owner.pid);
  const pidNs = owner?.ns?.pid;
  const mntNs = owner?.ns?.mnt;
  for (const p of c.owned) if (mayEverSignal(p) && (!pidNs || nsId(p, "pid") === pidNs)) out.add(p);
  if (pidNs || mntNs) {
    for (const p of c.joined) {
      if (!mayEverSignal(p)) continue;
      if (pidNs ? nsId(p, "pid") === pidNs : nsId(p, "mnt") === mntNs) out.add(p);
    }
  }
  return [...out].sort((a, b) => a - b);
}

/** Sends `signal` to each pid berth may signal; a process already gone is not an error. Returns
 *  the first other failure, for the caller to report or ignore. */
export function signalPids(pids: Iterable<number>, signal: NodeJS.Signals | number): Error | undefined {
  let first: Error | undefined;
  for (const pid of pids) {
    if (!mayEverSignal(pid)) continue;
    try {
      process.kill(pid, signal);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ESRCH") first ??= new Error(`kill ${pid}: ${(e as Error).message}`);
    }
  }
  return first;
}
