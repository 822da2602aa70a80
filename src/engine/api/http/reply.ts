// The answer to one request, with the part of Node's ServerResponse the handlers use: headers,
// writeHead, write with backpressure ("drain"), end, and "close" when the exchange is over or the
// client left. The framing follows Go's net/http, which is what dockerd's clients know: a known
// length when the whole body is given to end(), chunked when it is streamed, none for HEAD, 204
// and 304.
import { EventEmitter } from "node:events";
import type { Wire } from "../../net/wire.ts";

export const STATUS_TEXT: Record<number, string> = {
  101: "Switching Protocols", 200: "OK", 201: "Created", 204: "No Content", 304: "Not Modified",
  400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
  409: "Conflict", 413: "Request Entity Too Large", 431: "Request Header Fields Too Large",
  500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
};

type HeaderValue = string | number;

export class Reply extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  writableEnded = false;
  private headers = new Map<string, [string, string]>();
  private chunked = false;
  private noBody = false;
  private closedOnce = false;

  constructor(
    private readonly wire: Wire,
    private readonly method: string,
    /** false: this is the connection's last exchange (the client asked, or HTTP/1.0) */
    readonly keepAlive: boolean,
  ) {
    super();
  }

  setHeader(name: string, value: HeaderValue): void {
    this.headers.set(name.toLowerCase(), [name, String(value)]);
  }

  getHeader(name: string): string | undefined {
    return this.headers.get(name.toLowerCase())?.[1];
  }

  writeHead(status: number, headers: Record<string, HeaderValue> = {}): this {
    if (this.headersSent) return this;
    this.statusCode = status;
    for (const [k, v] of Object.entries(headers)) this.setHeader(k, v);
    return this;
  }

  /** Sends the status line and headers now (a long poll such as wait or events). */
  flushHeaders(): void {
    this.sendHead(undefined);
  }

  private sendHead(wholeBody: Uint8Array | undefined): void {
    if (this.headersSent) return;
    this.headersSent = true;
    const s = this.statusCode;
    this.noBody = this.method === "HEAD" || s === 204 || s === 304 || (s >= 100 && s < 200);
    if (s === 204 || s === 304) {
      this.headers.delete("content-length");
      this.headers.delete("transfer-encoding");
    } else if (!this.headers.has("content-length")) {
      if (wholeBody !== undefined) this.setHeader("Content-Length", wholeBody.length);
      else if (!this.noBody) {
        this.setHeader("Transfer-Encoding", "chunked");
        this.chunked = true;
      }
    }
    if (!this.keepAlive) this.setHeader("Connection", "close");
    let head = `HTTP/1.1 ${s} ${STATUS_TEXT[s] ?? "Unknown"}\r\n`;
    for (const [name, value] of this.headers.values()) head += `${name}: ${value}\r\n`;
    this.wire.write(head + "\r\n");
  }

  write(chunk: Uint8Array | string): boolean {
    if (this.writableEnded) return false;
    this.sendHead(undefined);
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    if (this.noBody || buf.length === 0) return true;
    if (!this.chunked) return this.wire.write(buf);
    this.wire.write(`${buf.length.toString(16)}\r\n`);
    this.wire.write(buf);
    return this.wire.write("\r\n");
  }

  end(chunk?: Uint8Array | string): void {
    if (this.writableEnded) return;
    const buf = chunk === undefined ? undefined : typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    if (!this.headersSent) {
      // The whole body is known: it goes with its length, unframed.
      this.sendHead(buf ?? new Uint8Array(0));
      if (buf?.length && !this.noBody) this.wire.write(buf);
    } else if (buf) this.write(buf);
    if (this.chunked) this.wire.write("0\r\n\r\n");
    this.writableEnded = true;
    this.emit("finish");
    this.closed();
  }

  /** Drops the connection (a stream that failed halfway: the client sees it cut short). */
  destroy(): void {
    this.wire.destroy();
  }

  /** The exchange is over: finished, or the client went away first. */
  closed(): void {
    if (this.closedOnce) return;
    this.closedOnce = true;
    this.emit("close");
  }
}
