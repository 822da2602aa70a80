// berth kill [--all] <container-id> [signal]: send a signal (default SIGTERM) to the container.
import type { Globals } from "../main.ts";
import { parseFlags } from "../flags.ts";
import { BerthError } from "../../runtime/errors.ts";
import { validateId } from "../../runtime/state/index.ts";
import { killContainer, parseSignal } from "../../runtime/container/lifecycle.ts";
import { stdout } from "../output.ts";

const USAGE = `usage: berth kill [--all] <container-id> [signal]

Sends a signal (a name like TERM or SIGKILL, or a number; default SIGTERM) to the container's
init process, or with --all (-a) to every process in its cgroup.
`;

export async function run(argv: string[], g: Globals): Promise<number> {
  const { flags, positionals } = parseFlags(argv, { all: { type: "boolean", short: "a" }, help: { type: "boolean", short: "h" } }, { command: "berth kill", interspersed: true });
  if (flags.help) {
    stdout(USAGE);
    return 0;
  }
  if (positionals.length < 1 || positionals.length > 2) throw new BerthError("usage: berth kill [--all] <container-id> [signal]", { phase: "args" });
  await killContainer(g.root, validateId(positionals[0]), parseSignal(positionals[1]), !!flags.all);
  return 0;
}
