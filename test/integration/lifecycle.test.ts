// runc's lifecycle contract: create, start, state, kill, delete, list, exec, hooks. Needs root.
import { describe, expect, test, afterAll } from "bun:test";
import fs from "node:fs";
import { berth, CAN_RUN, leftoverState, makeBundle, uniqueId, STATE_ROOT, BERTH, REPO, type Bundle } from "../helpers/bundle.ts";
import type { Spec } from "../../src/runtime/spec/types.ts";

const it = CAN_RUN ? test : test.skip;
afterAll(() => expect(leftoverState()).toEqual([]));

function stateOf(id: string) {
  const r = berth(["state", id]);
  return r.code === 0 ? JSON.parse(r.stdout) : { error: r.stderr };
}

/** create (+ start) a container running `args`; always force-deleted by the returned cleanup. */
function created(args: string[], edit?: (s: Spec) => void, start = false): { id: string; b: Bundle; done: () => void } {
  const b = makeBundle(args, edit);
  const id = uniqueId("lc");
  const r = berth(["create", "--bundle", b.dir, id], { detached: true });
  if (r.code !== 0) throw new Error(`create failed: ${r.stderr}`);
  if (start) {
    const s = berth(["start", id]);
    if (s.code !== 0) throw new Error(`start failed: ${s.stderr}`);
  }
  return {
    id, b, done: () => {
      berth(["delete", "--force", id]);
      b.cleanup();
    },
  };
}

function waitStatus(id: string, status: string, ms = 3000): string {
  const deadline = Date.now() + ms;
  let s = "";
  while (Date.now() < deadline) {
    s = stateOf(id).status;
    if (s === status) return s;
    Bun.sleepSync(10);
  }
  return s;
}

describe("create / start / state / kill / delete", () => {
  it("create leaves the process waiting; start runs it; state follows created -> running -> stopped", () => {
    const c = created(["sh", "-c", "echo ran > /tmp/ran; exec sleep 30"], (s) => (s.root!.readonly = false));
    try {
      const st = stateOf(c.id);
      expect(st.status).toBe("created");
      expect(st.pid).toBeGreaterThan(0);
      expect(st.id).toBe(c.id);
      expect(st.bundle).toBe(c.b.dir);
      expect(st.ociVersion).toBe("1.0.2-dev");
      expect(fs.existsSync(`${c.b.dir}/rootfs/tmp/ran`)).toBe(false);
      expect(berth(["start", c.id]).code).toBe(0);
      expect(waitStatus(c.id, "running")).toBe("running");
      for (let i = 0; i < 100 && !fs.existsSync(`${c.b.dir}/rootfs/tmp/ran`); i++) Bun.sleepSync(10);
      expect(fs.existsSync(`${c.b.dir}/rootfs/tmp/ran`)).toBe(true);
      expect(berth(["kill", c.id, "KILL"]).code).toBe(0);
      expect(waitStatus(c.id, "stopped")).toBe("stopped");
      expect(stateOf(c.id).pid).toBe(0);
      expect(berth(["delete", c.id]).code).toBe(0);
      expect(stateOf(c.id).error).toContain("does not exist");
    } finally {
      c.done();
    }
  });

  it("writes the init pid to --pid-file at create", () => {
    const b = makeBundle(["sleep", "30"]);
    const id = uniqueId("lc");
    try {
      expect(berth(["create", "--pid-file", `${b.dir}/pid`, "--bundle", b.dir, id], { detached: true }).code).toBe(0);
      expect(Number(fs.readFileSync(`${b.dir}/pid`, "utf8"))).toBe(stateOf(id).pid);
    } finally {
      berth(["delete", "--force", id]);
      b.cleanup();
    }
  });

  it("refuses operations in the wrong state with a clear error", () => {
    const c = created(["sleep", "30"]);
    try {
      const del = berth(["start", c.id]);
      expect(del.code).toBe(0);
      const again = berth(["start", c.id]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain("it is running, not created");
      const d = berth(["delete", c.id]);
      expect(d.code).toBe(1);
      expect(d.stderr).toContain("not stopped: running");
      expect(berth(["delete", "--force", c.id]).code).toBe(0);
      expect(berth(["kill", c.id]).stderr).toContain("does not exist");
    } finally {
      c.done();
    }
  });

  it("deletes a created container without --force (its waiting process is killed)", () => {
    const c = created(["sleep", "30"]);
    try {
      const pid = stateOf(c.id).pid;
      expect(berth(["delete", c.id]).code).toBe(0);
      expect(fs.existsSync(`/proc/${pid}/stat`) && !fs.readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z")).toBe(false);
      expect(fs.existsSync(`/sys/fs/cgroup/pids/berth/${c.id}`)).toBe(false);
    } finally {
      c.done();
    }
  });

  it("kill accepts names and numbers, and --all signals every process", () => {
    const c = created(["sh", "-c", "trap 'echo usr1 > /tmp/sig' USR1; sleep 30 & wait; sleep 30 & wait"], (s) => (s.root!.readonly = false), true);
    try {
      Bun.sleepSync(100);
      expect(berth(["kill", c.id, "SIGUSR1"]).code).toBe(0);
      for (let i = 0; i < 100 && !fs.existsSync(`${c.b.dir}/rootfs/tmp/sig`); i++) Bun.sleepSync(10);
      expect(fs.readFileSync(`${c.b.dir}/rootfs/tmp/sig`, "utf8").trim()).toBe("usr1");
      expect(berth(["kill", c.id, "NOPE"]).stderr).toContain('unknown signal "NOPE"');
      expect(berth(["kill", "--all", c.id, "9"]).code).toBe(0);
      expect(waitStatus(c.id, "stopped")).toBe("stopped");
    } finally {
      c.done();
    }
  });

  it("detects a dead init even when state.json still names it", () => {
    const c = created(["sleep", "30"], undefined, true);
    try {
      process.kill(stateOf(c.id).pid, "SIGKILL");
      expect(waitStatus(c.id, "stopped")).toBe("stopped");
      expect(berth(["start", c.id]).stderr).toContain("stopped");
    } finally {
      c.done();
    }
  });

  it("detects a reused pid (start time differs)", () => {
    const c = created(["sleep", "30"], undefined, true);
    try {
      const file = `${STATE_ROOT}/${c.id}/state.json`;
      const st = JSON.parse(fs.readFileSync(file, "utf8"));
      fs.writeFileSync(file, JSON.stringify({ ...st, pid: process.pid }));
      expect(stateOf(c.id).status).toBe("stopped");
      fs.writeFileSync(file, JSON.stringify(st));
    } finally {
      c.done();
    }
  });

  it("lists containers as a table and as JSON", () => {
    const c = created(["sleep", "30"]);
    try {
      const t = berth(["list"]);
      expect(t.stdout.split("\n")[0]).toMatch(/^ID +PID +STATUS +BUNDLE +CREATED +OWNER$/);
      expect(t.stdout).toMatch(new RegExp(`${c.id} +\\d+ +created +${c.b.dir}`));
      const j = JSON.parse(berth(["list", "--format", "json"]).stdout);
      expect(j.find((x: { id: string }) => x.id === c.id).status).toBe("created");
      expect(berth(["list", "-q"]).stdout.split("\n")).toContain(c.id);
    } finally {
      c.done();
    }
  });

  it("serializes concurrent operations on one container", async () => {
    const c = created(["sleep", "30"]);
    try {
      // Two starts at once: exactly one wins, the other sees "running".
      const p = [0, 1].map(() => Bun.spawn([BERTH, "--root", STATE_ROOT, "start", c.id], { stdout: "ignore", stderr: "pipe" }));
      const codes = await Promise.all(p.map((x) => x.exited));
      expect(codes.sort()).toEqual([0, 1]);
    } finally {
      c.done();
    }
  });
});

describe("exec", () => {
  it("runs a process in the container's namespaces with its settings, passing the exit status", () => {
    const c = created(["sleep", "30"], (s) => (s.hostname = "exechost"), true);
    try {
      const r = berth(["exec", c.id, "sh", "-c", "hostname; echo pid=$$; grep -E 'CapEff|NoNewPrivs' /proc/self/status; cat /proc/1/cmdline; exit 5"]);
      expect(r.code).toBe(5);
      expect(r.stdout).toContain("exechost");
      expect(r.stdout).not.toContain("pid=1\n");
      expect(r.stdout).toMatch(/CapEff:\s+0000000020000420/);
      expect(r.stdout).toMatch(/NoNewPrivs:\s+1/);
      expect(r.stdout).toContain("sleep");
    } finally {
      c.done();
    }
  });

  it("joins the container's cgroup", () => {
    const c = created(["sleep", "30"], undefined, true);
    try {
      const r = berth(["exec", c.id, "cat", "/proc/self/cgroup"]);
      expect(r.stdout).toContain(`/berth/${c.id}`);
    } finally {
      c.done();
    }
  });

  it("applies -e, --cwd, -u and --cap", () => {
    const c = created(["sleep", "30"], undefined, true);
    try {
      const r = berth(["exec", "-e", "FOO=bar", "--cwd", "/tmp", "-u", "1000:1000", "--cap", "CAP_NET_RAW", c.id, "sh", "-c", "echo $FOO; pwd; id -u; grep CapBnd /proc/self/status"]);
      expect(r.stderr).toBe("");
      const lines = r.stdout.trim().split("\n");
      expect(lines.slice(0, 3)).toEqual(["bar", "/tmp", "1000"]);
      expect(lines[3]).toMatch(/CapBnd:\s+0000000020002420/);
    } finally {
      c.done();
    }
  });

  it("runs --process process.json", () => {
    const c = created(["sleep", "30"], undefined, true);
    try {
      const p = `${c.b.dir}/process.json`;
      fs.writeFileSync(p, JSON.stringify({ args: ["sh", "-c", "echo from-json $X"], env: ["X=1", "PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 } }));
      const r = berth(["exec", "--process", p, c.id]);
      expect(r.stdout.trim()).toBe("from-json 1");
    } finally {
      c.done();
    }
  });

  it("detaches with -d and writes the pid file; the process lives in the container", () => {
    const c = created(["sleep", "30"], undefined, true);
    try {
      const r = berth(["exec", "-d", "--pid-file", `${c.b.dir}/epid`, c.id, "sleep", "20"], { detached: true });
      expect(r.code).toBe(0);
      const pid = Number(fs.readFileSync(`${c.b.dir}/epid`, "utf8"));
      expect(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8")).toBe("sleep\x0020\x00");
      const ns = (p: number) => fs.readlinkSync(`/proc/${p}/ns/pid`);
      expect(ns(pid)).toBe(ns(stateOf(c.id).pid));
    } finally {
      c.done();
    }
  });

  it("reports a missing command with runc's words and refuses a stopped container", () => {
    const c = created(["sleep", "30"], undefined, true);
    try {
      const r = berth(["exec", c.id, "nope"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('exec: "nope": executable file not found in $PATH');
      berth(["kill", c.id, "KILL"]);
      waitStatus(c.id, "stopped");
      expect(berth(["exec", c.id, "true"]).stderr).toContain("it is stopped");
    } finally {
      c.done();
    }
  });

  it("applies the container's seccomp filter", () => {
    const c = created(["sleep", "30"], (s) => {
      s.linux!.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1 }] };
    }, true);
    try {
      const r = berth(["exec", c.id, "sh", "-c", "grep Seccomp: /proc/self/status; mkdir /tmp/x 2>&1"]);
      expect(r.stdout).toMatch(/Seccomp:\s+2/);
      expect(r.stdout).toContain("Operation not permitted");
    } finally {
      c.done();
    }
  });
});

describe("hooks", () => {
  function hookScript(b: Bundle, name: string, body: string): string {
    const p = `${b.dir}/${name}.sh`;
    fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return p;
  }

  it("runs each kind at its moment with the state on stdin", () => {
    const b = makeBundle(["sleep", "30"]);
    const log = `${b.dir}/hooks.log`;
    const id = uniqueId("hk");
    // createContainer runs inside the container's mount namespace but before pivot_root: it can
    // still reach the host path; startContainer runs in the container (its /bin/sh, its files).
    const h = (kind: string) => hookScript(b, kind, `read -r state; echo "${kind} $(echo "$state" | grep -o '"status":"[a-z]*"')" >> ${log}`);
    b.spec.hooks = {
      prestart: [{ path: h("prestart") }],
      createRuntime: [{ path: h("createRuntime") }],
      createContainer: [{ path: h("createContainer") }],
      startContainer: [{ path: "/bin/sh", args: ["sh", "-c", "cat > /dev/null; echo startContainer > /tmp/started"] }],
      poststart: [{ path: h("poststart") }],
      poststop: [{ path: h("poststop") }],
    };
    b.spec.root!.readonly = false;
    b.write();
    try {
      expect(berth(["create", "--bundle", b.dir, id], { detached: true }).stderr).toBe("");
      expect(fs.readFileSync(log, "utf8").trim().split("\n")).toEqual([
        'prestart "status":"creating"', 'createRuntime "status":"creating"', 'createContainer "status":"created"',
      ]);
      expect(berth(["start", id]).code).toBe(0);
      expect(fs.readFileSync(log, "utf8")).toContain('poststart "status":"running"');
      for (let i = 0; i < 100 && !fs.existsSync(`${b.dir}/rootfs/tmp/started`); i++) Bun.sleepSync(10);
      expect(fs.existsSync(`${b.dir}/rootfs/tmp/started`)).toBe(true);
      expect(berth(["delete", "--force", id]).code).toBe(0);
      expect(fs.readFileSync(log, "utf8")).toContain('poststop "status":"stopped"');
    } finally {
      berth(["delete", "--force", id]);
      b.cleanup();
    }
  });

  it("a relative hook path runs from where runc runs it: the bundle, the rootfs for createContainer, the cwd for startContainer", () => {
    const b = makeBundle(["sleep", "30"]);
    const id = uniqueId("hk");
    const log = `${b.dir}/where.log`;
    // the same relative name exists in the bundle, in the rootfs and in the process cwd: the
    // script's own text says which one ran, and pwd where it ran
    const script = (which: string) => `#!/bin/sh\necho "$1 ${which} $(pwd)" >> ${which === "cwd" ? "/tmp/where.log" : log}\n`;
    fs.mkdirSync(`${b.dir}/hk`);
    fs.writeFileSync(`${b.dir}/hk/run.sh`, script("bundle"), { mode: 0o755 });
    fs.mkdirSync(`${b.dir}/rootfs/hk`);
    fs.writeFileSync(`${b.dir}/rootfs/hk/run.sh`, script("rootfs"), { mode: 0o755 });
    fs.mkdirSync(`${b.dir}/rootfs/work/hk`, { recursive: true });
    fs.writeFileSync(`${b.dir}/rootfs/work/hk/run.sh`, script("cwd"), { mode: 0o755 });
    const hook = (kind: string) => [{ path: "hk/run.sh", args: ["run.sh", kind] }];
    b.spec.hooks = {
      prestart: hook("prestart"), createRuntime: hook("createRuntime"), createContainer: hook("createContainer"),
      startContainer: hook("startContainer"), poststart: hook("poststart"), poststop: hook("poststop"),
    };
    b.spec.process!.cwd = "/work";
    b.spec.root!.readonly = false;
    b.write();
    try {
      // from another directory, so berth's own cwd is not the answer
      expect(berth(["create", "--bundle", b.dir, id], { detached: true, cwd: "/" }).stderr).toBe("");
      expect(berth(["start", id], { cwd: "/" }).code).toBe(0);
      for (let i = 0; i < 100 && !fs.existsSync(`${b.dir}/rootfs/tmp/where.log`); i++) Bun.sleepSync(10);
      expect(berth(["delete", "--force", id], { cwd: "/" }).code).toBe(0);
      expect(fs.readFileSync(log, "utf8").trim().split("\n")).toEqual([
        `prestart bundle ${b.dir}`, `createRuntime bundle ${b.dir}`, `createContainer rootfs ${b.dir}/rootfs`,
        `poststart bundle ${b.dir}`, `poststop bundle ${b.dir}`,
      ]);
      expect(fs.readFileSync(`${b.dir}/rootfs/tmp/where.log`, "utf8")).toBe("startContainer cwd /work\n");
    } finally {
      berth(["delete", "--force", id]);
      b.cleanup();
    }
  });

  it("a failing createRuntime hook fails create and leaves nothing behind", () => {
    const b = makeBundle(["sleep", "30"]);
    const id = uniqueId("hk");
    b.spec.hooks = { createRuntime: [{ path: hookScript(b, "fail", "exit 3") }] };
    b.write();
    try {
      const r = berth(["create", "--bundle", b.dir, id], { detached: true });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("createRuntime hook");
      expect(r.stderr).toContain("exited with status 3");
      expect(r.stderr).toContain("hooks.createRuntime[0]");
      expect(fs.existsSync(`${STATE_ROOT}/${id}`)).toBe(false);
      expect(fs.existsSync(`/sys/fs/cgroup/pids/berth/${id}`)).toBe(false);
    } finally {
      b.cleanup();
    }
  });

  it("a failing createContainer hook names itself and its status", () => {
    const b = makeBundle(["sleep", "30"]);
    const id = uniqueId("hk");
    b.spec.hooks = { createContainer: [{ path: hookScript(b, "cc", "exit 7") }] };
    b.write();
    try {
      const r = berth(["create", "--bundle", b.dir, id], { detached: true });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/createContainer hook .*cc\.sh exited with status 7 \[field hooks\.createContainer\[0\]\]/);
      expect(leftoverState()).not.toContain(id);
    } finally {
      b.cleanup();
    }
  });

  it("kills a hook that runs past its timeout", () => {
    const b = makeBundle(["true"]);
    b.spec.hooks = { createContainer: [{ path: hookScript(b, "slow", "sleep 10"), timeout: 1 }] };
    b.write();
    try {
      const t0 = Date.now();
      const r = berth(["run", "--bundle", b.dir, uniqueId("hk")]);
      expect(r.stderr).toContain("timed out after 1s");
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      b.cleanup();
    }
  });
});

describe("console socket", () => {
  it("sends the pty master over --console-socket (SCM_RIGHTS) for create and exec -t", async () => {
    const { recvttyBinary, TEST_TMP } = await import("../helpers/bundle.ts");
    const recv = recvttyBinary();
    const b = makeBundle(["sh", "-c", "tty; read x; echo got-$x; sleep 30"], (s) => (s.process!.terminal = true));
    const id = uniqueId("tty");
    const sock = `${TEST_TMP}/${id}.sock`, out = `${TEST_TMP}/${id}.out`;
    const receiver = Bun.spawn([recv, sock, out, "hello\n"], { stdout: "pipe" });
    const reader = receiver.stdout.getReader();
    await reader.read(); // "listening"
    try {
      const r = berth(["create", "--console-socket", sock, "--bundle", b.dir, id], { detached: true });
      expect(r.stderr).toBe("");
      expect(new TextDecoder().decode((await reader.read()).value)).toContain("received /dev/pts/0");
      expect(berth(["start", id]).code).toBe(0);
      for (let i = 0; i < 200 && !(fs.existsSync(out) && fs.readFileSync(out, "utf8").includes("got-hello")); i++) Bun.sleepSync(10);
      const text = fs.readFileSync(out, "utf8");
      expect(text).toContain("/dev/pts/0");
      expect(text).toContain("got-hello");

      // exec -t with its own console socket
      const sock2 = `${TEST_TMP}/${id}.2.sock`, out2 = `${TEST_TMP}/${id}.2.out`;
      const r2p = Bun.spawn([recv, sock2, out2], { stdout: "pipe" });
      const rd2 = r2p.stdout.getReader();
      await rd2.read();
      const e = berth(["exec", "-t", "-d", "--console-socket", sock2, id, "sh", "-c", "tty; echo exec-tty"], { detached: true });
      expect(e.stderr).toBe("");
      await r2p.exited;
      expect(fs.readFileSync(out2, "utf8")).toContain("exec-tty");
      expect(fs.readFileSync(out2, "utf8")).toMatch(/\/dev\/pts\/\d/);
    } finally {
      receiver.kill();
      berth(["delete", "--force", id]);
      b.cleanup();
    }
  });
});

describe("global flags", () => {
  it("accepts --systemd-cgroup with a slice:prefix:name cgroupsPath", () => {
    const b = makeBundle(["cat", "/proc/self/cgroup"], (s) => (s.linux!.cgroupsPath = "system.slice:berthtest:abc"));
    try {
      const r = berth(["--systemd-cgroup", "run", "--bundle", b.dir, uniqueId("sd")]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain("/system.slice/berthtest-abc.scope");
      expect(fs.existsSync("/sys/fs/cgroup/pids/system.slice/berthtest-abc.scope")).toBe(false);
    } finally {
      b.cleanup();
    }
  });

  it("prints its version like runc", () => {
    const r = berth(["--version"]);
    expect(r.stdout).toMatch(/^berth version \d+\.\d+\.\d+\ncommit: \S+\nspec: 1\.\d+\.\d+\nbun: \S+\n$/);
    // the checkout's commit, read without git
    const head = Bun.spawnSync(["git", "-C", REPO, "rev-parse", "HEAD"]).stdout.toString().trim();
    if (head) expect(r.stdout).toContain(`commit: ${head}\n`);
    expect(berth(["-v"]).stdout).toBe(r.stdout);
  });

  it("has -h, --help and `help CMD` for every command", () => {
    const cmds = berth(["--help"]).stdout.split("commands:\n")[1].split("\n\n")[0].split("\n").map((l) => l.trim().split(/\s+/)[0]).filter((c) => c && c !== "help");
    expect(cmds.length).toBeGreaterThan(10);
    for (const c of cmds) {
      const long = berth([c, "--help"]);
      expect([c, long.code, long.stderr]).toEqual([c, 0, ""]);
      expect(long.stdout.toLowerCase()).toStartWith(`usage: berth ${c}`);
      expect(berth([c, "-h"]).stdout).toBe(long.stdout);
      expect(berth(["help", c]).stdout).toBe(long.stdout);
    }
    const bad = berth(["help", "nosuch"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('no help topic for "nosuch"');
  });
});
