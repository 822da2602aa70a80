// berthd: one Bun process serving the Docker Engine API. Start-up order matters for "leave nothing
// behind": validate flags, take the locks, open the store, reconcile with the monitors still
// running, then listen. SIGTERM/SIGINT: stop accepting, finish in-flight requests, exit 0;
// containers keep running under their monitors.
import fs from "node:fs";
import { BerthError } from "../../runtime/errors.ts";
import { writeAll } from "../../runtime/io.ts";
import * as log from "../log.ts";
import { ApiServer } from "../api/server.ts";
import { buildRouter } from "../api/routes/index.ts";
import { Engine } from "../engine.ts";
import { loadConfig, usage, type DaemonConfig } from "./config.ts";
import { takePidFile } from "../store/pidfile.ts";
import { ENGINE_VERSION } from "../version.ts";

function fatal(e: unknown): never {
  const msg = e instanceof BerthError ? e.describe() : String((e as Error)?.message ?? e);
  writeAll(2, `berthd: ${msg}\n`);
  process.exit(1);
}

function checkWritable(dir: string, flag: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o711 });
    fs.accessSync(dir, fs.constants.W_OK);
    const probe = `${dir}/.berthd-probe-${process.pid}`;
    fs.writeFileSync(probe, "");
    fs.rmSync(probe);
  } catch (e) {
    throw new BerthError(`${flag} ${dir} is not writable: ${(e as Error).message}`, {
      phase: "startup", errno: (e as NodeJS.ErrnoException).code, hint: `pass a writable directory with ${flag}`,
    });
  }
}

/** Is something answering on this unix socket? (A leftover file from a crashed daemon is not.) */
async function socketInUse(path: string): Promise<boolean> {
  try {
    const c = await Bun.connect({ unix: path, socket: { data() {} } });
    c.terminate();
    return true;
  } catch {
    return false;
  }
}

function groupId(name: string): number | undefined {
  if (/^\d+$/.test(name)) return Number(name);
  try {
    for (const line of fs.readFileSync("/etc/group", "utf8").split("\n")) {
      const f = line.split(":");
      if (f[0] === name) return Number(f[2]);
    }
  } catch { /* no /etc/group */ }
  return undefined;
}

async function listenAll(server: ApiServer, cfg: DaemonConfig): Promise<string[]> {
  const made: string[] = [];
  for (const h of cfg.hosts) {
    if (h.startsWith("unix://")) {
      const p = h.slice(7);
      if (fs.existsSync(p)) {
        if (await socketInUse(p)) throw new BerthError(`socket ${p} is in use by another process`, { phase: "startup", hint: "another daemon listens there; pick another -H" });
        fs.rmSync(p, { force: true });
      }
      fs.mkdirSync(p.slice(0, p.lastIndexOf("/")) || "/", { recursive: true });
      await server.listen({ unix: p }).catch((e) => {
        throw new BerthError(`cannot listen on ${p}: ${e.message}`, { phase: "startup", errno: e.code });
      });
      made.push(p);
      const gid = groupId(cfg.group);
      if (gid === undefined) {
        if (cfg.groupGiven) throw new BerthError(`group ${JSON.stringify(cfg.group)} does not exist`, { phase: "startup", hint: "create it or pass another --group" });
        log.warn(`could not change group ${p} to ${cfg.group}: group not found`);
      } else fs.chownSync(p, 0, gid);
      fs.chmodSync(p, 0o660);
    } else {
      const m = /^tcp:\/\/([^:/]*):(\d+)$/.exec(h)!;
      const host = m[1] || "127.0.0.1";
      if (host !== "127.0.0.1" && host !== "localhost" && host !== "::1") {
        log.warn(`Binding to ${host} without TLS: anyone who can reach it has root on this host`);
      }
      await server.listen({ host, port: Number(m[2]) }).catch((e) => {
        throw new BerthError(`cannot listen on ${h}: ${e.message}`, { phase: "startup", errno: e.code });
      });
    }
    log.info(`API listen on ${h.startsWith("unix://") ? h.slice(7) : h.slice(6)}`);
  }
  return made;
}

export async function main(argv: string[]): Promise<void> {
  let cfg: DaemonConfig;
  try {
    const c = loadConfig(argv);
    if (c === "help") {
      writeAll(1, usage());
      process.exit(0);
    }
    if (c === "version") {
      writeAll(1, `Berth version ${ENGINE_VERSION}\n`);
      process.exit(0);
    }
    cfg = c;
  } catch (e) {
    fatal(e);
  }
  log.setLevel(cfg.logLevel);
  const releases: (() => void)[] = [];
  const sockets: string[] = [];
  const cleanup = () => {
    for (const s of sockets) fs.rmSync(s, { force: true });
    for (const r of releases.reverse()) r();
  };
  let engine: Engine;
  let server: ApiServer;
  try {
    checkWritable(cfg.dataRoot, "--data-root");
    checkWritable(cfg.execRoot, "--exec-root");
    // <exec-root>/m/<16>/x<12>/console.sock must fit a unix socket address (108 bytes).
    if (cfg.execRoot.length > 60) {
      throw new BerthError(`--exec-root ${cfg.execRoot} is too long (${cfg.execRoot.length} bytes; at most 60)`, {
        phase: "startup", hint: "monitors listen on unix sockets under it, whose paths are limited to 108 bytes",
      });
    }
    releases.push(takePidFile(`${cfg.dataRoot}/berthd.lock`, "data root lock"));
    releases.push(takePidFile(cfg.pidfile, "pid file"));
    engine = await Engine.open(cfg);
    releases.push(() => engine.closeNow());
    const router = buildRouter(engine);
    for (const r of router.routes) log.debug(`Registering ${r.method}, ${r.template}`);
    server = new ApiServer(router, { version: ENGINE_VERSION });
    sockets.push(...(await listenAll(server, cfg)));
  } catch (e) {
    cleanup();
    fatal(e);
  }
  log.info("Daemon has completed initialization");
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`Processing signal '${sig}'`);
    await server.close(5000);
    await engine.close(); // the cleanups of containers removed just now finish first
    cleanup();
    log.info("Daemon shutdown complete");
    process.exit(0);
  };
  process.on("SIGTERM", () => stop("terminated"));
  process.on("SIGINT", () => stop("interrupt"));
}
