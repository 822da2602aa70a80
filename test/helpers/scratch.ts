// Scratch directories of the test helpers, removed after the last test file (cleanup.ts).
import fs from "node:fs";

export function scratchDir(prefix: string): string {
  const dir = fs.mkdtempSync(prefix);
  ((globalThis as { __berthTestDirs?: string[] }).__berthTestDirs ??= []).push(dir);
  return dir;
}
