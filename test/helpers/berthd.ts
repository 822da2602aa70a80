// A private berthd for integration tests: its own socket, data root, exec root and pid file under
// one temp directory, and a cgroup parent of its own. stop() removes every container through the
// API, stops the daemon, then checks (and clears) what could be left: mounts under the directory,
// monitors, cgroups. The stock docker CLI is driven against it with DOCKER_HOST.
import { afterAll, beforeAll, expect } from "bun:test";
import { mountTmpfs, scratchDir } from "./scratch.ts";
import fs from "node:fs";
import { BUSYBOX, IS_ROOT, REPO, makeRootfs } from "./rootfs.ts";
import { processesMentioning } from "./dockerd.ts";

export { BUSYBOX, IS_ROOT, makeRootfs };
export const BERTHD = `${REPO}/bin/berthd`;
/** The stock docker CLI (28.x at /usr/local/bin here), else Debian's. */
export const DOCKER_CLI = Bun.which("docker", { PATH: "/usr/local/bin:/usr/bin:/bin" }) ?? undefined;

export function berthdSkipReason(): string | undefined {
  if (!IS_ROOT) return "needs root";
  if (!BUSYBOX) return "needs busybox-static";
  if (!DOCKER_CLI) return "needs the docker CLI";
  return undefined;
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let counter = 0;

/** The berth-spawner child of a berthd (native/spawner, started with its first container), if any. */
export function spawnerOf(pid: number): number | undefined {
  for (const p of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const st = fs.readFileSync(`/proc/${p}/stat`, "utf8");
      if (st.includes("(berth-spawner)") && Number(st.slice(st.lastIndexOf(")") + 2).split(" ")[1]) === pid) return Number(p);
    } catch { /* gone */ }
  }
  return undefined;
}

/**
 * The berth-monitor processes of daemon `d` (argv[0] is berth-monitor and the argv names files
 * under its directory): each monitor, and its executor child while that lives (a fork with the
 * same argv). With `id`, only those of that container's run dir (the id's first 16 digits).
 */
export function monitorProcesses(d: Berthd, id?: string): number[] {
  return processesMentioning(d.dir).filter((p) => {
    try {
      const argv = fs.readFileSync(`/proc/${p}/cmdline`, "utf8");
      return argv.split("\0")[0].endsWith("/berth-monitor") && (!id || argv.includes(`/m/${id.slice(0, 16)}/`));
    } catch {
      return false; // gone
    }
  });
}

/** Of `pids`, the monitors themselves, not their executor children (which rename themselves berth-executor). */
export function monitorsOnly(pids: number[]): number[] {
  return pids.filter((p) => {
    try {
      return fs.readFileSync(`/proc/${p}/comm`, "utf8") === "berth-monitor\n";
    } catch {
      return false; // gone
    }
  });
}

export class Berthd {
  readonly dir: string;
  readonly sock: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly cgroupParent: string;
  proc?: ReturnType<typeof Bun.spawn>;
  private logFile: string;

  /** `tmpfsExecRoot`: the exec root on a tmpfs of its own, as /run is on a usual host (benchmarks). */
  /** `env`: added to the daemon's environment (BERTH_SPAWNER=none, say). */
  /** `debug: false`: the daemon at its default log level, as dockerd runs in the benchmark. */
  constructor(readonly name = "t", private opts: { tmpfsExecRoot?: boolean; env?: Record<string, string>; debug?: boolean } = {}) {
    this.dir = scratchDir(`/tmp/berthd-test-${name}-`);
    fs.chmodSync(this.dir, 0o755);
    this.sock = `${this.dir}/berth.sock`;
    this.dataRoot = `${this.dir}/data`;
    this.execRoot = `${this.dir}/exec`;
    if (opts.tmpfsExecRoot) mountTmpfs(this.execRoot);
    this.logFile = `${this.dir}/berthd.log`;
    this.cgroupParent = `/berthd-test-${process.pid}-${name}-${++counter}`;
  }

  get env(): Record<string, string> {
    return { ...process.env, DOCKER_HOST: `unix://${this.sock}`, DOCKER_CONFIG: `${this.dir}/docker-config` } as Record<string, string>;
  }

  args(extra: string[] = []): string[] {
    return [BERTHD, ...(this.opts.debug === false ? [] : ["-D"]), "-H", `unix://${this.sock}`, "--data-root", this.dataRoot, "--exec-root", this.execRoot,
      "--pidfile", `${this.dir}/berthd.pid`, "--cgroup-parent", this.cgroupParent, ...extra];
  }

  /** Starts the daemon and waits until it answers _ping. */
  async start(extra: string[] = []): Promise<void> {
    const out = Bun.file(this.logFile);
    this.proc = Bun.spawn(this.args(extra), {
      stdin: "ignore", stdout: out, stderr: Bun.file(`${this.logFile}.err`), env: { ...process.env, ...this.opts.env },
    });
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (this.proc.exitCode !== null) throw new Error(`berthd exited with ${this.proc.exitCode}: ${this.log()}`);
      try {
        const res = await fetch("http://localhost/_ping", { unix: this.sock } as RequestInit);
        if (res.ok) return;
      } catch { /* not yet */ }
      if (Date.now() > deadline) throw new Error(`berthd did not answer within 20 s: ${this.log()}`);
      await Bun.sleep(30);
    }
  }

  log(): string {
    try {
      return fs.readFileSync(`${this.logFile}.err`, "utf8");
    } catch {
      return "";
    }
  }

  /** SIGTERM (graceful) or SIGKILL (a crash) of the daemon only. */
  async stopDaemon(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<number> {
    if (!this.proc || this.proc.exitCode !== null) return this.proc?.exitCode ?? 0;
    this.proc.kill(signal);
    return await this.proc.exited;
  }

  /** The stock docker CLI against this daemon. */
  async docker(args: string[], o: { stdin?: string | Uint8Array; timeout?: number } = {}): Promise<Result> {
    const p = Bun.spawn([DOCKER_CLI!, ...args], {
      env: this.env, stdin: o.stdin !== undefined ? new Blob([o.stdin]) : "ignore", stdout: "pipe", stderr: "pipe",
    });
    const timer = setTimeout(() => p.kill("SIGKILL"), o.timeout ?? 60_000);
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    clearTimeout(timer);
    return { code, stdout, stderr };
  }

  /** A raw API call on the socket. */
  async api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; text: string }> {
    const res = await fetch(`http://localhost${path}`, {
      unix: this.sock, method, headers: { ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body),
    } as RequestInit);
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch { /* not JSON */ }
    return { status: res.status, json, text };
  }

  /** busybox:latest imported from Debian's busybox-static, CMD sh (the seed's image). */
  async importBusybox(tag = "busybox:latest"): Promise<string> {
    const root = `${this.dir}/bb-rootfs`;
    if (!fs.existsSync(root)) makeRootfs(root);
    const tar = `${this.dir}/bb.tar`;
    if (!fs.existsSync(tar)) {
      const t = Bun.spawnSync(["tar", "-C", root, "-cf", tar, "."]);
      if (t.exitCode !== 0) throw new Error(`tar: ${t.stderr}`);
    }
    const r = await this.docker(["import", "-c", 'CMD ["sh"]', tar, tag]);
    if (r.code !== 0) throw new Error(`docker import: ${r.stderr}`);
    return r.stdout.trim();
  }

  /** Removes all containers, stops the daemon, and clears what a bug could have left. */
  async stop(): Promise<string[]> {
    const leftovers: string[] = [];
    if (this.proc && this.proc.exitCode === null) {
      const ids = (await this.docker(["ps", "-aq", "--no-trunc"])).stdout.split("\n").filter(Boolean);
      if (ids.length) await this.docker(["rm", "-f", ...ids]);
      await this.stopDaemon("SIGTERM");
    }
    if (this.opts.tmpfsExecRoot) Bun.spawnSync(["umount", this.execRoot]); // ours, not a leftover
    for (const line of fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").reverse()) {
      const mp = line.split(" ")[4];
      if (mp && mp.startsWith(this.dir)) {
        leftovers.push(`mount ${mp}`);
        Bun.spawnSync(["umount", "-l", mp]);
      }
    }
    // The cgroup parent stays after its containers, as dockerd's /docker does: remove it quietly;
    // a container cgroup left inside it is a leak.
    for (const h of fs.readdirSync("/sys/fs/cgroup")) {
      const d = `/sys/fs/cgroup/${h}${this.cgroupParent}`;
      if (!fs.existsSync(d)) continue;
      for (const sub of fs.readdirSync(d, { withFileTypes: true })) {
        if (!sub.isDirectory()) continue;
        leftovers.push(`cgroup ${d}/${sub.name}`);
        try {
          fs.rmdirSync(`${d}/${sub.name}`);
        } catch { /* busy: reported */ }
      }
      try {
        fs.rmdirSync(d);
      } catch { /* busy */ }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
    return leftovers;
  }
}

/**
 * A private berthd for the enclosing describe: started, with busybox:latest imported, before its
 * tests; stopped after them, and nothing may be left behind (stop() reports what was).
 */
export function berthdForSuite(name: string, opts?: ConstructorParameters<typeof Berthd>[1]): { d: Berthd; docker: (...a: string[]) => Promise<Result> } {
  const d = new Berthd(name, opts);
  beforeAll(async () => {
    await d.start();
    await d.importBusybox();
  });
  afterAll(async () => {
    expect(await d.stop()).toEqual([]);
  });
  return { d, docker: (...a: string[]) => d.docker(a) };
}
