// The one-line guarantee of error messages: control characters escaped, huge values clipped.
import { describe, expect, test } from "bun:test";
import { BerthError, clip, oneLine, quoteValue } from "../../src/runtime/errors.ts";
import { validateSpec } from "../../src/runtime/spec/validate.ts";
import { defaultSpec } from "../../src/runtime/spec/defaults.ts";

describe("oneLine", () => {
  test("escapes line breaks, terminal escapes and separators", () => {
    expect(oneLine("a\nb\r\tc\u001b[31m\u2028\u0085")).toBe("a\\nb\\r\\tc\\u001b[31m\\u2028\\u0085");
  });
  test("clips a huge token and caps the line", () => {
    const s = oneLine(`bad value (${"x".repeat(600_000)}/last): here`);
    expect(s.length).toBeLessThan(200);
    expect(s).toBe(`bad value (${"x".repeat(119)}…${"x".repeat(33)}/last): here`);
    const path = "/var/lib/docker/overlay2/" + "0123456789abcdef".repeat(4) + "/merged/usr/lib";
    expect(oneLine(`cannot mount ${path}`)).toBe(`cannot mount ${path}`);
    const words = oneLine("word ".repeat(100_000));
    expect(words.length).toBe(1001);
    expect(words.endsWith("…")).toBe(true);
  });
  test("leaves ordinary messages alone", () => {
    expect(oneLine("config: expected a string [field process.cwd]")).toBe("config: expected a string [field process.cwd]");
  });
});

describe("quoteValue and clip", () => {
  test("quotes and clips strings by code point, without splitting a surrogate pair", () => {
    expect(quoteValue("a\nb")).toBe('"a\\nb"');
    expect(quoteValue("🙂".repeat(100))).toBe(JSON.stringify("🙂".repeat(80) + "…"));
    expect(clip("short")).toBe("short");
  });
  test("non-strings are shown as JSON, clipped; unprintable ones by type", () => {
    expect(quoteValue(5)).toBe("5");
    expect(quoteValue(Array(1000).fill(1)).length).toBe(81);
    expect(quoteValue(undefined)).toBe("undefined");
  });
});

describe("BerthError.describe", () => {
  test("is one line even when every part carries control characters", () => {
    const e = new BerthError("bad\nmessage", { phase: "config", field: 'x["a\nb"]', hint: "try\nthis" });
    expect(e.describe()).not.toContain("\n");
    expect(e.describe()).toBe('config: bad\\nmessage [field x["a\\nb"]] — likely cause: try\\nthis');
  });
});

describe("validateSpec on hostile input", () => {
  const spec = () => JSON.parse(JSON.stringify({ ...defaultSpec() })) as Record<string, any>;
  test("nesting deeper than the limit is a config error naming where it starts", () => {
    const s = spec();
    let deep: unknown = [];
    for (let i = 0; i < 5000; i++) deep = [deep];
    s.annotations = { a: deep };
    try {
      validateSpec(s);
      throw new Error("accepted");
    } catch (e) {
      expect(e).toBeInstanceOf(BerthError);
      expect((e as BerthError).field!.startsWith("annotations.a[0][0]")).toBe(true);
    }
  });
  test("nesting within the limit in an extension field is accepted", () => {
    const s = spec();
    let deep: unknown = [];
    for (let i = 0; i < 900; i++) deep = [deep];
    s["org.example.ext"] = deep;
    expect(() => validateSpec(s)).not.toThrow();
  });
  test("a NUL byte in a string berth passes on is refused; in annotations it is left alone", () => {
    const s = spec();
    s.process.args = ["echo", "a\u0000b"];
    expect(() => validateSpec(s)).toThrow("NUL");
    try {
      validateSpec(s);
    } catch (e) {
      expect((e as BerthError).field).toBe("process.args[1]");
    }
    const k = spec();
    k.linux.sysctl = { "kernel.x\u0000y": "1" };
    expect(() => validateSpec(k)).toThrow("NUL");
    const a = spec();
    a.annotations = { note: "a\u0000b" };
    expect(() => validateSpec(a)).not.toThrow();
  });

  test("a huge unknown key in a field path is clipped", () => {
    const s = spec();
    s.linux.sysctl = { ["k\n".repeat(100_000)]: 5 };
    try {
      validateSpec(s);
      throw new Error("accepted");
    } catch (e) {
      expect((e as BerthError).describe().length).toBeLessThan(300);
      expect((e as BerthError).describe()).not.toContain("\n");
    }
  });
});
