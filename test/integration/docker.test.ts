// berth as a drop-in runtime for dockerd: a private dockerd (test/helpers/dockerd.ts) runs busybox
// containers with `--runtime $BERTH_DOCKER_RUNTIME` (berth by default; `runc` validates the tests
// themselves). Where a result depends on the runtime (exit statuses), it is compared with runc's.
// Needs root, docker.io, runc, bsdutils and busybox-static; skips with the reason otherwise.
// What containerd-shim-runc-v2 asks of a runtime is recorded in DOCKER-NOTES.md.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import {
  alive, cgroupDirOf, DOCKER, Dockerd, dockerSkipReason, readRuntimeCalls, SCRIPT, targetRuntime, type Result,
} from "../helpers/dockerd.ts";

const SKIP = dockerSkipReason();
const TARGET = targetRuntime();
/** The runtime name given to `docker run --runtime` (runc is built into dockerd). */
const RT = TARGET.name;
const it = SKIP ? test.skip : test;
const T = 60_000;

let d: Dockerd;

beforeAll(async () => {
  if (SKIP) return;
  d = await Dockerd.start({
    runtimes: RT === "runc" ? {} : { [RT]: TARGET.path },
    loggingRuntimes: { logged: TARGET.path },
  });
  d.importBusybox();
}, T);

afterEach(() => {
  if (!SKIP) d?.removeAllContainers();
});

afterAll(() => {
  if (SKIP || !d) return;
  d.stop();
  expect(d.leftovers()).toEqual([]);
});

let n = 0;
const uniq = (p: string) => `${p}-${process.pid}-${++n}`;

function docker(args: string[], opts?: { stdin?: string; timeout?: number }): Result {
  return d.docker(args, opts);
}

/** docker run with the runtime under test (or `rt`); afterEach removes every container. */
function run(args: string[], opts: { rt?: string; stdin?: string; timeout?: number } = {}): Result {
  return docker(["run", "--runtime", opts.rt ?? RT, ...args], { stdin: opts.stdin, timeout: opts.timeout ?? 30_000 });
}

/** Starts a detached container running `sh -c script`; returns its name, failing with docker's error. */
function runDetached(script: string, extra: string[] = [], rt = RT): string {
  const name = uniq("c");
  const r = run(["-d", "--name", name, ...extra, "busybox", "sh", "-c", script], { rt });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return name;
}

function inspect(name: string, format: string): string {
  return docker(["inspect", "-f", format, name]).stdout.trim();
}

async function waitFor(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

/**
 * Runs a shell command line under a pty (`script`), with the daemon's client environment. Wrap the
 * docker client in `timeout -s KILL`: a client left behind would keep our pipes open.
 */
function underPty(cmdline: string): Result {
  const r = Bun.spawnSync([SCRIPT!, "-qec", cmdline, "/dev/null"], {
    env: d.clientEnv(), stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 30_000, killSignal: "SIGKILL",
  });
  return { code: r.exitCode ?? 137, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe(`docker --runtime ${RT}${SKIP ? ` (skipped: ${SKIP})` : ""}`, () => {
  it("docker run --rm busybox echo ok", () => {
    const r = run(["--rm", "busybox", "echo", "ok"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("ok\n");
    expect(r.code).toBe(0);
  }, T);

  it("docker run -i passes stdin through, and keeps stdout and stderr apart", () => {
    const r = run(["--rm", "-i", "busybox", "sh", "-c", "cat; echo err >&2"], { stdin: "hello\nworld\n" });
    expect(r.stdout).toBe("hello\nworld\n");
    expect(r.stderr).toBe("err\n");
    expect(r.code).toBe(0);
  }, T);

  it("the container gets docker's pid namespace, hostname, env and workdir", () => {
    const r = run(["--rm", "--hostname", "boxy", "-e", "FOO=bar", "-w", "/tmp", "busybox",
      "sh", "-c", 'echo "$$ $(hostname) $FOO $(pwd) $(id -u)"']);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("1 boxy bar /tmp 0\n");
  }, T);

  it("docker run -u runs the container as that user and group", () => {
    const r = run(["--rm", "-u", "1234:5678", "busybox", "sh", "-c", 'echo "$(id -u):$(id -g)"']);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("1234:5678\n");
  }, T);

  it("docker's mounts: --read-only root, --tmpfs, a -v bind mount, /etc/hosts", () => {
    const host = fs.mkdtempSync("/tmp/berth-docker-vol-");
    try {
      fs.writeFileSync(`${host}/f`, "from-host\n");
      const r = run(["--rm", "--read-only", "--tmpfs", "/scratch", "-v", `${host}:/data`, "busybox", "sh", "-c",
        "touch /x 2>/dev/null && echo root-rw || echo root-ro; touch /scratch/y && echo tmpfs-rw; cat /data/f; echo back > /data/g; grep -q localhost /etc/hosts && echo hosts"]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("root-ro\ntmpfs-rw\nfrom-host\nhosts\n");
      expect(r.code).toBe(0);
      expect(fs.readFileSync(`${host}/g`, "utf8")).toBe("back\n");
    } finally {
      fs.rmSync(host, { recursive: true, force: true });
    }
  }, T);

  it("docker run -d, docker exec (output, exit status, stdin, user, env, cwd) and docker stop", () => {
    const c = runDetached('trap "exit 0" TERM; echo started; while :; do sleep 0.1; done');
    expect(inspect(c, "{{.State.Status}}")).toBe("running");

    let r = docker(["exec", c, "sh", "-c", "echo hi; echo oops >&2; exit 5"]);
    expect(r.stdout).toBe("hi\n");
    expect(r.stderr).toBe("oops\n");
    expect(r.code).toBe(5);

    r = docker(["exec", "-i", c, "cat"], { stdin: "piped\n" });
    expect(r.stdout).toBe("piped\n");
    expect(r.code).toBe(0);

    r = docker(["exec", "-u", "1000", "-e", "X=y", "-w", "/tmp", c, "sh", "-c", 'echo "$(id -u) $X $(pwd)"']);
    expect(r.stdout).toBe("1000 y /tmp\n");

    // The exec'd process is in the container's pid namespace: pid 1 is the container's init.
    r = docker(["exec", c, "ps", "-o", "pid,args"]);
    expect(r.stdout).toMatch(/^\s*1 sh -c trap/m);

    const t0 = Date.now();
    r = docker(["stop", "-t", "20", c]);
    expect(r.code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(15_000); // SIGTERM reached the trap; no SIGKILL after 20 s
    expect(inspect(c, "{{.State.Status}} {{.State.ExitCode}}")).toBe("exited 0");
    expect(docker(["logs", c]).stdout).toBe("started\n");
  }, T);

  it("docker exec of a missing or non-executable command fails as with runc (126, with the runtime's message)", () => {
    const results = [RT, ...(RT === "runc" ? [] : ["runc"])].map((rt) => {
      const c = runDetached("sleep 1000", [], rt);
      const missing = docker(["exec", c, "nosuchcmd"]);
      const notExec = docker(["exec", c, "/etc/passwd"]);
      // docker 20.10 prints a failed exec start on stdout
      return { rt, missing: missing.code, notExec: notExec.code, missingErr: missing.stdout + missing.stderr, notExecErr: notExec.stdout + notExec.stderr };
    });
    const [ours] = results;
    expect(ours.missingErr).toContain("executable file not found");
    expect(ours.notExecErr).toContain("permission denied");
    expect(ours.missing).toBe(126); // docker exec reports a failed exec start as 126
    expect(ours.notExec).toBe(126);
    if (results[1]) expect([ours.missing, ours.notExec]).toEqual([results[1].missing, results[1].notExec]);
  }, T);

  it("docker run -it and docker exec -it get a terminal of the right size, and exit statuses pass through", () => {
    // The client sizes the terminal just after the start: wait for a size that is not 0 0.
    const size = 'for i in $(seq 50); do s=$(stty size 2>/dev/null); [ -n "$s" ] && [ "$s" != "0 0" ] && break; sleep 0.1; done; echo "size=$s"';
    const cmd = `tty; ${size}; [ -t 0 ] && echo stdin-tty; exit 7`;
    let r = underPty(`stty rows 30 cols 100; timeout --foreground -s KILL 20 ${DOCKER} run -it --rm --runtime ${RT} busybox sh -c ${sq(cmd)}`);
    expect(r.stdout).toContain("/dev/pts/0");
    expect(r.stdout).toContain("size=30 100");
    expect(r.stdout).toContain("stdin-tty");
    expect(r.code).toBe(7);

    const c = runDetached("sleep 1000");
    r = underPty(`stty rows 20 cols 90; timeout --foreground -s KILL 20 ${DOCKER} exec -it ${c} sh -c ${sq(`tty; ${size}; exit 4`)}`);
    expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
    expect(r.stdout).toContain("size=20 90");
    expect(r.code).toBe(4);
  }, T);

  it("docker top lists the container's processes by host pid", () => {
    const c = runDetached("sleep 1000 & sleep 1001; wait");
    const pid = +inspect(c, "{{.State.Pid}}");
    expect(pid).toBeGreaterThan(1);
    const r = docker(["top", c, "-o", "pid,args"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n").slice(1).map((l) => l.trim());
    expect(lines.some((l) => l.startsWith(`${pid} `))).toBe(true);
    expect(lines.filter((l) => /^\d+\s+sleep 100[01]$/.test(l)).length).toBe(2);
  }, T);

  it("docker stats --no-stream reads the container's cgroups", () => {
    const c = runDetached("sleep 1000 & sleep 1001; wait");
    const r = docker(["stats", "--no-stream", "--format", "{{.Name}}|{{.PIDs}}|{{.MemUsage}}", c]);
    expect(r.stderr).toBe("");
    const [name, pids, mem] = r.stdout.trim().split("|");
    expect(name).toBe(c);
    expect(+pids).toBe(3);
    expect(mem).not.toMatch(/^0B/);
  }, T);

  it("docker update changes memory, cpu and pids limits, seen inside and on the host", () => {
    const c = runDetached("sleep 1000");
    const r = docker(["update", "--memory", "64m", "--memory-swap", "128m", "--cpus", "0.5", "--pids-limit", "50", c]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const inside = docker(["exec", c, "sh", "-c", [
      "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max",
      "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d' ' -f1 /sys/fs/cgroup/cpu.max",
      "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max",
    ].join("; ")]);
    expect(inside.stdout).toBe("67108864\n50000\n50\n");
    const pid = +inspect(c, "{{.State.Pid}}");
    const mem = cgroupDirOf(pid, "memory")!;
    const limit = fs.existsSync(`${mem}/memory.limit_in_bytes`) ? `${mem}/memory.limit_in_bytes` : `${mem}/memory.max`;
    expect(fs.readFileSync(limit, "utf8").trim()).toBe("67108864");
    expect(mem).toContain(`/${d.cgroupParent}/`);
  }, T);

  it("docker pause freezes the container, exec is refused meanwhile, docker unpause thaws it", async () => {
    const c = runDetached("while :; do echo tick; sleep 0.05; done");
    const pid = +inspect(c, "{{.State.Pid}}");
    const ticks = () => docker(["logs", c]).stdout.split("\n").filter(Boolean).length;
    const freezer = cgroupDirOf(pid, "freezer")!;
    const frozen = () => fs.existsSync(`${freezer}/freezer.state`)
      ? fs.readFileSync(`${freezer}/freezer.state`, "utf8").trim() === "FROZEN"
      : fs.readFileSync(`${freezer}/cgroup.freeze`, "utf8").trim() === "1";
    await waitFor("the first ticks", () => ticks() > 0);

    let r = docker(["pause", c]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(inspect(c, "{{.State.Status}} {{.State.Paused}}")).toBe("paused true");
    expect(frozen()).toBe(true);
    const before = ticks();
    await Bun.sleep(400);
    expect(ticks()).toBe(before);
    r = docker(["exec", c, "true"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("paused");

    r = docker(["unpause", c]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(inspect(c, "{{.State.Status}} {{.State.Paused}}")).toBe("running false");
    expect(frozen()).toBe(false);
    await waitFor("ticks after unpause", () => ticks() > before);
    expect(docker(["exec", c, "true"]).code).toBe(0);
  }, T);

  it("docker kill -s USR1 reaches a trap in the container, which keeps running", async () => {
    const c = runDetached('trap "echo got-usr1" USR1; echo ready; while :; do sleep 0.05; done');
    await waitFor("the trap", () => docker(["logs", c]).stdout.includes("ready"));
    const r = docker(["kill", "-s", "USR1", c]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    await waitFor("got-usr1 in the logs", () => docker(["logs", c]).stdout.includes("got-usr1"));
    expect(inspect(c, "{{.State.Status}}")).toBe("running");
  }, T);

  it("docker restart stops the container and runs it again with a new init", async () => {
    const c = runDetached('trap "exit 0" TERM; echo started; while :; do sleep 0.05; done');
    const pid1 = +inspect(c, "{{.State.Pid}}");
    const r = docker(["restart", "-t", "10", c]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(inspect(c, "{{.State.Status}}")).toBe("running");
    const pid2 = +inspect(c, "{{.State.Pid}}");
    expect(pid2).not.toBe(pid1);
    expect(alive(pid1)).toBe(false);
    await waitFor("the second start", () => docker(["logs", c]).stdout === "started\nstarted\n");
    expect(docker(["exec", c, "echo", "again"]).stdout).toBe("again\n");
  }, T);

  it("docker rm -f removes a running container, its processes and its cgroups", async () => {
    const c = runDetached("sleep 1000 & sleep 1001; wait");
    const id = inspect(c, "{{.Id}}");
    const pid = +inspect(c, "{{.State.Pid}}");
    const cg = cgroupDirOf(pid, "pids")!;
    expect(cg).toEndWith(`/${d.cgroupParent}/${id}`);
    const pids = fs.readFileSync(`${cg}/cgroup.procs`, "utf8").trim().split("\n").map(Number);
    expect(pids.length).toBe(3);
    const r = docker(["rm", "-f", c]);
    expect(r.code).toBe(0);
    await waitFor("the container's processes to go", () => !pids.some(alive));
    await waitFor("the container's cgroup to go", () => !fs.existsSync(cg));
    expect(docker(["ps", "-aq", "--filter", `name=${c}`]).stdout).toBe("");
  }, T);

  it("with --pid host, removing the container kills every process in it (kill --all)", async () => {
    const c = runDetached("sleep 1001 & echo bg=$!; sleep 1002", ["--pid", "host"]);
    let bg = 0;
    await waitFor("the background pid", () => !!(bg = +(docker(["logs", c]).stdout.match(/bg=(\d+)/)?.[1] ?? 0)));
    expect(alive(bg)).toBe(true);
    const r = docker(["rm", "-f", c]);
    expect(r.code).toBe(0);
    await waitFor("the background process to go", () => !alive(bg));
  }, T);

  describe("exit statuses are runc's", () => {
    const cases: [string, number, string[], string?][] = [
      ["true", 0, ["true"]],
      ["exit 3", 3, ["sh", "-c", "exit 3"]],
      ["a file that is not executable", 126, ["/etc/passwd"], "permission denied"],
      ["a missing command", 127, ["nosuchcmd"], "executable file not found"],
    ];
    for (const [what, code, cmd, err] of cases) {
      it(`${what}: ${code}`, () => {
        const ours = run(["--rm", "busybox", ...cmd]);
        // docker derives 126/127 from the runtime's error text: both must be right.
        expect({ code: ours.code, stderr: ours.stderr }).toEqual({ code, stderr: err ? expect.stringContaining(err) : "" });
        if (RT !== "runc") expect(ours.code).toBe(run(["--rm", "busybox", ...cmd], { rt: "runc" }).code);
      }, T);
    }

    it("killed by SIGKILL (docker kill): 137", () => {
      const codes = [RT, ...(RT === "runc" ? [] : ["runc"])].map((rt) => {
        const c = runDetached("sleep 1000", [], rt);
        expect(docker(["kill", c]).code).toBe(0);
        return docker(["wait", c]).stdout.trim();
      });
      expect(codes[0]).toBe("137");
      if (codes[1]) expect(codes[0]).toBe(codes[1]);
    }, T);
  });

  it("a user-defined bridge network works (runs libnetwork's prestart hook)", () => {
    const net = uniq("net");
    const bridge = `bth${process.pid % 100000}`;
    let r = docker(["network", "create", "--driver", "bridge", "-o", `com.docker.network.bridge.name=${bridge}`, net]);
    expect(r.stderr).toBe("");
    try {
      const gw = docker(["network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", net]).stdout.trim();
      expect(gw).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      r = run(["--rm", "--network", net, "busybox", "sh", "-c", `ip -4 -o addr show eth0 && ping -c1 -W2 ${gw} >/dev/null && echo reached`]);
      expect(r.stdout).toContain("inet ");
      expect(r.stdout).toContain("reached");
      expect(r.code).toBe(0);
    } finally {
      d.removeAllContainers();
      docker(["network", "rm", net]);
    }
  }, T);

  it("the shim's calls, through a logging runtime, all succeed and get what the shim parses", async () => {
    const logDir = d.callsDir("logged");
    fs.rmSync(logDir, { recursive: true, force: true });
    fs.mkdirSync(logDir, { recursive: true });
    const c = runDetached('trap "echo usr1" USR1; while :; do sleep 0.05; done', [], "logged");
    const pid = +inspect(c, "{{.State.Pid}}");
    const steps = [
      docker(["exec", c, "true"]),
      docker(["top", c]),
      docker(["update", "--memory", "64m", "--memory-swap", "128m", c]),
      docker(["pause", c]),
      docker(["unpause", c]),
      docker(["kill", "-s", "USR1", c]),
      docker(["rm", "-f", c]),
    ];
    expect(steps.map((r) => r.stdout.includes("Error") ? r.stdout : r.stderr)).toEqual(steps.map(() => ""));
    await Bun.sleep(200); // the shim's cleanup `delete --force` runs after docker returns

    const calls = readRuntimeCalls(logDir);
    const seen = new Set(calls.map((k) => k.command));
    for (const cmd of ["create", "start", "exec", "ps", "update", "pause", "resume", "kill", "delete"]) expect(seen).toContain(cmd);
    // Every call succeeds, the cleanup `delete --force` of an already deleted container included.
    expect(calls.filter((k) => k.rc !== 0).map((k) => `${k.argv.join(" ")} -> ${k.rc}: ${k.log?.trim().split("\n").at(-1)}`)).toEqual([]);
    for (const k of calls) {
      // Global flags come first: --root DIR --log BUNDLE/log.json --log-format json.
      const globals = k.argv.slice(0, k.argv.indexOf(k.command));
      expect(globals[globals.indexOf("--root") + 1]).toMatch(/^\//);
      expect(globals[globals.indexOf("--log") + 1]).toEndWith("/log.json");
      expect(globals.slice(globals.indexOf("--log-format"), globals.indexOf("--log-format") + 2)).toEqual(["--log-format", "json"]);
      // Every line of the --log file is a JSON object with level and msg (the shim decodes it).
      for (const line of (k.log ?? "").split("\n").filter(Boolean)) {
        const o = JSON.parse(line);
        expect(typeof o.level).toBe("string");
        expect(typeof o.msg).toBe("string");
      }
    }
    // ps --format json: a JSON array of host pids, the init among them, nothing else on stdout/stderr.
    const ps = calls.find((k) => k.command === "ps")!;
    expect(ps.argv.slice(ps.argv.indexOf("ps"))).toEqual(["ps", "--format", "json", ps.argv.at(-1)!]);
    expect(JSON.parse(ps.stdout!)).toContain(pid);
    // update --resources - reads LinuxResources JSON from stdin.
    const up = calls.find((k) => k.command === "update")!;
    expect(JSON.parse(up.stdin!).memory.limit).toBe(64 * 1024 * 1024);
  }, T);

  it("a command that cannot be run fails `create`, and the --log file says why (docker's 127 comes from that text)", () => {
    const logDir = d.callsDir("logged");
    fs.rmSync(logDir, { recursive: true, force: true });
    fs.mkdirSync(logDir, { recursive: true });
    const r = run(["--rm", "busybox", "nosuchcmd"], { rt: "logged" });
    const calls = readRuntimeCalls(logDir);
    const create = calls.find((k) => k.command === "create");
    const errors = (create?.log ?? "").split("\n").filter(Boolean).map((l) => JSON.parse(l)).filter((o) => o.level === "error");
    expect({ createRc: create?.rc === 0 ? 0 : "failed", lastError: errors.at(-1)?.msg ?? "", code: r.code }).toEqual({
      createRc: "failed",
      lastError: expect.stringContaining("executable file not found"),
      code: 127,
    });
  }, T);
});
