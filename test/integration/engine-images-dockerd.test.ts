// Interop with Debian's dockerd (a private one, test/helpers/dockerd.ts): an image Berth saves
// loads into dockerd with the same ID and layers, and what `docker save` writes loads into
// Berth with dockerd's ID, tags and files.
import { describe, expect, test, beforeAll, afterAll } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import crypto from "node:crypto";
import type { TarHeader as Headers } from "../../src/engine/archive/pack.ts";
import { packDir, packStream } from "../../src/engine/archive/pack.ts";
import { Dockerd, dockerSkipReason, makeBusyboxRootfs } from "../helpers/dockerd.ts";
import { imageServiceAt } from "../helpers/images.ts";

const skip = dockerSkipReason();
const work = fs.mkdtempSync(`${os.tmpdir()}/berth-images-dockerd-`);
let dockerd: Dockerd | undefined;
beforeAll(async () => { if (!skip) dockerd = await Dockerd.start(); }, 120_000);
afterAll(() => { dockerd?.stop(); fs.rmSync(work, { recursive: true, force: true }); });

async function bytesOf(r: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}
function service(name: string) {
  return imageServiceAt(`${work}/${name}`).svc;
}
const sha = (b: Uint8Array | string) => `sha256:${crypto.createHash("sha256").update(b).digest("hex")}`;

describe.skipIf(!!skip)("images with Debian's dockerd", () => {
  test("berth save → docker load: same image ID and layers, tags kept", async () => {
    const svc = service("out");
    const rootfs = `${work}/bb`;
    makeBusyboxRootfs(rootfs);
    const id = await svc.importTar(await bytesOf(packDir(rootfs)), { repo: "berthsave/busybox", changes: ['CMD ["sh"]', "ENV A=b"] });
    // a second, two-layer image with a whiteout on top of the first layer
    const top = await bytesOf(packStream(async (add) => {
      await add({ name: "etc/.wh.group", type: "file", mode: 0o644, mtime: new Date(1e12) } as Headers, "");
    }));
    const base = svc.inspect(id) as any;
    const cfg2 = JSON.stringify({ architecture: "amd64", os: "linux", created: "2024-05-06T07:08:09Z", config: { Cmd: ["sh"] },
      rootfs: { type: "layers", diff_ids: [base.RootFS.Layers[0], sha(top)] } });
    const baseTar = fs.readFileSync(`${work}/out/image/blobs/sha256/${base.RootFS.Layers[0].slice(7)}`);
    const arch = await bytesOf(packStream(async (add) => {
      const f = (name: string, body: string | Buffer) => add({ name, type: "file", mode: 0o644, mtime: new Date(1e12) } as Headers, body);
      await f("a.tar", baseTar); await f("b.tar", top); await f("c.json", cfg2);
      await f("manifest.json", JSON.stringify([{ Config: "c.json", RepoTags: ["berthsave/two:1"], Layers: ["a.tar", "b.tar"] }]));
    }));
    const id2 = (await svc.load(arch)).ids[0];
    const file = `${work}/saved.tar`;
    fs.writeFileSync(file, await bytesOf(svc.save(["berthsave/busybox:latest", "berthsave/two:1"])));
    const r = dockerd!.docker(["load", "-i", file]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("Loaded image: berthsave/busybox:latest");
    expect(r.stdout).toContain("Loaded image: berthsave/two:1");
    expect(dockerd!.docker(["image", "inspect", "-f", "{{.Id}}", "berthsave/busybox"]).stdout.trim()).toBe(id);
    expect(dockerd!.docker(["image", "inspect", "-f", "{{.Id}}", "berthsave/two:1"]).stdout.trim()).toBe(id2);
    const layers = JSON.parse(dockerd!.docker(["image", "inspect", "-f", "{{json .RootFS.Layers}}", "berthsave/two:1"]).stdout);
    expect(layers).toEqual((svc.inspect(id2) as any).RootFS.Layers);
  }, 120_000);

  test("docker save → berth load: dockerd's ID, tags and files", async () => {
    dockerd!.importBusybox("fromdocker/busybox:latest");
    dockerd!.docker(["tag", "fromdocker/busybox:latest", "fromdocker/busybox:second"]);
    const want = dockerd!.docker(["image", "inspect", "-f", "{{.Id}}", "fromdocker/busybox"]).stdout.trim();
    const file = `${work}/docker-saved.tar`;
    const s = dockerd!.docker(["save", "-o", file, "fromdocker/busybox:latest", "fromdocker/busybox:second"]);
    expect(s.code).toBe(0);
    const svc = service("in");
    const res = await svc.load(fs.readFileSync(file));
    expect(res.ids).toEqual([want]);
    expect(res.messages.sort()).toEqual(["Loaded image: fromdocker/busybox:latest", "Loaded image: fromdocker/busybox:second"]);
    const img = svc.resolve("fromdocker/busybox:second");
    expect(img.config.config?.Cmd).toEqual(["sh"]);
    expect(fs.existsSync(`${img.layerDirs[0]}/bin/busybox`)).toBe(true);
    // and back: dockerd gets it again with the same ID after an rmi
    dockerd!.docker(["rmi", "fromdocker/busybox:latest", "fromdocker/busybox:second"]);
    fs.writeFileSync(file, await bytesOf(svc.save(["fromdocker/busybox"])));
    expect(dockerd!.docker(["load", "-i", file]).code).toBe(0);
    expect(dockerd!.docker(["image", "inspect", "-f", "{{.Id}}", "fromdocker/busybox:second"]).stdout.trim()).toBe(want);
  }, 120_000);

  test("rmi answers as dockerd's do, with a container using the image", async () => {
    dockerd!.importBusybox("rmitest:1");
    const id = dockerd!.docker(["image", "inspect", "-f", "{{.Id}}", "rmitest:1"]).stdout.trim();
    const file = `${work}/rmitest.tar`;
    dockerd!.docker(["save", "-o", file, "rmitest:1"]);
    const svc = service("rmi");
    await svc.load(fs.readFileSync(file));
    const cid = dockerd!.docker(["create", "rmitest:1"]).stdout.trim();
    expect(cid).toMatch(/^[a-f0-9]{64}$/);
    // the container holds the layers in both: dockerd through its RW layer, we through a pin
    svc.store.pinRootfs(cid, id, svc.resolve(id).diffIds);
    const inUse = (img: string) => (img === id ? { containerId: cid, running: false } : undefined);
    const ours = (ref: string, force = false) => {
      try {
        return { out: svc.remove(ref, { force, inUse }).map((r) => (r.Untagged ? `Untagged: ${r.Untagged}` : `Deleted: ${r.Deleted}`)).join("\n"), err: "" };
      } catch (e) {
        // The CLI words a 404 as "Error: …" and other statuses as "Error response from daemon: …".
        return { out: "", err: `${(e as { status?: number }).status === 404 ? "Error" : "Error response from daemon"}: ${(e as Error).message}` };
      }
    };
    const theirs = (ref: string, force = false) => {
      const r = dockerd!.docker(["rmi", ...(force ? ["-f"] : []), ref]);
      return { out: r.stdout.trim(), err: r.stderr.trim() };
    };
    const both = (tagArgs: [string, string]) => { dockerd!.docker(["tag", ...tagArgs]); svc.tag(tagArgs[0], tagArgs[1]); };
    both(["rmitest:1", "rmitest:2"]);
    const steps: [string, boolean][] = [
      [id.slice(7, 19), false], // referenced in multiple repositories
      ["rmitest:2", false],     // only untags
      ["rmitest:1", false],     // last name, container uses it: must force
      [id.slice(7, 19), false], // by ID: stopped container
      ["rmitest:1", true],      // forced: untag and delete, layers stay for the container
      ["rmitest:1", false],     // gone: 404
    ];
    for (const [ref, force] of steps) expect({ ref, force, ...ours(ref, force) }).toEqual({ ref, force, ...theirs(ref, force) });
    dockerd!.docker(["rm", cid]);
  }, 120_000);

  test("inspect, list and history of the same image have dockerd's shapes and values", async () => {
    dockerd!.importBusybox("shapes:1");
    const file = `${work}/shapes.tar`;
    dockerd!.docker(["save", "-o", file, "shapes:1"]);
    const svc = service("shapes");
    await svc.load(fs.readFileSync(file));
    const api = async (path: string) => (await fetch(`http://localhost/v1.41${path}`, { unix: dockerd!.sock } as RequestInit)).json();
    const theirs = await api("/images/shapes:1/json") as any;
    const ours = svc.inspect("shapes:1") as any;
    expect(Object.keys(ours)).toEqual(Object.keys(theirs));
    for (const k of ["Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created", "Container", "ContainerConfig", "Author", "Config", "Architecture", "Os", "RootFS"]) {
      expect({ [k]: ours[k] }).toEqual({ [k]: theirs[k] });
    }
    expect(ours.GraphDriver.Name).toBe(theirs.GraphDriver.Name);
    // dockerd measures the unpacked layer on disk; we add up file sizes: same order of magnitude
    expect(Math.abs(ours.Size - theirs.Size) / theirs.Size).toBeLessThan(0.05);
    const lt = ((await api(`/images/json?filters=${encodeURIComponent('{"reference":{"shapes":true}}')}`)) as any[])[0];
    const lo = svc.list({ filters: { reference: { shapes: true } } })[0] as any;
    expect(Object.keys(lo)).toEqual(Object.keys(lt));
    expect({ ...lo, Size: 0, VirtualSize: 0 }).toEqual({ ...lt, Size: 0, VirtualSize: 0 });
    const ht = (await api("/images/shapes:1/history")) as any[];
    const ho = svc.history("shapes:1") as any[];
    expect(ho.map((h) => ({ ...h, Size: 0 }))).toEqual(ht.map((h) => ({ ...h, Size: 0 })));
  }, 120_000);

  test("docker import of the same tarball: our image config matches dockerd's but for times and versions", async () => {
    const rootfs = `${work}/bb-import`;
    makeBusyboxRootfs(rootfs);
    const tar = `${work}/bb-import.tar`;
    fs.writeFileSync(tar, await bytesOf(packDir(rootfs)));
    const changes = ['CMD ["sh"]', "ENV A=1 B=2", "WORKDIR /srv", "EXPOSE 80", "LABEL k=v", "VOLUME /data", "USER nobody", "ENTRYPOINT /bin/sh -c"];
    const r = dockerd!.docker(["import", ...changes.flatMap((c) => ["-c", c]), "-m", "msg", tar, "imp:1"]);
    expect(r.code).toBe(0);
    const svc = service("import");
    await svc.importTar(Bun.file(tar).stream(), { repo: "imp:1", changes, message: "msg" });
    const theirs = JSON.parse(dockerd!.docker(["image", "inspect", "imp:1"]).stdout)[0];
    const ours = svc.inspect("imp:1") as any;
    const strip = (x: any) => ({ ...x, Id: "", Created: "", DockerVersion: "", Size: 0, VirtualSize: 0, GraphDriver: null, Metadata: null });
    expect(strip(ours)).toEqual(strip(theirs));
    // same tar bytes, same DiffID
    expect(ours.RootFS.Layers).toEqual(theirs.RootFS.Layers);
  }, 120_000);
});
