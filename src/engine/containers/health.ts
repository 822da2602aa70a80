// Health checks (HEALTHCHECK, docker run --health-*), run as dockerd runs them: while the
// container runs, the test command is run in it every Interval (every StartInterval while it is
// still "starting" within StartPeriod); exit 0 is healthy; Retries failures in a row make it
// unhealthy, except failures inside the start period, which do not count. The last five results
// are kept with their first 4096 bytes of output. A container that stops is "unhealthy" (as
// dockerd reports it), and a start begins again at "starting".
import { badRequest } from "../errors.ts";
import type { ContainerRecord, Json } from "./store.ts";

const NS = 1e6; // nanoseconds per millisecond: the API counts durations in ns
const DEFAULTS = { Interval: 30_000, Timeout: 30_000, StartPeriod: 0, StartInterval: 5_000, Retries: 3 };
const KEEP_RESULTS = 5;

export interface HealthResult { Start: string; End: string; ExitCode: number; Output: string }
export interface HealthState { Status: "starting" | "healthy" | "unhealthy"; FailingStreak: number; Log: HealthResult[] }

interface Check { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number }

/** The container's check, or undefined when it has none (no HEALTHCHECK, or NONE). */
export function checkOf(config: Json): Check | undefined {
  const h = config.Healthcheck as Check | undefined;
  if (!h?.Test?.length || h.Test[0] === "NONE") return undefined;
  return h;
}

/** create's checks of Config.Healthcheck, with dockerd's words. */
export function validateHealthcheck(config: Json): void {
  const h = config.Healthcheck as Check | undefined;
  if (!h) return;
  if (h.Test !== undefined && (!Array.isArray(h.Test) || h.Test.some((t) => typeof t !== "string"))) {
    throw badRequest("invalid type for Config.Healthcheck.Test: want an array of strings");
  }
  for (const k of ["Interval", "Timeout", "StartPeriod", "StartInterval"] as const) {
    const v = h[k];
    if (v === undefined || v === null) continue;
    if (!Number.isInteger(v)) throw badRequest(`invalid type for Config.Healthcheck.${k}: want an integer`);
    if (v !== 0 && v < NS) throw badRequest(`${k} in Healthcheck cannot be less than 1ms`);
  }
  if (h.Retries !== undefined && h.Retries !== null && (!Number.isInteger(h.Retries) || h.Retries < 0)) {
    throw badRequest("Retries in Healthcheck cannot be negative");
  }
  const kind = h.Test?.[0];
  if (kind !== undefined && !["NONE", "CMD", "CMD-SHELL"].includes(kind)) throw badRequest(`unknown Healthcheck type "${kind}"`);
}

/** The image's check under the container's own fields (dockerd's merge: the container's win where set). */
export function mergeHealthcheck(config: Json, image: Json): Json | undefined {
  const own = config.Healthcheck as Check | undefined, img = image.Healthcheck as Check | undefined;
  if (!img) return own;
  if (!own) return img;
  const out: Check = { ...own };
  if (!own.Test?.length) out.Test = img.Test;
  for (const k of ["Interval", "Timeout", "StartPeriod", "StartInterval", "Retries"] as const) if (!own[k]) out[k] = img[k];
  return out as Json;
}

/** The command a check runs: CMD as given, CMD-SHELL through the container's shell. */
function command(c: ContainerRecord, test: string[]): string[] {
  if (test[0] === "CMD") return test.slice(1);
  const shell = (c.config.Shell as string[] | undefined)?.length ? (c.config.Shell as string[]) : ["/bin/sh", "-c"];
  return [...shell, test.slice(1).join(" ")];
}

const ms = (ns: number | undefined, dflt: number) => (ns ? ns / NS : dflt);

export interface HealthDeps {
  probe(c: ContainerRecord, cmd: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }>;
  /** the container's state changed (saved, "state" published) */
  changed(c: ContainerRecord): void;
  /** "health_status: healthy" and the like, for /events */
  event(c: ContainerRecord, status: string): void;
}

export class HealthChecks {
  private timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** which run a loop belongs to: a loop from an earlier run stops by itself */
  private runs = new Map<string, number>();

  constructor(private deps: HealthDeps) {}

  /** The container (re)started: back to "starting", and the first check after one interval. */
  start(c: ContainerRecord): void {
    this.stop(c, false);
    const check = checkOf(c.config);
    if (!check) {
      if (c.state.Health) {
        delete c.state.Health;
        this.deps.changed(c);
      }
      return;
    }
    c.state.Health = { Status: "starting", FailingStreak: 0, Log: c.state.Health?.Log ?? [] };
    this.deps.changed(c);
    const run = c.generation;
    this.runs.set(c.id, run);
    const started = Date.parse(c.state.StartedAt);
    const startPeriod = ms(check.StartPeriod, DEFAULTS.StartPeriod);
    const next = () => {
      const inStart = Date.now() - started < startPeriod && c.state.Health?.Status === "starting";
      return inStart ? ms(check.StartInterval, DEFAULTS.StartInterval) : ms(check.Interval, DEFAULTS.Interval);
    };
    const tick = async () => {
      this.timers.delete(c.id);
      if (this.runs.get(c.id) !== run || !c.state.Running) return;
      if (!c.state.Paused) {
        const begin = new Date();
        const r = await this.deps.probe(c, command(c, check.Test!), ms(check.Timeout, DEFAULTS.Timeout));
        if (this.runs.get(c.id) !== run || !c.state.Running) return; // stopped meanwhile: the result is moot
        this.record(c, check, { Start: begin.toISOString(), End: new Date().toISOString(), ExitCode: r.exitCode, Output: r.output }, started);
      }
      this.timers.set(c.id, setTimeout(tick, next()));
    };
    this.timers.set(c.id, setTimeout(tick, next()));
  }

  /** The run ended (or the container went): no more checks; a stopped container reads "unhealthy". */
  stop(c: ContainerRecord, report = true): void {
    const t = this.timers.get(c.id);
    if (t) clearTimeout(t);
    this.timers.delete(c.id);
    const wasRunning = this.runs.delete(c.id);
    if (report && wasRunning && c.state.Health && c.state.Health.Status !== "unhealthy") {
      c.state.Health = { ...c.state.Health, Status: "unhealthy" };
      this.deps.changed(c);
    }
  }

  stopAll(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.runs.clear();
  }

  private record(c: ContainerRecord, check: Check, r: HealthResult, started: number): void {
    const h = c.state.Health ?? { Status: "starting", FailingStreak: 0, Log: [] };
    const before = h.Status;
    const log = [...h.Log, r].slice(-KEEP_RESULTS);
    let { Status, FailingStreak } = h;
    if (r.ExitCode === 0) {
      FailingStreak = 0;
      Status = "healthy";
    } else if (!(Status === "starting" && Date.parse(r.Start) - started < ms(check.StartPeriod, DEFAULTS.StartPeriod))) {
      FailingStreak++;
      if (FailingStreak >= (check.Retries || DEFAULTS.Retries)) Status = "unhealthy";
    }
    c.state.Health = { Status, FailingStreak, Log: log };
    this.deps.changed(c);
    if (Status !== before) this.deps.event(c, Status);
  }
}
