// Compares two builds of berthd (two checkouts, each after `npm install`) on this machine:
//   bun bench/compare.ts TREE_A TREE_B [--daemons K] [--runs N] [--mode seq|cli|api]
// seq: `docker run --rm busybox true`, medians; cli: 50 concurrent `docker run -d`; api: the
// same 50 through the Engine API. Why several daemons of each build, interleaved in rotating
// order: two berthds of one build differ by up to a millisecond in their `run --rm` medians
// here (where their processes land, which block groups their data roots got), so one daemon
// per build can show a difference that is not there. Run an A/A first to see the noise.
import fs from "node:fs";
import { Berthd, DOCKER_CLI, berthdSkipReason } from "../test/helpers/berthd.ts";

class FromTree extends Berthd {
  constructor(name: string, readonly tree: string, readonly build: "A" | "B") {
    super(name, { tmpfsExecRoot: true, debug: false });
  }
  args(extra: string[] = []): string[] {
    const a = super.args(extra);
    a[0] = `${this.tree}/bin/berthd`;
    return a;
  }
}

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const [treeA, treeB] = argv.filter((a, i) => !a.startsWith("--") && !argv[i - 1]?.startsWith("--"));
const mode = opt("--mode", "seq");
const daemons = Number(opt("--daemons", mode === "seq" ? "4" : "2"));
const runs = Number(opt("--runs", mode === "seq" ? "40" : "3"));
const skip = berthdSkipReason();
if (skip || !treeA || !treeB || !["seq", "cli", "api"].includes(mode)) {
  console.log(skip ?? "usage: bun bench/compare.ts TREE_A TREE_B [--daemons K] [--runs N] [--mode seq|cli|api]");
  process.exit(skip ? 0 : 2);
}
for (const t of [treeA, treeB]) {
  if (!fs.existsSync(`${t}/bin/berthd`)) {
    console.log(`${t}: no bin/berthd (a checkout of berth, after npm install)`);
    process.exit(2);
  }
}

// A and B alternate in start order, so neither build gets all the first-started daemons.
const ds: FromTree[] = [];
for (let i = 0; i < daemons; i++) {
  const [first, second] = i % 2 ? (["B", "A"] as const) : (["A", "B"] as const);
  ds.push(new FromTree(`cmp-${i}a`, first === "A" ? treeA : treeB, first), new FromTree(`cmp-${i}b`, second === "A" ? treeA : treeB, second));
}
const med = (x: number[]) => [...x].sort((p, q) => p - q)[x.length >> 1];

async function api(d: Berthd, method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`http://localhost/v1.41${path}`, {
    unix: d.sock, method, headers: body ? { "Content-Type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined,
  } as RequestInit);
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

function runRm(d: Berthd): number {
  const t0 = performance.now();
  Bun.spawnSync([DOCKER_CLI!, "run", "--rm", "busybox", "true"], { env: d.env, stdout: "ignore", stderr: "ignore" });
  return performance.now() - t0;
}

/** 50 containers started at once, then removed (and their removal finished) before the next round. */
async function burst(d: Berthd): Promise<number> {
  const t0 = performance.now();
  let ids: string[];
  if (mode === "api") {
    ids = await Promise.all(Array.from({ length: 50 }, async () => {
      const { Id } = await api(d, "POST", "/containers/create", { Image: "busybox", Cmd: ["sleep", "600"] });
      await api(d, "POST", `/containers/${Id}/start`);
      return Id as string;
    }));
  } else {
    const ps = Array.from({ length: 50 }, () => Bun.spawn([DOCKER_CLI!, "run", "-d", "busybox", "sleep", "600"], { env: d.env, stdout: "pipe", stderr: "ignore" }));
    await Promise.all(ps.map((p) => p.exited));
    ids = (await Promise.all(ps.map((p) => new Response(p.stdout).text()))).map((x) => x.trim()).filter(Boolean);
  }
  const t = performance.now() - t0;
  await Promise.all(ids.map((id) => api(d, "DELETE", `/containers/${id}?force=1`)));
  for (let i = 0; i < 300 && fs.readdirSync(`${d.dataRoot}/rootfs`).length; i++) await Bun.sleep(100);
  await Bun.sleep(800);
  return t;
}

try {
  for (const d of ds) {
    await d.start();
    await d.importBusybox();
  }
  const times: number[][] = ds.map(() => []);
  if (mode === "seq") {
    for (let i = 0; i < 8; i++) for (const d of ds) runRm(d); // warm-up
    for (let i = 0; i < runs; i++) for (let k = 0; k < ds.length; k++) {
      const j = (i + k) % ds.length;
      times[j].push(runRm(ds[j]));
    }
  } else {
    for (const d of ds) await burst(d); // warm-up
    for (let i = 0; i < runs; i++) for (let k = 0; k < ds.length; k++) {
      const j = (i + k) % ds.length;
      times[j].push(await burst(ds[j]));
    }
  }
  const of = (build: "A" | "B") => ds.flatMap((d, j) => (d.build === build ? [times[j]] : []));
  const unit = mode === "seq" ? "ms" : "ms per 50";
  for (const [build, tree] of [["A", treeA], ["B", treeB]] as const) {
    const each = of(build);
    console.log(`${build} ${tree}: median ${med(each.flat()).toFixed(2)} ${unit} (daemons: ${each.map((x) => med(x).toFixed(1)).join(", ")})`);
  }
  console.log(`B - A: ${(med(of("B").flat()) - med(of("A").flat())).toFixed(2)} ${unit} (${mode}, ${daemons} daemons of each, ${runs} rounds)`);
} finally {
  for (const d of ds) {
    const left = await d.stop().catch(() => []);
    if (left.length) console.log(`left behind: ${left.join(", ")}`);
  }
}
