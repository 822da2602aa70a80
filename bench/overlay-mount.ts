// Overlay mount cost: mount(2) through bun:ffi against spawning /bin/mount, N rounds each
// (mount + umount), on a private directory. Run as root: bun bench/overlay-mount.ts [N]
import fs from "node:fs";
import os from "node:os";
import { mount, umount2 } from "../src/engine/sys/libc.ts";

const N = Number(process.argv[2] ?? 200);
const d = fs.mkdtempSync(`${os.tmpdir()}/berth-bench-overlay-`);
for (const s of ["l1", "l2", "u", "w", "m"]) fs.mkdirSync(`${d}/${s}`);
const opts = `lowerdir=${d}/l2:${d}/l1,upperdir=${d}/u,workdir=${d}/w`;
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ffi: number[] = [], spawn: number[] = [];
try {
  for (let i = 0; i < N; i++) {
    let t = performance.now();
    mount("overlay", `${d}/m`, "overlay", 0, opts);
    ffi.push(performance.now() - t);
    umount2(`${d}/m`);
    t = performance.now();
    const r = Bun.spawnSync(["/bin/mount", "-t", "overlay", "overlay", "-o", opts, `${d}/m`]);
    spawn.push(performance.now() - t);
    if (r.exitCode !== 0) throw new Error(r.stderr.toString());
    umount2(`${d}/m`);
  }
  console.log(`overlay mount, median of ${N}: ffi mount(2) ${median(ffi).toFixed(3)} ms, spawn /bin/mount ${median(spawn).toFixed(3)} ms`);
} finally {
  try { umount2(`${d}/m`); } catch { /* not mounted */ }
  fs.rmSync(d, { recursive: true, force: true });
}
