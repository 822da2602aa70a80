// Configs runc 1.1.5 runs that berth refused or ran differently: shared rootfs propagation,
// no mount namespace of the container's own, a uts namespace joined by path, and a config
// edited between create and start. Host-facing ones run inside a private mount namespace.
import { describe, expect, test, afterAll } from "bun:test";
import fs from "node:fs";
import { BERTH, berth, CAN_RUN, leftoverState, makeBundle, STATE_ROOT, uniqueId } from "../helpers/bundle.ts";
import type { Spec } from "../../src/runtime/spec/types.ts";

const it = CAN_RUN ? test : test.skip;
afterAll(() => expect(leftoverState()).toEqual([]));

const withSysAdmin = (s: Spec) => {
  for (const k of ["bounding", "effective", "permitted"] as const) s.process!.capabilities![k]!.push("CAP_SYS_ADMIN");
};

/** Runs a shell script in a new mount namespace whose mounts are shared, as on systemd hosts. */
function inSharedMountNs(script: string) {
  const r = Bun.spawnSync(["unshare", "--mount", "--propagation", "shared", "--", "sh", "-c", script], {
    stdout: "pipe", stderr: "pipe", env: { ...process.env, BERTH, ROOT: STATE_ROOT },
  });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

describe("rootfsPropagation shared / rshared", () => {
  for (const prop of ["shared", "rshared"]) {
    it(`${prop}: runs, the root is shared inside, and nothing the container mounts reaches the host`, () => {
      const tag = `berthprop${prop}${process.pid}`;
      const b = makeBundle(["sh", "-c", `mount -t tmpfs ${tag} /tmp && awk '$5=="/"' /proc/self/mountinfo`], (s) => {
        s.linux!.rootfsPropagation = prop;
        s.root!.readonly = false;
        withSysAdmin(s);
      });
      try {
        const r = inSharedMountNs(`"$BERTH" --root "$ROOT" run --bundle ${b.dir} ${uniqueId("prop")}; echo "rc=$?"; echo ---; cat /proc/self/mountinfo`);
        const [inside, outside] = r.stdout.split("---\n");
        expect(r.stderr).toBe("");
        expect(inside).toContain("rc=0");
        expect(inside).toMatch(/ \/ \S+ shared:\d+/);
        expect(outside).not.toContain(tag);
      } finally {
        b.cleanup();
      }
    });
  }
});

describe("uts namespace joined by path", () => {
  it("sets the hostname in the joined namespace, as runc does, and not on the host", () => {
    const hostBefore = fs.readFileSync("/proc/sys/kernel/hostname", "utf8");
    const holder = Bun.spawn(["unshare", "--uts", "sleep", "30"]);
    try {
      for (let i = 0; i < 200 && fs.readlinkSync(`/proc/${holder.pid}/ns/uts`) === fs.readlinkSync("/proc/self/ns/uts"); i++) Bun.sleepSync(5);
      const b = makeBundle(["hostname"], (s) => {
        s.hostname = "joined-uts";
        s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === "uts" ? { type: "uts", path: `/proc/${holder.pid}/ns/uts` } : n));
      });
      try {
        const r = berth(["run", "--bundle", b.dir, uniqueId("uts")]);
        expect(r.stderr).toBe("");
        expect(r.stdout).toBe("joined-uts\n");
        expect(fs.readFileSync("/proc/sys/kernel/hostname", "utf8")).toBe(hostBefore);
      } finally {
        b.cleanup();
      }
    } finally {
      holder.kill(9);
    }
  });

  it("refuses to set the hostname in berth's own (the host's) uts namespace", () => {
    const hostBefore = fs.readFileSync("/proc/sys/kernel/hostname", "utf8");
    const b = makeBundle(["hostname"], (s) => {
      s.hostname = "must-not-rename-host";
      s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === "uts" ? { type: "uts", path: `/proc/${process.pid}/ns/uts` } : n));
    });
    try {
      const r = berth(["run", "--bundle", b.dir, uniqueId("uts")]);
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain("[field hostname]");
      expect(r.stderr).toContain("caller's own UTS namespace");
      expect(fs.readFileSync("/proc/sys/kernel/hostname", "utf8")).toBe(hostBefore);
    } finally {
      b.cleanup();
    }
  });
});

describe("config.json edited between create and start", () => {
  it("changes neither the state nor what runs: berth uses the config from create time", () => {
    const b = makeBundle(["sh", "-c", "echo original > /tmp/out"], (s) => {
      s.annotations = { which: "original" };
      s.root!.readonly = false;
    });
    const id = uniqueId("update");
    try {
      expect(berth(["create", "--bundle", b.dir, id], { detached: true }).code).toBe(0);
      const before = JSON.parse(berth(["state", id]).stdout);
      b.spec.process!.args = ["sh", "-c", "echo changed > /tmp/out"];
      b.spec.annotations = { which: "changed" };
      b.spec.hostname = "changed";
      b.write();
      expect(JSON.parse(berth(["state", id]).stdout)).toEqual(before);
      expect(berth(["start", id], { detached: true }).code).toBe(0);
      for (let i = 0; i < 400 && !fs.existsSync(`${b.dir}/rootfs/tmp/out`); i++) Bun.sleepSync(5);
      for (let i = 0; i < 400 && JSON.parse(berth(["state", id]).stdout).status !== "stopped"; i++) Bun.sleepSync(5);
      expect(fs.readFileSync(`${b.dir}/rootfs/tmp/out`, "utf8")).toBe("original\n");
      const after = JSON.parse(berth(["state", id]).stdout);
      expect(after.annotations).toEqual({ which: "original" });
      expect({ ...after, status: "created", pid: before.pid }).toEqual(before);
    } finally {
      berth(["delete", "--force", id]);
      b.cleanup();
    }
  });
});

describe("no mount namespace of the container's own", () => {
  const noMountNs = (s: Spec) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "mount");
    s.linux!.maskedPaths = [];
    s.linux!.readonlyPaths = [];
  };
  // The caller's mount namespace is a private one made for the test: a regression cannot
  // leave mounts on the machine.
  function inPrivateMountNs(script: string) {
    const r = Bun.spawnSync(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script], {
      stdout: "pipe", stderr: "pipe", env: { ...process.env, BERTH, ROOT: STATE_ROOT },
    });
    return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  }

  it("runs in the caller's mount namespace, chrooted, and leaves no mount behind (run, and run -d + exec + delete)", () => {
    const b = makeBundle(["sh", "-c", "cat /etc/berth-marker; ls /proc/self/ns >/dev/null && echo proc-ok"], noMountNs);
    fs.writeFileSync(`${b.dir}/rootfs/etc/berth-marker`, "inside-rootfs\n");
    const id = uniqueId("nomnt");
    try {
      const r = inPrivateMountNs([
        "before=$(cut -d' ' -f1,5 /proc/self/mountinfo | sort)",
        `"$BERTH" --root "$ROOT" run --bundle ${b.dir} ${id}-a; echo "rc=$?"`,
        `[ "$before" = "$(cut -d' ' -f1,5 /proc/self/mountinfo | sort)" ] && echo same-after-run`,
        `sed -i 's/"cat \\/etc\\/berth-marker.*"/"sleep 30"/' ${b.dir}/config.json`,
        `"$BERTH" --root "$ROOT" run -d --bundle ${b.dir} ${id}-b >/dev/null 2>&1 </dev/null; echo "rc-d=$?"`,
        `"$BERTH" --root "$ROOT" exec ${id}-b cat /etc/berth-marker`,
        `"$BERTH" --root "$ROOT" delete --force ${id}-b; echo "rc-del=$?"`,
        `[ "$before" = "$(cut -d' ' -f1,5 /proc/self/mountinfo | sort)" ] && echo same-after-delete || cat /proc/self/mountinfo >&2`,
      ].join("\n"));
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("inside-rootfs\nproc-ok\nrc=0\nsame-after-run\nrc-d=0\ninside-rootfs\nrc-del=0\nsame-after-delete\n");
    } finally {
      b.cleanup();
    }
  });

  it("refuses masked and read-only paths (they would be mounted on the host), as runc does", () => {
    const b = makeBundle(["true"], (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "mount");
    });
    try {
      const r = berth(["run", "--bundle", b.dir, uniqueId("nomnt")]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("[field linux.maskedPaths]");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    } finally {
      b.cleanup();
    }
  });
});

describe("inside the container, as under runc 1.1.5", () => {
  const RUNC = "/usr/sbin/runc";
  const itRunc = CAN_RUN && fs.existsSync(RUNC) ? test : test.skip;
  // mount point, mount options, fstype and super options of every mount; /dev's symlinks
  const script = "cut -d' ' -f5,6,9- /proc/self/mountinfo; ls -l /dev | grep -- '->' | sed 's/.* \\([^ ]* -> .*\\)/\\1/'";

  itRunc("the same mounts and /dev links (except the documented /sys/fs/cgroup/unified)", () => {
    const b = makeBundle(["sh", "-c", script]);
    const runcRoot = fs.mkdtempSync(`${STATE_ROOT}-runc-`);
    try {
      const r = Bun.spawnSync([RUNC, "--root", runcRoot, "run", uniqueId("runc-cmp")], { cwd: b.dir, stdout: "pipe", stderr: "pipe" });
      expect(r.exitCode).toBe(0);
      const ours = berth(["run", "--bundle", b.dir, uniqueId("cmp")]);
      expect(ours.stderr).toBe("");
      const norm = (s: string) => s.split("\n").filter((l) => l && !l.startsWith("/sys/fs/cgroup/unified ")).sort();
      expect(norm(ours.stdout)).toEqual(norm(r.stdout.toString()));
      // the differences this test used to catch, named so a regression says which
      expect(ours.stdout).toMatch(/^\/sys\/fs\/cgroup rw,/m);
      expect(ours.stdout).toMatch(/^\/proc\/sys ro,relatime /m);
      if (!fs.existsSync("/proc/kcore")) expect(ours.stdout).not.toContain("core -> /proc/kcore");
    } finally {
      fs.rmSync(runcRoot, { recursive: true, force: true });
      b.cleanup();
    }
  });
});

describe("sysctls in a namespace joined by path", () => {
  it("are refused when that namespace is berth's own (the host's), and the host value is untouched", () => {
    const file = "/proc/sys/kernel/shm_rmid_forced";
    const before = fs.readFileSync(file, "utf8");
    const b = makeBundle(["true"], (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "ipc").concat([{ type: "ipc", path: `/proc/${process.pid}/ns/ipc` }]);
      s.linux!.sysctl = { "kernel.shm_rmid_forced": before.trim() === "1" ? "0" : "1" };
    });
    try {
      const r = berth(["run", "--bundle", b.dir, uniqueId("sysctl")]);
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain('linux.sysctl["kernel.shm_rmid_forced"]');
      expect(fs.readFileSync(file, "utf8")).toBe(before);
    } finally {
      // a regression must not leave the host changed
      if (fs.readFileSync(file, "utf8") !== before) fs.writeFileSync(file, before);
      b.cleanup();
    }
  });
});
