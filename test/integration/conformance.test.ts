// Configs runc 1.1.5 runs that berth refused or ran differently: shared rootfs propagation,
// no mount namespace of the container's own, a uts namespace joined by path, and a config
// edited between create and start. Host-facing ones run inside a private mount namespace.
import { describe, expect, test, afterAll } from "bun:test";
import fs from "node:fs";
import { BERTH, berth, CAN_RUN, leftoverState, makeBundle, STATE_ROOT, uniqueId } from "../helpers/bundle.ts";
import type { Spec } from "../../src/runtime/spec/types.ts";

const it = CAN_RUN ? test : test.skip;
afterAll(() => expect(leftoverState()).toEqual([]));

const withSysAdmin = (s: Spec) => {
  for (const k of ["bounding", "effective", "permitted"] as const) s.process!.capabilities![k]!.push("CAP_SYS_ADMIN");
};

/** Runs a shell script in a new mount namespace whose mounts are shared, as on systemd hosts. */
function inSharedMountNs(script: string) {
  const r = Bun.spawnSync(["unshare", "--mount", "--propagation", "shared", "--", "sh", "-c", script], {
    stdout: "pipe", stderr: "pipe", env: { ...process.env, BERTH, ROOT: STATE_ROOT },
  });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

describe("rootfsPropagation shared / rshared", () => {
  for (const prop of ["shared", "rshared"]) {
    it(`${prop}: runs, the root is shared inside, and nothing the container mounts reaches the host`, () => {
      const tag = `berthprop${prop}${process.pid}`;
      const b = makeBundle(["sh", "-c", `mount -t tmpfs ${tag} /tmp && awk '$5=="/"' /proc/self/mountinfo`], (s) => {
        s.linux!.rootfsPropagation = prop;
        s.root!.readonly = false;
        withSysAdmin(s);
      });
      try {
        const r = inSharedMountNs(`"$BERTH" --root "$ROOT" run --bundle ${b.dir} ${uniqueId("prop")}; echo "rc=$?"; echo ---; cat /proc/self/mountinfo`);
        const [inside, outside] = r.stdout.split("---\n");
        expect(r.stderr).toBe("");
        expect(inside).toContain("rc=0");
        expect(inside).toMatch(/ \/ \S+ shared:\d+/);
        expect(outside).not.toContain(tag);
      } finally {
        b.cleanup();
      }
    });
  }
});
