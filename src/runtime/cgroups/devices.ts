// cgroup v1 `devices` controller: turning OCI linux.resources.devices rules into writes to
// devices.allow / devices.deny.
//
// Kernel model (security/device_cgroup.c): a cgroup has a default behaviour (allow all / deny
// all) plus a list of exceptions keyed by exact "type major:minor" with an access set (rwm).
//   "a" to devices.allow → default allow, exceptions cleared;  "a" to devices.deny → default deny.
//   a rule to devices.allow → in deny mode adds access to that exception, in allow mode removes it.
//   a rule to devices.deny  → in allow mode adds the exception,           in deny mode removes it.
// devices.list prints "a *:* rwm" in allow mode (exceptions hidden), else the exceptions.
//
// We simulate the OCI rule list (in order) to the final state, read the current state, and
// write only the difference, so `berth update` never opens a window where everything is denied.
// Like runc, a fixed list of always-allowed devices is appended after the spec's rules.

import type { DeviceCgroup } from "../spec/types";
import { cgroupError } from "./fsops";

export interface DeviceRule {
  type: "a" | "b" | "c";
  major: number | "*";
  minor: number | "*";
  access: string;
  allow: boolean;
}

/** What runc 1.1.5 always allows (checked in devices.list of a runc container on this host). */
export const DEFAULT_ALLOWED_DEVICES: readonly DeviceRule[] = [
  { type: "c", major: "*", minor: "*", access: "m", allow: true }, // mknod of any char device
  { type: "b", major: "*", minor: "*", access: "m", allow: true }, // mknod of any block device
  { type: "c", major: 1, minor: 3, access: "rwm", allow: true }, // /dev/null
  { type: "c", major: 1, minor: 8, access: "rwm", allow: true }, // /dev/random
  { type: "c", major: 1, minor: 7, access: "rwm", allow: true }, // /dev/full
  { type: "c", major: 5, minor: 0, access: "rwm", allow: true }, // /dev/tty
  { type: "c", major: 1, minor: 5, access: "rwm", allow: true }, // /dev/zero
  { type: "c", major: 1, minor: 9, access: "rwm", allow: true }, // /dev/urandom
  { type: "c", major: 136, minor: "*", access: "rwm", allow: true }, // /dev/pts/*
  { type: "c", major: 5, minor: 2, access: "rwm", allow: true }, // /dev/ptmx
  { type: "c", major: 10, minor: 200, access: "rwm", allow: true }, // /dev/net/tun (runc 1.1 still has it)
];

/** Validate OCI rules and turn them into kernel-shaped rules. A type "a" rule that is not the
 *  plain "everything, rwm" becomes a "c" and a "b" rule (the kernel's "a" ignores major/minor/access). */
export function normaliseDeviceRules(rules: DeviceCgroup[], fieldPrefix: string): DeviceRule[] {
  const out: DeviceRule[] = [];
  rules.forEach((r, i) => {
    const field = `${fieldPrefix}[${i}]`;
    const type = r.type ?? "a";
    if (type !== "a" && type !== "b" && type !== "c")
      throw cgroupError(`device rule type ${JSON.stringify(type)} is not one of "a", "b", "c"`, { field: `${field}.type` });
    const num = (v: number | null | undefined, k: string): number | "*" => {
      if (v === undefined || v === null || v === -1) return "*";
      if (!Number.isInteger(v) || v < 0)
        throw cgroupError(`device ${k} number ${v} is not a non-negative integer`, { field: `${field}.${k}` });
      return v;
    };
    const major = num(r.major, "major");
    const minor = num(r.minor, "minor");
    const access = r.access ?? "rwm";
    // Other letters are ignored, as runc does ("rwa" is rw); see validateResources.
    if (!/[rwm]/.test(access))
      throw cgroupError(`device access ${JSON.stringify(access)} must be made of "r", "w", "m"`, { field: `${field}.access` });
    const acc = ["r", "w", "m"].filter((c) => access.includes(c)).join("");
    if (type === "a" && !(major === "*" && minor === "*" && acc === "rwm")) {
      out.push({ type: "c", major, minor, access: acc, allow: r.allow });
      out.push({ type: "b", major, minor, access: acc, allow: r.allow });
    } else out.push({ type, major, minor, access: acc, allow: r.allow });
  });
  return out;
}

export interface DeviceState {
  allowAll: boolean;
  /** "c 1:3" → access chars. In allowAll mode these are deny exceptions (and unknown when read back). */
  exceptions: Map<string, Set<string>>;
}

const key = (r: DeviceRule) => `${r.type} ${r.major}:${r.minor}`;

/** Apply rules in order, the way the kernel would. Starts from a new cgroup's state (allow all). */
export function simulateDeviceRules(rules: DeviceRule[], start?: DeviceState): DeviceState {
  const st: DeviceState = start
    ? { allowAll: start.allowAll, exceptions: new Map([...start.exceptions].map(([k, v]) => [k, new Set(v)])) }
    : { allowAll: true, exceptions: new Map() };
  for (const r of rules) {
    if (r.type === "a") {
      st.allowAll = r.allow;
      st.exceptions.clear();
      continue;
    }
    const k = key(r);
    const adds = st.allowAll !== r.allow; // an allow rule in deny mode (or deny in allow mode) adds
    const cur = st.exceptions.get(k) ?? new Set<string>();
    for (const c of r.access) adds ? cur.add(c) : cur.delete(c);
    if (cur.size) st.exceptions.set(k, cur);
    else st.exceptions.delete(k);
  }
  return st;
}

/** Parse devices.list. */
export function parseDevicesList(text: string): DeviceState {
  const st: DeviceState = { allowAll: false, exceptions: new Map() };
  for (const line of text.split("\n")) {
    const m = /^([abc]) (\*|\d+):(\*|\d+) ([rwm]+)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === "a") return { allowAll: true, exceptions: new Map() };
    st.exceptions.set(`${m[1]} ${m[2]}:${m[3]}`, new Set(m[4]!.split("")));
  }
  return st;
}

const order = (s: Set<string>) => ["r", "w", "m"].filter((c) => s.has(c)).join("");

/** The writes that take a cgroup from `current` to `target`. */
export function planDeviceWrites(current: DeviceState, target: DeviceState): { file: "devices.allow" | "devices.deny"; value: string }[] {
  const w: { file: "devices.allow" | "devices.deny"; value: string }[] = [];
  if (target.allowAll) {
    // Exceptions of an allow-all cgroup can't be read back: always reset, then add the denials.
    w.push({ file: "devices.allow", value: "a" });
    for (const [k, acc] of target.exceptions) w.push({ file: "devices.deny", value: `${k} ${order(acc)}` });
    return w;
  }
  if (current.allowAll) {
    w.push({ file: "devices.deny", value: "a" });
    for (const [k, acc] of target.exceptions) w.push({ file: "devices.allow", value: `${k} ${order(acc)}` });
    return w;
  }
  // deny → deny: revoke first, then grant.
  for (const [k, acc] of current.exceptions) {
    const want = target.exceptions.get(k) ?? new Set<string>();
    const drop = new Set([...acc].filter((c) => !want.has(c)));
    if (drop.size) w.push({ file: "devices.deny", value: `${k} ${order(drop)}` });
  }
  for (const [k, acc] of target.exceptions) {
    const have = current.exceptions.get(k) ?? new Set<string>();
    const add = new Set([...acc].filter((c) => !have.has(c)));
    if (add.size) w.push({ file: "devices.allow", value: `${k} ${order(add)}` });
  }
  return w;
}
