// `berth pause` / `berth resume`: freeze and thaw every process of a container through its cgroup
// (v1 freezer, else cgroup v2's cgroup.freeze). As with runc, a running or created container can
// be paused, and only a paused one resumed; status then reads "paused" (derived from the freezer).
import { BerthError } from "../errors.ts";
import { detectLayout, freeze, isFrozen } from "../cgroups/index.ts";
import { containerDir } from "../state/index.ts";
import { lockContainer } from "../state/lock.ts";
import { loadContainer, type Loaded } from "./lifecycle.ts";

function withLock<T>(root: string, id: string, fn: (l: Loaded) => T): T {
  loadContainer(root, id); // a clear "does not exist" before taking the lock
  const release = lockContainer(containerDir(root, id), id);
  try {
    return fn(loadContainer(root, id));
  } finally {
    release();
  }
}

function cgroupOf(l: Loaded, phase: string) {
  if (!l.state.cgroup) {
    throw new BerthError(`container ${JSON.stringify(l.state.id)} has no cgroup, so it can't be ${phase === "pause" ? "frozen" : "thawed"}`, { phase });
  }
  return l.state.cgroup;
}

export function pauseContainer(root: string, id: string): void {
  withLock(root, id, (l) => {
    if (l.status !== "running" && l.status !== "created") {
      throw new BerthError(`cannot pause container ${JSON.stringify(id)}: it is ${l.status}, not running`, {
        phase: "pause",
        hint: l.status === "paused" ? "it is already paused; `berth resume` thaws it" : "its init has exited; only a live container can be paused",
      });
    }
    freeze(detectLayout(), cgroupOf(l, "pause"), true);
  });
}

export function resumeContainer(root: string, id: string): void {
  withLock(root, id, (l) => {
    const cg = l.status === "stopped" ? undefined : l.state.cgroup;
    const layout = cg ? detectLayout() : undefined;
    // A created container that was paused still reads "created" (its exec fifo comes first).
    const paused = l.status === "paused" || (l.status === "created" && !!cg && isFrozen(layout!, cg));
    if (!paused) {
      throw new BerthError(`cannot resume container ${JSON.stringify(id)}: it is ${l.status}, not paused`, {
        phase: "resume",
        hint: l.status === "stopped" ? "its init has exited" : "only a container paused with `berth pause` can be resumed",
      });
    }
    freeze(layout!, cgroupOf(l, "resume"), false);
  });
}
