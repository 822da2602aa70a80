// A private podman for integration tests: its own storage (--root/--runroot/--tmpdir), its own
// containers.conf (cgroupfs, file events, no network, explicit ulimits), its own cgroup parent.
// stop() removes containers and storage, kills what is left in its cgroup parent, unmounts and
// removes its directory. Needs root and Debian's podman (with conmon).
//
// Caveats found on the development machine (see test/integration/DOCKER-NOTES.md):
// - podman as root asks the runtime for RLIMIT_NOFILE/RLIMIT_NPROC 1048576; without
//   CAP_SYS_RESOURCE (a sandbox may drop it) setrlimit fails with EPERM, so the limits are set
//   explicitly, no higher than this process's hard limits.
// - the runtime's state root cannot be made private: `--runtime-flag root=...` is not passed to
//   `podman container cleanup` (run by conmon when the container exits), whose `delete --force`
//   then goes to the runtime's default root and the state is left behind.
import { scratchDir } from "./scratch.ts";
import fs from "node:fs";
import {
  alive, cgroupDirs, cgroupPids, IS_ROOT, BUSYBOX, makeBusyboxRootfs, mountsUnder, processesMentioning,
  removeCgroupTree, SEARCH, signal, unmountUnder, waitGone, type Result,
} from "./dockerd.ts";

export const PODMAN = Bun.which("podman", { PATH: SEARCH }) ?? undefined;
const CONMON = ["/usr/bin/conmon", "/usr/libexec/podman/conmon"].find((p) => fs.existsSync(p));

/** Why the podman tests cannot run here, or undefined when they can. */
export function podmanSkipReason(): string | undefined {
  if (!IS_ROOT) return "needs root";
  if (!BUSYBOX) return "needs busybox-static (the image is built from /bin/busybox)";
  if (!PODMAN || !CONMON) return "needs podman (apt-get install podman)";
  if (!Bun.which("script", { PATH: SEARCH })) return "needs bsdutils (script)";
  return undefined;
}

function hardLimit(name: string): number {
  const line = fs.readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith(name));
  const hard = line?.split(/\s{2,}/)[2];
  return !hard || hard === "unlimited" ? Infinity : parseInt(hard, 10);
}

// Shared directories podman creates whatever its configuration says.
const SHARED_DIRS = ["/var/lib/containers/cache", "/var/lib/containers"];

export class Podman {
  readonly dir: string;
  /** Containers go under /<cgroupParent>/libpod-<id> (and conmon under /<cgroupParent>/conmon). */
  readonly cgroupParent: string;
  private stopped = false;
  private sharedBefore = new Set<string>();
  private readonly onExit = () => this.stop();

  constructor() {
    this.dir = scratchDir("/tmp/berth-podman-");
    fs.chmodSync(this.dir, 0o755);
    this.cgroupParent = this.dir.split("/").at(-1)!;
    for (const p of SHARED_DIRS) if (fs.existsSync(p)) this.sharedBefore.add(p);
    fs.mkdirSync(`${this.dir}/tmp`);
    fs.mkdirSync(`${this.dir}/home`);
    const nofile = Math.min(1024, hardLimit("Max open files"));
    const nproc = Math.min(4096, hardLimit("Max processes"));
    fs.writeFileSync(`${this.dir}/containers.conf`, [
      "[containers]",
      `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]`,
      'netns = "none"',
      "[engine]",
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = "${this.dir}/events.log"`,
      "",
    ].join("\n"));
    fs.writeFileSync(`${this.dir}/storage.conf`, [
      "[storage]",
      `driver = "${process.env.BERTH_PODMAN_STORAGE || "overlay"}"`,
      `graphroot = "${this.dir}/root"`,
      `runroot = "${this.dir}/runroot"`,
      "",
    ].join("\n"));
    process.on("exit", this.onExit);
  }

  env(): Record<string, string> {
    return {
      // HOME: podman creates $HOME/.config/containers even as root.
      PATH: SEARCH, HOME: `${this.dir}/home`, LANG: "C.UTF-8", TERM: "xterm",
      CONTAINERS_CONF: `${this.dir}/containers.conf`,
      CONTAINERS_STORAGE_CONF: `${this.dir}/storage.conf`,
      TMPDIR: `${this.dir}/tmp`,
    };
  }

  /** The podman command line prefix (global flags), for shells. */
  argv0(): string[] {
    return [PODMAN!, "--root", `${this.dir}/root`, "--runroot", `${this.dir}/runroot`, "--tmpdir", `${this.dir}/tmp`,
      "--cgroup-manager", "cgroupfs", "--events-backend", "file"];
  }

  podman(args: string[], opts: { stdin?: string; timeout?: number } = {}): Result {
    const r = Bun.spawnSync([...this.argv0(), ...args], {
      env: this.env(),
      stdin: opts.stdin !== undefined ? Buffer.from(opts.stdin) : "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: opts.timeout ?? 60_000,
      killSignal: "SIGKILL",
    });
    const stderr = r.stderr.toString() + (r.exitedDueToTimeout ? `\n[timed out after ${opts.timeout ?? 60_000} ms]` : "");
    return { code: r.exitCode ?? 128 + 9, stdout: r.stdout.toString(), stderr };
  }

  /** Imports a busybox rootfs as localhost/busybox:latest with CMD ["sh"]. */
  importBusybox(name = "localhost/busybox:latest"): void {
    const root = `${this.dir}/busybox-rootfs`;
    makeBusyboxRootfs(root);
    const tar = `${this.dir}/busybox.tar`;
    const t = Bun.spawnSync(["tar", "-C", root, "-cf", tar, "."], { stderr: "pipe" });
    if (t.exitCode !== 0) throw new Error(`tar: ${t.stderr}`);
    const r = this.podman(["import", "-q", "-c", 'CMD ["sh"]', tar, name]);
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(tar, { force: true });
    if (r.code !== 0) throw new Error(`podman import: ${r.stderr}`);
  }

  removeAllContainers(): void {
    this.podman(["rm", "-af", "-t", "0"], { timeout: 30_000 });
  }

  /** Removes everything it created; synchronous (also runs from an exit handler). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    process.off("exit", this.onExit);
    try {
      this.removeAllContainers();
      this.podman(["system", "reset", "-f"], { timeout: 30_000 });
    } catch { /* forced below */ }
    const procs = processesMentioning(this.dir);
    for (const p of procs) signal(p, "SIGKILL");
    waitGone(procs, 5000);
    for (const cg of cgroupDirs(this.cgroupParent)) {
      const pids = cgroupPids(cg);
      for (const p of pids) signal(p, "SIGKILL");
      waitGone(pids, 5000);
      removeCgroupTree(cg);
    }
    unmountUnder(this.dir);
    fs.rmSync(this.dir, { recursive: true, force: true });
    for (const p of SHARED_DIRS) {
      if (this.sharedBefore.has(p)) continue;
      // podman's blob-info cache: created by us when it did not exist before.
      if (p.endsWith("/cache")) fs.rmSync(`${p}/blob-info-cache-v1.boltdb`, { force: true });
      try {
        fs.rmdirSync(p);
      } catch { /* not empty: not ours to force */ }
    }
  }

  leftovers(): string[] {
    const out: string[] = [];
    for (const p of processesMentioning(this.dir)) if (alive(p)) out.push(`process ${p}`);
    for (const mp of mountsUnder(this.dir)) out.push(`mount ${mp}`);
    if (fs.existsSync(this.dir)) out.push(this.dir);
    for (const cg of cgroupDirs(this.cgroupParent)) out.push(cg);
    return out;
  }
}
