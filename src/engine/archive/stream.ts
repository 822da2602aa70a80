// Byte-stream plumbing shared by extraction and loading: any input shape to an async iterable,
// and compression detected by magic number. (tar-stream itself bounds pax/long-name records at
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
  if (startsWith(head, [0x1f, 0x8b])) {
    const gz = zlib.createGunzip();
    const input = Readable.from(rest());
    input.on("error", (e) => gz.destroy(e));
    input.pipe(gz);
    try {
      for await (const c of gz) yield c as Uint8Array;
    } catch (e) {
      const code = (e as { code?: string }).code ?? "";
      if (code.startsWith("Z_") || /zlib|unexpected end/i.test(String((e as Error).message))) {
        throw new ArchiveError(`bad gzip data: ${(e as Error).message}`);
      }
      throw e;
    }
    return;
  }
  if (startsWith(head, [0x42, 0x5a, 0x68])) throw new ArchiveError("bzip2-compressed archives are not supported (use gzip or plain tar)");
  if (startsWith(head, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) throw new ArchiveError("xz-compressed archives are not supported (use gzip or plain tar)");
  if (startsWith(head, [0x28, 0xb5, 0x2f, 0xfd])) throw new ArchiveError("zstd-compressed archives are not supported (use gzip or plain tar)");
  yield* rest();
}
