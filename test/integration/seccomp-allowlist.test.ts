// Allowlist seccomp profiles that do not list close_range (older Docker and Kubernetes profiles,
// runtime-tools' generated default) must run, and a process that dies before its exec (a
// seccomp kill, an init killed while the hooks run) is reported in one line by `run`, `run -d`,
// `start` and `exec`.
import { describe, expect, test, afterAll } from "bun:test";
import fs from "node:fs";
import { berth, CAN_RUN, leftoverState, makeBundle, uniqueId } from "../helpers/bundle.ts";
import type { Spec } from "../../src/runtime/spec/types.ts";

const it = CAN_RUN ? test : test.skip;
afterAll(() => expect(leftoverState()).toEqual([]));

// What busybox sh (static) needs to start, run a builtin and a child, and exit; plus the
// runtime's own calls before exec. No close_range.
const SH = [
  "execve", "execveat", "close", "fcntl", "brk", "arch_prctl", "set_tid_address", "set_robust_list", "rseq",
  "prlimit64", "getrandom", "mprotect", "write", "writev", "read", "exit_group", "exit", "newfstatat", "fstat",
  "prctl", "capset", "capget", "setresuid", "setresgid", "setgroups", "chdir", "umask", "stat", "mmap", "munmap",
  "futex", "getpid", "getppid", "getuid", "geteuid", "getgid", "getegid", "openat", "getdents64", "lseek", "ioctl",
  "uname", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "wait4", "clone", "fork", "vfork", "dup2", "dup3",
  "pipe2", "getcwd", "access", "faccessat", "faccessat2", "sendto", "nanosleep", "clock_nanosleep", "readlink", "readlinkat",
];

function profile(defaultAction: string, names: string[], nnp = true) {
  return (s: Spec) => {
    s.process!.noNewPrivileges = nnp;
    s.linux!.seccomp = {
      defaultAction, architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      syscalls: [{ names, action: "SCMP_ACT_ALLOW" }],
    };
  };
}

function run(args: string[], edit: (s: Spec) => void, extra: string[] = []) {
  const b = makeBundle(args, edit);
  try {
    const id = uniqueId("seccomp");
    return { id, ...berth(["run", ...extra, "--bundle", b.dir, id], { detached: extra.includes("-d") }) };
  } finally {
    b.cleanup();
  }
}

describe("allowlist without close_range", () => {
  it("runs busybox sh with no_new_privs (filter loaded last, only execve after it)", () => {
    const r = run(["sh", "-c", "echo hello; /bin/true && echo child-ok"], profile("SCMP_ACT_ERRNO", SH));
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("hello\nchild-ok\n");
    expect(r.code).toBe(0);
  });

  it("runs it with a killing default action too: the runtime makes no unlisted syscall", () => {
    const r = run(["sh", "-c", "echo hello"], profile("SCMP_ACT_KILL_PROCESS", SH));
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("hello\n");
  });

  it("runs it without no_new_privs (filter loaded before the capabilities are dropped)", () => {
    const r = run(["sh", "-c", "echo hello"], profile("SCMP_ACT_ERRNO", SH, false));
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("hello\n");
  });

  it("still keeps host fds out of the container (they are marked close-on-exec before the filter)", () => {
    const r = run(["sh", "-c", "ls /proc/self/fd | wc -l"], profile("SCMP_ACT_ERRNO", SH));
    expect(r.stderr).toBe("");
    // 0, 1, 2 and the directory ls reads: nothing of berth's
    expect(r.stdout.trim()).toBe("4");
  });

  it("berth exec into a container with that profile runs too", () => {
    const b = makeBundle(["sleep", "30"], profile("SCMP_ACT_ERRNO", SH));
    const id = uniqueId("seccomp-exec");
    try {
      expect(berth(["run", "-d", "--bundle", b.dir, id], { detached: true }).code).toBe(0);
      const r = berth(["exec", id, "sh", "-c", "echo from-exec"]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("from-exec\n");
    } finally {
      berth(["delete", "--force", id]);
      b.cleanup();
    }
  });
});

describe("a process that dies before exec is reported", () => {
  const noExecve = SH.filter((n) => n !== "execve");

  it("run: which phase, which signal, the likely cause, on one line", () => {
    const r = run(["sh", "-c", "echo never"], profile("SCMP_ACT_KILL_PROCESS", noExecve));
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("killed by SIGSYS in exec");
    expect(r.stderr).toContain("seccomp");
  });

  it("run -d fails the same way and leaves nothing behind", () => {
    const r = run(["sh", "-c", "echo never"], profile("SCMP_ACT_KILL_PROCESS", noExecve), ["-d"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("killed by SIGSYS");
    expect(leftoverState()).toEqual([]);
    const cgroups = fs.readdirSync("/sys/fs/cgroup").filter((h) => fs.existsSync(`/sys/fs/cgroup/${h}/berth/${r.id}`));
    expect(cgroups).toEqual([]);
  });

  it("start fails when the exec after it fails, and the container is stopped", () => {
    const b = makeBundle(["sh", "-c", "echo never"], profile("SCMP_ACT_KILL_PROCESS", noExecve));
    const id = uniqueId("seccomp-start");
    try {
      expect(berth(["create", "--bundle", b.dir, id], { detached: true }).code).toBe(0);
      const r = berth(["start", id], { detached: true });
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain("killed by SIGSYS");
      expect(r.stderr).toContain("seccomp filter");
      expect(JSON.parse(berth(["state", id]).stdout).status).toBe("stopped");
    } finally {
      expect(berth(["delete", "--force", id]).code).toBe(0);
      b.cleanup();
    }
  });

  it("start still succeeds (and returns) when the exec works", () => {
    const b = makeBundle(["sh", "-c", "echo started > /tmp/x; sleep 30"], profile("SCMP_ACT_ERRNO", SH));
    const id = uniqueId("seccomp-start");
    try {
      expect(berth(["create", "--bundle", b.dir, id], { detached: true }).code).toBe(0);
      const r = berth(["start", id], { detached: true });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(JSON.parse(berth(["state", id]).stdout).status).toBe("running");
    } finally {
      berth(["delete", "--force", id]);
      b.cleanup();
    }
  });

  // An init killed while it waits for the host's hooks (a createRuntime hook sends the SIGKILL):
  // deterministic, where a tiny RLIMIT_AS kills a glibc-built init but not a musl-built one.
  it("an init killed before exec: run says it died, during which step, of which signal, and the likely cause", () => {
    const hook = `${fs.mkdtempSync("/tmp/berth-kill-hook-")}/kill-init`;
    fs.writeFileSync(hook, `#!/bin/sh\nkill -9 $(sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p')\n`, { mode: 0o755 });
    try {
      const r = run(["sh", "-c", "echo never"], (s) => {
        s.hooks = { createRuntime: [{ path: hook }] };
      });
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe("");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain("killed by SIGKILL during setup, at step");
      expect(r.stderr).toContain("RLIMIT_AS");
      expect(leftoverState()).toEqual([]);
    } finally {
      fs.rmSync(hook.slice(0, hook.lastIndexOf("/")), { recursive: true, force: true });
    }
  });

  it("a tiny RLIMIT_AS: the init's death is reported in one line, or (a musl-built init needs no memory after it) the program dies of SIGSEGV", () => {
    const r = run(["sh", "-c", "echo never"], (s) => {
      s.process!.rlimits = [{ type: "RLIMIT_AS", soft: 100000, hard: 100000 }];
    });
    expect(r.stdout).toBe("");
    if (r.stderr) {
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/killed by SIG(SEGV|KILL)/);
      expect(r.stderr).toContain("RLIMIT_AS");
      expect(r.code).not.toBe(0);
    } else {
      expect(r.code).toBe(128 + 11);
    }
  });

  it("a startContainer-free create with a failing step after start still names the step", () => {
    // cwd is checked before the fifo, so use a seccomp ERRNO on execve: a clean errno report
    const b = makeBundle(["sh", "-c", "echo never"], profile("SCMP_ACT_ERRNO", noExecve));
    const id = uniqueId("seccomp-start");
    try {
      expect(berth(["create", "--bundle", b.dir, id], { detached: true }).code).toBe(0);
      expect(fs.existsSync(`${b.dir}`)).toBe(true);
      const r = berth(["start", id], { detached: true });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('exec: "sh"');
      expect(r.stderr).toContain("operation not permitted");
    } finally {
      berth(["delete", "--force", id]);
      b.cleanup();
    }
  });
});

describe("a profile that denies what the runtime needs to find or start the program", () => {
  it("says the seccomp profile denied it, not that the file is not executable", () => {
    const noAccess = SH.filter((n) => !["access", "faccessat", "faccessat2"].includes(n));
    const r = run(["sh", "-c", "echo never"], profile("SCMP_ACT_ERRNO", noAccess, false));
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("operation not permitted");
    expect(r.stderr).toContain("seccomp profile denies");
    expect(r.stderr).not.toContain("permission denied");
  });
});

describe("berth exec of a process that dies before exec", () => {
  // The container's own process keeps no_new_privs, so its filter is loaded last and capset
  // comes before it; the exec'd process drops no_new_privs, so its filter is loaded before the
  // capabilities are set, and capset, which the profile does not allow, kills it.
  it("is reported in one line too (foreground and -d)", () => {
    const b = makeBundle(["sleep", "30"], profile("SCMP_ACT_KILL_PROCESS", SH.filter((n) => n !== "capset")));
    const id = uniqueId("seccomp-exec");
    try {
      expect(berth(["run", "-d", "--bundle", b.dir, id], { detached: true }).code).toBe(0);
      const p = { ...b.spec.process!, args: ["sh", "-c", "echo never"], noNewPrivileges: false };
      fs.writeFileSync(`${b.dir}/p.json`, JSON.stringify(p));
      for (const extra of [[], ["-d"]]) {
        const r = berth(["exec", ...extra, "--process", `${b.dir}/p.json`, id], { detached: true });
        expect(r.code).not.toBe(0);
        expect(r.stdout).toBe("");
        expect(r.stderr.trim().split("\n")).toHaveLength(1);
        expect(r.stderr).toContain("killed by SIGSYS");
        expect(r.stderr).toContain("after loading the seccomp filter");
      }
      expect(JSON.parse(berth(["state", id]).stdout).status).toBe("running");
    } finally {
      berth(["delete", "--force", id]);
      b.cleanup();
    }
  });
});
