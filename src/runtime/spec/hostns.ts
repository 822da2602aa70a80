// Settings that would change the caller's own namespaces: a sysctl or a host name applied in a
// namespace the container does not own writes to the host. runc refuses these in its config
// validator; we do too, before anything on the host changes. "Host" means the caller's own
// namespace (compared by device and inode, as /proc/self/ns/* shows it), which is what a path
// like /proc/1/ns/net, or /proc/<pid of a host process>/ns/net, joins.
import fs from "node:fs";
import { configError } from "../errors.ts";
import type { Spec } from "./types.ts";

const NS_FILE: Record<string, string> = { network: "net", uts: "uts", ipc: "ipc" };

/** Is the namespace at `path` the caller's own namespace of this type? */
export function isCallersNamespace(type: string, path: string): boolean {
  try {
    const a = fs.statSync(path), b = fs.statSync(`/proc/self/ns/${NS_FILE[type] ?? type}`);
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false; // a bad path fails later, where the executor joins it, with its own message
  }
}

/** Which namespace a sysctl belongs to (runc's list), or undefined: not namespaced at all. */
export function sysctlNamespace(key: string): "ipc" | "network" | "uts" | undefined {
  if (/^kernel\.(msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced)$/.test(key)) return "ipc";
  if (key.startsWith("fs.mqueue.")) return "ipc";
  if (key.startsWith("net.")) return "network";
  if (key === "kernel.hostname" || key === "kernel.domainname") return "uts";
  return undefined;
}

const WORDS: Record<string, string> = { network: "network", uts: "UTS", ipc: "IPC" };

/** Throws a config error naming the field when the spec would write to a host namespace. */
export function checkHostNamespaces(spec: Spec, isHost: (type: string, path: string) => boolean = isCallersNamespace): void {
  const list = spec.linux?.namespaces ?? [];
  const index = (t: string) => list.findIndex((n) => n.type === t);
  // "none": no namespace of this type in the config, so the container shares the caller's.
  const where = (t: string): "own" | "host" | "joined" | "none" => {
    const i = index(t);
    if (i < 0) return "none";
    const p = list[i]!.path;
    if (!p) return "own";
    return isHost(t, p) ? "host" : "joined";
  };
  const why = (t: string, w: string) =>
    w === "none"
      ? `the container has no ${WORDS[t]} namespace of its own (none in linux.namespaces)`
      : `linux.namespaces[${index(t)}].path is the caller's own ${WORDS[t]} namespace`;

  for (const key of Object.keys(spec.linux?.sysctl ?? {})) {
    const field = `linux.sysctl["${key}"]`;
    if (key === "kernel.hostname")
      throw configError(field, `sysctl ${key} is not allowed: it conflicts with the OCI "hostname" field`, 'set "hostname" instead');
    const ns = sysctlNamespace(key);
    if (!ns) continue; // compilePlan refuses a non-namespaced sysctl
    const w = where(ns);
    if (w === "host" || w === "none")
      throw configError(field, `sysctl ${key} would change the host: ${why(ns, w)}`, `give the container a ${WORDS[ns]} namespace of its own, or remove the sysctl`);
  }
  for (const key of ["hostname", "domainname"] as const) {
    if (!spec[key]) continue;
    const w = where("uts");
    if (w === "host") throw configError(key, `${key} would change the host's: ${why("uts", w)}`, `remove ${key}, or give the container a UTS namespace of its own`);
  }
}
