// The engine: the store, the image and container services, the event bus, wired together. The
// API routes talk to this object; subsystems do not know each other except through it.
import crypto from "node:crypto";
import fs from "node:fs";
import type { Database } from "bun:sqlite";
import { openStore } from "./store/db.ts";
import { detectLayout, ensureCgroupPath } from "../runtime/cgroups/index.ts";
import { ContainerService } from "./containers/service.ts";
import type { ContainerRecord } from "./containers/store.ts";
import type { AttachSession } from "./containers/attach.ts";
import type { InspectContext } from "./containers/inspect.ts";
import { EventBus } from "./events/bus.ts";
import type { DaemonConfig } from "./daemon/config.ts";
import * as log from "./log.ts";
import { openImages, type Images } from "./images/wiring.ts";
import { ExecService } from "./containers/exec.ts";
import { HealthChecks } from "./containers/health.ts";
import { startsWithDaemon } from "./containers/restart.ts";
import { spreadSubdirectories } from "./sys/libc.ts";

export class Engine {
  readonly events = new EventBus();
  /** attach sessions waiting for their container to start */
  private waiting = new Map<string, Set<AttachSession>>();
  readonly execs: ExecService;
  readonly health: HealthChecks;

  private constructor(
    readonly config: DaemonConfig,
    readonly db: Database,
    readonly id: string,
    readonly images: Images,
    readonly containers: ContainerService,
    monitor: import("./containers/deps.ts").MonitorApi,
  ) {
    this.execs = new ExecService(containers, monitor);
    containers.beforeStart = async (c, socket) => {
      const sessions = this.waiting.get(c.id);
      if (!sessions) return;
      this.waiting.delete(c.id);
      await Promise.all([...sessions].map(async (s) => s.join(await containers.connectMonitor(socket))));
    };
    const ended = (c: ContainerRecord) => {
      for (const s of this.waiting.get(c.id) ?? []) s.finish(false, true);
      this.waiting.delete(c.id);
    };
    containers.on("destroy", ended);
    containers.on("start-failed", ended);
    const attrs = (c: ContainerRecord, extra: Record<string, string> = {}) => ({ ...(c.config.Labels ?? {}), image: c.imageRef, name: c.name, ...extra });
    const pub = (action: string, extra?: (c: ContainerRecord) => Record<string, string>) => (c: ContainerRecord) =>
      this.events.publish("container", action, c.id, attrs(c, extra?.(c)));
    containers.on("create", pub("create"));
    containers.on("start", pub("start"));
    containers.on("exit", pub("die", (c) => ({ exitCode: String(c.state.ExitCode) })));
    containers.on("destroy", pub("destroy"));
    containers.on("pause", pub("pause"));
    containers.on("unpause", pub("unpause"));
    containers.on("rename", pub("rename"));
    this.health = new HealthChecks({
      probe: (c, cmd, timeoutMs) => this.execs.probe(c, cmd, timeoutMs),
      changed: (c) => containers.persist(c),
      event: (c, status) => this.events.publish("container", `health_status: ${status}`, c.id, attrs(c)),
    });
    containers.on("start", (c: ContainerRecord) => this.health.start(c));
    containers.on("exit", (c: ContainerRecord) => this.health.stop(c));
    containers.on("destroy", (c: ContainerRecord) => this.health.stop(c, false));
  }

  static async open(config: DaemonConfig): Promise<Engine> {
    const db = openStore(config.dataRoot);
    const idFile = `${config.dataRoot}/engine-id`;
    let id: string;
    try {
      id = fs.readFileSync(idFile, "utf8").trim();
    } catch {
      id = crypto.randomUUID();
      fs.writeFileSync(idFile, id + "\n");
    }
    fs.mkdirSync(`${config.dataRoot}/containers`, { recursive: true, mode: 0o710 });
    spreadSubdirectories(`${config.dataRoot}/containers`); // each container's files in a group of their own (libc.ts says why)
    fs.mkdirSync(`${config.execRoot}/m`, { recursive: true, mode: 0o700 });
    // The containers' parent cgroup stays while berthd runs (as dockerd's /docker does).
    try {
      ensureCgroupPath(detectLayout(), config.cgroupParent);
    } catch (e) {
      log.warn(`cgroup parent ${config.cgroupParent}: ${(e as Error).message}`);
    }
    const wired = openImages(db, config);
    const containers = new ContainerService(db, {
      dataRoot: config.dataRoot, execRoot: config.execRoot, cgroupParent: config.cgroupParent,
      logOpts: config.logOpts, shmSize: config.shmSize,
    }, {
      images: wired.images, rootfs: wired.rootfs, buildSpec: wired.buildSpec, monitor: wired.monitor,
    });
    wired.images.inUse = (imageId: string) => {
      const users = containers.list().filter((c) => c.imageId === imageId);
      const c = users.find((x) => x.state.Running) ?? users[0];
      return c ? { containerId: c.id, running: c.state.Running } : undefined;
    };
    const engine = new Engine(config, db, id, wired.images, containers, wired.monitor);
    wired.images.service.onEvent = (e) => engine.events.publish("image", e.Action, e.id, e.name ? { name: e.name } : {});
    await containers.reconcile();
    // checks of the containers still running from before (as dockerd: back to "starting")
    for (const c of containers.list()) if (c.state.Running && !c.state.Restarting) engine.health.start(c);
    await containers.drain(); // removals a previous berthd did not finish
    const swept = wired.rootfs.sweep(new Set(containers.list().map((c) => c.id)));
    if (swept.length) log.info(`removed ${swept.length} root filesystem(s) of containers no longer in the store`);
    log.info(`loaded ${containers.list().length} container(s), ${wired.images.count()} image(s)`);
    // the stopped containers their restart policy brings back with the daemon, in the background
    for (const c of containers.list()) {
      if (!startsWithDaemon(c)) continue;
      log.info(`starting container ${c.id.slice(0, 12)} (restart policy ${c.hostConfig.RestartPolicy?.Name})`);
      containers.start(c.id).catch((e) => log.warn(`starting ${c.id} for its restart policy: ${(e as Error).message}`));
    }
    return engine;
  }

  /** Joins the session to the container now if it runs, else when it starts. */
  async attachWhenRunning(c: ContainerRecord, session: AttachSession): Promise<void> {
    const sock = this.containers.attachSocket(c);
    if (sock) {
      try {
        session.join(await this.containers.connectMonitor(sock));
        return;
      } catch {
        /* it exited meanwhile: wait for the next start, as for a stopped one */
      }
    }
    let set = this.waiting.get(c.id);
    if (!set) this.waiting.set(c.id, (set = new Set()));
    set.add(session);
    void session.done.then(() => set!.delete(session));
    this.events.publish("container", "attach", c.id, { image: c.imageRef, name: c.name });
  }

  resize(c: ContainerRecord, rows: number, cols: number): void {
    this.containers.resize(c.id, rows, cols);
  }

  isAncestor(c: ContainerRecord, ref: string): boolean {
    try {
      return this.images.resolve(ref).id === c.imageId;
    } catch {
      return c.imageRef === ref;
    }
  }

  sizes(c: ContainerRecord): Promise<{ rw: number; rootfs: number }> {
    return this.images.containerSizes(c.id, c.imageId);
  }

  inspectContext(c: ContainerRecord, _size: boolean): InspectContext {
    return {
      dataDir: this.containers.dir(c.id), logPath: this.containers.logPath(c.id),
      rootfs: this.images.rootfsPaths(c.id), shmSize: this.config.shmSize, execIds: this.execs.idsOf(c.id),
    };
  }

  async exportRootfs(c: ContainerRecord): Promise<AsyncIterable<Uint8Array>> {
    return this.images.exportRootfs(c.id, c.imageId);
  }

  /** Lets the cleanups of removed containers finish, then closes the store. */
  async close(): Promise<void> {
    await this.containers.drain();
    this.closeNow();
  }

  /** Closes the store at once (a failed start-up; or after close()). */
  closeNow(): void {
    if (this.closed) return;
    this.closed = true;
    this.health.stopAll();
    this.containers.close();
    this.db.close();
  }
  private closed = false;
}
