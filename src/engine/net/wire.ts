// One connection on a Bun socket: an API client, or a monitor berthd talks to. Bun's write may
// take only part of a buffer when the kernel's socket buffer is full; what it left waits here
// for the socket's drain, in order, and the writer is told to wait (write returns false), as a
// Node stream would tell it.
import type { Socket } from "bun";

/** Who reads the connection now: the HTTP parser, a hijacked stream after a 101, a monitor client. */
export interface WireReader {
  onData(d: Buffer): void;
  /** the client half-closed (no more bytes will come; we may still write) */
  onEnd(): void;
  /** the connection is gone both ways */
  onClose(): void;
  /** everything queued has been written */
  onDrain(): void;
}

export class Wire {
  private queued: Uint8Array[] = [];
  private ending = false;
  private paused = false;
  closed = false;
  reader?: WireReader;

  constructor(private readonly sock: Socket<Wire>) {}

  /** Queues bytes; false when the caller should wait for the reader's drain before more. */
  write(data: Uint8Array | string): boolean {
    if (this.closed || this.ending) return false;
    const buf = typeof data === "string" ? Buffer.from(data) : data;
    if (buf.length === 0) return this.queued.length === 0;
    if (this.queued.length) {
      this.queued.push(buf);
      return false;
    }
    const n = this.sock.write(buf);
    if (n < 0) return false; // closed under us; close() follows
    if (n < buf.length) {
      this.queued.push(buf.subarray(n));
      return false;
    }
    return true;
  }

  get pending(): number {
    return this.queued.length;
  }

  /** Ends our side once the queue is written (a FIN; the client may still send). */
  end(): void {
    if (this.closed || this.ending) return;
    this.ending = true;
    if (!this.queued.length) this.sock.end();
  }

  /** Drops the connection now, whatever is queued. */
  destroy(): void {
    if (this.closed) return;
    this.sock.terminate();
  }

  /** Stops reading from the client (a request body nobody consumes fast enough). */
  pause(): void {
    if (this.paused || this.closed) return;
    this.paused = true;
    this.sock.pause();
  }

  resume(): void {
    if (!this.paused || this.closed) return;
    this.paused = false;
    this.sock.resume();
  }

  // --- called from the listener's socket handlers ---

  onDrain(): void {
    while (this.queued.length) {
      const buf = this.queued[0];
      const n = this.sock.write(buf);
      if (n < 0) return;
      if (n < buf.length) {
        this.queued[0] = buf.subarray(n);
        return;
      }
      this.queued.shift();
    }
    if (this.ending) this.sock.end();
    else this.reader?.onDrain();
  }

  onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.queued = [];
    this.reader?.onClose();
  }
}
