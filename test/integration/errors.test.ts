// Bad input and hostile hosts end in one short error line naming the field, and nothing left
// behind: absurd nesting, huge values, control characters, a full --root, confinement (AppArmor,
// SELinux, net_cls/net_prio) the host cannot give; and poststart/poststop hooks go on after a failure.
import { describe, expect, test, afterAll } from "bun:test";
import fs from "node:fs";
import { berth, CAN_RUN, leftoverState, makeBundle, uniqueId, type Result } from "../helpers/bundle.ts";
import { hostLsm } from "../../src/runtime/container/lsm.ts";

const it = CAN_RUN ? test : test.skip;

afterAll(() => {
  expect(leftoverState()).toEqual([]);
});

/** The one error line (warnings aside), checked for the things every error line must be. */
function oneErrorLine(r: Result): string {
  expect(r.code).not.toBe(0);
  const lines = r.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("berth: warning:"));
  expect(lines).toHaveLength(1);
  const line = lines[0]!;
  expect(line.startsWith("berth: ")).toBe(true);
  expect(line.length).toBeLessThan(1100);
  expect(line).not.toMatch(/RangeError|TypeError|internal error|^\s+at /);
  return line;
}

function runBad(edit: (s: Record<string, any>) => void, text?: (json: string) => string): string {
  const b = makeBundle(["true"]);
  try {
    edit(b.spec as Record<string, any>);
    const json = JSON.stringify(b.spec);
    fs.writeFileSync(`${b.dir}/config.json`, text ? text(json) : json);
    return oneErrorLine(berth(["run", "--bundle", b.dir, uniqueId("errors")]));
  } finally {
    b.cleanup();
  }
}

describe("one short line, always", () => {
  it("100,000 nested arrays: refused with the place, not a RangeError", () => {
    const line = runBad(() => {}, (j) => j.slice(0, -1) + ',"deep":' + "[".repeat(100_000) + "]".repeat(100_000) + "}");
    expect(line).toContain("more than 1000 levels deep");
    expect(line).toContain("[field deep[0][0]");
  });

  it("a newline or escape character in a value is printed escaped", () => {
    const line = runBad((s) => (s.process.args = ["no\nsuch\u001b[31m"]));
    expect(line).toContain("no\\nsuch\\u001b[31m");
  });

  it("a huge value is clipped, not quoted whole", () => {
    for (const edit of [
      (s: Record<string, any>) => (s.process.rlimits = [{ type: "R".repeat(600_000), hard: 1, soft: 1 }]),
      (s: Record<string, any>) => (s.process.cwd = "relative" + "x".repeat(600_000)),
      (s: Record<string, any>) => (s.linux.sysctl = { ["k".repeat(600_000)]: "1" }),
      (s: Record<string, any>) => (s.mounts.push({ destination: "/" + "d/".repeat(300_000), type: "tmpfs", source: "x" })),
    ]) {
      const line = runBad(edit);
      expect(line).toContain("…");
    }
  });

  it("a full --root: one line naming the state write (tiny tmpfs in a private mount namespace)", () => {
    const b = makeBundle(["true"]);
    const mnt = `${b.dir}/full`;
    fs.mkdirSync(mnt);
    try {
      const script = `mount -t tmpfs -o size=16k tmpfs ${mnt} && mkdir ${mnt}/root && (dd if=/dev/zero of=${mnt}/fill bs=1k count=64 2>/dev/null; true) &&
        "$0" --root ${mnt}/root run --bundle ${b.dir} ${uniqueId("errors-full")}; echo "rc=$?" >&2; ls -A ${mnt}/root >&2`;
      const r = Bun.spawnSync(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, `${import.meta.dir}/../../bin/berth`], { stderr: "pipe", stdout: "pipe" });
      const lines = r.stderr.toString().split("\n").filter((l) => l !== "");
      expect(lines[lines.length - 1]).toBe("rc=1"); // and `ls` of the root printed nothing: no state left
      const errors = lines.slice(0, -1);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain("no space left on device");
    } finally {
      b.cleanup();
    }
  });
});

describe("confinement the host cannot give is refused", () => {
  const lsm = hostLsm();
  const noNetCls = !fs.existsSync("/sys/fs/cgroup/net_cls") && !fs.existsSync("/sys/fs/cgroup/net_cls,net_prio");
  (CAN_RUN && noNetCls ? test : test.skip)("linux.resources.network without net_cls/net_prio", () => {
    let line = runBad((s) => (s.linux.resources = { network: { classID: 1048577 } }));
    expect(line).toContain("[field linux.resources.network.classID]");
    expect(line).toContain("net_cls cgroup controller is not mounted");
    line = runBad((s) => (s.linux.resources = { network: { priorities: [{ name: "eth0", priority: 5 }] } }));
    expect(line).toContain("[field linux.resources.network.priorities]");
  });

  (CAN_RUN && !lsm.apparmor ? test : test.skip)("an AppArmor profile on a host without AppArmor", () => {
    const line = runBad((s) => (s.process.apparmorProfile = "docker-default"));
    expect(line).toContain("[field process.apparmorProfile]");
    expect(line).toContain("AppArmor is not enabled on this host");
  });

  (CAN_RUN && !lsm.selinux ? test : test.skip)("an SELinux label on a host without SELinux", () => {
    let line = runBad((s) => (s.process.selinuxLabel = "system_u:system_r:container_t:s0"));
    expect(line).toContain("[field process.selinuxLabel]");
    expect(line).toContain("SELinux is not enabled on this host");
    line = runBad((s) => (s.linux.mountLabel = "system_u:object_r:container_file_t:s0"));
    expect(line).toContain("[field linux.mountLabel]");
  });
});

describe("hooks", () => {
  it("after a failing poststart or poststop hook the rest still run, with a warning each", () => {
    const b = makeBundle(["true"]);
    const log = `${b.dir}/hooks.log`;
    const sh = (script: string) => ({ path: "/bin/sh", args: ["sh", "-c", script] });
    try {
      b.spec.hooks = {
        poststart: [sh("exit 7"), sh(`echo poststart >> ${log}`)],
        poststop: [sh("exit 8"), sh(`echo poststop >> ${log}`)],
      };
      b.write();
      const r = berth(["run", "--bundle", b.dir, uniqueId("errors-hooks")]);
      expect(r.code).toBe(0);
      expect(fs.readFileSync(log, "utf8")).toBe("poststart\npoststop\n");
      const warnings = r.stderr.split("\n").filter((l) => l.startsWith("berth: warning:"));
      expect(warnings.some((w) => w.includes("[field hooks.poststart[0]]") && w.includes("status 7"))).toBe(true);
      expect(warnings.some((w) => w.includes("[field hooks.poststop[0]]") && w.includes("status 8"))).toBe(true);
    } finally {
      b.cleanup();
    }
  });

  it("create, start, delete: poststart and poststop go on after a failure too", () => {
    const b = makeBundle(["true"]);
    const log = `${b.dir}/hooks.log`;
    const sh = (script: string) => ({ path: "/bin/sh", args: ["sh", "-c", script] });
    const id = uniqueId("errors-hooks");
    try {
      b.spec.hooks = {
        poststart: [sh("exit 7"), sh(`echo poststart >> ${log}`)],
        poststop: [sh("exit 8"), sh(`echo poststop >> ${log}`)],
      };
      b.write();
      expect(berth(["create", "--bundle", b.dir, id], { detached: true }).code).toBe(0);
      const start = berth(["start", id], { detached: true });
      expect(start.code).toBe(0);
      expect(start.stderr).toContain("[field hooks.poststart[0]]");
      for (let i = 0; i < 200 && !berth(["state", id]).stdout.includes('"stopped"'); i++) Bun.sleepSync(10);
      const del = berth(["delete", id]);
      expect(del.code).toBe(0);
      expect(del.stderr).toContain("[field hooks.poststop[0]]");
      expect(fs.readFileSync(log, "utf8")).toBe("poststart\npoststop\n");
    } finally {
      berth(["delete", "--force", id]);
      b.cleanup();
    }
  });

  it("a hook timeout beyond the timer's range (2147484 s) does not kill the hook", () => {
    const b = makeBundle(["true"]);
    const log = `${b.dir}/hooks.log`;
    try {
      b.spec.hooks = { prestart: [{ path: "/bin/sh", args: ["sh", "-c", `sleep 0.2; echo ok > ${log}`], timeout: 2147484 }] };
      b.write();
      const r = berth(["run", "--bundle", b.dir, uniqueId("errors-hooks")]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(fs.readFileSync(log, "utf8")).toBe("ok\n");
    } finally {
      b.cleanup();
    }
  });
});
