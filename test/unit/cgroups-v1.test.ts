// cgroup v1 (and hybrid) logic against a fake cgroup tree in a temporary directory.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { BerthError } from "../../src/runtime/errors";
import {
  applyResources,
  createCgroup,
  destroyCgroup,
  detectLayout,
  freeze,
  isFrozen,
  listPids,
  readStats,
  type CgroupLayout,
  type ContainerCgroup,
} from "../../src/runtime/cgroups";
import { FakeCgroupFs, type FakeHierarchy, type FakeOptions } from "../../src/runtime/cgroups/fakefs";
import type { Linux } from "../../src/runtime/spec/types";

let root: string;
// The fake tree is hundreds of small files per test: keep it in memory when /dev/shm exists.
const fastTmp = () => (existsSync("/dev/shm") ? "/dev/shm" : tmpdir());

beforeEach(() => {
  root = mkdtempSync(`${fastTmp()}/berth-cg-v1-`);
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function v1Hierarchies(extra: FakeHierarchy[] = []): FakeHierarchy[] {
  return [
    { mountpoint: `${root}/cpu,cpuacct`, version: 1, controllers: ["cpu", "cpuacct"] },
    { mountpoint: `${root}/cpuset`, version: 1, controllers: ["cpuset"] },
    { mountpoint: `${root}/memory`, version: 1, controllers: ["memory"] },
    { mountpoint: `${root}/devices`, version: 1, controllers: ["devices"] },
    { mountpoint: `${root}/freezer`, version: 1, controllers: ["freezer"] },
    { mountpoint: `${root}/blkio`, version: 1, controllers: ["blkio"] },
    { mountpoint: `${root}/pids`, version: 1, controllers: ["pids"] },
    { mountpoint: `${root}/hugetlb`, version: 1, controllers: ["hugetlb"] },
    { mountpoint: `${root}/systemd`, version: 1, controllers: ["name=systemd"] },
    ...extra,
  ];
}

function setup(opts: FakeOptions = {}, hierarchies = v1Hierarchies()): { layout: CgroupLayout; fake: FakeCgroupFs } {
  const fake = new FakeCgroupFs(hierarchies, opts);
  const layout = detectLayout(fake.mountinfo());
  layout.fs = fake;
  layout.procSelfCgroup = "0::/\n";
  return { layout, fake };
}

const read = (p: string) => readFileSync(p, "utf8").trim();

function berthErr(fn: () => unknown): BerthError {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof BerthError)) throw e;
    return e;
  }
  throw new Error("expected a BerthError");
}

/** Every directory below the fake root other than the hierarchy mountpoints. */
function leftovers(fake: FakeCgroupFs): string[] {
  const out: string[] = [];
  for (const h of fake.hierarchies) {
    const walk = (d: string) => {
      for (const c of fake.subdirs(d)) {
        out.push(`${d}/${c}`);
        walk(`${d}/${c}`);
      }
    };
    walk(h.mountpoint);
  }
  return out;
}

describe("createCgroup (v1)", () => {
  test("creates the cgroup in every hierarchy, including name=systemd, and reports the join list", () => {
    const { layout, fake } = setup();
    const cg = createCgroup(layout, "c1", {});
    expect(layout.mode).toBe("v1");
    expect(cg.path).toBe("/berth/c1");
    expect(cg.dirs).toEqual(v1Hierarchies().map((h) => `${h.mountpoint}/berth/c1`));
    expect(cg.procsFiles).toEqual(cg.dirs.map((d) => `${d}/cgroup.procs`));
    for (const d of cg.dirs) expect(existsSync(`${d}/cgroup.procs`)).toBe(true);
    // parents first, then the leaf, in each hierarchy
    expect(cg.created).toContain(`${root}/memory/berth`);
    expect(cg.created.indexOf(`${root}/memory/berth`)).toBeLessThan(cg.created.indexOf(`${root}/memory/berth/c1`));
    expect(cg.warnings).toEqual([]);
    expect(leftovers(fake).length).toBe(18);
  });

  test("cpuset: empty cpus/mems of every new level are copied from the parent", () => {
    const { layout } = setup({ cpus: "0-7", mems: "0-1" });
    createCgroup(layout, "c1", { cgroupsPath: "/a/b/c" });
    for (const d of ["a", "a/b", "a/b/c"]) {
      expect(read(`${root}/cpuset/${d}/cpuset.cpus`)).toBe("0-7");
      expect(read(`${root}/cpuset/${d}/cpuset.mems`)).toBe("0-1");
    }
  });

  test("writes memory, cpu, cpuset, pids, blkio, hugetlb values", () => {
    const { layout } = setup();
    const linux: Linux = {
      cgroupsPath: "/x/c1",
      resources: {
        memory: { limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20, swappiness: 10, disableOOMKiller: true, kernel: 1 << 20 },
        cpu: { shares: 512, quota: 50000, period: 100000, burst: 1000, realtimeRuntime: 1000, realtimePeriod: 10000, cpus: "1-2", mems: "0", idle: 0 },
        pids: { limit: 100 },
        blockIO: { weight: 300, weightDevice: [{ major: 8, minor: 0, weight: 200 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] },
        hugepageLimits: [{ pageSize: "2MB", limit: 4 << 20 }],
      },
    };
    const cg = createCgroup(layout, "c1", linux);
    const d = (h: string, f: string) => read(`${root}/${h}/x/c1/${f}`);
    expect(d("memory", "memory.limit_in_bytes")).toBe(String(64 << 20));
    expect(d("memory", "memory.memsw.limit_in_bytes")).toBe(String(128 << 20));
    expect(d("memory", "memory.soft_limit_in_bytes")).toBe(String(32 << 20));
    expect(d("memory", "memory.swappiness")).toBe("10");
    expect(d("memory", "memory.oom_control")).toBe("1");
    expect(d("cpu,cpuacct", "cpu.shares")).toBe("512");
    expect(d("cpu,cpuacct", "cpu.cfs_quota_us")).toBe("50000");
    expect(d("cpu,cpuacct", "cpu.cfs_period_us")).toBe("100000");
    expect(d("cpu,cpuacct", "cpu.cfs_burst_us")).toBe("1000");
    expect(d("cpu,cpuacct", "cpu.rt_period_us")).toBe("10000");
    expect(d("cpu,cpuacct", "cpu.rt_runtime_us")).toBe("1000");
    expect(d("cpuset", "cpuset.cpus")).toBe("1-2");
    expect(d("pids", "pids.max")).toBe("100");
    // CFQ's blkio.weight is gone: BFQ's files are used (as runc does)
    expect(d("blkio", "blkio.bfq.weight")).toBe("300");
    expect(d("blkio", "blkio.bfq.weight_device")).toBe("8:0 200");
    expect(d("blkio", "blkio.throttle.read_bps_device")).toBe("8:0 1048576");
    expect(d("hugetlb", "hugetlb.2MB.limit_in_bytes")).toBe(String(4 << 20));
    expect(cg.warnings.some((w) => w.includes("linux.resources.memory.kernel"))).toBe(true);
  });

  test("pids limit 0 and -1 mean unlimited", () => {
    const { layout } = setup();
    const cg = createCgroup(layout, "c1", { resources: { pids: { limit: 5 } } });
    applyResources(layout, cg, { pids: { limit: -1 } });
    expect(read(`${root}/pids/berth/c1/pids.max`)).toBe("max");
    applyResources(layout, cg, { pids: { limit: 0 } });
    expect(read(`${root}/pids/berth/c1/pids.max`)).toBe("max");
  });

  test("a relative cgroupsPath lands below the caller's own cgroup in each hierarchy", () => {
    const { layout, fake } = setup();
    layout.procSelfCgroup = "3:memory:/job/7\n1:cpu,cpuacct:/\n";
    fake.mkdir(`${root}/memory/job`);
    fake.mkdir(`${root}/memory/job/7`);
    const cg = createCgroup(layout, "c1", { cgroupsPath: "ctr" });
    expect(cg.dirs).toContain(`${root}/memory/job/7/ctr`);
    expect(cg.dirs).toContain(`${root}/cpu,cpuacct/ctr`);
    expect(cg.created).not.toContain(`${root}/memory/job`);
    destroyCgroup(layout, cg);
    expect(existsSync(`${root}/memory/job/7`)).toBe(true); // not ours
    expect(existsSync(`${root}/memory/job/7/ctr`)).toBe(false);
  });

  test("joins a cgroup that already has processes, with a warning (as runc)", () => {
    const { layout, fake } = setup();
    const cg = createCgroup(layout, "c1", {});
    fake.addProc(cg.dirs[2]!, 4242);
    const again = createCgroup(layout, "c1", {});
    expect(again.created).toEqual([]);
    expect(again.hierarchies.every((h) => h.owned === false)).toBe(true);
    expect(again.warnings.join("\n")).toContain("has processes");
  });
});

describe("memory limit and memory+swap (v1)", () => {
  function created(opts: FakeOptions = {}) {
    const s = setup(opts);
    const cg = createCgroup(s.layout, "c1", { resources: { memory: { limit: 100 << 20, swap: 200 << 20 } } });
    s.fake.writes.length = 0;
    return { ...s, cg, mem: `${root}/memory/berth/c1` };
  }
  const order = (fake: FakeCgroupFs) => fake.writes.map((w) => `${w.path.slice(w.path.lastIndexOf("/") + 1)}=${w.data}`);

  test("on create, limit is written before memory+swap", () => {
    const { layout, fake } = setup();
    createCgroup(layout, "c1", { resources: { memory: { limit: 100, swap: 200 } } });
    const mem = order(fake).filter((w) => w.startsWith("memory."));
    expect(mem).toEqual(["memory.limit_in_bytes=100", "memory.memsw.limit_in_bytes=200"]);
  });

  test("raising above the current memory+swap writes memory+swap first", () => {
    const { layout, fake, cg, mem } = created();
    applyResources(layout, cg, { memory: { limit: 300 << 20, swap: 400 << 20 } });
    expect(order(fake)).toEqual([`memory.memsw.limit_in_bytes=${400 << 20}`, `memory.limit_in_bytes=${300 << 20}`]);
    expect(read(`${mem}/memory.limit_in_bytes`)).toBe(String(300 << 20));
  });

  test("lowering writes the limit first", () => {
    const { layout, fake, cg } = created();
    applyResources(layout, cg, { memory: { limit: 50 << 20, swap: 60 << 20 } });
    expect(order(fake)).toEqual([`memory.limit_in_bytes=${50 << 20}`, `memory.memsw.limit_in_bytes=${60 << 20}`]);
  });

  test("-1 lifts both (memory+swap first)", () => {
    const { layout, fake, cg, mem } = created();
    applyResources(layout, cg, { memory: { limit: -1 } });
    expect(order(fake)).toEqual(["memory.memsw.limit_in_bytes=-1", "memory.limit_in_bytes=-1"]);
    expect(read(`${mem}/memory.limit_in_bytes`)).toBe("9223372036854771712");
  });

  test("swap below limit is a config error naming the field", () => {
    const { layout } = setup();
    const e = berthErr(() => createCgroup(layout, "c1", { resources: { memory: { limit: 200, swap: 100 } } }));
    expect(e.field).toBe("linux.resources.memory.swap");
    expect(e.hint).toContain("memory+swap");
  });

  test("swap without a limit: the kernel's EINVAL comes back with file, errno, field and hint", () => {
    const { layout } = setup();
    const e = berthErr(() => createCgroup(layout, "c1", { resources: { memory: { swap: 300 } } }));
    expect(e.errno).toBe("EINVAL");
    expect(e.field).toBe("linux.resources.memory.swap");
    expect(e.message).toBe(`write 300 to ${root}/memory/berth/c1/memory.memsw.limit_in_bytes: EINVAL`);
    expect(e.hint).toContain("set memory.limit as well");
  });

  test("swap accounting off: swap limit is a clear error, unlimited swap is fine", () => {
    const { layout } = setup({ swapAccounting: false });
    const e = berthErr(() => createCgroup(layout, "c1", { resources: { memory: { limit: 100, swap: 200 } } }));
    expect(e.field).toBe("linux.resources.memory.swap");
    expect(e.errno).toBe("ENOENT");
    expect(e.hint).toContain("swapaccount=1");
    const cg = createCgroup(layout, "c2", { resources: { memory: { limit: 100, swap: -1 } } });
    expect(read(`${cg.dirs[2]}/memory.limit_in_bytes`)).toBe("100");
  });

  test("a limit below current usage: EBUSY with the usage in the hint", () => {
    const { layout, fake, cg, mem } = created();
    fake.setCounter(`${mem}/memory.usage_in_bytes`, String(80 << 20));
    const e = berthErr(() => applyResources(layout, cg, { memory: { limit: 10 << 20 } }));
    expect(e.errno).toBe("EBUSY");
    expect(e.field).toBe("linux.resources.memory.limit");
    expect(e.describe()).toBe(
      `cgroups: write ${10 << 20} to ${mem}/memory.limit_in_bytes: EBUSY [field linux.resources.memory.limit] — likely cause: the new limit ${10 << 20} is below the cgroup's current memory usage (${80 << 20} bytes, peak 0) and the kernel could not reclaim enough; use a higher limit`,
    );
  });

  test("swappiness out of range", () => {
    const { layout } = setup();
    expect(berthErr(() => createCgroup(layout, "c1", { resources: { memory: { swappiness: 101 } } })).field).toBe("linux.resources.memory.swappiness");
  });

  test("custom field prefix (berth update)", () => {
    const { layout, cg } = created();
    const e = berthErr(() => applyResources(layout, cg, { memory: { limit: 1000, swap: 10 } }, "update.memory"));
    expect(e.field).toBe("update.memory.memory.swap");
  });
});

describe("cpu (v1)", () => {
  test("a period refused with EINVAL is retried after the quota", () => {
    let refused = 0;
    const { layout, fake } = setup({
      failWrite: (p, d) => (p.endsWith("cpu.cfs_period_us") && d === "10000" && refused++ === 0 ? "EINVAL" : undefined),
    });
    createCgroup(layout, "c1", { resources: { cpu: { quota: 5000, period: 10000 } } });
    const cpu = fake.writes.filter((w) => w.path.includes("cpu.cfs")).map((w) => w.path.slice(w.path.lastIndexOf("/") + 1));
    expect(cpu).toEqual(["cpu.cfs_quota_us", "cpu.cfs_period_us"]);
    expect(read(`${root}/cpu,cpuacct/berth/c1/cpu.cfs_period_us`)).toBe("10000");
  });

  test("bad quota: EINVAL names the quota field", () => {
    const { layout } = setup();
    const e = berthErr(() => createCgroup(layout, "c1", { resources: { cpu: { quota: 10 } } }));
    expect(e.field).toBe("linux.resources.cpu.quota");
    expect(e.errno).toBe("EINVAL");
  });

  test("cpuset outside the parent's: EINVAL with the parent's value in the hint", () => {
    const { layout } = setup({ cpus: "0-1" });
    const e = berthErr(() => createCgroup(layout, "c1", { resources: { cpu: { cpus: "5" } } }));
    expect(e.field).toBe("linux.resources.cpu.cpus");
    expect(e.hint).toContain("(0-1)");
  });
});

describe("cleanup on failure", () => {
  test("any failing write removes every directory createCgroup made", () => {
    const { layout, fake } = setup({ failWrite: (p) => (p.endsWith("pids.max") ? "EACCES" : undefined) });
    const e = berthErr(() => createCgroup(layout, "c1", { cgroupsPath: "/deep/er/c1", resources: { memory: { limit: 1 << 20 }, pids: { limit: 10 } } }));
    expect(e.field).toBe("linux.resources.pids.limit");
    expect(e.errno).toBe("EACCES");
    expect(e.hint).toContain("root");
    expect(leftovers(fake)).toEqual([]);
  });

  test("pre-existing parents are kept on failure", () => {
    const { layout, fake } = setup({ failWrite: (p) => (p.endsWith("pids.max") ? "EIO" : undefined) });
    fake.mkdir(`${root}/pids/shared`);
    berthErr(() => createCgroup(layout, "c1", { cgroupsPath: "/shared/c1", resources: { pids: { limit: 10 } } }));
    expect(leftovers(fake)).toEqual([`${root}/pids/shared`]);
  });

  test("a controller that is not mounted is an error naming the field (and cleans up)", () => {
    const { layout, fake } = setup({}, v1Hierarchies().filter((h) => !h.controllers.includes("pids")));
    const e = berthErr(() => createCgroup(layout, "c1", { resources: { pids: { limit: 10 } } }));
    expect(e.field).toBe("linux.resources.pids.limit");
    expect(e.describe()).toContain("pids cgroup controller is not available");
    expect(leftovers(fake)).toEqual([]);
  });
});

describe("devices (v1)", () => {
  test("rules with no devices controller mounted are an error on v1 (device isolation is not optional)", () => {
    const { layout, fake } = setup({}, v1Hierarchies().filter((h) => !h.controllers.includes("devices")));
    const e = berthErr(() => createCgroup(layout, "c1", { resources: { devices: [{ allow: false, access: "rwm" }] } }));
    expect(e.field).toBe("linux.resources.devices");
    expect(leftovers(fake)).toEqual([]);
  });

  test("deny-all + default allow list, as runc 1.1.5 leaves devices.list", () => {
    const { layout, fake } = setup();
    const cg = createCgroup(layout, "c1", {
      resources: {
        devices: [
          { allow: false, access: "rwm" },
          { allow: true, type: "b", major: 7, minor: 0, access: "r" },
          { allow: false, type: "c", major: 1, minor: 5, access: "rwm" }, // overridden by the default list
        ],
      },
    });
    const dev = cg.dirs.find((d) => d.includes("/devices/"))!;
    const list = read(`${dev}/devices.list`).split("\n").sort();
    expect(list).toEqual(
      ["b *:* m", "c *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm", "c 5:2 rwm", "b 7:0 r", "c 10:200 rwm", "c 136:* rwm"].sort(),
    );
    expect(fake.writes.find((w) => w.path.endsWith("devices.deny"))?.data).toBe("a");
  });

  test("access is read as runc reads it: the set of r, w, m in it (\"rwa\" is rw); none of them is refused", () => {
    const { layout, fake } = setup();
    const cg = createCgroup(layout, "c1", { resources: { devices: [{ allow: false, access: "rwm" }, { allow: true, type: "c", major: 4, minor: 1, access: "rwa" }, { allow: true, type: "b", major: 7, minor: 0, access: "mmw" }] } });
    const dev = cg.dirs.find((d) => d.includes("/devices/"))!;
    const list = read(`${dev}/devices.list`).split("\n");
    expect(list).toContain("c 4:1 rw");
    expect(list).toContain("b 7:0 wm");
    const e = berthErr(() => createCgroup(layout, "c2", { resources: { devices: [{ allow: true, type: "c", major: 4, minor: 1, access: "xyz" }] } }));
    expect(e.field).toBe("linux.resources.devices[0].access");
    expect(leftovers(fake).filter((p) => p.includes("c2"))).toEqual([]);
  });

  test("an update only writes the difference (no deny-all window)", () => {
    const { layout, fake } = setup();
    const cg = createCgroup(layout, "c1", { resources: { devices: [{ allow: false, access: "rwm" }, { allow: true, type: "b", major: 7, minor: 0, access: "rw" }] } });
    fake.writes.length = 0;
    applyResources(layout, cg, { devices: [{ allow: false, access: "rwm" }, { allow: true, type: "b", major: 7, minor: 1, access: "r" }] });
    expect(fake.writes.map((w) => `${w.path.slice(w.path.lastIndexOf("/") + 1)} ${w.data}`)).toEqual(["devices.deny b 7:0 rw", "devices.allow b 7:1 r"]);
  });

  test("rules without a deny-all keep the cgroup allow-all with deny exceptions; partial 'a' rules expand", () => {
    const { layout, fake } = setup();
    createCgroup(layout, "c1", { resources: { devices: [{ allow: false, type: "c", major: 10, minor: 229, access: "rwm" }, { allow: false, access: "m" }] } });
    const w = fake.writes.filter((x) => x.path.includes("devices.")).map((x) => `${x.path.slice(x.path.lastIndexOf("/") + 1)} ${x.data}`);
    expect(w[0]).toBe("devices.allow a");
    expect(w).toContain("devices.deny c 10:229 rwm");
    // "a *:* m" denied then "c *:* m"/"b *:* m" allowed again by the default list: no m denial left
    expect(w.some((x) => x.includes("*:* m"))).toBe(false);
  });

  test("invalid rules name the rule", () => {
    const { layout } = setup();
    expect(berthErr(() => createCgroup(layout, "c1", { resources: { devices: [{ allow: true, type: "x" as "c", access: "r" }] } })).field).toBe(
      "linux.resources.devices[0].type",
    );
    expect(berthErr(() => createCgroup(layout, "c1", { resources: { devices: [{ allow: true, access: "x" }] } })).field).toBe("linux.resources.devices[0].access");
  });
});

describe("destroyCgroup (v1)", () => {
  test("removes leaf and created parents in every hierarchy; idempotent", () => {
    const { layout, fake } = setup();
    const cg = createCgroup(layout, "c1", { cgroupsPath: "/p/q/c1" });
    destroyCgroup(layout, cg);
    expect(leftovers(fake)).toEqual([]);
    destroyCgroup(layout, cg);
  });

  test("child cgroups made inside the container are removed first", () => {
    const { layout, fake } = setup();
    const cg = createCgroup(layout, "c1", {});
    fake.mkdir(`${cg.dirs[0]}/inner`);
    fake.mkdir(`${cg.dirs[0]}/inner/deeper`);
    destroyCgroup(layout, cg);
    expect(leftovers(fake)).toEqual([]);
  });

  test("a shared parent stays while another container uses it", () => {
    const { layout, fake } = setup();
    const a = createCgroup(layout, "a", {});
    const b = createCgroup(layout, "b", {});
    destroyCgroup(layout, a);
    expect(leftovers(fake).filter((d) => d.endsWith("/berth")).length).toBe(9);
    destroyCgroup(layout, b);
    expect(leftovers(fake)).toEqual([]);
  });

  test("EBUSY while processes remain: retries, then an error listing the pids", () => {
    const { layout, fake } = setup();
    const cg = createCgroup(layout, "c1", {});
    fake.addProc(cg.dirs[1]!, 777);
    const t0 = Date.now();
    const e = berthErr(() => destroyCgroup(layout, cg, { timeoutMs: 100 }));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    expect(e.errno).toBe("EBUSY");
    expect(e.hint).toContain("777");
    // everything else is gone; only the busy one (and its parent) remain
    expect(leftovers(fake).sort()).toEqual([`${root}/cpuset/berth`, `${root}/cpuset/berth/c1`]);
  });
});

describe("freeze, pids, stats (v1)", () => {
  test("freezer.state FROZEN / THAWED", () => {
    const { layout } = setup();
    const cg = createCgroup(layout, "c1", {});
    freeze(layout, cg, true);
    expect(read(`${root}/freezer/berth/c1/freezer.state`)).toBe("FROZEN");
    expect(isFrozen(layout, cg)).toBe(true);
    freeze(layout, cg, false);
    expect(read(`${root}/freezer/berth/c1/freezer.state`)).toBe("THAWED");
    expect(isFrozen(layout, cg)).toBe(false);
  });

  test("a freeze that never completes times out, thaws again and says why", () => {
    const { layout } = setup({ stuckFreeze: true });
    const cg = createCgroup(layout, "c1", {});
    const e = berthErr(() => freeze(layout, cg, true, { timeoutMs: 80 }));
    expect(e.describe()).toContain("FREEZING");
    expect(e.hint).toContain("uninterruptible");
    expect(read(`${root}/freezer/berth/c1/freezer.state`)).toBe("THAWED");
  });

  test("listPids walks every hierarchy and child cgroups", () => {
    const { layout, fake } = setup();
    const cg = createCgroup(layout, "c1", {});
    for (const d of cg.dirs) fake.addProc(d, 10);
    fake.mkdir(`${cg.dirs[0]}/sub`);
    fake.addProc(`${cg.dirs[0]}/sub`, 11);
    fake.addProc(cg.dirs[3]!, 9);
    expect(listPids(layout, cg)).toEqual([9, 10, 11]);
  });

  test("readStats", () => {
    const { layout, fake } = setup();
    const cg = createCgroup(layout, "c1", { resources: { memory: { limit: 1 << 30 }, pids: { limit: 50 } } });
    fake.setCounter(`${root}/memory/berth/c1/memory.usage_in_bytes`, "12345");
    fake.setCounter(`${root}/cpu,cpuacct/berth/c1/cpuacct.usage`, "999");
    fake.setCounter(`${root}/pids/berth/c1/pids.current`, "3");
    const s = readStats(layout, cg);
    expect(s.memory?.usage).toBe(12345);
    expect(s.memory?.limit).toBe(1 << 30);
    expect(s.memory?.swapLimit).toBeNull();
    expect(s.cpu?.usageNs).toBe(999);
    expect(s.pids).toEqual({ current: 3, limit: 50 });
  });
});

describe("hybrid (v1 controllers + cgroup2 with hugetlb)", () => {
  function hybrid(v2ctrls: string[] = ["hugetlb"]) {
    const hs = v1Hierarchies().filter((h) => !h.controllers.includes("hugetlb"));
    hs.push({ mountpoint: `${root}/unified`, version: 2, controllers: v2ctrls });
    return setup({}, hs);
  }

  test("joins the unified hierarchy too and enables its controllers", () => {
    const { layout } = hybrid();
    expect(layout.mode).toBe("hybrid");
    const cg = createCgroup(layout, "c1", { resources: { hugepageLimits: [{ pageSize: "2MB", limit: 2 << 20 }] } });
    expect(cg.dirs).toContain(`${root}/unified/berth/c1`);
    expect(cg.procsFiles).toContain(`${root}/unified/berth/c1/cgroup.procs`);
    expect(read(`${root}/unified/cgroup.subtree_control`)).toBe("hugetlb");
    expect(read(`${root}/unified/berth/c1/hugetlb.2MB.max`)).toBe(String(2 << 20));
  });

  test("unified entries are invalid configuration on a hybrid host, as runc says, and leave nothing", () => {
    for (const unified of [{ "memory.high": "100M" }, { "hugetlb.1GB.max": "0" }]) {
      const { layout, fake } = hybrid();
      const e = berthErr(() => createCgroup(layout, "c1", { resources: { unified } }));
      expect(e.field).toBe(`linux.resources.unified[${JSON.stringify(Object.keys(unified)[0])}]`);
      expect(e.message).toContain("invalid configuration: unified resources need a cgroup v2 host");
      expect(e.message).toContain("hybrid");
      expect(leftovers(fake)).toEqual([]);
    }
  });

  test("v1-only host: unified entries need cgroup v2", () => {
    const { layout } = setup();
    const e = berthErr(() => createCgroup(layout, "c1", { resources: { unified: { "pids.max": "5" } } }));
    expect(e.describe()).toContain("invalid configuration");
    expect(e.describe()).toContain("are cgroup v1");
  });

  test("freeze prefers the v1 freezer", () => {
    const { layout } = hybrid();
    const cg = createCgroup(layout, "c1", {});
    freeze(layout, cg, true);
    expect(read(`${root}/freezer/berth/c1/freezer.state`)).toBe("FROZEN");
    expect(read(`${root}/unified/berth/c1/cgroup.freeze`)).toBe("0");
  });

  test("network settings without net_cls/net_prio are refused, naming the field (as runc does)", () => {
    const { layout } = hybrid();
    const e = berthErr(() => createCgroup(layout, "c1", { resources: { network: { classID: 5 } } }));
    expect(e.field).toBe("linux.resources.network.classID");
    expect(e.describe()).toContain("net_cls cgroup controller is not mounted");
    const e2 = berthErr(() => createCgroup(layout, "c2", { resources: { network: { priorities: [{ name: "eth0", priority: 1 }] } } }));
    expect(e2.field).toBe("linux.resources.network.priorities");
    expect(e2.describe()).toContain("net_prio");
  });
});
