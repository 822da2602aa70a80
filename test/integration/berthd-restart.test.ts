// Restart policies through the stock docker CLI: always, on-failure[:N], unless-stopped, the
// back-off, stop/kill/rm during a pending restart, and what a daemon restart brings back.
import { describe, expect, it } from "bun:test";
import { Berthd, berthdSkipReason, berthdForSuite } from "../helpers/berthd.ts";

const skip = berthdSkipReason();

/** Polls `docker inspect -f fmt` until `ok` holds (or the deadline), returning the last value. */
async function until(d: Berthd, name: string, fmt: string, ok: (v: string) => boolean, ms = 10_000): Promise<string> {
  const end = Date.now() + ms;
  let v = "";
  while (Date.now() < end) {
    v = (await d.docker(["inspect", "-f", fmt, name])).stdout.trim();
    if (ok(v)) return v;
    await Bun.sleep(100);
  }
  return v;
}

describe.skipIf(!!skip)("berthd restart policies", () => {
  const { d, docker } = berthdForSuite("restart");

  it("always: restarted after each exit, with a growing delay; stop ends it and start counts afresh", async () => {
    await docker("run", "-d", "--name", "alw", "--restart", "always", "busybox", "sh", "-c", "sleep 0.2; exit 1");
    expect(Number(await until(d, "alw", "{{.RestartCount}}", (v) => Number(v) >= 3))).toBeGreaterThanOrEqual(3);
    // between two runs: "restarting", with the exit code of the last one
    const seen = await until(d, "alw", "{{.State.Status}} {{.State.ExitCode}}", (v) => v === "restarting 1", 15_000);
    expect(seen).toBe("restarting 1");
    expect((await docker("ps", "--filter", "status=restarting", "--format", "{{.Names}} {{.Status}}")).stdout).toMatch(/^alw Restarting \(1\) /);
    expect((await docker("stop", "-t", "1", "alw")).code).toBe(0);
    const stopped = await until(d, "alw", "{{.State.Status}}", (v) => v === "exited");
    expect(stopped).toBe("exited");
    const count = (await docker("inspect", "-f", "{{.RestartCount}}", "alw")).stdout.trim();
    await Bun.sleep(1000);
    expect((await docker("inspect", "-f", "{{.State.Status}} {{.RestartCount}}", "alw")).stdout.trim()).toBe(`exited ${count}`);
    expect((await docker("start", "alw")).code).toBe(0);
    expect((await docker("inspect", "-f", "{{.RestartCount}}", "alw")).stdout.trim()).toBe("0");
    await docker("rm", "-f", "alw");
  });

  it("on-failure:N stops after N restarts; on-failure does nothing after a clean exit", async () => {
    await docker("run", "-d", "--name", "onf", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 3");
    expect(await until(d, "onf", "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}", (v) => v === "exited 3 2")).toBe("exited 3 2");
    await Bun.sleep(500);
    expect((await docker("inspect", "-f", "{{.RestartCount}}", "onf")).stdout.trim()).toBe("2");
    await docker("run", "-d", "--name", "clean", "--restart", "on-failure", "busybox", "true");
    await until(d, "clean", "{{.State.Status}}", (v) => v === "exited");
    await Bun.sleep(500);
    expect((await docker("inspect", "-f", "{{.State.Status}} {{.RestartCount}}", "clean")).stdout.trim()).toBe("exited 0");
    await docker("rm", "onf", "clean");
  });

  it("kill ends the policy too; rm -f of a container waiting to restart leaves nothing", async () => {
    await docker("run", "-d", "--name", "kil", "--restart", "always", "busybox", "sleep", "60");
    expect((await docker("kill", "kil")).code).toBe(0);
    expect(await until(d, "kil", "{{.State.Status}} {{.State.ExitCode}}", (v) => v.startsWith("exited"))).toBe("exited 137");
    await Bun.sleep(600);
    expect((await docker("inspect", "-f", "{{.State.Status}} {{.RestartCount}}", "kil")).stdout.trim()).toBe("exited 0");
    await docker("rm", "kil");
    await docker("run", "-d", "--name", "gone", "--restart", "always", "busybox", "sh", "-c", "exit 2");
    await until(d, "gone", "{{.RestartCount}}", (v) => Number(v) >= 2);
    expect((await docker("rm", "-f", "gone")).code).toBe(0);
    await Bun.sleep(1500); // a restart still pending would bring it back (it must not)
    expect((await docker("ps", "-aq")).stdout).toBe("");
  });

  it("refuses bad policies with dockerd's words", async () => {
    const create = (policy: unknown, extra: object = {}) =>
      d.api("POST", "/v1.45/containers/create", { Image: "busybox", Cmd: ["true"], HostConfig: { RestartPolicy: policy, ...extra } });
    expect((await create({ Name: "bogus" })).json.message).toBe("invalid restart policy: unknown policy 'bogus'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
    expect((await create({ Name: "always", MaximumRetryCount: 3 })).json.message).toBe("invalid restart policy: maximum retry count can only be used with 'on-failure'");
    expect((await create({ Name: "on-failure", MaximumRetryCount: -1 })).json.message).toBe("invalid restart policy: maximum retry count cannot be negative");
    const r = await create({ Name: "always" }, { AutoRemove: true });
    expect([r.status, r.json.message]).toEqual([400, "can't create 'AutoRemove' container with restart policy"]);
    expect((await docker("ps", "-aq")).stdout).toBe("");
  });
});

describe.skipIf(!!skip)("restart policies across a daemon restart", () => {
  it("always comes back even after a stop; unless-stopped stays stopped; a failure while no daemon ran is restarted", async () => {
    const d = new Berthd("restart-daemon");
    try {
      await d.start();
      await d.importBusybox();
      for (const [name, policy] of [["a", "always"], ["u", "unless-stopped"], ["u2", "unless-stopped"]]) {
        await d.docker(["run", "-d", "--name", `${name}-c`, "--restart", policy, "busybox", "sleep", "600"]);
      }
      await d.docker(["stop", "-t", "1", "a-c", "u-c"]);
      await d.docker(["run", "-d", "--name", "f-c", "--restart", "on-failure:1", "busybox", "sh", "-c", "sleep 1; exit 4"]);
      await d.docker(["create", "--name", "never-started", "--restart", "always", "busybox", "true"]);
      expect(await d.stopDaemon("SIGTERM")).toBe(0);
      await Bun.sleep(1500); // f-c fails meanwhile
      await d.start();
      const state = async (n: string) => until(d, n, "{{.State.Status}}", (v) => v === "running", 3000);
      expect(await state("a-c")).toBe("running");
      expect(await state("u2-c")).toBe("running"); // never stopped: it kept running across the restart
      // found exited by the new daemon, restarted once, then (at its limit) left exited
      expect(await until(d, "f-c", "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}", (v) => v === "exited 4 1", 8000)).toBe("exited 4 1");
      expect((await d.docker(["inspect", "-f", "{{.State.Status}}", "u-c"])).stdout.trim()).toBe("exited");
      expect((await d.docker(["inspect", "-f", "{{.State.Status}}", "never-started"])).stdout.trim()).toBe("created");
    } finally {
      expect(await d.stop()).toEqual([]);
    }
  });
});
