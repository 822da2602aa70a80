// The OCI lifecycle after create: start, state, kill, delete, list. Status is derived each time
// (state/status.ts); operations in the wrong state fail with a clear error.
import fs from "node:fs";
import { BerthError } from "../errors.ts";
import { containerDir, readState, removeContainerDir, type ContainerState } from "../state/index.ts";
import { containerStatus, initAlive, type Status } from "../state/status.ts";
import { killCreating, creationAlive } from "../state/provisional.ts";
import { lockContainer } from "../state/lock.ts";
import { runHooks } from "./hooks.ts";
import { startAndWatch } from "./start-watch.ts";
import { detachRootfsBind } from "./host-mounts.ts";
import { stdioSinks, type Sinks } from "../sinks.ts";
import { SIGNALS } from "../linux.ts";
import { containerPids, mayEverSignal, signalPids } from "./signal.ts";

export interface Loaded {
  dir: string;
  state: ContainerState;
  status: Status;
}

async function cgroupsModule() {
  return import("../cgroups/index.ts");
}


export function loadContainer(root: string, id: string): Loaded {
  const dir = containerDir(root, id);
  const state = readState(root, id);
  if (!state) {
    throw new BerthError(`container ${JSON.stringify(id)} does not exist`, {
      phase: "state", hint: fs.existsSync(root) ? "`berth list` shows the containers" : `no containers under ${root} (is --root right?)`,
    });
  }
  return { dir, state, status: containerStatus(dir, state) };
}

/** The OCI state document, as `runc state` prints it. */
export function ociState(l: Loaded) {
  return {
    ociVersion: l.state.ociVersion,
    id: l.state.id,
    pid: l.status === "stopped" ? 0 : l.state.pid,
    status: l.status,
    bundle: l.state.bundle,
    rootfs: l.state.rootfs,
    created: l.state.created,
    owner: l.state.owner,
    ...(Object.keys(l.state.annotations ?? {}).length ? { annotations: l.state.annotations } : {}),
  };
}

function warner(sinks: Sinks) {
  return (e: unknown): void => sinks.warn(e instanceof BerthError ? e.describe() : String(e));
}

export async function startContainer(root: string, id: string, sinks: Sinks = stdioSinks): Promise<void> {
  const release = lockContainer(containerDir(root, id), id);
  try {
    const l = loadContainer(root, id);
    if (l.status !== "created") {
      throw new BerthError(`cannot start container ${JSON.stringify(id)}: it is ${l.status}, not created`, {
        phase: "start", hint: l.status === "stopped" ? "its init exited; `berth delete` it and create it again" : undefined,
      });
    }
    const fifo = `${l.dir}/exec.fifo`;
    let fd: number;
    try {
      // Non-blocking: with the init gone there is no reader and this fails with ENXIO at once.
      fd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new BerthError(`cannot start container ${JSON.stringify(id)}: ${code === "ENXIO" ? "its init is not running" : (e as Error).message}`, { phase: "start", errno: code });
    }
    try {
      // Returns once the container process runs; throws what stopped it otherwise.
      await startAndWatch(fifo, fd, l.state.pid, l.dir);
    } finally {
      fs.rmSync(fifo, { force: true });
    }
    await runHooks("poststart", l.state.hooks?.poststart, { ...ociState({ ...l, status: "running" }) }, warner(sinks));
  } finally {
    release();
  }
}

export function parseSignal(sig: string | undefined): number {
  if (sig === undefined || sig === "") return SIGNALS.SIGTERM;
  if (/^\d+$/.test(sig)) {
    const n = Number(sig);
    if (n > 0 && n < 65) return n;
  } else {
    const name = sig.toUpperCase().startsWith("SIG") ? sig.toUpperCase() : `SIG${sig.toUpperCase()}`;
    if (SIGNALS[name] !== undefined) return SIGNALS[name];
    const rt = /^SIGRTMIN(\+(\d+))?$/.exec(name);
    if (rt) return 34 + Number(rt[2] ?? 0);
  }
  throw new BerthError(`unknown signal ${JSON.stringify(sig)}`, { phase: "kill", hint: "use a name (TERM, SIGKILL) or a number (9)" });
}

export async function killContainer(root: string, id: string, signal: number, all: boolean): Promise<void> {
  const l = loadContainer(root, id);
  if (l.status === "stopped") {
    throw new BerthError(`cannot kill container ${JSON.stringify(id)}: it is not running`, { phase: "kill" });
  }
  if (l.status === "creating") {
    throw new BerthError(`cannot kill container ${JSON.stringify(id)}: it is still being created`, {
      phase: "kill", hint: "wait for `berth create` to finish, or `berth delete --force` it",
    });
  }
  if (!mayEverSignal(l.state.pid)) {
    throw new BerthError(`cannot kill container ${JSON.stringify(id)}: its state names pid ${l.state.pid}, which berth never signals`, {
      phase: "kill", hint: "the state file is damaged; `berth delete --force` removes the container",
    });
  }
  const pids = new Set<number>([l.state.pid]);
  if (all && l.state.cgroup) {
    const { detectLayout, candidatePids } = await cgroupsModule();
    for (const p of containerPids(l.state, candidatePids(detectLayout(), l.state.cgroup))) pids.add(p);
  }
  const err = signalPids(pids, signal);
  if (err) throw new BerthError(err.message, { phase: "kill" });
  // A paused container's processes only see SIGKILL once thawed... SIGKILL works on frozen
  // tasks on cgroup v2 and v1 alike; other signals wait for `resume`, as with runc.
}

// Async: in berthd, waiting here must not stall every other request.
async function waitGone(state: ContainerState, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (state.creating ? creationAlive(state) : initAlive(state)) {
    if (Date.now() > deadline) return false;
    await Bun.sleep(2);
  }
  return true;
}

export async function deleteContainer(root: string, id: string, force: boolean, sinks: Sinks = stdioSinks): Promise<void> {
  const dir = containerDir(root, id);
  if (!fs.existsSync(dir)) {
    if (force) return; // as runc: forcing the removal of what is already gone succeeds (shims rely on it)
    throw new BerthError(`container ${JSON.stringify(id)} does not exist`, { phase: "delete" });
  }
  // Waits for a `create` still at work (it holds the lock); one that was killed left a stale lock.
  const release = lockContainer(dir, id);
  try {
    const l = loadContainer(root, id);
    if ((l.status === "running" || l.status === "paused" || l.status === "creating") && !force) {
      throw new BerthError(`cannot delete container ${JSON.stringify(id)} that is not stopped: ${l.status}`, {
        phase: "delete", hint: "stop it first (`berth kill`), or use `berth delete --force`",
      });
    }
    const cg = l.state.cgroup ? await cgroupsModule() : undefined;
    const layout = cg?.detectLayout();
    const victims = () => (cg && layout && l.state.cgroup ? containerPids(l.state, cg.candidatePids(layout, l.state.cgroup)) : []);
    if (l.status !== "stopped") {
      // created (its init waits on the fifo), or --force: kill the container. With a pid
      // namespace of its own, killing the init kills everything in it.
      if (cg && layout && l.state.cgroup && l.status === "paused") {
        try {
          cg.freeze(layout, l.state.cgroup, false);
        } catch { /* killing below works on frozen tasks too */ }
      }
      if (l.state.creating) killCreating(l.state);
      signalPids(l.state.ns?.pid ? [] : victims(), "SIGKILL");
      if (initAlive(l.state)) signalPids([l.state.pid], "SIGKILL");
      if (!(await waitGone(l.state, 5000))) {
        throw new BerthError(`container ${JSON.stringify(id)}: its init (pid ${l.state.pid}) did not die after SIGKILL`, { phase: "delete", hint: "it may be stuck in the kernel (D state); try again" });
      }
    }
    if (cg && layout && l.state.cgroup) {
      // Processes left behind when the container had no pid namespace of its own.
      signalPids(victims(), "SIGKILL");
      cg.destroyCgroup(layout, l.state.cgroup);
    }
    if (l.state.hostRootfsBind) detachRootfsBind(l.state.hostRootfsBind.path, l.state.hostRootfsBind.below);
    // A create that never finished never ran the container: no poststop for it.
    if (!l.state.creating) await runHooks("poststop", l.state.hooks?.poststop, { ...ociState({ ...l, status: "stopped" }) }, warner(sinks));
    removeContainerDir(root, id);
  } finally {
    release();
  }
}

export function listContainers(root: string): Loaded[] {
  let ids: string[];
  try {
    ids = fs.readdirSync(root);
  } catch {
    return [];
  }
  const out: Loaded[] = [];
  for (const id of ids.sort()) {
    if (id.startsWith(".")) continue; // berth's own files (.cache), not containers
    try {
      out.push(loadContainer(root, id));
    } catch { /* a directory being created or deleted right now */ }
  }
  return out;
}
