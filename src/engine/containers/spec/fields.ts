// Type checks for HostConfig, so `"Memory": "abc"` is a 400 naming the field (dockerd says
// `json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type int64`;
// we use the same form, one level shorter). Unknown fields are ignored, as dockerd does.
import { badRequest } from "../../errors.ts";
import type { Json } from "./types.ts";

type Kind = "int64" | "uint16" | "int" | "bool" | "string" | "[]string" | "map[string]string" | "object" | "[]object" | "[2]uint";

export const HOST_FIELDS: Record<string, Kind> = {
  Binds: "[]string", NetworkMode: "string", AutoRemove: "bool", CapAdd: "[]string", CapDrop: "[]string",
  Dns: "[]string", DnsOptions: "[]string", DnsSearch: "[]string", ExtraHosts: "[]string", GroupAdd: "[]string",
  IpcMode: "string", Cgroup: "string", OomScoreAdj: "int", PidMode: "string", Privileged: "bool",
  ReadonlyRootfs: "bool", SecurityOpt: "[]string", StorageOpt: "map[string]string", Tmpfs: "map[string]string",
  UTSMode: "string", UsernsMode: "string", ShmSize: "int64", Sysctls: "map[string]string", Runtime: "string",
  CgroupnsMode: "string", CgroupParent: "string", CpuShares: "int64", Memory: "int64", NanoCpus: "int64",
  BlkioWeight: "uint16", CpuPeriod: "int64", CpuQuota: "int64", CpuRealtimePeriod: "int64", CpuRealtimeRuntime: "int64",
  CpusetCpus: "string", CpusetMems: "string", Devices: "[]object", DeviceCgroupRules: "[]string",
  MemoryReservation: "int64", MemorySwap: "int64", MemorySwappiness: "int64", OomKillDisable: "bool",
  PidsLimit: "int64", Ulimits: "[]object", Mounts: "[]object", MaskedPaths: "[]string", ReadonlyPaths: "[]string",
  Init: "bool", Annotations: "map[string]string", ConsoleSize: "[2]uint", KernelMemory: "int64",
  LogConfig: "object", RestartPolicy: "object", PortBindings: "object", VolumesFrom: "[]string", DeviceRequests: "[]object",
  Links: "[]string", PublishAllPorts: "bool",
};

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (typeof v === "object") return "object";
  return typeof v === "boolean" ? "bool" : typeof v;
}

function fits(v: unknown, kind: Kind): boolean {
  switch (kind) {
    case "int64":
    case "int":
      return typeof v === "number" && Number.isSafeInteger(v);
    case "uint16":
      return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffff;
    case "bool":
      return typeof v === "boolean";
    case "string":
      return typeof v === "string";
    case "[]string":
      return Array.isArray(v) && v.every((s) => typeof s === "string");
    case "map[string]string":
      return typeof v === "object" && !Array.isArray(v) && Object.values(v as object).every((s) => typeof s === "string");
    case "object":
      return typeof v === "object" && !Array.isArray(v);
    case "[]object":
      return Array.isArray(v) && v.every((o) => o !== null && typeof o === "object" && !Array.isArray(o));
    case "[2]uint":
      return Array.isArray(v) && v.length === 2 && v.every((n) => Number.isInteger(n) && n >= 0);
  }
}

const unmarshal = (where: string, v: unknown, kind: string) =>
  badRequest(`json: cannot unmarshal ${jsonType(v)} into Go struct field ${where} of type ${kind}`);

// The tables as lists, made once: each create and start checks every field (index loops: the
// interpreter makes an iterator and an entries array for each for-of over Object.entries).
const HOST_FIELD_LIST = Object.entries(HOST_FIELDS);

/** Throws a 400 for the first HostConfig field of the wrong JSON type. null is "not set". */
export function checkHostConfig(hc: unknown): Json {
  if (hc === null || hc === undefined) return {};
  if (typeof hc !== "object" || Array.isArray(hc)) throw unmarshal("ContainerCreateConfig.HostConfig", hc, "container.HostConfig");
  for (let i = 0; i < HOST_FIELD_LIST.length; i++) {
    const k = HOST_FIELD_LIST[i][0], kind = HOST_FIELD_LIST[i][1];
    const v = (hc as Json)[k];
    if (v === null || v === undefined) continue;
    if (!fits(v, kind)) throw unmarshal(`HostConfig.${k}`, v, kind);
  }
  const h = hc as Json;
  (h.Ulimits ?? []).forEach((u: Json, i: number) => {
    if (typeof u.Name !== "string") throw unmarshal(`HostConfig.Ulimits[${i}].Name`, u.Name, "string");
    for (const f of ["Soft", "Hard"]) if (!Number.isSafeInteger(u[f])) throw unmarshal(`HostConfig.Ulimits[${i}].${f}`, u[f], "int64");
  });
  (h.Devices ?? []).forEach((d: Json, i: number) => {
    for (const f of ["PathOnHost", "PathInContainer", "CgroupPermissions"]) {
      if (d[f] !== undefined && d[f] !== null && typeof d[f] !== "string") throw unmarshal(`HostConfig.Devices[${i}].${f}`, d[f], "string");
    }
  });
  (h.Mounts ?? []).forEach((m: Json, i: number) => {
    for (const f of ["Type", "Source", "Target"]) {
      if (m[f] !== undefined && m[f] !== null && typeof m[f] !== "string") throw unmarshal(`HostConfig.Mounts[${i}].${f}`, m[f], "string");
    }
    if (m.ReadOnly !== undefined && m.ReadOnly !== null && typeof m.ReadOnly !== "boolean") throw unmarshal(`HostConfig.Mounts[${i}].ReadOnly`, m.ReadOnly, "bool");
  });
  return h;
}

/** The Config fields the builder reads, checked the same way. */
const CONFIG_FIELDS: Record<string, "string" | "bool" | "[]string" | "strslice"> = {
  Hostname: "string", Domainname: "string", User: "string", Tty: "bool", OpenStdin: "bool", Env: "[]string",
  Cmd: "strslice", Entrypoint: "strslice", WorkingDir: "string", StopSignal: "string",
};

const CONFIG_FIELD_LIST = Object.entries(CONFIG_FIELDS);

export function checkConfig(c: unknown, where = "Config"): Json {
  if (c === null || c === undefined) return {};
  if (typeof c !== "object" || Array.isArray(c)) throw unmarshal(where, c, "container.Config");
  for (let i = 0; i < CONFIG_FIELD_LIST.length; i++) {
    const k = CONFIG_FIELD_LIST[i][0], kind = CONFIG_FIELD_LIST[i][1];
    const v = (c as Json)[k];
    if (v === null || v === undefined) continue;
    const ok = kind === "string" ? typeof v === "string" : kind === "bool" ? typeof v === "boolean"
      : kind === "strslice" ? typeof v === "string" || (Array.isArray(v) && v.every((s) => typeof s === "string"))
      : Array.isArray(v) && v.every((s) => typeof s === "string");
    if (!ok) throw unmarshal(`${where}.${k}`, v, kind === "strslice" ? "strslice.StrSlice" : kind);
  }
  return c as Json;
}
