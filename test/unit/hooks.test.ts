// runHooks: which hook kinds go on after a failure (poststart/poststop, as the spec says), and
// timeouts beyond setTimeout's 32-bit range.
import { describe, expect, test, afterAll } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import { runHooks, type HookKind } from "../../src/runtime/container/hooks.ts";
import { BerthError } from "../../src/runtime/errors.ts";
import type { Hook } from "../../src/runtime/spec/types.ts";

const dir = fs.mkdtempSync(`${os.tmpdir()}/berth-hooks-`);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const state = { ociVersion: "1.2.0", id: "hooks-errors", status: "running", pid: 1, bundle: dir };

let n = 0;
function setup(): { log: string; hooks: Hook[] } {
  const log = `${dir}/log${++n}`;
  const sh = (script: string, timeout?: number): Hook => ({ path: "/bin/sh", args: ["sh", "-c", script], ...(timeout ? { timeout } : {}) });
  return { log, hooks: [sh(`echo one >> ${log}`), sh("exit 3"), sh(`echo three >> ${log}`), sh("kill -9 $$"), sh(`echo five >> ${log}`)] };
}
const ran = (log: string) => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : []);

describe("runHooks", () => {
  for (const kind of ["poststart", "poststop"] as HookKind[]) {
    test(`${kind}: a failing hook is reported and the rest still run`, async () => {
      const { log, hooks } = setup();
      const failures: string[] = [];
      await runHooks(kind, hooks, state, (e) => failures.push((e as BerthError).describe()));
      expect(ran(log)).toEqual(["one", "three", "five"]);
      expect(failures).toHaveLength(2);
      expect(failures[0]).toContain(`[field hooks.${kind}[1]]`);
      expect(failures[0]).toContain("exited with status 3");
      expect(failures[1]).toContain(`[field hooks.${kind}[3]]`);
      expect(failures[1]).toContain("SIGKILL");
    });

    test(`${kind} without a failure callback still runs all, then throws the first failure`, async () => {
      const { log, hooks } = setup();
      const err = await runHooks(kind, hooks, state).then(() => undefined, (e) => e);
      expect(ran(log)).toEqual(["one", "three", "five"]);
      expect((err as BerthError).field).toBe(`hooks.${kind}[1]`);
    });
  }

  for (const kind of ["prestart", "createRuntime"] as HookKind[]) {
    test(`${kind}: the first failure aborts`, async () => {
      const { log, hooks } = setup();
      const failures: unknown[] = [];
      const err = await runHooks(kind, hooks, state, (e) => failures.push(e)).then(() => undefined, (e) => e);
      expect(ran(log)).toEqual(["one"]);
      expect(failures).toEqual([]);
      expect((err as BerthError).field).toBe(`hooks.${kind}[1]`);
    });
  }

  test("a timeout too long for a timer (>= 2147484 s) does not kill the hook at once", async () => {
    const log = `${dir}/long`;
    await runHooks("prestart", [{ path: "/bin/sh", args: ["sh", "-c", `sleep 0.3; echo done > ${log}`], timeout: 2147484 }], state);
    expect(ran(log)).toEqual(["done"]);
    await runHooks("prestart", [{ path: "/bin/sh", args: ["sh", "-c", `echo max > ${log}`], timeout: 2 ** 62 }], state);
    expect(ran(log)).toEqual(["max"]);
  });

  test("a short timeout still kills", async () => {
    const err = await runHooks("prestart", [{ path: "/bin/sh", args: ["sh", "-c", "sleep 5"], timeout: 1 }], state).then(() => undefined, (e) => e);
    expect((err as BerthError).describe()).toContain("timed out after 1s");
  });
});
