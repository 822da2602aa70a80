// berthd as a daemon: flags and start-up errors, the API's protocol details, bad input, load,
// and surviving its own crash with containers running.
import { describe, expect, it } from "bun:test";
import fs from "node:fs";
import net from "node:net";
import { BERTHD, Berthd, berthdSkipReason, spawnerOf, berthdForSuite, monitorProcesses, monitorsOnly } from "../helpers/berthd.ts";
import { alive } from "../helpers/dockerd.ts";

const skip = berthdSkipReason();

function raw(sock: string, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(sock);
    let out = "";
    c.on("data", (d) => (out += d.toString()));
    c.on("end", () => resolve(out));
    c.on("error", reject);
    c.write(request);
  });
}

describe.skipIf(!!skip)("berthd start-up", () => {
  it("refuses a bad flag, an unwritable data root and a second daemon on the same data root", async () => {
    const bad = Bun.spawnSync([BERTHD, "--no-such-flag"], { stderr: "pipe" });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr.toString()).toMatch(/^berthd: .*no-such-flag.*\n$/);

    const d = new Berthd("dup");
    fs.mkdirSync(d.dir + "/ro");
    fs.writeFileSync(d.dir + "/ro/file", "");
    const unwritable = Bun.spawnSync([BERTHD, "--data-root", `${d.dir}/ro/file/sub`, "-H", `unix://${d.dir}/x.sock`, "--pidfile", `${d.dir}/x.pid`], { stderr: "pipe" });
    expect(unwritable.exitCode).toBe(1);
    expect(unwritable.stderr.toString()).toMatch(/--data-root .* is not writable/);

    await d.start();
    const second = Bun.spawnSync([BERTHD, "-H", `unix://${d.dir}/other.sock`, "--data-root", d.dataRoot, "--exec-root", `${d.dir}/exec-other`, "--pidfile", `${d.dir}/other.pid`], { stderr: "pipe" });
    expect(second.exitCode).toBe(1);
    expect(second.stderr.toString()).toContain(`held by a running berthd (pid ${d.proc!.pid})`);
    // a socket in use by someone else
    const third = Bun.spawnSync([BERTHD, "-H", `unix://${d.sock}`, "--data-root", `${d.dir}/data2`, "--exec-root", `${d.dir}/exec2`, "--pidfile", `${d.dir}/p2`], { stderr: "pipe" });
    expect(third.exitCode).toBe(1);
    expect(third.stderr.toString()).toContain(`socket ${d.sock} is in use`);
    expect(fs.existsSync(`${d.dir}/data2/berthd.lock`)).toBe(false); // nothing held after a failed start
    expect(await d.stopDaemon("SIGTERM")).toBe(0);
    expect(fs.existsSync(d.sock)).toBe(false);
    expect(await d.stop()).toEqual([]);
  });
});

describe.skipIf(!!skip)("berthd API", () => {
  const { d } = berthdForSuite("api");

  it("answers HEAD /_ping with dockerd's headers", async () => {
    const out = await raw(d.sock, "HEAD /_ping HTTP/1.1\r\nHost: api.moby.localhost\r\nConnection: close\r\n\r\n");
    expect(out).toMatch(/^HTTP\/1\.1 200/);
    expect(out).toMatch(/Api-Version: 1\.45/i);
    expect(out).toMatch(/Ostype: linux/i);
    expect(out).toMatch(/Docker-Experimental: false/i);
    expect(out).toMatch(/Cache-Control: no-cache, no-store, must-revalidate/i);
  });

  it("serves every version prefix from 1.24 up, and refuses newer or older ones", async () => {
    expect((await d.api("GET", "/v1.24/version")).status).toBe(200);
    expect((await d.api("GET", "/v1.41/containers/json")).status).toBe(200);
    const tooNew = await d.api("GET", "/v1.99/version");
    expect(tooNew.status).toBe(400);
    expect(tooNew.json.message).toBe("client version 1.99 is too new. Maximum supported API version is 1.45");
    expect((await d.api("GET", "/v1.12/version")).status).toBe(400);
    expect((await d.api("GET", "/nope")).status).toBe(404);
  });

  it("gives 400 for malformed JSON and wrong types, naming the field, and stays up", async () => {
    const bad = await d.api("POST", "/containers/create", "{not json");
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/invalid JSON/);
    const typed = await d.api("POST", "/containers/create", { Image: "busybox", Cmd: 7 });
    expect(typed.status).toBe(400);
    expect(typed.json.message).toMatch(/Cmd/);
    const hc = await d.api("POST", "/containers/create", { Image: "busybox", HostConfig: { Memory: "lots" } });
    expect(hc.status).toBe(400);
    expect(hc.json.message).toMatch(/Memory/);
    const noImage = await d.api("POST", "/containers/create", { Image: "nope:1", Cmd: ["true"] });
    expect(noImage.status).toBe(404);
    expect(noImage.json.message).toMatch(/No such image: nope:1/);
    expect((await d.api("GET", "/containers/nope/json")).json.message).toBe("No such container: nope");
    expect((await d.api("GET", "/_ping")).text).toBe("OK");
    expect((await d.api("GET", "/containers/json?all=1")).json).toEqual([]); // nothing half-made
  });

  it("takes a thousand requests at once", async () => {
    const results = await Promise.all(Array.from({ length: 1000 }, () => d.api("GET", "/v1.45/containers/json").then((r) => r.status).catch(() => 0)));
    expect(results.filter((s) => s === 200).length).toBe(1000);
  });

  it("survives a client vanishing mid-stream (logs -f, wait)", async () => {
    const run = await d.docker(["run", "-d", "--name", "streamer", "busybox", "sh", "-c", "while true; do echo tick; sleep 0.05; done"]);
    expect(run.code).toBe(0);
    for (const path of ["/containers/streamer/logs?follow=1&stdout=1", "/containers/streamer/wait"]) {
      const c = net.connect(d.sock);
      c.write(`${path.includes("wait") ? "POST" : "GET"} ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`);
      await Bun.sleep(200);
      c.destroy();
    }
    await Bun.sleep(100);
    expect((await d.api("GET", "/_ping")).status).toBe(200);
    expect((await d.docker(["rm", "-f", "streamer"])).code).toBe(0);
  });
});


describe.skipIf(!!skip)("berthd's process starter", () => {
  it("a spawner that dies is replaced at the next start; without one (BERTH_SPAWNER=none) Bun's spawn does the work", async () => {
    const d = new Berthd("spawner");
    const plain = new Berthd("nospawner", { env: { BERTH_SPAWNER: "none" } });
    try {
      await d.start();
      await d.importBusybox();
      expect(spawnerOf(d.proc!.pid)).toBeUndefined(); // started with the first container
      expect((await d.docker(["run", "--rm", "busybox", "echo", "one"])).stdout).toBe("one\n");
      const first = spawnerOf(d.proc!.pid)!;
      expect(first).toBeGreaterThan(1);
      process.kill(first, "SIGKILL"); // berthd's own child, which this test's berthd started
      for (let i = 0; i < 50 && alive(first); i++) await Bun.sleep(20);
      expect((await d.docker(["run", "--rm", "busybox", "echo", "two"])).stdout).toBe("two\n");
      const second = spawnerOf(d.proc!.pid)!;
      expect(second).toBeGreaterThan(1);
      expect(second).not.toBe(first);
      await plain.start();
      await plain.importBusybox();
      const r = await plain.docker(["run", "--rm", "busybox", "echo", "three"]);
      expect([r.code, r.stdout]).toEqual([0, "three\n"]);
      expect(spawnerOf(plain.proc!.pid)).toBeUndefined();
      // each start's control socket is closed again, either way (Bun's own would stay open)
      const fds = (b: Berthd) => fs.readdirSync(`/proc/${b.proc!.pid}/fd`).length;
      for (const b of [d, plain]) {
        await Bun.sleep(200);
        const before = fds(b);
        for (let i = 0; i < 8; i++) expect((await b.docker(["run", "--rm", "busybox", "true"])).code).toBe(0);
        await Bun.sleep(200);
        expect(fds(b)).toBeLessThan(before + 4);
      }
    } finally {
      expect(await d.stop()).toEqual([]);
      expect(await plain.stop()).toEqual([]);
    }
  });
});

describe.skipIf(!!skip)("berthd crash with containers running", () => {
  it("kill -9 of berthd: containers keep running, a new berthd finds them", async () => {
    const d = new Berthd("crash");
    try {
      await d.start();
      await d.importBusybox();
      await d.docker(["run", "-d", "--name", "keeper", "busybox", "sh", "-c", "echo before; trap 'echo bye; exit 0' TERM; while true; do sleep 0.1; done"]);
      await d.docker(["run", "-d", "--name", "short", "busybox", "sh", "-c", "sleep 1; exit 9"]);
      await Bun.sleep(200);
      const pid = Number((await d.docker(["inspect", "-f", "{{.State.Pid}}", "keeper"])).stdout);
      const spawner = spawnerOf(d.proc!.pid);
      expect(spawner).toBeGreaterThan(1);
      expect(await d.stopDaemon("SIGKILL")).not.toBe(0);
      await Bun.sleep(1500); // "short" exits while no daemon runs
      expect(fs.existsSync(`/proc/${pid}`)).toBe(true);
      // its spawner saw berthd's end of the socket close and went too
      expect(alive(spawner!)).toBe(false);
      await d.start();
      const ps = await d.docker(["ps", "--format", "{{.Names}}"]);
      expect(ps.stdout.trim()).toBe("keeper");
      expect((await d.docker(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "short"])).stdout.trim()).toBe("exited 9");
      expect((await d.docker(["logs", "keeper"])).stdout).toBe("before\n");
      const w = d.docker(["wait", "keeper"]);
      expect((await d.docker(["stop", "keeper"])).code).toBe(0);
      expect((await w).stdout.trim()).toBe("0");
      expect((await d.docker(["logs", "keeper"])).stdout).toBe("before\nbye\n");
    } finally {
      expect(await d.stop()).toEqual([]);
    }
  });
});

describe.skipIf(!!skip)("berthd crash during a removal", () => {
  // A removal answers once the store row is gone; the unmount and deletes follow, and the
  // removals table keeps what is owed. A berthd killed in between finishes the job at start.
  it("a removal the last berthd did not finish is finished by the next one", async () => {
    const d = new Berthd("removal");
    try {
      await d.start();
      await d.importBusybox();
      const id = (await d.docker(["create", "--name", "half", "busybox", "true"])).stdout.trim();
      const merged = `${d.dataRoot}/rootfs/${id}/merged`;
      // mounted (right after create has answered: see StartsAhead.prepare in start-ahead.ts)
      const mounted = () => fs.existsSync(merged) && fs.statSync(merged).dev !== fs.statSync(`${d.dataRoot}/rootfs/${id}`).dev;
      for (let i = 0; i < 200 && !mounted(); i++) await Bun.sleep(10);
      expect(mounted()).toBe(true);
      expect(await d.stopDaemon("SIGKILL")).not.toBe(0);
      // The state a crash right after the row's removal leaves: row gone, cleanup owed.
      const { Database } = await import("bun:sqlite");
      const db = new Database(`${d.dataRoot}/berth.db`);
      db.transaction(() => {
        db.query("DELETE FROM containers WHERE id = ?").run(id);
        db.query("INSERT INTO removals (id) VALUES (?)").run(id);
      })();
      db.close();
      await d.start();
      expect((await d.docker(["ps", "-aq"])).stdout).toBe("");
      expect(fs.existsSync(`${d.dataRoot}/rootfs/${id}`)).toBe(false);
      expect(fs.existsSync(`${d.dataRoot}/containers/${id}`)).toBe(false);
      expect(fs.readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(id);
      const check = new Database(`${d.dataRoot}/berth.db`, { readonly: true });
      expect(check.query("SELECT COUNT(*) AS n FROM removals").get()).toEqual({ n: 0 });
      check.close();
      // and a name freed that way is free: the CLI's --rm and a new container of the same name
      expect((await d.docker(["run", "--rm", "--name", "half", "busybox", "true"])).code).toBe(0);
      expect((await d.docker(["run", "--rm", "--name", "half", "busybox", "true"])).code).toBe(0);
    } finally {
      expect(await d.stop()).toEqual([]);
    }
  });
});

describe.skipIf(!!skip)("berthd killed right after a create", () => {
  // The first start's monitor is started after create (start-ahead.ts). Its berthd killed, its
  // executor gets no plan and both go; the next berthd's start makes a monitor of its own in the
  // remade run dir, and the old one, had it lingered, leaves those files alone (monitor.c,
  // files_still_ours).
  it("the monitor started for the dead daemon's start goes, and the next berthd's start runs", async () => {
    const d = new Berthd("ahead-crash");
    try {
      await d.start();
      await d.importBusybox();
      const id = (await d.docker(["create", "busybox", "sleep", "30"])).stdout.trim();
      const sock = `${d.execRoot}/m/${id.slice(0, 16)}/attach.sock`;
      for (let i = 0; i < 100 && !fs.existsSync(sock); i++) await Bun.sleep(10); // the monitor ahead listens
      expect(fs.existsSync(sock)).toBe(true);
      expect(await d.stopDaemon("SIGKILL")).not.toBe(0);
      await d.start();
      expect((await d.docker(["start", id])).code).toBe(0);
      await Bun.sleep(300);
      expect(fs.existsSync(sock)).toBe(true);
      expect(monitorsOnly(monitorProcesses(d)).length).toBe(1); // the new start's only
      expect((await d.docker(["inspect", "-f", "{{.State.Status}}", id])).stdout.trim()).toBe("running");
      expect((await d.docker(["rm", "-f", id])).code).toBe(0);
    } finally {
      expect(await d.stop()).toEqual([]);
    }
  });
});
