// loadSpec and the JSON error reporting: every failure is one line, JSON errors carry line:col.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BerthError } from "../../src/runtime/errors.ts";
import { defaultSpec } from "../../src/runtime/spec/defaults.ts";
import { formatSpec } from "../../src/runtime/spec/format.ts";
import { findJsonSyntaxError, lineColumn, parseJson } from "../../src/runtime/spec/json.ts";
import { loadSpec } from "../../src/runtime/spec/load.ts";

function errorOf(f: () => unknown): BerthError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(BerthError);
    return e as BerthError;
  }
  throw new Error("expected a BerthError, nothing was thrown");
}

describe("parseJson error positions and messages", () => {
  const cases: Array<[string, string, string]> = [
    // [input, "line:col", message]
    ['{\n\t"ociVersion": "1.0.2",\n\t"hostname": "x"\n\t"mounts": []\n}', "4:2", "expected ',' or '}' after property value, found a string (missing ',' at the end of line 3?)"],
    ['{"a": 1 "b": 2}', "1:9", "expected ',' or '}' after property value, found a string"],
    ["", "1:1", "unexpected end of input: the file is empty"],
    ["  \n ", "2:2", "unexpected end of input: the file contains only whitespace"],
    ['{\n  "a": [1, 2,\n  ]\n}', "3:3", "trailing comma before ']' is not allowed"],
    ['{"a": 1,}', "1:9", "trailing comma before '}' is not allowed"],
    ['{"a": tru}', "1:7", 'invalid literal "tru" (did you mean true?)'],
    ["{'a': 1}", "1:2", "strings must use double quotes, not single quotes"],
    ["{a: 1}", "1:2", 'property name "a" must be a double-quoted string'],
    ['{"a": 01}', "1:7", "invalid number: leading zeros are not allowed"],
    ['{"a": 1.}', "1:9", "invalid number: expected a digit after '.', found '}'"],
    ['{"a": -}', "1:8", "invalid number: expected a digit after '-', found '}'"],
    ['{"a": +1}', "1:7", "invalid number: a JSON number cannot start with '+'"],
    ['{"a": NaN}', "1:7", "NaN is not a valid JSON value"],
    ['{"a": "x\ny"}', "1:9", "unterminated string (strings cannot span lines; use \\n)"],
    ['{"a": "x\\qy"}', "1:9", 'invalid escape sequence "\\q" in string'],
    ['{"a": "\\u12G4"}', "1:8", 'invalid unicode escape "\\u12G4" (expected 4 hex digits)'],
    ['{"a": "tab\there"}', "1:11", "control character U+0009 must be escaped in a string"],
    ['{"a" 1}', "1:6", "expected ':' after property name, found a number"],
    ['{"a": [1 2]}', "1:10", "expected ',' or ']' after array element, found a number"],
    ['{"a": 1} x', "1:10", 'unexpected "x" after the end of the JSON value'],
    ['{"a": 1}\n// trailing comment', "2:1", "comments are not allowed in JSON"],
    ['{\n  "a": {"b": [1, 2', "2:19", "unexpected end of input: expected ',' or ']' (array opened at 2:14 is not closed)"],
    ['{"a": "unterminated', "1:7", "unterminated string"],
    ["\ufeff{}", "1:1", "unexpected byte order mark (U+FEFF); save the file as UTF-8 without BOM"],
    // Columns count characters, not UTF-16 units: the emoji is one column.
    ['{"😀": 1 "b": 2}', "1:9", "expected ',' or '}' after property value, found a string"],
  ];
  for (const [input, pos, message] of cases) {
    test(`${JSON.stringify(input).slice(0, 50)} → ${pos}`, () => {
      const e = errorOf(() => parseJson(input, "/b/config.json"));
      expect(e.phase).toBe("config");
      expect(e.message).toBe(`/b/config.json:${pos}: invalid JSON: ${message}`);
    });
  }

  test("valid JSON parses exactly as JSON.parse", () => {
    const text = formatSpec(defaultSpec());
    expect(parseJson(text, "x")).toEqual(JSON.parse(text));
    expect(findJsonSyntaxError(text)).toBeNull();
    for (const ok of ["0", "-0.5e+10", '"\\u00e9\\n"', "[]", "{}", " [ null , true , false ] ", '{"":{"":[[]]}}']) {
      expect(findJsonSyntaxError(ok)).toBeNull();
    }
  });

  test("deep nesting does not overflow the scanner's stack", () => {
    const deep = "[".repeat(200_000) + "]".repeat(199_999);
    const found = findJsonSyntaxError(deep);
    expect(found?.message).toStartWith("unexpected end of input: expected ',' or ']'");
  });

  test("lineColumn counts lines and code points", () => {
    expect(lineColumn("ab\ncd", 4)).toEqual({ line: 2, column: 2 });
    expect(lineColumn("😀x", 2)).toEqual({ line: 1, column: 2 });
    expect(lineColumn("\n\n", 2)).toEqual({ line: 3, column: 1 });
  });

  test("the scanner agrees with JSON.parse on thousands of corrupted configs", () => {
    // Seeded mutations of a real config.json: delete / insert / replace one character.
    const base = formatSpec(defaultSpec());
    const alphabet = ' \t\n{}[],:"\\0123456789-+.eEtrufalsnx\'/';
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let invalid = 0;
    for (let k = 0; k < 3000; k++) {
      let s = base;
      const edits = 1 + rand(3);
      for (let j = 0; j < edits; j++) {
        const p = rand(s.length + 1);
        const c = alphabet[rand(alphabet.length)]!;
        const op = rand(3);
        s = op === 0 ? s.slice(0, p) + s.slice(p + 1) : op === 1 ? s.slice(0, p) + c + s.slice(p) : s.slice(0, p) + c + s.slice(p + 1);
      }
      let parseFails = false;
      try {
        JSON.parse(s);
      } catch {
        parseFails = true;
      }
      const found = findJsonSyntaxError(s);
      if ((found !== null) !== parseFails) {
        throw new Error(`disagreement (JSON.parse ${parseFails ? "fails" : "succeeds"}) on: ${JSON.stringify(s)}`);
      }
      if (found) {
        invalid++;
        expect(found.offset).toBeGreaterThanOrEqual(0);
        expect(found.offset).toBeLessThanOrEqual(s.length);
        expect(found.line).toBe(s.slice(0, found.offset).split("\n").length);
      }
    }
    expect(invalid).toBeGreaterThan(1000); // the mutations really do produce broken files
  });
});

describe("loadSpec", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "berth-load-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test("loads and validates a bundle's config.json", () => {
    writeFileSync(join(dir, "config.json"), formatSpec(defaultSpec()));
    const spec = loadSpec(dir);
    expect(spec.process!.args).toEqual(["sh"]);
    expect(spec.root!.path).toBe("rootfs");
  });

  test("missing config.json: names the bundle and suggests berth spec", () => {
    const e = errorOf(() => loadSpec(dir));
    expect(e.phase).toBe("config");
    expect(e.message).toBe(`no config.json in bundle ${dir}`);
    expect(e.hint).toContain("berth spec");
    expect(e.errno).toBe("ENOENT");
    expect(e.describe().split("\n")).toHaveLength(1);
  });

  test("missing bundle directory is reported as such", () => {
    const e = errorOf(() => loadSpec(join(dir, "nope")));
    expect(e.message).toBe(`bundle directory ${join(dir, "nope")} does not exist`);
  });

  test("config.json that is a directory: unreadable, with errno", () => {
    mkdirSync(join(dir, "config.json"));
    const e = errorOf(() => loadSpec(dir));
    expect(e.message).toBe(`cannot read ${join(dir, "config.json")}: is a directory`);
    expect(e.errno).toBe("EISDIR");
  });

  test.skipIf(process.geteuid?.() === 0)("unreadable config.json reports EACCES", () => {
    writeFileSync(join(dir, "config.json"), "{}");
    chmodSync(join(dir, "config.json"), 0);
    const e = errorOf(() => loadSpec(dir));
    expect(e.errno).toBe("EACCES");
    expect(e.message).toContain("permission denied");
  });

  test("invalid JSON: path, line and column", () => {
    writeFileSync(join(dir, "config.json"), '{\n  "ociVersion": "1.0.2"\n  "root": {"path": "rootfs"}\n}');
    const e = errorOf(() => loadSpec(dir));
    expect(e.message).toBe(
      `${join(dir, "config.json")}:3:3: invalid JSON: expected ',' or '}' after property value, found a string (missing ',' at the end of line 2?)`,
    );
    expect(e.describe()).toStartWith(`config: ${join(dir, "config.json")}:3:3: invalid JSON:`);
  });

  test("a relative bundle path is resolved in messages", () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const e = errorOf(() => loadSpec("."));
      expect(e.message).toBe(`no config.json in bundle ${dir}`);
    } finally {
      process.chdir(cwd);
    }
  });

  test("validation errors come through with the field path", () => {
    const s = defaultSpec() as unknown as { process: { user: { uid: unknown } } };
    s.process.user.uid = "0";
    writeFileSync(join(dir, "config.json"), JSON.stringify(s));
    const e = errorOf(() => loadSpec(dir));
    expect(e.field).toBe("process.user.uid");
    expect(e.describe()).toBe('config: expected a non-negative integer, found string "0" [field process.user.uid]');
  });

  test("warnings go to the warn callback", () => {
    const s = defaultSpec();
    s.mounts!.push({ destination: "data", type: "tmpfs", source: "tmpfs" });
    writeFileSync(join(dir, "config.json"), JSON.stringify(s));
    const warnings: string[] = [];
    loadSpec(dir, { warn: (m, f) => warnings.push(`${f}: ${m}`) });
    expect(warnings).toEqual([
      'mounts[7].destination: mount destination "data" is not absolute; it is taken relative to "/" (relative destinations are deprecated)',
    ]);
  });
});
