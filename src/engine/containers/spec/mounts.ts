// Mounts with docker's defaults and order: the default filesystems (/proc, /dev, /dev/pts, /sys,
// the cgroup tree, /dev/mqueue, /dev/shm) first, minus any a user mount replaces; then, in
// dockerd's order — binds and non-tmpfs --mounts, /etc/resolv.conf, /etc/hostname, /etc/hosts,
// the host's /dev/shm for --ipc host, --tmpfs entries, tmpfs --mounts — stably sorted by depth
// (dockerd sorts them so a parent is mounted before its children).
import { badRequest } from "../../errors.ts";
import type { Mount } from "../../../runtime/spec/types.ts";
import type { HostAccess, Json, SpecInput } from "./types.ts";

export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

const PROPAGATIONS = ["shared", "rshared", "slave", "rslave", "private", "rprivate"];
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

const clean = (p: string) => {
  const parts: string[] = [];
  for (const s of p.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") parts.pop();
    else parts.push(s);
  }
  return "/" + parts.join("/");
};
const depth = (p: string) => (p === "/" ? 0 : p.split("/").length - 1);

/** "1m" for 1048576: docker writes tmpfs sizes in the largest exact binary unit. */
export function formatSize(bytes: number): string {
  for (const [u, n] of [["g", 1 << 30], ["m", 1 << 20], ["k", 1 << 10]] as const) if (bytes % n === 0) return `${bytes / n}${u}`;
  return String(bytes);
}

function mountPath(where: string, dst: string): string {
  if (!dst.startsWith("/")) throw badRequest(`${where}invalid mount path: '${dst}' mount path must be absolute`);
  return clean(dst);
}

const TMPFS_DEFAULTS = ["noexec", "nosuid", "nodev"];
// Which user option overrides which default (docker's MergeTmpfsOptions groups).
const TMPFS_GROUP: Record<string, string> = { exec: "noexec", noexec: "noexec", suid: "nosuid", nosuid: "nosuid", dev: "nodev", nodev: "nodev" };

/** --tmpfs /dst:opts → the defaults the user did not override, rprivate, then the user's options. */
export function tmpfsOptions(user: readonly string[]): string[] {
  const overridden = new Set(user.map((o) => TMPFS_GROUP[o]).filter(Boolean));
  return [...TMPFS_DEFAULTS.filter((d) => !overridden.has(d)), "rprivate", ...user];
}

export interface MountResult {
  mounts: Mount[];
  mkdirs: string[];
  warnings: string[];
}

interface UserMount extends Mount {
  destination: string;
}

function parseBind(spec: string, input: SpecInput, host: HostAccess, mkdirs: string[]): UserMount {
  const bad = (why: string) => badRequest(`invalid volume specification: '${spec}'${why ? `: ${why}` : ""}`);
  const parts = spec.split(":");
  if (parts.length < 1 || parts.length > 3 || parts.some((p, i) => p === "" && i < 2)) throw bad("");
  if (parts.length === 1) {
    if (!input.volume) throw badRequest(`anonymous volumes are not supported yet: ${spec} (use a bind mount, -v /host/dir:${spec})`);
    return { destination: mountPath("", spec), type: "bind", source: input.volume("", clean(spec)), options: ["rbind", "rprivate"] };
  }
  const [src, dst, mode = ""] = parts;
  const modes = mode ? mode.split(",") : [];
  let ro = false, propagation = "rprivate";
  for (const m of modes) {
    if (m === "ro") ro = true;
    else if (m === "rw" || m === "z" || m === "Z" || m === "nocopy" || m === "consistent" || m === "cached" || m === "delegated") continue;
    else if (PROPAGATIONS.includes(m)) propagation = m;
    else throw badRequest(`invalid mode: ${mode}`);
  }
  if (!dst.startsWith("/")) throw bad(`invalid mount config for type "bind": invalid mount path: '${dst}' mount path must be absolute`);
  const destination = clean(dst);
  if (destination === "/") throw bad(`invalid mount config for type "bind": invalid specification: destination can't be '/'`);
  let source: string;
  if (src.startsWith("/")) {
    source = clean(src);
    // docker's -v (unlike --mount) makes a missing host directory.
    if (!host.exists(source)) mkdirs.push(source);
  } else if (VOLUME_NAME.test(src)) {
    if (!input.volume) throw badRequest(`named volumes are not supported yet: ${src} (use a bind mount, -v /host/dir:${dst})`);
    source = input.volume(src, destination);
  } else {
    throw badRequest(`create ${src}: "${src}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
  return { destination, type: "bind", source, options: ["rbind", ...(ro ? ["ro"] : []), propagation] };
}

function parseMount(m: Json, i: number, input: SpecInput, host: HostAccess): UserMount {
  const type = m.Type as string;
  const where = `invalid mount config for type "${type}": `;
  if (!m.Target) throw badRequest(`${where}field Target must not be empty`);
  const destination = mountPath(where, m.Target);
  if (destination === "/") throw badRequest(`${where}invalid specification: destination can't be '/'`);
  switch (type) {
    case "bind": {
      if (!m.Source) throw badRequest(`${where}field Source must not be empty`);
      if (!String(m.Source).startsWith("/")) throw badRequest(`${where}invalid mount path: '${m.Source}' mount path must be absolute`);
      const source = clean(m.Source);
      if (!host.exists(source)) throw badRequest(`${where}bind source path does not exist: ${source}`);
      if (m.TmpfsOptions) throw badRequest(`${where}field TmpfsOptions must not be specified`);
      const bo = (m.BindOptions ?? {}) as Json;
      const propagation = bo.Propagation || "rprivate";
      if (!PROPAGATIONS.includes(propagation)) throw badRequest(`${where}invalid propagation mode: ${propagation}`);
      return { destination, type: "bind", source, options: [bo.NonRecursive ? "bind" : "rbind", ...(m.ReadOnly ? ["ro"] : []), propagation] };
    }
    case "tmpfs": {
      if (m.Source) throw badRequest(`${where}field Source must not be specified`);
      if (m.BindOptions) throw badRequest(`${where}field BindOptions must not be specified`);
      const to = (m.TmpfsOptions ?? {}) as Json;
      const extra: string[] = [];
      if (m.ReadOnly) extra.push("ro");
      if (to.Mode !== undefined && to.Mode !== 0) {
        if (!Number.isInteger(to.Mode) || to.Mode < 0 || to.Mode > 0o7777) throw badRequest(`${where}invalid tmpfs mode: ${to.Mode} (HostConfig.Mounts[${i}].TmpfsOptions.Mode)`);
        extra.push(`mode=${to.Mode.toString(8)}`);
      }
      if (to.SizeBytes !== undefined && to.SizeBytes !== 0) {
        if (!Number.isSafeInteger(to.SizeBytes) || to.SizeBytes < 0) throw badRequest(`${where}invalid tmpfs size: ${to.SizeBytes} (HostConfig.Mounts[${i}].TmpfsOptions.SizeBytes)`);
        extra.push(`size=${formatSize(to.SizeBytes)}`);
      }
      return { destination, type: "tmpfs", source: "tmpfs", options: [...TMPFS_DEFAULTS, "rprivate", ...extra] };
    }
    case "volume": {
      if (!input.volume) throw badRequest(`${where}volumes are not supported yet (HostConfig.Mounts[${i}])`);
      const source = input.volume(m.Source ?? "", destination);
      return { destination, type: "bind", source, options: ["rbind", ...(m.ReadOnly ? ["ro"] : []), "rprivate"] };
    }
    case undefined:
    case "":
      throw badRequest(`invalid mount config: mount type unknown (HostConfig.Mounts[${i}].Type)`);
    default:
      throw badRequest(`${where}mount type unknown`);
  }
}

export function buildMounts(input: SpecInput, host: HostAccess, o: { privileged: boolean; ipcMode: string; readonlyRootfs: boolean }): MountResult {
  const hc = input.hostConfig;
  const warnings: string[] = [];
  const mkdirs: string[] = [];
  const user: UserMount[] = [];
  const tmpfs: UserMount[] = [];
  for (const b of (hc.Binds ?? []) as string[]) user.push(parseBind(b, input, host, mkdirs));
  const mounts = ((hc.Mounts ?? []) as Json[]).map((m, i) => parseMount(m, i, input, host));
  user.push(...mounts.filter((m) => m.type !== "tmpfs"));
  for (const [dst, opts] of Object.entries((hc.Tmpfs ?? {}) as Record<string, string>)) {
    const destination = mountPath("", dst);
    tmpfs.push({ destination, type: "tmpfs", source: "tmpfs", options: tmpfsOptions(opts ? opts.split(",").filter(Boolean) : []) });
  }
  tmpfs.push(...mounts.filter((m) => m.type === "tmpfs"));
  const seen = new Set<string>();
  for (const m of [...user, ...tmpfs]) {
    if (seen.has(m.destination)) throw badRequest(`Duplicate mount point: ${m.destination}`);
    seen.add(m.destination);
  }
  // VOLUME entries of the image (and Config.Volumes): docker gives each an anonymous volume.
  const declared = { ...((input.image?.Volumes ?? {}) as Json), ...((input.config.Volumes ?? {}) as Json) };
  for (const dst of Object.keys(declared)) {
    if (!dst.startsWith("/")) continue;
    const destination = clean(dst);
    if (seen.has(destination)) continue;
    if (input.volume) {
      user.push({ destination, type: "bind", source: input.volume("", destination), options: ["rbind", "rprivate"] });
      seen.add(destination);
    } else {
      warnings.push(`the image's volume ${destination} stays in the container's own filesystem: volumes are not supported yet`);
    }
  }
  const ro = o.readonlyRootfs ? ["ro"] : [];
  const special: UserMount[] = [
    { destination: "/etc/resolv.conf", type: "bind", source: input.files.resolvConfPath, options: ["rbind", ...ro, "rprivate"] },
    { destination: "/etc/hostname", type: "bind", source: input.files.hostnamePath, options: ["rbind", ...ro, "rprivate"] },
    { destination: "/etc/hosts", type: "bind", source: input.files.hostsPath, options: ["rbind", ...ro, "rprivate"] },
  ].filter((m) => !seen.has(m.destination));
  const shmSize = (hc.ShmSize as number) > 0 ? (hc.ShmSize as number) : DEFAULT_SHM_SIZE;
  if ((hc.ShmSize as number) < 0) throw badRequest("SHM size can not be less than 0");
  if (o.ipcMode === "host" && !seen.has("/dev/shm")) special.push({ destination: "/dev/shm", type: "bind", source: "/dev/shm", options: ["rbind", "rprivate"] });
  const sysRo = o.privileged ? [] : ["ro"];
  const defaults: Mount[] = [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", ...sysRo] },
    { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: [...sysRo, "nosuid", "noexec", "nodev"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
  ];
  // private and shareable get their own tmpfs (dockerd mounts shareable's itself; we let the
  // runtime do it, so it lives as long as the container's mount namespace); none gets nothing.
  if (o.ipcMode !== "host" && o.ipcMode !== "none") {
    defaults.push({ destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", `size=${shmSize}`] });
  }
  const userDev = seen.has("/dev");
  const kept = defaults.filter((d) => !seen.has(d.destination) && !(userDev && d.destination.startsWith("/dev/")));
  const rest = [...user, ...special, ...tmpfs].map((m, i) => ({ m, i })).sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i).map((x) => x.m);
  return { mounts: [...kept, ...rest], mkdirs, warnings };
}
