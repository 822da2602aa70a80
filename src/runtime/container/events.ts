// `berth events`: the container's stats (runc's JSON lines) once, or every interval until the
// container stops, with an "oom" event whenever the kernel's OOM killer acts in its cgroup.
import { BerthError } from "../errors.ts";
import { detectLayout } from "../cgroups/layout.ts";
import { loadContainer, type Loaded } from "./lifecycle.ts";
import { collectStats, eventLine, oomKillCount } from "./stats.ts";

function requireLive(l: Loaded): NonNullable<Loaded["state"]["cgroup"]> {
  if (l.status === "stopped") {
    throw new BerthError(`container with id ${l.state.id} is not running`, { phase: "events", hint: "its init has exited; stats exist only while it runs" });
  }
  if (!l.state.cgroup) {
    throw new BerthError(`container ${JSON.stringify(l.state.id)} has no cgroup to read stats from`, { phase: "events" });
  }
  return l.state.cgroup;
}

/** One stats event line for a live container (what `events --stats` prints). */
export function statsEvent(root: string, id: string): string {
  const l = loadContainer(root, id);
  const cg = requireLive(l);
  return eventLine("stats", id, collectStats(detectLayout(), cg));
}

export interface WatchOptions {
  root: string;
  id: string;
  /** Stats every this many ms; the first after one interval, as runc's time.Tick. */
  intervalMs: number;
  emit: (line: string) => void;
  /** Reports a stats read that failed; the watch goes on (runc logs it and continues). */
  onError?: (e: unknown) => void;
  /** Stops the watch (SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** How often OOM counters and the container's liveness are checked (default 100 ms). */
  pollMs?: number;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    // setTimeout fires at once past 2^31-1 ms: a huge --interval must not become a busy loop.
    const t = setTimeout(done, Math.min(ms, 2 ** 31 - 1));
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Watches until the container stops or is deleted, or `signal` aborts. */
export async function watchEvents(o: WatchOptions): Promise<void> {
  const first = loadContainer(o.root, o.id);
  const cg = requireLive(first);
  const layout = detectLayout();
  const poll = Math.max(1, Math.min(o.pollMs ?? 100, o.intervalMs));
  let oomSeen = oomKillCount(layout, cg) ?? 0n;
  let nextStats = Date.now() + o.intervalMs;
  for (;;) {
    await sleep(Math.max(0, Math.min(poll, nextStats - Date.now())), o.signal);
    if (o.signal?.aborted) return;
    // OOM before liveness: a container the OOM killer just ended still gets its event.
    const ooms = oomKillCount(layout, cg);
    if (ooms !== undefined && ooms > oomSeen) {
      oomSeen = ooms;
      o.emit(eventLine("oom", o.id));
    }
    let alive = false;
    try {
      alive = loadContainer(o.root, o.id).status !== "stopped";
    } catch {
      alive = false; // deleted
    }
    if (!alive) return;
    if (Date.now() >= nextStats) {
      nextStats += o.intervalMs;
      if (nextStats < Date.now()) nextStats = Date.now() + o.intervalMs; // after a stall, don't burst
      try {
        o.emit(eventLine("stats", o.id, collectStats(layout, cg)));
      } catch (e) {
        o.onError?.(e);
      }
    }
  }
}
