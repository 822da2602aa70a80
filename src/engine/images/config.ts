// Image config JSON: building one for `docker import` (with --change instructions parsed as
// Dockerfile lines), and the container-config shape dockerd prints in inspect (every field,
// Go's order, nulls where Go has nil) whatever shape the stored config has.
import { badRequest } from "../errors.ts";

export interface ContainerConfig {
  [k: string]: unknown;
  User?: string;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, object>;
  Volumes?: Record<string, object> | null;
  StopSignal?: string;
  OnBuild?: string[] | null;
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number };
}

export interface ImageConfig {
  [k: string]: unknown;
  architecture?: string;
  os?: string;
  created?: string;
  author?: string;
  comment?: string;
  container?: string;
  docker_version?: string;
  config?: ContainerConfig | null;
  container_config?: ContainerConfig | null;
  rootfs?: { type: string; diff_ids: string[] };
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean; author?: string }[];
}

export const GOARCH: string = ({ x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x" } as Record<string, string>)[process.arch] ?? process.arch;

/** dockerd's container.Config with every always-present field, in Go's field order. */
export function fullContainerConfig(c: ContainerConfig | null | undefined): Record<string, unknown> {
  const src = c ?? {};
  const out: Record<string, unknown> = {
    Hostname: src.Hostname ?? "", Domainname: src.Domainname ?? "", User: src.User ?? "",
    AttachStdin: src.AttachStdin ?? false, AttachStdout: src.AttachStdout ?? false, AttachStderr: src.AttachStderr ?? false,
  };
  if (src.ExposedPorts && Object.keys(src.ExposedPorts).length) out.ExposedPorts = src.ExposedPorts;
  Object.assign(out, { Tty: src.Tty ?? false, OpenStdin: src.OpenStdin ?? false, StdinOnce: src.StdinOnce ?? false, Env: src.Env ?? null, Cmd: src.Cmd ?? null });
  if (src.Healthcheck) out.Healthcheck = src.Healthcheck;
  if (src.ArgsEscaped) out.ArgsEscaped = src.ArgsEscaped;
  Object.assign(out, { Image: src.Image ?? "", Volumes: src.Volumes ?? null, WorkingDir: src.WorkingDir ?? "", Entrypoint: src.Entrypoint ?? null });
  if (src.NetworkDisabled) out.NetworkDisabled = true;
  if (src.MacAddress) out.MacAddress = src.MacAddress;
  Object.assign(out, { OnBuild: src.OnBuild ?? null, Labels: src.Labels ?? null });
  if (src.StopSignal) out.StopSignal = src.StopSignal;
  if (src.StopTimeout !== undefined && src.StopTimeout !== null) out.StopTimeout = src.StopTimeout;
  if (src.Shell) out.Shell = src.Shell;
  return out;
}

// What `docker import --change` (and commit) accepts: the instructions that only set config.
const ALLOWED = ["CMD", "ENTRYPOINT", "ENV", "EXPOSE", "HEALTHCHECK", "LABEL", "ONBUILD", "USER", "VOLUME", "WORKDIR", "STOPSIGNAL"];

/**
 * Applies `--change` lines (Dockerfile syntax) to a container config, in order. Errors are
 * worded as dockerd's Dockerfile parser words them, since scripts match on them.
 */
export function applyChanges(cfg: ContainerConfig, changes: string[]): ContainerConfig {
  const lines = changes.flatMap((c) => c.split("\n")).map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  if (changes.length && !lines.length) throw badRequest("file with no instructions");
  for (const line of lines) applyLine(cfg, line);
  return cfg;
}

function applyLine(cfg: ContainerConfig, line: string, onbuild = false): void {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(line)!;
  const instr = m[1].toUpperCase();
  const rest = m[2].trim();
  const need = (what: "at least one argument" | "exactly one argument") => badRequest(`${instr} requires ${what}`);
  if (!onbuild && !ALLOWED.includes(instr)) throw badRequest(`${m[1].toLowerCase()} is not a valid change command`);
  switch (instr) {
    case "CMD": cfg.Cmd = rest ? commandForm(rest) : ["/bin/sh", "-c"]; break;
    case "ENTRYPOINT":
      if (rest) cfg.Entrypoint = commandForm(rest);
      else delete cfg.Entrypoint; // an empty ENTRYPOINT clears it
      break;
    case "ENV": {
      if (!rest) throw need("at least one argument");
      const env = [...(cfg.Env ?? [])];
      for (const [k, v] of keyValues(instr, rest, true)) {
        const i = env.findIndex((e) => e.split("=")[0] === k);
        if (i >= 0) env[i] = `${k}=${expand(v, env)}`; else env.push(`${k}=${expand(v, env)}`);
      }
      cfg.Env = env;
      break;
    }
    case "LABEL":
      if (!rest) throw need("at least one argument");
      cfg.Labels = { ...(cfg.Labels ?? {}) };
      for (const [k, v] of keyValues(instr, rest, true)) cfg.Labels[k] = v;
      break;
    case "EXPOSE": {
      const ports = words(rest);
      if (!ports.length) throw need("at least one argument");
      cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}) };
      for (const p of ports) for (const k of exposedPorts(p)) cfg.ExposedPorts[k] = {};
      break;
    }
    case "VOLUME": {
      const list = rest.startsWith("[") ? jsonArray(rest) : words(rest);
      if (!list.length) throw need("at least one argument");
      cfg.Volumes = { ...(cfg.Volumes ?? {}) };
      for (const v of list) {
        if (!v.trim()) throw badRequest("VOLUME specified can not be an empty string");
        cfg.Volumes[v] = {};
      }
      break;
    }
    case "USER":
      if (words(rest).length !== 1) throw need("exactly one argument");
      cfg.User = rest;
      break;
    case "WORKDIR":
      if (words(rest).length !== 1) throw need("exactly one argument");
      cfg.WorkingDir = rest.startsWith("/") ? rest : `${cfg.WorkingDir || "/"}/${rest}`.replace(/\/+/g, "/");
      break;
    case "STOPSIGNAL":
      if (words(rest).length !== 1) throw need("exactly one argument");
      cfg.StopSignal = rest;
      break;
    case "HEALTHCHECK": cfg.Healthcheck = healthcheck(rest); break;
    case "ONBUILD": {
      if (!rest) throw need("at least one argument");
      const trigger = rest.split(/\s/, 1)[0].toUpperCase();
      if (trigger === "ONBUILD") throw badRequest("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (trigger === "FROM" || trigger === "MAINTAINER") throw badRequest(`${trigger} isn't allowed as an ONBUILD trigger`);
      cfg.OnBuild = [...(cfg.OnBuild ?? []), rest];
      break;
    }
  }
}

/** "80", "80/udp", "8000-8002/tcp" → the ExposedPorts keys, one per port of a range. */
function exposedPorts(spec: string): string[] {
  const m = /^([^/]*)(?:\/(.*))?$/.exec(spec)!;
  const proto = (m[2] ?? "tcp").toLowerCase();
  const bad = () => badRequest(`invalid containerPort: ${m[1]}`);
  if (!["tcp", "udp", "sctp"].includes(proto)) throw badRequest(`invalid proto: ${m[2]}`);
  const r = /^(\d+)(?:-(\d+))?$/.exec(m[1]);
  if (!r) throw bad();
  const start = Number(r[1]), end = r[2] === undefined ? start : Number(r[2]);
  if (start > 65535 || end > 65535) throw bad();
  if (end < start) throw badRequest(`invalid range specified for container port: ${m[1]}`);
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  return out;
}

/** HEALTHCHECK [--interval=D --timeout=D --start-period=D --start-interval=D --retries=N] CMD … | NONE */
function healthcheck(rest: string): NonNullable<ContainerConfig["Healthcheck"]> {
  const hc: NonNullable<ContainerConfig["Healthcheck"]> = {};
  let s = rest;
  for (;;) {
    const f = /^--([a-z-]+)=(\S*)\s*/.exec(s);
    if (!f) break;
    s = s.slice(f[0].length);
    const durations: Record<string, "Interval" | "Timeout" | "StartPeriod" | "StartInterval"> = {
      interval: "Interval", timeout: "Timeout", "start-period": "StartPeriod", "start-interval": "StartInterval",
    };
    if (f[1] === "retries") {
      if (!/^\d+$/.test(f[2])) throw badRequest(`strconv.ParseInt: parsing "${f[2]}": invalid syntax`);
      hc.Retries = Number(f[2]);
    } else if (durations[f[1]]) hc[durations[f[1]]] = goDuration(f[2], f[1]);
    else throw badRequest(`Unknown flag: ${f[1]}`);
  }
  const m = /^(\S+)\s*([\s\S]*)$/.exec(s);
  const kind = m?.[1].toUpperCase();
  if (kind === "NONE") {
    if (m![2] || s !== rest) throw badRequest("HEALTHCHECK NONE takes no arguments");
    return { Test: ["NONE"] };
  }
  if (kind !== "CMD") throw badRequest(`Unknown type "${m?.[1] ?? ""}" in HEALTHCHECK (try CMD)`);
  const cmd = m![2].trim();
  if (!cmd) throw badRequest("Missing command after HEALTHCHECK CMD");
  const json = cmd.startsWith("[") ? (() => { try { const v = JSON.parse(cmd); return Array.isArray(v) && v.every((x) => typeof x === "string") ? v as string[] : undefined; } catch { return undefined; } })() : undefined;
  hc.Test = json ? ["CMD", ...json] : ["CMD-SHELL", cmd];
  return hc;
}

/** A Go duration ("5s", "1m30s", "250ms") in nanoseconds. */
function goDuration(v: string, flag: string): number {
  const unit: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0, rest = v;
  if (v === "0") return 0;
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (!m) throw badRequest(`time: invalid duration "${v}" for --${flag}`);
    total += Number(m[1]) * unit[m[2]];
    rest = rest.slice(m[0].length);
  }
  if (!v) throw badRequest(`time: invalid duration "${v}" for --${flag}`);
  return Math.round(total);
}

/** JSON form ["a","b"] as is; shell form becomes ["/bin/sh","-c", text] as docker does. */
function commandForm(rest: string): string[] {
  if (rest.startsWith("[")) {
    try {
      const v = JSON.parse(rest);
      if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v;
    } catch { /* shell form after all, like docker */ }
  }
  return ["/bin/sh", "-c", rest];
}

function jsonArray(rest: string): string[] {
  try {
    const v = JSON.parse(rest);
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v;
  } catch { /* fallthrough */ }
  return words(rest); // not JSON after all: the shell form, as the Dockerfile parser reads it
}

/** Shell-like words: quotes and backslashes removed. */
function words(s: string): string[] {
  const out: string[] = [];
  let cur = "", inWord = false, q: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) {
      if (c === q) q = null;
      else if (c === "\\" && q === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") { q = c; inWord = true; }
    else if (c === "\\" && i + 1 < s.length) { cur += s[++i]; inWord = true; }
    else if (/\s/.test(c)) { if (inWord) out.push(cur); cur = ""; inWord = false; }
    else { cur += c; inWord = true; }
  }
  if (inWord) out.push(cur);
  return out;
}

/** KEY=VALUE pairs, or the legacy "KEY VALUE" form when the first word has no "=". */
function keyValues(instr: string, rest: string, legacy: boolean): [string, string][] {
  const w = words(rest);
  if (!w.length) throw badRequest(`${instr} requires at least one argument`);
  if (!w[0].includes("=")) {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(rest);
    if (!legacy || !m || !m[2].trim()) throw badRequest(`${instr} must have two arguments`);
    return [[m[1], words(m[2]).join(" ")]];
  }
  return w.map((kv) => {
    const i = kv.indexOf("=");
    if (i <= 0) throw badRequest(`Syntax error - can't find = in "${kv}". Must be of the form: name=value`);
    return [kv.slice(0, i), kv.slice(i + 1)] as [string, string];
  });
}

/** $VAR and ${VAR} from the ENV set so far, as the Dockerfile parser does. */
function expand(v: string, env: string[]): string {
  const get = (k: string) => env.find((e) => e.startsWith(`${k}=`))?.slice(k.length + 1) ?? "";
  return v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, a, b) => get(a ?? b));
}
