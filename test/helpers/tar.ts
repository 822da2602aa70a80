// Tars for tests, built in memory with the engine's own writer (src/engine/archive/pack.ts).
import type { TarHeader } from "../../src/engine/archive/pack.ts";
import { packStream } from "../../src/engine/archive/pack.ts";

/** Everything a byte stream yields, in one buffer. */
export async function bytesOf(r: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

/** An entry: its header (a regular 0644 file unless it says otherwise) and body. */
export type TarEntry = [Partial<TarHeader> & { name: string }, (string | Uint8Array)?];

export const tarOf = (entries: TarEntry[]) => bytesOf(packStream(async (add) => {
  for (const [h, body] of entries) {
    await add({ type: "file", mode: 0o644, mtime: new Date(1e12), ...h } as TarHeader, body ?? (h.type && h.type !== "file" ? undefined : ""));
  }
}));
