// Writing everything to an fd that may be non-blocking (Bun hands out non-blocking sockets, and
// stdout can be one): a full buffer must not lose bytes, so EAGAIN waits a moment and retries.
import { writeSync } from "node:fs";

export function writeAll(fd: number, data: string | Uint8Array): void {
  const buf = typeof data === "string" ? Buffer.from(data) : data;
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      Bun.sleepSync(1);
    }
  }
}
