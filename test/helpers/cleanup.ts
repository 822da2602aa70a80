// Preloaded by bun test (bunfig.toml): bun test runs no process "exit" handlers, so the scratch
// directories the helpers make are removed here, once, after the last test file. A directory
// with something still mounted below it is left alone: the test that mounted it reports that.
import { afterAll } from "bun:test";
import fs from "node:fs";

const registry = ((globalThis as { __berthTestDirs?: string[] }).__berthTestDirs ??= []);

afterAll(() => {
  const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "");
  for (const dir of registry) {
    if (mounts.some((m) => m === dir || m.startsWith(`${dir}/`))) continue;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
