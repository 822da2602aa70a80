// runc's other commands on real containers: ps, pause/resume, events, update, features, and the
// global --log/--log-format. Needs root (features and --log do not).
import { describe, expect, test, afterAll } from "bun:test";
import fs from "node:fs";
import { berth, CAN_RUN, leftoverState, makeBundle, uniqueId, STATE_ROOT, BERTH, TEST_TMP, type Bundle } from "../helpers/bundle.ts";
import type { Spec } from "../../src/runtime/spec/types.ts";

const it = CAN_RUN ? test : test.skip;
afterAll(() => expect(leftoverState()).toEqual([]));

// The container's cgroup is /berth/<id> in each hierarchy; hybrid/v1 hosts have per-controller ones.
const V1 = fs.existsSync("/sys/fs/cgroup/memory/memory.limit_in_bytes");
const cgDir = (ctrl: string, id: string) => (V1 ? `/sys/fs/cgroup/${ctrl}/berth/${id}` : `/sys/fs/cgroup/berth/${id}`);
const read = (path: string) => fs.readFileSync(path, "utf8").trim();

function stateOf(id: string) {
  const r = berth(["state", id]);
  return r.code === 0 ? JSON.parse(r.stdout) : { error: r.stderr };
}

function waitStatus(id: string, status: string, ms = 3000): string {
  const deadline = Date.now() + ms;
  let s = "";
  while (Date.now() < deadline) {
    s = stateOf(id).status;
    if (s === status) return s;
    Bun.sleepSync(10);
  }
  return s;
}

/** create (+ start) a container running `args`; `done` force-deletes it. */
function container(args: string[], edit?: (s: Spec) => void, start = true): { id: string; b: Bundle; done: () => void } {
  const b = makeBundle(args, edit);
  const id = uniqueId("lx");
  const r = berth(["create", "--bundle", b.dir, id], { detached: true });
  if (r.code !== 0) throw new Error(`create failed: ${r.stderr}`);
  if (start) {
    const s = berth(["start", id]);
    if (s.code !== 0) {
      berth(["delete", "--force", id]);
      throw new Error(`start failed: ${s.stderr}`);
    }
  }
  return {
    id, b, done: () => {
      berth(["delete", "--force", id]);
      b.cleanup();
    },
  };
}

function psJson(id: string): number[] | null {
  const r = berth(["ps", "--format", "json", id]);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

function waitPids(id: string, n: number, ms = 3000): number[] {
  const deadline = Date.now() + ms;
  let pids: number[] = [];
  while (Date.now() < deadline) {
    pids = psJson(id) ?? [];
    if (pids.length >= n) return pids;
    Bun.sleepSync(20);
  }
  return pids;
}

describe("berth ps", () => {
  it("json lists every pid of the container's cgroup; the table is the host's ps filtered to them", () => {
    const c = container(["sh", "-c", "sleep 100 & sleep 101 & wait"]);
    try {
      const pids = waitPids(c.id, 3);
      expect(pids.length).toBe(3);
      expect(pids).toContain(stateOf(c.id).pid);
      for (const p of pids) expect(fs.readFileSync(`/proc/${p}/cgroup`, "utf8")).toContain(`/berth/${c.id}`);

      const t = berth(["ps", c.id]);
      expect(t.code).toBe(0);
      const lines = t.stdout.trimEnd().split("\n");
      expect(lines[0]).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
      expect(lines.slice(1).map((l) => Number(l.trim().split(/\s+/)[1])).sort((a, b) => a - b)).toEqual(pids);

      const o = berth(["ps", c.id, "-o", "pid,comm"]);
      expect(o.code).toBe(0);
      const rows = o.stdout.trimEnd().split("\n");
      expect(rows[0].trim().split(/\s+/)).toEqual(["PID", "COMMAND"]);
      expect(rows.slice(1).map((l) => l.trim().split(/\s+/)[1]).sort()).toEqual(["sh", "sleep", "sleep"]);
    } finally {
      c.done();
    }
  });

  it("errors: missing container, no PID column, bad format, no id", () => {
    const c = container(["sleep", "100"]);
    try {
      const missing = berth(["ps", "no-such-container"]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("does not exist");
      const noPid = berth(["ps", c.id, "-o", "comm"]);
      expect(noPid.code).toBe(1);
      expect(noPid.stderr).toContain("couldn't find PID field");
      const fmt = berth(["ps", "--format", "xml", c.id]);
      expect(fmt.code).toBe(1);
      expect(fmt.stderr).toContain("invalid --format");
      expect(berth(["ps"]).code).toBe(1);
    } finally {
      c.done();
    }
  });

  it("a stopped container: the header only, and null in json (as runc)", () => {
    const c = container(["true"]);
    try {
      expect(waitStatus(c.id, "stopped")).toBe("stopped");
      expect(berth(["ps", "-f", "json", c.id]).stdout).toBe("null\n");
      const t = berth(["ps", c.id]);
      expect(t.code).toBe(0);
      expect(t.stdout.trimEnd().split("\n").length).toBe(1);
      expect(t.stdout).toContain("PID");
    } finally {
      c.done();
    }
  });
});

describe("berth pause / resume", () => {
  const counter = ["sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.02; done"];
  const writable = (s: Spec) => (s.root!.readonly = false);
  // The shell truncates then writes the file: a read can land in between; read again then.
  const count = (b: Bundle) => {
    for (let i = 0; i < 50; i++) {
      const t = fs.readFileSync(`${b.dir}/rootfs/tmp/count`, "utf8").trim();
      if (t) return Number(t);
      Bun.sleepSync(2);
    }
    return 0;
  };

  it("pause freezes every process (status paused), resume thaws them; wrong states are refused", () => {
    const c = container(counter, writable);
    try {
      for (let i = 0; i < 200 && !fs.existsSync(`${c.b.dir}/rootfs/tmp/count`); i++) Bun.sleepSync(10);
      const r = berth(["resume", c.id]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("it is running, not paused");

      expect(berth(["pause", c.id]).code).toBe(0);
      expect(stateOf(c.id).status).toBe("paused");
      if (V1) expect(read(`${cgDir("freezer", c.id)}/freezer.state`)).toBe("FROZEN");
      else expect(read(`${cgDir("", c.id)}/cgroup.freeze`)).toBe("1");
      const frozenAt = count(c.b);
      Bun.sleepSync(200);
      expect(count(c.b)).toBe(frozenAt);

      const again = berth(["pause", c.id]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain("it is paused, not running");
      expect(again.stderr).toStartWith("berth: pause: ");

      expect(berth(["resume", c.id]).code).toBe(0);
      expect(stateOf(c.id).status).toBe("running");
      Bun.sleepSync(200);
      expect(count(c.b)).toBeGreaterThan(frozenAt);
      const twice = berth(["resume", c.id]);
      expect(twice.code).toBe(1);
      expect(twice.stderr).toContain("not paused");
    } finally {
      c.done();
    }
  });

  it("a created container can be paused and resumed, and still starts (as runc)", () => {
    const c = container(["sh", "-c", "echo started > /tmp/s; sleep 100"], writable, false);
    try {
      expect(berth(["pause", c.id]).code).toBe(0);
      if (V1) expect(read(`${cgDir("freezer", c.id)}/freezer.state`)).toBe("FROZEN");
      expect(berth(["resume", c.id]).code).toBe(0);
      expect(stateOf(c.id).status).toBe("created");
      expect(berth(["start", c.id]).code).toBe(0);
      for (let i = 0; i < 200 && !fs.existsSync(`${c.b.dir}/rootfs/tmp/s`); i++) Bun.sleepSync(10);
      expect(fs.existsSync(`${c.b.dir}/rootfs/tmp/s`)).toBe(true);
    } finally {
      c.done();
    }
  });

  it("a stopped or missing container can be neither paused nor resumed", () => {
    const c = container(["true"]);
    try {
      expect(waitStatus(c.id, "stopped")).toBe("stopped");
      const p = berth(["pause", c.id]);
      expect(p.code).toBe(1);
      expect(p.stderr).toContain("it is stopped, not running");
      const r = berth(["resume", c.id]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("not paused");
      expect(berth(["pause", "no-such-container"]).stderr).toContain("does not exist");
    } finally {
      c.done();
    }
  });
});

describe("berth events", () => {
  const limits = (s: Spec) => {
    s.linux!.resources = { ...s.linux!.resources, memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 100 } };
  };

  it("--stats prints one line with runc's stats structure", () => {
    const c = container(["sh", "-c", "sleep 100 & wait"], limits);
    try {
      waitPids(c.id, 2);
      const r = berth(["events", "--stats", c.id]);
      expect(r.code).toBe(0);
      expect(r.stdout.endsWith("\n")).toBe(true);
      expect(r.stdout.trimEnd().split("\n").length).toBe(1);
      const ev = JSON.parse(r.stdout);
      expect(Object.keys(ev)).toEqual(["type", "id", "data"]);
      expect(ev.type).toBe("stats");
      expect(ev.id).toBe(c.id);
      const d = ev.data;
      expect(Object.keys(d)).toEqual(["cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt", "network_interfaces"]);
      expect(d.cpu.usage.total).toBeGreaterThan(0);
      expect(typeof d.cpu.usage.kernel).toBe("number");
      expect(typeof d.cpu.usage.user).toBe("number");
      expect(typeof d.cpu.throttling).toBe("object");
      expect(d.memory.usage.limit).toBe(64 * 1024 * 1024);
      expect(d.memory.usage.usage).toBeGreaterThan(0);
      expect(typeof d.memory.usage.failcnt).toBe("number");
      expect(Object.keys(d.memory)).toEqual(expect.arrayContaining(["usage", "swap", "kernel", "kernelTCP", "raw"]));
      expect(d.memory.raw).toHaveProperty(V1 ? "rss" : "anon");
      expect(d.pids).toEqual({ current: 2, limit: 100 });
      expect(typeof d.blkio).toBe("object");
      expect(typeof d.hugetlb).toBe("object");
      expect(d.intel_rdt).toEqual({});
      expect(d.network_interfaces).toBeNull();
      if (V1) {
        expect(d.cpuset.cpus.length).toBeGreaterThan(0);
        expect(Array.isArray(d.cpu.usage.percpu)).toBe(true);
        // u64 values are printed exactly (JSON.stringify would write 9223372036854772000)
        expect(r.stdout).toContain('"kernelTCP":{"limit":9223372036854771712,');
      }
    } finally {
      c.done();
    }
  });

  it("without --stats: stats every --interval until the container stops", () => {
    const c = container(["sleep", "1"]);
    try {
      const t0 = Date.now();
      const r = Bun.spawnSync([BERTH, "--root", STATE_ROOT, "events", "--interval", "150ms", c.id], { stdout: "pipe", stderr: "pipe", timeout: 15_000 });
      expect(r.exitCode).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5000);
      const lines = r.stdout.toString().trimEnd().split("\n");
      expect(lines.length).toBeGreaterThanOrEqual(3);
      for (const l of lines) {
        const ev = JSON.parse(l);
        expect(ev.type).toBe("stats");
        expect(ev.id).toBe(c.id);
        expect(ev.data.pids).toBeDefined();
      }
    } finally {
      c.done();
    }
  });

  it("stops cleanly on SIGINT", async () => {
    const c = container(["sleep", "100"]);
    try {
      const p = Bun.spawn([BERTH, "--root", STATE_ROOT, "events", "--interval", "100ms", c.id], { stdout: "pipe", stderr: "pipe" });
      await Bun.sleep(700);
      p.kill("SIGINT");
      expect(await p.exited).toBe(0);
      const out = await new Response(p.stdout).text();
      expect(out.trimEnd().split("\n").length).toBeGreaterThanOrEqual(2);
      expect(await new Response(p.stderr).text()).toBe("");
    } finally {
      c.done();
    }
  });

  it("reports an oom event when the OOM killer acts in the container", async () => {
    const limit = 32 * 1024 * 1024;
    const c = container(["sh", "-c", "sleep 0.3; x=$(head -c 300000000 /dev/zero | tr '\\0' a); sleep 100"], (s) => {
      s.linux!.resources = { ...s.linux!.resources, memory: { limit, swap: limit } };
    });
    try {
      const p = Bun.spawn([BERTH, "--root", STATE_ROOT, "events", "--interval", "10s", c.id], { stdout: "pipe", stderr: "pipe" });
      let out = "";
      const reader = p.stdout.getReader();
      const deadline = Date.now() + 15_000;
      while (!out.includes('"type":"oom"') && Date.now() < deadline) {
        const chunk = await Promise.race([reader.read(), Bun.sleep(deadline - Date.now()).then(() => undefined)]);
        if (!chunk || chunk.done) break;
        out += new TextDecoder().decode(chunk.value);
      }
      p.kill("SIGINT");
      await p.exited;
      expect(out).toContain(`{"type":"oom","id":"${c.id}"}\n`);
    } finally {
      c.done();
    }
  });

  it("errors: a bad interval, a stopped container", () => {
    const c = container(["true"]);
    try {
      expect(waitStatus(c.id, "stopped")).toBe("stopped");
      const zero = berth(["events", "--interval", "0", c.id]);
      expect(zero.code).toBe(1);
      expect(zero.stderr).toContain("duration interval must be greater than 0");
      const bad = berth(["events", "--interval", "soon", c.id]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('invalid value "soon" for flag --interval');
      const stopped = berth(["events", "--stats", c.id]);
      expect(stopped.code).toBe(1);
      expect(stopped.stderr).toContain(`container with id ${c.id} is not running`);
    } finally {
      c.done();
    }
  });
});

describe("berth update", () => {
  it("applies runc's flags to the cgroup and records them in the saved config", () => {
    const c = container(["sleep", "100"]);
    try {
      const r = berth(["update", "--memory", "64m", "--memory-swap", "128m", "--pids-limit", "42", "--cpu-quota", "50000", "--cpu-period", "100000", "--cpu-share", "512", "--cpuset-cpus", "0", c.id]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      if (V1) {
        expect(read(`${cgDir("memory", c.id)}/memory.limit_in_bytes`)).toBe(String(64 * 1024 * 1024));
        if (fs.existsSync(`${cgDir("memory", c.id)}/memory.memsw.limit_in_bytes`)) expect(read(`${cgDir("memory", c.id)}/memory.memsw.limit_in_bytes`)).toBe(String(128 * 1024 * 1024));
        expect(read(`${cgDir("pids", c.id)}/pids.max`)).toBe("42");
        expect(read(`${cgDir("cpu", c.id)}/cpu.cfs_quota_us`)).toBe("50000");
        expect(read(`${cgDir("cpu", c.id)}/cpu.cfs_period_us`)).toBe("100000");
        expect(read(`${cgDir("cpu", c.id)}/cpu.shares`)).toBe("512");
        expect(read(`${cgDir("cpuset", c.id)}/cpuset.cpus`)).toBe("0");
      } else {
        expect(read(`${cgDir("", c.id)}/memory.max`)).toBe(String(64 * 1024 * 1024));
        expect(read(`${cgDir("", c.id)}/pids.max`)).toBe("42");
        expect(read(`${cgDir("", c.id)}/cpu.max`)).toBe("50000 100000");
      }
      const saved = JSON.parse(fs.readFileSync(`${STATE_ROOT}/${c.id}/config.json`, "utf8")).linux.resources;
      expect(saved.memory).toMatchObject({ limit: 64 * 1024 * 1024, swap: 128 * 1024 * 1024 });
      expect(saved.pids).toEqual({ limit: 42 });
      expect(saved.cpu).toMatchObject({ quota: 50000, period: 100000, shares: 512, cpus: "0" });
      expect(saved.devices?.length).toBeGreaterThan(0); // the rest of the config is kept

      // a later update changes one value and keeps the others
      expect(berth(["update", "--pids-limit", "7", c.id]).code).toBe(0);
      const again = JSON.parse(fs.readFileSync(`${STATE_ROOT}/${c.id}/config.json`, "utf8")).linux.resources;
      expect(again.pids).toEqual({ limit: 7 });
      expect(again.memory.limit).toBe(64 * 1024 * 1024);
      expect(fs.readdirSync(`${STATE_ROOT}/${c.id}`).filter((f) => f.includes("tmp"))).toEqual([]);
      expect(stateOf(c.id).status).toBe("running");
    } finally {
      c.done();
    }
  });

  it("--resources - reads an OCI LinuxResources from stdin (as containerd sends it)", () => {
    const c = container(["sleep", "100"]);
    try {
      const res = { memory: { limit: 96 * 1024 * 1024, swap: -1 }, pids: { limit: -1 }, cpu: { shares: 256, quota: 0, period: 0 }, devices: [{ allow: false, access: "rwm" }] };
      const r = berth(["update", "--resources", "-", c.id], { stdin: JSON.stringify(res) });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      if (V1) {
        expect(read(`${cgDir("memory", c.id)}/memory.limit_in_bytes`)).toBe(String(96 * 1024 * 1024));
        expect(read(`${cgDir("pids", c.id)}/pids.max`)).toBe("max");
        expect(read(`${cgDir("cpu", c.id)}/cpu.shares`)).toBe("256");
        expect(read(`${cgDir("cpu", c.id)}/cpu.cfs_quota_us`)).toBe("-1"); // 0 = unchanged
      } else {
        expect(read(`${cgDir("", c.id)}/memory.max`)).toBe(String(96 * 1024 * 1024));
        expect(read(`${cgDir("", c.id)}/pids.max`)).toBe("max");
      }
      const saved = JSON.parse(fs.readFileSync(`${STATE_ROOT}/${c.id}/config.json`, "utf8")).linux.resources;
      expect(saved.memory).toMatchObject({ limit: 96 * 1024 * 1024, swap: -1 });
      expect(saved.pids).toEqual({ limit: -1 });
      expect(saved.cpu.quota).toBeUndefined();

      const file = `${TEST_TMP}/res-${c.id}.json`;
      fs.writeFileSync(file, JSON.stringify({ pids: { limit: 33 } }));
      expect(berth(["update", "-r", file, c.id]).code).toBe(0);
      if (V1) expect(read(`${cgDir("pids", c.id)}/pids.max`)).toBe("33");
    } finally {
      c.done();
    }
  });

  it("errors name the flag or JSON field; Intel RDT and stopped containers are refused", () => {
    const c = container(["sleep", "100"]);
    const stopped = container(["true"]);
    try {
      const bad = berth(["update", "--memory", "lots", c.id]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain("invalid size: 'lots'");
      expect(bad.stderr).toContain("[field update --memory]");
      const swap = berth(["update", "--memory", "200m", "--memory-swap", "100m", c.id]);
      expect(swap.code).toBe(1);
      expect(swap.stderr).toContain("[field update --memory-swap]");
      const json = berth(["update", "-r", "-", c.id], { stdin: '{"memory":{"limit":"x"}}' });
      expect(json.code).toBe(1);
      expect(json.stderr).toContain("[field resources.memory.limit]");
      const broken = berth(["update", "-r", "-", c.id], { stdin: "{bad" });
      expect(broken.code).toBe(1);
      expect(broken.stderr).toContain("cannot parse the resources");
      const rdt = berth(["update", "--l3-cache-schema", "L3:0=f", c.id]);
      expect(rdt.code).toBe(1);
      expect(rdt.stderr).toContain("Intel RDT");
      expect(berth(["update", "--mem-bw-schema", "MB:0=50", c.id]).stderr).toContain("Intel RDT");
      expect(berth(["update", "--memory", "64m", "no-such-container"]).stderr).toContain("does not exist");
      expect(waitStatus(stopped.id, "stopped")).toBe("stopped");
      const st = berth(["update", "--memory", "64m", stopped.id]);
      expect(st.code).toBe(1);
      expect(st.stderr).toContain("not running");
      // nothing was changed by the failed updates
      if (V1) expect(read(`${cgDir("memory", c.id)}/memory.limit_in_bytes`)).not.toBe(String(200 * 1024 * 1024));
    } finally {
      c.done();
      stopped.done();
    }
  });
});

describe("berth update, as runc's update.bats", () => {
  it("ignores device rules (runc does not parse or apply them here), keeps a paused container paused, never reads forever", () => {
    // a container whose access "rwa" runc reads as rw, and which keeps writing /dev/null
    const c = container(["sh", "-c", "while true; do echo >/dev/null || echo FAIL; done"], (s) => {
      s.linux!.resources!.devices!.push({ allow: true, type: "c", major: 4, minor: 1, access: "rwa" });
    });
    try {
      if (V1) expect(read(`${cgDir("devices", c.id)}/devices.list`).split("\n")).toContain("c 4:1 rw");
      const odd = { devices: [{ allow: true, type: "q", access: "rwa" }], pids: { limit: 30 } };
      for (let i = 0; i < 12; i++) {
        const r = berth(["update", "-r", "-", c.id], { stdin: JSON.stringify(odd) });
        expect([r.code, r.stderr]).toEqual([0, ""]);
      }
      expect(read(`${V1 ? cgDir("pids", c.id) : cgDir("", c.id)}/pids.max`)).toBe("30");
      expect(berth(["update", "-r", "-", c.id], { stdin: "null" }).code).toBe(0);
      const dbg = berth(["--debug", "update", "-r", "-", c.id], { stdin: JSON.stringify(odd) });
      expect(dbg.stderr).toContain("not updated (as runc): resources.devices");
      // an endless input is refused instead of read until memory runs out
      const zero = berth(["update", "-r", "/dev/zero", c.id]);
      expect(zero.code).toBe(1);
      expect(zero.stderr).toContain("cannot read the resources from /dev/zero: more than 4 MiB");
      expect(berth(["pause", c.id]).code).toBe(0);
      expect(berth(["update", "--pids-limit", "40", c.id]).code).toBe(0);
      expect(stateOf(c.id).status).toBe("paused");
      expect(berth(["resume", c.id]).code).toBe(0);
      expect(stateOf(c.id).status).toBe("running");
      expect(psJson(c.id)?.length).toBeGreaterThan(0);
    } finally {
      c.done();
    }
  });
});

describe("linux.resources.unified off a pure cgroup v2 host", () => {
  const mode = (() => {
    const m = fs.readFileSync("/proc/self/mountinfo", "utf8");
    const v2 = / - cgroup2 /.test(m), v1 = / - cgroup /.test(m);
    return v2 && !v1 ? "v2" : v1 && v2 ? "hybrid" : "v1";
  })();
  (mode === "v2" ? test.skip : it)("is invalid configuration (as runc), and leaves no state or cgroup", () => {
    for (const unified of [{ "pids.max": "10" }, { "hugetlb.2MB.max": "0" }]) {
      const b = makeBundle(["true"], (s) => (s.linux!.resources!.unified = unified));
      const id = uniqueId("uni");
      try {
        const r = berth(["run", "--bundle", b.dir, id]);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`invalid configuration: unified resources need a cgroup v2 host, and this host's cgroups are ${mode === "hybrid" ? "hybrid" : "cgroup v1"}`);
        expect(r.stderr.trimEnd().split("\n").length).toBe(1);
        expect(fs.existsSync(`${STATE_ROOT}/${id}`)).toBe(false);
        for (const ctrl of ["pids", "memory", "unified"]) expect(fs.existsSync(`/sys/fs/cgroup/${ctrl}/berth/${id}`)).toBe(false);
      } finally {
        b.cleanup();
      }
    }
  });
});

describe("berth features", () => {
  test("prints the runtime-spec features document, four-space indented", () => {
    const r = berth(["features"]);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('{\n    "ociVersionMin": "1.0.0",\n    "ociVersionMax": "1.2.0",\n')).toBe(true);
    const f = JSON.parse(r.stdout);
    expect(f.hooks).toEqual(["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]);
    expect(f.mountOptions).toContain("rbind");
    expect(f.mountOptions).toContain("rro");
    expect(f.mountOptions).toContain("rnoexec");
    expect(f.linux.namespaces).not.toContain("time");
    expect(f.linux.namespaces).toContain("user");
    expect(f.linux.capabilities).toContain("CAP_SYS_ADMIN");
    expect(f.linux.cgroup).toEqual({ v1: true, v2: true, systemd: false, systemdUser: false, rdma: false });
    expect(f.linux.seccomp.enabled).toBe(true);
    expect(f.linux.seccomp.actions).toContain("SCMP_ACT_NOTIFY");
    expect(f.linux.seccomp.archs).toEqual(["SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64"]);
    expect(f.linux.apparmor.enabled).toBe(false);
    expect(f.linux.selinux.enabled).toBe(false);
    expect(f.linux.intelRdt.enabled).toBe(false);
    expect(f.annotations["org.opencontainers.berth.version"]).toMatch(/^\d+\.\d+\.\d+/);
    expect(berth(["features", "extra"]).code).toBe(1);
  });
});

describe("--log / --log-format", () => {
  const rfc3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/;

  test("json: each error appended as {level, msg, time}, and still printed to stderr", () => {
    const log = `${TEST_TMP}/log-${process.pid}.json`;
    fs.rmSync(log, { force: true });
    const r = berth(["--log", log, "--log-format", "json", "state", "no-such-container"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('container "no-such-container" does not exist');
    expect(berth(["--log", log, "--log-format=json", "kill", "no-such-container"]).code).toBe(1);
    const lines = fs.readFileSync(log, "utf8").split("\n");
    expect(lines.pop()).toBe("");
    expect(lines.length).toBe(2);
    const first = JSON.parse(lines[0]);
    expect(Object.keys(first)).toEqual(["level", "msg", "time"]);
    expect(first.level).toBe("error");
    expect(first.msg).toContain('container "no-such-container" does not exist');
    expect(first.msg).not.toContain("\n");
    expect(first.time).toMatch(rfc3339);
    // a command that succeeds logs nothing (without --debug)
    expect(berth(["--log", log, "--log-format", "json", "list"]).code).toBe(0);
    expect(fs.readFileSync(log, "utf8").split("\n").length).toBe(3);
    fs.rmSync(log, { force: true });
  });

  test("text: logrus's time=... level=error msg=\"...\" line; --debug adds a debug line", () => {
    const log = `${TEST_TMP}/log-${process.pid}.txt`;
    fs.rmSync(log, { force: true });
    expect(berth(["--log", log, "--debug", "state", "no-such-container"]).code).toBe(1);
    const lines = fs.readFileSync(log, "utf8").trimEnd().split("\n");
    expect(lines.length).toBe(2);
    expect(lines[0]).toMatch(/^time="[^"]+" level=debug msg="berth [^"]*state no-such-container"$/);
    expect(lines[1]).toMatch(/^time="[^"]+" level=error msg="state: container \\"no-such-container\\" does not exist.*"$/);
    expect(lines[1].match(/^time="([^"]+)"/)![1]).toMatch(rfc3339);
    fs.rmSync(log, { force: true });
  });

  test("an unknown --log-format is refused", () => {
    const r = berth(["--log-format", "xml", "list"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--log-format must be text or json");
  });
});
