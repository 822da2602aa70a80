// Validation of an OCI `linux.seccomp` object into a normalized, typed form.
//
// config.json comes from JSON.parse, so nothing here trusts the static `Seccomp` type:
// every field is checked and every error names its JSON path
// (e.g. "linux.seccomp.syscalls[3].args[0].op").

import { configError } from "../errors.ts";
import type { Seccomp } from "../spec/types.ts";
import { type Action, parseAction, typeName } from "./actions.ts";
import { type ArchId, COMPILED_SCMP_ARCHES, FOREIGN_SCMP_ARCHES, NATIVE_ARCH } from "./tables.ts";

export type CmpOp = "NE" | "LT" | "LE" | "EQ" | "GE" | "GT" | "MASKED_EQ";

const OPS: Record<string, CmpOp> = {
  SCMP_CMP_NE: "NE",
  SCMP_CMP_LT: "LT",
  SCMP_CMP_LE: "LE",
  SCMP_CMP_EQ: "EQ",
  SCMP_CMP_GE: "GE",
  SCMP_CMP_GT: "GT",
  SCMP_CMP_MASKED_EQ: "MASKED_EQ",
};

/** One argument comparison. Values are u64, hence bigint. */
export interface Cond {
  /** Argument number, 0..5. */
  index: number;
  op: CmpOp;
  /** The operand; for MASKED_EQ, the mask. */
  value: bigint;
  /** For MASKED_EQ, the value `arg & mask` must equal; 0 otherwise. */
  valueTwo: bigint;
}

export interface Rule {
  /** Position in `syscalls[]`, for summaries. */
  index: number;
  names: string[];
  action: Action;
  /** All must hold (AND). */
  conds: Cond[];
}

export interface Profile {
  defaultAction: Action;
  /** Architectures to put in the filter, in profile order, deduplicated. */
  arches: ArchId[];
  /** Listed architectures that an x86_64 kernel never reports (kept for the summary). */
  foreignArches: string[];
  flags: number;
  flagNames: string[];
  rules: Rule[];
  /** Notes for the summary (e.g. possible JSON precision loss). */
  notes: string[];
}

export const SECCOMP_FILTER_FLAG_TSYNC = 1;
export const SECCOMP_FILTER_FLAG_LOG = 2;
export const SECCOMP_FILTER_FLAG_SPEC_ALLOW = 4;

const FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_LOG: SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: SECCOMP_FILTER_FLAG_SPEC_ALLOW,
};
// Syscalls berth's init makes after loading a notifying filter, before the agent has its fd.
const NOTIFY_FORBIDDEN = new Set(["write", "read", "sendmsg"]);
// Berth sets NEW_LISTENER itself when a rule notifies; asking for it (or the killable-wait
// variant) directly is not supported.
const LISTENER_FLAGS = new Set(["SECCOMP_FILTER_FLAG_NEW_LISTENER", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]);

const U64_MAX = (1n << 64n) - 1n;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function parseProfile(input: Seccomp | unknown, field: string): Profile {
  if (!isObject(input)) {
    throw configError(field, `seccomp must be an object, got ${typeName(input)}`);
  }
  const p = input as Record<string, unknown>;
  const notes: string[] = [];

  const defaultAction = parseAction(
    p.defaultAction,
    p.defaultErrnoRet,
    `${field}.defaultAction`,
    `${field}.defaultErrnoRet`,
  );

  // --- architectures ---
  const arches: ArchId[] = [];
  const foreignArches: string[] = [];
  if (p.architectures !== undefined && p.architectures !== null) {
    if (!Array.isArray(p.architectures)) {
      throw configError(`${field}.architectures`, `architectures must be an array of strings, got ${typeName(p.architectures)}`);
    }
    p.architectures.forEach((a, i) => {
      const f = `${field}.architectures[${i}]`;
      if (typeof a !== "string") throw configError(f, `architecture must be a string, got ${typeName(a)}`);
      const id = Object.hasOwn(COMPILED_SCMP_ARCHES, a) ? COMPILED_SCMP_ARCHES[a] : undefined;
      if (id !== undefined) {
        if (!arches.includes(id)) arches.push(id);
      } else if (FOREIGN_SCMP_ARCHES.has(a)) {
        if (!foreignArches.includes(a)) foreignArches.push(a);
      } else {
        throw configError(
          f,
          `unknown seccomp architecture ${JSON.stringify(a)}`,
          `use SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32 (or another SCMP_ARCH_* name libseccomp knows)`,
        );
      }
    });
  }
  // Nothing listed (or only foreign arches): libseccomp filters always include the
  // native arch, so do the same rather than produce a filter that kills everything.
  if (arches.length === 0) arches.push(NATIVE_ARCH);

  // --- flags / listener ---
  let flags = 0;
  const flagNames: string[] = [];
  if (p.flags !== undefined && p.flags !== null) {
    if (!Array.isArray(p.flags)) {
      throw configError(`${field}.flags`, `flags must be an array of strings, got ${typeName(p.flags)}`);
    }
    p.flags.forEach((fl, i) => {
      const f = `${field}.flags[${i}]`;
      if (typeof fl !== "string") throw configError(f, `flag must be a string, got ${typeName(fl)}`);
      if (LISTENER_FLAGS.has(fl)) {
        throw configError(f, `${fl} is not supported yet`, "berth does not implement seccomp user notification (listener)");
      }
      const bit = Object.hasOwn(FLAGS, fl) ? FLAGS[fl] : undefined;
      if (bit === undefined) {
        throw configError(f, `unknown seccomp flag ${JSON.stringify(fl)}`, `use one of ${Object.keys(FLAGS).join(", ")}`);
      }
      if (!(flags & bit)) flagNames.push(fl);
      flags |= bit;
    });
  }
  if (p.listenerPath !== undefined && p.listenerPath !== null && typeof p.listenerPath !== "string") {
    throw configError(`${field}.listenerPath`, `listenerPath must be a string, got ${typeName(p.listenerPath)}`);
  }
  if (p.listenerMetadata !== undefined && p.listenerMetadata !== null && typeof p.listenerMetadata !== "string") {
    throw configError(`${field}.listenerMetadata`, `listenerMetadata must be a string, got ${typeName(p.listenerMetadata)}`);
  }
  if (defaultAction.kind === "NOTIFY") {
    throw configError(`${field}.defaultAction`, "SCMP_ACT_NOTIFY cannot be used as the default action", "notify only chosen syscalls; the init itself must still be able to run");
  }

  // --- syscalls ---
  const rules: Rule[] = [];
  if (p.syscalls !== undefined && p.syscalls !== null) {
    if (!Array.isArray(p.syscalls)) {
      throw configError(`${field}.syscalls`, `syscalls must be an array, got ${typeName(p.syscalls)}`);
    }
    p.syscalls.forEach((s, i) => rules.push(parseRule(s, i, `${field}.syscalls[${i}]`, notes)));
  }
  const notifying = rules.filter((r) => r.action.kind === "NOTIFY");
  if (notifying.length && (typeof p.listenerPath !== "string" || p.listenerPath === "")) {
    throw configError(`${field}.listenerPath`, "listenerPath is not set, and SCMP_ACT_NOTIFY needs a seccomp agent listening there",
      `set it to the unix socket of the agent (used by ${field}.syscalls[${notifying[0].index}])`);
  }
  for (const r of notifying) {
    // The init talks to berth with these between loading the filter and its exec: were they
    // notified, it would wait for an agent that does not have the listener fd yet.
    const bad = r.names.find((n) => NOTIFY_FORBIDDEN.has(n));
    if (bad) throw configError(`${field}.syscalls[${r.index}].names`, `SCMP_ACT_NOTIFY cannot be used for the ${bad} syscall`, "the runtime needs it to hand the listener to the agent (runc refuses write too)");
  }

  return { defaultAction, arches, foreignArches, flags, flagNames, rules, notes };
}

function parseRule(s: unknown, index: number, f: string, notes: string[]): Rule {
  if (!isObject(s)) throw configError(f, `syscall rule must be an object, got ${typeName(s)}`);
  const names = s.names;
  if (!Array.isArray(names)) {
    const hint = typeof s.name === "string" ? `the old single "name" field is not part of the OCI spec; use "names": [${JSON.stringify(s.name)}]` : undefined;
    throw configError(`${f}.names`, `names must be an array of strings, got ${typeName(names)}`, hint);
  }
  if (names.length === 0) throw configError(`${f}.names`, "names must list at least one syscall");
  names.forEach((n, j) => {
    if (typeof n !== "string" || n === "") {
      throw configError(`${f}.names[${j}]`, `syscall name must be a non-empty string, got ${JSON.stringify(n) ?? typeName(n)}`);
    }
  });
  const action = parseAction(s.action, s.errnoRet, `${f}.action`, `${f}.errnoRet`);

  const conds: Cond[] = [];
  if (s.args !== undefined && s.args !== null) {
    if (!Array.isArray(s.args)) throw configError(`${f}.args`, `args must be an array, got ${typeName(s.args)}`);
    s.args.forEach((a, j) => conds.push(parseCond(a, `${f}.args[${j}]`, notes)));
  }
  return { index, names: [...new Set(names as string[])], action, conds };
}

function parseCond(a: unknown, f: string, notes: string[]): Cond {
  if (!isObject(a)) throw configError(f, `argument comparison must be an object, got ${typeName(a)}`);
  const index = a.index;
  if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index > 5) {
    throw configError(`${f}.index`, `index must be an integer from 0 to 5 (syscalls take at most 6 arguments), got ${JSON.stringify(index) ?? typeName(index)}`);
  }
  const opName = a.op;
  const op = typeof opName === "string" && Object.hasOwn(OPS, opName) ? OPS[opName] : undefined;
  if (op === undefined) {
    throw configError(`${f}.op`, `unknown comparison operator ${JSON.stringify(opName) ?? typeName(opName)}`, `use one of ${Object.keys(OPS).join(", ")}`);
  }
  const value = parseU64(a.value, `${f}.value`, notes, true);
  const valueTwo = parseU64(a.valueTwo, `${f}.valueTwo`, notes, false);
  return { index, op, value, valueTwo };
}

/** A u64 from JSON: a non-negative integer number (or a bigint from a bigint-aware parser). */
function parseU64(v: unknown, f: string, notes: string[], required: boolean): bigint {
  if (v === undefined || v === null) {
    if (required) throw configError(f, "value is missing");
    return 0n;
  }
  if (typeof v === "bigint") {
    if (v < 0n || v > U64_MAX) throw configError(f, `value must be an unsigned 64-bit integer, got ${v}`);
    return v;
  }
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw configError(f, `value must be an unsigned 64-bit integer, got ${JSON.stringify(v) ?? typeName(v)}`);
  }
  if (v < 0) {
    throw configError(f, `value must be an unsigned 64-bit integer, got ${v}`, "write negative numbers as their two's-complement u64 value (e.g. -1 is 18446744073709551615)");
  }
  const b = BigInt(v);
  if (b > U64_MAX) {
    // 18446744073709551615 (u64 max) parses as the double 2^64, which is out of range.
    throw configError(f, `value ${v} is larger than 2^64-1`, "JSON numbers above 2^53 are rounded when parsed; 18446744073709551615 rounds to 2^64. Use a smaller value or a mask comparison");
  }
  if (v > Number.MAX_SAFE_INTEGER) {
    notes.push(`${f} = 0x${b.toString(16)} is above 2^53: if the JSON had a different number, it was rounded when parsed`);
  }
  return b;
}
