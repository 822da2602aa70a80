// A container without a mount namespace of its own mounts in the caller's: its rootfs bind (and
// every mount under it) would outlive it there, as with runc. Berth detaches that one bind when
// the container goes. It recognises its bind by what it was stacked on, recorded before create:
// mount ids of live mounts are unique, so a user's own mount at the rootfs is never taken for it.
import fs from "node:fs";
import { BerthError } from "../errors.ts";

interface MountEntry { id: number; parent: number; point: string }

const unescape = (s: string) => s.replace(/\\([0-3][0-7]{2})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));

function mounts(): MountEntry[] {
  return fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter(Boolean).map((l) => {
    const f = l.split(" ");
    return { id: Number(f[0]), parent: Number(f[1]), point: unescape(f[4]) };
  });
}

/** What berth's rootfs bind will be stacked on: the mount now topmost at `rootfs`, or 0. */
export function mountBelowRootfs(rootfs: string): number {
  const at = mounts().filter((m) => m.point === rootfs);
  const ids = new Set(at.map((m) => m.id));
  return at.find((m) => !at.some((o) => o.parent === m.id && ids.has(o.id)))?.id ?? 0;
}

/** Detaches berth's rootfs bind (and all under it) from the caller's mount namespace. */
export function detachRootfsBind(rootfs: string, below: number): void {
  for (let i = 0; i < 16; i++) {
    const all = mounts();
    const ours = all.find((m) => m.point === rootfs && (below ? m.parent === below : all.find((p) => p.id === m.parent)?.point !== rootfs));
    if (!ours) return;
    // umount(8) only for its umount2(MNT_DETACH): TypeScript has no syscall of its own here.
    const r = Bun.spawnSync(["umount", "--lazy", "--no-canonicalize", rootfs], { stdout: "ignore", stderr: "pipe" });
    if (r.exitCode !== 0) {
      if (i >= 3) {
        throw new BerthError(`cannot detach the container's rootfs bind at ${rootfs}: ${r.stderr.toString().trim().split("\n")[0]}`, {
          phase: "delete", hint: "it has no mount namespace of its own; `umount -l` the path by hand",
        });
      }
      Bun.sleepSync(10);
    }
  }
}
