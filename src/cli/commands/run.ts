// berth run [options] <container-id>: create and start a container, like `runc run`.
import path from "node:path";
import { debug, type Globals } from "../main.ts";
import { parseFlags } from "../flags.ts";
import { loadSpec } from "../../runtime/spec/load.ts";
import { validateId } from "../../runtime/state/index.ts";
import { runContainer } from "../../runtime/container/run.ts";
import { BerthError } from "../../runtime/errors.ts";
import { mark } from "../../runtime/trace.ts";
import { stdout } from "../output.ts";

export const USAGE = `usage: berth run [options] <container-id>

Creates and starts a container from the bundle's config.json. In the foreground (the default),
berth's exit status is the container's (128+N when killed by signal N), and signals sent to berth
are forwarded to it.

options:
   --bundle, -b DIR      path to the bundle (default: current directory)
   --detach, -d          detach from the container's process
   --pid-file FILE       write the container init's pid to FILE
   --console-socket SOCK send the pty master to this unix socket (with --detach and a terminal)
   --no-pivot            do not use pivot_root (for a rootfs on a ramdisk)
   --no-new-keyring      accepted for compatibility (no session keyring is created)
   --preserve-fds N      pass N additional file descriptors (from fd 3) to the container
   --keep                do not delete the container after it exits
   --dry-run             print the plan (every namespace, mount, capability, filter) and exit
`;

export async function run(argv: string[], g: Globals): Promise<number> {
  const { flags, positionals } = parseFlags(argv, {
    bundle: { type: "string", short: "b" },
    detach: { type: "boolean", short: "d" },
    "pid-file": { type: "string" },
    "console-socket": { type: "string" },
    "no-pivot": { type: "boolean" },
    "no-new-keyring": { type: "boolean" },
    "no-subreaper": { type: "boolean" },
    "preserve-fds": { type: "string" },
    keep: { type: "boolean" },
    "dry-run": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  }, "berth run");
  if (flags.help) {
    stdout(USAGE);
    return 0;
  }
  if (positionals.length > 1) throw new BerthError(`berth run takes one container id, got ${positionals.length} arguments`, { phase: "args" });
  const id = validateId(positionals[0] as string | undefined);
  const bundle = path.resolve((flags.bundle as string | undefined) ?? process.cwd());
  const preserve = flags["preserve-fds"] === undefined ? 0 : Number(flags["preserve-fds"]);
  if (!Number.isInteger(preserve) || preserve < 0) throw new BerthError(`--preserve-fds must be a non-negative integer`, { phase: "args" });
  mark("command loaded");
  const spec = loadSpec(bundle);
  mark("spec loaded and validated");
  debug(g, `loaded spec from ${bundle}/config.json: ${JSON.stringify(spec)}`);
  return runContainer({
    id, bundle, spec, root: g.root, detach: !!flags.detach, noPivot: !!flags["no-pivot"],
    pidFile: flags["pid-file"] as string | undefined, consoleSocket: flags["console-socket"] as string | undefined,
    preserveFds: preserve, keep: !!flags.keep, dryRun: !!flags["dry-run"], systemdCgroup: g.systemdCgroup,
  });
}
