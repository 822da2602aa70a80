// Compiled filters are cached: compiling Docker's default profile (~350 syscalls) takes 10-17 ms
// cold, and docker sends that same profile with every container and every exec. The key is a
// sha256 of the profile and of the compiler's own source files (name, size, mtime), so editing
// the compiler never serves a stale filter. Files live under <root>/.cache/seccomp, root-only
// like the rest of the state; a damaged entry is ignored and rewritten.
import fs from "node:fs";
import type { Seccomp } from "../spec/types.ts";

export interface SeccompFilter {
  filter: Uint8Array;
  flags: number;
  summary: string[];
}

/** The compiler's directory, from the sources or from the start-up cache (.cache/<cmd>.js). */
function compilerDir(): string | undefined {
  for (const rel of ["./", "../src/runtime/seccomp/"]) {
    const dir = new URL(rel, import.meta.url).pathname;
    if (fs.existsSync(`${dir}compile.ts`)) return dir;
  }
  return undefined;
}

// The code of this process's compiler cannot change under it: fingerprint it once.
let printed: string | undefined;
function fingerprint(dir: string): string {
  return (printed ??= fingerprintNow(dir));
}

function fingerprintNow(dir: string): string {
  return fs.readdirSync(dir).filter((n) => n.endsWith(".ts")).sort().map((n) => {
    const st = fs.statSync(dir + n);
    return `${n}:${st.size}:${st.mtimeMs}`;
  }).join(",");
}

/** `write: false` (a dry run) reads the cache but never adds to it. */
// Filters this process has used, by profile: a long-running berthd then neither hashes nor reads
// a file per container. Bounded; the file cache stays the one shared across processes.
const inMemory = new Map<string, SeccompFilter>();
// A frozen profile (berthd gives every container the same frozen default) is known by identity:
// no 5 KB key to build from it at each start. Anything else could change, so goes by content.
const byIdentity = new WeakMap<Seccomp, { field: string; filter: SeccompFilter }>();

export async function compileSeccompCached(profile: Seccomp, field: string, cacheDir: string, write = true): Promise<SeccompFilter> {
  const frozen = Object.isFrozen(profile);
  const same = frozen ? byIdentity.get(profile) : undefined;
  if (same && same.field === field) return same.filter;
  const key = field + "\0" + JSON.stringify(profile);
  let r = inMemory.get(key);
  if (!r) {
    r = await compileOrRead(profile, field, cacheDir, write);
    if (inMemory.size >= 32) inMemory.clear();
    inMemory.set(key, r);
  }
  if (frozen) byIdentity.set(profile, { field, filter: r });
  return r;
}

async function compileOrRead(profile: Seccomp, field: string, cacheDir: string, write: boolean): Promise<SeccompFilter> {
  let file: string | undefined;
  const dir = compilerDir();
  if (dir) {
    const h = new Bun.CryptoHasher("sha256");
    h.update(fingerprint(dir));
    h.update("\0" + field + "\0" + JSON.stringify(profile));
    file = `${cacheDir}/${h.digest("hex")}.json`;
    try {
      const c = JSON.parse(fs.readFileSync(file, "utf8"));
      const filter = Buffer.from(c.filter, "base64");
      if (filter.length > 0 && filter.length % 8 === 0 && typeof c.flags === "number" && Array.isArray(c.summary)) {
        return { filter, flags: c.flags, summary: c.summary };
      }
    } catch { /* not cached yet, or damaged: compile */ }
  }
  const { compileSeccomp } = await import("./index.ts");
  const r = compileSeccomp(profile, field);
  if (file && write) {
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
      fs.writeFileSync(tmp, JSON.stringify({ filter: Buffer.from(r.filter).toString("base64"), flags: r.flags, summary: r.summary }), { mode: 0o600 });
      fs.renameSync(tmp, file);
    } catch {
      fs.rmSync(tmp, { force: true }); // an optimisation only
    }
  }
  return { filter: r.filter, flags: r.flags, summary: r.summary };
}
