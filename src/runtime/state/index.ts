// Container state on disk: <root>/<id>/state.json, written atomically (tmp + rename).
// Status is derived from the init pid (and its start time, against pid reuse), never stored.
import fs from "node:fs";
import { BerthError } from "../errors.ts";
import type { ContainerCgroup } from "../cgroups/types.ts";
import { lockOwner } from "./lock.ts";

export const DEFAULT_ROOT = "/run/berth";

export interface ContainerState {
  ociVersion: string;
  id: string;
  pid: number;
  /** field 22 of /proc/PID/stat when the init started: tells a reused pid apart */
  pidStartTime: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations: Record<string, string>;
  cgroup?: ContainerCgroup;
  /** "dev:ino" of the init's pid and mount namespaces, recorded only for the namespaces the
   *  container made itself: what tells its processes from the host's (container/signal.ts). */
  ns?: { pid?: string; mnt?: string };
  /** hooks from the config, for start (poststart) and delete (poststop): also in the saved
   *  config.json, but that one carries the whole seccomp profile, too much to parse on `start` */
  hooks?: import("../spec/types.ts").Hooks;
  /** no mount namespace of its own: its rootfs bind in the caller's, stacked on mount `below` */
  hostRootfsBind?: { path: string; below: number };
  /**
   * Set while `create`/`run` sets the container up, written before anything exists on the host
   * (the cgroups, the executor, the init), cleared when berth records the finished container.
   * If berth dies before that, the state still names what to clean (`delete --force`).
   */
  creating?: Creating;
}

export interface Creating {
  /** the berth process creating it, and its start time (against pid reuse) */
  pid: number;
  startTime: string;
  executorPid?: number;
  executorStartTime?: string;
}

const ID_RE = /^[\w+\-.]+$/;

export function validateId(id: string | undefined): string {
  if (!id) throw new BerthError("a container id is required", { phase: "args", hint: "usage: berth run [options] <container-id>" });
  // A leading dot is refused: <root>/.cache holds berth's own files.
  if (!ID_RE.test(id) || id.startsWith(".") || id.length > 1024) {
    throw new BerthError(`invalid container id ${JSON.stringify(id)}: only letters, digits, _ + - . are allowed`, { phase: "args" });
  }
  return id;
}

export function containerDir(root: string, id: string): string {
  return `${root}/${id}`;
}

/** Claims the id: the mkdir is atomic, so two concurrent runs cannot both get it. */
export function claimId(root: string, id: string): string {
  try {
    fs.mkdirSync(root, { recursive: true, mode: 0o711 });
  } catch (e) {
    throw new BerthError(`cannot create the state root ${root}: ${(e as Error).message}`, { phase: "state", errno: (e as NodeJS.ErrnoException).code });
  }
  const dir = containerDir(root, id);
  try {
    fs.mkdirSync(dir, { mode: 0o711 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") {
      throw new BerthError(`container with id ${JSON.stringify(id)} already exists`, {
        phase: "create", hint: `choose another id, or remove the old one with \`berth delete ${id}\``,
      });
    }
    throw new BerthError(`cannot create ${dir}: ${(e as Error).message}`, { phase: "state", errno: (e as NodeJS.ErrnoException).code });
  }
  return dir;
}

export function writeState(dir: string, state: ContainerState): void {
  const tmp = `${dir}/.state.json.tmp`;
  try {
    fs.writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
    fs.renameSync(tmp, `${dir}/state.json`);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    const errno = (e as NodeJS.ErrnoException).code;
    throw new BerthError(`cannot write the container state in ${dir}: ${errno === "ENOSPC" ? "no space left on device" : (e as Error).message}`, {
      phase: "state", errno, hint: errno === "ENOSPC" || errno === "EDQUOT" ? "free space on the file system of --root" : undefined,
    });
  }
}

export function readState(root: string, id: string): ContainerState | undefined {
  const dir = containerDir(root, id);
  try {
    return JSON.parse(fs.readFileSync(`${dir}/state.json`, "utf8"));
  } catch {
    return orphanState(dir, id);
  }
}

/**
 * A directory without (valid) state: a create killed between claiming the id and writing its
 * first state. Nothing was made on the host yet (the state comes before cgroups and processes),
 * so it is shown as a stopped container that any `delete` clears.
 */
function orphanState(dir: string, id: string): ContainerState | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    return undefined;
  }
  if (!st.isDirectory()) return undefined;
  // Being created right now if another live berth holds its lock (we may hold it ourselves).
  const holder = lockOwner(dir);
  const owner = holder && holder.pid !== process.pid ? holder : undefined;
  return {
    ociVersion: "", id, pid: 0, pidStartTime: "", bundle: "", rootfs: "", created: st.mtime.toISOString(), owner: "",
    annotations: {}, creating: owner ?? { pid: 0, startTime: "" },
  };
}

/** Alive (not a zombie), and the same process (start time) as recorded, when one is. */
export function sameProcess(pid: number | undefined, startTime: string | undefined): boolean {
  if (!pid || pid < 0) return false;
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return false;
  }
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (rest[0] === "Z" || rest[0] === "X") return false;
  return !startTime || rest[22 - 3] === startTime;
}

export function removeContainerDir(root: string, id: string): void {
  fs.rmSync(containerDir(root, id), { recursive: true, force: true });
}

let ownStartTime: string | undefined;

/** Start time of a process (clock ticks since boot), or undefined if it does not exist. */
export function procStartTime(pid: number): string | undefined {
  // our own never changes (berthd starts many containers): read once
  if (pid === process.pid && ownStartTime !== undefined) return ownStartTime;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (pid === process.pid) ownStartTime = rest[22 - 3];
    return rest[22 - 3];
  } catch {
    return undefined;
  }
}
