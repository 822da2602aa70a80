// Scratch directories of the test helpers, removed after the last test file (cleanup.ts).
import fs from "node:fs";

export function scratchDir(prefix: string): string {
  const dir = fs.mkdtempSync(prefix);
  ((globalThis as { __berthTestDirs?: string[] }).__berthTestDirs ??= []).push(dir);
  return dir;
}

/** A tmpfs of its own on `dir` (made if missing), as /run is on a usual host; the caller unmounts it. */
export function mountTmpfs(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const m = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "mode=0711", "tmpfs", dir], { stderr: "pipe" });
  if (m.exitCode !== 0) throw new Error(`mount tmpfs on ${dir}: ${m.stderr}`);
}
