// OCI seccomp profile → classic BPF program for seccomp(SECCOMP_SET_MODE_FILTER).
//
// Program layout:
//
//   ld  arch
//   jeq AUDIT_ARCH_X86_64 ? fall through : next arch
//     ld nr ; binary search over x86_64 numbers (0..0x3fffffff) and x32 numbers (bit 30 set)
//   jeq AUDIT_ARCH_I386 ? fall through : next arch
//     ld nr ; binary search over i386 numbers
//   ret KILL_THREAD                        (architecture not in the profile)
//
// Semantics (matching runc + libseccomp where the OCI spec is silent):
//   * rules for one syscall are tried in profile order; the first whose argument
//     comparisons all hold decides; if none does, the default action applies;
//   * a syscall ABI not listed in `architectures` gets KILL_THREAD (libseccomp's default
//     "bad arch" action), including x32 numbers under AUDIT_ARCH_X86_64;
//   * unless the default action lets calls through (ALLOW/LOG/TRACE), numbers above our
//     syscall table return ENOSYS, so a libc newer than the profile sees "not
//     implemented" and falls back instead of failing on EPERM; clone3 gets the same
//     treatment when the profile does not mention it (glibc ≥ 2.34 tries clone3 first
//     and only falls back to clone on ENOSYS).

import { configError } from "../errors.ts";
import type { Seccomp } from "../spec/types.ts";
import {
  type Action,
  describeAction,
  ENOSYS,
  isPermissive,
  makeAction,
  SECCOMP_RET_KILL_THREAD,
} from "./actions.ts";
import { assemble, BPF_MAXINSNS, encode, newLabel, Program, SECCOMP_DATA_ARCH, SECCOMP_DATA_NR } from "./bpf.ts";
import { type ArchRule, buildSegments, emitTree, foldCond, type Leaf, type Segment } from "./codegen.ts";
import { type Cond, parseProfile, type Profile, type Rule } from "./profile.ts";
import { ARCHES, type ArchId, type ArchInfo, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, isKnownSyscall, X32_SYSCALL_BIT } from "./tables.ts";

export interface CompiledSeccomp {
  /** struct sock_filter[] (u16 code, u8 jt, u8 jf, u32 k), little-endian, 8 bytes each. */
  filter: Uint8Array;
  /** SECCOMP_FILTER_FLAG_* bits for seccomp(SECCOMP_SET_MODE_FILTER, flags, ...). */
  flags: number;
  /** filter.length / 8 */
  instructions: number;
  /** Human-readable description, one line per item, for `berth --dry-run`. */
  summary: string[];
}

/** What unlisted architectures (and x32 calls when SCMP_ARCH_X32 is absent) get. */
const BAD_ARCH_RET = SECCOMP_RET_KILL_THREAD;

interface ArchPlan {
  arch: ArchInfo;
  segments: Segment[];
  /** Table syscalls that fall to the default action. */
  unlisted: number;
}

export function compileSeccomp(input: Seccomp, field = "linux.seccomp"): CompiledSeccomp {
  const profile = parseProfile(input, field);
  const def = profile.defaultAction;

  // ENOSYS rewriting only matters when unlisted calls would otherwise fail some other
  // way; when the default already is ERRNO(ENOSYS) the segments merge away on their own.
  const enosys = !isPermissive(def);
  const mentioned = new Set(profile.rules.flatMap((r) => r.names));
  const clone3Enosys = enosys && !mentioned.has("clone3");
  const enosysAction = makeAction("ERRNO", ENOSYS);

  const plans = new Map<ArchId, ArchPlan>();
  for (const id of profile.arches) {
    plans.set(id, planArch(ARCHES[id], profile.rules, def, enosys ? enosysAction : undefined, clone3Enosys));
  }

  // --- emit ---
  const p = new Program();
  p.ld(SECCOMP_DATA_ARCH);

  // x86_64 and x32 share AUDIT_ARCH_X86_64: one search over both number spaces, with the
  // half of an ABI that is not in the profile answering "bad arch".
  const x86_64 = plans.get("x86_64");
  const x32 = plans.get("x32");
  if (x86_64 || x32) {
    const bad = (a: ArchInfo): Segment[] => [{ lo: a.space[0], hi: a.space[1], leaf: { kind: "ret", ret: BAD_ARCH_RET } }];
    const segs = mergeAdjacent([
      ...(x86_64 ? x86_64.segments : bad(ARCHES.x86_64)),
      ...(x32 ? x32.segments : bad(ARCHES.x32)),
    ]);
    emitArch(p, AUDIT_ARCH_X86_64, segs);
  }
  const x86 = plans.get("x86");
  if (x86) emitArch(p, AUDIT_ARCH_I386, x86.segments);
  p.ret(BAD_ARCH_RET);

  const insns = assemble(p.insns);
  if (insns.length > BPF_MAXINSNS) {
    throw configError(
      field,
      `seccomp profile compiles to ${insns.length} BPF instructions; the kernel accepts at most ${BPF_MAXINSNS}`,
      "too many argument rules; merge rules that share an action, or drop architectures you do not need",
    );
  }

  const summary = summarize(profile, plans, enosys, clone3Enosys, insns.length);
  return { filter: encode(insns), flags: profile.flags, instructions: insns.length, summary };
}

function emitArch(p: Program, auditArch: number, segs: Segment[]): void {
  const otherArch = newLabel("otherArch");
  const thisArch = newLabel("arch");
  p.jmp("jeq", auditArch, thisArch, otherArch);
  p.place(thisArch);
  p.ld(SECCOMP_DATA_NR);
  emitTree(p, segs);
  p.place(otherArch);
}

function mergeAdjacent(segs: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segs) {
    const last = out[out.length - 1];
    if (last && last.leaf.kind === "ret" && s.leaf.kind === "ret" && last.leaf.ret === s.leaf.ret && last.hi + 1 === s.lo) {
      last.hi = s.hi;
    } else {
      out.push({ ...s });
    }
  }
  return out;
}

/** Resolves names to numbers for one ABI and decides every number's outcome. */
function planArch(
  arch: ArchInfo,
  rules: Rule[],
  def: Action,
  enosys: Action | undefined,
  clone3Enosys: boolean,
): ArchPlan {
  const perNr = new Map<number, ArchRule[]>();
  for (const rule of rules) {
    // Comparisons that are always true need no code; one that is always false means the
    // rule can never match on this ABI.
    const conds: Cond[] = [];
    let never = false;
    for (const c of rule.conds) {
      const f = foldCond(c, arch.argWords);
      if (f === false) never = true;
      else if (f === undefined) conds.push(c);
    }
    if (never) continue;
    for (const name of rule.names) {
      const nr = arch.syscalls.get(name);
      if (nr === undefined) continue; // not a syscall on this ABI (e.g. socketcall on x86_64)
      let list = perNr.get(nr);
      if (!list) perNr.set(nr, (list = []));
      list.push({ action: rule.action, conds });
    }
  }

  const points = new Map<number, Leaf>();
  for (const [nr, list] of perNr) {
    // Rules after an unconditional one can never be reached.
    const firstAlways = list.findIndex((r) => r.conds.length === 0);
    if (firstAlways >= 0) list.length = firstAlways + 1;
    // Trailing rules that return what falling through returns anyway are redundant.
    while (list.length > 0 && list[list.length - 1]!.action.ret === def.ret) list.pop();
    if (list.length === 0) continue;
    if (list.length === 1 && list[0]!.conds.length === 0) {
      points.set(nr, { kind: "ret", ret: list[0]!.action.ret });
    } else {
      points.set(nr, { kind: "rules", rules: list, argWords: arch.argWords, fallback: def.ret });
    }
  }

  if (clone3Enosys && enosys) {
    const nr = arch.syscalls.get("clone3");
    if (nr !== undefined && !points.has(nr)) points.set(nr, { kind: "ret", ret: enosys.ret });
  }

  const ranges = enosys
    ? arch.newerThanTable.map(([lo, hi]) => ({ lo, hi, leaf: { kind: "ret", ret: enosys.ret } as Leaf }))
    : [];
  const segments = buildSegments(arch.space, points, ranges, { kind: "ret", ret: def.ret });

  let unlisted = 0;
  for (const nr of arch.syscalls.values()) if (!points.has(nr)) unlisted++;
  return { arch, segments, unlisted };
}

// ---------------------------------------------------------------- summary

/** Small numbers read best in decimal (errnos, address families); flags and masks in hex. */
function num(v: bigint, hex = v >= 0x10000n): string {
  return hex && v >= 10n ? `0x${v.toString(16)}` : v.toString();
}

const OP_TEXT: Record<string, string> = { EQ: "==", NE: "!=", LT: "<", LE: "<=", GE: ">=", GT: ">" };

export function describeCond(c: Cond): string {
  if (c.op === "MASKED_EQ") return `arg${c.index} & ${num(c.value, true)} == ${num(c.valueTwo, true)}`;
  return `arg${c.index} ${OP_TEXT[c.op]} ${num(c.value)}`;
}

function summarize(
  profile: Profile,
  plans: Map<ArchId, ArchPlan>,
  enosys: boolean,
  clone3Enosys: boolean,
  instructions: number,
): string[] {
  const lines: string[] = [];
  const ids = [...plans.keys()];
  const unlisted = ids.map((id) => `${plans.get(id)!.unlisted} on ${id}`).join(", ");
  lines.push(`${describeAction(profile.defaultAction)} for syscalls not listed: ${unlisted}`);

  let arches = `architectures: ${ids.join(", ")}; other architectures: KILL_THREAD`;
  if (plans.has("x86_64") && !plans.has("x32")) arches += " (including x32 calls, nr >= 0x40000000)";
  lines.push(arches);
  if (profile.foreignArches.length > 0) {
    lines.push(`ignored architectures (an x86_64 kernel never reports them): ${profile.foreignArches.join(", ")}`);
  }
  if (profile.flagNames.length > 0) lines.push(`flags: ${profile.flagNames.join(", ")}`);

  const unknown = new Set<string>();
  for (const rule of profile.rules) {
    const known = rule.names.filter((n) => isKnownSyscall(n));
    for (const n of rule.names) if (!isKnownSyscall(n)) unknown.add(n);
    if (known.length === 0) continue;
    const conds = rule.conds.length > 0 ? ` if ${rule.conds.map(describeCond).join(" && ")}` : "";
    const count = known.length > 3 ? `${known.length} syscalls: ` : "";
    lines.push(`${describeAction(rule.action)} ${count}${known.join(", ")}${conds}`);
  }

  if (enosys) {
    const byMax = new Map<string, string[]>();
    for (const id of ids) {
      const a = ARCHES[id];
      const newest = a.newerThanTable[0]![0] - 1 - (id === "x32" ? X32_SYSCALL_BIT : 0);
      const key = id === "x32" ? `${newest} (x32: 0x40000000 + n, legacy 512..547 excepted)` : String(newest);
      byMax.set(key, [...(byMax.get(key) ?? []), id]);
    }
    const parts = [...byMax].map(([max, archIds]) => `above ${max} on ${archIds.join(", ")}`);
    lines.push(`ERRNO(ENOSYS) for syscall numbers ${parts.join("; ")} (newer than the profile)`);
  }
  if (clone3Enosys) {
    lines.push("ERRNO(ENOSYS) for clone3 (not in the profile; libc falls back to clone)");
  }
  if (unknown.size > 0) lines.push(`skipped unknown syscalls: ${[...unknown].join(", ")}`);
  for (const note of profile.notes) lines.push(`note: ${note}`);
  lines.push(`${instructions} BPF instructions`);
  return lines;
}
