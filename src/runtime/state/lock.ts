// One operation at a time per container (containerd may call start and kill, or kill and delete,
// at once; `create` holds it while it sets the container up). The lock file holds its owner's
// pid and start time and appears complete or not at all (written aside, then hard-linked into
// place), so a kill at any moment leaves no empty lock. A lock whose owner died (or whose pid
// now belongs to another process) is stale and taken over. Containers never wait on each other.
import fs from "node:fs";
import { BerthError } from "../errors.ts";

export interface LockOwner {
  pid: number;
  startTime: string;
}

/** Start time and liveness read here, not from state/index.ts: that module imports this one. */
function statOf(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

function ownerAlive(o: LockOwner): boolean {
  const st = statOf(o.pid);
  if (!st || st[0] === "Z" || st[0] === "X") return false;
  return !o.startTime || st[22 - 3] === o.startTime;
}

function parseOwner(text: string): LockOwner | undefined {
  const m = /^(\d+)(?: (\d+))?$/.exec(text.trim());
  return m && Number(m[1]) > 0 ? { pid: Number(m[1]), startTime: m[2] ?? "" } : undefined;
}

/** The live process holding the container's lock, if any. */
export function lockOwner(dir: string): LockOwner | undefined {
  try {
    const o = parseOwner(fs.readFileSync(`${dir}/lock`, "utf8"));
    return o && ownerAlive(o) ? o : undefined;
  } catch {
    return undefined;
  }
}

// An unreadable lock (an older berth killed between creating and writing it) is stale once it
// is older than this; younger, its writer may still be about to fill it in.
const GARBAGE_AGE_MS = 1000;

let self: string | undefined;

export function lockContainer(dir: string, id: string, timeoutMs = 10_000): () => void {
  const file = `${dir}/lock`;
  self ??= `${process.pid} ${statOf(process.pid)?.[22 - 3] ?? ""}`;
  const aside = `${dir}/.lock.${process.pid}`;
  try {
    fs.writeFileSync(aside, self, { mode: 0o600 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new BerthError(`container ${JSON.stringify(id)} does not exist`, { phase: "state" });
    throw new BerthError(`cannot lock ${file}: ${(e as Error).message}`, { phase: "state", errno: code });
  }
  const deadline = Date.now() + timeoutMs;
  try {
    for (let delay = 1; ; delay = Math.min(delay * 2, 20)) {
      try {
        fs.linkSync(aside, file);
        return () => fs.rmSync(file, { force: true });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "ENOENT") throw new BerthError(`container ${JSON.stringify(id)} does not exist`, { phase: "state" });
        if (code !== "EEXIST") throw new BerthError(`cannot lock ${file}: ${(e as Error).message}`, { phase: "state", errno: code });
      }
      let owner: LockOwner | undefined, ino = 0, stale = false;
      try {
        const st = fs.statSync(file);
        ino = st.ino;
        owner = parseOwner(fs.readFileSync(file, "utf8"));
        stale = owner ? !ownerAlive(owner) : Date.now() - st.mtimeMs > GARBAGE_AGE_MS;
      } catch { /* released meanwhile: try again */ }
      if (stale) {
        // Only the file we judged: another taker may have replaced it since.
        try {
          if (fs.statSync(file).ino === ino) fs.rmSync(file, { force: true });
        } catch { /* gone already */ }
        continue;
      }
      if (Date.now() > deadline) {
        throw new BerthError(`container ${JSON.stringify(id)} is busy: another berth (pid ${owner?.pid ?? "unknown"}) holds its lock`, { phase: "state", hint: `if that process is stuck, remove ${file}` });
      }
      Bun.sleepSync(delay);
    }
  } finally {
    fs.rmSync(aside, { force: true });
  }
}
