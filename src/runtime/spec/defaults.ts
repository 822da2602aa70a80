// The starter config.json that `berth spec` writes. It is, byte for byte once formatted with
// formatSpec(), what `runc spec` (runc 1.1.5) writes — including `"ociVersion": "1.0.2-dev"`
// and `"hostname": "runc"` — so bundles, scripts and docs written for runc work unchanged and
// `cmp` against runc's file succeeds. (A "berth" hostname was considered and rejected for that
// reason.) Key order matters for byte equality: every object below is built in the field order
// of the runtime-spec Go structs, which is the order runc serialises them in.

import type { Mount, Spec } from "./types.ts";

/** The runtime-spec version runc 1.1.5 declares; kept so our file equals runc's. */
export const DEFAULT_OCI_VERSION = "1.0.2-dev";

const DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

/** The config `berth spec` writes: a read-only `rootfs`, `sh` on a terminal, root user. */
export function defaultSpec(): Spec {
  return {
    ociVersion: DEFAULT_OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ["sh"],
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
      cwd: "/",
      capabilities: {
        bounding: [...DEFAULT_CAPS],
        effective: [...DEFAULT_CAPS],
        permitted: [...DEFAULT_CAPS],
        ambient: [...DEFAULT_CAPS],
      },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: "rootfs", readonly: true },
    hostname: "runc",
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      {
        destination: "/dev",
        type: "tmpfs",
        source: "tmpfs",
        options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
      },
      {
        destination: "/dev/pts",
        type: "devpts",
        source: "devpts",
        options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
      },
      {
        destination: "/dev/shm",
        type: "tmpfs",
        source: "shm",
        options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
      },
      { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
      {
        destination: "/sys/fs/cgroup",
        type: "cgroup",
        source: "cgroup",
        options: ["nosuid", "noexec", "nodev", "relatime", "ro"],
      },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: "rwm" }] },
      namespaces: [{ type: "pid" }, { type: "network" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }],
      maskedPaths: [
        "/proc/acpi",
        "/proc/asound",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/sys/firmware",
        "/proc/scsi",
      ],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
}

/** Host ids the rootless spec maps to root in the container. */
export interface RootlessIds {
  uid: number;
  gid: number;
}

function callerIds(): RootlessIds {
  // runc maps the *effective* ids of the caller.
  return { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 };
}

/**
 * The config `berth spec --rootless` writes, equal to `runc spec --rootless` run by the same
 * user. Starting from defaultSpec():
 *   - a user namespace maps container root (0) to the caller's euid/egid (one id each);
 *   - no network namespace (an unprivileged user cannot set one up usefully);
 *   - /sys is a read-only recursive bind of the host's /sys (sysfs cannot be mounted
 *     without owning the network namespace);
 *   - devpts drops `gid=5` (group 5 is not mapped inside the user namespace);
 *   - no linux.resources (an unprivileged user cannot write the device cgroup).
 * Pass `ids` to build the file for another user (tests do).
 */
export function rootlessSpec(ids: RootlessIds = callerIds()): Spec {
  const spec = defaultSpec();
  const linux = spec.linux!;

  spec.mounts = spec.mounts!.map((m): Mount => {
    if (m.type === "sysfs" && m.destination === "/sys") {
      return {
        destination: "/sys",
        type: "none",
        source: "/sys",
        options: ["rbind", ...(m.options ?? [])],
      };
    }
    if (m.options) return { ...m, options: m.options.filter((o) => o !== "gid=5") };
    return m;
  });

  // Rebuild linux so the keys come out in runc's order: mappings first, resources gone.
  spec.linux = {
    uidMappings: [{ containerID: 0, hostID: ids.uid, size: 1 }],
    gidMappings: [{ containerID: 0, hostID: ids.gid, size: 1 }],
    namespaces: [...linux.namespaces!.filter((ns) => ns.type !== "network"), { type: "user" }],
    maskedPaths: linux.maskedPaths,
    readonlyPaths: linux.readonlyPaths,
  };
  return spec;
}
