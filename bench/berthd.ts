// npm run bench (third part): berthd against Debian's dockerd (with its containerd and runc), in
// the same run, both driven by the same stock docker CLI:
//   - `docker run --rm busybox true`, sequential, interleaved, medians
//   - 50 containers started concurrently (`docker run -d`), throughput, and the same 50 CLIs
//     against a stub daemon that does nothing: the part of the time that is the CLIs' own
//   - `docker ps -a` and `docker images` latency with 100 containers
//   - idle RSS of the daemon(s), and RSS per running container (monitor vs containerd-shim)
import fs from "node:fs";
import { Dockerd, dockerSkipReason } from "../test/helpers/dockerd.ts";
import { Berthd, DOCKER_CLI, berthdSkipReason, spawnerOf } from "../test/helpers/berthd.ts";
import { spawnStub } from "./stub-daemon.ts";

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf("--runs") + 1]) || 15;
const skip = dockerSkipReason() ?? berthdSkipReason();
if (skip) {
  console.log(`berthd benchmark skipped: ${skip}`);
  process.exit(0);
}
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

function rssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The machine's CPU time so far, in ticks per kind (/proc/stat's cpu line: user, nice, system, idle, iowait, ...). */
const cpuTicks = () => fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);

/**
 * Waits until the machine is idle (90% over 300 ms, at most 20 s): what a daemon left running
 * after the last phase (dockerd's network namespaces are torn down by the kernel in the
 * background, containerd collects garbage later) must not be billed to the next phase.
 */
async function quiesce(): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const a = cpuTicks();
    await Bun.sleep(300);
    const b = cpuTicks();
    const d = b.map((x, k) => x - a[k]);
    const total = d.reduce((x, y) => x + y, 0);
    if (total > 0 && d[3] / total >= 0.9) return;
  }
}

/** CPU time the whole machine has spent busy so far, ms (/proc/stat: all but idle and iowait). */
function busyMs(): number {
  const f = cpuTicks();
  const ticks = f.reduce((a, b) => a + b, 0) - f[3] - f[4];
  return ticks * 10; // USER_HZ 100
}

/** Run time of all of a process's threads so far, ms (schedstat: ns on a CPU). */
function threadsMs(pid: number): number {
  let ns = 0;
  for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]);
    } catch { /* gone */ }
  }
  return ns / 1e6;
}

/** pids of processes whose command line mentions `needle` (only ours: the needle is a private temp dir). */
function pidsMentioning(needle: string, name: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, "utf8");
      if (cmd.includes(needle) && cmd.includes(name)) out.push(Number(p));
    } catch { /* gone */ }
  }
  return out;
}

// Both exec roots (runtime state, sockets, monitor and shim files) on a tmpfs, as /run is on a
// usual host; this VM's /run sits on its ext4 disk, where the churn of small state files costs
// more in inode allocation than anything else berthd does.
const dockerd = await Dockerd.start({ tmpfsExecRoot: true });
// Both daemons at their default log level: berthd's -D (a line per request) is for the tests.
const berthd = new Berthd("bench", { tmpfsExecRoot: true, debug: false });
await berthd.start();
type Target = { name: string; env: Record<string, string> };
const targets: Target[] = [
  { name: "berthd", env: berthd.env },
  { name: "dockerd", env: { ...process.env, ...dockerd.clientEnv() } as Record<string, string> },
];
const cli = (t: Target, argv: string[], quiet = true) => {
  const r = Bun.spawnSync([DOCKER_CLI!, ...argv], { env: t.env, stdout: quiet ? "ignore" : "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${t.name}: docker ${argv.join(" ")} failed: ${r.stderr}`);
  return r.stdout?.toString() ?? "";
};
const time = (fn: () => void) => {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
};

let stubProc: Awaited<ReturnType<typeof spawnStub>> | undefined;
try {
  dockerd.importBusybox();
  await berthd.importBusybox();
  const dPids = pidsMentioning(dockerd.dir, "dockerd").concat(pidsMentioning(dockerd.dir, "containerd"))
    .filter((p) => !fs.readFileSync(`/proc/${p}/cmdline`, "utf8").includes("shim"));
  const daemonsRss = () => ({ berthd: rssKb(berthd.proc!.pid), dockerd: dPids.reduce((s, p) => s + rssKb(p), 0) });
  await Bun.sleep(1500); // berthd gives memory back 1 s after its last request
  const idle = daemonsRss();

  for (const t of targets) cli(t, ["run", "--rm", "busybox", "true"]); // warm-up
  const seq: Record<string, number[]> = { berthd: [], dockerd: [] };
  // The CLI's own cost (a Go binary starting, no daemon asked), interleaved too: a floor that
  // neither daemon can go below, to say how much of each figure is the daemon's.
  // The same command against a stub daemon that answers at once and runs nothing
  // (bench/stub-daemon.ts): the CLI's own share of a `docker run`, a floor no daemon goes below.
  const stub = (stubProc = await spawnStub());
  const stubTarget: Target = { name: "stub", env: stub.env };
  const floor: number[] = [];
  for (let i = 0; i < runs; i++) {
    for (const t of targets) seq[t.name].push(time(() => cli(t, ["run", "--rm", "busybox", "true"])));
    floor.push(time(() => cli(stubTarget, ["run", "--rm", "busybox", "true"])));
  }
  await Bun.sleep(1500);
  const afterRuns = daemonsRss();
  const spawnerRss = rssKb(spawnerOf(berthd.proc!.pid) ?? 0);
  console.log(`\ndocker run --rm busybox true, ${runs} sequential each, interleaved, stock CLI`);
  console.log("daemon    median ms    p90 ms");
  for (const [n, xs] of Object.entries(seq)) console.log(`${n.padEnd(8)} ${q(xs, 0.5).toFixed(1).padStart(9)} ${q(xs, 0.9).toFixed(1).padStart(9)}`);
  console.log(`berthd/dockerd median ratio: ${(q(seq.berthd, 0.5) / q(seq.dockerd, 0.5)).toFixed(3)} (goal <= 0.20)`);
  const f = q(floor, 0.5);
  console.log(`the CLI against a stub daemon that does nothing: ${f.toFixed(1)} ms; above it: berthd ${(q(seq.berthd, 0.5) - f).toFixed(1)} ms, dockerd ${(q(seq.dockerd, 0.5) - f).toFixed(1)} ms (ratio ${((q(seq.berthd, 0.5) - f) / (q(seq.dockerd, 0.5) - f)).toFixed(2)})`);

  // Three rounds each, interleaved, the median reported: one round of a daemon varies by a
  // third from the next here. Between rounds the containers go (rm -f, all at once); the last
  // round's stay running for the memory figures below.
  const conc = 50, rounds = 3;
  console.log(`\n${conc} containers started concurrently (docker run -d busybox sleep 600), ${rounds} rounds each, interleaved`);
  // The stub daemon's rounds go in between: the CLIs' own share, measured in the same conditions.
  const walls: Record<string, number[]> = { berthd: [], dockerd: [], stub: [] };
  // CPU per container, ms: the fifty CLIs' own (their rusage), berthd's (its threads' run time),
  // and everything else the machine did meanwhile (the monitors, executors, the containers'
  // processes, the kernel's workers; for dockerd: dockerd, containerd, its shims and runc).
  const cpu: Record<string, { cli: number[]; daemon: number[]; rest: number[] }> = {
    berthd: { cli: [], daemon: [], rest: [] }, dockerd: { cli: [], daemon: [], rest: [] }, stub: { cli: [], daemon: [], rest: [] },
  };
  for (let r = 0; r < rounds; r++) {
    for (const t of [...targets, stubTarget]) {
      await quiesce();
      const busy0 = busyMs(), own0 = t.name === "berthd" ? threadsMs(berthd.proc!.pid) : 0;
      const t0 = performance.now();
      const ps = Array.from({ length: conc }, () => Bun.spawn([DOCKER_CLI!, "run", "-d", "busybox", "sleep", "600"], { env: t.env, stdout: "pipe", stderr: "pipe" }));
      const codes = await Promise.all(ps.map((p) => p.exited));
      walls[t.name].push(performance.now() - t0);
      {
        const cli = ps.reduce((n, p) => n + Number(p.resourceUsage()!.cpuTime.total) / 1000, 0) / conc;
        const daemon = t.name === "berthd" ? (threadsMs(berthd.proc!.pid) - own0) / conc : 0;
        cpu[t.name].cli.push(cli);
        cpu[t.name].daemon.push(daemon);
        cpu[t.name].rest.push((busyMs() - busy0) / conc - cli - daemon);
      }
      const failed = codes.filter((c) => c !== 0).length;
      if (failed) console.log(`${t.name}: ${failed} of ${conc} failed`);
      if (r < rounds - 1 && t !== stubTarget) {
        const ids = (await Promise.all(ps.map((p) => new Response(p.stdout).text()))).map((x) => x.trim()).filter(Boolean);
        await Promise.all(ids.map((id) => Bun.spawn([DOCKER_CLI!, "rm", "-f", id], { env: t.env, stdout: "ignore", stderr: "ignore" }).exited));
        // berthd answers rm first and cleans up after: that must not spill into the next round
        for (let i = 0; t.name === "berthd" && i < 300 && fs.readdirSync(`${berthd.dataRoot}/rootfs`).length; i++) await Bun.sleep(100);
        await Bun.sleep(1000);
      }
    }
  }
  const wall: Record<string, number> = {};
  for (const t of targets) {
    wall[t.name] = q(walls[t.name], 0.5);
    console.log(`${t.name.padEnd(8)} ${wall[t.name].toFixed(0).padStart(7)} ms median  ${(conc / (wall[t.name] / 1000)).toFixed(1)} containers/s  (rounds: ${walls[t.name].map((w) => w.toFixed(0)).join(", ")} ms)`);
  }
  console.log(`throughput ratio berthd/dockerd: ${(wall.dockerd / wall.berthd).toFixed(2)}x (goal >= 5x)`);
  {
    // No daemon can be faster than the stub on this machine.
    const floor = q(walls.stub, 0.5);
    const above = (n: string) => wall[n] - floor;
    console.log(`the same ${conc} CLIs against a stub daemon that does nothing: ${floor.toFixed(0)} ms median; above it: berthd ${above("berthd").toFixed(0)} ms, dockerd ${above("dockerd").toFixed(0)} ms (ratio ${(above("dockerd") / above("berthd")).toFixed(2)}x); the best ratio this machine allows: ${(wall.dockerd / floor).toFixed(2)}x`);
  }

  {
    // Why the ratio stops where it does on this machine: each container's CPU, and what 5x would allow.
    const m = (n: string, k: "cli" | "daemon" | "rest") => q(cpu[n][k], 0.5);
    const total = (n: string) => m(n, "cli") + m(n, "daemon") + m(n, "rest");
    console.log(`CPU per container (ms, medians): berthd's CLI ${m("berthd", "cli").toFixed(1)}, berthd ${m("berthd", "daemon").toFixed(1)}, the rest ${m("berthd", "rest").toFixed(1)} (monitors, executors, the containers, the kernel's workers); ` +
      `dockerd's CLI ${m("dockerd", "cli").toFixed(1)}, the rest ${m("dockerd", "rest").toFixed(1)} (dockerd, containerd, shims, runc, the kernel's); the stub's CLI ${m("stub", "cli").toFixed(1)}`);
    const allowed = total("dockerd") / 5 - m("berthd", "cli");
    console.log(`with every CPU busy, 5x dockerd's throughput allows ${(total("dockerd") / 5).toFixed(1)} ms of CPU per container in all; the CLI takes ${m("berthd", "cli").toFixed(1)} of it, which leaves ${allowed.toFixed(1)} ms for berthd and the rest (they take ${(m("berthd", "daemon") + m("berthd", "rest")).toFixed(1)})`);
  }

  // The same 50 starts through the Engine API itself (create, then start, 50 at once), without
  // any CLI: what each daemon sustains when the client costs nothing. (API 1.41: dockerd 20.10's.)
  {
    const sockOf = (t: Target) => t.env.DOCKER_HOST.replace(/^unix:\/\//, "");
    const call = async (sock: string, method: string, path: string, body?: unknown) => {
      const r = await fetch(`http://localhost/v1.41${path}`, {
        unix: sock, method, headers: body ? { "Content-Type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined,
      } as RequestInit);
      const text = await r.text();
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    };
    const apiWalls: Record<string, number[]> = { berthd: [], dockerd: [] };
    for (let r = 0; r < rounds; r++) {
      for (const t of targets) {
        await quiesce();
        const sock = sockOf(t);
        const t0 = performance.now();
        const ids = await Promise.all(Array.from({ length: conc }, async () => {
          const { Id } = await call(sock, "POST", "/containers/create", { Image: "busybox", Cmd: ["sleep", "600"] });
          await call(sock, "POST", `/containers/${Id}/start`);
          return Id as string;
        }));
        apiWalls[t.name].push(performance.now() - t0);
        await Promise.all(ids.map((id) => call(sock, "DELETE", `/containers/${id}?force=1`)));
        for (let i = 0; t.name === "berthd" && i < 300 && fs.readdirSync(`${berthd.dataRoot}/rootfs`).length > conc; i++) await Bun.sleep(100);
        await Bun.sleep(1000);
      }
    }
    const aw = (n: string) => q(apiWalls[n], 0.5);
    console.log(`\n${conc} containers started concurrently through the API (create + start, no CLI), ${rounds} rounds each, interleaved`);
    for (const t of targets) console.log(`${t.name.padEnd(8)} ${aw(t.name).toFixed(0).padStart(7)} ms median  (rounds: ${apiWalls[t.name].map((w) => w.toFixed(0)).join(", ")} ms)`);
    console.log(`throughput ratio berthd/dockerd through the API: ${(aw("dockerd") / aw("berthd")).toFixed(2)}x`);
  }

  // Per-container memory with 50 running: monitors vs shims.
  const monitors = pidsMentioning(berthd.dir, "berth-monitor");
  const shims = pidsMentioning(dockerd.dir, "containerd-shim");
  const avg = (ps: number[]) => (ps.length ? ps.reduce((s, p) => s + rssKb(p), 0) / ps.length : 0);
  console.log(`\nRSS per running container: berth-monitor ${(avg(monitors) / 1024).toFixed(2)} MB (${monitors.length} running), containerd-shim ${(avg(shims) / 1024).toFixed(2)} MB (${shims.length} running)`);

  // 100 containers for ps/images latency: 50 running + 50 created.
  for (const t of targets) {
    const ps = Array.from({ length: 50 }, () => Bun.spawn([DOCKER_CLI!, "create", "busybox", "true"], { env: t.env, stdout: "ignore", stderr: "ignore" }));
    await Promise.all(ps.map((p) => p.exited));
  }
  const lat: Record<string, { ps: number[]; images: number[] }> = { berthd: { ps: [], images: [] }, dockerd: { ps: [], images: [] } };
  for (let i = 0; i < 10; i++) {
    for (const t of targets) {
      lat[t.name].ps.push(time(() => cli(t, ["ps", "-a"])));
      lat[t.name].images.push(time(() => cli(t, ["images"])));
    }
  }
  console.log(`\nwith 100 containers: docker ps -a / docker images, median ms (10 each, interleaved)`);
  for (const [n, l] of Object.entries(lat)) console.log(`${n.padEnd(8)} ps ${q(l.ps, 0.5).toFixed(1).padStart(7)}   images ${q(l.images, 0.5).toFixed(1).padStart(7)}`);
  console.log(`ratios berthd/dockerd: ps ${(q(lat.berthd.ps, 0.5) / q(lat.dockerd.ps, 0.5)).toFixed(2)}, images ${(q(lat.berthd.images, 0.5) / q(lat.dockerd.images, 0.5)).toFixed(2)}`);
  console.log(`\nidle RSS (after start and one import): berthd ${(idle.berthd / 1024).toFixed(1)} MB, dockerd + containerd ${(idle.dockerd / 1024).toFixed(1)} MB (goal berthd <= 50 MB)`);
  console.log(`idle RSS after the ${runs + 1} sequential runs: berthd ${(afterRuns.berthd / 1024).toFixed(1)} MB (and its berth-spawner ${(spawnerRss / 1024).toFixed(1)} MB), dockerd + containerd ${(afterRuns.dockerd / 1024).toFixed(1)} MB`);
} finally {
  stubProc?.stop();
  const left = await berthd.stop();
  if (left.length) console.log(`berthd left behind: ${left.join(", ")}`);
  dockerd.stop();
}
