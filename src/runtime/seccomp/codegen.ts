// Code generation: argument comparisons, per-syscall rule chains, and the binary search
// over syscall numbers.
//
// Shape of the code for one AUDIT_ARCH (A holds seccomp_data.nr on entry):
//
//   The number space 0..2^32-1 is cut into segments that each end in one outcome:
//   a plain `ret` (ALLOW, the default action, ENOSYS, ...) or, for a syscall with
//   argument rules, a chain of rules. Neighbouring numbers with the same plain outcome
//   share a segment, so a dense allowlist like Docker's collapses into far fewer
//   segments than syscalls. A balanced tree of `jge` on segment starts then finds the
//   segment in ~log2(segments) comparisons, each leaf being the segment's code inline.

import type { Action } from "./actions.ts";
import { argOffset, type Label, newLabel, type Program } from "./bpf.ts";
import type { Cond } from "./profile.ts";

const U32 = 0xffffffffn;
const U64 = (1n << 64n) - 1n;

/** A rule as it applies to one syscall number on one ABI. */
export interface ArchRule {
  action: Action;
  conds: Cond[];
}

export type Leaf =
  | { kind: "ret"; ret: number }
  /** Try each rule in order; the first whose conditions all hold decides; else `fallback`. */
  | { kind: "rules"; rules: ArchRule[]; argWords: 1 | 2; fallback: number };

/** Inclusive range of syscall numbers with one outcome. */
export interface Segment {
  lo: number;
  hi: number;
  leaf: Leaf;
}

/**
 * Whether a comparison has the same result for every argument value, given how many
 * 32-bit words of the argument the ABI compares. Such comparisons need no code.
 */
export function foldCond(c: Cond, words: 1 | 2): boolean | undefined {
  const max = words === 1 ? U32 : U64;
  const v = c.value & max;
  switch (c.op) {
    case "GE":
      return v === 0n ? true : undefined;
    case "LT":
      return v === 0n ? false : undefined;
    case "GT":
      return v === max ? false : undefined;
    case "LE":
      return v === max ? true : undefined;
    case "MASKED_EQ": {
      const e = c.valueTwo & max;
      if ((e & ~v & max) !== 0n) return false; // expects a bit the mask clears
      return v === 0n ? true : undefined;
    }
    default:
      return undefined;
  }
}

const hi32 = (v: bigint): number => Number((v >> 32n) & U32);
const lo32 = (v: bigint): number => Number(v & U32);

/**
 * Emits code that falls through when the condition holds and jumps to `fail` when not.
 * 64-bit ABIs compare the high word first and only look at the low word when the high
 * words are equal; 32-bit ABIs compare the low word only (see ArchInfo.argWords).
 */
export function emitCond(p: Program, c: Cond, words: 1 | 2, fail: Label): void {
  const pass = newLabel("pass");
  const v = c.value & (words === 1 ? U32 : U64);
  const hiOff = argOffset(c.index, false);
  const loOff = argOffset(c.index, true);

  switch (c.op) {
    case "EQ":
    case "NE": {
      const onEqual = c.op === "EQ" ? pass : fail;
      const onDiff = c.op === "EQ" ? fail : pass;
      if (words === 2) {
        const next = newLabel();
        p.ld(hiOff);
        p.jmp("jeq", hi32(v), next, onDiff);
        p.place(next);
      }
      p.ld(loOff);
      p.jmp("jeq", lo32(v), onEqual, onDiff);
      break;
    }
    case "GT":
    case "GE":
    case "LT":
    case "LE": {
      // LT is "not GE" and LE is "not GT": same code, outcomes swapped.
      const greater = c.op === "GT" || c.op === "GE";
      const yes = greater ? pass : fail;
      const no = greater ? fail : pass;
      const strict = c.op === "GT" || c.op === "LE";
      if (words === 2) {
        const sameHigh = newLabel();
        const notAbove = newLabel();
        p.ld(hiOff);
        p.jmp("jgt", hi32(v), yes, notAbove); // high word larger: larger overall
        p.place(notAbove);
        p.jmp("jeq", hi32(v), sameHigh, no); // high word smaller: smaller overall
        p.place(sameHigh);
      }
      p.ld(loOff);
      p.jmp(strict ? "jgt" : "jge", lo32(v), yes, no);
      break;
    }
    case "MASKED_EQ": {
      const mask = v;
      const want = c.valueTwo & (words === 1 ? U32 : U64);
      // One check per word the mask touches; the last one decides.
      const checks: { off: number; m: number; e: number }[] = [];
      if (words === 2 && hi32(mask) !== 0) checks.push({ off: hiOff, m: hi32(mask), e: hi32(want) });
      if (lo32(mask) !== 0) checks.push({ off: loOff, m: lo32(mask), e: lo32(want) });
      checks.forEach((chk, i) => {
        const ok = i === checks.length - 1 ? pass : newLabel();
        p.ld(chk.off);
        if (chk.e === 0) {
          p.jmp("jset", chk.m, fail, ok); // (A & m) == 0  ⇔  no bit of m set
        } else {
          if (chk.m !== 0xffffffff) p.and(chk.m);
          p.jmp("jeq", chk.e, ok, fail);
        }
        if (ok !== pass) p.place(ok);
      });
      break;
    }
  }
  p.place(pass);
}

function emitLeaf(p: Program, leaf: Leaf): void {
  if (leaf.kind === "ret") {
    p.ret(leaf.ret);
    return;
  }
  let needFallback = true;
  for (const rule of leaf.rules) {
    const next = newLabel("nextRule");
    for (const c of rule.conds) emitCond(p, c, leaf.argWords, next);
    p.ret(rule.action.ret);
    p.place(next);
    needFallback = rule.conds.length > 0;
  }
  if (needFallback) p.ret(leaf.fallback);
}

function sameRet(a: Leaf, b: Leaf): boolean {
  return a.kind === "ret" && b.kind === "ret" && a.ret === b.ret;
}

/**
 * Binary search over `segs` (sorted, contiguous, covering every number that can reach
 * this code). A holds the syscall number.
 */
export function emitTree(p: Program, segs: readonly Segment[], from = 0, to = segs.length - 1): void {
  if (from === to) {
    emitLeaf(p, segs[from]!.leaf);
    return;
  }
  // A single number between two identical outcomes (the common "one allowed syscall in a
  // run of denied ones"): one jeq instead of two jge.
  if (to - from === 2 && segs[from + 1]!.lo === segs[from + 1]!.hi && sameRet(segs[from]!.leaf, segs[to]!.leaf)) {
    const hit = newLabel();
    const miss = newLabel();
    p.jmp("jeq", segs[from + 1]!.lo, hit, miss);
    p.place(miss);
    emitLeaf(p, segs[from]!.leaf);
    p.place(hit);
    emitLeaf(p, segs[from + 1]!.leaf);
    return;
  }
  const mid = (from + to + 1) >> 1;
  const right = newLabel("ge");
  const left = newLabel("lt");
  p.jmp("jge", segs[mid]!.lo, right, left);
  p.place(left);
  emitTree(p, segs, from, mid - 1);
  p.place(right);
  emitTree(p, segs, mid, to);
}

/**
 * Turns sparse per-number outcomes plus whole ranges into sorted, gap-free segments over
 * `space`, filling gaps with `fill` and merging neighbours that return the same value.
 */
export function buildSegments(
  space: readonly [number, number],
  points: ReadonlyMap<number, Leaf>,
  ranges: readonly { lo: number; hi: number; leaf: Leaf }[],
  fill: Leaf,
): Segment[] {
  const items: Segment[] = [
    ...[...points].map(([nr, leaf]) => ({ lo: nr, hi: nr, leaf })),
    ...ranges.filter((r) => r.lo <= r.hi).map((r) => ({ ...r })),
  ].sort((a, b) => a.lo - b.lo);

  const out: Segment[] = [];
  const push = (s: Segment): void => {
    const last = out[out.length - 1];
    if (last && last.hi + 1 === s.lo && sameRet(last.leaf, s.leaf)) last.hi = s.hi;
    else out.push({ ...s });
  };
  let cursor = space[0];
  for (const it of items) {
    if (it.lo < cursor || it.hi > space[1]) {
      throw new Error(`seccomp: overlapping or out-of-space segment ${it.lo}..${it.hi}`);
    }
    if (it.lo > cursor) push({ lo: cursor, hi: it.lo - 1, leaf: fill });
    push(it);
    cursor = it.hi + 1;
  }
  if (cursor <= space[1]) push({ lo: cursor, hi: space[1], leaf: fill });
  return out;
}
