// Container root filesystems on overlayfs (src/engine/rootfs), as root: an imported busybox
// mounted and writable, whiteouts and opaque dirs from image layers hiding lower files in the
// merged view, an image with no layers, 100 layers (past the one-page mount-data limit),
// export of the merged tree, and nothing mounted or left behind after remove().
import { describe, expect, test, afterAll } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import crypto from "node:crypto";
import type { TarHeader as Headers } from "../../src/engine/archive/pack.ts";
import { RootfsManager, isMounted } from "../../src/engine/rootfs/index.ts";
import { packDir, packStream } from "../../src/engine/archive/pack.ts";
import { extractTo } from "../../src/engine/archive/extract.ts";
import { BUSYBOX, IS_ROOT, makeRootfs } from "../helpers/rootfs.ts";
import { bytesOf, tarOf, type TarEntry } from "../helpers/tar.ts";
import { imageServiceAt } from "../helpers/images.ts";
import { spreadSubdirectories } from "../../src/engine/sys/libc.ts";

const work = fs.mkdtempSync(`${os.tmpdir()}/berth-images-rootfs-`);
const managers: RootfsManager[] = [];
afterAll(() => {
  for (const l of fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const mp = l.split(" ")[4];
    if (mp?.startsWith(work)) Bun.spawnSync(["umount", "-l", mp]);
  }
  fs.rmSync(work, { recursive: true, force: true });
});
let n = 0;
function setup() {
  const { svc: images, root } = imageServiceAt(`${work}/root${++n}`);
  const rootfs = new RootfsManager(images, root);
  managers.push(rootfs);
  return { images, rootfs, root };
}
type E = TarEntry;
const sha = (b: Uint8Array | string) => `sha256:${crypto.createHash("sha256").update(b).digest("hex")}`;
const cid = (s: string) => `berth-images-${s}-${process.pid}`;

/** A docker-archive with one image of the given layers, so layer order is ours to choose. */
async function archiveOf(layers: Buffer[], tag: string): Promise<Buffer> {
  const cfg = JSON.stringify({ architecture: "amd64", os: "linux", created: new Date().toISOString(), config: {}, rootfs: { type: "layers", diff_ids: layers.map(sha) } });
  return tarOf([
    ...layers.map((l, i) => [{ name: `l${i}.tar` }, l] as E),
    [{ name: "c.json" }, cfg],
    [{ name: "manifest.json" }, JSON.stringify([{ Config: "c.json", RepoTags: [tag], Layers: layers.map((_, i) => `l${i}.tar`) }])],
  ]);
}

describe.if(IS_ROOT)("rootfs on overlayfs", () => {
  test.if(!!BUSYBOX)("imported busybox: merged view has the image, writes go to the container's upper dir", async () => {
    const { images, rootfs } = setup();
    const d = `${work}/bb`;
    makeRootfs(d);
    const id = await images.importTar(await bytesOf(packDir(d)), { repo: "busybox", changes: ['CMD ["sh"]'] });
    const merged = rootfs.prepare(cid("bb"), "busybox");
    expect(isMounted(merged)).toBe(true);
    expect(fs.statSync(`${merged}/bin/busybox`).size).toBe(fs.statSync(BUSYBOX!).size);
    const r = Bun.spawnSync(["chroot", merged, "/bin/sh", "-c", "echo hi > /tmp/x; cat /tmp/x"]);
    expect(r.stdout.toString()).toBe("hi\n");
    const p = rootfs.paths(cid("bb"));
    expect(fs.readFileSync(`${p.upper}/tmp/x`, "utf8")).toBe("hi\n");
    const layer = images.resolve(id).layerDirs[0];
    expect(fs.existsSync(`${layer}/tmp/x`)).toBe(false);
    // rmi -f while the container exists: the image goes, its layer stays for the container
    images.remove(id, { force: true });
    expect(fs.existsSync(`${layer}/bin/busybox`)).toBe(true);
    // docker export | tar -x, as the seed workflow does
    const out = `${work}/export-bb`;
    fs.mkdirSync(out);
    const tar = Bun.spawn(["tar", "-C", out, "-xf", "-"], { stdin: "pipe", stderr: "pipe" });
    for await (const c of rootfs.exportTar(cid("bb"))) tar.stdin.write(c);
    tar.stdin.end();
    expect(await tar.exited).toBe(0);
    expect(fs.readlinkSync(`${out}/bin/sh`)).toBe("busybox");
    expect(fs.statSync(`${out}/tmp`).mode & 0o7777).toBe(0o1777);
    expect(fs.readFileSync(`${out}/tmp/x`, "utf8")).toBe("hi\n");
    expect(Bun.spawnSync(["cmp", `${out}/bin/busybox`, BUSYBOX!]).exitCode).toBe(0);
    rootfs.unmount(cid("bb"));
    expect(rootfs.mount(cid("bb"))).toBe(merged);
    rootfs.remove(cid("bb"));
    expect(isMounted(merged)).toBe(false);
    expect(fs.existsSync(p.dir)).toBe(false);
    expect(fs.existsSync(layer)).toBe(false);
  });

  test("whiteouts and opaque dirs in a layer hide the lower layer's files", async () => {
    const { images, rootfs } = setup();
    const lower = await tarOf([[{ name: "etc", type: "directory" }], [{ name: "etc/passwd" }, "root"], [{ name: "etc/keep" }, "k"],
      [{ name: "var", type: "directory" }], [{ name: "var/old" }, "o"]]);
    const upper = await tarOf([[{ name: "etc/.wh.passwd" }], [{ name: "var", type: "directory" }], [{ name: "var/.wh..wh..opq" }], [{ name: "var/new" }, "n"]]);
    await images.load(await archiveOf([lower, upper], "wh:1"));
    const merged = rootfs.prepare(cid("wh"), "wh:1");
    // (hostname, hosts and resolv.conf: the init layer's empty mount points; mtab its link)
    expect(fs.readdirSync(`${merged}/etc`).sort()).toEqual(["hostname", "hosts", "keep", "mtab", "resolv.conf"]);
    expect(fs.readdirSync(`${merged}/var`)).toEqual(["new"]);
    // export shows the merged view: no whiteouts, no hidden files
    const out = `${work}/export-wh`;
    await extractTo(await bytesOf(rootfs.exportTar(cid("wh"))), out);
    expect(fs.readdirSync(`${out}/etc`).sort()).toEqual(["hostname", "hosts", "keep", "mtab", "resolv.conf"]);
    expect(fs.readdirSync(`${out}/var`)).toEqual(["new"]);
    rootfs.remove(cid("wh"));
  });

  test("an image with no layers mounts (empty lower dir); export of an unmounted rootfs mounts it for the stream", async () => {
    const { images, rootfs } = setup();
    await images.load(await archiveOf([], "empty:1"));
    const merged = rootfs.prepare(cid("empty"), "empty:1");
    // nothing but the init layer's mount points and .dockerenv, which the upper layer does not hold
    expect(fs.readdirSync(merged).sort()).toEqual([".dockerenv", "dev", "etc", "proc", "sys"]);
    expect(fs.readdirSync(`${merged}/etc`).sort()).toEqual(["hostname", "hosts", "mtab", "resolv.conf"]);
    expect(fs.readdirSync(rootfs.paths(cid("empty")).upper)).toEqual([]);
    fs.writeFileSync(`${merged}/made`, "m");
    rootfs.unmount(cid("empty"));
    const out = await bytesOf(rootfs.exportTar(cid("empty")));
    expect(out.includes(Buffer.from("made"))).toBe(true);
    expect(isMounted(merged)).toBe(false);
    rootfs.remove(cid("empty"));
  });

  test("100 layers: the option string passes a page, layers go one by one through fsconfig", async () => {
    const { images, rootfs } = setup();
    const layers: Buffer[] = [];
    for (let i = 0; i < 100; i++) layers.push(await tarOf([[{ name: `f${i}` }, String(i)], [{ name: "top" }, String(i)]]));
    await images.load(await archiveOf(layers, "many:1"));
    const p = rootfs.paths(cid("many"));
    const merged = rootfs.prepare(cid("many"), "many:1");
    expect(rootfs.paths(cid("many")).lower.join(":").length).toBeGreaterThan(4096);
    expect(fs.readdirSync(merged).length).toBe(101 + 5); // and the init layer's dev, etc, proc, sys, .dockerenv
    expect(fs.readFileSync(`${merged}/top`, "utf8")).toBe("99");
    rootfs.remove(cid("many"));
    expect(fs.existsSync(p.dir)).toBe(false);
  });

  test("sweep removes root filesystems of containers the daemon does not know", async () => {
    const { images, rootfs } = setup();
    await images.load(await archiveOf([await tarOf([[{ name: "a" }, "a"]])], "sw:1"));
    const keep = rootfs.prepare(cid("keep"), "sw:1");
    const drop = rootfs.prepare(cid("drop"), "sw:1");
    expect(rootfs.sweep(new Set([cid("keep")]))).toEqual([cid("drop")]);
    expect(isMounted(drop)).toBe(false);
    expect(fs.existsSync(rootfs.paths(cid("drop")).dir)).toBe(false);
    expect(isMounted(keep)).toBe(true);
    rootfs.remove(cid("keep"));
  });

  test("unknown image: 404 and nothing created", async () => {
    const { rootfs } = setup();
    expect(() => rootfs.prepare(cid("none"), "nosuch")).toThrow(/No such image: nosuch:latest/);
    expect(fs.existsSync(rootfs.paths(cid("none")).dir)).toBe(false);
    expect(() => rootfs.paths("../x")).toThrow(/invalid container id/);
  });

  // ext4 (this machine's /tmp) keeps the T flag; tmpfs has no flags to set, and that is no error.
  test("the rootfs and containers directories spread their children over block groups (chattr +T) where the filesystem can", () => {
    const { root } = setup();
    const probe = `${work}/probe-t`;
    fs.mkdirSync(probe);
    const ext4Like = Bun.spawnSync(["chattr", "+T", probe]).exitCode === 0;
    const flags = (d: string) => Bun.spawnSync(["lsattr", "-d", d]).stdout.toString().split(" ")[0];
    if (ext4Like) expect(flags(`${root}/rootfs`)).toContain("T");
    expect(spreadSubdirectories(probe)).toBe(ext4Like); // already set: true again, unchanged
    const tmp = `${work}/tmpfs-t`;
    fs.mkdirSync(tmp);
    expect(Bun.spawnSync(["mount", "-t", "tmpfs", "tmpfs", tmp]).exitCode).toBe(0);
    try {
      expect(spreadSubdirectories(tmp)).toBe(false);
    } finally {
      Bun.spawnSync(["umount", tmp]);
    }
    expect(spreadSubdirectories(`${work}/no-such-dir`)).toBe(false);
  });

  test("berth-umount (the removal's unmount helper): 0 when unmounted, the errno when not, 1 for a bad call", () => {
    const helper = `${import.meta.dir}/../../native/umount/berth-umount`;
    const mp = `${work}/umount-me`;
    fs.mkdirSync(mp);
    expect(Bun.spawnSync(["mount", "-t", "tmpfs", "tmpfs", mp]).exitCode).toBe(0);
    expect(isMounted(mp)).toBe(true);
    expect(Bun.spawnSync([helper, mp], { stderr: "pipe" }).exitCode).toBe(0);
    expect(isMounted(mp)).toBe(false);
    const again = Bun.spawnSync([helper, mp], { stderr: "pipe" });
    expect(again.exitCode).toBe(22); // EINVAL: not a mount point
    expect(again.stderr.toString()).toContain("berth-umount");
    expect(Bun.spawnSync([helper], { stderr: "pipe" }).exitCode).toBe(1);
  });
});
