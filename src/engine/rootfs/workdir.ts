// The container's working directory, made before its first start when the image lacks it, as
// dockerd does (`docker run -w /app` on an image without /app): root-owned, mode 0755, each
// missing component. The path is resolved inside the root filesystem, symlinks included, so an
// image's `/app -> /srv` makes /srv and a link cannot lead outside; nothing of the container
// runs yet, so nothing can swap a component meanwhile.
import fs from "node:fs";
import { badRequest } from "../errors.ts";

const MAX_LINKS = 40; // as the kernel's ELOOP limit

/** Makes `cwd` (absolute, as in the spec) inside `rootfs`; refuses when a component is not a directory. */
export function ensureWorkdir(rootfs: string, cwd: string): void {
  const todo = cwd.split("/").filter((p) => p && p !== ".");
  let at = ""; // resolved so far, relative to rootfs ("" is its root)
  let links = 0;
  while (todo.length) {
    const name = todo.shift()!;
    if (name === "..") {
      at = at.slice(0, at.lastIndexOf("/")); // never above the root
      continue;
    }
    const p = `${rootfs}${at}/${name}`;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      fs.mkdirSync(p, { mode: 0o755 });
      fs.chmodSync(p, 0o755); // whatever the daemon's umask
      at += `/${name}`;
      continue;
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw badRequest(`Cannot mkdir: ${cwd}: too many levels of symbolic links`);
      const target = fs.readlinkSync(p);
      if (target.startsWith("/")) at = "";
      todo.unshift(...target.split("/").filter((x) => x && x !== "."));
      continue;
    }
    if (!st.isDirectory()) throw badRequest(`Cannot mkdir: ${cwd} is not a directory`);
    at += `/${name}`;
  }
}
