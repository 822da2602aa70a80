// Image commands through the stock docker CLI against berthd: import, tag, images, inspect,
// history, save, load, rmi, image prune — and the wording dockerd uses for the same cases.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import fs from "node:fs";
import { Berthd, berthdSkipReason } from "../helpers/berthd.ts";

const skip = berthdSkipReason();

describe.skipIf(!!skip)("berthd images with the docker CLI", () => {
  const d = new Berthd("img");
  const docker = (...a: string[]) => d.docker(a);
  let id = "";

  beforeAll(async () => {
    await d.start();
    id = await d.importBusybox();
  });
  afterAll(async () => {
    expect(await d.stop()).toEqual([]);
  });

  it("tags, lists (filters, -q, --format, --no-trunc) and inspects", async () => {
    expect((await docker("tag", "busybox:latest", "127.0.0.1:5000/team/bb:v1")).code).toBe(0);
    const missing = await docker("tag", "nope:1", "x:y");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("No such image: nope:1");
    const list = (await docker("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")).stdout.trim().split("\n").sort();
    expect(list).toEqual([`127.0.0.1:5000/team/bb:v1 ${id.slice(7, 19)}`, `busybox:latest ${id.slice(7, 19)}`]);
    expect((await docker("images", "-q", "--no-trunc")).stdout.trim().split("\n")).toEqual([id, id]);
    expect((await docker("images", "--filter", "reference=busybox", "--format", "{{.Repository}}")).stdout.trim()).toBe("busybox");
    expect((await docker("images", "--filter", "dangling=true", "-q")).stdout.trim()).toBe("");
    const j = JSON.parse((await docker("image", "inspect", "busybox")).stdout)[0];
    expect(j.Id).toBe(id);
    expect(j.RepoTags.sort()).toEqual(["127.0.0.1:5000/team/bb:v1", "busybox:latest"]);
    expect(j.RootFS.Type).toBe("layers");
    expect(j.RootFS.Layers).toHaveLength(1);
    expect((await docker("history", "-q", "busybox")).stdout.trim()).toBe(id.slice(7, 19));
  });

  it("save and load round-trip, with the same ID", async () => {
    const tar = `${d.dir}/saved.tar`;
    expect((await docker("save", "-o", tar, "busybox:latest")).code).toBe(0);
    expect(fs.statSync(tar).size).toBeGreaterThan(1_000_000);
    expect((await docker("rmi", "-f", "busybox:latest", "127.0.0.1:5000/team/bb:v1")).code).toBe(0);
    expect((await docker("images", "-q")).stdout.trim()).toBe("");
    const load = await docker("load", "-i", tar);
    expect(load.stdout.trim()).toBe("Loaded image: busybox:latest");
    expect((await docker("image", "inspect", "-f", "{{.Id}}", "busybox")).stdout.trim()).toBe(id);
    const none = await docker("save", "nope:1");
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("reference does not exist"); // dockerd's words
  });

  it("rmi: 409 while a container uses the only tag, untag of one of several, prune", async () => {
    await docker("create", "--name", "user", "busybox", "true");
    const busy = await docker("rmi", "busybox");
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/conflict: unable to remove repository reference "busybox" \(must force\) - container [0-9a-f]{12} is using its referenced image [0-9a-f]{12}/);
    await docker("tag", "busybox", "other:1");
    expect((await docker("rmi", "other:1")).stdout.trim()).toBe("Untagged: other:1");
    await docker("rm", "user");
    const rm = await docker("rmi", "busybox");
    expect(rm.stdout).toContain("Untagged: busybox:latest");
    expect(rm.stdout).toContain(`Deleted: ${id}`);
    expect((await docker("image", "prune", "-f")).code).toBe(0);
    const gone = await docker("rmi", "busybox");
    expect(gone.stderr).toContain("No such image: busybox");
  });

  it("refuses a hostile tarball on import with one line and keeps nothing", async () => {
    const evil = `${d.dir}/evil`;
    fs.mkdirSync(evil, { recursive: true });
    fs.writeFileSync(`${evil}/x`, "x");
    const tar = `${d.dir}/evil.tar`;
    // GNU tar with --transform makes an entry named ../escape
    Bun.spawnSync(["tar", "-C", evil, "-cf", tar, "--transform", "s,^x$,../escape,", "x"]);
    const r = await docker("import", tar, "evil:1");
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/\.\./);
    expect(fs.existsSync(`${d.dataRoot}/escape`)).toBe(false);
    expect((await docker("images", "-q")).stdout.trim()).toBe("");
  });

  it("API shapes by version; tag repo=name:tag; ps shows the ID once the name is gone", async () => {
    const img = await d.importBusybox("shapes:1");
    expect((await d.api("POST", `/v1.41/images/${img}/tag?repo=zz:t1`)).status).toBe(201);
    expect((await docker("image", "inspect", "-f", "{{.RepoTags}}", img)).stdout.trim()).toBe("[shapes:1 zz:t1]");
    const old = (await d.api("GET", "/v1.41/images/json")).json[0], now = (await d.api("GET", "/v1.45/images/json")).json[0];
    expect(["VirtualSize" in old, "VirtualSize" in now]).toEqual([true, false]);
    expect(now.RepoDigests).toEqual([]);
    const i41 = (await d.api("GET", `/v1.41/images/${img}/json`)).json, i45 = (await d.api("GET", `/v1.45/images/${img}/json`)).json;
    expect(["ContainerConfig" in i41, "ContainerConfig" in i45, "VirtualSize" in i45]).toEqual([true, false, false]);
    await docker("create", "--name", "shaped", "zz:t1", "true");
    expect((await docker("ps", "-a", "--format", "{{.Image}}")).stdout.trim()).toBe("zz:t1");
    expect((await docker("rmi", "-f", "zz:t1")).code).toBe(0);
    expect((await docker("ps", "-a", "--format", "{{.Image}}")).stdout.trim()).toBe(img.slice(7, 19));
    await docker("rm", "shaped");
  });
});
