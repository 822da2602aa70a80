// berthd's pure parts: flags and daemon.json, the router, names, create-body checks, ps filters,
// status wording, json-file reading, detach keys.
import { afterAll, describe, expect, it } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import { loadConfig, parseSize } from "../../src/engine/daemon/config.ts";
import { Router } from "../../src/engine/api/router.ts";
import { compareVersions } from "../../src/engine/api/context.ts";
import { generateName, validateName } from "../../src/engine/containers/names.ts";
import { mergeImageConfig, validateCreate } from "../../src/engine/containers/config.ts";
import { filterContainers } from "../../src/engine/containers/list.ts";
import { humanDuration, listItem, statusText } from "../../src/engine/containers/inspect.ts";
import { initialState, type ContainerRecord } from "../../src/engine/containers/store.ts";
import { follow, readAll, timeSeconds } from "../../src/engine/logs/jsonfile.ts";
import { parseDetachKeys } from "../../src/engine/containers/attach.ts";
import { frame } from "../../src/engine/monitor/api.ts";
import { ApiError } from "../../src/engine/errors.ts";

const tmp = fs.mkdtempSync(`${os.tmpdir()}/berth-engine-unit-`);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function apiErr(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected an ApiError");
}

describe("daemon config", () => {
  it("has dockerd-like defaults and takes repeated -H", () => {
    const c = loadConfig(["-H", "unix:///tmp/a.sock", "-H", "tcp://127.0.0.1:2375"]);
    if (typeof c === "string") throw new Error("unexpected");
    expect(c.hosts).toEqual(["unix:///tmp/a.sock", "tcp://127.0.0.1:2375"]);
    expect(c.dataRoot).toBe("/var/lib/berth");
    expect(c.execRoot).toBe("/run/berthd");
    expect(c.logLevel).toBe("info");
    expect(loadConfig(["-D"]) as { logLevel: string }).toMatchObject({ logLevel: "debug", debug: true });
  });

  it("reads daemon.json and refuses unknown or doubly given keys", () => {
    const f = `${tmp}/daemon.json`;
    fs.writeFileSync(f, JSON.stringify({ "data-root": "/srv/berth", "log-opts": { "max-size": "1m", "max-file": "2" } }));
    expect(loadConfig(["--config-file", f])).toMatchObject({ dataRoot: "/srv/berth", logOpts: { "max-size": "1m", "max-file": "2" } });
    fs.writeFileSync(f, JSON.stringify({ "data-rot": "/x" }));
    expect(() => loadConfig(["--config-file", f])).toThrow(/don't match any configuration option: data-rot/);
    fs.writeFileSync(f, JSON.stringify({ "data-root": "/x" }));
    expect(() => loadConfig(["--config-file", f, "--data-root", "/y"])).toThrow(/both as a flag and in the configuration file: data-root/);
    fs.writeFileSync(f, "{not json");
    expect(() => loadConfig(["--config-file", f])).toThrow(/not valid JSON/);
  });

  it("refuses bad flags, hosts and sizes with one clear line", () => {
    expect(() => loadConfig(["--bogus"])).toThrow(/bogus/);
    expect(() => loadConfig(["-H", "unix://relative.sock"])).toThrow(/must be absolute/);
    expect(() => loadConfig(["-H", "udp://x"])).toThrow(/invalid host/);
    expect(() => loadConfig(["--log-level", "chatty"])).toThrow(/unknown log level/);
    expect(() => loadConfig(["--log-opt", "max-size=lots"])).toThrow(/invalid size/);
    expect(() => loadConfig(["--log-opt", "colour=red"])).toThrow(/unknown log opt/);
    expect(parseSize("64m", "x")).toBe(64 << 20);
    expect(parseSize("1.5k", "x")).toBe(1536);
  });
});

describe("router", () => {
  it("matches params, greedy names, and tells 404 from 405", () => {
    const r = new Router();
    r.get("/containers/{id}/json", () => 1);
    r.get("/images/{name:.*}/json", () => 2);
    r.delete("/images/{name:.*}", () => 3);
    const a = r.find("GET", "/containers/abc/json");
    expect("route" in a && a.params).toEqual({ id: "abc" });
    const b = r.find("GET", "/images/127.0.0.1:5000/team/app:v1/json");
    expect("route" in b && b.params).toEqual({ name: "127.0.0.1:5000/team/app:v1" });
    const c = r.find("DELETE", "/images/team/app");
    expect("route" in c && c.params).toEqual({ name: "team/app" });
    expect(r.find("GET", "/nope")).toEqual({ status: 404 });
    expect(r.find("POST", "/containers/abc/json")).toEqual({ status: 405 });
    expect("route" in r.find("HEAD", "/containers/x/json")).toBe(true);
  });

  it("compares API versions numerically", () => {
    expect(compareVersions("1.41", "1.9")).toBeGreaterThan(0);
    expect(compareVersions("1.24", "1.45")).toBeLessThan(0);
    expect(compareVersions("1.45", "1.45")).toBe(0);
  });
});

describe("names", () => {
  it("generates free adjective_surname names and validates given ones", () => {
    const taken = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const n = generateName((x) => taken.has(x));
      expect(n).toMatch(/^[a-z]+_[a-z_]+\d*$/);
      expect(taken.has(n)).toBe(false);
      taken.add(n);
    }
    expect(validateName("/web")).toBe("web");
    expect(apiErr(() => validateName("bad name")).status).toBe(400);
    expect(apiErr(() => validateName("-x")).message).toContain("Invalid container name (-x)");
  });
});

describe("create body", () => {
  it("checks types by field and accepts a string Cmd", () => {
    expect(validateCreate({ Image: "busybox", Cmd: "echo hi" }, "1.45").config.Cmd).toEqual(["echo hi"]);
    expect(apiErr(() => validateCreate({ Image: "busybox", Env: "A=1" }, "1.45")).message).toMatch(/Config\.Env/);
    expect(apiErr(() => validateCreate({ Image: 7 }, "1.45")).message).toMatch(/Image: want a string/);
    expect(apiErr(() => validateCreate({ Image: "b", HostConfig: [] }, "1.45")).message).toMatch(/HostConfig/);
    expect(validateCreate({ Image: "b", Unknown: { x: 1 } }, "1.45").config).toEqual({ Image: "b" });
  });

  it("merges the image's defaults the way docker does", () => {
    const image = { Env: ["PATH=/bin", "A=image"], Cmd: ["sh"], Entrypoint: null, WorkingDir: "/w", Labels: { l: "i" } };
    const m = mergeImageConfig({ Image: "b", Env: ["A=mine"] }, image);
    expect(m.Env).toEqual(["PATH=/bin", "A=mine"]);
    expect(m.Cmd).toEqual(["sh"]);
    expect(m.WorkingDir).toBe("/w");
    // An entrypoint given without a command drops the image's command.
    const e = mergeImageConfig({ Image: "b", Entrypoint: ["/bin/echo"] }, image);
    expect(e.Cmd).toBeNull();
    expect(e.Entrypoint).toEqual(["/bin/echo"]);
    expect(apiErr(() => mergeImageConfig({ Image: "b" }, {})).message).toBe("No command specified");
  });
});

function rec(name: string, over: Partial<ContainerRecord> = {}, state: Partial<ContainerRecord["state"]> = {}): ContainerRecord {
  return {
    id: `${name}`.padEnd(64, "0"), name, created: "2026-01-01T00:00:00.000Z", imageRef: "busybox", imageId: "sha256:aa",
    config: { Labels: {} }, hostConfig: {}, state: { ...initialState(), ...state }, restartCount: 0, path: "sh", args: ["-c", "echo hi"],
    generation: 0, ...over,
  };
}

describe("ps", () => {
  const now = new Date().toISOString();
  const list = [
    rec("aaa1", { created: "2026-01-03T00:00:00Z", config: { Labels: { tier: "web" } } }, { Status: "running", Running: true, StartedAt: now }),
    rec("bbb2", { created: "2026-01-02T00:00:00Z" }, { Status: "exited", ExitCode: 3, StartedAt: now, FinishedAt: now }),
    rec("ccc3", { created: "2026-01-01T00:00:00Z" }),
  ];
  const q = (filters: Record<string, string[]>, all = false, limit?: number) =>
    filterContainers(list, { all, limit, filters: new Map(Object.entries(filters)), find: (r) => list.find((c) => c.name === r), isAncestor: (c, r) => c.imageRef === r })
      .map((c) => c.name);

  it("shows running ones by default, all with -a, and filters", () => {
    expect(q({})).toEqual(["aaa1"]);
    expect(q({}, true)).toEqual(["aaa1", "bbb2", "ccc3"]);
    expect(q({ status: ["exited"] })).toEqual(["bbb2"]);
    expect(q({ exited: ["3"] })).toEqual(["bbb2"]);
    expect(q({ label: ["tier=web"] }, true)).toEqual(["aaa1"]);
    expect(q({ name: ["^/b"] }, true)).toEqual(["bbb2"]);
    expect(q({ id: ["ccc"] }, true)).toEqual(["ccc3"]);
    expect(q({ before: ["aaa1"] }, true)).toEqual(["bbb2", "ccc3"]);
    expect(q({ since: ["ccc3"] }, true)).toEqual(["aaa1", "bbb2"]);
    expect(q({ ancestor: ["busybox"] }, true)).toHaveLength(3);
    expect(q({}, false, 1)).toEqual(["aaa1"]);
    expect(apiErr(() => q({ status: ["sleepy"] })).message).toBe("invalid filter 'status=sleepy'");
    expect(apiErr(() => q({ colour: ["x"] })).message).toBe("invalid filter 'colour'");
  });

  it("words status and command as docker ps does", () => {
    expect(statusText(list[1])).toMatch(/^Exited \(3\) (Less than a second|\d+ seconds?) ago$/);
    expect(statusText(list[2])).toBe("Created");
    expect(humanDuration(500)).toBe("Less than a second");
    expect(humanDuration(1000)).toBe("1 second");
    expect(humanDuration(59_000)).toBe("59 seconds");
    expect(humanDuration(90_000)).toBe("About a minute");
    expect(humanDuration(3_600_000)).toBe("About an hour");
    expect(humanDuration(3 * 86_400_000)).toBe("3 days");
    expect(listItem(list[0]).Command).toBe("sh -c 'echo hi'");
    expect(listItem(list[0]).Names).toEqual(["/aaa1"]);
  });
});

describe("json-file logs", () => {
  const path = `${tmp}/c-json.log`;
  const line = (log: string, stream: string, time: string) => JSON.stringify({ log, stream, time }) + "\n";
  fs.writeFileSync(`${path}.1`, line("old\n", "stdout", "2026-01-01T00:00:01.5Z"));
  fs.writeFileSync(path, line("out\n", "stdout", "2026-01-01T00:00:02.123456789Z") + line("err\n", "stderr", "2026-01-01T00:00:03Z") + '{"log":"torn');

  it("reads rotated files oldest first, filters streams, time and tail, skips a torn line", () => {
    expect(readAll(path, { stdout: true, stderr: true }).entries.map((e) => e.log)).toEqual(["old\n", "out\n", "err\n"]);
    expect(readAll(path, { stdout: false, stderr: true }).entries.map((e) => e.log)).toEqual(["err\n"]);
    expect(readAll(path, { stdout: true, stderr: true, tail: 1 }).entries.map((e) => e.log)).toEqual(["err\n"]);
    expect(readAll(path, { stdout: true, stderr: true, tail: 0 }).entries).toEqual([]);
    const since = timeSeconds("2026-01-01T00:00:02Z");
    expect(readAll(path, { stdout: true, stderr: true, since, until: since + 1 }).entries.map((e) => e.log)).toEqual(["out\n"]);
    expect(timeSeconds("2026-01-01T00:00:02.123456789Z") % 1).toBeCloseTo(0.123456789, 6);
  });

  it("follows appended lines until told to stop", async () => {
    const start = readAll(path, { stdout: true, stderr: true });
    const got: string[] = [];
    let stop = false;
    const done = follow(path, { stdout: true, stderr: true }, start, (e) => got.push(e.log), () => stop, () => false);
    fs.appendFileSync(path, '","stream":"stdout","time":"2026-01-01T00:00:04Z"}\n' + line("more\n", "stdout", "2026-01-01T00:00:05Z"));
    await Bun.sleep(150);
    stop = true;
    await done;
    expect(got).toEqual(["torn", "more\n"]);
  });
});

describe("json-file logs, following across a 64 KiB read", () => {
  it("keeps a character split between two reads", async () => {
    const path = `${tmp}/utf8-json.log`;
    fs.writeFileSync(path, "");
    const got: string[] = [];
    let stop = false;
    const done = follow(path, { stdout: true, stderr: true }, { end: 0, ino: fs.statSync(path).ino }, (e) => got.push(e.log), () => stop, () => false);
    // The "é" (2 bytes) straddles the 65536-byte boundary of the reader's buffer.
    const head = '{"log":"';
    const pad = "x".repeat(65535 - Buffer.byteLength(head));
    fs.appendFileSync(path, `${head}${pad}é\\n","stream":"stdout","time":"2026-01-01T00:00:00Z"}\n`);
    await Bun.sleep(150);
    stop = true;
    await done;
    expect(got).toEqual([`${pad}é\n`]);
  });
});

describe("attach framing", () => {
  it("frames output with docker's 8-byte header and parses detach keys", () => {
    expect([...frame(1, Buffer.from("hi\n"))]).toEqual([1, 0, 0, 0, 0, 0, 0, 3, 104, 105, 10]);
    expect([...frame(2, new Uint8Array(300)).subarray(0, 8)]).toEqual([2, 0, 0, 0, 0, 0, 1, 44]);
    expect(parseDetachKeys("ctrl-p,ctrl-q")).toEqual([16, 17]);
    expect(parseDetachKeys("ctrl-a,x")).toEqual([1, 120]);
    expect(parseDetachKeys(undefined)).toBeUndefined();
    expect(() => parseDetachKeys("ctrl-é")).toThrow(/Invalid detach keys/);
  });
});
