// What a container's first start needs, made right after its create has answered: the docker
// CLI spends a millisecond or two between create's answer and its start (it sets up attach and
// wait), and the rootfs (mkdirs, overlay mount: 0.7 ms), the start's spec and the runtime's
// plan (0.6 ms) and the monitor with its executor (0.7 to 0.9 ms from request to running) fit in
// there rather than before the answer or on the start's path. The start takes what is still
// what it would make (SpecsAhead, planAhead, a monitor of the same run); the rest goes.
import type { EarlyWrapper, LaunchOptions } from "../../runtime/executor/launch.ts";
import { planAhead } from "../../runtime/container/run.ts";
import type { Spec } from "../../runtime/spec/types.ts";
import { mark } from "../../runtime/trace.ts";
import * as log from "../log.ts";
import { monitorPaths, prepareStart, runInputs, type StartContext } from "./start-inputs.ts";
import type { ContainerRecord, Json } from "./store.ts";

/** A start's monitor on its way (ContainerService.startMonitor): its files, its argv, and the early start of it. */
export interface StartedMonitor {
  paths: ReturnType<typeof monitorPaths>;
  wrap: string[];
  spawn?: LaunchOptions["spawnWrapper"];
  early?: EarlyWrapper;
}

/** What making a start ahead needs of the container service. */
export interface AheadHost {
  record(id: string): ContainerRecord | undefined;
  /** runs fn in the order of the container's operations (start, rm, ...) */
  serial<T>(id: string, fn: () => Promise<T>): Promise<T>;
  prepareRootfs(id: string, imageId: string): Promise<string> | string;
  starts: StartContext;
  startMonitor(c: ContainerRecord): Promise<StartedMonitor>;
}

/** A start's spec as startSpec builds it. */
type StartSpec = { spec: Spec; warnings: string[] };

/** How long a monitor started after create waits for the container's first start. */
const MONITOR_AHEAD_MS = 1000;

export class StartsAhead {
  private specs = new SpecsAhead();
  private monitors = new Map<string, { m: StartedMonitor; generation: number }>();

  constructor(private host: AheadHost) {}

  /**
   * Makes container `id`'s first start ahead, right after create has answered, queued as every
   * change to the container is, so a start or rm sent at once waits for it (export mounts by
   * itself: prepare is idempotent). A failure is left to the start, which does it all again
   * and reports it, as dockerd, which mounts at start.
   */
  prepare(id: string, imageId: string): void {
    void this.host.serial(id, async () => {
      await new Promise((r) => setImmediate(r)); // after the answer has gone out
      const c = this.host.record(id);
      if (!c) return;
      try {
        const rootfs = await this.host.prepareRootfs(id, imageId);
        mark("create: rootfs mounted");
        await new Promise((r) => setImmediate(r)); // a request that came meanwhile (the attach) goes first
        if (this.host.record(id) !== c) return;
        const built = prepareStart(this.host.starts, c, rootfs);
        this.specs.put(c, built);
        planAhead(runInputs(this.host.starts, c, built.spec));
        mark("create: start planned");
        await this.monitorAhead(c);
      } catch (e) {
        log.debug(`container ${id.slice(0, 12)}: its start is not prepared ahead: ${(e as Error).message}`, { container: id });
      }
    });
  }

  takeSpec(c: ContainerRecord): StartSpec | undefined {
    return this.specs.take(c);
  }

  /** The monitor started for this run of c, if it is still waiting (one of an older run goes). */
  async takeMonitor(c: ContainerRecord): Promise<StartedMonitor | undefined> {
    const e = this.monitors.get(c.id);
    if (e?.generation === c.generation) {
      this.monitors.delete(c.id);
      return e.m;
    }
    await this.dropMonitor(c.id);
    return undefined;
  }

  /** The container goes: what was made for its start goes with it. */
  async drop(id: string): Promise<void> {
    this.specs.drop(id);
    await this.dropMonitor(id);
  }

  async dropAll(): Promise<void> {
    for (const id of [...this.monitors.keys()]) await this.dropMonitor(id);
  }

  /** Not taken within MONITOR_AHEAD_MS, the monitor goes, in the order of the container's operations. */
  private async monitorAhead(c: ContainerRecord): Promise<void> {
    const m = await this.host.startMonitor(c);
    if (!m.early) return;
    const entry = { m, generation: c.generation };
    this.monitors.set(c.id, entry);
    setTimeout(() => void this.host.serial(c.id, () => this.dropMonitor(c.id, entry)), MONITOR_AHEAD_MS).unref?.();
  }

  private async dropMonitor(id: string, only?: { m: StartedMonitor }): Promise<void> {
    const e = this.monitors.get(id);
    if (!e || (only && e !== only)) return;
    this.monitors.delete(id);
    await e.m.early?.release();
  }
}

/**
 * Start specs built ahead, between a container's create and its first start (the time the CLI
 * takes to send it), for that start to take: from the same record (its config objects the
 * same) and soon enough, as the spec read the rootfs's passwd and group when it was built.
 */
export class SpecsAhead {
  private byId = new Map<string, { spec: Spec; warnings: string[]; config: Json; hostConfig: Json; generation: number; at: number }>();

  constructor(readonly maxAgeMs = 1000) {}

  put(c: ContainerRecord, built: { spec: Spec; warnings: string[] }): void {
    this.byId.set(c.id, { ...built, config: c.config, hostConfig: c.hostConfig, generation: c.generation, at: performance.now() });
    // not taken: let go of it (a create never started keeps nothing)
    setTimeout(() => this.drop(c.id), this.maxAgeMs + 100).unref?.();
  }

  take(c: ContainerRecord): { spec: Spec; warnings: string[] } | undefined {
    const a = this.byId.get(c.id);
    this.byId.delete(c.id);
    if (!a || a.config !== c.config || a.hostConfig !== c.hostConfig || a.generation !== c.generation) return undefined;
    return performance.now() - a.at <= this.maxAgeMs ? a : undefined;
  }

  drop(id: string): void {
    this.byId.delete(id);
  }
}
