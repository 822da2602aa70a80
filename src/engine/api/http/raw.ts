// A hijacked connection (attach, exec start): after the handler's 101, raw bytes both ways, with
// the part of a Node Duplex that the attach code uses ("data", "end" for the client's half-close,
// "close", write, end, destroy). Bytes the client sent right behind its request (stdin typed
// before the 101) are held until someone listens for "data", so none are lost.
import { EventEmitter } from "node:events";
import type { Wire, WireReader } from "../../net/wire.ts";

export class RawConn extends EventEmitter implements WireReader {
  private held: Buffer[] = [];
  private endHeld = false;
  private flowing = false;
  private gone = false;

  constructor(private readonly wire: Wire, head: Buffer | undefined) {
    super();
    if (head?.length) this.held.push(head);
    this.on("newListener", (event: string) => {
      if (event !== "data" || this.flowing) return;
      this.flowing = true;
      // After the caller has added its other listeners too ("end" among them).
      queueMicrotask(() => {
        for (const d of this.held) this.emit("data", d);
        this.held = [];
        if (this.endHeld) this.emit("end");
      });
    });
  }

  write(data: Uint8Array | string): boolean {
    return this.wire.write(data);
  }

  end(data?: Uint8Array | string): void {
    if (data !== undefined) this.wire.write(data);
    this.wire.end();
  }

  destroy(): void {
    this.wire.destroy();
  }

  // --- WireReader: the connection's bytes, once this request owns it ---

  onData(d: Buffer): void {
    if (this.flowing) this.emit("data", d);
    else this.held.push(d);
  }

  onEnd(): void {
    if (this.flowing) this.emit("end");
    else this.endHeld = true;
  }

  onClose(): void {
    if (this.gone) return;
    this.gone = true;
    this.emit("close");
  }

  onDrain(): void {
    this.emit("drain");
  }
}
