// Tar extraction rules (src/engine/archive): round trip with owners/modes/times/links, every
// hostile shape refused with one clear line and nothing left behind, whiteouts for overlayfs.
import { describe, expect, test, afterAll } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import zlib from "node:zlib";
import crypto from "node:crypto";
import type { TarHeader as Headers } from "../../src/engine/archive/pack.ts";
import { extractTo } from "../../src/engine/archive/extract.ts";
import { packDir, packStream } from "../../src/engine/archive/pack.ts";
import { lgetxattr } from "../../src/engine/sys/libc.ts";
import { bytesOf, tarOf, type TarEntry } from "../helpers/tar.ts";

const IS_ROOT = process.getuid?.() === 0;
const work = fs.mkdtempSync(`${os.tmpdir()}/berth-images-archive-`);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));


type E = TarEntry;

let n = 0;
const fresh = () => `${work}/d${++n}`;

describe("extract", () => {
  test("round trip keeps modes, owners, times, symlinks, hardlinks; DiffID is the tar's sha256", async () => {
    const src = fresh();
    fs.mkdirSync(`${src}/a/b`, { recursive: true });
    fs.writeFileSync(`${src}/a/b/f`, "hello");
    if (IS_ROOT) fs.chownSync(`${src}/a/b/f`, 1234, 5678);
    fs.chmodSync(`${src}/a/b/f`, 0o4755);
    fs.symlinkSync("../b/f", `${src}/a/b/rel`);
    fs.symlinkSync("/etc/passwd", `${src}/a/abs`);
    fs.linkSync(`${src}/a/b/f`, `${src}/a/hard`);
    fs.utimesSync(`${src}/a/b`, new Date(2e12), new Date(2e12));
    const tarBytes = await bytesOf(packDir(src));
    const dest = fresh();
    const res = await extractTo(tarBytes, dest);
    expect(res.diffId).toBe(`sha256:${crypto.createHash("sha256").update(tarBytes).digest("hex")}`);
    expect(res.size).toBe(5 + "../b/f".length + "/etc/passwd".length); // the file, and each symlink's target (lstat sizes, as dockerd counts)
    expect(fs.readFileSync(`${dest}/a/b/f`, "utf8")).toBe("hello");
    const st = fs.statSync(`${dest}/a/b/f`);
    expect(st.mode & 0o7777).toBe(0o4755);
    if (IS_ROOT) expect([st.uid, st.gid]).toEqual([1234, 5678]);
    expect(fs.readlinkSync(`${dest}/a/b/rel`)).toBe("../b/f");
    expect(fs.readlinkSync(`${dest}/a/abs`)).toBe("/etc/passwd");
    expect(fs.statSync(`${dest}/a/hard`).ino).toBe(st.ino);
    expect(fs.statSync(`${dest}/a/b`).mtimeMs).toBe(2e12);
    // gzip, zstd, bzip2 and xz input give the same DiffID (of the uncompressed bytes)
    const res2 = await extractTo(zlib.gzipSync(tarBytes), fresh());
    expect(res2.diffId).toBe(res.diffId);
    expect((await extractTo(zlib.zstdCompressSync(tarBytes), fresh())).diffId).toBe(res.diffId);
    for (const prog of ["bzip2", "xz"]) {
      if (!Bun.which(prog)) continue;
      const c = Bun.spawnSync([prog, "-c"], { stdin: tarBytes }).stdout;
      const d = fresh();
      expect((await extractTo(c, d)).diffId).toBe(res.diffId);
      expect(fs.readFileSync(`${d}/a/b/f`, "utf8")).toBe("hello");
    }
  });

  const hostile: [string, () => Promise<Buffer>, RegExp][] = [
    ["dot-dot", () => tarOf([[{ name: "ok" }, "x"], [{ name: "a/../../evil" }, "x"]]), /contains "\.\."/],
    ["absolute", () => tarOf([[{ name: "/etc/evil" }, "x"]]), /absolute path/],
    ["symlink escape", () => tarOf([[{ name: "a", type: "directory" }], [{ name: "a/l", type: "symlink", linkname: "../../../etc" }]]), /points outside/],
    ["hardlink escape", () => tarOf([[{ name: "h", type: "link", linkname: "../../etc/passwd" }]]), /contains "\.\."/],
    ["hardlink absolute", () => tarOf([[{ name: "h", type: "link", linkname: "/etc/passwd" }]]), /absolute path/],
    ["symlink planted in parent", () => tarOf([[{ name: "d", type: "symlink", linkname: "/tmp" }], [{ name: "d/evil" }, "x"]]), /goes through the symlink "d"/],
    ["in-root symlink planted in parent", () => tarOf([[{ name: "real", type: "directory" }], [{ name: "d", type: "symlink", linkname: "real" }], [{ name: "d/x" }, "x"]]), /goes through the symlink/],
    ["dir replaced by a symlink, then written through", () => tarOf([[{ name: "d", type: "directory" }], [{ name: "d/a" }, "x"], [{ name: "d", type: "symlink", linkname: "/tmp" }], [{ name: "d/evil" }, "x"]]), /goes through the symlink "d"/],
    ["hardlink through a planted symlink", () => tarOf([[{ name: "s", type: "symlink", linkname: "/etc" }], [{ name: "h", type: "link", linkname: "s/passwd" }]]), /goes through the symlink "s"/],
    ["huge header", () => tarOf([[{ name: "x", pax: { comment: "A".repeat(5 << 20) } }, "x"]]), /tar header too large/],
    ["long name", () => tarOf([[{ name: "a/".repeat(3000) + "f" }, "x"]]), /name too long/],
    ["bad gzip", async () => { const g = zlib.gzipSync(await tarOf([[{ name: "f" }, "x".repeat(1000)]])); g[20] ^= 0xff; g[30] ^= 0xff; return g.subarray(0, g.length - 8); }, /bad gzip data/],
    ["bad xz", async () => {
      if (!Bun.which("xz")) return Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3]);
      const c = Bun.spawnSync(["xz", "-c"], { stdin: await tarOf([[{ name: "f" }, "x".repeat(9000)]]) }).stdout; c[40] ^= 0xff; c[41] ^= 0xff; return Buffer.from(c);
    }, /bad xz data|not a valid tar|truncated|xz program is not installed/],
    ["bad zstd", async () => { const c = zlib.zstdCompressSync(await tarOf([[{ name: "f" }, "x".repeat(9000)]])); return c.subarray(0, c.length - 10); }, /bad zstd data|truncated/],
    ["GNU sparse entry", async () => { const t = await tarOf([[{ name: "sparse" }, "x"]]); t[156] = "S".charCodeAt(0); let sum = 0; t.fill(32, 148, 156); for (let i = 0; i < 512; i++) sum += t[i]; t.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "latin1"); return t; }, /unsupported type/],
    ["empty", async () => Buffer.alloc(0), /empty archive/],
    ["not a tar", async () => Buffer.from("this is not a tar archive at all".repeat(40)), /not a valid tar|truncated/],
    ["truncated", async () => (await tarOf([[{ name: "f" }, "x".repeat(5000)]])).subarray(0, 2048), /truncated|unexpected end/],
  ];
  for (const [label, make, want] of hostile) {
    test(`hostile: ${label} → clear error, nothing left`, async () => {
      const dest = fresh();
      const before = fs.readdirSync(work).length;
      const err = await extractTo(await make(), dest).then(() => undefined, (e) => e as Error);
      expect(err).toBeInstanceOf(Error);
      expect(err!.message).toMatch(want);
      expect(err!.message).not.toContain("\n");
      expect(fs.existsSync(dest)).toBe(false);
      expect(fs.readdirSync(work).length).toBe(before);
    });
  }

  // The hang behind a flaky `docker import` of a hostile tarball: the entry failed while the
  // client's next bytes were still on their way; when they came, the feeder waited for the
  // destroyed parser to drain, and the extraction (and the client) waited for good.
  test("an entry that fails while the body's next bytes are still on their way: the error comes before them, and nothing is fed after it", async () => {
    const bad = await tarOf([[{ name: "../escape" }, "x"]]);
    let fedAfter = 0, failed = false, lateSent = false;
    async function* slowBody(): AsyncGenerator<Uint8Array> {
      yield bad.subarray(0, 1024); // the hostile header and its data
      await Bun.sleep(500);        // the rest comes late, after the entry has failed
      lateSent = true;
      yield bad.subarray(1024);
      yield new Uint8Array(64 << 10);
    }
    const err = await extractTo(slowBody(), fresh(), { onData: () => { if (failed) fedAfter++; } }).then(() => undefined, (e) => e as Error);
    failed = true;
    expect(err?.message).toContain("..");
    expect(lateSent).toBe(false); // answered without waiting for the late bytes
    await Bun.sleep(700); // they arrive now: the stopped feeder takes none of them
    expect(lateSent).toBe(true);
    expect(fedAfter).toBe(0);
  });

  test.if(IS_ROOT)("whiteouts become 0:0 char devices, .wh..wh..opq an opaque xattr; devices as root", async () => {
    const dest = fresh();
    await extractTo(await tarOf([
      [{ name: "etc", type: "directory" }],
      [{ name: "etc/.wh.passwd" }],
      [{ name: "var/.wh..wh..opq" }],
      [{ name: ".wh..wh.plnk", type: "directory" }],
      [{ name: "dev/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 }],
      [{ name: "fifo", type: "fifo" }],
    ]), dest, { whiteouts: true });
    const wh = fs.lstatSync(`${dest}/etc/passwd`);
    expect(wh.isCharacterDevice()).toBe(true);
    expect(wh.rdev).toBe(0);
    expect(Buffer.from(lgetxattr(`${dest}/var`, "trusted.overlay.opaque")!).toString()).toBe("y");
    expect(fs.existsSync(`${dest}/.wh..wh.plnk`)).toBe(false);
    expect(fs.lstatSync(`${dest}/dev/null`).rdev).toBe(fs.statSync("/dev/null").rdev);
    expect(fs.lstatSync(`${dest}/fifo`).isFIFO()).toBe(true);
  });

  test.if(IS_ROOT)("pax xattrs: file capabilities and user.* kept, trusted.overlay.* refused", async () => {
    const dest = fresh();
    const cap = String.fromCharCode(1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0); // cap_net_raw=ep
    await extractTo(await tarOf([[{ name: "ping", mode: 0o755, pax: { "SCHILY.xattr.security.capability": cap, "SCHILY.xattr.user.note": "hi" } }, "x"],
      [{ name: "d", type: "directory", pax: { "SCHILY.xattr.trusted.overlay.redirect": "/etc" } }]]), dest);
    expect(Array.from(lgetxattr(`${dest}/ping`, "security.capability")!)).toEqual(Array.from(Buffer.from(cap, "latin1")));
    expect(Buffer.from(lgetxattr(`${dest}/ping`, "user.note")!).toString()).toBe("hi");
    expect(lgetxattr(`${dest}/d`, "trusted.overlay.redirect")).toBeUndefined();
  });

  test("without whiteout mode a .wh. file is an ordinary file; devices refused when not allowed", async () => {
    const dest = fresh();
    await extractTo(await tarOf([[{ name: ".wh.x" }, "k"]]), dest);
    expect(fs.readFileSync(`${dest}/.wh.x`, "utf8")).toBe("k");
    const err = await extractTo(await tarOf([[{ name: "n", type: "character-device", devmajor: 1, devminor: 3 }]]), fresh(), { devices: false }).catch((e) => e);
    expect(String(err)).toMatch(/device nodes need root/);
  });
});
