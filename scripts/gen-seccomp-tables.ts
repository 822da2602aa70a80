#!/usr/bin/env bun
// Generates src/runtime/seccomp/syscall-tables.generated.ts: the syscall name → number
// tables for x86_64, x86 (i386) and x32 that the seccomp compiler resolves names with.
//
// Source of truth: the kernel UAPI headers shipped by Debian's linux-libc-dev
// (asm/unistd_64.h, asm/unistd_32.h, asm/unistd_x32.h). Install them with
//   apt-get install linux-libc-dev
// then run
//   bun scripts/gen-seccomp-tables.ts [--asm-dir /usr/include/x86_64-linux-gnu/asm] [--check]
// --check regenerates in memory and exits 1 if the checked-in file differs.
//
// Distribution headers lag behind the kernel (bookworm ships 6.1), and a table that
// stops at 6.1 would make a profile that allows e.g. `fchmodat2` or `mseal` silently
// lose those rules (unknown names are skipped) and get ENOSYS for them (numbers above
// the table maximum are treated as "newer than the profile"). So syscalls added after
// the installed headers are listed below, copied by hand from the kernel's
// arch/x86/entry/syscalls/syscall_{32,64}.tbl. Header entries always win; a conflict
// between a header and this list aborts the generator.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const X32_SYSCALL_BIT = 0x40000000;

type Abi = "x86_64" | "x86" | "x32";

interface LaterSyscall {
  name: string;
  nr: number;
  kernel: string;
  /** Which ABIs have it. "common" syscalls exist on all three; x86_64-only ones are "64" in the .tbl. */
  abis: Abi[];
}

const ALL: Abi[] = ["x86_64", "x86", "x32"];

// Syscalls newer than Linux 6.1 (numbers are shared by all three x86 ABIs since 5.x,
// except map_shadow_stack which is 64-bit only: "453 64 map_shadow_stack").
const LATER_SYSCALLS: LaterSyscall[] = [
  { name: "cachestat", nr: 451, kernel: "6.5", abis: ALL },
  { name: "fchmodat2", nr: 452, kernel: "6.6", abis: ALL },
  { name: "map_shadow_stack", nr: 453, kernel: "6.6", abis: ["x86_64"] },
  { name: "futex_wake", nr: 454, kernel: "6.7", abis: ALL },
  { name: "futex_wait", nr: 455, kernel: "6.7", abis: ALL },
  { name: "futex_requeue", nr: 456, kernel: "6.7", abis: ALL },
  { name: "statmount", nr: 457, kernel: "6.8", abis: ALL },
  { name: "listmount", nr: 458, kernel: "6.8", abis: ALL },
  { name: "lsm_get_self_attr", nr: 459, kernel: "6.8", abis: ALL },
  { name: "lsm_set_self_attr", nr: 460, kernel: "6.8", abis: ALL },
  { name: "lsm_list_modules", nr: 461, kernel: "6.8", abis: ALL },
  { name: "mseal", nr: 462, kernel: "6.10", abis: ALL },
  { name: "setxattrat", nr: 463, kernel: "6.13", abis: ALL },
  { name: "getxattrat", nr: 464, kernel: "6.13", abis: ALL },
  { name: "listxattrat", nr: 465, kernel: "6.13", abis: ALL },
  { name: "removexattrat", nr: 466, kernel: "6.13", abis: ALL },
  { name: "open_tree_attr", nr: 467, kernel: "6.15", abis: ALL },
  { name: "file_getattr", nr: 468, kernel: "6.17", abis: ALL },
  { name: "file_setattr", nr: 469, kernel: "6.17", abis: ALL },
  { name: "listns", nr: 470, kernel: "6.18", abis: ALL },
];

function parseArgs(argv: string[]): { asmDir: string; check: boolean } {
  let asmDir = "/usr/include/x86_64-linux-gnu/asm";
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--asm-dir") asmDir = argv[++i]!;
    else if (argv[i] === "--check") check = true;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return { asmDir, check };
}

/** Parses `#define __NR_<name> <n>` and `#define __NR_<name> (__X32_SYSCALL_BIT + <n>)`. */
function parseHeader(path: string): Map<string, number> {
  const text = readFileSync(path, "utf8");
  const table = new Map<string, number>();
  const re = /^#define\s+__NR_(\w+)\s+(?:(\d+)|\(__X32_SYSCALL_BIT\s*\+\s*(\d+)\))\s*$/;
  for (const line of text.split("\n")) {
    if (!line.startsWith("#define __NR_")) continue;
    const m = re.exec(line);
    if (!m) throw new Error(`${path}: cannot parse line: ${line}`);
    const nr = m[2] !== undefined ? Number(m[2]) : X32_SYSCALL_BIT + Number(m[3]);
    if (table.has(m[1]!)) throw new Error(`${path}: duplicate ${m[1]}`);
    table.set(m[1]!, nr);
  }
  if (table.size < 300) throw new Error(`${path}: only ${table.size} syscalls found, wrong file?`);
  return table;
}

function addLater(abi: Abi, table: Map<string, number>, base: number): string[] {
  const added: string[] = [];
  for (const s of LATER_SYSCALLS) {
    if (!s.abis.includes(abi)) continue;
    const nr = base + s.nr;
    const have = table.get(s.name);
    if (have !== undefined) {
      if (have !== nr) throw new Error(`${abi}: header says ${s.name}=${have}, LATER_SYSCALLS says ${nr}`);
      continue;
    }
    for (const [other, n] of table) {
      if (n === nr) throw new Error(`${abi}: ${s.name}=${nr} collides with ${other} from the header`);
    }
    table.set(s.name, nr);
    added.push(s.name);
  }
  return added;
}

/** "6.1" from <linux/version.h> next to the asm headers (…/include/<triplet>/asm → …/include/linux). */
function headerVersion(asmDir: string): string {
  try {
    const v = readFileSync(join(asmDir, "../../linux/version.h"), "utf8");
    const m = /LINUX_VERSION_CODE\s+(\d+)/.exec(v);
    if (m) {
      const code = Number(m[1]);
      return `${code >> 16}.${(code >> 8) & 0xff}`;
    }
  } catch {
    // no version.h: not fatal, only used in the generated comment
  }
  return "unknown";
}

function render(name: string, doc: string, table: Map<string, number>, x32: boolean): string {
  const entries = [...table].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]));
  const lines = entries.map(([n, nr]) =>
    x32 ? `  ${n}: X32_SYSCALL_BIT + ${nr - X32_SYSCALL_BIT},` : `  ${n}: ${nr},`,
  );
  return `/** ${doc} */\nexport const ${name}: Readonly<Record<string, number>> = Object.freeze({\n${lines.join("\n")}\n});\n`;
}

function main(): void {
  const { asmDir, check } = parseArgs(process.argv.slice(2));
  const x86_64 = parseHeader(join(asmDir, "unistd_64.h"));
  const x86 = parseHeader(join(asmDir, "unistd_32.h"));
  const x32 = parseHeader(join(asmDir, "unistd_x32.h"));
  const version = headerVersion(asmDir);

  const added = [
    ...addLater("x86_64", x86_64, 0).map((n) => `x86_64:${n}`),
    ...addLater("x86", x86, 0).map((n) => `x86:${n}`),
    ...addLater("x32", x32, X32_SYSCALL_BIT).map((n) => `x32:${n}`),
  ];
  const laterNames = [...new Set(added.map((a) => a.split(":")[1]))];

  const out =
    `// GENERATED by scripts/gen-seccomp-tables.ts — do not edit by hand; rerun the script.\n` +
    `// Source: Linux ${version} UAPI headers (asm/unistd_64.h, asm/unistd_32.h, asm/unistd_x32.h)\n` +
    `// plus syscalls added in later kernels (LATER_SYSCALLS in the generator)` +
    (laterNames.length ? `:\n//   ${laterNames.join(", ")}\n` : `: none needed.\n`) +
    `// Values are exactly what the kernel puts in seccomp_data.nr for that ABI.\n\n` +
    `/** x32 syscalls are x86_64 syscalls (same AUDIT_ARCH) with this bit set in the number. */\n` +
    `export const X32_SYSCALL_BIT = 0x${X32_SYSCALL_BIT.toString(16)};\n\n` +
    `/** Kernel version of the headers the tables were generated from. */\n` +
    `export const TABLES_HEADER_VERSION = ${JSON.stringify(version)};\n\n` +
    render("X86_64_SYSCALLS", "x86_64 (AUDIT_ARCH_X86_64, native 64-bit ABI).", x86_64, false) +
    "\n" +
    render("X86_SYSCALLS", "x86 / i386 (AUDIT_ARCH_I386, 32-bit compat ABI).", x86, false) +
    "\n" +
    render("X32_SYSCALLS", "x32 (AUDIT_ARCH_X86_64 with X32_SYSCALL_BIT set).", x32, true);

  const target = join(import.meta.dir, "../src/runtime/seccomp/syscall-tables.generated.ts");
  if (check) {
    let current = "";
    try {
      current = readFileSync(target, "utf8");
    } catch {
      // missing counts as different
    }
    if (current !== out) {
      console.error(`${target} is out of date; run bun scripts/gen-seccomp-tables.ts`);
      process.exit(1);
    }
    console.log(`${target} is up to date`);
    return;
  }
  writeFileSync(target, out);
  console.log(
    `wrote ${target}: x86_64=${x86_64.size} x86=${x86.size} x32=${x32.size} syscalls (headers ${version}, +${laterNames.length} later)`,
  );
}

main();
