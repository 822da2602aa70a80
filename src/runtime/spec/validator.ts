// The machinery validate.ts walks a config.json with: JSON paths and descriptions of values
// for its messages, "did you mean" for near-miss keys, the Validator (typed getters that fail
// with the field's path, integer kinds with their ranges), and the keys the spec knows per
// object (for typo warnings only).
import { clip, configError, quoteValue } from "../errors.ts";
import { HOOK_KINDS } from "./constants.ts";

export type Obj = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Paths and descriptions

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** JSON path of `key` inside `path`: `a.b`, or `a["x.y"]` when the key is not an identifier. */
export function joinPath(path: string, key: string): string {
  if (IDENT.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(clip(key, 60))}]`;
}

export function at(path: string, index: number): string {
  return `${path}[${index}]`;
}

export function quote(s: string): string {
  return quoteValue(s);
}

/** What a JSON value is, for "found ..." in messages: `string "0"`, `number 1.5`, `an object`. */
export function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (typeof v === "string") return `string ${quote(v)}`;
  if (typeof v === "number") return `number ${v}`;
  if (typeof v === "boolean") return `boolean ${v}`;
  if (Array.isArray(v)) return "an array";
  return "an object";
}

export function fail(field: string, message: string, hint?: string): never {
  throw configError(field, message, hint);
}

export function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------
// Typo suggestions

function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** The candidate `s` most likely meant, or undefined if none is close. */
function closest(s: string, candidates: readonly string[]): string | undefined {
  const lower = s.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    if (c.toLowerCase() === lower) return c;
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  const limit = s.length <= 4 ? 1 : s.length <= 8 ? 2 : 3;
  return bestD <= limit ? best : undefined;
}

export function didYouMean(s: string, candidates: readonly string[]): string | undefined {
  const c = closest(s, candidates);
  return c === undefined ? undefined : `did you mean "${c}"?`;
}

// ---------------------------------------------------------------------------------------------
// The walker

export class Validator {
  constructor(private readonly warnFn: (message: string, field: string) => void) {}

  warn(field: string, message: string): void {
    this.warnFn(message, field);
  }

  /** Warn about keys that look like misspellings of known ones (other unknown keys are extensions). */
  keys(o: Obj, path: string, known: readonly string[]): void {
    for (const k of Object.keys(o)) {
      if (known.includes(k)) continue;
      const c = closest(k, known);
      if (c !== undefined && !(c in o)) {
        this.warn(joinPath(path, k), `unknown field ${joinPath(path, k)} is ignored; did you mean "${c}"?`);
      }
    }
  }

  /** Optional field: undefined when absent or null (a null is deleted, as Go would ignore it). */
  opt(o: Obj, key: string): unknown {
    const v = o[key];
    if (v === null) {
      delete o[key];
      return undefined;
    }
    return v;
  }

  /** Required field. */
  req(o: Obj, key: string, path: string): unknown {
    const v = o[key];
    const field = joinPath(path, key);
    if (v === undefined || v === null) {
      let hint: string | undefined;
      // A present key that is probably this one misspelt (but not another known field).
      const near = closest(key, Object.keys(o).filter((k) => !ALL_KNOWN_KEYS.has(k)));
      if (v === undefined && near !== undefined) hint = `found "${near}" instead; field names are case-sensitive`;
      fail(field, v === null ? "required field is null" : "required field is missing", hint);
    }
    return v;
  }

  object(v: unknown, field: string): Obj {
    if (!isObj(v)) fail(field, `expected an object, found ${describeValue(v)}`);
    return v;
  }

  array(v: unknown, field: string): unknown[] {
    if (!Array.isArray(v)) fail(field, `expected an array, found ${describeValue(v)}`);
    return v;
  }

  string(v: unknown, field: string): string {
    if (typeof v !== "string") fail(field, `expected a string, found ${describeValue(v)}`);
    return v;
  }

  boolean(v: unknown, field: string): boolean {
    if (typeof v !== "boolean") fail(field, `expected a boolean (true or false), found ${describeValue(v)}`);
    return v;
  }

  integer(v: unknown, field: string, kind: IntKind): number {
    const what = kind.min >= 0 ? "a non-negative integer" : "an integer";
    if (typeof v !== "number" || !Number.isInteger(v)) fail(field, `expected ${what}, found ${describeValue(v)}`);
    if (v < kind.min) {
      fail(field, kind.min === 0 ? `expected ${what}, found number ${v}` : `expected an integer >= ${kind.minText} (${kind.name}), found number ${v}`);
    }
    if (v > kind.max) fail(field, `expected an integer <= ${kind.maxText} (${kind.name}), found number ${v}`);
    return v;
  }

  range(v: unknown, field: string, kind: IntKind, lo: number, hi: number): number {
    const n = this.integer(v, field, kind);
    if (n < lo || n > hi) fail(field, `must be between ${lo} and ${hi}, found ${n}`);
    return n;
  }

  oneOf(v: unknown, field: string, what: string, allowed: readonly string[]): string {
    const s = this.string(v, field);
    if (!allowed.includes(s)) {
      fail(field, `unknown ${what} ${quote(s)} (expected one of ${allowed.join(", ")})`, didYouMean(s, allowed));
    }
    return s;
  }

  absPath(v: unknown, field: string, what = "path"): string {
    const s = this.string(v, field);
    if (s === "") fail(field, `${what} must not be empty`);
    if (!s.startsWith("/")) fail(field, `${what} must be absolute, found ${quote(s)}`);
    if (s.includes("\0")) fail(field, `${what} must not contain a NUL byte`);
    return s;
  }

  stringArray(v: unknown, field: string): string[] {
    const a = this.array(v, field);
    a.forEach((e, i) => this.string(e, at(field, i)));
    return a as string[];
  }

  stringMap(v: unknown, field: string): Record<string, string> {
    const o = this.object(v, field);
    for (const [k, val] of Object.entries(o)) {
      if (k === "") fail(field, "keys must not be empty");
      this.string(val, joinPath(field, k));
    }
    return o as Record<string, string>;
  }

  /** Optional field helpers: validate when present. */
  optString(o: Obj, key: string, path: string): void {
    const v = this.opt(o, key);
    if (v !== undefined) this.string(v, joinPath(path, key));
  }

  optBoolean(o: Obj, key: string, path: string): void {
    const v = this.opt(o, key);
    if (v !== undefined) this.boolean(v, joinPath(path, key));
  }

  optInteger(o: Obj, key: string, path: string, kind: IntKind): void {
    const v = this.opt(o, key);
    if (v !== undefined) this.integer(v, joinPath(path, key), kind);
  }

  optStringArray(o: Obj, key: string, path: string): void {
    const v = this.opt(o, key);
    if (v !== undefined) this.stringArray(v, joinPath(path, key));
  }

  optObject(o: Obj, key: string, path: string): Obj | undefined {
    const v = this.opt(o, key);
    return v === undefined ? undefined : this.object(v, joinPath(path, key));
  }

  optArray(o: Obj, key: string, path: string): unknown[] | undefined {
    const v = this.opt(o, key);
    return v === undefined ? undefined : this.array(v, joinPath(path, key));
  }

  /** Elements of an optional array of objects, with their paths. */
  optObjects(o: Obj, key: string, path: string): Array<[Obj, string]> {
    const a = this.optArray(o, key, path);
    if (!a) return [];
    const field = joinPath(path, key);
    return a.map((e, i) => [this.object(e, at(field, i)), at(field, i)]);
  }
}

export interface IntKind {
  name: string;
  min: number;
  max: number;
  minText: string;
  maxText: string;
}

export const UINT16: IntKind = { name: "uint16", min: 0, max: 0xffff, minText: "0", maxText: "65535" };
export const UINT32: IntKind = { name: "uint32", min: 0, max: 0xffffffff, minText: "0", maxText: "4294967295" };
// 2^64 and ±2^63: the doubles that 2^64-1 and 2^63-1 parse to (see the header comment).
export const UINT64: IntKind = { name: "uint64", min: 0, max: 2 ** 64, minText: "0", maxText: "18446744073709551615" };
export const INT32: IntKind = { name: "int32", min: -(2 ** 31), max: 2 ** 31 - 1, minText: "-2147483648", maxText: "2147483647" };
export const INT64: IntKind = {
  name: "int64",
  min: -(2 ** 63),
  max: 2 ** 63,
  minText: "-9223372036854775808",
  maxText: "9223372036854775807",
};

// ---------------------------------------------------------------------------------------------
// Known keys per object (for typo warnings only)

export const K_TOP = ["ociVersion", "process", "root", "hostname", "domainname", "mounts", "hooks", "annotations", "linux", "solaris", "windows", "vm", "zos"];
export const K_ROOT = ["path", "readonly"];
export const K_PROCESS = [
  "terminal", "consoleSize", "user", "args", "commandLine", "env", "cwd", "capabilities", "rlimits", "noNewPrivileges",
  "apparmorProfile", "oomScoreAdj", "selinuxLabel", "ioPriority", "scheduler", "execCPUAffinity",
];
export const K_USER = ["uid", "gid", "umask", "additionalGids", "username"];
export const K_CAPS = ["bounding", "effective", "inheritable", "permitted", "ambient"];
export const K_RLIMIT = ["type", "hard", "soft"];
export const K_MOUNT = ["destination", "type", "source", "options", "uidMappings", "gidMappings"];
export const K_HOOK = ["path", "args", "env", "timeout"];
export const K_IDMAP = ["containerID", "hostID", "size"];
export const K_LINUX = [
  "uidMappings", "gidMappings", "sysctl", "resources", "cgroupsPath", "namespaces", "devices", "seccomp",
  "rootfsPropagation", "maskedPaths", "readonlyPaths", "mountLabel", "intelRdt", "personality", "timeOffsets",
  "memoryPolicy", "netDevices",
];
export const K_NS = ["type", "path"];
export const K_DEVICE = ["type", "path", "major", "minor", "fileMode", "uid", "gid"];
export const K_RESOURCES = ["devices", "memory", "cpu", "pids", "blockIO", "hugepageLimits", "network", "rdma", "unified"];
export const K_DEVCG = ["allow", "type", "major", "minor", "access"];
export const K_MEMORY = ["limit", "reservation", "swap", "kernel", "kernelTCP", "swappiness", "disableOOMKiller", "useHierarchy", "checkBeforeUpdate"];
export const K_CPU = ["shares", "quota", "burst", "period", "realtimeRuntime", "realtimePeriod", "cpus", "mems", "idle"];
export const K_BLKIO = ["weight", "leafWeight", "weightDevice", "throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice", "throttleWriteIOPSDevice"];

const ALL_KNOWN_KEYS = new Set<string>([
  ...K_TOP, ...K_ROOT, ...K_PROCESS, ...K_USER, ...K_CAPS, ...K_RLIMIT, ...K_MOUNT, ...K_HOOK, ...K_IDMAP, ...K_LINUX,
  ...K_NS, ...K_DEVICE, ...K_RESOURCES, ...K_DEVCG, ...K_MEMORY, ...K_CPU, ...K_BLKIO, ...HOOK_KINDS,
  "height", "width", "class", "priority", "policy", "nice", "flags", "runtime", "deadline", "period", "initial", "final",
  "limit", "pageSize", "name", "rate", "domain", "secs", "nanosecs", "weight", "leafWeight",
]);
