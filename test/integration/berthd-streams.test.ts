// Streams through the stock CLI against berthd: attach to a running container, start -ai, the
// json-file log's size cap, docker events.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import fs from "node:fs";
import { Berthd, berthdSkipReason, berthdForSuite } from "../helpers/berthd.ts";

const skip = berthdSkipReason();

describe.skipIf(!!skip)("berthd streams", () => {
  const d = new Berthd("streams");
  const docker = (...a: string[]) => d.docker(a);

  beforeAll(async () => {
    await d.start(["--log-opt", "max-size=2k", "--log-opt", "max-file=2"]);
    await d.importBusybox();
  });
  afterAll(async () => {
    expect(await d.stop()).toEqual([]);
  });

  it("attach to a running container sees its output from then on, and its exit status", async () => {
    await docker("run", "-d", "--name", "att", "busybox", "sh", "-c", "sleep 0.5; echo after-attach; exit 3");
    const r = await docker("attach", "att");
    expect(r.stdout).toBe("after-attach\n");
    expect(r.code).toBe(3);
    await docker("rm", "att");
  });

  it("start -ai passes stdin to a created container", async () => {
    await docker("create", "-i", "--name", "sai", "busybox", "sh", "-c", "read x; echo got:$x");
    const r = await d.docker(["start", "-ai", "sai"], { stdin: "typed\n" });
    expect(r.stdout).toBe("got:typed\n");
    await docker("rm", "sai");
  });

  it("caps the json-file log: max-size and max-file from the daemon's --log-opt", async () => {
    await docker("run", "--name", "chatty", "busybox", "sh", "-c", "i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done");
    const id = (await docker("inspect", "-f", "{{.Id}}", "chatty")).stdout.trim();
    const log = `${d.dataRoot}/containers/${id}/${id}-json.log`;
    expect(fs.statSync(log).size).toBeLessThanOrEqual(2048);
    expect(fs.existsSync(`${log}.1`)).toBe(true);
    expect(fs.existsSync(`${log}.2`)).toBe(false);
    const lines = (await docker("logs", "chatty")).stdout.trim().split("\n");
    expect(lines.at(-1)).toBe("line-299");
    expect(lines.length).toBeLessThan(300); // older entries rotated away
    const first = JSON.parse(fs.readFileSync(log, "utf8").split("\n")[0]);
    expect(Object.keys(first)).toEqual(["log", "stream", "time"]);
    expect(first.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    await docker("rm", "chatty");
  });

  it("docker events reports create, start, die and destroy", async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    await docker("run", "--rm", "--name", "ev", "busybox", "true");
    const until = Math.floor(Date.now() / 1000) + 1;
    const r = await docker("events", "--since", String(since), "--until", String(until), "--filter", "container=ev", "--format", "{{.Action}}");
    expect(r.stdout.trim().split("\n")).toEqual(["create", "attach", "start", "die", "destroy"]);
  });
});

describe.skipIf(!!skip || !Bun.which("script"))("berthd detach keys", () => {
  const { d } = berthdForSuite("detach");

  it("run -it --detach-keys leaves the container running, and logs --until stops there", async () => {
    const { DOCKER_CLI } = await import("../helpers/berthd.ts");
    const p = Bun.spawn([Bun.which("script")!, "-qefc", `${DOCKER_CLI} run -it --name det --detach-keys ctrl-x,x busybox sh`, "/dev/null"], {
      env: { ...d.env, TERM: "xterm" }, stdin: "pipe", stdout: "pipe", stderr: "pipe",
    });
    await Bun.sleep(800);
    p.stdin.write("echo before-detach\n");
    p.stdin.flush();
    await Bun.sleep(300);
    p.stdin.write("\x18x");
    p.stdin.flush();
    let killed = false;
    const timer = setTimeout(() => ((killed = true), p.kill("SIGKILL")), 20_000);
    const out = await new Response(p.stdout).text();
    await p.exited;
    clearTimeout(timer);
    expect(killed).toBe(false); // the CLI left by itself, on the detach keys
    expect(out).toContain("before-detach");
    expect((await d.docker(["inspect", "-f", "{{.State.Running}}", "det"])).stdout.trim()).toBe("true");
    const past = Math.floor(Date.now() / 1000) - 3600;
    expect((await d.docker(["logs", "--until", String(past), "det"])).stdout).toBe("");
    await d.docker(["rm", "-f", "det"]);
  });
});
