// The few filesystem operations the cgroup code needs, behind an interface so unit tests
// can run the same code against a fake cgroup tree in a temporary directory (see fakefs.ts).
// Everything is synchronous: Berth's CLI is a short-lived process and these are tiny files.

import * as fs from "node:fs";
import { BerthError } from "../errors";

export interface CgroupFs {
  /** mkdir of one level (not recursive); throws an errno error (EEXIST, ENOENT, ...). */
  mkdir(path: string): void;
  /** rmdir of one cgroup directory. */
  rmdir(path: string): void;
  /** Write `data` to an existing file with one write(2), like `echo data > file`. Never creates. */
  write(path: string, data: string): void;
  read(path: string): string;
  exists(path: string): boolean;
  /** Names of the sub-directories (child cgroups) of `path`. */
  subdirs(path: string): string[];
}

export const realFs: CgroupFs = {
  mkdir(path) {
    fs.mkdirSync(path, { mode: 0o755 });
  },
  rmdir(path) {
    fs.rmdirSync(path);
  },
  write(path, data) {
    // O_WRONLY|O_TRUNC without O_CREAT: a missing cgroup file is ENOENT (not created), and
    // the value goes out in a single write(2), which is what the kernel parses.
    const fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_TRUNC);
    try {
      fs.writeSync(fd, data);
    } finally {
      fs.closeSync(fd);
    }
  },
  read(path) {
    return fs.readFileSync(path, "utf8");
  },
  exists(path) {
    return fs.existsSync(path);
  },
  subdirs(path) {
    return fs
      .readdirSync(path, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  },
};

export { errnoOf } from "../errors.ts";

/** The filesystem a layout's cgroups are on: the real one, or a test's fake (fakefs.ts). */
export const fsOf = (layout: { fs?: CgroupFs }): CgroupFs => layout.fs ?? realFs;

/** Sleep synchronously (no event loop needed): used for short retry loops. */
export function sleepSync(ms: number): void {
  if (ms <= 0) return;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Generic cgroup error: `<message>`, with phase "cgroups". */
export function cgroupError(
  message: string,
  details: { field?: string; errno?: string; hint?: string } = {},
): BerthError {
  return new BerthError(message, { phase: "cgroups", ...details });
}
