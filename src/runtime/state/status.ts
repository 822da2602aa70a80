// A container's status is derived from the live system every time, never stored:
//   stopped  the init is gone, a zombie, or its pid now belongs to another process
//   created  the init is alive and waiting on its exec fifo
//   paused   the init is alive and its cgroup is frozen
//   running  otherwise
import fs from "node:fs";
import { procStartTime, type ContainerState } from "./index.ts";

export type Status = "created" | "running" | "paused" | "stopped";

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

export function containerStatus(dir: string, state: ContainerState, isFrozen?: () => boolean): Status {
  if (!initAlive(state)) return "stopped";
  if (isFrozen?.()) return "paused";
  if (fs.existsSync(`${dir}/exec.fifo`)) return "created";
  return "running";
}
