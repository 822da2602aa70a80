// A container whose cgroupsPath names a cgroup that already exists joins it: berth records that,
// and never writes limits onto it, freezes it, lists its foreign processes as the container's,
// or removes it (issue 6, part 1). Against the fake cgroup tree.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { BerthError } from "../../src/runtime/errors";
import {
  applyOwnedResources, candidatePids, createCgroup, destroyCgroup, detectLayout, freeze, joinedDirs, type CgroupLayout,
} from "../../src/runtime/cgroups";
import { FakeCgroupFs, type FakeHierarchy } from "../../src/runtime/cgroups/fakefs";

let root: string;
beforeEach(() => {
  root = mkdtempSync(`${existsSync("/dev/shm") ? "/dev/shm" : tmpdir()}/berth-cg-joined-`);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function setup(mode: "v1" | "v2"): { layout: CgroupLayout; fake: FakeCgroupFs; m: (ctrl: string) => string } {
  const hs: FakeHierarchy[] =
    mode === "v1"
      ? [
          { mountpoint: `${root}/memory`, version: 1, controllers: ["memory"] },
          { mountpoint: `${root}/devices`, version: 1, controllers: ["devices"] },
          { mountpoint: `${root}/freezer`, version: 1, controllers: ["freezer"] },
          { mountpoint: `${root}/pids`, version: 1, controllers: ["pids"] },
        ]
      : [{ mountpoint: `${root}/unified`, version: 2, controllers: ["memory", "pids", "cpu"] }];
  const fake = new FakeCgroupFs(hs, {});
  const layout = detectLayout(fake.mountinfo());
  layout.fs = fake;
  layout.procSelfCgroup = "0::/\n";
  return { layout, fake, m: (c) => `${root}/${mode === "v1" ? c : "unified"}` };
}

/** A host "service": /svcparent/svc with a process, and an empty /svcparent/empty. */
function hostService(fake: FakeCgroupFs, mounts: string[]): void {
  for (const mp of mounts) {
    for (const d of ["svcparent", "svcparent/svc", "svcparent/empty"]) fake.mkdir(`${mp}/${d}`);
    fake.addProc(`${mp}/svcparent/svc`, 777);
  }
}

function err(fn: () => unknown): BerthError {
  try {
    fn();
  } catch (e) {
    if (e instanceof BerthError) return e;
    throw e;
  }
  throw new Error("expected a BerthError");
}

for (const mode of ["v1", "v2"] as const) {
  describe(`joined cgroup (${mode})`, () => {
    const mounts = (m: (c: string) => string) => (mode === "v1" ? ["memory", "devices", "freezer", "pids"].map(m) : [m("")]);

    test("is recorded as joined, with its existing children, and warns about its processes", () => {
      const { layout, fake, m } = setup(mode);
      hostService(fake, mounts(m));
      const cg = createCgroup(layout, "c1", { cgroupsPath: "/svcparent" });
      expect(cg.created).toEqual([]);
      expect(joinedDirs(cg).sort()).toEqual(mounts(m).map((d) => `${d}/svcparent`).sort());
      for (const h of cg.hierarchies) expect(h.foreignChildren?.sort()).toEqual(["empty", "svc"]);
      expect(cg.warnings.join("\n")).toContain("has processes");
    });

    test("a limit that would land on it is refused, naming the field, and nothing is written", () => {
      const { layout, fake, m } = setup(mode);
      hostService(fake, mounts(m));
      fake.writes.length = 0;
      const e = err(() => createCgroup(layout, "c1", { cgroupsPath: "/svcparent", resources: { pids: { limit: 10 } } }));
      expect(e.field).toStartWith("linux.resources.pids");
      expect(e.message).toContain("joined");
      expect(fake.writes.filter((w) => w.path.includes("/svcparent/"))).toEqual([]);
    });

    test("device rules are skipped there with a warning, not written", () => {
      const { layout, fake, m } = setup(mode);
      hostService(fake, mounts(m));
      fake.writes.length = 0;
      const cg = createCgroup(layout, "c1", { cgroupsPath: "/svcparent", resources: { devices: [{ allow: false, access: "rwm" }] } });
      expect(fake.writes.filter((w) => w.path.includes("/svcparent/"))).toEqual([]);
      if (mode === "v1") expect(cg.warnings.join("\n")).toContain("NOT enforced");
    });

    test("update-style apply refuses too", () => {
      const { layout, fake, m } = setup(mode);
      hostService(fake, mounts(m));
      const cg = createCgroup(layout, "c1", { cgroupsPath: "/svcparent" });
      fake.writes.length = 0;
      const e = err(() => applyOwnedResources(layout, cg, { memory: { limit: 1 << 20 } }, "resources"));
      expect(e.field).toStartWith("resources.memory");
      expect(e.message).toContain("joined");
      expect(fake.writes).toEqual([]);
    });

    test("freeze and thaw are refused", () => {
      const { layout, fake, m } = setup(mode);
      hostService(fake, mounts(m));
      const cg = createCgroup(layout, "c1", { cgroupsPath: "/svcparent" });
      fake.writes.length = 0;
      expect(err(() => freeze(layout, cg, true)).message).toContain("joined");
      expect(err(() => freeze(layout, cg, false)).message).toContain("joined");
      expect(fake.writes).toEqual([]);
    });

    test("destroy removes nothing of the host's", () => {
      const { layout, fake, m } = setup(mode);
      hostService(fake, mounts(m));
      const cg = createCgroup(layout, "c1", { cgroupsPath: "/svcparent" });
      fake.mkdir(`${cg.dirs[0]}/later`); // a child made after the container joined
      destroyCgroup(layout, cg);
      for (const d of mounts(m)) {
        expect(existsSync(`${d}/svcparent/svc`)).toBe(true);
        expect(existsSync(`${d}/svcparent/empty`)).toBe(true);
      }
      expect(existsSync(`${cg.dirs[0]}/later`)).toBe(true);
    });

    test("candidate pids: the host's children are never candidates; new children and direct members are 'joined'", () => {
      const { layout, fake, m } = setup(mode);
      hostService(fake, mounts(m));
      const cg = createCgroup(layout, "c1", { cgroupsPath: "/svcparent" });
      const d = cg.dirs[0]!;
      fake.mkdir(`${d}/later`);
      fake.addProc(`${d}/later`, 901);
      fake.addProc(d, 900);
      fake.addProc(d, 0); // a task outside our pid namespace
      const c = candidatePids(layout, cg);
      expect(c.owned).toEqual([]);
      expect(c.joined).toEqual([900, 901]);
    });

    test("a pre-existing frozen cgroup is refused", () => {
      const { layout, fake, m } = setup(mode);
      hostService(fake, mounts(m));
      const probe = createCgroup(layout, "c0", { cgroupsPath: "/svcparent/svc/x" });
      destroyCgroup(layout, probe);
      const dir = mode === "v1" ? `${m("freezer")}/svcparent` : `${m("")}/svcparent`;
      if (mode === "v1") fake.write(`${dir}/freezer.state`, "FROZEN");
      else fake.write(`${dir}/cgroup.freeze`, "1");
      const e = err(() => createCgroup(layout, "c1", { cgroupsPath: "/svcparent" }));
      expect(e.message).toContain("frozen");
      expect(e.field).toBe("linux.cgroupsPath");
    });

    test("a new cgroup below the host's is owned: limits apply, destroy removes only it", () => {
      const { layout, fake, m } = setup(mode);
      hostService(fake, mounts(m));
      const cg = createCgroup(layout, "c1", { cgroupsPath: "/svcparent/ctr", resources: { pids: { limit: 10 } } });
      expect(joinedDirs(cg)).toEqual([]);
      destroyCgroup(layout, cg);
      for (const d of cg.dirs) expect(existsSync(d)).toBe(false);
      for (const d of mounts(m)) expect(existsSync(`${d}/svcparent/empty`)).toBe(true);
    });
  });
}
