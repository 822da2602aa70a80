import { describe, expect, test } from "bun:test";
import { cgroupMounts, detectLayout, MS, parseMountOptions, planHierarchies, type CgroupLayout, type ContainerCgroup } from "../../src/runtime/cgroups";

const OPTS = ["nosuid", "noexec", "nodev", "relatime", "ro"];
const SUB = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RELATIME;

function cgFor(layout: CgroupLayout, path = "/berth/c1"): ContainerCgroup {
  const hierarchies = planHierarchies(layout, path);
  const dirs = hierarchies.map((h) => h.dir);
  return { path, dirs, procsFiles: dirs.map((d) => `${d}/cgroup.procs`), hierarchies, created: [], warnings: [] };
}

const V2 = detectLayout("26 25 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate");
const V1 = detectLayout(`25 24 0:20 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
27 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
28 24 0:23 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory`);
const HYBRID = detectLayout(`32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw`);

describe("parseMountOptions", () => {
  test("flags, clearing flags, propagation, data", () => {
    expect(parseMountOptions(OPTS)).toEqual({ flags: SUB, propagation: undefined, data: "" });
    expect(parseMountOptions(["ro", "rw", "nosuid", "suid", "rslave", "mode=755", "size=1k"])).toEqual({
      flags: 0,
      propagation: MS.SLAVE | MS.REC,
      data: "mode=755,size=1k",
    });
  });
});

describe("cgroupMounts", () => {
  test("v2 with a cgroup namespace: one cgroup2 mount", () => {
    const plan = cgroupMounts(V2, cgFor(V2), { destination: "/sys/fs/cgroup", options: OPTS, cgroupns: true });
    expect(plan).toEqual({
      mounts: [{ source: "cgroup2", destination: "/sys/fs/cgroup", fstype: "cgroup2", flags: SUB, data: "", kind: "fs", mkdirType: "dir" }],
      symlinks: [],
      readonlyRemounts: [],
    });
  });

  test("v2 without a cgroup namespace: bind of the container's own cgroup directory", () => {
    const plan = cgroupMounts(V2, cgFor(V2), { destination: "/sys/fs/cgroup/", options: ["rprivate", ...OPTS], cgroupns: false });
    expect(plan.mounts).toEqual([
      {
        source: "/sys/fs/cgroup/berth/c1",
        destination: "/sys/fs/cgroup",
        fstype: "bind",
        flags: MS.BIND | MS.REC | SUB,
        data: "",
        kind: "bind",
        mkdirType: "dir",
        propagation: MS.PRIVATE | MS.REC,
      },
    ]);
  });

  test("v1 without cgroupns: tmpfs + bind per hierarchy, symlinks for co-mounted controllers, ro everywhere", () => {
    const plan = cgroupMounts(V1, cgFor(V1), { destination: "/sys/fs/cgroup", options: OPTS, cgroupns: false });
    expect(plan.mounts[0]).toEqual({
      source: "tmpfs",
      destination: "/sys/fs/cgroup",
      fstype: "tmpfs",
      flags: MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RELATIME,
      data: "mode=755",
      kind: "fs",
      mkdirType: "dir",
    });
    expect(plan.mounts.slice(1).map((m) => [m.source, m.destination, m.kind])).toEqual([
      ["/sys/fs/cgroup/systemd/berth/c1", "/sys/fs/cgroup/systemd", "bind"],
      ["/sys/fs/cgroup/cpu,cpuacct/berth/c1", "/sys/fs/cgroup/cpu,cpuacct", "bind"],
      ["/sys/fs/cgroup/memory/berth/c1", "/sys/fs/cgroup/memory", "bind"],
    ]);
    for (const m of plan.mounts.slice(1)) expect(m.flags).toBe(MS.BIND | MS.REC | SUB);
    expect(plan.symlinks).toEqual([
      { target: "cpu,cpuacct", path: "/sys/fs/cgroup/cpu" },
      { target: "cpu,cpuacct", path: "/sys/fs/cgroup/cpuacct" },
    ]);
    // the tmpfs stays read-write (as runc 1.1.5); its cgroup mounts carry "ro"
    expect(plan.readonlyRemounts).toEqual([]);
  });

  test("v1 with cgroupns: fresh cgroup mounts with the controller options", () => {
    const plan = cgroupMounts(V1, cgFor(V1), { destination: "/sys/fs/cgroup", options: OPTS, cgroupns: true });
    expect(plan.mounts.slice(1).map((m) => [m.source, m.destination, m.fstype, m.data, m.flags])).toEqual([
      ["systemd", "/sys/fs/cgroup/systemd", "cgroup", "none,name=systemd", SUB],
      ["cgroup", "/sys/fs/cgroup/cpu,cpuacct", "cgroup", "cpu,cpuacct", SUB],
      ["cgroup", "/sys/fs/cgroup/memory", "cgroup", "memory", SUB],
    ]);
  });

  test("hybrid: v1 hierarchies plus the unified one at <dest>/unified", () => {
    const rw = cgroupMounts(HYBRID, cgFor(HYBRID), { destination: "/sys/fs/cgroup", options: ["nosuid"], cgroupns: false });
    expect(rw.mounts.map((m) => m.destination)).toEqual([
      "/sys/fs/cgroup",
      "/sys/fs/cgroup/cpu",
      "/sys/fs/cgroup/memory",
      "/sys/fs/cgroup/systemd",
      "/sys/fs/cgroup/unified",
    ]);
    expect(rw.mounts.at(-1)).toMatchObject({ source: "/sys/fs/cgroup/unified/berth/c1", kind: "bind", flags: MS.BIND | MS.REC | MS.NOSUID });
    expect(rw.readonlyRemounts).toEqual([]);
    const ns = cgroupMounts(HYBRID, cgFor(HYBRID), { destination: "/sys/fs/cgroup", options: OPTS, cgroupns: true });
    expect(ns.mounts.at(-1)).toEqual({ source: "cgroup2", destination: "/sys/fs/cgroup/unified", fstype: "cgroup2", flags: SUB, data: "", kind: "fs", mkdirType: "dir" });
  });

  test("relative paths: each bind source is the container's dir in that hierarchy", () => {
    const l = { ...HYBRID, procSelfCgroup: "2:memory:/job/1\n0::/\n" };
    const plan = cgroupMounts(l, cgFor(l, "ctr"), { destination: "/sys/fs/cgroup", options: OPTS, cgroupns: false });
    expect(plan.mounts.find((m) => m.destination.endsWith("/memory"))?.source).toBe("/sys/fs/cgroup/memory/job/1/ctr");
    expect(plan.mounts.find((m) => m.destination.endsWith("/cpu"))?.source).toBe("/sys/fs/cgroup/cpu/ctr");
  });
});
