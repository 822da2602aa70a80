// `berth ps`: the processes of a container (every pid in its cgroup, from every hierarchy), and
// the filtering of the host's `ps` output to them, as runc does it (docker top relies on this).
import { BerthError } from "../errors.ts";
import { candidatePids, detectLayout } from "../cgroups/index.ts";
import { loadContainer } from "./lifecycle.ts";
import { containerPids as ownPids } from "./signal.ts";

/** The pids in the container's cgroup, sorted. A stopped container has none (as with runc, this
 *  is not an error: `ps` prints just the header, `ps --format json` prints null). */
export function containerPids(root: string, id: string): number[] {
  const l = loadContainer(root, id);
  if (!l.state.cgroup) return l.status === "stopped" ? [] : [l.state.pid];
  // A joined host cgroup holds the host's processes too: show only the container's (signal.ts).
  const c = candidatePids(detectLayout(), l.state.cgroup);
  return [...new Set([...c.owned, ...ownPids(l.state, { owned: [], joined: c.joined })])].sort((a, b) => a - b);
}

/** runc's `ps --format json`: Go's encoding of a []int, where an empty (nil) list is null. */
export function pidsJson(pids: number[]): string {
  return (pids.length ? JSON.stringify(pids) : "null") + "\n";
}

/** The header of `ps` output and the lines whose PID column is one of `pids`. */
export function filterPsOutput(output: string, pids: readonly number[]): string {
  const lines = output.split("\n");
  const header = lines[0] ?? "";
  const pidIndex = header.trim().split(/\s+/).indexOf("PID");
  if (pidIndex < 0) {
    throw new BerthError("couldn't find PID field in ps output", {
      phase: "ps", hint: "the ps options must include the PID column (e.g. -ef, aux, or -o pid,...)",
    });
  }
  const want = new Set(pids);
  const out = [header];
  for (const line of lines.slice(1)) {
    if (line.length === 0) continue;
    const field = line.trim().split(/\s+/)[pidIndex];
    const pid = field !== undefined && /^\d+$/.test(field) ? Number(field) : NaN;
    if (Number.isNaN(pid)) {
      throw new BerthError(`unable to parse pid ${JSON.stringify(field ?? "")} in ps output line ${JSON.stringify(line)}`, {
        phase: "ps", hint: "a column before PID contains spaces; reorder the -o columns so PID comes first",
      });
    }
    if (want.has(pid)) out.push(line);
  }
  return out.join("\n") + "\n";
}

/** Runs the host's `ps` with `args` (default -ef) and keeps the container's lines. */
export function psTable(pids: readonly number[], args: string[]): string {
  const argv = ["ps", ...(args.length ? args : ["-ef"])];
  let r: ReturnType<typeof Bun.spawnSync>;
  try {
    r = Bun.spawnSync(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  } catch (e) {
    throw new BerthError(`cannot run ps: ${(e as Error).message}`, { phase: "ps", errno: (e as NodeJS.ErrnoException).code, hint: "install procps (apt-get install procps)" });
  }
  const out = r.stdout?.toString() ?? "";
  if (r.exitCode !== 0) {
    const msg = (r.stderr?.toString() || out).trim().split("\n")[0] ?? "";
    throw new BerthError(`${argv.join(" ")} failed (exit status ${r.exitCode ?? "killed"}): ${msg}`, { phase: "ps", hint: "check the ps options after the container id" });
  }
  return filterPsOutput(out, pids);
}
