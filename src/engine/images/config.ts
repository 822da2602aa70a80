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

const ALLOWED = ["CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "USER", "VOLUME", "WORKDIR", "STOPSIGNAL"];

/** Applies `--change` lines (Dockerfile syntax) to a container config, in order. */
export function applyChanges(cfg: ContainerConfig, changes: string[]): ContainerConfig {
  for (const line of changes.flatMap((c) => c.split("\n")).map((l) => l.trim()).filter(Boolean)) {
    const m = /^(\S+)\s*([\s\S]*)$/.exec(line)!;
    const instr = m[1].toUpperCase();
    const rest = m[2].trim();
    const bad = (why: string) => badRequest(`invalid --change "${line}": ${why}`);
    if (!ALLOWED.includes(instr)) throw badRequest(`${m[1]} is not a valid change command`);
    switch (instr) {
      case "CMD": cfg.Cmd = commandForm(rest); break;
      case "ENTRYPOINT": cfg.Entrypoint = commandForm(rest); break;
      case "ENV": {
        const env = [...(cfg.Env ?? [])];
        for (const [k, v] of keyValues(rest, bad, true)) {
          const i = env.findIndex((e) => e.split("=")[0] === k);
          if (i >= 0) env[i] = `${k}=${expand(v, env)}`; else env.push(`${k}=${expand(v, env)}`);
        }
        cfg.Env = env;
        break;
      }
      case "LABEL":
        cfg.Labels = { ...(cfg.Labels ?? {}) };
        for (const [k, v] of keyValues(rest, bad, false)) cfg.Labels[k] = v;
        break;
      case "EXPOSE":
        cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}) };
        for (const p of words(rest)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw bad(`invalid port "${p}"`);
          cfg.ExposedPorts[p.includes("/") ? p.toLowerCase() : `${p}/tcp`] = {};
        }
        break;
      case "VOLUME": {
        cfg.Volumes = { ...(cfg.Volumes ?? {}) };
        const list = rest.startsWith("[") ? jsonArray(rest, bad) : words(rest);
        if (!list.length) throw bad("VOLUME needs a path");
        for (const v of list) cfg.Volumes[v] = {};
        break;
      }
      case "USER": if (!rest) throw bad("USER needs a name"); cfg.User = rest; break;
      case "WORKDIR": if (!rest) throw bad("WORKDIR needs a path"); cfg.WorkingDir = rest.startsWith("/") ? rest : `${cfg.WorkingDir || "/"}/${rest}`.replace(/\/+/g, "/"); break;
      case "STOPSIGNAL": cfg.StopSignal = rest; break;
      case "ONBUILD": cfg.OnBuild = [...(cfg.OnBuild ?? []), rest]; break;
    }
  }
  return cfg;
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

function jsonArray(rest: string, bad: (w: string) => Error): string[] {
  try {
    const v = JSON.parse(rest);
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v;
  } catch { /* fallthrough */ }
  throw bad("not a JSON array of strings");
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

/** KEY=VALUE pairs, or the legacy "KEY VALUE" form when `legacy` and there is no "=". */
function keyValues(rest: string, bad: (w: string) => Error, legacy: boolean): [string, string][] {
  const w = words(rest);
  if (!w.length) throw bad("needs at least one argument");
  if (!w[0].includes("=")) {
    if (!legacy && w.length !== 2) throw bad("needs KEY=VALUE");
    const m = /^(\S+)\s+([\s\S]*)$/.exec(rest);
    if (!m) throw bad("needs a value");
    return [[m[1], words(m[2]).join(" ")]];
  }
  return w.map((kv) => {
    const i = kv.indexOf("=");
    if (i <= 0) throw bad(`"${kv}" is not KEY=VALUE`);
    return [kv.slice(0, i), kv.slice(i + 1)] as [string, string];
  });
}

/** $VAR and ${VAR} from the ENV set so far, as the Dockerfile parser does. */
function expand(v: string, env: string[]): string {
  const get = (k: string) => env.find((e) => e.startsWith(`${k}=`))?.slice(k.length + 1) ?? "";
  return v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, a, b) => get(a ?? b));
}
