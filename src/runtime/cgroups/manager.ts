// Creating, freezing, inspecting and removing a container's cgroup in every hierarchy.

import { readFileSync } from "node:fs";
import type { Linux, Resources } from "../spec/types";
import { BerthError } from "../errors";
import { cgroupError, errnoOf, fsOf, realFs, sleepSync, type CgroupFs } from "./fsops";
import { parseProcCgroup, v1Hierarchies, type CgroupLayout } from "./layout";
import { pathInHierarchy, resolveCgroupPath } from "./path";
import { applyResources, type WriteRecord } from "./resources";
import type { CgroupHierarchy, ContainerCgroup } from "./types";


function joinDir(mountpoint: string, path: string): string {
  return (mountpoint === "/" ? "" : mountpoint.replace(/\/+$/, "")) + (path === "/" ? "" : path) || "/";
}

/** Where the cgroup `resolved` (from resolveCgroupPath) is in each hierarchy of the layout. */
export function planHierarchies(layout: CgroupLayout, resolved: string): CgroupHierarchy[] {
  let own: Record<string, string> = {};
  if (!resolved.startsWith("/")) own = parseProcCgroup(layout.procSelfCgroup ?? readFileSync("/proc/self/cgroup", "utf8"));
  const out: CgroupHierarchy[] = [];
  for (const h of v1Hierarchies(layout)) {
    const path = pathInHierarchy(resolved, own[h.controllers[0]!] ?? "/", h.root, false);
    out.push({ version: 1, controllers: h.controllers, mountpoint: h.mountpoint, path, dir: joinDir(h.mountpoint, path) });
  }
  if (layout.unified) {
    const root = layout.roots?.[layout.unified] ?? "/";
    const path = pathInHierarchy(resolved, own[""] ?? "/", root, layout.mode === "v2");
    out.push({ version: 2, controllers: [], mountpoint: layout.unified, path, dir: joinDir(layout.unified, path) });
  }
  return out;
}

/** The directories from the hierarchy root (exclusive) down to the cgroup itself. */
function levels(h: CgroupHierarchy): string[] {
  const out: string[] = [];
  let cur = h.mountpoint.replace(/\/+$/, "");
  for (const part of h.path.split("/").filter(Boolean)) {
    cur += "/" + part;
    out.push(cur);
  }
  return out;
}

const parentOf = (dir: string) => dir.slice(0, dir.lastIndexOf("/")) || "/";

function readProcs(fs: CgroupFs, dir: string): number[] {
  try {
    return fs
      .read(`${dir}/cgroup.procs`)
      .split("\n")
      .filter((l) => l.trim())
      .map(Number);
  } catch {
    return [];
  }
}

function mkdirErr(dir: string, e: unknown): BerthError {
  const errno = errnoOf(e) ?? "EIO";
  const hints: Record<string, string> = {
    EACCES: "permission denied: Berth must run as root (inside a user namespace the cgroup tree has to be delegated)",
    EPERM: "permission denied: Berth must run as root (inside a user namespace the cgroup tree has to be delegated)",
    EROFS: "the cgroup filesystem is mounted read-only",
    ENOSPC: "too many cgroups: a cgroup.max.depth / cgroup.max.descendants limit was reached",
    EAGAIN: "too many cgroups: a cgroup.max.depth / cgroup.max.descendants limit was reached",
    ENOTDIR: "a path component is not a directory: is cgroupsPath naming an interface file?",
    EINVAL: "the name is not allowed as a cgroup (it may clash with an interface file name)",
  };
  return cgroupError(`mkdir ${dir}: ${errno}`, { field: "linux.cgroupsPath", errno, hint: hints[errno] });
}

/** mkdir -p of one hierarchy, recording what it made. Retries if a parent vanishes under us
 *  (another container's destroy removing a shared, empty /berth at the same moment). */
function mkdirAll(fs: CgroupFs, h: CgroupHierarchy, created: string[]): void {
  // The common case first: the parent is there (berthd makes its cgroup parent at its start, and
  // it stays), so one mkdir does, instead of one per level (EEXIST, EEXIST, ..., made).
  const all = levels(h);
  const leaf = all[all.length - 1];
  if (all.length > 1 && leaf) {
    try {
      fs.mkdir(leaf);
      created.push(leaf);
      return;
    } catch (e) {
      const errno = errnoOf(e);
      if (errno === "EEXIST") return; // the container joins an existing cgroup (created: none)
      if (errno !== "ENOENT") throw mkdirErr(h.dir, e);
    }
  }
  for (let attempt = 0; ; attempt++) {
    try {
      for (const dir of levels(h)) {
        try {
          fs.mkdir(dir);
          created.push(dir);
        } catch (e) {
          if (errnoOf(e) !== "EEXIST") throw e;
        }
      }
      return;
    } catch (e) {
      if (errnoOf(e) === "ENOENT" && attempt < 5) continue;
      throw mkdirErr(h.dir, e);
    }
  }
}

/** cgroup v1 cpuset: a new cgroup starts with empty cpuset.cpus/mems and refuses tasks until
 *  they are set, so copy the parent's values into every level this container created (a level
 *  that already existed is someone else's to configure). */
function fillCpuset(fs: CgroupFs, h: CgroupHierarchy, created: readonly string[]): void {
  for (const dir of levels(h)) {
    if (!created.includes(dir)) continue;
    for (const file of ["cpuset.cpus", "cpuset.mems"]) {
      const cur = fs.read(`${dir}/${file}`).trim();
      if (cur !== "") continue;
      const val = fs.read(`${parentOf(dir)}/${file}`).trim();
      try {
        fs.write(`${dir}/${file}`, val);
      } catch (e) {
        const errno = errnoOf(e) ?? "EIO";
        throw cgroupError(`write ${val || '""'} to ${dir}/${file}: ${errno}`, {
          errno,
          hint: `copying the parent's ${file} into the new cgroup failed; is the parent's ${file} empty or offline?`,
        });
      }
    }
  }
}

/** cgroup v2: make the controllers available to the container by enabling them in the
 *  cgroup.subtree_control of every ancestor (as runc does). Failures become warnings: a resource
 *  that needs a missing controller fails later with a precise error. */
function v2ControllersNeeded(linux?: Linux): Set<string> {
  const need = new Set<string>();
  if (linux?.resources?.hugepageLimits?.length) need.add("hugetlb");
  for (const key of Object.keys(linux?.resources?.unified ?? {})) need.add(key.split(".")[0]!);
  return need;
}

function enableControllers(fs: CgroupFs, h: CgroupHierarchy, warnings: string[], only?: Set<string>): void {
  if (only && only.size === 0) return;
  const dirs = [h.mountpoint.replace(/\/+$/, "") || "/", ...levels(h).slice(0, -1)];
  for (const dir of dirs) {
    let avail: string[];
    let enabled: Set<string>;
    try {
      avail = fs.read(`${dir}/cgroup.controllers`).split(/\s+/).filter(Boolean);
      enabled = new Set(fs.read(`${dir}/cgroup.subtree_control`).split(/\s+/).filter(Boolean));
    } catch {
      continue;
    }
    const missing = avail.filter((c) => !enabled.has(c) && (!only || only.has(c)));
    if (missing.length === 0) continue;
    try {
      fs.write(`${dir}/cgroup.subtree_control`, missing.map((c) => "+" + c).join(" "));
    } catch {
      for (const c of missing) {
        try {
          fs.write(`${dir}/cgroup.subtree_control`, "+" + c);
        } catch (e) {
          const errno = errnoOf(e) ?? "EIO";
          warnings.push(
            `could not enable the ${c} controller in ${dir}/cgroup.subtree_control (${errno})` +
              (errno === "EBUSY" ? ": that cgroup has processes of its own (cgroup v2 allows controllers only below process-free cgroups)" : ""),
          );
        }
      }
    }
  }
}

export interface CreateOptions {
  /** cgroupsPath uses the systemd "slice:prefix:name" form (runc's --systemd-cgroup). */
  systemdCgroup?: boolean;
}

/**
 * Create the container's cgroup in every hierarchy (v1: each controller hierarchy and
 * name=systemd; v2/hybrid: the unified one), apply linux.resources, and return what the
 * executor must join. On any failure everything this call created is removed again.
 */
export function createCgroup(layout: CgroupLayout, id: string, linux?: Linux, opts: CreateOptions = {}): ContainerCgroup {
  const fs = fsOf(layout);
  const path = resolveCgroupPath(id, linux?.cgroupsPath, opts.systemdCgroup ?? false);
  const hierarchies = planHierarchies(layout, path);
  const dirs = [...new Set(hierarchies.map((h) => h.dir))];
  const cg: ContainerCgroup = {
    path,
    dirs,
    procsFiles: dirs.map((d) => `${d}/cgroup.procs`),
    hierarchies,
    created: [],
    warnings: [],
  };

  // A cgroup that exists already is joined, not owned (see ownsDir). As runc: refuse one that is
  // frozen (the init would hang in it), warn when it has processes.
  for (const h of hierarchies) {
    if (fs.exists(h.dir) && frozenDir(fs, h))
      throw cgroupError(`the container's cgroup ${h.dir} already exists and is frozen`, {
        field: "linux.cgroupsPath",
        hint: "thaw it first (freezer.state THAWED / cgroup.freeze 0), or give the container a cgroupsPath of its own",
      });
  }

  const busy: string[] = [];
  try {
    for (const h of hierarchies) {
      mkdirAll(fs, h, cg.created);
      h.owned = cg.created.includes(h.dir);
      if (!h.owned) {
        h.foreignChildren = safeSubdirs(fs, h.dir);
        // Entries, not unique pids: inside a pid namespace every outside task reads as 0.
        const n = walkPids(fs, h.dir).length;
        if (n > 0) busy.push(`${h.dir} (${n})`);
      }
      if (h.version === 1 && h.controllers.includes("cpuset")) fillCpuset(fs, h, cg.created);
      // On a pure v2 host every controller is enabled on the way down, as runc does. On a hybrid
      // host the controllers live in v1: only those the spec needs from cgroup2 (hugetlb, or
      // `unified` keys) are enabled, so a container without them changes nothing host-wide.
      // A joined cgroup is left as its owner configured it.
      if (h.version === 2 && h.owned) enableControllers(fs, h, cg.warnings, layout.mode === "v2" ? undefined : v2ControllersNeeded(linux));
    }
    if (busy.length > 0)
      cg.warnings.push(
        `the container's cgroup already exists and has processes: ${busy.join(", ")}; the container joins it, and berth will not signal them, set limits on, freeze or remove it`,
      );
    cg.warnings.push(...applyOwnedResources(layout, cg, linux?.resources));
  } catch (e) {
    removeCreated(fs, cg.created);
    if (e instanceof BerthError) throw e;
    const errno = errnoOf(e);
    throw cgroupError(`creating cgroup ${path} failed: ${(e as Error)?.message ?? String(e)}`, { errno });
  }
  return cg;
}

/**
 * Makes `path` exist in every hierarchy (cpuset filled in), for a daemon's cgroup parent: the
 * containers below it then find it there and leave it when they go, rather than each creating
 * and removing it again. Returns the directories it made.
 */
export function ensureCgroupPath(layout: CgroupLayout, path: string): string[] {
  const fs = fsOf(layout);
  const created: string[] = [];
  for (const h of planHierarchies(layout, path)) {
    mkdirAll(fs, h, created);
    if (h.version === 1 && h.controllers.includes("cpuset")) fillCpuset(fs, h, created);
  }
  return created;
}

/** Did berth create this hierarchy's directory for the container? States written before
 *  `owned` existed say it through `created`. */
export function ownsHierarchy(cg: ContainerCgroup, h: CgroupHierarchy): boolean {
  return h.owned ?? cg.created.includes(h.dir);
}

/** The directories of the container's cgroup that berth did not create (joined host cgroups). */
export function joinedDirs(cg: ContainerCgroup): string[] {
  return cg.hierarchies.filter((h) => !ownsHierarchy(cg, h)).map((h) => h.dir);
}

function safeSubdirs(fs: CgroupFs, dir: string): string[] {
  try {
    return fs.subdirs(dir);
  } catch {
    return [];
  }
}

function walkPids(fs: CgroupFs, dir: string, out: number[] = []): number[] {
  out.push(...readProcs(fs, dir));
  for (const c of safeSubdirs(fs, dir)) walkPids(fs, `${dir}/${c}`, out);
  return out;
}

function frozenDir(fs: CgroupFs, h: CgroupHierarchy): boolean {
  const rd = (f: string) => {
    try {
      return fs.read(`${h.dir}/${f}`).trim();
    } catch {
      return "";
    }
  };
  if (h.version === 1) return h.controllers.includes("freezer") && ["FROZEN", "FREEZING"].includes(rd("freezer.state"));
  return rd("cgroup.freeze") === "1" || rd("cgroup.events").split("\n").some((l) => l.trim() === "frozen 1");
}

/**
 * applyResources, but never onto a cgroup the container joined: a limit that would land on one
 * is refused (it would constrain the host's processes there too, and a limit asked for and not
 * enforced must not pass silently); device rules, which every engine sends, are skipped there
 * with a warning. Used by createCgroup and `berth update`.
 */
export function applyOwnedResources(layout: CgroupLayout, cg: ContainerCgroup, resources: Resources | undefined, prefix = "linux.resources"): string[] {
  const joined = new Set(joinedDirs(cg));
  if (joined.size === 0 || !resources) return applyResources(layout, cg, resources, prefix);
  const log: WriteRecord[] = [];
  const refuse = (field: string, dir: string) =>
    cgroupError(`${field} cannot be applied: ${dir} is an existing cgroup the container joined, not one berth created`, {
      field,
      hint: "berth writes limits only onto a cgroup it creates (they would bind the host's processes there too); give linux.cgroupsPath a path that does not exist yet, e.g. a child of this one, or drop the limit",
    });
  try {
    applyResources(layout, cg, resources, prefix, { dryRun: true, log });
  } catch (e) {
    // e.g. a controller the joined cgroup does not offer: the real reason is that it is not ours.
    if (e instanceof BerthError && e.field && !e.field.startsWith(`${prefix}.devices`)) throw refuse(e.field, [...joined].join(", "));
    throw e;
  }
  const onJoined = log.filter((w) => joined.has(parentOf(w.file)));
  const limit = onJoined.find((w) => !w.field.startsWith(`${prefix}.devices`));
  if (limit) throw refuse(limit.field, parentOf(limit.file));
  const warnings: string[] = [];
  if (onJoined.length > 0)
    warnings.push(
      `${prefix}.devices: NOT enforced by the device cgroup: ${[...new Set(onJoined.map((w) => parentOf(w.file)))].join(", ")} is an existing cgroup the container joined, and berth does not change a cgroup it did not create`,
    );
  const fs = fsOf(layout);
  const guarded: CgroupFs = {
    mkdir: (p) => fs.mkdir(p),
    rmdir: (p) => fs.rmdir(p),
    write: (p, d) => {
      if (!joined.has(parentOf(p))) fs.write(p, d);
    },
    read: (p) => fs.read(p),
    exists: (p) => fs.exists(p),
    subdirs: (p) => fs.subdirs(p),
  };
  return [...warnings, ...applyResources({ ...layout, fs: guarded }, cg, resources, prefix)];
}

function removeCreated(fs: CgroupFs, created: string[]): void {
  for (const dir of [...created].reverse()) {
    try {
      fs.rmdir(dir);
    } catch {
      // best effort: a failed create leaves no processes in these cgroups
    }
  }
}

export interface DestroyOptions {
  /** How long to keep retrying rmdir while the kernel reports EBUSY (default 2000 ms). */
  timeoutMs?: number;
}

/**
 * Remove the container's cgroup from every hierarchy, child cgroups first (a container with a
 * cgroup namespace may have made its own), then, if they are empty, the parents createCgroup made
 * and the default parent /berth.
 * Processes are not killed: the caller does that first. Idempotent.
 */
export function destroyCgroup(layout: CgroupLayout, cg: ContainerCgroup, opts: DestroyOptions = {}): void {
  const fs = fsOf(layout);
  const deadline = Date.now() + (opts.timeoutMs ?? 2000);
  const failures: { dir: string; errno: string }[] = [];

  const rmdirRetry = (dir: string): void => {
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      try {
        fs.rmdir(dir);
        return;
      } catch (e) {
        const errno = errnoOf(e) ?? "EIO";
        if (errno === "ENOENT") return;
        if (errno !== "EBUSY" || Date.now() >= deadline) {
          failures.push({ dir, errno });
          return;
        }
        sleepSync(delay);
      }
    }
  };
  const removeTree = (dir: string): void => {
    let children: string[];
    try {
      children = fs.subdirs(dir);
    } catch (e) {
      if (errnoOf(e) === "ENOENT") return;
      children = [];
    }
    for (const c of children) removeTree(`${dir}/${c}`);
    rmdirRetry(dir);
  };

  // Only what berth created: a joined cgroup (and whatever is below it) is the host's.
  for (const h of cg.hierarchies) if (ownsHierarchy(cg, h)) removeTree(h.dir);
  // Parents this container created, and Berth's own default parent (/berth, which whichever
  // container created it may already be gone): remove them if nothing else lives there now.
  const own = new Set(cg.dirs);
  const parents = new Set(cg.created.filter((d) => !own.has(d)));
  if (/^\/berth\/[^/]+$/.test(cg.path)) for (const h of cg.hierarchies) if (h.path === cg.path) parents.add(parentOf(h.dir));
  for (const dir of [...parents].sort((a, b) => b.length - a.length)) {
    try {
      fs.rmdir(dir);
    } catch {
      // ENOENT: gone already; EBUSY/ENOTEMPTY: shared with another container — keep it
    }
  }

  if (failures.length > 0) {
    const f = failures[0]!;
    const pids = failures.flatMap((x) => readProcs(fs, x.dir));
    throw cgroupError(`rmdir ${f.dir}: ${f.errno}${failures.length > 1 ? ` (and ${failures.length - 1} more cgroup directories)` : ""}`, {
      errno: f.errno,
      hint:
        pids.length > 0
          ? `processes are still in the container's cgroup (pids ${[...new Set(pids)].slice(0, 8).join(", ")}); kill the container before deleting it`
          : f.errno === "EBUSY"
            ? "the cgroup is still busy (exiting processes or child cgroups); retry the delete"
            : undefined,
    });
  }
}

/**
 * The pids that are candidates for being the container's, by where they sit: `owned` are in a
 * cgroup berth created for it (or below one), `joined` are directly in a joined cgroup or in a
 * child cgroup of it that did not exist when the container joined. Pids the kernel shows as 0
 * (tasks outside our pid namespace) are dropped. The caller still checks each one (signal.ts).
 */
export function candidatePids(layout: CgroupLayout, cg: ContainerCgroup): { owned: number[]; joined: number[] } {
  const fs = fsOf(layout);
  const owned = new Set<number>();
  const joined = new Set<number>();
  for (const h of cg.hierarchies) {
    if (ownsHierarchy(cg, h)) {
      for (const p of walkPids(fs, h.dir)) owned.add(p);
      continue;
    }
    for (const p of readProcs(fs, h.dir)) joined.add(p);
    const foreign = new Set(h.foreignChildren ?? safeSubdirs(fs, h.dir));
    for (const c of safeSubdirs(fs, h.dir)) if (!foreign.has(c)) for (const p of walkPids(fs, `${h.dir}/${c}`)) joined.add(p);
  }
  const ok = (p: number) => Number.isInteger(p) && p > 0;
  return { owned: [...owned].filter(ok).sort((a, b) => a - b), joined: [...joined].filter((p) => ok(p) && !owned.has(p)).sort((a, b) => a - b) };
}

/** All pids in the container's cgroup and its child cgroups, from every hierarchy, sorted. */
export function listPids(layout: CgroupLayout, cg: ContainerCgroup): number[] {
  const fs = fsOf(layout);
  const pids = new Set<number>();
  const walk = (dir: string) => {
    for (const p of readProcs(fs, dir)) pids.add(p);
    let children: string[] = [];
    try {
      children = fs.subdirs(dir);
    } catch {
      // gone
    }
    for (const c of children) walk(`${dir}/${c}`);
  };
  for (const dir of cg.dirs) walk(dir);
  return [...pids].sort((a, b) => a - b);
}
