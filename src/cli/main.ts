// berth: runc's command line. Global flags come before the command, as with runc.
// Each command's code is loaded only when it runs, to keep start-up fast (containerd calls the
// runtime several times per container).
import { BerthError, errnoOf, oneLine } from "../runtime/errors.ts";
import { stderr, stdout } from "./output.ts";
import { appendLog, formatLogLine } from "./log.ts";
import { mark } from "../runtime/trace.ts";
import { existsSync } from "node:fs";

export interface Globals {
  root: string;
  debug: boolean;
  log?: string;
  logFormat: "text" | "json";
  systemdCgroup: boolean;
  rootless: string;
}

export interface CommandModule {
  run(args: string[], g: Globals): Promise<number>;
}

// Command modules are loaded by a computed path, so that a bundle of one command (see
// scripts/build-cache.sh) does not carry all the others; that bundle hands its command in.
const COMMANDS: Record<string, { file: string; help: string }> = {
  spec: { file: "spec", help: "create a new specification file (config.json)" },
  run: { file: "run", help: "create and run a container" },
  create: { file: "create", help: "create a container (its process waits for start)" },
  start: { file: "start", help: "start the process of a created container" },
  state: { file: "state", help: "print the state of a container" },
  kill: { file: "kill", help: "send a signal to a container's process(es)" },
  delete: { file: "delete", help: "delete a container and everything it holds" },
  list: { file: "list", help: "list containers" },
  exec: { file: "exec", help: "run a new process in a running container" },
  ps: { file: "ps", help: "list the processes running in a container" },
  pause: { file: "pause", help: "suspend all processes of a container" },
  resume: { file: "resume", help: "resume all processes of a paused container" },
  events: { file: "events", help: "print a container's stats (and OOM events) as JSON lines" },
  update: { file: "update", help: "update a container's resource limits" },
  features: { file: "features", help: "print the runtime-spec features this runtime supports" },
};

export const VERSION = "0.1.0";

function usage(): string {
  const cmds = Object.entries(COMMANDS).map(([n, c]) => `   ${n.padEnd(10)} ${c.help}`).join("\n");
  return `berth — an OCI container runtime (runc-compatible), in TypeScript

usage: berth [global options] command [command options] [arguments...]

commands:
${cmds}
   help       show this help, or a command's: berth help COMMAND (or berth COMMAND --help)

global options:
   --root DIR          root directory for container state (default: "/run/berth")
   --debug             debug lines (logrus-style level=debug) to --log, or stderr
   --log FILE          write errors and debug lines to FILE (default: stderr)
   --log-format F      text or json (default: "text")
   --systemd-cgroup    cgroupsPath is "slice:prefix:name"
   --rootless V        auto, true or false (default: "auto")
   -v, --version       print the version
   -h, --help          show this help
`;
}

/** A debug line (with --debug only): to --log, or stderr. */
export function debug(g: Globals, msg: string): void {
  if (g.debug) logLine(g, "debug", msg);
}

/** The globals of this call, as far as they were parsed: report() needs --log and --log-format. */
let current: Globals | undefined;

/**
 * Appends a line to the --log file, if one was given (runc's logrus lines; see log.ts). Debug
 * lines without --log go to stderr in the same format, as runc's do.
 */
export function logLine(g: Globals | undefined, level: "debug" | "warning" | "error", msg: string): void {
  if (!g) return;
  if (!g.log) {
    if (level === "debug" && g.debug) stderr(formatLogLine(g.logFormat, level, msg));
    return;
  }
  const failed = appendLog(g.log, formatLogLine(g.logFormat, level, msg));
  if (failed) stderr(`berth: warning: ${failed}\n`);
}

let preloaded: Record<string, CommandModule> = {};

function loadCommand(name: string): Promise<CommandModule> {
  if (preloaded[name]) return Promise.resolve(preloaded[name]);
  const spec = "./commands/" + COMMANDS[name].file + ".ts";
  return import(spec);
}

/** path.resolve without loading node:path on the hot path. */
function absolute(p: string): string {
  const parts: string[] = [];
  for (const seg of (p.startsWith("/") ? p : `${process.cwd()}/${p}`).split("/")) {
    if (seg === "..") parts.pop();
    else if (seg && seg !== ".") parts.push(seg);
  }
  return "/" + parts.join("/");
}

export async function main(argv: string[]): Promise<number> {
  const g: Globals = { root: "/run/berth", debug: false, logFormat: "text", systemdCgroup: false, rootless: "auto" };
  current = g;
  let i = 0;
  const value = (name: string): string => {
    const a = argv[i];
    const eq = a.indexOf("=");
    if (eq >= 0) return a.slice(eq + 1);
    const v = argv[++i];
    if (v === undefined) throw new BerthError(`flag ${name} needs a value`, { phase: "args" });
    return v;
  };
  for (; i < argv.length && argv[i].startsWith("-"); i++) {
    const a = argv[i];
    const name = a.split("=")[0].replace(/^--?/, "");
    switch (name) {
      case "root": {
        // Absolute, as runc makes it: state written from one directory is found from another.
        const r = value(a);
        g.root = absolute(r);
        break;
      }
      case "debug": g.debug = true; break;
      case "log": g.log = value(a); break;
      case "log-format": {
        const f = value(a);
        if (f !== "text" && f !== "json") throw new BerthError(`--log-format must be text or json, not ${JSON.stringify(f)}`, { phase: "args" });
        g.logFormat = f;
        break;
      }
      case "systemd-cgroup": g.systemdCgroup = true; break;
      case "rootless": {
        // Accepted as runc does. Berth runs as root; "true" for a non-root user is refused by
        // the kernel's own checks with a clear errno at the step that needs privilege.
        const v = value(a);
        if (!["true", "false", "auto"].includes(v)) throw new BerthError(`--rootless must be true, false or auto, not ${JSON.stringify(v)}`, { phase: "args" });
        g.rootless = v;
        break;
      }
      case "criu": value(a); break; // accepted for compatibility; checkpoint/restore is not supported
      case "v": case "version":
      {
        // Loaded only here: the features table is not needed on every call.
        const { versionText } = await import("./version.ts");
        // import.meta.dir is src/cli from the sources, .cache in a start-up bundle.
        const repo = [`${import.meta.dir}/../..`, `${import.meta.dir}/..`].find((d) => existsSync(`${d}/package.json`)) ?? ".";
        stdout(versionText(VERSION, absolute(repo)));
        return 0;
      }
      case "h": case "help":
        stdout(usage());
        return 0;
      default:
        throw new BerthError(`unknown global flag ${a}`, { phase: "args", hint: "run `berth --help`" });
    }
  }
  const name = argv[i];
  if (!name) {
    stdout(usage());
    return 0;
  }
  // `berth help` and `berth help CMD`, as runc (urfave/cli) accepts them.
  if (name === "help" || name === "h") {
    const topic = argv[i + 1];
    if (topic === undefined) {
      stdout(usage());
      return 0;
    }
    if (!COMMANDS[topic]) throw new BerthError(`no help topic for ${JSON.stringify(topic)}`, { phase: "args", hint: "run `berth --help` for the list of commands" });
    return (await loadCommand(topic)).run(["--help"], g);
  }
  const cmd = COMMANDS[name];
  if (!cmd) throw new BerthError(`unknown command ${JSON.stringify(name)}`, { phase: "args", hint: "run `berth --help` for the list of commands" });
  debug(g, `berth ${VERSION}: ${argv.slice(i).join(" ")}`);
  const mod = await loadCommand(name);
  const code = await mod.run(argv.slice(i + 1), g);
  debug(g, `${name}: exit status ${code}`);
  return code;
}

/** The one line for anything thrown: a BerthError describes itself; anything else is a bug or an unexpected system error. */
function errorLine(e: unknown, g?: Globals): string {
  if (e instanceof BerthError) return e.describe();
  let msg: string;
  try {
    msg = e instanceof Error ? e.message || e.name : String(e);
  } catch {
    msg = "an exception that cannot be printed";
  }
  const errno = errnoOf(e);
  const kind = errno ? "system error" : "internal error";
  return oneLine(`${kind}: ${msg}${errno && !msg.includes(errno) ? ` (${errno})` : ""}`) + (g?.debug ? "" : " (run with --debug for the stack trace)");
}

function report(e: unknown, g?: Globals): void {
  const line = errorLine(e, g);
  stderr(`berth: ${line}\n`);
  // A stack only when asked for: users (and containerd) parse the last line of stderr.
  if (g?.debug && e instanceof Error && !(e instanceof BerthError) && e.stack) stderr(`berth: debug: ${e.stack.replace(/\n/g, "\nberth: debug: ")}\n`);
  // The log gets the one-line message (containerd shows the last error line's msg).
  logLine(g, "error", line);
}

let reported = false;
/** Report once and exit: a second failure while exiting must not print a second line. */
function fail(e: unknown): void {
  if (!reported) {
    reported = true;
    try {
      report(e, current);
    } catch {
      // stderr itself failed (closed, full): nothing more can be said
    }
  }
  process.exit(e instanceof BerthError ? e.exitCode : 1);
}

/** The whole CLI: runs argv and exits with the command's status (or 1 and one error line). */
export function cli(argv: string[], commands: Record<string, CommandModule> = {}): void {
  preloaded = commands;
  // Errors thrown from callbacks (timers, stream events) bypass main's promise.
  process.on("uncaughtException", fail);
  process.on("unhandledRejection", fail);
  main(argv).then(
    (code) => {
      mark("exit");
      process.exit(code);
    },
    fail,
  );
}

if (import.meta.main) cli(process.argv.slice(2));
