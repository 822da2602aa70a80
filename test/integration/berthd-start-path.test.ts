// A start's path through berthd: the monitor and the executor are started before the spec and the
// plan are built (startWrapperEarly), so a start that fails in between must leave no monitor
// behind: it would otherwise clear the files of the next start. And what a start builds comes
// from the container's record alone: its image may be gone by then.
import { describe, expect, it } from "bun:test";
import fs from "node:fs";
import { berthdSkipReason, berthdForSuite, monitorProcesses, monitorsOnly } from "../helpers/berthd.ts";
import { sealsOf } from "../../src/engine/sys/libc.ts";
import { MONITOR_PATH } from "../../src/engine/monitor/api.ts";

const skip = berthdSkipReason();


describe.skipIf(!!skip)("berthd start path", () => {
  const { d, docker } = berthdForSuite("startpath");

  it("(the monitors of this daemon are seen: one per running container)", async () => {
    const before = monitorProcesses(d).length;
    const r = await docker("run", "-d", "--name", "seen", "busybox", "sleep", "30");
    expect(r.code).toBe(0);
    expect(monitorProcesses(d).length).toBe(before + 1);
    expect((await docker("rm", "-f", "seen")).code).toBe(0);
  });

  it("monitors run from a sealed copy of berth-monitor, the executor built in (no program of its own)", async () => {
    const before = new Set(monitorProcesses(d));
    expect((await docker("run", "-d", "--name", "sealed", "busybox", "sleep", "30")).code).toBe(0);
    const [pid] = monitorProcesses(d).filter((p) => !before.has(p));
    expect(fs.readlinkSync(`/proc/${pid}/exe`)).toStartWith("/memfd:berth-monitor");
    expect(fs.readFileSync(`/proc/${pid}/comm`, "utf8")).toBe("berth-monitor\n"); // as ps shows it, not the memfd's name
    const fd = fs.openSync(`/proc/${pid}/exe`, "r");
    try {
      expect(sealsOf(fd) & 15).toBe(15); // no write, grow, shrink, nor new seals
    } finally {
      fs.closeSync(fd);
    }
    expect((await docker("rm", "-f", "sealed")).code).toBe(0);
  });

  it("CVE-2019-5736: an entrypoint of /proc/self/exe runs the sealed copy, and the file on disk is untouched", async () => {
    const sum = () => new Bun.CryptoHasher("sha256").update(fs.readFileSync(MONITOR_PATH)).digest("hex");
    const was = sum();
    const r = await docker("run", "--rm", "--entrypoint", "/proc/self/exe", "busybox", "--attach-socket", "/x");
    // what ran is berth-monitor (it wants its other options), from the memfd: nothing of the host's
    expect(r.stderr).toContain("berth-monitor: --exit-file, --pid-file and --attach-socket are required");
    expect(r.code).toBe(2);
    expect(sum()).toBe(was);
  });

  it("a start refused after its monitor was started (no such user) leaves no monitor, and can be tried again", async () => {
    const before = monitorProcesses(d).length;
    const r = await docker("run", "--name", "nouser", "-u", "nosuchuser", "busybox", "true");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("unable to find user nosuchuser: no matching entries in passwd file");
    // gone by the time the answer came, not after the monitor's own wait for an init
    expect(monitorProcesses(d).length).toBe(before);
    const again = await docker("start", "nouser");
    expect(again.stderr).toContain("unable to find user nosuchuser");
    expect(monitorProcesses(d).length).toBe(before);
    expect((await docker("inspect", "-f", "{{.State.Status}} {{.State.Running}}", "nouser")).stdout.trim()).toBe("created false");
    expect((await docker("rm", "nouser")).code).toBe(0);
  });

  it("a start runs what was created, and a second start of the same container runs the same", async () => {
    const r = await docker("run", "--name", "first", "-e", "X=ahead", "-w", "/tmp", "busybox", "sh", "-c", "echo $X $(pwd) $(hostname)");
    expect(r.code).toBe(0);
    const id = (await docker("inspect", "-f", "{{.Id}}", "first")).stdout.trim();
    expect(r.stdout).toBe(`ahead /tmp ${id.slice(0, 12)}\n`);
    expect((await docker("logs", "first")).stdout).toBe(r.stdout);
    const again = await docker("start", "-a", "first");
    expect(again.stdout).toBe(r.stdout);
    expect((await docker("rm", "first")).code).toBe(0);
  });

  it("its image removed between create and start: the start runs from the container's own config", async () => {
    // an image of its own (a tag of busybox would only be untagged)
    const tar = `${d.dir}/bb.tar`;
    expect((await docker("import", "-c", "ENV DOOMED=1", tar, "doomed:1")).code).toBe(0);
    const c = await docker("create", "--name", "orphan", "doomed:1", "sh", "-c", "echo still here");
    expect(c.code).toBe(0);
    const rmi = await docker("rmi", "-f", "doomed:1");
    expect(rmi.stdout).toContain("Deleted: sha256:");
    expect((await docker("inspect", "-f", "{{.Image}}", "orphan")).code).toBe(0);
    const r = await docker("start", "-a", "orphan");
    expect(r.stdout).toBe("still here\n");
    expect((await docker("rm", "orphan")).code).toBe(0);
  });

  // create answers once the container is recorded; its rootfs (mkdirs, overlay mount) is made in
  // the time the CLI takes to send its start (StartsAhead.prepare in start-ahead.ts), queued before it.
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`http://localhost/v1.45${path}`, {
      unix: d.sock, method, headers: body ? { "Content-Type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined,
    } as RequestInit);
    const text = await r.text();
    return { status: r.status, json: text ? JSON.parse(text) : undefined };
  };
  const isMounted = (dir: string) => fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").some((l) => l.split(" ")[4] === dir);

  it("create answers before the rootfs is mounted, which follows at once; a start sent right away runs on it", async () => {
    const c = await api("POST", "/containers/create", { Image: "busybox", Cmd: ["sh", "-c", "exit 7"] });
    expect(c.status).toBe(201);
    const wait = api("POST", `/containers/${c.json.Id}/wait?condition=next-exit`);
    const start = api("POST", `/containers/${c.json.Id}/start`); // no pause: it queues behind the mount
    expect((await start).status).toBe(204);
    expect((await wait).json.StatusCode).toBe(7);
    const alone = await api("POST", "/containers/create", { Image: "busybox", Cmd: ["true"] });
    const data = (await api("GET", `/containers/${alone.json.Id}/json`)).json.GraphDriver.Data;
    expect(data.UpperDir).toBe(`${d.dataRoot}/rootfs/${alone.json.Id}/upper`);
    for (let i = 0; i < 200 && !isMounted(data.MergedDir); i++) await Bun.sleep(10);
    expect(isMounted(data.MergedDir)).toBe(true);
    for (const id of [c.json.Id, alone.json.Id]) expect((await api("DELETE", `/containers/${id}`)).status).toBe(204);
  });

  it("a rootfs that cannot be mounted: create answers, start says why, rm leaves nothing behind", async () => {
    // an image with a layer of its own, whose unpacked tree then goes missing
    const root = `${d.dir}/lonely`;
    fs.mkdirSync(root, { recursive: true });
    fs.writeFileSync(`${root}/only-file`, "x");
    expect(Bun.spawnSync(["tar", "-C", root, "-cf", `${root}.tar`, "."]).exitCode).toBe(0);
    expect((await docker("import", `${root}.tar`, "lonely:1")).code).toBe(0);
    const layer = (await docker("image", "inspect", "-f", "{{index .RootFS.Layers 0}}", "lonely:1")).stdout.trim().replace("sha256:", "");
    fs.renameSync(`${d.dataRoot}/layers/${layer}`, `${d.dir}/moved-layer`);
    try {
      const c = await api("POST", "/containers/create", { Image: "lonely:1", Cmd: ["/only-file"] });
      expect(c.status).toBe(201);
      const s = await api("POST", `/containers/${c.json.Id}/start`);
      expect(s.status).toBeGreaterThanOrEqual(400);
      expect(s.json.message).toContain("mount");
      expect((await api("DELETE", `/containers/${c.json.Id}`)).status).toBe(204);
      for (let i = 0; i < 200 && fs.existsSync(`${d.dataRoot}/rootfs/${c.json.Id}`); i++) await Bun.sleep(10);
      expect(fs.existsSync(`${d.dataRoot}/rootfs/${c.json.Id}`)).toBe(false);
      expect(fs.readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(c.json.Id);
    } finally {
      fs.renameSync(`${d.dir}/moved-layer`, `${d.dataRoot}/layers/${layer}`);
      expect((await docker("rmi", "lonely:1")).code).toBe(0);
    }
  });

  it("a start long after create builds its spec again: it sees the rootfs as it is by then", async () => {
    // nobody's uid changes in the container's /etc/passwd a second after create: the spec built
    // ahead, right after create, has the old one, and is too old by then to be taken
    const c = await api("POST", "/containers/create", { Image: "busybox", User: "nobody", Cmd: ["id", "-u"] });
    expect(c.status).toBe(201);
    await Bun.sleep(1200);
    const merged = (await api("GET", `/containers/${c.json.Id}/json`)).json.GraphDriver.Data.MergedDir;
    const passwd = fs.readFileSync(`${merged}/etc/passwd`, "utf8");
    expect(passwd).toContain("nobody:x:65534:");
    fs.writeFileSync(`${merged}/etc/passwd`, passwd.replace("nobody:x:65534:", "nobody:x:4242:")); // (through the overlay)
    const r = await docker("start", "-a", c.json.Id);
    expect(r.stdout).toBe("4242\n");
    expect((await docker("rm", c.json.Id)).code).toBe(0);
  });

  it("cgroups that fail once the executor has its plan: the start says why, no monitor stays, and it can be tried again", async () => {
    // The plan goes out before berth makes the cgroups (the executor makes the network namespace
    // meanwhile): a frozen cgroup of the container's name, planted after create, refuses them.
    const id = (await docker("create", "busybox", "true")).stdout.trim();
    const frozen = `/sys/fs/cgroup/freezer${d.cgroupParent}/${id}`;
    fs.mkdirSync(frozen, { recursive: true });
    fs.writeFileSync(`${frozen}/freezer.state`, "FROZEN");
    const its = () => monitorProcesses(d, id); // (this container's monitor and executor)
    try {
      const r = await docker("start", id);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("is frozen");
      expect(its()).toEqual([]);
    } finally {
      fs.writeFileSync(`${frozen}/freezer.state`, "THAWED");
      fs.rmdirSync(frozen);
    }
    expect((await docker("start", "-a", id)).code).toBe(0);
    expect((await docker("rm", id)).code).toBe(0);
  });

  it("the spawner and the monitor fork on their own CPU (fork-here.h), but nothing they start stays bound to it", async () => {
    const allowed = (status: string) => /Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1];
    const mine = allowed(fs.readFileSync("/proc/self/status", "utf8"));
    const before = new Set(monitorProcesses(d));
    const r = await docker("run", "-d", "--name", "unbound", "busybox", "sh", "-c", "grep Cpus_allowed_list /proc/self/status; sleep 30");
    expect(r.code).toBe(0);
    const [monitor] = monitorProcesses(d).filter((p) => !before.has(p));
    expect(allowed(fs.readFileSync(`/proc/${monitor}/status`, "utf8"))).toBe(mine);
    for (let i = 0; i < 100 && !(await docker("logs", "unbound")).stdout; i++) await Bun.sleep(20);
    expect(allowed((await docker("logs", "unbound")).stdout)).toBe(mine);
    expect((await docker("rm", "-f", "unbound")).code).toBe(0);
  });

  // The first start's monitor is started right after create (StartsAhead in start-ahead.ts).
  // (the monitor itself, not its executor child, which is a fork with the same argv)
  const monitorsFor = (id: string) => monitorsOnly(monitorProcesses(d, id));
  const until = async (cond: () => boolean, ms = 3000) => {
    for (let t = 0; t < ms && !cond(); t += 20) await Bun.sleep(20);
    return cond();
  };

  it("a start soon after create takes the monitor started for it; one never started goes within seconds", async () => {
    const a = (await docker("create", "busybox", "sleep", "30")).stdout.trim();
    expect(await until(() => monitorsFor(a).length === 1)).toBe(true);
    const [ahead] = monitorsFor(a);
    expect((await docker("start", a)).code).toBe(0);
    expect(monitorsFor(a)).toEqual([ahead]); // the same process runs the container
    expect((await docker("rm", "-f", a)).code).toBe(0);

    const b = (await docker("create", "busybox", "true")).stdout.trim();
    expect(await until(() => monitorsFor(b).length === 1)).toBe(true);
    expect(await until(() => monitorsFor(b).length === 0)).toBe(true); // (a second, then it goes)
    const r = await docker("start", "-a", b); // a start after that starts its own
    expect(r.code).toBe(0);
    expect((await docker("rm", b)).code).toBe(0);
  });

  it("rm of a container just created takes its monitor with it", async () => {
    const id = (await docker("create", "busybox", "true")).stdout.trim();
    expect(await until(() => monitorsFor(id).length === 1)).toBe(true);
    expect((await docker("rm", id)).code).toBe(0);
    expect(monitorsFor(id)).toEqual([]);
    expect(await until(() => !fs.existsSync(`${d.execRoot}/m/${id.slice(0, 16)}`))).toBe(true);
  });
});
