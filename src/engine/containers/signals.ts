// Signals, stop, pause and unpause of a container through the API: what dockerd answers for
// each state (304, 409, the words the CLI prints), the stop timeout before SIGKILL, and how a
// stop or kill by hand ends the restart policy. The container service owns the records; this
// asks it through ContainerSignals' host.
import { BerthError } from "../../runtime/errors.ts";
import { killContainer, parseSignal } from "../../runtime/container/lifecycle.ts";
import { pauseContainer, resumeContainer } from "../../runtime/container/pause.ts";
import { ApiError, badRequest, conflict, notFound, notModified } from "../errors.ts";
import { killEndsPolicy, type Restarts } from "./restart.ts";
import { mustBeRunning, type ContainerRecord } from "./store.ts";

/** What signalling needs of the container service. */
export interface SignalHost {
  find(ref: string): ContainerRecord;
  runtimeRoot(): string;
  restarts(): Restarts;
  /** stores c's state (no event) */
  saveState(c: ContainerRecord): void;
  /** stores c's state and emits "state" */
  save(c: ContainerRecord): void;
  emit(event: "pause" | "unpause", c: ContainerRecord): void;
  /** calls cb on every "state" event until the returned function is called */
  onState(cb: (c: ContainerRecord) => void): () => void;
}

export class ContainerSignals {
  constructor(private host: SignalHost) {}

  async kill(ref: string, signal: string | null): Promise<void> {
    let c: ContainerRecord;
    try {
      c = this.host.find(ref);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw notFound(`Cannot kill container: ${ref}: ${e.message}`);
      throw e;
    }
    let sig: number;
    try {
      sig = parseSignal(signal || "KILL");
    } catch {
      throw badRequest(`Invalid signal: ${signal}`);
    }
    if (!c.state.Running) throw conflict(`Cannot kill container: ${ref}: Container ${c.id} is not running`);
    if (this.stoppedByHand(c, killEndsPolicy(c, sig, parseSignal))) return;
    await killContainer(this.host.runtimeRoot(), c.id, sig, false).catch((e) => {
      throw new ApiError(500, `Cannot kill container: ${ref}: ${e instanceof BerthError ? e.describe() : e}`);
    });
    // A frozen process takes SIGKILL only once thawed (cgroup v1's freezer): kill ends a pause.
    if (sig === 9 && c.state.Paused) await this.unpause(c.id).catch(() => {});
  }

  /**
   * A stop or kill through the API: remembered (unless-stopped), and with `cancel` no restart
   * follows. True when the container was only waiting to restart, so nothing runs to signal
   * (as dockerd, the call then succeeds; with `cancel` the container is simply exited).
   */
  private stoppedByHand(c: ContainerRecord, cancel: boolean): boolean {
    if (cancel) this.host.restarts().cancel(c.id);
    c.state = { ...c.state, ManuallyStopped: true };
    if (!c.state.Restarting) {
      this.host.saveState(c);
      return false;
    }
    if (cancel) c.state = { ...c.state, Status: "exited", Running: false, Restarting: false };
    this.host.save(c);
    return true;
  }

  /** Resolves when the current run has ended (or at once if it is not running). */
  private untilExit(c: ContainerRecord): Promise<void> {
    if (!c.state.Running) return Promise.resolve();
    return new Promise((resolve) => {
      const off = this.host.onState((x) => {
        if (x.id !== c.id || x.state.Running) return;
        off();
        resolve();
      });
    });
  }

  async stop(ref: string, timeout: number | undefined, signal: string | null): Promise<void> {
    const c = this.host.find(ref);
    if (!c.state.Running) throw notModified();
    const stopSignal = signal || c.config.StopSignal || "SIGTERM";
    let sig: number;
    try {
      sig = parseSignal(stopSignal);
    } catch {
      throw badRequest(`Invalid signal: ${stopSignal}`);
    }
    if (this.stoppedByHand(c, true)) return;
    const t = timeout ?? (typeof c.config.StopTimeout === "number" ? c.config.StopTimeout : 10);
    const gone = this.untilExit(c);
    if (c.state.Paused) await this.unpause(ref).catch(() => {});
    await killContainer(this.host.runtimeRoot(), c.id, sig, false).catch(() => {});
    const inTime = t < 0 ? await gone.then(() => true) : await Promise.race([gone.then(() => true), Bun.sleep(t * 1000).then(() => false)]);
    if (!inTime && c.state.Running) {
      await killContainer(this.host.runtimeRoot(), c.id, 9, true).catch(() => {});
      await Promise.race([gone, Bun.sleep(10_000)]);
    }
  }

  async pause(ref: string): Promise<void> {
    const c = this.host.find(ref);
    mustBeRunning(c);
    if (c.state.Paused) throw conflict(`Container ${c.id} is already paused`);
    try {
      pauseContainer(this.host.runtimeRoot(), c.id);
    } catch (e) {
      throw new ApiError(500, e instanceof BerthError ? e.describe() : String(e));
    }
    c.state = { ...c.state, Paused: true, Status: "paused" };
    this.host.save(c);
    this.host.emit("pause", c);
  }

  async unpause(ref: string): Promise<void> {
    const c = this.host.find(ref);
    if (!c.state.Paused) throw conflict(`Container ${c.id} is not paused`);
    try {
      resumeContainer(this.host.runtimeRoot(), c.id);
    } catch (e) {
      throw new ApiError(500, e instanceof BerthError ? e.describe() : String(e));
    }
    c.state = { ...c.state, Paused: false, Status: "running" };
    this.host.save(c);
    this.host.emit("unpause", c);
  }
}
