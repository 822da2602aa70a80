// `berth spec` and the default specs: byte-identical to runc's, and the command's file handling.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { run, writeNewFile } from "../../src/cli/commands/spec.ts";
import { BerthError } from "../../src/runtime/errors.ts";
import { defaultSpec, rootlessSpec } from "../../src/runtime/spec/defaults.ts";
import { formatSpec } from "../../src/runtime/spec/format.ts";
import { validateSpec } from "../../src/runtime/spec/validate.ts";

const FIXTURES = resolve(import.meta.dir, "../fixtures/spec");
const REPO = resolve(import.meta.dir, "../..");
const fixture = (name: string) => readFileSync(join(FIXTURES, name), "utf8");
const globals = { root: "/run/berth-test", debug: false };

const RUNC = Bun.which("runc");

/** Run `runc spec [args]` in a fresh directory, return the file's bytes. */
function runcSpec(args: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "berth-runc-spec-"));
  try {
    const p = Bun.spawnSync([RUNC!, "spec", ...args], { cwd: dir, stderr: "pipe" });
    if (p.exitCode !== 0) throw new Error(`runc spec failed: ${p.stderr.toString()}`);
    return readFileSync(join(dir, "config.json"), "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Catch the BerthError a call throws (fails the test if it does not throw one). */
async function errorOf(f: () => unknown): Promise<BerthError> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(BerthError);
    return e as BerthError;
  }
  throw new Error("expected a BerthError, nothing was thrown");
}

describe("default specs match runc 1.1.5 byte for byte", () => {
  test("defaultSpec() equals the captured `runc spec` fixture", () => {
    expect(formatSpec(defaultSpec())).toBe(fixture("runc-spec.json"));
  });

  test("rootlessSpec() for uid/gid 0 equals `runc spec --rootless` run as root", () => {
    expect(formatSpec(rootlessSpec({ uid: 0, gid: 0 }))).toBe(fixture("runc-spec-rootless.json"));
  });

  test("rootlessSpec() for euid 1000 / egid 1001 equals runc's output for that user", () => {
    expect(formatSpec(rootlessSpec({ uid: 1000, gid: 1001 }))).toBe(fixture("runc-spec-rootless-uid1000-gid1001.json"));
  });

  test("rootlessSpec() without arguments maps the caller's effective ids", () => {
    const s = rootlessSpec();
    expect(s.linux!.uidMappings).toEqual([{ containerID: 0, hostID: process.geteuid!(), size: 1 }]);
    expect(s.linux!.gidMappings).toEqual([{ containerID: 0, hostID: process.getegid!(), size: 1 }]);
  });

  test.skipIf(!RUNC)("defaultSpec() equals live `runc spec` output", () => {
    expect(formatSpec(defaultSpec())).toBe(runcSpec([]));
  });

  test.skipIf(!RUNC)("rootlessSpec() equals live `runc spec --rootless` for the calling user", () => {
    expect(formatSpec(rootlessSpec())).toBe(runcSpec(["--rootless"]));
  });

  test("the file uses tabs and has no trailing newline, like runc", () => {
    const text = formatSpec(defaultSpec());
    expect(text.startsWith('{\n\t"ociVersion": "1.0.2-dev",\n\t"process": {\n\t\t"terminal": true,')).toBe(true);
    expect(text.endsWith("\n\t}\n}")).toBe(true); // last byte is the closing brace
    expect(text.endsWith("\n")).toBe(false);
  });

  test("each call returns a fresh object (callers may mutate it)", () => {
    const a = defaultSpec();
    a.process!.args!.push("-c");
    a.process!.capabilities!.bounding!.push("CAP_SYS_ADMIN");
    expect(defaultSpec().process!.args).toEqual(["sh"]);
    expect(defaultSpec().process!.capabilities!.bounding).toHaveLength(3);
    expect(defaultSpec().process!.capabilities!.effective).toHaveLength(3);
  });

  test("both default specs pass validation", () => {
    expect(() => validateSpec(defaultSpec())).not.toThrow();
    expect(() => validateSpec(rootlessSpec({ uid: 1000, gid: 1000 }))).not.toThrow();
  });

  test("formatSpec escapes <, > and & the way Go does", () => {
    const s = defaultSpec();
    s.process!.args = ["sh", "-c", "a<b>c&d\u2028"];
    const text = formatSpec(s);
    expect(text).toContain('"a\\u003cb\\u003ec\\u0026d\\u2028"');
    expect(JSON.parse(text).process.args[2]).toBe("a<b>c&d\u2028");
  });
});

describe("berth spec command", () => {
  let dir: string;
  let cwd: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "berth-spec-cmd-"));
    cwd = process.cwd();
  });
  afterEach(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });

  test("writes config.json in the current directory by default", async () => {
    process.chdir(dir);
    expect(await run([], globals)).toBe(0);
    expect(readFileSync(join(dir, "config.json"), "utf8")).toBe(fixture("runc-spec.json"));
    expect(readdirSync(dir)).toEqual(["config.json"]);
  });

  test("file mode is 0666 & ~umask (0644 with the usual umask), like runc", async () => {
    const old = process.umask(0o022);
    try {
      await run(["--bundle", dir], globals);
    } finally {
      process.umask(old);
    }
    expect(statSync(join(dir, "config.json")).mode & 0o777).toBe(0o644);
  });

  for (const form of [["--bundle", "B"], ["--bundle=B"], ["-b", "B"], ["-b=B"]]) {
    test(`bundle given as ${form.join(" ")}`, async () => {
      const bundle = join(dir, "bundle");
      mkdirSync(bundle);
      expect(await run(form.map((a) => a.replace("B", bundle)), globals)).toBe(0);
      expect(readFileSync(join(bundle, "config.json"), "utf8")).toBe(fixture("runc-spec.json"));
      expect(existsSync(join(dir, "config.json"))).toBe(false);
    });
  }

  test("a relative --bundle is resolved against the current directory", async () => {
    mkdirSync(join(dir, "rel"));
    process.chdir(dir);
    await run(["-b", "rel"], globals);
    expect(existsSync(join(dir, "rel", "config.json"))).toBe(true);
  });

  test('--bundle "" means the current directory, as in runc', async () => {
    process.chdir(dir);
    await run(["--bundle", ""], globals);
    expect(existsSync(join(dir, "config.json"))).toBe(true);
  });

  test("--rootless writes the rootless spec for the calling user", async () => {
    await run(["--rootless", "-b", dir], globals);
    expect(readFileSync(join(dir, "config.json"), "utf8")).toBe(formatSpec(rootlessSpec()));
    const parsed = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    expect(parsed.linux.namespaces.map((n: { type: string }) => n.type)).toEqual(["pid", "ipc", "uts", "mount", "user"]);
  });

  test("--rootless=false writes the normal spec", async () => {
    await run(["--rootless=false", "-b", dir], globals);
    expect(readFileSync(join(dir, "config.json"), "utf8")).toBe(fixture("runc-spec.json"));
  });

  test("refuses to overwrite an existing config.json, naming its path, and keeps it", async () => {
    writeFileSync(join(dir, "config.json"), "mine");
    const e = await errorOf(() => run(["-b", dir], globals));
    expect(e.message).toBe(`${join(dir, "config.json")} already exists; remove it first`);
    expect(e.errno).toBe("EEXIST");
    expect(readFileSync(join(dir, "config.json"), "utf8")).toBe("mine");
    expect(readdirSync(dir)).toEqual(["config.json"]);
  });

  test("a dangling config.json symlink also counts as existing (never written through)", async () => {
    symlinkSync(join(dir, "elsewhere.json"), join(dir, "config.json"));
    const e = await errorOf(() => run(["-b", dir], globals));
    expect(e.message).toContain("already exists");
    expect(existsSync(join(dir, "elsewhere.json"))).toBe(false);
  });

  test("a missing bundle directory is an error naming it; nothing is created", async () => {
    const missing = join(dir, "nope");
    const e = await errorOf(() => run(["--bundle", missing], globals));
    expect(e.message).toBe(`bundle directory ${missing} does not exist`);
    expect(e.phase).toBe("spec");
    expect(e.errno).toBe("ENOENT");
    expect(existsSync(missing)).toBe(false);
  });

  test("a bundle that is a file is an error", async () => {
    writeFileSync(join(dir, "file"), "");
    const e = await errorOf(() => run(["--bundle", join(dir, "file")], globals));
    expect(e.message).toContain("is not a directory");
  });

  test.skipIf(process.geteuid?.() === 0)("an unwritable bundle is an error and leaves nothing behind", async () => {
    chmodSync(dir, 0o555);
    try {
      const e = await errorOf(() => run(["-b", dir], globals));
      expect(e.errno).toBe("EACCES");
    } finally {
      chmodSync(dir, 0o755);
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  test("writeNewFile fails with EEXIST if the file appears before the link, and removes its temp file", async () => {
    // Simulates the race the link(2) step protects against: the existence check passed, then
    // someone created config.json.
    writeFileSync(join(dir, "config.json"), "theirs");
    const e = await errorOf(() => writeNewFile(join(dir, "config.json"), "ours"));
    expect(e.errno).toBe("EEXIST");
    expect(readFileSync(join(dir, "config.json"), "utf8")).toBe("theirs");
    expect(readdirSync(dir)).toEqual(["config.json"]);
  });

  test("unknown flag: clear error naming the flag and the command", async () => {
    const e = await errorOf(() => run(["--x"], globals));
    expect(e.message).toBe('unknown flag --x for "berth spec"');
    expect(readdirSync(dir)).toEqual([]);
  });

  test("positional arguments are refused, like runc (exactly 0 arguments)", async () => {
    const e = await errorOf(() => run(["-b", dir, "extra"], globals));
    expect(e.message).toContain('takes no arguments, got "extra"');
    expect(readdirSync(dir)).toEqual([]);
  });

  test("--bundle without a value is an error", async () => {
    const e = await errorOf(() => run(["--bundle"], globals));
    expect(e.message).toBe('flag --bundle for "berth spec" needs a value');
  });

  test("-h / --help print usage and write nothing", () => {
    for (const h of ["-h", "--help"]) {
      const r = Bun.spawnSync([join(REPO, "bin/berth"), "spec", h], { cwd: dir, stdout: "pipe", stderr: "pipe" });
      const out = r.stdout.toString();
      expect(r.exitCode).toBe(0);
      expect(out).toContain("Usage: berth spec [--bundle DIR] [--rootless]");
      expect(out).toContain("--bundle DIR, -b DIR");
      expect(readdirSync(dir)).toEqual([]);
    }
  });

  test("end to end through bin/berth: exit status and one-line error", () => {
    const ok = Bun.spawnSync([join(REPO, "bin/berth"), "spec", "--bundle", dir], { stderr: "pipe" });
    expect(ok.exitCode).toBe(0);
    expect(readFileSync(join(dir, "config.json"), "utf8")).toBe(fixture("runc-spec.json"));
    const again = Bun.spawnSync([join(REPO, "bin/berth"), "spec", "--bundle", dir], { stderr: "pipe" });
    expect(again.exitCode).toBe(1);
    const err = again.stderr.toString();
    expect(err.trimEnd().split("\n")).toHaveLength(1);
    expect(err).toStartWith(`berth: spec: ${join(dir, "config.json")} already exists; remove it first`);
  });
});

import { MOUNT_ATTR, parseMountOptions as parseOpts } from "../../src/runtime/plan/mount-options.ts";

describe("recursive mount options (runc's rro, rnosuid, ...)", () => {
  test("become mount_setattr attributes, not filesystem data; a later option wins", () => {
    const o = parseOpts(["rbind", "rro", "rnosuid", "rnoexec"], "mounts[0]");
    expect(o.data).toEqual([]);
    expect(o.recAttrSet).toBe(MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NOEXEC);
    expect(o.recAttrClr).toBe(0);
    const back = parseOpts(["rro", "rrw"], "m");
    expect([back.recAttrSet, back.recAttrClr]).toEqual([0, MOUNT_ATTR.RDONLY]);
    const atime = parseOpts(["rstrictatime", "rnoatime"], "m");
    expect([atime.recAttrSet, atime.recAttrClr]).toEqual([MOUNT_ATTR.NOATIME, MOUNT_ATTR.ATIME]);
    const none = parseOpts(["bind", "ro"], "m");
    expect([none.recAttrSet, none.recAttrClr]).toEqual([0, 0]);
  });
});
