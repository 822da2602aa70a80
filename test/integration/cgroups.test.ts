// Integration: real cgroups on this host (root needed). Every test works below a unique
// top-level cgroup "/berth-it-<pid>-<time>" and afterEach sweeps it from every hierarchy
// (thaw, kill, rmdir) even when a test failed half-way.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { BerthError } from "../../src/runtime/errors";
import {
  applyResources,
  cgroupMounts,
  createCgroup,
  destroyCgroup,
  detectLayout,
  freeze,
  isFrozen,
  listPids,
  readStats,
  type ContainerCgroup,
} from "../../src/runtime/cgroups";
import type { Linux } from "../../src/runtime/spec/types";

const isRoot = process.getuid?.() === 0;
const layout = (() => {
  try {
    return detectLayout();
  } catch {
    return undefined;
  }
})();
const usable = isRoot && layout !== undefined;
const base = `/berth-it-${process.pid}-${Date.now().toString(36)}`;
const mountpoints = layout ? [...new Set([...Object.values(layout.v1), ...(layout.unified ? [layout.unified] : [])])] : [];
const children: ChildProcess[] = [];
let seq = 0;
const cgPath = () => `${base}/c${++seq}`;

const read = (p: string) => readFileSync(p, "utf8").trim();
const v1dir = (cg: ContainerCgroup, ctrl: string) => cg.hierarchies.find((h) => h.version === 1 && h.controllers.includes(ctrl))?.dir;
const v2dir = (cg: ContainerCgroup) => cg.hierarchies.find((h) => h.version === 2)?.dir;
const swapTotal = Number(/SwapTotal:\s+(\d+)/.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? "0");

function walk(dir: string, fn: (d: string) => void): void {
  let subs: string[] = [];
  try {
    subs = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return;
  }
  for (const s of subs) walk(`${dir}/${s}`, fn);
  fn(dir);
}

function leftovers(): string[] {
  return mountpoints.map((mp) => `${mp}${base}`).filter((d) => existsSync(d));
}

async function sweep(): Promise<void> {
  const tops = leftovers();
  // Thaw first: a frozen process can't die, so killing/awaiting it would hang.
  for (const top of tops)
    walk(top, (d) => {
      for (const [f, v] of [["freezer.state", "THAWED"], ["cgroup.freeze", "0"]] as const)
        try {
          writeFileSync(`${d}/${f}`, v);
        } catch {}
    });
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill("SIGKILL");
      await Promise.race([new Promise((r) => c.once("exit", r)), Bun.sleep(2000)]);
    }
  }
  for (const top of tops) {
    walk(top, (d) => {
      try {
        for (const pid of read(`${d}/cgroup.procs`).split("\n").filter(Boolean)) process.kill(Number(pid), "SIGKILL");
      } catch {}
    });
    for (let i = 0; i < 100 && existsSync(top); i++) {
      walk(top, (d) => {
        try {
          rmdirSync(d);
        } catch {}
      });
      if (existsSync(top)) await Bun.sleep(20);
    }
  }
}

afterEach(sweep);
afterAll(async () => {
  await sweep();
  expect(leftovers()).toEqual([]);
});

function sleeper(args = ["sleep", "60"]): ChildProcess {
  const c = spawn(args[0]!, args.slice(1), { stdio: ["pipe", "pipe", "ignore"] });
  children.push(c);
  return c;
}

function join(cg: ContainerCgroup, pid: number): void {
  for (const f of cg.procsFiles) writeFileSync(f, String(pid));
}

async function exited(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  await new Promise((r) => c.once("exit", r));
}

function berthErr(fn: () => unknown): BerthError {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof BerthError)) throw e;
    return e;
  }
  throw new Error("expected a BerthError");
}

describe.skipIf(!usable)(`real cgroups (${layout?.mode ?? "none"})`, () => {
  test("create with limits, join a process, stats, freeze/thaw, destroy leaves nothing", async () => {
    const l = layout!;
    const linux: Linux = {
      cgroupsPath: cgPath(),
      resources: {
        memory: { limit: 64 << 20, swap: 128 << 20 },
        cpu: { shares: 512, quota: 50000, period: 100000, cpus: "0", mems: "0" },
        pids: { limit: 32 },
      },
    };
    const cg = createCgroup(l, "it", linux);
    expect(cg.path).toBe(linux.cgroupsPath!);
    for (const d of cg.dirs) expect(existsSync(`${d}/cgroup.procs`)).toBe(true);

    // the files
    const mem = v1dir(cg, "memory");
    if (mem) {
      expect(read(`${mem}/memory.limit_in_bytes`)).toBe(String(64 << 20));
      if (existsSync(`${mem}/memory.memsw.limit_in_bytes`)) expect(read(`${mem}/memory.memsw.limit_in_bytes`)).toBe(String(128 << 20));
      expect(read(`${v1dir(cg, "cpu")}/cpu.shares`)).toBe("512");
      expect(read(`${v1dir(cg, "cpu")}/cpu.cfs_quota_us`)).toBe("50000");
      expect(read(`${v1dir(cg, "cpu")}/cpu.cfs_period_us`)).toBe("100000");
      expect(read(`${v1dir(cg, "cpuset")}/cpuset.cpus`)).toBe("0");
      expect(read(`${v1dir(cg, "cpuset")}/cpuset.mems`)).toBe("0");
      expect(read(`${v1dir(cg, "pids")}/pids.max`)).toBe("32");
      // the parent level got the cpuset values copied in
      expect(read(`${l.v1.cpuset}${base}/cpuset.cpus`)).not.toBe("");
    } else {
      const d = v2dir(cg)!;
      expect(read(`${d}/memory.max`)).toBe(String(64 << 20));
      if (existsSync(`${d}/memory.swap.max`)) expect(read(`${d}/memory.swap.max`)).toBe(String(64 << 20));
      expect(read(`${d}/cpu.weight`)).toBe("20");
      expect(read(`${d}/cpu.max`)).toBe("50000 100000");
      expect(read(`${d}/cpuset.cpus`)).toBe("0");
      expect(read(`${d}/pids.max`)).toBe("32");
    }

    // a process in every hierarchy
    const p = sleeper();
    join(cg, p.pid!);
    const procCg = read(`/proc/${p.pid}/cgroup`).split("\n");
    for (const h of cg.hierarchies) {
      const key = h.version === 2 ? "" : h.controllers.join(",");
      expect(procCg.some((line) => line.split(":")[1] === key && line.endsWith(`:${h.path}`))).toBe(true);
    }
    expect(listPids(l, cg)).toEqual([p.pid!]);

    // stats
    const s = readStats(l, cg);
    expect(s.pids?.current).toBeGreaterThanOrEqual(1);
    expect(s.pids?.limit).toBe(32);
    expect(s.memory?.limit).toBe(64 << 20);
    expect(s.memory?.usage).toBeGreaterThanOrEqual(0);
    expect(s.cpu?.usageNs).toBeGreaterThanOrEqual(0);

    // freeze / thaw
    freeze(l, cg, true);
    expect(isFrozen(l, cg)).toBe(true);
    const fz = v1dir(cg, "freezer");
    if (fz) expect(read(`${fz}/freezer.state`)).toBe("FROZEN");
    else expect(read(`${v2dir(cg)}/cgroup.events`)).toContain("frozen 1");
    freeze(l, cg, false);
    expect(isFrozen(l, cg)).toBe(false);
    expect(read(`/proc/${p.pid}/status`)).toMatch(/State:\s+S/);

    // destroy refuses while the process lives, names it
    const busy = berthErr(() => destroyCgroup(l, cg, { timeoutMs: 100 }));
    expect(busy.errno).toBe("EBUSY");
    expect(busy.hint).toContain(String(p.pid));

    p.kill("SIGKILL");
    await exited(p);
    destroyCgroup(l, cg);
    expect(leftovers()).toEqual([]);
    destroyCgroup(l, cg); // idempotent
  });

  test("raising then lowering memory+swap on the real kernel", () => {
    const l = layout!;
    const cg = createCgroup(l, "it", { cgroupsPath: cgPath(), resources: { memory: { limit: 64 << 20, swap: 128 << 20 } } });
    applyResources(l, cg, { memory: { limit: 512 << 20, swap: 1024 << 20 } });
    applyResources(l, cg, { memory: { limit: 16 << 20, swap: 24 << 20 } });
    applyResources(l, cg, { memory: { limit: -1 } });
    const mem = v1dir(cg, "memory");
    if (mem) {
      expect(Number(read(`${mem}/memory.limit_in_bytes`))).toBeGreaterThan(2 ** 60);
      if (existsSync(`${mem}/memory.memsw.limit_in_bytes`)) expect(Number(read(`${mem}/memory.memsw.limit_in_bytes`))).toBeGreaterThan(2 ** 60);
    } else expect(read(`${v2dir(cg)}/memory.max`)).toBe("max");
    destroyCgroup(l, cg);
    expect(leftovers()).toEqual([]);
  });

  test.skipIf(!layout?.v1.memory || swapTotal > 0)("v1: a memory limit below current usage fails with EBUSY and a usage hint", async () => {
    const l = layout!;
    const cg = createCgroup(l, "it", { cgroupsPath: cgPath() });
    // A shell that, once inside the cgroup, holds ~20 MB of anonymous memory (in $x, until the
    // second read returns, i.e. until it is killed).
    const p = sleeper(["sh", "-c", 'read go; x=$(head -c 20000000 /dev/zero | tr "\\0" x); echo ready; read done; echo ${#x}']);
    join(cg, p.pid!);
    const ready = new Promise<void>((r) => p.stdout!.on("data", (b: Buffer) => b.toString().includes("ready") && r()));
    p.stdin!.write("go\n");
    await ready;
    expect(Number(read(`${v1dir(cg, "memory")}/memory.usage_in_bytes`))).toBeGreaterThan(10_000_000);
    const e = berthErr(() => applyResources(l, cg, { memory: { limit: 2 << 20 } }));
    expect(e.errno).toBe("EBUSY");
    expect(e.field).toBe("linux.resources.memory.limit");
    expect(e.message).toContain("memory.limit_in_bytes: EBUSY");
    expect(e.hint).toContain("current memory usage");
  });

  test("a failing resource write cleans up every hierarchy", () => {
    const l = layout!;
    const e = berthErr(() => createCgroup(l, "it", { cgroupsPath: `${base}/deep/c`, resources: { pids: { limit: 8 }, cpu: { cpus: "4095" } } }));
    expect(e.field).toBe("linux.resources.cpu.cpus");
    expect(e.phase).toBe("cgroups");
    expect(leftovers()).toEqual([]);
  });

  test.skipIf(!layout?.v1.devices)("v1 devices: deny-all plus the default list, as runc leaves devices.list", () => {
    const l = layout!;
    const cg = createCgroup(l, "it", { cgroupsPath: cgPath(), resources: { devices: [{ allow: false, access: "rwm" }, { allow: true, type: "b", major: 7, minor: 0, access: "r" }] } });
    const list = read(`${v1dir(cg, "devices")}/devices.list`).split("\n").sort();
    expect(list).toEqual(
      ["b *:* m", "c *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm", "c 5:2 rwm", "b 7:0 r", "c 10:200 rwm", "c 136:* rwm"].sort(),
    );
    // an update changes only what differs
    applyResources(l, cg, { devices: [{ allow: false, access: "rwm" }, { allow: true, type: "b", major: 7, minor: 1, access: "rw" }] });
    const after = read(`${v1dir(cg, "devices")}/devices.list`).split("\n");
    expect(after).toContain("b 7:1 rw");
    expect(after).not.toContain("b 7:0 r");
    destroyCgroup(l, cg);
  });

  test.skipIf(layout?.mode !== "hybrid")("hybrid: unified keys are invalid configuration (as runc); hugepage limits on cgroup2 work", () => {
    const l = layout!;
    const e = berthErr(() => createCgroup(l, "it", { cgroupsPath: cgPath(), resources: { unified: { "memory.high": "1000000" } } }));
    expect(e.field).toBe('linux.resources.unified["memory.high"]');
    expect(e.message).toContain("invalid configuration");
    expect(e.message).toContain("hybrid");
    expect(leftovers()).toEqual([]);
    const avail = read(`${l.unified}/cgroup.controllers`).split(/\s+/).filter(Boolean);
    if (avail.includes("hugetlb") && existsSync("/sys/kernel/mm/hugepages/hugepages-2048kB")) {
      const cg = createCgroup(l, "it", { cgroupsPath: cgPath(), resources: { hugepageLimits: [{ pageSize: "2MB", limit: 4 << 20 }] } });
      expect(read(`${v2dir(cg)}/hugetlb.2MB.max`)).toBe(String(4 << 20));
      destroyCgroup(l, cg);
    }
  });

  // On a hybrid host, the v2 code paths can still run against the real kernel by looking at the
  // cgroup2 mount alone (core files: cgroup.procs, cgroup.freeze, cgroup.events, cpu.stat).
  test.skipIf(layout?.mode !== "hybrid")("v2 code paths on the real cgroup2 mount (unified alone)", async () => {
    const mi = readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .filter((l) => l.includes(" - cgroup2 "))
      .join("\n");
    const v2 = detectLayout(mi);
    expect(v2.mode).toBe("v2");
    const avail = read(`${v2.unified}/cgroup.controllers`).split(/\s+/).filter(Boolean);
    const hp = avail.includes("hugetlb") && existsSync("/sys/kernel/mm/hugepages/hugepages-2048kB");
    const cg = createCgroup(v2, "it", { cgroupsPath: cgPath(), resources: hp ? { hugepageLimits: [{ pageSize: "2MB", limit: 2 << 20 }] } : {} });
    expect(cg.dirs).toEqual([`${v2.unified}${cg.path}`]);
    if (hp) expect(read(`${cg.dirs[0]}/hugetlb.2MB.max`)).toBe(String(2 << 20));
    const p = sleeper();
    join(cg, p.pid!);
    expect(read(`/proc/${p.pid}/cgroup`).split("\n")).toContain(`0::${cg.path}`);
    expect(listPids(v2, cg)).toEqual([p.pid!]);
    expect(readStats(v2, cg).cpu?.usageNs).toBeGreaterThanOrEqual(0);
    freeze(v2, cg, true);
    expect(read(`${cg.dirs[0]}/cgroup.events`)).toContain("frozen 1");
    expect(isFrozen(v2, cg)).toBe(true);
    freeze(v2, cg, false);
    expect(read(`${cg.dirs[0]}/cgroup.events`)).toContain("frozen 0");
    expect(berthErr(() => destroyCgroup(v2, cg, { timeoutMs: 50 })).errno).toBe("EBUSY");
    p.kill("SIGKILL");
    await exited(p);
    destroyCgroup(v2, cg);
    expect(leftovers()).toEqual([]);
  });

  test("cgroupMounts covers every hierarchy of this host", () => {
    const l = layout!;
    const cg = createCgroup(l, "it", { cgroupsPath: cgPath() });
    const plan = cgroupMounts(l, cg, { destination: "/sys/fs/cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"], cgroupns: false });
    if (l.mode === "v2") expect(plan.mounts.map((m) => m.source)).toEqual([v2dir(cg)!]);
    else {
      expect(plan.mounts[0]!.fstype).toBe("tmpfs");
      expect(plan.mounts.slice(1).map((m) => m.source).sort()).toEqual([...cg.dirs].sort());
      for (const m of plan.mounts.slice(1)) expect(existsSync(m.source)).toBe(true);
    }
    destroyCgroup(l, cg);
  });
});
