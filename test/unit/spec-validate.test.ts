// validateSpec: each problem is one BerthError naming the exact JSON path.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { BerthError } from "../../src/runtime/errors.ts";
import { CAPABILITIES, RLIMITS } from "../../src/runtime/spec/constants.ts";
import { defaultSpec } from "../../src/runtime/spec/defaults.ts";
import { validateSpec } from "../../src/runtime/spec/validate.ts";

// biome-ignore lint: test configs are free-form JSON
type Json = any;

const FULL: Json = JSON.parse(readFileSync(join(resolve(import.meta.dir, "../fixtures/spec"), "full-config.json"), "utf8"));

function errorOf(input: unknown): BerthError {
  try {
    validateSpec(input);
  } catch (e) {
    expect(e).toBeInstanceOf(BerthError);
    return e as BerthError;
  }
  throw new Error("expected validateSpec to throw, it accepted the config");
}

/** A copy of the default spec (or `base`) changed by `f`. */
function mutated(f: (s: Json) => void, base: Json = defaultSpec()): Json {
  const s = structuredClone(base);
  f(s);
  return s;
}

describe("valid configs", () => {
  test("a full-featured config using every field passes and comes back typed", () => {
    const spec = validateSpec(FULL);
    expect(spec.process!.user.umask).toBe(18);
    expect(spec.linux!.namespaces).toHaveLength(8);
    expect(spec.linux!.resources!.rdma!["mlx5_1"]!.hcaHandles).toBe(3);
    // RLIM_INFINITY (2^64-1) survives as the double 2^64.
    expect(spec.process!.rlimits![1]!.hard).toBe(2 ** 64);
  });

  test("unknown keys are allowed anywhere (extensions); the input object is not modified", () => {
    const input = mutated((s) => {
      s.process.vendorThing = { x: 1 };
      s.linux.somethingNew = [1, 2];
      s["org.example.top"] = true;
    });
    const before = JSON.stringify(input);
    const out = validateSpec(input);
    expect(JSON.stringify(input)).toBe(before);
    expect((out as Json)["org.example.top"]).toBe(true);
  });

  test("null optional fields are treated as absent and removed from the result (Go semantics)", () => {
    const out = validateSpec(mutated((s) => {
      s.hooks = null;
      s.process.env = null;
      s.mounts[1].options = null;
      s.linux.resources.devices[0].major = null;
    })) as Json;
    expect("hooks" in out).toBe(false);
    expect("env" in out.process).toBe(false);
    expect("options" in out.mounts[1]).toBe(false);
  });

  test("all 41 capability names and all 16 rlimit types are accepted", () => {
    expect(Object.keys(CAPABILITIES)).toHaveLength(41);
    expect(Object.keys(RLIMITS)).toHaveLength(16);
    const caps = Object.keys(CAPABILITIES);
    validateSpec(mutated((s) => {
      s.process.capabilities = { bounding: caps, effective: caps, inheritable: caps, permitted: caps, ambient: caps };
      s.process.rlimits = Object.keys(RLIMITS).map((type) => ({ type, soft: 1, hard: 2 }));
    }));
  });

  test("a user namespace joined by path needs no mappings; namespace path \"\" means none", () => {
    validateSpec(mutated((s) => s.linux.namespaces.push({ type: "user", path: "/proc/1/ns/user" })));
    validateSpec(mutated((s) => (s.linux.namespaces[0].path = "")));
  });

  test("rootfsPropagation \"\" counts as unset; all eight values are accepted", () => {
    for (const p of ["", "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable"]) {
      validateSpec(mutated((s) => (s.linux.rootfsPropagation = p)));
    }
  });
});

// [description, mutation, expected field, expected message (exact string or pattern)]
type Case = [string, (s: Json) => void, string, string | RegExp, Json?];

const cases: Case[] = [
  // top level
  ["ociVersion missing", (s) => delete s.ociVersion, "ociVersion", "required field is missing"],
  ["ociVersion not a string", (s) => (s.ociVersion = 1), "ociVersion", "expected a string, found number 1"],
  ["ociVersion not SemVer", (s) => (s.ociVersion = "1.0"), "ociVersion", '"1.0" is not a SemVer version like "1.0.2"'],
  ["ociVersion leading zero", (s) => (s.ociVersion = "1.02.0"), "ociVersion", /is not a SemVer version/],
  ["hostname not a string", (s) => (s.hostname = 42), "hostname", "expected a string, found number 42"],
  ["hostname without a UTS namespace", (s) => (s.linux.namespaces = s.linux.namespaces.filter((n: Json) => n.type !== "uts")), "hostname", "hostname is set but the container has no UTS namespace of its own"],
  ["domainname without a UTS namespace", (s) => { delete s.hostname; s.domainname = "x"; delete s.linux; }, "domainname", /no UTS namespace/],
  ["annotations value not a string", (s) => (s.annotations = { "org.example.a": 1 }), 'annotations["org.example.a"]', "expected a string, found number 1"],
  ["annotations an array", (s) => (s.annotations = ["a"]), "annotations", "expected an object, found an array"],
  // root
  ["root missing", (s) => delete s.root, "root", "required field is missing"],
  ["root.path missing", (s) => delete s.root.path, "root.path", "required field is missing"],
  ["root.path empty", (s) => (s.root.path = ""), "root.path", "root.path must not be empty"],
  ["root.readonly a string", (s) => (s.root.readonly = "true"), "root.readonly", 'expected a boolean (true or false), found string "true"'],
  // process
  ["process not an object", (s) => (s.process = []), "process", "expected an object, found an array"],
  ["uid as a string", (s) => (s.process.user.uid = "0"), "process.user.uid", 'expected a non-negative integer, found string "0"'],
  ["uid negative", (s) => (s.process.user.uid = -1), "process.user.uid", "expected a non-negative integer, found number -1"],
  ["uid fractional", (s) => (s.process.user.uid = 1.5), "process.user.uid", "expected a non-negative integer, found number 1.5"],
  ["uid beyond uint32", (s) => (s.process.user.uid = 2 ** 32), "process.user.uid", "expected an integer <= 4294967295 (uint32), found number 4294967296"],
  ["gid missing", (s) => delete s.process.user.gid, "process.user.gid", "required field is missing"],
  ["gid null", (s) => (s.process.user.gid = null), "process.user.gid", "required field is null"],
  ["user missing", (s) => delete s.process.user, "process.user", "required field is missing"],
  ["umask too big", (s) => (s.process.user.umask = 0o1000), "process.user.umask", "umask must be between 0 and 511 (0o777), found 512"],
  ["umask negative", (s) => (s.process.user.umask = -1), "process.user.umask", "expected a non-negative integer, found number -1"],
  ["additionalGids element", (s) => (s.process.user.additionalGids = [5, "6"]), "process.user.additionalGids[1]", 'expected a non-negative integer, found string "6"'],
  ["args empty", (s) => (s.process.args = []), "process.args", "must contain at least one element (the program to run)"],
  ["args missing", (s) => delete s.process.args, "process.args", "required field is missing"],
  ["args element not a string", (s) => (s.process.args = ["sh", 1]), "process.args[1]", "expected a string, found number 1"],
  ["args[0] empty", (s) => (s.process.args = [""]), "process.args[0]", "the program to run must not be an empty string"],
  ["cwd relative", (s) => (s.process.cwd = "tmp"), "process.cwd", 'cwd must be an absolute path, found "tmp"'],
  ["cwd missing", (s) => delete s.process.cwd, "process.cwd", "required field is missing"],
  ["env without =", (s) => s.process.env.push("NOEQUALS"), "process.env[2]", `environment entry "NOEQUALS" has no '=' (expected NAME=value)`],
  ["env empty name", (s) => s.process.env.push("=x"), "process.env[2]", /has an empty name/],
  ["env entry a number", (s) => s.process.env.push(5), "process.env[2]", "expected a string, found number 5"],
  ["terminal a string", (s) => (s.process.terminal = "yes"), "process.terminal", 'expected a boolean (true or false), found string "yes"'],
  ["consoleSize width missing", (s) => (s.process.consoleSize = { height: 1 }), "process.consoleSize.width", "required field is missing"],
  ["consoleSize too big", (s) => (s.process.consoleSize = { height: 70000, width: 80 }), "process.consoleSize.height", /<= 65535 \(uint16\)/],
  ["unknown capability", (s) => s.process.capabilities.bounding.push("CAP_FOO"), "process.capabilities.bounding[3]", 'unknown capability "CAP_FOO" (expected a Linux capability name such as CAP_CHOWN)'],
  ["lower-case capability", (s) => (s.process.capabilities.effective = ["cap_chown"]), "process.capabilities.effective[0]", /unknown capability "cap_chown"/],
  ["capability set not an array", (s) => (s.process.capabilities.ambient = "CAP_KILL"), "process.capabilities.ambient", 'expected an array, found string "CAP_KILL"'],
  ["rlimit unknown type", (s) => s.process.rlimits.push({ type: "RLIMIT_FOO", soft: 1, hard: 1 }), "process.rlimits[1].type", /^unknown rlimit type "RLIMIT_FOO" \(expected one of RLIMIT_CPU, .*RLIMIT_RTTIME\)$/],
  ["rlimit soft > hard", (s) => s.process.rlimits.push({ type: "RLIMIT_CORE", soft: 10, hard: 1 }), "process.rlimits[1].soft", "soft limit 10 is greater than hard limit 1 for RLIMIT_CORE"],
  ["rlimit duplicate", (s) => s.process.rlimits.push({ type: "RLIMIT_NOFILE", soft: 10, hard: 10 }), "process.rlimits[1].type", "duplicate rlimit RLIMIT_NOFILE (also set at process.rlimits[0])"],
  ["rlimit hard missing", (s) => delete s.process.rlimits[0].hard, "process.rlimits[0].hard", "required field is missing"],
  ["rlimit hard a string", (s) => (s.process.rlimits[0].hard = "1024"), "process.rlimits[0].hard", 'expected a non-negative integer, found string "1024"'],
  ["oomScoreAdj out of range", (s) => (s.process.oomScoreAdj = 2000), "process.oomScoreAdj", "must be between -1000 and 1000, found 2000"],
  ["oomScoreAdj low", (s) => (s.process.oomScoreAdj = -1001), "process.oomScoreAdj", "must be between -1000 and 1000, found -1001"],
  ["noNewPrivileges a number", (s) => (s.process.noNewPrivileges = 1), "process.noNewPrivileges", "expected a boolean (true or false), found number 1"],
  ["ioPriority class", (s) => (s.process.ioPriority = { class: "IOPRIO_CLASS_FOO", priority: 1 }), "process.ioPriority.class", /unknown I\/O priority class "IOPRIO_CLASS_FOO"/],
  ["ioPriority priority range", (s) => (s.process.ioPriority = { class: "IOPRIO_CLASS_RT", priority: 8 }), "process.ioPriority.priority", "must be between 0 and 7, found 8"],
  ["scheduler policy", (s) => (s.process.scheduler = { policy: "SCHED_FAST" }), "process.scheduler.policy", /unknown scheduling policy "SCHED_FAST"/],
  ["scheduler nice", (s) => (s.process.scheduler = { policy: "SCHED_OTHER", nice: 20 }), "process.scheduler.nice", "must be between -20 and 19, found 20"],
  ["scheduler flag", (s) => (s.process.scheduler = { policy: "SCHED_OTHER", flags: ["SCHED_FLAG_X"] }), "process.scheduler.flags[0]", /unknown scheduler flag/],
  ["execCPUAffinity syntax", (s) => (s.process.execCPUAffinity = { final: "0-3,x" }), "process.execCPUAffinity.final", 'invalid CPU/node list "0-3,x" (expected a list like "0-3,7")'],
  ["execCPUAffinity reversed range", (s) => (s.process.execCPUAffinity = { initial: "3-1" }), "process.execCPUAffinity.initial", /the end is before the start/],
  // mounts
  ["mounts not an array", (s) => (s.mounts = {}), "mounts", "expected an array, found an object"],
  ["mount not an object", (s) => (s.mounts[2] = "/dev/pts"), "mounts[2]", 'expected an object, found string "/dev/pts"'],
  ["mount destination missing", (s) => delete s.mounts[3].destination, "mounts[3].destination", "required field is missing"],
  ["mount destination empty", (s) => (s.mounts[3].destination = ""), "mounts[3].destination", "mount destination must not be empty"],
  ["mount options element", (s) => (s.mounts[1].options = ["nosuid", 1]), "mounts[1].options[1]", "expected a string, found number 1"],
  ["mount idmap size 0", (s) => (s.mounts[0].uidMappings = [{ containerID: 0, hostID: 1, size: 0 }]), "mounts[0].uidMappings[0].size", "mapping size must be at least 1"],
  // hooks
  ["hook empty path", (s) => (s.hooks = { prestart: [{ path: "" }] }), "hooks.prestart[0].path", "hook path must not be empty"],
  ["hook path missing", (s) => (s.hooks = { poststop: [{ args: [] }] }), "hooks.poststop[0].path", "required field is missing"],
  ["hook timeout zero", (s) => (s.hooks = { createRuntime: [{ path: "/bin/true", timeout: 0 }] }), "hooks.createRuntime[0].timeout", "timeout must be greater than zero (seconds), found 0"],
  ["hook list not an array", (s) => (s.hooks = { poststart: { path: "/x" } }), "hooks.poststart", "expected an array, found an object"],
  ["hook env", (s) => (s.hooks = { startContainer: [{ path: "/x", env: ["A"] }] }), "hooks.startContainer[0].env[0]", /has no '='/],
  // namespaces
  ["unknown namespace type", (s) => s.linux.namespaces.push({ type: "netwrk" }), "linux.namespaces[5].type", 'unknown namespace type "netwrk" (expected one of pid, network, mount, ipc, uts, user, cgroup, time)'],
  ["duplicate namespace", (s) => s.linux.namespaces.push({ type: "pid" }), "linux.namespaces[5].type", 'duplicate namespace type "pid" (already at linux.namespaces[0])'],
  ["namespace path relative", (s) => (s.linux.namespaces[1].path = "proc/1/ns/net"), "linux.namespaces[1].path", 'namespace path must be absolute, found "proc/1/ns/net"'],
  ["namespace type missing", (s) => s.linux.namespaces.push({ path: "/x" }), "linux.namespaces[5].type", "required field is missing"],
  ["user namespace without uid mappings", (s) => s.linux.namespaces.push({ type: "user" }), "linux.uidMappings", "a new user namespace is requested but linux.uidMappings is empty"],
  ["user namespace without gid mappings", (s) => { s.linux.namespaces.push({ type: "user" }); s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]; }, "linux.gidMappings", /linux.gidMappings is empty/],
  // id mappings
  ["mapping hostID a string", (s) => (s.linux.uidMappings = [{ containerID: 0, hostID: "1000", size: 1 }]), "linux.uidMappings[0].hostID", 'expected a non-negative integer, found string "1000"'],
  ["mapping overflow", (s) => (s.linux.gidMappings = [{ containerID: 4294967295, hostID: 0, size: 2 }]), "linux.gidMappings[0].size", "containerID 4294967295 + size 2 goes past the largest id 4294967295"],
  ["mapping overlap", (s) => (s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 10 }, { containerID: 5, hostID: 5000, size: 10 }]), "linux.uidMappings[1]", "containerID range 5-14 overlaps linux.uidMappings[0] (0-9)"],
  ["mapping host overlap", (s) => (s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 10 }, { containerID: 10, hostID: 1009, size: 1 }]), "linux.uidMappings[1]", "hostID range 1009-1009 overlaps linux.uidMappings[0] (1000-1009)"],
  // devices
  ["device type unknown", (s) => (s.linux.devices = [{ type: "x", path: "/dev/foo", major: 1, minor: 3 }]), "linux.devices[0].type", 'unknown device type "x" (expected one of c, b, u, p)'],
  ["device path relative", (s) => (s.linux.devices = [{ type: "c", path: "dev/foo", major: 1, minor: 3 }]), "linux.devices[0].path", 'device path must be absolute, found "dev/foo"'],
  ["char device without major", (s) => (s.linux.devices = [{ type: "c", path: "/dev/foo", minor: 3 }]), "linux.devices[0].major", "required field is missing"],
  ["block device without minor", (s) => (s.linux.devices = [{ type: "b", path: "/dev/foo", major: 3 }]), "linux.devices[0].minor", "required field is missing"],
  ["device fileMode string", (s) => (s.linux.devices = [{ type: "p", path: "/dev/f", fileMode: "0666" }]), "linux.devices[0].fileMode", 'expected a non-negative integer, found string "0666"'],
  // resources
  ["device cgroup type", (s) => s.linux.resources.devices.push({ allow: true, type: "z", access: "rwm" }), "linux.resources.devices[1].type", 'unknown device cgroup type "z" (expected one of a, c, b)'],
  ["device cgroup access", (s) => s.linux.resources.devices.push({ allow: true, type: "c", access: "xyz" }), "linux.resources.devices[1].access", 'invalid device access "xyz" (expected a combination of r, w and m)'],
  ["device cgroup allow missing", (s) => s.linux.resources.devices.push({ type: "c" }), "linux.resources.devices[1].allow", "required field is missing"],
  ["memory limit a string", (s) => (s.linux.resources.memory = { limit: "5" }), "linux.resources.memory.limit", 'expected an integer, found string "5"'],
  ["swappiness", (s) => (s.linux.resources.memory = { swappiness: 101 }), "linux.resources.memory.swappiness", "must be between 0 and 100, found 101"],
  ["cpu shares negative", (s) => (s.linux.resources.cpu = { shares: -1 }), "linux.resources.cpu.shares", "expected a non-negative integer, found number -1"],
  ["cpus syntax", (s) => (s.linux.resources.cpu = { cpus: "0,,1" }), "linux.resources.cpu.cpus", /invalid CPU\/node list/],
  ["pids limit missing", (s) => (s.linux.resources.pids = {}), "linux.resources.pids.limit", "required field is missing"],
  ["blkio weight > uint16", (s) => (s.linux.resources.blockIO = { weight: 70000 }), "linux.resources.blockIO.weight", /<= 65535 \(uint16\)/],
  ["throttle rate missing", (s) => (s.linux.resources.blockIO = { throttleReadBpsDevice: [{ major: 8, minor: 0 }] }), "linux.resources.blockIO.throttleReadBpsDevice[0].rate", "required field is missing"],
  ["hugepage size", (s) => (s.linux.resources.hugepageLimits = [{ pageSize: "2M", limit: 1 }]), "linux.resources.hugepageLimits[0].pageSize", 'invalid page size "2M" (expected a size like "2MB" or "1GB")'],
  ["network priority name", (s) => (s.linux.resources.network = { priorities: [{ priority: 1 }] }), "linux.resources.network.priorities[0].name", "required field is missing"],
  ["rdma entry", (s) => (s.linux.resources.rdma = { mlx5_1: { hcaHandles: -3 } }), "linux.resources.rdma.mlx5_1.hcaHandles", "expected a non-negative integer, found number -3"],
  ["unified value", (s) => (s.linux.resources.unified = { "memory.high": 5 }), 'linux.resources.unified["memory.high"]', "expected a string, found number 5"],
  // other linux fields
  ["sysctl value a number", (s) => (s.linux.sysctl = { "kernel.shmmax": 1 }), 'linux.sysctl["kernel.shmmax"]', "expected a string, found number 1"],
  ["rootfsPropagation unknown", (s) => (s.linux.rootfsPropagation = "bogus"), "linux.rootfsPropagation", 'unknown rootfs propagation "bogus" (expected one of private, rprivate, shared, rshared, slave, rslave, unbindable, runbindable)'],
  ["maskedPaths relative", (s) => s.linux.maskedPaths.push("proc/foo"), "linux.maskedPaths[10]", 'path must be absolute, found "proc/foo"'],
  ["readonlyPaths element", (s) => (s.linux.readonlyPaths = [null]), "linux.readonlyPaths[0]", "expected a string, found null"],
  ["seccomp not an object", (s) => (s.linux.seccomp = 5), "linux.seccomp", "expected an object, found number 5"],
  ["cgroupsPath a number", (s) => (s.linux.cgroupsPath = 5), "linux.cgroupsPath", "expected a string, found number 5"],
  ["personality domain", (s) => (s.linux.personality = { domain: "LINUX64" }), "linux.personality.domain", /unknown personality domain "LINUX64"/],
  ["timeOffsets clock", (s) => { s.linux.namespaces.push({ type: "time" }); s.linux.timeOffsets = { realtime: { secs: 1 } }; }, 'linux.timeOffsets.realtime', /unknown clock "realtime"/],
  ["timeOffsets nanosecs", (s) => { s.linux.namespaces.push({ type: "time" }); s.linux.timeOffsets = { monotonic: { nanosecs: 1e9 } }; }, "linux.timeOffsets.monotonic.nanosecs", "must be between 0 and 999999999, found 1000000000"],
  ["timeOffsets without time namespace", (s) => (s.linux.timeOffsets = { monotonic: { secs: 1 } }), "linux.timeOffsets", "time offsets are set but the container has no time namespace"],
  ["intelRdt enableCMT", (s) => (s.linux.intelRdt = { enableCMT: "yes" }), "linux.intelRdt.enableCMT", /expected a boolean/],
];

describe("invalid configs: one error naming the exact field", () => {
  for (const [name, f, field, message, base] of cases) {
    test(name, () => {
      const e = errorOf(mutated(f, base));
      expect(e.phase).toBe("config");
      expect(e.field).toBe(field);
      if (typeof message === "string") expect(e.message).toBe(message);
      else expect(e.message).toMatch(message);
      expect(e.describe()).toContain(`[field ${field}]`);
      expect(e.describe()).not.toContain("\n");
    });
  }

  test("errors in the full config are found too (deep paths)", () => {
    const e = errorOf(mutated((s) => (s.linux.resources.blockIO.weightDevice[1].leafWeight = -1), FULL));
    expect(e.field).toBe("linux.resources.blockIO.weightDevice[1].leafWeight");
  });

  test("top level must be an object", () => {
    for (const v of [[], "x", 1, null]) {
      const e = errorOf(v);
      expect(e.message).toStartWith("config.json must contain a JSON object, found ");
      expect(e.field).toBeUndefined();
    }
  });
});

describe("hints", () => {
  test("misspelt enum value suggests the right one", () => {
    const e = errorOf(mutated((s) => s.linux.namespaces.push({ type: "netwrk" })));
    expect(e.hint).toBe('did you mean "network"?');
  });

  test("lower-case or unprefixed capability suggests the CAP_ form", () => {
    expect(errorOf(mutated((s) => (s.process.capabilities.effective = ["cap_chown"]))).hint).toStartWith('did you mean "CAP_CHOWN"?');
    expect(errorOf(mutated((s) => (s.process.capabilities.effective = ["NET_ADMIN"]))).hint).toStartWith('did you mean "CAP_NET_ADMIN"?');
    expect(errorOf(mutated((s) => (s.process.capabilities.effective = ["CAP_NET_ADMN"]))).hint).toBe('did you mean "CAP_NET_ADMIN"?');
  });

  test("a required field spelt with the wrong case is pointed out", () => {
    const e = errorOf(mutated((s) => {
      s.ociversion = s.ociVersion;
      delete s.ociVersion;
    }));
    expect(e.field).toBe("ociVersion");
    expect(e.hint).toBe('found "ociversion" instead; field names are case-sensitive');
  });

  test("a missing field is not blamed on a different known field", () => {
    const e = errorOf(mutated((s) => delete s.process.user.uid));
    expect(e.field).toBe("process.user.uid");
    expect(e.hint).toBeUndefined(); // "gid" is present and close, but it is a real field
  });
});

describe("warnings", () => {
  function warningsOf(input: unknown): string[] {
    const out: string[] = [];
    validateSpec(input, { warn: (m, f) => out.push(`${f}: ${m}`) });
    return out;
  }

  test("a relative mount destination is accepted with a deprecation warning (runc 1.1.5 does the same)", () => {
    const w = warningsOf(mutated((s) => s.mounts.push({ destination: "tmp", type: "tmpfs", source: "tmpfs" })));
    expect(w).toEqual(['mounts[7].destination: mount destination "tmp" is not absolute; it is taken relative to "/" (relative destinations are deprecated)']);
  });

  test("a near-miss of a known key warns (it would be silently ignored); other unknown keys do not", () => {
    const w = warningsOf(mutated((s) => {
      s.linux.namespace = s.linux.namespaces;
      delete s.linux.namespaces;
      s.process.noNewPrivilege = true;
      delete s.process.noNewPrivileges;
      s.linux.totallyNewFeature = {};
      s.hostnme = "x";
      delete s.hostname;
    }));
    expect(w).toEqual([
      'hostnme: unknown field hostnme is ignored; did you mean "hostname"?',
      'process.noNewPrivilege: unknown field process.noNewPrivilege is ignored; did you mean "noNewPrivileges"?',
      'linux.namespace: unknown field linux.namespace is ignored; did you mean "namespaces"?',
    ]);
  });

  test("no typo warning when the correctly spelt key is also present", () => {
    expect(warningsOf(mutated((s) => (s.linux.namespace = "extension data")))).toEqual([]);
  });

  test("id mappings without a user namespace are ignored, with a warning", () => {
    const w = warningsOf(mutated((s) => (s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }])));
    expect(w).toEqual(["linux.uidMappings: linux.uidMappings is ignored: there is no user namespace in linux.namespaces"]);
  });

  test("a non-1.x ociVersion warns", () => {
    expect(warningsOf(mutated((s) => (s.ociVersion = "2.0.0")))).toHaveLength(1);
    expect(warningsOf(mutated((s) => (s.ociVersion = "1.2.1-rc.1+build.5")))).toHaveLength(0);
  });

  test("the default spec and the full config produce no warnings", () => {
    expect(warningsOf(defaultSpec())).toEqual([]);
    expect(warningsOf(FULL)).toEqual([]);
  });
});
