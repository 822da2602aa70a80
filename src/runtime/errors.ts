// One error type for everything Berth reports to a user. The CLI prints it as a single line:
//   berth: <phase>: <message> [field <jsonPath>] [(<errno name>)] [— likely cause: <hint>]
// so a user sees what failed, where, which config field, and what to do about it.

export interface BerthErrorDetails {
  /** Which stage of the work failed: "config", "spec", "cgroups", "mount", "exec", ... */
  phase: string;
  /** JSON path into config.json, e.g. "linux.seccomp.syscalls[3].action". */
  field?: string;
  /** errno name, e.g. "ENOENT", when a system call failed. */
  errno?: string;
  /** The likely cause and what to do about it, in plain words. */
  hint?: string;
  /** Exit status the CLI should use (default 1). */
  exitCode?: number;
}

export class BerthError extends Error {
  phase: string;
  field?: string;
  errno?: string;
  hint?: string;
  exitCode: number;

  constructor(message: string, details: BerthErrorDetails) {
    super(message);
    this.name = "BerthError";
    this.phase = details.phase;
    this.field = details.field;
    this.errno = details.errno;
    this.hint = details.hint;
    this.exitCode = details.exitCode ?? 1;
  }

  /** The one line the CLI prints (without the "berth: " prefix). */
  describe(): string {
    let s = `${this.phase}: ${this.message}`;
    if (this.field) s += ` [field ${this.field}]`;
    if (this.errno && !this.message.includes(this.errno)) s += ` (${this.errno})`;
    if (this.hint) s += ` — likely cause: ${this.hint}`;
    return s;
  }
}

/** Error in config.json content: always names the JSON path. */
export function configError(field: string, message: string, hint?: string): BerthError {
  return new BerthError(message, { phase: "config", field, hint });
}

/** The errno name of a thrown Node/Bun error ("EBUSY"), or undefined. */
export function errnoOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}
