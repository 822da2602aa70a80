// `berth features`: the runtime-spec "features" document (features.md, runtime-spec 1.1/1.2),
// saying what this runtime supports. Every list is derived from the code that does the work —
// mount options are run through the mount-option parser, seccomp names through the profile
// parser — so the document can't claim something those refuse or silently ignore.
import { parseMountOptions } from "../plan/mount-options.ts";
import { KNOWN_ACTIONS, parseAction } from "../seccomp/actions.ts";
import { parseProfile } from "../seccomp/profile.ts";
import { COMPILED_SCMP_ARCHES } from "../seccomp/tables.ts";
import { CAPABILITIES } from "../linux.ts";
import { HOOK_KINDS, NAMESPACE_TYPES } from "../spec/constants.ts";

export interface Features {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks: string[];
  mountOptions: string[];
  linux: {
    namespaces: string[];
    capabilities: string[];
    cgroup: { v1: boolean; v2: boolean; systemd: boolean; systemdUser: boolean; rdma: boolean };
    seccomp: {
      enabled: boolean;
      actions: string[];
      operators: string[];
      archs: string[];
      knownFlags: string[];
      supportedFlags: string[];
    };
    apparmor: { enabled: boolean };
    selinux: { enabled: boolean };
    intelRdt: { enabled: boolean };
    mountExtensions: { idmap: { enabled: boolean } };
  };
  annotations: Record<string, string>;
}

/** The runtime-spec versions Berth reads: 1.0.0 up to the 1.2 it validates against. */
export const OCI_VERSION_MIN = "1.0.0";
export const OCI_VERSION_MAX = "1.2.0";

// Every mount option runc 1.1.5's `features` lists (plus the recursive-attribute ones of newer
// runtimes): candidates, kept only if Berth's parser turns them into flags or propagation.
const MOUNT_OPTION_CANDIDATES = [
  "acl", "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "iversion",
  "lazytime", "loud", "mand", "noacl", "noatime", "nodev", "nodiratime", "noexec", "noiversion",
  "nolazytime", "nomand", "norelatime", "nostrictatime", "nosuid", "nosymfollow", "private",
  "ratime", "rbind", "rdev", "rdiratime", "relatime", "remount", "rexec", "rnoatime", "rnodev",
  "rnodiratime", "rnoexec", "rnorelatime", "rnostrictatime", "rnosuid", "rnosymfollow", "ro",
  "rprivate", "rrelatime", "rro", "rrw", "rshared", "rslave", "rstrictatime", "rsuid",
  "rsymfollow", "runbindable", "rw", "shared", "silent", "slave", "strictatime", "suid",
  "symfollow", "sync", "tmpcopyup", "unbindable", "idmap", "ridmap",
];
// Options the parser accepts but does not act on: not support, so not claimed.
const IGNORED_MOUNT_OPTIONS = new Set(["tmpcopyup"]);

/** Mount options Berth's parser understands (as flags or propagation, not passed through as data). */
export function supportedMountOptions(): string[] {
  return MOUNT_OPTION_CANDIDATES.filter((opt) => {
    if (IGNORED_MOUNT_OPTIONS.has(opt)) return false;
    try {
      return parseMountOptions([opt], "features").data.length === 0;
    } catch {
      return false;
    }
  }).sort();
}

const OPERATOR_CANDIDATES = ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"];
/** Seccomp filter flags the runtime spec defines. */
export const SECCOMP_KNOWN_FLAGS = [
  "SECCOMP_FILTER_FLAG_TSYNC",
  "SECCOMP_FILTER_FLAG_LOG",
  "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
];

function profileAccepts(profile: Record<string, unknown>): boolean {
  try {
    parseProfile({ defaultAction: "SCMP_ACT_ALLOW", ...profile }, "features");
    return true;
  } catch {
    return false;
  }
}

export function seccompFeatures(): Features["linux"]["seccomp"] {
  const actions = KNOWN_ACTIONS.filter((a) => {
    try {
      parseAction(a, undefined, "features", "features");
      return true;
    } catch {
      return false;
    }
  }).sort();
  const operators = OPERATOR_CANDIDATES.filter((op) =>
    profileAccepts({ syscalls: [{ names: ["read"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, value: 1, valueTwo: 1, op }] }] }),
  ).sort();
  return {
    enabled: true,
    actions,
    operators,
    archs: Object.keys(COMPILED_SCMP_ARCHES).sort(),
    knownFlags: SECCOMP_KNOWN_FLAGS,
    supportedFlags: SECCOMP_KNOWN_FLAGS.filter((f) => profileAccepts({ flags: [f] })),
  };
}

export function featuresDocument(version: string): Features {
  return {
    ociVersionMin: OCI_VERSION_MIN,
    ociVersionMax: OCI_VERSION_MAX,
    hooks: [...HOOK_KINDS],
    mountOptions: supportedMountOptions(),
    linux: {
      // Time namespaces are refused (config validation); every other type is created or joined.
      namespaces: Object.keys(NAMESPACE_TYPES).filter((n) => n !== "time").sort(),
      capabilities: [...CAPABILITIES],
      // The cgroupfs driver on v1, v2 and hybrid hosts; --systemd-cgroup only reads systemd's
      // path syntax (no D-Bus), and rdma limits are untested: none of those is claimed.
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
      seccomp: seccompFeatures(),
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: { "org.opencontainers.berth.version": version },
  };
}

/** As `runc features` prints it: indented by four spaces, with a final newline. */
export function formatFeatures(f: Features): string {
  return JSON.stringify(f, null, 4) + "\n";
}
