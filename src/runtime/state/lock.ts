// One operation at a time per container (containerd may call start and kill, or kill and delete,
// at once). A lock file created with O_EXCL holds the owner's pid: a lock whose owner died is
// stale and taken over. Containers never wait on each other: each has its own lock.
import fs from "node:fs";
import { BerthError } from "../errors.ts";

export function lockContainer(dir: string, id: string, timeoutMs = 10_000): () => void {
  const file = `${dir}/lock`;
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 20)) {
    try {
      const fd = fs.openSync(file, "wx", 0o600);
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      return () => fs.rmSync(file, { force: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") throw new BerthError(`container ${JSON.stringify(id)} does not exist`, { phase: "state" });
      if (code !== "EEXIST") throw new BerthError(`cannot lock ${file}: ${(e as Error).message}`, { phase: "state", errno: code });
    }
    let owner = 0;
    try {
      owner = Number(fs.readFileSync(file, "utf8"));
    } catch { /* released meanwhile */ }
    if (owner > 0 && !fs.existsSync(`/proc/${owner}`)) {
      fs.rmSync(file, { force: true }); // its owner died holding it
      continue;
    }
    if (Date.now() > deadline) {
      throw new BerthError(`container ${JSON.stringify(id)} is busy: another berth (pid ${owner}) holds its lock`, { phase: "state", hint: `if that process is stuck, remove ${file}` });
    }
    Bun.sleepSync(delay);
  }
}
