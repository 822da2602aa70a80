// A running container's cgroup, acted on and read: freeze and thaw (berth pause and resume,
// the v1 freezer or cgroup v2's cgroup.freeze, waiting until the kernel reports the state), and
// the counters `berth events --stats` and berthd's stats read.
import { cgroupError, errnoOf, fsOf, sleepSync } from "./fsops";
import type { CgroupLayout } from "./layout";
import { ownsHierarchy } from "./manager";
import type { ContainerCgroup } from "./types";

export interface FreezeOptions {
  /** How long to wait for the cgroup to reach the state (default 5000 ms). */
  timeoutMs?: number;
}

/**
 * Freeze (pause) or thaw (resume) every process of the container. Uses the v1 freezer controller
 * when it is mounted, else cgroup v2's cgroup.freeze; waits until the kernel reports the state.
 */
export function freeze(layout: CgroupLayout, cg: ContainerCgroup, frozen: boolean, opts: FreezeOptions = {}): void {
  const fs = fsOf(layout);
  const deadline = Date.now() + (opts.timeoutMs ?? 5000);
  const v1 = cg.hierarchies.find((h) => h.version === 1 && h.controllers.includes("freezer"));
  const v2 = cg.hierarchies.find((h) => h.version === 2);
  const target = v1 ?? v2;
  if (target && !ownsHierarchy(cg, target))
    throw cgroupError(`cannot ${frozen ? "freeze" : "thaw"} ${target.dir}: it is an existing cgroup the container joined, not one berth created`, {
      field: "linux.cgroupsPath",
      hint: `${frozen ? "freezing" : "thawing"} it would ${frozen ? "freeze" : "thaw"} every process in it, the host's too; berth pauses only containers in a cgroup of their own (a cgroupsPath that does not exist yet)`,
    });
  const write = (file: string, value: string) => {
    try {
      fs.write(file, value);
    } catch (e) {
      const errno = errnoOf(e) ?? "EIO";
      throw cgroupError(`write ${value} to ${file}: ${errno}`, {
        errno,
        hint: errno === "ENOENT" ? "the container's cgroup is gone (has the container been deleted?)" : undefined,
      });
    }
  };
  const read = (file: string) => {
    try {
      return fs.read(file);
    } catch {
      return "";
    }
  };

  if (v1) {
    const file = `${v1.dir}/freezer.state`;
    const want = frozen ? "FROZEN" : "THAWED";
    write(file, want);
    for (let i = 1; ; i++) {
      const state = read(file).trim();
      if (state === want) return;
      if (Date.now() >= deadline) {
        if (frozen) write(file, "THAWED");
        throw cgroupError(`the container did not become ${want} within ${opts.timeoutMs ?? 5000} ms (freezer.state is ${state || "?"})`, {
          hint: frozen ? "a process is stuck in uninterruptible sleep (D state), e.g. on NFS or FUSE; the container was thawed again" : undefined,
        });
      }
      // A freeze can stall on a task that is busy in the kernel: asking again nudges it.
      if (frozen && i % 50 === 0) write(file, want);
      sleepSync(Math.min(i, 10));
    }
  }
  if (!v2) throw cgroupError("cannot freeze the container: no freezer (cgroup v1 freezer controller or cgroup v2) is available");
  write(`${v2.dir}/cgroup.freeze`, frozen ? "1" : "0");
  const want = `frozen ${frozen ? 1 : 0}`;
  for (let i = 1; ; i++) {
    if (read(`${v2.dir}/cgroup.events`).split("\n").some((l) => l.trim() === want)) return;
    if (Date.now() >= deadline) {
      if (frozen) write(`${v2.dir}/cgroup.freeze`, "0");
      throw cgroupError(`the container did not become ${frozen ? "frozen" : "thawed"} within ${opts.timeoutMs ?? 5000} ms`, {
        hint: frozen ? "a process is stuck in uninterruptible sleep (D state); the container was thawed again" : undefined,
      });
    }
    sleepSync(Math.min(i, 10));
  }
}

/** Is the container frozen? (v1 freezer.state FROZEN / v2 cgroup.freeze 1) */
export function isFrozen(layout: CgroupLayout, cg: ContainerCgroup): boolean {
  const fs = fsOf(layout);
  const v1 = cg.hierarchies.find((h) => h.version === 1 && h.controllers.includes("freezer"));
  try {
    if (v1) return fs.read(`${v1.dir}/freezer.state`).trim() === "FROZEN";
    const v2 = cg.hierarchies.find((h) => h.version === 2);
    if (v2) return fs.read(`${v2.dir}/cgroup.freeze`).trim() === "1";
  } catch {
    // gone
  }
  return false;
}

export interface CgroupStats {
  memory?: {
    /** bytes in use (v1 memory.usage_in_bytes, v2 memory.current) */
    usage: number;
    /** null = unlimited */
    limit: number | null;
    /** peak usage when the kernel reports it */
    maxUsage?: number;
    /** v1: memory+swap usage; v2: swap usage alone */
    swapUsage?: number;
    swapLimit?: number | null;
    /** raw memory.stat key/values */
    stat?: Record<string, number>;
  };
  cpu?: {
    usageNs: number;
    userNs?: number;
    systemNs?: number;
    throttledPeriods?: number;
    throttledTimeNs?: number;
  };
  pids?: { current: number; limit: number | null };
}

// v1 reports "unlimited" as a page-aligned 2^63-1; anything this large means no limit.
const UNLIMITED = 2 ** 62;

function parseKV(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** Memory, CPU and pids counters of the container (for `berth events --stats`). */
export function readStats(layout: CgroupLayout, cg: ContainerCgroup): CgroupStats {
  const fs = fsOf(layout);
  const stats: CgroupStats = {};
  const dirOf = (ctrl: string) => cg.hierarchies.find((h) => h.version === 1 && h.controllers.includes(ctrl))?.dir;
  const v2 = cg.hierarchies.find((h) => h.version === 2)?.dir;
  const rd = (dir: string | undefined, file: string): string | undefined => {
    if (!dir) return undefined;
    try {
      return fs.read(`${dir}/${file}`).trim();
    } catch {
      return undefined;
    }
  };
  const num = (s: string | undefined): number | undefined => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);
  const lim = (s: string | undefined): number | null | undefined => {
    if (s === "max") return null;
    const n = num(s);
    return n === undefined ? undefined : n >= UNLIMITED ? null : n;
  };

  // memory: the same counters in v1's files and in v2's
  const readMemory = (dir: string, f: { usage: string; limit: string; peak: string; swap: string; swapLimit: string }) => {
    const usage = num(rd(dir, f.usage));
    if (usage === undefined) return;
    stats.memory = { usage, limit: lim(rd(dir, f.limit)) ?? null };
    const peak = num(rd(dir, f.peak));
    if (peak !== undefined) stats.memory.maxUsage = peak;
    const sw = num(rd(dir, f.swap));
    if (sw !== undefined) {
      stats.memory.swapUsage = sw;
      stats.memory.swapLimit = lim(rd(dir, f.swapLimit)) ?? null;
    }
    const st = rd(dir, "memory.stat");
    if (st) stats.memory.stat = parseKV(st);
  };
  const memV1 = dirOf("memory");
  if (memV1) {
    readMemory(memV1, {
      usage: "memory.usage_in_bytes", limit: "memory.limit_in_bytes", peak: "memory.max_usage_in_bytes",
      swap: "memory.memsw.usage_in_bytes", swapLimit: "memory.memsw.limit_in_bytes",
    });
  } else if (v2) {
    readMemory(v2, { usage: "memory.current", limit: "memory.max", peak: "memory.peak", swap: "memory.swap.current", swapLimit: "memory.swap.max" });
  }

  // cpu
  const acct = dirOf("cpuacct");
  const total = num(rd(acct, "cpuacct.usage"));
  if (acct && total !== undefined) {
    stats.cpu = { usageNs: total };
    const user = num(rd(acct, "cpuacct.usage_user"));
    const sys = num(rd(acct, "cpuacct.usage_sys"));
    if (user !== undefined) stats.cpu.userNs = user;
    if (sys !== undefined) stats.cpu.systemNs = sys;
    const cst = rd(dirOf("cpu"), "cpu.stat");
    if (cst) {
      const kv = parseKV(cst);
      if (kv.nr_throttled !== undefined) stats.cpu.throttledPeriods = kv.nr_throttled;
      if (kv.throttled_time !== undefined) stats.cpu.throttledTimeNs = kv.throttled_time;
    }
  } else if (v2) {
    // cpu.stat is a core cgroup2 file: it has usage even when the cpu controller isn't enabled.
    const st = rd(v2, "cpu.stat");
    if (st) {
      const kv = parseKV(st);
      if (kv.usage_usec !== undefined) {
        stats.cpu = { usageNs: kv.usage_usec * 1000 };
        if (kv.user_usec !== undefined) stats.cpu.userNs = kv.user_usec * 1000;
        if (kv.system_usec !== undefined) stats.cpu.systemNs = kv.system_usec * 1000;
        if (kv.nr_throttled !== undefined) stats.cpu.throttledPeriods = kv.nr_throttled;
        if (kv.throttled_usec !== undefined) stats.cpu.throttledTimeNs = kv.throttled_usec * 1000;
      }
    }
  }

  // pids
  const pidsDir = dirOf("pids") ?? v2;
  const cur = num(rd(pidsDir, "pids.current"));
  if (cur !== undefined) stats.pids = { current: cur, limit: lim(rd(pidsDir, "pids.max")) ?? null };
  return stats;
}
