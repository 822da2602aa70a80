// The shapes dockerd answers with for a container: inspect (GET /containers/{id}/json) and the
// list items of GET /containers/json, with the fields the CLI and common tools read.
import type { ContainerRecord, Json } from "./store.ts";
import { ZERO_TIME } from "./store.ts";
import { MASKED_PATHS, READONLY_PATHS } from "./spec/security.ts";

const NONE_NETWORK_ID = "0000000000000000000000000000000000000000000000000000000000000000";

export function networkMode(c: ContainerRecord): string {
  const m = c.hostConfig.NetworkMode;
  return !m || m === "default" || m === "bridge" ? "none" : m;
}

function endpoint(): Json {
  return {
    IPAMConfig: null, Links: null, Aliases: null, MacAddress: "", DriverOpts: null, NetworkID: NONE_NETWORK_ID,
    EndpointID: "", Gateway: "", IPAddress: "", IPPrefixLen: 0, IPv6Gateway: "", GlobalIPv6Address: "",
    GlobalIPv6PrefixLen: 0, DNSNames: null,
  };
}

function networks(c: ContainerRecord): Json {
  return { [networkMode(c)]: endpoint() };
}

export function mountsOf(c: ContainerRecord): Json[] {
  const out: Json[] = [];
  for (const b of (c.hostConfig.Binds ?? []) as string[]) {
    const parts = b.split(":");
    if (parts.length < 2) continue;
    const mode = parts[2] ?? "";
    out.push({ Type: "bind", Source: parts[0], Destination: parts[1], Mode: mode, RW: !mode.split(",").includes("ro"), Propagation: "rprivate" });
  }
  for (const m of (c.hostConfig.Mounts ?? []) as Json[]) {
    out.push({
      Type: m.Type, Source: m.Source ?? "", Destination: m.Target, Mode: "", RW: !m.ReadOnly,
      Propagation: m.Type === "bind" ? m.BindOptions?.Propagation || "rprivate" : "",
    });
  }
  for (const dst of Object.keys((c.hostConfig.Tmpfs ?? {}) as Json)) {
    out.push({ Type: "tmpfs", Source: "", Destination: dst, Mode: "", RW: true, Propagation: "" });
  }
  return out;
}

/** HostConfig as dockerd shows it: the request with its defaults made explicit. */
function hostConfigView(c: ContainerRecord, shmSize: number): Json {
  const h = c.hostConfig;
  return {
    Binds: null, ContainerIDFile: "", PortBindings: {}, AutoRemove: false, VolumeDriver: "", VolumesFrom: null,
    CapAdd: null, CapDrop: null, Dns: [], DnsOptions: [], DnsSearch: [], ExtraHosts: null,
    GroupAdd: null, Cgroup: "", Links: null, OomScoreAdj: 0, PidMode: "", Privileged: false,
    PublishAllPorts: false, ReadonlyRootfs: false, SecurityOpt: null, UTSMode: "", UsernsMode: "", Isolation: "",
    CpuShares: 0, Memory: 0, NanoCpus: 0, CgroupParent: "", BlkioWeight: 0, BlkioWeightDevice: [], BlkioDeviceReadBps: [],
    BlkioDeviceWriteBps: [], BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [], CpuPeriod: 0, CpuQuota: 0,
    CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: "", CpusetMems: "", Devices: [], DeviceCgroupRules: null,
    DeviceRequests: null, MemoryReservation: 0, MemorySwap: 0, OomKillDisable: false,
    Ulimits: [], CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0,
    ConsoleSize: [0, 0],
    ...h,
    // what dockerd stores for the CLI's "unset" values
    IpcMode: h.IpcMode || "private",
    CgroupnsMode: h.CgroupnsMode || "host",
    MemorySwappiness: typeof h.MemorySwappiness === "number" && h.MemorySwappiness >= 0 ? h.MemorySwappiness : null,
    PidsLimit: typeof h.PidsLimit === "number" && h.PidsLimit > 0 ? h.PidsLimit : null,
    MaskedPaths: h.MaskedPaths ?? (h.Privileged ? null : [...MASKED_PATHS]),
    ReadonlyPaths: h.ReadonlyPaths ?? (h.Privileged ? null : [...READONLY_PATHS]),
    LogConfig: { Type: h.LogConfig?.Type || "json-file", Config: h.LogConfig?.Config ?? {} },
    NetworkMode: h.NetworkMode || "default",
    RestartPolicy: h.RestartPolicy?.Name ? h.RestartPolicy : { Name: "no", MaximumRetryCount: 0 },
    ShmSize: h.ShmSize || shmSize,
    Runtime: "berth",
  };
}

export interface InspectContext {
  dataDir: string;
  logPath: string;
  rootfs?: { lower: string; upper: string; work: string; merged: string };
  shmSize: number;
  execIds: string[];
}

export function inspectContainer(c: ContainerRecord, x: InspectContext): Json {
  const s = c.state;
  return {
    Id: c.id,
    Created: c.created,
    Path: c.path,
    Args: c.args,
    State: {
      Status: s.Status === "removing" ? "removing" : s.Status, Running: s.Running, Paused: s.Paused, Restarting: s.Restarting,
      OOMKilled: s.OOMKilled, Dead: s.Dead, Pid: s.Pid, ExitCode: s.ExitCode, Error: s.Error,
      StartedAt: s.StartedAt, FinishedAt: s.FinishedAt,
      ...(s.Health ? { Health: s.Health } : {}),
    },
    Image: c.imageId,
    ResolvConfPath: `${x.dataDir}/resolv.conf`,
    HostnamePath: `${x.dataDir}/hostname`,
    HostsPath: `${x.dataDir}/hosts`,
    LogPath: x.logPath,
    Name: `/${c.name}`,
    RestartCount: c.restartCount,
    Driver: "overlayfs",
    Platform: "linux",
    MountLabel: "",
    ProcessLabel: "",
    AppArmorProfile: "",
    ExecIDs: x.execIds.length ? x.execIds : null,
    HostConfig: hostConfigView(c, x.shmSize),
    GraphDriver: {
      Name: "overlayfs",
      Data: x.rootfs ? { LowerDir: x.rootfs.lower, UpperDir: x.rootfs.upper, WorkDir: x.rootfs.work, MergedDir: x.rootfs.merged } : null,
    },
    Mounts: mountsOf(c),
    Config: {
      Hostname: c.config.Hostname || c.id.slice(0, 12), Domainname: c.config.Domainname ?? "", User: c.config.User ?? "",
      AttachStdin: !!c.config.AttachStdin, AttachStdout: !!c.config.AttachStdout, AttachStderr: !!c.config.AttachStderr,
      ...(c.config.ExposedPorts ? { ExposedPorts: c.config.ExposedPorts } : {}),
      Tty: !!c.config.Tty, OpenStdin: !!c.config.OpenStdin, StdinOnce: !!c.config.StdinOnce,
      Env: c.config.Env?.length ? c.config.Env : null, Cmd: c.config.Cmd ?? null, Image: c.imageRef,
      Volumes: c.config.Volumes && Object.keys(c.config.Volumes).length ? c.config.Volumes : null, WorkingDir: c.config.WorkingDir ?? "", Entrypoint: c.config.Entrypoint ?? null,
      OnBuild: null, Labels: c.config.Labels ?? {},
      ...(c.config.Healthcheck ? { Healthcheck: c.config.Healthcheck } : {}),
      ...(c.config.StopSignal ? { StopSignal: c.config.StopSignal } : {}),
      ...(typeof c.config.StopTimeout === "number" ? { StopTimeout: c.config.StopTimeout } : {}),
    },
    NetworkSettings: {
      Bridge: "", SandboxID: "", HairpinMode: false, LinkLocalIPv6Address: "", LinkLocalIPv6PrefixLen: 0, Ports: {},
      SandboxKey: s.Running && networkMode(c) !== "host" ? `/proc/${s.Pid}/ns/net` : "", SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null, EndpointID: "", Gateway: "", GlobalIPv6Address: "", GlobalIPv6PrefixLen: 0,
      IPAddress: "", IPPrefixLen: 0, IPv6Gateway: "", MacAddress: "", Networks: networks(c),
    },
  };
}

/** "Up 5 seconds", "Exited (0) 2 minutes ago", "Created": as `docker ps` prints them. */
export function statusText(c: ContainerRecord, now = Date.now()): string {
  const s = c.state;
  if (s.Status === "removing") return "Removal In Progress";
  if (s.Restarting) return `Restarting (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
  if (s.Running) {
    const up = `Up ${humanDuration(now - Date.parse(s.StartedAt))}`;
    if (s.Paused) return `${up} (Paused)`;
    if (s.Health) return `${up} (${s.Health.Status === "starting" ? "health: starting" : s.Health.Status})`;
    return up;
  }
  if (s.FinishedAt === ZERO_TIME || s.StartedAt === ZERO_TIME) return "Created";
  return `Exited (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
}

/** Go's units.HumanDuration wording, written out again. */
export function humanDuration(ms: number): string {
  const sec = Math.floor(ms / 1000);
  if (sec < 1) return "Less than a second";
  if (sec === 1) return "1 second";
  if (sec < 60) return `${sec} seconds`;
  const min = Math.floor(sec / 60);
  if (min === 1) return "About a minute";
  if (min < 60) return `${min} minutes`;
  const hours = Math.round(sec / 3600);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

/** dockerd's Command column quotes an argument holding spaces or quotes, shell-style. */
function quoteArg(a: string): string {
  return /[\s"'\\]/.test(a) || a === "" ? `'${a.replace(/'/g, "'\\''")}'` : a;
}

export function listItem(c: ContainerRecord, sizes?: { rw: number; rootfs: number }): Json {
  const cmd = [c.path, ...c.args].filter((x, i) => i > 0 || x !== "").map(quoteArg).join(" ");
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: c.imageRef,
    ImageID: c.imageId,
    Command: cmd,
    Created: Math.floor(Date.parse(c.created) / 1000),
    Ports: [],
    ...(sizes ? { SizeRw: sizes.rw, SizeRootFs: sizes.rootfs } : {}),
    Labels: c.config.Labels ?? {},
    State: c.state.Status,
    Status: statusText(c),
    HostConfig: { NetworkMode: c.hostConfig.NetworkMode || "default" },
    NetworkSettings: { Networks: networks(c) },
    Mounts: mountsOf(c),
  };
}
