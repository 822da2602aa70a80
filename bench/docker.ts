// npm run bench (second part): `docker run --rm busybox true` with --runtime berth vs the default
// runc, under one private dockerd (test/helpers/dockerd.ts), in the same run: sequential latency,
// and N containers started concurrently.
import { Dockerd, dockerSkipReason } from "../test/helpers/dockerd.ts";

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf("--runs") + 1]) || 20;
const skip = dockerSkipReason();
if (skip) {
  console.log(`docker benchmark skipped: ${skip}`);
  process.exit(0);
}
const repo = new URL("..", import.meta.url).pathname;
const d = await Dockerd.start({ runtimes: { berth: `${repo}bin/berth` } });
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
try {
  d.importBusybox();
  const env = { ...process.env, ...d.clientEnv() };
  const once = (rt: string) => {
    const t0 = performance.now();
    const r = Bun.spawnSync(["/usr/bin/docker", "run", "--rm", "--runtime", rt, "busybox", "true"], { env, stdout: "ignore", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`docker run --runtime ${rt} failed: ${r.stderr}`);
    return performance.now() - t0;
  };
  const seq: Record<string, number[]> = { berth: [], runc: [] };
  for (const rt of ["berth", "runc"]) once(rt); // warm-up
  // Interleaved, so drift on a noisy machine hits both alike.
  for (let i = 0; i < runs; i++) for (const rt of ["berth", "runc"]) seq[rt].push(once(rt));
  console.log(`\ndocker run --rm busybox true, ${runs} sequential each, interleaved (one private dockerd)`);
  console.log("runtime   median ms    p90 ms");
  for (const [rt, t] of Object.entries(seq)) console.log(`${rt.padEnd(8)} ${q(t, 0.5).toFixed(1).padStart(9)} ${q(t, 0.9).toFixed(1).padStart(9)}`);
  console.log(`berth/runc median ratio: ${(q(seq.berth, 0.5) / q(seq.runc, 0.5)).toFixed(2)}`);

  const conc = 10;
  console.log(`\n${conc} concurrent docker run --rm busybox true (wall time for all)`);
  const wall: Record<string, number> = {};
  for (const rt of ["berth", "runc"]) {
    const t0 = performance.now();
    const ps = Array.from({ length: conc }, () => Bun.spawn(["/usr/bin/docker", "run", "--rm", "--runtime", rt, "busybox", "true"], { env, stdout: "ignore", stderr: "ignore" }));
    const codes = await Promise.all(ps.map((p) => p.exited));
    if (codes.some((c) => c !== 0)) throw new Error(`a concurrent docker run --runtime ${rt} failed`);
    wall[rt] = performance.now() - t0;
    console.log(`${rt.padEnd(8)} ${wall[rt].toFixed(0).padStart(9)} ms`);
  }
  console.log(`berth/runc ratio: ${(wall.berth / wall.runc).toFixed(2)}`);
} finally {
  d.stop();
}
