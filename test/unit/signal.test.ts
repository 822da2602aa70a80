// Which processes berth may signal (src/runtime/container/signal.ts). No signal is sent here
// except to the sleep this file starts.
import { afterAll, describe, expect, test } from "bun:test";
import { containerPids, initNamespaces, mayEverSignal, nsId, signalPids } from "../../src/runtime/container/signal";
import { defaultSpec } from "../../src/runtime/spec/defaults";

const child = Bun.spawn(["sleep", "60"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
afterAll(async () => {
  child.kill("SIGKILL");
  await child.exited;
});

describe("signal.ts", () => {
  test("never pid <= 1, a non-integer, berth itself or its parent", () => {
    for (const p of [0, 1, -1, -42, 1.5, Number.NaN, process.pid, process.ppid]) expect(mayEverSignal(p)).toBe(false);
    expect(mayEverSignal(child.pid)).toBe(true);
  });
  test("signalPids skips the forbidden ones (a 0 from cgroup.procs would be kill(0): our own group)", () => {
    expect(signalPids([0, 1, -1, process.pid, process.ppid], "SIGKILL")).toBeUndefined();
    expect(signalPids([0], 0)).toBeUndefined();
  });
  test("without an owner only pids from cgroups berth created count", () => {
    expect(containerPids(undefined, { owned: [child.pid, 0, 1], joined: [process.ppid + 100000] })).toEqual([child.pid]);
  });
  test("in a joined cgroup, a process counts only if it shares the container's own mount namespace", () => {
    const owner = { pid: 0, pidStartTime: "", ns: { mnt: "1:2" } };
    expect(containerPids(owner, { owned: [], joined: [child.pid] })).toEqual([]);
    const same = { pid: 0, pidStartTime: "", ns: { mnt: nsId(child.pid, "mnt")! } };
    expect(containerPids(same, { owned: [], joined: [child.pid] })).toEqual([child.pid]);
  });
  test("with a pid namespace of its own, only processes in it count, in any cgroup", () => {
    const owner = { pid: 0, pidStartTime: "", ns: { pid: "1:2" } };
    expect(containerPids(owner, { owned: [child.pid], joined: [child.pid] })).toEqual([]);
  });
  test("a namespace the init shares with berth is not recorded (it would match the host)", () => {
    expect(initNamespaces(child.pid, defaultSpec())).toEqual({});
  });
});
