// berthd's configuration: dockerd's flags, and daemon.json with the same keys where they apply.
// As with dockerd, a key given both as a flag and in the file, or a key berthd does not know, is
// an error rather than a silent choice.
import fs from "node:fs";
import { parseFlags, formatFlagHelp, type FlagDefs } from "../../cli/flags.ts";
import { BerthError } from "../../runtime/errors.ts";
import { LEVELS, type Level } from "../log.ts";

export interface DaemonConfig {
  hosts: string[];
  dataRoot: string;
  execRoot: string;
  debug: boolean;
  logLevel: Level;
  pidfile: string;
  group: string;
  /** the group was asked for explicitly (a missing one is then an error, not a warning) */
  groupGiven: boolean;
  logOpts: { "max-size"?: string; "max-file"?: string };
  cgroupParent: string;
  shmSize: number;
}

export const FLAGS = {
  host: { type: "string[]", short: "H", value: "ADDR", help: "unix:///path or tcp://127.0.0.1:PORT to listen on (repeatable; default unix:///var/run/berth.sock)" },
  dataRoot: { type: "string", value: "DIR", help: "root of persistent state: images, containers, the store (default /var/lib/berth)" },
  execRoot: { type: "string", value: "DIR", help: "root of runtime state: monitors' sockets, the runtime's container state (default /run/berthd)" },
  debug: { type: "boolean", short: "D", help: "debug logging (each route, each call)" },
  logLevel: { type: "string", short: "l", value: "LEVEL", help: "debug, info, warn, error, fatal (default info)" },
  pidfile: { type: "string", short: "p", value: "FILE", help: "pid file, also a lock: one daemon per file (default /var/run/berthd.pid)" },
  group: { type: "string", short: "G", value: "GROUP", help: "group owning the unix socket, mode 0660 (default docker)" },
  configFile: { type: "string", value: "FILE", help: "daemon.json (default /etc/berth/daemon.json, if it exists)" },
  logOpt: { type: "string[]", value: "K=V", help: "default log options: max-size=10m, max-file=3" },
  cgroupParent: { type: "string", value: "PATH", help: "parent cgroup of containers (default /berth)" },
  defaultShmSize: { type: "string", value: "SIZE", help: "default /dev/shm size (default 64m)" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const satisfies FlagDefs;

// daemon.json key → flag key
const FILE_KEYS: Record<string, keyof typeof FLAGS> = {
  hosts: "host", "data-root": "dataRoot", "exec-root": "execRoot", debug: "debug", "log-level": "logLevel",
  pidfile: "pidfile", group: "group", "log-opts": "logOpt", "cgroup-parent": "cgroupParent", "default-shm-size": "defaultShmSize",
};
// keys dockerd has that mean nothing here but are harmless to accept
const IGNORED_KEYS = new Set(["log-driver", "storage-driver", "experimental", "features", "live-restore", "iptables", "bridge"]);

export function usage(): string {
  return `Usage:  berthd [OPTIONS]

A Docker-API container engine (berth's daemon)

Options:
${formatFlagHelp(FLAGS)}`;
}

const fail = (message: string, hint?: string) => new BerthError(message, { phase: "config", hint });

export function parseSize(s: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(s.trim());
  if (!m) throw fail(`invalid size ${JSON.stringify(s)} for ${what}`, "use a number with an optional unit: 512k, 64m, 1g");
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase() as "" | "k"]!;
  return Math.floor(Number(m[1]) * mult);
}

function readConfigFile(file: string, required: boolean): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if (!required && (e as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw fail(`cannot read config file ${file}: ${(e as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw fail(`config file ${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) throw fail(`config file ${file}: want a JSON object`);
  return v as Record<string, unknown>;
}

export function loadConfig(argv: string[]): DaemonConfig | "help" | "version" {
  const { flags, given, positionals } = parseFlags(argv, FLAGS, { command: "berthd", interspersed: true });
  if (flags.help) return "help";
  if (flags.version) return "version";
  if (positionals.length) throw fail(`unexpected argument ${JSON.stringify(positionals[0])}`, "berthd takes only flags; see berthd --help");
  const file = flags.configFile ?? "/etc/berth/daemon.json";
  const fromFile = readConfigFile(file, flags.configFile !== undefined);
  const unknown = Object.keys(fromFile).filter((k) => !(k in FILE_KEYS) && !IGNORED_KEYS.has(k));
  if (unknown.length) throw fail(`the following directives don't match any configuration option: ${unknown.join(", ")} (in ${file})`);
  const both = Object.keys(fromFile).filter((k) => k in FILE_KEYS && given.has(FILE_KEYS[k]));
  if (both.length) throw fail(`the following directives are specified both as a flag and in the configuration file: ${both.join(", ")} (in ${file})`);

  const str = (key: string, v: unknown): string => {
    if (typeof v !== "string") throw fail(`${key} in ${file}: want a string`);
    return v;
  };
  const pick = <T>(flagKey: keyof typeof FLAGS, fileKey: string, conv: (v: unknown) => T, dflt: T): T => {
    if (given.has(flagKey)) return conv((flags as Record<string, unknown>)[flagKey]);
    if (fileKey in fromFile) return conv(fromFile[fileKey]);
    return dflt;
  };
  const hosts = pick("host", "hosts", (v) => {
    if (!Array.isArray(v) || v.some((h) => typeof h !== "string")) throw fail(`hosts in ${file}: want an array of strings`);
    return v as string[];
  }, ["unix:///var/run/berth.sock"]);
  const debug = pick("debug", "debug", (v) => {
    if (typeof v !== "boolean") throw fail(`debug in ${file}: want true or false`);
    return v;
  }, false);
  let logLevel = pick("logLevel", "log-level", (v) => str("log-level", v), debug ? "debug" : "info") as Level;
  if ((logLevel as string) === "warning") logLevel = "warn";
  if (!LEVELS.includes(logLevel)) throw fail(`unknown log level ${JSON.stringify(logLevel)}`, `use one of ${LEVELS.join(", ")}`);
  if (debug) logLevel = "debug";
  const logOpts = pick("logOpt", "log-opts", (v) => {
    if (Array.isArray(v)) {
      const out: Record<string, string> = {};
      for (const kv of v as string[]) {
        const i = kv.indexOf("=");
        if (i < 1) throw fail(`invalid --log-opt ${JSON.stringify(kv)}`, "use key=value, e.g. max-size=10m");
        out[kv.slice(0, i)] = kv.slice(i + 1);
      }
      return out;
    }
    if (!v || typeof v !== "object") throw fail(`log-opts in ${file}: want an object`);
    return v as Record<string, string>;
  }, {} as Record<string, string>);
  for (const k of Object.keys(logOpts)) {
    if (k !== "max-size" && k !== "max-file") throw fail(`unknown log opt ${JSON.stringify(k)} for log driver json-file`, "berthd's json-file log takes max-size and max-file");
  }
  if (logOpts["max-size"] !== undefined) parseSize(logOpts["max-size"], "log-opt max-size");
  if (logOpts["max-file"] !== undefined && !/^[1-9]\d*$/.test(logOpts["max-file"])) throw fail(`invalid log-opt max-file ${JSON.stringify(logOpts["max-file"])}`, "a positive integer");
  const hosts2 = hosts.map(validateHost);
  return {
    hosts: hosts2,
    dataRoot: pick("dataRoot", "data-root", (v) => str("data-root", v), "/var/lib/berth"),
    execRoot: pick("execRoot", "exec-root", (v) => str("exec-root", v), "/run/berthd"),
    debug,
    logLevel,
    pidfile: pick("pidfile", "pidfile", (v) => str("pidfile", v), "/var/run/berthd.pid"),
    group: pick("group", "group", (v) => str("group", v), "docker"),
    groupGiven: given.has("group") || "group" in fromFile,
    logOpts,
    cgroupParent: pick("cgroupParent", "cgroup-parent", (v) => str("cgroup-parent", v), "/berth"),
    shmSize: parseSize(pick("defaultShmSize", "default-shm-size", (v) => str("default-shm-size", v), "64m"), "default-shm-size"),
  };
}

export function validateHost(h: string): string {
  if (h.startsWith("unix://")) {
    if (!h.slice(7).startsWith("/")) throw fail(`invalid host ${JSON.stringify(h)}: the socket path must be absolute`);
    return h;
  }
  if (h.startsWith("/")) return `unix://${h}`;
  const m = /^tcp:\/\/([^:/]*):(\d+)$/.exec(h);
  if (m) {
    const port = Number(m[2]);
    if (port < 1 || port > 65535) throw fail(`invalid host ${JSON.stringify(h)}: port out of range`);
    return h;
  }
  if (h.startsWith("fd://")) throw fail(`invalid host ${JSON.stringify(h)}: socket activation (fd://) is not supported`, "use unix:///path");
  throw fail(`invalid host ${JSON.stringify(h)}`, "use unix:///path/to/sock or tcp://127.0.0.1:PORT");
}
