// One daemon per data root and per pid file. The file holds the owner's pid; it is taken with
// O_EXCL, and a file whose pid is no longer a live berthd is stale and replaced.
import fs from "node:fs";
import path from "node:path";
import { BerthError } from "../../runtime/errors.ts";

function ownerAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) return false;
  try {
    // A live process that is a Bun running berthd (a recycled pid is most likely something else).
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmd.includes("berthd") || cmd.includes("engine/daemon");
  } catch {
    return false;
  }
}

/** Takes the lock; returns its release. Throws naming the owner when another daemon holds it. */
export function takePidFile(file: string, what: string): () => void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, "wx", 0o644);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      return () => {
        try {
          if (fs.readFileSync(file, "utf8").trim() === String(process.pid)) fs.rmSync(file);
        } catch { /* already gone */ }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new BerthError(`cannot create ${file}: ${(e as Error).message}`, { phase: "startup", errno: (e as NodeJS.ErrnoException).code });
      }
    }
    const pid = Number(fs.readFileSync(file, "utf8").trim());
    if (ownerAlive(pid)) {
      throw new BerthError(`${what} ${file} is held by a running berthd (pid ${pid})`, {
        phase: "startup", hint: `stop that daemon first, or give this one its own --data-root and --pidfile`,
      });
    }
    fs.rmSync(file, { force: true }); // stale: its daemon is gone
  }
  throw new BerthError(`cannot take ${file}: it keeps coming back`, { phase: "startup" });
}
