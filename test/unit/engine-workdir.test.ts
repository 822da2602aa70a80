// ensureWorkdir (src/engine/rootfs/workdir.ts): the working directory made inside a root
// filesystem, links resolved against that root, never the host's.
import { afterAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import { ensureWorkdir } from "../../src/engine/rootfs/workdir.ts";

const work = fs.mkdtempSync(`${os.tmpdir()}/berth-workdir-`);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test("missing components are made 0755; existing ones are left as they are", () => {
  const root = `${work}/r1`;
  fs.mkdirSync(`${root}/srv`, { recursive: true, mode: 0o700 });
  ensureWorkdir(root, "/srv/app/data");
  expect(fs.statSync(`${root}/srv/app/data`).mode & 0o777).toBe(0o755);
  expect(fs.statSync(`${root}/srv`).mode & 0o777).toBe(0o700);
  ensureWorkdir(root, "/srv/app/data"); // again: nothing to do
});

test("absolute and relative links and .. stay inside the root", () => {
  const root = `${work}/r2`;
  const outside = `${work}/outside-${process.pid}`;
  fs.mkdirSync(root, { recursive: true });
  fs.symlinkSync(outside, `${root}/abs`); // would be the host's path if followed naively
  fs.symlinkSync("../../../..", `${root}/up`);
  ensureWorkdir(root, "/abs/x");
  expect(fs.existsSync(`${root}${outside}/x`)).toBe(true);
  expect(fs.existsSync(outside)).toBe(false);
  ensureWorkdir(root, "/up/../../y");
  expect(fs.existsSync(`${root}/y`)).toBe(true);
});

test("a file in the way is a 400 naming the path; a link loop is one too", () => {
  const root = `${work}/r3`;
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(`${root}/f`, "");
  expect(() => ensureWorkdir(root, "/f/sub")).toThrow("Cannot mkdir: /f/sub is not a directory");
  fs.symlinkSync("loop", `${root}/loop`);
  expect(() => ensureWorkdir(root, "/loop")).toThrow(/too many levels of symbolic links/);
});
