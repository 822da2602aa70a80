// The runtime as a library: create a container from a bundle (`create`), or create and start it
// (`run`, in the foreground or detached). The CLI and later berthd call this. Every failure path
// undoes what was done: no state dir, cgroup or process is left behind.
import fs from "node:fs";
import path from "node:path";
import { BerthError, configError } from "../errors.ts";
import type { Spec } from "../spec/types.ts";
import { compilePlan, type CompileInput } from "../plan/compile.ts";
import { encodeAhead } from "../plan/encode.ts";
import type { SeccompNotify } from "../plan/process.ts";
import { printPlan } from "../plan/print.ts";
import type { Plan } from "../plan/types.ts";
import { claimId, procStartTime, removeContainerDir, writeState, type ContainerState } from "../state/index.ts";
import { lockContainer } from "../state/lock.ts";
import { launch, type Launched, type LaunchOptions } from "../executor/launch.ts";
import { CgroupSetup } from "./cgroup.ts";
import { checkHostNamespaces } from "../spec/hostns.ts";
import { initNamespaces, signalPids, type Owner } from "./signal.ts";
import { runHooks, type OciState } from "./hooks.ts";
import { checkLsm } from "./lsm.ts";
import { START_STEPS_FILE, startSteps } from "./start-watch.ts";
import { detachRootfsBind, mountBelowRootfs } from "./host-mounts.ts";
import { mark } from "../trace.ts";
import { compileSeccompCached } from "../seccomp/cache.ts";
import { stdioSinks, type Sinks } from "../sinks.ts";

export interface RunOptions {
  id: string;
  bundle: string;
  spec: Spec;
  root: string;
  detach?: boolean;
  noPivot?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: number;
  keep?: boolean;
  dryRun?: boolean;
  systemdCgroup?: boolean;
  /** where warnings and dry-run output go (default: stderr/stdout) */
  sinks?: Sinks;
  /** run the executor under this argv prefix (berthd's monitor; see LaunchOptions.wrap) */
  wrap?: string[];
  /** with `wrap`: a sealed copy of the executor to run (LaunchOptions.executorFd) */
  executorFd?: number;
  /** with `wrap`: who starts it (LaunchOptions.spawnWrapper) */
  spawnWrapper?: LaunchOptions["spawnWrapper"];
  /**
   * run: the container is recorded and its init about to exec; what must be in place before
   * the process runs (berthd joins its attach streams to the monitor here). A throw aborts.
   */
  beforeExec?: (initPid: number) => Promise<void>;
}

type Mode = "foreground" | "detach" | "create";

/** Signals a foreground berth passes on to the container (through the executor's stage 0). */
export const FORWARDED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

const hostView: CompileInput["host"] = {
  kind(p) {
    try {
      // A missing path is no exception: making one (its stack) costs more than the stat here.
      const st = fs.statSync(p, { throwIfNoEntry: false });
      return !st ? "missing" : st.isDirectory() ? "dir" : st.isFile() ? "file" : "other";
    } catch {
      return "missing"; // (not a directory on the way, no permission: as missing)
    }
  },
  readFile(p) {
    try {
      return fs.readFileSync(p, "utf8");
    } catch {
      return undefined;
    }
  },
};

function resolveRootfs(bundle: string, spec: Spec): string {
  if (!spec.root?.path) throw configError("root.path", "no root filesystem given", 'set root.path (usually "rootfs")');
  const rootfs = path.resolve(bundle, spec.root.path);
  let st: fs.Stats;
  try {
    st = fs.statSync(rootfs);
  } catch {
    throw configError("root.path", `rootfs ${rootfs} does not exist`, "create it, e.g. by exporting an image into it");
  }
  if (!st.isDirectory()) throw configError("root.path", `rootfs ${rootfs} is not a directory`);
  // The executor resolves mounts inside the real path; a symlinked rootfs must not move.
  return fs.realpathSync(rootfs);
}

async function compileSeccomp(spec: Spec, root: string, dryRun: boolean) {
  if (!spec.linux?.seccomp) return undefined;
  return compileSeccompCached(spec.linux.seccomp, "linux.seccomp", `${root}/.cache/seccomp`, !dryRun);
}

/**
 * With SCMP_ACT_NOTIFY rules, the listener fd goes to the agent at listenerPath with the
 * runtime-spec's container process state (as runc sends it); the pid is only known to stage 0.
 */
export function seccompNotify(spec: Spec, id: string, bundle: string, status = "creating"): SeccompNotify | undefined {
  const sc = spec.linux?.seccomp;
  if (!sc?.syscalls?.some((r) => r.action === "SCMP_ACT_NOTIFY") || !sc.listenerPath) return undefined;
  const PID = -987654321987; // `"pid":-987654321987` cannot occur inside a JSON string (its quotes would be escaped)
  const state: Record<string, unknown> = { ociVersion: spec.ociVersion, id, status, pid: PID, bundle };
  if (spec.annotations && Object.keys(spec.annotations).length) state.annotations = spec.annotations;
  const msg: Record<string, unknown> = { ociVersion: spec.ociVersion, fds: ["seccompFd"], pid: PID };
  if (sc.listenerMetadata) msg.metadata = sc.listenerMetadata;
  msg.state = state;
  const [head, mid, tail] = JSON.stringify(msg).split(`"pid":${PID}`);
  return { path: path.resolve(bundle, sc.listenerPath), head: head + '"pid":', mid: mid + '"pid":', tail };
}

const describe = (e: unknown): string => (e instanceof BerthError ? e.describe() : String(e));

export function writePidFile(file: string, pid: number): void {
  const abs = path.resolve(file);
  const tmp = `${abs}.berth-tmp`;
  try {
    fs.writeFileSync(tmp, String(pid));
    fs.renameSync(tmp, abs);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new BerthError(`cannot write pid file ${abs}: ${(e as Error).message}`, { phase: "pid-file", errno: (e as NodeJS.ErrnoException).code });
  }
}

/** Everything up to the plan: validation and decisions only; nothing on the host changes. */
export async function preparePlan(o: RunOptions, cgroups: CgroupSetup, mode: Mode, fifoPath?: string): Promise<{ plan: Plan; rootfs: string }> {
  const spec = o.spec;
  if (!spec.process) throw configError("process", "config.json has no process to run");
  checkHostNamespaces(spec);
  const rootfs = resolveRootfs(o.bundle, spec);
  const terminal = spec.process.terminal ?? false;
  if (terminal && mode !== "foreground" && !o.consoleSocket) {
    throw configError("process.terminal", "cannot allocate a terminal for a detached container without --console-socket",
      "pass --console-socket, or set process.terminal to false");
  }
  if (!terminal && o.consoleSocket) {
    throw configError("process.terminal", "--console-socket was given but process.terminal is false");
  }
  checkLsm(spec.process, spec.linux);
  const compiled = await compileSeccomp(spec, o.root, !!o.dryRun);
  const notify = compiled && seccompNotify(spec, o.id, o.bundle);
  const seccomp = compiled && notify ? { ...compiled, notify } : compiled;
  const plan = compilePlan({
    spec, bundle: o.bundle, rootfs, mode, noPivot: o.noPivot, consoleSocket: o.consoleSocket, fifoPath,
    preserveFds: o.preserveFds, seccomp, host: hostView, cgroup: cgroups.forPlan(),
  });
  plan.notes.unshift(...cgroups.notes());
  return { plan, rootfs };
}

/**
 * Plans made ahead of a run (planAhead), by the spec object they are for: a caller that knows a
 * run is coming (berthd, between a container's create and its start) has the decisions made
 * while it would otherwise wait, and the run takes them if it gets that very spec object with
 * the same options, soon enough: the plan looked at the host (bind sources, the rootfs's files)
 * when it was made, so an old one is made again.
 */
const ahead = new WeakMap<Spec, { key: string; at: number; cgroups: CgroupSetup; planned: Promise<{ plan: Plan; rootfs: string } | undefined> }>();
const AHEAD_MAX_AGE_MS = 1000;
const aheadKey = (o: RunOptions, mode: Mode) =>
  JSON.stringify([o.id, o.bundle, o.root, mode, o.noPivot, o.consoleSocket, o.preserveFds, o.systemdCgroup]);

/** Makes the plan `runContainer(o)` would (detached or in the foreground), for it to take. Touches nothing on the host. */
export function planAhead(o: RunOptions): void {
  const mode: Mode = o.detach ? "detach" : "foreground";
  const cgroups = new CgroupSetup(o.id, o.spec, o.systemdCgroup ?? false);
  // A plan that cannot be made is made again by the run, which then reports why.
  const planned = preparePlan(o, cgroups, mode).then((p) => {
    encodeAhead(p.plan); // (its bytes too: launch sends them as they are)
    return p;
  }).catch(() => undefined);
  ahead.set(o.spec, { key: aheadKey(o, mode), at: performance.now(), cgroups, planned });
}

async function takeAhead(o: RunOptions, mode: Mode) {
  const a = ahead.get(o.spec);
  if (!a) return undefined;
  ahead.delete(o.spec);
  if (a.key !== aheadKey(o, mode) || performance.now() - a.at > AHEAD_MAX_AGE_MS) return undefined;
  const p = await a.planned;
  return p && { ...p, cgroups: a.cgroups };
}

interface Created {
  launched: Launched;
  state: ContainerState;
  cgroups: CgroupSetup;
  dir: string;
}

/** Creates the container up to the point `mode` asks for; undoes everything if any step fails. */
async function createContainer(o: RunOptions, mode: Mode): Promise<Created | undefined> {
  const pre = mode === "create" || o.dryRun ? undefined : await takeAhead(o, mode);
  const cgroups = pre?.cgroups ?? new CgroupSetup(o.id, o.spec, o.systemdCgroup ?? false);
  const fifo = mode === "create" ? `${o.root}/${o.id}/exec.fifo` : undefined;
  // Decide everything before touching the host, so bad input leaves nothing behind.
  const { plan, rootfs } = pre ?? await preparePlan(o, cgroups, mode, fifo);
  if (o.dryRun) {
    (o.sinks ?? stdioSinks).out(printPlan(plan));
    return undefined;
  }
  mark("plan ready");
  const dir = claimId(o.root, o.id);
  const hostBind = o.spec.linux?.namespaces?.some((n) => n.type === "mount") ? undefined : { path: rootfs, below: mountBelowRootfs(rootfs) };
  let launched: Launched | undefined;
  let release: (() => void) | undefined;
  let unwritten: BerthError | undefined;
  let pidFileWritten = false;
  let owner: Owner | undefined;
  const ociState = (status: string, pid?: number): OciState => ({
    ociVersion: o.spec.ociVersion, id: o.id, status, pid, bundle: o.bundle, annotations: o.spec.annotations ?? {},
  });
  const undo = () => {
    const init = launched?.initPid || owner?.pid;
    if (init) signalPids([init], "SIGKILL");
    cgroups.killAll(owner);
    cgroups.destroy();
    if (hostBind) detachRootfsBind(hostBind.path, hostBind.below);
    removeContainerDir(o.root, o.id);
    if (pidFileWritten) fs.rmSync(path.resolve(o.pidFile!), { force: true });
  };
  // Crash safety: from the first thing made on the host to the commit, state.json says what
  // exists (state.creating), so a berth killed at any moment leaves a container that `list`
  // shows and `delete --force` removes; the init itself never outlives an unfinished create.
  const state: ContainerState = {
    ociVersion: o.spec.ociVersion, id: o.id, pid: 0, pidStartTime: "", bundle: o.bundle, rootfs,
    created: new Date().toISOString(), owner: "", annotations: o.spec.annotations ?? {},
    cgroup: cgroups.provisional(), hooks: o.spec.hooks,
    creating: { pid: process.pid, startTime: procStartTime(process.pid) ?? "" },
  };
  // Updates of the provisional state are best effort: the executor's pid is already recorded.
  const note = (edit: () => void) => {
    try {
      edit();
      writeState(dir, state);
    } catch { /* the next write (or the commit, which must succeed) tries again */ }
  };
  try {
    release = lockContainer(dir, o.id);
    writeState(dir, state);
    launched = await launch(plan, {
      preserveFds: o.preserveFds,
      wrap: o.wrap,
      executorFd: o.executorFd,
      spawnWrapper: o.spawnWrapper,
      onSpawn: (pid) => note(() => {
        state.creating!.executorPid = pid;
        state.creating!.executorStartTime = procStartTime(pid) ?? "";
      }),
      beforePlan: () => {
        cgroups.create();
        mark("cgroup created");
      },
      afterPlan: () => {
        // (after the executor has its word: the provisional state names the planned cgroups and
        // which of them did not exist, all that a delete --force after a crash here needs)
        note(() => (state.cgroup = cgroups.stateInfo()));
        for (const w of cgroups.warnings()) (o.sinks ?? stdioSinks).warn(`cgroups: ${w}`);
        // Written while the init sets itself up, off the commit's path: what `start` needs to
        // name a death between the fifo and exec (start-watch.ts), and the process as created,
        // which `berth exec` starts from. A crash leaves them to delete --force; a failure
        // refuses the commit.
        try {
          if (mode === "create") fs.writeFileSync(`${dir}/${START_STEPS_FILE}`, JSON.stringify(startSteps(plan)));
          fs.writeFileSync(`${dir}/config.json`, JSON.stringify(o.spec));
        } catch (e) {
          unwritten = new BerthError(`cannot write the container's state files in ${dir}: ${(e as Error).message}`, {
            phase: "state", errno: (e as NodeJS.ErrnoException).code,
          });
        }
      },
      onPid: (pid) => note(() => {
        state.pid = pid;
        state.pidStartTime = procStartTime(pid) ?? "";
      }),
      onHookPoint: async (pid) => {
        // Known before launch returns: a failing hook must still let undo find the init.
        owner = { pid, pidStartTime: procStartTime(pid) ?? "", ns: initNamespaces(pid, o.spec) };
        // prestart (deprecated, same moment) and createRuntime: host side, init paused.
        await runHooks("prestart", o.spec.hooks?.prestart, ociState("creating", pid));
        await runHooks("createRuntime", o.spec.hooks?.createRuntime, ociState("creating", pid));
        return Buffer.from(JSON.stringify(ociState("created", pid)));
      },
      onCommit: (pid) => {
        if (unwritten) throw unwritten;
        // The init is set up and about to wait on the fifo (create) or exec (run): record it
        // for good before it may outlive us.
        state.pid = pid;
        state.pidStartTime = procStartTime(pid) ?? "";
        state.ns = initNamespaces(pid, o.spec);
        state.cgroup = cgroups.stateInfo();
        if (hostBind) state.hostRootfsBind = hostBind;
        delete state.creating;
        writeState(dir, state);
        if (o.pidFile) {
          writePidFile(o.pidFile, pid);
          pidFileWritten = true;
        }
        if (mode !== "create") return o.beforeExec?.(pid);
      },
    });
    mark(launched.error ? "setup failed" : mode === "create" ? "container created" : "container process started");
    if (launched.initPid && owner?.pid !== launched.initPid) {
      owner = { pid: launched.initPid, pidStartTime: procStartTime(launched.initPid) ?? "", ns: initNamespaces(launched.initPid, o.spec) };
    }
    if (launched.error) throw launched.error;
    return { launched, state, cgroups, dir };
  } catch (e) {
    undo();
    throw e;
  } finally {
    release?.();
  }
}

/** `berth create`: the init is set up and waits for `berth start`. */
export async function createOnly(o: RunOptions): Promise<number> {
  await createContainer(o, "create");
  return 0;
}

/** `berth run`: create and start, then (foreground) wait and clean up. */
export async function runContainer(o: RunOptions): Promise<number> {
  const mode = o.detach ? "detach" : "foreground";
  // Forward signals sent to berth to the container (through the executor's stage 0).
  let created: Created | undefined;
  // A signal can arrive after the container runs but before we hold its handle (its process may
  // already print "ready"): keep it, and deliver it as soon as we can.
  const pending: NodeJS.Signals[] = [];
  if (mode === "foreground") {
    for (const s of FORWARDED) process.on(s, () => (created ? created.launched.kill(s) : pending.push(s)));
  }
  created = await createContainer(o, mode);
  if (!created) return 0; // dry run
  for (const s of pending) created.launched.kill(s);
  const { launched, cgroups, state: saved } = created;
  const state = (status: string) => ({
    ociVersion: o.spec.ociVersion, id: o.id, status, pid: launched.initPid, bundle: o.bundle, annotations: o.spec.annotations ?? {},
  });
  await runHooks("poststart", o.spec.hooks?.poststart, state("running"), (e) => (o.sinks ?? stdioSinks).warn(describe(e)));
  if (mode === "detach") return 0;

  const code = await launched.exited;
  mark("container exited");
  if (!o.keep) {
    cgroups.killAll(saved);
    cgroups.destroy();
    if (created.state.hostRootfsBind) detachRootfsBind(created.state.hostRootfsBind.path, created.state.hostRootfsBind.below);
    await runHooks("poststop", o.spec.hooks?.poststop, state("stopped"), (e) => (o.sinks ?? stdioSinks).warn(describe(e)));
    removeContainerDir(o.root, o.id);
    mark("cleaned up");
  }
  return code;
}
