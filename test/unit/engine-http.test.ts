// berthd's HTTP/1.1 layer (src/engine/api/http) on a private unix socket, driven with raw bytes:
// framing both ways, keep-alive and pipelining, chunked bodies, hijacking with bytes behind the
// request, backpressure, and the answers to garbage.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import { ApiServer } from "../../src/engine/api/server.ts";
import { Router } from "../../src/engine/api/router.ts";
import { Reply } from "../../src/engine/api/http/reply.ts";
import type { Wire } from "../../src/engine/net/wire.ts";

const tmp = fs.mkdtempSync(`${os.tmpdir()}/berth-http-unit-`);
const sock = `${tmp}/api.sock`;
const BIG = 8 << 20;
let server: ApiServer;

beforeAll(async () => {
  const r = new Router();
  r.get("/hello", () => ({ hello: "world" }));
  r.post("/echo", async (ctx) => ({ length: (await ctx.bytes()).length }));
  r.post("/sum", async (ctx) => {
    let n = 0, sum = 0;
    for await (const c of ctx.req) {
      n += c.length;
      for (const b of c) sum = (sum + b) % 65521;
    }
    return { n, sum };
  });
  r.get("/nothing", () => undefined);
  r.get("/stream", (ctx) => {
    const res = ctx.res!;
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.write("one,");
    res.write("two,");
    res.end("three");
  });
  r.get("/big", async (ctx) => {
    const res = ctx.res!;
    res.writeHead(200, { "Content-Type": "application/octet-stream" });
    const chunk = Buffer.alloc(64 << 10, 7);
    for (let sent = 0; sent < BIG; sent += chunk.length) {
      if (!res.write(chunk)) await new Promise((ok) => res.once("drain", ok));
    }
    res.end();
  });
  r.get("/fails", () => {
    throw new Error("boom");
  });
  r.add("POST", "/hijack", async (ctx) => {
    const body = await ctx.json<{ greeting?: string }>();
    const s = ctx.socket;
    if (!s) {
      ctx.res!.writeHead(200, { "Content-Length": 0 });
      ctx.res!.end();
      return;
    }
    s.write(`HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n${body.greeting ?? "?"}:`);
    await new Promise<void>((done) => {
      s.on("data", (d: Buffer) => s.write(d.toString().toUpperCase()));
      s.on("end", () => {
        s.end("<eof>");
        done();
      });
    });
  }, { hijack: true });
  server = new ApiServer(r, { version: "test" });
  await server.listen({ unix: sock });
});

afterAll(async () => {
  await server.close(100);
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Sends raw bytes (in separate writes, with a pause between), returns all that came back. */
function exchange(parts: (string | Uint8Array)[], o: { halfClose?: boolean; gapMs?: number; waitMs?: number } = {}): Promise<Buffer> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    const c = net.connect({ path: sock, allowHalfOpen: true });
    const finish = () => resolve(Buffer.concat(got));
    const timer = setTimeout(() => c.destroy(), o.waitMs ?? 3000);
    c.on("data", (d) => got.push(d));
    c.on("end", () => c.end());
    c.on("close", () => {
      clearTimeout(timer);
      finish();
    });
    c.on("connect", async () => {
      for (const p of parts) {
        if (!c.write(p)) await new Promise((ok) => c.once("drain", ok));
        await Bun.sleep(o.gapMs ?? 10);
      }
      if (o.halfClose) c.end();
    });
  });
}

/** Responses in a byte stream: status, headers, and the body (decoded when chunked). */
function responses(buf: Buffer): { status: number; headers: Record<string, string>; body: string }[] {
  const out = [];
  let s = buf.toString("latin1");
  while (s.length) {
    const end = s.indexOf("\r\n\r\n");
    if (end < 0) break;
    const [line, ...hs] = s.slice(0, end).split("\r\n");
    const headers: Record<string, string> = {};
    for (const h of hs) headers[h.slice(0, h.indexOf(":")).toLowerCase()] = h.slice(h.indexOf(":") + 1).trim();
    s = s.slice(end + 4);
    let body = "";
    const status = Number(line.split(" ")[1]);
    if (status === 204 || status === 304) { /* never a body */ } else if (headers["transfer-encoding"] === "chunked") {
      for (;;) {
        const nl = s.indexOf("\r\n");
        const n = parseInt(s.slice(0, nl), 16);
        s = s.slice(nl + 2);
        if (n === 0) {
          s = s.slice(2);
          break;
        }
        body += s.slice(0, n);
        s = s.slice(n + 2);
      }
    } else if (headers["content-length"] !== undefined) {
      const n = Number(headers["content-length"]);
      body = s.slice(0, n);
      s = s.slice(n);
    } else {
      body = s;
      s = "";
    }
    out.push({ status, headers, body });
  }
  return out;
}

describe("berthd's HTTP server", () => {
  it("answers requests on one kept-alive connection, also pipelined, in order", async () => {
    const get = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    const rs = responses(await exchange([get, get + "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n" + get], { halfClose: true }));
    expect(rs.map((r) => r.status)).toEqual([200, 200, 204, 200]);
    expect(JSON.parse(rs[0].body)).toEqual({ hello: "world" });
    expect(rs[0].headers["content-length"]).toBe(String(rs[0].body.length));
    expect(rs[0].headers["api-version"]).toBe("1.45");
    expect(rs[2].headers["content-length"]).toBeUndefined();
    expect(rs[2].body).toBe("");
  });

  it("decodes a chunked request body, and chunks a streamed answer", async () => {
    const body = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    const rs = responses(await exchange([
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", body.slice(0, 9), body.slice(9),
      "GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ]));
    expect(JSON.parse(rs[0].body).length).toBe(11);
    expect(rs[1].headers["transfer-encoding"]).toBe("chunked");
    expect(rs[1].headers.connection).toBe("close");
    expect(rs[1].body).toBe("one,two,three");
  });

  it("reads a big body with backpressure and streams a big answer to a slow reader whole", async () => {
    const data = new Uint8Array(6 << 20).map((_, i) => i % 251);
    let sum = 0;
    for (const b of data) sum = (sum + b) % 65521;
    const rs = responses(await exchange([`POST /sum HTTP/1.1\r\nHost: x\r\nContent-Length: ${data.length}\r\n\r\n`, data, "GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]));
    expect(JSON.parse(rs[0].body)).toEqual({ n: data.length, sum });
    expect(rs[1].body.length).toBe(BIG);
  });

  it("HEAD gets the headers and no body", async () => {
    const raw = (await exchange(["HEAD /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"])).toString();
    expect(raw.startsWith("HTTP/1.1 200 OK\r\n")).toBe(true);
    expect(raw.endsWith("\r\n\r\n")).toBe(true);
  });

  it("answers garbage with a 400 or 431 as JSON, closes that connection, and serves the next", async () => {
    const bad = responses(await exchange(["NOT HTTP AT ALL\r\n\r\n"]));
    expect(bad[0].status).toBe(400);
    expect(JSON.parse(bad[0].body).message).toContain("malformed HTTP request");
    const badLength = responses(await exchange(["POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n"]));
    expect(badLength[0].status).toBe(400);
    expect(JSON.parse(badLength[0].body).message).toContain("Content-Length");
    const huge = responses(await exchange([`GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(100 << 10)}\r\n\r\n`]));
    expect(huge[0].status).toBe(431);
    const hugeLine = responses(await exchange([`GET /${"a".repeat(70 << 10)}`, "b".repeat(10)]));
    expect(hugeLine[0].status).toBe(431);
    const ok = responses(await exchange(["GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]));
    expect(ok[0].status).toBe(200);
  });

  it("gives 404, 405 and 500 as {message}", async () => {
    const rs = responses(await exchange([
      "GET /nope HTTP/1.1\r\nHost: x\r\n\r\nDELETE /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /fails HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ]));
    expect(rs.map((r) => r.status)).toEqual([404, 405, 500]);
    expect(JSON.parse(rs[2].body)).toEqual({ message: "boom" });
  });

  it("hijacks: the body is read even when it comes late, and every byte after it is the stream's", async () => {
    const json = JSON.stringify({ greeting: "hi" });
    const head = `POST /hijack HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\n\r\n`;
    // The body in a later write than the headers, with the first raw bytes right behind it.
    const raw = (await exchange([head, json + "abc", "def"], { halfClose: true })).toString();
    expect(raw.startsWith("HTTP/1.1 101 UPGRADED\r\n")).toBe(true);
    expect(raw.slice(raw.indexOf("\r\n\r\n") + 4)).toBe("hi:ABCDEF<eof>");
    // All in one write.
    const raw2 = (await exchange([head + json + "xyz"], { halfClose: true })).toString();
    expect(raw2.slice(raw2.indexOf("\r\n\r\n") + 4)).toBe("hi:XYZ<eof>");
  });

  it("answers an upgrade request on a route that does not hijack as plain HTTP", async () => {
    const rs = responses(await exchange(["GET /hello HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"]));
    expect(rs[0].status).toBe(200);
    expect(rs[0].headers.connection).toBe("close");
  });

  it("stays up when a client leaves halfway through a body", async () => {
    await exchange(["POST /sum HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n", "partial"], { waitMs: 100 });
    const ok = responses(await exchange(["GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]));
    expect(ok[0].status).toBe(200);
  });
});

// Each write wakes the client: a reply goes out in as few as its shape allows.
describe("a reply's writes", () => {
  const wire = () => {
    const writes: string[] = [];
    return { writes, wire: { write: (d: Uint8Array | string) => (writes.push(Buffer.from(d).toString()), true), destroy: () => {} } as unknown as Wire };
  };

  it("a whole body goes in one write with its head and length", () => {
    const { writes, wire: w } = wire();
    const r = new Reply(w, "POST", true);
    r.statusCode = 201;
    r.setHeader("Content-Type", "application/json");
    r.end('{"Id":"x"}');
    expect(writes).toHaveLength(1);
    expect(writes[0]).toBe('HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"Id":"x"}');
  });

  it("a streamed body: the head with the first chunk, each chunk framed in its own write, the last with the terminator", () => {
    const { writes, wire: w } = wire();
    const r = new Reply(w, "GET", true);
    r.write("one,");
    r.write("");
    r.write("two,");
    r.end("three");
    // (the empty write sends nothing: a zero-length chunk would end the body)
    expect(writes).toEqual([
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\none,\r\n",
      "4\r\ntwo,\r\n",
      "5\r\nthree\r\n0\r\n\r\n",
    ]);
  });

  it("flushed headers (a long poll) go alone, and the answer later in one write with the terminator", () => {
    const { writes, wire: w } = wire();
    const r = new Reply(w, "POST", false);
    r.setHeader("Content-Type", "application/json");
    r.flushHeaders();
    r.end('{"StatusCode":0}\n');
    expect(writes).toEqual([
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
      '11\r\n{"StatusCode":0}\n\r\n0\r\n\r\n',
    ]);
  });

  it("a writer waiting for room is woken when the client leaves", async () => {
    const r = new Reply({ write: () => false, destroy: () => {} } as unknown as Wire, "GET", true);
    expect(r.write("a chunk the client does not read")).toBe(false);
    const woken = new Promise<string>((ok) => r.once("drain", () => ok("drain")));
    r.closed(); // the connection went away
    expect(await Promise.race([woken, Bun.sleep(1000).then(() => "still waiting")])).toBe("drain");
  });

  it("HEAD and 204 carry no body and no framing", () => {
    const a = wire();
    new Reply(a.wire, "HEAD", true).end("ignored");
    expect(a.writes).toEqual(["HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n"]);
    const b = wire();
    const r = new Reply(b.wire, "POST", true);
    r.statusCode = 204;
    r.end();
    expect(b.writes).toEqual(["HTTP/1.1 204 No Content\r\n\r\n"]);
  });
});

describe("the monitor client", () => {
  it("keeps the frames a monitor sent before anyone listened, and reports the close after them", async () => {
    const { monitorApi, frame } = await import("../../src/engine/monitor/api.ts");
    const path = `${tmp}/monitor.sock`;
    // A monitor that says everything and leaves at once: output, the exit frame, close.
    const fake = net.createServer((c) => c.end(Buffer.concat([frame(1, Buffer.from("out")), frame(2, Buffer.from("err")), frame(3, Buffer.alloc(0))])));
    await new Promise<void>((r) => fake.listen(path, r));
    try {
      const conn = await monitorApi.connect(path);
      await Bun.sleep(50); // everything has arrived, and the connection is closed, by now
      const seen: string[] = [];
      const closed = new Promise<void>((r) => conn.onClose(() => (seen.push("close"), r())));
      conn.onFrame((type, payload) => seen.push(`${type}:${payload}`));
      await closed;
      expect(seen).toEqual(["1:out", "2:err", "3:", "close"]);
    } finally {
      fake.close();
    }
  });
});
