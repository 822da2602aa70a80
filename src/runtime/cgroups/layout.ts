// Which cgroup hierarchies this host has and where they are mounted, read from
// /proc/self/mountinfo (never hard-coded):
//   v2     — one cgroup2 mount holds every controller (modern systemd hosts);
//   v1     — each controller (or co-mounted group, e.g. "cpu,cpuacct") has its own cgroup mount;
//   hybrid — v1 controller mounts plus a cgroup2 mount (usually /sys/fs/cgroup/unified) that is
//            used for process tracking and holds only the controllers not bound to v1 (often none,
//            sometimes e.g. hugetlb).

import { readFileSync } from "node:fs";
import { cgroupError, type CgroupFs } from "./fsops";
import { deepFreeze } from "../frozen.ts";

export interface CgroupLayout {
  mode: "v1" | "v2" | "hybrid";
  /** v1 controller (or "name=systemd") → mountpoint. Co-mounted controllers share a mountpoint. */
  v1: Record<string, string>;
  /** cgroup2 mountpoint (v2 and hybrid). */
  unified?: string;
  /** Root inside the hierarchy of each mountpoint (mountinfo field 4) when it is not "/",
   *  e.g. inside a container without a cgroup namespace. */
  roots?: Record<string, string>;
  /** Test/dry-run injection: the filesystem operations to use (default: the real filesystem).
   *  A function, so it vanishes if the layout is serialised to JSON. */
  fs?: CgroupFs;
  /** Test injection: content of /proc/self/cgroup (read from the kernel when absent). */
  procSelfCgroup?: string;
}

/** One v1 hierarchy (a cgroup mount), the grouping of CgroupLayout.v1 by mountpoint. */
export interface V1Hierarchy {
  mountpoint: string;
  controllers: string[];
  root: string;
}

// Mount options of a v1 cgroup mount that are not controller names.
const NON_CONTROLLER_OPTS = new Set([
  "rw",
  "ro",
  "none",
  "xattr",
  "noprefix",
  "clone_children",
  "cpuset_v2_mode",
  "favordynmods",
  "nofavordynmods",
]);

/** Undo mountinfo's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash). */
function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

interface MountinfoEntry {
  root: string;
  mountpoint: string;
  fstype: string;
  superOptions: string[];
}

export function parseMountinfo(text: string): MountinfoEntry[] {
  const out: MountinfoEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(" ");
    const post = line.slice(sep + 3).split(" ");
    if (pre.length < 6 || post.length < 2) continue;
    out.push({
      root: unescapeMountinfo(pre[3]!),
      mountpoint: unescapeMountinfo(pre[4]!),
      fstype: post[0]!,
      superOptions: (post[2] ?? "").split(","),
    });
  }
  return out;
}

/** Detect the cgroup layout. `mountinfo` defaults to the content of /proc/self/mountinfo. */
// The host's layout, read once per process: cgroup hierarchies are mounted at boot and stay, and
// reading mountinfo (which grows with every container's mounts) on each call was measurable in a
// long-running berthd.
let hostLayout: CgroupLayout | undefined;

// Shared by every caller, so frozen (a caller that wants to change one, say its fs for a test,
// spreads it: { ...layout, fs }); a copy per call cost 20 us of each container start.
export function detectLayout(mountinfo?: string): CgroupLayout {
  if (mountinfo === undefined) return (hostLayout ??= deepFreeze(detectFrom(readFileSync("/proc/self/mountinfo", "utf8"))));
  return detectFrom(mountinfo);
}

function detectFrom(text: string): CgroupLayout {
  const v1: Record<string, string> = {};
  const roots: Record<string, string> = {};
  let unified: string | undefined;
  let unifiedRoot = "/";
  let hasV1Controller = false;

  for (const m of parseMountinfo(text)) {
    if (m.fstype === "cgroup2") {
      // The first cgroup2 mount wins (a later one is usually a bind mount of the same tree).
      if (unified === undefined) {
        unified = m.mountpoint;
        unifiedRoot = m.root;
      }
      continue;
    }
    if (m.fstype !== "cgroup") continue;
    const ctrls = m.superOptions.filter(
      (o) => o !== "" && !NON_CONTROLLER_OPTS.has(o) && (!o.includes("=") || o === "name=systemd"),
    );
    if (ctrls.length === 0) continue; // other named hierarchies (name=foo): not ours to manage
    // A controller can only be in one hierarchy; if it is mounted twice, keep the first mount.
    if (ctrls.some((c) => v1[c] !== undefined)) continue;
    for (const c of ctrls) {
      v1[c] = m.mountpoint;
      if (!c.startsWith("name=")) hasV1Controller = true;
    }
    if (m.root !== "/") roots[m.mountpoint] = m.root;
  }

  let mode: CgroupLayout["mode"];
  if (unified !== undefined && !hasV1Controller) mode = "v2";
  else if (unified !== undefined) mode = "hybrid";
  else if (Object.keys(v1).length > 0) mode = "v1";
  else
    throw cgroupError("no cgroup filesystem is mounted (no cgroup or cgroup2 entry in /proc/self/mountinfo)", {
      hint: "mount cgroup2 on /sys/fs/cgroup (or the v1 controllers) before running containers",
    });

  const layout: CgroupLayout = { mode, v1: mode === "v2" ? {} : v1 };
  if (unified !== undefined) {
    layout.unified = unified;
    if (unifiedRoot !== "/") roots[unified] = unifiedRoot;
  }
  if (mode === "v2") for (const k of Object.keys(roots)) if (k !== unified) delete roots[k];
  if (Object.keys(roots).length > 0) layout.roots = roots;
  return layout;
}

/** The v1 hierarchies of a layout, one per mountpoint, in detection order. */
export function v1Hierarchies(layout: CgroupLayout): V1Hierarchy[] {
  const byMount = new Map<string, V1Hierarchy>();
  for (const [ctrl, mp] of Object.entries(layout.v1)) {
    let h = byMount.get(mp);
    if (!h) {
      h = { mountpoint: mp, controllers: [], root: layout.roots?.[mp] ?? "/" };
      byMount.set(mp, h);
    }
    h.controllers.push(ctrl);
  }
  return [...byMount.values()];
}

/** Parse /proc/<pid>/cgroup into hierarchy key → path. Keys: each v1 controller and
 *  "name=systemd" (a co-mounted line "cpu,cpuacct" yields both), and "" for the v2 line "0::". */
export function parseProcCgroup(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, , ctrls, path] = m;
    if (ctrls === "") out[""] = path!;
    else for (const c of ctrls!.split(",")) out[c] = path!;
  }
  return out;
}
