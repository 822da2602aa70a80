// berth list [--format table|json] [-q]: the containers under --root.
import type { Globals } from "../main.ts";
import { parseFlags } from "../flags.ts";
import { BerthError } from "../../runtime/errors.ts";
import { listContainers, ociState } from "../../runtime/container/lifecycle.ts";
import { stdout } from "../output.ts";

export async function run(argv: string[], g: Globals): Promise<number> {
  const { flags } = parseFlags(argv, {
    format: { type: "string", short: "f", default: "table" },
    quiet: { type: "boolean", short: "q" },
    help: { type: "boolean", short: "h" },
  }, "berth list");
  if (flags.help) {
    stdout("usage: berth list [--format table|json] [--quiet]\n\nLists containers under --root.\n");
    return 0;
  }
  const all = listContainers(g.root);
  if (flags.quiet) {
    stdout(all.map((c) => c.state.id + "\n").join(""));
    return 0;
  }
  if (flags.format === "json") {
    stdout(JSON.stringify(all.map(ociState)) + "\n");
    return 0;
  }
  if (flags.format !== "table") throw new BerthError(`invalid --format ${JSON.stringify(flags.format)}: table or json`, { phase: "args" });
  const rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"],
    ...all.map((c) => [c.state.id, String(c.status === "stopped" ? 0 : c.state.pid), c.status, c.state.bundle, c.state.created, c.state.owner || "root"])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  stdout(rows.map((r) => r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i] + 3))).join("").trimEnd() + "\n").join(""));
  return 0;
}
