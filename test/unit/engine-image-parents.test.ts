// Parent links between images (docker load's manifest "Parent"), and what dockerd does with
// them: history names the chain, an untagged parent is an intermediate image (hidden without
// -a, never dangling), a parent cannot be deleted while it has children, and deleting a child
// prunes the untagged parents it leaves behind (unless noprune).
import { describe, expect, test, afterAll } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import crypto from "node:crypto";
import type { TarHeader as Headers } from "../../src/engine/archive/pack.ts";
import { ImageService } from "../../src/engine/images/index.ts";
import { packStream } from "../../src/engine/archive/pack.ts";
import type { ApiError } from "../../src/engine/errors.ts";
import { bytesOf, tarOf, type TarEntry } from "../helpers/tar.ts";
import { imageServiceAt } from "../helpers/images.ts";

const work = fs.mkdtempSync(`${os.tmpdir()}/berth-image-parents-`);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
let n = 0;
const newService = () => imageServiceAt(`${work}/root${++n}`).svc;
type E = TarEntry;
const sha = (b: Uint8Array | string) => `sha256:${crypto.createHash("sha256").update(b).digest("hex")}`;
const err = async (p: () => unknown) => {
  try { await p(); } catch (e) { return e as ApiError; }
  throw new Error("expected an error");
};

/** base ← two ← three, each a layer and a history step more than its parent (a build's chain). */
async function chain(o: { parents?: boolean; badHistory?: boolean } = {}) {
  const layers = [await tarOf([[{ name: "a" }, "a"]]), await tarOf([[{ name: "b" }, "b"]]), await tarOf([[{ name: "c" }, "c"]])];
  const hist = ["FROM scratch", "ADD b", "ADD c"].map((c, i) => ({ created: `2024-01-0${i + 1}T00:00:00Z`, created_by: c }));
  const cfg = (k: number) => JSON.stringify({
    architecture: "amd64", os: "linux", created: `2024-01-0${k}T00:00:00Z`, config: { Cmd: ["sh"] },
    rootfs: { type: "layers", diff_ids: layers.slice(0, k).map(sha) },
    history: hist.slice(0, k).map((h, i) => (o.badHistory && k === 3 && i === 0 ? { ...h, created_by: "other" } : h)),
  });
  const configs = [cfg(1), cfg(2), cfg(3)];
  const ids = configs.map(sha);
  const names = ["base:1", "two:1", "three:1"];
  const archive = await tarOf([
    ...layers.map((l, i) => [{ name: `l${i}.tar` }, l] as E),
    ...configs.map((c, i) => [{ name: `c${i}.json` }, c] as E),
    [{ name: "manifest.json" }, JSON.stringify(configs.map((_, i) => ({
      Config: `c${i}.json`, RepoTags: [names[i]], Layers: layers.slice(0, i + 1).map((_, j) => `l${j}.tar`),
      ...(o.parents !== false && i > 0 ? { Parent: ids[i - 1] } : {}),
    })))],
  ]);
  return { archive, ids };
}

const listed = (svc: ImageService, o: Parameters<ImageService["list"]>[0] = {}) =>
  svc.list(o).map((i) => `${(i.RepoTags as string[])[0]} ${String(i.Id).slice(7, 12)}`);

describe("parent links", () => {
  test("load keeps the archive's Parent links: inspect, list and history name the chain", async () => {
    const svc = newService();
    const { archive, ids } = await chain();
    await svc.load(archive);
    expect(svc.inspect("three:1").Parent).toBe(ids[1]);
    expect(svc.inspect("two:1").Parent).toBe(ids[0]);
    expect(svc.inspect("base:1").Parent).toBe("");
    expect(svc.list().find((i) => i.Id === ids[2])!.ParentId).toBe(ids[1]);
    const h = svc.history("three:1") as { Id: string; Tags: string[] | null }[];
    expect(h.map((x) => x.Id)).toEqual([ids[2], ids[1], ids[0]]);
    expect(h.map((x) => x.Tags)).toEqual([["three:1"], ["two:1"], ["base:1"]]);
  });

  test("without links (or with a parent whose history is not the child's but one step) history says <missing>", async () => {
    for (const o of [{ parents: false }, { badHistory: true }]) {
      const svc = newService();
      const { archive, ids } = await chain(o);
      await svc.load(archive);
      expect(svc.inspect("three:1").Parent).toBe("");
      expect((svc.history("three:1") as { Id: string }[]).map((x) => x.Id)).toEqual([ids[2], "<missing>", "<missing>"]);
      // (the valid link two → base still holds with a bad three)
      if (o.badHistory) expect(svc.inspect("two:1").Parent).toBe(ids[0]);
    }
  });

  test("an untagged parent stays as an intermediate image: hidden without -a, not dangling", async () => {
    const svc = newService();
    const { archive, ids } = await chain();
    await svc.load(archive);
    expect(svc.remove("base:1")).toEqual([{ Untagged: "base:1" }]);
    expect(svc.store.has(ids[0])).toBe(true);
    expect(listed(svc)).toEqual(["three:1 " + ids[2].slice(7, 12), "two:1 " + ids[1].slice(7, 12)]);
    expect(listed(svc, { all: true })).toContain("<none>:<none> " + ids[0].slice(7, 12));
    expect(svc.list({ filters: { dangling: ["true"] } })).toEqual([]);
    // nor does prune take it
    expect(svc.prune().ImagesDeleted).toBeNull();
  });

  test("a parent cannot be deleted while it has children, not even with -f", async () => {
    const svc = newService();
    const { archive, ids } = await chain();
    await svc.load(archive);
    for (const force of [false, true]) {
      const e = await err(() => svc.remove(ids[0].slice(7, 19), { force }));
      expect([e.status, e.message]).toEqual([409, `conflict: unable to delete ${ids[0].slice(7, 19)} (cannot be forced) - image has dependent child images`]);
    }
    expect(svc.inspect("base:1").RepoTags).toEqual(["base:1"]);
  });

  test("deleting a child prunes the untagged parents it leaves, unless noprune", async () => {
    for (const noprune of [false, true]) {
      const svc = newService();
      const { archive, ids } = await chain();
      await svc.load(archive);
      svc.remove("base:1");
      svc.remove("two:1"); // two has a child (three): untagged, kept
      expect(svc.store.has(ids[1])).toBe(true);
      const out = svc.remove("three:1", { noprune });
      expect(out.filter((r) => r.Deleted === ids[2] || r.Deleted === ids[1] || r.Deleted === ids[0]).map((r) => r.Deleted))
        .toEqual(noprune ? [ids[2]] : [ids[2], ids[1], ids[0]]);
      expect(out[0]).toEqual({ Untagged: "three:1" });
      expect(svc.store.allIds().length).toBe(noprune ? 2 : 0);
    }
  });

  test("a tagged parent is not pruned with its child; a parent a container uses is not either", async () => {
    const svc = newService();
    const { archive, ids } = await chain();
    await svc.load(archive);
    svc.remove("base:1");
    const inUse = (id: string) => (id === ids[0] ? { containerId: "c".repeat(64), running: false } : undefined);
    svc.remove("three:1", { inUse });
    svc.remove("two:1", { inUse });
    expect(svc.store.allIds()).toEqual([ids[0]]); // two went; base stayed for the container
    expect(svc.store.has(ids[1])).toBe(false);
  });

  test("prune -a deletes heads first and their parents with them; what a container uses stays", async () => {
    const svc = newService();
    const { archive, ids } = await chain();
    await svc.load(archive);
    const inUse = (id: string) => (id === ids[1] ? { containerId: "d".repeat(64), running: true } : undefined);
    const r = svc.prune({ filters: { dangling: ["false"] }, inUse });
    expect(r.ImagesDeleted!.filter((x) => x.Deleted === ids[2])).toHaveLength(1);
    expect(svc.store.has(ids[1])).toBe(true); // in use by a running container
    expect(svc.store.has(ids[0])).toBe(true); // the parent of what stays
  });

  test("save writes Parent when the parent goes in the same archive; a fresh store keeps the link", async () => {
    const a = newService();
    const { archive, ids } = await chain();
    await a.load(archive);
    const b = newService();
    await b.load(await bytesOf(a.save(["two:1", "base:1"])));
    expect(b.inspect("two:1").Parent).toBe(ids[0]);
    const c = newService();
    await c.load(await bytesOf(a.save(["three:1"])));
    expect(c.inspect("three:1").Parent).toBe("");
  });
});

describe("image API details", () => {
  test("tag with repo=name:tag and no tag keeps that tag; a separate tag wins; sha256 is no name", async () => {
    const svc = newService();
    const id = await svc.importTar(await tarOf([[{ name: "x" }, "x"]]), { repo: "a" });
    svc.tag(id, "zz:t1");
    svc.tag(id, "yy:t1", "t2");
    expect(svc.inspect(id).RepoTags).toEqual(["a:latest", "yy:t2", "zz:t1"]);
    const e = await err(() => svc.tag(id, `sha256:${"0".repeat(64)}`));
    expect([e.status, e.message]).toEqual([400, "refusing to create an ambiguous tag using digest algorithm as name"]);
  });

  test("empty input imports as an empty layer; a symlink counts its target's length in Size", async () => {
    const svc = newService();
    const empty = await svc.importTar((async function* () {})(), { repo: "e" });
    expect((svc.inspect(empty).RootFS as { Layers: string[] }).Layers).toEqual([sha("")]);
    const id = await svc.importTar(await tarOf([[{ name: "f" }, "12345"], [{ name: "l", type: "symlink", linkname: "target" }]]));
    expect(svc.inspect(id).Size).toBe(5 + "target".length);
  });

  test("list: dangling takes only true or false, until filters by creation, a bad pattern is a 400", async () => {
    const svc = newService();
    await svc.importTar(await tarOf([[{ name: "x" }, "x"]]), { repo: "a" });
    expect((await err(() => svc.list({ filters: { dangling: ["1"] } }))).message).toBe("invalid filter 'dangling=1'");
    expect(svc.list({ filters: { until: ["2000-01-01T00:00:00Z"] } })).toEqual([]);
    expect(svc.list({ filters: { until: ["1m"] } })).toEqual([]);
    expect(svc.list({ filters: { until: [String(Math.ceil(Date.now() / 1000) + 60)] } })).toHaveLength(1);
    const e = await err(() => svc.list({ filters: { reference: ["["] } }));
    expect([e.status, e.message]).toEqual([400, "syntax error in pattern"]);
  });

  test("a malformed name is a 400 saying why; an unknown one a 404", async () => {
    const svc = newService();
    expect((await err(() => svc.remove("BAD"))).message).toBe("invalid reference format: repository name must be lowercase");
    expect((await err(() => svc.inspect("sha256:"))).status).toBe(400);
    expect((await err(() => svc.inspect("x@sha256:zz"))).status).toBe(400);
    const e = await err(() => svc.inspect("nosuch"));
    expect([e.status, e.message]).toEqual([404, "No such image: nosuch:latest"]);
  });

  test("a loaded image has no LastTagTime and shows its last history comment", async () => {
    const a = newService();
    const layer = await tarOf([[{ name: "x" }, "x"]]);
    const cfg = JSON.stringify({ architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: [sha(layer)] }, history: [{ comment: "first" }, { comment: "second layer" }] });
    await a.load(await tarOf([[{ name: "l.tar" }, layer], [{ name: "c.json" }, cfg], [{ name: "manifest.json" }, JSON.stringify([{ Config: "c.json", RepoTags: ["l:1"], Layers: ["l.tar"] }])]]));
    const i = a.inspect("l:1");
    expect(i.Comment).toBe("second layer");
    expect((i.Metadata as { LastTagTime: string }).LastTagTime).toBe("0001-01-01T00:00:00Z");
  });
});
