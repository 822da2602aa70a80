// Restart policies (`docker run --restart`), decided as dockerd decides them:
//   no              never
//   always          after every exit, unless stopped or killed through the API since the last
//                   start (and then again when the daemon starts)
//   unless-stopped  the same, but a container stopped through the API stays stopped across
//                   daemon restarts too
//   on-failure[:N]  after a non-zero exit, at most N times (0: no limit)
// Between an exit and the next start the container is "restarting", for a delay that starts
// at 100 ms and doubles with each restart up to a minute, back to 100 ms once a run has
// lasted 10 s. A stop or kill during the delay cancels the restart.
import { badRequest } from "../errors.ts";
import type { ContainerRecord, Json } from "./store.ts";

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 60_000;
const STEADY_RUN_MS = 10_000;

interface Policy { Name: string; MaximumRetryCount: number }

export function policyOf(hc: Json): Policy {
  const p = (hc.RestartPolicy ?? {}) as { Name?: string; MaximumRetryCount?: number };
  return { Name: p.Name || "no", MaximumRetryCount: p.MaximumRetryCount ?? 0 };
}

/** create's checks, with dockerd's words. */
export function checkRestartPolicy(hc: Json): void {
  const raw = (hc.RestartPolicy ?? {}) as { Name?: unknown; MaximumRetryCount?: unknown };
  if (raw.Name !== undefined && typeof raw.Name !== "string") throw badRequest("invalid type for HostConfig.RestartPolicy.Name: want a string");
  if (raw.MaximumRetryCount !== undefined && !Number.isInteger(raw.MaximumRetryCount)) {
    throw badRequest("invalid type for HostConfig.RestartPolicy.MaximumRetryCount: want an integer");
  }
  const p = policyOf(hc);
  const named = raw.Name ?? "";
  if (named === "") return; // what clients before docker 25 send for "no"
  if (["no", "always", "unless-stopped"].includes(p.Name)) {
    if (p.MaximumRetryCount !== 0) {
      throw badRequest(`invalid restart policy: maximum retry count can only be used with 'on-failure'${p.MaximumRetryCount < 0 ? " and cannot be negative" : ""}`);
    }
  } else if (p.Name === "on-failure") {
    if (p.MaximumRetryCount < 0) throw badRequest("invalid restart policy: maximum retry count cannot be negative");
  } else {
    throw badRequest(`invalid restart policy: unknown policy '${p.Name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
  if (hc.AutoRemove && p.Name !== "no") throw badRequest("can't create 'AutoRemove' container with restart policy");
}

/** Would the policy start the container again after an exit with `code`? */
function wants(c: ContainerRecord, code: number): boolean {
  const p = policyOf(c.hostConfig);
  if (p.Name === "always") return true;
  if (p.Name === "unless-stopped") return !c.state.ManuallyStopped;
  if (p.Name === "on-failure") return code !== 0 && (p.MaximumRetryCount === 0 || c.restartCount < p.MaximumRetryCount);
  return false;
}

/** The daemon's pending restarts and back-off delays, per container (in memory: a restart of berthd starts over). */
export class Restarts {
  private delay = new Map<string, number>();
  private timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** stopped or killed through the API since the last start: no restart until the next one */
  private cancelled = new Set<string>();

  /** After an exit: the delay before the next start, or undefined when the policy says no. */
  afterExit(c: ContainerRecord, code: number, ranMs: number): number | undefined {
    if (this.cancelled.has(c.id) || !wants(c, code)) return undefined;
    let d = ranMs >= STEADY_RUN_MS ? 0 : (this.delay.get(c.id) ?? 0);
    d = d === 0 ? FIRST_DELAY_MS : Math.min(d * 2, MAX_DELAY_MS);
    this.delay.set(c.id, d);
    return d;
  }

  schedule(id: string, ms: number, start: () => void): void {
    this.clear(id);
    this.timers.set(id, setTimeout(() => {
      this.timers.delete(id);
      start();
    }, ms));
  }

  /** A stop, a kill or a removal: no more restarts until the next start. True if one was pending. */
  cancel(id: string): boolean {
    this.cancelled.add(id);
    return this.clear(id);
  }

  /** A start through the API: the back-off and any cancel are forgotten. */
  reset(id: string): void {
    this.clear(id);
    this.cancelled.delete(id);
    this.delay.delete(id);
  }

  /** Every pending restart dropped (the daemon is going away). */
  stopAll(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private clear(id: string): boolean {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    return this.timers.delete(id);
  }
}

/** Should the daemon start this stopped container when it starts (dockerd's restore)? */
export function startsWithDaemon(c: ContainerRecord): boolean {
  if (c.state.Running || c.state.StartedAt === "0001-01-01T00:00:00Z") return false;
  return wants(c, c.state.ExitCode); // (always: even after a stop through the API)
}

/**
 * Any kill through the API counts as a stop by hand (unless-stopped remembers it); the
 * container's stop signal, or SIGKILL, also ends the policy's say until the next start, as in
 * dockerd (so `docker kill -s HUP` of a daemon with STOPSIGNAL TERM does not).
 */
export function killEndsPolicy(c: ContainerRecord, sig: number, parse: (s: string) => number): boolean {
  if (sig === 9 || !c.config.StopSignal) return true;
  try {
    return parse(c.config.StopSignal) === sig;
  } catch {
    return true;
  }
}
