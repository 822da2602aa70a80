// Berth's cgroup support (cgroupfs driver; no systemd D-Bus): detect the host's layout
// (v1, v2 or hybrid), create a container's cgroup in every hierarchy, apply linux.resources,
// plan the container's /sys/fs/cgroup mounts, read stats, freeze/thaw, list pids, destroy.
//
// Typical use by the runtime:
//   const layout = detectLayout();
//   const cg = createCgroup(layout, id, spec.linux, { systemdCgroup });   // before the init runs
//   // executor: the init joins each of cg.hierarchies (plan/cgroup-join.ts); mount cgroupMounts(layout, cg, ...)
//   applyResources(layout, cg, newResources);                             // berth update
//   freeze(layout, cg, true) / freeze(layout, cg, false);                 // berth pause / resume
//   destroyCgroup(layout, cg);                                            // berth delete
//
// Only node:fs is used and everything is synchronous: the CLI is a short-lived process.

export type { CgroupLayout, V1Hierarchy } from "./layout";
export { detectLayout, parseMountinfo, parseProcCgroup, v1Hierarchies } from "./layout";
export type { CgroupHierarchy, ContainerCgroup } from "./types";
export { resolveCgroupPath, expandSlice, pathInHierarchy } from "./path";
export type { ApplyOptions, WriteRecord } from "./resources";
export { applyResources, sharesToWeight, blkioWeightToIoWeight, swapToV2 } from "./resources";
export type { CreateOptions, DestroyOptions } from "./manager";
export {
  createCgroup, ensureCgroupPath, destroyCgroup, listPids, planHierarchies, candidatePids, ownsHierarchy, joinedDirs, applyOwnedResources,
} from "./manager";
export type { FreezeOptions, CgroupStats } from "./control";
export { freeze, isFrozen, readStats } from "./control";
export type { PlannedMount, PlannedSymlink, CgroupMountPlan, CgroupMountOptions } from "./mounts";
export { cgroupMounts, parseMountOptions, MS } from "./mounts";
export { DEFAULT_ALLOWED_DEVICES } from "./devices";
export type { CgroupFs } from "./fsops";
export { realFs } from "./fsops";
