// docker exec: an exec instance is created (in memory, as dockerd keeps them), then started: the
// runtime's exec, wrapped in a monitor of its own that holds the process's stdio and records its
// exit, so a stream is joined exactly like a container's attach.
import crypto from "node:crypto";
import fs from "node:fs";
import { execInContainer, savedSpec } from "../../runtime/container/exec.ts";
import type { Process } from "../../runtime/spec/types.ts";
import { BerthError } from "../../runtime/errors.ts";
import { ApiError, badRequest, conflict, notFound } from "../errors.ts";
import type { ContainerService } from "./service.ts";
import type { MonitorApi, MonitorConn } from "./deps.ts";
import { mustBeRunning, type ContainerRecord, type Json } from "./store.ts";
import { AttachSession } from "./attach.ts";
import { resolveUser } from "./spec/process.ts";
import { realHost } from "./spec/host.ts";
import { readAll } from "../logs/jsonfile.ts";

export interface ExecInstance {
  id: string;
  containerId: string;
  config: Json; // the exec create body
  running: boolean;
  exitCode: number | null;
  pid: number;
  conn?: MonitorConn;
  dir: string;
}

const KEEP_FINISHED = 200;

export class ExecService {
  readonly byId = new Map<string, ExecInstance>();

  constructor(private containers: ContainerService, private monitor: MonitorApi) {
    containers.on("destroy", (c: ContainerRecord) => {
      for (const e of this.byId.values()) if (e.containerId === c.id) this.byId.delete(e.id);
    });
  }

  create(ref: string, body: Json): { Id: string } {
    const c = this.containers.find(ref);
    mustBeRunning(c);
    if (c.state.Paused) throw conflict(`Container ${c.id} is paused, unpause the container before exec`);
    const cmd = body.Cmd;
    if (!Array.isArray(cmd) || cmd.length === 0 || cmd.some((a) => typeof a !== "string")) throw badRequest("No exec command specified");
    for (const [k, t] of [["User", "string"], ["WorkingDir", "string"], ["Tty", "boolean"], ["Privileged", "boolean"]] as const) {
      if (body[k] !== undefined && body[k] !== null && typeof body[k] !== t) throw badRequest(`invalid type for ${k}: want a ${t}`);
    }
    if (body.Env !== undefined && body.Env !== null && (!Array.isArray(body.Env) || body.Env.some((e: unknown) => typeof e !== "string"))) {
      throw badRequest("invalid type for Env: want an array of strings");
    }
    const id = crypto.randomBytes(32).toString("hex");
    this.byId.set(id, {
      id, containerId: c.id, config: body, running: false, exitCode: null, pid: 0,
      dir: `${this.containers.runDir(c.id)}/x${id.slice(0, 12)}`,
    });
    this.trim();
    return { Id: id };
  }

  private trim(): void {
    const done = [...this.byId.values()].filter((e) => !e.running && e.exitCode !== null);
    for (const e of done.slice(0, Math.max(0, done.length - KEEP_FINISHED))) this.byId.delete(e.id);
  }

  get(id: string): ExecInstance {
    const e = this.byId.get(id);
    if (!e) throw notFound(`No such exec instance: ${id}`);
    return e;
  }

  idsOf(containerId: string): string[] {
    return [...this.byId.values()].filter((e) => e.containerId === containerId).map((e) => e.id);
  }

  /** The process to run: the container's, with the exec's command, env, user, cwd, tty. */
  private process(c: ContainerRecord, cfg: Json, tty: boolean): Process {
    const base = savedSpec(this.containers.runtimeRoot, c.id).process!;
    const env = new Map<string, string>();
    for (const kv of [...(base.env ?? []), ...((cfg.Env ?? []) as string[])]) {
      const i = kv.indexOf("=");
      env.set(i < 0 ? kv : kv.slice(0, i), kv);
    }
    let user = base.user;
    if (cfg.User) {
      let passwd: string | undefined, group: string | undefined;
      try {
        const rootfs = savedSpec(this.containers.runtimeRoot, c.id).root!.path;
        passwd = fs.readFileSync(`${rootfs}/etc/passwd`, "utf8");
        group = fs.readFileSync(`${rootfs}/etc/group`, "utf8");
      } catch { /* no passwd in the image: numeric users only */ }
      user = resolveUser(cfg.User, passwd, group);
    }
    const all = realHost.caps();
    const caps = cfg.Privileged ? { bounding: all, effective: all, permitted: all, inheritable: [], ambient: [] } : base.capabilities;
    return {
      ...base, terminal: tty, args: cfg.Cmd, env: [...env.values()], cwd: cfg.WorkingDir || base.cwd,
      user, capabilities: caps, ...(cfg.Privileged ? { noNewPrivileges: false } : {}),
    };
  }

  /** Runs the exec; with a session, joins it to the process's stdio. Resolves once started. */
  async start(id: string, o: { detach: boolean; tty?: boolean; session?: AttachSession }): Promise<void> {
    const e = this.get(id);
    if (e.running || e.exitCode !== null) throw conflict(`Exec command ${id} has already run`);
    const c = this.containers.find(e.containerId);
    mustBeRunning(c);
    const tty = o.tty ?? !!e.config.Tty;
    fs.rmSync(e.dir, { recursive: true, force: true });
    fs.mkdirSync(e.dir, { recursive: true, mode: 0o700 });
    const paths = {
      exitFile: `${e.dir}/exit.json`, pidFile: `${e.dir}/pid`, logFile: "", attachSocket: `${e.dir}/attach.sock`,
      consoleSocket: tty ? `${e.dir}/console.sock` : undefined,
    };
    const wrap = this.monitor.args({ ...paths, logMaxSize: 0, logMaxFiles: 1, stdin: !!e.config.AttachStdin && !o.detach, stdinOnce: true, waitAttach: !o.detach });
    e.running = true;
    try {
      await execInContainer({
        root: this.containers.runtimeRoot, id: c.id, process: this.process(c, e.config, tty), detach: true,
        pidFile: paths.pidFile, consoleSocket: paths.consoleSocket, wrap, executorFd: this.monitor.executorFd,
        spawnWrapper: this.monitor.spawner?.(),
      } as Parameters<typeof execInContainer>[0]);
      e.pid = Number(fs.readFileSync(paths.pidFile, "utf8")) || 0;
      const conn = await this.monitor.connect(paths.attachSocket);
      e.conn = conn;
      let finished = false;
      const finish = () => {
        if (finished) return;
        const exit = this.monitor.readExit(paths.exitFile);
        if (!exit && fs.existsSync(paths.attachSocket)) {
          // The stream went away but the process runs on (its monitor is still there): look later.
          setTimeout(finish, 500);
          return;
        }
        finished = true;
        e.exitCode = exit?.exitCode ?? 126;
        e.running = false;
        e.conn = undefined;
        setTimeout(() => fs.rmSync(e.dir, { recursive: true, force: true }), 1000);
      };
      conn.onFrame((type) => type === 3 && finish());
      conn.onClose(() => setTimeout(finish, 20));
      // One connection: with --wait-attach the process's output waits for the first one, and
      // that must be the stream's.
      if (o.session) o.session.join(conn);
    } catch (err) {
      e.running = false;
      fs.rmSync(e.dir, { recursive: true, force: true });
      const message = err instanceof BerthError ? err.describe() : (err as Error).message;
      e.exitCode = /not found|no such file/i.test(message) ? 127 : 126;
      if (o.session) {
        // The stream is already upgraded: say it on the stream, the CLI then reads ExitCode.
        o.session.writeError(`OCI runtime exec failed: ${message}\r\n`);
        o.session.finish(false, true);
        return;
      }
      throw new ApiError(500, `OCI runtime exec failed: ${message}`);
    }
  }

  /**
   * A health probe (health.ts): `cmd` run in the container as its own process runs, stdout and
   * stderr kept by a monitor's log, the first 4096 bytes returned (as dockerd keeps them); the
   * process is killed at the timeout. Not an exec instance: `docker inspect` lists none for it.
   */
  async probe(c: ContainerRecord, cmd: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    const dir = `${this.containers.runDir(c.id)}/h${crypto.randomBytes(4).toString("hex")}`;
    const paths = { exitFile: `${dir}/exit.json`, pidFile: `${dir}/pid`, logFile: `${dir}/out.log`, attachSocket: `${dir}/attach.sock` };
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      // (wait-attach: the monitor holds on until this side listens, so a quick probe is not missed)
      const wrap = this.monitor.args({ ...paths, logMaxSize: 1 << 20, logMaxFiles: 1, stdin: false, stdinOnce: false, waitAttach: true });
      await execInContainer({
        root: this.containers.runtimeRoot, id: c.id, process: this.process(c, { Cmd: cmd }, false), detach: true,
        pidFile: paths.pidFile, wrap, executorFd: this.monitor.executorFd, spawnWrapper: this.monitor.spawner?.(),
      } as Parameters<typeof execInContainer>[0]);
      const pid = Number(fs.readFileSync(paths.pidFile, "utf8")) || 0;
      const conn = await this.monitor.connect(paths.attachSocket);
      const ended = new Promise<void>((resolve) => {
        conn.onFrame((type) => type === 3 && resolve());
        conn.onClose(() => resolve());
      });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try { process.kill(pid, "SIGKILL"); } catch { /* gone meanwhile */ }
      }, timeoutMs);
      await ended;
      clearTimeout(timer);
      conn.close();
      if (timedOut) return { exitCode: -1, output: `Health check exceeded timeout (${timeoutMs / 1000}s)` };
      const exit = await this.monitor.exitAfterClose(paths.exitFile);
      const output = readAll(paths.logFile, { stdout: true, stderr: true }).entries.map((x) => x.log).join("");
      return { exitCode: exit?.exitCode ?? -1, output: Buffer.from(output).subarray(0, 4096).toString() };
    } catch (err) {
      return { exitCode: -1, output: err instanceof BerthError ? err.describe() : (err as Error).message };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  resize(id: string, rows: number, cols: number): void {
    const e = this.get(id);
    e.conn?.resize(rows, cols);
  }

  inspect(id: string): Json {
    const e = this.get(id);
    const cfg = e.config;
    return {
      ID: e.id, Running: e.running, ExitCode: e.exitCode, ProcessConfig: {
        tty: !!cfg.Tty, entrypoint: cfg.Cmd[0], arguments: cfg.Cmd.slice(1), privileged: !!cfg.Privileged,
        ...(cfg.User ? { user: cfg.User } : {}),
      },
      OpenStdin: !!cfg.AttachStdin, OpenStderr: !!cfg.AttachStderr, OpenStdout: !!cfg.AttachStdout, CanRemove: false,
      ContainerID: e.containerId, DetachKeys: cfg.DetachKeys ?? "", Pid: e.pid,
    };
  }
}
