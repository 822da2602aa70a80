// Compiles OCI seccomp profiles and runs the resulting BPF in a small interpreter
// against fake seccomp_data, so no root or kernel support is needed.

import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BerthError } from "../../src/runtime/errors.ts";
import type { Seccomp, SeccompSyscall } from "../../src/runtime/spec/types.ts";
import { compileSeccomp } from "../../src/runtime/seccomp/index.ts";
import { runFilter, runFilterDetailed } from "../../src/runtime/seccomp/bpf-interpreter.ts";
import { assemble, newLabel, Program } from "../../src/runtime/seccomp/bpf.ts";
import { ARCHES, type ArchId } from "../../src/runtime/seccomp/tables.ts";

const ROOT = join(import.meta.dir, "../..");

// Expected return values, spelled out independently of the implementation.
const ALLOW = 0x7fff0000;
const KILL_THREAD = 0;
const KILL_PROCESS = 0x80000000;
const TRAP = 0x00030000;
const LOG = 0x7ffc0000;
const errno = (e: number) => 0x00050000 + e;
const trace = (d: number) => 0x7ff00000 + d;
const EPERM = errno(1);
const ENOSYS = errno(38);

const AUDIT_X86_64 = 0xc000003e;
const AUDIT_I386 = 0x40000003;
const AUDIT_AARCH64 = 0xc00000b7;
const X32 = 0x40000000;

const AUDIT: Record<ArchId, number> = { x86_64: AUDIT_X86_64, x86: AUDIT_I386, x32: AUDIT_X86_64 };

function nrOf(arch: ArchId, name: string): number {
  const nr = ARCHES[arch].syscalls.get(name);
  if (nr === undefined) throw new Error(`${name} is not a syscall on ${arch}`);
  return nr;
}

/** Compiles `profile` and returns a function running the filter for one call. */
function filterOf(profile: Seccomp) {
  const compiled = compileSeccomp(profile);
  const run = (name: string | number, args: (bigint | number)[] = [], arch: ArchId = "x86_64") =>
    runFilter(compiled.filter, {
      nr: typeof name === "number" ? name : nrOf(arch, name),
      arch: AUDIT[arch],
      args: args.map((a) => BigInt(a)),
    });
  return Object.assign(run, { compiled });
}

function expectConfigError(profile: unknown, field: string, message: RegExp): BerthError {
  let err: unknown;
  try {
    compileSeccomp(profile as Seccomp);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(BerthError);
  const be = err as BerthError;
  expect(be.phase).toBe("config");
  expect(be.field).toBe(field);
  expect(be.message).toMatch(message);
  return be;
}

describe("default action and architectures", () => {
  test("an empty allow profile allows everything on x86_64", () => {
    const f = filterOf({ defaultAction: "SCMP_ACT_ALLOW" });
    expect(f("read")).toBe(ALLOW);
    expect(f("kexec_load")).toBe(ALLOW);
    expect(f(9999)).toBe(ALLOW); // no ENOSYS rewriting behind a permissive default
    expect(f.compiled.flags).toBe(0);
    expect(f.compiled.instructions).toBe(f.compiled.filter.length / 8);
  });

  test("no architectures means native x86_64 only: other arches are killed", () => {
    const f = filterOf({ defaultAction: "SCMP_ACT_ALLOW" });
    expect(runFilter(f.compiled.filter, { nr: 3, arch: AUDIT_I386 })).toBe(KILL_THREAD);
    expect(runFilter(f.compiled.filter, { nr: 0, arch: AUDIT_AARCH64 })).toBe(KILL_THREAD);
  });

  test("an arch missing from the profile is killed even with default ALLOW", () => {
    const f = filterOf({ defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86"] });
    expect(f("read", [], "x86")).toBe(ALLOW);
    expect(f("read", [], "x86_64")).toBe(KILL_THREAD);
  });

  test("x86_64 filters reject x32 syscalls unless SCMP_ARCH_X32 is listed", () => {
    const only64 = filterOf({ defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"] });
    expect(only64("read")).toBe(ALLOW);
    expect(only64(X32 + 0)).toBe(KILL_THREAD);
    expect(only64(X32 + 512)).toBe(KILL_THREAD);
    expect(only64(0xffffffff)).toBe(KILL_THREAD);
    expect(only64.compiled.summary.join("\n")).toContain("x32");

    const both = filterOf({ defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"] });
    expect(both(X32 + 0)).toBe(ALLOW);
    expect(both("read")).toBe(ALLOW);

    const only32 = filterOf({ defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X32"] });
    expect(only32("read", [], "x32")).toBe(ALLOW);
    expect(only32("read", [], "x86_64")).toBe(KILL_THREAD);
  });

  test("foreign architectures are accepted, ignored, and reported", () => {
    const f = filterOf({
      defaultAction: "SCMP_ACT_ALLOW",
      architectures: ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_X86_64"],
    });
    expect(f("read")).toBe(ALLOW);
    expect(runFilter(f.compiled.filter, { nr: 63, arch: AUDIT_AARCH64 })).toBe(KILL_THREAD);
    expect(f.compiled.summary.join("\n")).toMatch(/ignored architectures.*SCMP_ARCH_AARCH64, SCMP_ARCH_ARM/);
  });

  test("a profile listing only foreign arches still filters the native one", () => {
    const f = filterOf({
      defaultAction: "SCMP_ACT_ERRNO",
      architectures: ["SCMP_ARCH_AARCH64"],
      syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW" }],
    });
    expect(f("read")).toBe(ALLOW);
    expect(f("write")).toBe(EPERM);
  });
});

describe("actions", () => {
  const cases: [string, number][] = [
    ["SCMP_ACT_ALLOW", ALLOW],
    ["SCMP_ACT_ERRNO", EPERM],
    ["SCMP_ACT_KILL", KILL_THREAD],
    ["SCMP_ACT_KILL_THREAD", KILL_THREAD],
    ["SCMP_ACT_KILL_PROCESS", KILL_PROCESS],
    ["SCMP_ACT_TRAP", TRAP],
    ["SCMP_ACT_TRACE", trace(1)],
    ["SCMP_ACT_LOG", LOG],
  ];
  for (const [action, ret] of cases) {
    test(`${action} as a rule returns 0x${ret.toString(16)}`, () => {
      const f = filterOf({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["getpid"], action }] });
      expect(f("getpid")).toBe(ret);
      expect(f("getppid")).toBe(ALLOW);
    });
    test(`${action} as the default returns 0x${ret.toString(16)}`, () => {
      const other = action === "SCMP_ACT_ALLOW" ? "SCMP_ACT_LOG" : "SCMP_ACT_ALLOW";
      const f = filterOf({ defaultAction: action, syscalls: [{ names: ["getpid"], action: other }] });
      expect(f("getppid")).toBe(ret);
      expect(f("getpid")).toBe(other === "SCMP_ACT_ALLOW" ? ALLOW : LOG);
    });
  }

  test("errnoRet per rule, defaultErrnoRet for the default", () => {
    const f = filterOf({
      defaultAction: "SCMP_ACT_ERRNO",
      defaultErrnoRet: 13,
      syscalls: [
        { names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 30 },
        { names: ["rmdir"], action: "SCMP_ACT_ERRNO", errnoRet: 0 },
        { names: ["read"], action: "SCMP_ACT_ALLOW" },
      ],
    });
    expect(f("mkdir")).toBe(errno(30));
    expect(f("rmdir")).toBe(errno(0)); // "succeed" without running
    expect(f("write")).toBe(errno(13));
    expect(f("read")).toBe(ALLOW);
    expect(f.compiled.summary[0]).toMatch(/^ERRNO\(EACCES\) for syscalls not listed/);
  });

  test("a rule's SCMP_ACT_ERRNO without errnoRet is EPERM, not defaultErrnoRet (runc, runtime-spec)", () => {
    const f = filterOf({
      defaultAction: "SCMP_ACT_ERRNO",
      defaultErrnoRet: 38,
      syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO" }],
    });
    expect(f("mkdir")).toBe(EPERM);
    expect(f("rmdir")).toBe(ENOSYS);
  });

  test("SCMP_ACT_TRACE passes errnoRet as tracer data, EPERM by default", () => {
    const f = filterOf({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [
        { names: ["open"], action: "SCMP_ACT_TRACE", errnoRet: 42 },
        { names: ["close"], action: "SCMP_ACT_TRACE" },
      ],
    });
    expect(f("open")).toBe(trace(42));
    expect(f("close")).toBe(trace(1));
  });

  test("a rule with the default's action changes nothing but still counts as mentioned", () => {
    const f = filterOf({
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [
        { names: ["read"], action: "SCMP_ACT_ALLOW" },
        { names: ["clone3", "write"], action: "SCMP_ACT_ERRNO" },
      ],
    });
    expect(f("write")).toBe(EPERM);
    expect(f("clone3")).toBe(EPERM); // mentioned: no ENOSYS rewrite
  });
});

describe("argument comparisons", () => {
  const probes = [
    0n, 1n, 2n, 0x7fffffffn, 0x80000000n, 0xfffffffen, 0xffffffffn, 0x100000000n, 0x100000001n, 0x1fffffffen,
    0x1ffffffffn, 0xfffffffe00000000n, 0xffffffff00000000n, 0xffffffff00000001n, 0xfffffffffffffffen, 0xffffffffffffffffn,
  ];
  const values = [0n, 1n, 0xffffffffn, 0x100000000n, 0x100000001n, 0xffffffff00000000n, 0xfffffffffffffffen, 0xffffffffffffffffn - 2048n];
  const semantics: Record<string, (a: bigint, v: bigint) => boolean> = {
    SCMP_CMP_EQ: (a, v) => a === v,
    SCMP_CMP_NE: (a, v) => a !== v,
    SCMP_CMP_LT: (a, v) => a < v,
    SCMP_CMP_LE: (a, v) => a <= v,
    SCMP_CMP_GT: (a, v) => a > v,
    SCMP_CMP_GE: (a, v) => a >= v,
  };

  for (const [op, holds] of Object.entries(semantics)) {
    test(`${op} compares full 64-bit values on x86_64`, () => {
      for (const v of values) {
        // JSON can only carry the value as a double; these are all exactly representable
        // except where the test passes a bigint (accepted for bigint-aware parsers).
        const f = filterOf({
          defaultAction: "SCMP_ACT_ALLOW",
          syscalls: [{ names: ["ioctl"], action: "SCMP_ACT_ERRNO", args: [{ index: 1, op, value: v as unknown as number }] }],
        });
        for (const a of probes) {
          expect({ op, v, a, ret: f("ioctl", [0n, a]) }).toEqual({ op, v, a, ret: holds(a, v) ? EPERM : ALLOW });
        }
      }
    });
  }

  test("MASKED_EQ on clone flags (low word)", () => {
    const f = filterOf({
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [
        {
          names: ["clone"],
          action: "SCMP_ACT_ALLOW",
          args: [{ index: 0, op: "SCMP_CMP_MASKED_EQ", value: 0x7e020000, valueTwo: 0 }],
        },
      ],
    });
    const CLONE_THREAD_FLAGS = 0x3d0f00n; // what pthread_create passes
    const CLONE_NEWUSER = 0x10000000n;
    expect(f("clone", [CLONE_THREAD_FLAGS])).toBe(ALLOW);
    expect(f("clone", [0x11n])).toBe(ALLOW); // fork: SIGCHLD
    expect(f("clone", [CLONE_NEWUSER | 0x11n])).toBe(EPERM);
    expect(f("clone", [0x00020000n])).toBe(EPERM); // CLONE_NEWNS
    expect(f("clone", [0xffffffff00000011n])).toBe(ALLOW); // mask ignores the high word
    expect(f.compiled.summary).toContain("ALLOW clone if arg0 & 0x7e020000 == 0");
  });

  test("MASKED_EQ with a high-word mask and non-zero expected value", () => {
    const f = filterOf({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [
        {
          names: ["mmap"],
          action: "SCMP_ACT_KILL_PROCESS",
          args: [{ index: 3, op: "SCMP_CMP_MASKED_EQ", value: 0xffffffff00000000, valueTwo: 0x0000000100000000 }],
        },
      ],
    });
    expect(f("mmap", [0, 0, 0, 0x100000000n])).toBe(KILL_PROCESS);
    expect(f("mmap", [0, 0, 0, 0x1deadbeefn])).toBe(KILL_PROCESS);
    expect(f("mmap", [0, 0, 0, 0x200000000n])).toBe(ALLOW);
    expect(f("mmap", [0, 0, 0, 0xdeadbeefn])).toBe(ALLOW);
  });

  test("MASKED_EQ with mask and expected in both words", () => {
    const u64 = (hi: number, lo: number) => (BigInt(hi) << 32n) | BigInt(lo);
    const f = filterOf({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [
        {
          names: ["mmap"],
          action: "SCMP_ACT_ERRNO",
          args: [{ index: 2, op: "SCMP_CMP_MASKED_EQ", value: Number(u64(0xff0, 0xff0)), valueTwo: Number(u64(0x120, 0x340)) }],
        },
      ],
    });
    expect(f("mmap", [0, 0, u64(0x120, 0x340)])).toBe(EPERM);
    expect(f("mmap", [0, 0, u64(0xf12f, 0xfffff34f)])).toBe(EPERM); // bits outside the mask do not matter
    expect(f("mmap", [0, 0, u64(0x130, 0x340)])).toBe(ALLOW); // high word differs under the mask
    expect(f("mmap", [0, 0, u64(0x120, 0x350)])).toBe(ALLOW); // low word differs under the mask
  });

  test("a MASKED_EQ that can never match makes its rule a no-op", () => {
    const f = filterOf({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [
        { names: ["kill"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, op: "SCMP_CMP_MASKED_EQ", value: 0xf, valueTwo: 0x10 }] },
      ],
    });
    for (const a of [0n, 0x10n, 0x1fn, 0xffffffffn]) expect(f("kill", [a])).toBe(ALLOW);
  });

  test("arguments within one rule are ANDed", () => {
    const f = filterOf({
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [
        {
          names: ["kill"],
          action: "SCMP_ACT_ALLOW",
          args: [
            { index: 0, op: "SCMP_CMP_GT", value: 100 },
            { index: 1, op: "SCMP_CMP_EQ", value: 15 },
            { index: 0, op: "SCMP_CMP_LE", value: 200 }, // same argument twice: still AND
          ],
        },
      ],
    });
    expect(f("kill", [150, 15])).toBe(ALLOW);
    expect(f("kill", [150, 9])).toBe(EPERM);
    expect(f("kill", [50, 15])).toBe(EPERM);
    expect(f("kill", [250, 15])).toBe(EPERM);
  });

  test("rules for the same syscall are ORed, first match wins", () => {
    const f = filterOf({
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [
        { names: ["personality"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, op: "SCMP_CMP_EQ", value: 0 }] },
        { names: ["personality"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, op: "SCMP_CMP_EQ", value: 8 }] },
        { names: ["socket"], action: "SCMP_ACT_ERRNO", errnoRet: 97, args: [{ index: 0, op: "SCMP_CMP_EQ", value: 40 }] },
        { names: ["socket"], action: "SCMP_ACT_ALLOW" },
        { names: ["socket"], action: "SCMP_ACT_KILL" }, // unreachable after an unconditional rule
      ],
    });
    expect(f("personality", [0])).toBe(ALLOW);
    expect(f("personality", [8])).toBe(ALLOW);
    expect(f("personality", [0x1234])).toBe(EPERM);
    expect(f("socket", [40])).toBe(errno(97));
    expect(f("socket", [2])).toBe(ALLOW);
  });

  test("x86 (i386) compares only the low 32 bits, like libseccomp", () => {
    const f = filterOf({
      defaultAction: "SCMP_ACT_ERRNO",
      architectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64"],
      syscalls: [
        // -1 written as a u64, as Go/Docker do for an int argument
        { names: ["personality"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, op: "SCMP_CMP_EQ", value: 0xffffffffffff0000 }] },
        { names: ["kill"], action: "SCMP_ACT_ALLOW", args: [{ index: 1, op: "SCMP_CMP_GT", value: 0x100000005 }] },
      ],
    });
    expect(f("personality", [0xffff0000n], "x86")).toBe(ALLOW);
    expect(f("personality", [0xffff0000n], "x86_64")).toBe(EPERM); // 64-bit: high word differs
    expect(f("personality", [0xffffffffffff0000n], "x86_64")).toBe(ALLOW);
    expect(f("kill", [0, 6], "x86")).toBe(ALLOW);
    expect(f("kill", [0, 5], "x86")).toBe(EPERM);
    expect(f("kill", [0, 6], "x86_64")).toBe(EPERM);
  });

  test("x86 (i386) uses its own syscall numbers", () => {
    const f = filterOf({
      defaultAction: "SCMP_ACT_ERRNO",
      architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
      syscalls: [{ names: ["getpid", "socketcall"], action: "SCMP_ACT_ALLOW" }],
    });
    expect(nrOf("x86_64", "getpid")).toBe(39);
    expect(nrOf("x86", "getpid")).toBe(20);
    expect(f(39, [], "x86_64")).toBe(ALLOW);
    expect(f(20, [], "x86")).toBe(ALLOW);
    expect(f(20, [], "x86_64")).toBe(EPERM); // x86_64 20 is writev
    expect(f(39, [], "x86")).toBe(EPERM); // i386 39 is mkdir
    expect(f("socketcall", [], "x86")).toBe(ALLOW); // i386-only name: fine, skipped on x86_64
    expect(f.compiled.summary.join("\n")).not.toContain("skipped unknown syscalls");
  });
});

describe("ENOSYS for syscalls newer than the table", () => {
  const base = (defaultAction: string, extra: Partial<Seccomp> = {}) =>
    filterOf({
      defaultAction,
      architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      syscalls: [{ names: ["read", "write"], action: defaultAction === "SCMP_ACT_ALLOW" ? "SCMP_ACT_ERRNO" : "SCMP_ACT_ALLOW" }],
      ...extra,
    });

  test("numbers above the table max get ENOSYS instead of the default", () => {
    const f = base("SCMP_ACT_ERRNO");
    const max64 = ARCHES.x86_64.maxKnown;
    expect(f(max64, [], "x86_64")).toBe(EPERM); // known, not listed
    expect(f(max64 + 1, [], "x86_64")).toBe(ENOSYS);
    expect(f(1000, [], "x86_64")).toBe(ENOSYS);
    expect(f(X32 - 1, [], "x86_64")).toBe(ENOSYS);
    expect(f(ARCHES.x86.maxKnown + 1, [], "x86")).toBe(ENOSYS);
    expect(f(0xffffffff, [], "x86")).toBe(ENOSYS);
    expect(f(400, [], "x86_64")).toBe(EPERM); // a hole inside the table keeps the default
    expect(f.compiled.summary.join("\n")).toMatch(/ERRNO\(ENOSYS\) for syscall numbers above \d+ on x86_64/);
  });

  test("x32: the gap before the legacy 512..547 block and everything after it", () => {
    const f = base("SCMP_ACT_ERRNO");
    expect(f(X32 + nrOf("x86_64", "read"), [], "x32")).toBe(ALLOW);
    expect(f(X32 + 480, [], "x32")).toBe(ENOSYS);
    expect(f(X32 + 511, [], "x32")).toBe(ENOSYS);
    expect(f(X32 + 512, [], "x32")).toBe(EPERM); // x32 rt_sigaction: known, not listed
    expect(f(X32 + 547, [], "x32")).toBe(EPERM);
    expect(f(X32 + 548, [], "x32")).toBe(ENOSYS);
    expect(f(0xffffffff, [], "x32")).toBe(ENOSYS);
  });

  test("applies behind KILL and TRAP defaults too", () => {
    for (const [action, ret] of [
      ["SCMP_ACT_KILL_PROCESS", KILL_PROCESS],
      ["SCMP_ACT_KILL", KILL_THREAD],
      ["SCMP_ACT_TRAP", TRAP],
    ] as const) {
      const f = base(action);
      expect(f("mkdir")).toBe(ret);
      expect(f(999)).toBe(ENOSYS);
    }
  });

  test("not behind ALLOW, LOG or TRACE defaults", () => {
    expect(base("SCMP_ACT_ALLOW")(999)).toBe(ALLOW);
    expect(base("SCMP_ACT_LOG")(999)).toBe(LOG);
    expect(base("SCMP_ACT_TRACE")(999)).toBe(trace(1));
  });

  test("clone3 gets ENOSYS when the profile does not mention it", () => {
    const f = base("SCMP_ACT_ERRNO");
    expect(f("clone3", [], "x86_64")).toBe(ENOSYS);
    expect(f("clone3", [], "x86")).toBe(ENOSYS);
    expect(f("clone3", [], "x32")).toBe(ENOSYS);
    expect(f.compiled.summary.join("\n")).toContain("ERRNO(ENOSYS) for clone3");
  });

  test("clone3 follows the profile when it is mentioned", () => {
    const allowed = base("SCMP_ACT_ERRNO", {
      syscalls: [{ names: ["clone3"], action: "SCMP_ACT_ALLOW" }],
    });
    expect(allowed("clone3")).toBe(ALLOW);
    const denied = base("SCMP_ACT_ERRNO", {
      syscalls: [{ names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 1 }],
    });
    expect(denied("clone3")).toBe(EPERM);
    expect(denied.compiled.summary.join("\n")).not.toContain("for clone3");
    expect(base("SCMP_ACT_ALLOW")("clone3")).toBe(ALLOW);
  });
});

describe("syscall names", () => {
  test("names unknown everywhere are skipped and listed in the summary", () => {
    const f = filterOf({
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [{ names: ["read", "not_a_syscall", "set_tls"], action: "SCMP_ACT_ALLOW" }],
    });
    expect(f("read")).toBe(ALLOW);
    expect(f.compiled.summary.join("\n")).toContain("skipped unknown syscalls: not_a_syscall, set_tls");
  });

  test("names shaped like Object.prototype members are not syscalls", () => {
    const f = filterOf({
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [{ names: ["constructor", "toString", "__proto__"], action: "SCMP_ACT_ALLOW" }],
    });
    expect(f("read")).toBe(EPERM);
    expect(f.compiled.summary.join("\n")).toContain("skipped unknown syscalls: constructor, toString, __proto__");
  });

  test("generated tables have the expected anchors", () => {
    expect(nrOf("x86_64", "read")).toBe(0);
    expect(nrOf("x86", "read")).toBe(3);
    expect(nrOf("x32", "read")).toBe(X32 + 0);
    expect(nrOf("x32", "rt_sigaction")).toBe(X32 + 512);
    expect(nrOf("x86_64", "clone3")).toBe(435);
    expect(nrOf("x86", "clone3")).toBe(435);
    expect(nrOf("x86_64", "personality")).toBe(135);
    expect(nrOf("x86", "personality")).toBe(136);
    expect(ARCHES.x86_64.syscalls.has("socketcall")).toBe(false);
    expect(ARCHES.x86.syscalls.has("map_shadow_stack")).toBe(false);
  });

  test.skipIf(!existsSync("/usr/include/x86_64-linux-gnu/asm/unistd_64.h"))(
    "the checked-in tables match the generator output",
    () => {
      const r = Bun.spawnSync([process.execPath, join(ROOT, "scripts/gen-seccomp-tables.ts"), "--check"]);
      expect(r.stderr.toString()).toBe("");
      expect(r.exitCode).toBe(0);
    },
  );
});

describe("flags and unsupported features", () => {
  test("flags map to SECCOMP_FILTER_FLAG_* bits", () => {
    const c = compileSeccomp({
      defaultAction: "SCMP_ACT_ALLOW",
      flags: ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
    });
    expect(c.flags).toBe(1 | 2 | 4);
    expect(compileSeccomp({ defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_LOG"] }).flags).toBe(2);
  });

  test("SCMP_ACT_NOTIFY compiles to SECCOMP_RET_USER_NOTIF; refused where runc refuses it", () => {
    expectConfigError(
      { defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_NEW_LISTENER"] },
      "linux.seccomp.flags[0]",
      /not supported yet/,
    );
    // listenerPath alone is accepted (runc too): nothing notifies
    expect(compileSeccomp({ defaultAction: "SCMP_ACT_ALLOW", listenerPath: "/run/agent.sock" } as Seccomp).filter.length).toBeGreaterThan(0);
    const notify = { defaultAction: "SCMP_ACT_ALLOW", listenerPath: "/run/a.sock", syscalls: [{ names: ["mount"], action: "SCMP_ACT_NOTIFY" }] } as Seccomp;
    const { filter } = compileSeccomp(notify);
    const dv = new DataView(filter.buffer, filter.byteOffset, filter.byteLength);
    const rets = new Set<number>();
    for (let i = 0; i < filter.length / 8; i++) if (dv.getUint16(i * 8, true) === 0x06) rets.add(dv.getUint32(i * 8 + 4, true));
    expect(rets.has(0x7fc00000)).toBe(true);
    expectConfigError({ ...notify, listenerPath: undefined }, "linux.seccomp.listenerPath", /listenerPath is not set/);
    expectConfigError({ ...notify, syscalls: [{ names: ["write"], action: "SCMP_ACT_NOTIFY" }] }, "linux.seccomp.syscalls[0].names", /cannot be used for the write syscall/);
    expectConfigError({ defaultAction: "SCMP_ACT_NOTIFY", listenerPath: "/a" }, "linux.seccomp.defaultAction", /cannot be used as the default action/);
    expectConfigError({ ...notify, syscalls: [{ names: ["mount"], action: "SCMP_ACT_NOTIFY", errnoRet: 1 }] }, "linux.seccomp.syscalls[0].errnoRet", /does not return an errno/);
  });

  test("defaultErrnoRet sets the default action's errno", () => {
    const { filter } = compileSeccomp({ defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 38, syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW" }] } as Seccomp);
    const dv = new DataView(filter.buffer, filter.byteOffset, filter.byteLength);
    const rets: number[] = [];
    for (let i = 0; i < filter.length / 8; i++) if (dv.getUint16(i * 8, true) === 0x06) rets.push(dv.getUint32(i * 8 + 4, true));
    expect(rets).toContain(0x00050000 | 38);
    expect(rets).not.toContain(0x00050000 | 1);
  });
});

describe("invalid profiles name the JSON path", () => {
  const rule = (r: Partial<SeccompSyscall> & Record<string, unknown>) => ({
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW" }, { names: ["read"], action: "SCMP_ACT_ALLOW" }, { names: ["read"], action: "SCMP_ACT_ALLOW" }, { names: ["write"], action: "SCMP_ACT_ALLOW", ...r }],
  });
  const arg = (a: Record<string, unknown>) => rule({ args: [{ index: 0, op: "SCMP_CMP_EQ", value: 1 }, a as never] });
  const cases: [string, unknown, string, RegExp][] = [
    ["not an object", "SCMP_ACT_ALLOW", "linux.seccomp", /must be an object/],
    ["defaultAction missing", {}, "linux.seccomp.defaultAction", /missing/],
    ["defaultAction unknown", { defaultAction: "SCMP_ACT_NOPE" }, "linux.seccomp.defaultAction", /unknown seccomp action "SCMP_ACT_NOPE"/],
    ["defaultAction not a string", { defaultAction: 3 }, "linux.seccomp.defaultAction", /must be a string/],
    ["defaultErrnoRet too big", { defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 4096 }, "linux.seccomp.defaultErrnoRet", /0 to 4095/],
    ["defaultErrnoRet on ALLOW", { defaultAction: "SCMP_ACT_ALLOW", defaultErrnoRet: 1 }, "linux.seccomp.defaultErrnoRet", /does not return an errno/],
    ["architectures not an array", { defaultAction: "SCMP_ACT_ALLOW", architectures: "SCMP_ARCH_X86_64" }, "linux.seccomp.architectures", /array/],
    ["architecture unknown", { defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"] }, "linux.seccomp.architectures[1]", /unknown seccomp architecture "SCMP_ARCH_Z80"/],
    ["flag unknown", { defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_FAST"] }, "linux.seccomp.flags[0]", /unknown seccomp flag/],
    ["syscalls not an array", { defaultAction: "SCMP_ACT_ALLOW", syscalls: {} }, "linux.seccomp.syscalls", /must be an array/],
    ["rule not an object", { defaultAction: "SCMP_ACT_ALLOW", syscalls: [null] }, "linux.seccomp.syscalls[0]", /must be an object/],
    ["names missing (old name field)", rule({ names: undefined, name: "write" }), "linux.seccomp.syscalls[3].names", /names must be an array of strings/],
    ["names not strings", rule({ names: ["write", 7 as never] }), "linux.seccomp.syscalls[3].names[1]", /non-empty string/],
    ["names empty", rule({ names: [] }), "linux.seccomp.syscalls[3].names", /at least one/],
    ["action unknown", rule({ action: "SCMP_ACT_PERMIT" }), "linux.seccomp.syscalls[3].action", /unknown seccomp action "SCMP_ACT_PERMIT"/],
    ["action missing", rule({ action: undefined }), "linux.seccomp.syscalls[3].action", /missing/],
    ["errnoRet negative", rule({ action: "SCMP_ACT_ERRNO", errnoRet: -1 }), "linux.seccomp.syscalls[3].errnoRet", /0 to 4095/],
    ["errnoRet too big", rule({ action: "SCMP_ACT_ERRNO", errnoRet: 5000 }), "linux.seccomp.syscalls[3].errnoRet", /0 to 4095/],
    ["errnoRet not integer", rule({ action: "SCMP_ACT_ERRNO", errnoRet: 1.5 }), "linux.seccomp.syscalls[3].errnoRet", /0 to 4095/],
    ["errnoRet on ALLOW", rule({ errnoRet: 1 }), "linux.seccomp.syscalls[3].errnoRet", /does not return an errno/],
    ["args not an array", rule({ args: {} as never }), "linux.seccomp.syscalls[3].args", /must be an array/],
    ["arg index > 5", arg({ index: 6, op: "SCMP_CMP_EQ", value: 1 }), "linux.seccomp.syscalls[3].args[1].index", /0 to 5/],
    ["arg index missing", arg({ op: "SCMP_CMP_EQ", value: 1 }), "linux.seccomp.syscalls[3].args[1].index", /0 to 5/],
    ["op unknown", arg({ index: 0, op: "SCMP_CMP_LIKE", value: 1 }), "linux.seccomp.syscalls[3].args[1].op", /unknown comparison operator "SCMP_CMP_LIKE"/],
    ["value not a number", arg({ index: 0, op: "SCMP_CMP_EQ", value: "1" }), "linux.seccomp.syscalls[3].args[1].value", /unsigned 64-bit integer/],
    ["value missing", arg({ index: 0, op: "SCMP_CMP_EQ" }), "linux.seccomp.syscalls[3].args[1].value", /missing/],
    ["value negative", arg({ index: 0, op: "SCMP_CMP_EQ", value: -1 }), "linux.seccomp.syscalls[3].args[1].value", /unsigned 64-bit integer/],
    ["value fractional", arg({ index: 0, op: "SCMP_CMP_EQ", value: 0.5 }), "linux.seccomp.syscalls[3].args[1].value", /unsigned 64-bit integer/],
    ["value 2^64 (u64 max after JSON rounding)", arg({ index: 0, op: "SCMP_CMP_EQ", value: 18446744073709551615 }), "linux.seccomp.syscalls[3].args[1].value", /larger than 2\^64-1/],
    ["valueTwo not a number", arg({ index: 0, op: "SCMP_CMP_MASKED_EQ", value: 1, valueTwo: true }), "linux.seccomp.syscalls[3].args[1].valueTwo", /unsigned 64-bit integer/],
  ];
  for (const [what, profile, field, message] of cases) {
    test(what, () => {
      expectConfigError(profile, field, message);
    });
  }

  test("the field prefix is configurable and the error line is actionable", () => {
    let err: BerthError | undefined;
    try {
      compileSeccomp({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["read"], action: "BAD" }] }, "process.seccomp");
    } catch (e) {
      err = e as BerthError;
    }
    expect(err?.field).toBe("process.seccomp.syscalls[0].action");
    expect(err?.describe()).toMatch(/^config: unknown seccomp action "BAD" \[field process\.seccomp\.syscalls\[0\]\.action\] — likely cause: use one of SCMP_ACT_ALLOW/);
  });

  test("values above 2^53 are accepted but flagged as possibly rounded", () => {
    const c = compileSeccomp({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{ names: ["ioctl"], action: "SCMP_ACT_ERRNO", args: [{ index: 1, op: "SCMP_CMP_EQ", value: 0xffffffff00000000 }] }],
    });
    expect(c.summary.join("\n")).toMatch(/note: linux\.seccomp\.syscalls\[0\]\.args\[0\]\.value = 0xffffffff00000000 is above 2\^53/);
  });

  test("more than 4096 instructions is a clear error", () => {
    const names = [...ARCHES.x86_64.syscalls.keys()];
    const syscalls = names.map((n) => ({
      names: [n],
      action: "SCMP_ACT_ALLOW",
      args: [
        { index: 0, op: "SCMP_CMP_EQ", value: 0x100000001 },
        { index: 1, op: "SCMP_CMP_GT", value: 0x100000001 },
        { index: 2, op: "SCMP_CMP_NE", value: 0x100000001 },
      ],
    }));
    expectConfigError({ defaultAction: "SCMP_ACT_ERRNO", syscalls }, "linux.seccomp", /at most 4096/);
  });
});

describe("assembler", () => {
  test("conditional jumps longer than 255 go through ja trampolines", () => {
    const p = new Program();
    const far = newLabel();
    const near = newLabel();
    p.ld(0);
    p.jmp("jeq", 7, far, near);
    p.place(near);
    for (let i = 0; i < 300; i++) p.ret(i);
    p.place(far);
    p.ret(0xabc);
    const insns = assemble(p.insns);
    expect(insns.length).toBe(1 + 1 + 1 + 300 + 1); // ld, jeq, ja, rets, ret
    const run = (nr: number) => runFilter(insns, { nr, arch: 0 });
    expect(run(7)).toBe(0xabc);
    expect(run(8)).toBe(0);
  });

  test("the interpreter refuses code the compiler must never emit", () => {
    expect(() => runFilter([{ code: 0x20, jt: 0, jf: 0, k: 2 }, { code: 0x06, jt: 0, jf: 0, k: 0 }], { nr: 0, arch: 0 })).toThrow(/bad load offset/);
    expect(() => runFilter([{ code: 0x15, jt: 5, jf: 5, k: 0 }], { nr: 0, arch: 0 })).toThrow(/ran off the end/);
    expect(() => runFilter([{ code: 0x61, jt: 0, jf: 0, k: 0 }], { nr: 0, arch: 0 })).toThrow(/unsupported/);
  });
});

describe("Docker-like default profile fixture", () => {
  const profile = JSON.parse(readFileSync(join(ROOT, "test/fixtures/seccomp-docker-like.json"), "utf8")) as Seccomp;
  const f = filterOf(profile);
  const allowlist = profile.syscalls![0]!.names;

  test("compiles well under BPF_MAXINSNS", () => {
    expect(allowlist.length).toBeGreaterThanOrEqual(300);
    expect(f.compiled.instructions).toBeLessThan(4096);
    expect(f.compiled.instructions).toBeLessThan(1000);
  });

  test("allowlisted syscalls are allowed on every arch that has them", () => {
    for (const arch of ["x86_64", "x86", "x32"] as ArchId[]) {
      for (const name of allowlist) {
        const nr = ARCHES[arch].syscalls.get(name);
        if (nr === undefined) continue;
        expect({ arch, name, ret: f(nr, [], arch) }).toEqual({ arch, name, ret: ALLOW });
      }
    }
  });

  test("read is allowed, kexec_load and mount get EPERM", () => {
    for (const arch of ["x86_64", "x86", "x32"] as ArchId[]) {
      expect(f("read", [], arch)).toBe(ALLOW);
      expect(f("kexec_load", [], arch)).toBe(EPERM);
      expect(f("mount", [], arch)).toBe(EPERM);
    }
  });

  test("personality(0) is allowed, personality(0x1234) is denied", () => {
    expect(f("personality", [0])).toBe(ALLOW);
    expect(f("personality", [0xffffffff])).toBe(ALLOW);
    expect(f("personality", [0x1234])).toBe(EPERM);
    expect(f("personality", [0], "x86")).toBe(ALLOW);
    expect(f("personality", [0x1234], "x86")).toBe(EPERM);
  });

  test("clone without namespace flags is allowed, with CLONE_NEWUSER denied", () => {
    expect(f("clone", [0x3d0f00])).toBe(ALLOW);
    expect(f("clone", [0x10000000 | 0x11])).toBe(EPERM);
    expect(f("clone", [0x3d0f00], "x86")).toBe(ALLOW);
    expect(f("clone", [0x10000000 | 0x11], "x32")).toBe(EPERM);
  });

  test("socket(AF_VSOCK) is denied, other families allowed", () => {
    expect(f("socket", [2])).toBe(ALLOW);
    expect(f("socket", [40])).toBe(EPERM);
  });

  test("clone3 returns ENOSYS as the profile says; future syscalls ENOSYS", () => {
    expect(f("clone3")).toBe(ENOSYS);
    expect(f(ARCHES.x86_64.maxKnown + 1)).toBe(ENOSYS);
    expect(f(X32 + 1000, [], "x32")).toBe(ENOSYS);
  });

  test("a syscall costs at most a couple dozen BPF instructions", () => {
    let worst = 0;
    for (const arch of ["x86_64", "x86", "x32"] as ArchId[]) {
      for (const nr of ARCHES[arch].syscalls.values()) {
        const { executed } = runFilterDetailed(f.compiled.filter, { nr, arch: AUDIT[arch], args: [0n] });
        worst = Math.max(worst, executed);
      }
    }
    expect(worst).toBeLessThanOrEqual(24);
  });

  test("summary describes the profile", () => {
    const s = f.compiled.summary;
    expect(s[0]).toMatch(/^ERRNO\(EPERM\) for syscalls not listed: \d+ on x86_64, \d+ on x86, \d+ on x32$/);
    expect(s).toContain("ALLOW clone if arg0 & 0x7e020000 == 0");
    expect(s).toContain("ALLOW personality if arg0 == 0");
    expect(s).toContain("ERRNO(ENOSYS) clone3");
    expect(s.join("\n")).toContain("skipped unknown syscalls:");
    expect(s[s.length - 1]).toBe(`${f.compiled.instructions} BPF instructions`);
  });
});

// --------------------------------------------------------------------------------
// Differential test: random profiles against a straightforward reference evaluation of
// the documented semantics, over many (arch, nr, args) probes.

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REF_RET: Record<string, (e?: number) => number> = {
  SCMP_ACT_ALLOW: () => ALLOW,
  SCMP_ACT_ERRNO: (e = 1) => errno(e),
  SCMP_ACT_KILL: () => KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: () => KILL_PROCESS,
  SCMP_ACT_TRAP: () => TRAP,
  SCMP_ACT_TRACE: (e = 1) => trace(e),
  SCMP_ACT_LOG: () => LOG,
};

function reference(profile: Seccomp, auditArch: number, nr: number, args: bigint[]): number {
  const listed = new Set<ArchId>(
    (profile.architectures ?? []).filter((a) => a.startsWith("SCMP_ARCH_X")).map((a) => ({ SCMP_ARCH_X86_64: "x86_64", SCMP_ARCH_X86: "x86", SCMP_ARCH_X32: "x32" })[a] as ArchId),
  );
  if (listed.size === 0) listed.add("x86_64");
  let arch: ArchId;
  if (auditArch === AUDIT_I386) arch = "x86";
  else if (auditArch === AUDIT_X86_64) arch = nr >>> 0 >= X32 ? "x32" : "x86_64";
  else return KILL_THREAD;
  if (!listed.has(arch)) return KILL_THREAD;

  const mask = arch === "x86" ? 0xffffffffn : (1n << 64n) - 1n;
  for (const rule of profile.syscalls ?? []) {
    if (!rule.names.some((n) => ARCHES[arch].syscalls.get(n) === nr)) continue;
    const ok = (rule.args ?? []).every((c) => {
      const a = (args[c.index] ?? 0n) & mask;
      const v = BigInt(c.value) & mask;
      switch (c.op) {
        case "SCMP_CMP_EQ": return a === v;
        case "SCMP_CMP_NE": return a !== v;
        case "SCMP_CMP_LT": return a < v;
        case "SCMP_CMP_LE": return a <= v;
        case "SCMP_CMP_GT": return a > v;
        case "SCMP_CMP_GE": return a >= v;
        case "SCMP_CMP_MASKED_EQ": return (a & v) === (BigInt(c.valueTwo ?? 0) & mask);
      }
      throw new Error(c.op);
    });
    if (ok) return REF_RET[rule.action]!(rule.errnoRet);
  }
  const def = REF_RET[profile.defaultAction]!(profile.defaultErrnoRet);
  if (!["SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"].includes(profile.defaultAction)) {
    const a = ARCHES[arch];
    if (a.newerThanTable.some(([lo, hi]) => nr >>> 0 >= lo && nr >>> 0 <= hi)) return ENOSYS;
    const mentioned = (profile.syscalls ?? []).some((r) => r.names.includes("clone3"));
    if (!mentioned && a.syscalls.get("clone3") === nr) return ENOSYS;
  }
  return def;
}

describe("differential: random profiles vs reference semantics", () => {
  const POOL = ["read", "write", "close", "getpid", "personality", "clone", "clone3", "socket", "ioctl", "kill", "mmap", "futex", "openat", "prctl"];
  const ACTIONS = Object.keys(REF_RET);
  const OPS = ["SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_GT", "SCMP_CMP_GE", "SCMP_CMP_MASKED_EQ"];
  const VALUES = [0n, 1n, 2n, 40n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x1fffffffen, 0xffffffff00000000n, 0xfffffffffffff000n];

  for (let seed = 1; seed <= 40; seed++) {
    test(`seed ${seed}`, () => {
      const rnd = mulberry32(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      const archNames = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"].filter(() => rnd() < 0.6);
      const defaultAction = pick(ACTIONS);
      const profile: Seccomp = { defaultAction, architectures: archNames, syscalls: [] };
      if ((defaultAction === "SCMP_ACT_ERRNO" || defaultAction === "SCMP_ACT_TRACE") && rnd() < 0.5) {
        profile.defaultErrnoRet = Math.floor(rnd() * 100);
      }
      const nRules = 1 + Math.floor(rnd() * 12);
      for (let i = 0; i < nRules; i++) {
        const action = pick(ACTIONS);
        const r: SeccompSyscall = { names: [pick(POOL), ...(rnd() < 0.3 ? [pick(POOL)] : [])], action };
        if ((action === "SCMP_ACT_ERRNO" || action === "SCMP_ACT_TRACE") && rnd() < 0.5) r.errnoRet = Math.floor(rnd() * 4096);
        const nArgs = Math.floor(rnd() * 4);
        if (nArgs > 0) {
          r.args = [];
          for (let j = 0; j < nArgs; j++) {
            r.args.push({
              index: Math.floor(rnd() * 3),
              op: pick(OPS),
              value: pick(VALUES) as unknown as number,
              valueTwo: pick(VALUES) as unknown as number,
            });
          }
        }
        profile.syscalls!.push(r);
      }
      const { filter } = compileSeccomp(profile);

      for (let k = 0; k < 400; k++) {
        const arch = pick(["x86_64", "x86", "x32"] as ArchId[]);
        let nr: number;
        const roll = rnd();
        if (roll < 0.7) nr = ARCHES[arch].syscalls.get(pick(POOL)) ?? 0;
        else if (roll < 0.85) nr = (arch === "x32" ? X32 : 0) + Math.floor(rnd() * 600);
        else nr = Math.floor(rnd() * 0x100000000);
        const args = [pick(VALUES), pick(VALUES), pick(VALUES)].map((v) => (rnd() < 0.3 ? v + 1n : v));
        const got = runFilter(filter, { nr, arch: AUDIT[arch], args });
        const want = reference(profile, AUDIT[arch], nr, args);
        if (got !== want) {
          throw new Error(`mismatch for ${arch} nr=${nr} args=${args.map((a) => a.toString(16))}: got 0x${got.toString(16)}, want 0x${want.toString(16)}\n${JSON.stringify(profile, (_k, v) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v))}`);
        }
      }
    });
  }
});
