// SecurityOpt: seccomp (default, unconfined, or a profile: the CLI reads the file and sends its
// JSON content as "seccomp=<json>"), no-new-privileges[:|=true|false], systempaths=unconfined,
// and apparmor/label, which this host cannot enforce: accepted with a warning, as dockerd accepts
// them silently on hosts without AppArmor/SELinux.
import { badRequest } from "../../errors.ts";
import type { Seccomp } from "../../../runtime/spec/types.ts";
import { DEFAULT_PROFILE, resolveProfile, type DockerProfile } from "./seccomp-default.ts";
import { deepFreeze } from "../../../runtime/frozen.ts";

export interface SecurityOptions {
  seccomp: "default" | "unconfined" | DockerProfile;
  noNewPrivileges: boolean;
  unmaskSystemPaths: boolean;
  warnings: string[];
}

const BOOL = (s: string) => (s === "true" ? true : s === "false" ? false : undefined);

export function parseSecurityOpts(opts: readonly string[] | null | undefined): SecurityOptions {
  const out: SecurityOptions = { seccomp: "default", noNewPrivileges: false, unmaskSystemPaths: false, warnings: [] };
  (opts ?? []).forEach((opt, i) => {
    // dockerd numbers the option from 2 in this message (its own quirk); the CLI shows it as is.
    const invalid = () => badRequest(`invalid --security-opt 2: "${opt}"`);
    if (opt === "no-new-privileges") {
      out.noNewPrivileges = true;
      return;
    }
    const sep = /[=:]/.exec(opt);
    if (!sep) throw invalid();
    const key = opt.slice(0, sep.index), value = opt.slice(sep.index + 1);
    switch (key) {
      case "no-new-privileges": {
        const b = BOOL(value);
        if (b === undefined) throw invalid();
        out.noNewPrivileges = b;
        return;
      }
      case "seccomp":
        if (value === "unconfined") out.seccomp = "unconfined";
        else if (value === "builtin" || value === "default") out.seccomp = "default";
        else out.seccomp = parseProfile(value, i);
        return;
      case "systempaths":
        if (value !== "unconfined") throw invalid();
        out.unmaskSystemPaths = true;
        return;
      case "apparmor":
        out.warnings.push(`AppArmor is not supported by this daemon: --security-opt ${opt} is ignored`);
        return;
      case "label":
        if (!/^(disable|user|role|type|level|filetype|nested)(:|$)/.test(value)) throw invalid();
        // dockerd itself records label=disable for privileged and host-namespace containers.
        if (value !== "disable") out.warnings.push(`SELinux is not supported by this daemon: --security-opt ${opt} is ignored`);
        return;
      default:
        throw invalid();
    }
  });
  return out;
}

function parseProfile(text: string, i: number): DockerProfile {
  let p: unknown;
  try {
    p = JSON.parse(text);
  } catch (e) {
    throw badRequest(`Decoding seccomp profile failed: ${(e as Error).message} (HostConfig.SecurityOpt[${i}])`);
  }
  if (!p || typeof p !== "object" || Array.isArray(p)) throw badRequest(`Decoding seccomp profile failed: not a JSON object (HostConfig.SecurityOpt[${i}])`);
  const prof = p as DockerProfile;
  if (typeof prof.defaultAction !== "string") throw badRequest(`Decoding seccomp profile failed: defaultAction must be a string (HostConfig.SecurityOpt[${i}])`);
  if (prof.architectures && prof.archMap) throw badRequest("use either 'architectures' or 'archMap'");
  if (prof.syscalls !== undefined && prof.syscalls !== null && !Array.isArray(prof.syscalls)) {
    throw badRequest(`Decoding seccomp profile failed: syscalls must be an array (HostConfig.SecurityOpt[${i}])`);
  }
  (prof.syscalls ?? []).forEach((s, j) => {
    if (typeof s !== "object" || s === null || typeof s.action !== "string") throw badRequest(`Decoding seccomp profile failed: syscalls[${j}].action must be a string`);
    if (s.name && s.names?.length) throw badRequest("use either 'name' or 'names'");
  });
  return prof;
}

/**
 * Docker's default profile resolved for a set of capabilities, made once per set and frozen:
 * every container (twice: at create and at start) gets the same object, some 350 syscall names
 * that need not be copied again, and the seccomp compiler's cache knows it by identity.
 */
const defaultProfiles = new Map<string, Seccomp>();
function defaultProfileFor(caps: readonly string[]): Seccomp {
  const key = [...caps].sort().join(",");
  let p = defaultProfiles.get(key);
  if (!p) {
    p = deepFreeze(resolveProfile(DEFAULT_PROFILE, caps));
    if (defaultProfiles.size >= 64) defaultProfiles.clear();
    defaultProfiles.set(key, p);
  }
  return p;
}

/** The OCI seccomp section for the container, or undefined for none (privileged, unconfined). */
export function seccompFor(sec: SecurityOptions, privileged: boolean, caps: readonly string[]): Seccomp | undefined {
  if (sec.seccomp === "unconfined") return undefined;
  // dockerd: --privileged runs unconfined unless a profile is given explicitly.
  if (sec.seccomp === "default") return privileged ? undefined : defaultProfileFor(caps);
  return resolveProfile(sec.seccomp, caps);
}

/** /proc and /sys entries hidden from a container (dockerd's list, plus powercap: CVE-2020-8694). */
export const MASKED_PATHS = [
  "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
  "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
];

export const READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];
