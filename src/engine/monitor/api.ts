// berthd's side of the per-container monitor (native/monitor): the argv that wraps the executor,
// a connection to its attach socket, and its exit record. The protocol is docker's 8-byte frame
// header both ways (see native/monitor): client→monitor 0 stdin, 1 stdin EOF, 2 resize;
// monitor→client 1 stdout, 2 stderr, 3 exit.
import fs from "node:fs";
import net from "node:net";
import type { MonitorApi, MonitorConn, MonitorExit, MonitorPaths } from "../containers/deps.ts";
import { EXECUTOR_PATH } from "../../runtime/executor/launch.ts";
import { sealedMemfd } from "../archive/libc.ts";

function monitorPath(): string {
  if (process.env.BERTH_MONITOR) return process.env.BERTH_MONITOR;
  return new URL("../../../native/monitor/berth-monitor", import.meta.url).pathname;
}
export const MONITOR_PATH = monitorPath();

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

  constructor(private sock: net.Socket) {
    sock.on("data", (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      while (this.buf.length >= 8) {
        const len = this.buf.readUInt32BE(4);
        if (this.buf.length < 8 + len) break;
        const type = this.buf[0];
        const payload = this.buf.subarray(8, 8 + len);
        this.buf = this.buf.subarray(8 + len);
        for (const cb of this.frameCbs) cb(type, payload);
      }
    });
    const onClose = () => {
      if (this.closed) return;
      this.closed = true;
      for (const cb of this.closeCbs) cb();
    };
    sock.on("close", onClose);
    sock.on("end", () => sock.end());
    sock.on("error", onClose);
  }

  onFrame(cb: (type: number, payload: Buffer) => void): void {
    this.frameCbs.push(cb);
  }

  onClose(cb: () => void): void {
    if (this.closed) cb();
    else this.closeCbs.push(cb);
  }

  private send(type: number, payload: Uint8Array = new Uint8Array(0)): void {
    if (this.closed) return;
    try {
      this.sock.write(frame(type, payload));
    } catch { /* closing */ }
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
    this.sock.destroy();
  }
}

/** A sealed in-memory copy of the executor, made once per berthd (see sealedMemfd). */
function sealedExecutor(): number | undefined {
  try {
    return sealedMemfd("berth-executor", fs.readFileSync(EXECUTOR_PATH));
  } catch {
    return undefined; // the executor then makes its own copy each time, as under the berth CLI
  }
}

export const monitorApi: MonitorApi = {
  executorFd: sealedExecutor(),
  args(o) {
    const a = [MONITOR_PATH, "--exit-file", o.exitFile, "--pid-file", o.pidFile, "--attach-socket", o.attachSocket];
    if (o.logFile) a.push("--log-file", o.logFile, "--log-max-size", String(o.logMaxSize), "--log-max-files", String(o.logMaxFiles));
    if (o.consoleSocket) a.push("--console-socket", o.consoleSocket);
    if (o.stdin) a.push("--stdin");
    if (o.stdinOnce) a.push("--stdin-once");
    if (o.waitAttach) a.push("--wait-attach");
    return a;
  },
  connect(path: string): Promise<MonitorConn> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ path, allowHalfOpen: true } as net.NetConnectOpts);
      s.once("connect", () => resolve(new Conn(s)));
      s.once("error", reject);
    });
  },
  readExit(file: string): MonitorExit | undefined {
    try {
      return JSON.parse(fs.readFileSync(file, "utf8")) as MonitorExit;
    } catch {
      return undefined;
    }
  },
};

export type { MonitorPaths };
