// The CLI's last line of defence: whatever a command throws (a bug, a non-Error, an exception
// from a callback), berth prints one line and exits 1; the stack only with --debug.
import { describe, expect, test, afterAll } from "bun:test";
import fs from "node:fs";
import os from "node:os";

const dir = fs.mkdtempSync(`${os.tmpdir()}/berth-cli-errors-`);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const BUN = process.execPath;
const MAIN = `${import.meta.dir}/../../src/cli/main.ts`;

/** Runs the real cli() with a `state` command whose body is `body`. */
function cliWith(body: string, globals: string[] = []): { code: number | null; stderr: string } {
  const file = `${dir}/entry${Math.random().toString(36).slice(2)}.ts`;
  fs.writeFileSync(file, `import { cli } from ${JSON.stringify(MAIN)};
cli([...${JSON.stringify(globals)}, "state", "x"], { state: { run: async () => { ${body} } } });`);
  const r = Bun.spawnSync([BUN, file], { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, stderr: r.stderr.toString() };
}

describe("cli: one line for anything thrown", () => {
  for (const [what, body] of [
    ["a TypeError", "const o: any = undefined; return o.x;"],
    ["a RangeError from deep recursion", "const f = (n: number): number => f(n + 1) + 1; return f(0);"],
    ["a thrown string with a newline", 'throw "bad\\nthing";'],
    ["a thrown object whose toString throws", "throw { toString() { throw new Error('no'); } };"],
    ["an exception from a timer callback", "setTimeout(() => { throw new TypeError('late\\nfailure'); }, 1); await new Promise((r) => setTimeout(r, 200)); return 0;"],
    ["a system error", "require('node:fs').readFileSync('/nonexistent-berth-cli-errors'); return 0;"],
  ] as const) {
    test(what, () => {
      const r = cliWith(body);
      expect(r.code).toBe(1);
      const lines = r.stderr.split("\n").filter((l) => l !== "");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^berth: (internal|system) error: .* \(run with --debug for the stack trace\)$/);
      expect(lines[0]).not.toMatch(/^\s+at /);
    });
  }

  test("a system error names its errno", () => {
    expect(cliWith("require('node:fs').readFileSync('/nonexistent-berth-cli-errors'); return 0;").stderr).toContain("ENOENT");
  });

  test("--debug adds the stack, each line prefixed", () => {
    const r = cliWith("const o: any = undefined; return o.x;", ["--debug"]);
    // (--debug also logs logrus-style debug lines, as runc does; those are not the error)
    const lines = r.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("time="));
    expect(lines[0]).toMatch(/^berth: internal error: /);
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.every((l) => l.startsWith("berth: "))).toBe(true);
  });
});
