// validateSpec: check a parsed config.json against the OCI runtime spec (v1.2, Linux) before
// any of it is acted upon, so a mistake is reported once, up front, as one line naming the
// JSON path of the offending field — instead of surfacing as EINVAL from a system call deep
// inside container creation.
//
// What is checked: the type of every field Berth knows (integers also for range: uint32 ids,
// int64 limits...), enum values, required fields, absolute paths where the spec demands
// them, and a few cross-field rules runc also enforces (duplicate namespaces, user namespace
// without id mappings, hostname without a UTS namespace). What is not: unknown keys (the spec
// says runtimes MUST ignore unknown properties, so extensions pass; near-miss typos of known
// keys only produce a warning), seccomp internals (src/runtime/seccomp does those), and facts
// about the host (does the rootfs exist, is a sysctl namespaced, is a capability supported by
// this kernel) — those are checked where they are applied.
//
// Where runc 1.1.5 and the spec disagree, the choice is commented at the check. In short:
//   - unknown capability names are an ERROR (runc warns and drops them);
//   - duplicate rlimit types and soft > hard are errors (runc: accepted / EINVAL at start);
//   - relative mount destinations are ACCEPTED with a deprecation warning, like runc;
//   - linux.devices paths must be absolute and c/b/u devices need major/minor (runc accepts).
//
// JSON `null` is treated like an absent field, as Go's encoding/json (and thus runc) does;
// the returned spec is a copy with such nulls removed. Note on 64-bit integers: JSON.parse
// yields doubles, so 18446744073709551615 (RLIM_INFINITY) arrives as 2^64; uint64 fields
// accept values up to 2^64 and int64 fields up to ±2^63 for that reason.

import { BerthError } from "../errors.ts";
import {
  CAPABILITIES,
  DEVICE_CGROUP_TYPES,
  DEVICE_TYPES,
  HOOK_KINDS,
  IOPRIO_CLASSES,
  NAMESPACE_TYPES,
  PERSONALITY_DOMAINS,
  RLIMITS,
  ROOTFS_PROPAGATIONS,
  SCHED_FLAGS,
  SCHED_POLICIES,
  TIME_OFFSET_CLOCKS,
} from "./constants.ts";
import type { Spec } from "./types.ts";
import {
  at, describeValue, didYouMean, fail, INT32, INT64, isObj, joinPath, K_BLKIO, K_CAPS, K_CPU,
  K_DEVCG, K_DEVICE, K_HOOK, K_IDMAP, K_LINUX, K_MEMORY, K_MOUNT, K_NS, K_PROCESS, K_RESOURCES,
  K_RLIMIT, K_ROOT, K_TOP, K_USER, quote, UINT16, UINT32, UINT64, Validator, type Obj
} from "./validator.ts";

export interface ValidateOptions {
  /**
   * Called for problems that do not stop the container (deprecated forms, likely typos in
   * ignored keys). `field` is the JSON path. Default: warnings are dropped.
   */
  warn?: (message: string, field: string) => void;
}

// ---------------------------------------------------------------------------------------------
// Entry point

/** Check `input` (parsed config.json) against the OCI runtime spec; return it typed. Throws BerthError. */
export function validateSpec(input: unknown, opts: ValidateOptions = {}): Spec {
  if (!isObj(input)) {
    throw new BerthError(`config.json must contain a JSON object, found ${describeValue(input)}`, { phase: "config" });
  }
  scanValues(input);
  const spec = structuredClone(input);
  const v = new Validator(opts.warn ?? (() => {}));
  v.keys(spec, "", K_TOP);

  // ociVersion: REQUIRED, SemVer 2.0.0. runc 1.1.5 accepts any string here; a non-SemVer value
  // is almost certainly not a runtime-spec version, so we say so.
  const version = v.string(v.req(spec, "ociVersion", ""), "ociVersion");
  if (!isSemver(version)) {
    fail("ociVersion", `${quote(version)} is not a SemVer version like "1.0.2"`, 'use the runtime-spec version the config was written for, e.g. "1.0.2-dev"');
  }
  if (!version.startsWith("1.")) {
    v.warn("ociVersion", `ociVersion ${version} is not a 1.x runtime-spec version; Berth implements 1.x and may misread this config`);
  }

  validateRoot(v, spec);
  v.optString(spec, "hostname", "");
  v.optString(spec, "domainname", "");
  const annotations = v.opt(spec, "annotations");
  if (annotations !== undefined) v.stringMap(annotations, "annotations");

  const proc = v.optObject(spec, "process", "");
  if (proc) validateProcess(v, proc, "process");

  const mounts = v.optObjects(spec, "mounts", "");
  mounts.forEach(([m, p]) => validateMount(v, m, p));

  const hooks = v.optObject(spec, "hooks", "");
  if (hooks) validateHooks(v, hooks, "hooks");

  const linux = v.optObject(spec, "linux", "");
  const namespaces = linux ? validateLinux(v, linux, "linux") : new Map<string, string | undefined>();

  // Cross-field rules (runc enforces these too).
  for (const key of ["hostname", "domainname"] as const) {
    const name = spec[key];
    if (typeof name === "string" && name !== "" && !namespaces.has("uts")) {
      fail(key, `${key} is set but the container has no UTS namespace of its own`, 'add {"type": "uts"} to linux.namespaces, or remove ' + key);
    }
  }

  return spec as unknown as Spec;
}

/** Deeper than any real config; well inside what structuredClone and JSON.stringify can recurse. */
export const MAX_DEPTH = 1000;

// The top-level fields whose strings reach system calls (annotations and extensions do not).
const ACTED_ON = new Set(["ociVersion", "root", "process", "hostname", "domainname", "mounts", "hooks", "linux"]);

/**
 * Refuse absurd nesting before anything recursive (structuredClone, the state file's
 * JSON.stringify) can overflow the stack on it; iterative, so the check itself cannot. In the
 * same pass: no NUL byte in a string Berth hands to the kernel, where it would silently cut the
 * string (argv and env travel NUL-separated: "a\u0000b" would become two arguments).
 */
function scanValues(input: unknown): void {
  const stack: Array<[unknown, string, number, boolean]> = [[input, "", 0, false]];
  while (stack.length > 0) {
    const [val, path, depth, acted] = stack.pop()!;
    if (typeof val === "string") {
      if (acted && val.includes("\0")) fail(path, "must not contain a NUL byte (\\u0000)");
      continue;
    }
    if (typeof val !== "object" || val === null) continue;
    if (depth >= MAX_DEPTH) {
      fail(path, `the config nests objects and arrays more than ${MAX_DEPTH} levels deep`, "no OCI config field is nested like this; the file is probably generated wrongly");
    }
    // Past a few levels the path only needs to say where the nesting starts.
    const deep = path.length > 60;
    const sub = (p: string) => (deep ? (path.endsWith("…") ? path : path + "…") : p);
    if (Array.isArray(val)) {
      val.forEach((e, i) => stack.push([e, sub(at(path, i)), depth + 1, acted]));
    } else {
      for (const [k, e] of Object.entries(val)) {
        const a = depth === 0 ? ACTED_ON.has(k) : acted;
        const p = sub(joinPath(path, k));
        if (a && k.includes("\0")) fail(p, "field names must not contain a NUL byte (\\u0000)");
        stack.push([e, p, depth + 1, a]);
      }
    }
  }
}

function isSemver(s: string): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/.exec(s);
  if (!m) return false;
  // No leading zeros in the numeric parts (core and numeric pre-release identifiers).
  const numeric = [m[1]!, m[2]!, m[3]!, ...(m[4] ? m[4].split(".").filter((x) => /^\d+$/.test(x)) : [])];
  return numeric.every((x) => x === "0" || !x.startsWith("0"));
}

function validateRoot(v: Validator, spec: Obj): void {
  // root is OPTIONAL only on Windows Hyper-V; on Linux it is REQUIRED.
  const root = v.object(v.req(spec, "root", ""), "root");
  v.keys(root, "root", K_ROOT);
  const p = v.string(v.req(root, "path", "root"), "root.path");
  if (p === "") fail("root.path", "root.path must not be empty", 'the conventional value is "rootfs" (relative to the bundle)');
  v.optBoolean(root, "readonly", "root");
}

// ---------------------------------------------------------------------------------------------
// process

/** 4294967295 is (uid_t)-1: setresuid/setresgid/setgroups read it as "leave unchanged", so the
 *  process would silently keep running as root (runc refuses it too). */
function notMinusOne(n: number, field: string, kind: "uid" | "gid"): void {
  if (n >= 0xffffffff) {
    fail(field, `${kind} ${n} is (${kind}_t)-1, which the kernel reads as "unchanged": the process would run as root`, `use a real ${kind} below 4294967295`);
  }
}

function validateProcess(v: Validator, p: Obj, path: string): void {
  v.keys(p, path, K_PROCESS);
  v.optBoolean(p, "terminal", path);

  const cs = v.optObject(p, "consoleSize", path);
  if (cs) {
    // TIOCSWINSZ takes unsigned shorts.
    v.integer(v.req(cs, "height", `${path}.consoleSize`), `${path}.consoleSize.height`, UINT16);
    v.integer(v.req(cs, "width", `${path}.consoleSize`), `${path}.consoleSize.width`, UINT16);
  }

  // user is REQUIRED on POSIX. (runc 1.1.5 silently runs as uid 0 when it is missing; a
  // missing user is far more likely a broken generator than a wish to run as root.)
  const user = v.object(v.req(p, "user", path), `${path}.user`);
  const up = `${path}.user`;
  v.keys(user, up, K_USER);
  for (const k of ["uid", "gid"] as const) notMinusOne(v.integer(v.req(user, k, up), `${up}.${k}`, UINT32), `${up}.${k}`, k);
  const umask = v.opt(user, "umask");
  if (umask !== undefined) {
    const n = v.integer(umask, `${up}.umask`, UINT32);
    if (n > 0o777) {
      fail(`${up}.umask`, `umask must be between 0 and 511 (0o777), found ${n}`, "JSON has no octal: write umask 022 as 18");
    }
  }
  const gids = v.optArray(user, "additionalGids", up);
  gids?.forEach((g, i) => notMinusOne(v.integer(g, `${up}.additionalGids[${i}]`, UINT32), `${up}.additionalGids[${i}]`, "gid"));
  v.optString(user, "username", up);

  // args: at least one entry is REQUIRED on non-Windows platforms.
  const args = v.opt(p, "args");
  if (args === undefined) fail(`${path}.args`, "required field is missing", "args is the program to run and its arguments, e.g. [\"sh\"]");
  const argv = v.stringArray(args, `${path}.args`);
  if (argv.length === 0) fail(`${path}.args`, "must contain at least one element (the program to run)");
  if (argv[0] === "") fail(`${path}.args[0]`, "the program to run must not be an empty string");
  v.optString(p, "commandLine", path);

  const env = v.optArray(p, "env", path);
  env?.forEach((e, i) => checkEnvEntry(v, e, `${path}.env[${i}]`));

  // cwd: REQUIRED, MUST be absolute.
  const cwd = v.string(v.req(p, "cwd", path), `${path}.cwd`);
  if (cwd === "") fail(`${path}.cwd`, "required field is empty");
  if (!cwd.startsWith("/")) fail(`${path}.cwd`, `cwd must be an absolute path, found ${quote(cwd)}`);

  const caps = v.optObject(p, "capabilities", path);
  if (caps) validateCapabilities(v, caps, `${path}.capabilities`);

  const rlimits = v.optObjects(p, "rlimits", path);
  const seenRlimit = new Map<string, string>();
  for (const [r, rp] of rlimits) {
    v.keys(r, rp, K_RLIMIT);
    const type = v.oneOf(v.req(r, "type", rp), `${rp}.type`, "rlimit type", Object.keys(RLIMITS));
    const hard = v.integer(v.req(r, "hard", rp), `${rp}.hard`, UINT64);
    const soft = v.integer(v.req(r, "soft", rp), `${rp}.soft`, UINT64);
    // runc 1.1.5 passes soft > hard to setrlimit and fails with EINVAL at start; say it now.
    if (soft > hard) fail(`${rp}.soft`, `soft limit ${soft} is greater than hard limit ${hard} for ${type}`);
    // The spec: "If rlimits contains duplicated entries with same type, the runtime MUST
    // generate an error." (runc 1.1.5 silently lets the last one win.)
    const prev = seenRlimit.get(type);
    if (prev) fail(`${rp}.type`, `duplicate rlimit ${type} (also set at ${prev})`);
    seenRlimit.set(type, rp);
  }

  v.optBoolean(p, "noNewPrivileges", path);
  v.optString(p, "apparmorProfile", path);
  const oom = v.opt(p, "oomScoreAdj");
  if (oom !== undefined) v.range(oom, `${path}.oomScoreAdj`, INT32, -1000, 1000);
  v.optString(p, "selinuxLabel", path);

  const io = v.optObject(p, "ioPriority", path);
  if (io) {
    const iop = `${path}.ioPriority`;
    v.oneOf(v.req(io, "class", iop), `${iop}.class`, "I/O priority class", IOPRIO_CLASSES);
    v.range(v.req(io, "priority", iop), `${iop}.priority`, INT32, 0, 7);
  }

  const sched = v.optObject(p, "scheduler", path);
  if (sched) {
    const sp = `${path}.scheduler`;
    v.oneOf(v.req(sched, "policy", sp), `${sp}.policy`, "scheduling policy", SCHED_POLICIES);
    const nice = v.opt(sched, "nice");
    if (nice !== undefined) v.range(nice, `${sp}.nice`, INT32, -20, 19);
    v.optInteger(sched, "priority", sp, INT32);
    const flags = v.optArray(sched, "flags", sp);
    flags?.forEach((f, i) => v.oneOf(f, `${sp}.flags[${i}]`, "scheduler flag", SCHED_FLAGS));
    for (const k of ["runtime", "deadline", "period"]) v.optInteger(sched, k, sp, UINT64);
  }

  const aff = v.optObject(p, "execCPUAffinity", path);
  if (aff) {
    for (const k of ["initial", "final"]) {
      const s = v.opt(aff, k);
      if (s !== undefined) checkCpuList(v, s, `${path}.execCPUAffinity.${k}`);
    }
  }
}

function checkEnvEntry(v: Validator, e: unknown, field: string): void {
  const s = v.string(e, field);
  const eq = s.indexOf("=");
  // runc rejects these when starting the process ("invalid environment variable").
  if (eq < 0) fail(field, `environment entry ${quote(s)} has no '=' (expected NAME=value)`);
  if (eq === 0) fail(field, `environment entry ${quote(s)} has an empty name (expected NAME=value)`);
  if (s.includes("\0")) fail(field, "environment entry must not contain a NUL byte");
}

function validateCapabilities(v: Validator, caps: Obj, path: string): void {
  v.keys(caps, path, K_CAPS);
  const known = Object.keys(CAPABILITIES);
  for (const set of K_CAPS) {
    const a = v.optArray(caps, set, path);
    a?.forEach((c, i) => {
      const field = `${path}.${set}[${i}]`;
      const name = v.string(c, field);
      // Decision: an unknown capability is an error. runc 1.1.5 logs a warning and drops it,
      // which turns a typo ("CAP_NET_ADMN") into a container that silently lacks a privilege
      // and fails later in a confusing way; the spec also says any value that cannot be
      // mapped to a kernel interface MUST cause an error. Names are checked against the 41
      // capabilities Linux 6.x defines; whether *this* kernel supports one is checked when
      // capabilities are applied.
      if (!(name in CAPABILITIES)) {
        let hint = didYouMean(name, known);
        const upper = name.toUpperCase();
        const prefixed = upper.startsWith("CAP_") ? upper : `CAP_${upper}`;
        if (prefixed in CAPABILITIES) hint = `did you mean "${prefixed}"? capability names are upper case with a CAP_ prefix`;
        fail(field, `unknown capability ${quote(name)} (expected a Linux capability name such as CAP_CHOWN)`, hint);
      }
    });
  }
}

function checkCpuList(v: Validator, val: unknown, field: string): void {
  const s = v.string(val, field).trim();
  if (s === "") return; // empty: inherit
  for (const part of s.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) fail(field, `invalid CPU/node list ${quote(s)} (expected a list like "0-3,7")`);
    if (m[2] !== undefined && Number(m[2]) < Number(m[1])) {
      fail(field, `invalid range "${part.trim()}" in ${quote(s)}: the end is before the start`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// mounts and hooks

function validateMount(v: Validator, m: Obj, path: string): void {
  v.keys(m, path, K_MOUNT);
  const dest = v.string(v.req(m, "destination", path), `${path}.destination`);
  if (dest === "") fail(`${path}.destination`, "mount destination must not be empty");
  if (dest.includes("\0")) fail(`${path}.destination`, "mount destination must not contain a NUL byte");
  // runtime-spec 1.0 says the destination MUST be absolute; later versions allow a relative
  // one, interpreted relative to "/", as deprecated. runc 1.1.5 accepts it with a warning; so
  // do we (rejecting would break configs runc runs).
  if (!dest.startsWith("/")) {
    v.warn(
      `${path}.destination`,
      `mount destination ${quote(dest)} is not absolute; it is taken relative to "/" (relative destinations are deprecated)`,
    );
  }
  v.optString(m, "type", path);
  v.optString(m, "source", path);
  v.optStringArray(m, "options", path);
  for (const k of ["uidMappings", "gidMappings"]) validateIdMappings(v, m, k, path);
}

function validateHooks(v: Validator, hooks: Obj, path: string): void {
  v.keys(hooks, path, HOOK_KINDS);
  for (const kind of HOOK_KINDS) {
    for (const [h, hp] of v.optObjects(hooks, kind, path)) {
      v.keys(h, hp, K_HOOK);
      // The spec says absolute; runc also runs a relative path, from the bundle (or, for
      // createContainer, the rootfs; startContainer, the process cwd). So does berth.
      const hpath = v.string(v.req(h, "path", hp), `${hp}.path`);
      if (hpath === "") fail(`${hp}.path`, "hook path must not be empty");
      if (hpath.includes("\0")) fail(`${hp}.path`, "hook path must not contain a NUL byte");
      v.optStringArray(h, "args", hp);
      const env = v.optArray(h, "env", hp);
      env?.forEach((e, i) => checkEnvEntry(v, e, `${hp}.env[${i}]`));
      const t = v.opt(h, "timeout");
      if (t !== undefined) {
        const n = v.integer(t, `${hp}.timeout`, INT64);
        if (n <= 0) fail(`${hp}.timeout`, `timeout must be greater than zero (seconds), found ${n}`);
      }
    }
  }
}

function validateIdMappings(v: Validator, parent: Obj, key: string, path: string): void {
  const list = v.optObjects(parent, key, path);
  const seen: Array<{ c: [number, number]; h: [number, number]; p: string }> = [];
  for (const [m, mp] of list) {
    v.keys(m, mp, K_IDMAP);
    const c = v.integer(v.req(m, "containerID", mp), `${mp}.containerID`, UINT32);
    const h = v.integer(v.req(m, "hostID", mp), `${mp}.hostID`, UINT32);
    const size = v.integer(v.req(m, "size", mp), `${mp}.size`, UINT32);
    if (size === 0) fail(`${mp}.size`, "mapping size must be at least 1");
    if (c + size > 2 ** 32) fail(`${mp}.size`, `containerID ${c} + size ${size} goes past the largest id 4294967295`);
    if (h + size > 2 ** 32) fail(`${mp}.size`, `hostID ${h} + size ${size} goes past the largest id 4294967295`);
    // The kernel refuses overlapping ranges in a uid_map/gid_map (EINVAL); name both entries.
    for (const o of seen) {
      if (c < o.c[1] && o.c[0] < c + size) {
        fail(mp, `containerID range ${c}-${c + size - 1} overlaps ${o.p} (${o.c[0]}-${o.c[1] - 1})`);
      }
      if (h < o.h[1] && o.h[0] < h + size) {
        fail(mp, `hostID range ${h}-${h + size - 1} overlaps ${o.p} (${o.h[0]}-${o.h[1] - 1})`);
      }
    }
    seen.push({ c: [c, c + size], h: [h, h + size], p: mp });
  }
}

// ---------------------------------------------------------------------------------------------
// linux

/** Validates linux; returns the namespace types present (type → path or undefined). */
function validateLinux(v: Validator, linux: Obj, path: string): Map<string, string | undefined> {
  v.keys(linux, path, K_LINUX);
  validateIdMappings(v, linux, "uidMappings", path);
  validateIdMappings(v, linux, "gidMappings", path);

  const sysctl = v.opt(linux, "sysctl");
  if (sysctl !== undefined) v.stringMap(sysctl, `${path}.sysctl`);

  const res = v.optObject(linux, "resources", path);
  if (res) validateResources(v, res, `${path}.resources`);

  v.optString(linux, "cgroupsPath", path);

  const namespaces = new Map<string, string | undefined>();
  const nsFirst = new Map<string, string>();
  for (const [ns, np] of v.optObjects(linux, "namespaces", path)) {
    v.keys(ns, np, K_NS);
    const type = v.oneOf(v.req(ns, "type", np), `${np}.type`, "namespace type", Object.keys(NAMESPACE_TYPES));
    const nsPath = v.opt(ns, "path");
    let p: string | undefined;
    if (nsPath !== undefined) {
      const s = v.string(nsPath, `${np}.path`);
      if (s !== "") p = v.absPath(s, `${np}.path`, "namespace path");
    }
    const first = nsFirst.get(type);
    if (first) fail(`${np}.type`, `duplicate namespace type "${type}" (already at ${first})`);
    nsFirst.set(type, np);
    namespaces.set(type, p);
  }

  for (const [d, dp] of v.optObjects(linux, "devices", path)) {
    v.keys(d, dp, K_DEVICE);
    const type = v.oneOf(v.req(d, "type", dp), `${dp}.type`, "device type", DEVICE_TYPES);
    // The spec: path MUST be absolute; major/minor REQUIRED unless type is "p". runc 1.1.5
    // accepts both mistakes and creates an odd node (or 0:0); we reject them.
    v.absPath(v.req(d, "path", dp), `${dp}.path`, "device path");
    for (const k of ["major", "minor"]) {
      if (type === "p") v.optInteger(d, k, dp, INT64);
      else v.integer(v.req(d, k, dp), `${dp}.${k}`, INT64);
    }
    v.optInteger(d, "fileMode", dp, UINT32);
    v.optInteger(d, "uid", dp, UINT32);
    v.optInteger(d, "gid", dp, UINT32);
  }

  // Seccomp is validated in depth by src/runtime/seccomp; here only its shape.
  v.optObject(linux, "seccomp", path);

  const prop = v.opt(linux, "rootfsPropagation");
  if (prop !== undefined && prop !== "") {
    v.oneOf(prop, `${path}.rootfsPropagation`, "rootfs propagation", ROOTFS_PROPAGATIONS);
  }

  for (const k of ["maskedPaths", "readonlyPaths"]) {
    const a = v.optArray(linux, k, path);
    a?.forEach((e, i) => v.absPath(e, `${path}.${k}[${i}]`));
  }
  v.optString(linux, "mountLabel", path);

  const rdt = v.optObject(linux, "intelRdt", path);
  if (rdt) {
    const rp = `${path}.intelRdt`;
    for (const k of ["closID", "l3CacheSchema", "memBwSchema"]) v.optString(rdt, k, rp);
    v.optStringArray(rdt, "schemata", rp);
    for (const k of ["enableCMT", "enableMBM", "enableMonitoring"]) v.optBoolean(rdt, k, rp);
  }

  const pers = v.optObject(linux, "personality", path);
  if (pers) {
    const pp = `${path}.personality`;
    v.oneOf(v.req(pers, "domain", pp), `${pp}.domain`, "personality domain", PERSONALITY_DOMAINS);
    v.optStringArray(pers, "flags", pp);
  }

  const offsets = v.optObject(linux, "timeOffsets", path);
  if (offsets) {
    const tp = `${path}.timeOffsets`;
    for (const [clock, val] of Object.entries(offsets)) {
      const cp = joinPath(tp, clock);
      if (!TIME_OFFSET_CLOCKS.includes(clock)) {
        fail(cp, `unknown clock ${quote(clock)} (expected one of ${TIME_OFFSET_CLOCKS.join(", ")})`, didYouMean(clock, TIME_OFFSET_CLOCKS));
      }
      const o = v.object(val, cp);
      v.optInteger(o, "secs", cp, INT64);
      const ns = v.opt(o, "nanosecs");
      if (ns !== undefined) v.range(ns, `${cp}.nanosecs`, UINT32, 0, 999_999_999);
    }
    if (Object.keys(offsets).length > 0 && !namespaces.has("time")) {
      fail(tp, "time offsets are set but the container has no time namespace", 'add {"type": "time"} to linux.namespaces');
    }
  }

  // A new user namespace needs mappings (runc: "User namespaces enabled, but no uid mappings
  // found."). Joining an existing one (path set) brings its own.
  if (namespaces.has("user") && namespaces.get("user") === undefined) {
    for (const k of ["uidMappings", "gidMappings"]) {
      const list = linux[k];
      if (!Array.isArray(list) || list.length === 0) {
        fail(`${path}.${k}`, `a new user namespace is requested but ${path}.${k} is empty`, `map at least container id 0, e.g. {"containerID": 0, "hostID": 1000, "size": 1}`);
      }
    }
  } else if (!namespaces.has("user")) {
    for (const k of ["uidMappings", "gidMappings"]) {
      const list = linux[k];
      if (Array.isArray(list) && list.length > 0) {
        v.warn(`${path}.${k}`, `${path}.${k} is ignored: there is no user namespace in linux.namespaces`);
      }
    }
  }
  return namespaces;
}

function validateResources(v: Validator, r: Obj, path: string): void {
  v.keys(r, path, K_RESOURCES);

  for (const [d, dp] of v.optObjects(r, "devices", path)) {
    v.keys(d, dp, K_DEVCG);
    v.boolean(v.req(d, "allow", dp), `${dp}.allow`);
    const type = v.opt(d, "type");
    if (type !== undefined) v.oneOf(type, `${dp}.type`, "device cgroup type", DEVICE_CGROUP_TYPES);
    v.optInteger(d, "major", dp, INT64);
    v.optInteger(d, "minor", dp, INT64);
    const access = v.opt(d, "access");
    if (access !== undefined) {
      // runc reads access as the set of the r, w and m it contains and ignores other letters
      // ("rwa" is rw); a value with none of them grants nothing and is refused, as is "".
      const s = v.string(access, `${dp}.access`);
      if (!/[rwm]/.test(s)) fail(`${dp}.access`, `invalid device access ${quote(s)} (expected a combination of r, w and m)`);
    }
  }

  const mem = v.optObject(r, "memory", path);
  if (mem) {
    const mp = `${path}.memory`;
    v.keys(mem, mp, K_MEMORY);
    for (const k of ["limit", "reservation", "swap", "kernel", "kernelTCP"]) v.optInteger(mem, k, mp, INT64);
    const sw = v.opt(mem, "swappiness");
    if (sw !== undefined) v.range(sw, `${mp}.swappiness`, UINT64, 0, 100);
    for (const k of ["disableOOMKiller", "useHierarchy", "checkBeforeUpdate"]) v.optBoolean(mem, k, mp);
  }

  const cpu = v.optObject(r, "cpu", path);
  if (cpu) {
    const cp = `${path}.cpu`;
    v.keys(cpu, cp, K_CPU);
    for (const k of ["shares", "burst", "period", "realtimePeriod"]) v.optInteger(cpu, k, cp, UINT64);
    for (const k of ["quota", "realtimeRuntime", "idle"]) v.optInteger(cpu, k, cp, INT64);
    for (const k of ["cpus", "mems"]) {
      const s = v.opt(cpu, k);
      if (s !== undefined) checkCpuList(v, s, `${cp}.${k}`);
    }
  }

  const pids = v.optObject(r, "pids", path);
  if (pids) v.integer(v.req(pids, "limit", `${path}.pids`), `${path}.pids.limit`, INT64);

  const bio = v.optObject(r, "blockIO", path);
  if (bio) {
    const bp = `${path}.blockIO`;
    v.keys(bio, bp, K_BLKIO);
    v.optInteger(bio, "weight", bp, UINT16);
    v.optInteger(bio, "leafWeight", bp, UINT16);
    for (const [w, wp] of v.optObjects(bio, "weightDevice", bp)) {
      v.integer(v.req(w, "major", wp), `${wp}.major`, INT64);
      v.integer(v.req(w, "minor", wp), `${wp}.minor`, INT64);
      v.optInteger(w, "weight", wp, UINT16);
      v.optInteger(w, "leafWeight", wp, UINT16);
    }
    for (const k of ["throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice", "throttleWriteIOPSDevice"]) {
      for (const [t, tp] of v.optObjects(bio, k, bp)) {
        v.integer(v.req(t, "major", tp), `${tp}.major`, INT64);
        v.integer(v.req(t, "minor", tp), `${tp}.minor`, INT64);
        v.integer(v.req(t, "rate", tp), `${tp}.rate`, UINT64);
      }
    }
  }

  for (const [h, hp] of v.optObjects(r, "hugepageLimits", path)) {
    const size = v.string(v.req(h, "pageSize", hp), `${hp}.pageSize`);
    if (!/^\d+[KMGTP]B$/.test(size)) fail(`${hp}.pageSize`, `invalid page size ${quote(size)} (expected a size like "2MB" or "1GB")`);
    v.integer(v.req(h, "limit", hp), `${hp}.limit`, UINT64);
  }

  const net = v.optObject(r, "network", path);
  if (net) {
    const np = `${path}.network`;
    v.optInteger(net, "classID", np, UINT32);
    for (const [pr, pp] of v.optObjects(net, "priorities", np)) {
      v.string(v.req(pr, "name", pp), `${pp}.name`);
      v.integer(v.req(pr, "priority", pp), `${pp}.priority`, UINT32);
    }
  }

  const rdma = v.optObject(r, "rdma", path);
  if (rdma) {
    for (const [dev, val] of Object.entries(rdma)) {
      const dp = joinPath(`${path}.rdma`, dev);
      const o = v.object(val, dp);
      v.optInteger(o, "hcaHandles", dp, UINT32);
      v.optInteger(o, "hcaObjects", dp, UINT32);
    }
  }

  const unified = v.opt(r, "unified");
  if (unified !== undefined) v.stringMap(unified, `${path}.unified`);
}
