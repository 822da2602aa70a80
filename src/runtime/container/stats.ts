// A container's cgroup counters in the exact shape `runc events` prints (runc 1.1.5's
// types.Stats, converted from libcontainer's cgroup stats), for `berth events`.
//
// Counters are u64 in the kernel and in runc's JSON (an unlimited v1 memory limit is
// 9223372036854771712, an unlimited v2 one 18446744073709551615), so they are kept as bigint and
// written by goJson(), which prints bigints as plain JSON numbers — JSON.stringify would round them.
//
// Field presence follows Go's encoding/json: `omitempty` drops zero numbers, empty slices and
// empty maps, never structs (so "throttling":{} and "kernelTCP":{"limit":0,"failcnt":0} appear).
// Every controller is read where the host has it: its v1 hierarchy, else the container's cgroup2
// directory when the controller is enabled there (cgroup.controllers) — on a hybrid host that is
// v1 for everything but possibly hugetlb. Missing files read as zero: a kernel without swap or
// kmem accounting still gets a complete document.
import type { CgroupLayout } from "../cgroups/layout.ts";
import type { ContainerCgroup } from "../cgroups/types.ts";
import { realFs, type CgroupFs } from "../cgroups/fsops.ts";

export type GoValue = bigint | number | string | boolean | null | GoValue[] | { [k: string]: GoValue };

const MAX_U64 = (1n << 64n) - 1n;
/** USER_HZ: cpuacct.stat counts in these ticks (runc uses system.GetClockTicks(), 100 on Linux). */
const CLOCK_TICKS = 100n;

/** A string as Go's encoding/json writes it (HTML-safe: <, >, & escaped; \b \f as \u00XX, as Go 1.19). */
export function goString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029\b\f]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

/** JSON like Go's json.Encoder: no spaces, bigints as exact numbers, keys in insertion order. */
export function goJson(v: GoValue): string {
  if (v === null) return "null";
  switch (typeof v) {
    case "bigint":
      return v.toString();
    case "number":
      return Number.isFinite(v) ? String(v) : "null";
    case "boolean":
      return v ? "true" : "false";
    case "string":
      return goString(v);
  }
  if (Array.isArray(v)) return "[" + v.map(goJson).join(",") + "]";
  return "{" + Object.entries(v).map(([k, x]) => goString(k) + ":" + goJson(x)).join(",") + "}";
}

/** Go's map encoding sorts the keys. */
function sortedMap<T extends GoValue>(m: Map<string, T>): { [k: string]: T } {
  const out: { [k: string]: T } = {};
  for (const k of [...m.keys()].sort()) out[k] = m.get(k)!;
  return out;
}

/** The value of a cgroup file as fscommon.GetCgroupParamUint reads it: "max" is MaxUint64,
 *  a negative number 0 (v1 reports -1 for "no limit" in a few files). */
export function parseU64(text: string | undefined): bigint | undefined {
  if (text === undefined) return undefined;
  const s = text.trim();
  if (s === "max") return MAX_U64;
  if (/^\d+$/.test(s)) return BigInt(s) > MAX_U64 ? MAX_U64 : BigInt(s);
  if (/^-\d+$/.test(s)) return 0n;
  return undefined;
}

/** "key value" lines (memory.stat, cpu.stat, ...) → key → u64, in file order. */
export function parseKeyValues(text: string | undefined): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of (text ?? "").split("\n")) {
    const [k, v, extra] = line.trim().split(/\s+/);
    if (!k || v === undefined || extra !== undefined) continue;
    const n = parseU64(v);
    if (n !== undefined) out.set(k, n);
  }
  return out;
}

/** A cpuset list ("0-3,7") → [0,1,2,3,7]. */
export function parseCpuList(text: string | undefined): number[] {
  const out: number[] = [];
  for (const part of (text ?? "").trim().split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const lo = Number(m[1]), hi = m[2] === undefined ? lo : Number(m[2]);
    for (let i = lo; i <= hi && out.length < 65536; i++) out.push(i);
  }
  return out;
}

interface BlkioEntry {
  major: bigint;
  minor: bigint;
  op: string;
  value: bigint;
}

/** One blkio stat file ("8:0 Read 4096" per line, "Total N" skipped), as runc's getBlkioStat. */
export function parseBlkioStat(text: string): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(/[ :]/).filter(Boolean);
    if (f.length < 3) continue; // "Total N", blank
    const op = f.length === 4 ? f[2]! : "";
    const value = parseU64(f[f.length === 4 ? 3 : 2]);
    const major = parseU64(f[0]), minor = parseU64(f[1]);
    if (major === undefined || minor === undefined || value === undefined) continue;
    out.push({ major, minor, op, value });
  }
  return out;
}

/** Go's omitempty for a BlkioEntry: every field is omitempty. */
function blkioJson(e: BlkioEntry): GoValue {
  const o: { [k: string]: GoValue } = {};
  if (e.major) o.major = e.major;
  if (e.minor) o.minor = e.minor;
  if (e.op) o.op = e.op;
  if (e.value) o.value = e.value;
  return o;
}

// runc's BlkioStats fields with their JSON names, in struct order.
const BLKIO_KEYS = [
  ["IoServiceBytesRecursive", "ioServiceBytesRecursive"],
  ["IoServicedRecursive", "ioServicedRecursive"],
  ["IoQueuedRecursive", "ioQueueRecursive"],
  ["IoServiceTimeRecursive", "ioServiceTimeRecursive"],
  ["IoWaitTimeRecursive", "ioWaitTimeRecursive"],
  ["IoMergedRecursive", "ioMergedRecursive"],
  ["IoTimeRecursive", "ioTimeRecursive"],
  ["SectorsRecursive", "sectorsRecursive"],
] as const;
type BlkioKey = (typeof BLKIO_KEYS)[number][0];

// runc's v1 blkio file groups, tried in order: the first group whose first file has entries wins.
const BLKIO_V1_GROUPS: [string, BlkioKey][][] = [
  [ // BFQ with CONFIG_BFQ_CGROUP_DEBUG
    ["blkio.bfq.sectors_recursive", "SectorsRecursive"],
    ["blkio.bfq.io_service_time_recursive", "IoServiceTimeRecursive"],
    ["blkio.bfq.io_wait_time_recursive", "IoWaitTimeRecursive"],
    ["blkio.bfq.io_merged_recursive", "IoMergedRecursive"],
    ["blkio.bfq.io_queued_recursive", "IoQueuedRecursive"],
    ["blkio.bfq.time_recursive", "IoTimeRecursive"],
    ["blkio.bfq.io_serviced_recursive", "IoServicedRecursive"],
    ["blkio.bfq.io_service_bytes_recursive", "IoServiceBytesRecursive"],
  ],
  [ // BFQ
    ["blkio.bfq.io_serviced_recursive", "IoServicedRecursive"],
    ["blkio.bfq.io_service_bytes_recursive", "IoServiceBytesRecursive"],
  ],
  [ // CFQ (gone from current kernels)
    ["blkio.sectors_recursive", "SectorsRecursive"],
    ["blkio.io_service_time_recursive", "IoServiceTimeRecursive"],
    ["blkio.io_wait_time_recursive", "IoWaitTimeRecursive"],
    ["blkio.io_merged_recursive", "IoMergedRecursive"],
    ["blkio.io_queued_recursive", "IoQueuedRecursive"],
    ["blkio.time_recursive", "IoTimeRecursive"],
    ["blkio.io_serviced_recursive", "IoServicedRecursive"],
    ["blkio.io_service_bytes_recursive", "IoServiceBytesRecursive"],
  ],
  [
    ["blkio.throttle.io_serviced_recursive", "IoServicedRecursive"],
    ["blkio.throttle.io_service_bytes_recursive", "IoServiceBytesRecursive"],
  ],
  [
    ["blkio.throttle.io_serviced", "IoServicedRecursive"],
    ["blkio.throttle.io_service_bytes", "IoServiceBytesRecursive"],
  ],
];

/** Huge page sizes as runc names them ("2MB", "1GB"), from /sys/kernel/mm/hugepages. */
export function hugePageSizes(fs: CgroupFs = realFs, dir = "/sys/kernel/mm/hugepages"): string[] {
  let names: string[];
  try {
    names = fs.subdirs(dir);
  } catch {
    return [];
  }
  const units = ["KB", "MB", "GB", "TB", "PB"];
  const out: string[] = [];
  for (const n of names) {
    const m = /^hugepages-(\d+)kB$/.exec(n);
    if (!m) continue;
    let size = Number(m[1]), u = 0;
    while (size >= 1024 && u < units.length - 1) {
      size /= 1024;
      u++;
    }
    out.push(`${size}${units[u]}`);
  }
  return out;
}

interface Dirs {
  v1: (ctrl: string) => string | undefined;
  v2?: string;
  v2has: (ctrl: string) => boolean;
}

class Reader {
  constructor(private fs: CgroupFs) {}
  text(dir: string | undefined, file: string): string | undefined {
    if (!dir) return undefined;
    try {
      return this.fs.read(`${dir}/${file}`);
    } catch {
      return undefined;
    }
  }
  u64(dir: string | undefined, file: string): bigint {
    return parseU64(this.text(dir, file)) ?? 0n;
  }
  i64(dir: string | undefined, file: string): bigint {
    const s = this.text(dir, file)?.trim();
    return s !== undefined && /^-?\d+$/.test(s) ? BigInt(s) : 0n;
  }
}

function dirsOf(cg: ContainerCgroup, fs: CgroupFs): Dirs {
  const v2 = cg.hierarchies.find((h) => h.version === 2)?.dir;
  let v2ctrls: Set<string> | undefined;
  return {
    v1: (ctrl) => cg.hierarchies.find((h) => h.version === 1 && h.controllers.includes(ctrl))?.dir,
    v2,
    v2has: (ctrl) => {
      if (!v2) return false;
      if (!v2ctrls) {
        let t = "";
        try {
          t = fs.read(`${v2}/cgroup.controllers`);
        } catch { /* gone */ }
        v2ctrls = new Set(t.split(/\s+/).filter(Boolean));
      }
      return v2ctrls.has(ctrl);
    },
  };
}

/** Where a controller's files are for this container: v1 first, else cgroup2 if enabled there. */
function where(d: Dirs, ctrl: string): { version: 1 | 2; dir: string } | undefined {
  const v1 = d.v1(ctrl);
  if (v1) return { version: 1, dir: v1 };
  if (d.v2 && d.v2has(ctrl)) return { version: 2, dir: d.v2 };
  return undefined;
}

function cpuStats(r: Reader, d: Dirs): GoValue {
  let total = 0n, kernel = 0n, user = 0n;
  let percpu: bigint[] = [], percpuKernel: bigint[] = [], percpuUser: bigint[] = [];
  let periods = 0n, throttledPeriods = 0n, throttledTime = 0n;
  const acct = d.v1("cpuacct");
  const cpuV1 = d.v1("cpu");
  if (acct || cpuV1) {
    if (acct) {
      total = r.u64(acct, "cpuacct.usage");
      percpu = (r.text(acct, "cpuacct.usage_percpu") ?? "").trim().split(/\s+/).filter(Boolean).map((x) => parseU64(x) ?? 0n);
      const all = (r.text(acct, "cpuacct.usage_all") ?? "").split("\n").slice(1);
      for (const line of all) {
        const f = line.trim().split(/\s+/);
        if (f.length !== 3) continue;
        percpuUser.push(parseU64(f[1]) ?? 0n);
        percpuKernel.push(parseU64(f[2]) ?? 0n);
      }
      const st = parseKeyValues(r.text(acct, "cpuacct.stat"));
      user = ((st.get("user") ?? 0n) * 1_000_000_000n) / CLOCK_TICKS;
      kernel = ((st.get("system") ?? 0n) * 1_000_000_000n) / CLOCK_TICKS;
    }
    const cs = parseKeyValues(r.text(cpuV1, "cpu.stat"));
    periods = cs.get("nr_periods") ?? 0n;
    throttledPeriods = cs.get("nr_throttled") ?? 0n;
    throttledTime = cs.get("throttled_time") ?? 0n;
  } else if (d.v2) {
    // cpu.stat is a core cgroup2 file: usage is there even without the cpu controller.
    const cs = parseKeyValues(r.text(d.v2, "cpu.stat"));
    total = (cs.get("usage_usec") ?? 0n) * 1000n;
    user = (cs.get("user_usec") ?? 0n) * 1000n;
    kernel = (cs.get("system_usec") ?? 0n) * 1000n;
    periods = cs.get("nr_periods") ?? 0n;
    throttledPeriods = cs.get("nr_throttled") ?? 0n;
    throttledTime = (cs.get("throttled_usec") ?? 0n) * 1000n;
  }
  const usage: { [k: string]: GoValue } = {};
  if (total) usage.total = total;
  if (percpu.length) usage.percpu = percpu;
  if (percpuKernel.length) usage.percpu_kernel = percpuKernel;
  if (percpuUser.length) usage.percpu_user = percpuUser;
  usage.kernel = kernel;
  usage.user = user;
  const throttling: { [k: string]: GoValue } = {};
  if (periods) throttling.periods = periods;
  if (throttledPeriods) throttling.throttledPeriods = throttledPeriods;
  if (throttledTime) throttling.throttledTime = throttledTime;
  return { usage, throttling };
}

function cpusetStats(r: Reader, d: Dirs): GoValue {
  const dir = d.v1("cpuset"); // runc 1.1 reads cpuset stats from cgroup v1 only
  const o: { [k: string]: GoValue } = {};
  const cpus = parseCpuList(r.text(dir, "cpuset.cpus"));
  if (cpus.length) o.cpus = cpus;
  o.cpu_exclusive = r.u64(dir, "cpuset.cpu_exclusive");
  const mems = parseCpuList(r.text(dir, "cpuset.mems"));
  if (mems.length) o.mems = mems;
  o.mem_hardwall = r.u64(dir, "cpuset.mem_hardwall");
  o.mem_exclusive = r.u64(dir, "cpuset.mem_exclusive");
  o.memory_migrate = r.u64(dir, "cpuset.memory_migrate");
  o.memory_spread_page = r.u64(dir, "cpuset.memory_spread_page");
  o.memory_spread_slab = r.u64(dir, "cpuset.memory_spread_slab");
  o.memory_pressure = r.u64(dir, "cpuset.memory_pressure");
  o.sched_load_balance = r.u64(dir, "cpuset.sched_load_balance");
  o.sched_relax_domain_level = r.i64(dir, "cpuset.sched_relax_domain_level");
  return o;
}

interface MemEntry {
  limit: bigint;
  usage: bigint;
  max: bigint;
  failcnt: bigint;
}

function memEntryJson(e: MemEntry): GoValue {
  const o: { [k: string]: GoValue } = { limit: e.limit };
  if (e.usage) o.usage = e.usage;
  if (e.max) o.max = e.max;
  o.failcnt = e.failcnt;
  return o;
}

const ZERO_ENTRY: MemEntry = { limit: 0n, usage: 0n, max: 0n, failcnt: 0n };

function memoryStats(r: Reader, d: Dirs): GoValue {
  const t = where(d, "memory");
  let cache = 0n;
  let raw = new Map<string, bigint>();
  let usage = ZERO_ENTRY, swap = ZERO_ENTRY, kernel = ZERO_ENTRY, kernelTCP = ZERO_ENTRY;
  if (t?.version === 1) {
    raw = parseKeyValues(r.text(t.dir, "memory.stat"));
    cache = raw.get("cache") ?? 0n;
    const entry = (prefix: string): MemEntry => {
      if (prefix !== "memory" && r.text(t.dir, `${prefix}.usage_in_bytes`) === undefined) return ZERO_ENTRY; // no swap/kmem accounting
      return {
        limit: r.u64(t.dir, `${prefix}.limit_in_bytes`),
        usage: r.u64(t.dir, `${prefix}.usage_in_bytes`),
        max: r.u64(t.dir, `${prefix}.max_usage_in_bytes`),
        failcnt: r.u64(t.dir, `${prefix}.failcnt`),
      };
    };
    usage = entry("memory");
    swap = entry("memory.memsw");
    kernel = entry("memory.kmem");
    kernelTCP = entry("memory.kmem.tcp");
  } else if (t?.version === 2) {
    raw = parseKeyValues(r.text(t.dir, "memory.stat"));
    cache = raw.get("file") ?? 0n;
    usage = { limit: r.u64(t.dir, "memory.max"), usage: r.u64(t.dir, "memory.current"), max: 0n, failcnt: 0n };
    // v1 reports memory+swap; runc reports v2 the same way for compatibility.
    const hasSwap = r.text(t.dir, "memory.swap.current") !== undefined;
    const swapUsage = hasSwap ? r.u64(t.dir, "memory.swap.current") : 0n;
    let swapLimit = hasSwap ? r.u64(t.dir, "memory.swap.max") : 0n;
    if (swapLimit !== MAX_U64) swapLimit = BigInt.asUintN(64, swapLimit + usage.limit);
    swap = { limit: swapLimit, usage: BigInt.asUintN(64, swapUsage + usage.usage), max: 0n, failcnt: 0n };
  }
  const o: { [k: string]: GoValue } = {};
  if (cache) o.cache = cache;
  o.usage = memEntryJson(usage);
  o.swap = memEntryJson(swap);
  o.kernel = memEntryJson(kernel);
  o.kernelTCP = memEntryJson(kernelTCP);
  if (raw.size) o.raw = sortedMap(raw);
  return o;
}

function pidsStats(r: Reader, d: Dirs): GoValue {
  const t = where(d, "pids");
  const o: { [k: string]: GoValue } = {};
  if (!t) return o;
  const current = r.u64(t.dir, "pids.current");
  let limit = r.u64(t.dir, "pids.max");
  if (limit === MAX_U64) limit = 0n; // runc: "no limit" is 0
  if (current) o.current = current;
  if (limit) o.limit = limit;
  return o;
}

function blkioStats(r: Reader, d: Dirs): GoValue {
  const got = new Map<BlkioKey, BlkioEntry[]>();
  const v1 = d.v1("blkio");
  if (v1) {
    for (const group of BLKIO_V1_GROUPS) {
      const first = r.text(v1, group[0]![0]);
      const firstEntries = first === undefined ? [] : parseBlkioStat(first);
      if (firstEntries.length === 0) continue;
      for (const [file, key] of group) got.set(key, parseBlkioStat(r.text(v1, file) ?? ""));
      break;
    }
  } else if (d.v2 && d.v2has("io")) {
    const bytes: BlkioEntry[] = [], ios: BlkioEntry[] = [];
    for (const line of (r.text(d.v2, "io.stat") ?? "").split("\n")) {
      const f = line.trim().split(/\s+/);
      const dev = /^(\d+):(\d+)$/.exec(f[0] ?? "");
      if (!dev) continue;
      const major = BigInt(dev[1]!), minor = BigInt(dev[2]!);
      for (const kv of f.slice(1)) {
        const [k, v] = kv.split("=");
        const value = parseU64(v) ?? 0n;
        if (k === "rbytes") bytes.push({ major, minor, op: "Read", value });
        else if (k === "wbytes") bytes.push({ major, minor, op: "Write", value });
        else if (k === "rios") ios.push({ major, minor, op: "Read", value });
        else if (k === "wios") ios.push({ major, minor, op: "Write", value });
      }
    }
    got.set("IoServiceBytesRecursive", bytes);
    got.set("IoServicedRecursive", ios);
  }
  const o: { [k: string]: GoValue } = {};
  for (const [key, json] of BLKIO_KEYS) {
    const entries = got.get(key);
    if (entries?.length) o[json] = entries.map(blkioJson);
  }
  return o;
}

function hugetlbStats(r: Reader, d: Dirs, sizes: string[]): GoValue {
  const t = where(d, "hugetlb");
  const m = new Map<string, GoValue>();
  if (!t) return {};
  for (const size of sizes) {
    const o: { [k: string]: GoValue } = {};
    if (t.version === 1) {
      const usage = r.u64(t.dir, `hugetlb.${size}.usage_in_bytes`);
      const max = r.u64(t.dir, `hugetlb.${size}.max_usage_in_bytes`);
      if (usage) o.usage = usage;
      if (max) o.max = max;
      o.failcnt = r.u64(t.dir, `hugetlb.${size}.failcnt`);
    } else {
      const usage = r.u64(t.dir, `hugetlb.${size}.current`);
      if (usage) o.usage = usage;
      o.failcnt = parseKeyValues(r.text(t.dir, `hugetlb.${size}.events`)).get("max") ?? 0n;
    }
    m.set(size, o);
  }
  return sortedMap(m);
}

export interface StatsOptions {
  /** Huge page sizes to report (default: those of /sys/kernel/mm/hugepages). */
  hugePageSizes?: string[];
}

/** runc's types.Stats for the container, ready for goJson(). */
export function collectStats(layout: CgroupLayout, cg: ContainerCgroup, opts: StatsOptions = {}): { [k: string]: GoValue } {
  const fs = layout.fs ?? realFs;
  const r = new Reader(fs);
  const d = dirsOf(cg, fs);
  return {
    cpu: cpuStats(r, d),
    cpuset: cpusetStats(r, d),
    memory: memoryStats(r, d),
    pids: pidsStats(r, d),
    blkio: blkioStats(r, d),
    hugetlb: hugetlbStats(r, d, opts.hugePageSizes ?? hugePageSizes()),
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** How many times the kernel's OOM killer has acted in the container's memory cgroup
 *  (v1 memory.oom_control oom_kill, v2 memory.events oom_kill); undefined when unknown. */
export function oomKillCount(layout: CgroupLayout, cg: ContainerCgroup): bigint | undefined {
  const fs = layout.fs ?? realFs;
  const r = new Reader(fs);
  const t = where(dirsOf(cg, fs), "memory");
  if (!t) return undefined;
  const kv = parseKeyValues(r.text(t.dir, t.version === 1 ? "memory.oom_control" : "memory.events"));
  return kv.get("oom_kill");
}

/** One line of `runc events` output: {"type":...,"id":...,"data":...} (data omitted when absent). */
export function eventLine(type: string, id: string, data?: GoValue): string {
  const ev: { [k: string]: GoValue } = { type, id };
  if (data !== undefined && data !== null) ev.data = data;
  return goJson(ev) + "\n";
}
