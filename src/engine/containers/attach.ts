// Bridging a client's hijacked connection to a container's monitor. The docker CLI attaches
// before it starts the container and may type before start: the stream waits, stdin is kept in
// memory, and both are joined to the monitor the moment the container runs. Output is docker's
// 8-byte multiplexed frames without a TTY, raw bytes with one; stdin is raw from the client.
import type { MonitorConn } from "./deps.ts";
import { frame } from "../monitor/api.ts";

export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  /** close the container's stdin when this client's stdin ends (StdinOnce) */
  stdinOnce: boolean;
  /** byte sequence that detaches (default ctrl-p ctrl-q), only read with a TTY and stdin */
  detachKeys?: number[];
}

const MAX_PENDING_STDIN = 1 << 20;

/** What attach needs of the client's hijacked connection (the API server's RawConn). */
export interface ClientStream {
  on(event: "data", cb: (d: Buffer) => void): unknown;
  on(event: "end" | "close" | "error", cb: () => void): unknown;
  write(d: Uint8Array | string): boolean;
  end(): void;
  destroy(): void;
}


/** "ctrl-p,ctrl-q" → [16, 17]; dockerd's words for a bad one. */
export function parseDetachKeys(spec: string | null | undefined): number[] | undefined {
  if (spec === null || spec === undefined) return undefined;
  if (spec === "") return [];
  const out: number[] = [];
  for (const part of spec.split(",")) {
    const p = part.trim().toLowerCase();
    if (/^ctrl-[a-z@\[\\\]^_]$/.test(p)) {
      const ch = p.slice(5);
      out.push(ch >= "a" && ch <= "z" ? ch.charCodeAt(0) - 96 : { "@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, _: 31 }[ch]!);
    } else if (p.length === 1) out.push(p.charCodeAt(0));
    else throw new Error(`Invalid detach keys (${spec}) provided`);
  }
  return out;
}

export class AttachSession {
  private conn?: MonitorConn;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private stdinEnded = false;
  private ended = false;
  private matched = 0;
  private keys: number[];
  /** resolves when the stream is over (container exited, client left, or detached) */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(private client: ClientStream, private o: AttachOptions) {
    this.keys = o.detachKeys ?? [16, 17];
    this.done = new Promise((r) => (this.resolveDone = r));
    client.on("data", (d: Buffer) => this.fromClient(d));
    client.on("end", () => {
      // A half-close is "no more stdin", not "stop": output keeps flowing (docker-api-map §2.4).
      this.stdinEnded = true;
      if (this.o.stdin && this.o.stdinOnce) this.conn?.eof();
    });
    client.on("close", () => this.finish(false));
    client.on("error", () => this.finish(false));
  }

  private fromClient(d: Buffer): void {
    if (!this.o.stdin || this.ended) return;
    let data: Uint8Array = d;
    if (this.o.tty && this.keys.length) {
      // Detach keys: held back while they might be the start of the sequence.
      const out: number[] = [];
      for (const b of d) {
        if (b === this.keys[this.matched]) {
          this.matched++;
          if (this.matched === this.keys.length) {
            this.finish(true);
            return;
          }
          continue;
        }
        if (this.matched) out.push(...this.keys.slice(0, this.matched));
        this.matched = 0;
        out.push(b);
      }
      data = Uint8Array.from(out);
      if (!data.length) return;
    }
    if (this.conn) this.conn.stdin(data);
    else if (this.pendingBytes + data.length <= MAX_PENDING_STDIN) {
      this.pending.push(data);
      this.pendingBytes += data.length;
    }
  }

  /** The container runs: join the monitor, flush stdin typed so far. */
  join(conn: MonitorConn): void {
    if (this.ended) {
      conn.close();
      return;
    }
    this.conn = conn;
    conn.onFrame((type, payload) => {
      if (type === 3) return this.finish(false, true);
      if ((type === 1 && !this.o.stdout) || (type === 2 && !this.o.stderr)) return;
      if (type !== 1 && type !== 2) return;
      try {
        this.client.write(this.o.tty ? payload : frame(type, payload));
      } catch { /* client gone */ }
    });
    conn.onClose(() => this.finish(false, true));
    if (this.o.stdin) {
      for (const p of this.pending) conn.stdin(p);
      this.pending = [];
      if (this.stdinEnded && this.o.stdinOnce) conn.eof();
    }
  }

  /** A message for the user on the stream itself (stderr frame, or raw with a TTY). */
  writeError(text: string): void {
    try {
      this.client.write(this.o.tty ? Buffer.from(text) : frame(2, Buffer.from(text)));
    } catch { /* gone */ }
  }

  resize(rows: number, cols: number): void {
    this.conn?.resize(rows, cols);
  }

  /** Ends the stream: the container exited (we end our side), the client left, or detached. */
  finish(_detached: boolean, exited = false): void {
    if (this.ended) return;
    this.ended = true;
    this.conn?.close();
    try {
      if (exited) this.client.end();
      else this.client.destroy();
    } catch { /* gone */ }
    this.resolveDone();
  }
}

export const UPGRADE_HEADERS =
  "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n";
