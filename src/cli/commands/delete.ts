// berth delete [--force] <container-id>: remove a stopped (or created) container.
import type { Globals } from "../main.ts";
import { parseFlags } from "../flags.ts";
import { BerthError } from "../../runtime/errors.ts";
import { validateId } from "../../runtime/state/index.ts";
import { deleteContainer } from "../../runtime/container/lifecycle.ts";
import { stdout } from "../output.ts";

const USAGE = `usage: berth delete [--force] <container-id>

Removes a container: its cgroup and state, after running its poststop hooks. A running or paused
container is refused unless --force (-f), which kills it first.
`;

export async function run(argv: string[], g: Globals): Promise<number> {
  const { flags, positionals } = parseFlags(argv, { force: { type: "boolean", short: "f" }, help: { type: "boolean", short: "h" } }, { command: "berth delete", interspersed: true });
  if (flags.help) {
    stdout(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new BerthError("usage: berth delete [--force] <container-id>", { phase: "args" });
  await deleteContainer(g.root, validateId(positionals[0]), !!flags.force);
  return 0;
}
