// The real host behind HostAccess: device nodes under /dev, the host name, the kernel's last
// capability, the CPUs and memory nodes this process may use.
import fs from "node:fs";
import os from "node:os";
import { CAPABILITIES } from "../../../runtime/linux.ts";
import type { HostAccess, HostDevice } from "./types.ts";

function devOf(path: string, st: fs.BigIntStats): HostDevice | undefined {
  const type = st.isCharacterDevice() ? "c" : st.isBlockDevice() ? "b" : undefined;
  if (!type) return undefined;
  const rdev = st.rdev;
  // glibc's gnu_dev_major/minor: 12 bits of major and 20 of minor, split across the dev_t.
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { path, type, major, minor, fileMode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid) };
}

// What libcontainer skips when it lists host devices for --privileged: pseudo-terminals and the
// mounts the container gets fresh, plus container-manager bookkeeping.
const SKIP_DIRS = new Set(["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"]);

function listDevices(dir: string, out: HostDevice[]): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) listDevices(p, out);
      continue;
    }
    if (e.name === "console" || e.isSymbolicLink()) continue;
    try {
      const d = devOf(p, fs.lstatSync(p, { bigint: true }));
      if (d) out.push(d);
    } catch { /* vanished */ }
  }
}

function cpusetOf(file: string, fallback: string): string {
  try {
    const v = fs.readFileSync(file, "utf8").trim();
    return v || fallback;
  } catch {
    return fallback;
  }
}

let boundingSet: string[] | undefined;
function readBoundingSet(): string[] {
  let mask = (1n << BigInt(CAPABILITIES.length)) - 1n;
  try {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync("/proc/self/status", "utf8"));
    if (m) mask = BigInt(`0x${m[1]}`);
  } catch { /* no /proc: assume every capability */ }
  return CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
}

export const realHost: HostAccess = {
  exists: (p) => fs.existsSync(p),
  device(path) {
    let st: fs.BigIntStats;
    try {
      st = fs.statSync(path, { bigint: true });
    } catch {
      return undefined;
    }
    const d = devOf(path, st);
    if (!d) throw new Error(`${path} is not a device node`);
    return d;
  },
  devices() {
    const out: HostDevice[] = [];
    listDevices("/dev", out);
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  },
  hostname: () => os.hostname(),
  blkioWeight: () => ["/sys/fs/cgroup/blkio/blkio.weight", "/sys/fs/cgroup/blkio/blkio.bfq.weight", "/sys/fs/cgroup/io.weight", "/sys/fs/cgroup/io.bfq.weight"].some((f) => fs.existsSync(f)),
  // This process's bounding set can only shrink, and berthd never drops from it: read it once.
  caps: () => [...(boundingSet ??= readBoundingSet())],
  cpus() {
    const count = os.cpus().length || 1;
    const all = count > 1 ? `0-${count - 1}` : "0";
    return {
      count,
      cpuset: cpusetOf("/sys/fs/cgroup/cpuset/cpuset.effective_cpus", cpusetOf("/sys/fs/cgroup/cpuset.cpus.effective", all)),
      mems: cpusetOf("/sys/fs/cgroup/cpuset/cpuset.effective_mems", cpusetOf("/sys/fs/cgroup/cpuset.mems.effective", "0")),
    };
  },
};
