// Expanding the config.json mount of type "cgroup" (usually at /sys/fs/cgroup) into the concrete
// mounts the C executor performs inside the container's mount namespace.
//
// What runc 1.1.5 does (observed on a hybrid host, `cat /proc/self/mountinfo` in a container):
//   v1/hybrid, no cgroup namespace:
//     tmpfs on /sys/fs/cgroup (rw,nosuid,nodev,noexec,relatime, mode=755) — stays rw;
//     per v1 hierarchy a recursive bind of the host's "<mountpoint><container cgroup>" onto
//     /sys/fs/cgroup/<basename of the host mountpoint>, remounted with the mount's flags
//     (ro,nosuid,nodev,noexec,relatime): cpu, cpuacct, cpuset, memory, devices, freezer, blkio,
//     pids, systemd; a symlink per controller for co-mounted ones ("cpu" → "cpu,cpuacct").
//     The cgroup2 "unified" hierarchy of a hybrid host is NOT mounted by runc 1.1.
//   v1/hybrid, with a cgroup namespace: the same, but each hierarchy is a fresh
//     `mount -t cgroup -o <controllers>` (source "cgroup", "systemd" for name=systemd), whose root
//     is the container's cgroup.
//   v2: a cgroup2 mount (which, without a cgroup namespace, shows the whole host tree).
//
// Berth differs on purpose in two places: on hybrid hosts it also mounts the unified hierarchy
// at <dest>/unified (systemd inside a container wants it), and on v2 without a cgroup namespace
// it bind-mounts only the container's own cgroup directory instead of the host's whole tree.
// It also asks for the tmpfs to be remounted read-only at the end when the mount is "ro".
//
// Executor contract: mounts are done in order, each destination resolved inside the rootfs
// (mkdir per mkdirType). kind "bind": mount(source, dest, NULL, MS_BIND|MS_REC) then, when flags
// has bits beyond MS_BIND|MS_REC, mount(NULL, dest, NULL, flags|MS_BIND|MS_REMOUNT). kind "fs":
// mount(source, dest, fstype, flags, data). Then `propagation` (if any) is applied with a
// separate mount(NULL, dest, NULL, propagation). Symlinks are created after all mounts, and
// finally every path in readonlyRemounts gets mount(NULL, p, NULL, MS_REMOUNT|MS_RDONLY|<its flags>).
// Mounts of kind "fs" with fstype cgroup/cgroup2 must happen after the process has joined its
// cgroup and unshared its cgroup namespace, so the new mount's root is the container's cgroup.

import { v1Hierarchies, type CgroupLayout } from "./layout";
import type { ContainerCgroup } from "./types";
import { MS } from "../linux.ts";
import { parseMountOptions as parseOptions } from "../plan/mount-options.ts";

export interface PlannedMount {
  source: string;
  /** Absolute path inside the container. */
  destination: string;
  fstype: string;
  /** MS_* bits. */
  flags: number;
  data: string;
  /** MS_PRIVATE/MS_SLAVE/MS_SHARED/MS_UNBINDABLE, possibly | MS_REC. */
  propagation?: number;
  kind?: "bind" | "fs";
  mkdirType?: "dir" | "file";
}

export interface PlannedSymlink {
  /** Link content, relative (e.g. "cpu,cpuacct"). */
  target: string;
  /** Absolute path of the link inside the container. */
  path: string;
}

export interface CgroupMountPlan {
  mounts: PlannedMount[];
  symlinks: PlannedSymlink[];
  /** Destinations to remount read-only after mounts and symlinks are in place. */
  readonlyRemounts: string[];
}

export interface CgroupMountOptions {
  /** Mount destination from config.json, e.g. "/sys/fs/cgroup". */
  destination: string;
  /** Mount options from config.json, e.g. ["nosuid","noexec","nodev","relatime","ro"]. */
  options?: string[];
  /** Whether the container gets its own cgroup namespace. */
  cgroupns: boolean;
}

export { MS };

/** Split mount(8)-style options into MS_* flags, a propagation type and leftover data (the same
 *  reading as every other mount of config.json: plan/mount-options.ts). */
export function parseMountOptions(options: string[] = []): { flags: number; propagation?: number; data: string } {
  const p = parseOptions(options, "mounts");
  return { flags: p.flags & ~(MS.BIND | MS.REC), propagation: p.propagation || undefined, data: p.data.join(",") };
}

const join = (a: string, b: string) => (a.endsWith("/") ? a : a + "/") + b;
const base = (p: string) => p.replace(/\/+$/, "").slice(p.replace(/\/+$/, "").lastIndexOf("/") + 1);

/** The mounts, symlinks and read-only remounts that make up the container's /sys/fs/cgroup. */
export function cgroupMounts(layout: CgroupLayout, cg: ContainerCgroup, opts: CgroupMountOptions): CgroupMountPlan {
  const dest = opts.destination.replace(/\/+$/, "") || "/";
  const { flags, propagation } = parseMountOptions(opts.options);
  // Flags that make sense for every cgroup sub-mount (no atime games on the bind remount).
  const subFlags = flags & (MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RELATIME | MS.NOATIME | MS.STRICTATIME | MS.NODIRATIME);
  const withProp = (m: PlannedMount): PlannedMount => (propagation !== undefined ? { ...m, propagation } : m);
  const plan: CgroupMountPlan = { mounts: [], symlinks: [], readonlyRemounts: [] };
  const v2h = cg.hierarchies.find((h) => h.version === 2);

  const unifiedMount = (at: string): PlannedMount =>
    opts.cgroupns || !v2h
      ? withProp({ source: "cgroup2", destination: at, fstype: "cgroup2", flags: subFlags, data: "", kind: "fs", mkdirType: "dir" })
      : withProp({ source: v2h.dir, destination: at, fstype: "bind", flags: MS.BIND | MS.REC | subFlags, data: "", kind: "bind", mkdirType: "dir" });

  if (layout.mode === "v2") {
    plan.mounts.push(unifiedMount(dest));
    return plan;
  }

  // v1 / hybrid: a tmpfs holding one directory per hierarchy.
  plan.mounts.push(
    withProp({
      source: "tmpfs",
      destination: dest,
      fstype: "tmpfs",
      flags: MS.NOSUID | MS.NODEV | MS.NOEXEC | (flags & (MS.RELATIME | MS.NOATIME | MS.STRICTATIME)),
      data: "mode=755",
      kind: "fs",
      mkdirType: "dir",
    }),
  );
  const mountpoints = new Set(v1Hierarchies(layout).map((h) => h.mountpoint));
  for (const h of cg.hierarchies) {
    if (h.version !== 1 || !mountpoints.has(h.mountpoint)) continue;
    const name = base(h.mountpoint);
    const at = join(dest, name);
    if (opts.cgroupns) {
      const named = h.controllers.find((c) => c.startsWith("name="));
      plan.mounts.push(
        withProp({
          source: named ? named.slice("name=".length) : "cgroup",
          destination: at,
          fstype: "cgroup",
          flags: subFlags,
          data: named ? `none,${named}` : h.controllers.join(","),
          kind: "fs",
          mkdirType: "dir",
        }),
      );
    } else {
      plan.mounts.push(
        withProp({ source: h.dir, destination: at, fstype: "bind", flags: MS.BIND | MS.REC | subFlags, data: "", kind: "bind", mkdirType: "dir" }),
      );
    }
    // Co-mounted controllers ("cpu,cpuacct"): a link per controller, as on the host.
    if (name.includes(",")) for (const c of name.split(",")) if (c && c !== name) plan.symlinks.push({ target: name, path: join(dest, c) });
  }
  if (layout.mode === "hybrid" && v2h) plan.mounts.push(unifiedMount(join(dest, "unified")));
  // The tmpfs itself stays writable, as with runc 1.1.5: "ro" applies to the cgroup mounts in
  // it; what the container can write there is only its own tmpfs.
  return plan;
}
