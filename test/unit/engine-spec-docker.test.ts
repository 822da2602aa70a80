// Berth's spec builder against what Debian's dockerd 20.10.24 generated for the same requests
// (test/fixtures/engine-spec/dockerd.json, recorded with scripts/capture-docker-specs.ts and
// make-spec-fixtures.ts). Both sides go through the same digest (test/helpers/spec-normalise.ts);
// the deliberate differences are applied explicitly below, each with its reason, so any other
// drift fails.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { buildSpec, type HostAccess } from "../../src/engine/containers/spec/index.ts";
import { digest, dockerdAsBerth, INIT_PATH, withoutNewerCaps } from "../helpers/spec-normalise.ts";
import { CAPABILITIES } from "../../src/runtime/linux.ts";

const FIXTURE = JSON.parse(fs.readFileSync(path.join(import.meta.dir, "../fixtures/engine-spec/dockerd.json"), "utf8"));
const ID = "f".repeat(64);
// The image's files (test/helpers/rootfs.ts, which the recording imported as busybox).
const PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n";
const GROUP = "root:x:0:\nnogroup:x:65534:\n";
// Recorded on a host whose blkio cgroup has no weight file.
const BLKIO = false;
const HOST_DEVS: Record<string, [number, number]> = { "/dev/zero": [1, 5], "/dev/null": [1, 3], "/dev/full": [1, 7] };
const host: HostAccess = {
  exists: (p) => p.startsWith("/tmp/berth-dockerd-"),
  device: (p) => (HOST_DEVS[p] ? { path: p, type: "c", major: HOST_DEVS[p][0], minor: HOST_DEVS[p][1], fileMode: 0o666, uid: 0, gid: 0 } : undefined),
  devices: () => [],
  blkioWeight: () => BLKIO,
  hostname: () => "vm",
  caps: () => [...CAPABILITIES],
  cpus: () => ({ count: 2, cpuset: "0-1", mems: "0" }),
};

function ours(name: string) {
  const c = FIXTURE.cases[name];
  const out = buildSpec({
    id: ID, config: c.config, hostConfig: c.hostConfig, image: {}, rootfs: "/rootfs",
    files: { hostsPath: "/ctr/hosts", hostnamePath: "/ctr/hostname", resolvConfPath: "/ctr/resolv.conf" },
    cgroupsPath: "/berth/x", passwd: PASSWD, group: GROUP, host, initPath: INIT_PATH,
  });
  return { out, d: withoutNewerCaps(digest(out.spec, /^\/ctr\//)) };
}

function expected(name: string): Record<string, any> {
  return dockerdAsBerth(FIXTURE.cases[name].dockerd, FIXTURE.cases[name].hostConfig);
}

describe("spec builder vs dockerd 20.10 (recorded)", () => {
  for (const name of Object.keys(FIXTURE.cases)) {
    test(name, () => {
      const { d } = ours(name);
      expect(d).toEqual(expected(name));
    });
  }

  test("the fixture covers the command lines the brief lists", () => {
    for (const n of ["default", "privileged", "caps", "volumes", "tmpfs", "readonly", "resources", "user", "ulimit", "device", "sysctl", "host", "shm", "hostns", "tty", "seccompoff", "seccompfile"]) {
      expect(FIXTURE.cases[n]).toBeDefined();
    }
  });

  test("Init is reported to the lead (whose Path and Args leave it out)", () => {
    expect(ours("tty").out.init).toBe(true);
  });
});
