// `berth run` of real containers: what the container sees from inside, exit statuses, signals,
// and that failures leave nothing behind. Needs root and busybox-static (CI installs it).
import { describe, expect, test, afterAll } from "bun:test";
import fs from "node:fs";
import { berth, CAN_RUN, killDetached, leftoverState, makeBundle, probeBinary, runIn, uniqueId, STATE_ROOT, BERTH } from "../helpers/bundle.ts";

const it = CAN_RUN ? test : test.skip;

afterAll(() => {
  expect(leftoverState()).toEqual([]);
});

function statusField(status: string, name: string): string {
  const m = status.match(new RegExp(`^${name}:\\s*(\\S+)`, "m"));
  return m ? m[1] : "";
}

describe("berth run: what the container sees", () => {
  it("runs as pid 1 with the spec's hostname, and passes the exit status through", () => {
    const r = runIn(["sh", "-c", "echo pid=$$ host=$(hostname); exit 3"], (s) => (s.hostname = "boxy"));
    expect(r.stdout).toContain("pid=1 host=boxy");
    expect(r.code).toBe(3);
  });

  it("exits 128+N when the container process dies of signal N", () => {
    const r = runIn(["sh", "-c", "kill -9 $$"], (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "pid"); // pid 1 ignores signals
    });
    expect(r.code).toBe(137);
  });

  it("applies the default capability sets and no_new_privs", () => {
    const r = runIn(["cat", "/proc/self/status"]);
    expect(r.code).toBe(0);
    // CAP_KILL(5) CAP_NET_BIND_SERVICE(10) CAP_AUDIT_WRITE(29)
    expect(statusField(r.stdout, "CapBnd")).toBe("0000000020000420");
    expect(statusField(r.stdout, "CapEff")).toBe("0000000020000420");
    expect(statusField(r.stdout, "CapPrm")).toBe("0000000020000420");
    expect(statusField(r.stdout, "NoNewPrivs")).toBe("1");
  });

  it("sets inheritable and ambient capabilities when the spec asks", () => {
    const caps = ["CAP_CHOWN", "CAP_NET_RAW"];
    const r = runIn(["cat", "/proc/self/status"], (s) => {
      s.process!.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: caps, ambient: caps };
      s.process!.user = { uid: 1000, gid: 1000 };
    });
    expect(r.code).toBe(0);
    // CAP_CHOWN(0) CAP_NET_RAW(13) = 0x2001; ambient survives exec for a non-root user
    expect(statusField(r.stdout, "CapAmb")).toBe("0000000000002001");
    expect(statusField(r.stdout, "CapEff")).toBe("0000000000002001");
    expect(statusField(r.stdout, "CapInh")).toBe("0000000000002001");
  });

  it("runs as the spec's uid, gid and additional gids, with its umask", () => {
    const r = runIn(["sh", "-c", "id -u; id -g; id -G; umask"], (s) => {
      s.process!.user = { uid: 1234, gid: 5678, additionalGids: [11, 22], umask: 0o027 };
    });
    expect(r.code).toBe(0);
    const [uid, gid, groups, umask] = r.stdout.trim().split("\n");
    expect(uid).toBe("1234");
    expect(gid).toBe("5678");
    expect(groups.split(" ").sort()).toEqual(["11", "22", "5678"]);
    expect(umask).toBe("0027");
  });

  it("applies rlimits", () => {
    const r = runIn(["sh", "-c", "ulimit -n; ulimit -Hn"], (s) => {
      s.process!.rlimits = [{ type: "RLIMIT_NOFILE", soft: 321, hard: 654 }];
    });
    expect(r.stdout.trim().split("\n")).toEqual(["321", "654"]);
  });

  it("mounts a read-only root, proc, a tmpfs /dev with the standard devices, devpts, mqueue, sysfs", () => {
    const r = runIn(["sh", "-c", "cat /proc/self/mountinfo; ls -l /dev; touch /x 2>&1; echo done"]);
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/ \/ ro[, ]/m); // root read-only
    expect(out).toMatch(/ \/proc rw.* - proc proc /);
    expect(out).toMatch(/ \/dev rw,nosuid.* - tmpfs tmpfs rw.*size=65536k,mode=755/);
    expect(out).toMatch(/ \/dev\/pts .* - devpts devpts .*mode=620,ptmxmode=666/);
    expect(out).toMatch(/ \/dev\/mqueue .* - mqueue mqueue/);
    expect(out).toMatch(/ \/sys ro,nosuid,nodev,noexec.* - sysfs sysfs/);
    expect(out).toMatch(/crw-rw-rw- +1 root +root +1, +3 .* null/);
    expect(out).toMatch(/crw-rw-rw- +1 root +root +5, +0 .* tty/);
    expect(out).toMatch(/ptmx -> pts\/ptmx/);
    expect(out).toMatch(/fd -> \/proc\/self\/fd/);
    expect(out).toContain("Read-only file system");
  });

  it("masks and write-protects the spec's paths", () => {
    const r = runIn(["sh", "-c", "wc -c < /proc/keys; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/domainname 2>&1; grep ' /proc/sys ' /proc/self/mountinfo"]);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0].trim()).toBe("0"); // /dev/null over /proc/keys
    expect(lines[1].trim()).toBe("0"); // empty tmpfs over /sys/firmware
    // read-only, and otherwise its own flags, as runc 1.1.5 (no added nosuid,nodev,noexec)
    expect(r.stdout).toMatch(/\/proc\/sys ro,relatime /);
  });

  it("gives the container its own network namespace with loopback up", () => {
    const r = runIn(["sh", "-c", "cat /proc/net/dev | tail -n +3 | cut -d: -f1; ip link show lo"]);
    expect(r.stdout.trim().split("\n")[0].trim()).toBe("lo");
    expect(r.stdout).toMatch(/lo: <LOOPBACK,UP,LOWER_UP>/);
  });

  it("sets namespaced sysctls", () => {
    const r = runIn(["cat", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/kernel/shmmni"], (s) => {
      s.linux!.sysctl = { "net.ipv4.ip_forward": "1", "kernel.shmmni": "1234" };
    });
    expect(r.stdout.trim().split("\n")).toEqual(["1", "1234"]);
  });

  it("bind mounts host paths, read-only when asked", () => {
    const host = fs.mkdtempSync("/tmp/berth-bind-");
    fs.writeFileSync(`${host}/hello`, "from host\n");
    try {
      const r = runIn(["sh", "-c", "cat /mnt/data/hello; touch /mnt/data/new 2>&1; cat /mnt/file"], (s) => {
        s.mounts!.push({ destination: "/mnt/data", type: "bind", source: host, options: ["rbind", "ro"] });
        s.mounts!.push({ destination: "/mnt/file", source: `${host}/hello`, options: ["bind"] });
      });
      expect(r.stdout).toContain("from host");
      expect(r.stdout).toContain("Read-only file system");
      expect(r.stdout.match(/from host/g)?.length).toBe(2);
      expect(fs.existsSync(`${host}/new`)).toBe(false);
    } finally {
      fs.rmSync(host, { recursive: true, force: true });
    }
  });

  it("mounts a tmpfs with size and mode options", () => {
    const r = runIn(["sh", "-c", "grep ' /scratch ' /proc/self/mountinfo; stat -c %a /scratch"], (s) => {
      s.mounts!.push({ destination: "/scratch", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "size=1m", "mode=1777"] });
    });
    expect(r.stdout).toMatch(/\/scratch rw,nosuid,nodev.* - tmpfs tmpfs rw,size=1024k/);
    expect(r.stdout).toContain("1777");
  });

  it("keeps symlinks in the image from taking mounts out of the rootfs", () => {
    const b = makeBundle(["sh", "-c", "ls /evil/"], (s) => {
      s.mounts!.push({ destination: "/evil", type: "tmpfs", source: "tmpfs", options: [] });
    });
    const outside = fs.mkdtempSync("/tmp/berth-escape-");
    try {
      // /evil -> /tmp/berth-escape-xxx on the host; inside the container it must resolve in the rootfs.
      fs.symlinkSync(outside, `${b.dir}/rootfs/evil`);
      const r = berth(["run", "--bundle", b.dir, uniqueId()]);
      expect(r.code).toBe(0);
      // the host directory got no mount on it
      const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8");
      expect(mounts).not.toContain(outside);
      expect(fs.existsSync(`${b.dir}/rootfs${outside}`)).toBe(true);
    } finally {
      b.cleanup();
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it("runs in a user namespace with uid/gid mappings", () => {
    const r = runIn(["sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u"], (s) => {
      s.linux!.namespaces!.push({ type: "user" });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    });
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^\s+0\s+100000\s+65536$/m);
    expect(r.stdout.trim().split("\n").pop()).toBe("0");
  });

  it("passes stdin through when there is no terminal", () => {
    const b = makeBundle(["sh", "-c", "read line; echo got:$line"]);
    try {
      const r = berth(["run", "--bundle", b.dir, uniqueId()], { stdin: "hello\n" });
      expect(r.stdout.trim()).toBe("got:hello");
    } finally {
      b.cleanup();
    }
  });

  it("forwards signals sent to berth to the container", async () => {
    const b = makeBundle(["sh", "-c", "trap 'echo got-term; exit 42' TERM; echo ready; while true; do sleep 0.1; done"]);
    try {
      const p = Bun.spawn([BERTH, "--root", STATE_ROOT, "run", "--bundle", b.dir, uniqueId()], { stdout: "pipe", stderr: "pipe" });
      const reader = p.stdout.getReader();
      let seen = "";
      while (!seen.includes("ready")) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += new TextDecoder().decode(value);
      }
      p.kill("SIGTERM");
      const code = await p.exited;
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += new TextDecoder().decode(value);
      }
      expect(seen).toContain("got-term");
      expect(code).toBe(42);
    } finally {
      b.cleanup();
    }
  });

  it("runs detached, writes the pid file, and keeps the state", async () => {
    const b = makeBundle(["sleep", "30"]);
    const id = uniqueId();
    try {
      const r = berth(["run", "-d", "--pid-file", `${b.dir}/pid`, "--bundle", b.dir, id], { detached: true });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const pid = Number(fs.readFileSync(`${b.dir}/pid`, "utf8"));
      expect(pid).toBeGreaterThan(1);
      expect(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8")).toBe("sleep\x0030\x00");
      const state = JSON.parse(fs.readFileSync(`${STATE_ROOT}/${id}/state.json`, "utf8"));
      expect(state.pid).toBe(pid);
      killDetached(id, pid);
    } finally {
      fs.rmSync(`${STATE_ROOT}/${id}`, { recursive: true, force: true });
      b.cleanup();
    }
  });

  it("prints the spec it loaded with --debug, as logrus debug lines on stderr (text and json)", () => {
    const b = makeBundle(["true"]);
    try {
      const r = berth(["--debug", "run", "--bundle", b.dir, uniqueId()]);
      expect(r.code).toBe(0);
      const lines = r.stderr.trimEnd().split("\n");
      for (const l of lines) expect(l).toMatch(/^time="[^"]+" level=debug msg=".*"$/);
      expect(lines.find((l) => l.includes("loaded spec"))).toContain('\\"ociVersion\\":\\"1.0.2-dev\\"');
      expect(lines.at(-1)).toContain('msg="run: exit status 0"');
      const j = berth(["--debug", "--log-format", "json", "run", "--bundle", b.dir, uniqueId()]);
      expect(j.code).toBe(0);
      const objs = j.stderr.trimEnd().split("\n").map((l) => JSON.parse(l));
      expect(objs.every((o) => o.level === "debug")).toBe(true);
      const spec = objs.find((o) => o.msg.startsWith("loaded spec"));
      expect(JSON.parse(spec.msg.slice(spec.msg.indexOf("{"))).process.args).toEqual(["true"]);
      // without --debug: nothing on stderr
      expect(berth(["run", "--bundle", b.dir, uniqueId()]).stderr).toBe("");
    } finally {
      b.cleanup();
    }
  });
});

describe("berth run --dry-run", () => {
  it("prints every namespace, mount, capability and filter, and touches nothing", () => {
    const b = makeBundle(["true"]);
    try {
      const id = uniqueId();
      const r = berth(["run", "--dry-run", "--bundle", b.dir, id]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("clone the container init with new namespaces: pid, network, ipc, uts, mount");
      expect(r.stdout).toContain("mount proc proc on /proc");
      expect(r.stdout).toContain("capability bounding set: kill,net_bind_service,audit_write");
      expect(r.stdout).toContain("pivot_root");
      expect(fs.existsSync(`${STATE_ROOT}/${id}`)).toBe(false);
      // nothing was created in the rootfs either
      expect(fs.existsSync(`${b.dir}/rootfs/dev/pts`)).toBe(false);
    } finally {
      b.cleanup();
    }
  });
});

describe("berth run: errors are one clear line and leave nothing behind", () => {
  it("reports a command not found in $PATH with runc's words", () => {
    const r = runIn(["no-such-command"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('exec: "no-such-command": executable file not found in $PATH');
    expect(r.stderr.trim().split("\n").length).toBe(1);
  });

  it("reports a missing absolute executable as no such file or directory", () => {
    const r = runIn(["/bin/nope"]);
    expect(r.stderr).toContain("no such file or directory");
    expect(r.stderr).toContain("/bin/nope");
  });

  it("reports a missing cwd", () => {
    const r = runIn(["true"], (s) => (s.process!.cwd = "/does/not/exist"));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('chdir to cwd "/does/not/exist" set in config.json failed: no such file or directory');
  });

  it("reports a missing rootfs naming root.path", () => {
    const b = makeBundle(["true"]);
    try {
      fs.rmSync(`${b.dir}/rootfs`, { recursive: true });
      const r = berth(["run", "--bundle", b.dir, uniqueId()]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/rootfs .* does not exist \[field root\.path\]/);
    } finally {
      b.cleanup();
    }
  });

  it("reports a missing config.json", () => {
    const dir = fs.mkdtempSync("/tmp/berth-empty-");
    try {
      const r = berth(["run", "--bundle", dir, uniqueId()]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("no config.json in bundle");
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  it("reports invalid JSON with line and column", () => {
    const b = makeBundle(["true"]);
    try {
      fs.writeFileSync(`${b.dir}/config.json`, '{\n  "ociVersion": "1.0.2",\n  "process": {,\n}');
      const r = berth(["run", "--bundle", b.dir, uniqueId()]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/config\.json:3:\d+/);
    } finally {
      b.cleanup();
    }
  });

  it("reports a wrong type with the JSON path", () => {
    const r = runIn(["true"], (s) => ((s.process!.user as unknown as Record<string, unknown>).uid = "0"));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("process.user.uid");
  });

  it("reports an unknown namespace type with the JSON path", () => {
    const r = runIn(["true"], (s) => s.linux!.namespaces!.push({ type: "netwrk" as never }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/linux\.namespaces\[5\]\.type/);
  });

  it("refuses an id already in use", () => {
    const b = makeBundle(["sleep", "30"]);
    const id = uniqueId();
    try {
      expect(berth(["run", "-d", "--bundle", b.dir, id], { detached: true }).code).toBe(0);
      const r = berth(["run", "--bundle", b.dir, id]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`container with id "${id}" already exists`);
      const state = JSON.parse(fs.readFileSync(`${STATE_ROOT}/${id}/state.json`, "utf8"));
      killDetached(id, state.pid);
    } finally {
      fs.rmSync(`${STATE_ROOT}/${id}`, { recursive: true, force: true });
      b.cleanup();
    }
  });

  it("leaves no state, mount or process behind after a failed start", () => {
    const before = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").length;
    const r = runIn(["/bin/nope"]);
    expect(r.code).toBe(1);
    expect(leftoverState()).toEqual([]);
    const after = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").length;
    expect(after).toBe(before);
  });
});

describe("berth run: cgroups", () => {
  function cgroupDirs(id: string): string[] {
    const found: string[] = [];
    for (const h of fs.readdirSync("/sys/fs/cgroup")) {
      for (const p of [`/sys/fs/cgroup/${h}/berth/${id}`, `/sys/fs/cgroup/${h}/${id}`]) if (fs.existsSync(p)) found.push(p);
    }
    if (fs.existsSync(`/sys/fs/cgroup/berth/${id}`)) found.push(`/sys/fs/cgroup/berth/${id}`);
    return found;
  }

  it("puts the container in its cgroup with the spec's limits in effect, and removes it on exit", () => {
    const id = uniqueId("cg");
    const b = makeBundle(["sh", "-c", [
      "cat /proc/self/cgroup",
      "for f in memory/memory.limit_in_bytes pids/pids.max cpu/cpu.cfs_quota_us cpu/cpu.shares cpuset/cpuset.cpus memory.max pids.max cpu.max cpuset.cpus; do [ -f /sys/fs/cgroup/$f ] && echo \"$f=$(cat /sys/fs/cgroup/$f)\"; done; true",
    ].join("; ")], (s) => {
      s.linux!.resources = { ...s.linux!.resources, memory: { limit: 64 << 20 }, pids: { limit: 50 }, cpu: { quota: 50000, period: 100000, shares: 512, cpus: "0" } };
    });
    try {
      const r = berth(["run", "--bundle", b.dir, id]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`/berth/${id}`);
      // v1 (and hybrid) file names, or v2 ones
      expect(r.stdout).toMatch(/memory\/memory.limit_in_bytes=67108864|memory.max=67108864/);
      expect(r.stdout).toMatch(/pids\/pids.max=50|pids.max=50/);
      expect(r.stdout).toMatch(/cpu\/cpu.cfs_quota_us=50000|cpu.max=50000 100000/);
      expect(r.stdout).toMatch(/cpuset\/cpuset.cpus=0|cpuset.cpus=0/);
      expect(cgroupDirs(id)).toEqual([]);
    } finally {
      b.cleanup();
    }
  });

  // The init joins v1 hierarchies by moving itself (tasks) and the unified one by clone3
  // CLONE_INTO_CGROUP; where clone3 is filtered (docker's default profile: ENOSYS) the executor
  // falls back to writing cgroup.procs. Both ways must land in every hierarchy, for run and exec.
  it("puts the init and an exec'd process in every hierarchy, with clone3 and where it is filtered", () => {
    const hierarchies = fs.readFileSync("/proc/self/cgroup", "utf8").trim().split("\n").length;
    for (const wrap of [[], [probeBinary(), "noclone3"]]) {
      const id = uniqueId("cg");
      const b = makeBundle(["sh", "-c", "cat /proc/self/cgroup; sleep 30"]);
      try {
        // Output through files: the container inherits create's stdout and would hold a pipe open.
        let n = 0;
        const run = (args: string[]) => {
          const out = `${b.dir}/out${++n}`, err = `${b.dir}/err${n}`;
          const r = Bun.spawnSync([...wrap, BERTH, "--root", STATE_ROOT, ...args], { stdout: Bun.file(out), stderr: Bun.file(err) });
          return { code: r.exitCode, stdout: fs.readFileSync(out, "utf8"), stderr: fs.readFileSync(err, "utf8") };
        };
        const dry = run(["run", "--dry-run", "--bundle", b.dir, id]).stdout;
        expect(dry).toMatch(/moves itself into \S+ \(writes 0 to tasks\)|clone the init straight into/);
        const created = run(["create", "--bundle", b.dir, id]);
        expect(created.stderr).toBe("");
        const exec = run(["exec", id, "cat", "/proc/self/cgroup"]);
        expect(exec.stderr).toBe("");
        expect(run(["start", id]).code).toBe(0);
        for (const out of [exec.stdout, fs.readFileSync(`/proc/${JSON.parse(run(["state", id]).stdout).pid}/cgroup`, "utf8")]) {
          const lines = out.trim().split("\n");
          expect(lines.length).toBe(hierarchies);
          for (const l of lines) expect(l).toEndWith(`/berth/${id}`);
        }
      } finally {
        berth(["delete", "--force", id]);
        b.cleanup();
      }
    }
  });

  it("enforces the pids limit", () => {
    const r = runIn(["sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 1 & done 2>&1; wait; echo end"], (s) => {
      s.linux!.resources = { ...s.linux!.resources, pids: { limit: 4 } };
    });
    expect(r.stdout + r.stderr).toMatch(/can't fork|Resource temporarily unavailable|Try again/i);
  });

  it("names the field and leaves no cgroup behind when a limit cannot be applied", () => {
    const id = uniqueId("cg");
    const b = makeBundle(["true"], (s) => {
      s.linux!.resources = { ...s.linux!.resources, cpu: { cpus: "9999" } };
    });
    try {
      const r = berth(["run", "--bundle", b.dir, id]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("linux.resources.cpu.cpus");
      expect(cgroupDirs(id)).toEqual([]);
      expect(leftoverState()).toEqual([]);
    } finally {
      b.cleanup();
    }
  });

  it("mounts the container's own cgroup hierarchies read-only at /sys/fs/cgroup", () => {
    const r = runIn(["sh", "-c", "grep /sys/fs/cgroup /proc/self/mountinfo; mkdir /sys/fs/cgroup/memory/x /sys/fs/cgroup/x 2>&1"]);
    // the tmpfs holding them is read-write, as with runc 1.1.5; the cgroup mounts are read-only
    expect(r.stdout).toMatch(/ \/sys\/fs\/cgroup (rw|ro),nosuid,nodev,noexec/);
    expect(r.stdout).toMatch(/\/berth\/[^ ]+ \/sys\/fs\/cgroup\/(memory|unified) ro,/);
    expect(r.stdout).toContain("Read-only file system");
  });
});

describe("berth run: more of config.json", () => {
  it("--no-pivot chroots into the rootfs instead", () => {
    const r = runIn(["sh", "-c", "ls /; cat /proc/self/mountinfo | head -1"], undefined, ["--no-pivot"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("bin");
  });

  it("sets the domainname and oom_score_adj", () => {
    const r = runIn(["sh", "-c", "cat /proc/sys/kernel/domainname /proc/self/oom_score_adj"], (s) => {
      s.domainname = "example.org";
      s.process!.oomScoreAdj = 123;
    });
    expect(r.stdout.trim().split("\n")).toEqual(["example.org", "123"]);
  });

  it("creates linux.devices with their type, numbers, mode and owner", () => {
    const r = runIn(["ls", "-ln", "/dev/mydev", "/dev/myfifo"], (s) => {
      s.linux!.devices = [
        { path: "/dev/mydev", type: "c", major: 1, minor: 7, fileMode: 0o640, uid: 12, gid: 34 },
        { path: "/dev/myfifo", type: "p", fileMode: 0o600 },
      ];
    });
    expect(r.stdout).toMatch(/crw-r----- +1 12 +34 +1, +7 .*\/dev\/mydev/);
    expect(r.stdout).toMatch(/prw------- .*\/dev\/myfifo/);
  });

  it("gives a cgroup namespace rooted at the container's cgroup", () => {
    const r = runIn(["cat", "/proc/self/cgroup"], (s) => s.linux!.namespaces!.push({ type: "cgroup" }));
    expect(r.stderr).toBe("");
    for (const line of r.stdout.trim().split("\n")) expect(line.split(":")[2]).toBe("/");
  });

  it("joins another container's network namespace by path", () => {
    const first = makeBundle(["sh", "-c", "ip addr add 10.123.0.1/32 dev lo; sleep 30"], (s) => {
      s.process!.capabilities!.effective!.push("CAP_NET_ADMIN");
      s.process!.capabilities!.bounding!.push("CAP_NET_ADMIN");
      s.process!.capabilities!.permitted!.push("CAP_NET_ADMIN");
    });
    const id = uniqueId();
    try {
      expect(berth(["run", "-d", "--pid-file", `${first.dir}/pid`, "--bundle", first.dir, id], { detached: true }).code).toBe(0);
      const pid = Number(fs.readFileSync(`${first.dir}/pid`, "utf8"));
      let r = { stdout: "" } as { stdout: string };
      for (let i = 0; i < 50 && !r.stdout.includes("10.123.0.1"); i++) {
        Bun.sleepSync(20);
        r = runIn(["ip", "addr", "show", "lo"], (s) => {
          s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === "network" ? { type: "network", path: `/proc/${pid}/ns/net` } : n));
        });
      }
      expect(r.stdout).toContain("10.123.0.1");
      killDetached(id, pid);
    } finally {
      fs.rmSync(`${STATE_ROOT}/${id}`, { recursive: true, force: true });
      first.cleanup();
    }
  });

  it("refuses a sysctl that is not namespaced, naming it", () => {
    const r = runIn(["true"], (s) => (s.linux!.sysctl = { "vm.swappiness": "10" }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('linux.sysctl["vm.swappiness"]');
    expect(r.stderr).toContain("not namespaced");
  });
});
