// A fake cgroup filesystem in an ordinary directory, for unit tests (and experiments) on hosts
// without the layout under test. It behaves like the kernel where the cgroup code depends on it:
// mkdir populates interface files, rmdir removes them (EBUSY while processes or children
// remain), writes to missing files fail with ENOENT, and a few kernel rules are enforced
// (memory <= memory+swap, cpuset subset of the parent, v2 subtree_control, devices state,
// freezer state). `writes` logs every successful write in order.

import * as fs from "node:fs";
import type { CgroupFs } from "./fsops";

export interface FakeHierarchy {
  mountpoint: string;
  version: 1 | 2;
  /** v1: controllers of the hierarchy (incl. "name=systemd"); v2: controllers available at the root. */
  controllers: string[];
}

export interface FakeOptions {
  /** v1 memory.memsw.* / v2 memory.swap.* files exist (default true). */
  swapAccounting?: boolean;
  /** v2 io.bfq.weight / v1 blkio.bfq.* exist (default true); v1 CFQ blkio.weight never does. */
  bfq?: boolean;
  /** Root cpuset values (default "0-3" and "0"). */
  cpus?: string;
  mems?: string;
  /** Freezing never completes (v1 stays FREEZING, v2 frozen stays 0). */
  stuckFreeze?: boolean;
  /** Return an errno name to make a write fail (checked before anything else). */
  failWrite?: (path: string, data: string) => string | undefined;
}

const UNLIMITED_V1 = "9223372036854771712";

function errno(code: string, path: string): Error {
  const e = new Error(`${code}: ${path}`) as Error & { code: string };
  e.code = code;
  return e;
}

/** Parse a cpu/mem list like "0-2,5" into a set. */
function parseList(s: string): Set<number> {
  const out = new Set<number>();
  for (const part of s.trim().split(",").filter(Boolean)) {
    const [a, b] = part.split("-").map(Number);
    if (!Number.isInteger(a) || (b !== undefined && !Number.isInteger(b))) throw new Error("bad list");
    for (let i = a!; i <= (b ?? a!); i++) out.add(i);
  }
  return out;
}

function v1Files(ctrl: string, isRoot: boolean, o: Required<Omit<FakeOptions, "failWrite">>): Record<string, string> {
  switch (ctrl) {
    case "cpu":
      return {
        "cpu.shares": "1024",
        "cpu.cfs_period_us": "100000",
        "cpu.cfs_quota_us": "-1",
        "cpu.cfs_burst_us": "0",
        "cpu.rt_period_us": "1000000",
        "cpu.rt_runtime_us": isRoot ? "950000" : "0",
        "cpu.idle": "0",
        "cpu.stat": "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n",
      };
    case "cpuacct":
      return { "cpuacct.usage": "0", "cpuacct.usage_user": "0", "cpuacct.usage_sys": "0", "cpuacct.stat": "user 0\nsystem 0\n" };
    case "cpuset":
      return { "cpuset.cpus": isRoot ? o.cpus : "", "cpuset.mems": isRoot ? o.mems : "", "cpuset.cpu_exclusive": "0" };
    case "memory": {
      const f: Record<string, string> = {
        "memory.limit_in_bytes": UNLIMITED_V1,
        "memory.soft_limit_in_bytes": UNLIMITED_V1,
        "memory.usage_in_bytes": "0",
        "memory.max_usage_in_bytes": "0",
        "memory.swappiness": "60",
        "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
        "memory.use_hierarchy": "1",
        "memory.stat": "cache 0\nrss 0\n",
      };
      if (o.swapAccounting) Object.assign(f, { "memory.memsw.limit_in_bytes": UNLIMITED_V1, "memory.memsw.usage_in_bytes": "0" });
      return f;
    }
    case "devices":
      return { "devices.allow": "", "devices.deny": "", "devices.list": "a *:* rwm\n" };
    case "freezer":
      return isRoot ? {} : { "freezer.state": "THAWED" };
    case "blkio": {
      const f: Record<string, string> = {
        "blkio.throttle.read_bps_device": "",
        "blkio.throttle.write_bps_device": "",
        "blkio.throttle.read_iops_device": "",
        "blkio.throttle.write_iops_device": "",
      };
      if (o.bfq) Object.assign(f, { "blkio.bfq.weight": "100", "blkio.bfq.weight_device": "" });
      return f;
    }
    case "pids":
      return isRoot ? {} : { "pids.max": "max", "pids.current": "0" };
    case "hugetlb":
      return { "hugetlb.2MB.limit_in_bytes": UNLIMITED_V1, "hugetlb.1GB.limit_in_bytes": UNLIMITED_V1 };
    case "net_cls":
      return { "net_cls.classid": "0" };
    case "net_prio":
      return { "net_prio.ifpriomap": "lo 0\n" };
    default:
      return {};
  }
}

function v2Files(ctrl: string, o: Required<Omit<FakeOptions, "failWrite">>): Record<string, string> {
  switch (ctrl) {
    case "memory": {
      const f: Record<string, string> = {
        "memory.max": "max",
        "memory.low": "0",
        "memory.high": "max",
        "memory.current": "0",
        "memory.peak": "0",
        "memory.stat": "anon 0\nfile 0\n",
      };
      if (o.swapAccounting) Object.assign(f, { "memory.swap.max": "max", "memory.swap.current": "0" });
      return f;
    }
    case "cpu":
      return { "cpu.weight": "100", "cpu.max": "max 100000", "cpu.max.burst": "0", "cpu.idle": "0" };
    case "cpuset":
      return { "cpuset.cpus": "", "cpuset.mems": "", "cpuset.cpus.effective": o.cpus, "cpuset.mems.effective": o.mems };
    case "io": {
      const f: Record<string, string> = { "io.weight": "default 100", "io.max": "" };
      if (o.bfq) f["io.bfq.weight"] = "default 100";
      return f;
    }
    case "pids":
      return { "pids.max": "max", "pids.current": "0" };
    case "hugetlb":
      return { "hugetlb.2MB.max": "max", "hugetlb.1GB.max": "max" };
    case "rdma":
      return { "rdma.max": "" };
    default:
      return {};
  }
}

export class FakeCgroupFs implements CgroupFs {
  writes: { path: string; data: string }[] = [];
  private devState = new Map<string, { allowAll: boolean; ex: Map<string, string> }>();
  readonly hierarchies: FakeHierarchy[];
  private o: Required<Omit<FakeOptions, "failWrite">>;
  private failWrite?: FakeOptions["failWrite"];

  constructor(hierarchies: FakeHierarchy[], opts: FakeOptions = {}) {
    this.hierarchies = hierarchies;
    this.o = {
      swapAccounting: opts.swapAccounting ?? true,
      bfq: opts.bfq ?? true,
      cpus: opts.cpus ?? "0-3",
      mems: opts.mems ?? "0",
      stuckFreeze: opts.stuckFreeze ?? false,
    };
    this.failWrite = opts.failWrite;
    for (const h of hierarchies) {
      fs.mkdirSync(h.mountpoint, { recursive: true });
      this.populate(h.mountpoint, h, true);
      if (h.version === 2) this.put(`${h.mountpoint}/cgroup.controllers`, h.controllers.join(" "));
    }
  }

  /** A /proc/self/mountinfo text describing the fake hierarchies. */
  mountinfo(): string {
    return this.hierarchies
      .map((h, i) =>
        h.version === 2
          ? `${40 + i} 30 0:${40 + i} / ${h.mountpoint} rw,nosuid,nodev,noexec,relatime shared:${i} - cgroup2 cgroup2 rw,nsdelegate`
          : `${40 + i} 30 0:${40 + i} / ${h.mountpoint} rw,nosuid,nodev,noexec,relatime shared:${i} - cgroup cgroup rw,${h.controllers.join(",")}`,
      )
      .join("\n");
  }

  private hierarchyOf(path: string): FakeHierarchy {
    const h = this.hierarchies
      .filter((x) => path === x.mountpoint || path.startsWith(x.mountpoint + "/"))
      .sort((a, b) => b.mountpoint.length - a.mountpoint.length)[0];
    if (!h) throw new Error(`fake cgroupfs: ${path} is outside every hierarchy`);
    return h;
  }

  private put(path: string, content: string): void {
    fs.writeFileSync(path, content === "" || content.endsWith("\n") ? content : content + "\n");
  }

  private populate(dir: string, h: FakeHierarchy, isRoot: boolean): void {
    const files: Record<string, string> = { "cgroup.procs": "" };
    if (h.version === 1) {
      Object.assign(files, { tasks: "", notify_on_release: "0", "cgroup.clone_children": "0" });
      for (const c of h.controllers) Object.assign(files, v1Files(c, isRoot, this.o));
    } else {
      Object.assign(files, { "cgroup.subtree_control": "", "cgroup.stat": "nr_descendants 0\n" });
      files["cpu.stat"] = "usage_usec 0\nuser_usec 0\nsystem_usec 0\n";
      if (!isRoot) {
        const parentCtrls = this.read(`${dir.slice(0, dir.lastIndexOf("/"))}/cgroup.subtree_control`).split(/\s+/).filter(Boolean);
        files["cgroup.controllers"] = parentCtrls.join(" ");
        Object.assign(files, {
          "cgroup.events": "populated 0\nfrozen 0\n",
          "cgroup.freeze": "0",
          "cgroup.type": "domain",
          "cgroup.max.descendants": "max",
          "cgroup.max.depth": "max",
        });
        for (const c of parentCtrls) Object.assign(files, v2Files(c, this.o));
      }
    }
    for (const [name, content] of Object.entries(files)) this.put(`${dir}/${name}`, content);
  }

  mkdir(path: string): void {
    fs.mkdirSync(path); // EEXIST / ENOENT like the kernel
    this.populate(path, this.hierarchyOf(path), false);
  }

  rmdir(path: string): void {
    if (!fs.existsSync(path)) throw errno("ENOENT", path);
    if (this.subdirs(path).length > 0) throw errno("EBUSY", path);
    if (this.read(`${path}/cgroup.procs`).trim() !== "") throw errno("EBUSY", path);
    for (const f of fs.readdirSync(path)) fs.unlinkSync(`${path}/${f}`);
    fs.rmdirSync(path);
    this.devState.delete(path);
  }

  read(path: string): string {
    return fs.readFileSync(path, "utf8");
  }

  exists(path: string): boolean {
    return fs.existsSync(path);
  }

  subdirs(path: string): string[] {
    return fs
      .readdirSync(path, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  }

  /** Put a process into a cgroup (as the executor would), bypassing write checks. */
  addProc(dir: string, pid: number): void {
    const cur = this.read(`${dir}/cgroup.procs`);
    this.put(`${dir}/cgroup.procs`, cur + `${pid}\n`);
  }

  /** Set a read-only counter (memory.usage_in_bytes, pids.current, ...). */
  setCounter(path: string, value: string): void {
    this.put(path, value);
  }

  write(path: string, data: string): void {
    const fail = this.failWrite?.(path, data);
    if (fail) throw errno(fail, path);
    if (!fs.existsSync(path)) throw errno("ENOENT", path);
    const dir = path.slice(0, path.lastIndexOf("/"));
    const file = path.slice(path.lastIndexOf("/") + 1);
    const value = data.trim();
    const num = (s: string) => (s === "-1" ? Number(UNLIMITED_V1) : Number(s));
    const readNum = (f: string) => Number(this.read(`${dir}/${f}`).trim());
    let stored = value;

    switch (file) {
      case "memory.limit_in_bytes": {
        const v = num(value);
        if (!Number.isFinite(v)) throw errno("EINVAL", path);
        if (fs.existsSync(`${dir}/memory.memsw.limit_in_bytes`) && v > readNum("memory.memsw.limit_in_bytes")) throw errno("EINVAL", path);
        if (v < readNum("memory.usage_in_bytes")) throw errno("EBUSY", path);
        stored = value === "-1" ? UNLIMITED_V1 : value;
        break;
      }
      case "memory.memsw.limit_in_bytes": {
        const v = num(value);
        if (!Number.isFinite(v) || v < readNum("memory.limit_in_bytes")) throw errno("EINVAL", path);
        stored = value === "-1" ? UNLIMITED_V1 : value;
        break;
      }
      case "cpu.cfs_quota_us": {
        const v = Number(value);
        if (!Number.isInteger(v) || (v !== -1 && v < 1000)) throw errno("EINVAL", path);
        break;
      }
      case "cpu.max":
        if (!/^(max|\d+)( \d+)?$/.test(value)) throw errno("EINVAL", path);
        if (!value.includes(" ")) stored = `${value} ${this.read(path).trim().split(" ")[1]}`;
        break;
      case "cpuset.cpus":
      case "cpuset.mems": {
        const h = this.hierarchyOf(path);
        const parentFile = h.version === 1 ? `${dir.slice(0, dir.lastIndexOf("/"))}/${file}` : `${dir}/${file}.effective`;
        let want: Set<number>, have: Set<number>;
        try {
          want = parseList(value);
          have = parseList(this.read(parentFile));
        } catch {
          throw errno("EINVAL", path);
        }
        for (const c of want) if (!have.has(c)) throw errno("EINVAL", path);
        break;
      }
      case "pids.max":
        if (value !== "max" && !/^\d+$/.test(value)) throw errno("EINVAL", path);
        break;
      case "cgroup.procs":
        stored = this.read(path) + value;
        break;
      case "freezer.state":
        if (value !== "FROZEN" && value !== "THAWED") throw errno("EINVAL", path);
        stored = value === "FROZEN" && this.o.stuckFreeze ? "FREEZING" : value;
        break;
      case "cgroup.freeze": {
        if (value !== "0" && value !== "1") throw errno("EINVAL", path);
        const frozen = value === "1" && !this.o.stuckFreeze ? 1 : 0;
        const ev = this.read(`${dir}/cgroup.events`).replace(/frozen \d/, `frozen ${frozen}`);
        this.put(`${dir}/cgroup.events`, ev);
        break;
      }
      case "cgroup.subtree_control": {
        const h = this.hierarchyOf(path);
        const avail = new Set(this.read(`${dir}/cgroup.controllers`).split(/\s+/).filter(Boolean));
        const enabled = new Set(this.read(path).split(/\s+/).filter(Boolean));
        if (dir !== h.mountpoint && this.read(`${dir}/cgroup.procs`).trim() !== "") throw errno("EBUSY", path);
        for (const tok of value.split(/\s+/)) {
          const c = tok.slice(1);
          if (!avail.has(c)) throw errno("ENOENT", path);
          if (tok[0] === "+") enabled.add(c);
          else enabled.delete(c);
        }
        stored = [...enabled].join(" ");
        // The kernel adds the controller's files to existing children.
        for (const child of this.subdirs(dir)) {
          const cdir = `${dir}/${child}`;
          this.put(`${cdir}/cgroup.controllers`, stored);
          for (const c of enabled) for (const [n, content] of Object.entries(v2Files(c, this.o))) if (!fs.existsSync(`${cdir}/${n}`)) this.put(`${cdir}/${n}`, content);
        }
        break;
      }
      case "devices.allow":
      case "devices.deny":
        this.devicesWrite(dir, file === "devices.allow", value, path);
        this.writes.push({ path, data });
        return;
    }
    this.put(path, stored);
    this.writes.push({ path, data });
  }

  // The kernel's devices state machine (see devices.ts for the rules), kept independent of it.
  private devicesWrite(dir: string, allow: boolean, value: string, path: string): void {
    const listPath = `${dir}/devices.list`;
    const st = this.devState.get(dir) ?? { allowAll: true, ex: new Map<string, string>() };
    this.devState.set(dir, st);
    let allowAll = st.allowAll;
    const ex = st.ex;
    if (value === "a") {
      allowAll = allow;
      ex.clear();
    } else {
      const m = /^([bc]) (\*|\d+):(\*|\d+) ([rwm]+)$/.exec(value);
      if (!m) throw errno("EINVAL", path);
      const k = `${m[1]} ${m[2]}:${m[3]}`;
      const cur = new Set((ex.get(k) ?? "").split("").filter(Boolean));
      const add = allowAll !== allow;
      for (const c of m[4]!) add ? cur.add(c) : cur.delete(c);
      const acc = ["r", "w", "m"].filter((c) => cur.has(c)).join("");
      if (acc) ex.set(k, acc);
      else ex.delete(k);
    }
    st.allowAll = allowAll;
    // Like the kernel, an allow-all cgroup lists only "a *:* rwm" (its deny exceptions are hidden).
    this.put(listPath, allowAll ? "a *:* rwm\n" : [...ex].map(([k, a]) => `${k} ${a}\n`).join(""));
  }
}
