// The engine's view of images, root filesystems, the spec builder and the monitor: the image
// service and the rootfs manager behind the small interfaces the container service and the
// image routes use.
import fs from "node:fs";
import type { Database } from "bun:sqlite";
import { ImageService, type DeleteItem } from "./service.ts";
import { RootfsManager } from "../rootfs/index.ts";
import { makeSpecBuilder } from "../containers/spec/index.ts";
import { monitorApi, runHelper } from "../monitor/api.ts";
import { nativeProgram } from "../../runtime/executor/launch.ts";
import type { ImageSource, MonitorApi, RootfsManager as RootfsDeps, SpecBuilder } from "../containers/deps.ts";
import type { DaemonConfig } from "../daemon/config.ts";
import type { Json } from "../containers/store.ts";

export interface Images extends ImageSource {
  /** set by the engine: does a container use this image (and is it running)? */
  inUse: (imageId: string) => { containerId: string; running: boolean } | undefined;
  count(): number;
  importTar(src: AsyncIterable<Uint8Array>, o: { ref?: string; tag?: string; changes: string[]; message: string }): Promise<string>;
  load(src: AsyncIterable<Uint8Array>): Promise<string[]>;
  save(names: string[]): Promise<AsyncIterable<Uint8Array>>;
  list(o: { all: boolean; digests: boolean; filters: Map<string, string[]> }): Json[];
  inspect(ref: string): Json;
  history(ref: string): Json[];
  tag(ref: string, repo: string, tag?: string): void;
  remove(ref: string, o: { force: boolean; noprune: boolean }): DeleteItem[];
  prune(filters: Map<string, string[]>): Json;
  containerSizes(containerId: string, imageId: string): Promise<{ rw: number; rootfs: number }>;
  rootfsPaths(containerId: string): { lower: string; upper: string; work: string; merged: string } | undefined;
  exportRootfs(containerId: string, imageId: string): Promise<AsyncIterable<Uint8Array>>;
  service: ImageService;
}

/**
 * Bytes of the files below `dir`, counted as dockerd counts a container's SizeRw: every
 * non-directory's size, a file with several hard links once, directories themselves not at all.
 * Asynchronous, so `ps -s` over many containers does not stall the daemon.
 */
export async function treeSize(dir: string): Promise<number> {
  let total = 0;
  const seen = new Set<string>();
  const walk = async (d: string): Promise<void> => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await fs.promises.readdir(d, { withFileTypes: true });
    } catch {
      return; // gone meanwhile, or not a directory
    }
    await Promise.all(entries.map(async (e) => {
      const p = `${d}/${e.name}`;
      if (e.isDirectory()) return walk(p);
      try {
        const st = await fs.promises.lstat(p);
        if (st.nlink > 1) {
          const key = `${st.dev}:${st.ino}`;
          if (seen.has(key)) return;
          seen.add(key);
        }
        total += st.size;
      } catch { /* gone meanwhile */ }
    }));
  };
  await walk(dir);
  return total;
}

export function openImages(db: Database, cfg: DaemonConfig): { images: Images; rootfs: RootfsDeps & { sweep(keep: Set<string>): string[] }; buildSpec: SpecBuilder; monitor: MonitorApi } {
  const svc = new ImageService(db, cfg.dataRoot);
  const roots = new RootfsManager(svc, cfg.dataRoot, runHelper);
  const filters = (f: Map<string, string[]>) => Object.fromEntries(f);
  const images: Images = {
    service: svc,
    inUse: () => undefined,
    // (every create and start asks: the ID and the config only, not the row and tags of resolve())
    resolve(ref) {
      const id = svc.get(ref);
      return { id, config: (svc.store.config(id).config ?? {}) as Json };
    },
    count: () => svc.count(),
    importTar: (src, o) => svc.importTar(src, { repo: o.ref, tag: o.tag, changes: o.changes, message: o.message }),
    async load(src) {
      return (await svc.load(src)).messages;
    },
    async save(names) {
      return svc.save(names) as unknown as AsyncIterable<Uint8Array>;
    },
    list: (o) => svc.list({ all: o.all, filters: filters(o.filters) }),
    inspect: (ref) => svc.inspect(ref),
    history: (ref) => svc.history(ref),
    tag: (ref, repo, tag) => svc.tag(ref, repo, tag),
    remove(ref, o) {
      const r = svc.remove(ref, { force: o.force, noprune: o.noprune, inUse: (id) => images.inUse(id) });
      roots.sweepInit();
      return r;
    },
    prune(f) {
      const r = svc.prune({ filters: filters(f), inUse: (id) => images.inUse(id) });
      roots.sweepInit();
      return r;
    },
    async containerSizes(containerId, imageId) {
      const p = roots.paths(containerId);
      let base = 0;
      try {
        base = Number((svc.inspect(imageId) as { Size?: number }).Size ?? 0);
      } catch { /* image gone */ }
      const rw = await treeSize(p.upper);
      return { rw, rootfs: rw + base };
    },
    rootfsPaths(containerId) {
      try {
        const p = roots.paths(containerId);
        return { lower: p.lower.join(":"), upper: p.upper, work: p.work, merged: p.merged };
      } catch {
        return undefined;
      }
    },
    async exportRootfs(containerId, imageId) {
      roots.prepare(containerId, imageId);
      return roots.exportTar(containerId) as unknown as AsyncIterable<Uint8Array>;
    },
  };
  const rootfs = {
    prepare: (id: string, imageId: string) => roots.prepare(id, imageId),
    reserve: (id: string, imageId: string) => roots.reserve(id, imageId),
    remove: (id: string) => roots.removeAsync(id),
    /** root filesystems of containers the store no longer has (a crash between the two) */
    sweep: (keep: Set<string>) => roots.sweep(keep),
  };
  const initPath = nativeProgram("init/berth-init", "BERTH_INIT");
  return { images, rootfs, buildSpec: makeSpecBuilder({ bridgeAs: "none-quiet", initPath }), monitor: monitorApi };
}
