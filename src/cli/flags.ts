// A small command-line flag parser shared by every berth command.
//
//   const { flags, positionals } = parseFlags(argv, {
//     bundle: { type: "string", short: "b", value: "DIR", help: "path to the bundle" },
//     rootless: { type: "boolean" },
//     env: { type: "string[]", short: "e" },
//     pidFile: { type: "string" },          // spelled --pid-file on the command line
//   }, { command: "berth spec" });
//
// Accepted forms (as runc / Go's flag package accept them, plus short-flag groups):
//   --name value   --name=value   -n value   -n=value
//   --bool   --bool=true|false|1|0   -b   grouped short booleans: -td   (-it, as docker users type)
//   repeated string[] flags collect into an array (`-e A=1 -e B=2`); a repeated scalar flag keeps
//   the last value; `--` ends flags; a lone `-` is a positional.
// By default parsing stops at the first positional, like Go's flag package (so in
// `berth exec ctr ls -la`, `-la` belongs to ls); pass `interspersed: true` to allow flags after
// positionals. A flag's long name is its key in kebab-case (`pidFile` → `--pid-file`) unless
// `long` is given (keys may also be written kebab-case: "pid-file"). Errors are BerthErrors
// (phase "args", like src/cli/main.ts) naming the flag and the command.

import { BerthError } from "../runtime/errors.ts";

export type FlagType = "boolean" | "string" | "string[]" | "int";

export interface FlagDef {
  type: FlagType;
  /** One-letter alias, used as `-x`. */
  short?: string;
  /** Long name when it is not the key in kebab-case. */
  long?: string;
  /** Value when the flag is not given (booleans default to false, string[] to []). */
  default?: string | boolean | number | readonly string[];
  /** Help text (for formatFlagHelp). */
  help?: string;
  /** Placeholder for the value in help, e.g. "DIR". */
  value?: string;
}

export type FlagDefs = Record<string, FlagDef>;

type ValueOf<D extends FlagDef> = D["type"] extends "boolean"
  ? boolean
  : D["type"] extends "string[]"
    ? string[]
    : D["type"] extends "int"
      ? D extends { default: number }
        ? number
        : number | undefined
      : D extends { default: string }
        ? string
        : string | undefined;

export type FlagValues<S extends FlagDefs> = { -readonly [K in keyof S]: ValueOf<S[K]> };

export interface ParsedFlags<S extends FlagDefs> {
  flags: FlagValues<S>;
  positionals: string[];
  /** Keys of the flags that appeared on the command line (to tell `--x=false` from absent). */
  given: Set<keyof S & string>;
}

export interface ParseOptions {
  /** Command name for messages, e.g. "berth spec". */
  command?: string;
  /** Accept flags after the first positional (default false: Go flag package behaviour). */
  interspersed?: boolean;
}

/** `pidFile` → `pid-file`. */
export function kebabCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

function usageError(message: string, command: string | undefined): BerthError {
  return new BerthError(message, {
    phase: "args",
    hint: command ? `run "${command} --help" for usage` : undefined,
  });
}

const TRUE = new Set(["true", "1", "t", "T", "TRUE", "True"]);
const FALSE = new Set(["false", "0", "f", "F", "FALSE", "False"]);

export function parseFlags<const S extends FlagDefs>(
  argv: readonly string[],
  defs: S,
  options: ParseOptions | string = {},
): ParsedFlags<S> {
  // A plain string is the command name: parseFlags(argv, defs, "berth run").
  const opts: ParseOptions = typeof options === "string" ? { command: options } : options;
  const cmd = opts.command;
  const forCmd = cmd ? ` for "${cmd}"` : "";
  const byLong = new Map<string, string>();
  const byShort = new Map<string, string>();
  const flags: Record<string, unknown> = {};

  for (const [key, def] of Object.entries(defs)) {
    const long = def.long ?? kebabCase(key);
    if (byLong.has(long)) throw new Error(`flag --${long} defined twice`);
    byLong.set(long, key);
    if (def.short !== undefined) {
      if (def.short.length !== 1) throw new Error(`short flag "${def.short}" must be one character`);
      if (byShort.has(def.short)) throw new Error(`flag -${def.short} defined twice`);
      byShort.set(def.short, key);
    }
    if (def.type === "boolean") flags[key] = def.default ?? false;
    else if (def.type === "string[]") flags[key] = Array.isArray(def.default) ? [...(def.default as readonly string[])] : [];
    else flags[key] = def.default;
  }

  const given = new Set<string>();
  const positionals: string[] = [];

  const set = (key: string, shown: string, raw: string): void => {
    const def = defs[key]!;
    given.add(key);
    switch (def.type) {
      case "boolean":
        if (TRUE.has(raw)) flags[key] = true;
        else if (FALSE.has(raw)) flags[key] = false;
        else throw usageError(`invalid value "${raw}" for flag ${shown}${forCmd}: expected true or false`, cmd);
        return;
      case "string":
        flags[key] = raw;
        return;
      case "string[]":
        (flags[key] as string[]).push(raw);
        return;
      case "int": {
        if (!/^[+-]?\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
          throw usageError(`invalid value "${raw}" for flag ${shown}${forCmd}: expected an integer`, cmd);
        }
        flags[key] = Number(raw);
        return;
      }
    }
  };

  let i = 0;
  /** Value for a flag that needs one: inline (`=v`) or the next argument. */
  const valueFor = (shown: string, inline: string | undefined): string => {
    if (inline !== undefined) return inline;
    if (i + 1 >= argv.length) throw usageError(`flag ${shown}${forCmd} needs a value`, cmd);
    i++;
    return argv[i]!;
  };

  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const inline = eq < 0 ? undefined : arg.slice(eq + 1);
      const key = byLong.get(name);
      if (key === undefined) throw usageError(`unknown flag --${name}${forCmd}`, cmd);
      const shown = `--${name}`;
      if (defs[key]!.type === "boolean") set(key, shown, inline ?? "true");
      else set(key, shown, valueFor(shown, inline));
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      const eq = arg.indexOf("=");
      const letters = eq < 0 ? arg.slice(1) : arg.slice(1, eq);
      const inline = eq < 0 ? undefined : arg.slice(eq + 1);
      for (let j = 0; j < letters.length; j++) {
        const letter = letters[j]!;
        const shown = `-${letter}`;
        const key = byShort.get(letter);
        if (key === undefined) {
          // `-rootless`: Go accepts single-dash long names; point at the right spelling.
          const hint = letters.length > 1 && byLong.has(letters) ? ` (did you mean --${letters}?)` : "";
          throw usageError(`unknown flag ${letters.length > 1 && hint ? "-" + letters : shown}${forCmd}${hint}`, cmd);
        }
        const last = j === letters.length - 1;
        if (defs[key]!.type === "boolean") {
          set(key, shown, last ? inline ?? "true" : "true");
        } else {
          // A flag that takes a value must be the last of a group: -e VALUE, -te VALUE, -e=VALUE.
          if (!last) {
            throw usageError(`flag ${shown}${forCmd} needs a value and must come last in "${eq < 0 ? arg : arg.slice(0, eq)}"`, cmd);
          }
          set(key, shown, valueFor(shown, inline));
        }
      }
      continue;
    }
    positionals.push(arg);
    if (!opts.interspersed) {
      positionals.push(...argv.slice(i + 1));
      break;
    }
  }

  return { flags: flags as FlagValues<S>, positionals, given: given as Set<keyof S & string> };
}

/** Help lines for the flags, aligned: `  --bundle DIR, -b DIR   path to the bundle`. */
export function formatFlagHelp(defs: FlagDefs): string {
  const rows = Object.entries(defs).map(([key, def]) => {
    const long = def.long ?? kebabCase(key);
    const value = def.type === "boolean" ? "" : ` ${def.value ?? (def.type === "int" ? "N" : "VALUE")}`;
    let names = `--${long}${value}`;
    if (def.short) names += `, -${def.short}${value}`;
    let help = def.help ?? "";
    if (def.type === "string[]") help += help ? " (repeatable)" : "(repeatable)";
    return [names, help] as const;
  });
  const width = Math.max(0, ...rows.map(([n]) => n.length));
  return rows.map(([n, h]) => `  ${n.padEnd(width)}   ${h}`.trimEnd()).join("\n");
}
