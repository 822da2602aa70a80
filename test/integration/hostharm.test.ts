// Issue 6, part 1: berth must never signal a process or remove a cgroup that is not its
// container's. A host "service" lives in <parent>/svc of every hierarchy, next to an empty host
// cgroup <parent>/empty; the container's cgroupsPath is <parent> (as /system.slice, /kubepods
// or /docker are). Each entry point runs inside a private pid namespace (scenario.ts), so a
// regression cannot hurt the machine; two sleeps from outside it (one in <parent>/svc, one
// directly in <parent>) appear there as pid 0 in cgroup.procs, which berth once turned into
// kill(0). After every case: both services and the in-namespace one alive, <parent>/empty still
// there, <parent>'s limits and freezer state unchanged, and no directory of <parent> left in a
// hierarchy the test did not make it in.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import { CAN_RUN, REPO, leftoverState, runIn } from "../helpers/bundle.ts";
import type { Spec } from "../../src/runtime/spec/types.ts";
import { detectLayout } from "../../src/runtime/cgroups/index.ts";

const BUN = `${REPO}/node_modules/@oven/bun-linux-x64/bin/bun`;
const parent = `hostharm${process.pid}.slice`;
const layout = CAN_RUN ? detectLayout() : undefined;
const mounts = layout
  ? [...new Set([...["pids", "freezer", "cpu", "memory"].map((c) => layout.v1[c]).filter((m): m is string => !!m), ...(layout.unified ? [layout.unified] : [])])]
  : [];
const dirs = mounts.map((m) => `${m}/${parent}`);
const outside: Bun.Subprocess[] = [];
const SNAP_FILES = ["pids.max", "freezer.state", "cpu.shares", "cpu.cfs_quota_us", "memory.limit_in_bytes", "memory.memsw.limit_in_bytes",
  "cgroup.subtree_control", "cgroup.freeze", "devices.list", "cgroup.max.descendants"];

function snapshot(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of dirs) {
    out[`${d}/`] = fs.readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort().join(",");
    for (const f of SNAP_FILES) if (fs.existsSync(`${d}/${f}`)) out[`${d}/${f}`] = fs.readFileSync(`${d}/${f}`, "utf8");
  }
  return out;
}
const alive = (p: Bun.Subprocess) => {
  try {
    const st = fs.readFileSync(`/proc/${p.pid}/stat`, "utf8");
    return !/^[ZX]/.test(st.slice(st.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
};
/** Directories named <parent> in hierarchies the test did not make it in: berth's, left behind. */
function strays(): string[] {
  const all = fs.readdirSync("/sys/fs/cgroup").map((h) => `/sys/fs/cgroup/${h}/${parent}`);
  return all.filter((d) => fs.existsSync(d) && !dirs.some((x) => fs.realpathSync(x) === fs.realpathSync(d)));
}

let before: Record<string, string> = {};
beforeAll(() => {
  if (!CAN_RUN) return;
  for (const d of dirs) for (const sub of ["", "/svc", "/empty"]) fs.mkdirSync(d + sub);
  for (const where of ["svc", ""]) {
    const p = Bun.spawn(["sleep", "900"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    outside.push(p);
    for (const d of dirs) fs.writeFileSync(`${d}${where && "/" + where}/cgroup.procs`, String(p.pid));
  }
  before = snapshot();
});

afterAll(async () => {
  // A failed "frozen" case may have left <parent>/empty frozen: thaw it (a write, not a signal).
  for (const d of dirs) {
    for (const [f, v] of [["freezer.state", "THAWED"], ["cgroup.freeze", "0"]]) {
      try {
        if (fs.existsSync(`${d}/empty/${f}`)) fs.writeFileSync(`${d}/empty/${f}`, v);
      } catch { /* not writable in this hierarchy */ }
    }
  }
  for (const p of outside) p.kill("SIGKILL"); // only the sleeps this file started
  await Promise.all(outside.map((p) => p.exited));
  for (const d of [...dirs, ...strays()]) {
    for (const sub of ["/svc", "/empty", ""]) {
      for (let i = 0; i < 100; i++) {
        try {
          fs.rmdirSync(d + sub);
          break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EBUSY") break;
          Bun.sleepSync(10);
        }
      }
    }
  }
});

interface Outcome {
  steps: { cmd: string; code: number; stderr: string }[];
  serviceAlive: boolean;
  leaked: number[];
  stateLeft: boolean;
}

function scenario(kase: string): Outcome {
  const r = Bun.spawnSync(
    ["setsid", "unshare", "--pid", "--fork", "--kill-child", "--mount", "--mount-proc", BUN, `${REPO}/test/integration/hostharm/scenario.ts`],
    {
      env: { ...process.env, NODE_ENV: "", HOSTHARM_PARENT: parent, HOSTHARM_DIRS: JSON.stringify(dirs), HOSTHARM_CASE: kase },
      stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 50_000,
    },
  );
  const line = r.stdout.toString().trim().split("\n").pop() ?? "";
  if (r.exitCode !== 0 || !line.startsWith("{")) throw new Error(`scenario ${kase} failed (${r.exitCode}): ${r.stderr.toString().slice(-2000)}`);
  if (process.env.HOSTHARM_SHOW) console.log(kase, line);
  return JSON.parse(line);
}

function expectHostUnharmed(o: Outcome): void {
  expect(o.serviceAlive).toBe(true);
  for (const p of outside) expect(alive(p)).toBe(true);
  expect(snapshot()).toEqual(before);
  expect(strays()).toEqual([]);
  expect(o.leaked).toEqual([]);
  expect(o.stateLeft).toBe(false);
}
const codes = (o: Outcome) => o.steps.map((s) => `${s.cmd}=${s.code}`);

const T = 60_000;
describe.skipIf(!CAN_RUN || dirs.length === 0)("a container in an existing host cgroup never harms the host", () => {
  for (const prefix of ["", "systemd-"]) {
    test(`${prefix}run of a short command`, () => {
      const o = scenario(`${prefix}run`);
      expect(codes(o)).toEqual(["run=0"]);
      expect(o.steps[0]!.stderr).toContain("already exists and has processes");
      expectHostUnharmed(o);
    }, T);
    test(`${prefix}kill --all, then delete`, () => {
      const o = scenario(`${prefix}kill-all`);
      expect(codes(o)).toEqual(["run=0", "kill=0", "delete=0"]);
      expectHostUnharmed(o);
    }, T);
  }
  test("delete of a stopped container", () => {
    const o = scenario("delete-stopped-exits");
    expect(codes(o)).toEqual(["run=0", "delete=0"]);
    expectHostUnharmed(o);
  }, T);
  test("delete --force of a running container", () => {
    const o = scenario("delete-force-running");
    expect(codes(o)).toEqual(["run=0", "delete=0"]);
    expectHostUnharmed(o);
  }, T);
  test("delete --force of a created container", () => {
    const o = scenario("delete-force-created");
    expect(codes(o)).toEqual(["create=0", "delete=0"]);
    expectHostUnharmed(o);
  }, T);
  test("pause, resume and update are refused, and the cgroup is left as it was", () => {
    const o = scenario("pause-update");
    expect(codes(o)).toEqual(["run=0", "pause=1", "resume=1", "update=1", "delete=0"]);
    expect(o.steps[1]!.stderr).toContain("joined");
    expect(o.steps[3]!.stderr).toContain("joined");
    expectHostUnharmed(o);
  }, T);
  test("a create that fails (createRuntime hook) undoes only its own", () => {
    const o = scenario("create-fail");
    expect(o.steps[0]!.code).not.toBe(0);
    expectHostUnharmed(o);
  }, T);
  test("a pre-existing frozen cgroup is refused, and nothing is created", () => {
    const o = scenario("frozen");
    expect(o.steps[0]!.code).not.toBe(0);
    expect(o.steps[0]!.stderr).toContain("frozen");
    expectHostUnharmed(o);
  }, T);
  test("without a pid namespace: kill --all kills the container's processes and only those", () => {
    const o = scenario("kill-all-no-pidns-fork");
    expect(codes(o)).toEqual(["run=0", "kill=0", "delete=0"]);
    expectHostUnharmed(o);
  }, T);
  test("without a pid namespace: delete --force kills the container's processes and only those", () => {
    const o = scenario("delete-force-no-pidns-fork");
    expect(codes(o)).toEqual(["run=0", "delete=0"]);
    expectHostUnharmed(o);
  }, T);
});

// Refused before anything runs. The values are the host's current ones, so even a regression
// that applied them would change nothing; the exit status and the message show it.
describe.skipIf(!CAN_RUN)("settings that would land in the caller's own namespaces are refused", () => {
  const self = (t: string) => `/proc/${process.pid}/ns/${t}`;
  const withNs = (s: Spec, type: string, path: string) => {
    s.linux!.namespaces = [...s.linux!.namespaces!.filter((n) => n.type !== type), { type, path } as never];
  };
  const cur = (k: string) => fs.readFileSync(`/proc/sys/${k.replace(/\./g, "/")}`, "utf8").trim();
  const cases: [string, (s: Spec) => void, string][] = [
    ["net sysctl in the host's network namespace", (s) => {
      withNs(s, "network", self("net"));
      s.linux!.sysctl = { "net.ipv4.ip_forward": cur("net.ipv4.ip_forward") };
    }, 'linux.sysctl["net.ipv4.ip_forward"]'],
    ["ipc sysctl in the host's IPC namespace", (s) => {
      withNs(s, "ipc", self("ipc"));
      s.linux!.sysctl = { "kernel.shm_rmid_forced": cur("kernel.shm_rmid_forced") };
    }, 'linux.sysctl["kernel.shm_rmid_forced"]'],
    ["hostname in the host's UTS namespace", (s) => {
      withNs(s, "uts", self("uts"));
      s.hostname = os.hostname();
    }, "hostname"],
    ["uid 4294967295", (s) => (s.process!.user.uid = 4294967295), "process.user.uid"],
  ];
  for (const [name, edit, field] of cases) {
    test(name, () => {
      const r = runIn(["true"], edit);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(field);
      expect(r.stderr.trim().split("\n").length).toBe(1);
      expect(leftoverState()).toEqual([]);
    });
  }
});
