// The image service (src/engine/images): references, import with --change, tag/rmi with
// dockerd's conflict rules, list filters, inspect/history shapes, prune, load/save round trips
// (docker-archive, OCI layout, gzip layers), hostile archives, and orphan sweeping on open.
import { describe, expect, test, afterAll } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import zlib from "node:zlib";
import crypto from "node:crypto";
import type { TarHeader as Headers } from "../../src/engine/archive/pack.ts";
import { familiar, parseNamed, fullString, withDefaultTag } from "../../src/engine/images/reference.ts";
import { applyChanges } from "../../src/engine/images/config.ts";
import { packDir, packStream } from "../../src/engine/archive/pack.ts";
import { ApiError } from "../../src/engine/errors.ts";
import { BUSYBOX, makeRootfs } from "../helpers/rootfs.ts";
import { imageServiceAt } from "../helpers/images.ts";

const work = fs.mkdtempSync(`${os.tmpdir()}/berth-images-svc-`);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
let n = 0;

const newService = (root = `${work}/root${++n}`) => imageServiceAt(root);

export async function bytesOf(r: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

type E = [Partial<Headers> & { name: string }, (string | Uint8Array)?];
export const tarOf = (entries: E[]) => bytesOf(packStream(async (add) => {
  for (const [h, body] of entries) await add({ type: "file", mode: 0o644, mtime: new Date(1e12), ...h } as Headers, body ?? (h.type && h.type !== "file" ? undefined : ""));
}));
const sha = (b: Uint8Array | string) => `sha256:${crypto.createHash("sha256").update(b).digest("hex")}`;

let busyboxTar: Buffer | undefined;
async function busybox(): Promise<Buffer> {
  if (!busyboxTar) {
    const d = `${work}/busybox-rootfs`;
    makeRootfs(d);
    busyboxTar = await bytesOf(packDir(d));
  }
  return busyboxTar;
}
const small = (tag: string) => tarOf([[{ name: "f" }, tag]]);
const err = async (p: Promise<unknown> | (() => unknown)) => {
  try { await (typeof p === "function" ? p() : p); } catch (e) { return e as ApiError; }
  throw new Error("expected an error");
};

describe("references", () => {
  test("normalise and show like docker", () => {
    const cases: [string, string, string][] = [
      ["busybox", "docker.io/library/busybox:latest", "busybox:latest"],
      ["me/app:v1", "docker.io/me/app:v1", "me/app:v1"],
      ["127.0.0.1:5000/apimap/busybox:test", "127.0.0.1:5000/apimap/busybox:test", "127.0.0.1:5000/apimap/busybox:test"],
      ["localhost/x", "localhost/x:latest", "localhost/x:latest"],
      ["docker.io/library/alpine:3", "docker.io/library/alpine:3", "alpine:3"],
    ];
    for (const [input, full, fam] of cases) {
      const f = fullString(withDefaultTag(parseNamed(input)));
      expect(f).toBe(full);
      expect(familiar(f)).toBe(fam);
    }
    for (const bad of ["Busybox", "a:b:c", "-x", "x/", ""]) expect(() => parseNamed(bad)).toThrow(/invalid reference format/);
    expect(() => parseNamed("a".repeat(64).replace(/a/g, "b"))).toThrow(/64-byte hexadecimal/);
  });

  test("--change lines parse as Dockerfile instructions (JSON and shell forms)", () => {
    const c = applyChanges({}, ['CMD ["sh"]', "ENTRYPOINT /bin/echo hi", "ENV A=1 B=\"two words\"", "ENV C $A-x", "WORKDIR /srv",
      "WORKDIR sub", "USER 1000:1000", "EXPOSE 80 53/udp", "LABEL a=b \"c d\"=e", "VOLUME [\"/data\"]", "VOLUME /x /y"]);
    expect(c.Cmd).toEqual(["sh"]);
    expect(c.Entrypoint).toEqual(["/bin/sh", "-c", "/bin/echo hi"]);
    expect(c.Env).toEqual(["A=1", "B=two words", "C=1-x"]);
    expect(c.WorkingDir).toBe("/srv/sub");
    expect(c.User).toBe("1000:1000");
    expect(c.ExposedPorts).toEqual({ "80/tcp": {}, "53/udp": {} });
    expect(c.Labels).toEqual({ a: "b", "c d": "e" });
    expect(c.Volumes).toEqual({ "/data": {}, "/x": {}, "/y": {} });
    expect(() => applyChanges({}, ["FROM busybox"])).toThrow(/from is not a valid change command/);
    expect(() => applyChanges({}, ["EXPOSE eighty"])).toThrow(/invalid containerPort: eighty/);
  });

  test("--change: HEALTHCHECK, EXPOSE ranges, empty CMD/ENTRYPOINT, and dockerd's error words", () => {
    const c = applyChanges({ Entrypoint: ["x"] }, ["HEALTHCHECK --interval=1m30s --retries=3 CMD curl -f http://x/", "EXPOSE 8000-8002/udp", "CMD", "ENTRYPOINT"]);
    expect(c.Healthcheck).toEqual({ Interval: 90e9, Retries: 3, Test: ["CMD-SHELL", "curl -f http://x/"] });
    expect(Object.keys(c.ExposedPorts!)).toEqual(["8000/udp", "8001/udp", "8002/udp"]);
    expect(c.Cmd).toEqual(["/bin/sh", "-c"]);
    expect(c.Entrypoint).toBeUndefined();
    expect(applyChanges({}, ['HEALTHCHECK CMD ["true"]']).Healthcheck).toEqual({ Test: ["CMD", "true"] });
    expect(applyChanges({}, ["HEALTHCHECK NONE"]).Healthcheck).toEqual({ Test: ["NONE"] });
    const words: [string, string][] = [
      ["RUN x", "run is not a valid change command"], ["EXPOSE", "EXPOSE requires at least one argument"],
      ["EXPOSE 99999", "invalid containerPort: 99999"], ["ENV", "ENV requires at least one argument"],
      ["ENV A", "ENV must have two arguments"], ["ENV A=1 B", `Syntax error - can't find = in "B". Must be of the form: name=value`],
      ["WORKDIR", "WORKDIR requires exactly one argument"], ["USER a b", "USER requires exactly one argument"],
      ["VOLUME", "VOLUME requires at least one argument"], ["ONBUILD ONBUILD x", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"],
      ["ONBUILD FROM x", "FROM isn't allowed as an ONBUILD trigger"], ["HEALTHCHECK --interval=soon CMD x", 'time: invalid duration "soon" for --interval'],
    ];
    for (const [line, msg] of words) expect(() => applyChanges({}, [line])).toThrow(msg);
    expect(() => applyChanges({}, [""])).toThrow("file with no instructions");
    expect(applyChanges({}, [])).toEqual({});
  });
});

describe("import, inspect, history, list", () => {
  test.if(!!BUSYBOX)("import a busybox rootfs as busybox:latest with --change; ID is the config's sha256", async () => {
    const { svc, root } = newService();
    const id = await svc.importTar(await busybox(), { repo: "busybox", changes: ['CMD ["sh"]', "LABEL x=y"] });
    expect(id).toMatch(/^sha256:[a-f0-9]{64}$/);
    const blob = fs.readFileSync(`${root}/image/blobs/sha256/${id.slice(7)}`);
    expect(sha(blob)).toBe(id);
    const ins = svc.inspect("busybox") as any;
    expect(ins.Id).toBe(id);
    expect(ins.RepoTags).toEqual(["busybox:latest"]);
    expect(ins.Config.Cmd).toEqual(["sh"]);
    expect(ins.Config.Labels).toEqual({ x: "y" });
    expect(ins.Config.Env).toBeNull();
    expect(ins.RootFS.Layers).toHaveLength(1);
    expect(ins.Size).toBeGreaterThan(fs.statSync(BUSYBOX!).size - 1);
    expect(ins.Comment).toBe("Imported from -");
    const layer = `${root}/layers/${ins.RootFS.Layers[0].slice(7)}`;
    expect(fs.statSync(`${layer}/bin/busybox`).mode & 0o777).toBe(0o755);
    expect(fs.readlinkSync(`${layer}/bin/sh`)).toBe("busybox");
    // short ID, full ID and sha256: forms all resolve
    for (const r of [id, id.slice(7), id.slice(7, 19), `sha256:${id.slice(7, 15)}`]) expect(svc.get(r)).toBe(id);
    const h = svc.history("busybox:latest") as any[];
    expect(h).toHaveLength(1);
    expect(h[0]).toMatchObject({ Id: id, Tags: ["busybox:latest"], Comment: "Imported from -" });
    expect(h[0].Size).toBe(ins.Size);
    const l = svc.list();
    expect(l).toHaveLength(1);
    expect(l[0]).toMatchObject({ Id: id, RepoTags: ["busybox:latest"], RepoDigests: null, Labels: { x: "y" }, Containers: -1, SharedSize: -1 });
  });

  test("unknown images are 404 with docker's wording; bad references 400", async () => {
    const { svc } = newService();
    expect((await err(() => svc.inspect("nosuch"))).message).toBe("No such image: nosuch:latest");
    expect((await err(() => svc.inspect("nosuch"))).status).toBe(404);
    expect((await err(() => svc.tag("nosuch", "x"))).status).toBe(404);
    expect((await err(svc.importTar(await small("a"), { repo: "Bad:Name" }))).status).toBe(400);
  });

  test("filters: dangling, label, reference, before/since; unknown filter is a 400", async () => {
    const { svc } = newService();
    const a = await svc.importTar(await small("a"), { repo: "alpha:1", changes: ["LABEL team=red"] });
    await Bun.sleep(1100); // Created has one-second resolution, before/since compare it
    const b = await svc.importTar(await small("b"), { repo: "beta:1", changes: ["LABEL team=blue"] });
    await Bun.sleep(1100);
    const c = await svc.importTar(await small("c"), { repo: "alpha:2" });
    await svc.importTar(await small("c2"), { repo: "alpha:2" }); // moves alpha:2: c becomes dangling
    const ids = (f: any) => svc.list({ filters: f }).map((x: any) => x.Id).sort();
    expect(ids({ dangling: { true: true } })).toEqual([c]);
    expect(svc.list({ filters: { dangling: ["true"] } })[0]).toMatchObject({ RepoTags: ["<none>:<none>"], RepoDigests: ["<none>@<none>"] });
    expect(ids({ dangling: { false: true } })).not.toContain(c);
    expect(ids({ label: { "team=red": true } })).toEqual([a]);
    expect(ids({ label: ["team"] })).toEqual([a, b].sort());
    expect(ids({ reference: { "alpha": true } }).length).toBe(2);
    expect(ids({ reference: { "be*": true } })).toEqual([b]);
    expect(ids(JSON.stringify({ before: { "beta:1": true } }))).toEqual([a]);
    expect(ids({ since: { "beta:1": true } })).toContain(c);
    expect(ids({ since: { "beta:1": true } })).not.toContain(a);
    expect((await err(() => svc.list({ filters: { bogus: ["x"] } }))).message).toBe("invalid filter 'bogus'");
  });
});

describe("tag, rmi, prune", () => {
  test("rmi of one of several tags only untags; by ID with several tags is 409 unless forced", async () => {
    const { svc, root } = newService();
    const id = await svc.importTar(await small("x"), { repo: "one" });
    svc.tag("one", "two", "t");
    svc.tag(id.slice(7, 19), "127.0.0.1:5000/x/y");
    expect(svc.inspect(id).RepoTags).toEqual(["127.0.0.1:5000/x/y:latest", "one:latest", "two:t"]);
    expect(svc.remove("two:t")).toEqual([{ Untagged: "two:t" }]);
    const e = await err(() => svc.remove(id.slice(7, 19)));
    expect(e.status).toBe(409);
    expect(e.message).toBe(`conflict: unable to delete ${id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`);
    const layer = (svc.inspect(id) as any).RootFS.Layers[0].slice(7);
    const r = svc.remove(id, { force: true });
    expect(r.slice(0, 3)).toEqual([{ Untagged: "127.0.0.1:5000/x/y:latest" }, { Untagged: "one:latest" }, { Deleted: id }]);
    expect(r[3]).toEqual({ Deleted: `sha256:${layer}` });
    expect(fs.existsSync(`${root}/layers/${layer}`)).toBe(false);
    expect(fs.existsSync(`${root}/image/blobs/sha256/${id.slice(7)}`)).toBe(false);
    expect((await err(() => svc.remove("one"))).status).toBe(404);
  });

  test("an image a container uses: 409 by name unless forced; running container keeps it even when forced", async () => {
    const { svc } = newService();
    const id = await svc.importTar(await small("x"), { repo: "used" });
    const stopped = () => ({ containerId: "c0ffee".repeat(10), running: false });
    const e = await err(() => svc.remove("used", { inUse: stopped }));
    expect(e.status).toBe(409);
    expect(e.message).toBe(`conflict: unable to remove repository reference "used" (must force) - container c0ffeec0ffee is using its referenced image ${id.slice(7, 19)}`);
    expect((await err(() => svc.remove(id, { inUse: stopped }))).message).toMatch(/\(must be forced\) - image is being used by stopped container c0ffeec0ffee$/);
    const running = () => ({ containerId: "abc", running: true });
    expect((await err(() => svc.remove(id, { inUse: running, force: true }))).message).toMatch(/\(cannot be forced\) - image is being used by running container abc$/);
    expect(svc.remove("used", { inUse: running, force: true })).toEqual([{ Untagged: "used:latest" }]);
    expect(svc.find(id)).toBe(id); // dangling now
    svc.tag(id, "used");
    expect(svc.remove("used", { inUse: stopped, force: true }).map((x) => Object.keys(x)[0])).toEqual(["Untagged", "Deleted", "Deleted"]);
  });

  test("layers shared by two images stay until the last one goes", async () => {
    const { svc, root } = newService();
    const t = await small("same");
    const a = await svc.importTar(t, { repo: "a", changes: ["CMD a"] });
    const b = await svc.importTar(t, { repo: "b", changes: ["CMD b"] });
    expect(a).not.toBe(b);
    const layer = (svc.inspect(a) as any).RootFS.Layers[0].slice(7);
    expect(svc.remove("a")).toEqual([{ Untagged: "a:latest" }, { Deleted: a }]);
    expect(fs.existsSync(`${root}/layers/${layer}`)).toBe(true);
    expect(svc.remove("b").at(-1)).toEqual({ Deleted: `sha256:${layer}` });
    expect(fs.existsSync(`${root}/layers/${layer}`)).toBe(false);
  });

  test("prune removes dangling images and reports the space; dangling=false removes unused tagged ones", async () => {
    const { svc } = newService();
    const old = await svc.importTar(await small("old"), { repo: "p" });
    const cur = await svc.importTar(await small("new!"), { repo: "p" });
    const keep = await svc.importTar(await small("keep"), { repo: "k" });
    const r = svc.prune({ filters: { dangling: { true: true } } });
    expect(r.ImagesDeleted![0]).toEqual({ Deleted: old });
    expect(r.SpaceReclaimed).toBe(3);
    expect(svc.prune({}).ImagesDeleted).toBeNull();
    const r2 = svc.prune({ filters: { dangling: ["false"] }, inUse: (id) => id === keep });
    expect(r2.ImagesDeleted).toContainEqual({ Untagged: "p:latest" });
    expect(r2.ImagesDeleted).toContainEqual({ Deleted: cur });
    expect(svc.list().map((x: any) => x.Id)).toEqual([keep]);
  });
});

test("events, count and layer sizes for the daemon", async () => {
  const { svc } = newService();
  const seen: string[] = [];
  svc.onEvent = (e) => seen.push(`${e.Action} ${e.name ?? ""}`.trim());
  const id = await svc.importTar(await small("abc"), { repo: "ev" });
  svc.tag("ev", "ev2");
  svc.remove("ev2");
  svc.remove("ev");
  expect(seen).toEqual(["import ev:latest", "tag ev2:latest", "untag ev2:latest", "untag ev:latest", "delete"]);
  expect(svc.count()).toBe(0);
  await svc.importTar(await small("abcd"));
  expect([svc.count(), svc.layersSize()]).toEqual([1, 4]);
  void id;
});

test("concurrent imports of one tarball share one layer; a source failing mid-stream leaves nothing", async () => {
  const { svc, root } = newService();
  const t = await tarOf([[{ name: "big" }, Buffer.alloc(300_000, 7)]]);
  const ids = await Promise.all([1, 2, 3].map((i) => svc.importTar(t, { repo: `c${i}`, changes: [`CMD c${i}`] })));
  expect(new Set(ids).size).toBe(3);
  expect(fs.readdirSync(`${root}/layers`)).toHaveLength(1);
  const before = [...fs.readdirSync(`${root}/layers`), ...fs.readdirSync(`${root}/image/blobs/sha256`)].sort();
  async function* dying() { yield t.subarray(0, 100_000); throw new Error("client went away"); }
  const e = await err(svc.importTar(dying(), { repo: "dead" }));
  expect(e.message).toMatch(/client went away/);
  expect([...fs.readdirSync(`${root}/layers`), ...fs.readdirSync(`${root}/image/blobs/sha256`)].sort()).toEqual(before);
  expect(fs.readdirSync(`${root}/image/tmp`)).toEqual([]);
  expect(svc.find("dead")).toBeUndefined();
});
