// The HTTP side of the Engine API: unix (and loopback TCP) listeners, the version prefix, the
// headers every dockerd response carries, errors as {"message"}, and hijacked connections.
// The listeners are Bun's own sockets with HTTP/1.1 done in http/ (http-parser-js reads the
// requests): Node's http compatibility layer cost berthd 10 MB of its idle memory.
import type { Socket, SocketListener } from "bun";
import { ApiError } from "../errors.ts";
import * as log from "../log.ts";
import { Context, compareVersions } from "./context.ts";
import type { Router } from "./router.ts";
import { mark, tracing } from "../../runtime/trace.ts";
import { HttpConnection, type Exchange } from "./http/connection.ts";
import type { Reply } from "./http/reply.ts";
import { STATUS_TEXT } from "./http/reply.ts";
import type { RawConn } from "./http/raw.ts";
import { Wire } from "../net/wire.ts";

export const API_VERSION = "1.45";
export const MIN_API_VERSION = "1.24";

export interface ServerInfo {
  version: string; // the engine's version, for the Server header
}

export function commonHeaders(info: ServerInfo): Record<string, string> {
  return {
    "Api-Version": API_VERSION,
    "Docker-Experimental": "false",
    Ostype: "linux",
    Server: `Docker/${info.version} (linux)`,
  };
}

/** The Date header's value, made once a second (every answer carries one). */
let dateSecond = -1, dateText = "";
function httpDate(): string {
  const now = Date.now(), sec = Math.floor(now / 1000);
  if (sec !== dateSecond) {
    dateSecond = sec;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

const VERSIONED = /^\/v(\d+\.\d+)(\/.*)$/;

function splitUrl(url: string): { path: string; search: string; version?: string } {
  const q = url.indexOf("?");
  let path = q < 0 ? url : url.slice(0, q);
  const search = q < 0 ? "" : url.slice(q + 1);
  const m = VERSIONED.exec(path);
  let version: string | undefined;
  if (m) {
    version = m[1];
    path = m[2];
  }
  if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  return { path, search, version };
}

function sendError(res: Reply, status: number, message: string): void {
  if (res.headersSent) {
    // Mid-stream: all we can do is end it; the client sees a truncated stream.
    res.destroy();
    return;
  }
  if (status === 304) {
    res.writeHead(304);
    res.end();
    return;
  }
  const body = JSON.stringify({ message }) + "\n";
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

export function describeError(e: unknown): { status: number; message: string } {
  if (e instanceof ApiError) return { status: e.status, message: e.message };
  const be = e as { describe?: () => string; message?: string };
  if (typeof be?.describe === "function") return { status: 500, message: be.describe() };
  return { status: 500, message: String(be?.message ?? e) };
}

/** An error as the raw answer on a connection the handler had taken over, before its 101. */
function rawError(socket: RawConn, status: number, message: string): void {
  const body = JSON.stringify({ message }) + "\n";
  socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

export class ApiServer {
  private listeners: SocketListener<Wire>[] = [];
  private inflight = 0;
  private draining?: () => void;
  /** every open connection, ended when the daemon stops */
  private wires = new Set<Wire>();
  private idleTimer?: ReturnType<typeof setTimeout>;

  private common?: [string, string][];

  constructor(private router: Router, private info: ServerInfo) {}

  private version(v: string | undefined): string {
    if (v === undefined) return API_VERSION;
    if (compareVersions(v, API_VERSION) > 0) {
      throw new ApiError(400, `client version ${v} is too new. Maximum supported API version is ${API_VERSION}`);
    }
    if (compareVersions(v, MIN_API_VERSION) < 0) {
      throw new ApiError(400, `client version ${v} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
    }
    return v;
  }

  private dispatch = (x: Exchange): Promise<void> => {
    const { method, url } = x.req;
    const { path, search, version } = splitUrl(url);
    const found = this.router.find(method, path);
    // Only a route that takes connections over gets one; any other answers as plain HTTP.
    const socket = x.upgrade && "route" in found && found.route.hijack ? x.hijack() : undefined;
    const res = socket ? undefined : x.reply();
    if (tracing) mark(`> ${method} ${url}${socket ? " (upgrade)" : ""}`);
    if (res) {
      if (tracing) res.once("finish", () => mark(`< ${res.statusCode} ${method} ${url}`));
      for (const [k, v] of (this.common ??= Object.entries(commonHeaders(this.info)))) res.setHeader(k, v);
      res.setHeader("Date", httpDate());
    } else socket!.on("error", () => {});
    const answer = async () => {
      if ("status" in found) {
        throw new ApiError(found.status, found.status === 404 ? "page not found" : `method ${method} not allowed on ${path}`);
      }
      log.debug(`Calling ${method} ${path}`);
      const ctx = new Context(x.req, res, path, found.params, search, this.version(version), socket);
      const result = await found.route.handler(ctx);
      if (!res || res.writableEnded || res.headersSent) return;
      if (result === undefined) {
        res.writeHead(204);
        res.end();
        return;
      }
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify(result) + "\n");
    };
    return this.track(
      answer().catch((e) => {
        const { status, message } = describeError(e);
        if (status >= 500 && status !== 501) log.error(`Handler for ${method} ${url} returned error: ${message}`);
        else log.debug(`Handler for ${method} ${url} returned error: ${message}`);
        if (res) sendError(res, status, message);
        else {
          try {
            rawError(socket!, status, message);
          } catch { /* gone */ }
        }
      }),
    );
  };

  private track(p: Promise<void>): Promise<void> {
    this.inflight++;
    clearTimeout(this.idleTimer);
    return p.finally(() => {
      if (--this.inflight > 0) return;
      this.draining?.();
      // Idle for a moment: give the memory of the last burst (an image import, a hundred
      // containers' requests) back to the system, so an idle berthd stays small.
      this.idleTimer = setTimeout(() => Bun.gc(true), 1000);
      this.idleTimer.unref?.();
    });
  }

  private handlers = {
    open: (sock: Socket<Wire>) => {
      const wire = new Wire(sock);
      sock.data = wire;
      this.wires.add(wire);
      new HttpConnection(wire, this.dispatch);
    },
    data: (sock: Socket<Wire>, d: Buffer) => sock.data.reader?.onData(d),
    end: (sock: Socket<Wire>) => sock.data.reader?.onEnd(),
    drain: (sock: Socket<Wire>) => sock.data.onDrain(),
    close: (sock: Socket<Wire>) => {
      this.wires.delete(sock.data);
      sock.data.onClose();
    },
    error: (_sock: Socket<Wire>, e: Error) => log.debug(`connection error: ${e.message}`),
  };

  async listen(addr: { unix?: string; port?: number; host?: string }): Promise<void> {
    const common = { allowHalfOpen: true, socket: this.handlers };
    this.listeners.push(
      addr.unix
        ? Bun.listen<Wire>({ ...common, unix: addr.unix } as never)
        : Bun.listen<Wire>({ ...common, hostname: addr.host ?? "127.0.0.1", port: addr.port! } as never),
    );
  }

  /** Stop accepting, let in-flight requests finish (up to `ms`), then end what is still open. */
  async close(ms = 10_000): Promise<void> {
    for (const l of this.listeners) l.stop(false);
    if (this.inflight > 0) {
      await Promise.race([new Promise<void>((r) => (this.draining = r)), Bun.sleep(ms)]);
    }
    for (const w of this.wires) w.destroy();
  }
}
