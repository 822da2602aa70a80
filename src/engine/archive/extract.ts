// Safe tar extraction into a directory that is created here and appears only when complete:
// entries go into "<dest>.tmp-XXXX", which is renamed to <dest> on success and removed on any
// error, so a hostile or truncated archive leaves nothing. The rules (ours, not the library's):
// no absolute names or "..", no path through a symlink (every parent is lstat'ed; nothing else
// writes into the tmp dir while we work, so the check cannot race), symlinks whose relative
// target climbs out and hardlinks to outside names are refused, devices only as root, and
// in layer mode docker's whiteouts become overlayfs ones.
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import * as tar from "tar-stream";
import { ArchiveError, decompress, roomOrClose, type ByteSource } from "./stream.ts";
import { lsetxattr, makedev, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from "../sys/libc.ts";
import type { TarHeader } from "./pack.ts";
import { writeAll } from "../../runtime/io.ts";

export interface ExtractOptions {
  /** Turn .wh.NAME into a 0:0 char device and .wh..wh..opq into trusted.overlay.opaque=y. */
  whiteouts?: boolean;
  /** Keep uid/gid from the archive (default: when running as root). */
  owners?: boolean;
  /** Allow device nodes (default: when running as root). */
  devices?: boolean;
  /** Sees every uncompressed byte (e.g. to keep the layer tar as a blob). */
  onData?: (chunk: Uint8Array) => void | Promise<void>;
  /** No bytes at all is an empty layer (docker import), not an error. */
  allowEmpty?: boolean;
}

export interface ExtractResult {
  /** sha256 of the uncompressed tar: the layer's DiffID. */
  diffId: string;
  /** Sum of regular-file sizes and symlink target lengths (what docker reports as a layer's size). */
  size: number;
  /** Bytes of uncompressed tar. */
  tarSize: number;
}

const MAX_NAME = 4096;
const MAX_COMPONENT = 255;
const WH = ".wh.";
const OPAQUE = ".wh..wh..opq";
const isRoot = process.getuid?.() === 0;

/** Splits an entry name into components, refusing what could leave the target. */
export function cleanName(name: string, what = "entry"): string[] {
  if (name.length > MAX_NAME) throw new ArchiveError(`${what} name too long (${name.length} bytes, limit ${MAX_NAME})`);
  if (name.includes("\0")) throw new ArchiveError(`${what} name contains a NUL byte`);
  if (name.startsWith("/")) throw new ArchiveError(`${what} "${short(name)}" has an absolute path`);
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new ArchiveError(`${what} "${short(name)}" contains ".."`);
  const long = parts.find((p) => Buffer.byteLength(p) > MAX_COMPONENT);
  if (long) throw new ArchiveError(`${what} "${short(name)}" has a component longer than ${MAX_COMPONENT} bytes`);
  return parts;
}

const short = (s: string) => (s.length > 120 ? s.slice(0, 120) + "…" : s);

/** True when a relative symlink target, read from the link's directory, climbs above the root. */
export function escapes(linkParts: string[], target: string): boolean {
  if (target.startsWith("/")) return false; // resolved inside the container's root at run time
  let depth = linkParts.length - 1;
  for (const p of target.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") { if (--depth < 0) return true; } else depth++;
  }
  return false;
}

/** Extracts `src` (plain or gzip tar) to `dest`, which must not exist yet. */
export async function extractTo(src: ByteSource, dest: string, opts: ExtractOptions = {}): Promise<ExtractResult> {
  const tmp = `${dest}.tmp-${crypto.randomBytes(6).toString("hex")}`;
  fs.mkdirSync(tmp, { mode: 0o755 });
  try {
    const res = await extractInto(src, tmp, opts);
    fs.renameSync(tmp, dest);
    return res;
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Extracts into an existing (empty) directory; the caller owns cleanup on error. */
export async function extractInto(src: ByteSource, root: string, opts: ExtractOptions = {}): Promise<ExtractResult> {
  const owners = opts.owners ?? isRoot;
  const devices = opts.devices ?? isRoot;
  const hash = crypto.createHash("sha256");
  let tarSize = 0;
  let size = 0;
  const dirTimes: [string, Date][] = [];
  const known: DirCache = new Set();
  const extract = tar.extract();
  let streamErr: Error | undefined;
  extract.on("error", (e: Error) => { streamErr ??= e; });
  // Set when the entries failed: the feeder then writes nothing more, to the parser or to
  // onData (whose file the caller closes once we throw), whenever its next chunk comes.
  let stopped = false;
  const halted = () => streamErr ?? new ArchiveError("tar parser stopped");

  const feeding = (async () => {
    try {
      for await (const chunk of decompress(src)) {
        if (stopped || extract.destroyed) throw halted();
        hash.update(chunk);
        tarSize += chunk.length;
        if (opts.onData) await opts.onData(chunk);
        if (stopped) throw halted();
        if (!extract.write(chunk)) await roomOrClose(extract);
        if (extract.destroyed) throw halted();
      }
      (extract as unknown as { end(): void }).end(); // streamx's typings want an argument
    } catch (e) {
      extract.destroy(e as Error);
      throw e;
    }
  })();
  feeding.catch(() => {});

  try {
    for await (const entry of extract) {
      const h = entry.header as TarHeader;
      const fd = await place(root, h, { owners, devices, whiteouts: !!opts.whiteouts }, dirTimes, known);
      if (fd !== undefined) {
        try {
          for await (const chunk of entry) writeAll(fd, chunk as Uint8Array);
        } finally {
          fs.closeSync(fd);
        }
        finish(root, h, owners);
        size += h.size ?? 0;
      } else {
        // dockerd's layer size counts a symlink as lstat does: the length of its target
        if (h.type === "symlink") size += Buffer.byteLength(h.linkname ?? "");
        entry.resume();
        for await (const _ of entry) void _;
      }
    }
    await feeding;
    if (streamErr) throw streamErr;
    if (tarSize === 0 && !opts.allowEmpty) throw new ArchiveError("empty archive: no data");
  } catch (e) {
    // Not waiting for the feeder: it may be waiting for the client's next bytes, and the
    // client may wait for our answer. It stops at its next chunk, or when the body ends.
    stopped = true;
    extract.destroy(e as Error);
    throw wordError(e);
  }
  // Directory times last: creating children changed them. Deepest first.
  for (const [p, t] of dirTimes.reverse()) fs.utimesSync(p, t, t);
  return { diffId: `sha256:${hash.digest("hex")}`, size, tarSize };
}

function wordError(e: unknown): Error {
  if (e instanceof ArchiveError) return e;
  const msg = (e as Error)?.message ?? String(e);
  if (/exceeds max size/i.test(msg)) return new ArchiveError("tar header too large (a pax or long-name record over 4 MiB)");
  if (/invalid tar header|unknown format|invalid header/i.test(msg)) return new ArchiveError(`not a valid tar archive: ${msg}`);
  if (/unexpected end|premature|aborted/i.test(msg)) return new ArchiveError(`truncated tar archive: ${msg}`);
  return e instanceof Error ? e : new Error(msg);
}

interface PlaceOpts { owners: boolean; devices: boolean; whiteouts: boolean }

/**
 * Directories already checked (or made) in this extraction, so each parent is lstat'ed once;
 * clear() forgets a path and everything under it when it replaces it.
 */
type DirCache = Set<string>;

/** Ensures every parent of parts[0..n-1] is a real directory inside root (creating missing ones). */
function parentDir(root: string, parts: string[], name: string, known: DirCache): string {
  let p = root;
  for (let i = 0; i < parts.length - 1; i++) {
    p = `${p}/${parts[i]}`;
    if (known.has(p)) continue;
    let st: fs.Stats | undefined;
    try { st = fs.lstatSync(p); } catch { /* missing */ }
    if (!st) fs.mkdirSync(p, { mode: 0o755 });
    else if (st.isSymbolicLink()) throw new ArchiveError(`entry "${short(name)}" goes through the symlink "${parts.slice(0, i + 1).join("/")}"`);
    else if (!st.isDirectory()) throw new ArchiveError(`entry "${short(name)}": "${parts.slice(0, i + 1).join("/")}" is not a directory`);
    known.add(p);
  }
  return p;
}

/** Removes whatever is at p unless both it and the new entry are directories. */
function clear(p: string, newIsDir: boolean, known: DirCache): void {
  let st: fs.Stats;
  try { st = fs.lstatSync(p); } catch { return; }
  if (st.isDirectory() && newIsDir) return;
  if (st.isDirectory()) for (const k of known) if (k === p || k.startsWith(p + "/")) known.delete(k);
  fs.rmSync(p, { recursive: true, force: true });
}

/** Creates the entry's node; returns an fd to write a regular file's data into. */
async function place(root: string, h: TarHeader, o: PlaceOpts, dirTimes: [string, Date][], known: DirCache): Promise<number | undefined> {
  const name = h.name;
  const parts = cleanName(name);
  if (h.linkname) cleanLinkLen(h.linkname);
  if (parts.length === 0) {
    if (h.type === "directory") { meta(root, h, o.owners); if (h.mtime) dirTimes.push([root, h.mtime]); }
    return undefined;
  }
  const base = parts[parts.length - 1];
  const dir = parentDir(root, parts, name, known);
  const p = `${dir}/${base}`;

  if (o.whiteouts && base.startsWith(WH)) {
    if (base === OPAQUE) { lsetxattr(dir, "trusted.overlay.opaque", "y"); return undefined; }
    if (base.startsWith(WH + WH)) return undefined; // aufs bookkeeping (.wh..wh.plnk etc.)
    const target = `${dir}/${base.slice(WH.length)}`;
    clear(target, false, known);
    mknod(target, S_IFCHR, makedev(0, 0));
    if (o.owners) fs.lchownSync(target, h.uid ?? 0, h.gid ?? 0);
    return undefined;
  }

  switch (h.type) {
    case "file":
    case "contiguous-file": {
      clear(p, false, known);
      const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
      return fs.openSync(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    }
    case "directory":
      clear(p, true, known);
      if (!fs.existsSync(p)) fs.mkdirSync(p, { mode: 0o755 });
      meta(p, h, o.owners);
      if (h.mtime) dirTimes.push([p, h.mtime]);
      return undefined;
    case "symlink": {
      const target = h.linkname ?? "";
      if (escapes(parts, target)) throw new ArchiveError(`symlink "${short(name)}" -> "${short(target)}" points outside the archive's root`);
      clear(p, false, known);
      fs.symlinkSync(target, p);
      break;
    }
    case "link": {
      const tparts = cleanName(h.linkname ?? "", `hardlink "${short(name)}" target`);
      if (tparts.length === 0) throw new ArchiveError(`hardlink "${short(name)}" has no target`);
      const tdir = parentDir(root, tparts, h.linkname!, known);
      const tpath = `${tdir}/${tparts[tparts.length - 1]}`;
      let st: fs.Stats;
      try { st = fs.lstatSync(tpath); } catch { throw new ArchiveError(`hardlink "${short(name)}" -> "${short(h.linkname!)}": target is not in the archive (before it)`); }
      if (st.isDirectory()) throw new ArchiveError(`hardlink "${short(name)}" -> "${short(h.linkname!)}": target is a directory`);
      if (tpath === p) return undefined;
      clear(p, false, known);
      fs.linkSync(tpath, p);
      return undefined; // the inode already carries its metadata
    }
    case "character-device":
    case "block-device":
      if (!o.devices) throw new ArchiveError(`device "${short(name)}" in the archive: device nodes need root`);
      clear(p, false, known);
      mknod(p, (h.type === "block-device" ? S_IFBLK : S_IFCHR) | ((h.mode ?? 0) & 0o7777), makedev(h.devmajor ?? 0, h.devminor ?? 0));
      break;
    case "fifo":
      clear(p, false, known);
      mknod(p, S_IFIFO | ((h.mode ?? 0o644) & 0o7777));
      break;
    default:
      // pax/GNU long names are folded in by tar-stream; anything else (GNU sparse, …) would be lost.
      throw new ArchiveError(`entry "${short(name)}" has an unsupported type (${String(h.type)})`);
  }
  finish(root, h, o.owners, p);
  return undefined;
}

function cleanLinkLen(l: string): void {
  if (l.length > MAX_NAME) throw new ArchiveError(`link target too long (${l.length} bytes, limit ${MAX_NAME})`);
}

/** Owner then mode (chown clears set-id bits), then times; symlinks get owner and times only. */
function finish(root: string, h: TarHeader, owners: boolean, p?: string): void {
  const target = p ?? `${root}/${cleanName(h.name).join("/")}`;
  if (h.type === "symlink") {
    if (owners) fs.lchownSync(target, h.uid ?? 0, h.gid ?? 0);
    if (h.mtime) fs.lutimesSync(target, h.mtime, h.mtime);
    return;
  }
  meta(target, h, owners);
  if (h.mtime) fs.utimesSync(target, h.mtime, h.mtime);
}

function meta(p: string, h: TarHeader, owners: boolean): void {
  if (owners) fs.lchownSync(p, h.uid ?? 0, h.gid ?? 0);
  fs.chmodSync(p, (h.mode ?? 0o644) & 0o7777);
  xattrs(p, h);
}

/**
 * File capabilities and user.* xattrs from pax SCHILY.xattr records (after chown, which drops
 * capabilities). trusted.* (overlayfs's own: redirect, opaque) and other namespaces are not
 * taken from archives. tar-stream decodes pax values as UTF-8, so a value that did not survive
 * that (U+FFFD) is skipped rather than written wrong.
 */
function xattrs(p: string, h: TarHeader): void {
  for (const [k, v] of Object.entries(h.pax ?? {})) {
    if (!k.startsWith("SCHILY.xattr.")) continue;
    const name = k.slice(13);
    if (name !== "security.capability" && !name.startsWith("user.")) continue;
    if (v.includes("\uFFFD")) continue;
    lsetxattr(p, name, v);
  }
}
