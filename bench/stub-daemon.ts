// A stub Engine API for the benchmark: it answers what `docker run` sends (ping, create, attach,
// wait, start) at once and runs nothing, so the stock CLI's time against it is the CLI's own
// share of a `docker run`: the floor no daemon can go below on this machine. Raw sockets
// (Bun.listen), because attach hijacks its connection.
import fs from "node:fs";
import type { Socket } from "bun";

interface Conn { buf: Buffer; attachedTo?: string }

export interface Stub { sock: string; env: Record<string, string>; stop(): void }

const HEAD = "Api-Version: 1.45\r\nDocker-Experimental: false\r\nOstype: linux\r\nServer: stub\r\n";

export function startStub(): Stub {
  const dir = fs.mkdtempSync("/tmp/berth-bench-stub-");
  const sock = `${dir}/stub.sock`;
  let ids = 0;
  // per container: its attach connection (closed when it "exits"), its waiter
  const attach = new Map<string, Socket<Conn>>();
  const waiters = new Map<string, Socket<Conn>>();
  const reply = (s: Socket<Conn>, status: string, body?: string) => {
    const b = body ?? "";
    s.write(`HTTP/1.1 ${status}\r\n${HEAD}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`);
  };
  const exit = (id: string) => {
    attach.get(id)?.end();
    attach.delete(id);
    const w = waiters.get(id);
    waiters.delete(id);
    if (w) {
      const b = `${JSON.stringify({ StatusCode: 0, Error: null })}\n`;
      w.write(`${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n`);
    }
  };
  const handle = (s: Socket<Conn>, method: string, url: string) => {
    if (process.env.STUB_DEBUG) console.error("stub:", method, url);
    const path = new URL(url, "http://x").pathname.replace(/^\/v[\d.]+/, "");
    const id = /^\/containers\/([0-9a-f]{64})\//.exec(path)?.[1] ?? "";
    if (path === "/_ping") {
      s.write(`HTTP/1.1 200 OK\r\n${HEAD}Content-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n\r\n${method === "HEAD" ? "" : "OK"}`);
    } else if (path === "/containers/create") {
      reply(s, "201 Created", JSON.stringify({ Id: (++ids).toString(16).padStart(64, "0"), Warnings: [] }));
    } else if (path.endsWith("/attach")) {
      s.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n${HEAD}\r\n`);
      s.data.attachedTo = id;
      attach.set(id, s);
    } else if (path.endsWith("/wait")) {
      // headers now (the CLI goes on to start only then), the status once the container exits
      s.write(`HTTP/1.1 200 OK\r\n${HEAD}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
      waiters.set(id, s);
    } else if (path.endsWith("/start")) {
      reply(s, "204 No Content");
      exit(id); // the container "ran" and exited at once
    } else {
      reply(s, "404 Not Found", JSON.stringify({ message: `the stub has no ${method} ${path}` }));
    }
  };
  const server = Bun.listen<Conn>({
    unix: sock,
    socket: {
      open(s) {
        s.data = { buf: Buffer.alloc(0) };
      },
      data(s, d) {
        if (s.data.attachedTo !== undefined) return; // stdin of a hijacked stream: dropped
        s.data.buf = Buffer.concat([s.data.buf, d]);
        for (;;) {
          const end = s.data.buf.indexOf("\r\n\r\n");
          if (end < 0) return;
          const head = s.data.buf.subarray(0, end).toString("latin1").split("\r\n");
          const len = Number(/^content-length:\s*(\d+)/im.exec(head.join("\n"))?.[1] ?? 0);
          if (s.data.buf.length < end + 4 + len) return;
          s.data.buf = s.data.buf.subarray(end + 4 + len);
          const [method, url] = head[0].split(" ");
          handle(s, method, url);
          if (s.data.attachedTo !== undefined) return;
        }
      },
      close(s) {
        if (s.data?.attachedTo) attach.delete(s.data.attachedTo);
      },
      error() {},
    },
  });
  return {
    sock,
    env: { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: `${dir}/config` } as Record<string, string>,
    stop() {
      server.stop(true);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The stub in a process of its own, for callers that time with spawnSync (which would stall a
 * stub in their own event loop): resolves once it listens; stop() ends it.
 */
export async function spawnStub(): Promise<Stub> {
  const p = Bun.spawn([process.execPath, import.meta.path], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const reader = p.stdout.getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the stub daemon did not start");
    line += new TextDecoder().decode(value);
  }
  const sock = line.trim();
  return {
    sock,
    env: { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: `${sock}.config` } as Record<string, string>,
    stop() {
      p.stdin.end(); // its stdin closing ends it
    },
  };
}

if (import.meta.main) {
  const stub = startStub();
  console.log(stub.sock);
  // Ends when the parent closes our stdin (or goes away).
  for await (const _ of Bun.stdin.stream()) { /* nothing to read */ }
  stub.stop();
}
