// Where the runtime's own output goes. The runtime never imports the CLI: `berth` passes nothing
// and gets the process's stdout/stderr; berthd passes sinks that route the same text to its log
// or to an API response.
import { writeAll } from "./io.ts";
import { oneLine } from "./errors.ts";

export interface Sinks {
  /** Output the caller asked for (the plan of a dry run). */
  out(text: string): void;
  /** One warning line, without the "berth: warning:" prefix or the newline. */
  warn(message: string): void;
}

/** The CLI's sinks: fds 1 and 2 written directly (no process.stdout: it costs ~18 ms in Bun). */
export const stdioSinks: Sinks = {
  out: (text) => writeAll(1, text),
  warn: (message) => writeAll(2, `berth: warning: ${oneLine(message)}\n`),
};
