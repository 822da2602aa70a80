// The image service the API routes call: lookups by name, ID or short ID as dockerd resolves
// them, docker import, tag, rmi with dockerd's conflict rules, and the JSON shapes of
// /images/json, /images/{name}/json and /history. load/save live in transfer.ts.
import crypto from "node:crypto";
import type { Database } from "bun:sqlite";
import type { ByteSource } from "../archive/stream.ts";
import { ApiError, badRequest, conflict, notFound } from "../errors.ts";
import { applyChanges, fullContainerConfig, GOARCH, type ContainerConfig, type ImageConfig } from "./config.ts";
import {
  familiar, familiarMatch, familiarName, fullName, fullString, HEX64, parseNamed, refuseDigestName, withDefaultTag, type Reference,
} from "./reference.ts";
import { ContentStore, type ImageRow } from "./store.ts";
import { loadImages, saveImages, type LoadResult } from "./transfer.ts";

export const BERTH_VERSION = "0.1.0";

/** What the container service says about an image: the first container using it, if any. */
export type InUse = (imageId: string) => { containerId: string; running: boolean } | boolean | null | undefined;

export interface DeleteItem { Untagged?: string; Deleted?: string }

export interface ResolvedImage {
  id: string;
  config: ImageConfig;
  diffIds: string[];
  /** Layer directories, bottom layer first (overlayfs wants them top-first). */
  layerDirs: string[];
  tags: string[];
}

export type Filters = Record<string, string[] | Record<string, boolean>>;

/** What a transaction decided to do once it has committed: delete files, publish events. */
interface Batch { files: [string, string[]][]; events: [string, string, string?][] }
const newBatch = (): Batch => ({ files: [], events: [] });

const short = (id: string) => id.replace(/^sha256:/, "").slice(0, 12);
// What may keep an image from being deleted (dockerd's conflict kinds).
const CHILD = 1, RUNNING = 2, NAMED = 4, STOPPED = 8;
const HARD = CHILD | RUNNING, SOFT = NAMED | STOPPED;
const sha = (s: string) => `sha256:${crypto.createHash("sha256").update(s).digest("hex")}`;

/** Filters as docker sends them ({"k":{"v":true}}) or as lists; unknown keys are a 400. */
export function normalizeFilters(f: Filters | string | undefined, allowed: string[]): Record<string, string[]> {
  if (!f) return {};
  let obj: unknown = f;
  if (typeof f === "string") {
    try { obj = JSON.parse(f); } catch { throw badRequest(`invalid filters: ${f}`); }
  }
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    if (!allowed.includes(k)) throw badRequest(`invalid filter '${k}'`);
    out[k] = Array.isArray(v) ? v.map(String) : Object.entries(v as Record<string, boolean>).filter(([, b]) => b).map(([s]) => s);
  }
  return out;
}

/** An image event for /events: Action import|load|tag|untag|delete|save, id, and the name if any. */
export interface ImageEvent { Action: string; id: string; name?: string }

export class ImageService {
  readonly store: ContentStore;
  /** Set by the daemon to publish image events. */
  onEvent?: (e: ImageEvent) => void;

  constructor(db: Database, readonly dataRoot: string) {
    this.store = new ContentStore(db, dataRoot);
  }

  /** How many images there are (docker info's Images). */
  count(): number {
    return this.store.allIds().length;
  }

  /** Sum of unpacked layer sizes, each shared layer once (system df's LayersSize). */
  layersSize(): number {
    return (this.store.db.query("SELECT COALESCE(SUM(size), 0) AS s FROM img_layer").get() as { s: number }).s;
  }

  emit(Action: string, id: string, name?: string): void {
    try { this.onEvent?.({ Action, id, ...(name ? { name } : {}) }); } catch { /* a listener's fault is not the operation's */ }
  }

  /** The image ID a reference names (tag, full ID, sha256:ID, or a unique ID prefix). */
  find(ref: string): string | undefined {
    const full = /^(?:sha256:)?([a-f0-9]{64})$/.exec(ref);
    if (full) return this.store.has(`sha256:${full[1]}`) ? `sha256:${full[1]}` : undefined;
    try {
      const r = parseNamed(ref);
      if (!r.digest) {
        const id = this.store.imageByTag(fullString(withDefaultTag(r)));
        if (id) return id;
      }
    } catch { /* not a name: maybe an ID prefix */ }
    const prefix = /^(?:sha256:)?([a-f0-9]+)$/.exec(ref)?.[1];
    if (!prefix) return undefined;
    const hits = this.store.allIds().filter((id) => id.slice(7).startsWith(prefix));
    return hits.length === 1 ? hits[0] : undefined;
  }

  /** find() or 404 "No such image: busybox:latest". */
  get(ref: string): string {
    const id = this.find(ref);
    if (id) return id;
    // Neither a known name nor an ID: a malformed one says why (400), as dockerd does.
    if (!/^(?:sha256:)?[a-f0-9]{1,64}$/.test(ref)) {
      if (!ref) throw badRequest("image name cannot be blank");
      if (/^sha256:/.test(ref)) throw badRequest("invalid reference format");
      parseNamed(ref);
    }
    throw notFound(`No such image: ${displayRef(ref)}`);
  }

  resolve(ref: string): ResolvedImage {
    const id = this.get(ref);
    const row = this.store.row(id)!;
    return {
      id, config: this.store.config(id), diffIds: row.diffIds,
      layerDirs: row.diffIds.map((d) => this.store.layerPath(d)), tags: this.store.tagsOf(id).map(familiar),
    };
  }

  /** docker import: one layer from a tar (plain or gzip), a config from --change lines. */
  async importTar(src: ByteSource, o: { repo?: string; tag?: string; changes?: string[]; message?: string; source?: string } = {}): Promise<string> {
    const ref = o.repo ? tagReference(o.repo, o.tag) : undefined;
    const cfg = applyChanges({}, o.changes ?? []);
    const layer = await this.store.addLayer(src, undefined, "import", true);
    try {
      const created = new Date().toISOString();
      const msg = o.message || `Imported from ${o.source ?? "-"}`;
      const config: ImageConfig = {
        architecture: GOARCH, comment: msg, config: fullContainerConfig(cfg) as ContainerConfig, container_config: fullContainerConfig({}),
        created, docker_version: BERTH_VERSION, history: [{ created, comment: msg }], os: "linux",
        rootfs: { type: "layers", diff_ids: [layer.diffId] },
      };
      const id = this.store.putBlob(new TextEncoder().encode(JSON.stringify(config)));
      this.store.commitImage(id, config, [layer], ref ? [ref] : []);
      this.emit("import", id, ref ? familiar(ref) : undefined);
      return id;
    } catch (e) {
      this.store.discardLayers([layer.diffId]);
      throw e;
    }
  }

  /** POST /images/load: docker-archive or OCI layout, several images and tags. */
  load(src: ByteSource): Promise<LoadResult> {
    return loadImages(this, src);
  }

  /** GET /images/get?names=…: throws 404 before streaming when a name is unknown. */
  save(names: string[]): import("node:stream").Readable {
    return saveImages(this, names);
  }

  /** POST /images/{name}/tag?repo=&tag= */
  tag(source: string, repo: string, tag?: string): void {
    const id = this.get(source);
    const ref = tagReference(repo, tag);
    this.store.setTag(ref, id);
    this.emit("tag", id, familiar(ref));
  }

  /**
   * DELETE /images/{name}: dockerd's untag/delete records and conflicts. All row changes are one
   * transaction; files and events follow its commit. Unless `noprune`, parents left untagged
   * and unused by the deletion go too, quietly.
   */
  remove(ref: string, o: { force?: boolean; noprune?: boolean; inUse?: InUse } = {}): DeleteItem[] {
    const id = this.get(ref);
    const batch = newBatch();
    const records = this.store.db.transaction(() => this.removeRows(ref, id, o, batch))();
    this.finish(batch);
    return records;
  }

  private removeRows(ref: string, id: string, o: { force?: boolean; noprune?: boolean; inUse?: InUse }, batch: Batch): DeleteItem[] {
    const records: DeleteItem[] = [];
    const refs = this.store.tagsOf(id);
    let quiet = false;
    if (!isIdRef(ref, id)) {
      // A name: it goes first. The last name of an image a container uses needs -f, so that
      // nothing is left dangling by accident.
      const named = fullString(withDefaultTag(parseNamed(ref)));
      const u = usage(o.inUse, id);
      if (!o.force && refs.length <= 1 && u) {
        throw conflict(`conflict: unable to remove repository reference "${ref}" (must force) - container ${short(u.containerId)} is using its referenced image ${short(id)}`);
      }
      this.untagRow(id, named, records, batch);
      if (this.store.tagsOf(id).length > 0) return records;
      // The last name is gone: the image follows unless something keeps it (then it stays, untagged).
      quiet = true;
    } else if (refs.length === 1) {
      // An ID with one name: that name goes too, unless the image cannot (or, unforced, may not) go.
      const c = this.deleteConflict(id, o.force ? HARD : HARD | STOPPED, o.inUse);
      if (c) throw c.error;
      this.untagRow(id, refs[0], records, batch);
    }
    this.deleteHelper(id, records, batch, { force: !!o.force, prune: !o.noprune, quiet, inUse: o.inUse });
    return records;
  }

  private untagRow(id: string, ref: string, records: DeleteItem[], batch: Batch): void {
    this.store.untag(ref);
    records.push({ Untagged: familiar(ref) });
    batch.events.push(["untag", id, familiar(ref)]);
  }

  /**
   * dockerd's conflicts, in its order: child images and running containers are hard (not even
   * -f deletes), remaining names and stopped containers soft (-f does).
   */
  private deleteConflict(id: string, mask: number, inUse?: InUse): { error: ApiError; used: boolean } | undefined {
    const hard = (why: string, used = false) => ({ error: conflict(`conflict: unable to delete ${short(id)} (cannot be forced) - ${why}`), used });
    const soft = (why: string, used = false) => ({ error: conflict(`conflict: unable to delete ${short(id)} (must be forced) - ${why}`), used });
    if (mask & CHILD && this.store.children(id).length) return hard("image has dependent child images");
    const u = usage(inUse, id);
    if (mask & RUNNING && u?.running) return hard(`image is being used by running container ${short(u.containerId)}`, true);
    if (mask & NAMED && this.store.tagsOf(id).length) return soft("image is referenced in multiple repositories");
    if (mask & STOPPED && u && !u.running) return soft(`image is being used by stopped container ${short(u.containerId)}`, true);
    return undefined;
  }

  /**
   * Deletes an image with its names, then (prune) its parent if nothing keeps that. Quiet: a
   * conflict leaves the image in place without an error, unless it is dangling and unused.
   */
  private deleteHelper(id: string, records: DeleteItem[], batch: Batch, o: { force: boolean; prune: boolean; quiet: boolean; inUse?: InUse }): void {
    const c = this.deleteConflict(id, o.force ? HARD : HARD | SOFT, o.inUse);
    if (c) {
      if (o.quiet && (!this.dangling(id) || c.used)) return;
      throw c.error;
    }
    const parent = this.store.row(id)?.parent ?? "";
    for (const r of this.store.tagsOf(id)) this.untagRow(id, r, records, batch);
    records.push(...this.deleteRowsOf(id, batch));
    if (o.prune && parent && this.store.has(parent)) this.deleteHelper(parent, records, batch, { force: false, prune: true, quiet: true, inUse: o.inUse });
  }

  /** No names and no child images. */
  private dangling(id: string): boolean {
    return !this.store.tagsOf(id).length && !this.store.children(id).length;
  }

  /** An untagged image's rows; the Deleted records are its ID, then its freed layers by ChainID. */
  private deleteRowsOf(id: string, batch: Batch): DeleteItem[] {
    const row = this.store.row(id)!;
    const chain: string[] = [];
    row.diffIds.forEach((d, i) => chain.push(i === 0 ? d : sha(`${chain[i - 1]} ${d}`)));
    const gone = this.store.deleteRows(id);
    batch.files.push([id, gone]);
    batch.events.push(["delete", id]);
    const goneSet = new Set(gone);
    const out: DeleteItem[] = [{ Deleted: id }];
    for (let i = row.diffIds.length - 1; i >= 0; i--) if (goneSet.has(row.diffIds[i])) out.push({ Deleted: chain[i] });
    return out;
  }

  private finish(batch: Batch): void {
    for (const [id, gone] of batch.files) this.store.deleteFiles(id, gone);
    for (const [a, id, name] of batch.events) this.emit(a, id, name);
  }

  /**
   * GET /images/json items, newest first. An untagged image that is the parent of another is an
   * intermediate one: listed only with `all`, never as dangling.
   */
  list(o: { all?: boolean; filters?: Filters | string } = {}): Record<string, unknown>[] {
    const f = normalizeFilters(o.filters, ["dangling", "label", "before", "since", "reference", "until"]);
    let dangling: boolean | undefined;
    if (f.dangling) {
      if (f.dangling.includes("true")) dangling = true;
      else if (f.dangling.includes("false")) dangling = false;
      else throw badRequest(`invalid filter 'dangling=${f.dangling.join(",")}'`);
    }
    const before = f.before?.length ? this.store.row(this.get(f.before[0]))!.created : undefined;
    const since = f.since?.length ? this.store.row(this.get(f.since[0]))!.created : undefined;
    if ((f.until ?? []).length > 1) throw badRequest("more than one until filter specified");
    const until = f.until?.length ? parseUntil(f.until[0]) : undefined;
    const refPatterns = f.reference ?? [];
    const matches = (t: Reference) => refPatterns.some((p) => {
      try { return familiarMatch(p, t); } catch (e) { throw badRequest((e as Error).message); }
    });
    const out: Record<string, unknown>[] = [];
    const { rows, tags: allTags, parents } = this.store.listing();
    rows.sort((a, b) => b.created - a.created || (a.id < b.id ? -1 : 1));
    for (const row of rows) {
      let tags = (allTags.get(row.id) ?? []).map((t) => parseNamed(t));
      if (dangling === true && (tags.length || parents.has(row.id))) continue;
      if (refPatterns.length) tags = tags.filter(matches);
      if (!tags.length) {
        if (!o.all && parents.has(row.id)) continue;
        if (dangling === false || refPatterns.length) continue;
      }
      if (!matchLabels(row.labels, f.label ?? [])) continue;
      if (before !== undefined && !(row.created < before)) continue;
      if (since !== undefined && !(row.created > since)) continue;
      if (until !== undefined && !(row.created < until)) continue;
      out.push(summary(row, tags));
    }
    return out;
  }

  /** GET /images/{name}/json */
  inspect(ref: string): Record<string, unknown> {
    const id = this.get(ref);
    const row = this.store.row(id)!;
    const c = this.store.config(id);
    const dirs = row.diffIds.map((d) => this.store.layerPath(d)).reverse();
    const out: Record<string, unknown> = {
      Id: id, RepoTags: this.store.tagsOf(id).map(familiar), RepoDigests: [], Parent: row.parent,
      // an image config without a comment shows its newest history entry's (as dockerd does)
      Comment: c.comment || c.history?.at(-1)?.comment || "",
      Created: c.created ?? "0001-01-01T00:00:00Z", Container: c.container ?? "", ContainerConfig: fullContainerConfig(c.container_config),
      DockerVersion: c.docker_version ?? "", Author: c.author ?? "", Config: c.config ? fullContainerConfig(c.config) : null,
      Architecture: c.architecture ?? "", Os: c.os ?? "linux",
    };
    if (c.variant) out.Variant = c.variant;
    Object.assign(out, {
      Size: row.size, VirtualSize: row.size,
      GraphDriver: {
        Data: dirs.length ? { ...(dirs.length > 1 ? { LowerDir: dirs.slice(1).join(":") } : {}), UpperDir: dirs[0] } : null,
        Name: "overlay2",
      },
      RootFS: { Type: "layers", Layers: row.diffIds },
      Metadata: { LastTagTime: row.lastTagTime ?? "0001-01-01T00:00:00Z" },
    });
    return out;
  }

  /** GET /images/{name}/history, newest first, as dockerd builds it. */
  history(ref: string): Record<string, unknown>[] {
    const id = this.get(ref);
    const row = this.store.row(id)!;
    const c = this.store.config(id);
    const out: Record<string, unknown>[] = [];
    let layer = 0;
    for (const h of c.history ?? []) {
      let size = 0;
      if (!h.empty_layer) {
        if (layer >= row.diffIds.length) throw new ApiError(500, "too many non-empty layers in History section");
        size = this.store.layerSize(row.diffIds[layer++]);
      }
      out.unshift({ Id: "<missing>", Created: Math.floor((Date.parse(h.created ?? "") || 0) / 1000), CreatedBy: h.created_by ?? "", Tags: null, Size: size, Comment: h.comment ?? "" });
    }
    // The newest entry is the image; each older one is named after the parent chain as far as
    // it is known here (an image loaded with its Parent link), "<missing>" below that.
    let at: string | undefined = id;
    for (const h of out) {
      if (!at || !this.store.has(at)) break;
      h.Id = at;
      const tags = this.store.tagsOf(at).map(familiar);
      h.Tags = tags.length ? tags : null;
      at = this.store.row(at)?.parent || undefined;
    }
    return out;
  }

  /**
   * POST /images/prune: dangling images, or with dangling=false every image no container uses,
   * deleted as rmi (without -f) would, one by one; what a conflict keeps is skipped.
   */
  prune(o: { filters?: Filters | string; inUse?: InUse } = {}): { ImagesDeleted: DeleteItem[] | null; SpaceReclaimed: number } {
    const f = normalizeFilters(o.filters, ["dangling", "label", "label!", "until"]);
    let danglingOnly = true;
    for (const v of f.dangling ?? []) {
      if (!/^(1|t|true|0|f|false)$/i.test(v)) throw badRequest(`invalid filter 'dangling=${v}'`);
      danglingOnly = /^(1|t|true)$/i.test(v);
    }
    if ((f.until ?? []).length > 1) throw badRequest("more than one until filter specified");
    const until = f.until?.length ? parseUntil(f.until[0]) : undefined;
    const deleted: DeleteItem[] = [];
    const sizes = new Map<string, number>();
    const space = new Set<string>();
    const { rows, tags: allTags, parents } = this.store.listing();
    for (const row of rows) {
      const tags = allTags.get(row.id) ?? [];
      // a parent is an intermediate when untagged, and never a candidate for dangling-only
      if (parents.has(row.id) && (danglingOnly || !tags.length)) continue;
      if (until !== undefined && !(row.created < until)) continue;
      if (!matchLabels(row.labels, f.label ?? [])) continue;
      if ((f["label!"] ?? []).length && matchLabels(row.labels, f["label!"]!, true)) continue;
      if (danglingOnly && tags.length) continue;
      for (const d of this.store.row(row.id)?.diffIds ?? []) sizes.set(d, this.store.layerSize(d));
      // One transaction per name or image, as dockerd deletes them one by one.
      for (const ref of tags.length ? tags : [row.id]) {
        if (!this.store.has(row.id)) break; // gone with an earlier name's deletion
        const batch = newBatch();
        try {
          deleted.push(...this.store.db.transaction(() => this.removeRows(ref, row.id, { inUse: o.inUse }, batch))());
        } catch (e) {
          if (e instanceof ApiError && e.status === 409) continue;
          throw e;
        }
        this.finish(batch);
        for (const [, gone] of batch.files) for (const d of gone) space.add(d);
      }
    }
    let reclaimed = 0;
    for (const d of space) reclaimed += sizes.get(d) ?? 0;
    return { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  }
}

function usage(inUse: InUse | undefined, id: string): { containerId: string; running: boolean } | undefined {
  const u = inUse?.(id);
  if (!u) return undefined;
  return u === true ? { containerId: "", running: false } : u;
}

/** True when the user named the image by (a prefix of) its ID rather than by a tag. */
function isIdRef(ref: string, id: string): boolean {
  const m = /^(?:sha256:)?([a-f0-9]+)$/.exec(ref);
  if (!m || !id.slice(7).startsWith(m[1])) return false;
  return true;
}

/** repo[:tag] plus an optional separate tag, as a full reference string ("…:latest" by default). */
export function tagReference(repo: string, tag?: string): string {
  const r = parseNamed(repo);
  if (r.digest) throw badRequest("refusing to create a tag with a digest reference");
  refuseDigestName(r);
  if (tag) {
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw badRequest(`invalid tag format: "${tag}"`);
    r.tag = tag;
  }
  return fullString(withDefaultTag(r));
}

function displayRef(ref: string): string {
  if (/^sha256:[a-f0-9]+$/.test(ref)) return ref;
  try { return familiar(fullString(withDefaultTag(parseNamed(ref)))); } catch { return ref; }
}

function matchLabels(labels: Record<string, string> | null, wanted: string[], any = false): boolean {
  const test = (w: string) => {
    const i = w.indexOf("=");
    const k = i < 0 ? w : w.slice(0, i);
    if (!labels || !(k in labels)) return false;
    return i < 0 || labels[k] === w.slice(i + 1);
  };
  return any ? wanted.some(test) : wanted.every(test);
}

function parseUntil(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const d = /^(\d+)(s|m|h)$/.exec(v);
  if (d) return Date.now() / 1000 - Number(d[1]) * ({ s: 1, m: 60, h: 3600 } as Record<string, number>)[d[2]];
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw badRequest(`invalid filter 'until=${v}'`);
  return t / 1000;
}

function summary(row: ImageRow, tags: Reference[]): Record<string, unknown> {
  return {
    Containers: -1, Created: row.created, Id: row.id, Labels: row.labels, ParentId: row.parent,
    RepoDigests: tags.length ? null : ["<none>@<none>"],
    RepoTags: tags.length ? tags.map((t) => `${familiarName(t)}:${t.tag}`) : ["<none>:<none>"],
    SharedSize: -1, Size: row.size, VirtualSize: row.size,
  };
}

export { fullName, HEX64 };
