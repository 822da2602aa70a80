// A private dockerd for integration tests: its own data-root, exec-root, socket, pidfile, config
// file and containerd (dockerd starts one under its exec-root when not given --containerd), its
// own cgroup parent, no iptables and no default bridge. Runtimes (berth, a logging wrapper) are
// registered through the config file. stop() removes containers, stops dockerd and containerd,
// kills what is left in its cgroup parent, unmounts everything under its directory and removes it.
// Needs root and Debian's docker.io (dockerd, docker, containerd, containerd-shim-runc-v2, runc).
import { mountTmpfs, scratchDir } from "./scratch.ts";
import fs from "node:fs";
import path from "node:path";

// The rootfs helper is side-effect free (bundle.ts makes a temp directory when imported).
import { BERTH, BUSYBOX, IS_ROOT, makeRootfs } from "./rootfs.ts";

export { BERTH, BUSYBOX, IS_ROOT };
/** A busybox rootfs (rootfs.ts), under the name the docker and podman helpers use. */
export const makeBusyboxRootfs = makeRootfs;

export const SEARCH = "/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin:/usr/local/bin";
/** Debian's binaries first: /usr/local/bin may hold a newer docker client. */
const find = (name: string): string | undefined => Bun.which(name, { PATH: SEARCH }) ?? undefined;

export const DOCKERD = find("dockerd");
export const DOCKER = find("docker");
export const RUNC = find("runc");
export const SCRIPT = find("script");

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Why the docker tests cannot run here, or undefined when they can. */
export function dockerSkipReason(): string | undefined {
  if (!IS_ROOT) return "needs root";
  if (!BUSYBOX) return "needs busybox-static (the image is built from /bin/busybox)";
  const missing = [
    ["dockerd", DOCKERD],
    ["docker", DOCKER],
    ["containerd", find("containerd")],
    ["containerd-shim-runc-v2", find("containerd-shim-runc-v2")],
    ["runc", RUNC],
    ["script", SCRIPT],
  ].filter(([, p]) => !p).map(([n]) => n);
  if (missing.length) return `needs docker.io, runc and bsdutils (missing: ${missing.join(", ")})`;
  return undefined;
}

/** The runtime the tests target: $envVar = berth (default) | runc | /path/to/runtime. */
export function targetRuntime(envVar = "BERTH_DOCKER_RUNTIME"): { name: string; path: string } {
  const v = process.env[envVar] || "berth";
  if (v === "runc") return { name: "runc", path: RUNC ?? "/usr/sbin/runc" };
  if (v === "berth") return { name: "berth", path: BERTH };
  return { name: "custom", path: path.resolve(v) };
}

export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

export function waitGone(pids: number[], ms: number): boolean {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!pids.some(alive)) return true;
    Bun.sleepSync(50);
  }
  return !pids.some(alive);
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch { /* gone */ }
}

function readInt(file: string): number | undefined {
  try {
    const n = parseInt(fs.readFileSync(file, "utf8").trim(), 10);
    return Number.isFinite(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Mount points at or under dir, deepest first (from /proc/self/mountinfo). */
export function mountsUnder(dir: string): string[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  return fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter(Boolean)
    .map((l) => unescape(l.split(" ")[4]))
    .filter((mp) => mp === dir || mp.startsWith(dir + "/"))
    .sort((a, b) => b.length - a.length);
}

/**
 * Lazily unmounts everything at or under dir, deepest first. Uses busybox's umount: util-linux's
 * would create /run/mount/utab.
 */
export function unmountUnder(dir: string): void {
  for (const mp of mountsUnder(dir)) Bun.spawnSync([BUSYBOX!, "umount", "-l", mp], { stderr: "ignore" });
}

/** Directories named `name` directly under each cgroup hierarchy (v1 controllers and the v2 tree). */
export function cgroupDirs(name: string): string[] {
  const roots: string[] = [];
  try {
    if (fs.existsSync("/sys/fs/cgroup/cgroup.controllers")) roots.push("/sys/fs/cgroup");
    else for (const h of fs.readdirSync("/sys/fs/cgroup")) roots.push(`/sys/fs/cgroup/${h}`);
  } catch { /* no cgroupfs */ }
  return roots.map((r) => `${r}/${name}`).filter((d) => fs.existsSync(d));
}

/** Every pid in a cgroup directory tree. */
export function cgroupPids(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    try {
      for (const l of fs.readFileSync(`${d}/cgroup.procs`, "utf8").split("\n")) if (l) out.push(+l);
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(`${d}/${e.name}`);
    } catch { /* removed meanwhile */ }
  };
  walk(dir);
  return out;
}

/** rmdir a cgroup tree, leaves first, retrying while the kernel still says EBUSY. */
export function removeCgroupTree(dir: string): void {
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) removeCgroupTree(`${dir}/${e.name}`);
  for (let i = 0; i < 100; i++) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return;
      if (code !== "EBUSY") return;
      Bun.sleepSync(20);
    }
  }
}

/** Processes whose command line mentions dir (shims started for this daemon). */
export function processesMentioning(dir: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(p) || +p === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${p}/cmdline`, "utf8").includes(dir + "/")) out.push(+p);
    } catch { /* gone */ }
  }
  return out;
}

// Shared run-time directories dockerd and the shims create whatever their configuration says.
const SHARED_RUN_DIRS = ["/run/containerd/s", "/run/containerd", "/run/docker/plugins", "/run/docker"];

export interface DockerdOptions {
  /** Extra runtimes: name -> executable path (registered in the daemon's config file). */
  runtimes?: Record<string, string>;
  /**
   * Logging runtimes: name -> real runtime path. Each is a makeLoggingRuntime script in the
   * daemon's directory, recording into callsDir(name).
   */
  loggingRuntimes?: Record<string, string>;
  /** Storage driver; default: BERTH_DOCKER_STORAGE, else dockerd's own choice (overlay2 here). */
  storageDriver?: string;
  /** The exec root on a tmpfs of its own, as /run is on a usual host (benchmarks). */
  tmpfsExecRoot?: boolean;
}

export class Dockerd {
  readonly dir: string;
  readonly sock: string;
  readonly execRoot: string;
  readonly dataRoot: string;
  readonly logFile: string;
  /** Containers go under /<cgroupParent>/<id> in every hierarchy. */
  readonly cgroupParent: string;
  private pid = 0;
  private containerdPid = 0;
  private stopped = false;
  private sharedDirsBefore = new Set<string>();
  private readonly onExit = () => this.stop();

  private constructor() {
    this.dir = scratchDir("/tmp/berth-dockerd-");
    fs.chmodSync(this.dir, 0o755);
    this.sock = `${this.dir}/docker.sock`;
    this.execRoot = `${this.dir}/exec`;
    this.dataRoot = `${this.dir}/data`;
    this.logFile = `${this.dir}/dockerd.log`;
    this.cgroupParent = `${path.basename(this.dir)}`;
  }

  /** Starts dockerd (and its containerd) and waits until `docker version` answers. */
  static async start(opts: DockerdOptions = {}): Promise<Dockerd> {
    const d = new Dockerd();
    try {
      await d.launch(opts);
    } catch (e) {
      d.stop();
      throw e;
    }
    return d;
  }

  private async launch(opts: DockerdOptions): Promise<void> {
    for (const p of SHARED_RUN_DIRS) if (fs.existsSync(p)) this.sharedDirsBefore.add(p);
    const runtimes: Record<string, { path: string }> = {};
    for (const [name, p] of Object.entries(opts.runtimes ?? {})) runtimes[name] = { path: p };
    for (const [name, target] of Object.entries(opts.loggingRuntimes ?? {})) {
      runtimes[name] = { path: makeLoggingRuntime(`${this.dir}/logging-runtime-${name}`, target, this.callsDir(name)) };
    }
    // Our own config file, so /etc/docker/daemon.json never applies; and our own trust key
    // (dockerd 20.10 otherwise creates /etc/docker/key.json).
    fs.writeFileSync(`${this.dir}/daemon.json`, JSON.stringify({ runtimes, "deprecated-key-path": `${this.dir}/key.json` }, null, 2));
    fs.mkdirSync(`${this.dir}/client`);
    if (opts.tmpfsExecRoot) mountTmpfs(this.execRoot);
    const storage = opts.storageDriver ?? process.env.BERTH_DOCKER_STORAGE;
    const argv = [
      DOCKERD!,
      "--config-file", `${this.dir}/daemon.json`,
      "--data-root", this.dataRoot,
      "--exec-root", this.execRoot,
      "--pidfile", `${this.dir}/docker.pid`,
      "-H", `unix://${this.sock}`,
      "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--bridge=none", "--userland-proxy=false",
      "--exec-opt", "native.cgroupdriver=cgroupfs",
      "--cgroup-parent", `/${this.cgroupParent}`,
      ...(storage ? ["--storage-driver", storage] : []),
    ];
    const proc = Bun.spawn(argv, {
      env: { PATH: SEARCH, HOME: `${this.dir}/client`, LANG: "C.UTF-8" },
      stdin: "ignore",
      stdout: Bun.file(this.logFile),
      stderr: Bun.file(this.logFile),
    });
    this.pid = proc.pid;
    process.on("exit", this.onExit);
    const end = Date.now() + 30_000;
    for (;;) {
      if (!alive(this.pid)) throw new Error(`dockerd exited while starting; log:\n${this.logTail()}`);
      const r = this.docker(["version", "--format", "{{.Server.Version}}"], { timeout: 5000 });
      if (r.code === 0 && r.stdout.trim()) break;
      if (Date.now() > end) throw new Error(`dockerd did not answer within 30 s; log:\n${this.logTail()}`);
      await Bun.sleep(100);
    }
    this.containerdPid = readInt(`${this.execRoot}/containerd/containerd.pid`) ?? 0;
  }

  /** Where the logging runtime `name` records its calls (see readRuntimeCalls). */
  callsDir(name: string): string {
    return `${this.dir}/calls-${name}`;
  }

  logTail(lines = 30): string {
    try {
      return fs.readFileSync(this.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  /** Runs the docker client against this daemon. */
  docker(args: string[], opts: { stdin?: string; timeout?: number } = {}): Result {
    const r = Bun.spawnSync([DOCKER!, ...args], {
      env: { PATH: SEARCH, HOME: `${this.dir}/client`, LANG: "C.UTF-8", DOCKER_HOST: `unix://${this.sock}`, DOCKER_CONFIG: `${this.dir}/client` },
      stdin: opts.stdin !== undefined ? Buffer.from(opts.stdin) : "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: opts.timeout ?? 60_000,
    });
    const stderr = r.stderr.toString() + (r.exitedDueToTimeout ? `\n[timed out after ${opts.timeout ?? 60_000} ms]` : "");
    return { code: r.exitCode ?? 128 + 9, stdout: r.stdout.toString(), stderr };
  }

  /** Environment for running the docker client from a shell (e.g. under `script`). */
  clientEnv(): Record<string, string> {
    return { PATH: SEARCH, HOME: `${this.dir}/client`, LANG: "C.UTF-8", TERM: "xterm", DOCKER_HOST: `unix://${this.sock}`, DOCKER_CONFIG: `${this.dir}/client` };
  }

  /** Imports a busybox rootfs (makeBusyboxRootfs) as `name`, with CMD ["sh"]. */
  importBusybox(name = "busybox:latest"): void {
    const root = `${this.dir}/busybox-rootfs`;
    makeBusyboxRootfs(root);
    const tar = `${this.dir}/busybox.tar`;
    const t = Bun.spawnSync(["tar", "-C", root, "-cf", tar, "."], { stderr: "pipe" });
    if (t.exitCode !== 0) throw new Error(`tar: ${t.stderr}`);
    const r = this.docker(["import", "-c", 'CMD ["sh"]', tar, name]);
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(tar, { force: true });
    if (r.code !== 0) throw new Error(`docker import: ${r.stderr}`);
  }

  /** Removes every container (and user-defined network) while the daemon is still up. */
  removeAllContainers(): void {
    const ids = this.docker(["ps", "-aq"]).stdout.split("\n").filter(Boolean);
    if (ids.length) this.docker(["rm", "-f", ...ids], { timeout: 20_000 });
  }

  /**
   * Stops everything and removes what it created: containers, dockerd, containerd, shims, any
   * process left in its cgroup parent, mounts under its directory, the directory, its cgroups,
   * and the shared /run directories if they did not exist before. Synchronous, so it also runs
   * from an exit handler; calling it twice is harmless.
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    process.off("exit", this.onExit);
    if (this.pid && alive(this.pid)) {
      try {
        this.removeAllContainers();
        this.docker(["network", "prune", "-f"], { timeout: 20_000 });
      } catch { /* daemon not answering: forced below */ }
      signal(this.pid, "SIGTERM");
      if (!waitGone([this.pid], 20_000)) signal(this.pid, "SIGKILL");
      waitGone([this.pid], 5000);
    }
    if (this.containerdPid && alive(this.containerdPid)) {
      signal(this.containerdPid, "SIGTERM");
      if (!waitGone([this.containerdPid], 10_000)) signal(this.containerdPid, "SIGKILL");
    }
    const shims = processesMentioning(this.dir);
    for (const p of shims) signal(p, "SIGKILL");
    waitGone(shims, 5000);
    // A shim killed with SIGKILL leaves its socket in /run/containerd/s; each task's bundle names it.
    for (const sock of this.shimSockets()) fs.rmSync(sock, { force: true });
    for (const cg of cgroupDirs(this.cgroupParent)) {
      const pids = cgroupPids(cg);
      for (const p of pids) signal(p, "SIGKILL");
      waitGone(pids, 5000);
    }
    for (const cg of cgroupDirs(this.cgroupParent)) removeCgroupTree(cg);
    unmountUnder(this.dir);
    try {
      fs.rmSync(this.dir, { recursive: true, force: true });
    } catch {
      unmountUnder(this.dir);
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
    for (const p of SHARED_RUN_DIRS) {
      if (this.sharedDirsBefore.has(p)) continue;
      try {
        fs.rmdirSync(p); // only when empty
      } catch { /* not ours to force */ }
    }
  }

  /** The shim sockets of this daemon's tasks (from each task bundle's `address` file). */
  private shimSockets(): string[] {
    const out: string[] = [];
    const tasks = `${this.execRoot}/containerd/daemon/io.containerd.runtime.v2.task`;
    try {
      for (const ns of fs.readdirSync(tasks)) {
        for (const id of fs.readdirSync(`${tasks}/${ns}`)) {
          try {
            const addr = fs.readFileSync(`${tasks}/${ns}/${id}/address`, "utf8").trim();
            if (addr.startsWith("unix:///run/containerd/s/")) out.push(addr.slice("unix://".length));
          } catch { /* no address */ }
        }
      }
    } catch { /* no tasks */ }
    return out;
  }

  /** What stop() failed to remove (for an afterAll assertion). */
  leftovers(): string[] {
    const out: string[] = [];
    if (this.pid && alive(this.pid)) out.push(`dockerd pid ${this.pid}`);
    if (this.containerdPid && alive(this.containerdPid)) out.push(`containerd pid ${this.containerdPid}`);
    for (const p of processesMentioning(this.dir)) out.push(`process ${p}`);
    for (const mp of mountsUnder(this.dir)) out.push(`mount ${mp}`);
    if (fs.existsSync(this.dir)) out.push(this.dir);
    for (const cg of cgroupDirs(this.cgroupParent)) out.push(cg);
    return out;
  }
}

/** One call the container stack made to a runtime, as recorded by a logging runtime. */
export interface RuntimeCall {
  /** Nanoseconds since the epoch when the call started. */
  time: bigint;
  argv: string[];
  /** The subcommand (create, start, exec, ...), or "" for none found. */
  command: string;
  rc: number | undefined;
  /** What the runtime printed, for state/ps/list/features (the callers parse it). */
  stdout?: string;
  /** `update --resources -`: the JSON read from stdin. */
  stdin?: string;
  /** The --log file after the call, if any. */
  log?: string;
  /** exec --process FILE: its content. */
  process?: string;
}

const VALUE_FLAGS = new Set(["--root", "--log", "--log-format", "--criu", "--rootless"]);

/** The subcommand of a runtime command line: the first argument that is neither a flag nor a flag's value. */
export function runtimeCommand(argv: string[]): string {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (VALUE_FLAGS.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith("-")) continue;
    return a;
  }
  return "";
}

/**
 * Writes a logging runtime: a bash script that records each call (argv NUL-separated, exit
 * status, stdout of state/ps/list/features, stdin of `update --resources -`, the --process file,
 * the --log file after the call, and config.json of `create --bundle`) under logDir, then runs
 * the real runtime. It runs the runtime as a child (not exec) to record its exit status; the
 * container init is still reparented to the shim (a subreaper) once the runtime exits.
 */
export function makeLoggingRuntime(scriptPath: string, target: string, logDir: string): string {
  fs.mkdirSync(logDir, { recursive: true });
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = `#!/bin/bash
# Logging OCI runtime (written by test/helpers/dockerd.ts): records the call, then runs ${target}.
target=${q(target)}
c=${q(logDir)}/$(date +%s%N)-$$
printf '%s\\0' "$@" > "$c.argv"
sub= logf= proc= bundle= res= prev= skip=
for a in "$@"; do
  case "$prev" in
    --log) logf=$a ;;
    --process|-p) proc=$a ;;
    --bundle|-b) bundle=$a ;;
    --resources|-r) res=$a ;;
  esac
  case "$a" in
    --log=*) logf=\${a#--log=} ;;
    --process=*) proc=\${a#--process=} ;;
    --bundle=*) bundle=\${a#--bundle=} ;;
    --resources=*) res=\${a#--resources=} ;;
  esac
  if [ -z "$sub" ] && [ -z "$skip" ]; then
    case "$a" in
      --root|--log|--log-format|--criu|--rootless) skip=1 ;;
      -*) ;;
      *) sub=$a ;;
    esac
  else
    skip=
  fi
  prev=$a
done
[ -n "$proc" ] && [ -f "$proc" ] && cp "$proc" "$c.process"
[ "$sub" = create ] && [ -n "$bundle" ] && [ -f "$bundle/config.json" ] && cp "$bundle/config.json" "$c.config.json"
[ -n "$res" ] && [ "$res" != - ] && [ -f "$res" ] && cp "$res" "$c.stdin"
case "$sub" in
  state|ps|list|features)
    "$target" "$@" > "$c.stdout"; rc=$?; cat "$c.stdout" ;;
  update)
    if [ "$res" = - ]; then cat > "$c.stdin"; "$target" "$@" < "$c.stdin"; rc=$?; else "$target" "$@"; rc=$?; fi ;;
  *)
    "$target" "$@"; rc=$? ;;
esac
echo "$rc" > "$c.rc"
[ -n "$logf" ] && [ -f "$logf" ] && cp "$logf" "$c.log"
exit "$rc"
`;
  fs.writeFileSync(scriptPath, script, { mode: 0o755 });
  return scriptPath;
}

/** The calls a logging runtime recorded, in the order they started. */
export function readRuntimeCalls(logDir: string): RuntimeCall[] {
  const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : undefined);
  const calls: RuntimeCall[] = [];
  for (const f of fs.readdirSync(logDir)) {
    if (!f.endsWith(".argv")) continue;
    const base = `${logDir}/${f.slice(0, -5)}`;
    const argv = fs.readFileSync(`${base}.argv`, "utf8").split("\0").slice(0, -1);
    const rc = read(`${base}.rc`);
    calls.push({
      time: BigInt(f.split("-")[0]),
      argv,
      command: runtimeCommand(argv),
      rc: rc === undefined ? undefined : parseInt(rc, 10),
      stdout: read(`${base}.stdout`),
      stdin: read(`${base}.stdin`),
      log: read(`${base}.log`),
      process: read(`${base}.process`),
    });
  }
  return calls.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
}

/** The cgroup directory of a process for a v1 controller (or the v2 tree when there is none). */
export function cgroupDirOf(pid: number, controller: string): string | undefined {
  let lines: string[];
  try {
    lines = fs.readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n").filter(Boolean);
  } catch {
    return undefined;
  }
  for (const l of lines) {
    const [, ctrls, p] = l.split(":");
    if (ctrls.split(",").includes(controller)) return `/sys/fs/cgroup/${controller}${p}`;
  }
  const v2 = lines.find((l) => l.startsWith("0::"));
  if (!v2) return undefined;
  const p = v2.slice(3);
  return fs.existsSync("/sys/fs/cgroup/cgroup.controllers") ? `/sys/fs/cgroup${p}` : `/sys/fs/cgroup/unified${p}`;
}
