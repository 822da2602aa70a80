// berthd's side of the per-container monitor (native/monitor): the argv that wraps the executor,
// a connection to its attach socket, and its exit record. The protocol is docker's 8-byte frame
// header both ways (see native/monitor): client→monitor 0 stdin, 1 stdin EOF, 2 resize;
// monitor→client 1 stdout, 2 stderr, 3 exit.
import fs from "node:fs";
import type { Socket } from "bun";
import { Wire, type WireReader } from "../net/wire.ts";
import type { MonitorApi, MonitorConn, MonitorExit, MonitorPaths } from "../containers/deps.ts";
import { EXECUTOR_PATH, nativeProgram, type LaunchOptions } from "../../runtime/executor/launch.ts";
import { sealedMemfd } from "../sys/libc.ts";
import * as log from "../log.ts";
import { NotSent, Spawner, bunSpawnWrapper } from "./spawner.ts";

export const MONITOR_PATH = nativeProgram("monitor/berth-monitor", "BERTH_MONITOR");

/** Docker's 8-byte frame header and payload (attach streams, logs, and this protocol). */
export function frame(type: number, payload: Uint8Array): Buffer {
  const f = Buffer.alloc(8 + payload.length);
  f[0] = type;
  f.writeUInt32BE(payload.length, 4);
  f.set(payload, 8);
  return f;
}

class Conn implements MonitorConn {
  private buf: Buffer = Buffer.alloc(0);
  private frameCbs: ((t: number, p: Buffer) => void)[] = [];
  private closeCbs: (() => void)[] = [];
  private closed = false;
  // Frames that came before anyone listened (the monitor may write, and even close, between
  // the connect and the caller's first onFrame): delivered then, in order, and the close after.
  private held: [number, Buffer][] | undefined = [];
  private flushing = false;

  /** the connection's bytes and events, from its Wire */
  readonly reader: WireReader & { conn: Conn } = {
    conn: this,
    onData: (d) => this.data(d),
    onEnd: () => this.wire.end(),
    onClose: () => this.gone(),
    onDrain: () => {},
  };

  constructor(private wire: Wire) {}

  private data(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + len) break;
      const type = this.buf[0];
      const payload = this.buf.subarray(8, 8 + len);
      this.buf = this.buf.subarray(8 + len);
      if (this.held) this.held.push([type, payload]);
      else for (const cb of this.frameCbs) cb(type, payload);
    }
  }

  private gone(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.held) this.fireClose();
  }

  private fireClose(): void {
    const cbs = this.closeCbs;
    this.closeCbs = [];
    for (const cb of cbs) cb();
  }

  onFrame(cb: (type: number, payload: Buffer) => void): void {
    this.frameCbs.push(cb);
    if (!this.held || this.flushing) return;
    this.flushing = true;
    // After the caller's other registrations in the same turn (onClose, a second onFrame).
    queueMicrotask(() => {
      const held = this.held!;
      this.held = undefined;
      for (const [type, payload] of held) for (const f of this.frameCbs) f(type, payload);
      if (this.closed) this.fireClose();
    });
  }

  onClose(cb: () => void): void {
    if (this.closed && !this.held) cb();
    else this.closeCbs.push(cb);
  }

  private send(type: number, payload: Uint8Array = new Uint8Array(0)): void {
    if (this.closed) return;
    this.wire.write(frame(type, payload)); // queued in order when the monitor reads slowly
  }

  stdin(data: Uint8Array): void {
    this.send(0, data);
  }

  eof(): void {
    this.send(1);
  }

  resize(rows: number, cols: number): void {
    const p = Buffer.alloc(4);
    p.writeUInt16BE(rows, 0);
    p.writeUInt16BE(cols, 2);
    this.send(2, p);
  }

  close(): void {
    this.wire.destroy();
  }
}

/** The socket handlers of every monitor connection; each socket's data is its Wire. */
const monitorSocket = {
  open(sock: Socket<Wire>) {
    const wire = new Wire(sock);
    sock.data = wire;
    wire.reader = new Conn(wire).reader;
  },
  data: (sock: Socket<Wire>, d: Buffer) => sock.data.reader?.onData(d),
  end: (sock: Socket<Wire>) => sock.data.reader?.onEnd(),
  drain: (sock: Socket<Wire>) => sock.data.onDrain(),
  close: (sock: Socket<Wire>) => sock.data?.onClose(),
  error: () => {},
};

/** A sealed in-memory copy of one of native/'s programs, made once per berthd (see sealedMemfd). */
function sealedCopy(path: string, name: string): number | undefined {
  try {
    return sealedMemfd(name, fs.readFileSync(path));
  } catch {
    return undefined;
  }
}

// Monitors run from a sealed copy of berth-monitor, which has the executor built in: its child
// runs the executor without an exec of its own (one program fewer per start), and neither it nor
// the container's init before its exec has a writable binary a container could reach through
// /proc/PID/exe (CVE-2019-5736). Without one, monitors run from their file and the executor
// from a sealed copy of its own (or, failing that, it makes one itself, as under the berth CLI).
const sealedMonitor = sealedCopy(MONITOR_PATH, "berth-monitor");
const sealedExecutor = sealedMonitor === undefined ? sealedCopy(EXECUTOR_PATH, "berth-executor") : undefined;

// Started on first use, and again if it died; if it cannot start, Bun's spawn does the work
// (still with a control socket of ours).
let spawner: Spawner | undefined;
let spawnerDown = process.env.BERTH_SPAWNER === "none";

/** The running spawner, started (again) if need be; undefined when none can run here. */
function liveSpawner(): Spawner | undefined {
  if (spawnerDown) return undefined;
  if (!spawner?.alive) {
    const r = Spawner.start();
    if (!r.spawner) {
      spawnerDown = true;
      log.warn(`${r.error}; starting monitors with Bun's spawn instead`);
      return undefined;
    }
    spawner = r.spawner;
  }
  return spawner;
}

function currentSpawner(): LaunchOptions["spawnWrapper"] {
  const s = liveSpawner();
  if (!s) return (argv, fds) => bunSpawnWrapper(argv, fds, sealedMonitor);
  return async (argv, fds) => {
    try {
      return await s.spawnWrapper(argv, fds, sealedMonitor);
    } catch (e) {
      // Its spawner died since (its exit not yet seen): once more, with a new one.
      const again = e instanceof NotSent ? currentSpawner() : undefined;
      if (!again) throw e;
      return again(argv, fds);
    }
  };
}

/**
 * Runs a helper program (argv[0] an absolute path) through the spawner, so berthd's event loop
 * does not wait in vfork for it; through Bun's spawn when there is no spawner.
 */
export async function runHelper(argv: string[]): Promise<number> {
  const s = liveSpawner();
  if (s) {
    try {
      return await s.run(argv);
    } catch (e) {
      if (!(e instanceof NotSent)) throw e;
    }
  }
  return await Bun.spawn(argv, { stdio: ["ignore", "ignore", "ignore"] }).exited;
}

export const monitorApi: MonitorApi = {
  executorFd: sealedExecutor,
  spawner: currentSpawner,
  args(o) {
    const a = [MONITOR_PATH, "--exit-file", o.exitFile, "--pid-file", o.pidFile, "--attach-socket", o.attachSocket];
    if (sealedMonitor !== undefined) a.push("--builtin-executor");
    if (o.logFile) a.push("--log-file", o.logFile, "--log-max-size", String(o.logMaxSize), "--log-max-files", String(o.logMaxFiles));
    if (o.consoleSocket) a.push("--console-socket", o.consoleSocket);
    if (o.stdin) a.push("--stdin");
    if (o.stdinOnce) a.push("--stdin-once");
    if (o.waitAttach) a.push("--wait-attach");
    return a;
  },
  async connect(path: string): Promise<MonitorConn> {
    const sock = await Bun.connect<Wire>({ unix: path, allowHalfOpen: true, socket: monitorSocket } as never);
    return (sock.data.reader as Conn["reader"]).conn;
  },
  readExit(file: string): MonitorExit | undefined {
    try {
      return JSON.parse(fs.readFileSync(file, "utf8")) as MonitorExit;
    } catch {
      return undefined;
    }
  },
  async exitAfterClose(file: string): Promise<MonitorExit | undefined> {
    let exit = monitorApi.readExit(file);
    for (let i = 0; i < 50 && !exit; i++) {
      await Bun.sleep(10); // the socket can close a moment before the file is renamed into place
      exit = monitorApi.readExit(file);
    }
    return exit;
  },
};

export type { MonitorPaths };
