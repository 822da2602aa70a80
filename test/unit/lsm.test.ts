// checkLsm: a requested AppArmor profile or SELinux label is refused, with the reason, on hosts
// with and without the LSM (berth applies neither), and nothing is refused when none is asked for.
import { describe, expect, test } from "bun:test";
import { checkLsm } from "../../src/runtime/container/lsm.ts";
import { BerthError } from "../../src/runtime/errors.ts";

function refusal(f: () => void): BerthError {
  try {
    f();
  } catch (e) {
    if (e instanceof BerthError) return e;
    throw e;
  }
  throw new Error("not refused");
}

const none = { apparmor: false, selinux: false };
const both = { apparmor: true, selinux: true };

describe("checkLsm", () => {
  test("nothing requested: accepted on any host", () => {
    expect(() => checkLsm({ args: ["true"], cwd: "/", apparmorProfile: "", selinuxLabel: "" } as never, {}, "process", none)).not.toThrow();
    expect(() => checkLsm(undefined, undefined, "process", both)).not.toThrow();
  });

  test("AppArmor profile: why depends on the host", () => {
    const p = { args: ["true"], cwd: "/", apparmorProfile: "docker-default" } as never;
    const off = refusal(() => checkLsm(p, {}, "process", none));
    expect(off.field).toBe("process.apparmorProfile");
    expect(off.describe()).toContain("AppArmor is not enabled on this host");
    const on = refusal(() => checkLsm(p, {}, "process", both));
    expect(on.describe()).toContain("cannot apply AppArmor profiles yet");
  });

  test("SELinux process and mount labels", () => {
    const p = { args: ["true"], cwd: "/", selinuxLabel: "a\nb" } as never;
    const off = refusal(() => checkLsm(p, {}, "process", none));
    expect(off.field).toBe("process.selinuxLabel");
    expect(off.describe()).toContain('"a\\nb"');
    expect(off.describe()).not.toContain("\n");
    const m = refusal(() => checkLsm(undefined, { mountLabel: "x" }, "process", both));
    expect(m.field).toBe("linux.mountLabel");
    expect(m.describe()).toContain("cannot apply SELinux labels yet");
  });
});
