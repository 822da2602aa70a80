// The image content store and its tables. Files first, then the row: blobs and layer dirs are
// written to tmp names, verified and renamed into place before the transaction that refers to
// them commits; removal commits first and deletes files after. So a crash leaves at worst
// unreferenced files, which open() sweeps (and nothing in the DB points at a missing file).
//   <root>/image/blobs/sha256/<hex>   config JSON (by image ID) and uncompressed layer tars (by DiffID)
//   <root>/layers/<diffid-hex>/       each layer unpacked once, shared by every image that has it
import fs from "node:fs";
import crypto from "node:crypto";
import type { Database } from "bun:sqlite";
import { extractInto } from "../archive/extract.ts";
import { writeAll } from "../../runtime/io.ts";
import type { ByteSource } from "../archive/stream.ts";
import { ApiError } from "../errors.ts";
import type { ImageConfig } from "./config.ts";

export interface LayerInfo { diffId: string; size: number; tarSize: number }

export interface ImageRow {
  id: string;
  created: number;
  size: number;
  labels: Record<string, string> | null;
  parent: string;
  lastTagTime: string | null;
  diffIds: string[];
}

const hex = (digest: string) => digest.replace(/^sha256:/, "");
const rand = () => crypto.randomBytes(8).toString("hex");

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS img_image (id TEXT PRIMARY KEY, created INTEGER NOT NULL, size INTEGER NOT NULL,
     labels TEXT, parent TEXT NOT NULL DEFAULT '', last_tag_time TEXT)`,
  `CREATE TABLE IF NOT EXISTS img_image_layer (image_id TEXT NOT NULL, idx INTEGER NOT NULL, diff_id TEXT NOT NULL,
     PRIMARY KEY (image_id, idx))`,
  `CREATE INDEX IF NOT EXISTS img_image_layer_diff ON img_image_layer (diff_id)`,
  `CREATE TABLE IF NOT EXISTS img_layer (diff_id TEXT PRIMARY KEY, size INTEGER NOT NULL, tar_size INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS img_tag (ref TEXT PRIMARY KEY, image_id TEXT NOT NULL, created TEXT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS img_tag_image ON img_tag (image_id)`,
  `CREATE INDEX IF NOT EXISTS img_image_parent ON img_image (parent)`,
  // Layers a container's rootfs is built on stay while the container exists, even if its image is force-removed.
  `CREATE TABLE IF NOT EXISTS img_rootfs (container_id TEXT PRIMARY KEY, image_id TEXT NOT NULL, diff_ids TEXT NOT NULL)`,
];

export class ContentStore {
  readonly blobDir: string;
  readonly layerDir: string;
  readonly tmpDir: string;
  /** Layers written by operations still in flight: garbage collection must not take them. */
  private pending = new Map<string, number>();
  private configCache = new Map<string, ImageConfig>();
  private pins = new Map<string, Readonly<{ imageId: string; diffIds: readonly string[] }>>();

  constructor(readonly db: Database, readonly root: string) {
    this.blobDir = `${root}/image/blobs/sha256`;
    this.layerDir = `${root}/layers`;
    this.tmpDir = `${root}/image/tmp`;
    for (const d of [this.blobDir, this.layerDir, this.tmpDir]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    for (const s of SCHEMA) db.run(s);
    this.sweep();
  }

  blobPath = (digest: string) => `${this.blobDir}/${hex(digest)}`;
  layerPath = (diffId: string) => `${this.layerDir}/${hex(diffId)}`;

  /** Removes files no row refers to: leftovers of a crash or of an interrupted operation. */
  private sweep(): void {
    fs.rmSync(this.tmpDir, { recursive: true, force: true });
    fs.mkdirSync(this.tmpDir, { recursive: true, mode: 0o700 });
    const layers = new Set((this.db.query("SELECT diff_id FROM img_layer").all() as { diff_id: string }[]).map((r) => hex(r.diff_id)));
    const blobs = new Set(layers);
    for (const r of this.db.query("SELECT id FROM img_image").all() as { id: string }[]) blobs.add(hex(r.id));
    for (const n of fs.readdirSync(this.layerDir)) {
      if (!layers.has(n) && n !== "empty") fs.rmSync(`${this.layerDir}/${n}`, { recursive: true, force: true });
    }
    for (const n of fs.readdirSync(this.blobDir)) if (!blobs.has(n)) fs.rmSync(`${this.blobDir}/${n}`, { force: true });
  }

  hold(diffId: string): void { this.pending.set(diffId, (this.pending.get(diffId) ?? 0) + 1); }
  release(diffId: string): void {
    const n = (this.pending.get(diffId) ?? 1) - 1;
    if (n <= 0) this.pending.delete(diffId); else this.pending.set(diffId, n);
  }

  /** Writes bytes as a blob (tmp, fsync, rename); returns its digest. */
  putBlob(bytes: Uint8Array): string {
    const digest = `sha256:${crypto.createHash("sha256").update(bytes).digest("hex")}`;
    const dest = this.blobPath(digest);
    if (fs.existsSync(dest)) return digest;
    const tmp = `${this.tmpDir}/${rand()}`;
    const fd = fs.openSync(tmp, "wx", 0o600);
    try { writeAll(fd, bytes); fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
    fs.renameSync(tmp, dest);
    return digest;
  }

  readBlob(digest: string): Buffer {
    return fs.readFileSync(this.blobPath(digest));
  }

  /**
   * Unpacks a layer tar (plain or gzip) once: the uncompressed tar becomes the blob named by
   * its DiffID and the tree goes to layers/<hex>. `expect` is the DiffID the image config
   * names; a mismatch fails before anything is renamed into place. The caller must release().
   */
  async addLayer(src: ByteSource, expect?: string, what = "layer", allowEmpty = false): Promise<LayerInfo> {
    const tmpTar = `${this.tmpDir}/${rand()}.tar`;
    const tmpTree = `${this.layerDir}/tmp-${rand()}`;
    fs.mkdirSync(tmpTree, { mode: 0o755 });
    const fd = fs.openSync(tmpTar, "wx", 0o600);
    let res;
    try {
      try {
        res = await extractInto(src, tmpTree, { whiteouts: true, allowEmpty, onData: (c) => { writeAll(fd, c); } });
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      if (expect && expect !== res.diffId) {
        throw new ApiError(400, `invalid diffID for ${what}: expected "${expect}", got "${res.diffId}"`);
      }
      this.hold(res.diffId);
      const tree = this.layerPath(res.diffId);
      if (fs.existsSync(tree)) fs.rmSync(tmpTree, { recursive: true, force: true });
      else fs.renameSync(tmpTree, tree);
      const blob = this.blobPath(res.diffId);
      if (fs.existsSync(blob)) fs.rmSync(tmpTar, { force: true });
      else fs.renameSync(tmpTar, blob);
    } catch (e) {
      fs.rmSync(tmpTree, { recursive: true, force: true });
      fs.rmSync(tmpTar, { force: true });
      if (e instanceof ApiError) throw e;
      throw new ApiError(400, `${what}: ${(e as Error).message}`);
    }
    const known = this.db.query("SELECT size, tar_size FROM img_layer WHERE diff_id = ?").get(res.diffId) as { size: number; tar_size: number } | null;
    return { diffId: res.diffId, size: known?.size ?? res.size, tarSize: res.tarSize };
  }

  /** Undoes addLayer/knownLayer holds of a failed operation, deleting layers no row refers to. */
  discardLayers(diffIds: string[]): void {
    for (const d of diffIds) this.release(d);
    for (const d of new Set(diffIds)) {
      if (this.pending.has(d) || this.db.query("SELECT 1 FROM img_layer WHERE diff_id = ?").get(d)) continue;
      fs.rmSync(this.layerPath(d), { recursive: true, force: true });
      fs.rmSync(this.blobPath(d), { force: true });
    }
  }

  /** A layer already in the store (so a load can skip unpacking it again). */
  knownLayer(diffId: string): LayerInfo | undefined {
    const r = this.db.query("SELECT size, tar_size FROM img_layer WHERE diff_id = ?").get(diffId) as { size: number; tar_size: number } | null;
    if (!r || !fs.existsSync(this.layerPath(diffId))) return undefined;
    this.hold(diffId);
    return { diffId, size: r.size, tarSize: r.tar_size };
  }

  config(id: string): ImageConfig {
    let c = this.configCache.get(id);
    if (!c) {
      c = JSON.parse(this.readBlob(id).toString("utf8")) as ImageConfig;
      this.configCache.set(id, c);
    }
    return c;
  }

  /**
   * Records an image whose blobs and layers are already in place; moves `tags` to it. `tagged`
   * false (docker load) leaves LastTagTime unset, as dockerd does for loaded images.
   */
  commitImage(id: string, config: ImageConfig, layers: LayerInfo[], tags: string[], tagged = true): { moved: { ref: string; from: string }[] } {
    const now = new Date().toISOString();
    const created = Math.floor((Date.parse(config.created ?? "") || 0) / 1000);
    const size = layers.reduce((a, l) => a + l.size, 0);
    const moved: { ref: string; from: string }[] = [];
    this.db.transaction(() => {
      for (const l of layers) this.db.run("INSERT OR IGNORE INTO img_layer (diff_id, size, tar_size) VALUES (?, ?, ?)", [l.diffId, l.size, l.tarSize]);
      const exists = this.db.query("SELECT 1 FROM img_image WHERE id = ?").get(id);
      if (!exists) {
        this.db.run("INSERT INTO img_image (id, created, size, labels, parent, last_tag_time) VALUES (?, ?, ?, ?, '', ?)",
          [id, created, size, JSON.stringify(config.config?.Labels ?? null), tags.length && tagged ? now : null]);
        layers.forEach((l, i) => this.db.run("INSERT INTO img_image_layer (image_id, idx, diff_id) VALUES (?, ?, ?)", [id, i, l.diffId]));
      }
      for (const t of tags) {
        const old = this.db.query("SELECT image_id FROM img_tag WHERE ref = ?").get(t) as { image_id: string } | null;
        if (old && old.image_id !== id) moved.push({ ref: t, from: old.image_id });
        this.db.run("INSERT OR REPLACE INTO img_tag (ref, image_id, created) VALUES (?, ?, ?)", [t, id, now]);
      }
      if (tags.length && tagged) this.db.run("UPDATE img_image SET last_tag_time = ? WHERE id = ?", [now, id]);
    })();
    for (const l of layers) this.release(l.diffId);
    return { moved };
  }

  setTag(ref: string, id: string): void {
    const now = new Date().toISOString();
    this.db.transaction(() => {
      this.db.run("INSERT OR REPLACE INTO img_tag (ref, image_id, created) VALUES (?, ?, ?)", [ref, id, now]);
      this.db.run("UPDATE img_image SET last_tag_time = ? WHERE id = ?", [now, id]);
    })();
  }

  untag(ref: string): void {
    this.db.run("DELETE FROM img_tag WHERE ref = ?", [ref]);
  }

  tagsOf(id: string): string[] {
    return (this.db.query("SELECT ref FROM img_tag WHERE image_id = ? ORDER BY ref").all(id) as { ref: string }[]).map((r) => r.ref);
  }

  imageByTag(ref: string): string | undefined {
    return (this.db.query("SELECT image_id FROM img_tag WHERE ref = ?").get(ref) as { image_id: string } | null)?.image_id;
  }

  /** Images whose parent is `id` (set by docker load from the archive's Parent links). */
  children(id: string): string[] {
    return (this.db.query("SELECT id FROM img_image WHERE parent = ?").all(id) as { id: string }[]).map((r) => r.id);
  }

  setParent(id: string, parent: string): void {
    this.db.run("UPDATE img_image SET parent = ? WHERE id = ?", [parent, id]);
  }

  has(id: string): boolean {
    return !!this.db.query("SELECT 1 FROM img_image WHERE id = ?").get(id);
  }

  allIds(): string[] {
    return (this.db.query("SELECT id FROM img_image").all() as { id: string }[]).map((r) => r.id);
  }

  row(id: string): ImageRow | undefined {
    const r = this.db.query("SELECT * FROM img_image WHERE id = ?").get(id) as
      { id: string; created: number; size: number; labels: string | null; parent: string; last_tag_time: string | null } | null;
    if (!r) return undefined;
    const diffIds = (this.db.query("SELECT diff_id FROM img_image_layer WHERE image_id = ? ORDER BY idx").all(id) as { diff_id: string }[]).map((x) => x.diff_id);
    return { id: r.id, created: r.created, size: r.size, labels: r.labels ? JSON.parse(r.labels) : null, parent: r.parent, lastTagTime: r.last_tag_time, diffIds };
  }

  /**
   * Every image row (without layers), every tag, and the IDs that are some image's parent, in
   * two queries: what /images/json and image prune need.
   */
  listing(): { rows: ImageRow[]; tags: Map<string, string[]>; parents: Set<string> } {
    const rows = (this.db.query("SELECT * FROM img_image").all() as
      { id: string; created: number; size: number; labels: string | null; parent: string; last_tag_time: string | null }[])
      .map((r) => ({ id: r.id, created: r.created, size: r.size, labels: r.labels ? JSON.parse(r.labels) : null, parent: r.parent, lastTagTime: r.last_tag_time, diffIds: [] }));
    const tags = new Map<string, string[]>();
    for (const t of this.db.query("SELECT ref, image_id FROM img_tag ORDER BY ref").all() as { ref: string; image_id: string }[]) {
      const l = tags.get(t.image_id);
      if (l) l.push(t.ref); else tags.set(t.image_id, [t.ref]);
    }
    return { rows, tags, parents: new Set(rows.map((r) => r.parent).filter(Boolean)) };
  }

  layerSize(diffId: string): number {
    return (this.db.query("SELECT size FROM img_layer WHERE diff_id = ?").get(diffId) as { size: number } | null)?.size ?? 0;
  }

  /** Deletes an image's rows (tags included) and then the files nothing else needs; returns the DiffIDs removed. */
  deleteImage(id: string): string[] {
    let gone: string[] = [];
    this.db.transaction(() => { gone = this.deleteRows(id); })();
    this.deleteFiles(id, gone);
    return gone;
  }

  /** The row half of deleteImage, for a caller's transaction; deleteFiles() after it commits. */
  deleteRows(id: string): string[] {
    this.db.run("DELETE FROM img_tag WHERE image_id = ?", [id]);
    this.db.run("DELETE FROM img_image_layer WHERE image_id = ?", [id]);
    this.db.run("DELETE FROM img_image WHERE id = ?", [id]);
    const gone = this.unusedLayers();
    for (const d of gone) this.db.run("DELETE FROM img_layer WHERE diff_id = ?", [d]);
    return gone;
  }

  deleteFiles(id: string, gone: string[]): void {
    this.configCache.delete(id);
    fs.rmSync(this.blobPath(id), { force: true });
    for (const d of gone) {
      fs.rmSync(this.layerPath(d), { recursive: true, force: true });
      fs.rmSync(this.blobPath(d), { force: true });
    }
  }

  private unusedLayers(): string[] {
    const held = new Set<string>(this.pending.keys());
    for (const r of this.db.query("SELECT diff_ids FROM img_rootfs").all() as { diff_ids: string }[]) for (const d of JSON.parse(r.diff_ids)) held.add(d);
    const rows = this.db.query("SELECT diff_id FROM img_layer WHERE diff_id NOT IN (SELECT diff_id FROM img_image_layer)").all() as { diff_id: string }[];
    return rows.map((r) => r.diff_id).filter((d) => !held.has(d));
  }

  /** Pins a container's layers; unpinning frees those no image uses any more. */
  pinRootfs(containerId: string, imageId: string, diffIds: string[]): void {
    this.pins.delete(containerId);
    this.db.run("INSERT OR REPLACE INTO img_rootfs (container_id, image_id, diff_ids) VALUES (?, ?, ?)", [containerId, imageId, JSON.stringify(diffIds)]);
  }

  unpinRootfs(containerId: string): void {
    this.pins.delete(containerId);
    let gone: string[] = [];
    this.db.transaction(() => {
      this.db.run("DELETE FROM img_rootfs WHERE container_id = ?", [containerId]);
      gone = this.unusedLayers();
      for (const d of gone) this.db.run("DELETE FROM img_layer WHERE diff_id = ?", [d]);
    })();
    for (const d of gone) {
      fs.rmSync(this.layerPath(d), { recursive: true, force: true });
      fs.rmSync(this.blobPath(d), { force: true });
    }
  }

  /** Every layer stack (DiffIDs, bottom first) an image or a container's root filesystem uses. */
  layerStacks(): string[][] {
    const byImage = new Map<string, string[]>();
    for (const r of this.db.query("SELECT id FROM img_image").all() as { id: string }[]) byImage.set(r.id, []);
    for (const r of this.db.query("SELECT image_id, diff_id FROM img_image_layer ORDER BY image_id, idx").all() as { image_id: string; diff_id: string }[]) {
      byImage.get(r.image_id)?.push(r.diff_id);
    }
    const pinned = (this.db.query("SELECT diff_ids FROM img_rootfs").all() as { diff_ids: string }[]).map((r) => JSON.parse(r.diff_ids) as string[]);
    return [...byImage.values(), ...pinned];
  }

  /** (Frozen: read on every mount, path and size of a container, so kept once read.) */
  rootfsImage(containerId: string): Readonly<{ imageId: string; diffIds: readonly string[] }> | undefined {
    const known = this.pins.get(containerId);
    if (known) return known;
    const r = this.db.query("SELECT image_id, diff_ids FROM img_rootfs WHERE container_id = ?").get(containerId) as { image_id: string; diff_ids: string } | null;
    if (!r) return undefined;
    const pin = Object.freeze({ imageId: r.image_id, diffIds: Object.freeze(JSON.parse(r.diff_ids) as string[]) });
    this.pins.set(containerId, pin);
    return pin;
  }

  /** An empty directory to stand in as the lower layer of an image with no layers. */
  emptyLayer(): string {
    const p = `${this.layerDir}/empty`;
    fs.mkdirSync(p, { recursive: true, mode: 0o755 });
    return p;
  }
}
