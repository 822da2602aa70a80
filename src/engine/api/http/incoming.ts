// A request as a handler sees it: method, url, headers, and the body as an async iterable of
// decoded chunks (the parser has taken off the chunked coding). Bytes the handler has not read
// yet are held here; past a high-water mark the connection stops reading until it catches up,
// so a big `docker load` is never in memory whole.
import type { Wire } from "../../net/wire.ts";

const HIGH_WATER = 4 << 20;
const LOW_WATER = 1 << 20;

export class Incoming implements AsyncIterable<Buffer> {
  /** lower-case names; repeated headers joined with ", " */
  readonly headers: Record<string, string> = {};
  private chunks: Buffer[] = [];
  private held = 0;
  private complete = false;
  private failure?: Error;
  private wake?: () => void;
  /** the handler answered without reading it all: the rest is dropped, not held */
  private discard = false;

  constructor(
    readonly method: string,
    readonly url: string,
    rawHeaders: string[],
    private readonly wire: Wire,
  ) {
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const k = rawHeaders[i].toLowerCase();
      this.headers[k] = k in this.headers ? `${this.headers[k]}, ${rawHeaders[i + 1]}` : rawHeaders[i + 1];
    }
  }

  /** the whole body has arrived */
  get ended(): boolean {
    return this.complete;
  }

  push(chunk: Buffer): void {
    if (this.discard || this.complete) return;
    this.chunks.push(chunk);
    this.held += chunk.length;
    if (this.held > HIGH_WATER) this.wire.pause();
    this.notify();
  }

  drop(): void {
    if (this.complete) return;
    this.discard = true;
    this.chunks = [];
    this.held = 0;
    this.wire.resume();
  }

  finish(): void {
    this.complete = true;
    this.notify();
  }

  /** The client went away before the body ended. */
  abort(): void {
    if (this.complete) return;
    this.failure = new Error("the client closed the connection before the request body ended");
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      if (this.chunks.length) {
        const c = this.chunks.shift()!;
        this.held -= c.length;
        if (this.held < LOW_WATER) this.wire.resume();
        yield c;
        continue;
      }
      if (this.complete) return;
      if (this.failure) throw this.failure;
      await new Promise<void>((r) => (this.wake = r));
    }
  }
}
