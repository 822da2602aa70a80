// Container state on disk: <root>/<id>/state.json, written atomically (tmp + rename).
// Status is derived from the init pid (and its start time, against pid reuse), never stored.
import fs from "node:fs";
import { BerthError } from "../errors.ts";
import type { ContainerCgroup } from "../cgroups/types.ts";

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
  /** hooks from the config, for start (poststart) and delete (poststop): also in the saved
   *  config.json, but that one carries the whole seccomp profile, too much to parse on `start` */
  hooks?: import("../spec/types.ts").Hooks;
  /** no mount namespace of its own: its rootfs bind in the caller's, stacked on mount `below` */
  hostRootfsBind?: { path: string; below: number };
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
  fs.writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
  fs.renameSync(tmp, `${dir}/state.json`);
}

export function readState(root: string, id: string): ContainerState | undefined {
  try {
    return JSON.parse(fs.readFileSync(`${containerDir(root, id)}/state.json`, "utf8"));
  } catch {
    return undefined;
  }
}

export function removeContainerDir(root: string, id: string): void {
  fs.rmSync(containerDir(root, id), { recursive: true, force: true });
}

/** Start time of a process (clock ticks since boot), or undefined if it does not exist. */
export function procStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return rest[22 - 3];
  } catch {
    return undefined;
  }
}
