// berth events [--stats] [--interval 5s] <container-id>: the container's stats as JSON lines,
// exactly as runc prints them ({"type":"stats","id":...,"data":{cpu, cpuset, memory, pids, blkio,
// hugetlb, ...}}). --stats prints once and exits; otherwise stats every interval, and
// {"type":"oom","id":...} when the OOM killer acts, until the container stops (or SIGINT/SIGTERM).
import type { Globals } from "../main.ts";
import { parseFlags } from "../flags.ts";
import { parseDuration } from "../duration.ts";
import { BerthError } from "../../runtime/errors.ts";
import { validateId } from "../../runtime/state/index.ts";
import { statsEvent, watchEvents } from "../../runtime/container/events.ts";
import { stderr, stdout } from "../output.ts";

const USAGE = `usage: berth events [--stats] [--interval DURATION] <container-id>

Displays the container's cpu, memory, pids, block IO and hugetlb statistics as JSON lines, every
--interval (default 5s; e.g. 500ms, 1m), and an "oom" event when the OOM killer acts in it,
until the container stops. --stats prints the statistics once and exits.
`;

export async function run(argv: string[], g: Globals): Promise<number> {
  const { flags, positionals } = parseFlags(argv, {
    interval: { type: "string", default: "5s" },
    stats: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  }, { command: "berth events", interspersed: true });
  if (flags.help) {
    stdout(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new BerthError(`berth events takes exactly one container id, got ${positionals.length}`, { phase: "args", hint: USAGE.split("\n")[0] });
  let intervalMs: number;
  try {
    intervalMs = parseDuration(flags.interval);
  } catch (e) {
    throw new BerthError(`invalid value ${JSON.stringify(flags.interval)} for flag --interval: ${(e as Error).message}`, { phase: "args", hint: "use a duration like 5s, 500ms or 1m30s" });
  }
  if (intervalMs <= 0) throw new BerthError("duration interval must be greater than 0", { phase: "args", field: "--interval" });
  const id = validateId(positionals[0]);
  if (flags.stats) {
    stdout(statsEvent(g.root, id));
    return 0;
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await watchEvents({
      root: g.root, id, intervalMs, emit: stdout, signal: stop.signal,
      onError: (e) => stderr(`berth: warning: events: reading stats failed: ${e instanceof BerthError ? e.describe() : (e as Error).message}\n`),
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  return 0;
}
