import { describe, expect, test } from "bun:test";
import { BerthError } from "../../src/runtime/errors";
import {
  detectLayout,
  expandSlice,
  parseProcCgroup,
  pathInHierarchy,
  planHierarchies,
  resolveCgroupPath,
  v1Hierarchies,
} from "../../src/runtime/cgroups";

// Real-world mountinfo excerpts.
const V2 = `22 28 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
26 25 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:8 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot`;

const V1 = `24 18 0:19 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
25 24 0:20 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
27 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpuacct,cpu
28 24 0:23 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,net_prio,net_cls
29 24 0:24 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
30 24 0:25 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,cpuset,clone_children
31 24 0:26 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,pids
32 24 0:27 / /sys/fs/cgroup/elogind rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,name=elogind`;

// This machine's layout (Debian 12 CI): each controller separately + empty cgroup2 at unified.
const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;

function berthErr(fn: () => unknown): BerthError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BerthError);
    return e as BerthError;
  }
  throw new Error("expected a BerthError");
}

describe("detectLayout", () => {
  test("pure v2", () => {
    const l = detectLayout(V2);
    expect(l.mode).toBe("v2");
    expect(l.unified).toBe("/sys/fs/cgroup");
    expect(l.v1).toEqual({});
    expect(l.roots).toBeUndefined();
  });

  test("pure v1 with co-mounted controllers; other named hierarchies ignored", () => {
    const l = detectLayout(V1);
    expect(l.mode).toBe("v1");
    expect(l.unified).toBeUndefined();
    expect(l.v1).toEqual({
      "name=systemd": "/sys/fs/cgroup/systemd",
      cpuacct: "/sys/fs/cgroup/cpu,cpuacct",
      cpu: "/sys/fs/cgroup/cpu,cpuacct",
      net_prio: "/sys/fs/cgroup/net_cls,net_prio",
      net_cls: "/sys/fs/cgroup/net_cls,net_prio",
      memory: "/sys/fs/cgroup/memory",
      cpuset: "/sys/fs/cgroup/cpuset",
      pids: "/sys/fs/cgroup/pids",
    });
    const hs = v1Hierarchies(l);
    expect(hs.map((h) => h.mountpoint)).toEqual([
      "/sys/fs/cgroup/systemd",
      "/sys/fs/cgroup/cpu,cpuacct",
      "/sys/fs/cgroup/net_cls,net_prio",
      "/sys/fs/cgroup/memory",
      "/sys/fs/cgroup/cpuset",
      "/sys/fs/cgroup/pids",
    ]);
    expect(hs[1]!.controllers.sort()).toEqual(["cpu", "cpuacct"]);
  });

  test("hybrid (this CI machine's layout)", () => {
    const l = detectLayout(HYBRID);
    expect(l.mode).toBe("hybrid");
    expect(l.unified).toBe("/sys/fs/cgroup/unified");
    expect(Object.keys(l.v1).sort()).toEqual(["blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "name=systemd", "pids"]);
  });

  test("the real host's mountinfo parses", () => {
    const l = detectLayout();
    expect(["v1", "v2", "hybrid"]).toContain(l.mode);
  });

  test("mount roots and escaped mountpoints (inside a container without cgroupns)", () => {
    const l = detectLayout(
      `50 40 0:32 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory
51 40 0:33 /docker/abc /my\\040cgroups/pids ro - cgroup cgroup rw,pids`,
    );
    expect(l.mode).toBe("v1");
    expect(l.v1.pids).toBe("/my cgroups/pids");
    expect(l.roots).toEqual({ "/sys/fs/cgroup/memory": "/docker/abc", "/my cgroups/pids": "/docker/abc" });
  });

  test("a controller mounted twice keeps the first mount", () => {
    const l = detectLayout(`1 0 0:1 / /a rw - cgroup cgroup rw,memory\n2 0 0:1 / /b rw - cgroup cgroup rw,memory`);
    expect(l.v1.memory).toBe("/a");
  });

  test("no cgroup mount at all is a clear error", () => {
    const e = berthErr(() => detectLayout("22 28 0:21 / /proc rw - proc proc rw"));
    expect(e.phase).toBe("cgroups");
    expect(e.describe()).toContain("no cgroup filesystem is mounted");
  });
});

describe("resolveCgroupPath", () => {
  test("default is /berth/<id>", () => {
    expect(resolveCgroupPath("abc", undefined)).toBe("/berth/abc");
    expect(resolveCgroupPath("abc", "")).toBe("/berth/abc");
  });

  test("absolute and relative paths are normalised", () => {
    expect(resolveCgroupPath("x", "/a/b")).toBe("/a/b");
    expect(resolveCgroupPath("x", "/a//b/./c/../d/")).toBe("/a/b/d");
    expect(resolveCgroupPath("x", "a/b")).toBe("a/b");
    expect(resolveCgroupPath("x", "./a/../b")).toBe("b");
  });

  test('".." escaping, NUL and the root itself are rejected naming linux.cgroupsPath', () => {
    for (const bad of ["/../x", "/a/../../x", "../x", "a/../../x", "/a\0b", "/", "/a/..", "."]) {
      const e = berthErr(() => resolveCgroupPath("x", bad));
      expect(e.phase).toBe("cgroups");
      expect(e.field).toBe("linux.cgroupsPath");
    }
    expect(berthErr(() => resolveCgroupPath("x", "/../x")).describe()).toContain("escapes");
  });

  test("systemd slice:prefix:name form", () => {
    expect(resolveCgroupPath("x", "system.slice:docker:abc", true)).toBe("/system.slice/docker-abc.scope");
    expect(resolveCgroupPath("x", "machine-foo-bar.slice:p:n", true)).toBe("/machine.slice/machine-foo.slice/machine-foo-bar.slice/p-n.scope");
    expect(resolveCgroupPath("x", ":docker:abc", true)).toBe("/system.slice/docker-abc.scope");
    expect(resolveCgroupPath("x", "-.slice:docker:abc", true)).toBe("/docker-abc.scope");
    expect(resolveCgroupPath("x", "user.slice:p:my.slice", true)).toBe("/user.slice/my.slice");
    expect(resolveCgroupPath("ctr", undefined, true)).toBe("/system.slice/berth-ctr.scope");
  });

  test("invalid systemd forms", () => {
    for (const bad of ["/system.slice/x", "a:b", "a:b:c:d", "system:docker:abc", "a--b.slice:p:n", "-a.slice:p:n", "sys/tem.slice:p:n", "system.slice:p:"]) {
      const e = berthErr(() => resolveCgroupPath("x", bad, true));
      expect(e.field).toBe("linux.cgroupsPath");
    }
  });

  test("expandSlice", () => {
    expect(expandSlice("a-b-c.slice", "")).toBe("/a.slice/a-b.slice/a-b-c.slice");
    expect(expandSlice("-.slice", "")).toBe("/");
    expect(() => expandSlice(".slice", "")).toThrow();
  });

  test("bad container id for the default path", () => {
    expect(berthErr(() => resolveCgroupPath("a/b", undefined)).field).toBe("linux.cgroupsPath");
  });
});

describe("relative paths land below the caller's cgroup", () => {
  test("pathInHierarchy", () => {
    expect(pathInHierarchy("/abs", "/user.slice/s.scope", "/", false)).toBe("/abs");
    expect(pathInHierarchy("a/b", "/user.slice/s.scope", "/", false)).toBe("/user.slice/s.scope/a/b");
    expect(pathInHierarchy("a/b", "/user.slice/s.scope", "/", true)).toBe("/user.slice/a/b");
    expect(pathInHierarchy("a", "/", "/", true)).toBe("/a");
    expect(pathInHierarchy("a", "/docker/abc/x", "/docker/abc", false)).toBe("/x/a");
  });

  test("per hierarchy, using /proc/self/cgroup (v1 own cgroup, v2 its parent)", () => {
    const l = detectLayout(HYBRID);
    l.procSelfCgroup = "9:name=systemd:/user.slice/s.scope\n4:memory:/m/1\n1:cpu:/\n0::/user.slice/s.scope\n";
    const hs = planHierarchies(l, "c1");
    const byMp = Object.fromEntries(hs.map((h) => [h.mountpoint, h.dir]));
    expect(byMp["/sys/fs/cgroup/memory"]).toBe("/sys/fs/cgroup/memory/m/1/c1");
    expect(byMp["/sys/fs/cgroup/cpu"]).toBe("/sys/fs/cgroup/cpu/c1");
    expect(byMp["/sys/fs/cgroup/systemd"]).toBe("/sys/fs/cgroup/systemd/user.slice/s.scope/c1");
    // hybrid's unified hierarchy behaves like v1 (runc's fs driver): the caller's own cgroup
    expect(byMp["/sys/fs/cgroup/unified"]).toBe("/sys/fs/cgroup/unified/user.slice/s.scope/c1");

    const v2 = detectLayout(V2);
    v2.procSelfCgroup = "0::/user.slice/s.scope\n";
    expect(planHierarchies(v2, "c1").map((h) => h.dir)).toEqual(["/sys/fs/cgroup/user.slice/c1"]);
    expect(planHierarchies(v2, "/berth/c1").map((h) => h.dir)).toEqual(["/sys/fs/cgroup/berth/c1"]);
  });

  test("parseProcCgroup", () => {
    expect(parseProcCgroup("2:cpu,cpuacct:/a\n1:name=systemd:/b\n0::/c\n")).toEqual({ cpu: "/a", cpuacct: "/a", "name=systemd": "/b", "": "/c" });
  });
});
