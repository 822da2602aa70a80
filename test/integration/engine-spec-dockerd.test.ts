// Live check of the spec builder against Debian's dockerd (opt-in: BERTH_SPEC_DOCKERD=1; it starts
// a private dockerd + containerd, ~20 s): for a few `docker run` command lines, the config.json
// dockerd hands runc (through a logging runtime) and Berth's spec for the same Config+HostConfig
// (from `docker inspect`) must have equal digests once the deliberate differences are applied.
// The recorded version of this comparison is test/unit/engine-spec-docker.test.ts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import { buildSpec, realHost } from "../../src/engine/containers/spec/index.ts";
import { Dockerd, dockerSkipReason, RUNC } from "../helpers/dockerd.ts";
import { digest, dockerdAsBerth, withoutNewerCaps } from "../helpers/spec-normalise.ts";

const skip = process.env.BERTH_SPEC_DOCKERD !== "1" ? "set BERTH_SPEC_DOCKERD=1" : dockerSkipReason();
let d: Dockerd;

beforeAll(async () => {
  if (skip) return;
  d = await Dockerd.start({ loggingRuntimes: { logrunc: RUNC! } });
  d.importBusybox();
  fs.mkdirSync(`${d.dir}/src`);
}, 60_000);
afterAll(() => {
  if (!d) return;
  d.stop();
  expect(d.leftovers()).toEqual([]);
});

function compare(name: string, args: string[]) {
  const r = d.docker(["run", "--runtime", "logrunc", "--name", name, ...args, "busybox", "true"]);
  expect(r.stderr.replace(/.*level=error.*\n?/g, "")).toBe("");
  const ins = JSON.parse(d.docker(["inspect", name]).stdout)[0];
  const dir = d.callsDir("logrunc");
  const cfg = fs.readdirSync(dir).filter((f) => f.endsWith(".config.json"))
    .map((f) => JSON.parse(fs.readFileSync(`${dir}/${f}`, "utf8")))
    .find((s) => s.linux.cgroupsPath.endsWith(ins.Id));
  expect(cfg).toBeDefined();
  const root = `${d.dir}/busybox-like`;
  const out = buildSpec({
    id: ins.Id, config: ins.Config, hostConfig: { ...ins.HostConfig, MaskedPaths: ins.HostConfig.MaskedPaths?.length ? null : ins.HostConfig.MaskedPaths, ReadonlyPaths: ins.HostConfig.ReadonlyPaths?.length ? null : ins.HostConfig.ReadonlyPaths },
    image: {}, rootfs: root, files: { hostsPath: "/ctr/hosts", hostnamePath: "/ctr/hostname", resolvConfPath: "/ctr/resolv.conf" },
    cgroupsPath: "/x", phase: "start",
    passwd: "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n", group: "root:x:0:\nnogroup:x:65534:\n",
    host: realHost,
  });
  const theirs = dockerdAsBerth(digest(cfg, new RegExp(`^.*/containers/${ins.Id}/`)), ins.HostConfig);
  const ours = withoutNewerCaps(digest(out.spec, /^\/ctr\//));
  expect(ours).toEqual(theirs);
}

describe.skipIf(!!skip)("spec builder vs a live dockerd", () => {
  test("default", () => compare("spec-default", ["--network", "none"]));
  test("caps, user, env, workdir", () => compare("spec-user", ["--network", "none", "--cap-add", "SYS_ADMIN", "--cap-drop", "CHOWN", "-u", "nobody", "-e", "A=1", "-w", "/tmp"]));
  test("binds, tmpfs, read-only", () => compare("spec-mounts", ["--network", "none", "-v", `${d.dir}/src:/data:ro`, "--tmpfs", "/run", "--read-only"]));
  test("resources, ulimits, sysctls", () => compare("spec-res", ["--network", "none", "--memory", "64m", "--cpus", "1", "--pids-limit", "20", "--ulimit", "nofile=100:200", "--sysctl", "net.ipv4.ip_forward=1"]));
});
