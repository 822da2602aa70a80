// HTTP/1.1 on one connection: http-parser-js reads the requests (request line, headers, a
// Content-Length or chunked body), they are answered one at a time in order (keep-alive, and
// pipelining for clients that do it), and a request asking to upgrade that its route takes
// over turns the rest of the connection into raw bytes (docker-api-map §2.4).
import { HTTPParser } from "http-parser-js";
import { Incoming } from "./incoming.ts";
import { RawConn } from "./raw.ts";
import { Reply } from "./reply.ts";
import type { Wire, WireReader } from "../../net/wire.ts";

/** A header block larger than this is refused (Go's net/http allows 1 MB; Node 16 KB). */
export const MAX_HEADER_BYTES = 64 << 10;

// The parser's own limit also counts the body bytes of a chunk that ends one request (so a big
// upload's last chunk can trip it): ours counts the header block itself, below.
HTTPParser.maxHeaderSize = Number.MAX_SAFE_INTEGER;

function headerBytes(line: string, headers: string[]): number {
  let n = line.length;
  for (const h of headers) n += h.length + 2;
  return n;
}

class HeaderTooLarge extends Error {}

/** What the server does with one request; raw is set when the request asked to upgrade. */
export interface Exchange {
  req: Incoming;
  /** the request asks for Connection: Upgrade */
  upgrade: boolean;
  /** answer it as plain HTTP */
  reply(): Reply;
  /** take the connection over (only for an upgrade): the handler writes its own 101 */
  hijack(): RawConn;
}

export type Dispatch = (x: Exchange) => Promise<void>;

const UPGRADED = new Error("upgraded");

interface Pending {
  req: Incoming;
  upgrade: boolean;
  keepAlive: boolean;
  /** bytes behind an upgrade request's headers: the start of the raw stream */
  head?: Buffer;
}

export class HttpConnection implements WireReader {
  private parser = new HTTPParser(HTTPParser.REQUEST);
  private parsing?: Pending;
  private queue: Pending[] = [];
  private active?: Pending;
  private reply?: Reply;
  private raw?: RawConn;
  /** no more requests: an upgrade took the connection, the client ended, or sent garbage */
  private stopped = false;
  /** the last request was an upgrade, whole: every later byte is raw */
  private upgraded = false;

  constructor(private readonly wire: Wire, private readonly dispatch: Dispatch) {
    wire.reader = this;
    this.parser[HTTPParser.kOnHeadersComplete] = (info: {
      versionMajor: number; versionMinor: number; headers: string[]; method: number; url: string; upgrade: boolean; shouldKeepAlive: boolean;
    }) => {
      if (headerBytes(info.url, info.headers) > MAX_HEADER_BYTES) throw new HeaderTooLarge();
      const method = HTTPParser.methods[info.method];
      const req = new Incoming(method, info.url, info.headers, wire);
      const cl = req.headers["content-length"];
      if (cl !== undefined && !/^\d+$/.test(cl.trim())) throw new Error(`invalid Content-Length ${JSON.stringify(cl)}`);
      const http11 = info.versionMajor === 1 && info.versionMinor >= 1;
      this.parsing = { req, upgrade: info.upgrade, keepAlive: info.shouldKeepAlive || (http11 && !/close/i.test(req.headers.connection ?? "")) };
      this.queue.push(this.parsing);
    };
    this.parser[HTTPParser.kOnBody] = (chunk: Buffer, off: number, len: number) => {
      this.parsing?.req.push(chunk.subarray(off, off + len));
    };
    this.parser[HTTPParser.kOnMessageComplete] = () => {
      this.parsing?.req.finish();
      // Whatever follows an upgrade request is not HTTP: stop the parser right here.
      if (this.parsing?.upgrade) throw UPGRADED;
    };
  }

  onData(d: Buffer): void {
    if (this.upgraded) {
      // Behind an upgrade request: raw bytes, for its handler (held until its turn comes).
      if (this.raw) return this.raw.onData(d);
      const last = this.queue[this.queue.length - 1] ?? this.active;
      if (last?.upgrade) last.head = last.head ? Buffer.concat([last.head, d]) : d;
      return;
    }
    if (this.stopped) return;
    try {
      const n = this.parser.execute(d);
      if (n instanceof Error) return this.malformed(n);
      const p = this.parser as unknown as { state: string; line: string; info: { headers: string[] } };
      if ((p.state === "REQUEST_LINE" || p.state === "HEADER") && headerBytes(p.line, p.info.headers) > MAX_HEADER_BYTES) {
        return this.malformed(new HeaderTooLarge());
      }
    } catch (e) {
      // Thrown from our own callbacks, which the parser passes through.
      if (e !== UPGRADED) return this.malformed(e as Error);
      // The upgrade request is whole (its body too, if it had one): the rest is raw.
      this.stopped = this.upgraded = true;
      const at = (this.parser as unknown as { offset: number }).offset;
      if (at < d.length) {
        if (this.raw) this.raw.onData(d.subarray(at));
        else this.parsing!.head = d.subarray(at);
      }
    }
    this.next();
  }

  onEnd(): void {
    // The client sends no more: a body cut short is an error for its reader; an answer in
    // progress still goes out, then the connection ends. A hijacked stream hears it as the
    // end of its input (the CLI half-closes after stdin).
    this.parsing?.req.abort();
    if (this.raw && this.upgraded) return this.raw.onEnd();
    this.stopped = true;
    if (!this.active) this.wire.end();
  }

  onClose(): void {
    this.parsing?.req.abort();
    for (const p of this.queue) p.req.abort();
    this.queue = [];
    this.reply?.closed();
    this.raw?.onClose();
  }

  onDrain(): void {
    if (this.raw) this.raw.onDrain();
    else this.reply?.emit("drain");
  }

  private malformed(e: Error): void {
    this.stopped = true;
    this.queue = this.queue.filter((p) => p === this.active);
    const tooBig = e instanceof HeaderTooLarge;
    const body = JSON.stringify({ message: tooBig ? "request header too large" : `malformed HTTP request: ${e.message}` }) + "\n";
    const status = tooBig ? "431 Request Header Fields Too Large" : "400 Bad Request";
    const send = () => {
      this.wire.write(`HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      this.wire.end();
    };
    if (this.active) this.afterActive = send;
    else send();
  }
  private afterActive?: () => void;

  /** Starts the next request when the one before has been answered. */
  private next(): void {
    if (this.active || this.raw) return;
    const p = this.queue.shift();
    if (!p) {
      this.afterActive?.();
      this.afterActive = undefined;
      return;
    }
    this.active = p;
    let reply: Reply | undefined;
    const exchange: Exchange = {
      req: p.req,
      upgrade: p.upgrade,
      reply: () => {
        reply ??= new Reply(this.wire, p.req.method, p.keepAlive && !p.upgrade && !this.stopped);
        this.reply = reply;
        return reply;
      },
      hijack: () => {
        if (!p.upgrade) throw new Error("only a request that asks to upgrade can be hijacked");
        // The request's body may still be arriving: the parser reads it, and what follows
        // it goes to the raw stream (onData).
        this.raw = new RawConn(this.wire, p.head);
        return this.raw;
      },
    };
    void this.dispatch(exchange).finally(() => {
      if (this.raw) return; // the connection is the handler's now, until it ends it
      if (!reply?.writableEnded) {
        // A handler that neither answered nor hijacked: the connection cannot be reused.
        this.wire.destroy();
        return;
      }
      p.req.drop(); // a body nobody read: drop the rest as it comes
      this.active = undefined;
      this.reply = undefined;
      if (!reply.keepAlive || (this.stopped && !this.queue.length && !this.afterActive)) this.wire.end();
      else this.next();
    });
  }
}
