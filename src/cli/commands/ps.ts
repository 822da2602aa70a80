// berth ps [--format table|json] <container-id> [ps options]: the container's processes.
// json: the pids in its cgroup ([123,456]; containerd's shim parses this). table: the host's `ps`
// (default -ef) filtered to the container's pids, header kept (what `docker top` shows).
import type { Globals } from "../main.ts";
import { parseFlags } from "../flags.ts";
import { BerthError } from "../../runtime/errors.ts";
import { validateId } from "../../runtime/state/index.ts";
import { containerPids, pidsJson, psTable } from "../../runtime/container/ps.ts";
import { stdout } from "../output.ts";

const USAGE = `usage: berth ps [--format table|json] <container-id> [ps options]

Shows the processes running in a container. With --format table (the default) runs the host's
ps with the given options (default: -ef) and keeps the header and the container's lines; with
--format json (-f json) prints the pids in the container's cgroup as a JSON array.
`;

export async function run(argv: string[], g: Globals): Promise<number> {
  // Flags stop at the container id: what follows belongs to ps (`berth ps ctr -o pid,comm`).
  const { flags, positionals } = parseFlags(argv, { format: { type: "string", short: "f", default: "table" }, help: { type: "boolean", short: "h" } }, "berth ps");
  if (flags.help) {
    stdout(USAGE);
    return 0;
  }
  if (positionals.length < 1) throw new BerthError("berth ps needs a container id", { phase: "args", hint: USAGE.split("\n")[0] });
  if (flags.format !== "table" && flags.format !== "json") {
    throw new BerthError(`invalid --format ${JSON.stringify(flags.format)}: table or json`, { phase: "args" });
  }
  const pids = containerPids(g.root, validateId(positionals[0]));
  stdout(flags.format === "json" ? pidsJson(pids) : psTable(pids, positionals.slice(1)));
  return 0;
}
