// The seed workflow, command for command, with the stock docker CLI against a private berthd:
//   berthd -D & ; docker version ; docker import … busybox:latest ;
//   docker run --rm -i --privileged -e BUILDFLAGS -e DOCKER_DEBUG -v "$PWD/bundles:/go/src/bundles" -t busybox sh ;
//   mkdir -p /mycontainer/rootfs && cd /mycontainer ;
//   docker export $(docker create busybox) | tar -C rootfs -xf - ; berth spec && berth run mycontainerid
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import fs from "node:fs";
import { Berthd, berthdSkipReason, DOCKER_CLI } from "../helpers/berthd.ts";
import { BERTH } from "../helpers/rootfs.ts";

const skip = berthdSkipReason();
const SCRIPT = Bun.which("script");

/** Runs `cmd` on a pty (script(1)), feeding `input` to it; returns what the terminal showed. */
async function onPty(cmd: string, input: string, env: Record<string, string>, cwd?: string): Promise<{ code: number; out: string }> {
  const p = Bun.spawn([SCRIPT!, "-qefc", `stty cols 97 rows 31; ${cmd}`, "/dev/null"], {
    env: { ...env, TERM: "xterm" }, cwd, stdin: "pipe", stdout: "pipe", stderr: "pipe",
  });
  // Typed a little later, as a person would: the container's shell reads it once it runs.
  await Bun.sleep(600);
  p.stdin.write(input);
  p.stdin.flush();
  const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { code, out: out + err };
}

describe.skipIf(!!skip || !SCRIPT)("the seed workflow against berthd", () => {
  const d = new Berthd("seed");
  let work: string;

  beforeAll(async () => {
    await d.start();
    work = `${d.dir}/work`;
    fs.mkdirSync(`${work}/bundles`, { recursive: true });
  });
  afterAll(async () => {
    const left = await d.stop();
    expect(left).toEqual([]);
  });

  it("berthd -D logs each route it registers, then where it listens", () => {
    const log = d.log();
    expect(log).toContain('msg="Registering GET, /containers/{id}/json"');
    expect(log).toContain('msg="Registering POST, /containers/create"');
    expect(log).toContain(`msg="API listen on ${d.sock}"`);
  });

  it("docker version shows the Berth engine", async () => {
    const r = await d.docker(["version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Server: Berth/);
    expect(r.stdout).toMatch(/API version:\s+1\.45 \(minimum version 1\.24\)/);
    expect(r.stdout).toMatch(/Go version:\s+bun /);
    expect(r.stdout).toMatch(/OS\/Arch:\s+linux\/amd64/);
  });

  it("docker import makes busybox:latest with CMD sh", async () => {
    const id = await d.importBusybox();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const r = await d.docker(["image", "inspect", "-f", "{{json .Config.Cmd}}", "busybox:latest"]);
    expect(r.stdout.trim()).toBe('["sh"]');
  });

  it("runs the privileged dev container as dockerd does", async () => {
    const env = { ...d.env, BUILDFLAGS: "-tags seed", DOCKER_DEBUG: "1" };
    const script = [
      "echo caps=$(grep CapEff /proc/self/status | tr -d '\\t')",
      "echo seccomp=$(grep ^Seccomp: /proc/self/status | tr -d '\\t')",
      "echo flags=$BUILDFLAGS/$DOCKER_DEBUG",
      "test -c /dev/kmsg && echo devices=host",
      "touch /go/src/bundles/made-inside && echo bind=rw",
      "echo size=$(stty size)",
      "exit 7",
      "",
    ].join("\n");
    const r = await onPty(
      `${DOCKER_CLI} run --rm -i --privileged -e BUILDFLAGS -e DOCKER_DEBUG -v "$PWD/bundles:/go/src/bundles" -t busybox sh`,
      script, env, work,
    );
    // All capabilities berthd itself may hand out (this machine's bounding set lacks some).
    const hostBnd = /CapBnd:\s+([0-9a-f]+)/.exec(fs.readFileSync("/proc/self/status", "utf8"))![1];
    expect(r.out).toContain(`caps=CapEff:${hostBnd}`);
    expect(r.out).toContain("seccomp=Seccomp:0");
    expect(r.out).toContain("flags=-tags seed/1");
    expect(r.out).toContain("devices=host");
    expect(r.out).toContain("bind=rw");
    expect(r.out).toContain("size=31 97");
    expect(r.code).toBe(7);
    expect(fs.existsSync(`${work}/bundles/made-inside`)).toBe(true);
    // --rm: nothing left
    expect((await d.docker(["ps", "-aq"])).stdout.trim()).toBe("");
  });

  it("exports a created container into a bundle that berth spec && berth run runs", async () => {
    const bundle = `${work}/mycontainer`;
    fs.mkdirSync(`${bundle}/rootfs`, { recursive: true });
    const root = `${d.dir}/berth-root`;
    const r = await onPty(
      `cd ${bundle} && ${DOCKER_CLI} export $(${DOCKER_CLI} create busybox) | tar -C rootfs -xf - && ${BERTH} spec && ${BERTH} --root ${root} run mycontainerid`,
      "echo inside=$(cat /proc/1/cmdline); exit 0\n", d.env,
    );
    expect(r.out).toContain("inside=sh");
    expect(r.code).toBe(0);
    expect(fs.existsSync(`${bundle}/config.json`)).toBe(true);
    expect(fs.existsSync(`${bundle}/rootfs/bin/busybox`)).toBe(true);
    const ids = (await d.docker(["ps", "-aq"])).stdout.trim().split("\n").filter(Boolean);
    expect(ids).toHaveLength(1); // the created one, still there as with dockerd
  });
});
