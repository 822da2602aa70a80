// Preloaded by bun test (bunfig.toml): bun test runs no process "exit" handlers, so the scratch
// directories the helpers make are removed here, once, after the last test file. A directory
// with something still mounted below it is left alone: the test that mounted it reports that.
// The same for an empty /berth cgroup parent the run made.
import { afterAll } from "bun:test";
import fs from "node:fs";

const registry = ((globalThis as { __berthTestDirs?: string[] }).__berthTestDirs ??= []);

// The runtime's default cgroup parent, /berth: each container removes only the directories it
// created itself, so one made by a container that went while another was still inside stays
// behind, empty. If the run made it, it goes (rmdir: only when empty, so a leak stays visible).
const cgroupRoot = "/sys/fs/cgroup";
const parents = () => {
  try {
    return fs.readdirSync(cgroupRoot).map((h) => `${cgroupRoot}/${h}/berth`).filter((d) => fs.existsSync(d));
  } catch {
    return [];
  }
};
const parentsBefore = new Set(parents());

afterAll(() => {
  const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "");
  for (const dir of registry) {
    if (mounts.some((m) => m === dir || m.startsWith(`${dir}/`))) continue;
    fs.rmSync(dir, { recursive: true, force: true });
  }
  for (const d of parents()) {
    if (parentsBefore.has(d)) continue;
    try {
      fs.rmdirSync(d);
    } catch { /* not empty: a container's cgroup is left, and the test that made it says so */ }
  }
});
