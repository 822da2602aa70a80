// Seccomp filters as the kernel applies them, fd hygiene, and the terminal. Needs root.
import { describe, expect, test, afterAll } from "bun:test";
import fs from "node:fs";
import { addProbe, berth, BERTH, CAN_RUN, leftoverState, makeBundle, STATE_ROOT, uniqueId } from "../helpers/bundle.ts";
import type { Spec } from "../../src/runtime/spec/types.ts";

const it = CAN_RUN ? test : test.skip;
afterAll(() => expect(leftoverState()).toEqual([]));

function runProbe(args: string[], edit?: (s: Spec) => void) {
  const b = makeBundle(["/bin/probe", ...args], edit);
  addProbe(b);
  try {
    return berth(["run", "--bundle", b.dir, uniqueId()]);
  } finally {
    b.cleanup();
  }
}

const NR = { getpid: 39, mkdirat: 258, kexec_load: 246, clone3: 435, unknownNew: 1000 };

// An allowlist profile in the style of Docker's default: everything else gets EPERM.
function allowlist(names: string[], extra: Partial<NonNullable<Spec["linux"]>["seccomp"]> = {}) {
  return (s: Spec) => {
    s.linux!.seccomp = {
      defaultAction: "SCMP_ACT_ERRNO",
      architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      syscalls: [{ names, action: "SCMP_ACT_ALLOW" }],
      ...extra,
    };
  };
}

// What a static binary needs to start, print and exit, plus what the runtime needs before exec.
const BASE = [
  "execve", "brk", "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "prlimit64", "readlink",
  "getrandom", "mprotect", "write", "exit_group", "exit", "newfstatat", "fstat", "close", "close_range",
  "prctl", "capset", "capget", "setresuid", "setresgid", "setgroups", "chdir", "umask", "stat", "mmap", "munmap",
  "futex", "getpid", "openat", "getdents64", "read", "lseek", "ioctl", "uname", "rt_sigaction", "rt_sigprocmask",
];

describe("seccomp", () => {
  it("is in filter mode inside the container", () => {
    const b = makeBundle(["grep", "Seccomp:", "/proc/self/status"], (s) => {
      s.linux!.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["kexec_load"], action: "SCMP_ACT_ERRNO" }] };
    });
    try {
      const r = berth(["run", "--bundle", b.dir, uniqueId()]);
      expect(r.stdout).toMatch(/Seccomp:\s+2/);
    } finally {
      b.cleanup();
    }
  });

  it("denies a listed syscall with the profile's errno", () => {
    const r = runProbe(["syscall", String(NR.mkdirat), "-100", "0"], (s) => {
      s.linux!.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdirat", "mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 13 }] };
    });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("errno=13");
  });

  it("an allowlist answers EPERM for a known syscall it does not list", () => {
    const r = runProbe(["syscall", String(NR.kexec_load)], allowlist(BASE));
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("errno=1");
  });

  it("answers ENOSYS, not EPERM, for syscalls newer than the profile", () => {
    const r = runProbe(["syscall", String(NR.unknownNew)], allowlist(BASE));
    expect(r.stdout.trim()).toBe("errno=38");
  });

  it("answers ENOSYS for clone3 when the profile does not mention it, so libc falls back to clone", () => {
    const r = runProbe(["syscall", String(NR.clone3), "0", "0"], allowlist(BASE));
    expect(r.stdout.trim()).toBe("errno=38");
  });

  it("allows the listed syscalls", () => {
    const r = runProbe(["syscall", String(NR.getpid)], allowlist(BASE));
    expect(r.stdout.trim()).toBe("ok");
  });

  it("compares arguments: personality(0) allowed, personality(0x1234) denied", () => {
    const profile = allowlist(BASE, {});
    const edit = (s: Spec) => {
      profile(s);
      s.linux!.seccomp!.syscalls!.push({ names: ["personality"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 0, op: "SCMP_CMP_EQ" }] });
    };
    expect(runProbe(["syscall", "135", "0"], edit).stdout.trim()).toBe("ok");
    expect(runProbe(["syscall", "135", "0x1234"], edit).stdout.trim()).toBe("errno=1");
  });

  it("loads the filter without no_new_privs too (before dropping CAP_SYS_ADMIN)", () => {
    const r = runProbe(["syscall", String(NR.kexec_load)], (s) => {
      s.process!.noNewPrivileges = false;
      s.linux!.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["kexec_load"], action: "SCMP_ACT_ERRNO", errnoRet: 99 }] };
    });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("errno=99");
  });

  it("kills the process for SCMP_ACT_KILL_PROCESS (status 128+SIGSYS)", () => {
    const r = runProbe(["syscall", String(NR.kexec_load)], (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "pid");
      s.linux!.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["kexec_load"], action: "SCMP_ACT_KILL_PROCESS" }] };
    });
    expect(r.code).toBe(128 + 31);
  });

  it("rejects an invalid profile before touching anything, naming the field", () => {
    const r = runProbe(["fds"], (s) => {
      s.linux!.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["read"], action: "SCMP_ACT_BOGUS" }] };
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("linux.seccomp.syscalls[0].action");
  });
});

describe("file descriptors", () => {
  it("leaks none of berth's fds into the container", () => {
    const b = makeBundle(["/bin/probe", "fds"]);
    addProbe(b);
    const leak = fs.openSync("/etc/hostname", "r");
    try {
      const r = Bun.spawnSync([BERTH, "--root", STATE_ROOT, "run", "--bundle", b.dir, uniqueId()], {
        stdio: ["ignore", "pipe", "pipe", leak, leak, leak],
      });
      expect(r.stderr.toString()).toBe("");
      expect(r.stdout.toString().trim().split("\n")).toEqual(["0", "1", "2"]);
    } finally {
      fs.closeSync(leak);
      b.cleanup();
    }
  });

  it("passes exactly --preserve-fds extra fds", () => {
    const b = makeBundle(["/bin/probe", "fds"]);
    addProbe(b);
    const f = fs.openSync("/etc/hostname", "r");
    try {
      const r = Bun.spawnSync([BERTH, "--root", STATE_ROOT, "run", "--preserve-fds", "2", "--bundle", b.dir, uniqueId()], {
        stdio: ["ignore", "pipe", "pipe", f, f, f],
      });
      expect(r.stderr.toString()).toBe("");
      expect(r.stdout.toString().trim().split("\n")).toEqual(["0", "1", "2", "3", "4"]);
    } finally {
      fs.closeSync(f);
      b.cleanup();
    }
  });
});

describe("terminal", () => {
  const hasScript = fs.existsSync("/usr/bin/script");
  (CAN_RUN && hasScript ? test : test.skip)("gives the container a pty as its controlling terminal and relays it", () => {
    const b = makeBundle(["sh", "-c", "tty; stty size; grep ' /dev/console ' /proc/self/mountinfo; exit 7"], (s) => {
      s.process!.terminal = true;
      s.process!.consoleSize = { height: 30, width: 100 };
    });
    try {
      const cmd = `stty rows 40 cols 120; ${BERTH} --root ${STATE_ROOT} run --bundle ${b.dir} ${uniqueId()}; echo "status=$?"`;
      const r = Bun.spawnSync(["script", "-qec", cmd, "/dev/null"], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
      const out = r.stdout.toString();
      expect(out).toContain("/dev/pts/0");
      // the host terminal's size wins over consoleSize when berth runs on a terminal
      expect(out).toContain("40 120");
      expect(out).toMatch(/ \/0 \/dev\/console .* - devpts/); // the pty is also /dev/console, as with runc
      expect(out).toContain("status=7");
    } finally {
      b.cleanup();
    }
  });

  (CAN_RUN && hasScript ? test : test.skip)("relays input typed at the terminal", () => {
    const b = makeBundle(["sh", "-c", "read x; echo you-said-$x"], (s) => (s.process!.terminal = true));
    try {
      const cmd = `${BERTH} --root ${STATE_ROOT} run --bundle ${b.dir} ${uniqueId()}`;
      const r = Bun.spawnSync(["sh", "-c", `(sleep 0.5; printf 'hello\\r') | script -qec '${cmd}' /dev/null`], { stdout: "pipe", stderr: "pipe" });
      expect(r.stdout.toString()).toContain("you-said-hello");
    } finally {
      b.cleanup();
    }
  });

  it("refuses a terminal with --detach and no console socket", () => {
    const b = makeBundle(["sh"], (s) => (s.process!.terminal = true));
    try {
      const r = berth(["run", "-d", "--bundle", b.dir, uniqueId()]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("--console-socket");
    } finally {
      b.cleanup();
    }
  });
});

describe("seccomp filter cache", () => {
  it("compiles a profile once, reuses it, and never serves a filter for another profile", () => {
    const fs2 = require("node:fs") as typeof import("node:fs");
    const cache = `${STATE_ROOT}/.cache/seccomp`;
    const profile = (errno: number) => (s: Spec) => {
      s.linux!.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdirat", "mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: errno }] };
    };
    const before = fs2.existsSync(cache) ? fs2.readdirSync(cache).length : 0;
    expect(runProbe(["syscall", String(NR.mkdirat), "-100", "0"], profile(21)).stdout.trim()).toBe("errno=21");
    const after1 = fs2.readdirSync(cache).length;
    expect(after1).toBe(before + 1);
    // same profile: served from the cache (no new entry), same behaviour
    expect(runProbe(["syscall", String(NR.mkdirat), "-100", "0"], profile(21)).stdout.trim()).toBe("errno=21");
    expect(fs2.readdirSync(cache).length).toBe(after1);
    // a different profile gets its own entry and its own behaviour
    expect(runProbe(["syscall", String(NR.mkdirat), "-100", "0"], profile(22)).stdout.trim()).toBe("errno=22");
    expect(fs2.readdirSync(cache).length).toBe(after1 + 1);
    // a damaged entry is ignored and rewritten
    for (const f of fs2.readdirSync(cache)) fs2.writeFileSync(`${cache}/${f}`, "garbage");
    expect(runProbe(["syscall", String(NR.mkdirat), "-100", "0"], profile(22)).stdout.trim()).toBe("errno=22");
    // `list` does not mistake the cache for a container
    expect(berth(["list", "-q"]).stdout).not.toContain(".cache");
  });
});
