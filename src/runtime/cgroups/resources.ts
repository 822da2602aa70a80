// linux.resources → cgroup interface files, for v1 and v2 hierarchies.
//
// Each controller is written where this host has it: a v1 hierarchy if the controller is
// mounted as v1, else the unified (cgroup2) hierarchy if the controller is available there.
// On a hybrid host that means e.g. memory/cpu/pids go to v1 while hugetlb may be on cgroup2.
//
// Conventions (as runc): a value of 0 means "not set" for memory limit/reservation/swap,
// cpu shares/quota/period and realtime values; -1 means unlimited where the kernel has one.
// Every failed write becomes a BerthError naming the file, the errno, the config field and a
// likely cause.

import type { BlockIO, CPU, HugepageLimit, Memory, Resources } from "../spec/types";
import { cgroupError, errnoOf, realFs, type CgroupFs } from "./fsops";
import type { CgroupLayout } from "./layout";
import type { ContainerCgroup } from "./types";
import { normaliseDeviceRules, parseDevicesList, planDeviceWrites, simulateDeviceRules, DEFAULT_ALLOWED_DEVICES } from "./devices";

export interface WriteRecord {
  file: string;
  value: string;
  field: string;
}

export interface ApplyOptions {
  /** Only record what would be written (reads and existence checks still happen). */
  dryRun?: boolean;
  /** Receives every write (performed or, in a dry run, planned), in order. */
  log?: WriteRecord[];
}

type Hint = string | (() => string | undefined);

interface Target {
  version: 1 | 2;
  dir: string;
}

class Ctx {
  warnings: string[] = [];
  private v2avail?: Set<string>;
  constructor(
    readonly layout: CgroupLayout,
    readonly cg: ContainerCgroup,
    readonly fs: CgroupFs,
    readonly prefix: string,
    readonly opts: ApplyOptions,
  ) {}

  field(rel: string): string {
    return rel.startsWith("[") ? this.prefix + rel : `${this.prefix}.${rel}`;
  }

  get v2(): string | undefined {
    return this.cg.hierarchies.find((h) => h.version === 2)?.dir;
  }

  /** Controllers usable in the container's cgroup2 directory. */
  v2Controllers(): Set<string> {
    if (!this.v2avail) {
      const dir = this.v2;
      let text = "";
      if (dir) {
        try {
          text = this.fs.read(`${dir}/cgroup.controllers`);
        } catch {
          text = "";
        }
      }
      this.v2avail = new Set(text.split(/\s+/).filter(Boolean));
    }
    return this.v2avail;
  }

  target(controller: string): Target | undefined {
    const h = this.cg.hierarchies.find((x) => x.version === 1 && x.controllers.includes(controller));
    if (h) return { version: 1, dir: h.dir };
    const v2 = this.v2;
    if (v2 && this.v2Controllers().has(controller)) return { version: 2, dir: v2 };
    return undefined;
  }

  /** The target of a controller a set resource needs, or a clear error. */
  need(controller: string, field: string): Target {
    const t = this.target(controller);
    if (t) return t;
    const where =
      this.layout.mode === "v2"
        ? `it is not enabled for ${this.v2} (not listed in its cgroup.controllers; enable it in the parent's cgroup.subtree_control)`
        : this.layout.mode === "hybrid"
          ? "it is neither mounted as a cgroup v1 hierarchy nor available in the cgroup2 hierarchy"
          : "it is not mounted as a cgroup v1 hierarchy";
    throw cgroupError(`cannot apply ${field}: the ${controller} cgroup controller is not available`, {
      field,
      hint: `${where}; check /proc/cgroups and /proc/self/mountinfo, or remove the setting`,
    });
  }

  exists(dir: string, file: string): boolean {
    return this.fs.exists(`${dir}/${file}`);
  }

  read(dir: string, file: string): string | undefined {
    try {
      return this.fs.read(`${dir}/${file}`).trim();
    } catch {
      return undefined;
    }
  }

  readNum(dir: string, file: string): number | undefined {
    const s = this.read(dir, file);
    if (s === undefined || s === "" || s === "max") return undefined;
    const n = Number(s.split(/\s+/)[0]);
    return Number.isFinite(n) ? n : undefined;
  }

  /** Write one value; on failure throw a BerthError naming file, errno, field and a likely cause. */
  write(dir: string, file: string, value: string | number, field: string, hints: Record<string, Hint> = {}): void {
    const path = `${dir}/${file}`;
    const v = String(value);
    this.opts.log?.push({ file: path, value: v, field });
    if (this.opts.dryRun) return;
    try {
      this.fs.write(path, v);
    } catch (e) {
      const errno = errnoOf(e) ?? "EIO";
      const h = hints[errno];
      const hint = (typeof h === "function" ? h() : h) ?? genericHint(file, errno);
      const shown = /[\s"]/.test(v) || v === "" ? JSON.stringify(v) : v;
      throw cgroupError(`write ${shown} to ${path}: ${errno}`, { field, errno, hint });
    }
  }

  /** Write and report whether it failed with `errno` (other failures throw). */
  tryWrite(dir: string, file: string, value: string | number, field: string, errno: string): boolean {
    try {
      this.write(dir, file, value, field);
      return true;
    } catch (e) {
      if ((e as { errno?: string }).errno === errno) return false;
      throw e;
    }
  }

  warn(msg: string): void {
    this.warnings.push(msg);
  }
}

function controllerOf(file: string): string {
  return file.split(".")[0] ?? file;
}

function genericHint(file: string, errno: string): string | undefined {
  switch (errno) {
    case "ENOENT":
      return `${file} does not exist in this cgroup: the ${controllerOf(file)} controller is not enabled here or this kernel lacks the feature`;
    case "EACCES":
    case "EPERM":
      return "permission denied: Berth must run as root on a writable cgroup filesystem (inside a user namespace the cgroup has to be delegated to it)";
    case "EROFS":
      return "the cgroup filesystem is mounted read-only";
    case "EINVAL":
      return "the kernel rejected the value as out of range or malformed for this file";
    case "ERANGE":
      return "the value is out of the range this file accepts";
    case "EBUSY":
      return "the kernel refused the change while the cgroup is in use";
    case "ENOSPC":
      return "the cgroup has no CPUs or memory nodes to run on";
    case "EOPNOTSUPP":
    case "ENOTSUP":
      return "this kernel does not support that setting";
    default:
      return undefined;
  }
}

const isSet = (v: number | undefined | null): v is number => v !== undefined && v !== null && v !== 0;

/**
 * Apply linux.resources to a container's cgroup. Used by createCgroup and, later, `berth update`.
 * Returns warnings (settings that were ignored or are not enforced on this host).
 */
export function applyResources(
  layout: CgroupLayout,
  cg: ContainerCgroup,
  resources: Resources | undefined,
  fieldPrefix = "linux.resources",
  opts: ApplyOptions = {},
): string[] {
  const ctx = new Ctx(layout, cg, layout.fs ?? realFs, fieldPrefix, opts);
  if (!resources) return ctx.warnings;
  if (resources.devices) applyDevices(ctx, resources);
  if (resources.memory) applyMemory(ctx, resources.memory);
  if (resources.cpu) applyCpu(ctx, resources.cpu);
  if (resources.pids) applyPids(ctx, resources.pids.limit);
  if (resources.blockIO) applyBlockIO(ctx, resources.blockIO);
  if (resources.hugepageLimits) applyHugepages(ctx, resources.hugepageLimits);
  if (resources.network) applyNetwork(ctx, resources.network);
  if (resources.rdma) applyRdma(ctx, resources.rdma);
  if (resources.unified) applyUnified(ctx, resources.unified);
  return ctx.warnings;
}

// ---------------------------------------------------------------- devices

function applyDevices(ctx: Ctx, r: Resources): void {
  const field = ctx.field("devices");
  const rules = normaliseDeviceRules(r.devices ?? [], field);
  const t = ctx.target("devices");
  if (!t) {
    if (ctx.layout.mode !== "v2")
      // Like runc: the devices cgroup is the container's device isolation, never optional on v1.
      throw cgroupError(`cannot apply ${field}: the devices cgroup controller is not mounted`, {
        field,
        hint: "mount the v1 devices controller (e.g. on /sys/fs/cgroup/devices); without it the container could open any device node",
      });
    // TODO(cgroup v2 devices): attach a BPF_CGROUP_DEVICE program built from the rules.
    ctx.warn(
      `${field}: device access rules are NOT enforced: on cgroup v2 they need an eBPF device program (BPF_CGROUP_DEVICE), which Berth does not load yet; the container can use any device node it can open`,
    );
    return;
  }
  const target = simulateDeviceRules([...rules, ...DEFAULT_ALLOWED_DEVICES]);
  const current = parseDevicesList(ctx.read(t.dir, "devices.list") ?? "a *:* rwm");
  for (const w of planDeviceWrites(current, target)) {
    ctx.write(t.dir, w.file, w.value, field, {
      EPERM: "the parent devices cgroup does not allow this device, so a child can't either",
      EINVAL: "the kernel rejected the rule (a default-behaviour change is refused while the cgroup has child cgroups)",
    });
  }
}

// ---------------------------------------------------------------- memory

function applyMemory(ctx: Ctx, m: Memory): void {
  const f = (k: string) => ctx.field(`memory.${k}`);
  if (isSet(m.kernel) || isSet(m.kernelTCP))
    ctx.warn(`${f(isSet(m.kernel) ? "kernel" : "kernelTCP")}: kernel memory limits are deprecated and ignored (runc 1.1 ignores them too)`);
  const hasSwappiness = m.swappiness !== undefined && m.swappiness !== null && m.swappiness >= 0;
  if (!isSet(m.limit) && !isSet(m.swap) && !isSet(m.reservation) && !hasSwappiness && !m.disableOOMKiller && m.useHierarchy !== false) return;
  const t = ctx.need("memory", ctx.field("memory"));
  if (m.swappiness !== undefined && m.swappiness !== null && m.swappiness > 100)
    throw cgroupError(`memory swappiness ${m.swappiness} is out of range`, { field: f("swappiness"), hint: "use a value from 0 to 100" });
  if (isSet(m.limit) && m.limit < -1) throw cgroupError(`memory limit ${m.limit} is negative`, { field: f("limit"), hint: "use a byte count, or -1 for unlimited" });
  if (isSet(m.swap) && m.swap < -1) throw cgroupError(`memory swap ${m.swap} is negative`, { field: f("swap"), hint: "use a byte count, or -1 for unlimited" });
  if (isSet(m.limit) && isSet(m.swap) && m.swap !== -1 && (m.limit === -1 || m.swap < m.limit))
    throw cgroupError(`memory swap ${m.swap} is less than the memory limit ${m.limit === -1 ? "(unlimited)" : m.limit}`, {
      field: f("swap"),
      hint: "in the OCI spec memory.swap is memory+swap, so it must be >= memory.limit (or -1 for unlimited swap)",
    });
  if (t.version === 1) memoryV1(ctx, t.dir, m, f);
  else memoryV2(ctx, t.dir, m, f);
}

function memoryV1(ctx: Ctx, dir: string, m: Memory, f: (k: string) => string): void {
  const MEMSW = "memory.memsw.limit_in_bytes";
  const limit = isSet(m.limit) ? m.limit : undefined;
  let swap = isSet(m.swap) ? m.swap : undefined;
  const hasMemsw = ctx.exists(dir, MEMSW);
  // An unlimited memory limit with no swap setting also lifts memory+swap (as runc does).
  if (limit === -1 && swap === undefined && hasMemsw) swap = -1;
  if (swap !== undefined && !hasMemsw) {
    if (swap === -1) swap = undefined; // unlimited swap with no swap accounting: nothing to do
    else
      throw cgroupError(`cannot limit swap: ${dir}/${MEMSW} does not exist`, {
        field: f("swap"),
        errno: "ENOENT",
        hint: "swap accounting is off in this kernel (boot with swapaccount=1), so memory+swap can't be limited; drop linux.resources.memory.swap",
      });
  }
  const usageHint = (value: number) => () => {
    const usage = ctx.readNum(dir, "memory.usage_in_bytes");
    const peak = ctx.readNum(dir, "memory.max_usage_in_bytes");
    return `the new limit ${value} is below the cgroup's current memory usage (${usage ?? "?"} bytes, peak ${peak ?? "?"}) and the kernel could not reclaim enough; use a higher limit`;
  };
  const writeLimit = () =>
    ctx.write(dir, "memory.limit_in_bytes", limit!, f("limit"), {
      EBUSY: usageHint(limit!),
      EINVAL: () =>
        `the memory limit can't be above the memory+swap limit (memory.memsw.limit_in_bytes is ${ctx.read(dir, MEMSW) ?? "?"}); raise ${f("swap")} too`,
    });
  const writeSwap = () =>
    ctx.write(dir, MEMSW, swap!, f("swap"), {
      EINVAL: () =>
        `memory+swap must be >= the memory limit (memory.limit_in_bytes is ${ctx.read(dir, "memory.limit_in_bytes") ?? "?"}); in the OCI spec memory.swap is memory+swap, not swap alone — set memory.limit as well`,
      EBUSY: usageHint(swap!),
    });
  if (limit !== undefined && swap !== undefined) {
    // memory <= memory+swap must hold after every single write: when the new limit goes above
    // the current memory+swap, raise memory+swap first; otherwise lower/set the limit first.
    const curSwap = ctx.readNum(dir, MEMSW) ?? Number.MAX_SAFE_INTEGER;
    if (swap === -1 || limit > curSwap) {
      writeSwap();
      writeLimit();
    } else {
      writeLimit();
      writeSwap();
    }
  } else if (limit !== undefined) writeLimit();
  else if (swap !== undefined) writeSwap();

  if (isSet(m.reservation)) ctx.write(dir, "memory.soft_limit_in_bytes", m.reservation, f("reservation"));
  if (m.swappiness !== undefined && m.swappiness !== null && m.swappiness >= 0)
    ctx.write(dir, "memory.swappiness", m.swappiness, f("swappiness"));
  if (m.disableOOMKiller) ctx.write(dir, "memory.oom_control", 1, f("disableOOMKiller"));
  if (m.useHierarchy === false) ctx.warn(`${f("useHierarchy")}: ignored; memory accounting is always hierarchical on current kernels`);
}

/** OCI swap (memory+swap) → cgroup v2 memory.swap.max (swap alone); undefined = don't write. */
export function swapToV2(limit: number | undefined, swap: number | undefined): number | "max" | undefined {
  if (swap === undefined) return limit === -1 ? "max" : undefined;
  if (swap === -1) return "max";
  if (limit === undefined || limit === -1) return undefined; // rejected before (needs a limit)
  return swap - limit;
}

function memoryV2(ctx: Ctx, dir: string, m: Memory, f: (k: string) => string): void {
  const limit = isSet(m.limit) ? m.limit : undefined;
  const swap = isSet(m.swap) ? m.swap : undefined;
  if (swap !== undefined && swap !== -1 && limit === undefined)
    throw cgroupError(`memory swap ${swap} is set without a memory limit`, {
      field: f("swap"),
      hint: "on cgroup v2 memory.swap.max = swap - limit, so linux.resources.memory.limit must be set too",
    });
  if (m.checkBeforeUpdate && limit !== undefined && limit > 0) {
    const cur = ctx.readNum(dir, "memory.current");
    if (cur !== undefined && cur > limit)
      throw cgroupError(`memory limit ${limit} is below the container's current memory usage ${cur}`, {
        field: f("limit"),
        hint: "checkBeforeUpdate is set, so the limit is not lowered below current usage; use a higher limit",
      });
  }
  if (limit !== undefined) ctx.write(dir, "memory.max", limit === -1 ? "max" : limit, f("limit"));
  const v2swap = swapToV2(limit, swap);
  if (v2swap !== undefined) {
    if (ctx.exists(dir, "memory.swap.max")) ctx.write(dir, "memory.swap.max", v2swap, f("swap"));
    else if (swap !== undefined && swap !== -1)
      throw cgroupError(`cannot limit swap: ${dir}/memory.swap.max does not exist`, {
        field: f("swap"),
        errno: "ENOENT",
        hint: "swap accounting is off in this kernel (CONFIG_MEMCG_SWAP or swapaccount=0); drop linux.resources.memory.swap",
      });
  }
  if (isSet(m.reservation)) ctx.write(dir, "memory.low", m.reservation === -1 ? "max" : m.reservation, f("reservation"));
  if (m.swappiness !== undefined && m.swappiness !== null && m.swappiness >= 0)
    ctx.warn(`${f("swappiness")}: ignored; cgroup v2 has no per-cgroup swappiness`);
  if (m.disableOOMKiller) ctx.warn(`${f("disableOOMKiller")}: ignored; cgroup v2 cannot disable the OOM killer`);
}

// ---------------------------------------------------------------- cpu & cpuset

/** runc's conversion of cgroup v1 cpu.shares [2..262144] to cgroup v2 cpu.weight [1..10000]. */
export function sharesToWeight(shares: number): number {
  const s = Math.min(Math.max(shares, 2), 262144);
  return 1 + Math.floor(((s - 2) * 9999) / 262142);
}

function applyCpu(ctx: Ctx, c: CPU): void {
  const f = (k: string) => ctx.field(`cpu.${k}`);
  const wantsCpu = isSet(c.shares) || isSet(c.quota) || isSet(c.period) || isSet(c.burst) || c.idle !== undefined;
  const wantsRt = isSet(c.realtimeRuntime) || isSet(c.realtimePeriod);
  if (wantsCpu || wantsRt) {
    const t = ctx.need("cpu", ctx.field("cpu"));
    if (t.version === 1) cpuV1(ctx, t.dir, c, f);
    else cpuV2(ctx, t.dir, c, f);
  }
  if (c.cpus || c.mems) {
    const t = ctx.need("cpuset", f(c.cpus ? "cpus" : "mems"));
    const parent = t.dir.slice(0, t.dir.lastIndexOf("/"));
    const hint = (file: string) => () => {
      const parentFile = t.version === 1 ? file : `${file}.effective`;
      return `it must be a subset of the parent cgroup's ${parentFile} (${ctx.read(parent, parentFile) ?? "?"}) and name online ${file === "cpuset.cpus" ? "CPUs" : "memory nodes"}`;
    };
    if (c.cpus) ctx.write(t.dir, "cpuset.cpus", c.cpus, f("cpus"), { EINVAL: hint("cpuset.cpus"), ERANGE: hint("cpuset.cpus") });
    if (c.mems) ctx.write(t.dir, "cpuset.mems", c.mems, f("mems"), { EINVAL: hint("cpuset.mems"), ERANGE: hint("cpuset.mems") });
  }
}

function cpuV1(ctx: Ctx, dir: string, c: CPU, f: (k: string) => string): void {
  if (isSet(c.shares)) ctx.write(dir, "cpu.shares", c.shares, f("shares"));
  const quotaHint = "the quota must be -1 or at least 1000 (µs), and the period 1000..1000000; a child's quota can't exceed its parent's";
  let periodPending = false;
  if (isSet(c.period)) {
    // Lowering the period can be refused (EINVAL) while the old quota/new period ratio exceeds a
    // parent limit; if a quota comes with it, retry the period after writing the quota.
    if (!ctx.tryWrite(dir, "cpu.cfs_period_us", c.period, f("period"), "EINVAL")) {
      if (!isSet(c.quota)) ctx.write(dir, "cpu.cfs_period_us", c.period, f("period"), { EINVAL: quotaHint });
      periodPending = true;
    }
  }
  if (isSet(c.quota)) {
    ctx.write(dir, "cpu.cfs_quota_us", c.quota, f("quota"), { EINVAL: quotaHint });
    if (periodPending) ctx.write(dir, "cpu.cfs_period_us", c.period!, f("period"), { EINVAL: quotaHint });
  }
  if (isSet(c.burst)) ctx.write(dir, "cpu.cfs_burst_us", c.burst, f("burst"), { EINVAL: "the burst can't exceed the quota" });
  if (isSet(c.realtimeRuntime) || isSet(c.realtimePeriod)) {
    const rtHint = {
      ENOENT: "this kernel has no real-time group scheduling (CONFIG_RT_GROUP_SCHED); drop the realtime settings",
      EINVAL: "the real-time runtime must fit in the period and in what the parent cgroup has left (cpu.rt_runtime_us of the parent)",
      EBUSY: "the real-time runtime exceeds what the parent cgroup has left (cpu.rt_runtime_us of the parent)",
    };
    // The runtime must fit in the period at every step: when the new period is shorter than the
    // current runtime, lower the runtime first.
    const curRuntime = ctx.readNum(dir, "cpu.rt_runtime_us") ?? 0;
    const runtimeFirst = isSet(c.realtimePeriod) && c.realtimePeriod < curRuntime;
    const wr = () => isSet(c.realtimeRuntime) && ctx.write(dir, "cpu.rt_runtime_us", c.realtimeRuntime, f("realtimeRuntime"), rtHint);
    const wp = () => isSet(c.realtimePeriod) && ctx.write(dir, "cpu.rt_period_us", c.realtimePeriod, f("realtimePeriod"), rtHint);
    if (runtimeFirst) (wr(), wp());
    else (wp(), wr());
  }
  // idle 0 is the default: nothing to do on a kernel without cpu.idle.
  if (c.idle !== undefined && c.idle !== null && (c.idle !== 0 || ctx.exists(dir, "cpu.idle")))
    ctx.write(dir, "cpu.idle", c.idle, f("idle"), { ENOENT: "this kernel has no cpu.idle (needs Linux 5.15 or later)" });
}

function cpuV2(ctx: Ctx, dir: string, c: CPU, f: (k: string) => string): void {
  if (isSet(c.realtimeRuntime) || isSet(c.realtimePeriod))
    throw cgroupError("real-time CPU limits are not supported on cgroup v2", {
      field: f(isSet(c.realtimeRuntime) ? "realtimeRuntime" : "realtimePeriod"),
      hint: "cgroup v2 has no cpu.rt_* files; remove the realtime settings",
    });
  if (isSet(c.shares)) ctx.write(dir, "cpu.weight", sharesToWeight(c.shares), f("shares"));
  if (isSet(c.quota) || isSet(c.period)) {
    // cpu.max is "$QUOTA $PERIOD"; the period may be omitted (the kernel keeps the current one).
    let quota: string;
    if (isSet(c.quota)) quota = c.quota > 0 ? String(c.quota) : "max";
    else quota = (ctx.read(dir, "cpu.max") ?? "max").split(/\s+/)[0] || "max";
    const value = isSet(c.period) ? `${quota} ${c.period}` : quota;
    ctx.write(dir, "cpu.max", value, f(isSet(c.quota) ? "quota" : "period"), {
      EINVAL: "the quota must be at least 1000 (µs) and the period 1000..1000000",
    });
  }
  if (isSet(c.burst)) ctx.write(dir, "cpu.max.burst", c.burst, f("burst"), { EINVAL: "the burst can't exceed the quota" });
  if (c.idle !== undefined && c.idle !== null && (c.idle !== 0 || ctx.exists(dir, "cpu.idle")))
    ctx.write(dir, "cpu.idle", c.idle, f("idle"), { ENOENT: "this kernel has no cpu.idle (needs Linux 5.15 or later)" });
}

// ---------------------------------------------------------------- pids

function applyPids(ctx: Ctx, limit: number): void {
  const field = ctx.field("pids.limit");
  const t = ctx.need("pids", field);
  ctx.write(t.dir, "pids.max", limit > 0 ? limit : "max", field);
}

// ---------------------------------------------------------------- block IO

/** runc's conversion of blkio weight [10..1000] to cgroup v2 io.weight [1..10000]. */
export function blkioWeightToIoWeight(w: number): number {
  return 1 + Math.floor(((w - 10) * 9999) / 990);
}

function applyBlockIO(ctx: Ctx, b: BlockIO): void {
  const f = (k: string) => ctx.field(`blockIO.${k}`);
  const anySet =
    isSet(b.weight) ||
    isSet(b.leafWeight) ||
    (b.weightDevice?.length ?? 0) > 0 ||
    (b.throttleReadBpsDevice?.length ?? 0) > 0 ||
    (b.throttleWriteBpsDevice?.length ?? 0) > 0 ||
    (b.throttleReadIOPSDevice?.length ?? 0) > 0 ||
    (b.throttleWriteIOPSDevice?.length ?? 0) > 0;
  if (!anySet) return;
  const t = ctx.target("blkio") ?? ctx.target("io") ?? ctx.need(ctx.layout.mode === "v1" ? "blkio" : "io", ctx.field("blockIO"));
  const noWeight = "no weight interface: the CFQ scheduler is gone from this kernel and BFQ is not in use (weights need the bfq I/O scheduler)";

  if (isSet(b.leafWeight) || b.weightDevice?.some((d) => isSet(d.leafWeight))) {
    if (t.version === 2 || !ctx.exists(t.dir, "blkio.leaf_weight"))
      ctx.warn(`${f("leafWeight")}: ignored; leaf weights only existed with the CFQ scheduler, which this kernel doesn't have`);
    else if (isSet(b.leafWeight)) ctx.write(t.dir, "blkio.leaf_weight", b.leafWeight, f("leafWeight"));
  }

  if (t.version === 1) {
    // CFQ's blkio.weight is gone from current kernels; BFQ exposes blkio.bfq.weight (runc does the same fallback).
    const wfile = ctx.exists(t.dir, "blkio.weight") ? "blkio.weight" : "blkio.bfq.weight";
    const wdfile = ctx.exists(t.dir, "blkio.weight_device") ? "blkio.weight_device" : "blkio.bfq.weight_device";
    if (isSet(b.weight)) ctx.write(t.dir, wfile, b.weight, f("weight"), { ENOENT: noWeight, ERANGE: "the weight must be 10..1000 (1..1000 with BFQ)" });
    b.weightDevice?.forEach((d, i) => {
      if (isSet(d.weight)) ctx.write(t.dir, wdfile, `${d.major}:${d.minor} ${d.weight}`, f(`weightDevice[${i}]`), { ENOENT: noWeight });
      if (isSet(d.leafWeight) && ctx.exists(t.dir, "blkio.leaf_weight_device"))
        ctx.write(t.dir, "blkio.leaf_weight_device", `${d.major}:${d.minor} ${d.leafWeight}`, f(`weightDevice[${i}].leafWeight`));
    });
    const thr: [keyof BlockIO, string][] = [
      ["throttleReadBpsDevice", "blkio.throttle.read_bps_device"],
      ["throttleWriteBpsDevice", "blkio.throttle.write_bps_device"],
      ["throttleReadIOPSDevice", "blkio.throttle.read_iops_device"],
      ["throttleWriteIOPSDevice", "blkio.throttle.write_iops_device"],
    ];
    for (const [k, file] of thr)
      (b[k] as { major: number; minor: number; rate: number }[] | undefined)?.forEach((d, i) =>
        ctx.write(t.dir, file, `${d.major}:${d.minor} ${d.rate}`, f(`${k}[${i}]`), {
          ENODEV: `there is no block device ${d.major}:${d.minor} (throttling needs a whole disk, not a partition)`,
        }),
      );
    return;
  }

  // cgroup v2 io controller
  const bfq = ctx.exists(t.dir, "io.bfq.weight");
  if (isSet(b.weight)) {
    if (bfq) ctx.write(t.dir, "io.bfq.weight", b.weight, f("weight"));
    else ctx.write(t.dir, "io.weight", `default ${blkioWeightToIoWeight(b.weight)}`, f("weight"), { ENOENT: noWeight });
  }
  b.weightDevice?.forEach((d, i) => {
    if (!isSet(d.weight)) return;
    if (bfq) ctx.write(t.dir, "io.bfq.weight", `${d.major}:${d.minor} ${d.weight}`, f(`weightDevice[${i}]`));
    else ctx.write(t.dir, "io.weight", `${d.major}:${d.minor} ${blkioWeightToIoWeight(d.weight)}`, f(`weightDevice[${i}]`), { ENOENT: noWeight });
  });
  const thr: [keyof BlockIO, string][] = [
    ["throttleReadBpsDevice", "rbps"],
    ["throttleWriteBpsDevice", "wbps"],
    ["throttleReadIOPSDevice", "riops"],
    ["throttleWriteIOPSDevice", "wiops"],
  ];
  for (const [k, key] of thr)
    (b[k] as { major: number; minor: number; rate: number }[] | undefined)?.forEach((d, i) =>
      ctx.write(t.dir, "io.max", `${d.major}:${d.minor} ${key}=${d.rate > 0 ? d.rate : "max"}`, f(`${k}[${i}]`), {
        ENODEV: `there is no block device ${d.major}:${d.minor} (throttling needs a whole disk, not a partition)`,
      }),
    );
}

// ---------------------------------------------------------------- hugetlb

function applyHugepages(ctx: Ctx, limits: HugepageLimit[]): void {
  if (limits.length === 0) return;
  const t = ctx.need("hugetlb", ctx.field("hugepageLimits"));
  limits.forEach((l, i) => {
    const field = ctx.field(`hugepageLimits[${i}]`);
    if (!/^\d+[KMG]B$/.test(l.pageSize))
      throw cgroupError(`hugepage size ${JSON.stringify(l.pageSize)} is not of the form "2MB", "1GB", "64KB"`, { field: `${field}.pageSize` });
    const file = t.version === 1 ? `hugetlb.${l.pageSize}.limit_in_bytes` : `hugetlb.${l.pageSize}.max`;
    ctx.write(t.dir, file, l.limit, `${field}.limit`, {
      ENOENT: `this kernel has no ${l.pageSize} huge pages (the sizes it supports are listed in /sys/kernel/mm/hugepages)`,
    });
  });
}

// ---------------------------------------------------------------- net_cls / net_prio / rdma

function applyNetwork(ctx: Ctx, n: NonNullable<Resources["network"]>): void {
  // Refused, as runc does, when the controller is missing: a class id or priority the user
  // asked for and silently did not get would surface later as traffic that is not shaped.
  const missing = (controller: string, field: string) =>
    cgroupError(`cannot apply ${field}: the ${controller} cgroup controller is not mounted on this host`, {
      field,
      hint: `cgroup v2 has no ${controller} (match the container's cgroup with eBPF or nftables instead); remove the setting or mount the v1 ${controller} hierarchy`,
    });
  if (n.classID !== undefined && n.classID !== null) {
    const field = ctx.field("network.classID");
    const t = ctx.target("net_cls");
    if (t?.version !== 1) throw missing("net_cls", field);
    ctx.write(t.dir, "net_cls.classid", n.classID, field);
  }
  if (n.priorities?.length) {
    const field = ctx.field("network.priorities");
    const t = ctx.target("net_prio");
    if (t?.version !== 1) throw missing("net_prio", field);
    n.priorities.forEach((p, i) => ctx.write(t.dir, "net_prio.ifpriomap", `${p.name} ${p.priority}`, `${field}[${i}]`));
  }
}

function applyRdma(ctx: Ctx, rdma: NonNullable<Resources["rdma"]>): void {
  const entries = Object.entries(rdma);
  if (entries.length === 0) return;
  const t = ctx.need("rdma", ctx.field("rdma"));
  for (const [dev, lim] of entries) {
    const parts = [dev];
    if (lim.hcaHandles !== undefined && lim.hcaHandles !== null) parts.push(`hca_handle=${lim.hcaHandles}`);
    if (lim.hcaObjects !== undefined && lim.hcaObjects !== null) parts.push(`hca_object=${lim.hcaObjects}`);
    if (parts.length > 1) ctx.write(t.dir, "rdma.max", parts.join(" "), ctx.field(`rdma[${JSON.stringify(dev)}]`));
  }
}

// ---------------------------------------------------------------- unified

function applyUnified(ctx: Ctx, u: Record<string, string>): void {
  for (const [k, v] of Object.entries(u)) {
    const field = ctx.field(`unified[${JSON.stringify(k)}]`);
    if (!/^[a-z_][a-z0-9_]*\.[A-Za-z0-9_.]+$/.test(k) || k.includes(".."))
      throw cgroupError(`unified key ${JSON.stringify(k)} is not a cgroup v2 interface file name`, {
        field,
        hint: 'keys are file names like "memory.high" or "pids.max", without "/"',
      });
    const dir = ctx.v2;
    // A hybrid host's cgroup2 mount holds few or no controllers and is not where limits live:
    // runc refuses unified there as on plain v1, and so does berth (before anything is made).
    if (!dir || ctx.layout.mode !== "v2")
      throw cgroupError(`invalid configuration: unified resources need a cgroup v2 host, and this host's cgroups are ${ctx.layout.mode === "hybrid" ? "hybrid (v1 controllers plus an almost empty cgroup2)" : "cgroup v1"}`, {
        field,
        hint: "express the setting through the other linux.resources fields, or run on a cgroup v2 host",
      });
    const ctrl = k.slice(0, k.indexOf("."));
    if (ctrl !== "cgroup" && !ctx.v2Controllers().has(ctrl)) {
      const avail = [...ctx.v2Controllers()].join(", ") || "none";
      const hint =
        ctx.layout.mode === "hybrid"
          ? `this host has a hybrid cgroup layout: the ${ctrl} controller ${ctx.layout.v1[ctrl] ? `is bound to the v1 hierarchy at ${ctx.layout.v1[ctrl]}` : "is not available"} and can't be used through cgroup v2 (controllers on cgroup2 here: ${avail}); use the regular linux.resources fields instead`
          : `the ${ctrl} controller is not enabled for this cgroup (available: ${avail})`;
      throw cgroupError(`cannot write unified key ${k}: the ${ctrl} controller is not available in the cgroup v2 hierarchy`, { field, hint });
    }
    ctx.write(dir, k, v, field, { ENOENT: `${k} is not an interface file of the ${ctrl} controller on this kernel` });
  }
}
