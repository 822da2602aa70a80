// berth: runc's command line. Global flags come before the command, as with runc.
// Each command's code is loaded only when it runs, to keep start-up fast (containerd calls the
// runtime several times per container).
import { BerthError } from "../runtime/errors.ts";
import { stderr, stdout } from "./output.ts";
import { appendLog, formatLogLine } from "./log.ts";
import { mark } from "../runtime/trace.ts";

export interface Globals {
  root: string;
  debug: boolean;
  log?: string;
  logFormat: "text" | "json";
  systemdCgroup: boolean;
  rootless: string;
}

const COMMANDS: Record<string, { load: () => Promise<{ run(args: string[], g: Globals): Promise<number> }>; help: string }> = {
  spec: { load: () => import("./commands/spec.ts"), help: "create a new specification file (config.json)" },
  run: { load: () => import("./commands/run.ts"), help: "create and run a container" },
  create: { load: () => import("./commands/create.ts"), help: "create a container (its process waits for start)" },
  start: { load: () => import("./commands/start.ts"), help: "start the process of a created container" },
  state: { load: () => import("./commands/state.ts"), help: "print the state of a container" },
  kill: { load: () => import("./commands/kill.ts"), help: "send a signal to a container's process(es)" },
  delete: { load: () => import("./commands/delete.ts"), help: "delete a container and everything it holds" },
  list: { load: () => import("./commands/list.ts"), help: "list containers" },
  exec: { load: () => import("./commands/exec.ts"), help: "run a new process in a running container" },
  ps: { load: () => import("./commands/ps.ts"), help: "list the processes running in a container" },
  pause: { load: () => import("./commands/pause.ts"), help: "suspend all processes of a container" },
  resume: { load: () => import("./commands/resume.ts"), help: "resume all processes of a paused container" },
  events: { load: () => import("./commands/events.ts"), help: "print a container's stats (and OOM events) as JSON lines" },
  update: { load: () => import("./commands/update.ts"), help: "update a container's resource limits" },
  features: { load: () => import("./commands/features.ts"), help: "print the runtime-spec features this runtime supports" },
};

export const VERSION = "0.1.0";

function usage(): string {
  const cmds = Object.entries(COMMANDS).map(([n, c]) => `   ${n.padEnd(10)} ${c.help}`).join("\n");
  return `berth — an OCI container runtime (runc-compatible), in TypeScript

usage: berth [global options] command [command options] [arguments...]

commands:
${cmds}

global options:
   --root DIR          root directory for container state (default: "/run/berth")
   --debug             debug output: also prints the spec a command loaded
   --log FILE          write errors and debug lines to FILE (default: stderr)
   --log-format F      text or json (default: "text")
   --systemd-cgroup    cgroupsPath is "slice:prefix:name"
   --rootless V        auto, true or false (default: "auto")
   -v, --version       print the version
   -h, --help          show this help
`;
}

/** The globals of this call, as far as they were parsed: report() needs --log and --log-format. */
let current: Globals | undefined;

/** Appends a line to the --log file, if one was given (runc's logrus lines; see log.ts). */
export function logLine(g: Globals | undefined, level: "debug" | "warning" | "error", msg: string): void {
  if (!g?.log) return;
  const failed = appendLog(g.log, formatLogLine(g.logFormat, level, msg));
  if (failed) stderr(`berth: warning: ${failed}\n`);
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
      case "root": g.root = value(a); break;
      case "debug": g.debug = true; break;
      case "log": g.log = value(a); break;
      case "log-format": {
        const f = value(a);
        if (f !== "text" && f !== "json") throw new BerthError(`--log-format must be text or json, not ${JSON.stringify(f)}`, { phase: "args" });
        g.logFormat = f;
        break;
      }
      case "systemd-cgroup": g.systemdCgroup = true; break;
      case "rootless": g.rootless = value(a); break;
      case "criu": value(a); break; // accepted for compatibility; checkpoint/restore is not supported
      case "v": case "version":
        stdout(`berth version ${VERSION}\nspec: 1.2.0\n`);
        return 0;
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
  const cmd = COMMANDS[name];
  if (!cmd) throw new BerthError(`unknown command ${JSON.stringify(name)}`, { phase: "args", hint: "run `berth --help` for the list of commands" });
  if (g.debug) logLine(g, "debug", `berth ${VERSION}: ${argv.slice(i).join(" ")}`);
  const mod = await cmd.load();
  return mod.run(argv.slice(i + 1), g);
}

function report(e: unknown, g?: Globals): void {
  const line = e instanceof BerthError ? e.describe() : (e as Error)?.stack ?? String(e);
  stderr(`berth: ${line}\n`);
  // The log gets the one-line message (containerd shows the last error line's msg).
  logLine(g, "error", e instanceof BerthError ? line : (e as Error)?.message ?? String(e));
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      mark("exit");
      process.exit(code);
    },
    (e) => {
      report(e, current);
      process.exit(e instanceof BerthError ? e.exitCode : 1);
    },
  );
}
