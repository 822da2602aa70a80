// Byte-stream plumbing shared by extraction and loading: any input shape to an async iterable,
// and compression (gzip, zstd, bzip2, xz) detected by magic number. (tar-stream itself bounds pax/long-name records at
// 4 MiB before buffering them; extract.ts words that error.)
import zlib from "node:zlib";
import { Readable } from "node:stream";

export type ByteSource = AsyncIterable<Uint8Array> | ReadableStream<Uint8Array> | NodeJS.ReadableStream | Uint8Array;

/** A hostile or broken archive; the message is one line naming the entry. */
export class ArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArchiveError";
  }
}

export function iterate(src: ByteSource): AsyncIterable<Uint8Array> {
  if (src instanceof Uint8Array) return (async function* () { yield src; })();
  if (typeof (src as ReadableStream).getReader === "function" && !(Symbol.asyncIterator in (src as object))) {
    return Readable.fromWeb(src as any) as AsyncIterable<Uint8Array>;
  }
  return src as AsyncIterable<Uint8Array>;
}

/** The events a tar-stream (streamx) stream emits, as roomOrClose needs them. */
interface DrainingStream {
  destroyed: boolean;
  on(event: "drain" | "close", f: () => void): unknown;
  off(event: "drain" | "close", f: () => void): unknown;
}

/**
 * Resolves once a stream that refused a write has room again or has closed; at once when it is
 * destroyed already: its close was emitted then, and waiting for one would wait for good (an
 * import hung that way when a hostile entry's failure came before the body's last bytes).
 */
export function roomOrClose(s: DrainingStream): Promise<void> {
  return new Promise<void>((r) => {
    if (s.destroyed) return r();
    const done = () => { s.off("drain", done); s.off("close", done); r(); };
    s.on("drain", done);
    s.on("close", done);
  });
}

const startsWith = (b: Uint8Array, magic: number[]) => magic.every((m, i) => b[i] === m);

/** The uncompressed bytes of a plain or gzip stream; other compressions are refused by name. */
export async function* decompress(src: ByteSource): AsyncGenerator<Uint8Array> {
  const it = iterate(src)[Symbol.asyncIterator]();
  let head: Uint8Array = new Uint8Array(0);
  let done = false;
  while (head.length < 6) {
    const r = await it.next();
    if (r.done) { done = true; break; }
    head = head.length ? Buffer.concat([head, r.value]) : r.value;
  }
  async function* rest(): AsyncGenerator<Uint8Array> {
    if (head.length) yield head;
    while (!done) {
      const r = await it.next();
      if (r.done) break;
      yield r.value;
    }
  }
  if (startsWith(head, [0x1f, 0x8b])) { yield* throughZlib(rest(), "gzip"); return; }
  if (startsWith(head, [0x28, 0xb5, 0x2f, 0xfd])) {
    // Bun's zstd stream does not report a truncated frame, the zstd program does.
    if (Bun.which("zstd")) yield* throughProgram(rest(), "zstd");
    else yield* throughZlib(rest(), "zstd");
    return;
  }
  if (startsWith(head, [0x42, 0x5a, 0x68])) { yield* throughProgram(rest(), "bzip2"); return; }
  if (startsWith(head, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) { yield* throughProgram(rest(), "xz"); return; }
  yield* rest();
}

async function* throughZlib(src: AsyncIterable<Uint8Array>, kind: "gzip" | "zstd"): AsyncGenerator<Uint8Array> {
  const z = kind === "gzip" ? zlib.createGunzip() : (zlib as unknown as { createZstdDecompress(): NodeJS.ReadWriteStream }).createZstdDecompress();
  const input = Readable.from(src);
  input.on("error", (e) => (z as unknown as { destroy(e: Error): void }).destroy(e));
  input.pipe(z);
  try {
    for await (const c of z) yield c as Uint8Array;
  } catch (e) {
    const code = (e as { code?: string }).code ?? "";
    if (code.startsWith("Z_") || code.startsWith("ZSTD") || /zlib|unexpected end|zstd/i.test(String((e as Error).message))) {
      throw new ArchiveError(`bad ${kind} data: ${(e as Error).message}`);
    }
    throw e;
  } finally {
    input.destroy();
  }
}

/** bzip2, xz (and zstd) through their programs, as dockerd does for xz (node:zlib lacks them). */
async function* throughProgram(src: AsyncIterable<Uint8Array>, prog: "bzip2" | "xz" | "zstd"): AsyncGenerator<Uint8Array> {
  const bin = Bun.which(prog);
  if (!bin) throw new ArchiveError(`${prog}-compressed archive: the ${prog} program is not installed (or use gzip, zstd or plain tar)`);
  const proc = Bun.spawn(prog === "zstd" ? [bin, "-dcq"] : [bin, "-dc"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  let feedErr: unknown;
  const feeding = (async () => {
    try {
      for await (const c of src) { proc.stdin.write(c); await proc.stdin.flush(); }
    } catch (e) {
      feedErr = e;
      proc.kill();
    } finally {
      try { await proc.stdin.end(); } catch { /* the program already stopped reading */ }
    }
  })();
  try {
    for await (const c of proc.stdout as unknown as AsyncIterable<Uint8Array>) yield c;
    await feeding;
    if (feedErr) throw feedErr;
    const code = await proc.exited;
    if (code !== 0) {
      const msg = (await new Response(proc.stderr).text()).trim().split("\n")[0];
      throw new ArchiveError(`bad ${prog} data: ${msg || `${prog} exited with ${code}`}`);
    }
  } finally {
    if (proc.exitCode === null) proc.kill();
  }
}
