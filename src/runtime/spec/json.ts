// JSON parsing with errors a user can act on: `<file>:<line>:<col>: invalid JSON: <what>`.
//
// The value itself comes from JSON.parse (fast, and exactly standard JSON). Only when that
// fails do we run our own scanner over the text to find where and why: Bun's messages
// ("JSON Parse error: Expected '}'") carry no position. The scanner is a strict RFC 8259
// recogniser that builds nothing; it is iterative, so deep nesting cannot overflow the stack.

import { BerthError, clip } from "../errors.ts";

export interface JsonSyntaxError {
  /** Offset (UTF-16 code units) of the offending character in the text. */
  offset: number;
  /** 1-based line number. */
  line: number;
  /** 1-based column, counted in characters (code points); a tab counts as one. */
  column: number;
  message: string;
}

/**
 * Parse `text` as JSON. On a syntax error throws a BerthError (phase "config") whose message is
 * `<source>:<line>:<col>: invalid JSON: <what was expected/found>`.
 */
export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    // Bun's parser recurses: nesting in the millions exhausts its stack, though the text is JSON.
    if (e instanceof RangeError) {
      throw new BerthError(`${source}: the JSON nests arrays or objects too deeply to parse`, { phase: "config" });
    }
    const found = findJsonSyntaxError(text);
    if (found) {
      throw new BerthError(`${source}:${found.line}:${found.column}: invalid JSON: ${found.message}`, {
        phase: "config",
      });
    }
    // The scanner accepted what JSON.parse rejected: should not happen; still report it.
    throw new BerthError(`${source}: invalid JSON: ${(e as Error).message}`, { phase: "config" });
  }
}

/** 1-based line and column (in code points) of a UTF-16 offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  let column = 1;
  for (let i = lineStart; i < offset && i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Count a surrogate pair as one character.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < offset) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    column++;
  }
  return { line, column };
}

class ScanError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

const enum Ctx {
  Object,
  Array,
}

interface Frame {
  kind: Ctx;
  open: number; // offset of '{' or '['
}

/**
 * Find the first syntax error in `text`, or null if it is valid JSON (one value, optional
 * surrounding whitespace).
 */
export function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  try {
    scan(text);
    return null;
  } catch (e) {
    if (!(e instanceof ScanError)) throw e;
    const { line, column } = lineColumn(text, e.offset);
    return { offset: e.offset, line, column, message: e.message };
  }
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function scan(text: string): void {
  const n = text.length;
  let i = 0;
  const stack: Frame[] = [];

  const skipWs = () => {
    while (i < n && isWs(text.charCodeAt(i))) i++;
  };

  /** Words like `tru`, `undefined`, `NaN`: the run of identifier characters at i. */
  const wordAt = (at: number): string => {
    let j = at;
    while (j < n && /[A-Za-z0-9_$]/.test(text[j]!)) j++;
    return text.slice(at, j);
  };

  /** How to name what sits at `at` in a message. */
  const describe = (at: number): string => {
    if (at >= n) return "end of input";
    const ch = text[at]!;
    if (ch === '"') return "a string";
    if (ch === "-" || isDigit(ch.charCodeAt(0))) return "a number";
    if (/[A-Za-z_$]/.test(ch)) {
      const w = wordAt(at);
      if (w === "true" || w === "false") return `the value ${w}`;
      if (w === "null") return "null";
      return `"${w.length > 20 ? w.slice(0, 20) + "…" : w}"`;
    }
    const cp = text.codePointAt(at)!;
    if (cp < 0x20 || cp === 0x7f) return `control character U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
    if (cp === 0xfeff) return "a byte order mark (U+FEFF)";
    return `'${String.fromCodePoint(cp)}'`;
  };

  /** Special explanations for common non-JSON constructs at `at`, or null. */
  const explain = (at: number): string | null => {
    if (at >= n) return null;
    const ch = text[at];
    if (ch === "/" && (text[at + 1] === "/" || text[at + 1] === "*")) return "comments are not allowed in JSON";
    if (ch === "'") return "strings must use double quotes, not single quotes";
    if (text.charCodeAt(at) === 0xfeff) return "unexpected byte order mark (U+FEFF); save the file as UTF-8 without BOM";
    return null;
  };

  const unexpected = (at: number, expected: string, prevEnd?: number): never => {
    const why = explain(at);
    if (why) throw new ScanError(at, why);
    let msg = `expected ${expected}, found ${describe(at)}`;
    // The classic: a value on the next line and no ',' after the previous one.
    if (prevEnd !== undefined && text.slice(prevEnd, at).includes("\n") && /["\-0-9{\[tfn]/.test(text[at] ?? "")) {
      msg += ` (missing ',' at the end of line ${lineColumn(text, prevEnd).line}?)`;
    }
    throw new ScanError(at, msg);
  };

  const unclosed = (frame: Frame, expected: string): never => {
    const { line, column } = lineColumn(text, frame.open);
    const what = frame.kind === Ctx.Object ? "object" : "array";
    throw new ScanError(n, `unexpected end of input: expected ${expected} (${what} opened at ${line}:${column} is not closed)`);
  };

  const scanString = () => {
    // text[i] === '"'
    const start = i;
    i++;
    for (;;) {
      if (i >= n) throw new ScanError(start, "unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === undefined) throw new ScanError(start, "unterminated string");
        if ('"\\/bfnrt'.includes(e)) {
          i += 2;
          continue;
        }
        if (e === "u") {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9A-Fa-f]{4}$/.test(hex)) {
            throw new ScanError(i, `invalid unicode escape "\\u${hex.replace(/[^0-9A-Za-z].*$/s, "")}" (expected 4 hex digits)`);
          }
          i += 6;
          continue;
        }
        throw new ScanError(i, `invalid escape sequence "\\${String.fromCodePoint(text.codePointAt(i + 1)!)}" in string`);
      }
      if (c === 0x0a || c === 0x0d) throw new ScanError(i, "unterminated string (strings cannot span lines; use \\n)");
      if (c < 0x20) {
        throw new ScanError(i, `control character U+${c.toString(16).toUpperCase().padStart(4, "0")} must be escaped in a string`);
      }
      i++;
    }
  };

  const scanNumber = () => {
    const start = i;
    if (text[i] === "-") i++;
    if (i >= n || !isDigit(text.charCodeAt(i))) {
      const w = wordAt(i);
      if (w === "Infinity") throw new ScanError(start, "-Infinity is not a valid JSON value");
      throw new ScanError(i, `invalid number: expected a digit after '-', found ${describe(i)}`);
    }
    if (text[i] === "0" && i + 1 < n && isDigit(text.charCodeAt(i + 1))) {
      throw new ScanError(start, "invalid number: leading zeros are not allowed");
    }
    while (i < n && isDigit(text.charCodeAt(i))) i++;
    if (text[i] === ".") {
      i++;
      if (i >= n || !isDigit(text.charCodeAt(i))) {
        throw new ScanError(i, `invalid number: expected a digit after '.', found ${describe(i)}`);
      }
      while (i < n && isDigit(text.charCodeAt(i))) i++;
    }
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      if (i >= n || !isDigit(text.charCodeAt(i))) {
        throw new ScanError(i, `invalid number: expected a digit in the exponent, found ${describe(i)}`);
      }
      while (i < n && isDigit(text.charCodeAt(i))) i++;
    }
  };

  /** Scan one value at i. Returns true if it opened a container (pushed a frame). */
  const scanValue = (expected: string): boolean => {
    if (i >= n) {
      const top = stack[stack.length - 1];
      if (top) unclosed(top, expected);
      if (n === 0) throw new ScanError(n, "unexpected end of input: the file is empty");
      throw new ScanError(n, text.trim() === "" ? "unexpected end of input: the file contains only whitespace" : `unexpected end of input: expected ${expected}`);
    }
    const ch = text[i]!;
    if (ch === "{" || ch === "[") {
      stack.push({ kind: ch === "{" ? Ctx.Object : Ctx.Array, open: i });
      i++;
      return true;
    }
    if (ch === '"') {
      scanString();
      return false;
    }
    if (ch === "-" || isDigit(ch.charCodeAt(0))) {
      scanNumber();
      return false;
    }
    if (/[A-Za-z_$]/.test(ch)) {
      const w = clip(wordAt(i), 40);
      if (w === "true" || w === "false" || w === "null") {
        i += w.length;
        return false;
      }
      if (w === "NaN" || w === "Infinity" || w === "undefined") throw new ScanError(i, `${w} is not a valid JSON value`);
      for (const lit of ["true", "false", "null"]) {
        if (lit.startsWith(w) || w.startsWith(lit)) throw new ScanError(i, `invalid literal "${w}" (did you mean ${lit}?)`);
      }
      throw new ScanError(i, `expected ${expected}, found "${w}" (strings must be double-quoted)`);
    }
    if (ch === "+" || ch === ".") throw new ScanError(i, `invalid number: a JSON number cannot start with '${ch}'`);
    return unexpected(i, expected);
  };

  skipWs();
  if (text.charCodeAt(i) === 0xfeff) unexpected(i, "a value");
  scanValue("a value");

  // After each step, `stack` says where we are. `afterOpen` is set right after '{' / '['.
  let afterOpen = stack.length > 0;
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const prevEnd = i;
    skipWs();
    if (top.kind === Ctx.Object) {
      if (afterOpen) {
        if (text[i] === "}") {
          i++;
          stack.pop();
          afterOpen = false;
          continue;
        }
      } else {
        // After a property value: ',' or '}'.
        if (i >= n) unclosed(top, "',' or '}'");
        if (text[i] === "}") {
          i++;
          stack.pop();
          continue;
        }
        if (text[i] !== ",") unexpected(i, "',' or '}' after property value", prevEnd);
        i++;
        skipWs();
        if (text[i] === "}") throw new ScanError(i, "trailing comma before '}' is not allowed");
      }
      // A member: "name" : value
      if (i >= n) unclosed(top, "a property name");
      if (text[i] !== '"') {
        if (/[A-Za-z_$]/.test(text[i]!)) {
          throw new ScanError(i, `property name "${clip(wordAt(i), 40)}" must be a double-quoted string`);
        }
        unexpected(i, afterOpen ? "a property name or '}'" : "a property name");
      }
      scanString();
      skipWs();
      if (i >= n) unclosed(top, "':'");
      if (text[i] !== ":") unexpected(i, "':' after property name");
      i++;
      skipWs();
      afterOpen = scanValue("a property value");
      continue;
    }
    // Array
    if (afterOpen) {
      if (text[i] === "]") {
        i++;
        stack.pop();
        afterOpen = false;
        continue;
      }
    } else {
      if (i >= n) unclosed(top, "',' or ']'");
      if (text[i] === "]") {
        i++;
        stack.pop();
        continue;
      }
      if (text[i] !== ",") unexpected(i, "',' or ']' after array element", prevEnd);
      i++;
      skipWs();
      if (text[i] === "]") throw new ScanError(i, "trailing comma before ']' is not allowed");
    }
    if (i >= n) unclosed(top, "an array element");
    afterOpen = scanValue(afterOpen ? "an array element or ']'" : "an array element");
  }

  skipWs();
  if (i < n) {
    const why = explain(i);
    throw new ScanError(i, why ?? `unexpected ${describe(i)} after the end of the JSON value`);
  }
}
