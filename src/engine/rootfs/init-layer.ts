// The init layer: the mount points berthd's default spec needs (containers/spec/mounts.ts) that
// an image lacks, and the two files every docker container has (/.dockerenv, /etc/mtab), as
// one read-only layer per layer stack, shared by every container of it, on
// top of the image's layers. dockerd makes one such "-init" layer per container; without any,
// the executor creates the missing points at start, inside the overlay, which copies /etc up
// into the container's own layer and allocates five or six inodes in it per container, the
// costliest filesystem work of a start measured here. Made once, they cost nothing per
// container, and `docker diff` stays empty after a start, as under dockerd.
//
// Only what is missing goes in, and a directory that must hold a new entry takes the image's
// own mode, owner and times, so the merged tree is the image's plus empty mount points. Where
// the image has something in the way (a symlinked /etc, a file at /proc), nothing is put there:
// the executor then deals with it at start as it always did.
import fs from "node:fs";
import crypto from "node:crypto";

type Kind = "dir" | "file" | "symlink";
interface Entry { path: string; kind: Kind; mode?: number; target?: string }

/** Leaves only; parents are made as needed. dev/pts, dev/shm and the like sit on /dev's tmpfs. */
export const MOUNT_POINTS: readonly Entry[] = [
  { path: "proc", kind: "dir" },
  { path: "sys", kind: "dir" },
  { path: "dev", kind: "dir" },
  { path: "etc/resolv.conf", kind: "file" },
  { path: "etc/hostname", kind: "file" },
  { path: "etc/hosts", kind: "file" },
];

/**
 * Not mount points, but what every container of dockerd's has from its init layer: scripts test
 * for /.dockerenv to know they run in a container, and tools read /etc/mtab.
 */
export const EXTRAS: readonly Entry[] = [
  { path: ".dockerenv", kind: "file", mode: 0o755 },
  { path: "etc/mtab", kind: "symlink", target: "/proc/mounts" },
];

type Probe = { found: "absent" } | { found: "present"; st: fs.Stats } | { found: "blocked" };

const isWhiteout = (st: fs.Stats) => st.isCharacterDevice() && st.rdev === 0;

/**
 * What the merged view of `layers` (top first) has at `rel`. Opaque directories are not looked
 * at: ignoring one can only report an entry present that the merged view hides, and a present
 * entry is left to the executor, so the answer errs on the side of doing nothing.
 */
export function probe(layers: string[], rel: string): Probe {
  const parts = rel.split("/");
  for (const layer of layers) {
    let p = layer;
    for (let i = 0; i < parts.length; i++) {
      p += `/${parts[i]}`;
      let st: fs.Stats;
      try {
        st = fs.lstatSync(p);
      } catch {
        break; // not in this layer: the ones below decide
      }
      if (isWhiteout(st)) return { found: "absent" };
      if (i === parts.length - 1) return { found: "present", st };
      if (!st.isDirectory()) return { found: "blocked" };
    }
  }
  return { found: "absent" };
}

/** The entries to make, parents first: what `layers` lack of MOUNT_POINTS and EXTRAS. */
export function missingEntries(layers: string[]): (Entry & { like?: fs.Stats })[] {
  const out: (Entry & { like?: fs.Stats })[] = [];
  const planned = new Set<string>();
  for (const m of [...MOUNT_POINTS, ...EXTRAS]) {
    const leaf = probe(layers, m.path);
    if (leaf.found !== "absent") continue;
    const parents: { path: string; like?: fs.Stats }[] = [];
    let ok = true;
    const parts = m.path.split("/");
    for (let i = 1; i < parts.length && ok; i++) {
      const dir = parts.slice(0, i).join("/");
      if (planned.has(dir)) continue;
      const p = probe(layers, dir);
      if (p.found === "blocked" || (p.found === "present" && !p.st.isDirectory())) ok = false;
      else parents.push({ path: dir, like: p.found === "present" ? p.st : undefined });
    }
    if (!ok) continue;
    for (const d of parents) {
      planned.add(d.path);
      out.push({ path: d.path, kind: "dir", like: d.like });
    }
    planned.add(m.path);
    out.push({ ...m });
  }
  return out;
}

export class InitLayers {
  /** key -> the layer's path, or null when the stack lacks nothing */
  private known = new Map<string, string | null>();
  /** a stack's key, hashed once: paths() asks several times per start with the same (cached) array */
  private keys = new WeakMap<readonly string[], string>();

  constructor(readonly base: string) {
    fs.mkdirSync(base, { recursive: true, mode: 0o710 });
  }

  /**
   * The stack alone, not the list of mount points: a layer made by an older list lacks what a
   * newer one adds, and the executor makes that at start, as for any image. A key that changed
   * with the list would have the sweep delete layers that mounted containers still stand on.
   */
  static key(diffIds: readonly string[]): string {
    return crypto.createHash("sha256").update(diffIds.join("\n")).digest("hex");
  }

  /** The init layer of a stack (its layers' paths top first), made on first use. */
  forStack(diffIds: readonly string[], layers: string[]): string | undefined {
    let key = this.keys.get(diffIds);
    if (!key) this.keys.set(diffIds, (key = InitLayers.key(diffIds)));
    let dir = this.known.get(key);
    if (dir === undefined) {
      dir = this.make(key, layers);
      this.known.set(key, dir);
    }
    return dir ?? undefined;
  }

  private make(key: string, layers: string[]): string | null {
    const entries = missingEntries(layers);
    if (!entries.length) return null;
    const dest = `${this.base}/${key}`;
    if (fs.existsSync(dest)) return dest;
    // Built aside and renamed into place: a crash leaves a .tmp- directory, which sweep() clears.
    const tmp = `${this.base}/.tmp-${crypto.randomBytes(6).toString("hex")}`;
    try {
      fs.mkdirSync(tmp, { mode: 0o755 });
      const dirs: { p: string; like: fs.Stats }[] = [];
      for (const e of entries) {
        const p = `${tmp}/${e.path}`;
        if (e.kind === "file") {
          fs.writeFileSync(p, "", { mode: e.mode ?? 0o644, flag: "wx" });
          fs.chmodSync(p, e.mode ?? 0o644); // whatever the daemon's umask
        } else if (e.kind === "symlink") fs.symlinkSync(e.target!, p);
        else {
          fs.mkdirSync(p, { mode: 0o755 });
          if (e.like) {
            fs.chmodSync(p, e.like.mode & 0o7777);
            fs.lchownSync(p, e.like.uid, e.like.gid);
            dirs.push({ p, like: e.like });
          }
        }
      }
      // Times last, deepest first: making an entry inside a directory changes its mtime.
      for (const d of dirs.reverse()) fs.utimesSync(d.p, d.like.atime, d.like.mtime);
      fs.renameSync(tmp, dest);
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      if (fs.existsSync(dest)) return dest;
      throw e;
    }
    return dest;
  }

  /** Removes the init layers of stacks no image or container has any more, and leftovers. */
  sweep(inUse: (readonly string[])[]): void {
    const keep = new Set(inUse.map((s) => InitLayers.key(s)));
    for (const n of fs.readdirSync(this.base)) {
      if (keep.has(n)) continue;
      this.known.delete(n);
      fs.rmSync(`${this.base}/${n}`, { recursive: true, force: true });
    }
  }
}
