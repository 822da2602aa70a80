// berthd's process starter (native/spawner, src/engine/monitor/spawner.ts): the child gets
// exactly the fds it was sent as 3, 4, ... and /dev/null as stdio; its exit status comes back;
// an exec failure is an error naming the errno; the spawner ends when berthd's end closes,
// leaving its children running.
import { describe, expect, test, afterAll } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import { Spawner } from "../../src/engine/monitor/spawner.ts";
import { BUSYBOX } from "../helpers/rootfs.ts";
import { alive } from "../helpers/dockerd.ts";

const work = fs.mkdtempSync(`${os.tmpdir()}/berth-spawner-`);
const started: Spawner[] = [];
afterAll(() => {
  for (const s of started) s.close();
  fs.rmSync(work, { recursive: true, force: true });
});

function spawner(): Spawner {
  const r = Spawner.start();
  if (!r.spawner) throw new Error(r.error);
  started.push(r.spawner);
  return r.spawner;
}


describe("spawner", () => {
  // A static program, so no dynamic loader opens files of its own after the exec.
  test.skipIf(!BUSYBOX)("fds 3, 4 as sent, /dev/null as stdio, nothing else; the wait status comes back", async () => {
    const s = spawner();
    const out = `${work}/f`;
    fs.writeFileSync(out, "");
    const a = fs.openSync(out, "r");
    const b = fs.openSync("/dev/zero", "r");
    const r = s.spawn([BUSYBOX!, "sleep", "30"], [a, b]);
    fs.closeSync(a);
    fs.closeSync(b);
    const pid = await r.pid;
    expect(pid).toBeGreaterThan(1);
    // "started" comes once the exec is done, so these are sleep's own fds
    const fds: Record<string, string> = {};
    for (const f of fs.readdirSync(`/proc/${pid}/fd`)) fds[f] = fs.readlinkSync(`/proc/${pid}/fd/${f}`);
    expect(fs.readlinkSync(`/proc/${pid}/exe`)).toBe(fs.realpathSync(BUSYBOX!));
    process.kill(pid, "SIGTERM");
    expect((await r.exited) & 0x7f).toBe(15);
    expect(fds).toEqual({ 0: "/dev/null", 1: "/dev/null", 2: "/dev/null", 3: fs.realpathSync(out), 4: "/dev/zero" });
  });

  test("an exec failure rejects with its errno; the spawner carries on", async () => {
    const s = spawner();
    await expect(s.spawn([`${work}/no-such-program`], []).pid).rejects.toThrow("ENOENT");
    fs.writeFileSync(`${work}/not-exec`, "x", { mode: 0o644 });
    await expect(s.spawn([`${work}/not-exec`], []).pid).rejects.toThrow("EACCES");
    const r = s.spawn(["/bin/true"], []);
    expect(await r.pid).toBeGreaterThan(1);
    expect(await r.exited).toBe(0);
  });

  test("many at once, each answered with its own pid", async () => {
    const s = spawner();
    const rs = Array.from({ length: 40 }, (_, i) => s.spawn(["/bin/sh", "-c", `exit ${i}`], []));
    const pids = await Promise.all(rs.map((r) => r.pid));
    expect(new Set(pids).size).toBe(40);
    const codes = await Promise.all(rs.map((r) => r.exited));
    expect(codes.map((c) => (c >> 8) & 0xff)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  test("more requests at once than it has slots for: the rest wait in the socket, none fails", async () => {
    const s = spawner();
    const rs = Array.from({ length: 400 }, () => s.spawn(["/bin/true"], []));
    const pids = await Promise.all(rs.map((r) => r.pid));
    expect(new Set(pids).size).toBe(400);
    expect((await Promise.all(rs.map((r) => r.exited))).every((c) => c === 0)).toBe(true);
  });

  test("spawnWrapper: our end of a control socket, the child's on its fd 3; a signal's status as 128 + n", async () => {
    const s = spawner();
    const w = await s.spawnWrapper(["/bin/sh", "-c", "echo ready >&3; read line <&3; echo \"got $line\" >&3; sleep 30"], []);
    const reader = Bun.file(w.ctl).stream().getReader();
    const first = Buffer.from((await reader.read()).value!).toString();
    expect(first).toBe("ready\n");
    fs.writeSync(w.ctl, "hello\n");
    const second = Buffer.from((await reader.read()).value!).toString();
    expect(second).toBe("got hello\n");
    w.kill("SIGTERM");
    expect(await w.exited).toBe(128 + 15);
    await reader.cancel();
    fs.closeSync(w.ctl);
  });

  // The spawner's short slice lets a request preempt berthd at once; its children (monitors,
  // and so containers) must not keep it.
  const sliceOf = (pid: number | "self") => /se\.slice\s+:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/sched`, "utf8"))?.[1];
  test.skipIf(!sliceOf("self"))("the spawner runs with the shortest scheduler slice, its children with the default", async () => {
    const s = spawner();
    const r = s.spawn(["/bin/sleep", "30"], []);
    const pid = await r.pid;
    const parent = Number(fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")[1]);
    expect(sliceOf(parent)).toBe("100000");
    expect(sliceOf(pid)).toBe(sliceOf("self"));
    process.kill(pid, "SIGKILL");
    await r.exited;
  });

  test("closing our end ends the spawner; its children live on", async () => {
    const s = spawner();
    const r = s.spawn(["/bin/sleep", "30"], []);
    const pid = await r.pid;
    const parent = Number(fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")[1]);
    expect(alive(parent)).toBe(true);
    s.close();
    for (let i = 0; i < 100 && alive(parent); i++) await Bun.sleep(20);
    expect(alive(parent)).toBe(false);
    expect(alive(pid)).toBe(true);
    expect(s.alive).toBe(false);
    expect(() => s.spawn(["/bin/true"], [])).toThrow("not running");
    process.kill(pid, "SIGKILL");
  });

  test("run(): a helper's exit code; a spawner that dies before reporting it still lets run() end with the child", async () => {
    const s = spawner();
    expect(await s.run(["/bin/sh", "-c", "exit 3"])).toBe(3);
    const gone = spawner();
    const p = gone.run(["/bin/sleep", "0.3"]);
    await Bun.sleep(50);
    gone.close(); // (its exit report can never come now)
    expect(await p).toBe(1);
  });
});
