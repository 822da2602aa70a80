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
    const head = this.takeHead(undefined);
    if (head) this.wire.write(head);
  }

  /**
   * The status line and headers, once (undefined when they went already). Callers send them in
   * the same write as the bytes that follow: each write wakes the client, and a client woken
   * for the head alone parses it and sleeps again until the body comes.
   */
  private takeHead(wholeBody: Uint8Array | undefined): string | undefined {
    if (this.headersSent) return undefined;
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
    return head + "\r\n";
  }

  /** One write of what is ready: the head if it has not gone, then `body` (chunk-framed if the body is chunked), then `tail`. */
  private send(head: string | undefined, body: Uint8Array | undefined, tail = ""): boolean {
    const parts: Uint8Array[] = [];
    let text = head ?? "";
    if (body?.length && !this.noBody) {
      if (this.chunked) text += `${body.length.toString(16)}\r\n`;
      if (text) parts.push(Buffer.from(text));
      parts.push(body);
      text = this.chunked ? "\r\n" : "";
    }
    text += tail;
    if (text) parts.push(Buffer.from(text));
    if (!parts.length) return true;
    return this.wire.write(parts.length === 1 ? parts[0] : Buffer.concat(parts));
  }

  write(chunk: Uint8Array | string): boolean {
    if (this.writableEnded) return false;
    const head = this.takeHead(undefined);
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    return this.send(head, buf);
  }

  end(chunk?: Uint8Array | string): void {
    if (this.writableEnded) return;
    const buf = chunk === undefined ? undefined : typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    // Before any write the whole body is known: it goes with its length, unframed.
    const head = this.takeHead(this.headersSent ? undefined : (buf ?? new Uint8Array(0)));
    this.send(head, buf, this.chunked ? "0\r\n\r\n" : "");
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
    // A writer waiting for room (write returned false) would wait for good on a client that
    // left: wake it; it finds the exchange closed (ctx.closed) and stops.
    this.emit("drain");
  }
}
