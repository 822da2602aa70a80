// GET /events: the ring since `since`, then live events until `until` or the client leaves.
import type { Router } from "../router.ts";
import type { Engine } from "../../engine.ts";
import { badRequest } from "../../errors.ts";
import { matches, type EngineEvent } from "../../events/bus.ts";

function time(v: string | null, name: string): number | undefined {
  if (v === null || v === "") return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)} (want unix seconds)`);
  return n;
}

export function register(r: Router, engine: Engine): void {
  r.get("/events", async (ctx) => {
    const since = time(ctx.query.get("since"), "since");
    const until = time(ctx.query.get("until"), "until");
    const f = ctx.filters();
    const res = ctx.res!;
    res.writeHead(200, { "Content-Type": "application/json" });
    res.flushHeaders();
    const send = (e: EngineEvent) => {
      if (!matches(e, f)) return;
      if (until !== undefined && e.timeNano / 1e9 > until) return;
      res.write(JSON.stringify(e) + "\n");
    };
    if (since !== undefined) for (const e of engine.events.since(since)) send(e);
    const wait = until === undefined ? Infinity : until * 1000 - Date.now();
    if (wait <= 0) return void res.end();
    const unsubscribe = engine.events.subscribe(send);
    await new Promise<void>((resolve) => {
      const timer = wait === Infinity ? undefined : setTimeout(resolve, wait);
      res.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    unsubscribe();
    res.end();
  });
}
