// `berth update`: change a live container's cgroup limits, from runc's flags or an OCI
// LinuxResources JSON (what containerd sends), then record them in the container's saved config
// (<root>/<id>/config.json) so later commands see the limits in force.
//
// As runc 1.1.5, update touches only: memory limit/reservation/swap (kernel and kernelTCP are
// accepted and ignored), cpu shares/quota/period/realtime/cpus/mems/idle (and burst), blockIO
// weight, pids limit and unified. Other LinuxResources fields (devices, hugepageLimits, network,
// rdma, ...) are ignored (a --debug line names them). A value of 0 (or "") means "leave as it is".
import fs from "node:fs";
import { BerthError } from "../errors.ts";
import { applyOwnedResources, detectLayout } from "../cgroups/index.ts";
import type { Resources, Spec } from "../spec/types.ts";
import { validateSpec } from "../spec/validate.ts";
import { containerDir } from "../state/index.ts";
import { lockContainer } from "../state/lock.ts";
import { loadContainer } from "./lifecycle.ts";

const MAX_I64 = 2 ** 63 - 1;

/**
 * A memory size as runc reads it (docker/go-units RAMInBytes): bytes, or a number with a binary
 * suffix k, m, g, t, p (case-insensitive; "b", "ib" and one space before the unit allowed):
 * "1024", "64m", "1.5g", "32 MiB". "-1" (unlimited) is handled by the caller, as runc does.
 */
export function parseRAMInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m) throw new Error(`invalid size: '${s}'`);
  if (!/^\d+(\.\d+)?$/.test(m[1]!)) throw new Error(`invalid size: '${s}' ("${m[1]}" is not a number)`);
  const mul = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[(m[2] ?? "").toLowerCase()]!;
  const v = Math.trunc(Number(m[1]) * mul);
  if (!Number.isFinite(v) || v > MAX_I64) throw new Error(`invalid size: '${s}' is more than 2^63-1 bytes`);
  return v;
}

/** runc's update flags, as strings (undefined when not given). */
export interface UpdateFlagValues {
  blkioWeight?: number;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpuShare?: string;
  cpuRtPeriod?: string;
  cpuRtRuntime?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  kernelMemory?: string;
  kernelMemoryTcp?: string;
  memory?: string;
  memoryReservation?: string;
  memorySwap?: string;
  pidsLimit?: number;
}

/** The flag each resource field comes from, for error messages ("update --memory"). */
export const FLAG_FIELDS: Record<string, string> = {
  "memory.limit": "--memory",
  "memory.reservation": "--memory-reservation",
  "memory.swap": "--memory-swap",
  "memory.kernel": "--kernel-memory",
  "memory.kernelTCP": "--kernel-memory-tcp",
  "cpu.shares": "--cpu-share",
  "cpu.quota": "--cpu-quota",
  "cpu.period": "--cpu-period",
  "cpu.realtimeRuntime": "--cpu-rt-runtime",
  "cpu.realtimePeriod": "--cpu-rt-period",
  "cpu.cpus": "--cpuset-cpus",
  "cpu.mems": "--cpuset-mems",
  "blockIO.weight": "--blkio-weight",
  "pids.limit": "--pids-limit",
};

function flagError(flag: string, value: string, why: string): BerthError {
  return new BerthError(`invalid value ${JSON.stringify(value)} for ${flag}: ${why}`, { phase: "update", field: `update ${flag}` });
}

function uintFlag(flag: string, v: string): number {
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw flagError(flag, v, "expected a non-negative integer");
  return Number(v);
}

function intFlag(flag: string, v: string): number {
  if (!/^[+-]?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw flagError(flag, v, "expected an integer");
  return Number(v);
}

function memFlag(flag: string, v: string): number {
  if (v === "-1") return -1;
  try {
    return parseRAMInBytes(v);
  } catch (e) {
    throw new BerthError(`invalid value for ${flag}: ${(e as Error).message}`, {
      phase: "update", field: `update ${flag}`, hint: 'use bytes or a size like 512k, 64m, 1.5g (binary units), or -1 for unlimited',
    });
  }
}

/** The LinuxResources runc's individual flags ask for (only what was given). */
export function resourcesFromFlags(f: UpdateFlagValues): Resources {
  const r: Resources = {};
  const memory: NonNullable<Resources["memory"]> = {};
  const mem: [keyof UpdateFlagValues, "limit" | "swap" | "kernel" | "kernelTCP" | "reservation", string][] = [
    ["memory", "limit", "--memory"],
    ["memorySwap", "swap", "--memory-swap"],
    ["kernelMemory", "kernel", "--kernel-memory"],
    ["kernelMemoryTcp", "kernelTCP", "--kernel-memory-tcp"],
    ["memoryReservation", "reservation", "--memory-reservation"],
  ];
  for (const [key, field, flag] of mem) {
    const v = f[key] as string | undefined;
    if (v !== undefined && v !== "") memory[field] = memFlag(flag, v);
  }
  if (Object.keys(memory).length) r.memory = memory;

  const cpu: NonNullable<Resources["cpu"]> = {};
  if (f.cpuShare) cpu.shares = uintFlag("--cpu-share", f.cpuShare);
  if (f.cpuPeriod) cpu.period = uintFlag("--cpu-period", f.cpuPeriod);
  if (f.cpuRtPeriod) cpu.realtimePeriod = uintFlag("--cpu-rt-period", f.cpuRtPeriod);
  if (f.cpuQuota) cpu.quota = intFlag("--cpu-quota", f.cpuQuota);
  if (f.cpuRtRuntime) cpu.realtimeRuntime = intFlag("--cpu-rt-runtime", f.cpuRtRuntime);
  if (f.cpusetCpus) cpu.cpus = f.cpusetCpus;
  if (f.cpusetMems) cpu.mems = f.cpusetMems;
  if (Object.keys(cpu).length) r.cpu = cpu;

  if (f.blkioWeight) r.blockIO = { weight: f.blkioWeight };
  if (f.pidsLimit) r.pids = { limit: f.pidsLimit };
  return r;
}

/** Parses and type-checks a LinuxResources JSON document (fields named "resources.…"). */
export function resourcesFromJson(text: string, source: string): Resources {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (e) {
    throw new BerthError(`cannot parse the resources in ${source}: ${(e as Error).message}`, { phase: "update", field: "resources", hint: "it must be an OCI LinuxResources JSON object" });
  }
  // null is an empty update, as runc's JSON decoder reads it.
  if (input === null) input = {};
  if (typeof input !== "object" || Array.isArray(input)) {
    throw new BerthError(`the resources in ${source} must be a JSON object (an OCI LinuxResources)`, { phase: "update", field: "resources" });
  }
  // Device rules are never updated (runc neither parses nor applies them here): only their shape
  // is checked, so a rule runc would take does not fail the whole update.
  const { devices, ...rest } = input as Record<string, unknown>;
  if (devices !== undefined && devices !== null && (!Array.isArray(devices) || devices.some((d) => typeof d !== "object" || d === null || Array.isArray(d)))) {
    throw new BerthError(`resources.devices in ${source} must be an array of device rule objects`, { phase: "update", field: "resources.devices" });
  }
  try {
    validateSpec({ ociVersion: "1.0.2", root: { path: "rootfs" }, linux: { resources: rest } });
  } catch (e) {
    if (e instanceof BerthError) {
      e.phase = "update";
      if (e.field) e.field = e.field.replace(/^linux\.resources/, "resources");
    }
    throw e;
  }
  return input as Resources;
}

const isSet = (v: number | undefined | null): v is number => v !== undefined && v !== null && v !== 0;

/** What update applies, per section (runc 1.1.5's set); anything else given is ignored. */
const UPDATED: Record<string, readonly string[] | true> = {
  memory: ["limit", "reservation", "swap", "kernel", "kernelTCP", "checkBeforeUpdate"],
  cpu: ["shares", "quota", "burst", "period", "realtimeRuntime", "realtimePeriod", "cpus", "mems", "idle"],
  blockIO: ["weight"],
  pids: ["limit"],
  unified: true,
};

/** The fields of a LinuxResources that update ignores ("devices", "memory.swappiness"), set ones only. */
export function ignoredResourceFields(r: Resources): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(r as Record<string, unknown>)) {
    if (v === undefined || v === null) continue;
    const keep = UPDATED[k];
    if (keep === true) continue;
    if (!keep) {
      if (!Array.isArray(v) || v.length) out.push(k);
      continue;
    }
    for (const [sub, sv] of Object.entries(v as Record<string, unknown>)) {
      if (sv !== undefined && sv !== null && !keep.includes(sub)) out.push(`${k}.${sub}`);
    }
  }
  return out;
}

/** The part of `r` that update applies (runc's set), with unset (0 / "") values dropped. */
export function updatableResources(r: Resources): Resources {
  const out: Resources = {};
  if (r.memory) {
    const m: NonNullable<Resources["memory"]> = {};
    for (const k of ["limit", "reservation", "swap", "kernel", "kernelTCP"] as const) if (isSet(r.memory[k])) m[k] = r.memory[k];
    if (r.memory.checkBeforeUpdate !== undefined && r.memory.checkBeforeUpdate !== null) m.checkBeforeUpdate = r.memory.checkBeforeUpdate;
    if (Object.keys(m).length) out.memory = m;
  }
  if (r.cpu) {
    const c: NonNullable<Resources["cpu"]> = {};
    for (const k of ["shares", "quota", "burst", "period", "realtimeRuntime", "realtimePeriod"] as const) if (isSet(r.cpu[k])) c[k] = r.cpu[k];
    if (r.cpu.cpus) c.cpus = r.cpu.cpus;
    if (r.cpu.mems) c.mems = r.cpu.mems;
    if (r.cpu.idle !== undefined && r.cpu.idle !== null) c.idle = r.cpu.idle;
    if (Object.keys(c).length) out.cpu = c;
  }
  if (r.blockIO && isSet(r.blockIO.weight)) out.blockIO = { weight: r.blockIO.weight };
  if (r.pids && isSet(r.pids.limit)) out.pids = { limit: r.pids.limit };
  if (r.unified && Object.keys(r.unified).length) out.unified = { ...r.unified };
  return out;
}

/** The saved resources with an update's values merged in (a pure function). */
export function mergeResources(saved: Resources | undefined, upd: Resources): Resources {
  const out: Resources = structuredClone(saved ?? {});
  if (upd.memory) {
    // checkBeforeUpdate is a one-off instruction; kernel memory is ignored (so not recorded).
    const { checkBeforeUpdate: _c, kernel: _k, kernelTCP: _t, ...m } = upd.memory;
    const had = out.memory ?? {};
    // An unlimited memory limit with no swap given lifts memory+swap too (runc's rule).
    if (m.limit === -1 && m.swap === undefined && isSet(had.swap)) m.swap = -1;
    if (Object.keys(m).length) out.memory = { ...had, ...m };
  }
  if (upd.cpu) out.cpu = { ...out.cpu, ...upd.cpu };
  if (upd.blockIO) out.blockIO = { ...out.blockIO, ...upd.blockIO };
  if (upd.pids) out.pids = { ...upd.pids };
  if (upd.unified) out.unified = { ...out.unified, ...upd.unified };
  return out;
}

/** Rewrites "resources.memory.limit" into "update --memory" in an error or warning. */
export function renameFields(text: string, names: Record<string, string>): string {
  return text.replace(/resources\.([A-Za-z]+\.[A-Za-z]+)/g, (all, path: string) => (names[path] ? `update ${names[path]}` : all));
}

export interface UpdateOptions {
  /** Name fields after runc's flags in errors and warnings (the update came from flags). */
  fromFlags?: boolean;
}

function writeConfigAtomically(file: string, spec: Spec): void {
  const tmp = `${file}.tmp`;
  let mode = 0o600;
  try {
    mode = fs.statSync(file).mode & 0o777;
  } catch { /* new */ }
  fs.writeFileSync(tmp, JSON.stringify(spec), { mode });
  fs.renameSync(tmp, file);
}

/** Applies `requested` to the container's cgroup and saved config. Returns warnings. */
export function updateContainer(root: string, id: string, requested: Resources, o: UpdateOptions = {}): string[] {
  loadContainer(root, id); // a clear "does not exist" before taking the lock
  const dir = containerDir(root, id);
  const release = lockContainer(dir, id);
  try {
    const l = loadContainer(root, id);
    if (l.status === "stopped") {
      throw new BerthError(`cannot update container ${JSON.stringify(id)}: it is not running (stopped)`, { phase: "update", hint: "its init has exited; limits apply only to a live container" });
    }
    if (!l.state.cgroup) throw new BerthError(`container ${JSON.stringify(id)} has no cgroup to update`, { phase: "update" });
    const upd = updatableResources(requested);
    const rename = (s: string) => (o.fromFlags ? renameFields(s, FLAG_FIELDS) : s);
    let warnings: string[];
    try {
      warnings = applyOwnedResources(detectLayout(), l.state.cgroup, upd, "resources");
    } catch (e) {
      if (e instanceof BerthError) {
        if (e.field) e.field = rename(e.field);
        e.message = rename(e.message);
        if (e.hint) e.hint = rename(e.hint);
        if (e.phase === "cgroups") e.phase = "update";
      }
      throw e;
    }
    const configFile = `${dir}/config.json`;
    let spec: Spec | undefined;
    try {
      spec = JSON.parse(fs.readFileSync(configFile, "utf8"));
    } catch (e) {
      warnings.push(`the limits are applied but ${configFile} could not be read to record them: ${(e as Error).message}`);
    }
    if (spec) {
      spec.linux ??= {};
      spec.linux.resources = mergeResources(spec.linux.resources, upd);
      try {
        writeConfigAtomically(configFile, spec);
      } catch (e) {
        throw new BerthError(`the limits are applied but recording them in ${configFile} failed: ${(e as Error).message}`, {
          phase: "update", errno: (e as NodeJS.ErrnoException).code,
        });
      }
    }
    return warnings.map(rename);
  } finally {
    release();
  }
}
