// /containers/…: thin handlers over the container service. Streams (attach, logs, wait) are
// shaped here, since they are about the wire: frames, chunking, when headers are flushed.
import type { Router } from "../router.ts";
import type { Context } from "../context.ts";
import type { Engine } from "../../engine.ts";
import { ApiError, badRequest } from "../../errors.ts";
import { inspectContainer, listItem } from "../../containers/inspect.ts";
import { filterContainers } from "../../containers/list.ts";
import { AttachSession, UPGRADE_HEADERS, parseDetachKeys } from "../../containers/attach.ts";
import { frame } from "../../monitor/api.ts";
import { follow, readAll, type Entry } from "../../logs/jsonfile.ts";
import type { Condition } from "../../containers/service.ts";
import type { ContainerRecord } from "../../containers/store.ts";

function seconds(ctx: Context, name: string): number | undefined {
  const v = ctx.query.get(name);
  if (v === null || v === "" || v === "0") return undefined;
  if (!/^\d+(\.\d+)?$/.test(v)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)} (want unix seconds)`);
  return Number(v);
}

export function register(r: Router, engine: Engine): void {
  const svc = engine.containers;

  r.post("/containers/create", async (ctx) => {
    const body = await ctx.json();
    const res = await svc.create(ctx.query.get("name"), body, ctx.version);
    ctx.res!.writeHead(201, { "Content-Type": "application/json" });
    ctx.res!.end(JSON.stringify(res) + "\n");
  });

  r.get("/containers/json", (ctx) => {
    const list = filterContainers(svc.list(), {
      all: ctx.flag("all"), limit: ctx.int("limit") ?? (ctx.flag("latest") ? 1 : undefined), filters: ctx.filters(),
      find: (ref) => svc.tryFind(ref), isAncestor: (c, ref) => engine.isAncestor(c, ref),
    });
    const size = ctx.flag("size");
    // The name the container was made from while it still names that image; else the image ID
    // (after an rmi -f, or a tag moved to another image), as dockerd shows it.
    const named = new Map<string, string | undefined>();
    const image = (c: (typeof list)[number]) => {
      if (!named.has(c.imageRef)) named.set(c.imageRef, engine.images.service.find(c.imageRef));
      return named.get(c.imageRef) === c.imageId ? c.imageRef : c.imageId;
    };
    return Promise.all(list.map(async (c) => ({ ...listItem(c, size ? await engine.sizes(c) : undefined), Image: image(c) })));
  });

  r.get("/containers/{id}/json", (ctx) => {
    const c = svc.find(ctx.params.id);
    const out = inspectContainer(c, engine.inspectContext(c, ctx.flag("size")));
    // inspect -s: the sizes ps -s shows, at the top level as dockerd puts them
    return ctx.flag("size") ? engine.sizes(c).then((s) => ({ ...out, SizeRw: s.rw, SizeRootFs: s.rootfs })) : out;
  });

  r.post("/containers/{id}/start", async (ctx) => {
    await svc.start(ctx.params.id);
  });

  r.post("/containers/{id}/stop", async (ctx) => {
    await svc.stop(ctx.params.id, ctx.int("t") ?? ctx.int("timeout"), ctx.query.get("signal"));
  });

  r.post("/containers/{id}/restart", async (ctx) => {
    await svc.restart(ctx.params.id, ctx.int("t") ?? ctx.int("timeout"), ctx.query.get("signal"));
  });

  r.post("/containers/{id}/kill", async (ctx) => {
    await svc.kill(ctx.params.id, ctx.query.get("signal"));
  });

  r.post("/containers/{id}/pause", (ctx) => svc.pause(ctx.params.id));
  r.post("/containers/{id}/unpause", (ctx) => svc.unpause(ctx.params.id));

  r.post("/containers/{id}/rename", (ctx) => {
    const name = ctx.query.get("name");
    if (!name) throw badRequest("name is required");
    svc.rename(ctx.params.id, name);
  });

  r.delete("/containers/{id}", async (ctx) => {
    await svc.remove(ctx.params.id, { force: ctx.flag("force"), volumes: ctx.flag("v") });
  });

  r.post("/containers/{id}/wait", async (ctx) => {
    const cond = (ctx.query.get("condition") || "not-running") as Condition;
    if (!["not-running", "next-exit", "removed"].includes(cond)) throw badRequest(`invalid condition: "${cond}"`);
    svc.find(ctx.params.id); // a 404 must be a status, so before the headers go out
    const res = ctx.res!;
    res.writeHead(200, { "Content-Type": "application/json" });
    res.flushHeaders();
    const result = await svc.wait(ctx.params.id, cond, () => ctx.closed);
    if (!ctx.closed) res.end(JSON.stringify(result) + "\n");
  });

  r.post("/containers/{id}/resize", (ctx) => {
    const c = svc.find(ctx.params.id);
    const h = ctx.int("h"), w = ctx.int("w");
    if (h === undefined || w === undefined || h < 0 || w < 0) throw badRequest("resize needs h and w");
    if (!c.state.Running) throw badRequest(`cannot resize container ${c.id}: it is not running`);
    engine.resize(c, h, w);
    ctx.res!.writeHead(200, { "Content-Length": 0 });
    ctx.res!.end();
  });

  r.add("POST", "/containers/{id}/attach", (ctx) => attach(engine, ctx), { hijack: true });

  r.get("/containers/{id}/logs", (ctx) => logs(engine, ctx));

  r.get("/containers/{id}/export", async (ctx) => {
    const c = svc.find(ctx.params.id);
    const stream = await engine.exportRootfs(c);
    const res = ctx.res!;
    res.writeHead(200, { "Content-Type": "application/x-tar" });
    for await (const chunk of stream) {
      if (ctx.closed) break;
      if (!res.write(chunk)) await new Promise((ok) => res.once("drain", ok));
    }
    res.end();
  });

  r.post("/containers/prune", async (ctx) => {
    const deleted: string[] = [];
    const f = ctx.filters();
    for (const c of svc.list()) {
      if (c.state.Running) continue;
      if (!(f.get("label") ?? []).every((l) => {
        const i = l.indexOf("=");
        const labels = c.config.Labels ?? {};
        return i < 0 ? l in labels : labels[l.slice(0, i)] === l.slice(i + 1);
      })) continue;
      const until = f.get("until")?.[0];
      if (until && Date.parse(c.created) / 1000 >= (Number(until) || Date.parse(until) / 1000)) continue;
      await svc.remove(c.id, { force: false, volumes: false }).then(() => deleted.push(c.id)).catch(() => {});
    }
    return { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: 0 };
  });
}

async function attach(engine: Engine, ctx: Context): Promise<void> {
  const svc = engine.containers;
  const c = svc.find(ctx.params.id);
  let detachKeys: number[] | undefined;
  try {
    detachKeys = parseDetachKeys(ctx.query.get("detachKeys"));
  } catch (e) {
    throw badRequest((e as Error).message);
  }
  const out = ctx.socket;
  if (!out) {
    // A client that did not ask to upgrade (curl, some libraries): output only, as a plain stream.
    throw badRequest("attach needs a hijacked connection: send Connection: Upgrade and Upgrade: tcp");
  }
  out.write(UPGRADE_HEADERS);
  const session = new AttachSession(out, {
    stdin: ctx.flag("stdin"), stdout: ctx.flag("stdout"), stderr: ctx.flag("stderr"), tty: !!c.config.Tty,
    stdinOnce: !!c.config.StdinOnce, detachKeys,
  });
  if (ctx.flag("logs")) {
    const { entries } = readAll(svc.logPath(c.id), { stdout: ctx.flag("stdout"), stderr: ctx.flag("stderr") });
    for (const e of entries) out.write(c.config.Tty ? e.log : frame(e.stream === "stderr" ? 2 : 1, Buffer.from(e.log)));
  }
  if (!ctx.flag("stream")) {
    session.finish(false, true);
    return;
  }
  await engine.attachWhenRunning(c, session);
  await session.done;
}

async function logs(engine: Engine, ctx: Context): Promise<void> {
  const svc = engine.containers;
  const c = svc.find(ctx.params.id);
  const stdout = ctx.flag("stdout"), stderr = ctx.flag("stderr");
  if (!stdout && !stderr) throw badRequest("Bad parameters: you must choose at least one stream");
  if (!svc.logsRead(c)) throw new ApiError(501, "configured logging driver does not support reading");
  // tail: a count; anything else ("all", garbage) is everything, as dockerd reads it
  const tailQ = ctx.query.get("tail");
  const tail = tailQ && /^\d+$/.test(tailQ) ? Number(tailQ) : undefined;
  // details: the log's attributes before each line; berthd records none, so only the space
  const details = ctx.flag("details") ? " " : "";
  const opts = { stdout, stderr, since: seconds(ctx, "since"), until: seconds(ctx, "until"), tail };
  const timestamps = ctx.flag("timestamps");
  const tty = !!c.config.Tty;
  const res = ctx.res!;
  res.writeHead(200, {});
  const send = (e: Entry) => {
    const text = (timestamps ? `${e.time} ` : "") + details + e.log;
    const payload = Buffer.from(text);
    res.write(tty ? payload : frame(e.stream === "stderr" ? 2 : 1, payload));
  };
  const path = svc.logPath(c.id);
  const first = readAll(path, opts);
  for (const e of first.entries) send(e);
  const untilPassed = () => opts.until !== undefined && Date.now() / 1000 >= opts.until;
  if (ctx.flag("follow") && !untilPassed()) {
    const current = () => svc.byId.get(c.id) as ContainerRecord | undefined;
    await follow(path, { ...opts, tail: undefined }, first, send, () => !current()?.state.Running || untilPassed(), () => ctx.closed);
  }
  res.end();
}
