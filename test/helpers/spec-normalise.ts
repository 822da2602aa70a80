// A comparable digest of an OCI spec made by dockerd or by Berth's spec builder: the fields a
// container's behaviour depends on, with per-daemon paths (rootfs, container directory, cgroup
// parent, hooks) removed, and seccomp reduced to "which capability-gated syscalls are allowed"
// (the two profiles' texts differ on purpose; what each capability opens must not).
import { compileSeccomp } from "../../src/runtime/seccomp/index.ts";
import { runFilter } from "../../src/runtime/seccomp/bpf-interpreter.ts";
import { ARCHES } from "../../src/runtime/seccomp/tables.ts";
import type { Seccomp, Spec } from "../../src/runtime/spec/types.ts";

/** Syscalls docker's default profile gates on a capability (or denies outright). */
export const PROBES: [string, number[]][] = [
  ["mount", []], ["umount2", []], ["unshare", []], ["setns", []], ["sethostname", []], ["chroot", []],
  ["open_by_handle_at", []], ["reboot", []], ["init_module", []], ["acct", []], ["kcmp", []],
  ["iopl", []], ["settimeofday", []], ["vhangup", []], ["mbind", []], ["syslog", []], ["clone3", []],
  ["clone", [0x20000000]], ["clone", [0x3d0f00]], ["kexec_load", []], ["read", []], ["personality", [0]], ["personality", [1]],
];

function seccompDigest(s: Seccomp | undefined): Record<string, string> | null {
  if (!s) return null;
  const f = compileSeccomp(s).filter;
  const out: Record<string, string> = {};
  for (const [name, args] of PROBES) {
    const ret = runFilter(f, { nr: ARCHES.x86_64.syscalls.get(name)!, arch: 0xc000003e, args: args.map(BigInt) });
    out[`${name}(${args.join(",")})`] = ret === 0x7fff0000 ? "allow" : (ret & 0xffff0000) === 0x00050000 ? `errno ${ret & 0xffff}` : `0x${ret.toString(16)}`;
  }
  return out;
}

export function digest(spec: Spec, containerDir: RegExp): Record<string, unknown> {
  const p = spec.process!;
  const l = spec.linux!;
  const r = JSON.parse(JSON.stringify(l.resources ?? {}));
  // Zero values dockerd writes and Berth leaves out (both mean "not set" to the runtime).
  if (r.memory?.disableOOMKiller === false) delete r.memory.disableOOMKiller;
  if (r.cpu?.shares === 0) delete r.cpu.shares;
  if (r.blockIO?.weight === 0) delete r.blockIO;
  for (const k of Object.keys(r)) if (r[k] && typeof r[k] === "object" && !Array.isArray(r[k]) && !Object.keys(r[k]).length) delete r[k];
  return {
    args: p.args,
    env: (p.env ?? []).filter((e) => !e.startsWith("HOSTNAME=")),
    cwd: p.cwd,
    terminal: !!p.terminal,
    user: p.user,
    caps: p.capabilities,
    rlimits: p.rlimits ?? [],
    noNewPrivileges: !!p.noNewPrivileges,
    oomScoreAdj: p.oomScoreAdj ?? 0,
    readonlyRoot: !!spec.root?.readonly,
    hasHostname: spec.hostname !== undefined,
    mounts: (spec.mounts ?? []).map((m) => ({ ...m, source: m.source?.replace(containerDir, "<ctr>/") })),
    namespaces: (l.namespaces ?? []).filter((n) => !(n.type === "network" && n.path)).map((n) => n.type),
    sysctl: l.sysctl ?? {},
    resources: r,
    // --privileged: every host device, which depends on the machine; only that it is "all" matters.
    devices: r.devices?.length === 1 && r.devices[0].allow && !r.devices[0].type ? "all host devices" : l.devices ?? [],
    maskedPaths: l.maskedPaths?.length ? l.maskedPaths : null,
    readonlyPaths: l.readonlyPaths?.length ? l.readonlyPaths : null,
    seccomp: seccompDigest(l.seccomp),
  };
}

/** Where the spec tests say berth-init is (a path their fake host says exists). */
export const INIT_PATH = "/tmp/berth-dockerd-init/berth-init";

/** Capabilities dockerd 20.10 does not know (it stops at CAP_AUDIT_READ); Berth grants what it holds. */
export const NEWER_CAPS = ["CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"];

/**
 * dockerd's digest with Berth's deliberate differences applied (each explained in
 * src/engine/containers/spec/README.md), so what remains must equal Berth's digest exactly.
 */
export function dockerdAsBerth(dockerd: Record<string, any>, hostConfig: Record<string, any>): Record<string, any> {
  const e = JSON.parse(JSON.stringify(dockerd));
  // Masked paths: Berth adds /sys/devices/virtual/powercap (newer moby, CVE-2020-8694).
  if (e.maskedPaths) e.maskedPaths.push("/sys/devices/virtual/powercap");
  // dockerd repeats a GroupAdd gid that is already the primary group; Berth lists it once.
  e.user.additionalGids = [...new Set(e.user.additionalGids)];
  // HostConfig.Init: dockerd binds its docker-init (tini), Berth its own berth-init, at the same place.
  for (const m of e.mounts) if (m.destination === "/sbin/docker-init") m.source = INIT_PATH;
  // --ipc shareable: dockerd binds a tmpfs it mounted under the container directory; Berth gives
  // the container its own /dev/shm tmpfs, as for private.
  const shm = e.mounts.findIndex((m: any) => m.destination === "/dev/shm" && m.source?.startsWith("<ctr>/mounts/shm"));
  if (shm >= 0) {
    e.mounts.splice(shm, 1);
    e.mounts.splice(6, 0, { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", `size=${hostConfig.ShmSize}`] });
  }
  return e;
}

/** Berth's digest with the capabilities dockerd cannot know removed. */
export function withoutNewerCaps(d: Record<string, any>): Record<string, any> {
  for (const k of ["bounding", "effective", "permitted"]) if (d.caps?.[k]) d.caps[k] = d.caps[k].filter((c: string) => !NEWER_CAPS.includes(c));
  return d;
}
