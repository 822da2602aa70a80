// Container root filesystems on overlayfs: lower = the init layer (init-layer.ts) and the
// image's layers (top first), upper and work per container under <root>/rootfs/<id>/. mount(2)
// is called through bun:ffi; when the option string would pass the kernel's one-page limit
// (many layers) the layers are handed one by one through fsconfig("lowerdir+") instead, so long
// paths never matter.
import fs from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import { MNT_DETACH, mount, mountOverlayFsconfig, spreadSubdirectories, umount2 } from "../sys/libc.ts";
import { packDir } from "../archive/pack.ts";
import { badRequest, notFound } from "../errors.ts";
import type { ImageService } from "../images/service.ts";
import { InitLayers } from "./init-layer.ts";
import { nativeProgram } from "../../runtime/executor/launch.ts";

const PAGE = 4096;
// native/umount (1.3 ms less per call than util-linux's, umount.c says why), else util-linux's.
const NATIVE_UMOUNT = nativeProgram("umount/berth-umount", "BERTH_UMOUNT");
const UMOUNT = fs.existsSync(NATIVE_UMOUNT) ? NATIVE_UMOUNT : (Bun.which("umount", { PATH: "/usr/bin:/bin:/usr/sbin:/sbin" }) ?? undefined);
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export interface RootfsPaths { dir: string; merged: string; upper: string; work: string; lower: string[] }

export class RootfsManager {
  readonly base: string;
  private init: InitLayers;

  /** `runHelper`: how a helper program is run (berthd: its spawner); default Bun's spawn. */
  constructor(private images: ImageService, dataRoot: string,
    private runHelper: (argv: string[]) => Promise<number> = (argv) => Bun.spawn(argv, { stdio: ["ignore", "ignore", "ignore"] }).exited) {
    fs.mkdirSync(`${dataRoot}/rootfs`, { recursive: true, mode: 0o710 });
    spreadSubdirectories(`${dataRoot}/rootfs`); // upper and work churn: see libc.ts
    // mountinfo shows resolved paths; a symlinked data root must not make mounts look absent.
    this.base = fs.realpathSync(`${dataRoot}/rootfs`);
    this.init = new InitLayers(`${fs.realpathSync(dataRoot)}/rootfs-init`);
  }

  paths(containerId: string): RootfsPaths {
    if (!ID.test(containerId)) throw badRequest(`invalid container id "${containerId}" for a root filesystem`);
    const pin = this.images.store.rootfsImage(containerId);
    const dir = `${this.base}/${containerId}`;
    let lower: string[] = [];
    if (pin) {
      lower = pin.diffIds.length ? [...pin.diffIds].reverse().map((d) => this.images.store.layerPath(d)) : [this.images.store.emptyLayer()];
      const init = this.init.forStack(pin.diffIds, lower);
      if (init) lower.unshift(init);
    }
    return { dir, merged: `${dir}/merged`, upper: `${dir}/upper`, work: `${dir}/work`, lower };
  }

  /**
   * Ties the image's layers to the container (a row in the store, no files yet), so an rmi -f
   * cannot take them and inspect can name them before the rootfs is mounted.
   */
  reserve(containerId: string, imageRef: string): void {
    if (this.images.store.rootfsImage(containerId)) return;
    const id = this.images.get(imageRef);
    this.images.store.pinRootfs(containerId, id, this.images.store.row(id)!.diffIds);
  }

  /** Creates (once) and mounts the container's rootfs; returns the merged path. */
  prepare(containerId: string, imageRef: string): string {
    const p0 = this.paths(containerId);
    // Mounted already (soon after create) and still mounted: two stats and no mkdirs.
    if (p0.lower.length && isMounted(p0.merged)) return p0.merged; // (lower: pinned layers)
    // Pin the layers before anything else, so an rmi -f in between cannot take them.
    this.reserve(containerId, imageRef);
    for (const d of [p0.dir, p0.upper, p0.work, p0.merged]) fs.mkdirSync(d, { recursive: true, mode: 0o755 });
    try {
      this.mount(containerId);
    } catch (e) {
      if (!isMounted(p0.merged)) this.remove(containerId);
      throw e;
    }
    return p0.merged;
  }

  mount(containerId: string): string {
    const p = this.paths(containerId);
    if (!p.lower.length) throw notFound(`no root filesystem for container ${containerId}`);
    if (isMounted(p.merged)) return p.merged;
    // index=off: distributions that default it on would refuse lower layers shared by mounts.
    const opts = `lowerdir=${p.lower.join(":")},upperdir=${p.upper},workdir=${p.work},index=off`;
    if (opts.length < PAGE - 1) mount("overlay", p.merged, "overlay", 0, opts);
    else {
      mountOverlayFsconfig(p.merged, [
        ...p.lower.map((l) => ["lowerdir+", l] as [string, string]),
        ["upperdir", p.upper], ["workdir", p.work], ["index", "off"],
      ]);
    }
    return p.merged;
  }

  unmount(containerId: string): void {
    const { merged } = this.paths(containerId);
    if (!isMounted(merged)) return;
    try {
      umount2(merged);
    } catch (e) {
      if ((e as { code?: string }).code === "EBUSY") umount2(merged, MNT_DETACH);
      else if ((e as { code?: string }).code !== "EINVAL") throw e;
    }
  }

  /** Unmounts and deletes the container's layer, then frees image layers nothing else needs. */
  remove(containerId: string): void {
    const p = this.paths(containerId);
    this.unmount(containerId);
    fs.rmSync(p.dir, { recursive: true, force: true });
    this.unpin(containerId);
  }

  /** Lets go of the container's layers; the init layer goes with the last user of its stack. */
  private unpin(containerId: string): void {
    const pin = this.images.store.rootfsImage(containerId);
    this.images.store.unpinRootfs(containerId);
    if (pin && !this.images.store.has(pin.imageId)) this.sweepInit();
  }

  /**
   * remove, off the event loop: both steps sleep in the kernel for milliseconds (an unmount
   * waits for an RCU grace period, 2 to 30 ms measured here, and deleting the upper and work
   * directories waits on the filesystem), which would stall every other request meanwhile.
   * (Measured during 50 concurrent starts: median 1.5 ms, one in ten over 9 ms, up to 86 ms.)
   * The unmount runs in berth-umount (or util-linux's umount), started by the spawner
   * (runHelper), the deletion in Bun's fs threads.
   */
  async removeAsync(containerId: string): Promise<void> {
    const p = this.paths(containerId);
    if (isMounted(p.merged)) {
      const code = UMOUNT ? await this.runHelper([UMOUNT, p.merged]).catch(() => 1) : 1;
      // Busy, or no umount on this host: the in-process way, with its lazy fallback.
      if (code !== 0 || isMounted(p.merged)) this.unmount(containerId);
    }
    await fs.promises.rm(p.dir, { recursive: true, force: true });
    this.unpin(containerId);
  }

  /**
   * Reconciliation after a restart: removes the root filesystems (mounts, dirs, layer pins) of
   * containers the daemon no longer knows.
   */
  sweep(keep: Set<string>): string[] {
    const gone = this.sweepContainers(keep);
    this.sweepInit();
    return gone;
  }

  /** Init layers of stacks that no image nor container uses any more (after an rmi, say). */
  sweepInit(): void {
    this.init.sweep(this.images.store.layerStacks());
  }

  private sweepContainers(keep: Set<string>): string[] {
    const gone: string[] = [];
    const pinned = (this.images.store.db.query("SELECT container_id FROM img_rootfs").all() as { container_id: string }[]).map((r) => r.container_id);
    for (const id of new Set([...fs.readdirSync(this.base), ...pinned])) {
      if (keep.has(id) || !ID.test(id)) continue;
      this.remove(id);
      gone.push(id);
    }
    return gone;
  }

  /** docker export: the merged tree as a tar (mounted for the duration if it was not). */
  exportTar(containerId: string): Readable {
    const p = this.paths(containerId);
    if (!p.lower.length) throw notFound(`no root filesystem for container ${containerId}`);
    const wasMounted = isMounted(p.merged);
    if (!wasMounted) this.mount(containerId);
    const out = packDir(p.merged);
    if (!wasMounted) out.once("close", () => { try { this.unmount(containerId); } catch { /* reported by the next mount */ } });
    return out;
  }
}

/**
 * Whether the overlay is mounted on `p`: an overlay has a device of its own, so its mount point's
 * st_dev differs from its parent's. (Two stats, where reading /proc/self/mountinfo grew with
 * every running container.)
 */
export function isMounted(p: string): boolean {
  try {
    return fs.statSync(p).dev !== fs.statSync(path.dirname(p)).dev;
  } catch {
    return false;
  }
}
