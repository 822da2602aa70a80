// linux.resources, linux.devices and linux.sysctl from HostConfig, with dockerd's checks and
// wording (the CLI prints them after "Error response from daemon: ").
import { badRequest } from "../../errors.ts";
import type { Device, DeviceCgroup, Resources } from "../../../runtime/spec/types.ts";
import type { HostAccess, HostDevice, Json } from "./types.ts";

const MIN_MEMORY = 6 * 1024 * 1024;
const NANO = 1e9;
const DEFAULT_PERIOD = 100000;

/** "0-2,4" → [0,1,2,4]; undefined when malformed. */
export function parseCpuset(s: string): number[] | undefined {
  const out: number[] = [];
  for (const part of s.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) return undefined;
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

function checkCpuset(value: string, available: string, what: "CPUs" | "memory nodes", flag: string): void {
  const want = parseCpuset(value);
  if (!want) throw badRequest(`Invalid value ${value} for ${flag}`);
  const have = new Set(parseCpuset(available) ?? []);
  if (!want.every((n) => have.has(n))) throw badRequest(`Requested ${what} are not available - requested ${value}, available: ${available}`);
}

export function buildResources(hc: Json, host: HostAccess, warnings: string[]): Resources {
  const r: Resources = {};
  const mem = hc.Memory ?? 0, swap = hc.MemorySwap ?? 0, res = hc.MemoryReservation ?? 0;
  if (mem !== 0 && mem < MIN_MEMORY) throw badRequest("Minimum memory limit allowed is 6MB");
  if (mem > 0 && swap > 0 && swap < mem) throw badRequest("Minimum memoryswap limit should be larger than memory limit, see usage");
  if (mem === 0 && swap > 0) throw badRequest("You should always set the Memory limit when using Memoryswap limit, see usage");
  if (res !== 0 && res < MIN_MEMORY) throw badRequest("Minimum memory reservation allowed is 6MB");
  if (mem > 0 && res > 0 && mem < res) throw badRequest("Minimum memory limit can not be less than memory reservation limit, see usage");
  const swappiness = hc.MemorySwappiness;
  if (swappiness !== undefined && swappiness !== null && swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw badRequest(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  }
  const memory: NonNullable<Resources["memory"]> = {};
  if (mem > 0) {
    memory.limit = mem;
    // dockerd's default: swap as large as the memory limit (limit + swap = twice the limit).
    // -1 (unlimited) is left unset, as dockerd does: the runtime then does not limit swap.
    if (swap !== -1) memory.swap = swap === 0 ? mem * 2 : swap;
  }
  if (res > 0) memory.reservation = res;
  if (swappiness !== undefined && swappiness !== null && swappiness >= 0) memory.swappiness = swappiness;
  if (hc.OomKillDisable) {
    memory.disableOOMKiller = true;
    if (!(mem > 0)) warnings.push("OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.");
  }
  if (hc.KernelMemory) warnings.push("Kernel memory limits are not supported and the option will be ignored (KernelMemory).");
  if (Object.keys(memory).length) r.memory = memory;

  // Read from the host only when a field needs it (os.cpus() parses /proc on every call).
  let known: ReturnType<HostAccess["cpus"]> | undefined;
  const cpus = { get count() { return (known ??= host.cpus()).count; }, get cpuset() { return (known ??= host.cpus()).cpuset; }, get mems() { return (known ??= host.cpus()).mems; } };
  const nano = hc.NanoCpus ?? 0, quota = hc.CpuQuota ?? 0, period = hc.CpuPeriod ?? 0, shares = hc.CpuShares ?? 0;
  if (nano > 0 && period > 0) throw badRequest("Conflicting options: Nano CPUs and CPU Period cannot both be set");
  if (nano > 0 && quota > 0) throw badRequest("Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  if (nano !== 0 && (nano < 0 || nano > cpus.count * NANO)) {
    throw badRequest(`Range of CPUs is from 0.01 to ${cpus.count}.00, as there are only ${cpus.count} CPUs available`);
  }
  if (period !== 0 && (period < 1000 || period > 1000000)) throw badRequest("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
  if (quota > 0 && quota < 1000) throw badRequest("CPU cfs quota can not be less than 1ms (i.e. 1000)");
  // Checked here rather than left to the runtime, so the error is a 400 at create.
  if (shares !== 0 && shares < 2) throw badRequest("the minimum allowed cpu-shares is 2");
  if (shares > 262144) throw badRequest("the maximum allowed cpu-shares is 262144");
  const cpu: NonNullable<Resources["cpu"]> = {};
  if (shares > 0) cpu.shares = shares;
  if (nano > 0) {
    cpu.period = DEFAULT_PERIOD;
    cpu.quota = Math.round((nano * DEFAULT_PERIOD) / NANO);
  } else {
    if (quota) cpu.quota = quota;
    if (period) cpu.period = period;
  }
  if (hc.CpusetCpus) {
    checkCpuset(hc.CpusetCpus, cpus.cpuset, "CPUs", "cpuset cpus");
    cpu.cpus = hc.CpusetCpus;
  }
  if (hc.CpusetMems) {
    checkCpuset(hc.CpusetMems, cpus.mems, "memory nodes", "cpuset mems");
    cpu.mems = hc.CpusetMems;
  }
  if (hc.CpuRealtimePeriod) cpu.realtimePeriod = hc.CpuRealtimePeriod;
  if (hc.CpuRealtimeRuntime) cpu.realtimeRuntime = hc.CpuRealtimeRuntime;
  if (Object.keys(cpu).length) r.cpu = cpu;

  // 0 and negative PidsLimit mean unlimited (docker clears it).
  if ((hc.PidsLimit ?? 0) > 0) r.pids = { limit: hc.PidsLimit };
  const weight = hc.BlkioWeight ?? 0;
  if (weight !== 0 && (weight < 10 || weight > 1000)) throw badRequest("Range of blkio weight is from 10 to 1000");
  if (weight && !host.blkioWeight()) warnings.push("Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.");
  else if (weight) r.blockIO = { weight };
  return r;
}

/** What dockerd allows by default (runc adds its own always-allowed list on top, as Berth does). */
const DEFAULT_DEVICE_RULES: DeviceCgroup[] = [
  { allow: false, access: "rwm" },
  ...[[1, 5], [1, 3], [1, 9], [1, 8], [5, 0], [5, 1]].map(([major, minor]): DeviceCgroup => ({ allow: true, type: "c", major, minor, access: "rwm" })),
  // /dev/fuse: denied unless given with --device
  { allow: false, type: "c", major: 10, minor: 229, access: "rwm" },
];

const RULE = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/;

export function parseDeviceCgroupRule(rule: string): DeviceCgroup {
  const m = RULE.exec(rule.trim());
  if (!m) throw badRequest(`invalid device cgroup format '${rule}'`);
  const num = (s: string) => (s === "*" ? -1 : Number(s));
  return { allow: true, type: m[1], major: num(m[2]), minor: num(m[3]), access: m[4] };
}

export interface DeviceResult {
  devices: Device[];
  rules: DeviceCgroup[];
}

const toDevice = (d: HostDevice, path: string): Device => ({ path, type: d.type, major: d.major, minor: d.minor, fileMode: d.fileMode, uid: d.uid, gid: d.gid });

export function buildDevices(hc: Json, host: HostAccess): DeviceResult {
  if (hc.Privileged) {
    return { devices: host.devices().map((d) => toDevice(d, d.path)), rules: [{ allow: true, access: "rwm" }] };
  }
  const devices: Device[] = [];
  const rules = DEFAULT_DEVICE_RULES.map((r) => ({ ...r }));
  ((hc.Devices ?? []) as Json[]).forEach((d, i) => {
    const onHost = d.PathOnHost as string;
    if (!onHost) throw badRequest(`invalid device: PathOnHost must not be empty (HostConfig.Devices[${i}])`);
    const inCtr = (d.PathInContainer as string) || onHost;
    if (!inCtr.startsWith("/")) throw badRequest(`invalid device path in container: ${inCtr} (HostConfig.Devices[${i}].PathInContainer)`);
    const perms = (d.CgroupPermissions as string) || "rwm";
    if (!/^[rwm]{1,3}$/.test(perms)) throw badRequest(`invalid device cgroup permissions: ${perms} (HostConfig.Devices[${i}].CgroupPermissions)`);
    let found: HostDevice[];
    try {
      const one = host.device(onHost);
      if (!one) throw badRequest(`error gathering device information while adding custom device "${onHost}": no such file or directory`);
      found = [one];
    } catch (e) {
      if ((e as { status?: number }).status) throw e;
      // A directory: every device under it, at the same relative path in the container.
      const under = host.devices().filter((x) => x.path.startsWith(onHost.replace(/\/$/, "") + "/"));
      if (!under.length) throw badRequest(`error gathering device information while adding custom device "${onHost}": not a device node`);
      found = under;
    }
    for (const dev of found) {
      const path = found.length === 1 && dev.path === onHost ? inCtr : inCtr.replace(/\/$/, "") + dev.path.slice(onHost.replace(/\/$/, "").length);
      devices.push(toDevice(dev, path));
      rules.push({ allow: true, type: dev.type, major: dev.major, minor: dev.minor, access: perms });
    }
  });
  for (const rule of (hc.DeviceCgroupRules ?? []) as string[]) rules.push(parseDeviceCgroupRule(rule));
  return { devices, rules };
}

// What may be namespaced per container (docker's sysctl allowlist).
const IPC_SYSCTLS = ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"];

export function buildSysctls(hc: Json, o: { hostNetwork: boolean; hostIpc: boolean; hostUts: boolean; domainname: string }): Record<string, string> {
  const out: Record<string, string> = {};
  if (!o.hostNetwork) {
    // dockerd's defaults since 20.10: unprivileged ports and ping inside the container's own netns.
    out["net.ipv4.ip_unprivileged_port_start"] = "0";
    out["net.ipv4.ping_group_range"] = "0 2147483647";
  }
  if (o.domainname && !o.hostUts) out["kernel.domainname"] = o.domainname;
  for (const [k, v] of Object.entries((hc.Sysctls ?? {}) as Record<string, string>)) {
    const ipc = IPC_SYSCTLS.includes(k) || k.startsWith("fs.mqueue.");
    const net = k.startsWith("net.");
    if (!ipc && !net && k !== "kernel.domainname") throw badRequest(`sysctl '${k}=${v}' is not whitelisted`);
    if (net && o.hostNetwork) throw badRequest(`sysctl '${k}' not allowed in host network namespace`);
    if (ipc && o.hostIpc) throw badRequest(`sysctl '${k}' not allowed in host IPC namespace`);
    if (k === "kernel.domainname" && o.hostUts) throw badRequest(`sysctl '${k}' not allowed in host UTS namespace`);
    out[k] = v;
  }
  return out;
}
