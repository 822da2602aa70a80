// The create route's spec builder (src/engine/containers/spec): docker's rules for argv, env,
// user, capabilities, seccomp, mounts, resources, devices, namespaces, and dockerd's 400s.
import { describe, expect, test } from "bun:test";
import { ApiError } from "../../src/engine/errors.ts";
import { buildSpec, cgroupsPathFor, containerFiles, makeSpecBuilder, hostsFile, resolvConf, type HostAccess, type HostDevice, type SpecInput } from "../../src/engine/containers/spec/index.ts";
import { DEFAULT_PROFILE, resolveProfile } from "../../src/engine/containers/spec/seccomp-default.ts";
import { compileSeccomp } from "../../src/runtime/seccomp/index.ts";
import { runFilter } from "../../src/runtime/seccomp/bpf-interpreter.ts";
import { ARCHES } from "../../src/runtime/seccomp/tables.ts";
import { validateSpec } from "../../src/runtime/spec/validate.ts";
import { CAPABILITIES } from "../../src/runtime/linux.ts";

const ID = "0123456789ab" + "c".repeat(52);
const dev = (path: string, type: "c" | "b", major: number, minor: number, fileMode = 0o666): HostDevice => ({ path, type, major, minor, fileMode, uid: 0, gid: 0 });
const HOST_DEVICES = [dev("/dev/null", "c", 1, 3), dev("/dev/zero", "c", 1, 5), dev("/dev/fuse", "c", 10, 229), dev("/dev/sda", "b", 8, 0, 0o660), dev("/dev/snd/pcm", "c", 116, 2)];
let BLKIO = true;
const existing = new Set(["/srv/data", "/tmp", "/opt/berth-init"]);
export const fakeHost: HostAccess = {
  exists: (p) => existing.has(p),
  device(p) {
    if (p === "/dev/snd") throw new Error("not a device");
    return HOST_DEVICES.find((d) => d.path === p);
  },
  devices: () => HOST_DEVICES,
  blkioWeight: () => BLKIO,
  hostname: () => "thehost",
  caps: () => [...CAPABILITIES],
  cpus: () => ({ count: 2, cpuset: "0-1", mems: "0" }),
};
const PASSWD = "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1::/:/bin/false\nalice:x:1000:1000::/home/alice:/bin/sh\n";
const GROUP = "root:x:0:\ndaemon:x:1:\nstaff:x:50:alice,bob\nalice:x:1000:\nusers:x:100:\n";

export function input(config: Record<string, unknown> = {}, hostConfig: Record<string, unknown> = {}, extra: Partial<SpecInput> = {}): SpecInput {
  return {
    id: ID, config: { Cmd: ["sh"], ...config }, hostConfig: { NetworkMode: "none", ...hostConfig }, image: {},
    rootfs: "/r", files: { hostsPath: "/c/hosts", hostnamePath: "/c/hostname", resolvConfPath: "/c/resolv.conf" },
    cgroupsPath: "/berth/x", passwd: PASSWD, group: GROUP, host: fakeHost, ...extra,
  };
}
const build = (c?: Record<string, unknown>, h?: Record<string, unknown>, x?: Partial<SpecInput>) => buildSpec(input(c, h, x));

function err(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error("no error thrown");
}
const bad = (c: Record<string, unknown>, h: Record<string, unknown>, x?: Partial<SpecInput>) => {
  const e = err(() => build(c, h, x));
  expect(e.status).toBe(400);
  return e.message;
};

describe("process", () => {
  test("entrypoint and cmd follow docker's override rules", () => {
    const image = { Entrypoint: ["/ep"], Cmd: ["a", "b"] };
    expect(build({ Cmd: null }, {}, { image }).spec.process!.args).toEqual(["/ep", "a", "b"]);
    expect(build({ Cmd: ["c"] }, {}, { image }).spec.process!.args).toEqual(["/ep", "c"]);
    expect(build({ Cmd: null, Entrypoint: ["/other"] }, {}, { image }).spec.process!.args).toEqual(["/other"]);
    expect(build({ Cmd: ["x"], Entrypoint: [""] }, {}, { image }).spec.process!.args).toEqual(["x"]);
    expect(build({ Cmd: "echo hi" }).spec.process!.args).toEqual(["echo hi"]);
    expect(bad({ Cmd: null }, {})).toBe("No command specified");
  });

  test("env: PATH, HOSTNAME, TERM with a tty, image env, then the container's, in place", () => {
    const out = build({ Tty: true, Env: ["PATH=/bin", "A=2", "TERM=dumb", "GONE"] }, {}, { image: { Env: ["A=1", "GONE=x", "B=1"] } });
    expect(out.spec.process!.env).toEqual(["PATH=/bin", "HOSTNAME=0123456789ab", "TERM=dumb", "A=2", "B=1"]);
    expect(build().spec.process!.env).toEqual(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=0123456789ab"]);
    expect(bad({ Env: ["=x"] }, {})).toContain("invalid environment variable");
  });

  test("working dir, hostname, domainname, terminal and console size", () => {
    const s = build({ WorkingDir: "/w", Hostname: "h", Domainname: "example.org", Tty: true }, { ConsoleSize: [30, 100] }).spec;
    expect(s.process!.cwd).toBe("/w");
    expect(s.hostname).toBe("h");
    expect(s.linux!.sysctl!["kernel.domainname"]).toBe("example.org");
    expect(s.process!.terminal).toBe(true);
    expect(s.process!.consoleSize).toEqual({ height: 30, width: 100 });
    expect(build({}, {}, { image: { WorkingDir: "/img" } }).spec.process!.cwd).toBe("/img");
    expect(build({ WorkingDir: "/a/../../b/./c/" }).spec.process!.cwd).toBe("/b/c");
    expect(bad({ WorkingDir: "rel" }, {})).toBe("the working directory 'rel' is invalid, it needs to be an absolute path");
  });

  test("user: names, ids, groups from the container's files, GroupAdd", () => {
    const u = (User: string, GroupAdd?: string[]) => build({ User }, { GroupAdd }).spec.process!.user;
    expect(u("")).toEqual({ uid: 0, gid: 0, additionalGids: [0] });
    expect(u("alice")).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000, 50] });
    expect(u("1000")).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000, 50] });
    expect(u("1000:1000", ["10"])).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000, 50, 10] });
    expect(u("daemon:staff", ["users"])).toEqual({ uid: 1, gid: 50, additionalGids: [50, 100] });
    expect(u("4242:4243")).toEqual({ uid: 4242, gid: 4243, additionalGids: [4243] });
    expect(bad({ User: "nosuch" }, {})).toBe("unable to find user nosuch: no matching entries in passwd file");
    expect(bad({ User: "0:nosuch" }, {})).toBe("unable to find group nosuch: no matching entries in group file");
    // At create time there is no rootfs yet: names are left for start.
    expect(build({ User: "nosuch" }, {}, { passwd: undefined, group: undefined, phase: "create" }).spec.process!.user.uid).toBe(0);
    expect(build({ User: "nosuch" }, {}, { passwd: undefined, group: undefined, rootfs: "/nonexistent" }).spec.process!.user.uid).toBe(0);
    // At start an image without /etc/passwd cannot run as a named user (never silently as root).
    expect(bad({ User: "alice" }, {}, { passwd: undefined, group: undefined, phase: "start" })).toBe("unable to find user alice: no matching entries in passwd file");
    expect(bad({ User: "alice" }, {}, { passwd: undefined, rootfs: "/srv/data" })).toBe("unable to find user alice: no matching entries in passwd file");
  });

  test("capabilities: docker's 14, CapAdd/CapDrop with and without CAP_, ALL, non-root users", () => {
    const caps = (h: Record<string, unknown>, c: Record<string, unknown> = {}) => build(c, h).spec.process!.capabilities!;
    const def = caps({});
    expect(def.bounding).toEqual(["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]);
    expect(def.effective).toEqual(def.bounding);
    expect(def.inheritable).toBeUndefined();
    expect(caps({ CapAdd: ["sys_admin", "CAP_NET_ADMIN"], CapDrop: ["MKNOD", "chown"] }).bounding!.slice(-3)).toEqual(["CAP_AUDIT_WRITE", "CAP_SYS_ADMIN", "CAP_NET_ADMIN"]);
    expect(caps({ CapDrop: ["ALL"], CapAdd: ["KILL"] }).bounding).toEqual(["CAP_KILL"]);
    expect(caps({ CapAdd: ["ALL"], CapDrop: ["SYS_ADMIN"] }).bounding!.length).toBe(40);
    expect(caps({ Privileged: true }).bounding!.length).toBe(41);
    expect(caps({}, { User: "1000" })).toEqual({ bounding: def.bounding });
    expect(bad({}, { CapAdd: ["BOGUS"] })).toBe('invalid CapAdd: unknown capability: "CAP_BOGUS"');
    // "All" is what the daemon holds: a host without CAP_SYS_RESOURCE in its bounding set.
    const held = CAPABILITIES.filter((c) => c !== "CAP_SYS_RESOURCE");
    const h = { ...fakeHost, caps: () => held };
    expect(build({}, { Privileged: true }, { host: h }).spec.process!.capabilities!.bounding).toEqual(held);
    expect(build({}, { CapAdd: ["ALL"] }, { host: h }).spec.process!.capabilities!.bounding).not.toContain("CAP_SYS_RESOURCE");
    expect(build({}, { CapAdd: ["SYS_RESOURCE"] }, { host: h }).spec.process!.capabilities!.bounding).toContain("CAP_SYS_RESOURCE");
  });

  test("ulimits, oom score, no-new-privileges", () => {
    const s = build({}, { Ulimits: [{ Name: "nofile", Soft: 1000, Hard: 2000 }, { Name: "nproc", Soft: 50, Hard: 50 }], OomScoreAdj: 100, SecurityOpt: ["no-new-privileges"] }).spec;
    expect(s.process!.rlimits).toEqual([{ type: "RLIMIT_NOFILE", hard: 2000, soft: 1000 }, { type: "RLIMIT_NPROC", hard: 50, soft: 50 }]);
    expect(s.process!.oomScoreAdj).toBe(100);
    expect(s.process!.noNewPrivileges).toBe(true);
    expect(build({}, { SecurityOpt: ["no-new-privileges:false"] }).spec.process!.noNewPrivileges).toBeUndefined();
    expect(build({}, { SecurityOpt: ["no-new-privileges=true"] }).spec.process!.noNewPrivileges).toBe(true);
    expect(bad({}, { Ulimits: [{ Name: "nofile", Soft: 2, Hard: 1 }] })).toBe("ulimit soft limit must be less than or equal to hard limit: 2 > 1");
    expect(bad({}, { Ulimits: [{ Name: "bogus", Soft: 1, Hard: 1 }] })).toContain("invalid ulimit type: bogus");
    expect(bad({}, { OomScoreAdj: 5000 })).toBe("Invalid value 5000, range for oom score adj is [-1000, 1000]");
    expect(bad({}, { SecurityOpt: ["no-new-privileges=maybe"] })).toBe('invalid --security-opt 2: "no-new-privileges=maybe"');
    expect(bad({}, { SecurityOpt: ["foo=bar"] })).toBe('invalid --security-opt 2: "foo=bar"');
  });

  test("Init puts berth-init in front of the command, read-only at /sbin/docker-init; StopSignal is checked", () => {
    const withInit = build({}, { Init: true }, { initPath: "/opt/berth-init" });
    expect(withInit.init).toBe(true);
    expect(withInit.spec.process!.args).toEqual(["/sbin/docker-init", "--", "sh"]);
    expect(withInit.spec.mounts!.find((m) => m.destination === "/sbin/docker-init")).toEqual({ destination: "/sbin/docker-init", type: "bind", source: "/opt/berth-init", options: ["bind", "ro"] });
    expect(bad({}, { Init: true })).toContain("the init program (native/init/berth-init) is not built");
    expect(build().init).toBe(false);
    expect(build({ StopSignal: "SIGUSR1" }).spec.process!.args).toEqual(["sh"]);
    expect(bad({ StopSignal: "SIGNOPE" }, {})).toBe("Invalid signal: SIGNOPE");
  });
});

describe("type errors name the field", () => {
  test("HostConfig and Config fields of the wrong JSON type are 400s", () => {
    expect(bad({}, { Memory: "abc" })).toBe("json: cannot unmarshal string into Go struct field HostConfig.Memory of type int64");
    expect(bad({}, { Privileged: 1 })).toBe("json: cannot unmarshal number into Go struct field HostConfig.Privileged of type bool");
    expect(bad({}, { Binds: "/a:/b" })).toContain("HostConfig.Binds");
    expect(bad({}, { Ulimits: [{ Name: "nofile", Soft: "1", Hard: 2 }] })).toContain("HostConfig.Ulimits[0].Soft");
    expect(bad({ Env: "A=1" }, {})).toContain("Config.Env");
    expect(bad({ Tty: "yes" }, {})).toContain("Config.Tty");
  });
});

describe("mounts", () => {
  const byDst = (h: Record<string, unknown>, c: Record<string, unknown> = {}) => Object.fromEntries(build(c, h).spec.mounts!.map((m) => [m.destination, m]));
  test("defaults in docker's order, then user mounts and the three files sorted by depth", () => {
    const s = build({}, { Binds: ["/srv/data:/data/deep/er", "/tmp:/a"], Tmpfs: { "/run": "" } }).spec;
    expect(s.mounts!.map((m) => m.destination)).toEqual([
      "/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm",
      "/a", "/run", "/etc/resolv.conf", "/etc/hostname", "/etc/hosts", "/data/deep/er",
    ]);
    expect(s.mounts!.find((m) => m.destination === "/etc/hosts")).toEqual({ destination: "/etc/hosts", type: "bind", source: "/c/hosts", options: ["rbind", "rprivate"] });
    expect(s.mounts!.find((m) => m.destination === "/sys")!.options).toContain("ro");
  });

  test("binds: ro, propagation, relabel flags; missing sources are made like docker's -v", () => {
    const m = byDst({ Binds: ["/srv/data:/d", "/srv/data:/r:ro", "/srv/data:/z:rw,z", "/srv/data:/s:rslave", "/new/dir:/n"] });
    expect(m["/d"].options).toEqual(["rbind", "rprivate"]);
    expect(m["/r"].options).toEqual(["rbind", "ro", "rprivate"]);
    expect(m["/z"].options).toEqual(["rbind", "rprivate"]);
    expect(m["/s"].options).toEqual(["rbind", "rslave"]);
    expect(build({}, { Binds: ["/new/dir:/n"] }).mkdirs).toEqual(["/new/dir"]);
    expect(bad({}, { Binds: ["/tmp:rel"] })).toBe(`invalid volume specification: '/tmp:rel': invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`);
    expect(bad({}, { Binds: ["/tmp:/x:bogus"] })).toBe("invalid mode: bogus");
    expect(bad({}, { Binds: ["rel/dir:/x"] })).toContain('"rel/dir" includes invalid characters for a local volume name');
    expect(bad({}, { Binds: ["/tmp:/x", "/srv/data:/x"] })).toBe("Duplicate mount point: /x");
    expect(bad({}, { Binds: ["myvol:/x"] })).toContain("named volumes are not supported yet: myvol");
    const v = build({}, { Binds: ["myvol:/x:ro"] }, { volume: (n, d) => `/vols/${n}${d}` }).spec.mounts!.find((x) => x.destination === "/x");
    expect(v).toEqual({ destination: "/x", type: "bind", source: "/vols/myvol/x", options: ["rbind", "ro", "rprivate"] });
  });

  test("Mounts: bind with ReadOnly and propagation, tmpfs with size and mode, checks", () => {
    const m = byDst({ Mounts: [
      { Type: "bind", Source: "/srv/data", Target: "/m", ReadOnly: true, BindOptions: { Propagation: "rshared" } },
      { Type: "tmpfs", Target: "/t", TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1700 } },
      { Type: "tmpfs", Target: "/t2" },
    ] });
    expect(m["/m"]).toEqual({ destination: "/m", type: "bind", source: "/srv/data", options: ["rbind", "ro", "rshared"] });
    expect(m["/t"].options).toEqual(["noexec", "nosuid", "nodev", "rprivate", "mode=1700", "size=1m"]);
    expect(m["/t2"].options).toEqual(["noexec", "nosuid", "nodev", "rprivate"]);
    expect(bad({}, { Mounts: [{ Type: "bind", Source: "/x", Target: "/x" }] })).toBe(`invalid mount config for type "bind": bind source path does not exist: /x`);
    expect(bad({}, { Mounts: [{ Type: "bind", Source: "/tmp" }] })).toBe(`invalid mount config for type "bind": field Target must not be empty`);
    expect(bad({}, { Mounts: [{ Type: "tmpfs", Source: "/tmp", Target: "/t" }] })).toBe(`invalid mount config for type "tmpfs": field Source must not be specified`);
    expect(bad({}, { Mounts: [{ Type: "npipe", Source: "/tmp", Target: "/t" }] })).toContain("mount type unknown");
  });

  test("--tmpfs keeps the defaults the user did not override", () => {
    const m = byDst({ Tmpfs: { "/run": "", "/x": "rw,size=10m,noexec", "/y": "exec,mode=700" } });
    expect(m["/run"].options).toEqual(["noexec", "nosuid", "nodev", "rprivate"]);
    expect(m["/x"].options).toEqual(["nosuid", "nodev", "rprivate", "rw", "size=10m", "noexec"]);
    expect(m["/y"].options).toEqual(["nosuid", "nodev", "rprivate", "exec", "mode=700"]);
    expect(bad({}, { Tmpfs: { rel: "" } })).toBe("invalid mount path: 'rel' mount path must be absolute");
  });

  test("/dev/shm: ShmSize, ipc host and none; a user mount replaces a default", () => {
    expect(byDst({})["/dev/shm"].options).toContain("size=67108864");
    expect(byDst({ ShmSize: 1 << 30 })["/dev/shm"].options).toContain("size=1073741824");
    expect(byDst({ IpcMode: "host" })["/dev/shm"]).toEqual({ destination: "/dev/shm", type: "bind", source: "/dev/shm", options: ["rbind", "rprivate"] });
    expect(byDst({ IpcMode: "none" })["/dev/shm"]).toBeUndefined();
    expect(byDst({ Binds: ["/tmp:/dev/shm"] })["/dev/shm"].source).toBe("/tmp");
    expect(bad({}, { ShmSize: -1 })).toBe("SHM size can not be less than 0");
  });

  test("image VOLUMEs: anonymous volumes through the resolver, else a warning", () => {
    const image = { Volumes: { "/var/lib/db": {} } };
    expect(build({}, {}, { image }).warnings).toEqual(["the image's volume /var/lib/db stays in the container's own filesystem: volumes are not supported yet"]);
    const m = build({}, {}, { image, volume: (n, d) => `/vols/anon${d}` }).spec.mounts!.find((x) => x.destination === "/var/lib/db");
    expect(m).toEqual({ destination: "/var/lib/db", type: "bind", source: "/vols/anon/var/lib/db", options: ["rbind", "rprivate"] });
    expect(build({}, { Binds: ["/tmp:/var/lib/db"] }, { image }).warnings).toEqual([]);
  });

  test("read-only rootfs makes the three files read-only too", () => {
    const s = build({}, { ReadonlyRootfs: true }).spec;
    expect(s.root).toEqual({ path: "/r", readonly: true });
    expect(s.mounts!.find((m) => m.destination === "/etc/hostname")!.options).toEqual(["rbind", "ro", "rprivate"]);
  });
});

describe("privileged and security", () => {
  test("privileged: all caps and host devices, no seccomp, no masking, rw sysfs and cgroup", () => {
    const s = build({}, { Privileged: true }).spec;
    expect(s.linux!.seccomp).toBeUndefined();
    expect(s.linux!.maskedPaths).toBeUndefined();
    expect(s.linux!.readonlyPaths).toBeUndefined();
    expect(s.linux!.devices!.map((d) => d.path)).toEqual(HOST_DEVICES.map((d) => d.path));
    expect(s.linux!.resources!.devices).toEqual([{ allow: true, access: "rwm" }]);
    expect(s.mounts!.find((m) => m.destination === "/sys")!.options).toEqual(["nosuid", "noexec", "nodev"]);
    expect(s.mounts!.find((m) => m.destination === "/sys/fs/cgroup")!.options).toEqual(["nosuid", "noexec", "nodev"]);
  });

  test("masked and read-only paths, systempaths=unconfined, HostConfig overrides", () => {
    const s = build().spec;
    expect(s.linux!.maskedPaths).toContain("/proc/kcore");
    expect(s.linux!.readonlyPaths).toEqual(["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]);
    expect(build({}, { SecurityOpt: ["systempaths=unconfined"] }).spec.linux!.maskedPaths).toBeUndefined();
    expect(build({}, { MaskedPaths: ["/proc/x"], ReadonlyPaths: [] }).spec.linux!.maskedPaths).toEqual(["/proc/x"]);
  });

  test("seccomp: unconfined, a profile's JSON content (docker format), apparmor/label warn", () => {
    expect(build({}, { SecurityOpt: ["seccomp=unconfined"] }).spec.linux!.seccomp).toBeUndefined();
    const prof = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO" }, { name: "mount", action: "SCMP_ACT_ALLOW", includes: { caps: ["CAP_SYS_ADMIN"] } }] };
    expect(build({}, { SecurityOpt: [`seccomp=${JSON.stringify(prof)}`] }).spec.linux!.seccomp).toEqual({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO" }] });
    // An explicit profile applies even to --privileged.
    expect(build({}, { Privileged: true, SecurityOpt: [`seccomp=${JSON.stringify(prof)}`] }).spec.linux!.seccomp!.syscalls!.length).toBe(2);
    expect(bad({}, { SecurityOpt: ["seccomp={nope"] })).toContain("Decoding seccomp profile failed");
    expect(build({}, { SecurityOpt: ["apparmor=unconfined"] }).warnings[0]).toContain("AppArmor");
    expect(build({}, { SecurityOpt: ["label=disable"] }).warnings).toEqual([]);
    expect(build({}, { SecurityOpt: ["label=user:u"] }).warnings[0]).toContain("SELinux");
  });
});

describe("default seccomp profile", () => {
  const nr = (n: string) => ARCHES.x86_64.syscalls.get(n)!;
  const ALLOW = 0x7fff0000, EPERM = 0x00050001, ENOSYS = 0x00050000 + 38;
  const run = (caps: string[], name: string, args: number[] = []) => {
    const f = compileSeccomp(resolveProfile(DEFAULT_PROFILE, caps)).filter;
    return runFilter(f, { nr: nr(name), arch: 0xc000003e, args: args.map(BigInt) });
  };
  const base = ["CAP_CHOWN", "CAP_KILL"];
  test("ordinary syscalls allowed, dangerous ones denied with EPERM", () => {
    expect(run(base, "read")).toBe(ALLOW);
    expect(run(base, "mount")).toBe(EPERM);
    expect(run(base, "open_by_handle_at")).toBe(EPERM);
    expect(run(base, "kexec_load")).toBe(EPERM);
    expect(run(base, "socket", [40])).toBe(EPERM);
    expect(run(base, "socket", [2])).toBe(ALLOW);
  });
  test("capability-conditional syscalls open with the capability", () => {
    expect(run([...base, "CAP_SYS_ADMIN"], "mount")).toBe(ALLOW);
    expect(run([...base, "CAP_SYS_ADMIN"], "unshare")).toBe(ALLOW);
    expect(run([...base, "CAP_SYS_PTRACE"], "kcmp")).toBe(ALLOW);
    expect(run(base, "kcmp")).toBe(EPERM);
    expect(run([...base, "CAP_SYS_TIME"], "settimeofday")).toBe(ALLOW);
    expect(run([...base, "CAP_SYS_MODULE"], "init_module")).toBe(ALLOW);
    expect(run(base, "chroot")).toBe(EPERM);
    expect(run([...base, "CAP_SYS_CHROOT"], "chroot")).toBe(ALLOW);
  });
  test("clone: threads yes, namespaces only with CAP_SYS_ADMIN; clone3 ENOSYS without it", () => {
    expect(run(base, "clone", [0x3d0f00])).toBe(ALLOW);
    expect(run(base, "clone", [0x20000000])).toBe(EPERM);
    expect(run([...base, "CAP_SYS_ADMIN"], "clone", [0x20000000])).toBe(ALLOW);
    expect(run(base, "clone3")).toBe(ENOSYS);
    expect(run([...base, "CAP_SYS_ADMIN"], "clone3")).toBe(ALLOW);
  });
  test("the spec's seccomp follows the container's capabilities", () => {
    const names = (h: Record<string, unknown>) => build({}, h).spec.linux!.seccomp!.syscalls!.flatMap((s) => s.names);
    expect(names({})).not.toContain("mount");
    expect(names({ CapAdd: ["SYS_ADMIN"] })).toContain("mount");
    expect(names({ CapDrop: ["SYS_CHROOT"] })).not.toContain("chroot");
  });
});

describe("resources, devices, sysctls, namespaces", () => {
  const res = (h: Record<string, unknown>) => build({}, h).spec.linux!.resources!;
  test("memory, cpu, pids, blkio", () => {
    expect(res({ Memory: 64 << 20, MemorySwap: 128 << 20, MemoryReservation: 32 << 20 }).memory).toEqual({ limit: 64 << 20, swap: 128 << 20, reservation: 32 << 20 });
    expect(res({ Memory: 64 << 20 }).memory).toEqual({ limit: 64 << 20, swap: 128 << 20 });
    expect(res({ Memory: 64 << 20, MemorySwap: -1 }).memory).toEqual({ limit: 64 << 20 });
    expect(res({ NanoCpus: 1.5e9, CpuShares: 512, CpusetCpus: "0", CpusetMems: "0" }).cpu).toEqual({ shares: 512, period: 100000, quota: 150000, cpus: "0", mems: "0" });
    expect(res({ CpuQuota: 50000, CpuPeriod: 200000 }).cpu).toEqual({ quota: 50000, period: 200000 });
    expect(res({ PidsLimit: 50 }).pids).toEqual({ limit: 50 });
    expect(res({ PidsLimit: -1 }).pids).toBeUndefined();
    expect(res({ PidsLimit: 0 }).pids).toBeUndefined();
    expect(res({ BlkioWeight: 300 }).blockIO).toEqual({ weight: 300 });
    BLKIO = false;
    try {
      const out = build({}, { BlkioWeight: 300 });
      expect(out.spec.linux!.resources!.blockIO).toBeUndefined();
      expect(out.warnings).toEqual(["Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded."]);
    } finally {
      BLKIO = true;
    }
    expect(res({ Memory: 64 << 20, OomKillDisable: true, MemorySwappiness: 10 }).memory).toEqual({ limit: 64 << 20, swap: 128 << 20, swappiness: 10, disableOOMKiller: true });
    expect(build({}, { OomKillDisable: true }).warnings[0]).toContain("OOM killer is disabled");
  });

  test("dockerd's resource errors", () => {
    expect(bad({}, { Memory: 1024 })).toBe("Minimum memory limit allowed is 6MB");
    expect(bad({}, { Memory: 64 << 20, MemorySwap: 32 << 20 })).toBe("Minimum memoryswap limit should be larger than memory limit, see usage");
    expect(bad({}, { MemorySwap: 64 << 20 })).toBe("You should always set the Memory limit when using Memoryswap limit, see usage");
    expect(bad({}, { Memory: 64 << 20, MemoryReservation: 128 << 20 })).toBe("Minimum memory limit can not be less than memory reservation limit, see usage");
    expect(bad({}, { NanoCpus: 1e9, CpuQuota: 1000 })).toBe("Conflicting options: Nano CPUs and CPU Quota cannot both be set");
    expect(bad({}, { NanoCpus: 3e9 })).toBe("Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available");
    expect(bad({}, { CpuPeriod: 100 })).toBe("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
    expect(bad({}, { CpusetCpus: "99" })).toBe("Requested CPUs are not available - requested 99, available: 0-1");
    expect(bad({}, { CpuShares: 1 })).toBe("the minimum allowed cpu-shares is 2");
    expect(bad({}, { MemorySwappiness: 101 })).toBe("Invalid value: 101, valid memory swappiness range is 0-100");
  });

  test("devices and device cgroup rules", () => {
    const s = build({}, { Devices: [
      { PathOnHost: "/dev/zero", PathInContainer: "/dev/myzero", CgroupPermissions: "rw" },
      { PathOnHost: "/dev/null", PathInContainer: "", CgroupPermissions: "" },
      { PathOnHost: "/dev/snd", PathInContainer: "/dev/snd", CgroupPermissions: "rwm" },
    ], DeviceCgroupRules: ["c 1:3 mr", "b *:* m"] }).spec.linux!;
    expect(s.devices).toEqual([
      { path: "/dev/myzero", type: "c", major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
      { path: "/dev/null", type: "c", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
      { path: "/dev/snd/pcm", type: "c", major: 116, minor: 2, fileMode: 0o666, uid: 0, gid: 0 },
    ]);
    expect(s.resources!.devices![0]).toEqual({ allow: false, access: "rwm" });
    expect(s.resources!.devices!.slice(-5)).toEqual([
      { allow: true, type: "c", major: 1, minor: 5, access: "rw" },
      { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
      { allow: true, type: "c", major: 116, minor: 2, access: "rwm" },
      { allow: true, type: "c", major: 1, minor: 3, access: "mr" },
      { allow: true, type: "b", major: -1, minor: -1, access: "m" },
    ]);
    expect(bad({}, { Devices: [{ PathOnHost: "/dev/nope" }] })).toBe('error gathering device information while adding custom device "/dev/nope": no such file or directory');
    expect(bad({}, { DeviceCgroupRules: ["x 1:2 r"] })).toBe("invalid device cgroup format 'x 1:2 r'");
  });

  test("sysctls: docker's defaults, the allowlist, host namespaces", () => {
    expect(build({}, { Sysctls: { "net.ipv4.ip_forward": "1", "kernel.msgmax": "65536" } }).spec.linux!.sysctl).toEqual({
      "net.ipv4.ip_unprivileged_port_start": "0", "net.ipv4.ping_group_range": "0 2147483647", "net.ipv4.ip_forward": "1", "kernel.msgmax": "65536",
    });
    expect(bad({}, { Sysctls: { "vm.swappiness": "1" } })).toBe("sysctl 'vm.swappiness=1' is not whitelisted");
    expect(bad({}, { NetworkMode: "host", Sysctls: { "net.ipv4.ip_forward": "1" } })).toBe("sysctl 'net.ipv4.ip_forward' not allowed in host network namespace");
    expect(build({}, { NetworkMode: "host" }).spec.linux!.sysctl).toBeUndefined();
  });

  test("namespaces for network/ipc/pid/uts modes; bridge as none; unknown networks", () => {
    const ns = (h: Record<string, unknown>) => build({}, h).spec.linux!.namespaces!.map((n) => n.type);
    expect(ns({})).toEqual(["mount", "network", "uts", "pid", "ipc"]);
    expect(ns({ NetworkMode: "host" })).toEqual(["mount", "uts", "pid", "ipc"]);
    expect(ns({ PidMode: "host", IpcMode: "host", UTSMode: "host" })).toEqual(["mount", "network"]);
    expect(ns({ CgroupnsMode: "private" })).toContain("cgroup");
    const host = build({}, { NetworkMode: "host" });
    expect(host.spec.hostname).toBe("thehost");
    expect(host.spec.process!.env).toContain("HOSTNAME=thehost");
    expect(build({}, { UTSMode: "host" }).spec.hostname).toBeUndefined();
    const br = build({}, { NetworkMode: "default" });
    expect(br.spec.linux!.namespaces!.map((n) => n.type)).toContain("network");
    expect(br.warnings[0]).toContain("not supported yet");
    expect(bad({}, { NetworkMode: "bridge" }, { bridgeAs: "refuse" })).toContain("not supported yet");
    const quiet = makeSpecBuilder({ bridgeAs: "none-quiet" })(input({}, { NetworkMode: "default" }));
    expect(quiet.warnings).toEqual([]);
    expect(quiet.spec.linux!.namespaces!.map((n) => n.type)).toContain("network");
    // a named network: looked up at start (a 404 then), not at create, where the CLI would read a 404 as "no such image"
    expect(err(() => build({}, { NetworkMode: "mynet" }, { phase: "start" })).status).toBe(404);
    expect(build({}, { NetworkMode: "mynet" }, { phase: "create" }).spec.linux!.namespaces!.map((n) => n.type)).toContain("network");
    expect(bad({}, { IpcMode: "bogus" })).toBe("Invalid IPC mode: bogus");
    expect(bad({}, { PidMode: "bogus" })).toBe("Invalid PID mode: bogus");
  });

  test("annotations, cgroups path, and a spec Berth's own validator accepts", () => {
    const out = build({ Tty: true, User: "alice" }, { Annotations: { "a.b": "c" }, Privileged: false, CapAdd: ["SYS_ADMIN"], Binds: ["/srv/data:/d:ro"], Memory: 64 << 20, Ulimits: [{ Name: "nofile", Soft: 10, Hard: 10 }] });
    expect(out.spec.annotations).toEqual({ "a.b": "c" });
    expect(out.spec.linux!.cgroupsPath).toBe("/berth/x");
    expect(() => validateSpec(JSON.parse(JSON.stringify(out.spec)))).not.toThrow();
    expect(() => validateSpec(JSON.parse(JSON.stringify(build({}, { Privileged: true }).spec)))).not.toThrow();
    expect(cgroupsPathFor("abc", {}, "/berth")).toBe("/berth/abc");
    expect(cgroupsPathFor("abc", { CgroupParent: "my/parent" }, "/berth")).toBe("/my/parent/abc");
    expect(err(() => cgroupsPathFor("abc", { CgroupParent: "../../etc" }, "/berth")).status).toBe(400);
  });
});

describe("per-container files", () => {
  test("/etc/hosts: localhost lines, ExtraHosts; host network uses the host's file", () => {
    expect(hostsFile({ extraHosts: ["foo:1.2.3.4", "bar=::1"] })).toBe(
      "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n1.2.3.4\tfoo\n::1\tbar\n");
    expect(hostsFile({ networkMode: "host", hostHosts: "127.0.0.1 vm\n" })).toBe("127.0.0.1 vm\n");
    expect(hostsFile({ address: { ip: "10.0.0.2", names: ["h"] } }).endsWith("10.0.0.2\th\n")).toBe(true);
    expect(err(() => hostsFile({ extraHosts: ["foo:notanip"] })).message).toBe('invalid IP address in add-host: "notanip"');
    expect(bad({}, { ExtraHosts: ["foo"] })).toContain("invalid IP address in add-host");
  });
  test("containerFiles: all three from a HostConfig; host network keeps the host's files", () => {
    const f = containerFiles({ hostConfig: { ExtraHosts: ["a:10.0.0.1"], Dns: ["9.9.9.9"] }, hostname: "h1", hostHosts: "127.0.0.1 vm\n", hostResolvConf: "nameserver 127.0.0.53\n" });
    expect(f.hostname).toBe("h1\n");
    expect(f.hosts.endsWith("10.0.0.1\ta\n")).toBe(true);
    expect(f.resolvConf).toBe("nameserver 9.9.9.9\n");
    const h = containerFiles({ hostConfig: { NetworkMode: "host" }, hostname: "vm", hostHosts: "127.0.0.1 vm\n", hostResolvConf: "nameserver 127.0.0.53\n" });
    expect(h).toEqual({ hosts: "127.0.0.1 vm\n", hostname: "vm\n", resolvConf: "nameserver 127.0.0.53\n" });
  });

  test("resolv.conf: loopback nameservers dropped (Google's as a fallback), --dns replaces", () => {
    const host = "# c\nnameserver 127.0.0.53\nnameserver 10.0.0.1\nsearch lan\noptions edns0\n";
    expect(resolvConf({ host })).toBe("# c\nnameserver 10.0.0.1\nsearch lan\noptions edns0\n");
    expect(resolvConf({ host: "nameserver 127.0.0.53\n" })).toBe("nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    expect(resolvConf({ host, networkMode: "host" })).toBe(host);
    expect(resolvConf({ host, dns: ["1.1.1.1"], dnsSearch: ["x.y"] })).toBe("# c\nnameserver 1.1.1.1\nsearch x.y\noptions edns0\n");
  });
});

describe("the CLI's real create body (docker-api-map.md, Appendix B)", () => {
  const body = {
    Hostname: "myhost", Domainname: "", User: "1000:1000", AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false,
    OpenStdin: false, StdinOnce: false, Env: ["FOO=bar"], Cmd: ["-c", "id; pwd"], Image: "busybox", Volumes: {}, WorkingDir: "/data",
    Entrypoint: ["/bin/sh"], OnBuild: null, Labels: {},
    HostConfig: {
      Binds: ["/host/dir:/data"], ContainerIDFile: "", LogConfig: { Type: "", Config: {} }, NetworkMode: "default", PortBindings: {},
      RestartPolicy: { Name: "no", MaximumRetryCount: 0 }, AutoRemove: true, VolumeDriver: "", VolumesFrom: null, ConsoleSize: [0, 0],
      CapAdd: null, CapDrop: ["ALL"], CgroupnsMode: "", Dns: [], DnsOptions: [], DnsSearch: [], ExtraHosts: null, GroupAdd: null,
      IpcMode: "", Cgroup: "", Links: null, OomScoreAdj: 0, PidMode: "", Privileged: false, PublishAllPorts: false, ReadonlyRootfs: true,
      SecurityOpt: null, UTSMode: "", UsernsMode: "", ShmSize: 0, Isolation: "", CpuShares: 0, Memory: 67108864, NanoCpus: 500000000,
      CgroupParent: "", BlkioWeight: 0, BlkioWeightDevice: [], CpuPeriod: 0, CpuQuota: 0, CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0,
      CpusetCpus: "", CpusetMems: "", Devices: [], DeviceCgroupRules: null, DeviceRequests: null, MemoryReservation: 0, MemorySwap: 0,
      MemorySwappiness: -1, OomKillDisable: false, PidsLimit: 50, Ulimits: [], CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0,
      IOMaximumBandwidth: 0, MaskedPaths: null, ReadonlyPaths: null,
    },
  };
  test("builds what dockerd would run", () => {
    const { HostConfig, ...config } = body;
    const out = buildSpec(input(config, HostConfig));
    const s = out.spec;
    expect(s.process!.args).toEqual(["/bin/sh", "-c", "id; pwd"]);
    expect(s.process!.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000, 50] });
    expect(s.process!.cwd).toBe("/data");
    expect(s.process!.env).toEqual(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=myhost", "FOO=bar"]);
    expect(s.process!.capabilities).toEqual({ bounding: [] });
    expect(s.hostname).toBe("myhost");
    expect(s.root!.readonly).toBe(true);
    expect(s.linux!.resources!.memory).toEqual({ limit: 67108864, swap: 134217728 });
    expect(s.linux!.resources!.cpu).toEqual({ period: 100000, quota: 50000 });
    expect(s.linux!.resources!.pids).toEqual({ limit: 50 });
    expect(s.mounts!.find((m) => m.destination === "/data")).toEqual({ destination: "/data", type: "bind", source: "/host/dir", options: ["rbind", "rprivate"] });
    expect(out.mkdirs).toEqual(["/host/dir"]);
    expect(out.warnings.length).toBe(1); // the default network, as none
    expect(s.linux!.seccomp!.syscalls!.flatMap((x) => x.names)).not.toContain("chroot");
  });
  test("unsupported requests are refused, not ignored", () => {
    expect(bad({}, { VolumesFrom: ["other"] })).toContain("VolumesFrom is not supported yet");
    expect(bad({}, { Links: ["db:db"] })).toContain("links are not supported yet");
    expect(build({}, { PortBindings: { "80/tcp": [{ HostIp: "", HostPort: "8080" }], "81/tcp": [] } }).warnings).toEqual(["port publishing is not supported yet: 80/tcp not published"]);
    expect(build({}, { PortBindings: {} }).warnings).toEqual([]);
    expect(bad({}, { DeviceRequests: [{ Driver: "", Capabilities: [["gpu"]] }] })).toBe('could not select device driver "" with capabilities: [["gpu"]]');
  });
});
