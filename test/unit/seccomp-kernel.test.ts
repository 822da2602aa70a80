// Loads compiled filters into a real kernel, in a throwaway child process: the kernel's
// own verifier must accept them and syscalls must come back as the interpreter predicts.
// Skipped where seccomp filters cannot be installed. Needs no root: the child sets
// no_new_privs first, which is all seccomp(SECCOMP_SET_MODE_FILTER) requires.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../..");

function seccompAvailable(): boolean {
  if (process.platform !== "linux" || process.arch !== "x64") return false;
  try {
    return /^Seccomp:\s*\d/m.test(readFileSync("/proc/self/status", "utf8"));
  } catch {
    return false;
  }
}

// The child compiles the profile, installs the filter on its main thread (no TSYNC, so
// Bun's helper threads are unaffected), makes raw syscalls through libc's syscall(3) and
// prints {name: result} where result is the return value or -errno.
const CHILD = `
import { dlopen, FFIType, ptr, read } from "bun:ffi";
import { compileSeccomp } from ${JSON.stringify(join(ROOT, "src/runtime/seccomp/index.ts"))};
const { profile, calls } = JSON.parse(process.env.SECCOMP_TEST);
const c = compileSeccomp(profile);
const libc = dlopen("libc.so.6", {
  prctl: { args: [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64], returns: FFIType.i32 },
  syscall: { args: [FFIType.i64, FFIType.u64, FFIType.u64, FFIType.u64], returns: FFIType.i64 },
  __errno_location: { args: [], returns: FFIType.ptr },
  setrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
});
// No core file when a test makes the kernel kill us with SIGSYS: RLIMIT_CORE = {0, 0}.
libc.symbols.setrlimit(4 /* RLIMIT_CORE */, ptr(new Uint8Array(16)));
const errno = () => read.i32(libc.symbols.__errno_location(), 0);
const sys = (nr, a = 0n, b = 0n, d = 0n) => {
  const r = libc.symbols.syscall(nr, BigInt(a), BigInt(b), BigInt(d));
  return r === -1n ? -errno() : Number(r);
};
// struct sock_fprog { unsigned short len; struct sock_filter *filter; }
const fprog = new Uint8Array(16);
const view = new DataView(fprog.buffer);
view.setUint16(0, c.instructions, true);
view.setBigUint64(8, BigInt(ptr(c.filter)), true);
if (libc.symbols.prctl(38 /* PR_SET_NO_NEW_PRIVS */, 1n, 0n, 0n, 0n) !== 0) throw new Error("PR_SET_NO_NEW_PRIVS: errno " + errno());
const loaded = sys(317 /* seccomp */, 1 /* SECCOMP_SET_MODE_FILTER */, c.flags, ptr(fprog));
const out = { loaded };
for (const [name, nr, ...args] of calls) out[name] = sys(nr, ...args.map((a) => BigInt(a)));
console.log(JSON.stringify(out));
`;

function runChild(profile: unknown, calls: [string, number, ...(number | string)[]][]) {
  const r = Bun.spawnSync([process.execPath, "-e", CHILD], {
    env: { ...process.env, SECCOMP_TEST: JSON.stringify({ profile, calls }) },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { ...r, stdoutText: r.stdout.toString(), stderrText: r.stderr.toString() };
}

const EPERM = -1;
const EACCES = -13;
const ENOSYS = -38;

describe.skipIf(!seccompAvailable())("seccomp filters in a real kernel", () => {
  test("the Docker-like profile loads and behaves as compiled", () => {
    const profile = JSON.parse(readFileSync(join(ROOT, "test/fixtures/seccomp-docker-like.json"), "utf8"));
    const r = runChild(profile, [
      ["getpid", 39],
      ["personality_query", 135, 0xffffffff],
      ["personality_bad", 135, 0x1234],
      ["kexec_load", 246],
      ["clone3", 435],
      ["future", 1000],
      ["vsock", 41, 40, 1, 0],
    ]);
    expect(r.stderrText).toBe("");
    const out = JSON.parse(r.stdoutText);
    expect(out.loaded).toBe(0);
    expect(out.getpid).toBeGreaterThan(0);
    expect(out.personality_query).toBeGreaterThanOrEqual(0);
    expect(out.personality_bad).toBe(EPERM);
    expect(out.kexec_load).toBe(EPERM);
    expect(out.clone3).toBe(ENOSYS);
    expect(out.future).toBe(ENOSYS);
    expect(out.vsock).toBe(EPERM);
  });

  test("errnoRet and 64-bit argument checks reach the caller", () => {
    const r = runChild(
      {
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [
          { names: ["getppid"], action: "SCMP_ACT_ERRNO", errnoRet: 13 },
          // kill(0, sig) with sig's high word set is refused; plain kill(0, 0) is not
          { names: ["kill"], action: "SCMP_ACT_ERRNO", args: [{ index: 1, op: "SCMP_CMP_GE", value: 0x100000000 }] },
        ],
      },
      [
        ["getppid", 110],
        ["kill_hi", 62, 0, "4294967296"],
        ["kill_ok", 62, 0, 0],
      ],
    );
    expect(r.stderrText).toBe("");
    const out = JSON.parse(r.stdoutText);
    expect(out).toEqual({ loaded: 0, getppid: EACCES, kill_hi: EPERM, kill_ok: 0 });
  });

  test("SCMP_ACT_KILL_PROCESS kills the process with SIGSYS", () => {
    const r = runChild(
      { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["getppid"], action: "SCMP_ACT_KILL_PROCESS" }] },
      [["getppid", 110]],
    );
    expect(r.signalCode).toBe("SIGSYS");
  });
});
