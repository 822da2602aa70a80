// Reading the json-file logs the monitor writes: <id>-json.log and its rotated files .1, .2, …
// (.1 the newest of the old ones). One JSON object per line: {"log","stream","time"}.
import fs from "node:fs";
import { StringDecoder } from "node:string_decoder";

export interface Entry {
  log: string;
  stream: "stdout" | "stderr";
  time: string; // RFC 3339 nano
}

export interface ReadOptions {
  stdout: boolean;
  stderr: boolean;
  /** unix seconds (fractional): entries at or after */
  since?: number;
  /** unix seconds: entries before */
  until?: number;
  /** the last N entries (after the stream filter); undefined = all */
  tail?: number;
}

/** RFC 3339 nano → seconds since the epoch, keeping the nanoseconds Date drops. */
export function timeSeconds(t: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return Date.parse(t) / 1000;
  return Date.parse(m[1] + m[3]) / 1000 + (m[2] ? Number(m[2]) : 0);
}

function parseLine(line: string): Entry | undefined {
  if (!line) return undefined;
  try {
    const e = JSON.parse(line);
    if (typeof e.log === "string" && typeof e.time === "string") return e as Entry;
  } catch { /* a torn last line while the monitor writes: skip it */ }
  return undefined;
}

export function logFiles(path: string): string[] {
  const files: string[] = [];
  for (let i = 1; ; i++) {
    if (!fs.existsSync(`${path}.${i}`)) break;
    files.unshift(`${path}.${i}`);
  }
  files.push(path);
  return files;
}

function wanted(e: Entry, o: ReadOptions): boolean {
  if (e.stream === "stdout" ? !o.stdout : !o.stderr) return false;
  if (o.since !== undefined || o.until !== undefined) {
    const t = timeSeconds(e.time);
    if (o.since !== undefined && t < o.since) return false;
    if (o.until !== undefined && t >= o.until) return false;
  }
  return true;
}

/** Everything logged so far that matches; `end` is where following should continue in `path`. */
export function readAll(path: string, o: ReadOptions): { entries: Entry[]; end: number; ino: number } {
  const entries: Entry[] = [];
  let end = 0, ino = 0;
  for (const f of logFiles(path)) {
    let text: string;
    try {
      text = fs.readFileSync(f, "utf8");
    } catch {
      continue;
    }
    if (f === path) {
      // Only whole lines: a line being written now is read again when following.
      const last = text.lastIndexOf("\n");
      text = text.slice(0, last + 1);
      end = Buffer.byteLength(text);
      try {
        ino = fs.statSync(f).ino;
      } catch { /* rotated meanwhile */ }
    }
    for (const line of text.split("\n")) {
      const e = parseLine(line);
      if (e && wanted(e, o)) entries.push(e);
    }
  }
  const tail = o.tail;
  return { entries: tail === undefined ? entries : tail <= 0 ? [] : entries.slice(-tail), end, ino };
}

/**
 * New entries appended after `from` (following across rotation), until `stop()` says the writer
 * is gone and everything has been read, or `cancelled()`.
 */
export async function follow(
  path: string, o: ReadOptions, from: { end: number; ino: number },
  emit: (e: Entry) => void, stop: () => boolean, cancelled: () => boolean,
): Promise<void> {
  let pos = from.end, ino = from.ino, rest = "";
  // One decoder per file: a character split between two reads is not lost.
  let decoder = new StringDecoder("utf8");
  for (;;) {
    if (cancelled()) return;
    const finished = stop(); // read before reading the file: nothing is lost between
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(path);
    } catch { /* rotating */ }
    if (st && st.ino !== ino && ino !== 0) {
      // Rotated: finish the old file (now .1) from where we were, then start the new one.
      drain(`${path}.1`, pos, o, emit, rest, decoder);
      pos = 0;
      rest = "";
      decoder = new StringDecoder("utf8");
    }
    if (st) {
      ino = st.ino;
      if (st.size > pos) {
        const r = drain(path, pos, o, emit, rest, decoder);
        pos = r.pos;
        rest = r.rest;
      }
    }
    if (finished) return;
    await Bun.sleep(50);
  }
}

function drain(file: string, pos: number, o: ReadOptions, emit: (e: Entry) => void, rest: string, decoder: StringDecoder): { pos: number; rest: string } {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    return { pos, rest };
  }
  try {
    const buf = Buffer.alloc(64 << 10);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) break;
      pos += n;
      const text = rest + decoder.write(buf.subarray(0, n));
      const lines = text.split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        const e = parseLine(line);
        if (e && wanted(e, o)) emit(e);
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return { pos, rest };
}
