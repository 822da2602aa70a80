// The daemon's log, in logrus's text format as dockerd writes it when stderr is not a terminal:
//   time="2026-12-02T12:00:00.123456789Z" level=info msg="API listen on /var/run/berth.sock"
import { writeAll } from "../runtime/io.ts";

export const LEVELS = ["debug", "info", "warn", "error", "fatal"] as const;
export type Level = (typeof LEVELS)[number];

let threshold = 1; // info

export function setLevel(level: Level): void {
  threshold = LEVELS.indexOf(level);
}

export function enabled(level: Level): boolean {
  return LEVELS.indexOf(level) >= threshold;
}

function quote(s: string): string {
  return /^[\w./:@-]+$/.test(s) ? s : JSON.stringify(s);
}

export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (!enabled(level)) return;
  let line = `time="${new Date().toISOString()}" level=${level === "warn" ? "warning" : level} msg=${JSON.stringify(msg)}`;
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${k}=${quote(String(v))}`;
  try {
    writeAll(2, line + "\n");
  } catch { /* stderr gone: nothing to do */ }
}

export const debug = (msg: string, f?: Record<string, unknown>) => log("debug", msg, f);
export const info = (msg: string, f?: Record<string, unknown>) => log("info", msg, f);
export const warn = (msg: string, f?: Record<string, unknown>) => log("warn", msg, f);
export const error = (msg: string, f?: Record<string, unknown>) => log("error", msg, f);
