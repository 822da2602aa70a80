// Architectures a filter can be compiled for, and their syscall tables.
//
// Berth runs on x86_64 kernels, which can execute three syscall ABIs: native x86_64,
// i386 (AUDIT_ARCH_I386, via int 0x80 / compat entry) and x32 (reported as
// AUDIT_ARCH_X86_64, told apart by bit 30 of the syscall number). Other architectures
// can appear in a profile (Docker's default lists arm ones), but an x86_64 kernel never
// reports their AUDIT_ARCH values, so they need no code in the filter.

import {
  X32_SYSCALL_BIT,
  X32_SYSCALLS,
  X86_64_SYSCALLS,
  X86_SYSCALLS,
} from "./syscall-tables.generated.ts";

export { X32_SYSCALL_BIT };

// <linux/audit.h>: EM_* | __AUDIT_ARCH_64BIT (0x80000000) | __AUDIT_ARCH_LE (0x40000000)
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;

export type ArchId = "x86_64" | "x86" | "x32";

/** An inclusive range of u32 syscall numbers. */
export type NrRange = readonly [lo: number, hi: number];

export interface ArchInfo {
  id: ArchId;
  scmpName: string;
  auditArch: number;
  /** name → seccomp_data.nr (Map, so names like "constructor" cannot hit Object.prototype). */
  syscalls: ReadonlyMap<string, number>;
  /**
   * 32-bit ABIs only pass 32-bit arguments; the kernel zero-extends them into the u64
   * seccomp_data.args, so comparing the high word would only break rules whose values were
   * written as sign-extended 64-bit numbers. Like libseccomp, compare the low word only.
   */
  argWords: 1 | 2;
  /** The numbers this ABI owns under its AUDIT_ARCH value. */
  space: NrRange;
  /** Numbers above everything in our table: syscalls newer than the table. */
  newerThanTable: NrRange[];
  /** The largest number in the table (for summaries). */
  maxKnown: number;
}

const U32_MAX = 0xffffffff;

function toMap(table: Readonly<Record<string, number>>): Map<string, number> {
  return new Map(Object.entries(table));
}

function maxOf(m: ReadonlyMap<string, number>, below = Infinity): number {
  let max = -1;
  for (const nr of m.values()) if (nr < below && nr > max) max = nr;
  return max;
}

function build(): Record<ArchId, ArchInfo> {
  const x86_64 = toMap(X86_64_SYSCALLS);
  const x86 = toMap(X86_SYSCALLS);
  const x32 = toMap(X32_SYSCALLS);

  const max64 = maxOf(x86_64);
  const max32 = maxOf(x86);
  // x32 numbers 512..547 are a legacy block of x32-specific entry points; new syscalls are
  // added to the shared range below 512 (and, once that fills, from 548 up). So "newer than
  // the table" for x32 is the gap between the last shared number and 512, plus 548 and up.
  const x32LegacyStart = X32_SYSCALL_BIT + 512;
  const x32Shared = maxOf(x32, x32LegacyStart);
  const x32Max = maxOf(x32);

  return {
    x86_64: {
      id: "x86_64",
      scmpName: "SCMP_ARCH_X86_64",
      auditArch: AUDIT_ARCH_X86_64,
      syscalls: x86_64,
      argWords: 2,
      space: [0, X32_SYSCALL_BIT - 1],
      newerThanTable: [[max64 + 1, X32_SYSCALL_BIT - 1]],
      maxKnown: max64,
    },
    x86: {
      id: "x86",
      scmpName: "SCMP_ARCH_X86",
      auditArch: AUDIT_ARCH_I386,
      syscalls: x86,
      argWords: 1,
      space: [0, U32_MAX],
      newerThanTable: [[max32 + 1, U32_MAX]],
      maxKnown: max32,
    },
    x32: {
      id: "x32",
      scmpName: "SCMP_ARCH_X32",
      auditArch: AUDIT_ARCH_X86_64,
      syscalls: x32,
      // x32 processes run in 64-bit mode: the kernel reads the full 64-bit registers, so
      // the full 64-bit seccomp_data.args must be compared (unlike i386).
      argWords: 2,
      space: [X32_SYSCALL_BIT, U32_MAX],
      newerThanTable: [
        [x32Shared + 1, x32LegacyStart - 1],
        [x32Max + 1, U32_MAX],
      ],
      maxKnown: x32Max,
    },
  };
}

export const ARCHES: Readonly<Record<ArchId, ArchInfo>> = build();

/** The architecture Berth itself runs on; used when a profile lists none. */
export const NATIVE_ARCH: ArchId = "x86_64";

/** SCMP_ARCH_* names this build can put in a filter. */
export const COMPILED_SCMP_ARCHES: Readonly<Record<string, ArchId>> = {
  SCMP_ARCH_X86_64: "x86_64",
  SCMP_ARCH_X86: "x86",
  SCMP_ARCH_X32: "x32",
};

/**
 * Every SCMP_ARCH_* name the runtime spec and libseccomp know. The non-x86 ones are
 * accepted and ignored: the kernel running us is x86_64, so their AUDIT_ARCH values can
 * never show up in seccomp_data.arch.
 */
export const FOREIGN_SCMP_ARCHES: ReadonlySet<string> = new Set([
  "SCMP_ARCH_ARM",
  "SCMP_ARCH_AARCH64",
  "SCMP_ARCH_MIPS",
  "SCMP_ARCH_MIPS64",
  "SCMP_ARCH_MIPS64N32",
  "SCMP_ARCH_MIPSEL",
  "SCMP_ARCH_MIPSEL64",
  "SCMP_ARCH_MIPSEL64N32",
  "SCMP_ARCH_PPC",
  "SCMP_ARCH_PPC64",
  "SCMP_ARCH_PPC64LE",
  "SCMP_ARCH_S390",
  "SCMP_ARCH_S390X",
  "SCMP_ARCH_PARISC",
  "SCMP_ARCH_PARISC64",
  "SCMP_ARCH_RISCV64",
  "SCMP_ARCH_LOONGARCH64",
  "SCMP_ARCH_M68K",
  "SCMP_ARCH_SH",
  "SCMP_ARCH_SHEB",
]);

/** Whether any compiled-in table knows the name. */
export function isKnownSyscall(name: string): boolean {
  return ARCHES.x86_64.syscalls.has(name) || ARCHES.x86.syscalls.has(name) || ARCHES.x32.syscalls.has(name);
}
