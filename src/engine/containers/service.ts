// Containers through their life: create (a record, a root filesystem, the files docker writes),
// start (the runtime as a library, wrapped in a monitor that outlives berthd), exit (recorded
// from the monitor), stop/kill/remove, wait. The runtime's own state lives under
// <exec-root>/runtime; berthd's record of a container is the SQLite row plus this in-memory copy.
import crypto from "node:crypto";
import fs from "node:fs";
import { EventEmitter } from "node:events";
import { BerthError } from "../../runtime/errors.ts";
import type { Sinks } from "../../runtime/sinks.ts";
import { runContainer } from "../../runtime/container/run.ts";
import { startWrapperEarly } from "../../runtime/executor/launch.ts";
import { monitorPaths, prepareStart, runInputs, type StartContext } from "./start-inputs.ts";
import { StartsAhead, type StartedMonitor } from "./start-ahead.ts";
import { deleteContainer, loadContainer } from "../../runtime/container/lifecycle.ts";
import { ApiError, badRequest, conflict, notFound, notModified } from "../errors.ts";
import * as log from "../log.ts";
import { generateName, validateName } from "./names.ts";
import { ContainerStore, initialState, type ContainerRecord, type Json } from "./store.ts";
import type { ImageSource, MonitorApi, MonitorConn, RootfsManager, SpecBuilder } from "./deps.ts";
import { mergeImageConfig, validateCreate } from "./config.ts";
import { cgroupsPathFor, writeContainerFiles } from "./spec/index.ts";
import { mark } from "../../runtime/trace.ts";
import { checkRestartPolicy, Restarts } from "./restart.ts";
import { ContainerSignals } from "./signals.ts";
import { checkLogDriver, logLimits, logsRead } from "./logopts.ts";
import { waitFor, type Condition, type WaitResult } from "./wait.ts";
import { validateHealthcheck } from "./health.ts";

export interface ServiceOptions {
  dataRoot: string;
  execRoot: string;
  cgroupParent: string;
  logOpts: { "max-size"?: string; "max-file"?: string };
  shmSize: number;
}

export interface Deps {
  images: ImageSource;
  rootfs: RootfsManager;
  buildSpec: SpecBuilder;
  monitor: MonitorApi;
}

export type { Condition } from "./wait.ts";


/** Events: "start"(c), "exit"(c), "destroy"(c), "create"(c), "state"(c). */
export class ContainerService extends EventEmitter {
  readonly byId = new Map<string, ContainerRecord>();
  private store: ContainerStore;
  /** the control connection to each running container's monitor */
  private controls = new Map<string, MonitorConn>();
  readonly restarts = new Restarts();
  /** serialises operations on one container (start vs stop vs rm racing) */
  private locks = new Map<string, Promise<unknown>>();
  /** Cleanups of removed containers under way (cleanUp), by id. */
  private cleaning = new Map<string, Promise<void>>();
  readonly runtimeRoot: string;
  /** called once the monitor listens and before the container's process is released */
  beforeStart?: (c: ContainerRecord, attachSocket: string) => Promise<void>;
  private sinks: Sinks = {
    out: (t) => log.info(t.trimEnd()),
    warn: (m) => log.warn(m),
  };

  /** What building a start's inputs needs of this service (start-inputs.ts). */
  private readonly starts: StartContext = {
    dir: (id) => this.dir(id), runDir: (id) => this.runDir(id), logPath: (id) => this.logPath(id),
    buildSpec: (i) => this.deps.buildSpec(i), imageConfig: (c) => this.imageConfigOf(c), cgroupsPath: (id, h) => this.cgroupsPath(id, h),
    runtimeRoot: () => this.runtimeRoot,
  };
  private readonly ahead = new StartsAhead({
    record: (id) => this.byId.get(id),
    serial: (id, fn) => this.serial(id, fn),
    prepareRootfs: (id, imageId) => this.deps.rootfs.prepare(id, imageId),
    starts: this.starts,
    startMonitor: (c) => this.startMonitor(c),
  });
  private readonly signals = new ContainerSignals({
    find: (ref) => this.find(ref),
    runtimeRoot: () => this.runtimeRoot,
    restarts: () => this.restarts,
    saveState: (c) => this.store.saveState(c),
    save: (c) => this.save(c),
    emit: (event, c) => this.emit(event, c),
    onState: (cb) => {
      this.on("state", cb);
      return () => this.off("state", cb);
    },
  });

  constructor(db: import("bun:sqlite").Database, private o: ServiceOptions, private deps: Deps) {
    super();
    this.setMaxListeners(0);
    this.store = new ContainerStore(db);
    this.runtimeRoot = `${o.execRoot}/runtime`;
    for (const c of this.store.all()) this.byId.set(c.id, c);
  }

  // ---- lookup -------------------------------------------------------------------------------

  /** By full id, name ("/web" or "web") or unique id prefix; 404 with dockerd's words. */
  find(ref: string): ContainerRecord {
    const c = this.tryFind(ref);
    if (!c) throw notFound(`No such container: ${ref}`);
    return c;
  }

  tryFind(ref: string): ContainerRecord | undefined {
    if (!ref) return undefined;
    const byId = this.byId.get(ref);
    if (byId) return byId;
    const name = ref.startsWith("/") ? ref.slice(1) : ref;
    for (const c of this.byId.values()) if (c.name === name) return c;
    if (/^[0-9a-f]+$/.test(ref)) {
      const hits = [...this.byId.values()].filter((c) => c.id.startsWith(ref));
      if (hits.length > 1) throw badRequest(`multiple IDs found with provided prefix: ${ref}`);
      return hits[0];
    }
    return undefined;
  }

  list(): ContainerRecord[] {
    return [...this.byId.values()].sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
  }

  dir(id: string): string {
    return `${this.o.dataRoot}/containers/${id}`;
  }

  /** The monitor's files. Short (16 hex digits of the id): unix socket paths must fit 108 bytes. */
  runDir(id: string): string {
    return `${this.o.execRoot}/m/${id.slice(0, 16)}`;
  }

  logPath(id: string): string {
    return `${this.dir(id)}/${id}-json.log`;
  }

  private async serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(fn);
    this.locks.set(id, next);
    try {
      return await next;
    } finally {
      if (this.locks.get(id) === next) this.locks.delete(id);
    }
  }

  private save(c: ContainerRecord): void {
    this.store.saveState(c);
    this.emit("state", c);
  }

  /** For the engine's parts that change a container's state beside the service (health checks). */
  persist(c: ContainerRecord): void {
    if (this.byId.get(c.id) === c) this.save(c);
  }

  // ---- create -------------------------------------------------------------------------------

  async create(nameParam: string | null, body: Json, version: string): Promise<{ Id: string; Warnings: string[] }> {
    const name = nameParam ? validateName(nameParam) : generateName((n) => [...this.byId.values()].some((c) => c.name === n));
    if (nameParam) {
      const other = [...this.byId.values()].find((c) => c.name === name);
      if (other) throw conflict(`Conflict. The container name "/${name}" is already in use by container "${other.id}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    const { config, hostConfig } = validateCreate(body, version);
    if (typeof config.Image !== "string" || config.Image === "") throw badRequest("Config.Image: an image is required");
    checkLogDriver(hostConfig);
    if (hostConfig.Runtime && hostConfig.Runtime !== "berth") throw badRequest(`Unknown runtime specified ${hostConfig.Runtime}`);
    checkRestartPolicy(hostConfig);
    validateHealthcheck(config);
    const image = this.deps.images.resolve(config.Image);
    const merged = mergeImageConfig(config, image.config);
    const id = crypto.randomBytes(32).toString("hex");
    const warnings: string[] = [];
    // Validate the spec now, with placeholder paths: a bad HostConfig is a 400 here, not at start.
    const dry = this.deps.buildSpec({
      id, config: merged, hostConfig, image: image.config, rootfs: "/nonexistent",
      files: { hostsPath: "/etc/hosts", hostnamePath: "/etc/hostname", resolvConfPath: "/etc/resolv.conf" },
      cgroupsPath: this.cgroupsPath(id, hostConfig), phase: "create",
    });
    warnings.push(...dry.warnings);
    mark("create: spec checked");
    const args = (dry.spec.process?.args ?? []).slice(dry.init ? 2 : 0); // Path and Args: the command, not the init
    const rec: ContainerRecord = {
      id, name, created: new Date().toISOString(), imageRef: config.Image, imageId: image.id,
      config: merged, hostConfig, state: initialState(), restartCount: 0,
      path: args[0] ?? "", args: args.slice(1), generation: 0,
    };
    const dir = this.dir(id);
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o710 });
      writeContainerFiles(dir, hostConfig, dry.hostname);
      for (const d of dry.mkdirs ?? []) fs.mkdirSync(d, { recursive: true });
      mark("create: files written");
      if (this.deps.rootfs.reserve) this.deps.rootfs.reserve(id, image.id);
      else await this.deps.rootfs.prepare(id, image.id);
      if (!this.store.insert(rec)) {
        throw conflict(`Conflict. The container name "/${name}" is already in use by another container. You have to remove (or rename) that container to be able to reuse that name.`);
      }
    } catch (e) {
      await Promise.resolve(this.deps.rootfs.remove(id)).catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    mark("create: stored");
    this.byId.set(id, rec);
    this.emit("create", rec);
    if (this.deps.rootfs.reserve) this.ahead.prepare(id, image.id); // (start-ahead.ts)
    return { Id: id, Warnings: warnings };
  }

  /**
   * A start's monitor, with the executor built in, started before the spec and the plan are
   * built (they come to it later): the leftovers of a previous run cleared first (the runtime's
   * state, the monitor's files), then the monitor and the executor exec on the other CPU.
   */
  private async startMonitor(c: ContainerRecord): Promise<StartedMonitor> {
    const run = this.runDir(c.id);
    await deleteContainer(this.runtimeRoot, c.id, true, this.sinks).catch(() => {});
    fs.rmSync(run, { recursive: true, force: true });
    fs.mkdirSync(run, { recursive: true, mode: 0o700 });
    const paths = monitorPaths(this.starts, c);
    const limits = logLimits(c, this.o.logOpts);
    const wrap = this.deps.monitor.args({
      ...paths, logMaxSize: limits.size, logMaxFiles: limits.files,
      stdin: !!c.config.OpenStdin, stdinOnce: !!c.config.StdinOnce,
    });
    const spawn = this.deps.monitor.spawner?.();
    const early = spawn ? startWrapperEarly(spawn, wrap, this.deps.monitor.executorFd) : undefined;
    return { paths, wrap, spawn, early };
  }

  private cgroupsPath(id: string, hostConfig: Json): string {
    return cgroupsPathFor(id, hostConfig, this.o.cgroupParent);
  }

  // ---- start --------------------------------------------------------------------------------

  async start(ref: string): Promise<void> {
    const c0 = this.find(ref);
    await this.serial(c0.id, () => this.startLocked(c0.id, true));
  }

  /** Does the container keep a log (`docker logs`)? Not with --log-driver none. */
  logsRead(c: ContainerRecord): boolean {
    return logsRead(c);
  }

  /** `manual`: through the API (resets the restart policy's count and back-off); else the policy's own restart. */
  private async startLocked(id: string, manual: boolean): Promise<void> {
    const c = this.byId.get(id);
    if (!c) throw notFound(`No such container: ${id}`);
    if (c.state.Paused) throw conflict("cannot start a paused container, try unpause instead");
    if (c.state.Running && (manual || !c.state.Restarting)) throw notModified();
    if (manual) {
      this.restarts.reset(id);
      c.restartCount = 0;
    }
    if (c.state.Status === "removing") throw conflict(`container ${id} is marked for removal and cannot be started`);
    mark(`start ${id.slice(0, 12)}: begin`);
    const { paths, wrap, spawn, early } = (await this.ahead.takeMonitor(c)) ?? (await this.startMonitor(c));
    try {
      mark("start: leftovers cleared");
      const rootfs = await this.deps.rootfs.prepare(id, c.imageId);
      mark("start: rootfs mounted");
      const ahead = this.ahead.takeSpec(c);
      const { spec, warnings } = ahead ?? prepareStart(this.starts, c, rootfs);
      for (const w of warnings) log.warn(w, { container: id });
      mark(ahead ? "start: spec built ahead" : "start: spec built");
      let initPid = 0;
      // Created and started in one go (as runc run -d): the init execs on the commit's answer,
      // without the exec fifo's round trip that a separate create and start would cost.
      await runContainer({
        ...runInputs(this.starts, c, spec), wrap, executorFd: this.deps.monitor.executorFd, sinks: this.sinks,
        spawnWrapper: early ? early.spawnWrapper : spawn,
        beforeExec: async (pid: number) => {
          initPid = pid;
          mark("start: created");
          const conn = await this.deps.monitor.connect(paths.attachSocket);
          mark("start: monitor connected");
          this.watch(c, conn, c.generation + 1);
          // Attachers waiting for this start join now, before the process can write its first byte.
          await this.beforeStart?.(c, paths.attachSocket);
        },
      } as Parameters<typeof runContainer>[0]);
      await early?.release(); // (taken by launch: nothing to do; a start that ran without it must not leave it waiting)
      mark("start: started");
      // (the init's pid came with the commit: no need to read the runtime's state back)
      const pid = initPid || loadContainer(this.runtimeRoot, id).state.pid;
      c.generation++;
      c.state = {
        ...c.state, Status: "running", Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
        Pid: pid, ExitCode: 0, Error: "", StartedAt: new Date().toISOString(), FinishedAt: c.state.FinishedAt, ManuallyStopped: false,
      };
      this.save(c);
      this.emit("start", c);
      mark("start: recorded");
    } catch (e) {
      await early?.release();
      this.controls.get(id)?.close();
      this.controls.delete(id);
      await deleteContainer(this.runtimeRoot, id, true, this.sinks).catch(() => {});
      const message = e instanceof BerthError ? e.describe() : (e as Error).message;
      c.state = { ...c.state, Error: message, ExitCode: /not found|no such file/i.test(message) ? 127 : /permission denied|not executable/i.test(message) ? 126 : 128 };
      // a restart the policy asked for that failed: the container stays down
      if (c.state.Restarting) c.state = { ...c.state, Status: "exited", Running: false, Restarting: false, FinishedAt: new Date().toISOString() };
      this.save(c);
      this.emit("start-failed", c);
      if (c.hostConfig.AutoRemove) await this.removeLocked(id).catch(() => {});
      if (e instanceof ApiError) throw e;
      // The CLI maps these words to 127/126 (docker run's exit codes), as it does with dockerd's.
      throw new ApiError(/not found|no such file|permission denied|not executable/i.test(message) ? 400 : 500,
        `failed to create task for container: OCI runtime create failed: ${message}`);
    }
  }

  private imageConfigOf(c: ContainerRecord): Json {
    try {
      return this.deps.images.resolve(c.imageId).config;
    } catch {
      return {}; // the image was removed with -f: the container's own config has what it needs
    }
  }

  /** Follows a running container's monitor: its exit frame (or its socket closing) ends the run. */
  private watch(c: ContainerRecord, conn: MonitorConn, generation: number): void {
    this.controls.set(c.id, conn);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      if (this.controls.get(c.id) === conn) this.controls.delete(c.id);
      void this.serial(c.id, () => this.exited(c.id, generation));
    };
    conn.onFrame((type) => {
      if (type === 3) finish();
    });
    conn.onClose(finish);
  }

  /** Records the end of run `generation`, from the monitor's exit file. */
  private async exited(id: string, generation: number): Promise<void> {
    const c = this.byId.get(id);
    if (!c || c.generation !== generation || !c.state.Running) return;
    const run = this.runDir(id);
    const exit = await this.deps.monitor.exitAfterClose(`${run}/exit.json`);
    await this.recordExit(c, exit?.exitCode ?? 255, exit?.finishedAt, exit ? "" : "the container's monitor disappeared without recording an exit status");
  }

  private async recordExit(c: ContainerRecord, code: number, finishedAt: string | undefined, error: string): Promise<void> {
    mark(`exit ${c.id.slice(0, 12)}: begin`);
    const cleanUpRuntime = () =>
      deleteContainer(this.runtimeRoot, c.id, true, this.sinks).catch((e) => log.warn(`cleaning up container ${c.id}: ${(e as Error).message}`));
    // With a pid namespace of its own, the init's end was the end of every process in it, so the
    // exit is reported first and the runtime state (cgroups) goes after; on the host's, processes
    // the init left behind are killed before the container counts as exited.
    const ownPidNs = c.hostConfig.PidMode !== "host";
    if (!ownPidNs) await cleanUpRuntime();
    const ended = finishedAt ?? new Date().toISOString();
    const delay = this.restarts.afterExit(c, code, Date.parse(ended) - Date.parse(c.state.StartedAt));
    c.state = {
      ...c.state, Status: delay === undefined ? "exited" : "restarting", Running: delay !== undefined, Paused: false,
      Restarting: delay !== undefined, Pid: 0, ExitCode: code, Error: error, FinishedAt: ended, OOMKilled: c.state.OOMKilled,
    };
    if (delay !== undefined) c.restartCount++;
    this.save(c);
    this.emit("exit", c);
    mark("exit: recorded");
    if (delay !== undefined) {
      await cleanUpRuntime();
      this.restarts.schedule(c.id, delay, () => {
        this.serial(c.id, () => this.startLocked(c.id, false)).catch((e) => log.warn(`restarting ${c.id}: ${(e as Error).message}`));
      });
      return;
    }
    if (c.hostConfig.AutoRemove) {
      await this.removeLocked(c.id).catch((e) => log.warn(`auto-removing ${c.id}: ${(e as Error).message}`));
    } else if (ownPidNs) await cleanUpRuntime();
  }

  // ---- after a daemon restart ---------------------------------------------------------------

  /** For each container the store says is running: find its monitor again, or record its end. */
  async reconcile(): Promise<void> {
    for (const c of this.byId.values()) {
      if (c.state.Status === "removing") {
        await this.removeLocked(c.id).catch(() => {});
        continue;
      }
      if (!c.state.Running) continue;
      const run = this.runDir(c.id);
      const exit = this.deps.monitor.readExit(`${run}/exit.json`);
      if (exit) {
        await this.recordExit(c, exit.exitCode, exit.finishedAt, "");
        continue;
      }
      try {
        const conn = await this.deps.monitor.connect(`${run}/attach.sock`);
        this.watch(c, conn, c.generation);
        log.info(`container ${c.id.slice(0, 12)} still running (pid ${c.state.Pid})`);
      } catch {
        // No monitor and no exit file: the monitor was killed. If the init still lives, it is orphaned.
        let alive = false;
        try {
          alive = loadContainer(this.runtimeRoot, c.id).status !== "stopped";
        } catch { /* no runtime state */ }
        await this.recordExit(c, alive ? 137 : 255, undefined, "the container's monitor was gone when berthd started");
      }
    }
  }

  // ---- signals, stop, pause (signals.ts) ----------------------------------------------------

  kill(ref: string, signal: string | null): Promise<void> {
    return this.signals.kill(ref, signal);
  }

  stop(ref: string, timeout: number | undefined, signal: string | null): Promise<void> {
    return this.signals.stop(ref, timeout, signal);
  }

  async restart(ref: string, timeout: number | undefined, signal: string | null): Promise<void> {
    await this.signals.stop(ref, timeout, signal).catch((e) => {
      if (!(e instanceof ApiError && e.status === 304)) throw e;
    });
    await this.start(ref);
  }

  pause(ref: string): Promise<void> {
    return this.signals.pause(ref);
  }

  unpause(ref: string): Promise<void> {
    return this.signals.unpause(ref);
  }

  // ---- wait, remove, rename -----------------------------------------------------------------

  /** POST /containers/{id}/wait (wait.ts). */
  wait(ref: string, condition: Condition, cancelled: () => boolean): Promise<WaitResult> {
    return waitFor(this, this.find(ref), condition, cancelled);
  }

  async remove(ref: string, o: { force: boolean; volumes: boolean }): Promise<void> {
    const c = this.find(ref);
    if (c.state.Running && !o.force) {
      const what = c.state.Paused ? "paused" : c.state.Restarting ? "restarting" : "running";
      throw conflict(`You cannot remove a ${what} container ${c.id}. ${c.state.Paused ? "Unpause and then stop" : "Stop"} the container before attempting removal or force remove`);
    }
    if (c.state.Status === "removing" && !o.force) throw conflict(`removal of container ${c.id} is already in progress`);
    await this.serial(c.id, () => this.removeLocked(c.id));
  }

  /**
   * Removes a container whatever its state (the caller checked `force`); -v has nothing to remove
   * yet. A running one is killed first, so the answer means its processes are gone. The container
   * is then gone for the API (name free, `wait` answered), and what it leaves on the host (runtime
   * state and cgroups, root filesystem, directories) is cleaned up right after, off the answer's
   * path: `docker run --rm` need not wait for an unmount and a recursive delete.
   */
  private async removeLocked(id: string): Promise<void> {
    const c = this.byId.get(id);
    if (!c) return;
    this.controls.get(id)?.close();
    this.controls.delete(id);
    this.restarts.reset(id);
    await this.ahead.drop(id);
    if (c.state.Restarting) c.state = { ...c.state, Running: false, Restarting: false, Status: "exited" };
    if (c.state.Running) {
      c.state = { ...c.state, Status: "removing" };
      this.store.saveState(c);
      // Kills the container's processes (the monitor then exits by itself) and its runtime state.
      await deleteContainer(this.runtimeRoot, id, true, this.sinks).catch((e) => log.warn(`removing container ${id}: ${(e as Error).message}`));
      c.state = { ...c.state, Running: false, Paused: false, Pid: 0, ExitCode: 137, FinishedAt: new Date().toISOString() };
      this.emit("exit", c);
      this.emit("state", c);
    }
    this.store.retire(id);
    this.byId.delete(id);
    mark(`remove ${id.slice(0, 12)}: retired`);
    this.emit("destroy", c);
    this.cleanUpLater(id);
  }

  /** What a removed container left on the host; the removals row goes once all of it is gone. */
  private async cleanUp(id: string): Promise<void> {
    await deleteContainer(this.runtimeRoot, id, true, this.sinks).catch((e) => log.warn(`removing container ${id}: ${(e as Error).message}`));
    await this.deps.rootfs.remove(id);
    await fs.promises.rm(this.runDir(id), { recursive: true, force: true });
    await fs.promises.rm(this.dir(id), { recursive: true, force: true });
    this.store.cleaned(id);
    mark(`remove ${id.slice(0, 12)}: cleaned up`);
  }

  private cleanUpLater(id: string): void {
    if (this.cleaning.has(id)) return;
    // After the answers this removal settles have been written out.
    const p = new Promise<void>((r) => setImmediate(r))
      .then(() => this.cleanUp(id))
      .catch((e) => log.warn(`cleaning up container ${id}: ${(e as Error).message}`))
      .finally(() => this.cleaning.delete(id));
    this.cleaning.set(id, p);
  }

  /** Finishes the cleanups still owed: those under way, and those a dead berthd left (at start). */
  async drain(): Promise<void> {
    await this.ahead.dropAll();
    for (const id of this.store.retired()) this.cleanUpLater(id);
    while (this.cleaning.size) await Promise.allSettled([...this.cleaning.values()]);
  }

  rename(ref: string, newName: string): void {
    const c = this.find(ref);
    const name = validateName(newName);
    if (name === c.name) throw conflict(`Renaming a container with the same name as its current name`);
    const other = [...this.byId.values()].find((x) => x.name === name);
    if (other || !this.store.rename(c.id, name)) {
      throw conflict(`Error when allocating new name: Conflict. The container name "/${name}" is already in use by container "${other?.id ?? "?"}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    c.name = name;
    this.emit("rename", c);
  }

  /** Resizes the terminal of a running container (through its monitor). */
  resize(id: string, rows: number, cols: number): void {
    this.controls.get(id)?.resize(rows, cols);
  }

  /** The attach socket of a running container's monitor, or undefined when it is not running. */
  attachSocket(c: ContainerRecord): string | undefined {
    return c.state.Running && !c.state.Restarting ? `${this.runDir(c.id)}/attach.sock` : undefined;
  }

  connectMonitor(socket: string): Promise<MonitorConn> {
    return this.deps.monitor.connect(socket);
  }

  /** Closes monitor connections; the containers keep running. */
  close(): void {
    this.restarts.stopAll();
    for (const conn of this.controls.values()) conn.close();
    this.controls.clear();
  }
}
