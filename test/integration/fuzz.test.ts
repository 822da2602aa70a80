// Fuzzing `berth run` with mutated config.json files: every mutant must either run or fail with
// exactly one error line, never a stack trace, and leave nothing behind (state dir, cgroup,
// mount, process). The seed is fixed so a failure reproduces; it is printed, and
// BERTH_FUZZ_SEED / BERTH_FUZZ_COUNT pick another seed / number of cases.
//
// Mutants that could touch the host are re-rolled, never run: each keeps its own mount, pid,
// network, ipc and uts namespaces (none joined by path), no shared propagation or netDevices,
// its cgroup is named after its id, and no root, mount source or hook path names a file that
// exists. The container's program is `true`.
import { expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { defaultSpec } from "../../src/runtime/spec/defaults.ts";
import { BERTH, CAN_RUN, makeRootfs } from "../helpers/bundle.ts";

const it = CAN_RUN ? test : test.skip;

const SEED = Number(process.env.BERTH_FUZZ_SEED ?? 20261202) >>> 0;
const COUNT = Number(process.env.BERTH_FUZZ_COUNT ?? 300);
// Another build of berth to judge (e.g. an older one, to see what this test catches).
const BIN = process.env.BERTH_FUZZ_BIN ?? BERTH;
const TOKEN = `fuzz-errors-${process.pid}`;

// mulberry32: small, seedable, good enough to pick mutations.
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Slot = { parent: Json[] | Record<string, Json>; key: string | number; path: string };

const HUGE = "x".repeat(600_000);
const STRINGS = [
  "", " ", "relative/path", "a\nb", "tab\there", "\u0000nul", "mid\u0000nul", "\u001b[31mred", "line\r\nbreak", "ünïcödé", "🙂", "\u202eevil",
  "\ud800", "\u2028", "/a/../../b", "/nonexistent-fuzz/x", "//", "/" + "y".repeat(5000), HUGE, "true", "0", "-1", "null",
  "RLIMIT_FUZZ", "CAP_FUZZ", "SCMP_ACT_FUZZ", "sh -c", "=", "A=", "=B",
];
const NUMBERS = [0, -1, 1, 1.5, -0.5, 2 ** 31, 2 ** 32, 2 ** 32 - 1, 2 ** 53 + 2, 2 ** 63, 2 ** 64, -(2 ** 63), 1e308, -1e308, 5e-324, 2147484, 4294967295];
const KNOWN_KEYS = [
  "apparmorProfile", "selinuxLabel", "timeout", "network", "uid", "gid", "umask", "rlimits", "sysctl", "maskedPaths", "readonlyPaths",
  "rootfsPropagation", "devices", "seccomp", "personality", "intelRdt", "ioPriority", "scheduler", "oomScoreAdj", "consoleSize",
  "hooks", "mountLabel", "timeOffsets", "unified", "pids", "memory", "cpu", "blockIO", "hugepageLimits", "options", "terminal",
];

function pick<T>(r: () => number, a: readonly T[]): T {
  return a[Math.floor(r() * a.length)]!;
}

function randomValue(r: () => number, depth = 0): Json {
  const k = Math.floor(r() * (depth > 2 ? 4 : 7));
  switch (k) {
    case 0: return pick(r, STRINGS);
    case 1: return pick(r, NUMBERS);
    case 2: return r() < 0.5;
    case 3: return null;
    case 4: return Array.from({ length: Math.floor(r() * 3) }, () => randomValue(r, depth + 1));
    case 5: return Object.fromEntries(Array.from({ length: Math.floor(r() * 3) }, () => [pick(r, [...KNOWN_KEYS, ...STRINGS.slice(0, 12)]), randomValue(r, depth + 1)]));
    default: {
      let v: Json = [];
      for (let i = 0, n = pick(r, [50, 1001, 1500]); i < n; i++) v = [v];
      return v;
    }
  }
}

/** Every place in `v` a mutation can hit; not inside the deep nests earlier mutations made. */
// Values the runtime acts on, mixed with odd ones: a template's leaves come from here.
const PLAUSIBLE = [
  "SCMP_ACT_ERRNO", "SCMP_ACT_ALLOW", "SCMP_ACT_KILL", "read", "close_range", "SCMP_ARCH_X86_64", "SCMP_CMP_EQ", "c", "b", "p", "/dev/fuzz",
  "tmpfs", "bind", "ro", "rbind", "1MB", "2MB", "0-1", "0", "RLIMIT_NOFILE", "RLIMIT_CORE", "IOPRIO_CLASS_RT", "SCHED_FIFO", "MPOL_BIND",
  "eth0", "LINUX", "pids.max", "net.ipv4.ip_forward", "kernel.msgmax", "rprivate", "slave", 1, 5, 100, 1024, 65536,
];
function leaf(r: () => number): Json {
  const k = r();
  if (k < 0.5) return pick(r, PLAUSIBLE);
  if (k < 0.7) return pick(r, STRINGS);
  if (k < 0.9) return pick(r, NUMBERS);
  return pick(r, [true, false, null, [], {}]);
}

/** Known fields with their shape, for the places a generic mutation rarely reaches. */
const TEMPLATES: Array<[string, string, (r: () => number) => Json]> = [
  ["linux", "seccomp", (r) => ({ defaultAction: leaf(r), architectures: [leaf(r)], syscalls: [{ names: [leaf(r)], action: leaf(r), args: [{ index: leaf(r), value: leaf(r), op: leaf(r) }] }], flags: [leaf(r)] })],
  ["linux", "intelRdt", (r) => ({ closID: leaf(r), l3CacheSchema: leaf(r), memBwSchema: leaf(r) })],
  ["linux", "personality", (r) => ({ domain: leaf(r), flags: [leaf(r)] })],
  ["linux", "timeOffsets", (r) => ({ monotonic: { secs: leaf(r), nanosecs: leaf(r) } })],
  ["linux", "memoryPolicy", (r) => ({ mode: leaf(r), nodes: leaf(r), flags: [leaf(r)] })],
  ["linux", "devices", (r) => [{ type: leaf(r), path: leaf(r), major: leaf(r), minor: leaf(r), fileMode: leaf(r), uid: leaf(r), gid: leaf(r) }]],
  ["linux", "sysctl", (r) => ({ [String(leaf(r))]: leaf(r) })],
  ["linux", "rootfsPropagation", (r) => leaf(r)],
  ["linux", "uidMappings", (r) => [{ containerID: leaf(r), hostID: leaf(r), size: leaf(r) }]],
  ["linux.resources", "network", (r) => ({ classID: leaf(r), priorities: [{ name: leaf(r), priority: leaf(r) }] })],
  ["linux.resources", "rdma", (r) => ({ mlx4_0: { hcaHandles: leaf(r), hcaObjects: leaf(r) } })],
  ["linux.resources", "unified", (r) => ({ [String(leaf(r))]: leaf(r) })],
  ["linux.resources", "memory", (r) => ({ limit: leaf(r), swap: leaf(r), swappiness: leaf(r) })],
  ["linux.resources", "cpu", (r) => ({ shares: leaf(r), quota: leaf(r), period: leaf(r), cpus: leaf(r) })],
  ["linux.resources", "pids", (r) => ({ limit: leaf(r) })],
  ["linux.resources", "hugepageLimits", (r) => [{ pageSize: leaf(r), limit: leaf(r) }]],
  ["linux.resources", "blockIO", (r) => ({ weight: leaf(r), throttleReadBpsDevice: [{ major: leaf(r), minor: leaf(r), rate: leaf(r) }] })],
  ["process", "scheduler", (r) => ({ policy: leaf(r), nice: leaf(r), priority: leaf(r), flags: [leaf(r)] })],
  ["process", "ioPriority", (r) => ({ class: leaf(r), priority: leaf(r) })],
  ["process", "execCPUAffinity", (r) => ({ initial: leaf(r), final: leaf(r) })],
  ["process", "rlimits", (r) => [{ type: leaf(r), soft: leaf(r), hard: leaf(r) }]],
  ["process", "user", (r) => ({ uid: leaf(r), gid: leaf(r), umask: leaf(r), additionalGids: [leaf(r)] })],
  ["process", "consoleSize", (r) => ({ height: leaf(r), width: leaf(r) })],
  ["process", "oomScoreAdj", (r) => leaf(r)],
  ["process", "apparmorProfile", (r) => leaf(r)],
  ["", "hooks", (r) => ({ [pick(r, ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"])]: [{ path: leaf(r), args: [leaf(r)], timeout: leaf(r) }] })],
  ["", "mounts", (r) => [{ destination: leaf(r), type: leaf(r), source: leaf(r), options: [leaf(r)] }]],
];

function resolvePath(spec: Record<string, Json>, p: string): Record<string, Json> | undefined {
  let o: Json = spec;
  for (const k of p ? p.split(".") : []) {
    if (!o || typeof o !== "object" || Array.isArray(o)) return undefined;
    o = o[k] ?? (o[k] = {});
  }
  return o && typeof o === "object" && !Array.isArray(o) ? o : undefined;
}

function slots(v: Json, path: string, out: Slot[], depth = 0): Slot[] {
  if (depth > 12) return out;
  if (Array.isArray(v)) {
    v.forEach((e, i) => { out.push({ parent: v, key: i, path: `${path}[${i}]` }); slots(e, `${path}[${i}]`, out, depth + 1); });
  } else if (v && typeof v === "object") {
    for (const [k, e] of Object.entries(v)) {
      const p = path ? `${path}.${k.length > 20 ? k.slice(0, 20) + "…" : k}` : k;
      out.push({ parent: v, key: k, path: p });
      slots(e, p, out, depth + 1);
    }
  }
  return out;
}

/** One mutation of `spec` in place; returns what it did. */
function mutate(r: () => number, spec: Record<string, Json>): string {
  const all = slots(spec, "", []);
  const s = pick(r, all);
  const cur = (s.parent as Record<string, Json>)[s.key as string];
  const set = (v: Json) => ((s.parent as Record<string, Json>)[s.key as string] = v);
  const op = Math.floor(r() * 9);
  switch (op) {
    case 7:
    case 8: {
      const [where, key, make] = pick(r, TEMPLATES);
      const o = resolvePath(spec, where);
      if (!o) return "template: no place for it";
      const v = make(r);
      o[key] = Array.isArray(o[key]) && Array.isArray(v) ? [...(o[key] as Json[]), ...v] : v;
      return `template ${where ? where + "." : ""}${key} = ${short(v)}`;
    }
    case 0: {
      const v = randomValue(r);
      set(v);
      return `set ${s.path} = ${short(v)}`;
    }
    case 1:
      if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 1);
      else delete s.parent[s.key as string];
      return `remove ${s.path}`;
    case 2: {
      // A field added to an object (known names land where they may mean something).
      const objs = all.filter((x) => { const v = (x.parent as Record<string, Json>)[x.key as string]; return v && typeof v === "object" && !Array.isArray(v); });
      const target = objs.length ? pick(r, objs) : s;
      const o = (target.parent as Record<string, Json>)[target.key as string] as Record<string, Json>;
      const key = r() < 0.8 ? pick(r, KNOWN_KEYS) : pick(r, STRINGS);
      o[key] = randomValue(r);
      return `add ${target.path}[${short(key)}] = ${short(o[key])}`;
    }
    case 3:
      // Type change: wrap, stringify, or number-ify the current value.
      if (typeof cur === "number") { set(String(cur)); return `stringify ${s.path}`; }
      if (typeof cur === "string") { set(pick(r, NUMBERS)); return `number for ${s.path}`; }
      set([cur]);
      return `wrap ${s.path} in an array`;
    case 4:
      if (Array.isArray(s.parent)) { s.parent.push(structuredClone(cur)); return `duplicate ${s.path}`; }
      set(typeof cur === "string" && cur.length < 10_000 ? cur + pick(r, STRINGS) : pick(r, STRINGS));
      return `append to ${s.path}`;
    case 5:
      set(pick(r, NUMBERS));
      return `set ${s.path} to an odd number`;
    default:
      set(pick(r, STRINGS));
      return `set ${s.path} to an odd string`;
  }
}

function short(v: unknown): string {
  const t = JSON.stringify(v) ?? String(v);
  return t.length > 40 ? t.slice(0, 40) + "…" : t;
}

/** Text-level damage: what a broken editor or a truncated write produces. */
function damageText(r: () => number, text: string): [string, string] {
  const at = Math.floor(r() * text.length);
  switch (Math.floor(r() * 6)) {
    case 5: return ['{"x-fuzz-deep":' + "[".repeat(100_000) + "]".repeat(100_000) + "," + text.slice(1), "100000 nested arrays in an extension field"];
    case 0: return [text.slice(0, at), `truncate at ${at}`];
    case 1: return [text.slice(0, at) + "\u0001" + text.slice(at), `control byte at ${at}`];
    case 2: return ["\ufeff" + text, "byte order mark"];
    case 3: return [text.slice(0, at) + "[".repeat(200_000) + text.slice(at), `200000 '[' at ${at}`];
    default: return [text.replace(/"1\.\d\.\d"/, "1e400"), "1e400 for ociVersion"];
  }
}

/** A mutant may run only if it cannot reach the host (see the header). */
function safe(spec: Record<string, unknown>, bundle: string): boolean {
  const exists = (p: unknown) => typeof p === "string" && p !== "" && fs.existsSync(path.resolve(bundle, p));
  const linux = spec.linux as Record<string, unknown> | undefined;
  const ns = linux?.namespaces;
  if (!Array.isArray(ns)) return false;
  // Namespaced sysctls and the hostname must land in the container's own namespaces.
  for (const want of ["mount", "pid", "network", "ipc", "uts"]) {
    if (!ns.some((n) => n && typeof n === "object" && (n as Record<string, unknown>).type === want && (n as Record<string, unknown>).path === undefined)) return false;
  }
  if (ns.some((n) => n && typeof n === "object" && "path" in n && (n as Record<string, unknown>).path !== null)) return false;
  // Shared propagation could carry the container's mounts to the host; moved devices leave it.
  if (typeof linux?.rootfsPropagation === "string" && linux.rootfsPropagation.includes("shared")) return false;
  if (linux && "netDevices" in linux) return false;
  const cg = linux?.cgroupsPath;
  if (cg !== undefined && cg !== null && !(typeof cg === "string" && cg.includes(TOKEN))) return false;
  const root = spec.root as Record<string, unknown> | undefined;
  if (root && typeof root === "object" && root.path !== "rootfs" && exists(root.path)) return false;
  const mounts = spec.mounts;
  if (Array.isArray(mounts) && mounts.some((m) => m && typeof m === "object" && typeof m.source === "string" && m.source.startsWith("/") && exists(m.source))) return false;
  // Hooks run on the host: none may name a real program.
  if (Object.keys(spec).includes("hooks") && typeof spec.hooks === "object" && spec.hooks) {
    for (const list of Object.values(spec.hooks as Record<string, unknown>)) {
      if (Array.isArray(list) && list.some((h) => h && typeof h === "object" && exists((h as Record<string, unknown>).path))) return false;
    }
  }
  return true;
}

function cgroupDirsNamed(token: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 8) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = `${dir}/${e.name}`;
      if (e.name.includes(token)) found.push(p);
      walk(p, depth + 1);
    }
  };
  walk("/sys/fs/cgroup", 0);
  return found;
}

/** Processes whose root is inside our bundle (the container's) or that sit in one of our cgroups. */
function ourProcesses(bundle: string): string[] {
  const out: string[] = [];
  for (const pid of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const root = fs.readlinkSync(`/proc/${pid}/root`);
      const cg = fs.readFileSync(`/proc/${pid}/cgroup`, "utf8");
      if (root.startsWith(bundle) || cg.includes(TOKEN)) out.push(`${pid} ${fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ")}`);
    } catch { /* gone */ }
  }
  return out;
}

it(`${COUNT} mutated configs: one error line or a run, nothing left behind (seed ${SEED})`, () => {
  console.log(`fuzz: seed ${SEED} (set BERTH_FUZZ_SEED to change), ${COUNT} cases`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "berth-fuzz-"));
  fs.chmodSync(tmp, 0o755);
  const bundle = `${tmp}/bundle`;
  const root = `${tmp}/root`;
  makeRootfs(`${bundle}/rootfs`);
  const r = rng(SEED);
  const failures: string[] = [];
  let ran = 0, refused = 0, skipped = 0;
  try {
    for (let i = 0; i < COUNT; i++) {
      const id = `${TOKEN}-${i}`;
      let text = "";
      let did: string[] = [];
      for (let attempt = 0; ; attempt++) {
        const base = defaultSpec() as unknown as Record<string, Json>;
        const proc = base.process as Record<string, Json>;
        proc.terminal = false;
        proc.args = ["true"];
        (base.linux as Record<string, Json>).cgroupsPath = `/${id}`;
        did = [];
        for (let m = 0, n = 1 + Math.floor(r() * 3); m < n; m++) did.push(mutate(r, base));
        if (!safe(base, bundle)) {
          if (attempt < 20) continue;
          skipped++;
          did = ["(no safe mutant: ran the base config)"];
          text = JSON.stringify({ ...defaultSpec(), process: { ...defaultSpec().process, terminal: false, args: ["true"] } });
          break;
        }
        // Indented sometimes; not when deep nests would make the indentation quadratic.
        const pretty = r() < 0.3 && !did.some((d) => d.includes("[[[[[[[[["));
        text = JSON.stringify(base, null, pretty ? 2 : undefined);
        if (r() < 0.2) {
          const [t, what] = damageText(r, text);
          text = t;
          did.push(what);
        }
        break;
      }
      fs.writeFileSync(`${bundle}/config.json`, text);
      const t0 = performance.now();
      const res = Bun.spawnSync([BIN, "--root", root, "run", "--bundle", bundle, id], { stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 20_000 });
      const stderr = res.stderr.toString();
      if (process.env.BERTH_FUZZ_PROFILE) console.log(`case ${i} ${Math.round(performance.now() - t0)}ms exit ${res.exitCode} [${did.join("; ")}] ${stderr.slice(0, 150).replace(/\n/g, " | ")}`);
      const lines = stderr.split("\n").filter((l) => l !== "");
      const errors = lines.filter((l) => !l.startsWith("berth: warning:"));
      const problems: string[] = [];
      if (res.exitCode === null) problems.push(`killed after 20 s (signal ${res.signalCode})`);
      if (/^\s+at |RangeError|TypeError|ReferenceError|SyntaxError|internal error/m.test(stderr)) problems.push("stack trace or internal error");
      if (errors.length > 1) problems.push(`${errors.length} error lines`);
      if (res.exitCode !== 0 && errors.length === 0 && res.exitCode !== null && res.exitCode < 128) problems.push(`exit ${res.exitCode} without an error line`);
      if (lines.some((l) => l.length > 1200)) problems.push("a line longer than 1200 characters");
      if (errors.length === 1 && !errors[0]!.startsWith("berth: ")) problems.push("error line without the berth: prefix");
      const left = fs.existsSync(root) ? fs.readdirSync(root).filter((n) => !n.startsWith(".")) : [];
      if (left.length) problems.push(`state left: ${left.join(" ")}`);
      const mounts = fs.readFileSync("/proc/self/mounts", "utf8").split("\n").filter((l) => l.includes(tmp));
      if (mounts.length) problems.push(`mounts left: ${mounts.length}`);
      const procs = ourProcesses(bundle);
      if (procs.length) problems.push(`processes left: ${procs.join("; ")}`);
      if (res.exitCode === 0) ran++;
      else refused++;
      if (problems.length) {
        failures.push(`case ${i} [${did.join("; ")}]: ${problems.join(", ")} — stderr: ${JSON.stringify(stderr.slice(0, 400))}`);
        // Clean up after a failing case so the next cases are judged on their own.
        for (const n of left) fs.rmSync(`${root}/${n}`, { recursive: true, force: true });
      }
    }
    const cgroups = cgroupDirsNamed(TOKEN);
    if (cgroups.length) failures.push(`cgroups left: ${cgroups.slice(0, 10).join(" ")}`);
    console.log(`fuzz: ${ran} ran, ${refused} refused, ${skipped} re-rolled to the base config, ${failures.length} failures`);
    expect(failures).toEqual([]);
  } finally {
    for (const d of cgroupDirsNamed(TOKEN).reverse()) {
      try { fs.rmdirSync(d); } catch { /* busy: reported above */ }
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}, 180_000);
