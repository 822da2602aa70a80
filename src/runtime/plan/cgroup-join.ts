// How a new process gets into its cgroups without the kernel's global fork lock.
//
// Writing a pid to cgroup.procs moves a whole thread group, so the kernel takes
// cgroup_threadgroup_rwsem for writing; that waits for an RCU grace period (measured here: 6 to
// 18 ms for the first move after a quiet moment) and blocks every fork on the machine meanwhile.
// Two ways around it, both measured at under 0.1 ms:
//   - v1: a single-threaded process writes "0" (itself) to the hierarchy's `tasks` file; the
//     kernel skips the global lock for a thread moving itself. The init does it as its first
//     step, through an fd stage 0 opened as host root (the kernel checks the opener's creds).
//   - v2: clone3(CLONE_INTO_CGROUP) creates the process inside the cgroup. Where clone3 is
//     missing or filtered, stage 0 falls back to writing the pid into cgroup.procs.
import type { Step } from "./types.ts";

export interface CgroupJoin {
  /** The cgroup directory on the host. */
  dir: string;
  /** 1: a v1 hierarchy (incl. name=systemd); 2: the unified hierarchy. */
  version: 1 | 2;
}

type Add = (op: Step["op"], args: Step["args"], text: string, field?: string) => void;

/** Parent side, right after the clone step: the v2 cgroup the clone lands in. */
export function addCgroupInto(add: Add, joins: CgroupJoin[], who: string, field?: string): void {
  for (const j of joins.filter((x) => x.version === 2)) {
    add("cgroupInto", { dir: j.dir }, `clone ${who} straight into ${j.dir} (clone3 CLONE_INTO_CGROUP; else write its pid to cgroup.procs)`, field);
  }
}

/** Init side, its first steps: the v1 cgroups it moves itself into. */
export function addCgroupSelf(add: Add, joins: CgroupJoin[], who: string, field?: string): void {
  for (const j of joins.filter((x) => x.version === 1)) {
    add("cgroupSelf", { tasksFile: `${j.dir}/tasks` }, `${who} moves itself into ${j.dir} (writes 0 to tasks)`, field);
  }
}

/** Whether stage 0 may still have cgroup work to do after the clone (the v2 fallback). */
export const needsCgroupWait = (joins: CgroupJoin[]) => joins.some((j) => j.version === 2);

/** The joins for a set of cgroup directories, from the hierarchies that hold them. */
export function joinsFor<H extends CgroupJoin>(hierarchies: H[], dirOf: (h: H) => string = (h) => h.dir): CgroupJoin[] {
  const seen = new Map<string, CgroupJoin>();
  for (const h of hierarchies) {
    const dir = dirOf(h);
    if (!seen.has(dir)) seen.set(dir, { dir, version: h.version });
  }
  return [...seen.values()];
}
