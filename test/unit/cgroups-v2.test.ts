// cgroup v2 logic against a fake cgroup2 tree in a temporary directory.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { BerthError } from "../../src/runtime/errors";
import {
  applyResources,
  blkioWeightToIoWeight,
  createCgroup,
  destroyCgroup,
  detectLayout,
  freeze,
  isFrozen,
  listPids,
  readStats,
  sharesToWeight,
  swapToV2,
  type CgroupLayout,
  type WriteRecord,
} from "../../src/runtime/cgroups";
import { FakeCgroupFs, type FakeOptions } from "../../src/runtime/cgroups/fakefs";

let root: string;
// The fake tree is hundreds of small files per test: keep it in memory when /dev/shm exists.
const fastTmp = () => (existsSync("/dev/shm") ? "/dev/shm" : tmpdir());
beforeEach(() => {
  root = mkdtempSync(`${fastTmp()}/berth-cg-v2-`);
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const ALL = ["cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma"];

function setup(opts: FakeOptions = {}, controllers = ALL): { layout: CgroupLayout; fake: FakeCgroupFs; mp: string } {
  const mp = `${root}/cgroup`;
  const fake = new FakeCgroupFs([{ mountpoint: mp, version: 2, controllers }], opts);
  const layout = detectLayout(fake.mountinfo());
  layout.fs = fake;
  layout.procSelfCgroup = "0::/user.slice/session-1.scope\n";
  return { layout, fake, mp };
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

describe("conversions", () => {
  test("cpu.shares → cpu.weight (runc's formula)", () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(512)).toBe(20);
    expect(sharesToWeight(262144)).toBe(10000);
    expect(sharesToWeight(1)).toBe(1);
    expect(sharesToWeight(10_000_000)).toBe(10000);
  });

  test("blkio weight → io.weight", () => {
    expect(blkioWeightToIoWeight(10)).toBe(1);
    expect(blkioWeightToIoWeight(500)).toBe(4950);
    expect(blkioWeightToIoWeight(1000)).toBe(10000);
  });

  test("OCI memory+swap → memory.swap.max", () => {
    expect(swapToV2(100, 300)).toBe(200);
    expect(swapToV2(100, 100)).toBe(0);
    expect(swapToV2(100, -1)).toBe("max");
    expect(swapToV2(-1, undefined)).toBe("max");
    expect(swapToV2(100, undefined)).toBeUndefined();
  });
});

describe("createCgroup (v2)", () => {
  test("one directory, controllers enabled in every ancestor's subtree_control", () => {
    const { layout, mp } = setup();
    expect(layout.mode).toBe("v2");
    const cg = createCgroup(layout, "c1", { cgroupsPath: "/a/b/c1" });
    expect(cg.dirs).toEqual([`${mp}/a/b/c1`]);
    expect(cg.procsFiles).toEqual([`${mp}/a/b/c1/cgroup.procs`]);
    for (const d of [mp, `${mp}/a`, `${mp}/a/b`]) expect(read(`${d}/cgroup.subtree_control`).split(" ").sort()).toEqual([...ALL].sort());
    expect(read(`${mp}/a/b/c1/cgroup.subtree_control`)).toBe(""); // the leaf is left to the container
    expect(read(`${mp}/a/b/c1/cgroup.controllers`).split(" ").sort()).toEqual([...ALL].sort());
  });

  test("relative cgroupsPath uses the parent of the caller's cgroup (as runc does on v2)", () => {
    const { layout, fake, mp } = setup();
    fake.mkdir(`${mp}/user.slice`);
    fake.mkdir(`${mp}/user.slice/session-1.scope`);
    const cg = createCgroup(layout, "c1", { cgroupsPath: "ctr" });
    expect(cg.dirs).toEqual([`${mp}/user.slice/ctr`]);
  });

  test("systemd form maps to the unit's path", () => {
    const { layout, mp } = setup();
    const cg = createCgroup(layout, "c1", { cgroupsPath: "machine-x.slice:berth:c1" }, { systemdCgroup: true });
    expect(cg.dirs).toEqual([`${mp}/machine.slice/machine-x.slice/berth-c1.scope`]);
  });

  test("values and files", () => {
    const { layout, mp } = setup();
    const cg = createCgroup(layout, "c1", {
      resources: {
        memory: { limit: 100 << 20, swap: 300 << 20, reservation: 50 << 20 },
        cpu: { shares: 1024, quota: 50000, period: 100000, burst: 10000, cpus: "1", mems: "0", idle: 1 },
        pids: { limit: 0 },
        blockIO: {
          weight: 500,
          weightDevice: [{ major: 8, minor: 0, weight: 100 }],
          throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1000 }],
          throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 0 }],
        },
        hugepageLimits: [{ pageSize: "2MB", limit: 2 << 20 }],
        rdma: { mlx5_0: { hcaHandles: 3, hcaObjects: 100 } },
        unified: { "memory.high": "90000000", "cgroup.max.descendants": "10" },
      },
    });
    const d = `${mp}/berth/c1`;
    expect(read(`${d}/memory.max`)).toBe(String(100 << 20));
    expect(read(`${d}/memory.swap.max`)).toBe(String(200 << 20));
    expect(read(`${d}/memory.low`)).toBe(String(50 << 20));
    expect(read(`${d}/memory.high`)).toBe("90000000");
    expect(read(`${d}/cpu.weight`)).toBe("39");
    expect(read(`${d}/cpu.max`)).toBe("50000 100000");
    expect(read(`${d}/cpu.max.burst`)).toBe("10000");
    expect(read(`${d}/cpu.idle`)).toBe("1");
    expect(read(`${d}/cpuset.cpus`)).toBe("1");
    expect(read(`${d}/cpuset.mems`)).toBe("0");
    expect(read(`${d}/pids.max`)).toBe("max");
    expect(read(`${d}/io.bfq.weight`)).toBe("8:0 100"); // last write of the file; weight went first
    expect(read(`${d}/io.max`)).toBe("8:0 wiops=max");
    expect(read(`${d}/hugetlb.2MB.max`)).toBe(String(2 << 20));
    expect(read(`${d}/rdma.max`)).toBe("mlx5_0 hca_handle=3 hca_object=100");
    expect(read(`${d}/cgroup.max.descendants`)).toBe("10");
    expect(cg.warnings).toEqual([]);
  });

  test("without BFQ, io.weight gets the converted weight", () => {
    const { layout, mp } = setup({ bfq: false });
    createCgroup(layout, "c1", { resources: { blockIO: { weight: 1000 } } });
    expect(read(`${mp}/berth/c1/io.weight`)).toBe("default 10000");
  });

  test("write log / dry run records the exact writes", () => {
    const { layout, fake, mp } = setup();
    const cg = createCgroup(layout, "c1", {});
    const log: WriteRecord[] = [];
    fake.writes.length = 0;
    applyResources(layout, cg, { cpu: { quota: -1, period: 20000 }, memory: { limit: -1 } }, "linux.resources", { dryRun: true, log });
    expect(fake.writes).toEqual([]);
    expect(log).toEqual([
      { file: `${mp}/berth/c1/memory.max`, value: "max", field: "linux.resources.memory.limit" },
      { file: `${mp}/berth/c1/memory.swap.max`, value: "max", field: "linux.resources.memory.swap" },
      { file: `${mp}/berth/c1/cpu.max`, value: "max 20000", field: "linux.resources.cpu.quota" },
    ]);
  });

  test("update of only the period keeps the quota; only the quota keeps the period", () => {
    const { layout, mp } = setup();
    const cg = createCgroup(layout, "c1", { resources: { cpu: { quota: 20000, period: 50000 } } });
    applyResources(layout, cg, { cpu: { period: 100000 } });
    expect(read(`${mp}/berth/c1/cpu.max`)).toBe("20000 100000");
    applyResources(layout, cg, { cpu: { quota: 30000 } });
    expect(read(`${mp}/berth/c1/cpu.max`)).toBe("30000 100000");
  });

  test("v2 specifics: warnings for devices, swappiness, OOM killer; errors for realtime and swap without limit", () => {
    const { layout } = setup();
    const cg = createCgroup(layout, "c1", {
      resources: { devices: [{ allow: false, access: "rwm" }], memory: { swappiness: 0, disableOOMKiller: true } },
    });
    expect(cg.warnings.length).toBe(3);
    expect(cg.warnings[0]).toContain("NOT enforced");
    expect(cg.warnings[0]).toContain("linux.resources.devices");
    const rt = berthErr(() => createCgroup(layout, "c2", { resources: { cpu: { realtimeRuntime: 1000 } } }));
    expect(rt.field).toBe("linux.resources.cpu.realtimeRuntime");
    const sw = berthErr(() => createCgroup(layout, "c3", { resources: { memory: { swap: 1000 } } }));
    expect(sw.field).toBe("linux.resources.memory.swap");
  });

  test("checkBeforeUpdate refuses a limit below current usage", () => {
    const { layout, fake, mp } = setup();
    const cg = createCgroup(layout, "c1", { resources: { memory: { limit: 100 << 20 } } });
    fake.setCounter(`${mp}/berth/c1/memory.current`, String(60 << 20));
    const e = berthErr(() => applyResources(layout, cg, { memory: { limit: 50 << 20, checkBeforeUpdate: true } }));
    expect(e.field).toBe("linux.resources.memory.limit");
    applyResources(layout, cg, { memory: { limit: 50 << 20 } }); // without the flag the kernel decides
    expect(read(`${mp}/berth/c1/memory.max`)).toBe(String(50 << 20));
  });

  test("a controller missing from cgroup.controllers: clear error; unknown unified key too", () => {
    const { layout, fake, mp } = setup({}, ["cpu", "memory"]);
    const e = berthErr(() => createCgroup(layout, "c1", { resources: { pids: { limit: 5 } } }));
    expect(e.field).toBe("linux.resources.pids.limit");
    expect(e.hint).toContain("subtree_control");
    const u = berthErr(() => createCgroup(layout, "c1", { resources: { unified: { "pids.max": "5" } } }));
    expect(u.describe()).toContain("available: ");
    const bad = berthErr(() => createCgroup(layout, "c1", { resources: { unified: { "../x": "1" } } }));
    expect(bad.field).toBe('linux.resources.unified["../x"]');
    expect(fake.subdirs(mp)).toEqual([]);
  });

  test("an ancestor with processes can't delegate controllers: warning, then a precise error if needed", () => {
    const { layout, fake, mp } = setup();
    fake.mkdir(`${mp}/busy`);
    fake.addProc(`${mp}/busy`, 99);
    const cg = createCgroup(layout, "c1", { cgroupsPath: "/busy/c1" });
    expect(cg.warnings.some((w) => w.includes("EBUSY") && w.includes(`${mp}/busy/cgroup.subtree_control`))).toBe(true);
    const e = berthErr(() => applyResources(layout, cg, { pids: { limit: 5 } }));
    expect(e.describe()).toContain("pids cgroup controller is not available");
  });

  test("cleanup on failure", () => {
    const { layout, fake, mp } = setup({ failWrite: (p) => (p.endsWith("memory.max") ? "EINVAL" : undefined) });
    const e = berthErr(() => createCgroup(layout, "c1", { cgroupsPath: "/x/y/c1", resources: { memory: { limit: 5 } } }));
    expect(e.describe()).toBe(
      `cgroups: write 5 to ${mp}/x/y/c1/memory.max: EINVAL [field linux.resources.memory.limit] — likely cause: the kernel rejected the value as out of range or malformed for this file`,
    );
    expect(fake.subdirs(mp)).toEqual([]);
  });
});

describe("destroy, freeze, pids, stats (v2)", () => {
  test("destroy removes the leaf, nested cgroups and created parents; idempotent", () => {
    const { layout, fake, mp } = setup();
    const cg = createCgroup(layout, "c1", {});
    fake.mkdir(`${mp}/berth/c1/init.scope`);
    destroyCgroup(layout, cg);
    expect(existsSync(`${mp}/berth`)).toBe(false);
    destroyCgroup(layout, cg);
  });

  test("cgroup.freeze and cgroup.events", () => {
    const { layout, mp } = setup();
    const cg = createCgroup(layout, "c1", {});
    freeze(layout, cg, true);
    expect(read(`${mp}/berth/c1/cgroup.freeze`)).toBe("1");
    expect(isFrozen(layout, cg)).toBe(true);
    freeze(layout, cg, false);
    expect(read(`${mp}/berth/c1/cgroup.events`)).toContain("frozen 0");
    expect(isFrozen(layout, cg)).toBe(false);
  });

  test("a freeze that never completes times out and thaws", () => {
    const { layout, mp } = setup({ stuckFreeze: true });
    const cg = createCgroup(layout, "c1", {});
    expect(berthErr(() => freeze(layout, cg, true, { timeoutMs: 50 })).hint).toContain("uninterruptible");
    expect(read(`${mp}/berth/c1/cgroup.freeze`)).toBe("0");
  });

  test("listPids and readStats", () => {
    const { layout, fake, mp } = setup();
    const cg = createCgroup(layout, "c1", { resources: { memory: { limit: 1 << 20 }, pids: { limit: 7 } } });
    const d = `${mp}/berth/c1`;
    fake.addProc(d, 5);
    fake.mkdir(`${d}/sub`);
    fake.addProc(`${d}/sub`, 3);
    expect(listPids(layout, cg)).toEqual([3, 5]);
    fake.setCounter(`${d}/memory.current`, "4096");
    fake.setCounter(`${d}/cpu.stat`, "usage_usec 12\nuser_usec 10\nsystem_usec 2\nnr_throttled 1\nthrottled_usec 3\n");
    fake.setCounter(`${d}/pids.current`, "2");
    const s = readStats(layout, cg);
    expect(s.memory).toMatchObject({ usage: 4096, limit: 1 << 20, swapUsage: 0, swapLimit: null });
    expect(s.cpu).toEqual({ usageNs: 12000, userNs: 10000, systemNs: 2000, throttledPeriods: 1, throttledTimeNs: 3000 });
    expect(s.pids).toEqual({ current: 2, limit: 7 });
  });
});
