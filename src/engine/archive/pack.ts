// Writing tars with tar-stream: a directory tree (docker export of a rootfs) or entries a
// caller adds (docker save). Data is pulled by the consumer: every write waits for the pack
// stream to drain, so a slow client does not make us buffer a whole image.
import fs from "node:fs";
import { Readable } from "node:stream";
import * as tar from "tar-stream";
import { roomOrClose } from "./stream.ts";

/** A tar entry header (tar-stream's, with pax records as strings). */
export type TarHeader = Partial<Omit<tar.Header, "pax">> & { name: string; pax?: Record<string, string> | null };

export type AddEntry = (header: TarHeader, body?: Uint8Array | string | AsyncIterable<Uint8Array>) => Promise<void>;

/** A tar stream whose entries `produce` adds in order; errors end the stream with that error. */
export function packStream(produce: (add: AddEntry) => Promise<void>): Readable {
  const pack = tar.pack();
  const add: AddEntry = async (header, body) => {
    await new Promise<void>((resolve, reject) => {
      if (body === undefined || typeof body === "string" || body instanceof Uint8Array) {
        const done = (err?: Error | null) => (err ? reject(err) : resolve());
        if (body === undefined) pack.entry(header, done);
        else pack.entry(header, body, done);
        return;
      }
      const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
      (async () => {
        for await (const chunk of body) {
          if (sink.destroyed) throw new Error("tar stream closed");
          if (!sink.write(chunk)) {
            await roomOrClose(sink);
            if (sink.destroyed) throw new Error("tar stream closed");
          }
        }
        (sink as unknown as { end(): void }).end(); // streamx's typings want an argument
      })().catch((e) => { sink.destroy(e); reject(e); });
    });
  };
  produce(add).then(() => pack.finalize(), (e: Error) => pack.destroy(e));
  return Readable.from(pack as AsyncIterable<Uint8Array>, { objectMode: false });
}

/** A file's bytes in 1 MiB reads. */
export async function* fileChunks(p: string): AsyncGenerator<Uint8Array> {
  const fd = fs.openSync(p, "r");
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(1 << 20);
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      yield buf.subarray(0, n);
    }
  } finally {
    fs.closeSync(fd);
  }
}

const major = (d: number) => Number(((BigInt(d) >> 8n) & 0xfffn) | ((BigInt(d) >> 32n) & ~0xfffn));
const minor = (d: number) => Number((BigInt(d) & 0xffn) | ((BigInt(d) >> 12n) & ~0xffn));

/** id → name from a passwd or group file (the host's, as Go's tar headers carry them). */
function names(file: string): Map<number, string> {
  const m = new Map<number, string>();
  try {
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
      const f = line.split(":");
      if (f.length > 2 && /^\d+$/.test(f[2]) && !m.has(Number(f[2]))) m.set(Number(f[2]), f[0]);
    }
  } catch { /* no such file: numeric owners only */ }
  return m;
}

/**
 * The tree under `dir` as a tar (names relative, sorted; hardlinks kept; sockets skipped), as
 * dockerd's export writes it: directories with a trailing "/", owners named after the host's
 * passwd and group where they have a name.
 */
export function packDir(dir: string): Readable {
  return packStream(async (add) => {
    const seen = new Map<string, string>();
    const users = names("/etc/passwd"), groups = names("/etc/group");
    const walk = async (rel: string): Promise<void> => {
      const names = fs.readdirSync(rel ? `${dir}/${rel}` : dir).sort();
      for (const n of names) {
        const r = rel ? `${rel}/${n}` : n;
        const p = `${dir}/${r}`;
        const st = fs.lstatSync(p);
        const base = {
          name: r, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime,
          uname: users.get(st.uid) ?? "", gname: groups.get(st.gid) ?? "",
        };
        if (st.isDirectory()) {
          await add({ ...base, name: `${r}/`, type: "directory" });
          await walk(r);
        } else if (st.isSymbolicLink()) {
          await add({ ...base, type: "symlink", linkname: fs.readlinkSync(p) });
        } else if (st.isFile()) {
          const key = `${st.dev}:${st.ino}`;
          const first = st.nlink > 1 ? seen.get(key) : undefined;
          if (first) await add({ ...base, type: "link", linkname: first });
          else {
            if (st.nlink > 1) seen.set(key, r);
            await add({ ...base, type: "file", size: st.size }, fileChunks(p));
          }
        } else if (st.isCharacterDevice() || st.isBlockDevice()) {
          await add({ ...base, type: st.isBlockDevice() ? "block-device" : "character-device", devmajor: major(st.rdev), devminor: minor(st.rdev) });
        } else if (st.isFIFO()) {
          await add({ ...base, type: "fifo" });
        }
      }
    };
    await walk("");
  });
}
