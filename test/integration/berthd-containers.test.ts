// Container commands through the stock docker CLI against a private berthd: output and exit codes
// as dockerd gives them for the same commands (recorded from Debian's dockerd 20.10 here).
import { describe, expect, it } from "bun:test";
import { Berthd, berthdSkipReason, berthdForSuite } from "../helpers/berthd.ts";

const skip = berthdSkipReason();

describe.skipIf(!!skip)("berthd containers with the docker CLI", () => {
  const { d, docker } = berthdForSuite("ctr");

  it("run --rm prints the output and passes the exit status through", async () => {
    const r = await docker("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3");
    expect(r.stdout).toBe("out\n");
    expect(r.stderr).toBe("err\n");
    expect(r.code).toBe(3);
    expect((await docker("ps", "-aq")).stdout).toBe("");
  });

  it("maps 127 (not found), 126 (not executable) and 137 (SIGKILL)", async () => {
    const nf = await docker("run", "--rm", "busybox", "no-such-command");
    expect(nf.code).toBe(127);
    expect(nf.stderr).toMatch(/executable file not found|no such file/);
    const ne = await docker("run", "--rm", "busybox", "/etc/passwd");
    expect(ne.code).toBe(126);
    // (a pid namespace's init ignores signals it has no handler for, so not `kill -9 $$`)
    await docker("run", "-d", "--name", "killed", "busybox", "sleep", "60");
    expect((await docker("kill", "killed")).code).toBe(0);
    expect((await docker("wait", "killed")).stdout.trim()).toBe("137");
    await docker("rm", "killed");
    expect((await docker("ps", "-aq")).stdout).toBe("");
  });

  it("run -i passes stdin; run -t gives a terminal", async () => {
    const i = await d.docker(["run", "--rm", "-i", "busybox", "sh", "-c", "tr a-z A-Z"], { stdin: "piped-stdin\n" });
    expect(i.stdout).toBe("PIPED-STDIN\n");
    expect(i.code).toBe(0);
    const t = await docker("run", "--rm", "-t", "busybox", "sh", "-c", "tty; echo tty-out");
    expect(t.stdout).toMatch(/^\/dev\/(console|pts\/\d+)\r\ntty-out\r\n$/);
  });

  it("run -d, ps, logs, stop (StopSignal, timeout), rm", async () => {
    const r = await docker("run", "-d", "--name", "web", "busybox", "sh", "-c", "echo started; trap 'echo got-term; exit 0' TERM; while true; do sleep 0.1; done");
    expect(r.code).toBe(0);
    const id = r.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const ps = await docker("ps", "--format", "{{.Names}} {{.Status}} {{.Command}}");
    expect(ps.stdout).toMatch(/^web Up (Less than a second|\d+ seconds?) "sh -c 'echo started…"\n$/);
    await Bun.sleep(300);
    expect((await docker("logs", "web")).stdout).toBe("started\n");
    expect((await docker("stop", "-t", "5", "web")).code).toBe(0);
    expect((await docker("logs", "web")).stdout).toBe("started\ngot-term\n");
    expect((await docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "web")).stdout.trim()).toBe("exited 0");
    const again = await docker("stop", "web"); // 304: the CLI treats it as success
    expect(again.code).toBe(0);
    expect((await docker("ps", "-a", "--filter", "status=exited", "--format", "{{.Names}} {{.Status}}")).stdout).toMatch(/^web Exited \(0\) /);
    expect((await docker("rm", "web")).stdout.trim()).toBe("web");
    expect((await docker("inspect", "web")).code).toBe(1);
  });

  it("stop escalates to SIGKILL after the timeout", async () => {
    await docker("run", "-d", "--name", "stubborn", "busybox", "sh", "-c", "trap '' TERM; while true; do sleep 0.1; done");
    const t0 = Date.now();
    expect((await docker("stop", "-t", "1", "stubborn")).code).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect((await docker("inspect", "-f", "{{.State.ExitCode}}", "stubborn")).stdout.trim()).toBe("137");
    await docker("rm", "stubborn");
  });

  it("create, start -a, wait, and a 409 for a duplicate name", async () => {
    expect((await docker("create", "--name", "c1", "busybox", "sh", "-c", "echo from-create; echo to-stderr >&2; exit 5")).code).toBe(0);
    const dup = await docker("create", "--name", "c1", "busybox", "true");
    expect(dup.code).toBe(1); // as with dockerd: the CLI's create exits 1 on a daemon error
    expect(dup.stderr).toContain('Conflict. The container name "/c1" is already in use by container');
    const s = await docker("start", "-a", "c1");
    expect(s.stdout).toBe("from-create\n");
    expect(s.stderr).toBe("to-stderr\n");
    expect(s.code).toBe(5);
    expect((await docker("wait", "c1")).stdout.trim()).toBe("5");
    expect((await docker("rm", "c1")).code).toBe(0);
  });

  it("kill -s, rm -f of a running container, and dockerd's errors", async () => {
    await docker("run", "-d", "--name", "k1", "busybox", "sh", "-c", "trap 'exit 7' USR1; while true; do sleep 0.1; done");
    const rm = await docker("rm", "k1");
    expect(rm.code).toBe(1);
    expect(rm.stderr).toMatch(/You cannot remove a running container [0-9a-f]{64}\. Stop the container before attempting removal or force remove/);
    expect((await docker("kill", "-s", "USR1", "k1")).code).toBe(0);
    await Bun.sleep(200);
    expect((await docker("inspect", "-f", "{{.State.ExitCode}}", "k1")).stdout.trim()).toBe("7");
    await docker("rm", "k1");
    await docker("run", "-d", "--name", "k2", "busybox", "sleep", "60");
    expect((await docker("rm", "-f", "k2")).code).toBe(0);
    const missing = await docker("start", "no-such");
    expect(missing.stderr).toContain("No such container: no-such");
    expect(missing.code).toBe(1);
  });

  it("logs --tail, -t, --since and -f", async () => {
    await docker("run", "-d", "--name", "lg", "busybox", "sh", "-c", "for i in 1 2 3 4; do echo line$i; done; sleep 1; echo late");
    await Bun.sleep(400);
    expect((await docker("logs", "--tail", "2", "lg")).stdout).toBe("line3\nline4\n");
    expect((await docker("logs", "-t", "--tail", "1", "lg")).stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line4\n$/);
    const f = await docker("logs", "-f", "lg");
    expect(f.stdout).toBe("line1\nline2\nline3\nline4\nlate\n");
    expect((await docker("logs", "--since", "2000-01-01T00:00:00Z", "lg")).stdout.split("\n")).toHaveLength(6);
    await docker("rm", "lg");
  });

  it("exec, exec -i, exec -u -w -e, exec into a stopped container (409)", async () => {
    await docker("run", "-d", "--name", "ex", "busybox", "sleep", "60");
    expect((await docker("exec", "ex", "sh", "-c", "echo hi; exit 4")).stdout).toBe("hi\n");
    expect((await docker("exec", "ex", "sh", "-c", "exit 4")).code).toBe(4);
    const i = await d.docker(["exec", "-i", "ex", "cat"], { stdin: "through-exec\n" });
    expect(i.stdout).toBe("through-exec\n");
    const u = await docker("exec", "-u", "65534", "-w", "/tmp", "-e", "X=1", "ex", "sh", "-c", "id -u; pwd; echo $X");
    expect(u.stdout).toBe("65534\n/tmp\n1\n");
    expect((await docker("exec", "ex", "no-such-cmd")).code).toBe(127);
    await docker("kill", "ex");
    const stopped = await docker("exec", "ex", "true");
    expect(stopped.code).not.toBe(0);
    expect(stopped.stderr).toMatch(/is not running/);
    await docker("rm", "ex");
  });

  it("pause, unpause, rename, inspect fields", async () => {
    await docker("run", "-d", "--name", "pz", "-l", "tier=web", "busybox", "sleep", "60");
    expect((await docker("pause", "pz")).code).toBe(0);
    expect((await docker("inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "pz")).stdout.trim()).toBe("paused true");
    expect((await docker("ps", "--format", "{{.Status}}", "--filter", "name=pz")).stdout).toMatch(/\(Paused\)/);
    expect((await docker("unpause", "pz")).code).toBe(0);
    expect((await docker("rename", "pz", "pz2")).code).toBe(0);
    await docker("create", "--name", "taken", "busybox", "true");
    expect((await docker("rename", "pz2", "taken")).stderr).toContain('Error when allocating new name: Conflict. The container name "/taken" is already in use');
    expect((await docker("ps", "--filter", "before=nosuch")).stderr).toContain("no such container nosuch");
    await docker("rm", "taken");
    const j = JSON.parse((await docker("inspect", "pz2")).stdout)[0];
    expect(j.Name).toBe("/pz2");
    expect(j.State.Running).toBe(true);
    expect(j.State.Pid).toBeGreaterThan(1);
    expect(j.Config.Labels).toEqual({ tier: "web" });
    expect(j.Config.Cmd).toEqual(["sleep", "60"]);
    expect(j.HostConfig.LogConfig.Type).toBe("json-file");
    expect(j.LogPath).toContain(j.Id);
    expect((await docker("ps", "-q", "--filter", "label=tier=web")).stdout.trim()).toBe(j.Id.slice(0, 12));
    await docker("rm", "-f", "pz2");
  });

  it("ps -s: the writable layer counted as dockerd counts it (files only, a hard link once)", async () => {
    const w = await docker("run", "--name", "sized", "busybox", "sh", "-c",
      "mkdir -p /a/b && head -c 100000 /dev/zero > /a/b/f && ln /a/b/f /a/g && head -c 5000 /dev/zero > /h");
    expect(w.code).toBe(0);
    const ps = await docker("ps", "-a", "-s", "--filter", "name=sized", "--format", "{{.Size}}");
    expect(ps.stdout.trim()).toMatch(/^105kB \(virtual [\d.]+[kM]B\)$/);
    const list = (await d.api("GET", "/containers/json?all=1&size=1")).json as { Names: string[]; SizeRw: number; SizeRootFs: number }[];
    const c = list.find((x) => x.Names[0] === "/sized")!;
    expect(c.SizeRw).toBe(105000);
    expect(c.SizeRootFs).toBeGreaterThan(105000);
    expect((await docker("rm", "sized")).code).toBe(0);
  });

  it("applies HostConfig: user, workdir, hostname, env, read-only, memory, pids, cap-drop", async () => {
    const r = await docker("run", "--rm", "-u", "1000:1000", "-w", "/tmp", "--hostname", "myhost", "-e", "FOO=bar",
      "--read-only", "--memory", "64m", "--pids-limit", "50", "--cap-drop", "ALL", "busybox", "sh", "-c",
      "id -u; id -g; pwd; hostname; echo FOO=$FOO; touch /x 2>/dev/null || echo readonly-ok; grep CapEff /proc/self/status | tr -d '\\t'");
    expect(r.stdout).toBe("1000\n1000\n/tmp\nmyhost\nFOO=bar\nreadonly-ok\nCapEff:0000000000000000\n");
  });

  it("-w makes a missing working directory (root-owned, 0755); a file there is a 400", async () => {
    const r = await docker("run", "--rm", "-u", "65534", "-w", "/new/sub", "busybox", "sh", "-c", "pwd; stat -c '%U %a' /new /new/sub");
    expect([r.code, r.stdout]).toEqual([0, "/new/sub\nroot 755\nroot 755\n"]);
    const f = await docker("run", "--rm", "-w", "/bin/busybox", "busybox", "pwd");
    expect(f.code).toBe(125);
    expect(f.stderr).toContain("Cannot mkdir: /bin/busybox is not a directory");
    expect((await docker("ps", "-aq")).stdout).toBe("");
  });

  it("a failed start: one error line from the CLI, next-exit waits stay, removal answers them", async () => {
    const r = await docker("run", "--rm", "busybox", "no-such-command");
    expect(r.code).toBe(127);
    expect(r.stderr).not.toContain("Error waiting for container");
    const n = await docker("run", "--name", "failed", "busybox", "no-such-command");
    expect(n.code).toBe(127);
    expect(n.stderr).not.toContain("Error waiting for container");
    const waiting = d.api("POST", "/v1.45/containers/failed/wait?condition=next-exit");
    expect(await Promise.race([waiting.then(() => "answered"), Bun.sleep(700).then(() => "pending")])).toBe("pending");
    const notRunning = (await d.api("POST", "/v1.45/containers/failed/wait?condition=not-running")).json;
    expect(notRunning.StatusCode).toBe(127);
    expect(notRunning.Error.Message).toContain("executable file not found");
    await docker("rm", "failed");
    expect((await waiting).json).toEqual({ StatusCode: 127, Error: null });
  });

  it("dockerd's details: /.dockerenv and /etc/mtab, kill of a paused container, name filters, inspect defaults", async () => {
    const f = await docker("run", "--rm", "busybox", "sh", "-c", "test -f /.dockerenv && readlink /etc/mtab");
    expect([f.code, f.stdout]).toEqual([0, "/proc/mounts\n"]);
    await docker("run", "-d", "--name", "pz", "busybox", "sleep", "60");
    await docker("pause", "pz");
    expect((await docker("kill", "pz")).code).toBe(0);
    expect((await docker("wait", "pz")).stdout.trim()).toBe("137");
    expect((await docker("inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "pz")).stdout.trim()).toBe("exited false");
    expect((await docker("ps", "-a", "--filter", "name=^pz$", "--format", "{{.Names}}")).stdout.trim()).toBe("pz");
    expect((await docker("ps", "-a", "--filter", "name=^/pz$", "--format", "{{.Names}}")).stdout.trim()).toBe("pz");
    expect((await docker("ps", "-a", "--filter", "name=[", "-q")).stdout.trim()).toBe(""); // a bad pattern matches nothing
    expect((await docker("ps", "-a", "--filter", "expose=80", "-q")).stdout.trim()).toBe("");
    expect((await docker("ps", "-a", "--filter", "health=bogus")).stderr).toContain("Unrecognised filter value for health: bogus");
    const j = JSON.parse((await docker("inspect", "pz")).stdout)[0];
    expect([j.HostConfig.IpcMode, j.HostConfig.CgroupnsMode, j.HostConfig.MemorySwappiness, j.HostConfig.PidsLimit, j.Config.Volumes])
      .toEqual(["private", "host", null, null, null]);
    expect(j.HostConfig.MaskedPaths).toContain("/proc/kcore");
    expect(j.HostConfig.ReadonlyPaths).toContain("/proc/sys");
    const sized = JSON.parse((await docker("inspect", "-s", "pz")).stdout)[0];
    expect(typeof sized.SizeRw).toBe("number");
    expect((await docker("kill", "nosuch")).stderr).toContain("Cannot kill container: nosuch: No such container: nosuch");
    await docker("rm", "pz");
  });

  it("log drivers: none keeps no log (and says so), unknown ones are refused; --runtime, --name, logs --details", async () => {
    await docker("run", "--name", "nolog", "--log-driver", "none", "busybox", "echo", "hi");
    const l = await docker("logs", "nolog");
    expect([l.code, l.stderr.trim()]).toEqual([1, "Error response from daemon: configured logging driver does not support reading"]);
    await docker("rm", "nolog");
    const sys = await docker("run", "--rm", "--log-driver", "syslog", "busybox", "true");
    expect(sys.code).toBe(125);
    expect(sys.stderr).toContain("logger: no log driver named 'syslog' is registered");
    const rt = await docker("run", "--rm", "--runtime", "bogus", "busybox", "true");
    expect(rt.code).toBe(125);
    expect(rt.stderr).toContain("Unknown runtime specified bogus");
    expect((await docker("create", "--name", "a", "busybox")).stderr).toContain("Invalid container name (a)");
    await docker("run", "--name", "det", "busybox", "echo", "late");
    expect((await docker("logs", "--details", "det")).stdout).toBe(" late\n");
    expect((await docker("logs", "--tail", "bogus", "det")).stdout).toBe("late\n");
    await docker("rm", "det");
    expect((await docker("top", "nosuch")).stderr).toContain("docker top is not supported by berthd yet");
  });

  it("--init: the init runs the command as pid 1's child, passes signals on and the exit status back", async () => {
    const r = await docker("run", "--rm", "--init", "busybox", "sh", "-c", "cat /proc/1/comm; exit 5");
    expect([r.code, r.stdout]).toEqual([5, "docker-init\n"]);
    await docker("run", "-d", "--init", "--name", "inited", "busybox", "sleep", "60");
    expect((await docker("inspect", "-f", "{{.Path}} {{.Args}}", "inited")).stdout.trim()).toBe("sleep [60]");
    // without an init, sleep as pid 1 ignores SIGTERM and stop ends with SIGKILL (137)
    await docker("stop", "-t", "20", "inited");
    expect((await docker("inspect", "-f", "{{.State.ExitCode}}", "inited")).stdout.trim()).toBe("143");
    await docker("rm", "inited");
  });

  it("an unknown network: created, then a 404 at start (not a pull of the image)", async () => {
    const r = await docker("run", "--rm", "--network", "nosuchnet", "busybox", "true");
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("network nosuchnet not found");
    expect(r.stderr).not.toContain("Unable to find image");
    expect((await docker("ps", "-aq")).stdout).toBe("");
  });
});
