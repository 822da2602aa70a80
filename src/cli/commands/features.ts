// berth features: what this runtime supports, as the runtime-spec "features" JSON document.
import { VERSION, type Globals } from "../main.ts";
import { parseFlags } from "../flags.ts";
import { BerthError } from "../../runtime/errors.ts";
import { featuresDocument, formatFeatures } from "../../runtime/container/features.ts";
import { stdout } from "../output.ts";

export async function run(argv: string[], _g: Globals): Promise<number> {
  const { flags, positionals } = parseFlags(argv, { help: { type: "boolean", short: "h" } }, "berth features");
  if (flags.help) {
    stdout("usage: berth features\n\nPrints the runtime-spec features document: the OCI versions, hooks, mount options,\nnamespaces, capabilities, cgroup and seccomp support of this runtime.\n");
    return 0;
  }
  if (positionals.length) throw new BerthError(`berth features takes no arguments, got ${positionals.length}`, { phase: "args" });
  stdout(formatFeatures(featuresDocument(VERSION)));
  return 0;
}
