// The init layer (src/engine/rootfs/init-layer.ts): what an image lacks of the default mount
// points, looked up through its layers as overlayfs would (whiteouts, a symlink or file in the
// way), made once per stack with the image's own attributes on the directories it fills, and
// swept when no image nor container uses the stack any more.
import { describe, expect, test, afterAll } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import { InitLayers, MOUNT_POINTS, missingEntries, probe } from "../../src/engine/rootfs/init-layer.ts";
import { S_IFCHR, mknod } from "../../src/engine/sys/libc.ts";
import { buildSpec } from "../../src/engine/containers/spec/index.ts";
import { CAPABILITIES } from "../../src/runtime/linux.ts";

const IS_ROOT = process.getuid?.() === 0;
const work = fs.mkdtempSync(`${os.tmpdir()}/berth-init-layer-`);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
let n = 0;

/** A layer dir from a spec: "d" dir, "f" file, "w" whiteout, "l:target" symlink. */
function layer(entries: Record<string, string>): string {
  const dir = `${work}/layer${++n}`;
  fs.mkdirSync(dir);
  for (const [p, kind] of Object.entries(entries)) {
    const full = `${dir}/${p}`;
    if (kind === "d") fs.mkdirSync(full, { recursive: true });
    else if (kind === "f") fs.writeFileSync(full, "x");
    else if (kind === "w") mknod(full, S_IFCHR | 0o600, 0n);
    else if (kind.startsWith("l:")) fs.symlinkSync(kind.slice(2), full);
  }
  return dir;
}

const paths = (layers: string[]) => missingEntries(layers).map((e) => e.path);
/** An image that has everything the init layer would add. */
const FULL = {
  proc: "d", sys: "d", dev: "d", etc: "d", "etc/hosts": "f", "etc/hostname": "f", "etc/resolv.conf": "f", ".dockerenv": "f", "etc/mtab": "l:/proc/mounts",
};

describe("init layer", () => {
  test("covers every mount point of a default container that no other mount holds", () => {
    const leaves = MOUNT_POINTS.map((m) => `/${m.path}`);
    const host = {
      exists: () => false, device: () => undefined, devices: () => [], blkioWeight: () => true, hostname: () => "h",
      caps: () => [...CAPABILITIES], cpus: () => ({ count: 1, cpuset: "0", mems: "0" }),
    };
    const { spec } = buildSpec({
      id: "0".repeat(64), config: { Cmd: ["sh"] }, hostConfig: { NetworkMode: "none" }, image: {}, rootfs: "/r",
      files: { hostsPath: "/c/hosts", hostnamePath: "/c/hostname", resolvConfPath: "/c/resolv.conf" }, cgroupsPath: "/x", host,
    });
    const dests = (spec.mounts ?? []).map((m) => m.destination);
    expect(dests.length).toBeGreaterThan(5);
    const top = dests.filter((d) => !dests.some((p) => p !== d && d.startsWith(`${p}/`)));
    expect(top.sort()).toEqual([...leaves].sort());
  });

  test("only what the image lacks, parents first", () => {
    const base = layer({ proc: "d", sys: "d", dev: "d", etc: "d", "etc/hosts": "f" });
    expect(paths([base])).toEqual(["etc", "etc/resolv.conf", "etc/hostname", ".dockerenv", "etc/mtab"]);
    expect(paths([layer({ bin: "d" })])).toEqual(["proc", "sys", "dev", "etc", "etc/resolv.conf", "etc/hostname", "etc/hosts", ".dockerenv", "etc/mtab"]);
    expect(paths([layer(FULL)])).toEqual([]);
  });

  test.skipIf(!IS_ROOT)("a whiteout above hides what a lower layer has", () => {
    const lower = layer(FULL);
    const upper = layer({ etc: "d", "etc/hosts": "w" });
    expect(probe([upper, lower], "etc/hosts").found).toBe("absent");
    expect(probe([lower], "etc/hosts").found).toBe("present");
    expect(paths([upper, lower])).toEqual(["etc", "etc/hosts"]);
    const gone = layer({ etc: "w" });
    expect(paths([gone, lower])).toEqual(["etc", "etc/resolv.conf", "etc/hostname", "etc/hosts", "etc/mtab"]);
  });

  test("something in the way is left to the executor: a symlinked /etc, a file at /proc", () => {
    const l = layer({ proc: "f", sys: "d", dev: "d", "usr/etc": "d", etc: "l:usr/etc" });
    expect(probe([l], "etc/hosts").found).toBe("blocked");
    expect(paths([l])).toEqual([".dockerenv"]);
    // a symlink in an upper layer wins over a lower directory
    const lower = layer({ etc: "d" });
    expect(paths([l, lower])).toEqual([".dockerenv"]);
  });

  test.skipIf(!IS_ROOT)("made once per stack, with the image's attributes on the directories it fills; swept when unused", () => {
    const img = layer({ proc: "d", sys: "d", dev: "d", etc: "d" });
    fs.chmodSync(`${img}/etc`, 0o750);
    fs.chownSync(`${img}/etc`, 1234, 5678);
    fs.utimesSync(`${img}/etc`, new Date(1e12), new Date(1.5e12));
    const base = `${work}/init`;
    const layers = new InitLayers(base);
    const dir = layers.forStack(["sha256:a"], [img])!;
    expect(dir.startsWith(`${base}/`)).toBe(true);
    expect(fs.readdirSync(`${dir}/etc`).sort()).toEqual(["hostname", "hosts", "mtab", "resolv.conf"]);
    expect(fs.readdirSync(dir).sort()).toEqual([".dockerenv", "etc"]);
    expect(fs.readlinkSync(`${dir}/etc/mtab`)).toBe("/proc/mounts");
    expect(fs.statSync(`${dir}/.dockerenv`).mode & 0o777).toBe(0o755);
    const st = fs.statSync(`${dir}/etc`);
    expect([st.mode & 0o7777, st.uid, st.gid, st.mtimeMs]).toEqual([0o750, 1234, 5678, 1.5e12]);
    expect(fs.statSync(`${dir}/etc/hosts`).size).toBe(0);
    expect(layers.forStack(["sha256:a"], [img])).toBe(dir);
    // a new manager (a daemon restart) finds it instead of making another
    expect(new InitLayers(base).forStack(["sha256:a"], [img])).toBe(dir);
    expect(layers.forStack(["sha256:b"], [layer(FULL)])).toBeUndefined();
    fs.mkdirSync(`${base}/.tmp-crashed`);
    layers.sweep([["sha256:a"]]);
    expect(fs.readdirSync(base)).toEqual([dir.slice(base.length + 1)]);
    layers.sweep([]);
    expect(fs.readdirSync(base)).toEqual([]);
    // gone from disk, so made anew on the next use
    expect(fs.existsSync(layers.forStack(["sha256:a"], [img])!)).toBe(true);
  });
});
