// Specs from berthd's spec builder (src/engine/containers/spec) run by Berth's runtime: a docker
// request's effects are visible inside the container (capabilities, user, read-only root,
// /etc files, tmpfs, rlimits, seccomp, privileged devices).
import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import { buildSpec, hostnameFile, hostsFile, resolvConf } from "../../src/engine/containers/spec/index.ts";
import { berth, CAN_RUN, makeBundle, uniqueId } from "../helpers/bundle.ts";
import { cgroupDirs, removeCgroupTree } from "../helpers/dockerd.ts";

const PARENT = `berth-ctrspec-${process.pid}`;
afterAll(() => {
  for (const d of cgroupDirs(PARENT)) removeCgroupTree(d);
});

function run(script: string, config: Record<string, unknown> = {}, hostConfig: Record<string, unknown> = {}) {
  const b = makeBundle(["true"]);
  const id = uniqueId("ctrspec");
  const files = { hostsPath: `${b.dir}/hosts`, hostnamePath: `${b.dir}/hostname`, resolvConfPath: `${b.dir}/resolv.conf` };
  const hc = { NetworkMode: "none", ...hostConfig };
  const out = buildSpec({
    id: id.padEnd(64, "0"), config: { Cmd: ["sh", "-c", script], ...config }, hostConfig: hc, image: {},
    rootfs: `${b.dir}/rootfs`, files, cgroupsPath: `/${PARENT}/${id}`,
    passwd: fs.readFileSync(`${b.dir}/rootfs/etc/passwd`, "utf8"), group: fs.readFileSync(`${b.dir}/rootfs/etc/group`, "utf8"),
  });
  fs.writeFileSync(files.hostsPath, hostsFile({ extraHosts: hc.ExtraHosts as string[] | undefined }));
  fs.writeFileSync(files.hostnamePath, hostnameFile(out.hostname));
  fs.writeFileSync(files.resolvConfPath, resolvConf({ host: "nameserver 127.0.0.1\nnameserver 10.1.2.3\n" }));
  for (const d of out.mkdirs) fs.mkdirSync(d, { recursive: true });
  b.spec = out.spec;
  b.write();
  const r = berth(["run", "--bundle", b.dir, id]);
  b.cleanup();
  return r;
}

const capEff = (out: string) => BigInt("0x" + /CapEff:\s*([0-9a-f]+)/.exec(out)![1]);
const bit = (n: number) => 1n << BigInt(n);

describe.skipIf(!CAN_RUN)("spec builder output under berth", () => {
  test("default: docker's 14 capabilities, generated /etc files, masked /proc/kcore, shm 64m", () => {
    // A masked path this kernel has (gVisor-like hosts lack /proc/kcore).
    const masked = ["/proc/kcore", "/proc/keys", "/proc/timer_list"].find((p) => fs.existsSync(p)) ?? "/proc/keys";
    const r = run(`grep CapEff /proc/self/status; cat /etc/hostname /etc/resolv.conf; grep -c localhost /etc/hosts; grep foo /etc/hosts; wc -c < ${masked}; grep /dev/shm /proc/mounts`, { Hostname: "myhost" }, { ExtraHosts: ["foo:1.2.3.4"] });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const caps = capEff(r.stdout);
    expect(caps & bit(21)).toBe(0n); // CAP_SYS_ADMIN
    expect(caps & bit(0)).toBe(bit(0)); // CAP_CHOWN
    expect(caps.toString(2).replace(/0/g, "").length).toBe(14);
    expect(r.stdout).toContain("myhost\nnameserver 10.1.2.3\n");
    expect(r.stdout).not.toContain("127.0.0.1\n");
    expect(r.stdout).toContain("1.2.3.4\tfoo");
    expect(r.stdout).toMatch(/\n0\n/); // masked: reads as empty
    expect(r.stdout).toMatch(/size=65536k/);
  });

  test("seccomp and capabilities: mount refused by default, allowed with CAP_SYS_ADMIN", () => {
    const script = "mkdir -p /m && mount -t tmpfs none /m && echo mounted";
    expect(run(script).stdout).not.toContain("mounted");
    const r = run(script, {}, { CapAdd: ["SYS_ADMIN"] });
    expect(r.stdout).toContain("mounted");
  });

  test("user, read-only root, tmpfs, ulimit, working dir, env", () => {
    const r = run("id -u; id -g; id -G; pwd; echo $FOO; ulimit -n; touch /x 2>/dev/null || echo ro-root; touch /t/ok && echo tmpfs-rw",
      { User: "nobody", WorkingDir: "/tmp", Env: ["FOO=bar"] },
      { ReadonlyRootfs: true, Tmpfs: { "/t": "size=1m,mode=1777" }, Ulimits: [{ Name: "nofile", Soft: 100, Hard: 200 }], GroupAdd: ["10"] });
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n").slice(0, 8)).toEqual(["65534", "65534", "65534 10", "/tmp", "bar", "100", "ro-root", "tmpfs-rw"]);
  });

  test("privileged: full capabilities, host devices, writable sysfs", () => {
    const r = run("grep CapEff /proc/self/status; ls /dev/zero /dev/full >/dev/null && echo devs; grep ' /sys ' /proc/mounts", {}, { Privileged: true });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(capEff(r.stdout) & bit(21)).toBe(bit(21));
    expect(r.stdout).toContain("devs");
    expect(r.stdout).toMatch(/ \/sys sysfs rw/);
  });

  test("a bind mount from -v, read-only and writable", () => {
    const src = fs.mkdtempSync("/tmp/berth-ctrspec-bind-");
    try {
      const r = run("echo hi > /rw/f && cat /ro/f && (echo x > /ro/g 2>/dev/null || echo ro-bind)", {}, { Binds: [`${src}:/rw`, `${src}:/ro:ro`] });
      expect(r.stdout).toBe("hi\nro-bind\n");
      expect(fs.readFileSync(`${src}/f`, "utf8")).toBe("hi\n");
    } finally {
      fs.rmSync(src, { recursive: true, force: true });
    }
  });
});
