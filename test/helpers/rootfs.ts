// A busybox root filesystem for test containers, bundles and images. No side effects on import
// (bundle.ts makes a temporary directory when imported; the docker/podman helpers and the
// benchmark only need this).
import fs from "node:fs";
import path from "node:path";

export const REPO = path.resolve(import.meta.dir, "../..");
export const BERTH = `${REPO}/bin/berth`;
export const BUSYBOX = ["/bin/busybox", "/usr/bin/busybox"].find((p) => fs.existsSync(p));
export const IS_ROOT = process.getuid?.() === 0;

let applets: string[] | undefined;

/** /bin/busybox (Debian's busybox-static), a link per applet, and the usual directories. */
export function makeRootfs(dir: string): void {
  fs.mkdirSync(`${dir}/bin`, { recursive: true });
  fs.copyFileSync(BUSYBOX!, `${dir}/bin/busybox`);
  fs.chmodSync(`${dir}/bin/busybox`, 0o755);
  applets ??= Bun.spawnSync([BUSYBOX!, "--list"]).stdout.toString().split("\n").filter((a) => a && a !== "busybox");
  for (const a of applets) fs.symlinkSync("busybox", `${dir}/bin/${a}`);
  for (const d of ["proc", "sys", "dev", "etc", "tmp", "root"]) fs.mkdirSync(`${dir}/${d}`, { recursive: true });
  fs.chmodSync(`${dir}/tmp`, 0o1777);
  fs.writeFileSync(`${dir}/etc/passwd`, "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n");
  fs.writeFileSync(`${dir}/etc/group`, "root:x:0:\nnogroup:x:65534:\n");
}
