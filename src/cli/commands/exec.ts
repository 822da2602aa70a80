// berth exec [options] <container-id> <command> [args...]: run a process in a running container.
import fs from "node:fs";
import type { Globals } from "../main.ts";
import { parseFlags } from "../flags.ts";
import { BerthError, configError } from "../../runtime/errors.ts";
import { validateId } from "../../runtime/state/index.ts";
import { execInContainer, savedSpec } from "../../runtime/container/exec.ts";
import { validateSpec } from "../../runtime/spec/validate.ts";
import { parseJson } from "../../runtime/spec/json.ts";
import type { Process } from "../../runtime/spec/types.ts";
import { CAPABILITIES } from "../../runtime/linux.ts";
import { preserveFds } from "./create.ts";
import { stdout } from "../output.ts";

const USAGE = `usage: berth exec [options] <container-id> <command> [args...]
       berth exec [options] --process process.json <container-id>

Runs a new process in a running (or created) container: in its namespaces and cgroups, as its process config
says (user, capabilities, no_new_privs, seccomp, env) unless the options override it. In the
foreground, berth's exit status is the process's.

options:
   --process, -p FILE     the process as OCI process JSON (args and options below are then ignored)
   --tty, -t              allocate a pseudo-terminal
   --console-socket SOCK  send the pty master to this unix socket
   --detach, -d           do not wait for the process
   --pid-file FILE        write the process's pid to FILE
   --env, -e VAR=value    add or replace an environment variable (repeatable)
   --cwd DIR              working directory in the container
   --user, -u UID[:GID]   run as this user
   --additional-gids, -g GID   an additional group (repeatable)
   --cap, -c CAP          add a capability (repeatable)
   --no-new-privs         set no_new_privs
   --preserve-fds N       pass N additional file descriptors (from fd 3)
   --cgroup [CTRL[,CTRL]:]PATH  run it in this (existing) sub-cgroup of the container (repeatable)
   --ignore-paused        allow exec in a paused container (the process waits for resume)
   --dry-run              print the plan and exit
`;

function parseUser(v: string): { uid: number; gid?: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(v);
  if (!m) throw new BerthError(`--user ${JSON.stringify(v)}: expected UID or UID:GID (numbers)`, { phase: "args" });
  return { uid: Number(m[1]), gid: m[2] === undefined ? undefined : Number(m[2]) };
}

/** As runc: a failure of exec itself (not the process's own status) exits 255; bad flags 1. */
export async function run(argv: string[], g: Globals): Promise<number> {
  const progress = { parsed: false };
  try {
    return await execCommand(argv, g, progress);
  } catch (e) {
    if (!progress.parsed) throw e;
    if (e instanceof BerthError) {
      e.exitCode = 255;
      throw e;
    }
    throw new BerthError((e as Error)?.message ?? String(e), { phase: "exec", exitCode: 255 });
  }
}

async function execCommand(argv: string[], g: Globals, progress: { parsed: boolean }): Promise<number> {
  const { flags, positionals } = parseFlags(argv, {
    process: { type: "string", short: "p" },
    tty: { type: "boolean", short: "t" },
    "console-socket": { type: "string" },
    detach: { type: "boolean", short: "d" },
    "pid-file": { type: "string" },
    env: { type: "string[]", short: "e" },
    cwd: { type: "string" },
    user: { type: "string", short: "u" },
    "additional-gids": { type: "string[]", short: "g" },
    cap: { type: "string[]", short: "c" },
    "no-new-privs": { type: "boolean" },
    "preserve-fds": { type: "string" },
    "process-label": { type: "string" },
    apparmor: { type: "string" },
    cgroup: { type: "string[]" },
    "ignore-paused": { type: "boolean" },
    "dry-run": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  }, "berth exec");
  progress.parsed = true;
  if (flags.help) {
    stdout(USAGE);
    return 0;
  }
  const id = validateId(positionals[0]);
  let proc: Process;
  if (flags.process) {
    let text: string;
    try {
      text = fs.readFileSync(flags.process as string, "utf8");
    } catch (e) {
      throw new BerthError(`cannot read --process ${flags.process}: ${(e as Error).message}`, { phase: "args", errno: (e as NodeJS.ErrnoException).code });
    }
    // The same parser as config.json: a syntax error says line and column.
    const parsed = parseJson(text, flags.process as string);
    // Validate it as the process of a spec, so errors name process.<field>.
    proc = validateSpec({ ociVersion: "1.0.2", process: parsed, root: { path: "rootfs" } }).process!;
  } else {
    const args = positionals.slice(1);
    if (!args.length) throw new BerthError("berth exec needs a command to run (or --process FILE)", { phase: "args", hint: "usage: berth exec <container-id> <command> [args...]" });
    const base = savedSpec(g.root, id).process;
    if (!base) throw configError("process", "the container has no process config to start from");
    proc = structuredClone(base);
    proc.args = args;
    proc.terminal = !!flags.tty;
    delete proc.consoleSize;
    for (const e of (flags.env as string[]) ?? []) {
      if (!e.includes("=")) throw new BerthError(`--env ${JSON.stringify(e)}: expected VAR=value`, { phase: "args" });
      const key = e.slice(0, e.indexOf("="));
      proc.env = [...(proc.env ?? []).filter((x) => !x.startsWith(key + "=")), e];
    }
    if (flags.cwd) proc.cwd = flags.cwd as string;
    // Passed on so the runtime refuses them instead of running the process unconfined.
    if (flags.apparmor) proc.apparmorProfile = flags.apparmor as string;
    if (flags["process-label"]) proc.selinuxLabel = flags["process-label"] as string;
    if (flags.user) {
      const u = parseUser(flags.user as string);
      proc.user = { ...proc.user, uid: u.uid, gid: u.gid ?? 0, additionalGids: proc.user.additionalGids };
    }
    const gids = ((flags["additional-gids"] as string[]) ?? []).map((v) => {
      if (!/^\d+$/.test(v)) throw new BerthError(`--additional-gids ${JSON.stringify(v)}: expected a number`, { phase: "args" });
      return Number(v);
    });
    if (gids.length) proc.user = { ...proc.user, additionalGids: gids };
    for (const c of (flags.cap as string[]) ?? []) {
      const name = c.toUpperCase().startsWith("CAP_") ? c.toUpperCase() : `CAP_${c.toUpperCase()}`;
      if (!(CAPABILITIES as readonly string[]).includes(name)) throw new BerthError(`--cap ${JSON.stringify(c)}: unknown capability`, { phase: "args" });
      const caps = (proc.capabilities ??= {});
      for (const set of ["bounding", "effective", "permitted", "inheritable", "ambient"] as const) {
        if (set === "inheritable" || set === "ambient") continue;
        caps[set] = [...new Set([...(caps[set] ?? []), name])];
      }
    }
    if (flags["no-new-privs"]) proc.noNewPrivileges = true;
  }
  return execInContainer({
    root: g.root, id, process: proc, detach: !!flags.detach, pidFile: flags["pid-file"] as string | undefined,
    consoleSocket: flags["console-socket"] as string | undefined, preserveFds: preserveFds(flags["preserve-fds"]),
    dryRun: !!flags["dry-run"], ignorePaused: !!flags["ignore-paused"], cgroups: flags.cgroup as string[] | undefined,
  });
}
