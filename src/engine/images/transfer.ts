// docker load and docker save. Load accepts docker-archive (manifest.json, as dockerd and
// `docker save` write it) and OCI image layouts (index.json), plain or gzip, several images
// and tags. Save writes both (docker 25's layout) with each config byte for byte, so the image ID (the
// sha256 of those bytes) is the same wherever it is loaded, dockerd included.
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import type { Readable } from "node:stream";
import { extractInto, cleanName } from "../archive/extract.ts";
import { fileChunks, packStream } from "../archive/pack.ts";
import type { ByteSource } from "../archive/stream.ts";
import { ApiError, badRequest, notFound } from "../errors.ts";
import type { ImageConfig } from "./config.ts";
import { familiar, familiarName, fullName, fullString, parseNamed, refuseDigestName, withDefaultTag } from "./reference.ts";
import type { ImageService } from "./service.ts";
import type { LayerInfo } from "./store.ts";

export interface LoadResult {
  /** Lines for the progress stream: "Loaded image: busybox:latest" / "Loaded image ID: sha256:…". */
  messages: string[];
  ids: string[];
  refs: string[];
}

interface Wanted { configPath: string; layerPaths: string[]; tags: string[]; what: string; parent?: string }

/** POST /images/load */
export async function loadImages(svc: ImageService, src: ByteSource): Promise<LoadResult> {
  const store = svc.store;
  const dir = `${store.tmpDir}/load-${crypto.randomBytes(6).toString("hex")}`;
  fs.mkdirSync(dir, { mode: 0o700 });
  try {
    try {
      await extractInto(src, dir, { owners: false, devices: false });
    } catch (e) {
      throw badRequest(`invalid archive: ${(e as Error).message}`);
    }
    const wanted = fs.existsSync(`${dir}/manifest.json`) ? dockerArchive(dir) : fs.existsSync(`${dir}/index.json`) ? ociLayout(dir) : undefined;
    if (!wanted) {
      throw badRequest(fs.existsSync(`${dir}/repositories`)
        ? "legacy v1 archive (no manifest.json) is not supported: save it again with docker 1.10 or newer"
        : "invalid archive: neither manifest.json (docker-archive) nor index.json (OCI layout) found");
    }
    const res: LoadResult = { messages: [], ids: [], refs: [] };
    const links: [string, string][] = [];
    for (const w of wanted) {
      const bytes = fs.readFileSync(inside(dir, w.configPath, `${w.what} config`));
      let config: ImageConfig;
      try { config = JSON.parse(bytes.toString("utf8")); } catch { throw badRequest(`${w.what}: config ${w.configPath} is not JSON`); }
      const diffIds = config.rootfs?.diff_ids ?? [];
      if (diffIds.length !== w.layerPaths.length) {
        throw badRequest(`invalid manifest, layers length mismatch: expected ${diffIds.length}, got ${w.layerPaths.length}`);
      }
      const layers: LayerInfo[] = [];
      try {
        for (let i = 0; i < diffIds.length; i++) {
          const known = store.knownLayer(diffIds[i]);
          layers.push(known ?? await store.addLayer(fileChunks(inside(dir, w.layerPaths[i], `layer ${i}`)), diffIds[i], `layer ${i} (${w.layerPaths[i]})`));
        }
        const id = store.putBlob(bytes);
        const { moved } = store.commitImage(id, config, layers, w.tags, false);
        for (const m of moved) res.messages.push(`The image ${familiar(m.ref)} already exists, renaming the old one with ID ${m.from} to empty string`);
        res.ids.push(id);
        if (w.parent) links.push([id, w.parent]);
        svc.emit("load", id, w.tags.length ? familiar(w.tags[0]) : undefined);
        if (w.tags.length) for (const t of w.tags) { res.refs.push(familiar(t)); res.messages.push(`Loaded image: ${familiar(t)}`); }
        else res.messages.push(`Loaded image ID: ${id}`);
      } catch (e) {
        store.discardLayers(layers.map((l) => l.diffId));
        throw e;
      }
    }
    // As dockerd: a Parent link counts only when the parent came in the same archive and its
    // history is the child's but one step (what a build or commit step makes). Others are
    // dropped rather than failing a load whose images are already in.
    for (const [id, parent] of links) {
      if (parent !== id && res.ids.includes(parent) && validParent(store.config(id), store.config(parent))) store.setParent(id, parent);
    }
    return res;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function validParent(child: ImageConfig, parent: ImageConfig): boolean {
  const c = child.history ?? [], p = parent.history ?? [];
  if (!c.length && !p.length) return true;
  if (c.length - p.length !== 1) return false;
  const same = (a: Record<string, unknown>, b: Record<string, unknown>) =>
    Date.parse(String(a.created ?? "")) === Date.parse(String(b.created ?? "")) && (a.created === undefined) === (b.created === undefined) &&
    JSON.stringify({ ...a, created: 0 }) === JSON.stringify({ ...b, created: 0 });
  return p.every((h, i) => same(h as Record<string, unknown>, c[i] as Record<string, unknown>));
}

/** A path named by the archive's metadata, resolved inside the unpacked archive only. */
function inside(dir: string, rel: string, what: string): string {
  let parts: string[];
  try { parts = cleanName(rel, what); } catch (e) { throw badRequest((e as Error).message); }
  const real = fs.realpathSync.native(dir);
  let p: string;
  try { p = fs.realpathSync.native(path.join(dir, ...parts)); } catch { throw badRequest(`${what}: "${rel}" is not in the archive`); }
  if (!p.startsWith(real + "/")) throw badRequest(`${what}: "${rel}" points outside the archive`);
  if (!fs.statSync(p).isFile()) throw badRequest(`${what}: "${rel}" is not a file`);
  return p;
}

function readJson(p: string, what: string): unknown {
  try { return JSON.parse(fs.readFileSync(p, "utf8")); } catch (e) { throw badRequest(`invalid ${what}: ${(e as Error).message}`); }
}

function tagsFrom(list: unknown, what: string): string[] {
  if (list == null) return [];
  if (!Array.isArray(list)) throw badRequest(`invalid ${what}: RepoTags is not a list`);
  return list.map((t) => {
    const r = parseNamed(String(t));
    if (!r.tag || r.digest) throw badRequest(`invalid tag "${t}" in ${what}`);
    try { refuseDigestName(r); } catch (e) { throw badRequest(`invalid tag "${t}" in ${what}: ${(e as Error).message}`); }
    return fullString(r);
  });
}

function dockerArchive(dir: string): Wanted[] {
  const m = readJson(`${dir}/manifest.json`, "manifest.json");
  if (!Array.isArray(m)) throw badRequest("invalid manifest.json: not a list");
  return m.map((e, i) => {
    const what = `manifest.json entry ${i}`;
    if (typeof e?.Config !== "string" || !Array.isArray(e?.Layers)) throw badRequest(`invalid ${what}: needs Config and Layers`);
    const parent = typeof e.Parent === "string" && /^sha256:[a-f0-9]{64}$/.test(e.Parent) ? e.Parent : undefined;
    return { configPath: e.Config, layerPaths: e.Layers.map(String), tags: tagsFrom(e.RepoTags, what), what, parent };
  });
}

const INDEX_TYPES = ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"];

function ociLayout(dir: string): Wanted[] {
  const blob = (d: unknown, what: string) => {
    const m = /^(sha256|sha512):([a-f0-9]+)$/.exec(String(d));
    if (!m) throw badRequest(`invalid ${what}: bad digest "${d}"`);
    return `blobs/${m[1]}/${m[2]}`;
  };
  const out: Wanted[] = [];
  const visit = (desc: any, tags: string[], what: string) => {
    const doc = readJson(inside(dir, blob(desc.digest, what), what), what) as any;
    const mt = desc.mediaType ?? doc.mediaType;
    if (INDEX_TYPES.includes(mt) || Array.isArray(doc.manifests)) {
      const ms: any[] = doc.manifests ?? [];
      const pick = ms.find((x) => x.platform?.os === "linux" && x.platform?.architecture === process.arch.replace("x64", "amd64")) ?? ms[0];
      if (!pick) throw badRequest(`invalid ${what}: empty index`);
      visit(pick, tags, `${what} → ${pick.digest}`);
      return;
    }
    if (!doc.config?.digest || !Array.isArray(doc.layers)) throw badRequest(`invalid ${what}: not an image manifest`);
    out.push({ configPath: blob(doc.config.digest, what), layerPaths: doc.layers.map((l: any) => blob(l.digest, what)), tags, what });
  };
  const index = readJson(`${dir}/index.json`, "index.json") as any;
  (index.manifests ?? []).forEach((d: any, i: number) => {
    const a = d.annotations ?? {};
    const name = a["io.containerd.image.name"] ?? a["org.opencontainers.image.ref.name"];
    let tags: string[] = [];
    if (name) { try { const r = parseNamed(name); if (r.tag && !r.digest) tags = [fullString(r)]; } catch { /* a bare tag: no name to give */ } }
    visit(d, tags, `index.json manifest ${i}`);
  });
  return out;
}

/** GET /images/get?names=…: every name is checked (404) before the first byte is sent. */
export function saveImages(svc: ImageService, names: string[]): Readable {
  const store = svc.store;
  const images = new Map<string, string[]>(); // id → full tags to record
  const addAssoc = (id: string, tag?: string) => {
    const l = images.get(id) ?? [];
    if (tag && !l.includes(tag)) l.push(tag);
    images.set(id, l);
  };
  // dockerd's rules: an ID (sha256:… or a bare prefix no tag matches) saves without names;
  // a bare repository saves all its tags; name:tag must be a tag.
  const byId = (n: string) => {
    const id = svc.find(n);
    if (!id) throw notFound(`No such image: ${n}`);
    addAssoc(id);
  };
  for (const n of names) {
    if (/^(?:sha256:)?[a-f0-9]{64}$/.test(n)) { byId(n); continue; }
    const r = parseNamed(n);
    if (familiarName(r) === "sha256") { byId(n); continue; }
    if (!r.tag && !r.digest) {
      const all = store.allIds().flatMap((i) => store.tagsOf(i).map((t) => [i, t] as const)).filter(([, t]) => fullName(parseNamed(t)) === fullName(r));
      if (all.length) for (const [i, t] of all) addAssoc(i, t);
      else byId(n);
      continue;
    }
    const ref = fullString(withDefaultTag(r));
    const id = store.imageByTag(ref);
    if (!id) throw notFound("reference does not exist");
    addAssoc(id, ref);
  }
  return packStream(async (add) => {
    // docker 25's layout: an OCI image layout (index.json, blobs) that also carries
    // manifest.json, which is all dockerd 20.10 reads; layer blobs are the uncompressed tars.
    const now = new Date();
    const written = new Set<string>();
    const file = (name: string, body: string | Uint8Array, mtime = now) => add({ name, type: "file", mode: 0o644, mtime }, body);
    const manifest: { Config: string; RepoTags: string[] | null; Layers: string[]; Parent?: string }[] = [];
    const repositories: Record<string, Record<string, string>> = {};
    const index: Record<string, unknown>[] = [];
    await add({ name: "blobs/", type: "directory", mode: 0o755, mtime: now });
    await add({ name: "blobs/sha256/", type: "directory", mode: 0o755, mtime: now });
    for (const [id, tags] of images) {
      const row = store.row(id);
      if (!row) throw new ApiError(404, `No such image: ${id}`);
      const cfg = store.config(id);
      const mtime = new Date(Date.parse(cfg.created ?? "") || 0);
      const layers: { mediaType: string; digest: string; size: number }[] = [];
      for (const d of row.diffIds) {
        const blob = store.blobPath(d);
        const size = fs.statSync(blob).size;
        layers.push({ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: d, size });
        if (written.has(d)) continue;
        written.add(d);
        await add({ name: `blobs/sha256/${d.slice(7)}`, type: "file", mode: 0o644, mtime, size }, fileChunks(blob));
      }
      const config = store.readBlob(id);
      if (!written.has(id)) { written.add(id); await file(`blobs/sha256/${id.slice(7)}`, config, mtime); }
      const m = new TextEncoder().encode(JSON.stringify({
        schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: id, size: config.length }, layers,
      }));
      const mDigest = `sha256:${crypto.createHash("sha256").update(m).digest("hex")}`;
      if (!written.has(mDigest)) { written.add(mDigest); await file(`blobs/sha256/${mDigest.slice(7)}`, m, mtime); }
      const desc = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: mDigest, size: m.length };
      if (!tags.length) index.push(desc);
      for (const t of tags) {
        const r = parseNamed(t);
        index.push({ ...desc, annotations: { "io.containerd.image.name": t, "org.opencontainers.image.ref.name": r.tag } });
        (repositories[familiarName(r)] ??= {})[r.tag!] = row.diffIds.length ? row.diffIds[row.diffIds.length - 1].slice(7) : "";
      }
      manifest.push({
        Config: `blobs/sha256/${id.slice(7)}`, RepoTags: tags.length ? tags.map(familiar) : null, Layers: row.diffIds.map((d) => `blobs/sha256/${d.slice(7)}`),
        // the parent link travels when the parent is saved too (as dockerd writes it)
        ...(row.parent && images.has(row.parent) ? { Parent: row.parent } : {}),
      });
    }
    await file("index.json", JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: index }));
    await file("manifest.json", JSON.stringify(manifest));
    await file("oci-layout", JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    if (Object.keys(repositories).length) await file("repositories", JSON.stringify(repositories) + "\n");
  });
}
