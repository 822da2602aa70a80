// kill -9 in the middle of imports, loads and removals: reopening the store must find it
// consistent — every row's files present and verified, no file without a row, no tmp leftovers.
import { expect, test, afterAll } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import crypto from "node:crypto";
import { Database } from "bun:sqlite";
import { ImageService } from "../../src/engine/images/index.ts";

const REPO = new URL("../..", import.meta.url).pathname;
const BUN = `${REPO}node_modules/@oven/bun-linux-x64/bin/bun`;
const work = fs.mkdtempSync(`${os.tmpdir()}/berth-images-crash-`);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

// The child churns: imports (some sharing a layer), tag moves, removals, forever.
const CHILD = `
import { Database } from "bun:sqlite";
import { ImageService } from "${REPO}src/engine/images/index.ts";
import { packStream } from "${REPO}src/engine/archive/pack.ts";
const root = process.argv[2];
const db = new Database(root + "/berth.db"); db.run("PRAGMA journal_mode = WAL");
const svc = new ImageService(db, root);
const tarOf = async (i) => { const p = []; for await (const c of packStream(async (add) => {
  for (let k = 0; k < 20; k++) await add({ name: "d" + k + "/f", type: "file", mode: 0o644 }, Buffer.alloc(20000, i % 7)); })) p.push(c); return Buffer.concat(p); };
process.stdout.write("ready\\n");
for (let i = 0; ; i++) {
  await svc.importTar(await tarOf(i), { repo: "churn" + (i % 5) });
  if (i % 3 === 0) for (const img of svc.list({ filters: { dangling: ["true"] } })) svc.remove(img.Id);
}
`;

function checkConsistent(root: string): void {
  const db = new Database(`${root}/berth.db`);
  new ImageService(db, root); // opening sweeps
  const layers = (db.query("SELECT diff_id FROM img_layer").all() as { diff_id: string }[]).map((r) => r.diff_id);
  const images = (db.query("SELECT id FROM img_image").all() as { id: string }[]).map((r) => r.id);
  const hash = (p: string) => `sha256:${crypto.createHash("sha256").update(fs.readFileSync(p)).digest("hex")}`;
  for (const id of images) expect(hash(`${root}/image/blobs/sha256/${id.slice(7)}`)).toBe(id);
  for (const d of layers) {
    expect(fs.statSync(`${root}/layers/${d.slice(7)}`).isDirectory()).toBe(true);
    expect(hash(`${root}/image/blobs/sha256/${d.slice(7)}`)).toBe(d);
  }
  const onDisk = [...fs.readdirSync(`${root}/layers`).filter((n) => n !== "empty"), ...fs.readdirSync(`${root}/image/blobs/sha256`)].sort();
  expect(onDisk).toEqual([...layers.map((d) => d.slice(7)), ...layers.map((d) => d.slice(7)), ...images.map((i) => i.slice(7))].sort());
  expect(fs.readdirSync(`${root}/image/tmp`)).toEqual([]);
  const dangling = db.query("SELECT ref FROM img_tag WHERE image_id NOT IN (SELECT id FROM img_image)").all();
  expect(dangling).toEqual([]);
  const missing = db.query("SELECT diff_id FROM img_image_layer WHERE diff_id NOT IN (SELECT diff_id FROM img_layer)").all();
  expect(missing).toEqual([]);
  db.close();
}

test("kill -9 during churn, five times: the store reopens consistent", async () => {
  fs.writeFileSync(`${work}/child.ts`, CHILD);
  const root = `${work}/root`;
  fs.mkdirSync(root);
  for (let round = 0; round < 5; round++) {
    const child = Bun.spawn([BUN, `${work}/child.ts`, root], { stdout: "pipe", stderr: "pipe" });
    const reader = child.stdout.getReader();
    await reader.read(); // "ready"
    await Bun.sleep(150 + Math.floor(Math.random() * 400));
    child.kill("SIGKILL");
    await child.exited;
    checkConsistent(root);
  }
  const db = new Database(`${root}/berth.db`);
  expect((db.query("SELECT COUNT(*) AS n FROM img_image").get() as { n: number }).n).toBeGreaterThan(0);
  db.close();
}, 120_000);
