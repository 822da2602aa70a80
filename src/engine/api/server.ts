// The HTTP side of the Engine API: unix (and loopback TCP) listeners, the version prefix, the
// headers every dockerd response carries, errors as {"message"}, and hijacked connections.
// node:http under Bun does chunked request bodies, keep-alive and `upgrade` with half-open
// sockets (the CLI half-closes its side of attach right after the 101; see docker-api-map §2.4).
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { ApiError } from "../errors.ts";
import * as log from "../log.ts";
import { Context, compareVersions } from "./context.ts";
import type { Router } from "./router.ts";
import { mark } from "../../runtime/trace.ts";

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

function sendError(res: ServerResponse, status: number, message: string): void {
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

export class ApiServer {
  private servers: http.Server[] = [];
  private inflight = 0;
  private draining?: () => void;
  /** open hijacked/streaming connections, ended when the daemon stops */
  private sockets = new Set<Duplex>();

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

  private async dispatch(req: IncomingMessage, res: ServerResponse | undefined, socket?: Duplex, head?: Buffer): Promise<void> {
    const { path, search, version } = splitUrl(req.url ?? "/");
    const method = req.method ?? "GET";
    const found = this.router.find(method, path);
    if ("status" in found) {
      const msg = found.status === 404 ? "page not found" : `method ${method} not allowed on ${path}`;
      if (res) sendError(res, found.status, msg);
      else socket?.end(`HTTP/1.1 ${found.status} Not Found\r\nContent-Type: application/json\r\n\r\n${JSON.stringify({ message: msg })}\n`);
      return;
    }
    log.debug(`Calling ${method} ${path}`);
    const ctx = new Context(req, res, path, found.params, search, this.version(version), socket, head);
    const result = await found.route.handler(ctx);
    if (!res || res.writableEnded || res.headersSent) return;
    if (result === undefined) {
      res.writeHead(204);
      res.end();
      return;
    }
    const body = JSON.stringify(result) + "\n";
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    res.end(method === "HEAD" ? undefined : body);
  }

  private track(p: Promise<void>): void {
    this.inflight++;
    clearTimeout(this.idleTimer);
    p.finally(() => {
      if (--this.inflight > 0) return;
      this.draining?.();
      // Idle for a moment: give the memory of the last burst (an image import, a hundred
      // containers' requests) back to the system, so an idle berthd stays small.
      this.idleTimer = setTimeout(() => Bun.gc(true), 1000);
      this.idleTimer.unref?.();
    });
  }
  private idleTimer?: ReturnType<typeof setTimeout>;

  private onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    mark(`> ${req.method} ${req.url}`);
    res.once("finish", () => mark(`< ${res.statusCode} ${req.method} ${req.url}`));
    for (const [k, v] of Object.entries(commonHeaders(this.info))) res.setHeader(k, v);
    res.setHeader("Date", new Date().toUTCString());
    this.sockets.add(res.socket as Duplex);
    res.socket?.once("close", () => this.sockets.delete(res.socket as Duplex));
    this.track(
      this.dispatch(req, res).catch((e) => {
        const { status, message } = describeError(e);
        if (status >= 500) log.error(`Handler for ${req.method} ${req.url} returned error: ${message}`);
        else log.debug(`Handler for ${req.method} ${req.url} returned error: ${message}`);
        sendError(res, status, message);
      }),
    );
  };

  private onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    mark(`> ${req.method} ${req.url} (upgrade)`);
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    socket.on("error", () => {});
    this.track(
      this.dispatch(req, undefined, socket, head).catch((e) => {
        const { status, message } = describeError(e);
        if (status >= 500) log.error(`Handler for ${req.method} ${req.url} returned error: ${message}`);
        const body = JSON.stringify({ message }) + "\n";
        try {
          socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? "Error"}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        } catch { /* gone */ }
      }),
    );
  };

  async listen(addr: { unix?: string; port?: number; host?: string }): Promise<void> {
    const server = http.createServer({ keepAliveTimeout: 0 } as never, this.onRequest);
    server.on("upgrade", this.onUpgrade);
    server.on("clientError", (_e, sock) => {
      try {
        sock.end("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n{\"message\":\"malformed HTTP request\"}\n");
      } catch { /* gone */ }
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      if (addr.unix) server.listen(addr.unix, () => resolve());
      else server.listen(addr.port, addr.host, () => resolve());
    });
    server.on("error", (e) => log.error(`listener error: ${e.message}`));
    this.servers.push(server);
  }

  /** Stop accepting, let in-flight requests finish (up to `ms`), then end what is still open. */
  async close(ms = 10_000): Promise<void> {
    for (const s of this.servers) s.close();
    if (this.inflight > 0) {
      await Promise.race([new Promise<void>((r) => (this.draining = r)), Bun.sleep(ms)]);
    }
    for (const s of this.sockets) s.destroy();
  }
}
