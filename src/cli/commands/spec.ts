// berth spec [--bundle|-b DIR] [--rootless]
//
// Writes a starter config.json into the bundle directory (default: the current directory),
// byte-identical to what `runc spec` writes. Like runc, it refuses to overwrite an existing
// config.json and takes no positional arguments; `--bundle ""` means the current directory.
//
// The file is written atomically and without clobbering: the content goes to a temporary
// file in the bundle directory, which is then hard-linked to config.json (link(2) fails with
// EEXIST if config.json appeared meanwhile) and removed. On filesystems without hard links we
// fall back to rename(2) after re-checking. Nothing is left behind on any error.
//
// Errors are thrown as BerthError (phase "spec", or "args" for bad arguments) for the CLI
// to print; the returned number is the exit status (0).

import { closeSync, fsyncSync, linkSync, lstatSync, openSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { BerthError, errnoOf } from "../../runtime/errors.ts";
import { defaultSpec, rootlessSpec } from "../../runtime/spec/defaults.ts";
import { formatSpec } from "../../runtime/spec/format.ts";
import { CONFIG_FILENAME } from "../../runtime/spec/load.ts";
import { formatFlagHelp, parseFlags } from "../flags.ts";
import { stdout } from "../output.ts";

const FLAGS = {
  bundle: { type: "string", short: "b", value: "DIR", help: "bundle directory to write config.json into (default: current directory)" },
  rootless: { type: "boolean", help: "generate a configuration for a rootless container (user namespace mapping you to root)" },
  help: { type: "boolean", short: "h", help: "show this help" },
} as const;

export const USAGE = `Usage: berth spec [--bundle DIR] [--rootless]

Create a starter config.json for a bundle, the same file \`runc spec\` writes: it runs "sh" on a
terminal as root in a read-only "rootfs" directory next to config.json. Edit it (process.args
at least) before running a container. With --rootless the config maps your user to root in a
user namespace so an unprivileged user can run it.

Options:
${formatFlagHelp(FLAGS)}
`;


function exists(path: string): boolean {
  try {
    lstatSync(path); // lstat: a dangling symlink named config.json counts as existing
    return true;
  } catch (e) {
    if (errnoOf(e) === "ENOENT") return false;
    throw new BerthError(`cannot check ${path}: ${(e as Error).message}`, { phase: "spec", errno: errnoOf(e) });
  }
}

function existsError(file: string): BerthError {
  return new BerthError(`${file} already exists; remove it first`, {
    phase: "spec",
    errno: "EEXIST",
    hint: "berth spec never overwrites a config.json",
  });
}

export async function run(args: string[], globals: { root: string; debug: boolean }): Promise<number> {
  void globals; // spec needs no state directory
  const { flags, positionals } = parseFlags(args, FLAGS, { command: "berth spec" });
  if (flags.help) {
    stdout(USAGE);
    return 0;
  }
  if (positionals.length > 0) {
    throw new BerthError(`"berth spec" takes no arguments, got ${JSON.stringify(positionals[0])}`, {
      phase: "args",
      hint: "use --bundle DIR to choose where config.json is written",
    });
  }

  const bundle = resolve(flags.bundle ?? "");
  let st;
  try {
    st = statSync(bundle);
  } catch (e) {
    const errno = errnoOf(e);
    if (errno === "ENOENT") {
      throw new BerthError(`bundle directory ${bundle} does not exist`, { phase: "spec", errno, hint: "create it first (mkdir)" });
    }
    throw new BerthError(`cannot access bundle directory ${bundle}: ${(e as Error).message}`, { phase: "spec", errno });
  }
  if (!st.isDirectory()) {
    throw new BerthError(`bundle ${bundle} is not a directory`, { phase: "spec", errno: "ENOTDIR" });
  }

  const file = join(bundle, CONFIG_FILENAME);
  if (exists(file)) throw existsError(file);

  const spec = flags.rootless ? rootlessSpec() : defaultSpec();
  writeNewFile(file, formatSpec(spec));
  return 0;
}

/**
 * Create `file` with `content` atomically (readers see no file or the whole file); throw a
 * BerthError (errno EEXIST) if it exists. Exported for tests.
 */
export function writeNewFile(file: string, content: string): void {
  const dir = resolve(file, "..");
  const tmp = join(dir, `.${CONFIG_FILENAME}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
  let fd: number | undefined;
  let tmpCreated = false;
  try {
    try {
      // Mode 0666 & ~umask, as runc (Go's os.WriteFile with 0666) does.
      fd = openSync(tmp, "wx", 0o666);
      tmpCreated = true;
      const buf = Buffer.from(content, "utf8");
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
    } catch (e) {
      throw new BerthError(`cannot write ${file}: ${(e as Error).message}`, { phase: "spec", errno: errnoOf(e) });
    }

    try {
      linkSync(tmp, file);
    } catch (e) {
      const errno = errnoOf(e);
      if (errno === "EEXIST") throw existsError(file);
      if (errno !== "EPERM" && errno !== "ENOTSUP" && errno !== "EOPNOTSUPP" && errno !== "EMLINK") {
        throw new BerthError(`cannot create ${file}: ${(e as Error).message}`, { phase: "spec", errno });
      }
      // No hard links here (some FUSE/vfat mounts): rename, after one more check.
      if (exists(file)) throw existsError(file);
      try {
        renameSync(tmp, file);
        tmpCreated = false;
      } catch (e2) {
        throw new BerthError(`cannot create ${file}: ${(e2 as Error).message}`, { phase: "spec", errno: errnoOf(e2) });
      }
    }
  } finally {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already failing
      }
    }
    if (tmpCreated) {
      try {
        unlinkSync(tmp);
      } catch {
        // best effort; nothing more we can do
      }
    }
  }
}
