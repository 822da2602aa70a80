// /containers/{id}/exec and /exec/{id}/…: docker exec.
import type { Router } from "../router.ts";
import type { Engine } from "../../engine.ts";
import { badRequest } from "../../errors.ts";
import { AttachSession, UPGRADE_HEADERS, parseDetachKeys } from "../../containers/attach.ts";

export function register(r: Router, engine: Engine): void {
  const ex = engine.execs;
  r.post("/containers/{id}/exec", async (ctx) => {
    const res = ex.create(ctx.params.id, await ctx.json());
    ctx.res!.writeHead(201, { "Content-Type": "application/json" });
    ctx.res!.end(JSON.stringify(res) + "\n");
  });

  r.add("POST", "/exec/{id}/start", async (ctx) => {
    const body = await ctx.json();
    const e = ex.get(ctx.params.id);
    const detach = !!body.Detach;
    if (detach || !ctx.socket) {
      await ex.start(e.id, { detach: true });
      if (ctx.res) {
        ctx.res.writeHead(200, { "Content-Length": 0 });
        ctx.res.end();
      } else ctx.socket!.end("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    let detachKeys: number[] | undefined;
    try {
      detachKeys = parseDetachKeys(e.config.DetachKeys);
    } catch (err) {
      throw badRequest((err as Error).message);
    }
    const tty = typeof body.Tty === "boolean" ? body.Tty : !!e.config.Tty;
    const sock = ctx.socket;
    sock.write(UPGRADE_HEADERS);
    const session = new AttachSession(sock, {
      stdin: !!e.config.AttachStdin, stdout: e.config.AttachStdout !== false, stderr: e.config.AttachStderr !== false,
      tty, stdinOnce: true, detachKeys,
    });
    await ex.start(e.id, { detach: false, tty, session });
    await session.done;
  }, { hijack: true });

  r.post("/exec/{id}/resize", (ctx) => {
    const h = ctx.int("h"), w = ctx.int("w");
    if (h === undefined || w === undefined) throw badRequest("resize needs h and w");
    ex.resize(ctx.params.id, h, w);
    ctx.res!.writeHead(200, { "Content-Length": 0 });
    ctx.res!.end();
  });

  r.get("/exec/{id}/json", (ctx) => ex.inspect(ctx.params.id));
}
