// docker load / docker save in the image service: round trips keep IDs byte for byte,
// docker-archive and OCI layouts, gzip layers and archives, several images and tags, hostile
// archives refused with nothing left, and files nobody refers to swept when the store opens.
import { describe, expect, test, afterAll } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import zlib from "node:zlib";
import crypto from "node:crypto";
import type { TarHeader as Headers } from "../../src/engine/archive/pack.ts";
import { ImageService } from "../../src/engine/images/index.ts";
import { packDir, packStream } from "../../src/engine/archive/pack.ts";
import { extractTo } from "../../src/engine/archive/extract.ts";
import type { ApiError } from "../../src/engine/errors.ts";
import { bytesOf, tarOf, type TarEntry } from "../helpers/tar.ts";
import { imageServiceAt } from "../helpers/images.ts";

const work = fs.mkdtempSync(`${os.tmpdir()}/berth-images-xfer-`);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
let n = 0;
const newService = (root = `${work}/root${++n}`) => imageServiceAt(root);
type E = TarEntry;
const sha = (b: Uint8Array | string) => `sha256:${crypto.createHash("sha256").update(b).digest("hex")}`;
const hex = (d: string) => d.slice(7);
const err = async (p: Promise<unknown> | (() => unknown)) => {
  try { await (typeof p === "function" ? p() : p); } catch (e) { return e as ApiError; }
  throw new Error("expected an error");
};
const config = (diffIds: string[], extra: object = {}) => JSON.stringify({
  architecture: "amd64", os: "linux", created: "2024-01-02T03:04:05.123456789Z", config: { Cmd: ["sh"], ...extra },
  rootfs: { type: "layers", diff_ids: diffIds }, history: diffIds.map(() => ({ created: "2024-01-02T03:04:05Z", created_by: "test" })),
});
const leftovers = (root: string) => [
  ...fs.readdirSync(`${root}/layers`), ...fs.readdirSync(`${root}/image/blobs/sha256`), ...fs.readdirSync(`${root}/image/tmp`),
];

describe("save → load", () => {
  test("round trip into a fresh store keeps the ID, tags and layers; save by ID has no tags", async () => {
    const a = newService();
    const id = await a.svc.importTar(await tarOf([[{ name: "bin", type: "directory" }], [{ name: "bin/x", mode: 0o755 }, "#!/bin/sh\n"]]), { repo: "busybox", changes: ["CMD sh"] });
    a.svc.tag("busybox", "busybox", "v2");
    const id2 = await a.svc.importTar(await tarOf([[{ name: "y" }, "y"]]), { repo: "other:1" });
    const untagged = await a.svc.importTar(await tarOf([[{ name: "z" }, "z"]]));
    const archive = await bytesOf(a.svc.save(["busybox", "other:1", untagged.slice(7, 19)]));
    const b = newService();
    const res = await b.svc.load(archive);
    expect(res.ids.sort()).toEqual([id, id2, untagged].sort());
    expect(res.messages).toContain("Loaded image: busybox:latest");
    expect(res.messages).toContain("Loaded image: busybox:v2");
    expect(res.messages).toContain("Loaded image: other:1");
    expect(res.messages).toContain(`Loaded image ID: ${untagged}`);
    expect(b.svc.inspect("busybox:v2").Id).toBe(id);
    expect(fs.readFileSync(`${b.root}/image/blobs/sha256/${hex(id)}`)).toEqual(fs.readFileSync(`${a.root}/image/blobs/sha256/${hex(id)}`));
    const layer = (b.svc.inspect(id) as any).RootFS.Layers[0];
    expect(fs.readFileSync(`${b.root}/layers/${hex(layer)}/bin/x`, "utf8")).toBe("#!/bin/sh\n");
    // loading again moves nothing and unpacks nothing new; a gzip'd archive loads the same
    const again = await b.svc.load(zlib.gzipSync(archive));
    expect(again.ids.sort()).toEqual(res.ids.sort());
  });

  test("our save is also an OCI image layout: without manifest.json it loads the same", async () => {
    const a = newService();
    const id = await a.svc.importTar(await tarOf([[{ name: "o" }, "oci"]]), { repo: "lay/out:1" });
    const plain = await a.svc.importTar(await tarOf([[{ name: "p" }, "p"]]));
    const dir = `${work}/oci-unpacked-${n}`;
    await extractTo(await bytesOf(a.svc.save(["lay/out:1", plain])), dir);
    expect(JSON.parse(fs.readFileSync(`${dir}/oci-layout`, "utf8"))).toEqual({ imageLayoutVersion: "1.0.0" });
    fs.rmSync(`${dir}/manifest.json`);
    const b = newService();
    const res = await b.svc.load(await bytesOf(packDir(dir)));
    expect(res.ids.sort()).toEqual([id, plain].sort());
    expect(res.refs).toEqual(["lay/out:1"]);
  });

  test("load moving a tag says so, leaving the old image dangling", async () => {
    const a = newService();
    await a.svc.importTar(await tarOf([[{ name: "v" }, "1"]]), { repo: "t" });
    const b = newService();
    const old = await b.svc.importTar(await tarOf([[{ name: "v" }, "2"]]), { repo: "t" });
    const res = await b.svc.load(await bytesOf(a.svc.save(["t:latest"])));
    expect(res.messages[0]).toBe(`The image t:latest already exists, renaming the old one with ID ${old} to empty string`);
    expect(b.svc.inspect(old).RepoTags).toEqual([]);
  });

  test("save of an unknown name is a 404 before any byte", async () => {
    const { svc } = newService();
    const e = await err(() => svc.save(["nosuch"]));
    expect([e.status, e.message]).toEqual([404, "No such image: nosuch"]);
  });

  test("docker-archive with gzip layers, two images sharing a layer", async () => {
    const l1 = await tarOf([[{ name: "etc", type: "directory" }], [{ name: "etc/a" }, "a"]]);
    const l2 = await tarOf([[{ name: "etc/b" }, "b"]]);
    const c1 = config([sha(l1)]), c2 = config([sha(l1), sha(l2)]);
    const archive = await tarOf([
      [{ name: "l1.tar.gz" }, zlib.gzipSync(l1)], [{ name: "l2.tar" }, l2],
      [{ name: "c1.json" }, c1], [{ name: "c2.json" }, c2],
      [{ name: "manifest.json" }, JSON.stringify([
        { Config: "c1.json", RepoTags: ["one:1"], Layers: ["l1.tar.gz"] },
        { Config: "c2.json", RepoTags: ["two:2", "localhost:5000/two:x"], Layers: ["l1.tar.gz", "l2.tar"] },
      ])],
    ]);
    const { svc, root } = newService();
    const res = await svc.load(archive);
    expect(res.ids).toEqual([sha(c1), sha(c2)]);
    expect(res.refs).toEqual(["one:1", "two:2", "localhost:5000/two:x"]);
    expect(fs.readdirSync(`${root}/layers`).sort()).toEqual([hex(sha(l1)), hex(sha(l2))].sort());
    expect((svc.history("two:2") as any[]).map((h) => h.Size)).toEqual([1, 1]);
  });

  test("OCI image layout: index → (nested index →) manifest, names from annotations", async () => {
    const l = await tarOf([[{ name: "hello" }, "world"]]);
    const gz = zlib.gzipSync(l);
    const cfg = config([sha(l)]);
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha(cfg), size: cfg.length },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha(gz), size: gz.length }] });
    const nested = JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: sha(manifest), size: manifest.length, platform: { os: "linux", architecture: "amd64" } }] });
    const index = JSON.stringify({ schemaVersion: 2, manifests: [
      { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: sha(manifest), size: manifest.length, annotations: { "io.containerd.image.name": "docker.io/library/oci:1", "org.opencontainers.image.ref.name": "1" } },
      { mediaType: "application/vnd.oci.image.index.v1+json", digest: sha(nested), size: nested.length, annotations: { "org.opencontainers.image.ref.name": "oci:nested" } },
    ] });
    const blob = (b: string | Buffer) => [{ name: `blobs/sha256/${hex(sha(b))}` }, b] as E;
    const archive = await tarOf([[{ name: "oci-layout" }, '{"imageLayoutVersion":"1.0.0"}'], blob(gz), blob(cfg), blob(manifest), blob(nested), [{ name: "index.json" }, index]]);
    const { svc } = newService();
    const res = await svc.load(archive);
    expect(res.refs).toEqual(["oci:1", "oci:nested"]);
    expect(svc.inspect("oci:nested").Id).toBe(sha(cfg));
  });
});

describe("hostile archives: a 400 naming the problem, nothing left", () => {
  const cases: [string, () => Promise<Buffer>, RegExp][] = [
    ["layer path outside", async () => { const l = await tarOf([[{ name: "f" }, "x"]]); return tarOf([[{ name: "c.json" }, config([sha(l)])], [{ name: "manifest.json" }, JSON.stringify([{ Config: "c.json", Layers: ["../../../etc/passwd"] }])]]); }, /contains "\.\."/],
    ["layer via symlink out", async () => { const l = await tarOf([[{ name: "f" }, "x"]]); return tarOf([[{ name: "c.json" }, config([sha(l)])], [{ name: "l.tar", type: "symlink", linkname: "/etc/passwd" }], [{ name: "manifest.json" }, JSON.stringify([{ Config: "c.json", Layers: ["l.tar"] }])]]); }, /points outside the archive/],
    ["wrong DiffID", async () => { const l = await tarOf([[{ name: "f" }, "x"]]); return tarOf([[{ name: "l.tar" }, l], [{ name: "c.json" }, config([sha("other")])], [{ name: "manifest.json" }, JSON.stringify([{ Config: "c.json", Layers: ["l.tar"] }])]]); }, /invalid diffID for layer 0/],
    ["hostile layer", async () => { const good = await tarOf([[{ name: "ok" }, "fine"]]); const l = await tarOf([[{ name: "../../escape" }, "x"]]); return tarOf([[{ name: "g.tar" }, good], [{ name: "l.tar" }, l], [{ name: "c.json" }, config([sha(good), sha(l)])], [{ name: "manifest.json" }, JSON.stringify([{ Config: "c.json", Layers: ["g.tar", "l.tar"] }])]]); }, /layer 1 \(l\.tar\): entry "\.\.\/\.\.\/escape" contains "\.\."/],
    ["layer count mismatch", async () => tarOf([[{ name: "c.json" }, config([sha("a")])], [{ name: "manifest.json" }, JSON.stringify([{ Config: "c.json", Layers: [] }])]]), /layers length mismatch/],
    ["bad tag", async () => tarOf([[{ name: "c.json" }, config([])], [{ name: "manifest.json" }, JSON.stringify([{ Config: "c.json", RepoTags: ["UPPER:x"], Layers: [] }])]]), /invalid reference format/],
    ["no manifest", async () => tarOf([[{ name: "junk" }, "x"]]), /neither manifest\.json/],
    ["not a tar", async () => Buffer.from("garbage".repeat(200)), /invalid archive/],
  ];
  for (const [label, make, want] of cases) {
    test(label, async () => {
      const { svc, root } = newService();
      const e = await err(svc.load(await make()));
      expect(e.status).toBe(400);
      expect(e.message).toMatch(want);
      expect(e.message).not.toContain("\n");
      expect(leftovers(root)).toEqual([]);
      expect(svc.list()).toEqual([]);
    });
  }
});

test("opening the store sweeps files no row refers to (a crash between files and rows)", async () => {
  const { svc, root, db } = newService();
  const id = await svc.importTar(await tarOf([[{ name: "keep" }, "k"]]), { repo: "keep" });
  const layer = hex((svc.inspect(id) as any).RootFS.Layers[0]);
  fs.mkdirSync(`${root}/layers/${"e".repeat(64)}/bin`, { recursive: true });
  fs.mkdirSync(`${root}/layers/tmp-123`);
  fs.writeFileSync(`${root}/image/blobs/sha256/${"f".repeat(64)}`, "x");
  fs.writeFileSync(`${root}/image/tmp/partial`, "x");
  const again = new ImageService(db, root);
  expect(fs.readdirSync(`${root}/layers`)).toEqual([layer]);
  expect(fs.readdirSync(`${root}/image/blobs/sha256`).sort()).toEqual([hex(id), layer].sort());
  expect(fs.readdirSync(`${root}/image/tmp`)).toEqual([]);
  expect(again.inspect("keep").Id).toBe(id);
});
