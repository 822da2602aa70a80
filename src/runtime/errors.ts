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
    return oneLine(s);
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

/** Longest quoted value shown in a message: enough to recognise it, never a 500 KB line. */
export const MAX_SHOWN = 80;

/** `s` cut to `max` characters (code points) with an ellipsis. */
export function clip(s: string, max = MAX_SHOWN): string {
  if (s.length <= max) return s;
  const cps = Array.from(s);
  return cps.length <= max ? s : cps.slice(0, max).join("") + "…";
}

/** A value quoted for a message: JSON-quoted (control characters escaped) and clipped. */
export function quoteValue(v: unknown): string {
  if (typeof v !== "string") {
    let text: string | undefined;
    try {
      text = JSON.stringify(v);
    } catch {
      // too deep or cyclic: name the type instead
    }
    return text === undefined ? typeof v : clip(text);
  }
  return JSON.stringify(clip(v));
}


// Characters that would break a line or a terminal: C0/C1 controls, DEL, line/paragraph separators.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
// A run without spaces this long is a value, not prose: its middle is cut out, keeping the head
// and the tail (where a path's last components and the message's punctuation are).
const MAX_TOKEN = 300;
const TOKEN_HEAD = 120;
const TOKEN_TAIL = 40;
const MAX_LINE = 1000;

/**
 * The net under every message: exactly one line, no raw control characters, no huge value.
 * Messages that quote values with quoteValue() never reach these limits; this catches the rest
 * (system error texts, paths and values interpolated as they are).
 */
export function oneLine(s: string): string {
  let out = s.replace(UNSAFE, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    if (c === "\t") return "\\t";
    return "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0");
  });
  if (out.length > MAX_TOKEN) {
    out = out.replace(new RegExp(`\\S{${MAX_TOKEN + 1},}`, "g"), (t) => {
      const cps = Array.from(t);
      return cps.length <= MAX_TOKEN ? t : `${cps.slice(0, TOKEN_HEAD).join("")}…${cps.slice(-TOKEN_TAIL).join("")}`;
    });
  }
  return clip(out, MAX_LINE);
}
