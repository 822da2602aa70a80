// npm run bench: container start latency, berth vs runc (and crun when it runs here), in one run.
//   bun bench/run.ts [--runs N]
// Each runtime runs busybox `true` N times sequentially from the same bundle (runc spec defaults,
// no terminal), each with its own state root; we time the whole CLI call, as a user or containerd
// sees it, and print median and p90 per runtime and the ratios berth/runc.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { makeRootfs } from "../test/helpers/bundle.ts";
import { defaultSpec } from "../src/runtime/spec/defaults.ts";

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf("--runs") + 1]) || 50;
const repo = path.resolve(import.meta.dir, "..");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "berth-bench-"));
const bundle = `${work}/bundle`;
makeRootfs(`${bundle}/rootfs`);
const spec = defaultSpec();
spec.process!.terminal = false;
spec.process!.args = ["true"];
fs.writeFileSync(`${bundle}/config.json`, JSON.stringify(spec, null, 2));

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) if (fs.existsSync(`${dir}/${cmd}`)) return `${dir}/${cmd}`;
  return undefined;
}

interface Runtime { name: string; argv(id: string, root: string): string[]; bin: string }
const runtimes: Runtime[] = [{ name: "berth", bin: `${repo}/bin/berth`, argv: (id, root) => [`${repo}/bin/berth`, "--root", root, "run", "--bundle", bundle, id] }];
for (const name of ["runc", "crun"]) {
  const bin = which(name);
  if (bin) runtimes.push({ name, bin, argv: (id, root) => [bin, "--root", root, "run", "--bundle", bundle, id] });
  else console.log(`${name}: not installed, skipped`);
}

function once(rt: Runtime, i: number): { ms: number; ok: boolean; err: string } {
  const root = `${work}/root-${rt.name}`;
  const t0 = performance.now();
  const r = Bun.spawnSync(rt.argv(`bench-${i}`, root), { stdout: "ignore", stderr: "pipe" });
  return { ms: performance.now() - t0, ok: r.exitCode === 0, err: r.stderr.toString().trim() };
}

const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const results: Record<string, number[]> = {};
for (const rt of runtimes) {
  const first = once(rt, -1); // warm-up, and tells whether the runtime works on this machine
  if (!first.ok) {
    console.log(`${rt.name}: cannot run containers here: ${first.err.split("\n").pop()}`);
    continue;
  }
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = once(rt, i);
    if (!r.ok) throw new Error(`${rt.name} failed: ${r.err}`);
    times.push(r.ms);
  }
  results[rt.name] = times;
}
// The create + start + delete cycle (how youki and crun publish their figures): three CLI calls,
// as containerd makes them. The container runs `true`, so delete finds it stopped.
const cycles: Record<string, number[]> = {};
for (const rt of runtimes) {
  if (!results[rt.name]) continue;
  const root = `${work}/cycle-${rt.name}`;
  const times: number[] = [];
  for (let i = -1; i < runs; i++) {
    const id = `cycle-${i + 1}`;
    const t0 = performance.now();
    for (const args of [["create", "--bundle", bundle, id], ["start", id]]) {
      // The created process inherits create's stdio: a pipe would block us until it exits.
      const r = Bun.spawnSync([rt.bin, "--root", root, ...args], { stdout: "ignore", stderr: Bun.file(`${work}/stderr`) });
      if (r.exitCode !== 0) throw new Error(`${rt.name} ${args[0]} failed: ${fs.readFileSync(`${work}/stderr`, "utf8")}`);
    }
    // delete needs the container stopped: `true` exits at once; wait for it like containerd would.
    for (let k = 0; k < 1000; k++) {
      const st = Bun.spawnSync([rt.bin, "--root", root, "state", id], { stdout: "pipe", stderr: "ignore" });
      if (st.exitCode !== 0 || JSON.parse(st.stdout.toString()).status === "stopped") break;
    }
    const d = Bun.spawnSync([rt.bin, "--root", root, "delete", id], { stdout: "ignore", stderr: "pipe" });
    if (d.exitCode !== 0) throw new Error(`${rt.name} delete failed: ${d.stderr}`);
    if (i >= 0) times.push(performance.now() - t0);
  }
  cycles[rt.name] = times;
}

const table = (title: string, r: Record<string, number[]>) => {
  console.log(`\n${title}`);
  console.log("runtime   median ms    p90 ms");
  for (const [name, t] of Object.entries(r)) console.log(`${name.padEnd(8)} ${q(t, 0.5).toFixed(1).padStart(9)} ${q(t, 0.9).toFixed(1).padStart(9)}`);
  if (r.berth && r.runc) console.log(`berth/runc median ratio: ${(q(r.berth, 0.5) / q(r.runc, 0.5)).toFixed(2)}`);
  if (r.berth && r.crun) console.log(`berth/crun median ratio: ${(q(r.berth, 0.5) / q(r.crun, 0.5)).toFixed(2)}`);
};
console.log(`\n${runs} sequential containers of busybox \`true\` per runtime (${os.cpus().length} CPUs, ${os.release()})`);
table("run (one CLI call)", results);
table("create + start + state* + delete (containerd's calls)", cycles);
fs.rmSync(work, { recursive: true, force: true });
