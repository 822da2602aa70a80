// A container's status is derived from the live system every time, never stored:
//   creating berth is still setting it up (state.creating), or was killed doing so and its
//            executor or init has not died yet
//   stopped  the init is gone, a zombie, or its pid now belongs to another process
//   created  the init is alive and waiting on its exec fifo
//   paused   the init is alive and its cgroup is frozen
//   running  otherwise
import fs from "node:fs";
import { procStartTime, sameProcess, type ContainerState } from "./index.ts";

export type Status = "creating" | "created" | "running" | "paused" | "stopped";

/** Some process of an unfinished create still lives: berth itself, its executor, or the init. */
export function creatingAlive(state: ContainerState): boolean {
  const c = state.creating;
  if (!c) return false;
  return sameProcess(c.pid, c.startTime) || sameProcess(c.executorPid, c.executorStartTime) || initAlive(state);
}

export function initAlive(state: ContainerState): boolean {
  if (!state.pid) return false;
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${state.pid}/stat`, "utf8");
  } catch {
    return false;
  }
  const after = stat.slice(stat.lastIndexOf(")") + 2);
  if (after[0] === "Z" || after[0] === "X") return false;
  return procStartTime(state.pid) === state.pidStartTime;
}

/**
 * Frozen, read straight from the cgroup the state names (the v1 freezer if there is one, else
 * cgroup2's cgroup.freeze): `state` and `start` should not load the cgroups module for this.
 */
export function frozen(state: ContainerState): boolean {
  const hs = state.cgroup?.hierarchies ?? [];
  const v1 = hs.find((h) => h.version === 1 && h.controllers.includes("freezer"));
  try {
    if (v1) return fs.readFileSync(`${v1.dir}/freezer.state`, "utf8").trim() !== "THAWED";
    const v2 = hs.find((h) => h.version === 2);
    if (v2) return fs.readFileSync(`${v2.dir}/cgroup.freeze`, "utf8").trim() === "1";
  } catch { /* no such cgroup (any more): not frozen */ }
  return false;
}

export function containerStatus(dir: string, state: ContainerState, isFrozen: () => boolean = () => frozen(state)): Status {
  if (state.creating) return creatingAlive(state) ? "creating" : "stopped";
  if (!initAlive(state)) return "stopped";
  if (isFrozen()) return "paused";
  if (fs.existsSync(`${dir}/exec.fifo`)) return "created";
  return "running";
}
