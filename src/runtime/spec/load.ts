// loadSpec: read <bundle>/config.json, parse it (errors carry line:column) and validate it.

import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { BerthError, errnoOf } from "../errors.ts";
import { parseJson } from "./json.ts";
import type { Spec } from "./types.ts";
import { validateSpec, type ValidateOptions } from "./validate.ts";
import { stdioSinks } from "../sinks.ts";

export const CONFIG_FILENAME = "config.json";

export interface LoadOptions extends ValidateOptions {}

/** Default warning sink: one line on stderr in the CLI's format. */
export function printWarning(message: string, field: string): void {
  const where = field ? ` [field ${field}]` : "";
  stdioSinks.warn(`config: ${message}${where}`);
}


const ERRNO_TEXT: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "is a directory",
  ENOTDIR: "a path component is not a directory",
  ELOOP: "too many levels of symbolic links",
  EIO: "input/output error",
};

/**
 * Read, parse and validate `<bundleDir>/config.json`. Every failure is a BerthError with
 * phase "config" and a one-line message. Warnings go to `opts.warn` (default: stderr).
 */
export function loadSpec(bundleDir: string, opts: LoadOptions = {}): Spec {
  const bundle = resolve(bundleDir);
  const file = join(bundle, CONFIG_FILENAME);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const errno = errnoOf(e);
    if (errno === "ENOENT") {
      let bundleExists = false;
      try {
        bundleExists = statSync(bundle).isDirectory();
      } catch {
        // fall through
      }
      if (!bundleExists) {
        throw new BerthError(`bundle directory ${bundle} does not exist`, {
          phase: "config",
          errno,
          hint: "pass the bundle directory with --bundle, or run from inside it",
        });
      }
      throw new BerthError(`no ${CONFIG_FILENAME} in bundle ${bundle}`, {
        phase: "config",
        errno,
        hint: "run `berth spec` in the bundle directory to create one",
      });
    }
    const what = errno ? ERRNO_TEXT[errno] ?? (e as Error).message : (e as Error).message;
    throw new BerthError(`cannot read ${file}: ${what}`, { phase: "config", errno });
  }
  const value = parseJson(text, file);
  return validateSpec(value, { warn: opts.warn ?? printWarning });
}
