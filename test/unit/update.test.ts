// berth update's pure parts: runc's memory sizes, flags -> LinuxResources, what update applies,
// merging into the saved config, and error field names.
import { describe, expect, test } from "bun:test";
import {
  FLAG_FIELDS, ignoredResourceFields, mergeResources, parseRAMInBytes, renameFields, resourcesFromFlags, resourcesFromJson, updatableResources,
} from "../../src/runtime/container/update.ts";
import { BerthError } from "../../src/runtime/errors.ts";

describe("parseRAMInBytes (docker/go-units RAMInBytes, as runc update reads sizes)", () => {
  test("plain bytes and binary suffixes, case-insensitive, with optional b / ib", () => {
    expect(parseRAMInBytes("1024")).toBe(1024);
    expect(parseRAMInBytes("64m")).toBe(64 * 1024 * 1024);
    expect(parseRAMInBytes("64M")).toBe(64 * 1024 * 1024);
    expect(parseRAMInBytes("10KiB")).toBe(10240);
    expect(parseRAMInBytes("10kb")).toBe(10240);
    expect(parseRAMInBytes("32 MB")).toBe(32 * 1024 * 1024);
    expect(parseRAMInBytes("5B")).toBe(5);
    expect(parseRAMInBytes("2t")).toBe(2 * 1024 ** 4);
    expect(parseRAMInBytes("1p")).toBe(1024 ** 5);
  });
  test("fractions are truncated to whole bytes, like int64(float)", () => {
    expect(parseRAMInBytes("1.5g")).toBe(1610612736);
    expect(parseRAMInBytes("0.5k")).toBe(512);
  });
  test("refuses what runc refuses", () => {
    for (const bad of ["abc", "-2", " 5", "1.5.5g", "5x", "m", "", "1e3", "0x10"]) {
      expect(() => parseRAMInBytes(bad)).toThrow(/invalid size/);
    }
  });
  test("like go-units, one space before an absent unit is accepted", () => {
    expect(parseRAMInBytes("5 ")).toBe(5);
  });
  test("refuses sizes beyond int64", () => {
    expect(() => parseRAMInBytes("9000p")).toThrow(/2\^63/);
  });
});

describe("resourcesFromFlags", () => {
  test("maps runc's flags to LinuxResources fields", () => {
    expect(resourcesFromFlags({
      memory: "64m", memorySwap: "-1", memoryReservation: "32m", cpuShare: "512", cpuQuota: "-1", cpuPeriod: "100000",
      cpuRtPeriod: "1000000", cpuRtRuntime: "950000", cpusetCpus: "0-1", cpusetMems: "0", blkioWeight: 300, pidsLimit: -1,
    })).toEqual({
      memory: { limit: 67108864, swap: -1, reservation: 33554432 },
      cpu: { shares: 512, period: 100000, realtimePeriod: 1000000, quota: -1, realtimeRuntime: 950000, cpus: "0-1", mems: "0" },
      blockIO: { weight: 300 },
      pids: { limit: -1 },
    });
  });
  test("absent, empty and 0 flags leave everything alone", () => {
    expect(resourcesFromFlags({})).toEqual({});
    expect(resourcesFromFlags({ memory: "", pidsLimit: 0, blkioWeight: 0, cpuShare: "" })).toEqual({});
  });
  test("bad values name the flag", () => {
    const cases: [Parameters<typeof resourcesFromFlags>[0], string][] = [
      [{ memory: "abc" }, "update --memory"],
      [{ memorySwap: "-2" }, "update --memory-swap"],
      [{ cpuShare: "-5" }, "update --cpu-share"],
      [{ cpuPeriod: "1.5" }, "update --cpu-period"],
      [{ cpuQuota: "x" }, "update --cpu-quota"],
      [{ kernelMemory: "lots" }, "update --kernel-memory"],
    ];
    for (const [flags, field] of cases) {
      let err: unknown;
      try {
        resourcesFromFlags(flags);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BerthError);
      expect((err as BerthError).field).toBe(field);
      expect((err as BerthError).phase).toBe("update");
    }
  });
});

describe("resourcesFromJson", () => {
  test("accepts containerd's LinuxResources", () => {
    const r = resourcesFromJson(JSON.stringify({ memory: { limit: 1048576, swap: -1 }, cpu: { shares: 2, cpus: "0" }, pids: { limit: 10 }, devices: [{ allow: false, access: "rwm" }] }), "stdin");
    expect(r.memory?.limit).toBe(1048576);
    expect(r.pids?.limit).toBe(10);
  });
  test("type errors name the field under resources.", () => {
    expect(() => resourcesFromJson('{"memory":{"limit":"x"}}', "stdin")).toThrow(/expected an integer/);
    try {
      resourcesFromJson('{"cpu":{"cpus":"0-z"}}', "f.json");
      throw new Error("no error");
    } catch (e) {
      expect((e as BerthError).field).toBe("resources.cpu.cpus");
      expect((e as BerthError).phase).toBe("update");
    }
  });
  test("malformed JSON and non-objects are refused clearly", () => {
    expect(() => resourcesFromJson("{bad", "stdin")).toThrow(/cannot parse the resources in stdin/);
    expect(() => resourcesFromJson("[1]", "stdin")).toThrow(/must be a JSON object/);
    expect(() => resourcesFromJson('"x"', "stdin")).toThrow(/must be a JSON object/);
    expect(() => resourcesFromJson('{"devices":5}', "stdin")).toThrow(/resources.devices in stdin must be an array/);
  });
  test("null is an empty update, as runc decodes it", () => {
    expect(resourcesFromJson("null", "stdin")).toEqual({});
  });
  test("device rules are not updated, so their values are not checked (runc neither parses them here)", () => {
    const r = resourcesFromJson(JSON.stringify({ devices: [{ allow: true, type: "q", access: "rwa" }], pids: { limit: 5 } }), "stdin");
    expect(updatableResources(r)).toEqual({ pids: { limit: 5 } });
    expect(() => resourcesFromJson('{"devices":[{"allow":true}],"pids":{"limit":"x"}}', "stdin")).toThrow(/expected an integer/);
  });
  test("ignoredResourceFields names what update will not apply", () => {
    expect(ignoredResourceFields({
      devices: [{ allow: false, access: "rwm" }], hugepageLimits: [], memory: { limit: 5, swappiness: 1 }, cpu: { shares: 2 }, blockIO: { weight: 10, leafWeight: 5 }, unified: { "x.y": "1" },
    })).toEqual(["devices", "memory.swappiness", "blockIO.leafWeight"]);
    expect(ignoredResourceFields({ pids: { limit: 1 } })).toEqual([]);
  });
});

describe("updatableResources: what update applies (runc's set), unset values dropped", () => {
  test("keeps memory/cpu/blockIO weight/pids/unified, drops the rest and zeros", () => {
    expect(updatableResources({
      memory: { limit: 0, reservation: 5, swap: 0, swappiness: 10, disableOOMKiller: true },
      cpu: { shares: 0, quota: 1000, cpus: "", mems: "0", idle: 0 },
      blockIO: { weight: 0, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }] },
      pids: { limit: 0 },
      devices: [{ allow: true, access: "rwm" }],
      hugepageLimits: [{ pageSize: "2MB", limit: 0 }],
      unified: { "memory.high": "max" },
    })).toEqual({
      memory: { reservation: 5 },
      cpu: { quota: 1000, mems: "0", idle: 0 },
      unified: { "memory.high": "max" },
    });
  });
  test("an empty request is empty", () => {
    expect(updatableResources({})).toEqual({});
  });
});

describe("mergeResources", () => {
  test("new values replace old ones; others are kept", () => {
    const saved = { memory: { limit: 100, swap: 200 }, cpu: { shares: 1024, quota: 5000, period: 100000 }, pids: { limit: 5 }, devices: [{ allow: false, access: "rwm" }] };
    const merged = mergeResources(saved, { memory: { limit: 150 }, cpu: { quota: 20000 }, pids: { limit: 9 } });
    expect(merged).toEqual({ memory: { limit: 150, swap: 200 }, cpu: { shares: 1024, quota: 20000, period: 100000 }, pids: { limit: 9 }, devices: [{ allow: false, access: "rwm" }] });
    expect(saved.memory.limit).toBe(100); // not mutated
  });
  test("unlimited memory with no swap given lifts a saved swap limit too", () => {
    expect(mergeResources({ memory: { limit: 100, swap: 200 } }, { memory: { limit: -1 } }).memory).toEqual({ limit: -1, swap: -1 });
  });
  test("kernel memory and checkBeforeUpdate are not recorded", () => {
    expect(mergeResources(undefined, { memory: { kernel: 10, kernelTCP: 5, checkBeforeUpdate: true } })).toEqual({});
    expect(mergeResources(undefined, { memory: { limit: 7, kernel: 10 } })).toEqual({ memory: { limit: 7 } });
  });
  test("unified keys merge", () => {
    expect(mergeResources({ unified: { a: "1", b: "2" } }, { unified: { b: "3" } }).unified).toEqual({ a: "1", b: "3" });
  });
});

describe("renameFields", () => {
  test("JSON paths become runc's flag names in messages", () => {
    expect(renameFields("write 5 to x [field resources.memory.limit]", FLAG_FIELDS)).toBe("write 5 to x [field update --memory]");
    expect(renameFields("raise resources.memory.swap too", FLAG_FIELDS)).toBe("raise update --memory-swap too");
    expect(renameFields("resources.cpu.shares", FLAG_FIELDS)).toBe("update --cpu-share");
    expect(renameFields("resources.unified.x", FLAG_FIELDS)).toBe("resources.unified.x");
  });
});
