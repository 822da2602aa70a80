// Integration: runc 1.1.5 behaviours berth matches (issue 6 part 5): a read-only /dev, rro and
// recursive read-only binds, --no-pivot's /proc, bind sources a user namespace can't reach,
// seccomp notify.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import { berth, CAN_RUN, leftoverState, makeBundle, runIn, uniqueId, TEST_TMP } from "../helpers/bundle.ts";

const it = CAN_RUN ? test : test.skip;

/** Builds test/helpers/NAME.c, again if the shared temporary directory was swept meanwhile
 *  (bundle.ts removes it after the first test file of a run). */
function helperBinary(name: string): string {
  const out = `${TEST_TMP}/${name}-misc`;
  if (!fs.existsSync(out)) {
    fs.mkdirSync(TEST_TMP, { recursive: true, mode: 0o755 });
    const r = Bun.spawnSync(["cc", "-O1", "-o", out, `${import.meta.dir}/../helpers/${name}.c`], { stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`cannot build ${name}: ${r.stderr.toString()}`);
  }
  return out;
}

const devRo = (s: import("../../src/runtime/spec/types.ts").Spec) => {
  const dev = s.mounts!.find((m) => m.destination === "/dev")!;
  dev.options = [...(dev.options ?? []), "ro"];
};

describe("a read-only /dev mount", () => {
  it("is populated first (devices, symlinks, devpts) and read-only at the end, as runc", () => {
    const r = runIn(["sh", "-c", "grep ' /dev ' /proc/self/mounts; grep -c devpts /proc/self/mounts; ls /dev; touch /dev/x || echo touch-refused; echo x > /dev/null && echo null-ok"], devRo);
    expect(r.stderr).toContain("Read-only file system");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^tmpfs \/dev tmpfs ro,/);
    expect(lines[1]).toBe("1");
    for (const n of ["null", "zero", "urandom", "tty", "ptmx", "pts", "shm", "mqueue", "fd", "stdin"]) expect(lines).toContain(n);
    expect(lines).toContain("touch-refused");
    expect(lines).toContain("null-ok");
    expect(leftoverState()).toEqual([]);
  });

  it("still gets /dev/console with a terminal", async () => {
    const recv = helperBinary("recvtty");
    const b = makeBundle(["sh", "-c", "ls -l /dev/console; grep ' /dev ' /proc/self/mounts"], (s) => {
      devRo(s);
      s.process!.terminal = true;
    });
    const id = uniqueId("devro");
    const sock = `${TEST_TMP}/${id}.sock`, out = `${TEST_TMP}/${id}.out`;
    const receiver = Bun.spawn([recv, sock, out], { stdout: "pipe" });
    const reader = receiver.stdout.getReader();
    await reader.read();
    try {
      const r = berth(["run", "--console-socket", sock, "--bundle", b.dir, id], { detached: true });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      await receiver.exited;
      const text = fs.readFileSync(out, "utf8");
      expect(text).toMatch(/\/dev\/console/);
      expect(text).toMatch(/tmpfs \/dev tmpfs ro,/);
    } finally {
      receiver.kill();
      berth(["delete", "--force", id]);
      b.cleanup();
    }
  });
});

describe("recursive mount attributes (rro, rnosuid, ...)", () => {
  it("make a bind and every mount below it read-only (mount_setattr), as runc", () => {
    const src = `${TEST_TMP}/rro-${process.pid}`;
    fs.mkdirSync(`${src}/sub`, { recursive: true });
    expect(Bun.spawnSync(["mount", "-t", "tmpfs", "berth-rro-test", `${src}/sub`]).exitCode).toBe(0);
    try {
      const probe = "grep ' /mnt' /proc/self/mounts; touch /mnt/a 2>/dev/null || echo top-ro; touch /mnt/sub/b 2>/dev/null || echo sub-ro";
      const run = (options: string[]) =>
        runIn(["sh", "-c", probe], (s) => s.mounts!.push({ destination: "/mnt", type: "bind", source: src, options }));
      const rro = run(["rbind", "rro", "rnosuid", "rnoexec"]);
      expect(rro.code).toBe(0);
      const lines = rro.stdout.split("\n");
      expect(lines.find((l) => l.includes(" /mnt/sub "))).toMatch(/ tmpfs ro,nosuid,(nodev,)?noexec/);
      expect(lines.find((l) => / \/mnt \S+ /.test(l))).toMatch(/ ro,nosuid,(nodev,)?noexec/);
      expect(lines).toContain("top-ro");
      expect(lines).toContain("sub-ro");
      // plain ro leaves the submount writable (the kernel's rule; why rro exists)
      const ro = run(["rbind", "ro"]);
      expect(ro.stdout).toContain("top-ro");
      expect(ro.stdout).not.toContain("sub-ro");
      // and rrw after rro undoes it
      expect(run(["rbind", "rro", "rrw"]).stdout).not.toContain("-ro");
      expect(fs.existsSync(`${src}/sub/b`)).toBe(true); // written by the rrw run only
    } finally {
      Bun.spawnSync(["umount", `${src}/sub`]);
      fs.rmSync(src, { recursive: true, force: true });
    }
  });
});

describe("--no-pivot", () => {
  // As runc's no_pivot.bats: a process that makes its own user namespace may mount a fresh procfs
  // only if a full one is visible in its mount namespace. After pivot_root none is; with
  // --no-pivot the host's /proc under the moved root was, until berth detached it.
  it("leaves no full host /proc or /sys for a nested user namespace to mount a fresh, unmasked procfs", () => {
    const hostProcSys = () => fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => / \/ \/(proc|sys) .* - (proc|sysfs) /.test(l)).length;
    const before = hostProcSys();
    expect(before).toBe(2);
    for (const extra of [[], ["--no-pivot"]]) {
      const r = runIn(["unshare", "-mrpf", "sh", "-c", "mount -t proc none /proc && echo PROC-MOUNTED; echo done"], (s) => {
        s.process!.user = { uid: 1000, gid: 1000 };
      }, extra);
      expect([extra, r.stdout]).toEqual([extra, "done\n"]);
      expect(r.stderr).toContain("permission denied");
    }
    // the host's own /proc and /sys are untouched (other tests may mount things meanwhile)
    expect(hostProcSys()).toBe(before);
    const ok = runIn(["sh", "-c", "ls /proc/self/status /sys/kernel >/dev/null && echo ok"], undefined, ["--no-pivot"]);
    expect(ok.stdout).toBe("ok\n");
  });
});

describe("bind mounts in a new user namespace", () => {
  it("a source the container's user can't reach (0700, host root's) is opened as host root, as runc", () => {
    const priv = `${TEST_TMP}/priv-${process.pid}`;
    fs.mkdirSync(`${priv}/inner`, { recursive: true });
    fs.writeFileSync(`${priv}/inner/f`, "secret\n");
    fs.chmodSync(priv, 0o700);
    const userns = (s: import("../../src/runtime/spec/types.ts").Spec) => {
      s.linux!.namespaces!.push({ type: "user" });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    };
    try {
      const b = makeBundle(["sh", "-c", "cat /mnt/f; cat /file"], (s) => {
        userns(s);
        s.mounts!.push({ destination: "/mnt", type: "bind", source: `${priv}/inner`, options: ["rbind", "ro"] });
        s.mounts!.push({ destination: "/file", type: "bind", source: `${priv}/inner/f`, options: ["bind"] });
      });
      // mount points made beforehand: the container's root (host uid 100000) can't create them
      // in a rootfs owned by the host's root (neither can runc's)
      fs.mkdirSync(`${b.dir}/rootfs/mnt`);
      fs.writeFileSync(`${b.dir}/rootfs/file`, "");
      let r;
      try {
        r = berth(["run", "--bundle", b.dir, uniqueId("uns")]);
      } finally {
        b.cleanup();
      }
      expect([r.stderr, r.stdout]).toEqual(["", "secret\nsecret\n"]);
      // a missing source is still one clear line naming the field
      const bad = runIn(["true"], (s) => {
        userns(s);
        s.mounts!.push({ destination: "/mnt", type: "bind", source: `${priv}/nope`, options: ["rbind"] });
      });
      expect(bad.code).toBe(1);
      expect(bad.stderr.trimEnd().split("\n").length).toBe(1);
      expect(bad.stderr).toContain("mounts[");
      expect(leftoverState()).toEqual([]);
    } finally {
      fs.rmSync(priv, { recursive: true, force: true });
    }
  });
});

describe("seccomp user notification (SCMP_ACT_NOTIFY, listenerPath)", () => {
  const agentBinary = () => helperBinary("seccomp-agent");
  /** Reads the agent's stdout until `text` has appeared (it prints "listening", "received N"). */
  const seen = new WeakMap<object, string>();
  async function waitFor(reader: ReadableStreamDefaultReader<Uint8Array>, text: string): Promise<void> {
    let got = seen.get(reader) ?? "";
    while (!got.includes(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the agent exited before printing ${text}`);
      got += new TextDecoder().decode(value);
    }
    seen.set(reader, got.slice(got.indexOf(text) + text.length));
  }
  const notifying = (sock: string) => (s: import("../../src/runtime/spec/types.ts").Spec) => {
    s.root!.readonly = false;
    s.annotations = { "org.test": "x" };
    s.linux!.seccomp = {
      defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"],
      syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY" }, { names: ["chroot"], action: "SCMP_ACT_ERRNO", errnoRet: 18 }],
      listenerPath: sock, listenerMetadata: "meta \"one\"",
    };
  };

  it("hands the listener fd and the container process state to the agent, which answers the syscalls", async () => {
    const id = uniqueId("notify");
    const sock = `${TEST_TMP}/${id}.sock`, stateFile = `${TEST_TMP}/${id}.json`;
    const agent = Bun.spawn([agentBinary(), sock, stateFile, "123"], { stdout: "pipe" });
    const reader = agent.stdout.getReader();
    await waitFor(reader, "listening");
    const b = makeBundle(["sh", "-c", "mkdir /tmp/x 2>&1; chroot /tmp 2>&1; echo end"], notifying(sock));
    try {
      const r = berth(["run", "--bundle", b.dir, id]);
      expect(r.stderr).toBe("");
      // ENOMEDIUM (123) from the agent; EXDEV (18) from the filter's own errnoRet
      expect(r.stdout).toBe("mkdir: can't create directory '/tmp/x': No medium found\nchroot: can't change root directory to '/tmp': Invalid cross-device link\nend\n");
      await waitFor(reader, "received 1");
      const msg = JSON.parse(fs.readFileSync(stateFile, "utf8"));
      expect(msg).toEqual({
        ociVersion: "1.0.2-dev", fds: ["seccompFd"], pid: msg.state.pid, metadata: 'meta "one"',
        state: { ociVersion: "1.0.2-dev", id, status: "creating", pid: msg.state.pid, bundle: b.dir, annotations: { "org.test": "x" } },
      });
      expect(msg.pid).toBeGreaterThan(1);
    } finally {
      agent.kill();
      b.cleanup();
    }
  });

  it("works with create + start too (the agent has the fd before start)", async () => {
    const id = uniqueId("notifyc");
    const sock = `${TEST_TMP}/${id}.sock`, stateFile = `${TEST_TMP}/${id}.json`;
    const agent = Bun.spawn([agentBinary(), sock, stateFile, "123"], { stdout: "pipe" });
    const reader = agent.stdout.getReader();
    await waitFor(reader, "listening");
    const b = makeBundle(["sh", "-c", "mkdir /tmp/y 2>/tmp/err; mv /tmp/err /out"], notifying(sock));
    try {
      const c = berth(["create", "--bundle", b.dir, id], { detached: true });
      expect([c.code, c.stderr]).toEqual([0, ""]);
      // the agent got it during create (it says so once the state file is written)
      await waitFor(reader, "received 1");
      expect(JSON.parse(fs.readFileSync(stateFile, "utf8")).state.id).toBe(id);
      expect(berth(["start", id]).code).toBe(0);
      for (let i = 0; i < 500 && !fs.existsSync(`${b.dir}/rootfs/out`); i++) Bun.sleepSync(10);
      expect(fs.readFileSync(`${b.dir}/rootfs/out`, "utf8")).toBe("mkdir: can't create directory '/tmp/y': No medium found\n");
    } finally {
      agent.kill();
      berth(["delete", "--force", id]);
      b.cleanup();
    }
  });

  it("gives an exec'd process its own listener, sent to the agent with status running", async () => {
    const id = uniqueId("notifye");
    const sock = `${TEST_TMP}/${id}.sock`, stateFile = `${TEST_TMP}/${id}.json`;
    const agent = Bun.spawn([agentBinary(), sock, stateFile, "123"], { stdout: "pipe" });
    const reader = agent.stdout.getReader();
    await waitFor(reader, "listening");
    const b = makeBundle(["sleep", "30"], notifying(sock));
    try {
      expect(berth(["run", "-d", "--bundle", b.dir, id], { detached: true }).code).toBe(0);
      const e = berth(["exec", id, "sh", "-c", "mkdir /tmp/z 2>&1; echo end"]);
      expect([e.stdout, e.stderr]).toEqual(["mkdir: can't create directory '/tmp/z': No medium found\nend\n", ""]);
      await waitFor(reader, "received 2");
      const msg = JSON.parse(fs.readFileSync(`${stateFile}.2`, "utf8"));
      expect(msg.state).toMatchObject({ id, status: "running", bundle: b.dir });
      expect(msg.fds).toEqual(["seccompFd"]);
    } finally {
      agent.kill();
      berth(["delete", "--force", id]);
      b.cleanup();
    }
  });

  it("is refused as runc refuses it: as the default action, without listenerPath, on write; an absent agent is one clear line", () => {
    const sock = `${TEST_TMP}/absent-${process.pid}.sock`;
    const cases: [(s: import("../../src/runtime/spec/types.ts").Spec) => void, string][] = [
      [(s) => { notifying(sock)(s); s.linux!.seccomp!.defaultAction = "SCMP_ACT_NOTIFY"; }, "SCMP_ACT_NOTIFY cannot be used as the default action [field linux.seccomp.defaultAction]"],
      [(s) => { notifying(sock)(s); delete s.linux!.seccomp!.listenerPath; }, "listenerPath is not set"],
      [(s) => { notifying(sock)(s); s.linux!.seccomp!.syscalls![0].names = ["write"]; }, "SCMP_ACT_NOTIFY cannot be used for the write syscall"],
      [notifying(sock), `cannot hand the seccomp listener to the agent at ${sock}: no such file or directory [field linux.seccomp.listenerPath]`],
    ];
    for (const [edit, want] of cases) {
      const r = runIn(["true"], edit);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(want);
      expect(r.stderr.trimEnd().split("\n").length).toBe(1);
    }
    expect(leftoverState()).toEqual([]);
  });
});

describe("seccomp defaultErrnoRet", () => {
  it("is the errno of calls the default action refuses (runc 1.1.5 prints the same)", () => {
    const profile = JSON.parse(fs.readFileSync(`${import.meta.dir}/../fixtures/seccomp-docker-like.json`, "utf8"));
    expect(profile.defaultAction).toBe("SCMP_ACT_ERRNO");
    const r = runIn(["sh", "-c", "unshare -U true 2>&1; echo end"], (s) => (s.linux!.seccomp = { ...profile, defaultErrnoRet: 95 }));
    expect(r.stdout).toBe("unshare: unshare(0x10000000): Operation not supported\nend\n");
    const plain = runIn(["sh", "-c", "unshare -U true 2>&1; echo end"], (s) => (s.linux!.seccomp = { ...profile, defaultErrnoRet: undefined }));
    expect(plain.stdout).toBe("unshare: unshare(0x10000000): Operation not permitted\nend\n");
  });
});
