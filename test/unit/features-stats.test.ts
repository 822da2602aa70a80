// `berth features` (claims only what the parsers accept) and the runc-shaped stats of
// `berth events` read from a cgroup tree built in a temporary directory.
import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import { featuresDocument, formatFeatures, supportedMountOptions } from "../../src/runtime/container/features.ts";
import { collectStats, eventLine, goJson, hugePageSizes, oomKillCount, parseBlkioStat, parseCpuList, parseU64 } from "../../src/runtime/container/stats.ts";
import { parseMountOptions } from "../../src/runtime/plan/mount-options.ts";
import type { CgroupLayout, ContainerCgroup } from "../../src/runtime/cgroups/index.ts";
import { CAPABILITIES } from "../../src/runtime/linux.ts";

describe("features document", () => {
  const f = featuresDocument("9.9.9");
  test("top-level fields in the runtime-spec order", () => {
    expect(Object.keys(f)).toEqual(["ociVersionMin", "ociVersionMax", "hooks", "mountOptions", "linux", "annotations"]);
    expect(f.ociVersionMin).toBe("1.0.0");
    expect(f.ociVersionMax).toBe("1.2.0");
    expect(f.hooks).toEqual(["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]);
    expect(f.annotations).toEqual({ "org.opencontainers.berth.version": "9.9.9" });
  });
  test("mount options: exactly those the parser turns into flags or propagation", () => {
    const opts = supportedMountOptions();
    expect(opts).toEqual([...opts].sort());
    for (const o of ["ro", "rw", "bind", "rbind", "nosuid", "nodev", "noexec", "rprivate", "rslave", "shared", "relatime", "nosymfollow", "rro", "rnosuid", "rnoexec"]) expect(opts).toContain(o);
    // passed to the filesystem as data, refused, or ignored: not claimed
    for (const o of ["acl", "idmap", "ridmap", "tmpcopyup", "silent"]) expect(opts).not.toContain(o);
    for (const o of opts) expect(parseMountOptions([o], "t").data).toEqual([]);
  });
  test("linux: namespaces without time, every capability, cgroup, no LSMs or RDT", () => {
    expect(f.linux.namespaces).toEqual(["cgroup", "ipc", "mount", "network", "pid", "user", "uts"]);
    expect(f.linux.capabilities).toEqual([...CAPABILITIES]);
    expect(f.linux.capabilities).toContain("CAP_CHECKPOINT_RESTORE");
    expect(f.linux.cgroup).toEqual({ v1: true, v2: true, systemd: false, systemdUser: false, rdma: false });
    expect(f.linux.apparmor).toEqual({ enabled: false });
    expect(f.linux.selinux).toEqual({ enabled: false });
    expect(f.linux.intelRdt).toEqual({ enabled: false });
    expect(f.linux.mountExtensions).toEqual({ idmap: { enabled: false } });
  });
  test("seccomp: what the profile parser accepts (NOTIFY, but no listener flags: berth sets NEW_LISTENER itself)", () => {
    const s = f.linux.seccomp;
    expect(s.enabled).toBe(true);
    expect(s.actions).toEqual(["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"]);
    expect(s.operators).toEqual(["SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"]);
    expect(s.archs).toEqual(["SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64"]);
    expect(s.knownFlags).toContain("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
    expect(s.supportedFlags).toEqual(["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]);
  });
  test("printed as runc prints it: four-space indent, final newline", () => {
    const text = formatFeatures(f);
    expect(text.startsWith('{\n    "ociVersionMin": "1.0.0",\n')).toBe(true);
    expect(text.endsWith("}\n")).toBe(true);
  });
});

describe("stats parsing helpers", () => {
  test("parseU64: max, negatives, big values exactly", () => {
    expect(parseU64("max\n")).toBe(18446744073709551615n);
    expect(parseU64("-1")).toBe(0n);
    expect(parseU64("9223372036854771712")).toBe(9223372036854771712n);
    expect(parseU64("x")).toBeUndefined();
  });
  test("goJson prints u64 exactly and escapes like Go", () => {
    expect(goJson({ a: 9223372036854771712n, b: [1n, 2], c: null, d: "<&>" })).toBe('{"a":9223372036854771712,"b":[1,2],"c":null,"d":"\\u003c\\u0026\\u003e"}');
  });
  test("cpu lists and blkio lines", () => {
    expect(parseCpuList("0-2,5\n")).toEqual([0, 1, 2, 5]);
    expect(parseCpuList("")).toEqual([]);
    expect(parseBlkioStat("8:0 Read 4096\n8:0 Write 0\nTotal 4096\n")).toEqual([
      { major: 8n, minor: 0n, op: "Read", value: 4096n },
      { major: 8n, minor: 0n, op: "Write", value: 0n },
    ]);
  });
  test("eventLine: data omitted when absent", () => {
    expect(eventLine("oom", "c1")).toBe('{"type":"oom","id":"c1"}\n');
    expect(eventLine("stats", "c1", { x: 1n })).toBe('{"type":"stats","id":"c1","data":{"x":1}}\n');
  });
});

// A container cgroup laid out as on a hybrid host, with the files runc reads.
const tmp = fs.mkdtempSync(`${os.tmpdir()}/berth-stats-`);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function tree(base: string, files: Record<string, string>): void {
  for (const [p, text] of Object.entries(files)) {
    fs.mkdirSync(`${tmp}/${base}/${p.slice(0, p.lastIndexOf("/"))}`, { recursive: true });
    fs.writeFileSync(`${tmp}/${base}/${p}`, text);
  }
}

function cgroup(base: string, v1: string[]): { layout: CgroupLayout; cg: ContainerCgroup } {
  const root = `${tmp}/${base}`;
  const hierarchies: ContainerCgroup["hierarchies"] = v1.map((c) => ({ version: 1 as const, controllers: [c], mountpoint: `${root}/${c}`, path: "/berth/x", dir: `${root}/${c}/berth/x` }));
  hierarchies.push({ version: 2, controllers: [], mountpoint: `${root}/unified`, path: "/berth/x", dir: `${root}/unified/berth/x` });
  const dirs = hierarchies.map((h) => h.dir);
  return { layout: { mode: v1.length ? "hybrid" : "v2", v1: {} }, cg: { path: "/berth/x", dirs, procsFiles: dirs.map((d) => `${d}/cgroup.procs`), hierarchies, created: [], warnings: [] } };
}

describe("collectStats, cgroup v1 (hybrid host)", () => {
  tree("hybrid", {
    "cpuacct/berth/x/cpuacct.usage": "14004267\n",
    "cpuacct/berth/x/cpuacct.usage_percpu": "3059862 10944405 \n",
    "cpuacct/berth/x/cpuacct.usage_all": "cpu user system\n0 0 4000000\n1 8000000 0\n",
    "cpuacct/berth/x/cpuacct.stat": "user 3\nsystem 1\n",
    "cpu/berth/x/cpu.stat": "nr_periods 10\nnr_throttled 2\nthrottled_time 500\nnr_bursts 0\nburst_time 0\n",
    "cpuset/berth/x/cpuset.cpus": "0-1\n",
    "cpuset/berth/x/cpuset.mems": "0\n",
    "cpuset/berth/x/cpuset.sched_load_balance": "1\n",
    "cpuset/berth/x/cpuset.sched_relax_domain_level": "-1\n",
    "memory/berth/x/memory.stat": "cache 0\nrss 53248\nactive_anon 4096\n",
    "memory/berth/x/memory.usage_in_bytes": "299008\n",
    "memory/berth/x/memory.max_usage_in_bytes": "2277376\n",
    "memory/berth/x/memory.limit_in_bytes": "9223372036854771712\n",
    "memory/berth/x/memory.failcnt": "0\n",
    "memory/berth/x/memory.kmem.tcp.usage_in_bytes": "0\n",
    "memory/berth/x/memory.kmem.tcp.limit_in_bytes": "9223372036854771712\n",
    "memory/berth/x/memory.kmem.tcp.failcnt": "0\n",
    "memory/berth/x/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n",
    "pids/berth/x/pids.current": "1\n",
    "pids/berth/x/pids.max": "max\n",
    "blkio/berth/x/blkio.bfq.io_serviced_recursive": "",
    "blkio/berth/x/blkio.throttle.io_serviced_recursive": "8:0 Read 2\n8:0 Write 0\nTotal 2\n",
    "blkio/berth/x/blkio.throttle.io_service_bytes_recursive": "8:0 Read 8192\n8:0 Write 0\nTotal 8192\n",
    "unified/berth/x/cgroup.controllers": "hugetlb\n",
    "unified/berth/x/hugetlb.2MB.current": "2097152\n",
    "unified/berth/x/hugetlb.2MB.events": "max 4\n",
    "unified/berth/x/hugetlb.1GB.current": "0\n",
  });
  const { layout, cg } = cgroup("hybrid", ["cpu", "cpuacct", "cpuset", "memory", "pids", "blkio"]);
  const s = collectStats(layout, cg, { hugePageSizes: ["2MB", "1GB"] });
  const json = goJson(s);

  test("runc's top-level keys, in order", () => {
    expect(Object.keys(s)).toEqual(["cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt", "network_interfaces"]);
    expect(json.endsWith(',"intel_rdt":{},"network_interfaces":null}')).toBe(true);
  });
  test("cpu: cpuacct usage, per-cpu modes, USER_HZ ticks as ns, throttling", () => {
    expect(json).toContain('"cpu":{"usage":{"total":14004267,"percpu":[3059862,10944405],"percpu_kernel":[4000000,0],"percpu_user":[0,8000000],"kernel":10000000,"user":30000000},"throttling":{"periods":10,"throttledPeriods":2,"throttledTime":500}}');
  });
  test("cpuset: lists and flags, omitempty as Go", () => {
    expect(json).toContain('"cpuset":{"cpus":[0,1],"cpu_exclusive":0,"mems":[0],"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,"memory_spread_page":0,"memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":1,"sched_relax_domain_level":-1}');
  });
  test("memory: entries (absent swap/kmem accounting reads as zero), sorted raw stats, no cache when 0", () => {
    expect(json).toContain('"memory":{"usage":{"limit":9223372036854771712,"usage":299008,"max":2277376,"failcnt":0},"swap":{"limit":0,"failcnt":0},"kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":9223372036854771712,"failcnt":0},"raw":{"active_anon":4096,"cache":0,"rss":53248}}');
  });
  test("pids: unlimited is no limit field; blkio from the first group with entries", () => {
    expect(json).toContain('"pids":{"current":1}');
    expect(json).toContain('"blkio":{"ioServiceBytesRecursive":[{"major":8,"op":"Read","value":8192},{"major":8,"op":"Write"}],"ioServicedRecursive":[{"major":8,"op":"Read","value":2},{"major":8,"op":"Write"}]}');
  });
  test("hugetlb from cgroup2 when it is enabled there, keys sorted", () => {
    expect(json).toContain('"hugetlb":{"1GB":{"failcnt":0},"2MB":{"usage":2097152,"failcnt":4}}');
  });
  test("oom_kill counter", () => {
    expect(oomKillCount(layout, cg)).toBe(3n);
  });
});

describe("collectStats, cgroup v2", () => {
  tree("v2", {
    "unified/berth/x/cgroup.controllers": "cpu io memory pids\n",
    "unified/berth/x/cpu.stat": "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 7\n",
    "unified/berth/x/memory.stat": "anon 4096\nfile 8192\n",
    "unified/berth/x/memory.current": "12288\n",
    "unified/berth/x/memory.max": "1048576\n",
    "unified/berth/x/memory.swap.current": "100\n",
    "unified/berth/x/memory.swap.max": "max\n",
    "unified/berth/x/memory.events": "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n",
    "unified/berth/x/pids.current": "3\n",
    "unified/berth/x/pids.max": "50\n",
    "unified/berth/x/io.stat": "8:16 rbytes=1024 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n",
  });
  const { layout, cg } = cgroup("v2", []);
  const json = goJson(collectStats(layout, cg, { hugePageSizes: [] }));
  test("cpu from cpu.stat (µs to ns)", () => {
    expect(json).toContain('"cpu":{"usage":{"total":1500000,"kernel":500000,"user":1000000},"throttling":{"periods":4,"throttledPeriods":1,"throttledTime":7000}}');
  });
  test("memory: cache is file, swap reported as memory+swap, unlimited swap stays max", () => {
    expect(json).toContain('"memory":{"cache":8192,"usage":{"limit":1048576,"usage":12288,"failcnt":0},"swap":{"limit":18446744073709551615,"usage":12388,"failcnt":0},"kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":0,"failcnt":0},"raw":{"anon":4096,"file":8192}}');
  });
  test("pids, io and the oom_kill counter", () => {
    expect(json).toContain('"pids":{"current":3,"limit":50}');
    expect(json).toContain('"blkio":{"ioServiceBytesRecursive":[{"major":8,"minor":16,"op":"Read","value":1024},{"major":8,"minor":16,"op":"Write"}],"ioServicedRecursive":[{"major":8,"minor":16,"op":"Read","value":1},{"major":8,"minor":16,"op":"Write"}]}');
    expect(json).toContain('"cpuset":{"cpu_exclusive":0,');
    expect(oomKillCount(layout, cg)).toBe(1n);
  });
});

describe("hugePageSizes", () => {
  test("names sizes as runc does", () => {
    fs.mkdirSync(`${tmp}/hp/hugepages-2048kB`, { recursive: true });
    fs.mkdirSync(`${tmp}/hp/hugepages-1048576kB`, { recursive: true });
    fs.mkdirSync(`${tmp}/hp/hugepages-64kB`, { recursive: true });
    expect(hugePageSizes(undefined, `${tmp}/hp`).sort()).toEqual(["1GB", "2MB", "64KB"]);
  });
});
