// runc's exec behaviours (issue 6 §5), checked against runc 1.1.5 on the same bundles: exit
// codes, paused and created containers, --cgroup, the pty's owner and size. Needs root.
import { describe, expect, test, afterAll } from "bun:test";
import fs from "node:fs";
import { BERTH, berth, CAN_RUN, leftoverState, makeBundle, recvttyBinary, STATE_ROOT, TEST_TMP, uniqueId, type Bundle } from "../helpers/bundle.ts";
import type { Spec } from "../../src/runtime/spec/types.ts";

const it = CAN_RUN ? test : test.skip;
afterAll(() => expect(leftoverState()).toEqual([]));

function container(args: string[], opts: { start?: boolean; edit?: (s: Spec) => void } = {}): { id: string; b: Bundle; done: () => void } {
  const b = makeBundle(args, (s) => {
    s.root!.readonly = false;
    opts.edit?.(s);
  });
  const id = uniqueId("ex");
  const r = berth(["create", "--bundle", b.dir, id], { detached: true });
  if (r.code !== 0) throw new Error(`create failed: ${r.stderr}`);
  if (opts.start !== false && berth(["start", id]).code !== 0) throw new Error("start failed");
  return { id, b, done: () => (berth(["delete", "--force", id]), b.cleanup()) };
}

const status = (id: string) => JSON.parse(berth(["state", id]).stdout).status as string;

describe("exec exit status", () => {
  it("is the process's own, 255 when exec itself fails (as runc), 1 for a bad flag", () => {
    const c = container(["sleep", "60"]);
    try {
      expect(berth(["exec", c.id, "true"]).code).toBe(0);
      expect(berth(["exec", c.id, "false"]).code).toBe(1);
      expect(berth(["exec", c.id, "sh", "-c", "exit 7"]).code).toBe(7);
      const missing = berth(["exec", c.id, "no-such-program"]);
      expect(missing.code).toBe(255);
      expect(missing.stderr).toContain("no-such-program");
      expect(berth(["exec", "no-such-container", "true"]).code).toBe(255);
      expect(berth(["exec", c.id]).code).toBe(255); // no command
      expect(berth(["exec", "--bogus", c.id, "true"]).code).toBe(1);
      berth(["kill", c.id, "KILL"]);
      for (let i = 0; i < 100 && status(c.id) !== "stopped"; i++) Bun.sleepSync(10);
      const stopped = berth(["exec", c.id, "true"]);
      expect(stopped.code).toBe(255);
      expect(stopped.stderr).toContain("stopped");
    } finally {
      c.done();
    }
  });
});

describe("exec and the container's status", () => {
  it("a created (not started) container takes an exec and stays created", () => {
    const c = container(["sleep", "60"], { start: false });
    try {
      const r = berth(["exec", c.id, "sh", "-c", "echo in; cat /proc/1/cmdline >/dev/null"]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("in\n");
      expect(r.code).toBe(0);
      expect(status(c.id)).toBe("created");
    } finally {
      c.done();
    }
  });

  it("a paused container is refused unless --ignore-paused; then the process runs once resumed", async () => {
    const c = container(["sleep", "60"]);
    try {
      expect(berth(["pause", c.id]).code).toBe(0);
      const r = berth(["exec", c.id, "true"]);
      expect(r.code).toBe(255);
      expect(r.stderr).toContain("paused");
      expect(r.stderr).toContain("--ignore-paused");
      // With --ignore-paused the new process joins the frozen cgroup and waits for the thaw.
      const marker = `${c.b.dir}/rootfs/tmp/ran`;
      const exec = Bun.spawn([BERTH, "--root", STATE_ROOT, "exec", "--ignore-paused", "-d", c.id, "touch", "/tmp/ran"], { stdout: "ignore", stderr: "pipe" });
      Bun.sleepSync(200);
      expect(fs.existsSync(marker)).toBe(false);
      expect(berth(["resume", c.id]).code).toBe(0);
      expect(await exec.exited).toBe(0);
      for (let i = 0; i < 200 && !fs.existsSync(marker); i++) Bun.sleepSync(10);
      expect(fs.existsSync(marker)).toBe(true);
    } finally {
      berth(["resume", c.id]);
      c.done();
    }
  });
});

describe("exec --cgroup", () => {
  const dirsOf = (id: string): string[] => JSON.parse(fs.readFileSync(`${STATE_ROOT}/${id}/state.json`, "utf8")).cgroup.dirs;
  const hierarchiesOf = (id: string): { dir: string; controllers: string[]; version: number }[] =>
    JSON.parse(fs.readFileSync(`${STATE_ROOT}/${id}/state.json`, "utf8")).cgroup.hierarchies;

  it("runs the process in an existing sub-cgroup: of every hierarchy, or of the controllers named", () => {
    const c = container(["sleep", "60"]);
    try {
      for (const d of dirsOf(c.id)) {
        fs.mkdirSync(`${d}/sub`);
        // A new v1 cpuset starts empty and takes no task until given cpus and mems.
        for (const f of ["cpuset.cpus", "cpuset.mems"]) if (fs.existsSync(`${d}/${f}`)) fs.writeFileSync(`${d}/sub/${f}`, fs.readFileSync(`${d}/${f}`));
      }
      const all = berth(["exec", "--cgroup", "sub", c.id, "cat", "/proc/self/cgroup"]);
      expect(all.stderr).toBe("");
      expect(all.code).toBe(0);
      const lines = all.stdout.trim().split("\n");
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) expect(l).toEndWith("/sub");

      const memory = hierarchiesOf(c.id).some((h) => h.controllers.includes("memory"));
      if (memory) {
        const one = berth(["exec", "--cgroup", "memory:sub", c.id, "cat", "/proc/self/cgroup"]);
        expect(one.code).toBe(0);
        for (const l of one.stdout.trim().split("\n")) expect(l.endsWith("/sub")).toBe(/^\d+:memory:/.test(l));
      }
    } finally {
      c.done();
    }
  });

  it("refuses a missing sub-cgroup, one outside the container's, an unknown controller (255, one line)", () => {
    const c = container(["sleep", "60"]);
    try {
      for (const [arg, words] of [["nope", "must exist"], ["../../x", "below the container"], ["bogus:sub", "unknown cgroup controller bogus"], ["a:b:c", "expected"]] as const) {
        const r = berth(["exec", "--cgroup", arg, c.id, "true"]);
        expect(r.code).toBe(255);
        expect(r.stderr).toContain(words);
        expect(r.stderr.trim().split("\n").length).toBe(1);
      }
    } finally {
      c.done();
    }
  });
});

describe("terminals", () => {
  const ttyUser = (s: Spec) => {
    s.process!.terminal = true;
    s.process!.user = { uid: 1000, gid: 100 };
  };

  it("run: the pty belongs to the process's uid (gid: devpts's tty group), and process.consoleSize sizes it", () => {
    const b = makeBundle(["sh", "-c", "stat -c %u:%g $(tty); stty size"], (s) => {
      ttyUser(s);
      s.process!.consoleSize = { height: 10, width: 110 };
    });
    try {
      const r = berth(["run", "--bundle", b.dir, uniqueId("ex")]);
      expect(r.code).toBe(0);
      expect(r.stdout.replace(/\r/g, "").split("\n").slice(0, 2)).toEqual(["1000:5", "10 110"]);
    } finally {
      b.cleanup();
    }
  });

  it("run -d and exec -t -d with --console-socket: the pty belongs to the process's uid", async () => {
    const recv = recvttyBinary();
    /** What the process wrote on the pty sent to a fresh socket, once the pty closed. */
    const viaSocket = async (name: string, start: (sock: string) => void): Promise<string> => {
      const sock = `${TEST_TMP}/${name}.sock`, out = `${TEST_TMP}/${name}.out`;
      const receiver = Bun.spawn([recv, sock, out], { stdout: "pipe" });
      await receiver.stdout.getReader().read(); // "listening"
      try {
        start(sock);
        await receiver.exited;
        return fs.readFileSync(out, "utf8").replace(/\r/g, "");
      } finally {
        receiver.kill();
      }
    };
    const b = makeBundle(["sh", "-c", "stat -c %u:%g $(tty)"], ttyUser);
    const id = uniqueId("ex");
    try {
      const run = await viaSocket(id, (sock) => expect(berth(["run", "-d", "--console-socket", sock, "--bundle", b.dir, id], { detached: true }).stderr).toBe(""));
      expect(run).toContain("1000:5");
    } finally {
      berth(["delete", "--force", id]);
      b.cleanup();
    }
    const c = container(["sleep", "60"]);
    try {
      const exec = await viaSocket(`${c.id}-exec`, (sock) =>
        expect(berth(["exec", "-t", "-d", "-u", "2000:100", "--console-socket", sock, c.id, "sh", "-c", "stat -c %u:%g $(tty)"], { detached: true }).stderr).toBe(""));
      expect(exec).toContain("2000:5");
    } finally {
      c.done();
    }
  });

  it("exec -t: the pty belongs to the exec'd process's user; -p process.json's consoleSize sizes it", () => {
    const c = container(["sleep", "60"]);
    try {
      const owner = berth(["exec", "-t", "-u", "1000:100", c.id, "sh", "-c", "stat -c %u:%g $(tty)"]);
      expect(owner.code).toBe(0);
      expect(owner.stdout.replace(/\r/g, "").trim()).toBe("1000:5");
      const proc = `${TEST_TMP}/process-${c.id}.json`;
      fs.writeFileSync(proc, JSON.stringify({
        terminal: true, consoleSize: { height: 10, width: 110 }, user: { uid: 0, gid: 0 }, cwd: "/",
        args: ["sh", "-c", "stty size; stat -c %u:%g $(tty)"], env: ["PATH=/bin"],
      }));
      const sized = berth(["exec", "-p", proc, c.id]);
      expect(sized.stderr).toBe("");
      expect(sized.stdout.replace(/\r/g, "").trim().split("\n")).toEqual(["10 110", "0:5"]);
    } finally {
      c.done();
    }
  });
});
