// Small pieces shared by the commands that take just a container id.
import { parseFlags } from "../flags.ts";
import { BerthError } from "../../runtime/errors.ts";
import { validateId } from "../../runtime/state/index.ts";
import { stdout } from "../output.ts";

/** Parses `<id>` (and -h); returns undefined when help was printed. */
export function oneId(argv: string[], command: string, usage: string): string | undefined {
  const { flags, positionals } = parseFlags(argv, { help: { type: "boolean", short: "h" } }, `berth ${command}`);
  if (flags.help) {
    stdout(usage);
    return undefined;
  }
  if (positionals.length !== 1) {
    throw new BerthError(`berth ${command} takes exactly one container id, got ${positionals.length}`, { phase: "args", hint: usage.split("\n")[0] });
  }
  return validateId(positionals[0]);
}
