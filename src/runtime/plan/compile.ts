// spec -> plan. Pure: everything it needs from the host comes in through `host`, so it is
// unit-tested without root and `--dry-run` prints exactly what a real run would do.
//
// The order of steps is the part that matters most; it follows the kernel's rules:
//   - namespaces are joined (setns) before the clone, user namespace first, because joining the
//     others needs capabilities in the user namespace that owns them;
//   - the parent writes uid/gid maps and cgroup membership before the init may go on, and the
//     cgroup namespace is unshared only after joining the cgroup, so its root is the container's;
//   - mounts happen inside the rootfs before pivot_root; masks, read-only paths and sysctls after
//     it, in the container's own /proc; sysctls before /proc/sys becomes read-only;
//   - the bounding set is dropped while CAP_SETPCAP is still held, then the user changes (keeping
//     capabilities), then capset sets the final sets;
//   - seccomp is loaded as late as possible when no_new_privs is set (so the filter need not allow
//     the runtime's own setup calls); without no_new_privs, loading it needs CAP_SYS_ADMIN, so it
//     comes before the capabilities are dropped. runc does the same.
import type { Mount, Spec } from "../spec/types.ts";
import { CLONE, MS, NAMESPACES, RESOLVE } from "../linux.ts";
import { configError } from "../errors.ts";
import { describeFlags, parseMountOptions, propagationFlag, recursiveOptions } from "./mount-options.ts";
import { MODE } from "./ops.ts";
import type { Plan, Step } from "./types.ts";
import { addProcessSteps, type SeccompNotify } from "./process.ts";
import { sysctlNamespace } from "../spec/hostns.ts";
import { addCgroupInto, addCgroupSelf, needsCgroupWait, type CgroupJoin } from "./cgroup-join.ts";

/** A mount the cgroups module expands a `cgroup` mount into. */
export interface ExpandedMount {
  source: string;
  destination: string;
  fstype: string;
  flags: number;
  data: string;
  propagation?: number;
  mkdirType?: "dir" | "file";
}

export interface HostView {
  /** Kind of a host path, for bind sources: decides whether the target is a file or a dir. */
  kind(path: string): "file" | "dir" | "other" | "missing";
  /** Read a file of the host (the rootfs's /etc/passwd, to find HOME); undefined if absent. */
  readFile(path: string): string | undefined;
  /** Whether a namespace path is the one berth itself runs in (joining it changes nothing). */
}

export interface CompileInput {
  spec: Spec;
  bundle: string;
  rootfs: string;
  mode: keyof typeof MODE;
  noPivot?: boolean;
  consoleSocket?: string;
  fifoPath?: string;
  preserveFds?: number;
  /** The cgroups the init joins, and how a `cgroup` mount expands. */
  cgroup?: {
    joins: CgroupJoin[];
    expandMount(m: Mount, flags: number, cgroupns: boolean): { mounts: ExpandedMount[]; symlinks: [string, string][]; remounts?: ExpandedMount[] };
  };
  seccomp?: { filter: Uint8Array; flags: number; summary: string[]; notify?: SeccompNotify };
  host: HostView;
}

const DEFAULT_DEVICES: { path: string; major: number; minor: number }[] = [
  { path: "/dev/null", major: 1, minor: 3 },
  { path: "/dev/zero", major: 1, minor: 5 },
  { path: "/dev/full", major: 1, minor: 7 },
  { path: "/dev/random", major: 1, minor: 8 },
  { path: "/dev/urandom", major: 1, minor: 9 },
  { path: "/dev/tty", major: 5, minor: 0 },
];

const S_IFCHR = 0o020000, S_IFBLK = 0o060000, S_IFIFO = 0o010000;
// The executor counts a hook timeout in milliseconds in a C long: a spec timeout up to 2^63 s
// would overflow it. 2^31 s (68 years) is as good as no timeout.
const MAX_HOOK_TIMEOUT_S = 2 ** 31 - 1;



export function compilePlan(input: CompileInput): Plan {
  const { spec, rootfs, host } = input;
  const proc = spec.process;
  if (!proc) throw configError("process", "config.json has no process to run");
  if (!proc.args?.length) throw configError("process.args", "no command to run: args is empty");
  const linux = spec.linux ?? {};
  const steps: Step[] = [];
  const notes: string[] = [];
  const add = (op: Step["op"], args: Step["args"], text: string, field?: string) =>
    steps.push({ op, args, text, field });

  // ---- namespaces ---------------------------------------------------------------------------
  const nsList = linux.namespaces ?? [];
  const has = (t: string) => nsList.some((n) => n.type === t);
  const isNew = (t: string) => nsList.some((n) => n.type === t && !n.path);
  // Without a mount namespace of its own the container's mounts are made in the caller's: as
  // runc, berth then binds the rootfs onto itself, mounts inside it and chroots, but never
  // touches a mount outside the rootfs (no propagation change on /, no pivot_root), and the
  // rootfs bind (with every mount under it) is detached again when the container is deleted.
  const ownMountNs = has("mount");
  if (!ownMountNs) {
    for (const key of ["maskedPaths", "readonlyPaths"] as const) {
      if (linux[key]?.length) {
        throw configError(`linux.${key}`, `cannot restrict /proc and /sys paths without a mount namespace of the container's own`,
          `add {"type": "mount"} to linux.namespaces, or empty linux.${key}`);
      }
    }
    if (linux.rootfsPropagation) throw configError("linux.rootfsPropagation", "rootfs propagation needs a mount namespace of the container's own");
    if (input.noPivot) throw configError("linux.namespaces", "--no-pivot moves the rootfs onto /: without a mount namespace of the container's own that would be the host's /");
  }
  if (has("time")) {
    const i = nsList.findIndex((n) => n.type === "time");
    throw configError(`linux.namespaces[${i}]`, "time namespaces are not supported by berth yet");
  }
  if (linux.timeOffsets) throw configError("linux.timeOffsets", "time namespaces are not supported by berth yet");

  // Paths opened before any setns, while we still see the host's filesystem.
  if (input.fifoPath) add("openFifo", { path: input.fifoPath }, `open exec fifo ${input.fifoPath}`);
  if (input.seccomp?.notify) {
    add("agentConnect", { path: input.seccomp.notify.path }, `connect to the seccomp agent at ${input.seccomp.notify.path}`, "linux.seccomp.listenerPath");
  }
  if (input.consoleSocket) {
    add("consoleSocket", { path: input.consoleSocket }, `connect to console socket ${input.consoleSocket}`);
  }
  const joinOrder = [...nsList.entries()].filter(([, n]) => n.path)
    .sort(([, a], [, b]) => rank(a.type) - rank(b.type));
  function rank(t: string) {
    return t === "user" ? 0 : t === "mount" ? 2 : 1;
  }
  for (const [i, ns] of joinOrder) {
    add("setns", { path: ns.path!, nstype: NAMESPACES[ns.type].flag },
      `join ${ns.type} namespace ${ns.path}`, `linux.namespaces[${i}]`);
  }
  let cloneFlags = 0;
  for (const ns of nsList) {
    if (!ns.path && ns.type !== "cgroup") cloneFlags |= NAMESPACES[ns.type].flag;
  }
  // A new network namespace is the costliest part of the clone (its loopback device, sysctl
  // tables, per-namespace state: 0.6 ms here). Stage 0 makes it while berth makes the cgroups,
  // and the init is cloned into it; not under a new user namespace, which has to own it.
  if (isNew("network") && !isNew("user")) {
    add("netnsAhead", {}, "make the network namespace now, in stage 0, while berth makes the cgroups; the init is cloned into it");
    cloneFlags &= ~NAMESPACES.network.flag;
  }
  // The plan goes out before berth makes the cgroups (launch.ts); stage 0 waits for its word
  // before it opens them, just before the clone.
  if (input.cgroup?.joins.length) add("awaitGo", {}, "wait for berth's word that the container's cgroups are made");
  const newNames = nsList.filter((n) => !n.path).map((n) => n.type).join(", ") || "none";
  add("clone", { flags: cloneFlags, mode: MODE[input.mode] },
    `clone the container init with new namespaces: ${newNames}`);

  // ---- parent: maps, cgroup, oom score ------------------------------------------------------
  const newUserns = isNew("user");
  if (newUserns) {
    if (!linux.uidMappings?.length) throw configError("linux.uidMappings", "a new user namespace needs uidMappings");
    if (!linux.gidMappings?.length) throw configError("linux.gidMappings", "a new user namespace needs gidMappings");
    const fmt = (m: { containerID: number; hostID: number; size: number }[]) =>
      m.map((x) => `${x.containerID} ${x.hostID} ${x.size}\n`).join("");
    add("uidMap", { map: fmt(linux.uidMappings) }, `write uid_map: ${fmt(linux.uidMappings).trim().replace(/\n/g, "; ")}`, "linux.uidMappings");
    add("gidMap", { map: fmt(linux.gidMappings) }, `write gid_map: ${fmt(linux.gidMappings).trim().replace(/\n/g, "; ")}`, "linux.gidMappings");
  } else if (linux.uidMappings?.length || linux.gidMappings?.length) {
    if (!has("user")) {
      throw configError("linux.uidMappings", "uid/gid mappings are given but there is no user namespace",
        'add {"type": "user"} to linux.namespaces or remove the mappings');
    }
  }
  const joins = input.cgroup?.joins ?? [];
  addCgroupInto(add, joins, "the init", "linux.cgroupsPath");
  if (proc.oomScoreAdj !== undefined) {
    add("oomScoreAdj", { value: String(proc.oomScoreAdj) }, `set oom_score_adj to ${proc.oomScoreAdj}`, "process.oomScoreAdj");
  }

  // ---- init: namespaces it creates itself -------------------------------------------------
  // First of all the init moves itself into its v1 cgroups (cgroup-join.ts says why it, not we).
  addCgroupSelf(add, joins, "the init", "linux.cgroupsPath");
  if (newUserns) add("becomeRoot", {}, "become root (uid 0, gid 0) in the new user namespace");
  // The init must be in its cgroups before it unshares a cgroup namespace or runs anything of the
  // container's; other setup (mounts) overlaps with a fallback cgroup.procs write by the parent.
  const joinsCgroups = needsCgroupWait(joins);
  const cgroupWait = () => add("cgroupWait", {}, "wait until the parent has put the init in its cgroups");
  if (joinsCgroups && isNew("cgroup")) cgroupWait();
  if (isNew("cgroup")) {
    add("unshare", { flags: CLONE.NEWCGROUP }, "unshare the cgroup namespace (rooted at the container's cgroup)");
  }
  if (isNew("network")) add("loopbackUp", {}, "bring up the loopback interface");

  // ---- rootfs and mounts --------------------------------------------------------------------
  const rootProp = linux.rootfsPropagation ? propagationFlag(linux.rootfsPropagation) : undefined;
  if (linux.rootfsPropagation && rootProp === undefined) {
    throw configError("linux.rootfsPropagation", `unknown propagation "${linux.rootfsPropagation}"`);
  }
  // Host mounts must not see what we do: make the whole tree a slave (or what the spec asks).
  // "shared" keeps the tree's peers with the host (so rshared bind mounts stay bidirectional, as
  // docker's bind-propagation expects), but the mount holding the rootfs becomes private first:
  // the rootfs bind then has no host peer, and pivot_root accepts it (it refuses shared mounts).
  const shared = rootProp !== undefined && (rootProp & MS.SHARED) !== 0;
  const baseProp = shared ? rootProp : rootProp && (rootProp & MS.SLAVE) ? rootProp | MS.REC : MS.SLAVE | MS.REC;
  if (ownMountNs) add("propagation", { target: "/", flags: rootProp && (rootProp & MS.PRIVATE) ? MS.PRIVATE | MS.REC : baseProp },
    `make every mount ${rootProp && (rootProp & MS.PRIVATE) ? "private" : shared ? "shared" : "a slave"} of the host's (rootfs propagation)`,
    "linux.rootfsPropagation");
  add("rootfs", { path: rootfs, parentPrivate: shared ? 1 : 0 },
    `${shared ? "make the mount holding the rootfs private, then " : ""}bind the rootfs ${rootfs} onto itself`, "root.path");

  const mounts = spec.mounts ?? [];
  let devIsTmpfs = false;
  let hasDevpts = false;
  let devReadonly: { flags: number; field: string } | undefined;
  mounts.forEach((m, i) => {
    const field = `mounts[${i}]`;
    if (!m.destination?.startsWith("/")) throw configError(`${field}.destination`, `mount destination "${m.destination}" is not an absolute path`);
    const dest = m.destination.replace(/\/+$/, "") || "/";
    const opts = parseMountOptions(m.options, field, m.type);
    if (dest === "/dev" && !opts.bind) devIsTmpfs = true;
    if (dest === "/dev/pts" && m.type === "devpts") hasDevpts = true;

    if (m.type === "cgroup" && !opts.bind) {
      if (!input.cgroup) throw configError(field, "a cgroup mount needs cgroups, and none are set up");
      const exp = input.cgroup.expandMount(m, opts.flags, has("cgroup"));
      for (const e of exp.mounts) {
        const isBind = (e.flags & MS.BIND) !== 0;
        add("mount", {
          source: e.source, dest: e.destination, fstype: e.fstype, flags: isBind ? e.flags & (MS.BIND | MS.REC) : e.flags,
          data: e.data, mkdir: e.mkdirType === "file" ? 1 : 0, resolve: 0, propagation: e.propagation ?? 0,
          remount: isBind && (e.flags & ~(MS.BIND | MS.REC)) ? e.flags : 0,
        }, `mount ${e.fstype || "bind"} ${e.source} on ${e.destination} (${describeFlags(e.flags) || "defaults"}${e.data ? "," + e.data : ""})`, field);
      }
      for (const [target, link] of exp.symlinks) add("symlink", { target, path: link }, `symlink ${link} -> ${target}`, field);
      for (const e of exp.remounts ?? []) {
        add("mount", { source: "", dest: e.destination, fstype: "", flags: e.flags, data: "", mkdir: 2, resolve: 0, propagation: 0, remount: 0 },
          `remount ${e.destination} (${describeFlags(e.flags)})`, field);
      }
      return;
    }

    let source = m.source ?? "";
    let mkdir = 0;
    if (opts.bind) {
      if (!source) throw configError(`${field}.source`, "a bind mount needs a source");
      if (!source.startsWith("/")) source = `${input.bundle}/${source}`;
      const kind = host.kind(source);
      if (kind === "missing") {
        throw configError(`${field}.source`, `bind source ${source} does not exist`, "create it on the host, or fix the path");
      }
      mkdir = kind === "dir" ? 0 : 1;
    }
    // /proc and /sys must land on a real directory of the rootfs, never through a symlink.
    const resolve = m.type === "proc" || m.type === "sysfs" ? RESOLVE.NO_SYMLINKS : 0;
    // In a new user namespace the init may not reach the source (a 0700 directory of the host's
    // root, say): the parent opens it as host root, in the init's mount namespace (as runc does).
    if (opts.bind && newUserns && isNew("mount")) {
      add("bindSource", { path: source }, `open the bind source ${source} as the host's root, for the init`, `${field}.source`);
    }
    let mountFlags = opts.bind ? opts.flags & (MS.BIND | MS.REC) : opts.flags;
    // A read-only /dev still needs its device nodes, symlinks and the devpts/shm/mqueue mount
    // points: mount it writable and remount it read-only once the console is bound (as runc).
    if (dest === "/dev" && !opts.bind && opts.flags & MS.RDONLY) {
      mountFlags &= ~MS.RDONLY;
      devReadonly = { flags: opts.flags, field };
    }
    const remount = opts.bind && opts.flags & ~(MS.BIND | MS.REC) ? opts.flags : 0;
    const data = opts.data.join(",");
    add("mount", {
      source, dest, fstype: opts.bind ? "" : (m.type ?? ""), flags: mountFlags, data, mkdir, resolve,
      propagation: opts.propagation, remount,
    }, `mount ${opts.bind ? "bind " + source : (m.type ?? "?") + " " + source} on ${dest} (${describeFlags(opts.flags & ~MS.BIND) || "defaults"}${data ? "," + data : ""})`, field);
    if (opts.recAttrSet || opts.recAttrClr) {
      add("mountSetattr", { dest, attrSet: opts.recAttrSet, attrClr: opts.recAttrClr },
        `set ${recursiveOptions(m.options)} on ${dest} and every mount below it (mount_setattr)`, field);
    }
  });

  // ---- devices ------------------------------------------------------------------------------
  // A fresh /dev gets the standard device nodes; a /dev bound from the host already has them.
  const devices = devIsTmpfs ? DEFAULT_DEVICES.map((d) => ({ ...d, type: "c", fileMode: 0o666, uid: 0, gid: 0, field: "(default device)" })) : [];
  (linux.devices ?? []).forEach((d, i) => {
    const existing = devices.findIndex((x) => x.path === d.path);
    const entry = { path: d.path, type: d.type, major: d.major ?? 0, minor: d.minor ?? 0, fileMode: d.fileMode ?? 0o666, uid: d.uid ?? 0, gid: d.gid ?? 0, field: `linux.devices[${i}]` };
    if (existing >= 0) devices[existing] = entry;
    else devices.push(entry);
  });
  for (const d of devices) {
    if (newUserns) {
      // mknod is refused in a user namespace: bind the host's node instead, as runc does.
      add("bindDevice", { hostPath: d.path, path: d.path }, `bind host device ${d.path}`, d.field);
    } else {
      const typeBits = d.type === "b" ? S_IFBLK : d.type === "p" ? S_IFIFO : S_IFCHR;
      add("mknod", { path: d.path, mode: typeBits | (d.fileMode & 0o7777), major: d.major, minor: d.minor, uid: d.uid, gid: d.gid },
        `mknod ${d.path} ${d.type} ${d.major}:${d.minor} mode ${(d.fileMode & 0o7777).toString(8)}`, d.field);
    }
  }
  if (devIsTmpfs) {
    const links: [string, string][] = [
      ["/proc/self/fd", "/dev/fd"], ["/proc/self/fd/0", "/dev/stdin"],
      ["/proc/self/fd/1", "/dev/stdout"], ["/proc/self/fd/2", "/dev/stderr"],
    ];
    // runc links /dev/core only when the host kernel has /proc/kcore to point at.
    if (host.kind("/proc/kcore") !== "missing") links.push(["/proc/kcore", "/dev/core"]);
    if (hasDevpts) links.push(["pts/ptmx", "/dev/ptmx"]);
    for (const [target, path] of links) add("symlink", { target, path }, `symlink ${path} -> ${target}`);
  }
  // Hooks: berth runs prestart/createRuntime (host side) while the init waits here, with its
  // namespaces created and its mounts done; then the init runs createContainer hooks itself,
  // in the container's namespaces, before pivot_root (as the runtime spec orders them).
  const hooks = spec.hooks ?? {};
  // A relative hook path is taken from where runc runs the hook: createContainer from the
  // rootfs (runc chdirs there before it; the host path still resolves before pivot_root),
  // startContainer from the process's cwd inside the container.
  const hookDir = { createContainer: rootfs, startContainer: spec.process?.cwd || "/" };
  const runHooks = (kind: "createContainer" | "startContainer") => {
    (hooks[kind] ?? []).forEach((h, i) => {
      const argv = h.args?.length ? h.args : [h.path];
      const path = h.path.startsWith("/") ? h.path : `${hookDir[kind].replace(/\/+$/, "")}/${h.path}`;
      add("runHook", { path, argv: argv.join("\0") + "\0", envp: h.env?.length ? h.env.join("\0") + "\0" : "", timeout: Math.min(h.timeout ?? 0, MAX_HOOK_TIMEOUT_S), cwd: hookDir[kind] },
        `run ${kind} hook ${h.path}${h.timeout ? ` (timeout ${h.timeout}s)` : ""}`, `hooks.${kind}[${i}]`);
    });
  };
  if (hooks.prestart?.length || hooks.createRuntime?.length || hooks.createContainer?.length || hooks.startContainer?.length) {
    add("hookPoint", {}, `pause for berth to run ${hooks.prestart?.length ?? 0} prestart and ${hooks.createRuntime?.length ?? 0} createRuntime hooks`, "hooks");
  }
  runHooks("createContainer");
  if (rootProp !== undefined && rootProp & MS.UNBINDABLE) {
    add("propagation", { target: rootfs, flags: rootProp }, `set rootfs propagation to ${linux.rootfsPropagation}`, "linux.rootfsPropagation");
  }
  if (!ownMountNs) add("chroot", { path: rootfs }, `chroot into ${rootfs} (no mount namespace: the mounts stay in the caller's)`, "linux.namespaces");
  else add("pivot", { noPivot: input.noPivot ? 1 : 0 },
    input.noPivot ? "move the rootfs to / and chroot into it (--no-pivot)" : "pivot_root into the rootfs and detach the old root");
  // pivot_root refuses a shared new root: the root becomes shared only once it is the root.
  if (shared) add("propagation", { target: "/", flags: rootProp }, `set rootfs propagation to ${linux.rootfsPropagation}`, "linux.rootfsPropagation");

  // ---- console, names, sysctls, masks --------------------------------------------------------
  if (proc.terminal) {
    const rows = proc.consoleSize?.height ?? 0, cols = proc.consoleSize?.width ?? 0;
    add("console", { rows, cols, bindConsole: devIsTmpfs ? 1 : 0 }, `create a pty in the container and make it the controlling terminal${devIsTmpfs ? ", bound on /dev/console" : ""}${input.consoleSocket ? " (master sent to the console socket)" : ""}`, "process.terminal");
  }
  // After the console's /dev/console bind, as runc's finalizeRootfs (the path resolves in the
  // rootfs fd, which is the new root).
  if (devReadonly) {
    const flags = MS.REMOUNT | (devReadonly.flags & ~(MS.BIND | MS.REC | MS.REMOUNT));
    add("mount", { source: "", dest: "/dev", fstype: "", flags, data: "", mkdir: 2, resolve: 0, propagation: 0, remount: 0 },
      `remount /dev read-only, now that it is populated (${describeFlags(flags & ~MS.REMOUNT)})`, devReadonly.field);
  }
  // A uts namespace joined by path is the container's too (runc sets the name there), unless it
  // is the one berth itself runs in: that would rename the host (spec/hostns.ts refuses it).
  const checkUts = (field: "hostname" | "domainname") => {
    if (!has("uts")) throw configError(field, `cannot set the ${field} without a uts namespace of the container's own`, 'add {"type": "uts"} to linux.namespaces');
  };
  if (spec.hostname !== undefined && spec.hostname !== "") {
    checkUts("hostname");
    add("sethostname", { name: spec.hostname }, `set hostname to "${spec.hostname}"`, "hostname");
  }
  if (spec.domainname !== undefined && spec.domainname !== "") {
    checkUts("domainname");
    add("setdomainname", { name: spec.domainname }, `set domainname to "${spec.domainname}"`, "domainname");
  }
  for (const [key, value] of Object.entries(linux.sysctl ?? {})) {
    const field = `linux.sysctl["${key}"]`;
    const ns = sysctlNamespace(key);
    if (!ns) throw configError(field, `sysctl ${key} is not namespaced: setting it would change the host`);
    if (!has(ns)) throw configError(field, `sysctl ${key} needs a ${ns} namespace of the container's own`);
    // (joined by path, it may be berth's own namespace: spec/hostns.ts refused that already)
    if (key.includes("/") || key.includes("..")) throw configError(field, `invalid sysctl name ${key}`);
    add("write", { path: `/proc/sys/${key.replace(/\./g, "/")}`, value }, `sysctl ${key}=${value}`, field);
  }
  (linux.readonlyPaths ?? []).forEach((p, i) => add("readonly", { path: p }, `make ${p} read-only`, `linux.readonlyPaths[${i}]`));
  (linux.maskedPaths ?? []).forEach((p, i) => add("mask", { path: p }, `mask ${p}`, `linux.maskedPaths[${i}]`));
  if (spec.root?.readonly) add("rootReadonly", {}, "remount the rootfs read-only", "root.readonly");

  // ---- limits, identity, privileges ---------------------------------------------------------
  if (joinsCgroups && !isNew("cgroup")) cgroupWait();
  addProcessSteps(add, notes, proc, {
    seccomp: input.seccomp,
    preserveFds: input.preserveFds,
    passwd: () => host.readFile(`${rootfs}/etc/passwd`),
    beforeExec: () => {
      if (input.mode === "create") add("waitFifo", {}, "wait for `berth start` (exec fifo)");
      runHooks("startContainer");
    },
  });

  return { steps, notes };
}
