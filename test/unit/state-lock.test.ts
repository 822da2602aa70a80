// The per-container lock: never empty, stale when its owner is gone (pid or start time), an
// unreadable one only once it is older than a moment.
import { describe, expect, test, afterAll } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { lockContainer, lockOwner } from "../../src/runtime/state/lock.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "berth-lock-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const dir = () => {
  const d = `${tmp}/c${++n}`;
  fs.mkdirSync(d);
  return d;
};
const age = (file: string, ms: number) => {
  const t = new Date(Date.now() - ms);
  fs.utimesSync(file, t, t);
};

describe("lockContainer", () => {
  test("holds the owner's pid and start time, complete; release removes it and nothing else is left", () => {
    const d = dir();
    const release = lockContainer(d, "x");
    const [pid, start] = fs.readFileSync(`${d}/lock`, "utf8").split(" ");
    expect(Number(pid)).toBe(process.pid);
    expect(start).toMatch(/^\d+$/);
    expect(lockOwner(d)?.pid).toBe(process.pid);
    release();
    expect(fs.readdirSync(d)).toEqual([]);
  });

  test("a live holder makes the caller wait, then fail with one line naming it", () => {
    const d = dir();
    const release = lockContainer(d, "x");
    expect(() => lockContainer(d, "x", 30)).toThrow(`busy: another berth (pid ${process.pid})`);
    release();
  });

  test("a dead owner, or a reused pid (another start time), is stale and taken over", () => {
    const d = dir();
    fs.writeFileSync(`${d}/lock`, "999999999 1");
    lockContainer(d, "x", 30)();
    fs.writeFileSync(`${d}/lock`, `${process.pid} 1`);
    expect(lockOwner(d)).toBeUndefined();
    lockContainer(d, "x", 30)();
  });

  test("an empty or garbage lock: waited for while young, taken over once old", () => {
    const d = dir();
    for (const content of ["", "garbage"]) {
      fs.writeFileSync(`${d}/lock`, content);
      expect(() => lockContainer(d, "x", 30)).toThrow("busy");
      age(`${d}/lock`, 5000);
      lockContainer(d, "x", 30)();
    }
  });

  test("a missing container directory is a clear error", () => {
    expect(() => lockContainer(`${tmp}/none`, "none")).toThrow('container "none" does not exist');
  });
});
