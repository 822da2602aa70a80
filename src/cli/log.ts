// --log FILE / --log-format text|json: the lines runc (logrus) writes, which containerd reads
// back when a runtime command fails (it takes the last "level":"error" line's msg):
//   json: {"level":"error","msg":"container does not exist","time":"2024-01-01T00:00:00Z"}
//   text: time="2024-01-01T00:00:00Z" level=error msg="container does not exist"
// Lines are appended (the file is shared by every call for a container), one write each.
import fs from "node:fs";

export type LogLevel = "debug" | "info" | "warning" | "error";

/** RFC 3339 in local time, to the second, as logrus's default: "2024-01-01T10:00:00+02:00" or "...Z". */
export function rfc3339(d: Date): string {
  const off = -d.getTimezoneOffset();
  const p = (n: number) => String(Math.trunc(n)).padStart(2, "0");
  const base = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  if (off === 0) return base + "Z";
  return `${base}${off > 0 ? "+" : "-"}${p(Math.abs(off) / 60)}:${p(Math.abs(off) % 60)}`;
}

/** A string as Go's encoding/json writes it (HTML characters escaped, as logrus's JSON formatter). */
function goJsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029\b\f]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

/** Go's %q (strconv.Quote), which logrus's text formatter uses for values that need quoting. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c === 7) out += "\\a";
    else if (c === 8) out += "\\b";
    else if (c === 12) out += "\\f";
    else if (c === 11) out += "\\v";
    else if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
    else if (c >= 0x80 && c < 0xa0) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += ch;
  }
  return out + '"';
}

/** logrus quotes a text value unless it is made only of [A-Za-z0-9-._/@^+]. */
function textValue(s: string): string {
  return s !== "" && /^[A-Za-z0-9\-._/@^+]+$/.test(s) ? s : goQuote(s);
}

export function formatLogLine(format: "text" | "json", level: LogLevel, msg: string, when: Date = new Date()): string {
  const time = rfc3339(when);
  if (format === "json") return `{"level":${goJsonString(level)},"msg":${goJsonString(msg)},"time":${goJsonString(time)}}\n`;
  return `time=${textValue(time)} level=${textValue(level)} msg=${textValue(msg)}\n`;
}

/** Appends one line to the log file (created 0644 if needed). Returns an error message, or undefined. */
export function appendLog(file: string, line: string): string | undefined {
  try {
    fs.appendFileSync(file, line, { mode: 0o644 });
    return undefined;
  } catch (e) {
    return `cannot write to the log file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
}
