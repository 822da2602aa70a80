// Health checks through the stock docker CLI: --health-* flags and an image's HEALTHCHECK, the
// starting/healthy/unhealthy states with their log, the start period, the timeout, ps's status
// and health filter, and what a stop leaves.
import { describe, expect, it } from "bun:test";
import { Berthd, berthdSkipReason, berthdForSuite } from "../helpers/berthd.ts";

const skip = berthdSkipReason();

describe.skipIf(!!skip)("berthd health checks", () => {
  const { d, docker } = berthdForSuite("health");
  const health = async (name: string) => JSON.parse((await docker("inspect", "-f", "{{json .State.Health}}", name)).stdout);
  async function until(name: string, ok: (h: any) => boolean, ms = 8000): Promise<any> {
    const end = Date.now() + ms;
    let h: any;
    while (Date.now() < end) {
      h = await health(name);
      if (h && ok(h)) return h;
      await Bun.sleep(100);
    }
    return h;
  }


  it("a passing check: starting, then healthy, with its log; ps shows it and filters on it", async () => {
    await docker("run", "-d", "--name", "ok", "--health-cmd", "echo fine", "--health-interval", "1s", "busybox", "sleep", "60");
    expect((await health("ok")).Status).toBe("starting");
    const h = await until("ok", (x) => x.Status === "healthy");
    expect(h.Status).toBe("healthy");
    expect(h.FailingStreak).toBe(0);
    expect(h.Log[0]).toMatchObject({ ExitCode: 0, Output: "fine\n" });
    expect((await docker("ps", "--format", "{{.Status}}", "--filter", "name=ok")).stdout).toMatch(/^Up .* \(healthy\)\n$/);
    expect((await docker("ps", "-q", "--filter", "health=healthy")).stdout.trim()).not.toBe("");
    expect((await docker("ps", "-q", "--filter", "health=none")).stdout.trim()).toBe("");
    const cfg = JSON.parse((await docker("inspect", "-f", "{{json .Config.Healthcheck}}", "ok")).stdout);
    expect(cfg).toEqual({ Test: ["CMD-SHELL", "echo fine"], Interval: 1_000_000_000 });
    // a stopped container reads unhealthy, as dockerd reports it
    await docker("stop", "-t", "1", "ok");
    expect((await health("ok")).Status).toBe("unhealthy");
    await docker("rm", "ok");
  });

  it("failures: unhealthy after Retries in a row; none counted in the start period; a probe past its timeout fails", async () => {
    await docker("run", "-d", "--name", "bad", "--health-cmd", "echo nope; exit 1", "--health-interval", "150ms", "--health-retries", "2", "busybox", "sleep", "60");
    const h = await until("bad", (x) => x.Status === "unhealthy");
    expect(h.Status).toBe("unhealthy");
    expect(h.FailingStreak).toBeGreaterThanOrEqual(2);
    expect(h.Log.at(-1)).toMatchObject({ ExitCode: 1, Output: "nope\n" });
    expect(h.Log.length).toBeLessThanOrEqual(5);
    expect((await docker("ps", "--format", "{{.Status}}", "--filter", "name=bad")).stdout).toMatch(/\(unhealthy\)/);

    await docker("run", "-d", "--name", "warm", "--health-cmd", "exit 1", "--health-interval", "150ms", "--health-retries", "1",
      "--health-start-period", "30s", "--health-start-interval", "150ms", "busybox", "sleep", "60");
    const w = await until("warm", (x) => x.Log.length >= 3);
    expect([w.Status, w.FailingStreak]).toEqual(["starting", 0]);
    expect((await docker("ps", "--format", "{{.Status}}", "--filter", "name=warm")).stdout).toMatch(/\(health: starting\)/);

    await docker("run", "-d", "--name", "slow", "--health-cmd", "sleep 10", "--health-timeout", "300ms", "--health-interval", "150ms",
      "--health-retries", "1", "busybox", "sleep", "60");
    const s = await until("slow", (x) => x.Status === "unhealthy");
    expect(s.Log[0]).toMatchObject({ ExitCode: -1 });
    expect(s.Log[0].Output).toContain("Health check exceeded timeout");
    await docker("rm", "-f", "bad", "warm", "slow");
  });

  it("an image's HEALTHCHECK applies, --no-healthcheck turns it off, bad values are refused", async () => {
    const tar = `${d.dir}/bb.tar`;
    expect((await docker("import", "-c", "HEALTHCHECK --interval=200ms CMD true", tar, "checked:1")).code).toBe(0);
    await docker("run", "-d", "--name", "img", "checked:1", "sleep", "60");
    expect((await until("img", (x) => x.Status === "healthy")).Status).toBe("healthy");
    await docker("run", "-d", "--name", "off", "--no-healthcheck", "checked:1", "sleep", "60");
    expect((await docker("inspect", "-f", "{{.State.Health}}", "off")).stdout.trim()).toBe("<nil>");
    expect((await docker("ps", "-q", "--filter", "health=none", "--filter", "name=off")).stdout.trim()).not.toBe("");
    const r = await d.api("POST", "/v1.45/containers/create", { Image: "busybox", Cmd: ["true"], Healthcheck: { Test: ["CMD", "true"], Retries: -1 } });
    expect([r.status, r.json.message]).toEqual([400, "Retries in Healthcheck cannot be negative"]);
    await docker("rm", "-f", "img", "off");
    await docker("rmi", "checked:1");
  });
});
