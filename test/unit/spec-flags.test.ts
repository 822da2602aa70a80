// src/cli/flags.ts: the flag parser every command uses (first used by `berth spec`).
import { describe, expect, test } from "bun:test";
import { formatFlagHelp, kebabCase, parseFlags } from "../../src/cli/flags.ts";
import { BerthError } from "../../src/runtime/errors.ts";

const DEFS = {
  bundle: { type: "string", short: "b" },
  rootless: { type: "boolean" },
  detach: { type: "boolean", short: "d" },
  tty: { type: "boolean", short: "t" },
  env: { type: "string[]", short: "e" },
  pidFile: { type: "string" },
  preserveFds: { type: "int", default: 0 },
  "no-pivot": { type: "boolean" },
} as const;

const parse = (argv: string[], opts: Parameters<typeof parseFlags>[2] = { command: "berth test" }) => parseFlags(argv, DEFS, opts);

function errorOf(f: () => unknown): BerthError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(BerthError);
    return e as BerthError;
  }
  throw new Error("expected a BerthError");
}

describe("parseFlags", () => {
  test("defaults when nothing is given", () => {
    const { flags, positionals, given } = parse([]);
    expect(flags).toEqual({
      bundle: undefined,
      rootless: false,
      detach: false,
      tty: false,
      env: [],
      pidFile: undefined,
      preserveFds: 0,
      "no-pivot": false,
    });
    expect(positionals).toEqual([]);
    expect(given.size).toBe(0);
  });

  test("long, long=, short and short= forms", () => {
    expect(parse(["--bundle", "/a"]).flags.bundle).toBe("/a");
    expect(parse(["--bundle=/a=b"]).flags.bundle).toBe("/a=b");
    expect(parse(["-b", "/a"]).flags.bundle).toBe("/a");
    expect(parse(["-b=/a"]).flags.bundle).toBe("/a");
    expect(parse(["--bundle="]).flags.bundle).toBe("");
  });

  test("a value may start with '-' (Go flag behaviour)", () => {
    expect(parse(["--bundle", "-weird"]).flags.bundle).toBe("-weird");
  });

  test("camelCase keys are spelt kebab-case; kebab keys work as is", () => {
    const { flags } = parse(["--pid-file", "/run/p", "--preserve-fds=3", "--no-pivot"]);
    expect(flags.pidFile).toBe("/run/p");
    expect(flags.preserveFds).toBe(3);
    expect(flags["no-pivot"]).toBe(true);
    expect(errorOf(() => parse(["--pidFile", "x"])).message).toBe('unknown flag --pidFile for "berth test"');
    expect(kebabCase("consoleSocket")).toBe("console-socket");
  });

  test("booleans: bare, =true/=false, and grouped short flags", () => {
    expect(parse(["--rootless"]).flags.rootless).toBe(true);
    expect(parse(["--rootless=false"]).flags.rootless).toBe(false);
    expect(parse(["--rootless=1"]).flags.rootless).toBe(true);
    const { flags } = parse(["-dt"]);
    expect(flags.detach).toBe(true);
    expect(flags.tty).toBe(true);
    expect(parse(["-d=false"]).flags.detach).toBe(false);
    expect(errorOf(() => parse(["--rootless=maybe"])).message).toBe('invalid value "maybe" for flag --rootless for "berth test": expected true or false');
  });

  test("a boolean never swallows the next argument", () => {
    const { flags, positionals } = parse(["--rootless", "false"]);
    expect(flags.rootless).toBe(true);
    expect(positionals).toEqual(["false"]);
  });

  test("a value flag may end a short group: -te VALUE", () => {
    const { flags } = parse(["-te", "A=1"]);
    expect(flags.tty).toBe(true);
    expect(flags.env).toEqual(["A=1"]);
    expect(errorOf(() => parse(["-et", "A=1"])).message).toBe('flag -e for "berth test" needs a value and must come last in "-et"');
  });

  test("repeated string[] flags collect in order; repeated scalars keep the last", () => {
    const { flags, given } = parse(["-e", "A=1", "--env", "B=2", "--env=C=3", "-b", "/x", "--bundle", "/y"]);
    expect(flags.env).toEqual(["A=1", "B=2", "C=3"]);
    expect(flags.bundle).toBe("/y");
    expect([...given].sort()).toEqual(["bundle", "env"]);
  });

  test("default string[] values are copied, not shared between calls", () => {
    const defs = { x: { type: "string[]", default: ["a"] } } as const;
    parseFlags(["--x", "b"], defs).flags.x.push("c");
    expect(parseFlags([], defs).flags.x).toEqual(["a"]);
  });

  test("parsing stops at the first positional by default (runc/Go), `--` ends flags", () => {
    expect(parse(["-d", "ctr", "ls", "-la", "--rootless"])).toMatchObject({ positionals: ["ctr", "ls", "-la", "--rootless"], flags: { detach: true, rootless: false } });
    expect(parse(["--", "--rootless"])).toMatchObject({ positionals: ["--rootless"], flags: { rootless: false } });
    expect(parse(["-"]).positionals).toEqual(["-"]);
  });

  test("interspersed: flags after positionals", () => {
    const r = parse(["ctr", "--rootless", "x", "--", "-d"], { command: "berth test", interspersed: true });
    expect(r.positionals).toEqual(["ctr", "x", "-d"]);
    expect(r.flags.rootless).toBe(true);
    expect(r.flags.detach).toBe(false);
  });

  test("unknown flags are clear errors naming the command", () => {
    const e = errorOf(() => parse(["--x"]));
    expect(e.message).toBe('unknown flag --x for "berth test"');
    expect(e.phase).toBe("args");
    expect(e.hint).toBe('run "berth test --help" for usage');
    expect(errorOf(() => parse(["-z"])).message).toBe('unknown flag -z for "berth test"');
    expect(errorOf(() => parse(["-rootless"])).message).toBe('unknown flag -rootless for "berth test" (did you mean --rootless?)');
    expect(errorOf(() => parse(["--x=1"])).message).toBe('unknown flag --x for "berth test"');
  });

  test("the command name may be given as a plain string", () => {
    expect(errorOf(() => parseFlags(["--nope"], DEFS, "berth run")).message).toBe('unknown flag --nope for "berth run"');
  });

  test("missing and invalid values", () => {
    expect(errorOf(() => parse(["--bundle"])).message).toBe('flag --bundle for "berth test" needs a value');
    expect(errorOf(() => parse(["-b"])).message).toBe('flag -b for "berth test" needs a value');
    expect(errorOf(() => parse(["--preserve-fds", "x"])).message).toBe('invalid value "x" for flag --preserve-fds for "berth test": expected an integer');
    expect(errorOf(() => parse(["--preserve-fds=1.5"])).message).toContain("expected an integer");
    expect(parse(["--preserve-fds", "-1"]).flags.preserveFds).toBe(-1);
  });

  test("bad definitions are programming errors", () => {
    expect(() => parseFlags([], { a: { type: "boolean", short: "x" }, b: { type: "boolean", short: "x" } })).toThrow("flag -x defined twice");
    expect(() => parseFlags([], { fooBar: { type: "boolean" }, "foo-bar": { type: "boolean" } })).toThrow("flag --foo-bar defined twice");
  });

  test("formatFlagHelp aligns names and help", () => {
    const help = formatFlagHelp({
      bundle: { type: "string", short: "b", value: "DIR", help: "bundle directory" },
      rootless: { type: "boolean", help: "rootless" },
      env: { type: "string[]", short: "e", help: "set a variable" },
    });
    expect(help.split("\n")).toEqual([
      "  --bundle DIR, -b DIR    bundle directory",
      "  --rootless              rootless",
      "  --env VALUE, -e VALUE   set a variable (repeatable)",
    ]);
  });
});
