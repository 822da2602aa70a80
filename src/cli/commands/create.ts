// berth create [options] <container-id>: set the container up; its process waits for `berth start`.
import path from "node:path";
import { debug, type Globals } from "../main.ts";
import { parseFlags } from "../flags.ts";
import { loadSpec } from "../../runtime/spec/load.ts";
import { validateId } from "../../runtime/state/index.ts";
import { createOnly } from "../../runtime/container/run.ts";
import { BerthError } from "../../runtime/errors.ts";
import { stdout } from "../output.ts";

export const USAGE = `usage: berth create [options] <container-id>

Creates a container from the bundle's config.json: namespaces, mounts, cgroups, the process set up
and waiting. \`berth start\` runs it. The container's stdio is berth's.

options:
   --bundle, -b DIR      path to the bundle (default: current directory)
   --pid-file FILE       write the container init's pid to FILE
   --console-socket SOCK send the pty master to this unix socket (process.terminal)
   --no-pivot            do not use pivot_root (for a rootfs on a ramdisk)
   --no-new-keyring      accepted for compatibility (no session keyring is created)
   --preserve-fds N      pass N additional file descriptors (from fd 3) to the container
   --dry-run             print the plan and exit
`;

export const CREATE_FLAGS = {
  bundle: { type: "string", short: "b" },
  "pid-file": { type: "string" },
  "console-socket": { type: "string" },
  "no-pivot": { type: "boolean" },
  "no-new-keyring": { type: "boolean" },
  "preserve-fds": { type: "string" },
  "dry-run": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export function preserveFds(v: unknown): number {
  const n = v === undefined ? 0 : Number(v);
  if (!Number.isInteger(n) || n < 0) throw new BerthError("--preserve-fds must be a non-negative integer", { phase: "args" });
  return n;
}

export async function run(argv: string[], g: Globals): Promise<number> {
  const { flags, positionals } = parseFlags(argv, CREATE_FLAGS, "berth create");
  if (flags.help) {
    stdout(USAGE);
    return 0;
  }
  if (positionals.length > 1) throw new BerthError(`berth create takes one container id, got ${positionals.length} arguments`, { phase: "args" });
  const id = validateId(positionals[0]);
  const bundle = path.resolve((flags.bundle as string | undefined) || process.cwd());
  const spec = loadSpec(bundle);
  debug(g, `loaded spec from ${bundle}/config.json: ${JSON.stringify(spec)}`);
  return createOnly({
    id, bundle, spec, root: g.root, noPivot: !!flags["no-pivot"], pidFile: flags["pid-file"] as string | undefined,
    consoleSocket: flags["console-socket"] as string | undefined, preserveFds: preserveFds(flags["preserve-fds"]),
    dryRun: !!flags["dry-run"], systemdCgroup: g.systemdCgroup,
  });
}
