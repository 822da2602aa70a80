// /images/…: import, load, save, list, inspect, history, tag, rmi, prune. The image service does
// the work; these handlers read the request and shape the stream on the wire.
import type { Router } from "../router.ts";
import type { Context } from "../context.ts";
import type { Engine } from "../../engine.ts";
import { ApiError, badRequest } from "../../errors.ts";

/** The request body as a stream (chunked or not; the content type is not trusted). */
async function* body(ctx: Context): AsyncIterable<Uint8Array> {
  for await (const c of ctx.req) yield c as Uint8Array;
}

function startJsonStream(ctx: Context) {
  const res = ctx.res!;
  res.writeHead(200, { "Content-Type": "application/json" });
  return (msg: unknown) => res.write(JSON.stringify(msg) + "\r\n");
}

async function pipeOut(ctx: Context, contentType: string, stream: AsyncIterable<Uint8Array>): Promise<void> {
  const res = ctx.res!;
  res.writeHead(200, { "Content-Type": contentType });
  for await (const chunk of stream) {
    if (ctx.closed) break;
    if (!res.write(chunk)) await new Promise((ok) => res.once("drain", ok));
  }
  res.end();
}

export function register(r: Router, engine: Engine): void {
  const images = engine.images;

  r.post("/images/create", async (ctx) => {
    const src = ctx.query.get("fromSrc");
    if (src === null) {
      const from = ctx.query.get("fromImage") ?? "";
      const tag = ctx.query.get("tag");
      const ref = tag && !from.includes("@") ? `${from}:${tag}` : from;
      throw new ApiError(404, `pulling ${ref} is not supported yet: berthd has no registry client; bring images in with docker load or docker import`);
    }
    if (src !== "-") throw badRequest("import from a URL is not supported: pipe the tarball (docker import - or a file)");
    // repo may carry its own tag; a separate tag= wins over it (dockerd's RepoTagReference)
    const repo = ctx.query.get("repo") ?? "";
    const id = await images.importTar(body(ctx), {
      ref: repo || undefined, tag: ctx.query.get("tag") || undefined, changes: ctx.query.getAll("changes"), message: ctx.query.get("message") ?? "",
    });
    const send = startJsonStream(ctx);
    send({ status: id });
    ctx.res!.end();
  });

  r.post("/images/load", async (ctx) => {
    // (quiet=1 changes nothing: one message per image either way, no progress bar to suppress)
    let loaded: string[];
    try {
      loaded = await images.load(body(ctx));
    } catch (e) {
      // dockerd answers 200 and puts the failure in the stream, where the CLI and docker-py
      // (ImageLoadError) look for it
      const message = e instanceof ApiError ? e.message : String((e as Error).message ?? e);
      startJsonStream(ctx)({ errorDetail: { message }, error: message });
      ctx.res!.end();
      return;
    }
    const send = startJsonStream(ctx);
    for (const line of loaded) send({ stream: `${line}\n` });
    ctx.res!.end();
  });

  r.get("/images/get", async (ctx) => {
    const names = ctx.query.getAll("names"); // none: an empty archive, as dockerd sends
    const stream = images.save(names); // resolves every name first: an unknown one is a 404 before streaming
    await pipeOut(ctx, "application/x-tar", await stream);
  });

  r.get("/images/{name:.*}/get", async (ctx) => {
    await pipeOut(ctx, "application/x-tar", await images.save([ctx.params.name]));
  });

  // Fields an API version dropped stay for the clients that still speak it (docker-py 5: 1.41).
  r.get("/images/json", (ctx) => {
    const list = images.list({ all: ctx.flag("all"), digests: ctx.flag("digests"), filters: ctx.filters() });
    if (ctx.atLeast("1.44")) {
      for (const i of list as Record<string, unknown>[]) {
        delete i.VirtualSize;
        i.RepoDigests ??= []; // a tagged image without digests: [] where older engines said null
      }
    }
    return list;
  });

  r.get("/images/{name:.*}/json", (ctx) => {
    const i = images.inspect(ctx.params.name) as Record<string, unknown>;
    if (ctx.atLeast("1.44")) delete i.VirtualSize;
    if (ctx.atLeast("1.45")) { delete i.Container; delete i.ContainerConfig; }
    return i;
  });

  r.get("/images/{name:.*}/history", (ctx) => images.history(ctx.params.name));

  r.post("/images/{name:.*}/tag", (ctx) => {
    const repo = ctx.query.get("repo");
    if (!repo) throw badRequest("repository name must have at least one component");
    images.tag(ctx.params.name, repo, ctx.query.get("tag") || undefined); // repo=name:tag alone names the tag
    ctx.res!.writeHead(201, { "Content-Length": 0 });
    ctx.res!.end();
  });

  r.delete("/images/{name:.*}", (ctx) =>
    images.remove(ctx.params.name, { force: ctx.flag("force"), noprune: ctx.flag("noprune") }),
  );

  r.post("/images/prune", (ctx) => images.prune(ctx.filters()));

  r.get("/images/search", () => {
    throw new ApiError(501, "image search needs a registry, and berthd has no registry client yet");
  });
}
