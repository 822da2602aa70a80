// Client libraries against berthd, unmodified: docker-py (Debian's python3-docker).
import { describe, expect, it } from "bun:test";
import { Berthd, berthdSkipReason, berthdForSuite } from "../helpers/berthd.ts";
import { REPO } from "../helpers/rootfs.ts";

const skip = berthdSkipReason();
const python = Bun.which("python3");
const hasDockerPy = !!python && Bun.spawnSync([python, "-c", "import docker"]).exitCode === 0;

describe.skipIf(!!skip || !hasDockerPy)("docker-py against berthd", () => {
  const { d } = berthdForSuite("py");

  it("create, start, attach, logs, wait, run --rm, rm", () => {
    const r = Bun.spawnSync([python!, `${REPO}/test/fixtures/clients/dockerpy_lifecycle.py`, `unix://${d.sock}`], { stdout: "pipe", stderr: "pipe", timeout: 60_000 });
    const out = r.stdout.toString();
    if (r.exitCode !== 0) console.error(r.stderr.toString());
    expect(out.split("\n").filter((l) => l.startsWith("ok ")).map((l) => l.split(" ")[1])).toEqual(["ping", "create", "start", "attach", "wait", "logs", "inspect", "run", "rm"]);
    expect(r.exitCode).toBe(0);
  });

  it("images: load's failure reaches docker-py as ImageLoadError, tag with repo=name:tag", () => {
    const script = [
      "import docker, sys",
      `c = docker.DockerClient(base_url=sys.argv[1])`,
      "try:",
      "    c.images.load(b'this is not a tar archive' * 40)",
      "    print('no error')",
      "except docker.errors.ImageLoadError as e:",
      "    print('ImageLoadError', 'tar' in str(e))",
      "img = c.images.get('busybox:latest')",
      "img.tag('pytag:v1')",
      "print(sorted(c.images.get('pytag:v1').tags))",
    ].join("\n");
    const r = Bun.spawnSync([python!, "-c", script, `unix://${d.sock}`], { stdout: "pipe", stderr: "pipe", timeout: 60_000 });
    if (r.exitCode !== 0) console.error(r.stderr.toString());
    expect(r.stdout.toString()).toBe("ImageLoadError True\n['busybox:latest', 'pytag:v1']\n");
  });
});
